//! The demos of go-19 (limiting the number of goroutines), registered in [`crate::topic`]. The Go
//! side is `go/cmd/go19-limit`; both fill the same [`LimitReport`].

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use catalog::{Ctx, Demo, DemoError, Need, check_eq};
use crossbeam_channel::bounded;

use crate::pool::{Pool, SubmitError};
use crate::probe::{Tracker, work};
use crate::semaphore::Semaphore;
use crate::tasks::Tasks;

/// The limit.
pub const CAP: usize = 4;
/// Jobs each way runs.
pub const JOBS: usize = 100;

/// What one run of both limiters observed (same fields as the Go program's JSON).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct LimitReport {
    pub cap: usize,
    pub jobs: usize,
    /// Most jobs inside the semaphore (Go: the token channel) at once.
    pub token_peak: i64,
    /// With every token taken, a non-blocking acquire was refused.
    pub token_refused_full: bool,
    pub pool_peak: i64,
    /// Tasks the pool added to the live count.
    pub pool_extra_tasks: usize,
    /// Outcomes reported for `jobs` jobs plus one that panics.
    pub pool_outcomes: usize,
    pub pool_refused_full: bool,
    pub pool_panics: usize,
    pub pool_live_after_panic: i64,
}

/// The go-19 claim, one broken promise per entry: never more than `cap` inside at once, the
/// pool adds exactly `cap` tasks, a full limiter refuses, every job (and the panicking one) is
/// reported, and the panic costs no worker.
pub fn broken_promises(r: &LimitReport) -> Vec<String> {
    let cap = r.cap as i64;
    let mut broken = Vec::new();
    for (what, peak) in [("token/semaphore", r.token_peak), ("pool", r.pool_peak)] {
        if !(1..=cap).contains(&peak) {
            broken.push(format!("{what}: {peak} jobs inside at once, limit {cap}"));
        }
    }
    if r.pool_extra_tasks != r.cap {
        broken.push(format!(
            "the pool added {} tasks, not {}",
            r.pool_extra_tasks, r.cap
        ));
    }
    if !r.token_refused_full {
        broken.push("a full semaphore let one more in".into());
    }
    if !r.pool_refused_full {
        broken.push("a full pool queue accepted one more job".into());
    }
    if r.pool_outcomes != r.jobs + 1 || r.pool_panics != 1 {
        broken.push(format!(
            "{} outcomes ({} panics) for {} jobs + 1 panicking",
            r.pool_outcomes, r.pool_panics, r.jobs
        ));
    }
    if r.pool_live_after_panic != cap {
        broken.push(format!(
            "{} workers alive after the panic",
            r.pool_live_after_panic
        ));
    }
    broken
}

/// Runs both limiters in `tasks` and reports what they did.
pub fn observe(tasks: &Tasks) -> LimitReport {
    // 1. A thread per job, a semaphore around the work.
    let sem = Semaphore::new(CAP);
    let t = Arc::new(Tracker::default());
    let handles: Vec<_> = (0..JOBS)
        .map(|i| {
            let (sem, t) = (sem.clone(), Arc::clone(&t));
            tasks.spawn(format!("limited-{i}"), move || {
                let _permit = sem.acquire();
                t.enter();
                work();
                t.leave();
            })
        })
        .collect();
    for h in handles {
        let _ = h.join();
    }
    let held: Vec<_> = (0..CAP).map(|_| sem.acquire()).collect();
    let token_refused_full = sem.try_acquire().is_none();
    drop(held);

    // 2. The pool.
    let before = tasks.live();
    let mut pool = Pool::with_tasks(tasks, CAP, 2);
    let pool_extra_tasks = tasks.live() - before;
    let pt = Arc::new(Tracker::default());
    for _ in 0..JOBS {
        let pt = Arc::clone(&pt);
        let _ = pool.submit(move || {
            pt.enter();
            work();
            pt.leave();
        });
    }
    let _ = pool.submit(|| std::panic::resume_unwind(Box::new("on purpose")));
    let outcomes: Vec<_> = pool.results().iter().take(JOBS + 1).collect();
    let pool_panics = outcomes.iter().filter(|o| o.result.is_err()).count();
    let pool_live_after_panic = pool.live_workers() as i64;
    // Backpressure: hold every worker at a gate, fill the queue, try one more.
    let (open, gate) = bounded::<()>(0);
    let (held_tx, holding) = bounded::<()>(CAP);
    for _ in 0..CAP {
        let (gate, held_tx) = (gate.clone(), held_tx.clone());
        let _ = pool.submit(move || {
            let _ = held_tx.send(());
            let _ = gate.recv();
        });
    }
    for _ in 0..CAP {
        let _ = holding.recv();
    }
    while pool.try_submit(|| ()).is_ok() {}
    let pool_refused_full = matches!(pool.try_submit(|| ()), Err(SubmitError::Full(_)));
    drop(open);
    pool.shutdown();
    LimitReport {
        cap: CAP,
        jobs: JOBS,
        token_peak: t.peak.load(Ordering::SeqCst),
        token_refused_full,
        pool_peak: pt.peak.load(Ordering::SeqCst),
        pool_extra_tasks,
        pool_outcomes: outcomes.len(),
        pool_refused_full,
        pool_panics,
        pool_live_after_panic,
    }
}

