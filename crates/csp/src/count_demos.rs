//! The demos of go-17 (counting live tasks), go-26 (WaitGroup) and go-43 (leak detection),
//! registered in [`crate::topic`]. Go sides: `go/cmd/go17-numgoroutine`, `go/cmd/go26-waitgroup`,
//! `go/cmd/go43-goleak -part=detector`.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use catalog::{Ctx, Demo, DemoError, Need, check, check_eq};
use crossbeam_channel::bounded;

use crate::leaks;
use crate::tasks::Tasks;
use crate::waitgroup::{self, WaitGroup};

/// Tasks each count demo starts.
pub const N: usize = 10;
/// How long a leak check waits for stragglers before it reports them.
pub const GRACE: Duration = Duration::from_millis(100);
/// Safety net for waits that should end at once.
const SAFETY: Duration = Duration::from_secs(5);

/// One count story: live tasks before, while `n` tasks are parked, and after they ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
pub struct Counts {
    pub before: usize,
    pub during: usize,
    pub after: usize,
}

/// The go-17 claim: starting `n` tasks raises the count by exactly `n`, and it falls back to
/// the starting value when they end.
pub fn count_tracks_tasks(n: usize, c: Counts) -> Result<(), String> {
    if c.during != c.before + n {
        return Err(format!(
            "{} live before and {} during: expected +{n}",
            c.before, c.during
        ));
    }
    if c.after != c.before {
        return Err(format!("{} live before but {} after", c.before, c.after));
    }
    Ok(())
}

/// Starts `n` threads parked on a channel (panicking when released if `panic`), counts, releases.
fn thread_counts(tasks: &Tasks, n: usize, panic: bool) -> Counts {
    let before = tasks.live();
    let (release, gate) = bounded::<()>(0);
    for i in 0..n {
        let gate = gate.clone();
        drop(tasks.spawn(format!("parked-{i}"), move || {
            let _ = gate.recv();
            if panic {
                std::panic::resume_unwind(Box::new("on purpose"));
            }
        }));
    }
    let during = tasks.live();
    drop(release);
    tasks.wait_until(SAFETY, |l| l == before);
    Counts {
        before,
        during,
        after: tasks.live(),
    }
}

/// The same with tokio tasks, on the lab's runtime.
fn tokio_counts(ctx: &Ctx<'_>, tasks: &Tasks, n: usize) -> Counts {
    ctx.block_on(async {
        let before = tasks.live();
        let (release, gate) = tokio::sync::watch::channel(false);
        let mut handles = Vec::new();
        for i in 0..n {
            let mut gate = gate.clone();
            handles.push(tasks.spawn_tokio(format!("async-{i}"), async move {
                let _ = gate.wait_for(|open| *open).await;
            }));
        }
        let during = tasks.live();
        let _ = release.send(true);
        for h in handles {
            let _ = h.await;
        }
        Counts {
            before,
            during,
            after: tasks.live(),
        }
    })
}

fn counts_line(who: &str, c: Counts) -> String {
    format!(
        "{who:<34} before {:>2}, with {N} parked {:>2}, after {:>2}",
        c.before, c.during, c.after
    )
}

pub const LIVE_COUNT: Demo = Demo {
    name: "go-17/live-count-follows-the-tasks",
    claim: "Starting 10 threads or 10 tokio tasks through the registry raises its live count by \
            exactly 10, and it falls back when they return or panic",
    needs: Need::Nothing,
    run: live_count,
};

fn live_count(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let tasks = Tasks::new();
    let _main = tasks.register("main");
    let stories = [
        ("threads:", thread_counts(&tasks, N, false)),
        ("threads that panic:", thread_counts(&tasks, N, true)),
        ("tokio tasks:", tokio_counts(ctx, &tasks, N)),
    ];
    for (who, c) in stories {
        ctx.say(counts_line(who, c));
        count_tracks_tasks(N, c).map_err(|e| DemoError::Claim(format!("{who} {e}")))?;
    }
    Ok(())
}

/// What `go/cmd/go17-numgoroutine` prints.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct GoCounts {
    pub go_version: String,
    pub n: usize,
    pub before: usize,
    pub during: usize,
    pub after: usize,
    pub panic_during: usize,
    pub panic_after: usize,
}

