//! Proptests of the cache models against simple models: the exact LRU against a recency-ordered
//! `Vec`, the Redis `dict` model against a `HashMap`, the eviction pool's order, and the sampled
//! LRU against the exact one when the sample covers every key.

use std::collections::HashMap;

use cache::clock::Clock;
use cache::dict::Dict;
use cache::keyspace::{Config, Keyspace};
use cache::lru::Lru;
use cache::policy::MaxmemoryPolicy;
use cache::pool::EvictionPool;
use cache::rng::Rng;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Get(u8),
    Put(u8, u32),
    Remove(u8),
    Pop,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => any::<u8>().prop_map(|k| Op::Get(k % 32)),
        4 => (any::<u8>(), any::<u32>()).prop_map(|(k, v)| Op::Put(k % 32, v)),
        1 => any::<u8>().prop_map(|k| Op::Remove(k % 32)),
        1 => Just(Op::Pop),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// The exact LRU behaves like a list kept in recency order (most recent first).
    #[test]
    fn lru_matches_a_recency_list(cap in 1usize..12, ops in prop::collection::vec(op(), 1..300)) {
        let mut lru = Lru::new(cap);
        let mut model: Vec<(u8, u32)> = Vec::new();
        for o in ops {
            match o {
                Op::Get(k) => {
                    let want = model.iter().position(|e| e.0 == k).map(|i| {
                        let e = model.remove(i);
                        model.insert(0, e);
                        e.1
                    });
                    prop_assert_eq!(lru.get(&k).copied(), want);
                }
                Op::Put(k, v) => {
                    let mut evicted = None;
                    if let Some(i) = model.iter().position(|e| e.0 == k) {
                        model.remove(i);
                    } else if model.len() == cap {
                        evicted = model.pop();
                    }
                    model.insert(0, (k, v));
                    prop_assert_eq!(lru.put(k, v), evicted);
                }
                Op::Remove(k) => {
                    let want = model.iter().position(|e| e.0 == k).map(|i| model.remove(i).1);
                    prop_assert_eq!(lru.remove(&k), want);
                }
                Op::Pop => {
                    prop_assert_eq!(lru.pop_lru(), model.pop());
                }
            }
            prop_assert!(lru.check().is_ok(), "{:?}", lru.check());
            let keys: Vec<u8> = model.iter().map(|e| e.0).collect();
            prop_assert_eq!(lru.keys_mru_first(), keys);
        }
    }

    /// The dict model holds what a HashMap holds, every entry in its own bucket, and samples are
    /// present keys.
    #[test]
    fn dict_matches_a_hashmap(seed in any::<u64>(), ops in prop::collection::vec((any::<bool>(), 0u16..500), 1..400)) {
        let mut d: Dict<u16, u16> = Dict::new(seed);
        let mut m: HashMap<u16, u16> = HashMap::new();
        let mut rng = Rng::new(seed);
        for (i, (insert, k)) in ops.into_iter().enumerate() {
            if insert {
                prop_assert_eq!(d.insert(k, i as u16), m.insert(k, i as u16));
            } else {
                prop_assert_eq!(d.remove(&k), m.remove(&k));
            }
            if i % 50 == 0 {
                d.shrink_if_sparse();
            }
            prop_assert!(d.check().is_ok(), "{:?}", d.check());
            prop_assert_eq!(d.len(), m.len());
            let sample = d.get_some_keys(5, &mut rng);
            // Present keys, at most `count` of them (duplicates are possible after a random
            // re-jump, as in Redis's dictGetSomeKeys).
            prop_assert!(sample.iter().all(|&e| m.contains_key(d.entry(e).0)));
            prop_assert!(sample.len() <= 5.min(m.len()));
        }
        for (k, v) in &m {
            prop_assert_eq!(d.get(k), Some(v));
        }
    }

    /// The pool stays sorted, never holds more than 16, and pop_best returns the largest idle.
    #[test]
    fn pool_stays_sorted(offers in prop::collection::vec((0u32..1000, 0u64..100), 1..200)) {
        let mut p = EvictionPool::default();
        for (i, (key, idle)) in offers.iter().enumerate() {
            p.offer(*key, *idle);
            prop_assert!(p.is_sorted(), "{:?}", p.idles());
            prop_assert!(p.len() <= 16);
            if i % 7 == 6 {
                let best = p.candidates().map(|c| c.idle).max();
                let got = p.pop_best(|_| true).map(|c| c.idle);
                prop_assert_eq!(got, best);
            }
        }
    }

    /// When the sample covers every key and access times are distinct, the sampled LRU with the
    /// pool evicts exactly what the exact LRU evicts.
    #[test]
    fn full_samples_equal_exact_lru(n in 2usize..40, adds in 1usize..40, seed in any::<u64>()) {
        let cfg = Config { policy: MaxmemoryPolicy::AllkeysLru, maxkeys: n, samples: 64, ..Config::default() };
        let mut ks: Keyspace<u64> = Keyspace::new(cfg, Clock::at(1_700_000_000_000), seed);
        let mut exact = Lru::new(n);
        let mut order: Vec<u64> = (0..n as u64).collect();
        let mut rng = Rng::new(seed);
        for i in (1..order.len()).rev() {
            order.swap(i, rng.below(i as u64 + 1) as usize);
        }
        // Keys accessed in a random order, one second apart.
        for (age, &k) in order.iter().enumerate() {
            ks.set(k).unwrap();
            ks.set_idle_secs(&k, (n - age) as u64 + 5);
            exact.put(k, ());
        }
        let clock = ks.clock().clone();
        for j in 0..adds as u64 {
            clock.advance_secs(1); // distinct access times for the added keys too
            ks.set(1000 + j).unwrap();
            exact.put(1000 + j, ());
        }
        let mut a: Vec<u64> = ks.keys().copied().collect();
        let mut b = exact.keys_mru_first();
        a.sort();
        b.sort();
        prop_assert_eq!(a, b);
    }
}
