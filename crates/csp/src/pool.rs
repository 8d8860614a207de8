//! A worker pool in CSP style: jobs in over a bounded channel, N workers, results out.
//!
//! Answers go-19 (「怎么限制Goroutine的数量」) with Go's most common answer: do not start a
//! goroutine per job, start N workers that take jobs from a channel. The channel's capacity is the
//! backpressure: when it is full, `submit` blocks (or `try_submit` says `Full`), so a fast producer
//! cannot queue unbounded work.
//!
//! ```text
//!   submit ─► [ job | job | · | · ]  bounded(queue_cap)  ─┬─► worker-0 ─┐
//!             full ⇒ submit blocks                        ├─► worker-1 ─┼─► results (Outcome{id, Ok|Panicked})
//!                                                         └─► worker-N ─┘
//!   shutdown: drop the job sender ⇒ workers drain what is queued, see "closed", exit; join them
//! ```
//!
//! **Invariants.** At most `workers` jobs run at once, whatever is submitted. Every accepted job
//! produces exactly one [`Outcome`], also a job that panics: the worker catches the panic, reports
//! it as [`JobPanicked`] and takes the next job, so the pool never loses a worker.
//! [`Pool::live_workers`] counts workers whose loop is running (a guard decrements it however the
//! loop ends); the workers are also entries of the [`Tasks`] registry the pool was built with.
//!
//! # API (stable; the pool benchmark uses it)
//! ```
//! let mut pool = csp::Pool::new(4, 64);           // 4 workers, room for 64 queued jobs
//! for i in 0..10u64 {
//!     pool.submit(move || i * i).unwrap();        // blocks while the queue is full
//! }
//! pool.shutdown();                                // drains the queue, joins the workers
//! let sum: u64 = pool.results().try_iter().map(|o| o.result.unwrap()).sum();
//! assert_eq!(sum, 285);
//! assert_eq!(pool.live_workers(), 0);
//! ```
//!
//! # How the real system differs
//! - A Go worker pool is goroutines on a channel; each hand-off of a job may park and wake a
//!   goroutine in user space. Here workers are OS threads and a blocked worker sleeps in the
//!   kernel (crossbeam parks it after a short spin).
//! - A panic in a Go goroutine kills the whole process unless that goroutine recovers; Go pools
//!   must `defer recover()` in the worker to get this pool's behaviour.
//! - Each job is a boxed closure (one allocation per job); a Go `chan func()` also allocates when
//!   the closure escapes.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender, TrySendError, bounded, unbounded};

use crate::tasks::{self, Tasks};

/// A unit of work for the pool.
pub type Job<T> = Box<dyn FnOnce() -> T + Send + 'static>;

/// What one job came to.
#[derive(Debug)]
pub struct Outcome<T> {
    /// The id `submit` returned for it.
    pub id: u64,
    pub result: Result<T, JobPanicked>,
}

/// A job panicked; the worker that ran it is still running.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("job {id} panicked: {message}")]
pub struct JobPanicked {
    pub id: u64,
    pub message: String,
}

/// Why a job was not accepted; hands the job back.
#[derive(thiserror::Error)]
pub enum SubmitError<T> {
    /// `try_submit` only: the queue is full (backpressure).
    #[error("the job queue is full")]
    Full(Job<T>),
    /// The pool was shut down.
    #[error("the pool is shut down")]
    Closed(Job<T>),
}

impl<T> std::fmt::Debug for SubmitError<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SubmitError::Full(_) => "Full(..)",
            SubmitError::Closed(_) => "Closed(..)",
        })
    }
}

/// A fixed set of worker threads fed through a bounded queue.
pub struct Pool<T> {
    /// `None` once shut down: dropping the only sender is what tells the workers to finish.
    jobs: Option<Sender<(u64, Job<T>)>>,
    results: Receiver<Outcome<T>>,
    workers: Vec<JoinHandle<()>>,
    live: Arc<AtomicUsize>,
    next_id: AtomicU64,
    panicked: Arc<AtomicU64>,
}

/// Where a worker puts an outcome: on the results channel, or (a detached pool) nowhere, counting
/// panics only.
enum Sink<T> {
    Results(Sender<Outcome<T>>),
    Discard,
}

impl<T> std::fmt::Debug for Pool<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("workers", &self.workers.len())
            .field("live", &self.live.load(Ordering::Relaxed))
            .field("open", &self.jobs.is_some())
            .field("panicked", &self.panicked.load(Ordering::Relaxed))
            .finish()
    }
}