fn report_lines(who: &str, r: &LimitReport) -> Vec<String> {
    vec![
        format!(
            "{who}: semaphore/token bucket: at most {} of {} jobs inside (limit {}); refused when full: {}",
            r.token_peak, r.jobs, r.cap, r.token_refused_full
        ),
        format!(
            "{who}: pool: +{} tasks, at most {} jobs running, {} outcomes ({} panic reported, {} workers still alive), refused when full: {}",
            r.pool_extra_tasks,
            r.pool_peak,
            r.pool_outcomes,
            r.pool_panics,
            r.pool_live_after_panic,
            r.pool_refused_full
        ),
    ]
}

pub const LIMITS: Demo = Demo {
    name: "go-19/semaphore-and-pool-cap-concurrency",
    claim: "Of 100 jobs at most 4 run at once behind a 4-token semaphore or in a 4-worker pool; \
            the pool adds exactly 4 tasks, both refuse more when full, a panicking job is reported \
            and costs no worker, and nothing outlives the pool's shutdown",
    needs: Need::Nothing,
    run: limits,
};

fn limits(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let tasks = Tasks::new();
    let before = tasks.baseline();
    let r = observe(&tasks);
    for l in report_lines("Rust", &r) {
        ctx.say(l);
    }
    let broken = broken_promises(&r);
    catalog::check!(broken.is_empty(), "{}", broken.join("; "));
    tasks
        .check_leaks(&before, Duration::from_secs(5))
        .map_err(|l| DemoError::Claim(l.to_string()))?;
    ctx.say("leak check after shutdown: nothing left");
    Ok(())
}

#[derive(Debug, Clone, serde::Deserialize)]
struct GoLimit {
    go_version: String,
    #[serde(flatten)]
    report: LimitReport,
}

pub const GO_LIMITS: Demo = Demo {
    name: "go-19/go-agrees-on-the-limits",
    claim: "A buffered-channel token bucket and a channel-fed goroutine pool in Go keep the same \
            promises, with NumGoroutine rising by exactly the pool's 4 workers",
    needs: Need::Go,
    run: go_limits,
};

fn go_limits(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let go = ctx.go()?;
    let (cap, jobs) = (CAP.to_string(), JOBS.to_string());
    let g: GoLimit = go.run_json("cmd/go19-limit", &["-cap", &cap, "-jobs", &jobs])?;
    let rust = observe(&Tasks::new());
    for l in report_lines(&g.go_version, &g.report) {
        ctx.say(l);
    }
    for l in report_lines("Rust", &rust) {
        ctx.say(l);
    }
    let broken = broken_promises(&g.report);
    catalog::check!(broken.is_empty(), "Go: {}", broken.join("; "));
    let broken = broken_promises(&rust);
    catalog::check!(broken.is_empty(), "Rust: {}", broken.join("; "));
    check_eq!(
        (
            g.report.pool_extra_tasks,
            g.report.pool_outcomes,
            g.report.pool_panics
        ),
        (rust.pool_extra_tasks, rust.pool_outcomes, rust.pool_panics),
        "pool tasks, outcomes and panics, Go vs Rust"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rust_limiters_keep_every_promise() {
        assert_eq!(
            broken_promises(&observe(&Tasks::new())),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_peak_above_the_cap_is_caught() {
        let mut r = observe(&Tasks::new());
        r.pool_peak = 5;
        assert_eq!(broken_promises(&r).len(), 1);
        r.pool_extra_tasks = 100; // a goroutine per job
        assert_eq!(broken_promises(&r).len(), 2);
    }
}