pub const GO_LIVE_COUNT: Demo = Demo {
    name: "go-17/go-agrees-on-the-count",
    claim: "runtime.NumGoroutine rises by exactly n while n goroutines are parked and falls back \
            once they return or recover from a panic, as the registry's count does",
    needs: Need::Go,
    run: go_live_count,
};

fn go_live_count(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let go = ctx.go()?;
    let n = N.to_string();
    let g: GoCounts = go.run_json("cmd/go17-numgoroutine", &["-n", &n])?;
    ctx.say(format!("{} runtime.NumGoroutine():", g.go_version));
    check_eq!(g.n, N, "goroutines the Go program started");
    let go_plain = Counts {
        before: g.before,
        during: g.during,
        after: g.after,
    };
    let go_panic = Counts {
        before: g.before,
        during: g.panic_during,
        after: g.panic_after,
    };
    let tasks = Tasks::new();
    let _main = tasks.register("main");
    let rust_plain = thread_counts(&tasks, N, false);
    let rust_panic = thread_counts(&tasks, N, true);
    for (who, c) in [
        ("Go goroutines:", go_plain),
        ("Go goroutines that recover:", go_panic),
        ("Rust threads (registry):", rust_plain),
        ("Rust threads that panic:", rust_panic),
    ] {
        ctx.say(counts_line(who, c));
        count_tracks_tasks(N, c).map_err(|e| DemoError::Claim(format!("{who} {e}")))?;
    }
    check_eq!(
        g.before,
        1,
        "goroutines before: only main (Go starts its GC and finalizer goroutines but does not count system goroutines)"
    );
    Ok(())
}

/// The go-26 claim: after `wait` returns, every one of `workers` workers has finished.
pub fn all_finished(workers: i64, finished_at_wait: i64) -> Result<(), String> {
    if finished_at_wait != workers {
        return Err(format!(
            "wait returned with {finished_at_wait} of {workers} workers finished"
        ));
    }
    Ok(())
}

/// Workers started with `add` before each spawn: how many had finished when `wait` returned.
fn finished_when_wait_returns(tasks: &Tasks, workers: usize) -> i64 {
    let wg = WaitGroup::new();
    let finished = Arc::new(AtomicI64::new(0));
    for i in 0..workers {
        let f = Arc::clone(&finished);
        wg.go(tasks, format!("worker-{i}"), move || {
            f.fetch_add(1, Ordering::SeqCst);
        });
    }
    wg.wait();
    finished.load(Ordering::SeqCst)
}

/// The mistake: each worker calls `add(1)` itself, after a gate the main thread opens only after
/// its `wait` returned. Returns (finished when `wait` returned, finished in the end).
fn add_inside_the_task(tasks: &Tasks, workers: usize) -> (i64, i64) {
    let wg = WaitGroup::new();
    let all = WaitGroup::new();
    let finished = Arc::new(AtomicI64::new(0));
    let (open, gate) = bounded::<()>(0);
    for i in 0..workers {
        let (wg, gate, f) = (wg.clone(), gate.clone(), Arc::clone(&finished));
        all.go(tasks, format!("late-{i}"), move || {
            let _ = gate.recv();
            wg.add(1);
            f.fetch_add(1, Ordering::SeqCst);
            wg.done();
        });
    }
    wg.wait(); // sees 0: nobody has called add yet
    let early = finished.load(Ordering::SeqCst);
    drop(open);
    all.wait();
    (early, finished.load(Ordering::SeqCst))
}

fn negative_panic() -> String {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let r = std::panic::catch_unwind(|| WaitGroup::new().done());
    std::panic::set_hook(hook);
    match r {
        Ok(()) => "no panic".into(),
        Err(p) => p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default(),
    }
}

pub const WAITGROUP: Demo = Demo {
    name: "go-26/wait-returns-after-every-worker",
    claim: "With add before each spawn, wait returns only after all 8 workers finished, nothing \
            is left running, and done without add panics with Go's message",
    needs: Need::Nothing,
    run: waitgroup_demo,
};