/// Decrements the live-worker count however the worker loop ends.
struct LiveGuard(Arc<AtomicUsize>);

impl Drop for LiveGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The text of a caught panic.
pub fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic".into())
}

impl<T: Send + 'static> Pool<T> {
    /// `workers` threads (at least 1) in the [`tasks::global`] registry, and room for
    /// `queue_cap` waiting jobs (0 makes every `submit` wait for a free worker, like an
    /// unbuffered Go channel).
    pub fn new(workers: usize, queue_cap: usize) -> Self {
        Pool::with_tasks(tasks::global(), workers, queue_cap)
    }

    /// Like [`Pool::new`], with the workers registered in `tasks`.
    pub fn with_tasks(tasks: &Tasks, workers: usize, queue_cap: usize) -> Self {
        let (results_tx, results) = unbounded();
        Pool::start(
            tasks,
            workers,
            queue_cap,
            Sink::Results(results_tx),
            results,
        )
    }

    /// A pool for jobs whose results nobody reads (Go's `go func() { ... }()` fed from a
    /// channel): outcomes are dropped instead of sent, so [`Pool::results`] never yields
    /// anything; a panicking job is still caught and counted in [`Pool::panicked`].
    pub fn detached(tasks: &Tasks, workers: usize, queue_cap: usize) -> Self {
        let (_, results) = unbounded();
        Pool::start(tasks, workers, queue_cap, Sink::Discard, results)
    }

    fn start(
        tasks: &Tasks,
        workers: usize,
        queue_cap: usize,
        sink: Sink<T>,
        results: Receiver<Outcome<T>>,
    ) -> Self {
        let (jobs, queue) = bounded::<(u64, Job<T>)>(queue_cap);
        let live = Arc::new(AtomicUsize::new(0));
        let panicked = Arc::new(AtomicU64::new(0));
        let handles = (0..workers.max(1))
            .map(|i| {
                let queue = queue.clone();
                let sink = match &sink {
                    Sink::Results(tx) => Sink::Results(tx.clone()),
                    Sink::Discard => Sink::Discard,
                };
                let panicked = Arc::clone(&panicked);
                live.fetch_add(1, Ordering::SeqCst);
                let guard = LiveGuard(Arc::clone(&live));
                tasks.spawn(format!("pool-worker-{i}"), move || {
                    let _guard = guard;
                    for (id, job) in queue.iter() {
                        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job))
                            .map_err(|p| {
                                panicked.fetch_add(1, Ordering::Relaxed);
                                JobPanicked {
                                    id,
                                    message: panic_message(&*p),
                                }
                            });
                        if let Sink::Results(tx) = &sink {
                            // Nobody reading results is not the worker's problem.
                            let _ = tx.send(Outcome { id, result });
                        }
                    }
                })
            })
            .collect();
        Pool {
            jobs: Some(jobs),
            results,
            workers: handles,
            live,
            next_id: AtomicU64::new(0),
            panicked,
        }
    }

    fn job<F: FnOnce() -> T + Send + 'static>(&self, f: F) -> (u64, Job<T>) {
        (self.next_id.fetch_add(1, Ordering::Relaxed), Box::new(f))
    }

    /// Queues a job, waiting while the queue is full. Returns the job's id.
    pub fn submit<F: FnOnce() -> T + Send + 'static>(&self, f: F) -> Result<u64, SubmitError<T>> {
        let (id, job) = self.job(f);
        let Some(jobs) = &self.jobs else {
            return Err(SubmitError::Closed(job));
        };
        jobs.send((id, job))
            .map(|()| id)
            .map_err(|e| SubmitError::Closed(e.into_inner().1))
    }

    /// Queues a job if there is room now; `Full` is the backpressure signal.
    pub fn try_submit<F: FnOnce() -> T + Send + 'static>(
        &self,
        f: F,
    ) -> Result<u64, SubmitError<T>> {
        let (id, job) = self.job(f);
        let Some(jobs) = &self.jobs else {
            return Err(SubmitError::Closed(job));
        };
        jobs.try_send((id, job)).map(|()| id).map_err(|e| match e {
            TrySendError::Full((_, j)) => SubmitError::Full(j),
            TrySendError::Disconnected((_, j)) => SubmitError::Closed(j),
        })
    }

    /// Where outcomes arrive, in completion order. Stays readable after [`Pool::shutdown`].
    pub fn results(&self) -> &Receiver<Outcome<T>> {
        &self.results
    }

    /// Jobs that panicked so far (each also reported as an [`Outcome`] unless the pool is
    /// [`Pool::detached`]).
    pub fn panicked(&self) -> u64 {
        self.panicked.load(Ordering::Relaxed)
    }

    /// Workers whose loop is running.
    pub fn live_workers(&self) -> usize {
        self.live.load(Ordering::SeqCst)
    }

    /// Jobs accepted but not yet taken by a worker.
    pub fn queued(&self) -> usize {
        self.jobs.as_ref().map_or(0, Sender::len)
    }

    /// Graceful shutdown: accepts nothing more, lets the workers run every queued job, joins
    /// them. Idempotent. Outcomes of every accepted job are in [`Pool::results`] afterwards.
    pub fn shutdown(&mut self) {
        self.jobs = None;
        for w in self.workers.drain(..) {
            // A worker cannot panic (jobs' panics are caught), so join only fails on abort.
            let _ = w.join();
        }
    }
}

