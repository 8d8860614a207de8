//! Exact LRU: a hash map from key to slot plus a doubly linked list threaded through an arena,
//! so `get` and `put` are O(1) and there is no `unsafe`.
//!
//! This is the "theoretical LRU" of Redis's eviction page, the yardstick the sampled LRU of
//! [`crate::keyspace`] is measured against (redis-03).
//!
//! ```text
//!   map: key ─► slot          nodes (arena, one Vec):
//!                              slot:  0        1        2        3
//!   head = 2 (most recent)     key:   a        b        c        d
//!   tail = 1 (least recent)    prev:  2        3        NIL      0
//!                              next:  3        NIL      0        1
//!
//!   order from head: c ─► a ─► d ─► b      get(d): unlink d, relink at head: d ─► c ─► a ─► b
//!   put(e) when full: the tail slot (b) is reused for e and moved to the head; b leaves the map
//! ```
//!
//! Invariant: `map` and the list hold the same keys; following `next` from `head` visits every
//! slot once and ends at `tail`; `prev` mirrors `next`. Links are `u32` slot numbers (`NIL` =
//! none), which keeps a node small (two `u32` beside the key and value) — the trick that lets safe
//! Rust keep up with pointer-based lists.
//!
//! A worked example: capacity 2, `put(a) put(b) get(a) put(c)` evicts `b` (the least recently
//! *used*, although `a` was inserted first).
//!
//! ## How the real system differs
//! Redis does not keep this list: a list costs two pointers per key and a relink on every read. It
//! stores 24 bits of access time in each object and samples (see [`crate::keyspace`]).

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::{BuildHasher, Hash};

use crate::hash::FastState;

const NIL: u32 = u32::MAX;

#[derive(Debug, Clone)]
struct Node<K, V> {
    key: K,
    value: V,
    prev: u32,
    next: u32,
}

/// An exact LRU cache holding at most `capacity` entries.
#[derive(Debug, Clone)]
pub struct Lru<K, V, S = FastState> {
    map: HashMap<K, u32, S>,
    nodes: Vec<Node<K, V>>,
    /// Most recently used slot.
    head: u32,
    /// Least recently used slot: the next victim.
    tail: u32,
    capacity: usize,
}

impl<K: Hash + Eq + Clone, V> Lru<K, V, FastState> {
    /// An empty cache for `capacity` entries (at least 1).
    pub fn new(capacity: usize) -> Self {
        Lru::with_hasher(capacity, FastState::default())
    }
}

