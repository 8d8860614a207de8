//! The demos of go-09, registered in [`crate::topic`]. Each asserts a claim of `docs/go/go-09.md`.

use catalog::{Ctx, Demo, DemoError, Need, check, check_eq};

use crate::fixes::{self, Tally};
use crate::go_side::{self, GoCount, RaceReport};
use crate::interleave::{self, INTERLEAVED, SERIAL, Update};
use crate::process::{self, Finished, Scratch};
use crate::rustc::{self, RustcError};
use crate::snippets::{self, COUNT, EACH, THREADS};
use crate::traits;

/// The arguments every counting run of the Go program gets: the snippets' 4 × 100 000.
fn count_args(variant: &str) -> [String; 3] {
    [
        format!("-variant={variant}"),
        format!("-goroutines={THREADS}"),
        format!("-each={EACH}"),
    ]
}

fn as_strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// `GORACE` for runs whose exit time does not matter: the race runtime otherwise sleeps 1 s in
/// the main goroutine before exiting (`atexit_sleep_ms`, default 1000).
const NO_EXIT_SLEEP: &str = "atexit_sleep_ms=0";

fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

/// An exit code for printing: the number, or how the process ended without one.
fn code(c: Option<i32>) -> String {
    c.map_or_else(|| "none (ended by a signal)".to_string(), |c| c.to_string())
}

pub const GO_RACE_DETECTED: Demo = Demo {
    name: "go-09/go-race-detector-reports-the-racy-counter",
    claim: "`go run -race` on Go's racy counter (counter++ from 4 goroutines) reports WARNING: DATA \
            RACE at the counter++ line and ends with `exit status 66`; GORACE=exitcode=3 makes the \
            program exit 3 instead",
    needs: Need::Go,
    run: go_race_detected,
};

