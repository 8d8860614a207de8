//! What a run of either scheduler reports: counters of every mechanism, per-G records, the trace.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use parking_lot::{Mutex, MutexGuard};

use crate::trace::Event;

/// A mutex that counts how often it was taken and how often the taker had to wait: the numbers
/// go-47 is about ("the global scheduler lock was the bottleneck").
#[derive(Debug, Default)]
pub struct CountedMutex<T> {
    inner: Mutex<T>,
    acquisitions: AtomicU64,
    contended: AtomicU64,
}

impl<T> CountedMutex<T> {
    pub fn new(v: T) -> Self {
        CountedMutex {
            inner: Mutex::new(v),
            acquisitions: AtomicU64::new(0),
            contended: AtomicU64::new(0),
        }
    }

    /// Takes the lock; an acquisition that found it held counts as contended.
    pub fn lock(&self) -> MutexGuard<'_, T> {
        self.acquisitions.fetch_add(1, Ordering::Relaxed);
        match self.inner.try_lock() {
            Some(g) => g,
            None => {
                self.contended.fetch_add(1, Ordering::Relaxed);
                self.inner.lock()
            }
        }
    }

    pub fn stats(&self) -> LockStats {
        LockStats {
            acquisitions: self.acquisitions.load(Ordering::Relaxed),
            contended: self.contended.load(Ordering::Relaxed),
        }
    }
}

/// How a lock was used.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct LockStats {
    pub acquisitions: u64,
    /// Acquisitions that found the lock held and had to wait.
    pub contended: u64,
}

/// Counters of one run. Each is the number of times the mechanism it names happened.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    /// Gs created (roots included).
    pub tasks: u64,
    /// Calls of task steps.
    pub steps: u64,
    pub runs_runnext: u64,
    pub runs_local: u64,
    pub runs_global: u64,
    pub runs_fairness: u64,
    pub runs_stolen: u64,
    /// Successful steals, and the Gs they moved.
    pub steals: u64,
    pub stolen: u64,
    /// Every-61st-tick looks at the global queue (taken only when it was not empty).
    pub global_checks: u64,
    /// Batches moved from the global queue to an empty local queue.
    pub global_gets: u64,
    /// Global-lock acquisitions made to put Gs on, or take Gs off, the global run queue (the rest
    /// of `global_lock` is parking and waking idle Ps and Ms).
    pub runq_locked: u64,
    /// Local queue overflows moved to the global queue.
    pub spills: u64,
    pub yields: u64,
    pub preempt_requests: u64,
    pub preemptions: u64,
    pub syscalls: u64,
    pub syscall_fast_exits: u64,
    pub handoffs: u64,
    pub panics: u64,
    /// OS threads started as Ms.
    pub ms_created: u64,
    /// The most Gs running at the same moment (each on its own M, holding a P).
    pub max_running: u64,
    /// The scheduler-wide lock (`sched.lock`; in GM, the lock of the one run queue).
    pub global_lock: LockStats,
    /// The per-P run queue locks summed (Go's are lock-free rings; see the crate docs).
    pub local_locks: LockStats,
}

/// One finished G.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GRecord {
    pub id: u64,
    pub parent: Option<u64>,
    /// Steps it took.
    pub steps: u64,
    /// Ps it ran on, in order of its runs (consecutive repeats removed).
    pub ps: Vec<usize>,
    /// Ms it ran on, in order (consecutive repeats removed).
    pub ms: Vec<usize>,
    pub panicked: bool,
}

/// The outcome of one run.
#[derive(Debug, Clone)]
pub struct Report {
    pub procs: usize,
    pub elapsed: Duration,
    pub stats: Stats,
    /// One record per finished G, in the order they finished.
    pub finished: Vec<GRecord>,
    /// Every event, when the run was traced.
    pub events: Vec<Event>,
}

impl Report {
    /// The trace rendered one line per event (empty when the run was not traced).
    pub fn trace_text(&self) -> String {
        crate::trace::render(&self.events)
    }

    /// Global-lock acquisitions per G: the mechanism of go-47 in one number.
    pub fn global_lock_per_task(&self) -> f64 {
        self.stats.global_lock.acquisitions as f64 / self.stats.tasks.max(1) as f64
    }

    /// Global-lock acquisitions that queued or dequeued Gs, per G.
    pub fn runq_locks_per_task(&self) -> f64 {
        self.stats.runq_locked as f64 / self.stats.tasks.max(1) as f64
    }

    /// Gs finished per second of wall time.
    pub fn tasks_per_sec(&self) -> f64 {
        self.stats.tasks as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Relaxed counters the Ms bump while running; turned into [`Stats`] at the end.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub tasks: AtomicU64,
    pub steps: AtomicU64,
    pub runs_runnext: AtomicU64,
    pub runs_local: AtomicU64,
    pub runs_global: AtomicU64,
    pub runs_fairness: AtomicU64,
    pub runs_stolen: AtomicU64,
    pub steals: AtomicU64,
    pub stolen: AtomicU64,
    pub global_checks: AtomicU64,
    pub global_gets: AtomicU64,
    pub runq_locked: AtomicU64,
    pub spills: AtomicU64,
    pub yields: AtomicU64,
    pub preempt_requests: AtomicU64,
    pub preemptions: AtomicU64,
    pub syscalls: AtomicU64,
    pub syscall_fast_exits: AtomicU64,
    pub handoffs: AtomicU64,
    pub panics: AtomicU64,
    pub ms_created: AtomicU64,
    pub running: AtomicUsize,
    pub max_running: AtomicUsize,
}

pub(crate) fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

impl Counters {
    pub fn start_running(&self) {
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_running.fetch_max(now, Ordering::SeqCst);
    }

    pub fn stop_running(&self) {
        self.running.fetch_sub(1, Ordering::SeqCst);
    }

    pub fn snapshot(&self, global_lock: LockStats, local_locks: LockStats) -> Stats {
        let l = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Stats {
            tasks: l(&self.tasks),
            steps: l(&self.steps),
            runs_runnext: l(&self.runs_runnext),
            runs_local: l(&self.runs_local),
            runs_global: l(&self.runs_global),
            runs_fairness: l(&self.runs_fairness),
            runs_stolen: l(&self.runs_stolen),
            steals: l(&self.steals),
            stolen: l(&self.stolen),
            global_checks: l(&self.global_checks),
            global_gets: l(&self.global_gets),
            runq_locked: l(&self.runq_locked),
            spills: l(&self.spills),
            yields: l(&self.yields),
            preempt_requests: l(&self.preempt_requests),
            preemptions: l(&self.preemptions),
            syscalls: l(&self.syscalls),
            syscall_fast_exits: l(&self.syscall_fast_exits),
            handoffs: l(&self.handoffs),
            panics: l(&self.panics),
            ms_created: l(&self.ms_created),
            max_running: self.max_running.load(Ordering::SeqCst) as u64,
            global_lock,
            local_locks,
        }
    }
}
