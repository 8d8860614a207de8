//! Go 1.0's scheduler: G and M only, one global run queue behind one lock, no P.
//!
//! go-47 (「为何GPM调度要有P」) asks why Go 1.1 added P. This module is the "before": every M
//! takes `sched.lock` to get its next G, and every `go` statement takes it again to queue the new
//! one. With several Ms that one lock is the meeting point of all scheduling, and it is contended.
//!
//! ```text
//!      M0 ──┐         ┌───────────── sched.lock ─────────────┐
//!      M1 ──┼── lock ─►  global run queue  G G G G G G G ...  │  every get, every put
//!      M2 ──┘         └──────────────────────────────────────┘
//! ```
//!
//! Dmitry Vyukov's design note "Scalable Go Scheduler Design" (2012) listed the problems: the
//! single global mutex, G hand-offs between Ms that hurt locality, per-M memory caches (mcache)
//! that every M had even while blocked in a syscall, and threads blocking and unblocking. P fixes
//! the first by giving each processor its own run queue; a new G lands in the spawner's own queue
//! (and in `runnext`, so it runs next on the same cache); the global lock is needed only for the
//! global queue, idle lists and the rare 1-in-61 fairness check.
//!
//! # How the real system differs
//! Go 1.0 also had no preemption at all, and it started extra Ms when others blocked in syscalls
//! (up to `GOMAXPROCS` running Go code). Here an M blocked in a syscall simply blocks, and there
//! is no preemption either: a G runs until it yields, blocks or returns.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::thread;
use std::time::Instant;

use parking_lot::{Condvar, Mutex};

use crate::report::{CountedMutex, Counters, GRecord, LockStats, Report, bump};
use crate::task::{Body, Step, Task, TaskCtx};
use crate::trace::{Event, EventKind, Source};

struct G {
    id: u64,
    parent: Option<u64>,
    body: Body,
    steps: u64,
    ms: Vec<usize>,
}

struct Queue {
    runq: VecDeque<G>,
    /// Ms asleep on `wake`, waiting for a G.
    sleeping: usize,
    done: bool,
}

struct Shared {
    start: Instant,
    sched: CountedMutex<Queue>,
    wake: Condvar,
    live: AtomicUsize,
    next_g: AtomicU64,
    counters: Counters,
    trace: Option<Mutex<Vec<Event>>>,
    finished: Mutex<Vec<GRecord>>,
}

/// Runs `roots` and everything they spawn on `threads` Ms sharing one locked run queue.
pub fn run(threads: usize, trace: bool, roots: Vec<Task>) -> Report {
    let threads = threads.max(1);
    let sh = Arc::new(Shared {
        start: Instant::now(),
        sched: CountedMutex::new(Queue {
            runq: VecDeque::new(),
            sleeping: 0,
            done: roots.is_empty(),
        }),
        wake: Condvar::new(),
        live: AtomicUsize::new(roots.len()),
        next_g: AtomicU64::new(1),
        counters: Counters::default(),
        trace: trace.then(|| Mutex::new(Vec::new())),
        finished: Mutex::new(Vec::new()),
    });
    {
        let mut q = sh.sched.lock();
        for t in roots {
            let g = sh.new_g(t, None);
            q.runq.push_back(g);
        }
    }
    let handles: Vec<_> = (0..threads)
        .map(|m| {
            let sh = Arc::clone(&sh);
            bump(&sh.counters.ms_created);
            thread::Builder::new()
                .name(format!("gm-m{m}"))
                .spawn(move || sh.m_main(m))
                .expect("spawn an M thread")
        })
        .collect();
    for h in handles {
        let _ = h.join();
    }
    let stats = sh.counters.snapshot(sh.sched.stats(), LockStats::default());
    Report {
        procs: threads,
        elapsed: sh.start.elapsed(),
        stats,
        finished: std::mem::take(&mut *sh.finished.lock()),
        events: sh
            .trace
            .as_ref()
            .map(|t| std::mem::take(&mut *t.lock()))
            .unwrap_or_default(),
    }
}

