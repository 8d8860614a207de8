//! The demos of go-13 (how GPM schedules), go-14 (concurrency vs parallelism), go-46 (goroutines
//! and kernel threads) and go-47 (why P), registered in [`crate::topic`]. The Go side is
//! `go/cmd/go13-sched`, which makes the same observations on Go's real scheduler.

use std::time::Duration;

use catalog::{Ctx, Demo, DemoError, Need, check, check_eq};

use crate::report::Report;
use crate::sched::{Config, run};
use crate::trace::{self, EventKind};
use crate::workloads::{self, Paths};

/// The Go program every Go demo here runs.
pub const GO_PROGRAM: &str = "cmd/go13-sched";
/// Watched runs before go-13's demo gives up on seeing every path.
pub const ATTEMPTS: usize = 3;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn say_lines(ctx: &Ctx<'_>, text: &str) {
    for l in text.lines() {
        ctx.say(l);
    }
}

/// The first event of a kind, rendered, for the excerpt a demo prints.
fn first_line(r: &Report, pick: impl Fn(&EventKind) -> bool) -> Option<String> {
    let e = r.events.iter().find(|e| pick(&e.kind))?;
    trace::render(std::slice::from_ref(e))
        .lines()
        .nth(1)
        .map(str::to_string)
}

// ───────────────────────────── go-13 ─────────────────────────────

pub const WATCH: Demo = Demo {
    name: "go-13/watch-a-small-run",
    claim: "On 2 Ps, a G that spawns 150 Gs fills its own P's queue (the newest in runnext); the idle \
            P steals half of it; a G that called Gosched waits on the global queue and is picked up \
            by the every-61st-tick check; every G runs exactly once",
    needs: Need::Nothing,
    run: watch,
};

fn watch(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let mut last = Paths::default();
    for attempt in 1..=ATTEMPTS {
        let r = workloads::watch_run();
        let paths = Paths::of(&r);
        ctx.say(format!("attempt {attempt}:"));
        say_lines(ctx, &workloads::summary(&r));
        check_eq!(
            r.finished.len() as u64,
            r.stats.tasks,
            "Gs finished vs Gs created"
        );
        if paths.all() {
            ctx.say("the start of the trace:");
            let text = r.trace_text();
            for l in text.lines().take(8) {
                ctx.say(l);
            }
            ctx.say("…and the first of each path:");
            for pick in [
                (|k: &EventKind| {
                    matches!(
                        k,
                        EventKind::Run {
                            from: trace::Source::Runnext
                        }
                    )
                }) as fn(&EventKind) -> bool,
                |k| matches!(k, EventKind::Steal { .. }),
                |k| matches!(k, EventKind::Yield),
                |k| matches!(k, EventKind::GlobalCheck { found: Some(_), .. }),
                |k| matches!(k, EventKind::GlobalGet { .. }),
            ] {
                if let Some(l) = first_line(&r, pick) {
                    ctx.say(l);
                }
            }
            ctx.say(format!(
                "(the full trace has {} lines: gpm::watch() returns it)",
                r.events.len()
            ));
            return Ok(());
        }
        ctx.say(format!("not every path showed: {paths:?}"));
        last = paths;
    }
    check!(
        false,
        "in {ATTEMPTS} runs some scheduler path never showed (last: {last:?})"
    );
    Ok(())
}

pub const HANDOFF: Demo = Demo {
    name: "go-13/a-syscall-hands-the-p-to-another-m",
    claim: "With one P, a G blocked in a syscall does not keep the P: the monitor hands it to \
            another M, and a second G runs on that P while the first is still blocked",
    needs: Need::Nothing,
    run: handoff,
};

fn handoff(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let (r, other_ran) = workloads::handoff();
    say_lines(ctx, &r.trace_text());
    check!(
        other_ran,
        "G2 never ran while G1 was in its syscall (the P stayed with the blocked M)"
    );
    check!(r.stats.handoffs >= 1, "no hand-off happened: {:?}", r.stats);
    let ms_of = |id| r.finished.iter().find(|g| g.id == id).map(|g| g.ms.clone());
    let (g1, g2) = (ms_of(1), ms_of(2));
    ctx.say(format!("G1 ran on Ms {g1:?}, G2 on Ms {g2:?}"));
    check!(
        g1.as_ref().and_then(|m| m.first()) != g2.as_ref().and_then(|m| m.first()),
        "G2 ran on G1's M: {g1:?} {g2:?}"
    );
    Ok(())
}

