//! Criterion micro-benchmarks: the uncontended cost of moving one value through a channel on one
//! thread (a send then a receive, the `seq` shape), and of a two-case `select` with one ready case.
//! The threaded shapes and the Go side are the scenario runner `lab bench channels`.
//!
//! With no other thread, nothing ever parks: this is the price of the lock (or the lock-free
//! fast path) alone, which is where this crate's channel (one mutex per operation, like Go's
//! `hchan.lock`) and crossbeam's (lock-free array and list flavors) differ most.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use gochan::chan::{Chan, Select};

const CAP: usize = 64;

fn seq(c: &mut Criterion) {
    let mut g = c.benchmark_group("send+recv, one thread, bounded(64)");
    let ch = Chan::new(CAP);
    g.bench_function(BenchmarkId::from_parameter("gochan::Chan"), |b| {
        b.iter(|| {
            ch.try_send(black_box(1u64)).unwrap();
            black_box(ch.try_recv().unwrap())
        })
    });
    let (tx, rx) = crossbeam_channel::bounded(CAP);
    g.bench_function(BenchmarkId::from_parameter("crossbeam bounded"), |b| {
        b.iter(|| {
            tx.try_send(black_box(1u64)).unwrap();
            black_box(rx.try_recv().unwrap())
        })
    });
    let (tx, rx) = std::sync::mpsc::sync_channel(CAP);
    g.bench_function(BenchmarkId::from_parameter("std sync_channel"), |b| {
        b.iter(|| {
            tx.try_send(black_box(1u64)).unwrap();
            black_box(rx.try_recv().unwrap())
        })
    });
    let (tx, rx) = flume::bounded(CAP);
    g.bench_function(BenchmarkId::from_parameter("flume bounded"), |b| {
        b.iter(|| {
            tx.try_send(black_box(1u64)).unwrap();
            black_box(rx.try_recv().unwrap())
        })
    });
    let (tx, mut rx) = tokio::sync::mpsc::channel(CAP);
    g.bench_function(BenchmarkId::from_parameter("tokio mpsc"), |b| {
        b.iter(|| {
            tx.try_send(black_box(1u64)).unwrap();
            black_box(rx.try_recv().unwrap())
        })
    });
    g.finish();
}

fn select(c: &mut Criterion) {
    let mut g = c.benchmark_group("select over two channels, one ready");
    let (a, b_ch) = (Chan::<u64>::new(CAP), Chan::<u64>::new(CAP));
    g.bench_function(BenchmarkId::from_parameter("gochan::Select"), |b| {
        b.iter(|| {
            a.try_send(1).unwrap();
            Select::new()
                .recv(&a, |v| v.unwrap())
                .recv(&b_ch, |v| v.unwrap())
                .run()
        })
    });
    let (atx, arx) = crossbeam_channel::bounded::<u64>(CAP);
    let (_btx, brx) = crossbeam_channel::bounded::<u64>(CAP);
    g.bench_function(BenchmarkId::from_parameter("crossbeam select!"), |b| {
        b.iter(|| {
            atx.try_send(1).unwrap();
            crossbeam_channel::select! {
                recv(arx) -> v => v.unwrap(),
                recv(brx) -> v => v.unwrap(),
            }
        })
    });
    g.finish();
}

criterion_group!(benches, seq, select);
criterion_main!(benches);
