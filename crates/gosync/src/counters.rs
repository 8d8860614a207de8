//! One shared counter, five ways to update it, Rust and Go side by side: atomic add, a CAS retry
//! loop, mutexes, reader-writer locks under a read-heavy load, and a counter owned by one thread
//! that the others send increments to over a channel.
//!
//! ```text
//!   thread 0 ─┐                      atomic add : one locked instruction (lock xadd on x86)
//!   thread 1 ─┼──► counter: u64  ◄── CAS loop   : load, compute, compare_exchange, retry on conflict
//!   …        ─┘                      mutex      : lock, +1, unlock (parks when contended)
//!                                    RWMutex    : 9 reads under the read lock, 1 write under the write lock
//!
//!   sender 0 ─┐  bounded channel (1024)
//!   sender 1 ─┼──────────────────────────► owner thread: n += d   (nobody else touches n)
//! ```
//!
//! Scenarios and rows (the baseline of each scenario is Go's row, measured in the same run):
//!
//! | scenario | Go | Rust rows |
//! |---|---|---|
//! | atomic add | `atomic.AddInt64` | `AtomicU64::fetch_add` |
//! | CAS loop | `CompareAndSwapInt64` loop | `compare_exchange_weak` loop ([`crate::cas`]) |
//! | mutex | `sync.Mutex` | std `Mutex`, `parking_lot::Mutex`, [`GoMutex`] (the port) |
//! | RWMutex read-heavy | `sync.RWMutex` | std `RwLock`, `parking_lot::RwLock`, [`GoRwMutex`] |
//! | channel-owned counter | a goroutine owns it | crossbeam-channel, std `mpsc::sync_channel` |
//!
//! Each measurement releases all threads together (a spinning barrier on both sides, so that no
//! thread waits for a wake-up), takes the wall time from the first start to the last finish,
//! divides by the operations done, and checks the final count: a
//! benchmark that lost updates would be measuring a bug. [`GoMutex`] and [`GoRwMutex`] hold no
//! data (see [`crate::mutex`]), so their rows protect an `AtomicU64` updated with a separate load
//! and store, which compiles to plain moves like the `u64` inside std's `Mutex`.
//!
//! ## How the real system differs
//! Go runs goroutines on `GOMAXPROCS` OS threads; with 2 goroutines on 2 Ps they usually run in
//! parallel like our 2 threads, but the Go scheduler may also run them one after the other, which
//! removes contention. Go's channel owner is a goroutine, so a sender that fills the buffer parks
//! in user space; ours parks an OS thread. Compare medians in one run; the machine is shared and
//! noisy.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use catalog::{BenchCtx, BenchReport, BenchSuite, DemoError, Stats};

use crate::cas::{Flavor, SpinBarrier, cas_increment};
use crate::mutex::GoMutex;
use crate::rwmutex::GoRwMutex;

/// `lab bench counters`.
pub const SUITE: BenchSuite = BenchSuite {
    name: "counters",
    about: "a shared counter: atomic add, CAS loop, mutexes, RWMutex read-heavy, channel-owned; Rust and Go side by side (ns/op)",
    questions: &["go-02", "go-29"],
    run,
};

/// The owner's channel capacity, the same on both sides.
pub const CHANNEL_CAP: usize = 1024;
/// In the read-heavy scenario, operation `i` of a thread writes when `i % WRITE_EVERY == 0`.
pub const WRITE_EVERY: u64 = 10;

/// The ways to update a shared counter that the suite compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Technique {
    AtomicAdd,
    CasLoop,
    StdMutex,
    ParkingLotMutex,
    GoMutexPort,
    StdRwLock,
    ParkingLotRwLock,
    GoRwMutexPort,
    CrossbeamOwner,
    StdMpscOwner,
}

/// The scenarios in report order: each is one Go row plus its Rust rows.
pub const SCENARIOS: [&str; 5] = [
    "atomic add",
    "CAS loop",
    "mutex",
    "RWMutex read-heavy",
    "channel-owned counter",
];