pub const PREEMPT: Demo = Demo {
    name: "go-13/a-long-g-is-preempted-after-10ms",
    claim: "With one P, a G that never yields is preempted by the monitor once it has run 10 ms \
            (at its next yield point), and the G queued behind it runs",
    needs: Need::Nothing,
    run: preempt,
};

fn preempt(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let (r, other_ran) = workloads::preemption();
    say_lines(ctx, &r.trace_text());
    check!(other_ran, "G2 never ran: the hog kept the P for 5 s");
    check!(
        r.stats.preemptions >= 1,
        "no preemption recorded: {:?}",
        r.stats
    );
    let when = r
        .events
        .iter()
        .find(|e| e.kind == EventKind::Preempted)
        .map(|e| e.at);
    ctx.say(format!(
        "G1 was preempted at {:.1} ms (time slice 10 ms)",
        when.map_or(0.0, ms)
    ));
    check_eq!(trace::runs_on(&r.events, 0), vec![1, 2, 1], "P0's timeline");
    Ok(())
}

/// What `go/cmd/go13-sched` prints.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct GoReport {
    pub go_version: String,
    pub num_cpu: u32,
    pub gomaxprocs: u32,
    pub m_to_n: GoMToN,
    pub syscalls: GoSyscalls,
    pub running: Vec<GoRunning>,
    pub schedtrace: GoSchedtrace,
}

#[derive(Debug, Clone, Copy, serde::Deserialize)]
pub struct GoMToN {
    pub goroutines: u32,
    pub threads: i32,
}

#[derive(Debug, Clone, Copy, serde::Deserialize)]
pub struct GoSyscalls {
    pub blockers: u32,
    pub threads_before: i32,
    pub threads_during: i32,
    pub all_blocked: bool,
}

#[derive(Debug, Clone, Copy, serde::Deserialize)]
pub struct GoRunning {
    pub gomaxprocs: u32,
    pub workers: u32,
    pub max_running: u64,
    pub elapsed_ms: f64,
}

#[derive(Debug, Clone, Copy, serde::Deserialize)]
pub struct GoSchedtrace {
    pub lines: u32,
    pub gomaxprocs: u32,
    pub local_queues: u32,
    pub max_local: u32,
    pub max_global: u32,
    pub max_threads: u32,
}

fn run_go(ctx: &Ctx<'_>) -> Result<GoReport, DemoError> {
    let go = ctx.go()?;
    let r: GoReport = go.run_json(GO_PROGRAM, &[])?;
    ctx.say(format!(
        "{} ({}), {} CPUs, GOMAXPROCS {}",
        r.go_version, go.version, r.num_cpu, r.gomaxprocs
    ));
    Ok(r)
}

pub const GO_SCHEDTRACE: Demo = Demo {
    name: "go-13/go-schedtrace-shows-a-queue-per-p",
    claim: "Go's GODEBUG=schedtrace output for GOMAXPROCS=2 lists one global run queue and exactly \
            2 local run queues, one per P, and they hold goroutines while the program is busy",
    needs: Need::Go,
    run: go_schedtrace,
};

/// Whether a schedtrace shows one local queue per P (and was read at all).
pub fn one_queue_per_p(t: &GoSchedtrace) -> bool {
    t.lines > 0 && t.gomaxprocs > 0 && t.local_queues == t.gomaxprocs
}

fn go_schedtrace(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let r = run_go(ctx)?;
    let t = r.schedtrace;
    ctx.say(format!(
        "schedtrace: {} lines, gomaxprocs={}, {} local queues (longest {}), global runqueue up to {}, \
         threads up to {}",
        t.lines, t.gomaxprocs, t.local_queues, t.max_local, t.max_global, t.max_threads
    ));
    check!(one_queue_per_p(&t), "expected one local queue per P: {t:?}");
    check_eq!(t.gomaxprocs, 2, "GOMAXPROCS the child ran with");
    check!(
        t.max_local + t.max_global > 0,
        "the run queues never held a goroutine: {t:?}"
    );
    Ok(())
}

// ───────────────────────────── go-46 ─────────────────────────────

