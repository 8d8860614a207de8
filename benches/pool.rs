//! Criterion micro-benchmarks: the cost of starting one task (tokio, rayon, an OS thread) and of
//! one batch of tiny jobs through each worker pool. The Go-vs-Rust scenario runner, with memory per
//! task and processes, is `lab bench pool`.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use poolbench::pools::{self, PoolImpl, Runtimes};
use poolbench::spawn;
use poolbench::work::Seen;

fn spawn_one(c: &mut Criterion) {
    let rt = Runtimes::new(2).expect("runtimes");
    let mut g = c.benchmark_group("spawn + join of 100 trivial tasks");
    g.bench_function("tokio::spawn", |b| {
        b.iter(|| spawn::tokio_tasks(&rt.tokio, 100, &Arc::new(Seen::new(100))))
    });
    g.bench_function("rayon scope.spawn", |b| {
        b.iter(|| spawn::rayon_jobs(&rt.rayon, 100, &Seen::new(100)))
    });
    g.bench_function("std::thread (scoped)", |b| {
        b.iter(|| spawn::threads(100, &Seen::new(100)))
    });
    g.finish();
}

fn pool_batch(c: &mut Criterion) {
    let rt = Runtimes::new(2).expect("runtimes");
    let mut g = c.benchmark_group("10k tiny jobs through a pool");
    for imp in PoolImpl::ALL {
        if imp == PoolImpl::Csp {
            continue; // pending: crate csp is not wired in yet
        }
        g.bench_function(imp.label(), |b| {
            b.iter(|| black_box(pools::run(imp, &rt, 2, 10_000, 0, 1024)))
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = spawn_one, pool_batch
}
criterion_main!(benches);
