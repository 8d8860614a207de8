//! The demos of go-48, asserting the claims of `docs/go/go-48.md` with [`crate::exit`] and, for
//! the Go side, `go/cmd/go48-exit`.

use catalog::{Ctx, Demo, DemoError, Need, check, check_eq};

use crate::exit::{self, Row, STOP_AT, TOTAL};

pub const GO_PROGRAM: &str = "cmd/go48-exit";

fn say_rows(ctx: &Ctx<'_>, who: &str, rows: &[Row]) {
    ctx.say(format!(
        "{who}: {:<16} {:>5} {:>8}  ended",
        "way", "steps", "cleanup"
    ));
    for r in rows {
        ctx.say(format!(
            "{who}: {:<16} {:>5} {:>8}  {}",
            r.case, r.steps_done, r.cleanup_ran, r.ended
        ));
    }
}

pub const WAYS: Demo = Demo {
    name: "go-48/every-way-to-stop-midway-runs-the-cleanup",
    claim: "a worker stopped at step 4 of 10 by returning, by a cancellation token checked between \
            steps, by a token waking it from a blocked select, by a Goexit-style unwind or by a \
            caught panic stops right at step 4, and its Drop-guard cleanup runs in every case",
    needs: Need::Nothing,
    run: ways,
};

fn ways(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let rows = exit::rust_rows();
    say_rows(ctx, "Rust", &rows);
    let bad = exit::rule_violations(&rows);
    check!(bad.is_empty(), "{bad:?}");
    Ok(())
}

pub const NO_KILL: Demo = Demo {
    name: "go-48/a-worker-that-ignores-cancellation-runs-to-the-end",
    claim: "stopping is cooperative: a worker that never checks the token runs all 10 steps after \
            being cancelled at step 4 (nothing can stop it from outside), while one that checks \
            stops at 4; and a thread that panics ends alone, the process goes on",
    needs: Need::Nothing,
    run: no_kill,
};

fn no_kill(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let checks = exit::run_case("cancel");
    let ignores = exit::run_case("ignores-cancel");
    say_rows(ctx, "Rust", &[checks.clone(), ignores.clone()]);
    check_eq!(
        (checks.steps_done, ignores.steps_done),
        (STOP_AT, TOTAL),
        "steps done after a cancel at step {STOP_AT} (checks, ignores)"
    );
    check_eq!(ignores.ended, "completed", "how the ignoring worker ended");
    let alone = exit::panicking_thread_leaves_the_process_running();
    ctx.say(format!(
        "a thread that panicked: join returned Err = {alone}, and this demo is still running"
    ));
    check!(alone, "join did not report the panicking thread");
    Ok(())
}

/// What `go/cmd/go48-exit` prints.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct GoReport {
    pub go_version: String,
    pub total: u32,
    pub stop_at: u32,
    pub rows: Vec<Row>,
    pub goexit_main: GoChild,
    pub panic_unrecovered: GoChild,
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct GoChild {
    pub mode: String,
    pub exit_code: i32,
    pub main_defer_ran: bool,
    pub worker_finished: bool,
    pub after_ran: bool,
    pub stderr: String,
}

fn run_go(ctx: &Ctx<'_>) -> Result<GoReport, DemoError> {
    let go = ctx.go()?;
    let args = [format!("-total={TOTAL}"), format!("-stop-at={STOP_AT}")];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let r: GoReport = go.run_json(GO_PROGRAM, &args)?;
    ctx.say(r.go_version.clone());
    Ok(r)
}

pub const GO_AGREES: Demo = Demo {
    name: "go-48/go-agrees-on-how-goroutines-stop",
    claim: "Go's goroutines stopped by return, ctx.Err() checks, a select on ctx.Done(), \
            runtime.Goexit and panic+recover give the same table as the Rust threads: stopped at \
            step 4, deferred cleanup run in every case, and the one ignoring ctx runs all 10 steps",
    needs: Need::Go,
    run: go_agrees,
};

fn go_agrees(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let g = run_go(ctx)?;
    check_eq!(
        (g.total, g.stop_at),
        (TOTAL, STOP_AT),
        "the Go program's workload"
    );
    let rust = exit::rust_rows();
    say_rows(ctx, "Go  ", &g.rows);
    say_rows(ctx, "Rust", &rust);
    let bad = exit::rule_violations(&g.rows);
    check!(bad.is_empty(), "Go: {bad:?}");
    check_eq!(g.rows, rust, "Go's table vs Rust's");
    Ok(())
}

pub const GO_WHOLE_PROGRAM: Demo = Demo {
    name: "go-48/goexit-in-main-and-an-unrecovered-panic-end-the-program",
    claim: "runtime.Goexit in main runs main's defers, lets the other goroutines finish, then \
            the runtime exits 2 with 'main called runtime.Goexit'; an unrecovered panic in any \
            goroutine exits 2 at once without running main's defers",
    needs: Need::Go,
    run: go_whole_program,
};

fn go_whole_program(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let g = run_go(ctx)?;
    for c in [&g.goexit_main, &g.panic_unrecovered] {
        ctx.say(format!(
            "child -mode={}: exit {}, main's defer ran {}, worker finished {}, code after ran {}; \
             stderr: {}",
            c.mode, c.exit_code, c.main_defer_ran, c.worker_finished, c.after_ran, c.stderr
        ));
    }
    let m = &g.goexit_main;
    check_eq!(
        (
            m.exit_code,
            m.main_defer_ran,
            m.worker_finished,
            m.after_ran
        ),
        (2, true, true, false),
        "Goexit in main: (exit code, main's defer, worker, code after)"
    );
    check!(
        m.stderr.contains("main called runtime.Goexit"),
        "Goexit in main: unexpected stderr {:?}",
        m.stderr
    );
    let p = &g.panic_unrecovered;
    check_eq!(
        (p.exit_code, p.main_defer_ran, p.after_ran),
        (2, false, false),
        "unrecovered panic: (exit code, main's defer, code after)"
    );
    check!(
        p.stderr.starts_with("panic: boom"),
        "unrecovered panic: unexpected stderr {:?}",
        p.stderr
    );
    ctx.say("in Rust the same panic ends only its thread (see go-48/a-worker-that-ignores-cancellation-runs-to-the-end)");
    Ok(())
}