/// Whether `tasks` ran M:N: on no more OS threads than Ps, and on fewer threads than tasks.
pub fn is_m_to_n(tasks: usize, threads: usize, procs: usize) -> bool {
    threads >= 1 && threads <= procs && tasks > threads
}

/// Whether blocking syscalls made the scheduler start an M per blocked G, beyond the Ps.
pub fn syscalls_added_ms(blockers: usize, procs: usize, threads: usize) -> bool {
    threads >= blockers && threads > procs
}

pub const M_TO_N: Demo = Demo {
    name: "go-46/many-gs-on-few-threads",
    claim: "1000 Gs on 2 Ps run on at most 2 OS threads (M:N), and never more than 2 at once",
    needs: Need::Nothing,
    run: m_to_n,
};

fn m_to_n(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let m = workloads::m_to_n(1000, 2);
    ctx.say(format!(
        "{} Gs ran on {} distinct OS threads ({} Ms started), at most {} at once, {:.2} ms",
        m.tasks,
        m.threads,
        m.report.stats.ms_created,
        m.report.stats.max_running,
        ms(m.report.elapsed)
    ));
    check_eq!(m.report.finished.len(), m.tasks, "Gs finished");
    check!(
        is_m_to_n(m.tasks, m.threads, m.procs),
        "{} Gs on {} threads with {} Ps is not M:N",
        m.tasks,
        m.threads,
        m.procs
    );
    check!(
        m.report.stats.max_running <= m.procs as u64,
        "{} Gs ran at once on {} Ps",
        m.report.stats.max_running,
        m.procs
    );
    Ok(())
}

pub const SYSCALL_ADDS_M: Demo = Demo {
    name: "go-46/blocking-syscalls-add-threads",
    claim: "6 Gs that block in syscalls at the same time on 2 Ps need 6 OS threads: each blocked G \
            keeps its M, the Ps are handed to new Ms, and still at most 2 Gs run Go code at once",
    needs: Need::Nothing,
    run: syscall_adds_m,
};

fn syscall_adds_m(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let b = workloads::blocking_syscalls(6, 2);
    ctx.say(format!(
        "{} Gs blocked in syscalls together (most at once: {}); they ran on {} OS threads; \
         {} Ms started, {} hand-offs, at most {} Gs running at once",
        b.blockers,
        b.max_in_syscall,
        b.threads,
        b.report.stats.ms_created,
        b.report.stats.handoffs,
        b.report.stats.max_running
    ));
    check!(
        b.all_met,
        "the {} blockers were never all inside their syscalls at once",
        b.blockers
    );
    check!(
        syscalls_added_ms(b.blockers, b.procs, b.threads),
        "{} blockers on {} Ps ran on only {} threads",
        b.blockers,
        b.procs,
        b.threads
    );
    check!(b.report.stats.handoffs >= 1, "no P was handed off");
    check!(
        b.report.stats.max_running <= b.procs as u64,
        "{} running at once on {} Ps",
        b.report.stats.max_running,
        b.procs
    );
    Ok(())
}

/// Whether Go's thread count shows M:N: far more goroutines than threads.
pub fn go_is_m_to_n(m: &GoMToN) -> bool {
    m.threads > 0 && m.goroutines >= 10 * m.threads as u32
}

/// Whether Go's thread count grew by an M per goroutine blocked in read(2).
pub fn go_threads_grew(s: &GoSyscalls) -> bool {
    s.all_blocked && s.threads_during > s.threads_before && s.threads_during > s.blockers as i32
}

pub const GO_M_TO_N: Demo = Demo {
    name: "go-46/go-runs-10000-goroutines-on-a-few-threads",
    claim: "Go keeps 10,000 parked goroutines on a handful of OS threads, and 6 goroutines blocked \
            in raw read(2) calls raise the thread count above 6",
    needs: Need::Go,
    run: go_m_to_n,
};

fn go_m_to_n(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let r = run_go(ctx)?;
    ctx.say(format!(
        "{} goroutines alive on {} OS threads",
        r.m_to_n.goroutines, r.m_to_n.threads
    ));
    let s = r.syscalls;
    ctx.say(format!(
        "{} goroutines in read(2): threads {} before, {} during",
        s.blockers, s.threads_before, s.threads_during
    ));
    check!(go_is_m_to_n(&r.m_to_n), "not M:N: {:?}", r.m_to_n);
    check!(
        go_threads_grew(&s),
        "blocking syscalls did not add threads: {s:?}"
    );
    Ok(())
}