impl Technique {
    pub const ALL: [Technique; 10] = [
        Technique::AtomicAdd,
        Technique::CasLoop,
        Technique::StdMutex,
        Technique::ParkingLotMutex,
        Technique::GoMutexPort,
        Technique::StdRwLock,
        Technique::ParkingLotRwLock,
        Technique::GoRwMutexPort,
        Technique::CrossbeamOwner,
        Technique::StdMpscOwner,
    ];

    /// The scenario a technique belongs to (the name the Go program reports it under).
    pub fn scenario(self) -> &'static str {
        match self {
            Technique::AtomicAdd => SCENARIOS[0],
            Technique::CasLoop => SCENARIOS[1],
            Technique::StdMutex | Technique::ParkingLotMutex | Technique::GoMutexPort => {
                SCENARIOS[2]
            }
            Technique::StdRwLock | Technique::ParkingLotRwLock | Technique::GoRwMutexPort => {
                SCENARIOS[3]
            }
            Technique::CrossbeamOwner | Technique::StdMpscOwner => SCENARIOS[4],
        }
    }

    pub fn implementation(self) -> &'static str {
        match self {
            Technique::AtomicAdd => "Rust AtomicU64::fetch_add",
            Technique::CasLoop => "Rust compare_exchange_weak loop",
            Technique::StdMutex => "Rust std::sync::Mutex",
            Technique::ParkingLotMutex => "parking_lot::Mutex",
            Technique::GoMutexPort => "Rust GoMutex (Go's algorithm, ported)",
            Technique::StdRwLock => "Rust std::sync::RwLock",
            Technique::ParkingLotRwLock => "parking_lot::RwLock",
            Technique::GoRwMutexPort => "Rust GoRwMutex (Go's algorithm, ported)",
            Technique::CrossbeamOwner => "Rust owner thread, crossbeam-channel",
            Technique::StdMpscOwner => "Rust owner thread, std mpsc::sync_channel",
        }
    }

    /// Whether the technique is a channel owner (measured with fewer operations: a send costs more).
    pub fn is_channel(self) -> bool {
        self.scenario() == SCENARIOS[4]
    }

    /// What the final count must be after `threads` threads did `ops` operations each: every
    /// operation increments, except in the read-heavy scenario, where 1 in [`WRITE_EVERY`] does.
    pub fn expected_final(self, threads: usize, ops: u64) -> u64 {
        threads as u64 * writes_per_thread(self.scenario(), ops)
    }
}

/// Increments one thread makes in `ops` operations of `scenario`.
pub fn writes_per_thread(scenario: &str, ops: u64) -> u64 {
    if scenario == SCENARIOS[3] {
        ops.div_ceil(WRITE_EVERY)
    } else {
        ops
    }
}

/// Runs `op(i)` for `i` in `0..ops` on each of `threads` threads released together by a
/// [`SpinBarrier`] (a parking barrier's wake-up can take as long as a short run); returns ns per
/// operation from the first start to the last finish. (Timing from the spawning thread would miss
/// work that ran before that thread was scheduled again.)
fn timed(threads: usize, ops: u64, op: impl Fn(u64) + Sync) -> f64 {
    let barrier = SpinBarrier::new(threads);
    let spans: Vec<(Instant, Instant)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    let start = Instant::now();
                    for i in 0..ops {
                        op(i);
                    }
                    (start, Instant::now())
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    per_op(&spans, threads as u64 * ops)
}

fn per_op(spans: &[(Instant, Instant)], ops: u64) -> f64 {
    let first = spans.iter().map(|s| s.0).min();
    let last = spans.iter().map(|s| s.1).max();
    let elapsed = match (first, last) {
        (Some(a), Some(b)) => b.duration_since(a),
        _ => Duration::ZERO,
    };
    elapsed.as_nanos() as f64 / ops.max(1) as f64
}

/// A load, then a separate store: only correct while a lock excludes every other writer.
fn bump(counter: &AtomicU64) {
    let v = counter.load(Ordering::Relaxed);
    counter.store(v + 1, Ordering::Relaxed);
}

