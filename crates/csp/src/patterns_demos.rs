//! The demos of go-05 (common concurrency patterns), registered in [`crate::topic`]. The Go side
//! is `go/cmd/go05-patterns`; both fill the same [`PatternsReport`], and each scenario ends with a
//! leak check (Rust: the [`Tasks`] registry; Go: `runtime.NumGoroutine` back to its baseline).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use catalog::{Ctx, Demo, DemoError, Need, check, check_eq};
use crossbeam_channel::{bounded, unbounded};

use crate::context::Context;
use crate::errgroup::Group;
use crate::patterns::{self, Contender};
use crate::probe::{Tracker, work};
use crate::tasks::Tasks;

/// How long a "slow" task would run if nobody cancelled it; far above any real run.
pub const SLOW: Duration = Duration::from_secs(10);
/// How long a leak check waits for tasks to end.
pub const GRACE: Duration = Duration::from_secs(5);

/// Errgroup: 3 quick tasks, 4 slow ones, and one that fails after the quick ones are done.
pub const QUICK: usize = 3;
pub const SLOW_TASKS: usize = 4;
/// Limit scenario: 20 tasks under a limit of 3.
pub const LIMIT: usize = 3;
pub const LIMIT_TASKS: usize = 20;
/// Fan scenario: two generators of 500 values merged, squared by 4 workers.
pub const FAN_VALUES: u64 = 1000;
pub const FAN_WORKERS: usize = 4;
/// Race scenario: one fast contender and 3 slow ones.
pub const CONTENDERS: usize = 4;

/// First error cancels the rest.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct ErrgroupObs {
    pub quick_finished: usize,
    pub slow_finished: usize,
    pub slow_saw_cancel: usize,
    /// What `wait` returned.
    pub first_err: String,
    /// The group context's cause.
    pub cause: String,
    pub wait_ms: f64,
    pub leaked: usize,
}

/// The limit caps concurrency.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct LimitObs {
    pub limit: usize,
    /// Tasks inside while the first `limit` were held.
    pub inside_when_full: i64,
    pub try_refused_when_full: bool,
    pub peak: i64,
    pub ran: usize,
    pub leaked: usize,
}

/// Fan-out/fan-in and a cancelled endless pipeline.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct FanObs {
    pub values: u64,
    pub delivered: usize,
    pub distinct: usize,
    /// The delivered set is exactly {x² : x < values}.
    pub exact: bool,
    /// First five squares read from an endless generator before cancelling.
    pub pipeline_head: Vec<u64>,
    pub leaked: usize,
}

/// First response wins, the losers are cancelled.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct RaceObs {
    pub contenders: usize,
    pub winner: String,
    pub losers_saw_cancel: usize,
    pub losers_finished: usize,
    pub race_ms: f64,
    pub leaked: usize,
}

/// Everything go-05 observes (same field names as the Go program's JSON).
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct PatternsReport {
    pub errgroup: ErrgroupObs,
    pub limit: LimitObs,
    pub fan: FanObs,
    pub race: RaceObs,
}