// ───────────────────────────── go-14 ─────────────────────────────

/// Whether a 1-P run interleaved the two Gs (P0 switched between them at least twice) without
/// ever running two at once.
pub fn interleaved_not_parallel(max_running: u64, switches: usize) -> bool {
    max_running == 1 && switches >= 2
}

/// Whether the run had `procs` Gs running at the same moment.
pub fn ran_in_parallel(max_running: u64, procs: usize) -> bool {
    procs >= 2 && max_running == procs as u64
}

/// What the wall times of the same work on 1 and 2 Ps say.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Speedup {
    /// 2 Ps finished at least 1.5× sooner: the Gs ran on two CPUs.
    Parallel(f64),
    /// Less than 1.5×: another process probably held a CPU. Not a verdict on the claim.
    Inconclusive(f64),
}

pub fn speedup(one_p: Duration, two_p: Duration) -> Speedup {
    let r = one_p.as_secs_f64() / two_p.as_secs_f64().max(1e-9);
    if r >= 1.5 {
        Speedup::Parallel(r)
    } else {
        Speedup::Inconclusive(r)
    }
}

pub const CONCURRENCY: Demo = Demo {
    name: "go-14/one-p-interleaves-two-ps-overlap",
    claim: "The same two CPU-bound Gs on 1 P take turns (preempted every 10 ms; never 2 running at \
            once: concurrency), and on 2 Ps run at the same time (2 running at once: parallelism)",
    needs: Need::Nothing,
    run: concurrency,
};

fn concurrency(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let one = workloads::cpu_bound(1);
    let tl = trace::runs_on(&one.events, 0);
    ctx.say(format!(
        "1 P: {:.1} ms, at most {} G running at once, P0 ran {:?} ({} switches, {} preemptions)",
        ms(one.elapsed),
        one.stats.max_running,
        tl,
        trace::switches(&tl),
        one.stats.preemptions
    ));
    check!(
        interleaved_not_parallel(one.stats.max_running, trace::switches(&tl)),
        "1 P should interleave without overlap: max running {}, timeline {tl:?}",
        one.stats.max_running
    );
    let two = workloads::cpu_bound(2);
    ctx.say(format!(
        "2 Ps: {:.1} ms, at most {} Gs running at once; P0 ran {:?}, P1 ran {:?}",
        ms(two.elapsed),
        two.stats.max_running,
        trace::runs_on(&two.events, 0),
        trace::runs_on(&two.events, 1)
    ));
    check!(
        ran_in_parallel(two.stats.max_running, 2),
        "2 Ps never had 2 Gs running at once: {:?}",
        two.stats
    );
    match speedup(one.elapsed, two.elapsed) {
        Speedup::Parallel(r) => ctx.say(format!("2 Ps finished {r:.2}× sooner: two CPUs worked")),
        Speedup::Inconclusive(r) => ctx.say(format!(
            "2 Ps finished only {r:.2}× sooner: another process was probably using a CPU \
             (timing inconclusive; the overlap above is the claim)"
        )),
    }
    Ok(())
}

pub const GO_PARALLELISM: Demo = Demo {
    name: "go-14/go-gomaxprocs-bounds-parallelism",
    claim: "In Go, with GOMAXPROCS=1 at most 1 goroutine is in the running state at any moment, \
            with GOMAXPROCS=2 two are (runtime/metrics /sched/goroutines/running)",
    needs: Need::Go,
    run: go_parallelism,
};

/// Whether Go's sampled running counts match GOMAXPROCS: never above it, and reaching it.
pub fn go_running_bounded(runs: &[GoRunning]) -> bool {
    !runs.is_empty()
        && runs
            .iter()
            .all(|r| r.max_running >= 1 && r.max_running == u64::from(r.gomaxprocs))
}

