//! The demos of go-23, asserting the claims of `docs/go/go-23.md` with [`crate::defer`] and, for
//! the Go side, `go/cmd/go23-defer`.

use catalog::{Ctx, Demo, DemoError, Need, check, check_eq};

use crate::defer::{self, Ended, Table};

pub const GO_PROGRAM: &str = "cmd/go23-defer";

pub const GUARDS: Demo = Demo {
    name: "go-23/drop-guards-run-lifo-with-values-frozen-at-creation",
    claim: "scope guards run last in, first out; a move closure freezes the value it captured when \
            the guard was made (like a deferred call's arguments) while a borrowing closure sees \
            later writes; a guard can change an out-parameter but not a value already returned",
    needs: Need::Nothing,
    run: guards,
};

fn guards(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let order = defer::lifo();
    ctx.say(format!("guards made for 1, 2, 3 ran as {order:?}"));
    let made: Vec<i32> = vec![1, 2, 3];
    check_eq!(
        order,
        made.iter().rev().copied().collect::<Vec<_>>(),
        "drop order vs reverse creation order"
    );
    let (frozen, later) = (defer::args_at_defer(), defer::closure_sees_later());
    ctx.say(format!(
        "x = 1, guard made, x = 2: a move closure saw {frozen}, a borrowing closure saw {later}"
    ));
    check_eq!(
        (frozen, later),
        (1, 2),
        "(move, borrow) closures' view of x"
    );
    let (named, unnamed) = (defer::named_result(), defer::unnamed_result());
    ctx.say(format!(
        "a guard doubling the result after it was set to 3: out-parameter {named}, returned value {unnamed}"
    ));
    check_eq!((named, unnamed), (6, 3), "(out-parameter, returned value)");
    Ok(())
}

pub const SCOPES: Demo = Demo {
    name: "go-23/guards-are-block-scoped-and-run-on-unwind",
    claim: "a guard made in a loop body runs at the end of each iteration and a Vec of guards runs \
            front to back, so Go's function-scoped LIFO needs a defer stack; guards run while \
            unwinding (thread::panicking() is true inside) and on a Goexit-style early exit, \
            skipping the code after it",
    needs: Need::Nothing,
    run: scopes,
};

fn scopes(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let block = defer::loop_block_scoped();
    let vec = defer::loop_vec_of_guards();
    let stack = defer::loop_deferred_to_function_end();
    ctx.say(format!("guard in the loop body: {block:?}"));
    ctx.say(format!("Vec of guards:          {vec:?}"));
    ctx.say(format!("DeferStack:             {stack:?}"));
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    check_eq!(
        block,
        s(&["0", "1", "2", "loop-done"]),
        "block-scoped guards"
    );
    check_eq!(vec, s(&["loop-done", "0", "1", "2"]), "Vec of guards");
    check_eq!(stack, s(&["loop-done", "2", "1", "0"]), "defer stack");
    let u = defer::runs_on_unwind();
    ctx.say(format!("{u:?}"));
    check!(
        u.guard_ran && u.guard_saw_panicking && u.caught,
        "unwinding: {u:?}"
    );
    let (ran, after, ended) = defer::goexit_in_thread();
    ctx.say(format!(
        "goexit() in a thread: guard ran {ran}, code after it ran {after}, ended as {ended:?}"
    ));
    check_eq!((ran, after, ended), (true, false, Ended::Goexit), "goexit");
    Ok(())
}

/// What `go/cmd/go23-defer` prints.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct GoReport {
    pub go_version: String,
    pub lifo: Vec<i32>,
    pub args_at_defer: i32,
    pub closure_sees_later: i32,
    pub named_result: i32,
    pub unnamed_result: i32,
    #[serde(rename = "loop")]
    pub loop_order: Vec<String>,
    pub runs_on_panic: bool,
    pub recover_direct_in_defer: bool,
    pub recover_in_helper_of_defer: bool,
    pub recover_outside_panic: bool,
    pub goexit: GoGoexit,
    pub os_exit: GoExit,
    #[serde(rename = "return")]
    pub ret: GoExit,
    pub cost: GoCost,
}

