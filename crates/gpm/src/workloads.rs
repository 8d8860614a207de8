//! The runs the demos, the tests and the pages share, each a function returning what it saw.
//!
//! - [`watch_run`] / [`watch`]: go-13, a small traced run on 2 Ps that shows every queue at work.
//! - [`m_to_n`] and [`blocking_syscalls`]: go-46, many Gs on few Ms, and syscalls adding Ms.
//! - [`cpu_bound`]: go-14, the same CPU-bound work on 1 and on 2 Ps.
//! - [`spawn_tree`]: go-47, the same spawn-heavy workload under GPM and GM.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::report::Report;
use crate::sched::{Config, run};
use crate::task::{Step, Task, TaskCtx};
use crate::trace::{EventKind, Source};

/// A safety net for the waits below (they wait for flags other tasks set, never for time).
pub const GIVE_UP: Duration = Duration::from_secs(5);

/// Tiny tasks the watched run spawns.
pub const WATCH_TASKS: usize = 150;
/// Times the watched run's yielder calls Gosched.
pub const WATCH_YIELDS: usize = 3;

/// go-13's small run: on 2 Ps, a root G spawns [`WATCH_TASKS`] tiny Gs, then a G that will call
/// Gosched a few times. They all land on P0, the last one in `runnext`, so it runs first. The Gosched G first
/// spins until some G ran on P1, so P1, woken to look for work, finds the global queue empty and
/// steals half of P0's local queue; the first G P1 runs holds P1 until the yielder has called
/// Gosched. The yielder then waits on the global queue while both Ps still have over 61 local Gs,
/// so the first P to reach schedule tick 61 takes it through the fairness check.
pub fn watch_run() -> Report {
    let elsewhere = Arc::new(AtomicBool::new(false));
    let yielded = Arc::new(AtomicBool::new(false));
    let root = Task::once(move |cx| {
        for _ in 0..WATCH_TASKS {
            let flag = Arc::clone(&elsewhere);
            let yielded = Arc::clone(&yielded);
            let mut started: Option<Instant> = None;
            cx.spawn(move |cx: &mut TaskCtx<'_>| {
                if cx.p() != Some(0) {
                    flag.store(true, Ordering::SeqCst);
                    // Hold P1 until the yielder is on the global queue, so that both Ps still
                    // have local work when it gets there.
                    let t = *started.get_or_insert_with(Instant::now);
                    if !yielded.load(Ordering::SeqCst) && t.elapsed() < GIVE_UP {
                        return Step::Continue;
                    }
                }
                std::hint::black_box(busy(2_000));
                Step::Done
            });
        }
        let mut yields = 0;
        let seen = Arc::clone(&elsewhere);
        let mut started: Option<Instant> = None;
        cx.spawn(move |_cx: &mut TaskCtx<'_>| {
            let t = *started.get_or_insert_with(Instant::now);
            if !seen.load(Ordering::SeqCst) && t.elapsed() < GIVE_UP {
                return Step::Continue;
            }
            if yields < WATCH_YIELDS {
                yields += 1;
                yielded.store(true, Ordering::SeqCst);
                Step::Yield
            } else {
                Step::Done
            }
        });
    });
    run(Config::new(2).traced(), vec![root])
}

/// The trace of [`watch_run`] as text: a summary, then one line per event.
pub fn watch() -> String {
    let r = watch_run();
    let mut out = summary(&r);
    out.push('\n');
    out.push_str(&r.trace_text());
    out
}

/// Counts of each mechanism in one paragraph.
pub fn summary(r: &Report) -> String {
    let s = &r.stats;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} Gs on {} Ps, {} Ms, in {:.2} ms",
        s.tasks,
        r.procs,
        s.ms_created,
        r.elapsed.as_secs_f64() * 1e3
    );
    let _ = writeln!(
        out,
        "runs from runnext {}, local queue {}, global (tick check) {}, global (local empty) {}, stolen {}",
        s.runs_runnext, s.runs_local, s.runs_fairness, s.runs_global, s.runs_stolen
    );
    let _ = writeln!(
        out,
        "steals {} ({} Gs), spills {}, yields {}, preemptions {}, syscalls {}, hand-offs {}",
        s.steals, s.stolen, s.spills, s.yields, s.preemptions, s.syscalls, s.handoffs
    );
    let _ = writeln!(
        out,
        "sched.lock taken {} times ({} contended); P-local queue locks {} ({} contended)",
        s.global_lock.acquisitions,
        s.global_lock.contended,
        s.local_locks.acquisitions,
        s.local_locks.contended
    );
    out
}

/// What go-13's demo asserts about a run: which of the scheduler's paths were taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Paths {
    pub runnext: bool,
    pub local: bool,
    pub steal: bool,
    pub fairness_hit: bool,
}