fn waitgroup_demo(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let tasks = Tasks::new();
    let before = tasks.baseline();
    let finished = finished_when_wait_returns(&tasks, 8);
    ctx.say(format!(
        "wg.add(1) before each of 8 spawns: {finished} finished when wait returned"
    ));
    all_finished(8, finished).map_err(DemoError::Claim)?;
    tasks
        .check_leaks(&before, GRACE)
        .map_err(|l| DemoError::Claim(l.to_string()))?;
    ctx.say("leak check: no worker outlived wait");
    let msg = negative_panic();
    ctx.say(format!("done() on a fresh WaitGroup panics: {msg:?}"));
    check_eq!(msg, waitgroup::NEGATIVE, "the negative-counter panic");
    Ok(())
}

pub const ADD_INSIDE: Demo = Demo {
    name: "go-26/add-inside-the-task-lets-wait-return-early",
    claim: "If each worker calls add(1) itself, wait can run first, see a zero counter and return \
            with none of the 8 workers finished (forced here by a gate)",
    needs: Need::Nothing,
    run: add_inside,
};

fn add_inside(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let tasks = Tasks::new();
    let (early, late) = add_inside_the_task(&tasks, 8);
    ctx.say(format!(
        "add(1) inside each worker: wait returned with {early} finished; {late} finished later"
    ));
    check!(
        all_finished(8, early).is_err(),
        "wait returned only after every worker: the early return did not happen"
    );
    check_eq!(early, 0, "workers finished when wait returned");
    check_eq!(late, 8, "workers finished in the end");
    Ok(())
}

/// What `go/cmd/go26-waitgroup` prints.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct GoWaitGroup {
    pub go_version: String,
    pub workers: i64,
    pub finished_after_wait: i64,
    pub early_wait_finished: i64,
    pub early_wait_late_arrived: i64,
    pub negative_panic: String,
}

pub const GO_WAITGROUP: Demo = Demo {
    name: "go-26/go-agrees-on-waitgroup",
    claim: "Go's sync.WaitGroup makes the same three observations: all workers done after Wait, \
            Wait returning early when Add is inside the goroutine, the negative-counter panic",
    needs: Need::Go,
    run: go_waitgroup,
};

fn go_waitgroup(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let go = ctx.go()?;
    let g: GoWaitGroup = go.run_json("cmd/go26-waitgroup", &["-workers", "8"])?;
    let tasks = Tasks::new();
    let rust_finished = finished_when_wait_returns(&tasks, 8);
    let (rust_early, rust_late) = add_inside_the_task(&tasks, 8);
    let rust_panic = negative_panic();
    ctx.say(format!(
        "{:<10} finished after Wait {} of {}; Add inside: Wait saw {} finished, {} later; panic {:?}",
        g.go_version,
        g.finished_after_wait,
        g.workers,
        g.early_wait_finished,
        g.early_wait_late_arrived,
        g.negative_panic
    ));
    ctx.say(format!(
        "{:<10} finished after wait {rust_finished} of 8; add inside: wait saw {rust_early} finished, \
         {rust_late} later; panic {rust_panic:?}",
        "Rust"
    ));
    all_finished(g.workers, g.finished_after_wait).map_err(DemoError::Claim)?;
    check_eq!(
        (
            g.early_wait_finished,
            g.early_wait_late_arrived,
            g.negative_panic.as_str()
        ),
        (rust_early, rust_late, rust_panic.as_str()),
        "Go vs Rust: early wait, late arrivals, panic message"
    );
    check_eq!(
        g.finished_after_wait,
        rust_finished,
        "finished after wait, Go vs Rust"
    );
    Ok(())
}

pub const DETECTOR: Demo = Demo {
    name: "go-43/detector-names-the-stuck-tasks",
    claim: "The leak check passes a fan-out whose tasks all end, and reports by name and spawn \
            site the 2 replicas left blocked sending to a channel nobody reads",
    needs: Need::Nothing,
    run: detector,
};

/// Detector observations: (what the clean run reported, what the leaky run reported).
fn detector_runs(tasks: &Tasks) -> Result<(Vec<String>, Vec<String>), DemoError> {
    let before = tasks.baseline();
    let (_, answers) = leaks::first_of(tasks, leaks::REPLICAS, true);
    let clean = tasks.check_leaks(&before, GRACE);
    drop(answers);
    let (_, answers) = leaks::first_of(tasks, leaks::REPLICAS, false);
    let leaky = tasks.check_leaks(&before, GRACE);
    drop(answers); // the blocked sends now fail and the replicas return
    tasks
        .check_leaks(&before, SAFETY)
        .map_err(|l| DemoError::Broken(format!("the clean-up left {l}")))?;
    let names = |r: Result<(), crate::tasks::Leaks>| r.err().map(|l| l.names()).unwrap_or_default();
    Ok((names(clean), names(leaky)))
}