impl Shared {
    fn new_g(&self, t: Task, parent: Option<u64>) -> G {
        bump(&self.counters.tasks);
        G {
            id: self.next_g.fetch_add(1, Ordering::Relaxed),
            parent,
            body: t.body,
            steps: 0,
            ms: Vec::new(),
        }
    }

    fn ev(&self, m: usize, g: Option<u64>, kind: EventKind) {
        if let Some(t) = &self.trace {
            let at = self.start.elapsed();
            t.lock().push(Event {
                at,
                p: None,
                m: Some(m),
                g,
                kind,
            });
        }
    }

    /// Queues a G on the one run queue: one lock acquisition per G (Go 1.0's `newprocreadylocked`).
    fn put(&self, g: G) {
        let mut q = self.sched.lock();
        bump(&self.counters.runq_locked);
        q.runq.push_back(g);
        if q.sleeping > 0 {
            self.wake.notify_one();
        }
    }

    /// Takes the next G: one lock acquisition per schedule. `None` when everything finished.
    fn get(&self) -> Option<G> {
        let mut q = self.sched.lock();
        bump(&self.counters.runq_locked);
        loop {
            if let Some(g) = q.runq.pop_front() {
                return Some(g);
            }
            if q.done {
                return None;
            }
            q.sleeping += 1;
            self.wake.wait(&mut q);
            q.sleeping -= 1;
        }
    }

    fn m_main(self: Arc<Self>, m: usize) {
        while let Some(mut g) = self.get() {
            bump(&self.counters.runs_global);
            if g.ms.last() != Some(&m) {
                g.ms.push(m);
            }
            self.counters.start_running();
            self.ev(
                m,
                Some(g.id),
                EventKind::Run {
                    from: Source::GmQueue,
                },
            );
            loop {
                let mut spawned = Vec::new();
                let step = {
                    let mut cx = TaskCtx {
                        g: g.id,
                        p: None,
                        m,
                        spawned: &mut spawned,
                    };
                    catch_unwind(AssertUnwindSafe(|| (g.body)(&mut cx)))
                };
                g.steps += 1;
                bump(&self.counters.steps);
                for t in spawned {
                    self.live.fetch_add(1, Ordering::SeqCst);
                    let child = self.new_g(t, Some(g.id));
                    self.ev(
                        m,
                        Some(g.id),
                        EventKind::Spawn {
                            child: child.id,
                            kicked: None,
                        },
                    );
                    self.put(child);
                }
                match step {
                    Ok(Step::Continue) => continue,
                    Ok(Step::Syscall(f)) => {
                        bump(&self.counters.syscalls);
                        self.counters.stop_running();
                        let _ = catch_unwind(AssertUnwindSafe(f));
                        self.counters.start_running();
                    }
                    Ok(Step::Yield) => {
                        self.counters.stop_running();
                        bump(&self.counters.yields);
                        self.ev(m, Some(g.id), EventKind::Yield);
                        self.put(g);
                        break;
                    }
                    Ok(Step::Done) | Err(_) => {
                        let panicked = step.is_err();
                        self.counters.stop_running();
                        if panicked {
                            bump(&self.counters.panics);
                        }
                        self.ev(
                            m,
                            Some(g.id),
                            if panicked {
                                EventKind::Panicked
                            } else {
                                EventKind::Done
                            },
                        );
                        self.finished.lock().push(GRecord {
                            id: g.id,
                            parent: g.parent,
                            steps: g.steps,
                            ps: Vec::new(),
                            ms: g.ms,
                            panicked,
                        });
                        if self.live.fetch_sub(1, Ordering::SeqCst) == 1 {
                            self.sched.lock().done = true;
                            self.wake.notify_all();
                        }
                        break;
                    }
                }
            }
        }
    }
}
