//! Criterion micro-benchmarks: the cost of one uncontended update or read of a shared counter, by
//! technique, and of one increment sent to a channel owner. The contended, Go-vs-Rust comparison is
//! the scenario runner `lab bench counters`.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use gosync::counters::{Technique, measure_once};
use gosync::mutex::GoMutex;
use gosync::rwmutex::GoRwMutex;

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
    // The port holds no data: it guards a counter bumped with a separate load and store.
    let (go_mutex, guarded) = (GoMutex::new(), AtomicU64::new(0));
    g.bench_function("GoMutex (port of Go's Mutex)", |b| {
        b.iter(|| {
            let _g = black_box(&go_mutex).lock();
            let v = guarded.load(Ordering::Relaxed);
            guarded.store(v + 1, Ordering::Relaxed);
        })
    });
    g.finish();
}

fn reads(c: &mut Criterion) {
    let mut g = c.benchmark_group("read under a read lock (uncontended)");
    let std_rw = std::sync::RwLock::new(0u64);
    g.bench_function("std::sync::RwLock::read", |b| {
        b.iter(|| *black_box(&std_rw).read().unwrap_or_else(|e| e.into_inner()))
    });
    let pl_rw = parking_lot::RwLock::new(0u64);
    g.bench_function("parking_lot::RwLock::read", |b| {
        b.iter(|| *black_box(&pl_rw).read())
    });
    let (go_rw, value) = (GoRwMutex::new(), AtomicU64::new(0));
    g.bench_function("GoRwMutex::rlock (port of Go's RWMutex)", |b| {
        b.iter(|| {
            let _r = black_box(&go_rw).rlock();
            value.load(Ordering::Relaxed)
        })
    });
    g.finish();
}

/// One sender thread and the owner thread: the time per increment over a bounded channel, from
/// the release until the owner has received them all (the suite's `measure_once`).
fn channel_owner(c: &mut Criterion) {
    let mut g = c.benchmark_group("channel-owned counter (1 sender + owner)");
    g.sample_size(20).measurement_time(Duration::from_secs(4));
    for t in [Technique::CrossbeamOwner, Technique::StdMpscOwner] {
        g.bench_function(t.implementation(), |b| {
            b.iter_custom(|iters| {
                let (ns, total) = measure_once(t, 1, iters);
                assert_eq!(total, iters, "{t:?} lost increments");
                Duration::from_nanos((ns * iters as f64) as u64)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, increments, reads, channel_owner);
criterion_main!(benches);