fn leaked(tasks: &Tasks, before: &crate::tasks::Baseline) -> usize {
    tasks
        .check_leaks(before, GRACE)
        .map_or_else(|l| l.tasks.len(), |()| 0)
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

/// Errgroup with a context: the failing task waits until the quick ones are done, then fails;
/// the slow ones would take [`SLOW`] unless they see the cancellation.
pub fn observe_errgroup() -> ErrgroupObs {
    let tasks = Tasks::new();
    let before = tasks.baseline();
    let start = Instant::now();
    let (mut g, ctx) = Group::<String>::with_context_in(&tasks, &Context::background());
    let quick_finished = Arc::new(AtomicUsize::new(0));
    let slow_finished = Arc::new(AtomicUsize::new(0));
    let slow_saw_cancel = Arc::new(AtomicUsize::new(0));
    let (quick_tx, quick_done) = unbounded::<()>();
    for i in 0..QUICK {
        let (n, tx) = (Arc::clone(&quick_finished), quick_tx.clone());
        g.spawn(format!("quick-{i}"), move || {
            n.fetch_add(1, Ordering::SeqCst);
            let _ = tx.send(());
            Ok(())
        });
    }
    for i in 0..SLOW_TASKS {
        let (ctx, fin, saw) = (
            ctx.clone(),
            Arc::clone(&slow_finished),
            Arc::clone(&slow_saw_cancel),
        );
        g.spawn(format!("slow-{i}"), move || match ctx.wait_timeout(SLOW) {
            Some(e) => {
                saw.fetch_add(1, Ordering::SeqCst);
                Err(e.to_string())
            }
            None => {
                fin.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }
        });
    }
    g.spawn("failer", move || {
        for _ in 0..QUICK {
            let _ = quick_done.recv();
        }
        Err("boom".to_string())
    });
    let first_err = match g.wait() {
        Ok(()) => String::new(),
        Err(e) => e.to_string(),
    };
    let wait_ms = ms(start.elapsed());
    ErrgroupObs {
        quick_finished: quick_finished.load(Ordering::SeqCst),
        slow_finished: slow_finished.load(Ordering::SeqCst),
        slow_saw_cancel: slow_saw_cancel.load(Ordering::SeqCst),
        first_err,
        cause: ctx.cause().unwrap_or_default(),
        wait_ms,
        leaked: leaked(&tasks, &before),
    }
}

/// Errgroup with a limit: the first [`LIMIT`] tasks are held inside at a gate, a `try_spawn` is
/// refused, then the gate opens and the rest are started with the blocking `spawn`.
pub fn observe_limit() -> LimitObs {
    let tasks = Tasks::new();
    let before = tasks.baseline();
    let mut g = Group::<String>::new_in(&tasks);
    g.set_limit(Some(LIMIT));
    let t = Arc::new(Tracker::default());
    let ran = Arc::new(AtomicUsize::new(0));
    let (open, gate) = bounded::<()>(0);
    let (in_tx, entered) = unbounded::<()>();
    for i in 0..LIMIT {
        let (t, ran, gate, in_tx) = (
            Arc::clone(&t),
            Arc::clone(&ran),
            gate.clone(),
            in_tx.clone(),
        );
        g.spawn(format!("held-{i}"), move || {
            t.enter();
            let _ = in_tx.send(());
            let _ = gate.recv();
            t.leave();
            ran.fetch_add(1, Ordering::SeqCst);
            Ok(())
        });
    }
    for _ in 0..LIMIT {
        let _ = entered.recv();
    }
    let inside_when_full = t.inside.load(Ordering::SeqCst);
    let try_refused_when_full = g.try_spawn("one-more", || Ok(())).is_err();
    drop(open);
    for i in LIMIT..LIMIT_TASKS {
        let (t, ran) = (Arc::clone(&t), Arc::clone(&ran));
        g.spawn(format!("task-{i}"), move || {
            t.enter();
            work();
            t.leave();
            ran.fetch_add(1, Ordering::SeqCst);
            Ok(())
        });
    }
    let _ = g.wait();
    LimitObs {
        limit: LIMIT,
        inside_when_full,
        try_refused_when_full,
        peak: t.peak.load(Ordering::SeqCst),
        ran: ran.load(Ordering::SeqCst),
        leaked: leaked(&tasks, &before),
    }
}

/// Two generators merged (fan-in), squared by [`FAN_WORKERS`] workers (fan-out, fan-in to one
/// output); then an endless generator → square stage, read five and cancelled.
pub fn observe_fan() -> FanObs {
    let tasks = Tasks::new();
    let before = tasks.baseline();
    let bg = Context::background();
    let half = FAN_VALUES / 2;
    let a = patterns::generate(&tasks, &bg, "gen-a", 0..half, 8);
    let b = patterns::generate(&tasks, &bg, "gen-b", half..FAN_VALUES, 8);
    let merged = patterns::merge(&tasks, &bg, vec![a, b]);
    let out: Vec<u64> =
        patterns::fan_out(&tasks, &bg, "square", merged, FAN_WORKERS, |x: u64| x * x)
            .iter()
            .collect();
    let mut sorted = out.clone();
    sorted.sort_unstable();
    let delivered = out.len();
    sorted.dedup();
    let distinct = sorted.len();
    let exact = sorted == (0..FAN_VALUES).map(|x| x * x).collect::<Vec<_>>();

    let (ctx, cancel) = Context::with_cancel(&bg);
    let nums = patterns::generate(&tasks, &ctx, "endless", 0u64.., 0);
    let squares = patterns::stage(&tasks, &ctx, "stage", nums, |x| x * x);
    let pipeline_head: Vec<u64> = squares.iter().take(5).collect();
    cancel.cancel();
    let leaked = leaked(&tasks, &before);
    drop(squares);
    FanObs {
        values: FAN_VALUES,
        delivered,
        distinct,
        exact,
        pipeline_head,
        leaked,
    }
}

/// First response wins: "fast" answers at once, the slow ones would take [`SLOW`] unless they see
/// the race's cancellation.
pub fn observe_race() -> RaceObs {
    let tasks = Tasks::new();
    let before = tasks.baseline();
    let saw = Arc::new(AtomicUsize::new(0));
    let finished = Arc::new(AtomicUsize::new(0));
    let mut contenders: Vec<(String, Contender<String>)> =
        vec![("fast".into(), Box::new(|_| Some("fast".to_string())))];
    for i in 1..CONTENDERS {
        let (saw, finished) = (Arc::clone(&saw), Arc::clone(&finished));
        let name = format!("slow-{i}");
        let answer = name.clone();
        contenders.push((
            name,
            Box::new(move |ctx: &Context| match ctx.wait_timeout(SLOW) {
                Some(_) => {
                    saw.fetch_add(1, Ordering::SeqCst);
                    None
                }
                None => {
                    finished.fetch_add(1, Ordering::SeqCst);
                    Some(answer)
                }
            }),
        ));
    }
    let start = Instant::now();
    let winner = patterns::first_response(&tasks, &Context::background(), contenders);
    let race_ms = ms(start.elapsed());
    // The losers are not waited for by the race; the leak check waits for them to end.
    let leaked = leaked(&tasks, &before);
    RaceObs {
        contenders: CONTENDERS,
        winner: winner.map(|(_, w)| w).unwrap_or_default(),
        losers_saw_cancel: saw.load(Ordering::SeqCst),
        losers_finished: finished.load(Ordering::SeqCst),
        race_ms,
        leaked,
    }
}

/// The go-05 promises about the errgroup: every quick task finished, the failure is the first
/// (and only reported) error and the cause, every slow task saw the cancel and none finished.
pub fn errgroup_broken(o: &ErrgroupObs) -> Vec<String> {
    let mut b = Vec::new();
    if o.quick_finished != QUICK {
        b.push(format!(
            "{} of {QUICK} quick tasks finished",
            o.quick_finished
        ));
    }
    if o.first_err != "boom" || o.cause != "boom" {
        b.push(format!(
            "wait returned {:?}, cause {:?}, not the first error \"boom\"",
            o.first_err, o.cause
        ));
    }
    if o.slow_saw_cancel != SLOW_TASKS || o.slow_finished != 0 {
        b.push(format!(
            "{} slow tasks saw the cancel, {} ran to the end",
            o.slow_saw_cancel, o.slow_finished
        ));
    }
    if o.leaked != 0 {
        b.push(format!("{} tasks leaked", o.leaked));
    }
    b
}

/// The limit promises: exactly `limit` inside when full, a try refused, never more than `limit`
/// at once, every task ran, nothing leaked.
pub fn limit_broken(o: &LimitObs) -> Vec<String> {
    let mut b = Vec::new();
    let limit = o.limit as i64;
    if o.inside_when_full != limit || !o.try_refused_when_full {
        b.push(format!(
            "when full: {} inside, try refused: {}",
            o.inside_when_full, o.try_refused_when_full
        ));
    }
    if o.peak != limit {
        b.push(format!("peak {} inside, limit {limit}", o.peak));
    }
    if o.ran != LIMIT_TASKS {
        b.push(format!("{} of {LIMIT_TASKS} tasks ran", o.ran));
    }
    if o.leaked != 0 {
        b.push(format!("{} tasks leaked", o.leaked));
    }
    b
}

/// The fan promises: each value delivered exactly once, the pipeline's head in order, nothing
/// leaked after the cancel.
pub fn fan_broken(o: &FanObs) -> Vec<String> {
    let mut b = Vec::new();
    if o.delivered as u64 != o.values || o.distinct as u64 != o.values || !o.exact {
        b.push(format!(
            "{} delivered, {} distinct, exact set: {} (of {})",
            o.delivered, o.distinct, o.exact, o.values
        ));
    }
    if o.pipeline_head != [0, 1, 4, 9, 16] {
        b.push(format!("pipeline head {:?}", o.pipeline_head));
    }
    if o.leaked != 0 {
        b.push(format!("{} tasks leaked", o.leaked));
    }
    b
}

/// The race promises: the fast one wins, every loser sees the cancel, none runs to the end,
/// nothing leaked.
pub fn race_broken(o: &RaceObs) -> Vec<String> {
    let mut b = Vec::new();
    if o.winner != "fast" {
        b.push(format!("winner {:?}", o.winner));
    }
    let losers = o.contenders - 1;
    if o.losers_saw_cancel != losers || o.losers_finished != 0 {
        b.push(format!(
            "{} of {losers} losers saw the cancel, {} ran to the end",
            o.losers_saw_cancel, o.losers_finished
        ));
    }
    if o.leaked != 0 {
        b.push(format!("{} tasks leaked", o.leaked));
    }
    b
}

/// Every broken promise of a whole report.
pub fn broken_promises(r: &PatternsReport) -> Vec<String> {
    let mut b = errgroup_broken(&r.errgroup);
    b.extend(limit_broken(&r.limit));
    b.extend(fan_broken(&r.fan));
    b.extend(race_broken(&r.race));
    b
}

fn check_none(who: &str, broken: Vec<String>) -> Result<(), DemoError> {
    check!(broken.is_empty(), "{who}: {}", broken.join("; "));
    Ok(())
}

fn errgroup_line(who: &str, o: &ErrgroupObs) -> String {
    format!(
        "{who}: errgroup: {} quick finished, {} slow saw cancel, {} slow finished; wait -> {:?} \
         (cause {:?}) after {} ms; leaked {}",
        o.quick_finished,
        o.slow_saw_cancel,
        o.slow_finished,
        o.first_err,
        o.cause,
        o.wait_ms,
        o.leaked
    )
}

fn limit_line(who: &str, o: &LimitObs) -> String {
    format!(
        "{who}: limit {}: {} inside when full, try refused {}, peak {}, {} ran; leaked {}",
        o.limit, o.inside_when_full, o.try_refused_when_full, o.peak, o.ran, o.leaked
    )
}

fn fan_line(who: &str, o: &FanObs) -> String {
    format!(
        "{who}: fan-out/fan-in: {} values, {} delivered, {} distinct, exact {}; endless pipeline \
         head {:?} then cancelled; leaked {}",
        o.values, o.delivered, o.distinct, o.exact, o.pipeline_head, o.leaked
    )
}

fn race_line(who: &str, o: &RaceObs) -> String {
    format!(
        "{who}: first response: winner {:?} after {} ms, {} losers saw cancel, {} finished; leaked {}",
        o.winner, o.race_ms, o.losers_saw_cancel, o.losers_finished, o.leaked
    )
}

pub const FIRST_ERROR: Demo = Demo {
    name: "go-05/errgroup-first-error-cancels-the-rest",
    claim: "In an errgroup with a context, the first failure is what wait returns and the \
            context's cause; the 4 slow siblings see the cancel and stop instead of running 10 s, \
            the 3 quick ones had finished, and no task outlives wait",
    needs: Need::Nothing,
    run: first_error,
};

fn first_error(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let o = observe_errgroup();
    ctx.say(errgroup_line("Rust", &o));
    check_none("Rust", errgroup_broken(&o))
}

pub const LIMIT_DEMO: Demo = Demo {
    name: "go-05/errgroup-limit-caps-concurrency",
    claim: "With set_limit(3), 3 held tasks fill the group, try_spawn is refused, and of 20 tasks \
            never more than 3 are inside at once (peak exactly 3); nothing leaks",
    needs: Need::Nothing,
    run: limit,
};

fn limit(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let o = observe_limit();
    ctx.say(limit_line("Rust", &o));
    check_none("Rust", limit_broken(&o))
}

pub const FAN: Demo = Demo {
    name: "go-05/fan-out-fan-in-delivers-each-value-once",
    claim: "Two generators merged (fan-in) and squared by 4 workers (fan-out) deliver each of \
            1000 values exactly once; an endless generator → stage pipeline stops on cancel; no \
            stage or watcher thread is left",
    needs: Need::Nothing,
    run: fan,
};

fn fan(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let o = observe_fan();
    ctx.say(fan_line("Rust", &o));
    check_none("Rust", fan_broken(&o))
}

pub const FIRST_RESPONSE: Demo = Demo {
    name: "go-05/first-response-wins-losers-are-cancelled",
    claim: "Of 4 contenders the one that answers first wins; the 3 losers observe the race's \
            cancellation instead of running 10 s, none blocks on a full result channel, and none \
            is left running",
    needs: Need::Nothing,
    run: first_response,
};

fn first_response(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let o = observe_race();
    ctx.say(race_line("Rust", &o));
    check_none("Rust", race_broken(&o))
}

#[derive(Debug, Clone, serde::Deserialize)]
struct GoPatterns {
    go_version: String,
    #[serde(flatten)]
    report: PatternsReport,
}

pub const GO_PATTERNS: Demo = Demo {
    name: "go-05/go-agrees-on-the-patterns",
    claim: "go/cmd/go05-patterns (a stdlib errgroup built from WaitGroup, Once and \
            WithCancelCause, plus channel pipelines) makes the same observations: first error and \
            cause, siblings cancelled, limit peak, each value once, losers cancelled, NumGoroutine \
            back to its baseline",
    needs: Need::Go,
    run: go_patterns,
};

fn go_patterns(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let go = ctx.go()?;
    let g: GoPatterns = go.run_json("cmd/go05-patterns", &[])?;
    let rust = PatternsReport {
        errgroup: observe_errgroup(),
        limit: observe_limit(),
        fan: observe_fan(),
        race: observe_race(),
    };
    for (who, r) in [(g.go_version.as_str(), &g.report), ("Rust", &rust)] {
        ctx.say(errgroup_line(who, &r.errgroup));
        ctx.say(limit_line(who, &r.limit));
        ctx.say(fan_line(who, &r.fan));
        ctx.say(race_line(who, &r.race));
    }
    check_none("Go", broken_promises(&g.report))?;
    check_none("Rust", broken_promises(&rust))?;
    let key = |r: &PatternsReport| {
        (
            (
                r.errgroup.quick_finished,
                r.errgroup.slow_saw_cancel,
                r.errgroup.slow_finished,
                r.errgroup.first_err.clone(),
                r.errgroup.cause.clone(),
            ),
            (r.limit.inside_when_full, r.limit.peak, r.limit.ran),
            (r.fan.delivered, r.fan.distinct, r.fan.pipeline_head.clone()),
            (
                r.race.winner.clone(),
                r.race.losers_saw_cancel,
                r.race.losers_finished,
            ),
        )
    };
    check_eq!(key(&g.report), key(&rust), "Go vs Rust observations");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errgroup::GroupError;

    #[test]
    fn the_rust_patterns_keep_every_promise() {
        let r = PatternsReport {
            errgroup: observe_errgroup(),
            limit: observe_limit(),
            fan: observe_fan(),
            race: observe_race(),
        };
        assert_eq!(broken_promises(&r), Vec::<String>::new());
    }

    #[test]
    fn broken_promises_are_caught() {
        // Counterexamples: a group returning the siblings' error, a limit that let 4 in, a
        // duplicated value, a loser that ran to the end.
        let mut e = observe_errgroup();
        e.first_err = "context canceled".into();
        assert_eq!(errgroup_broken(&e).len(), 1);
        e.slow_finished = 1;
        assert_eq!(errgroup_broken(&e).len(), 2);

        let mut l = observe_limit();
        l.peak = 4;
        assert_eq!(limit_broken(&l).len(), 1);

        let mut f = observe_fan();
        f.distinct -= 1;
        assert_eq!(fan_broken(&f).len(), 1);

        let mut r = observe_race();
        r.losers_finished = 1;
        r.leaked = 1;
        assert_eq!(race_broken(&r).len(), 2);
    }

    #[test]
    fn a_panicking_task_is_the_first_error_too() {
        let (mut g, ctx) = Group::<String>::with_context_in(&Tasks::new(), &Context::background());
        g.spawn("bad", || panic!("oops"));
        let e = g.wait().unwrap_err();
        assert!(matches!(e, GroupError::Panicked { .. }), "{e}");
        assert!(ctx.cause().unwrap().contains("oops"));
    }
}
