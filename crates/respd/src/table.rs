//! The hash table behind the keyspace and the expires table: a `HashMap` that can also hand out a
//! *random* key, as Redis's `dictGetRandomKey` does for eviction and the active expire cycle.
//!
//! std's `HashMap` cannot: it has no way to reach a slot by position. An `IndexMap` can (it keeps
//! entries in a dense vector), but every lookup then goes through its index table *and* the
//! vector — two cache misses on a large keyspace instead of one (measured with
//! `examples/exec_cost.rs` over 100,000 keys: GET about 180 → 240 ns). So this is
//! `hashbrown::HashTable`, the table under std's `HashMap`, with std's SipHash keys, and the
//! bucket-index access hashbrown exposes: [`KeyTable::random`] picks a random bucket and walks
//! forward to the first occupied one.
//!
//! ```text
//!   buckets:  [ · | a | · | · | b | c | · | d ]     random start 2 → walks 2, 3, 4 → b
//! ```
//!
//! ## How the real system differs
//! Redis's dict chains entries in buckets and picks a random *non-empty bucket*, then a random
//! entry of its chain; hashbrown's open addressing has one entry per bucket, so a key that follows
//! a long run of empty buckets is picked more often than one that follows a full bucket. Redis
//! also shrinks a dict below 10% fill; hashbrown never shrinks on its own, so [`KeyTable::remove`]
//! shrinks a table that fell below 1/8 full to keep the walk short.

use std::hash::{BuildHasher, RandomState};

use cache::rng::Rng;
use hashbrown::HashTable;

/// A map from byte-string keys to `V` with O(1) random access (see the module docs).
pub struct KeyTable<V> {
    table: HashTable<(Vec<u8>, V)>,
    hasher: RandomState,
}

impl<V> std::fmt::Debug for KeyTable<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyTable")
            .field("len", &self.table.len())
            .field("buckets", &self.table.num_buckets())
            .finish()
    }
}

impl<V> Default for KeyTable<V> {
    fn default() -> Self {
        KeyTable {
            table: HashTable::new(),
            hasher: RandomState::new(),
        }
    }
}

impl<V> KeyTable<V> {
    pub fn new() -> Self {
        Self::default()
    }

    fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    pub fn get(&self, key: &[u8]) -> Option<&V> {
        let h = self.hash(key);
        self.table.find(h, |(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut V> {
        let h = self.hash(key);
        self.table.find_mut(h, |(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn contains_key(&self, key: &[u8]) -> bool {
        self.get(key).is_some()
    }

    /// Inserts or replaces; the old value if there was one.
    pub fn insert(&mut self, key: Vec<u8>, value: V) -> Option<V> {
        if let Some(slot) = self.get_mut(&key) {
            return Some(std::mem::replace(slot, value));
        }
        let h = self.hash(&key);
        let hasher = &self.hasher;
        self.table
            .insert_unique(h, (key, value), |(k, _)| hasher.hash_one(k.as_slice()));
        None
    }

    /// Removes `key`; its value if it was there.
    pub fn remove(&mut self, key: &[u8]) -> Option<V> {
        let h = self.hash(key);
        let (_, v) = self.table.find_entry(h, |(k, _)| k == key).ok()?.remove().0;
        if self.table.num_buckets() > 64 && self.table.len() < self.table.num_buckets() / 8 {
            let hasher = &self.hasher;
            self.table
                .shrink_to(self.table.len() * 2, |(k, _)| hasher.hash_one(k.as_slice()));
        }
        Some(v)
    }

    pub fn clear(&mut self) {
        self.table.clear();
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Vec<u8>, &V)> {
        self.table.iter().map(|(k, v)| (k, v))
    }

    pub fn keys(&self) -> impl Iterator<Item = &Vec<u8>> {
        self.table.iter().map(|(k, _)| k)
    }

    /// A random entry: a random bucket, then the first occupied bucket from there on (wrapping).
    /// `None` only when the table is empty.
    pub fn random(&self, rng: &mut Rng) -> Option<(&Vec<u8>, &V)> {
        if self.table.is_empty() {
            return None;
        }
        let n = self.table.num_buckets();
        let start = rng.below(n as u64) as usize;
        (0..n)
            .find_map(|d| self.table.get_bucket((start + d) % n))
            .map(|(k, v)| (k, v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_as_a_map() {
        let mut t = KeyTable::new();
        assert_eq!(t.insert(b"a".to_vec(), 1), None);
        assert_eq!(t.insert(b"a".to_vec(), 2), Some(1));
        assert_eq!(t.get(b"a"), Some(&2));
        assert_eq!(t.remove(b"a"), Some(2));
        assert_eq!(t.remove(b"a"), None);
        assert!(t.is_empty());
    }

    // Every key can come out of `random`, and after deleting most keys the survivors still do
    // (the table shrinks). Counterexample: an empty table gives nothing.
    #[test]
    fn random_reaches_every_key() {
        let mut t = KeyTable::new();
        let mut rng = Rng::new(1);
        assert!(t.random(&mut rng).is_none());
        for i in 0..1000u32 {
            t.insert(i.to_be_bytes().to_vec(), i);
        }
        for i in 10..1000u32 {
            t.remove(&i.to_be_bytes());
        }
        let mut seen = std::collections::HashSet::new();
        for _ in 0..2000 {
            seen.insert(*t.random(&mut rng).unwrap().1);
        }
        assert_eq!(seen.len(), 10, "{seen:?}");
        assert!(t.table.num_buckets() <= 64, "{}", t.table.num_buckets());
    }
}
