//! The demos of go-35 (why Go functions leak), registered in [`crate::topic`]. The Go side is
//! `go/cmd/go43-goleak -part=leaks`.

use std::time::{Duration, Instant};

use catalog::{Ctx, Demo, DemoError, Need, check, check_eq};

use crate::count_demos::{GRACE, GoGoroutine};
use crate::leaks::{self, Observed, SCENARIOS};
use crate::tasks::Tasks;

/// Items the abandoned queue must reach to count as growing.
pub const BACKLOG: usize = 50;

/// Waits (safety net: 5 s) for the abandoned producer's queue to hold `BACKLOG` items.
fn backlog_reached(tasks: &Tasks) -> (usize, Duration) {
    let started = Instant::now();
    let rx = leaks::start_producer(tasks, None);
    // Nobody receives, so `rx.len()` is the backlog; poll it (1 ms apart, a polling interval,
    // not an ordering) until it is big enough or the safety net gives up.
    while rx.len() < BACKLOG && started.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(1));
    }
    let n = rx.len();
    drop(rx);
    (n, started.elapsed())
}

pub const LEAKS: Demo = Demo {
    name: "go-35/each-leak-is-caught-and-each-fix-passes",
    claim: "A sender nobody receives from, a ticker loop nobody stops and a producer whose \
            consumer left each leave their task running (the detector names it), the abandoned \
            queue keeps growing, and each fixed version leaves nothing",
    needs: Need::Nothing,
    run: leaks_demo,
};

fn observed_line(name: &str, o: &Observed) -> String {
    format!(
        "{name:<20} leaky: {:?}; fixed: {:?}",
        o.leaked, o.fixed_leaked
    )
}

fn leaks_demo(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let tasks = Tasks::new();
    for s in &SCENARIOS {
        let o = leaks::observe(&tasks, s, GRACE).map_err(DemoError::Broken)?;
        ctx.say(observed_line(s.name, &o));
        leaks::leak_caught_and_fixed(s, &o).map_err(DemoError::Claim)?;
    }
    let (backlog, took) = backlog_reached(&tasks);
    ctx.say(format!(
        "the abandoned producer queued {backlog} items nobody will read in {:.0} ms",
        took.as_secs_f64() * 1e3
    ));
    check!(
        backlog >= BACKLOG,
        "the abandoned queue stopped at {backlog} items"
    );
    check!(
        tasks.wait_until(Duration::from_secs(5), |n| n == 0),
        "tasks left after every clean-up: {:?}",
        tasks.snapshot()
    );
    Ok(())
}

#[derive(Debug, Clone, serde::Deserialize)]
struct GoScenario {
    name: String,
    leaked: Vec<GoGoroutine>,
    fixed_leaked: Vec<GoGoroutine>,
}

#[derive(Debug, Clone, serde::Deserialize)]
struct GoLeaks {
    go_version: String,
    scenarios: Vec<GoScenario>,
}

pub const GO_LEAKS: Demo = Demo {
    name: "go-35/go-agrees-on-the-three-leaks",
    claim: "In Go the same three functions leave the same number of goroutines behind (2, 1, 1), \
            seen in a runtime.Stack dump of all goroutines, and their fixes leave none",
    needs: Need::Go,
    run: go_leaks,
};

fn go_leaks(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let go = ctx.go()?;
    let g: GoLeaks = go.run_json("cmd/go43-goleak", &["-part=leaks"])?;
    ctx.say(format!("{}:", g.go_version));
    let tasks = Tasks::new();
    check_eq!(
        g.scenarios.len(),
        SCENARIOS.len(),
        "scenarios the Go program ran"
    );
    for (s, gs) in SCENARIOS.iter().zip(&g.scenarios) {
        check_eq!(gs.name.as_str(), s.name, "scenario order");
        let states: Vec<String> = gs
            .leaked
            .iter()
            .map(|l| format!("{} [{}]", l.func, l.state))
            .collect();
        ctx.say(format!(
            "  Go   {:<20} leaked {states:?}; fixed leaked {}",
            s.name,
            gs.fixed_leaked.len()
        ));
        let o = leaks::observe(&tasks, s, GRACE).map_err(DemoError::Broken)?;
        ctx.say(format!("  Rust {}", observed_line(s.name, &o)));
        check_eq!(gs.leaked.len(), s.leaks, "Go: goroutines {} leaves", s.name);
        check!(gs.fixed_leaked.is_empty(), "Go: the fixed {} leaks", s.name);
        check_eq!(
            o.leaked.len(),
            gs.leaked.len(),
            "{}: leaked tasks, Rust vs Go",
            s.name
        );
        check_eq!(
            o.fixed_leaked.len(),
            0,
            "{}: Rust's fixed version leaks",
            s.name
        );
    }
    Ok(())
}