impl Paths {
    /// Reads the paths off a trace.
    pub fn of(r: &Report) -> Paths {
        let mut p = Paths::default();
        for e in &r.events {
            match &e.kind {
                EventKind::Run {
                    from: Source::Runnext,
                } => p.runnext = true,
                EventKind::Run {
                    from: Source::Local,
                } => p.local = true,
                EventKind::Steal { gs, .. } if !gs.is_empty() => p.steal = true,
                EventKind::GlobalCheck { found: Some(_), .. } => p.fairness_hit = true,
                _ => {}
            }
        }
        p
    }

    pub fn all(&self) -> bool {
        self.runnext && self.local && self.steal && self.fairness_hit
    }
}

/// go-13's hand-off, on one P: G1 spawns G2, then blocks in a syscall that returns only once G2
/// has run. With one P, G2 can run only if the monitor takes the P from G1's blocked M and gives
/// it to another M. Returns the traced run and whether G2 ran while G1 was blocked.
pub fn handoff() -> (Report, bool) {
    let other_ran = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&other_ran);
    let mut phase = 0;
    let root = Task::new(move |cx| {
        phase += 1;
        if phase > 1 {
            return Step::Done;
        }
        let f2 = Arc::clone(&flag);
        cx.spawn(move |_cx: &mut TaskCtx<'_>| {
            f2.store(true, Ordering::SeqCst);
            Step::Done
        });
        let f3 = Arc::clone(&flag);
        Step::syscall(move || {
            let t = Instant::now();
            while !f3.load(Ordering::SeqCst) && t.elapsed() < GIVE_UP {
                std::thread::sleep(Duration::from_micros(50));
            }
        })
    });
    let r = run(Config::new(1).traced(), vec![root]);
    (r, other_ran.load(Ordering::SeqCst))
}

/// go-13's preemption, on one P: G1 spins (one step after another, never yielding) until G2 has
/// run; G1 spawned G2 onto the same P. G2 can run only if the monitor preempts G1. Returns the
/// traced run and whether G2 ran before G1 gave up.
pub fn preemption() -> (Report, bool) {
    let other_ran = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&other_ran);
    let mut started: Option<Instant> = None;
    let hog = Task::new(move |cx| {
        if started.is_none() {
            let f = Arc::clone(&flag);
            cx.spawn(move |_cx: &mut TaskCtx<'_>| {
                f.store(true, Ordering::SeqCst);
                Step::Done
            });
        }
        let t = *started.get_or_insert_with(Instant::now);
        if flag.load(Ordering::SeqCst) || t.elapsed() > GIVE_UP {
            Step::Done
        } else {
            std::hint::black_box(busy(1_000));
            Step::Continue
        }
    });
    let r = run(Config::new(1).traced(), vec![hog]);
    (r, other_ran.load(Ordering::SeqCst))
}

/// A fixed amount of CPU work (a multiply-add chain the optimiser cannot drop).
pub fn busy(n: u64) -> u64 {
    let mut x = 1u64;
    for k in 0..n {
        x = std::hint::black_box(x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(k));
    }
    x
}

/// What go-46's M:N run saw.
#[derive(Debug, Clone)]
pub struct MToN {
    pub tasks: usize,
    pub procs: usize,
    /// Distinct OS threads the tasks themselves saw (`thread::current().id()`).
    pub threads: usize,
    pub report: Report,
}

/// go-46: `tasks` tiny Gs on `procs` Ps. Each G records the OS thread it ran on.
pub fn m_to_n(tasks: usize, procs: usize) -> MToN {
    let seen: Arc<Mutex<HashSet<ThreadId>>> = Arc::default();
    let s2 = Arc::clone(&seen);
    let root = Task::once(move |cx| {
        for _ in 0..tasks.saturating_sub(1) {
            let s = Arc::clone(&s2);
            cx.spawn(move |_cx: &mut TaskCtx<'_>| {
                s.lock().insert(std::thread::current().id());
                std::hint::black_box(busy(500));
                Step::Done
            });
        }
    });
    let report = run(Config::new(procs), vec![root]);
    let threads = seen.lock().len();
    MToN {
        tasks,
        procs,
        threads,
        report,
    }
}

/// What go-46's syscall run saw.
#[derive(Debug, Clone)]
pub struct Blocking {
    pub blockers: usize,
    pub procs: usize,
    /// The most Gs inside their syscalls at the same time.
    pub max_in_syscall: usize,
    /// Whether every blocker saw all of them inside at once (false only if the safety net fired).
    pub all_met: bool,
    pub threads: usize,
    pub report: Report,
}

