//! The demos of go-37 (how Go's Mutex works) and go-18 (which locks Go has), registered in
//! [`crate::topic`]. Each asserts a claim of `docs/go/go-37.md` or `docs/go/go-18.md`.

use std::time::Duration;

use catalog::{Ctx, Demo, DemoError, Need, check, check_eq};

use crate::kinds::{self, LockKinds};
use crate::mutex::GoMutex;
use crate::starvation::{self, VictimReport, WAIT_BOUND, WORKLOAD, Workload};

/// The Go program both Go demos run.
pub const GO_PROGRAM: &str = "cmd/go37-mutex";
/// Runs of the hog-and-victim workload before a demo gives up on its claim.
pub const ATTEMPTS: usize = 3;

pub const STATE_WORD: Demo = Demo {
    name: "go-37/state-word-step-by-step",
    claim: "Go's Mutex state word goes locked → locked+1 waiter → locked|starving (a waiter that \
            waited > 1 ms lost to a barging locker) → handed off to that waiter, which clears \
            starving as the last waiter → 0",
    needs: Need::Nothing,
    run: state_word,
};

fn state_word(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let w = starvation::walkthrough(Duration::from_millis(2)).map_err(DemoError::Broken)?;
    for s in &w.steps {
        ctx.say(format!("{:<34} ← {}", s.state.to_string(), s.what));
    }
    ctx.say(format!(
        "barge attempts needed: {}; starvation mode entered {}×, hand-offs {}",
        w.barge_attempts, w.starvation_entries, w.handoffs
    ));
    let got: Vec<String> = w.steps.iter().map(|s| s.state.to_string()).collect();
    let want: Vec<String> = starvation::expected_states()
        .iter()
        .map(ToString::to_string)
        .collect();
    check_eq!(got, want, "the state word after each step");
    check_eq!(w.starvation_entries, 1, "times starvation mode was entered");
    check_eq!(w.handoffs, 1, "unlocks that handed the lock over");
    Ok(())
}

pub const STARVATION_BOUND: Demo = Demo {
    name: "go-37/starvation-mode-bounds-the-worst-wait",
    claim: "Next to a goroutine that re-locks in a tight loop, a waiter's worst wait stays near the \
            1 ms threshold with starvation mode, and grows far larger (here ≥ 4×) without it",
    needs: Need::Nothing,
    run: starvation_bound,
};

