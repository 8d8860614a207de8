//! The eviction pool of `evict.c`: 16 candidates kept sorted by "idle" score, ascending, so the
//! best victim is on the right. Sampling refills it; eviction takes from the right.
//!
//! "Idle" is a badness score: the estimated idle time (LRU), `255 − counter` (LFU) or
//! `u64::MAX − expire time` (volatile-ttl). A bigger score is a better victim.
//!
//! ```text
//!   slot:  0    1    2    3   ...  15          offer(key, idle) — evictionPoolPopulate's rule:
//!   idle:  3    7    9    ·        ·           k = first slot that is empty or has idle ≥ ours
//!                                              k == 0 and slot 15 taken → worse than all: skip
//!   offer(x, 8): k = 2, slot 15 free →         slot k empty → write there
//!   idle:  3    7    8    9   ·                slot 15 free → shift k.. right, write at k
//!                                              pool full    → shift ..k-1 left (slot 0, the
//!                                                             least idle, falls off), write at k-1
//! ```
//!
//! A worked example with the pool full of idle 10, 20, …, 160: `offer(x, 5)` is skipped;
//! `offer(y, 155)` drops the 10 and lands between 150 and 160; `offer(z, 170)` drops the 20 and
//! takes slot 15.
//!
//! The pool does not notice deletions: a key evicted, expired or deleted stays in it as a *ghost*.
//! [`EvictionPool::pop_best`] removes entries from the right and skips ghosts; the same key can
//! even sit in two slots if it was sampled twice (Redis does not deduplicate either).
//!
//! ## How the real system differs
//! Redis's entries also carry the database number and a cached `sds` buffer for the key name; the
//! pool is shared by all 16 databases. The model keeps one database.

/// `EVPOOL_SIZE`.
pub const EVPOOL_SIZE: usize = 16;

/// One candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate<K> {
    pub idle: u64,
    pub key: K,
}

/// What [`EvictionPool::offer`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    /// Worse than every candidate of a full pool.
    Skipped,
    /// Written into slot `k`.
    Inserted(usize),
}

/// See the module documentation.
#[derive(Debug, Clone)]
pub struct EvictionPool<K> {
    slots: Vec<Option<Candidate<K>>>,
    /// Entries dropped by [`EvictionPool::pop_best`] because their key was gone.
    pub ghosts_skipped: u64,
}

impl<K: Clone> Default for EvictionPool<K> {
    fn default() -> Self {
        EvictionPool {
            slots: vec![None; EVPOOL_SIZE],
            ghosts_skipped: 0,
        }
    }
}

impl<K: Clone> EvictionPool<K> {
    /// The insertion rule of `evictionPoolPopulate`, for one sampled key.
    pub fn offer(&mut self, key: K, idle: u64) -> Offer {
        let n = EVPOOL_SIZE;
        let mut k = 0;
        while k < n && self.slots[k].as_ref().is_some_and(|c| c.idle < idle) {
            k += 1;
        }
        if k == 0 && self.slots[n - 1].is_some() {
            return Offer::Skipped;
        }
        if k < n && self.slots[k].is_none() {
            // Empty slot: write there.
        } else if self.slots[n - 1].is_none() {
            // Free space on the right: shift k..n-1 right by one.
            self.slots[k..].rotate_right(1);
        } else {
            // Full: drop slot 0 (least idle), shift 1..k left, insert at k-1.
            k -= 1;
            self.slots[..=k].rotate_left(1);
        }
        self.slots[k] = Some(Candidate { idle, key });
        Offer::Inserted(k)
    }

    /// Takes candidates from the right; the first whose key `exists` is returned, the others are
    /// ghosts and are dropped. `None` when the pool holds no live key (Redis then samples again).
    pub fn pop_best(&mut self, mut exists: impl FnMut(&K) -> bool) -> Option<Candidate<K>> {
        for k in (0..EVPOOL_SIZE).rev() {
            if let Some(c) = self.slots[k].take() {
                if exists(&c.key) {
                    return Some(c);
                }
                self.ghosts_skipped += 1;
            }
        }
        None
    }

    /// The idle scores, left to right (`None` = empty slot).
    pub fn idles(&self) -> Vec<Option<u64>> {
        self.slots
            .iter()
            .map(|s| s.as_ref().map(|c| c.idle))
            .collect()
    }

    pub fn candidates(&self) -> impl Iterator<Item = &Candidate<K>> {
        self.slots.iter().flatten()
    }

    pub fn len(&self) -> usize {
        self.slots.iter().flatten().count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The pool's invariant: occupied slots ascending by idle (Redis keeps empty slots on the
    /// right only while it has never been full; after pops they can be anywhere).
    pub fn is_sorted(&self) -> bool {
        let v: Vec<u64> = self.candidates().map(|c| c.idle).collect();
        v.windows(2).all(|w| w[0] <= w[1])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> EvictionPool<u64> {
        let mut p = EvictionPool::default();
        for i in 1..=16u64 {
            assert_eq!(p.offer(i, i * 10), Offer::Inserted(i as usize - 1));
        }
        p
    }

    #[test]
    fn the_worked_example() {
        let mut p = full();
        assert_eq!(p.offer(100, 5), Offer::Skipped);
        assert_eq!(p.offer(101, 155), Offer::Inserted(14));
        assert_eq!(p.idles()[0], Some(20), "10 fell off the left");
        assert_eq!(p.idles()[14..], [Some(155), Some(160)]);
        assert_eq!(p.offer(102, 170), Offer::Inserted(15));
        assert_eq!(p.idles()[0], Some(30));
        assert!(p.is_sorted());
        // A tie with the least idle of a full pool is skipped too (strict `<` in the scan).
        assert_eq!(p.offer(103, 30), Offer::Skipped);
    }

    #[test]
    fn middle_insert_shifts_right_while_there_is_room() {
        let mut p = EvictionPool::default();
        p.offer('a', 3);
        p.offer('b', 7);
        p.offer('c', 9);
        assert_eq!(p.offer('x', 8), Offer::Inserted(2));
        assert_eq!(p.idles()[..5], [Some(3), Some(7), Some(8), Some(9), None]);
    }

    #[test]
    fn ghosts_are_skipped_and_counted() {
        let mut p = full();
        // Keys 16 and 15 (the two best) were deleted meanwhile.
        let got = p.pop_best(|k| *k < 15).unwrap();
        assert_eq!(got, Candidate { idle: 140, key: 14 });
        assert_eq!(p.ghosts_skipped, 2);
        assert_eq!(p.len(), 13);
        // Nothing alive: the pool empties and says so.
        assert_eq!(p.pop_best(|_| false), None);
        assert!(p.is_empty());
    }

    #[test]
    fn sortedness_check_fails_on_a_shuffled_pool() {
        let mut p = full();
        p.slots.swap(0, 5);
        assert!(!p.is_sorted());
    }
}
