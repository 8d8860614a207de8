//! The per-job overhead of a worker pool: the same jobs through the pools a Rust user would pick,
//! next to Go's channel-fed goroutine pool (`go/cmd/bench-pool`).
//!
//! ```text
//!   Go / crossbeam shape:    submitter ──► bounded channel (1024) ──► N workers ──► per-worker XOR
//!   threadpool crate:        execute(job) ──► its own unbounded channel ──► N threads
//!   rayon:                   scope.spawn(job) per job (work-stealing deques), or par_iter (split in ranges)
//!   tokio:                   tokio::spawn per job, or N tasks sharing one bounded mpsc receiver
//! ```
//!
//! Every run hands back its [`Seen`] table and, for heavy jobs, the XOR of the results, which
//! [`crate::work::verdict`] checks: a pool that dropped or repeated a job fails the suite.
//!
//! The project's own pool is [`PoolImpl::Csp`] (`csp::Pool::detached`: boxed jobs over a bounded
//! crossbeam channel and a panic-catching worker loop; per-job outcomes are not collected, as in
//! Go's pool here).
//!
//! ## How the real system differs
//! A Go pool's workers are goroutines: when the channel is empty a worker parks in user space and
//! the submitter's send makes it runnable on the same P without a system call. The Rust pools park
//! OS threads on futexes (crossbeam and threadpool spin briefly first), so a worker that runs dry
//! costs a system call to wake. rayon and tokio spread jobs over per-thread deques and steal,
//! which is closer to Go's scheduler than to a Go pool.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use crate::work::{Seen, spin};

/// The pools `lab bench pool` compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolImpl {
    /// N std threads fed by a `crossbeam_channel::bounded` channel: the Go pool's shape.
    Crossbeam,
    /// The `threadpool` crate: `execute` per job.
    ThreadpoolCrate,
    /// rayon: one `scope.spawn` per job.
    RayonSpawn,
    /// rayon: `into_par_iter().for_each` over the job indices (a batch, not a queue).
    RayonParIter,
    /// tokio: one `tokio::spawn` per job on a multi-thread runtime.
    TokioSpawn,
    /// tokio: N worker tasks sharing a bounded mpsc receiver behind a tokio Mutex.
    TokioWorkers,
    /// PLACEHOLDER: this project's pool, `csp::Pool` (another helper is writing crate `csp`).
    /// Not measured yet; the suite prints a skipped row. To wire it: add `csp` to this crate's
    /// dependencies and run the jobs through `csp::Pool::new(workers, queue_cap)`, `submit`,
    /// `shutdown` in [`run`].
    Csp,
}

impl PoolImpl {
    /// The measured pools, in report order.
    pub const ALL: [PoolImpl; 7] = [
        PoolImpl::Csp,
        PoolImpl::Crossbeam,
        PoolImpl::ThreadpoolCrate,
        PoolImpl::RayonSpawn,
        PoolImpl::RayonParIter,
        PoolImpl::TokioSpawn,
        PoolImpl::TokioWorkers,
    ];

    pub fn label(self) -> &'static str {
        match self {
            PoolImpl::Csp => "csp::Pool (this project)",
            PoolImpl::Crossbeam => "N threads + crossbeam bounded",
            PoolImpl::ThreadpoolCrate => "threadpool crate",
            PoolImpl::RayonSpawn => "rayon scope.spawn per job",
            PoolImpl::RayonParIter => "rayon par_iter (batch)",
            PoolImpl::TokioSpawn => "tokio::spawn per job",
            PoolImpl::TokioWorkers => "tokio N tasks + mpsc",
        }
    }
}

/// The runtimes the rayon and tokio rows share, built once per suite (as Go's runtime is).
#[derive(Debug)]
pub struct Runtimes {
    pub tokio: tokio::runtime::Runtime,
    pub rayon: rayon::ThreadPool,
    pub workers: usize,
}

