//! Scheduler overhead per task: spawn + run + join of tiny tasks on the GPM scheduler and on the
//! GM variant (one locked global queue), and a spawn tree where every task spawns two more.
//! `cargo bench -p gpm`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use gpm::workloads::{spawn_and_join, spawn_tree, tree_size};
use gpm::{Config, gm, run};

fn spawn_join(c: &mut Criterion) {
    let mut g = c.benchmark_group("spawn_join_10k");
    let n = 10_000;
    g.throughput(Throughput::Elements(n as u64));
    for procs in [1usize, 2] {
        g.bench_with_input(BenchmarkId::new("gpm", procs), &procs, |b, &p| {
            b.iter(|| {
                spawn_and_join(p, n, |i| {
                    std::hint::black_box(i);
                })
            });
        });
    }
    g.finish();
}

fn tree(c: &mut Criterion) {
    let depth = 12;
    let mut g = c.benchmark_group("spawn_tree_8191");
    g.throughput(Throughput::Elements(tree_size(depth)));
    for threads in [1usize, 2] {
        g.bench_with_input(BenchmarkId::new("gpm", threads), &threads, |b, &t| {
            b.iter(|| run(Config::new(t), vec![spawn_tree(depth, 100)]));
        });
        g.bench_with_input(BenchmarkId::new("gm", threads), &threads, |b, &t| {
            b.iter(|| gm::run(t, false, vec![spawn_tree(depth, 100)]));
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = spawn_join, tree
}
criterion_main!(benches);