/// go-46: `blockers` Gs each block in a syscall that returns only once all of them are inside
/// their syscalls at the same time. With fewer Ps than blockers that needs one M per blocker: the
/// scheduler must hand the Ps off and start new Ms.
pub fn blocking_syscalls(blockers: usize, procs: usize) -> Blocking {
    let inside = Arc::new(AtomicUsize::new(0));
    let max_inside = Arc::new(AtomicUsize::new(0));
    let missed = Arc::new(AtomicBool::new(false));
    let seen: Arc<Mutex<HashSet<ThreadId>>> = Arc::default();
    let (i2, m2, x2, s2) = (
        Arc::clone(&inside),
        Arc::clone(&max_inside),
        Arc::clone(&missed),
        Arc::clone(&seen),
    );
    let root = Task::once(move |cx| {
        for _ in 0..blockers {
            let (inside, max_inside, missed, seen) = (
                Arc::clone(&i2),
                Arc::clone(&m2),
                Arc::clone(&x2),
                Arc::clone(&s2),
            );
            let mut called = false;
            cx.spawn(move |_cx: &mut TaskCtx<'_>| {
                seen.lock().insert(std::thread::current().id());
                if called {
                    return Step::Done;
                }
                called = true;
                let (inside, max_inside, missed) = (
                    Arc::clone(&inside),
                    Arc::clone(&max_inside),
                    Arc::clone(&missed),
                );
                Step::syscall(move || {
                    let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                    max_inside.fetch_max(now, Ordering::SeqCst);
                    let t = Instant::now();
                    while max_inside.load(Ordering::SeqCst) < blockers {
                        if t.elapsed() > GIVE_UP {
                            missed.store(true, Ordering::SeqCst);
                            break;
                        }
                        std::thread::sleep(Duration::from_micros(100));
                    }
                    inside.fetch_sub(1, Ordering::SeqCst);
                })
            });
        }
    });
    let report = run(Config::new(procs), vec![root]);
    let threads = seen.lock().len();
    Blocking {
        blockers,
        procs,
        max_in_syscall: max_inside.load(Ordering::SeqCst),
        all_met: !missed.load(Ordering::SeqCst),
        threads,
        report,
    }
}

/// Steps of [`busy`] work each go-14 task does, and the size of a step.
pub const CPU_STEPS: usize = 400;
pub const CPU_STEP_WORK: u64 = 20_000;

/// go-14: two Gs each doing the same CPU-bound work ([`CPU_STEPS`] steps of [`busy`]) on `procs`
/// Ps, traced.
pub fn cpu_bound(procs: usize) -> Report {
    let root = Task::once(|cx| {
        for _ in 0..2 {
            let mut left = CPU_STEPS;
            cx.spawn(move |_cx: &mut TaskCtx<'_>| {
                std::hint::black_box(busy(CPU_STEP_WORK));
                left -= 1;
                if left == 0 {
                    Step::Done
                } else {
                    Step::Continue
                }
            });
        }
    });
    run(Config::new(procs).traced(), vec![root])
}

/// go-47's workload: a binary tree of spawns `depth` levels deep (2^(depth+1) − 1 Gs), each G
/// doing `work` of [`busy`] before spawning its two children. Many tiny Gs creating Gs: the case
/// where the scheduler's own cost shows.
pub fn spawn_tree(depth: u32, work: u64) -> Task {
    Task::once(move |cx| spawn_children(cx, depth, work))
}

fn spawn_children(cx: &mut TaskCtx<'_>, depth: u32, work: u64) {
    std::hint::black_box(busy(work));
    if depth == 0 {
        return;
    }
    for _ in 0..2 {
        cx.spawn_task(Task::once(move |cx| spawn_children(cx, depth - 1, work)));
    }
}

/// Spawn cost: a root G spawns `n` Gs on `procs` Ps, the i-th calls `f(i)` and returns; the run
/// ends when all have finished (the join). For spawn-cost rows next to goroutines, threads, tokio
/// and rayon (`lab bench pool`), and for `benches/spawn.rs`.
pub fn spawn_and_join(procs: usize, n: usize, f: impl Fn(usize) + Send + Sync + 'static) -> Report {
    let f = Arc::new(f);
    let root = Task::once(move |cx| {
        for i in 0..n {
            let f = Arc::clone(&f);
            cx.spawn_task(Task::once(move |_cx| f(i)));
        }
    });
    run(Config::new(procs), vec![root])
}

/// Gs in a [`spawn_tree`] of `depth`.
pub fn tree_size(depth: u32) -> u64 {
    (1u64 << (depth + 1)) - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tree_of_depth_2_has_7_gs() {
        assert_eq!(tree_size(2), 7);
        let r = run(Config::new(2), vec![spawn_tree(2, 10)]);
        assert_eq!(r.finished.len(), 7);
        let g = crate::gm::run(2, false, vec![spawn_tree(2, 10)]);
        assert_eq!(g.finished.len(), 7);
    }

    #[test]
    fn spawn_and_join_runs_each_once() {
        let seen: Arc<Vec<AtomicUsize>> = Arc::new((0..100).map(|_| AtomicUsize::new(0)).collect());
        let s2 = Arc::clone(&seen);
        let r = spawn_and_join(2, 100, move |i| {
            s2[i].fetch_add(1, Ordering::SeqCst);
        });
        assert_eq!(r.stats.tasks, 101);
        assert!(seen.iter().all(|c| c.load(Ordering::SeqCst) == 1));
    }

    #[test]
    fn paths_need_all_four() {
        let mut p = Paths {
            runnext: true,
            local: true,
            steal: true,
            fairness_hit: true,
        };
        assert!(p.all());
        p.steal = false;
        assert!(!p.all(), "a run without a steal does not show stealing");
    }
}
