//! A model of Redis's `dict` (7.0): a power-of-two array of buckets, each a chain of entries,
//! new entries at the head of their chain. It exists for two of Redis's algorithms that depend on
//! the table's *layout*, not just its contents:
//!
//! - [`Dict::get_some_keys`] is `dictGetSomeKeys`, the sampler behind `maxmemory-samples`: jump to
//!   a random bucket, then take whole chains from consecutive buckets, re-jumping after a run of
//!   empty buckets. Because keys land in buckets by hash, neighbours are unrelated keys, so the
//!   sample is random with respect to access time.
//! - [`Dict::bucket_keys`] lets the active expire cycle walk the `expires` table with a cursor,
//!   bucket by bucket, as `activeExpireCycle` does since 6.0.
//!
//! ```text
//!   size 8, mask 7        bucket: 0    1    2      3    4    5    6    7
//!                                 ·    k9   k2→k7  ·    ·    k4   ·    k1→k3→k5
//!   get_some_keys(3): random start 6 → (6 empty) → 7: k1 k3 k5 → done (3 stored)
//! ```
//!
//! Growth follows `_dictExpandIfNeeded`: when the entry count reaches the bucket count the table
//! doubles (to the next power of two ≥ len + 1). [`Dict::shrink_if_sparse`] is `htNeedsResize` +
//! `dictResize` (below 10% full, shrink to fit), which Redis runs from `databasesCron`.
//!
//! ## How the real system differs
//! Redis rehashes incrementally (two tables during a resize, one bucket moved per operation); this
//! model moves everything at once, so it never has the two-table case of `dictGetSomeKeys`. Redis
//! hashes with seeded SipHash; this model with [`crate::hash`]. Both give the same distribution of
//! keys over buckets for the purposes here.

use std::hash::Hash;

use crate::hash::hash_one;
use crate::rng::Rng;

const NIL: u32 = u32::MAX;
/// `DICT_HT_INITIAL_SIZE` in 7.0 (`1 << DICT_HT_INITIAL_EXP`, exponent 2).
pub const INITIAL_SIZE: usize = 4;
/// `HASHTABLE_MIN_FILL`: below 10% full a table is shrunk (by `databasesCron`).
pub const MIN_FILL_PERCENT: usize = 10;

#[derive(Debug, Clone)]
struct Entry<K, V> {
    key: K,
    val: V,
    hash: u64,
    next: u32,
}

/// See the module documentation. Entries live in a dense `Vec`; an entry index is valid until the
/// next insert or removal.
#[derive(Debug, Clone)]
pub struct Dict<K, V> {
    entries: Vec<Entry<K, V>>,
    buckets: Vec<u32>,
    seed: u64,
}