fn is_write(i: u64) -> bool {
    i.is_multiple_of(WRITE_EVERY)
}

/// One owner thread sums what `threads` senders send it, `ops` each, over a bounded channel. The
/// time runs from the release until the owner received the last increment. Returns (ns per
/// increment, the owner's sum).
fn owned_counter<S: Clone + Send, R: Send>(
    threads: usize,
    ops: u64,
    (tx, rx): (S, R),
    send: impl Fn(&S) + Sync,
    drain: impl FnOnce(R) -> u64 + Send,
) -> (f64, u64) {
    let barrier = SpinBarrier::new(threads + 1);
    let (spans, total) = std::thread::scope(|s| {
        let barrier = &barrier;
        let owner = s.spawn(move || {
            barrier.wait();
            let start = Instant::now();
            let total = drain(rx); // returns when every sender has dropped its end
            ((start, Instant::now()), total)
        });
        let senders: Vec<_> = (0..threads)
            .map(|_| {
                let (tx, send) = (tx.clone(), &send);
                s.spawn(move || {
                    barrier.wait();
                    let start = Instant::now();
                    for _ in 0..ops {
                        send(&tx);
                    }
                    (start, Instant::now())
                })
            })
            .collect();
        drop(tx);
        let mut spans: Vec<(Instant, Instant)> =
            senders.into_iter().filter_map(|h| h.join().ok()).collect();
        let total = match owner.join() {
            Ok((span, total)) => {
                spans.push(span);
                total
            }
            Err(_) => 0,
        };
        (spans, total)
    });
    (per_op(&spans, threads as u64 * ops), total)
}

/// Runs `technique` on `threads` threads, `ops` operations each; returns ns per operation and the
/// final count.
pub fn measure_once(technique: Technique, threads: usize, ops: u64) -> (f64, u64) {
    match technique {
        Technique::AtomicAdd => {
            let n = AtomicU64::new(0);
            let ns = timed(threads, ops, |_| {
                n.fetch_add(1, Ordering::Relaxed);
            });
            (ns, n.into_inner())
        }
        Technique::CasLoop => {
            let n = AtomicU64::new(0);
            let ns = timed(threads, ops, |_| {
                cas_increment(&n, Flavor::Weak);
            });
            (ns, n.into_inner())
        }
        Technique::StdMutex => {
            let m = std::sync::Mutex::new(0u64);
            // A poisoned lock only means another increment panicked; keep counting.
            let ns = timed(threads, ops, |_| {
                *m.lock().unwrap_or_else(|e| e.into_inner()) += 1;
            });
            (ns, m.into_inner().unwrap_or_else(|e| e.into_inner()))
        }
        Technique::ParkingLotMutex => {
            let m = parking_lot::Mutex::new(0u64);
            let ns = timed(threads, ops, |_| *m.lock() += 1);
            (ns, m.into_inner())
        }
        Technique::GoMutexPort => {
            let (m, n) = (GoMutex::new(), AtomicU64::new(0));
            let ns = timed(threads, ops, |_| {
                let _g = m.lock();
                bump(&n);
            });
            (ns, n.into_inner())
        }
        Technique::StdRwLock => {
            let l = std::sync::RwLock::new(0u64);
            let ns = timed(threads, ops, |i| {
                if is_write(i) {
                    *l.write().unwrap_or_else(|e| e.into_inner()) += 1;
                } else {
                    black_box(*l.read().unwrap_or_else(|e| e.into_inner()));
                }
            });
            (ns, l.into_inner().unwrap_or_else(|e| e.into_inner()))
        }
        Technique::ParkingLotRwLock => {
            let l = parking_lot::RwLock::new(0u64);
            let ns = timed(threads, ops, |i| {
                if is_write(i) {
                    *l.write() += 1;
                } else {
                    black_box(*l.read());
                }
            });
            (ns, l.into_inner())
        }
        Technique::GoRwMutexPort => {
            let (l, n) = (GoRwMutex::new(), AtomicU64::new(0));
            let ns = timed(threads, ops, |i| {
                if is_write(i) {
                    let _w = l.lock();
                    bump(&n);
                } else {
                    let _r = l.rlock();
                    black_box(n.load(Ordering::Relaxed));
                }
            });
            (ns, n.into_inner())
        }
        Technique::CrossbeamOwner => owned_counter(
            threads,
            ops,
            crossbeam_channel::bounded::<u64>(CHANNEL_CAP),
            |tx| {
                // Fails only if the owner is gone; the final count then shows it.
                let _ = tx.send(1);
            },
            |rx| rx.iter().sum(),
        ),
        Technique::StdMpscOwner => owned_counter(
            threads,
            ops,
            std::sync::mpsc::sync_channel::<u64>(CHANNEL_CAP),
            |tx| {
                let _ = tx.send(1);
            },
            |rx| rx.iter().sum(),
        ),
    }
}

