//! Criterion micro-benchmarks: the cost of one uncontended increment of a shared counter, by
//! technique. The contended, Go-vs-Rust comparison is the scenario runner `lab bench counters`.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};

use criterion::{Criterion, criterion_group, criterion_main};

fn increments(c: &mut Criterion) {
    let mut g = c.benchmark_group("counter increment (uncontended)");
    let atomic = AtomicU64::new(0);
    g.bench_function("AtomicU64::fetch_add", |b| {
        b.iter(|| black_box(&atomic).fetch_add(1, Ordering::Relaxed))
    });
    let cas = AtomicU64::new(0);
    g.bench_function("CAS loop", |b| {
        b.iter(|| gosync::counters::cas_increment_counting(black_box(&cas)))
    });
    let std_mutex = std::sync::Mutex::new(0u64);
    g.bench_function("std::sync::Mutex", |b| {
        b.iter(|| {
            *black_box(&std_mutex)
                .lock()
                .unwrap_or_else(|e| e.into_inner()) += 1
        })
    });
    let pl = parking_lot::Mutex::new(0u64);
    g.bench_function("parking_lot::Mutex", |b| {
        b.iter(|| *black_box(&pl).lock() += 1)
    });
    g.finish();
}

criterion_group!(benches, increments);
criterion_main!(benches);
