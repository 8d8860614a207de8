//! One shared counter, four ways to increment it: atomic add, a CAS retry loop, `std::sync::Mutex`
//! and `parking_lot::Mutex`, against Go's `atomic.AddInt64`, CAS loop and `sync.Mutex`.
//!
//! ```text
//!   thread 0 ─┐                      atomic add : one locked instruction (lock xadd on x86)
//!   thread 1 ─┼──► counter: u64  ◄── CAS loop   : load, compute, compare_exchange, retry on conflict
//!   …        ─┘                      mutex      : lock, +1, unlock (parks when contended)
//! ```
//!
//! Each measurement releases all threads together (a barrier), counts wall time per operation, and
//! checks the final count: a benchmark that lost updates would be measuring a bug.
//!
//! ## How the real system differs
//! Go runs goroutines on `GOMAXPROCS` OS threads; with 2 goroutines on 2 Ps they usually run in
//! parallel like our 2 threads, but the Go scheduler may also run them one after the other, which
//! removes contention. Compare medians in one run; the machine is shared and noisy.

use std::sync::Barrier;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use catalog::{BenchCtx, BenchReport, BenchSuite, DemoError, Stats};

/// `lab bench counters`.
pub const SUITE: BenchSuite = BenchSuite {
    name: "counters",
    about: "a shared counter: atomic add, CAS loop and mutexes, Rust and Go side by side (ns/op)",
    questions: &["go-02", "go-29"],
    run,
};

/// The ways to increment a shared counter that the suite compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Technique {
    AtomicAdd,
    CasLoop,
    StdMutex,
    ParkingLotMutex,
}

impl Technique {
    /// The scenario a technique belongs to (both mutexes compete with Go's `sync.Mutex`).
    pub fn scenario(self) -> &'static str {
        match self {
            Technique::AtomicAdd => "atomic add",
            Technique::CasLoop => "CAS loop",
            Technique::StdMutex | Technique::ParkingLotMutex => "mutex",
        }
    }

    pub fn implementation(self) -> &'static str {
        match self {
            Technique::AtomicAdd => "Rust AtomicU64::fetch_add",
            Technique::CasLoop => "Rust compare_exchange_weak loop",
            Technique::StdMutex => "Rust std::sync::Mutex",
            Technique::ParkingLotMutex => "parking_lot::Mutex",
        }
    }
}

/// Increments a counter `ops` times on each of `threads` threads; returns ns per increment and the
/// final count.
pub fn measure_once(technique: Technique, threads: usize, ops: u64) -> (f64, u64) {
    let atomic = AtomicU64::new(0);
    let std_mutex = std::sync::Mutex::new(0u64);
    let pl_mutex = parking_lot::Mutex::new(0u64);
    let barrier = Barrier::new(threads);
    // Each worker reads the clock itself after the barrier and when done; the run lasts from the
    // first start to the last finish. (Timing from the spawning thread would miss work that ran
    // before that thread was scheduled again.)
    let spans: Vec<(Instant, Instant)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    let start = Instant::now();
                    for _ in 0..ops {
                        match technique {
                            Technique::AtomicAdd => {
                                atomic.fetch_add(1, Ordering::Relaxed);
                            }
                            Technique::CasLoop => cas_increment(&atomic),
                            Technique::StdMutex => {
                                // A poisoned lock only means another increment panicked; keep counting.
                                *std_mutex.lock().unwrap_or_else(|e| e.into_inner()) += 1;
                            }
                            Technique::ParkingLotMutex => *pl_mutex.lock() += 1,
                        }
                    }
                    (start, Instant::now())
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let first = spans.iter().map(|s| s.0).min();
    let last = spans.iter().map(|s| s.1).max();
    let elapsed = match (first, last) {
        (Some(a), Some(b)) => b.duration_since(a),
        _ => std::time::Duration::ZERO,
    };
    let ns = elapsed.as_nanos() as f64 / (threads as u64 * ops).max(1) as f64;
    let total = match technique {
        Technique::AtomicAdd | Technique::CasLoop => atomic.load(Ordering::Relaxed),
        Technique::StdMutex => *std_mutex.lock().unwrap_or_else(|e| e.into_inner()),
        Technique::ParkingLotMutex => *pl_mutex.lock(),
    };
    (ns, total)
}

/// The compare-and-swap retry loop: read, compute, publish only if nobody else wrote in between.
/// Returns the number of retries (failed exchanges), which grows with contention.
pub fn cas_increment_counting(counter: &AtomicU64) -> u32 {
    let mut retries = 0;
    let mut current = counter.load(Ordering::Relaxed);
    loop {
        match counter.compare_exchange_weak(
            current,
            current + 1,
            Ordering::AcqRel,
            Ordering::Relaxed,
        ) {
            Ok(_) => return retries,
            Err(actual) => {
                current = actual;
                retries += 1;
            }
        }
    }
}

fn cas_increment(counter: &AtomicU64) {
    cas_increment_counting(counter);
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

fn run(ctx: &mut BenchCtx<'_>) -> Result<BenchReport, DemoError> {
    let ops: u64 = if ctx.quick { 200_000 } else { 2_000_000 };
    let runs = ctx.runs();
    let mut report = BenchReport::new("counters", "ns/op", "Go");

    // Go first, so the baseline exists before the Rust rows.
    let (ops_arg, runs_arg) = (ops.to_string(), runs.to_string());
    let go: Option<GoReport> = ctx.run_go(
        &mut report,
        "cmd/bench-counters",
        &["-ops", &ops_arg, "-runs", &runs_arg],
    )?;

    for threads in THREADS {
        for technique in ["atomic add", "CAS loop", "mutex"] {
            let scenario = scenario_name(technique, threads);
            match &go {
                Some(rep) => {
                    let r = rep
                        .results
                        .iter()
                        .find(|r| r.technique == technique && r.threads == threads)
                        .ok_or_else(|| {
                            DemoError::Broken(format!("the Go program reported no {scenario}"))
                        })?;
                    let expected = ops * threads as u64 * r.ns_per_op.len() as u64;
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
            for t in [
                Technique::AtomicAdd,
                Technique::CasLoop,
                Technique::StdMutex,
                Technique::ParkingLotMutex,
            ]
            .into_iter()
            .filter(|t| t.scenario() == technique)
            {
                ctx.step(&format!("{}: {scenario}", t.implementation()));
                let mut samples = Vec::with_capacity(runs);
                for _ in 0..runs {
                    let (ns, total) = measure_once(t, threads, ops);
                    if total != ops * threads as u64 {
                        return Err(DemoError::Claim(format!(
                            "{} lost updates: {total} of {} increments",
                            t.implementation(),
                            ops * threads as u64
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
        "{ops} increments per thread, median of {runs} runs; ratio = median / Go's median in the same scenario"
    ));
    report.compute_ratios();
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_technique_loses_updates() {
        for t in [
            Technique::AtomicAdd,
            Technique::CasLoop,
            Technique::StdMutex,
            Technique::ParkingLotMutex,
        ] {
            let (ns, total) = measure_once(t, 2, 10_000);
            assert_eq!(total, 20_000, "{t:?}");
            assert!(ns.is_finite() && ns > 0.0);
        }
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