/// The compare-and-swap retry loop ([`crate::cas::cas_increment`] with `compare_exchange_weak`):
/// read, compute, publish only if nobody else wrote in between. Returns the number of retries
/// (failed exchanges), which grows with contention.
pub fn cas_increment_counting(counter: &AtomicU64) -> u32 {
    cas_increment(counter, Flavor::Weak)
}

#[derive(Debug, serde::Deserialize)]
struct GoReport {
    go_version: String,
    results: Vec<GoResult>,
}

#[derive(Debug, serde::Deserialize)]
struct GoResult {
    technique: String,
    threads: usize,
    ns_per_op: Vec<f64>,
    #[serde(rename = "final")]
    final_count: u64,
}

const THREADS: [usize; 2] = [1, 2];

fn scenario_name(technique: &str, threads: usize) -> String {
    let t = if threads == 1 { "thread" } else { "threads" };
    format!("{technique}, {threads} {t}")
}

/// Operations per thread: (everything but the channels, channel sends).
pub fn ops_for(quick: bool) -> (u64, u64) {
    if quick {
        (200_000, 50_000)
    } else {
        (2_000_000, 500_000)
    }
}

fn run(ctx: &mut BenchCtx<'_>) -> Result<BenchReport, DemoError> {
    let (ops, chan_ops) = ops_for(ctx.quick);
    let runs = ctx.runs();
    let mut report = BenchReport::new("counters", "ns/op", "Go");

    // Go first, so the baseline exists before the Rust rows.
    let (ops_arg, chan_arg, runs_arg) = (ops.to_string(), chan_ops.to_string(), runs.to_string());
    let go: Option<GoReport> = ctx.run_go(
        &mut report,
        "cmd/bench-counters",
        &["-ops", &ops_arg, "-chan-ops", &chan_arg, "-runs", &runs_arg],
    )?;

    for threads in THREADS {
        for technique in SCENARIOS {
            let scenario = scenario_name(technique, threads);
            let n = if technique == SCENARIOS[4] {
                chan_ops
            } else {
                ops
            };
            match &go {
                Some(rep) => {
                    let r = rep
                        .results
                        .iter()
                        .find(|r| r.technique == technique && r.threads == threads)
                        .ok_or_else(|| {
                            DemoError::Broken(format!("the Go program reported no {scenario}"))
                        })?;
                    // Go's counters accumulate over its runs.
                    let expected =
                        writes_per_thread(technique, n) * threads as u64 * r.ns_per_op.len() as u64;
                    if r.final_count != expected {
                        return Err(DemoError::Claim(format!(
                            "Go {scenario}: final count {} but {expected} increments were made",
                            r.final_count
                        )));
                    }
                    report.push(&scenario, "Go", Stats::of(&r.ns_per_op));
                }
                None => report.skip(&scenario, "Go", "skipped: go not found"),
            }
            for t in Technique::ALL
                .into_iter()
                .filter(|t| t.scenario() == technique)
            {
                ctx.step(&format!("{}: {scenario}", t.implementation()));
                let mut samples = Vec::with_capacity(runs);
                for _ in 0..runs {
                    let (ns, total) = measure_once(t, threads, n);
                    let expected = t.expected_final(threads, n);
                    if total != expected {
                        return Err(DemoError::Claim(format!(
                            "{} lost updates: {total} of {expected} increments",
                            t.implementation(),
                        )));
                    }
                    samples.push(ns);
                }
                report.push(&scenario, t.implementation(), Stats::of(&samples));
            }
        }
    }
    if let Some(rep) = &go {
        report.notes.push(format!(
            "Go {} with GOMAXPROCS = number of CPUs",
            rep.go_version
        ));
    }
    if ctx.quick {
        report.notes.push(
            "--quick: each thread works for about a millisecond, so the 2-thread rows may barely overlap; run without --quick for contention".into(),
        );
    }
    report.notes.push(format!(
        "{ops} operations per thread ({chan_ops} sends in the channel scenario), median of {runs} runs; ratio = median / Go's median in the same scenario"
    ));
    report.notes.push(format!(
        "RWMutex read-heavy: operation i writes (+1 under the write lock) when i % {WRITE_EVERY} == 0, else reads under the read lock"
    ));
    report.notes.push(format!(
        "channel-owned counter: N sender threads plus 1 owner thread (goroutine in Go), channel capacity {CHANNEL_CAP}; ns per increment until the owner has them all"
    ));
    report.notes.push(
        "GoMutex/GoRwMutex are the lab's ports of Go's algorithms (crates/gosync/src/mutex.rs, rwmutex.rs), protecting a load-then-store counter".into(),
    );
    report.compute_ratios();
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_technique_loses_updates() {
        for t in Technique::ALL {
            let (ns, total) = measure_once(t, 2, 10_000);
            assert_eq!(total, t.expected_final(2, 10_000), "{t:?}");
            assert!(ns.is_finite() && ns > 0.0, "{t:?}: {ns}");
        }
    }

    /// The counterexample for the bench's own check: a counter bumped with a load and a store but
    /// no lock falls short, and `expected_final` is what exposes it.
    #[test]
    fn an_unlocked_load_then_store_fails_the_final_count_check() {
        let n = AtomicU64::new(0);
        let per_thread = 500;
        timed(4, per_thread, |_| {
            let v = n.load(Ordering::Relaxed);
            std::thread::yield_now();
            n.store(v + 1, Ordering::Relaxed);
        });
        assert!(n.into_inner() < Technique::GoMutexPort.expected_final(4, per_thread));
    }

    #[test]
    fn every_technique_has_a_scenario_and_every_scenario_a_technique() {
        for sc in SCENARIOS {
            assert!(Technique::ALL.iter().any(|t| t.scenario() == sc), "{sc}");
        }
        let names: std::collections::HashSet<_> =
            Technique::ALL.iter().map(|t| t.implementation()).collect();
        assert_eq!(names.len(), Technique::ALL.len());
    }

    #[test]
    fn read_heavy_writes_one_in_ten() {
        assert_eq!(writes_per_thread("RWMutex read-heavy", 10), 1);
        assert_eq!(writes_per_thread("RWMutex read-heavy", 11), 2);
        assert_eq!(writes_per_thread("mutex", 11), 11);
        assert_eq!(Technique::StdRwLock.expected_final(2, 100), 20);
    }

    #[test]
    fn cas_reports_a_retry_when_another_writer_got_in_first() {
        let c = AtomicU64::new(0);
        assert_eq!(cas_increment_counting(&c), 0);
        assert_eq!(c.load(Ordering::Relaxed), 1);
        // A lost race, replayed by hand: the value we read is stale, so the exchange must fail.
        assert!(
            c.compare_exchange(0, 1, Ordering::AcqRel, Ordering::Relaxed)
                .is_err()
        );
    }

    #[test]
    fn scenario_names_read_well() {
        assert_eq!(scenario_name("mutex", 1), "mutex, 1 thread");
        assert_eq!(scenario_name("CAS loop", 2), "CAS loop, 2 threads");
    }
}