impl Runtimes {
    pub fn new(workers: usize) -> Result<Runtimes, String> {
        Ok(Runtimes {
            tokio: crate::spawn::tokio_runtime(workers).map_err(|e| e.to_string())?,
            rayon: crate::spawn::rayon_pool(workers).map_err(|e| e.to_string())?,
            workers,
        })
    }
}

/// One run's outcome: ns per job, who ran, and the XOR of the heavy results (`None` for tiny jobs).
#[derive(Debug)]
pub struct PoolRun {
    pub ns_per_job: f64,
    pub seen: Arc<Seen>,
    pub checksum: Option<u64>,
}

/// Job `i`: mark it, and for heavy jobs (`iters > 0`) compute its result.
fn job(seen: &Seen, i: usize, iters: u32) -> u64 {
    seen.mark(i);
    if iters > 0 { spin(i as u64, iters) } else { 0 }
}

/// Runs jobs `0..jobs` through `imp` with `workers` workers (the rayon and tokio rows use the
/// runtimes' `rt.workers` threads). Always `Some` now that every pool is wired.
pub fn run(
    imp: PoolImpl,
    rt: &Runtimes,
    workers: usize,
    jobs: usize,
    iters: u32,
    queue_cap: usize,
) -> Option<PoolRun> {
    let seen = Arc::new(Seen::new(jobs));
    let acc = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    match imp {
        PoolImpl::Csp => {
            // A detached pool: nobody reads per-job outcomes (Go's pool in this suite returns none
            // either), so each job folds its result into the shared XOR, as the threadpool row does.
            // One shared handle per job (not two): each clone and drop is an atomic on a line
            // every worker touches, which would otherwise dominate a tiny job.
            let mut pool = csp::Pool::<()>::detached(&csp::Tasks::new(), workers, queue_cap);
            let shared = Arc::new((Arc::clone(&seen), Arc::clone(&acc)));
            for i in 0..jobs {
                let shared = Arc::clone(&shared);
                let accepted = pool.submit(move || {
                    let x = job(&shared.0, i, iters);
                    if iters > 0 {
                        shared.1.fetch_xor(x, Ordering::Relaxed);
                    }
                });
                if accepted.is_err() {
                    break; // the verdict reports the jobs that never ran
                }
            }
            pool.shutdown();
        }
        PoolImpl::Crossbeam => {
            let (tx, rx) = crossbeam_channel::bounded::<usize>(queue_cap);
            std::thread::scope(|s| {
                for _ in 0..workers {
                    let (rx, seen, acc) = (rx.clone(), &seen, &acc);
                    s.spawn(move || {
                        let x = rx.iter().fold(0, |x, i| x ^ job(seen, i, iters));
                        acc.fetch_xor(x, Ordering::Relaxed);
                    });
                }
                for i in 0..jobs {
                    let _ = tx.send(i); // fails only if every worker died: the verdict shows it
                }
                drop(tx);
            });
        }
        PoolImpl::ThreadpoolCrate => {
            let pool = threadpool::ThreadPool::new(workers);
            let shared = Arc::new((Arc::clone(&seen), Arc::clone(&acc)));
            for i in 0..jobs {
                let shared = Arc::clone(&shared);
                pool.execute(move || {
                    let x = job(&shared.0, i, iters);
                    if iters > 0 {
                        shared.1.fetch_xor(x, Ordering::Relaxed);
                    }
                });
            }
            pool.join();
        }
        PoolImpl::RayonSpawn => rt.rayon.scope(|s| {
            for i in 0..jobs {
                let (seen, acc) = (&seen, &acc);
                s.spawn(move |_| {
                    let x = job(seen, i, iters);
                    if iters > 0 {
                        acc.fetch_xor(x, Ordering::Relaxed);
                    }
                });
            }
        }),
        PoolImpl::RayonParIter => {
            use rayon::prelude::*;
            let x = rt.rayon.install(|| {
                (0..jobs)
                    .into_par_iter()
                    .map(|i| job(&seen, i, iters))
                    .reduce(|| 0, |a, b| a ^ b)
            });
            acc.store(x, Ordering::Relaxed);
        }
        PoolImpl::TokioSpawn => rt.tokio.block_on(async {
            let handles: Vec<_> = (0..jobs)
                .map(|i| {
                    let seen = Arc::clone(&seen);
                    tokio::spawn(async move { job(&seen, i, iters) })
                })
                .collect();
            let mut x = 0;
            for h in handles {
                x ^= h.await.unwrap_or(0);
            }
            acc.store(x, Ordering::Relaxed);
        }),
        PoolImpl::TokioWorkers => rt.tokio.block_on(async {
            let (tx, rx) = tokio::sync::mpsc::channel::<usize>(queue_cap.max(1));
            let rx = Arc::new(tokio::sync::Mutex::new(rx));
            let handles: Vec<_> = (0..workers)
                .map(|_| {
                    let (rx, seen) = (Arc::clone(&rx), Arc::clone(&seen));
                    tokio::spawn(async move {
                        let mut x = 0;
                        loop {
                            let next = rx.lock().await.recv().await;
                            match next {
                                Some(i) => x ^= job(&seen, i, iters),
                                None => return x,
                            }
                        }
                    })
                })
                .collect();
            for i in 0..jobs {
                let _ = tx.send(i).await;
            }
            drop(tx);
            let mut x = 0;
            for h in handles {
                x ^= h.await.unwrap_or(0);
            }
            acc.store(x, Ordering::Relaxed);
        }),
    }
    let ns_per_job = start.elapsed().as_nanos() as f64 / jobs.max(1) as f64;
    Some(PoolRun {
        ns_per_job,
        seen,
        checksum: (iters > 0).then(|| acc.load(Ordering::Relaxed)),
    })
}