impl<T> Drop for Pool<T> {
    fn drop(&mut self) {
        self.jobs = None;
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_detached_pool_runs_every_job_and_counts_panics() {
        let tasks = Tasks::new();
        let ran = Arc::new(AtomicU64::new(0));
        let mut pool = Pool::detached(&tasks, 2, 4);
        for i in 0..40u64 {
            let ran = Arc::clone(&ran);
            pool.submit(move || {
                ran.fetch_add(1, Ordering::SeqCst);
                if i % 10 == 0 {
                    std::panic::resume_unwind(Box::new("job fails"));
                }
            })
            .unwrap();
        }
        pool.shutdown();
        assert_eq!(ran.load(Ordering::SeqCst), 40);
        assert_eq!(pool.panicked(), 4);
        assert_eq!(pool.results().try_iter().count(), 0);
        assert_eq!(pool.live_workers(), 0);
        assert_eq!(tasks.live(), 0);
    }

    #[test]
    fn every_job_gives_one_outcome_and_panics_are_reported() {
        let tasks = Tasks::new();
        let mut pool = Pool::with_tasks(&tasks, 3, 4);
        for i in 0..50u64 {
            pool.submit(move || {
                if i % 10 == 0 {
                    panic!("job {i} fails");
                }
                i
            })
            .unwrap();
        }
        pool.shutdown();
        let outcomes: Vec<Outcome<u64>> = pool.results().try_iter().collect();
        assert_eq!(outcomes.len(), 50);
        let panicked = outcomes.iter().filter(|o| o.result.is_err()).count();
        assert_eq!(panicked, 5);
        assert_eq!(pool.live_workers(), 0);
        assert_eq!(tasks.live(), 0);
    }

    #[test]
    fn a_full_queue_pushes_back() {
        let tasks = Tasks::new();
        let (open, gate) = crossbeam_channel::bounded::<()>(0);
        let mut pool = Pool::with_tasks(&tasks, 1, 1);
        let g = gate.clone();
        let (started_tx, started) = crossbeam_channel::bounded(1);
        pool.submit(move || {
            started_tx.send(()).unwrap();
            let _ = g.recv();
        })
        .unwrap();
        started.recv().unwrap(); // the worker is busy
        pool.try_submit(|| ()).unwrap(); // fills the one slot
        assert!(matches!(pool.try_submit(|| ()), Err(SubmitError::Full(_))));
        drop(open);
        pool.shutdown();
        assert_eq!(pool.results().len(), 2);
        assert!(matches!(pool.submit(|| ()), Err(SubmitError::Closed(_))));
        assert!(tasks.wait_until(Duration::from_secs(5), |n| n == 0));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(16))]
        #[test]
        fn no_job_is_lost_or_duplicated(workers in 1usize..5, cap in 0usize..4, n in 0u64..60) {
            let mut pool = Pool::with_tasks(&Tasks::new(), workers, cap);
            for i in 0..n {
                pool.submit(move || i).unwrap();
            }
            pool.shutdown();
            let mut ids: Vec<u64> = pool.results().try_iter().map(|o| o.result.unwrap()).collect();
            ids.sort_unstable();
            proptest::prop_assert_eq!(ids, (0..n).collect::<Vec<_>>());
        }
    }
}