impl<K: Hash + Eq + Clone, V, S: BuildHasher> Lru<K, V, S> {
    pub fn with_hasher(capacity: usize, hasher: S) -> Self {
        let capacity = capacity.clamp(1, NIL as usize - 1);
        Lru {
            map: HashMap::with_capacity_and_hasher(capacity, hasher),
            nodes: Vec::with_capacity(capacity),
            head: NIL,
            tail: NIL,
            capacity,
        }
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn contains(&self, key: &K) -> bool {
        self.map.contains_key(key)
    }

    /// The value, marking the key most recently used.
    #[inline]
    pub fn get(&mut self, key: &K) -> Option<&V> {
        let i = *self.map.get(key)?;
        self.promote(i);
        Some(&self.nodes[i as usize].value)
    }

    /// The value without touching the order.
    pub fn peek(&self, key: &K) -> Option<&V> {
        self.map.get(key).map(|&i| &self.nodes[i as usize].value)
    }

    /// Inserts or replaces; the key becomes most recently used. Returns the entry evicted to make
    /// room (never the key itself).
    ///
    /// When full, a new key costs two hash-table operations, not three: the key is inserted
    /// pointing at the tail's slot *before* anyone checks whether it exists (`insert` reports an
    /// existing key, and then the mapping is put back), and the victim's key is removed after.
    #[inline]
    pub fn put(&mut self, key: K, value: V) -> Option<(K, V)> {
        if self.nodes.len() < self.capacity {
            match self.map.entry(key) {
                Entry::Occupied(e) => {
                    let i = *e.get();
                    self.nodes[i as usize].value = value;
                    self.promote(i);
                }
                Entry::Vacant(e) => {
                    let i = self.nodes.len() as u32;
                    self.nodes.push(Node {
                        key: e.key().clone(),
                        value,
                        prev: NIL,
                        next: NIL,
                    });
                    e.insert(i);
                    self.link_front(i);
                }
            }
            return None;
        }
        let victim = self.tail;
        if let Some(existing) = self.map.insert(key.clone(), victim) {
            // The key was there: undo the remapping and update in place.
            if let Some(slot) = self.map.get_mut(&key) {
                *slot = existing;
            }
            self.nodes[existing as usize].value = value;
            self.promote(existing);
            return None;
        }
        let node = &mut self.nodes[victim as usize];
        let old_key = std::mem::replace(&mut node.key, key);
        let old_value = std::mem::replace(&mut node.value, value);
        self.map.remove(&old_key);
        self.promote(victim);
        Some((old_key, old_value))
    }

    /// Removes a key, returning its value.
    pub fn remove(&mut self, key: &K) -> Option<V> {
        let i = self.map.remove(key)?;
        self.unlink(i);
        let last = self.nodes.len() as u32 - 1;
        if i != last {
            // Move the last slot into the hole so the arena stays dense.
            self.relocate(last, i);
        }
        self.nodes.pop().map(|n| n.value)
    }

    /// Removes and returns the least recently used entry.
    pub fn pop_lru(&mut self) -> Option<(K, V)> {
        if self.tail == NIL {
            return None;
        }
        let key = self.nodes[self.tail as usize].key.clone();
        let v = self.remove(&key)?;
        Some((key, v))
    }

    /// Keys from most to least recently used.
    pub fn keys_mru_first(&self) -> Vec<K> {
        let mut out = Vec::with_capacity(self.len());
        let mut i = self.head;
        while i != NIL {
            out.push(self.nodes[i as usize].key.clone());
            i = self.nodes[i as usize].next;
        }
        out
    }

    /// Checks the invariant of the module documentation.
    pub fn check(&self) -> Result<(), String> {
        if self.map.len() != self.nodes.len() {
            return Err(format!(
                "map {} vs list {}",
                self.map.len(),
                self.nodes.len()
            ));
        }
        let (mut i, mut prev, mut n) = (self.head, NIL, 0);
        while i != NIL {
            let node = &self.nodes[i as usize];
            if node.prev != prev {
                return Err(format!("slot {i}: prev {} != {prev}", node.prev));
            }
            if self.map.get(&node.key) != Some(&i) {
                return Err(format!("slot {i}: key not mapped to it"));
            }
            n += 1;
            if n > self.nodes.len() {
                return Err("cycle".into());
            }
            prev = i;
            i = node.next;
        }
        if prev != self.tail || n != self.nodes.len() {
            return Err(format!(
                "walked {n} of {}, ended at {prev}",
                self.nodes.len()
            ));
        }
        Ok(())
    }

    #[inline]
    fn promote(&mut self, i: u32) {
        if self.head == i {
            return;
        }
        self.unlink(i);
        self.link_front(i);
    }

    #[inline]
    fn unlink(&mut self, i: u32) {
        let (prev, next) = {
            let n = &self.nodes[i as usize];
            (n.prev, n.next)
        };
        if prev == NIL {
            self.head = next;
        } else {
            self.nodes[prev as usize].next = next;
        }
        if next == NIL {
            self.tail = prev;
        } else {
            self.nodes[next as usize].prev = prev;
        }
    }

    #[inline]
    fn link_front(&mut self, i: u32) {
        let old = self.head;
        {
            let n = &mut self.nodes[i as usize];
            n.prev = NIL;
            n.next = old;
        }
        if old == NIL {
            self.tail = i;
        } else {
            self.nodes[old as usize].prev = i;
        }
        self.head = i;
    }

    /// Moves the (linked) node at `from` into the free slot `to`, fixing its neighbours and map entry.
    fn relocate(&mut self, from: u32, to: u32) {
        self.nodes.swap(from as usize, to as usize);
        let (prev, next) = {
            let n = &self.nodes[to as usize];
            (n.prev, n.next)
        };
        if prev == NIL {
            self.head = to;
        } else {
            self.nodes[prev as usize].next = to;
        }
        if next == NIL {
            self.tail = to;
        } else {
            self.nodes[next as usize].prev = to;
        }
        let key = &self.nodes[to as usize].key;
        if let Some(slot) = self.map.get_mut(key) {
            *slot = to;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_the_least_recently_used_not_the_oldest_inserted() {
        // LRU means the victim is the entry whose last *use* is oldest.
        let mut c = Lru::new(2);
        c.put("a", 1);
        c.put("b", 2);
        assert_eq!(c.get(&"a"), Some(&1));
        assert_eq!(c.put("c", 3), Some(("b", 2)));
        assert!(c.contains(&"a") && c.contains(&"c") && !c.contains(&"b"));
        // Counterexample: without the get, insertion order decides and "a" goes.
        let mut f = Lru::new(2);
        f.put("a", 1);
        f.put("b", 2);
        assert_eq!(f.put("c", 3), Some(("a", 1)));
        c.check().unwrap();
        f.check().unwrap();
    }

    #[test]
    fn replace_and_peek_and_remove() {
        let mut c = Lru::new(3);
        for (k, v) in [(1, 10), (2, 20), (3, 30)] {
            c.put(k, v);
        }
        assert_eq!(c.put(1, 11), None);
        assert_eq!(c.keys_mru_first(), vec![1, 3, 2]);
        assert_eq!(c.peek(&2), Some(&20));
        assert_eq!(c.keys_mru_first(), vec![1, 3, 2], "peek does not touch");
        assert_eq!(c.remove(&3), Some(30));
        assert_eq!(c.remove(&3), None);
        c.check().unwrap();
        assert_eq!(c.keys_mru_first(), vec![1, 2]);
        assert_eq!(c.pop_lru(), Some((2, 20)));
        assert_eq!(c.pop_lru(), Some((1, 11)));
        assert_eq!(c.pop_lru(), None);
        assert!(c.is_empty());
    }

    #[test]
    fn check_catches_a_broken_link() {
        let mut c = Lru::new(3);
        c.put(1, ());
        c.put(2, ());
        c.put(3, ());
        c.check().unwrap();
        c.nodes[0].prev = 2; // corrupt
        assert!(c.check().is_err());
    }
}