fn victim_line(r: &VictimReport) -> String {
    format!(
        "worst wait {:>9.3} ms, {:>3} rounds while the hog ran, hog locked {:>4}×, \
         starvation entries {}, hand-offs {}",
        ms(r.max_wait),
        r.rounds_while_hog_ran,
        r.hog_rounds,
        r.starvation_entries,
        r.handoffs
    )
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn workload_line(w: &Workload) -> String {
    format!(
        "hog holds {} µs per lock; victim locks {} times, arriving while the hog holds it, \
         {}–{} µs apart; hog stops after {} ms",
        w.hold.as_micros(),
        w.rounds,
        w.gap.as_micros(),
        w.gap.as_micros() + 100,
        w.hog_limit.as_millis()
    )
}

fn starvation_bound(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    ctx.say(workload_line(&WORKLOAD));
    let (mut refuted, mut busy) = (Vec::new(), Vec::new());
    for attempt in 1..=ATTEMPTS {
        let before = starvation::parallel_capacity();
        let with = starvation::victim_max_wait(&GoMutex::new(), WORKLOAD);
        let without = starvation::victim_max_wait(&GoMutex::without_starvation(), WORKLOAD);
        let capacity = before.min(starvation::parallel_capacity());
        ctx.say(format!(
            "attempt {attempt} (two busy threads ran {capacity:.2}× as fast as one):"
        ));
        ctx.say(format!("  starvation mode on:  {}", victim_line(&with)));
        ctx.say(format!("  starvation mode off: {}", victim_line(&without)));
        let what = format!(
            "attempt {attempt}: {:.2} ms with, {:.2} ms without, parallelism {capacity:.2}",
            ms(with.max_wait),
            ms(without.max_wait)
        );
        match starvation::verdict(with.max_wait, without.max_wait, capacity) {
            starvation::Verdict::Shown => {
                ctx.say(format!(
                    "starvation mode cut the worst wait {:.0}× ({:.2} ms vs {:.2} ms)",
                    without.max_wait.as_secs_f64() / with.max_wait.as_secs_f64().max(1e-9),
                    ms(with.max_wait),
                    ms(without.max_wait)
                ));
                return Ok(());
            }
            starvation::Verdict::Refuted => refuted.push(what),
            starvation::Verdict::Inconclusive => busy.push(what),
        }
    }
    check!(
        refuted.is_empty(),
        "with a CPU for each thread and a victim that starved without it, starvation mode did not \
         cut the worst wait 4×: {}",
        refuted.join("; ")
    );
    // The mechanism itself is asserted step by step by go-37/state-word-step-by-step; this
    // comparison needs both threads running at once and a hog that actually starves the victim.
    ctx.say(format!(
        "timing inconclusive in all {ATTEMPTS} attempts: either other processes held the CPUs (two \
         busy threads < {}× as fast as one) or the victim never waited {} ms without starvation \
         mode: {}",
        starvation::CLEAR_CAPACITY,
        starvation::STARVED.as_millis(),
        busy.join("; ")
    ));
    Ok(())
}

/// What `go/cmd/go37-mutex` prints.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct GoReport {
    pub go_version: String,
    pub gomaxprocs: u32,
    pub num_cpu: u32,
    pub kinds: LockKinds,
    pub starvation: GoStarvation,
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct GoStarvation {
    pub hold_us: u64,
    pub rounds: u32,
    pub bound_ms: u64,
    pub attempts: Vec<GoVictim>,
}

#[derive(Debug, Clone, Copy, serde::Deserialize)]
pub struct GoVictim {
    pub max_wait_ns: u64,
    pub rounds_while_hog_ran: u32,
    pub hog_rounds: u64,
}

fn run_go(ctx: &Ctx<'_>) -> Result<GoReport, DemoError> {
    let go = ctx.go()?;
    let w = WORKLOAD;
    let args = [
        format!("-hold-us={}", w.hold.as_micros()),
        format!("-rounds={}", w.rounds),
        format!("-gap-us={}", w.gap.as_micros()),
        format!("-hog-limit-ms={}", w.hog_limit.as_millis()),
        format!("-bound-ms={}", WAIT_BOUND.as_millis()),
        format!("-attempts={ATTEMPTS}"),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let report: GoReport = go.run_json(GO_PROGRAM, &args)?;
    ctx.say(format!(
        "{} (GOMAXPROCS {}, {} CPUs)",
        report.go_version, report.gomaxprocs, report.num_cpu
    ));
    Ok(report)
}

/// The index of the first attempt whose worst wait is under `bound`, if any.
pub fn first_under_bound(waits: &[Duration], bound: Duration) -> Option<usize> {
    waits.iter().position(|w| *w < bound)
}

pub const GO_STARVATION_BOUND: Demo = Demo {
    name: "go-37/go-agrees-on-the-starvation-bound",
    claim: "Under the same hog-and-victim workload, Go's real sync.Mutex and the port (starvation \
            mode on) both keep the victim's worst wait under 50 ms, close to the 1 ms threshold",
    needs: Need::Go,
    run: go_starvation_bound,
};

fn go_starvation_bound(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let report = run_go(ctx)?;
    ctx.say(workload_line(&WORKLOAD));
    check_eq!(
        (report.starvation.hold_us, report.starvation.rounds),
        (WORKLOAD.hold.as_micros() as u64, WORKLOAD.rounds),
        "the Go program ran the same workload"
    );
    let go_waits: Vec<Duration> = report
        .starvation
        .attempts
        .iter()
        .map(|a| Duration::from_nanos(a.max_wait_ns))
        .collect();
    for (a, w) in report.starvation.attempts.iter().zip(&go_waits) {
        ctx.say(format!(
            "Go sync.Mutex:        worst wait {:>9.3} ms, {:>3} rounds while the hog ran, hog locked {:>4}×",
            ms(*w),
            a.rounds_while_hog_ran,
            a.hog_rounds
        ));
    }
    let mut rust_waits = Vec::new();
    for _ in 0..ATTEMPTS {
        let r = starvation::victim_max_wait(&GoMutex::new(), WORKLOAD);
        ctx.say(format!("Rust GoMutex:         {}", victim_line(&r)));
        rust_waits.push(r.max_wait);
        if r.max_wait < WAIT_BOUND {
            break;
        }
    }
    let off = starvation::victim_max_wait(&GoMutex::without_starvation(), WORKLOAD);
    ctx.say(format!(
        "for contrast, the port with starvation mode off: {}",
        victim_line(&off)
    ));
    check_eq!(
        report.starvation.bound_ms,
        WAIT_BOUND.as_millis() as u64,
        "the bound the Go program used"
    );
    check!(
        first_under_bound(&go_waits, WAIT_BOUND).is_some(),
        "Go's worst wait exceeded {WAIT_BOUND:?} in every attempt: {go_waits:?}"
    );
    check!(
        first_under_bound(&rust_waits, WAIT_BOUND).is_some(),
        "the port's worst wait exceeded {WAIT_BOUND:?} in every attempt: {rust_waits:?}"
    );
    check_eq!(
        report.kinds.mutex_count,
        report.kinds.mutex_expected,
        "Go's Mutex: increments counted"
    );
    ctx.say(format!(
        "both stay under {} ms: the 1 ms starvation threshold, plus one hold, plus a wake-up",
        WAIT_BOUND.as_millis()
    ));
    Ok(())
}

pub const KINDS: Demo = Demo {
    name: "go-18/every-kind-of-lock-keeps-its-promise",
    claim: "Mutex loses no update; RWMutex lets 4 readers in together and queues new readers behind \
            a waiting writer; Once runs f once (and counts a panicking f as done); a spin lock on an \
            AtomicBool excludes; Cond's wait releases the lock while waiting",
    needs: Need::Nothing,
    run: every_kind,
};

fn kinds_lines(k: &LockKinds) -> Vec<String> {
    vec![
        format!(
            "Mutex:     {} of {} load+store increments kept",
            k.mutex_count, k.mutex_expected
        ),
        format!(
            "RWMutex:   {} of {} readers inside at once; TryRLock refused behind a waiting writer: {}; \
             writer before the later reader: {}",
            k.rw_max_overlap,
            k.rw_readers,
            k.rw_try_rlock_refused_behind_writer,
            k.rw_writer_before_new_reader
        ),
        format!(
            "Once:      f ran {}× for {} racing callers; done after a panicking f: {}",
            k.once_runs, k.once_callers, k.once_done_after_panic
        ),
        format!(
            "spin lock: {} of {} increments kept; try_lock refused while held: {}",
            k.spin_count, k.mutex_expected, k.spin_try_refused_while_held
        ),
        format!(
            "Cond:      the signaller locked the mutex while the waiter waited: {}",
            k.cond_wait_released_lock
        ),
    ]
}

fn every_kind(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let k = kinds::observe();
    for line in kinds_lines(&k) {
        ctx.say(line);
    }
    let broken = kinds::broken_promises(&k);
    check!(broken.is_empty(), "{}", broken.join("; "));
    Ok(())
}

pub const GO_KINDS: Demo = Demo {
    name: "go-18/go-agrees-on-every-kind",
    claim: "Go's sync.Mutex, RWMutex, Once, Cond and an atomic.Bool spin lock show exactly the \
            observations the Rust ports show",
    needs: Need::Go,
    run: go_every_kind,
};

fn go_every_kind(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let report = run_go(ctx)?;
    let rust = kinds::observe();
    for (r, g) in kinds_lines(&rust).iter().zip(kinds_lines(&report.kinds)) {
        ctx.say(format!("Rust {r}"));
        ctx.say(format!("Go   {g}"));
    }
    let broken = kinds::broken_promises(&report.kinds);
    check!(broken.is_empty(), "Go: {}", broken.join("; "));
    let diffs = kinds::differences(&rust, &report.kinds);
    check!(
        diffs.is_empty(),
        "Go and the ports disagree: {}",
        diffs.join("; ")
    );
    ctx.say("every observation agrees");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_under_bound_needs_one_attempt_below_it() {
        let ms = Duration::from_millis;
        assert_eq!(first_under_bound(&[ms(80), ms(3)], ms(50)), Some(1));
        assert_eq!(first_under_bound(&[ms(80), ms(60)], ms(50)), None);
        assert_eq!(first_under_bound(&[], ms(50)), None);
    }
}