fn go_parallelism(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let r = run_go(ctx)?;
    for run in &r.running {
        ctx.say(format!(
            "GOMAXPROCS={}: {} CPU-bound goroutines, at most {} running at once, {:.1} ms",
            run.gomaxprocs, run.workers, run.max_running, run.elapsed_ms
        ));
    }
    check_eq!(r.running.len(), 2, "runs (GOMAXPROCS 1 and 2)");
    check!(
        go_running_bounded(&r.running),
        "running goroutines did not match GOMAXPROCS: {:?}",
        r.running
    );
    let (one, two) = (r.running[0].elapsed_ms, r.running[1].elapsed_ms);
    ctx.say(format!(
        "the same work took {:.2}× less wall time with 2 Ps (reported, not asserted)",
        one / two.max(1e-9)
    ));
    Ok(())
}

// ───────────────────────────── go-47 ─────────────────────────────

/// Depth of go-47's spawn tree (8191 Gs) and the work each G does.
pub const TREE_DEPTH: u32 = 12;
pub const TREE_WORK: u64 = 100;

/// Whether P took the global lock off the hot path: GM takes it to queue or dequeue Gs at least
/// once per G (twice, really: to queue and to dequeue), GPM at least 10× less often. Only the
/// acquisitions that move Gs count: GPM also takes the lock to park and wake idle Ps, which
/// depends on timing and is reported, not judged.
pub fn p_relieves_the_global_lock(gpm_per_task: f64, gm_per_task: f64) -> bool {
    gm_per_task >= 1.0 && gpm_per_task * 10.0 <= gm_per_task
}

pub const WHY_P: Demo = Demo {
    name: "go-47/p-takes-the-global-lock-off-the-hot-path",
    claim: "On the same spawn-heavy workload (8191 tiny Gs) with 2 threads, Go 1.0's GM design takes \
            the global scheduler lock twice per G to queue and dequeue it; GPM, with a run queue \
            per P, takes it to move Gs at least 10× less often (its other acquisitions, parking and \
            waking idle Ps, are reported)",
    needs: Need::Nothing,
    run: why_p,
};

fn why_p(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let tasks = workloads::tree_size(TREE_DEPTH);
    let gpm = run(
        Config::new(2),
        vec![workloads::spawn_tree(TREE_DEPTH, TREE_WORK)],
    );
    let gm = crate::gm::run(2, false, vec![workloads::spawn_tree(TREE_DEPTH, TREE_WORK)]);
    for (name, r) in [("GPM (2 Ps)", &gpm), ("GM (2 Ms, no P)", &gm)] {
        ctx.say(format!(
            "{name:<16} {:>6} Gs, global lock {:>6}× ({:.3} per G; to move Gs {:.3} per G; {} \
             contended), P-local locks {:>6}×, {:.1} ms, {:.0} Gs/ms",
            r.stats.tasks,
            r.stats.global_lock.acquisitions,
            r.global_lock_per_task(),
            r.runq_locks_per_task(),
            r.stats.global_lock.contended,
            r.stats.local_locks.acquisitions,
            ms(r.elapsed),
            r.tasks_per_sec() / 1e3
        ));
    }
    check_eq!(gpm.stats.tasks, tasks, "GPM Gs");
    check_eq!(gm.stats.tasks, tasks, "GM Gs");
    check_eq!(gpm.finished.len() as u64, tasks, "GPM Gs finished");
    check_eq!(gm.finished.len() as u64, tasks, "GM Gs finished");
    check!(
        p_relieves_the_global_lock(gpm.runq_locks_per_task(), gm.runq_locks_per_task()),
        "global lock taken to move Gs, per G: GPM {:.3}, GM {:.3}",
        gpm.runq_locks_per_task(),
        gm.runq_locks_per_task()
    );
    ctx.say(format!(
        "GPM ran {:.0}% of its Gs from runnext (the spawner's own P, cache-warm)",
        100.0 * gpm.stats.runs_runnext as f64 / tasks as f64
    ));
    Ok(())
}

/// Whether Go's numbers show Ps and Ms are different things: threads beyond GOMAXPROCS while
/// goroutines block, yet never more goroutines running than GOMAXPROCS.
pub fn go_ps_are_not_ms(gomaxprocs: u32, s: &GoSyscalls, runs: &[GoRunning]) -> bool {
    s.threads_during > gomaxprocs as i32 && go_running_bounded(runs)
}

