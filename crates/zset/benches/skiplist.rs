//! Criterion micro-benchmarks of the sorted set against the ordered indexes a Rust user would pick
//! instead (each with a `HashMap` member → score dictionary): insert + remove of a new member, rank
//! of a present member, and 10 entries from a rank, at 10k, 100k and 1M members. The side-by-side
//! table with the real Redis is the scenario runner `lab bench zset`; this is the detailed view of
//! the in-process part (`cargo bench -p zset`).
//!
//! BTreeSet and crossbeam's SkipSet have no rank index, so their rank and range benches walk from
//! the smallest entry and are left out above 100k members.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use zset::SortedSet;
use zset::bench::{BTreeOrder, CrossbeamOrder, ModelSet, Order, SkiplistCrateOrder};

const SIZES: [usize; 3] = [10_000, 100_000, 1_000_000];
/// Above this, O(n) rank and range are not benchmarked.
const LINEAR_LIMIT: usize = 100_000;

fn member(i: usize) -> Vec<u8> {
    format!("member:{i:09}").into_bytes()
}

/// A fixed pseudo-random score for member `i` (the same for every implementation).
fn score(i: usize) -> f64 {
    ((i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 44) as f64
}

/// The operations every implementation offers.
trait Bench {
    fn add(&mut self, score: f64, m: &[u8]) -> bool;
    fn del(&mut self, m: &[u8]) -> bool;
    fn rank_of(&self, m: &[u8]) -> Option<usize>;
    fn ten_from(&self, r: usize) -> usize;
}

impl Bench for SortedSet {
    fn add(&mut self, score: f64, m: &[u8]) -> bool {
        self.insert(score, m)
    }
    fn del(&mut self, m: &[u8]) -> bool {
        self.remove(m)
    }
    fn rank_of(&self, m: &[u8]) -> Option<usize> {
        self.rank(m)
    }
    fn ten_from(&self, r: usize) -> usize {
        self.range_by_rank(r, r + 9, false).len()
    }
}

impl<O: Order> Bench for ModelSet<O> {
    fn add(&mut self, score: f64, m: &[u8]) -> bool {
        self.insert(score, m)
    }
    fn del(&mut self, m: &[u8]) -> bool {
        self.remove(m)
    }
    fn rank_of(&self, m: &[u8]) -> Option<usize> {
        self.rank(m)
    }
    fn ten_from(&self, r: usize) -> usize {
        self.range(r, 10).len()
    }
}

fn filled<B: Bench>(mut b: B, n: usize) -> B {
    for i in 0..n {
        b.add(score(i), &member(i));
    }
    b
}

fn one<B: Bench>(c: &mut Criterion, name: &str, make: impl Fn() -> B, linear: bool) {
    for n in SIZES {
        let mut set = filled(make(), n);
        let fresh: Vec<Vec<u8>> = (0..1024).map(|i| member(n + i)).collect();
        let present: Vec<Vec<u8>> = (0..1024).map(|i| member((i * 7919) % n)).collect();
        let mut k = 0usize;
        c.benchmark_group("insert + remove a new member")
            .bench_with_input(BenchmarkId::new(name, n), &n, |b, _| {
                b.iter(|| {
                    let m = &fresh[k % fresh.len()];
                    k += 1;
                    assert!(set.add(score(k), black_box(m)));
                    assert!(set.del(m));
                })
            });
        if linear && n > LINEAR_LIMIT {
            continue;
        }
        c.benchmark_group("rank of a present member")
            .bench_with_input(BenchmarkId::new(name, n), &n, |b, _| {
                b.iter(|| {
                    k += 1;
                    black_box(set.rank_of(&present[k % present.len()])).expect("present")
                })
            });
        c.benchmark_group("10 entries from a rank")
            .bench_with_input(BenchmarkId::new(name, n), &n, |b, _| {
                b.iter(|| {
                    k += 1;
                    let r = (k * 7919) % (n - 10);
                    assert_eq!(black_box(set.ten_from(r)), 10);
                })
            });
    }
}

fn sorted_sets(c: &mut Criterion) {
    one(
        c,
        "zset SortedSet",
        || SortedSet::skiplist_with_seed(1),
        false,
    );
    one(
        c,
        "skiplist OrderedSkipList + HashMap",
        ModelSet::<SkiplistCrateOrder>::default,
        false,
    );
    one(
        c,
        "BTreeSet + HashMap",
        ModelSet::<BTreeOrder>::default,
        true,
    );
    one(
        c,
        "crossbeam SkipSet + HashMap",
        ModelSet::<CrossbeamOrder>::default,
        true,
    );
}

criterion_group!(benches, sorted_sets);
criterion_main!(benches);