#[derive(Debug, Clone, Copy, serde::Deserialize)]
pub struct GoGoexit {
    pub deferred_ran: bool,
    pub after_ran: bool,
    pub recover_saw_it: bool,
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct GoExit {
    pub mode: String,
    pub exit_code: i32,
    pub before_ran: bool,
    pub deferred_ran: bool,
}

#[derive(Debug, Clone, Copy, serde::Deserialize)]
pub struct GoCost {
    pub iterations: u64,
    pub ns_plain: f64,
    pub ns_defer: f64,
    pub ns_defer_in_loop: f64,
    pub ns_defer_over_plain: f64,
}

impl GoReport {
    /// The fields Rust's table has too.
    pub fn table(&self) -> Table {
        Table {
            lifo: self.lifo.clone(),
            args_at_defer: self.args_at_defer,
            closure_sees_later: self.closure_sees_later,
            named_result: self.named_result,
            unnamed_result: self.unnamed_result,
            loop_order: self.loop_order.clone(),
            runs_on_panic: self.runs_on_panic,
            goexit_deferred_ran: self.goexit.deferred_ran,
            goexit_after_ran: self.goexit.after_ran,
        }
    }
}

fn run_go(ctx: &Ctx<'_>) -> Result<GoReport, DemoError> {
    let go = ctx.go()?;
    let r: GoReport = go.run_json(GO_PROGRAM, &["-iterations=1000000"])?;
    ctx.say(&r.go_version);
    Ok(r)
}

pub const GO_AGREES: Demo = Demo {
    name: "go-23/go-defer-and-drop-guards-agree",
    claim: "Go's defer and the Rust guards give the same table: LIFO order, arguments frozen at \
            the defer, closures seeing later values, a named result changed (an unnamed one not), \
            defers in a loop run after it last-first, cleanup on panic and on Goexit",
    needs: Need::Go,
    run: go_agrees,
};

fn go_agrees(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let g = run_go(ctx)?;
    let go = g.table();
    let rust = defer::rust_table();
    ctx.say(format!("{:<22} {:<32} Rust", "", "Go"));
    let rows = [
        ("lifo", format!("{:?}", go.lifo), format!("{:?}", rust.lifo)),
        (
            "args at defer",
            go.args_at_defer.to_string(),
            rust.args_at_defer.to_string(),
        ),
        (
            "closure sees later",
            go.closure_sees_later.to_string(),
            rust.closure_sees_later.to_string(),
        ),
        (
            "named result / out",
            go.named_result.to_string(),
            rust.named_result.to_string(),
        ),
        (
            "unnamed result",
            go.unnamed_result.to_string(),
            rust.unnamed_result.to_string(),
        ),
        (
            "loop",
            format!("{:?}", go.loop_order),
            format!("{:?}", rust.loop_order),
        ),
        (
            "runs on panic",
            go.runs_on_panic.to_string(),
            rust.runs_on_panic.to_string(),
        ),
        (
            "goexit: cleanup, after",
            format!("{}, {}", go.goexit_deferred_ran, go.goexit_after_ran),
            format!("{}, {}", rust.goexit_deferred_ran, rust.goexit_after_ran),
        ),
    ];
    for (what, a, b) in rows {
        ctx.say(format!("{what:<22} {a:<32} {b}"));
    }
    let d = defer::differences(&go, &rust);
    check!(d.is_empty(), "Go and Rust disagree: {d:?}");
    check!(
        go.named_result != go.unnamed_result,
        "Go's deferred closure changed the named and the unnamed result alike"
    );
    let c = g.cost;
    ctx.say(format!(
        "side note, {} calls each: lock+unlock {:.1} ns, with defer {:.1} ns ({:+.1}), defer in a \
         loop {:.1} ns (not open-coded)",
        c.iterations, c.ns_plain, c.ns_defer, c.ns_defer_over_plain, c.ns_defer_in_loop
    ));
    Ok(())
}

pub const GO_RECOVER_EXIT: Demo = Demo {
    name: "go-23/recover-only-in-a-deferred-call-and-os-exit-skips-defers",
    claim: "in Go, recover stops a panic only when called directly by a deferred function (not by \
            a helper it calls, not outside a panic, not during Goexit), and os.Exit ends the \
            process without running deferred calls while a return from main runs them",
    needs: Need::Go,
    run: go_recover_exit,
};

fn go_recover_exit(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let g = run_go(ctx)?;
    ctx.say(format!(
        "recover: directly in a deferred call {}, in a helper of it {}, outside a panic {}, \
         during Goexit {}",
        g.recover_direct_in_defer,
        g.recover_in_helper_of_defer,
        g.recover_outside_panic,
        g.goexit.recover_saw_it
    ));
    check_eq!(
        (
            g.recover_direct_in_defer,
            g.recover_in_helper_of_defer,
            g.recover_outside_panic,
            g.goexit.recover_saw_it
        ),
        (true, false, false, false),
        "(direct, helper, outside, goexit) recovers"
    );
    for e in [&g.os_exit, &g.ret] {
        ctx.say(format!(
            "child -mode={}: exit code {}, printed before {}, deferred call ran {}",
            e.mode, e.exit_code, e.before_ran, e.deferred_ran
        ));
    }
    check_eq!(
        (
            g.os_exit.exit_code,
            g.os_exit.before_ran,
            g.os_exit.deferred_ran
        ),
        (3, true, false),
        "os.Exit(3) child: (code, before, deferred)"
    );
    check_eq!(
        (g.ret.exit_code, g.ret.before_ran, g.ret.deferred_ran),
        (0, true, true),
        "returning child: (code, before, deferred)"
    );
    Ok(())
}