fn go_race_detected(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let go = ctx.go()?;
    let args = count_args("racy");
    ctx.say(format!(
        "$ go run -race ./{} {}   ({})",
        go_side::PROGRAM,
        args.join(" "),
        go.version
    ));
    let out = go.run_race(go_side::PROGRAM, &as_strs(&args))?;
    if go_side::race_unavailable(&out.stderr) {
        return Err(DemoError::Unavailable(format!(
            "`go run -race` cannot build the race detector here (it needs cgo and a C \
             compiler such as gcc): {}",
            out.stderr.trim()
        )));
    }
    let count = go_side::parse_count(&out.stdout)?;
    let report = RaceReport::parse(&out.stderr);
    let bins = go_side::build(go)?;
    let line = go_side::line_in_func(&bins.source, "racy", "counter++")
        .ok_or_else(|| DemoError::Broken("no `counter++` line in func racy".into()))?;
    ctx.say(format!(
        "{} report(s), exit summary \"Found {} data race(s)\"; the first frames: {}",
        report.warnings,
        report
            .found
            .map_or_else(|| "no".to_string(), |n| n.to_string()),
        report
            .frames
            .iter()
            .take(2)
            .map(|f| format!("{}() at main.go:{}", f.function, f.line))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    ctx.say(format!(
        "the program still printed its count: {} of {} (race build: {})",
        count.counts.first().copied().unwrap_or(0),
        count.expected,
        count.race_enabled
    ));
    let status = go_side::go_run_exit_status(&out.stderr);
    ctx.say(format!(
        "go run's last line: {}; go run itself {}",
        status.map_or_else(
            || "no exit status".to_string(),
            |s| format!("exit status {s}")
        ),
        if out.success { "succeeded" } else { "failed" }
    ));
    check!(count.race_enabled, "the program was not built with -race");
    report
        .shows_race_at("main.racy", "main.go", line)
        .map_err(DemoError::Claim)?;
    check_eq!(
        status,
        Some(66),
        "the status go run reports for the program"
    );
    check!(
        !out.success,
        "go run succeeded although its program exited 66"
    );

    ctx.say(format!(
        "built once with -race ({:.1} s, cached after the first time); run directly:",
        bins.race_build.as_secs_f64()
    ));
    for (gorace, want) in [
        (NO_EXIT_SLEEP.to_string(), 66),
        (format!("exitcode=3 {NO_EXIT_SLEEP}"), 3),
    ] {
        let f = go_side::run(&bins.race, &as_strs(&args), Some(&gorace))?;
        let r = RaceReport::parse(&f.stderr);
        ctx.say(format!(
            "  GORACE=\"{gorace}\": exit code {}, {} report(s)",
            f.code.map_or_else(
                || "none (killed by a signal)".to_string(),
                |c| c.to_string()
            ),
            r.warnings
        ));
        r.shows_race_at("main.racy", "main.go", line)
            .map_err(DemoError::Claim)?;
        check_eq!(
            f.code,
            Some(want),
            "the exit code under GORACE=\"{gorace}\""
        );
    }
    Ok(())
}

/// The claim for a fixed variant under `-race`: exit 0, not one report, and the exact count.
pub fn clean_and_exact(run: &Finished, count: &GoCount) -> Result<(), String> {
    let report = RaceReport::parse(&run.stderr);
    if report.warnings > 0 {
        return Err(format!(
            "{} race report(s) for variant {}",
            report.warnings, count.variant
        ));
    }
    if run.code != Some(0) {
        return Err(format!("exit code {:?}: {}", run.code, run.stderr.trim()));
    }
    if count.counts != [count.expected] {
        return Err(format!(
            "counted {:?}, expected {}",
            count.counts, count.expected
        ));
    }
    Ok(())
}

pub const GO_FIXES_CLEAN: Demo = Demo {
    name: "go-09/go-fixes-pass-the-race-detector",
    claim: "Under -race, Go's three fixes (sync.Mutex, atomic.Uint64, a goroutine that owns the \
            counter fed over a channel) produce no race report, exit 0 and count exactly 400000, \
            the same count as the Rust fixes",
    needs: Need::Go,
    run: go_fixes_clean,
};

fn go_fixes_clean(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let go = ctx.go()?;
    let bins = go_side::build(go)?;
    ctx.say(format!(
        "{} {} goroutines × {} increments, built with -race and without; GORACE=\"{NO_EXIT_SLEEP}\"",
        go.version, THREADS, EACH
    ));
    for variant in ["mutex", "atomic", "channel"] {
        let args = count_args(variant);
        let run = go_side::run(&bins.race, &as_strs(&args), Some(NO_EXIT_SLEEP))?;
        let count = go_side::parse_count(&run.stdout)?;
        let plain =
            go_side::parse_count(&go_side::run(&bins.plain, &as_strs(&args), None)?.stdout)?;
        let (r, p) = (
            count.elapsed_ns.first().copied().unwrap_or(0),
            plain.elapsed_ns.first().copied().unwrap_or(0),
        );
        ctx.say(format!(
            "  {variant:<8} -race: count {:?}, exit {}, {} report(s), {:>6.1} ms, {:>5} KiB peak \
             │ plain: {:>5.1} ms, {:>5} KiB",
            count.counts,
            code(run.code),
            RaceReport::parse(&run.stderr).warnings,
            ms(r),
            count.peak_rss_kib,
            ms(p),
            plain.peak_rss_kib,
        ));
        check!(count.race_enabled, "{variant}: not built with -race");
        clean_and_exact(&run, &count).map_err(DemoError::Claim)?;
        check_eq!(count.expected, COUNT, "{variant}: goroutines × each");
    }
    let rust = fixes::tally_all(THREADS as usize, EACH);
    for t in &rust {
        ctx.say(format!("  Rust {:<20} count {}", t.fix, t.got));
    }
    check!(
        rust.iter().all(Tally::exact),
        "a Rust fix lost updates: {rust:?}"
    );
    Ok(())
}

/// The claim for the racy program built without `-race`: it runs like any other program. Exit 0,
/// no report of any kind on stderr, and a count (right or wrong) on stdout.
pub fn silent(run: &Finished, count: &GoCount) -> Result<(), String> {
    if count.race_enabled {
        return Err("this binary was built with -race".into());
    }
    if run.code != Some(0) {
        return Err(format!("exit code {:?}", run.code));
    }
    if !run.stderr.trim().is_empty() {
        return Err(format!("it printed on stderr: {}", run.stderr.trim()));
    }
    Ok(())
}

/// Attempts the silent-race demo makes, stopping at the first lost update.
pub const SILENT_ATTEMPTS: u32 = 50;
/// Increments per goroutine in the silent-race demo.
pub const SILENT_EACH: u64 = 1_000_000;

pub const GO_RACE_SILENT: Demo = Demo {
    name: "go-09/go-race-is-silent-without-the-detector",
    claim: "Built without -race, the same racy counter exits 0 and prints nothing on stderr: the \
            race goes unreported, and whether updates are lost depends on timing (printed, not \
            asserted)",
    needs: Need::Go,
    run: go_race_silent,
};

fn go_race_silent(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let go = ctx.go()?;
    let bins = go_side::build(go)?;
    // A million increments per goroutine: long enough for two goroutines to overlap when both
    // CPUs are free. The count is printed, not asserted.
    let args = [
        "-variant=racy".to_string(),
        format!("-goroutines={THREADS}"),
        format!("-each={SILENT_EACH}"),
        format!("-attempts={SILENT_ATTEMPTS}"),
    ];
    let run = go_side::run(&bins.plain, &as_strs(&args), None)?;
    let count = go_side::parse_count(&run.stdout)?;
    ctx.say(format!(
        "{} racy counter, no -race, GOMAXPROCS {} on {} CPUs: exit {}, stderr {:?}",
        count.go_version,
        count.gomaxprocs,
        count.num_cpu,
        code(run.code),
        run.stderr.trim()
    ));
    match count.first_loss() {
        Some((attempt, lost)) => ctx.say(format!(
            "attempt {attempt} of up to {SILENT_ATTEMPTS} lost {lost} of {} updates, silently",
            count.expected
        )),
        None => ctx.say(format!(
            "no update lost in {} attempts: a loss needs two goroutines incrementing at the same \
             moment on two CPUs, which this run never had. The race was there all the same",
            count.counts.len()
        )),
    }
    silent(&run, &count).map_err(DemoError::Claim)?;
    // The same check on the -race build must fail: the detector is what speaks up.
    let raced = go_side::run(
        &bins.race,
        &as_strs(&count_args("racy")),
        Some(NO_EXIT_SLEEP),
    )?;
    let raced_count = go_side::parse_count(&raced.stdout)?;
    check!(
        silent(&raced, &raced_count).is_err(),
        "the -race build was silent too"
    );
    ctx.say("the -race build of the same source is not silent (see go-race-detector-reports-the-racy-counter)");
    Ok(())
}

pub const GO_MISSES_RACE_CONDITION: Demo = Demo {
    name: "go-09/go-race-detector-misses-a-lost-update-without-a-data-race",
    claim: "When channel handoffs force the order A reads, B reads, A writes, B writes, Go loses one \
            of two updates every time and -race reports nothing, because every access is ordered; \
            the Rust model of the same schedule loses the same update",
    needs: Need::Go,
    run: go_misses_race_condition,
};

fn go_misses_race_condition(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let go = ctx.go()?;
    let bins = go_side::build(go)?;
    let run = go_side::run(&bins.race, &["-variant=interleaved"], Some(NO_EXIT_SLEEP))?;
    let count = go_side::parse_count(&run.stdout)?;
    let report = RaceReport::parse(&run.stderr);
    let rust = interleave::run(Update::LoadThenStore, INTERLEAVED);
    ctx.say(format!(
        "Go, -race, schedule A.read B.read A.write B.write: count {:?} of {}, exit {}, {} report(s)",
        count.counts,
        count.expected,
        code(run.code),
        report.warnings
    ));
    ctx.say(format!(
        "Rust, same schedule, AtomicI64 load then store: {rust} of 2"
    ));
    check!(count.race_enabled, "not built with -race");
    check_eq!(report.warnings, 0, "race reports for an ordered schedule");
    check_eq!(run.code, Some(0), "exit code");
    check_eq!(count.counts, vec![1], "Go's count after two increments");
    check_eq!(rust, 1, "the Rust model's count after two increments");
    Ok(())
}

fn find_rustc(ctx: &Ctx<'_>) -> Result<rustc::Rustc, DemoError> {
    let r = rustc::find().map_err(|e| match e {
        RustcError::NotFound => DemoError::Unavailable(e.to_string()),
        other => DemoError::Broken(other.to_string()),
    })?;
    ctx.say(format!("{} ({})", r.version, r.bin.display()));
    Ok(r)
}

fn scratch() -> Result<Scratch, DemoError> {
    Scratch::new("go09-rustc").map_err(|e| DemoError::Broken(format!("scratch dir: {e}")))
}

pub const RUSTC_REJECTS: Demo = Demo {
    name: "go-09/rustc-rejects-the-racy-counter",
    claim: "rustc refuses every safe way of writing Go's racy counter: &mut shared by threads (E0373, \
            E0499), Rc<Cell> sent to threads and Cell shared by them (E0277), a global static \
            (E0594, E0277), and a static mut outside unsafe (E0133)",
    needs: Need::Nothing,
    run: rustc_rejects,
};

fn rustc_rejects(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let rustc = find_rustc(ctx)?;
    let dir = scratch()?;
    for s in snippets::RACY {
        let c = rustc
            .check(s, &dir)
            .map_err(|e| DemoError::Broken(e.to_string()))?;
        let first = c
            .diagnostics
            .iter()
            .find(|d| d.level == "error" && d.code.is_some());
        ctx.say(format!(
            "{:<13} {:?}  {}",
            s.name,
            c.error_codes(),
            first.map(ToString::to_string).unwrap_or_default()
        ));
        rustc::judge_rejection(s.expect, &c)
            .map_err(|why| DemoError::Claim(format!("{}: {why}", s.name)))?;
    }
    Ok(())
}

pub const RUSTC_ACCEPTS_FIXES: Demo = Demo {
    name: "go-09/rustc-accepts-the-three-fixes",
    claim: "The three fixes (Arc<Mutex<u64>>, AtomicU64 with scoped threads, an owner thread fed \
            over mpsc) compile with rustc, and each program prints exactly 400000",
    needs: Need::Nothing,
    run: rustc_accepts_fixes,
};

fn rustc_accepts_fixes(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let rustc = find_rustc(ctx)?;
    let dir = scratch()?;
    for s in snippets::FIXES {
        let c = rustc
            .build(s, &dir)
            .map_err(|e| DemoError::Broken(e.to_string()))?;
        let Some(bin) = c.binary.as_ref() else {
            let why: Vec<String> = c.diagnostics.iter().map(ToString::to_string).collect();
            return Err(DemoError::Claim(format!(
                "{}: rustc refused the fix: {} {}",
                s.name,
                why.join("; "),
                c.other_stderr.trim()
            )));
        };
        let run = process::run(&mut std::process::Command::new(bin), process::TIMEOUT)
            .map_err(|e| DemoError::Broken(e.to_string()))?;
        ctx.say(format!(
            "{:<12} compiled in {:.2} s, printed {:?}",
            s.name,
            c.elapsed.as_secs_f64(),
            run.stdout.trim()
        ));
        rustc::judge_run(&run).map_err(|why| DemoError::Claim(format!("{}: {why}", s.name)))?;
    }
    Ok(())
}

pub const RUST_FIXES_COUNT: Demo = Demo {
    name: "go-09/mutex-atomic-and-owner-thread-count-exactly",
    claim: "With 4 threads released together by a barrier, each doing 100000 increments, a \
            Mutex<u64>, an AtomicU64 and a counter owned by one thread fed over a channel all count \
            exactly 400000",
    needs: Need::Nothing,
    run: rust_fixes_count,
};

fn rust_fixes_count(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let tallies = fixes::tally_all(THREADS as usize, EACH);
    for t in &tallies {
        ctx.say(format!(
            "{:<20} {} of {} ({} lost)",
            t.fix,
            t.got,
            t.expected,
            t.lost()
        ));
    }
    for t in &tallies {
        check!(t.exact(), "{} counted {} of {}", t.fix, t.got, t.expected);
    }
    Ok(())
}

pub const SEND_SYNC: Demo = Demo {
    name: "go-09/send-and-sync-decide-what-may-cross-threads",
    claim: "The compiler's Send/Sync answers match the page's table: Cell and RefCell are Send but \
            not Sync, Rc and Arc<Cell> are neither, Mutex, Arc<Mutex>, AtomicU64 and mpsc::Sender \
            are both, and a MutexGuard is Sync but not Send",
    needs: Need::Nothing,
    run: send_sync,
};

fn send_sync(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let rows = traits::table();
    ctx.say(format!(
        "{:<26} {:<5} {:<5} what threads may do",
        "type", "Send", "Sync"
    ));
    for r in &rows {
        ctx.say(format!(
            "{:<26} {:<5} {:<5} {}",
            r.ty,
            r.actual.0,
            r.actual.1,
            r.verdict()
        ));
    }
    let wrong = traits::disagreements(&rows);
    check!(
        wrong.is_empty(),
        "the compiler disagrees with the page on {:?}",
        wrong
    );
    Ok(())
}

pub const RACE_CONDITIONS: Demo = Demo {
    name: "go-09/safe-rust-still-has-race-conditions",
    claim: "Safe Rust compiles race conditions that are not data races: an increment split into an \
            atomic load and store loses one of two updates when both threads read first, and a \
            check-then-withdraw overdraws 100 to -100; fetch_add and fetch_update do not",
    needs: Need::Nothing,
    run: race_conditions,
};

fn race_conditions(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let cases = [
        (Update::LoadThenStore, SERIAL, "load; store(v+1), A then B"),
        (
            Update::LoadThenStore,
            INTERLEAVED,
            "load; store(v+1), A B A B",
        ),
        (Update::FetchAdd, INTERLEAVED, "fetch_add(1),       A B A B"),
        (
            Update::CheckThenWithdraw,
            INTERLEAVED,
            "if load ≥ 100 { fetch_sub }, A B A B",
        ),
        (
            Update::WithdrawIfCovered,
            INTERLEAVED,
            "fetch_update(≥ 100 → −100), A B A B",
        ),
    ];
    let mut results = Vec::new();
    for (update, schedule, label) in cases {
        let v = interleave::run(update, schedule);
        let ok = interleave::is_correct(update, v);
        ctx.say(format!(
            "{label:<38} start {:>3} → {v:>4}  ({})",
            update.initial(),
            if ok {
                "correct"
            } else {
                "WRONG, and it compiled"
            }
        ));
        results.push(ok);
    }
    check_eq!(
        results,
        vec![true, false, true, false, true],
        "which runs ended correct"
    );
    check_eq!(
        interleave::run(Update::LoadThenStore, INTERLEAVED),
        1,
        "the split increment's count"
    );
    check_eq!(
        interleave::run(Update::CheckThenWithdraw, INTERLEAVED),
        -100,
        "the balance after two check-then-withdraws"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn finished(code: Option<i32>, stderr: &str) -> Finished {
        Finished {
            code,
            stdout: String::new(),
            stderr: stderr.into(),
            elapsed: Duration::ZERO,
        }
    }

    fn count(race: bool, counts: Vec<u64>) -> GoCount {
        GoCount {
            go_version: "go1.26.8".into(),
            gomaxprocs: 2,
            num_cpu: 2,
            race_enabled: race,
            variant: "mutex".into(),
            goroutines: 4,
            each: 100_000,
            expected: 400_000,
            counts,
            elapsed_ns: vec![1],
            peak_rss_kib: 0,
        }
    }

    const WARNING: &str = "==================\nWARNING: DATA RACE\n==================\n";

    #[test]
    fn a_clean_exact_run_passes_and_each_flaw_fails() {
        assert_eq!(
            clean_and_exact(&finished(Some(0), ""), &count(true, vec![400_000])),
            Ok(())
        );
        assert!(
            clean_and_exact(&finished(Some(66), WARNING), &count(true, vec![400_000])).is_err()
        );
        assert!(clean_and_exact(&finished(Some(0), WARNING), &count(true, vec![400_000])).is_err());
        assert!(clean_and_exact(&finished(Some(0), ""), &count(true, vec![399_999])).is_err());
        assert!(clean_and_exact(&finished(Some(2), ""), &count(true, vec![400_000])).is_err());
    }

    #[test]
    fn silence_means_no_race_build_exit_zero_and_empty_stderr() {
        assert_eq!(
            silent(&finished(Some(0), ""), &count(false, vec![1])),
            Ok(())
        );
        assert!(silent(&finished(Some(0), ""), &count(true, vec![1])).is_err());
        assert!(silent(&finished(Some(66), WARNING), &count(false, vec![1])).is_err());
        assert!(silent(&finished(Some(0), WARNING), &count(false, vec![1])).is_err());
    }
}