/// Concurrency without parallelism: `workers` tokio tasks on a *current-thread* runtime (one OS
/// thread) take heavy jobs from a shared queue and yield after each, so they interleave on one
/// core, like goroutines under `GOMAXPROCS=1`. Returns ns per job, who ran, and the XOR.
pub fn interleaved_on_one_thread(
    workers: usize,
    jobs: usize,
    iters: u32,
) -> std::io::Result<PoolRun> {
    let rt = tokio::runtime::Builder::new_current_thread().build()?;
    let seen = Arc::new(Seen::new(jobs));
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let start = Instant::now();
    let x = rt.block_on(async {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                let (seen, next) = (Arc::clone(&seen), Arc::clone(&next));
                tokio::spawn(async move {
                    let mut x = 0;
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= jobs {
                            return x;
                        }
                        x ^= job(&seen, i, iters);
                        tokio::task::yield_now().await; // let the other worker have the thread
                    }
                })
            })
            .collect();
        let mut x = 0;
        for h in handles {
            x ^= h.await.unwrap_or(0);
        }
        x
    });
    Ok(PoolRun {
        ns_per_job: start.elapsed().as_nanos() as f64 / jobs.max(1) as f64,
        seen,
        checksum: Some(x),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::work::{checksum, verdict};

    #[test]
    fn every_pool_runs_every_job_once_with_the_right_result() {
        let rt = Runtimes::new(2).unwrap();
        for imp in PoolImpl::ALL {
            for (jobs, iters) in [(2_000, 0), (300, 50)] {
                let r = run(imp, &rt, 2, jobs, iters, 16).expect("every pool is wired");
                let expected = (iters > 0).then(|| checksum(jobs, iters));
                verdict(imp.label(), &r.seen, r.checksum, expected).unwrap();
                assert!(r.ns_per_job > 0.0);
            }
        }
    }

    #[test]
    fn two_tasks_on_one_thread_share_the_jobs() {
        let r = interleaved_on_one_thread(2, 100, 20).unwrap();
        verdict("interleaved", &r.seen, r.checksum, Some(checksum(100, 20))).unwrap();
    }

    #[test]
    fn labels_are_distinct() {
        let labels: std::collections::HashSet<_> =
            PoolImpl::ALL.iter().map(|p| p.label()).collect();
        assert_eq!(labels.len(), PoolImpl::ALL.len());
    }
}