impl<K: Hash + Eq + Clone, V> Dict<K, V> {
    pub fn new(seed: u64) -> Self {
        Dict {
            entries: Vec::new(),
            buckets: vec![NIL; INITIAL_SIZE],
            seed,
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Number of buckets (`dictSlots`).
    pub fn slots(&self) -> usize {
        self.buckets.len()
    }

    fn mask(&self) -> usize {
        self.buckets.len() - 1
    }

    fn hash(&self, k: &K) -> u64 {
        hash_one(self.seed, k)
    }

    /// Index of the entry holding `k`.
    pub fn find(&self, k: &K) -> Option<usize> {
        let h = self.hash(k);
        let mut e = self.buckets[(h as usize) & self.mask()];
        while e != NIL {
            let en = &self.entries[e as usize];
            if en.hash == h && en.key == *k {
                return Some(e as usize);
            }
            e = en.next;
        }
        None
    }

    pub fn get(&self, k: &K) -> Option<&V> {
        self.find(k).map(|i| &self.entries[i].val)
    }

    pub fn get_mut(&mut self, k: &K) -> Option<&mut V> {
        let i = self.find(k)?;
        Some(&mut self.entries[i].val)
    }

    pub fn contains(&self, k: &K) -> bool {
        self.find(k).is_some()
    }

    /// The key and value of entry `i`.
    pub fn entry(&self, i: usize) -> (&K, &V) {
        let e = &self.entries[i];
        (&e.key, &e.val)
    }

    /// Inserts or replaces; returns the old value.
    pub fn insert(&mut self, k: K, v: V) -> Option<V> {
        if let Some(i) = self.find(&k) {
            return Some(std::mem::replace(&mut self.entries[i].val, v));
        }
        if self.entries.len() >= self.buckets.len() {
            let want = (self.entries.len() + 1).next_power_of_two();
            self.resize(want);
        }
        let h = self.hash(&k);
        let b = (h as usize) & self.mask();
        let idx = self.entries.len() as u32;
        self.entries.push(Entry {
            key: k,
            val: v,
            hash: h,
            next: self.buckets[b],
        });
        self.buckets[b] = idx;
        None
    }

    /// Removes `k`, returning its value.
    pub fn remove(&mut self, k: &K) -> Option<V> {
        let i = self.find(k)?;
        self.unlink(i);
        let last = self.entries.len() - 1;
        if i != last {
            // Dense storage: the last entry moves into the hole; repoint whoever linked to it.
            self.repoint(last, i);
            self.entries.swap(i, last);
        }
        self.entries.pop().map(|e| e.val)
    }

    fn unlink(&mut self, i: usize) {
        let b = (self.entries[i].hash as usize) & self.mask();
        let next = self.entries[i].next;
        if self.buckets[b] == i as u32 {
            self.buckets[b] = next;
            return;
        }
        let mut e = self.buckets[b];
        while e != NIL {
            if self.entries[e as usize].next == i as u32 {
                self.entries[e as usize].next = next;
                return;
            }
            e = self.entries[e as usize].next;
        }
    }

    fn repoint(&mut self, from: usize, to: usize) {
        let b = (self.entries[from].hash as usize) & self.mask();
        if self.buckets[b] == from as u32 {
            self.buckets[b] = to as u32;
            return;
        }
        let mut e = self.buckets[b];
        while e != NIL {
            if self.entries[e as usize].next == from as u32 {
                self.entries[e as usize].next = to as u32;
                return;
            }
            e = self.entries[e as usize].next;
        }
    }

    fn resize(&mut self, size: usize) {
        let size = size.max(INITIAL_SIZE).next_power_of_two();
        let old = std::mem::replace(&mut self.buckets, vec![NIL; size]);
        let mask = size - 1;
        // Move chain by chain, each entry to the head of its new chain (as dictRehash does).
        for head in old {
            let mut e = head;
            while e != NIL {
                let next = self.entries[e as usize].next;
                let b = (self.entries[e as usize].hash as usize) & mask;
                self.entries[e as usize].next = self.buckets[b];
                self.buckets[b] = e;
                e = next;
            }
        }
    }

    /// `htNeedsResize` then `dictResize`: a table under 10% full shrinks to the smallest power of
    /// two holding its entries. Returns whether it shrank.
    pub fn shrink_if_sparse(&mut self) -> bool {
        let size = self.buckets.len();
        if size > INITIAL_SIZE && self.len() * 100 / size < MIN_FILL_PERCENT {
            self.resize(self.len());
            return self.buckets.len() < size;
        }
        false
    }

    /// The keys in bucket `cursor & mask`, in chain order (a step of the expire cycle's scan).
    pub fn bucket_keys(&self, cursor: u64) -> Vec<K> {
        let mut out = Vec::new();
        let mut e = self.buckets[(cursor as usize) & self.mask()];
        while e != NIL {
            out.push(self.entries[e as usize].key.clone());
            e = self.entries[e as usize].next;
        }
        out
    }

    /// `dictGetSomeKeys`: up to `count` entries from consecutive buckets after a random start; may
    /// return fewer (it gives up after `10 × count` buckets), and after a jump past a run of empty
    /// buckets it can land on a bucket it already took, returning a key twice — as Redis can.
    /// Entry indices.
    pub fn get_some_keys(&self, count: usize, rng: &mut Rng) -> Vec<usize> {
        let count = count.min(self.len());
        let mut out: Vec<usize> = Vec::with_capacity(count);
        if count == 0 {
            return out;
        }
        let mask = self.mask() as u64;
        let mut maxsteps = count * 10;
        let mut i = rng.next_u64() & mask;
        let mut emptylen = 0;
        let mut stored = 0usize;
        while stored < count && maxsteps > 0 {
            maxsteps -= 1;
            let mut e = self.buckets[i as usize];
            if e == NIL {
                emptylen += 1;
                if emptylen >= 5 && emptylen > count {
                    i = rng.next_u64() & mask;
                    emptylen = 0;
                }
            } else {
                emptylen = 0;
                while e != NIL {
                    // Reservoir sampling past `count`, so the end of a long chain can be picked.
                    if stored < count {
                        out.push(e as usize);
                    } else {
                        let r = rng.below(stored as u64 + 1) as usize;
                        if r < count {
                            out[r] = e as usize;
                        }
                    }
                    e = self.entries[e as usize].next;
                    stored += 1;
                }
                if stored >= count {
                    break;
                }
            }
            i = (i + 1) & mask;
        }
        out
    }

    /// `dictGetRandomKey` (what the random eviction policies use): a random non-empty bucket,
    /// then a random position in its chain. Not uniform over keys when chains differ in length.
    pub fn random_entry(&self, rng: &mut Rng) -> Option<usize> {
        if self.is_empty() {
            return None;
        }
        let mask = self.mask() as u64;
        let head = loop {
            let e = self.buckets[(rng.next_u64() & mask) as usize];
            if e != NIL {
                break e;
            }
        };
        let mut len = 0;
        let mut e = head;
        while e != NIL {
            len += 1;
            e = self.entries[e as usize].next;
        }
        let mut pick = rng.below(len);
        let mut e = head;
        while pick > 0 {
            e = self.entries[e as usize].next;
            pick -= 1;
        }
        Some(e as usize)
    }

    /// Every key (entry order, not bucket order).
    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.entries.iter().map(|e| &e.key)
    }

    /// Every (key, value).
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.entries.iter().map(|e| (&e.key, &e.val))
    }