pub const GO_WHY_P: Demo = Demo {
    name: "go-47/go-ps-are-not-threads",
    claim: "In Go the number of Ps (GOMAXPROCS) bounds the goroutines running Go code, not the \
            number of threads: goroutines blocked in syscalls hold more threads than there are Ps",
    needs: Need::Go,
    run: go_why_p,
};

fn go_why_p(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let r = run_go(ctx)?;
    ctx.say(format!(
        "GOMAXPROCS {} (Ps); OS threads while {} goroutines block in read(2): {}",
        r.gomaxprocs, r.syscalls.blockers, r.syscalls.threads_during
    ));
    for run in &r.running {
        ctx.say(format!(
            "GOMAXPROCS={}: at most {} goroutines running",
            run.gomaxprocs, run.max_running
        ));
    }
    check!(
        go_ps_are_not_ms(r.gomaxprocs, &r.syscalls, &r.running),
        "threads {} vs Ps {}, running {:?}",
        r.syscalls.threads_during,
        r.gomaxprocs,
        r.running
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn m_to_n_needs_fewer_threads_than_tasks_and_no_more_than_ps() {
        assert!(is_m_to_n(1000, 2, 2));
        assert!(!is_m_to_n(1000, 1000, 2), "a thread per task is 1:1");
        assert!(
            !is_m_to_n(1000, 3, 2),
            "more threads than Ps without syscalls"
        );
    }

    #[test]
    fn syscalls_must_add_threads_beyond_the_ps() {
        assert!(syscalls_added_ms(6, 2, 6));
        assert!(
            !syscalls_added_ms(6, 2, 2),
            "blockers stuck on the Ps' threads"
        );
    }

    #[test]
    fn interleaving_is_turns_without_overlap() {
        assert!(interleaved_not_parallel(1, 5));
        assert!(!interleaved_not_parallel(2, 5), "two at once is parallel");
        assert!(
            !interleaved_not_parallel(1, 1),
            "one after the other is not interleaving"
        );
        assert!(ran_in_parallel(2, 2));
        assert!(!ran_in_parallel(1, 2));
    }

    #[test]
    fn a_small_speedup_is_inconclusive_not_a_failure() {
        let ms = Duration::from_millis;
        assert_eq!(speedup(ms(80), ms(40)), Speedup::Parallel(2.0));
        assert!(matches!(speedup(ms(80), ms(70)), Speedup::Inconclusive(_)));
    }

    #[test]
    fn the_global_lock_must_drop_tenfold() {
        assert!(p_relieves_the_global_lock(0.03, 2.0));
        assert!(!p_relieves_the_global_lock(0.5, 2.0), "only 4× fewer");
        assert!(
            !p_relieves_the_global_lock(0.01, 0.5),
            "GM must take it per G"
        );
    }

    fn running(p: u32, max: u64) -> GoRunning {
        GoRunning {
            gomaxprocs: p,
            workers: 2,
            max_running: max,
            elapsed_ms: 1.0,
        }
    }

    #[test]
    fn go_running_must_match_gomaxprocs() {
        assert!(go_running_bounded(&[running(1, 1), running(2, 2)]));
        assert!(
            !go_running_bounded(&[running(1, 2), running(2, 2)]),
            "2 on 1 P"
        );
        assert!(!go_running_bounded(&[]));
    }

    #[test]
    fn go_facts_need_their_numbers() {
        let s = GoSyscalls {
            blockers: 6,
            threads_before: 4,
            threads_during: 9,
            all_blocked: true,
        };
        assert!(go_threads_grew(&s));
        assert!(!go_threads_grew(&GoSyscalls {
            threads_during: 4,
            ..s
        }));
        assert!(go_ps_are_not_ms(2, &s, &[running(1, 1), running(2, 2)]));
        assert!(!go_ps_are_not_ms(16, &s, &[running(1, 1)]));
        assert!(go_is_m_to_n(&GoMToN {
            goroutines: 10001,
            threads: 4
        }));
        assert!(!go_is_m_to_n(&GoMToN {
            goroutines: 10,
            threads: 10
        }));
        let t = GoSchedtrace {
            lines: 3,
            gomaxprocs: 2,
            local_queues: 2,
            max_local: 5,
            max_global: 0,
            max_threads: 3,
        };
        assert!(one_queue_per_p(&t));
        assert!(!one_queue_per_p(&GoSchedtrace {
            local_queues: 1,
            ..t
        }));
    }
}