fn detector(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let tasks = Tasks::new();
    let before = tasks.baseline();
    let (_, answers) = leaks::first_of(&tasks, leaks::REPLICAS, false);
    match tasks.check_leaks(&before, GRACE) {
        Ok(()) => check!(false, "the detector missed the blocked replicas"),
        Err(l) => {
            for t in &l.tasks {
                ctx.say(format!("leak: {t}"));
            }
        }
    }
    drop(answers);
    let (clean, leaky) = detector_runs(&tasks)?;
    ctx.say(format!(
        "buffered fan-out: {clean:?} leaked; unbuffered: {leaky:?} leaked"
    ));
    check!(
        clean.is_empty(),
        "the clean fan-out was reported: {clean:?}"
    );
    check_eq!(
        leaks::kinds(&leaky),
        vec!["replica".to_string(); leaks::REPLICAS - 1],
        "tasks reported for the unbuffered fan-out"
    );
    check_eq!(tasks.live(), 0, "tasks left after the clean-up");
    Ok(())
}

/// One goroutine as `go/cmd/go43-goleak` reports it.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct GoGoroutine {
    pub id: String,
    pub state: String,
    pub func: String,
}

#[derive(Debug, Clone, serde::Deserialize)]
struct GoDetector {
    go_version: String,
    clean: Vec<GoGoroutine>,
    leaky: Vec<GoGoroutine>,
}

pub const GO_DETECTOR: Demo = Demo {
    name: "go-43/go-agrees-on-what-leaks",
    claim: "A stdlib goleak (runtime.Stack of all goroutines, before vs after) finds nothing after \
            the clean fan-out and 2 goroutines in `chan send` after the unbuffered one, as the \
            registry's check does",
    needs: Need::Go,
    run: go_detector,
};

fn go_detector(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let go = ctx.go()?;
    let g: GoDetector = go.run_json("cmd/go43-goleak", &["-part=detector"])?;
    ctx.say(format!("{}:", g.go_version));
    for l in &g.leaky {
        ctx.say(format!(
            "  leak: goroutine {} [{}] in {}",
            l.id, l.state, l.func
        ));
    }
    let tasks = Tasks::new();
    let (clean, leaky) = detector_runs(&tasks)?;
    ctx.say(format!(
        "Rust registry: clean {clean:?}, unbuffered {leaky:?}"
    ));
    check!(
        g.clean.is_empty(),
        "Go reported the clean fan-out: {:?}",
        g.clean
    );
    check!(
        g.leaky.iter().all(|l| l.state == "chan send"),
        "Go's leaked goroutines are not all blocked sending: {:?}",
        g.leaky
    );
    check_eq!(g.leaky.len(), leaky.len(), "leaked tasks, Go vs Rust");
    check_eq!(clean.len(), 0, "Rust: leaks reported for the clean fan-out");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_count_must_rise_by_n_and_come_back() {
        let ok = Counts {
            before: 1,
            during: 11,
            after: 1,
        };
        assert!(count_tracks_tasks(10, ok).is_ok());
        let short = Counts { during: 10, ..ok };
        assert!(count_tracks_tasks(10, short).is_err());
        let stuck = Counts { after: 2, ..ok };
        assert!(count_tracks_tasks(10, stuck).is_err());
    }

    #[test]
    fn all_finished_rejects_an_early_wait() {
        assert!(all_finished(8, 8).is_ok());
        assert!(all_finished(8, 0).is_err());
    }

    #[test]
    fn registry_counts_match_the_claim() {
        let tasks = Tasks::new();
        assert!(count_tracks_tasks(N, thread_counts(&tasks, N, false)).is_ok());
        assert!(count_tracks_tasks(N, thread_counts(&tasks, N, true)).is_ok());
    }

    #[test]
    fn add_inside_returns_early() {
        assert_eq!(add_inside_the_task(&Tasks::new(), 4), (0, 4));
    }
}