    /// Checks that every entry is reachable from exactly its own bucket.
    pub fn check(&self) -> Result<(), String> {
        let mut seen = vec![false; self.entries.len()];
        for (b, &head) in self.buckets.iter().enumerate() {
            let mut e = head;
            while e != NIL {
                let en = &self.entries[e as usize];
                if (en.hash as usize) & self.mask() != b {
                    return Err(format!("entry {e} in bucket {b} hashes elsewhere"));
                }
                if std::mem::replace(&mut seen[e as usize], true) {
                    return Err(format!("entry {e} reached twice"));
                }
                e = en.next;
            }
        }
        match seen.iter().position(|s| !s) {
            Some(i) => Err(format!("entry {i} unreachable")),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_at_full_and_shrinks_when_sparse() {
        let mut d = Dict::new(1);
        for i in 0..4u32 {
            d.insert(i, ());
        }
        assert_eq!(d.slots(), 4);
        d.insert(4, ());
        assert_eq!(d.slots(), 8, "the 5th key doubles a 4-bucket table");
        for i in 5..100u32 {
            d.insert(i, ());
        }
        assert_eq!(d.slots(), 128);
        d.check().unwrap();
        for i in 0..95u32 {
            assert_eq!(d.remove(&i), Some(()));
            d.check().unwrap();
        }
        assert_eq!(d.len(), 5);
        assert!(d.shrink_if_sparse());
        assert_eq!(d.slots(), 8);
        assert!(!d.shrink_if_sparse());
        for i in 95..100u32 {
            assert!(d.contains(&i));
        }
        d.check().unwrap();
    }

    #[test]
    fn some_keys_are_present_and_bounded() {
        let mut d = Dict::new(2);
        for i in 0..1000u32 {
            d.insert(i, i);
        }
        let mut rng = Rng::new(5);
        for count in [1, 3, 5, 10, 16] {
            let s = d.get_some_keys(count, &mut rng);
            assert!(!s.is_empty() && s.len() <= count);
            assert!(s.iter().all(|&i| i < d.len()));
        }
        // Over many draws every key shows up (the sampler is not stuck in one region).
        let mut hit = vec![false; 1000];
        for _ in 0..5000 {
            for i in d.get_some_keys(5, &mut rng) {
                hit[*d.entry(i).0 as usize] = true;
            }
        }
        assert!(hit.iter().all(|h| *h));
    }

    #[test]
    fn random_entry_and_bucket_scan_cover_everything() {
        let mut d = Dict::new(3);
        for i in 0..50u32 {
            d.insert(i, ());
        }
        let mut all: Vec<u32> = (0..d.slots() as u64)
            .flat_map(|c| d.bucket_keys(c))
            .collect();
        all.sort();
        assert_eq!(all, (0..50).collect::<Vec<_>>());
        let mut rng = Rng::new(1);
        let mut hit = [false; 50];
        for _ in 0..2000 {
            hit[*d.entry(d.random_entry(&mut rng).unwrap()).0 as usize] = true;
        }
        assert!(hit.iter().all(|h| *h));
    }

    #[test]
    fn check_catches_a_misplaced_entry() {
        let mut d = Dict::new(4);
        for i in 0..10u32 {
            d.insert(i, ());
        }
        d.check().unwrap();
        d.entries[0].hash ^= 1; // now in the wrong bucket
        assert!(d.check().is_err());
    }
}
