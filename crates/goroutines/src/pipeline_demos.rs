//! The demos of go-04, asserting the claims of `docs/go/go-04.md` with [`crate::pipeline`] and,
//! for the Go side, `go/cmd/go04-csp`.

use catalog::{Ctx, Demo, DemoError, Need, check, check_eq};

use crate::pipeline::{self, Run};

/// The Go program of go-04.
pub const GO_PROGRAM: &str = "cmd/go04-csp";
/// Values the generator emits in every run.
pub const N: u64 = 20;
/// Workers in the fan-out stage.
pub const WORKERS: usize = 3;

pub const LINEAR: Demo = Demo {
    name: "go-04/pipeline-keeps-order-and-closes-front-to-back",
    claim: "generator → square → keep-even → sink, joined by unbuffered channels: the sink gets \
            the even squares in order, closing the source shuts the stages down front to back \
            (each logs its exit after its feeder), every packet moved along the channels one owner \
            at a time, and every thread is joined",
    needs: Need::Nothing,
    run: linear,
};

fn say_run(ctx: &Ctx<'_>, run: &Run) {
    ctx.say(format!(
        "exit log: {}",
        run.exits
            .iter()
            .map(|e| format!("{}({})", e.stage, e.handled))
            .collect::<Vec<_>>()
            .join(" → ")
    ));
    if let Some(p) = run.output.first() {
        ctx.say(format!(
            "route of packet #{}: {}",
            p.seq,
            p.route.join(" → ")
        ));
    }
    ctx.say(format!(
        "threads spawned {}, joined {}",
        run.spawned, run.joined
    ));
}

fn linear(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let (run, graph) = pipeline::linear(N);
    let values: Vec<u64> = run.output.iter().map(|p| p.value).collect();
    ctx.say(format!("sink received {values:?}"));
    say_run(ctx, &run);
    check_eq!(
        values,
        pipeline::expected_linear(N),
        "values in arrival order"
    );
    let bad = pipeline::exit_order_violations(&pipeline::exit_names(&run), &graph);
    check!(bad.is_empty(), "shutdown out of order: {bad:?}");
    let bad = pipeline::route_violations(&run.output, &graph);
    check!(bad.is_empty(), "packets off the channels: {bad:?}");
    check_eq!(run.joined, run.spawned, "threads joined");
    Ok(())
}

pub const FAN: Demo = Demo {
    name: "go-04/fan-out-fan-in-keeps-every-value-once",
    claim: "with 3 workers sharing one input channel and a merge per worker, the sink gets each \
            x²+1 exactly once (order not defined), the workers' own counts add up to n, every \
            stage exits after the stages feeding it, and all 8 threads are joined",
    needs: Need::Nothing,
    run: fan,
};

fn worker_counts(run: &Run) -> Vec<(String, u64)> {
    run.exits
        .iter()
        .filter(|e| e.stage.starts_with("worker-"))
        .map(|e| (e.stage.clone(), e.handled))
        .collect()
}

fn fan(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let (run, graph) = pipeline::fan_out_fan_in(N, WORKERS);
    let arrival: Vec<u64> = run.output.iter().map(|p| p.value).collect();
    ctx.say(format!("sink received (arrival order) {arrival:?}"));
    say_run(ctx, &run);
    check_eq!(
        pipeline::sorted_values(&run.output),
        pipeline::expected_fan_out(N),
        "values, sorted"
    );
    let counts = worker_counts(&run);
    check_eq!(counts.len(), WORKERS, "workers that reported");
    check_eq!(
        counts.iter().map(|c| c.1).sum::<u64>(),
        N,
        "packets handled by the workers together ({counts:?})"
    );
    let bad = pipeline::exit_order_violations(&pipeline::exit_names(&run), &graph);
    check!(bad.is_empty(), "shutdown out of order: {bad:?}");
    let bad = pipeline::route_violations(&run.output, &graph);
    check!(bad.is_empty(), "packets off the channels: {bad:?}");
    check_eq!((run.spawned, run.joined), (8, 8), "threads spawned, joined");
    Ok(())
}

/// What `go/cmd/go04-csp` prints.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct GoReport {
    pub go_version: String,
    pub n: u64,
    pub workers: usize,
    pub linear: Run,
    pub fan_out: Run,
}

pub const GO_AGREES: Demo = Demo {
    name: "go-04/go-pipeline-agrees",
    claim: "Go's goroutines and unbuffered channels running the same two pipelines give the same \
            linear output and exit order as the Rust threads, the same fan-in content, the same \
            routes, and every goroutine is waited for",
    needs: Need::Go,
    run: go_agrees,
};

fn go_agrees(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let go = ctx.go()?;
    let n = N.to_string();
    let w = WORKERS.to_string();
    let g: GoReport = go.run_json(GO_PROGRAM, &["-n", &n, "-workers", &w])?;
    ctx.say(format!(
        "{}: n={}, workers={}",
        g.go_version, g.n, g.workers
    ));
    let (rl, lgraph) = pipeline::linear(N);
    let (rf, fgraph) = pipeline::fan_out_fan_in(N, WORKERS);
    ctx.say("Go linear run:");
    say_run(ctx, &g.linear);
    ctx.say("Go fan-out run:");
    say_run(ctx, &g.fan_out);
    check_eq!(
        g.linear.output,
        rl.output,
        "linear pipeline: Go's packets vs Rust's"
    );
    check_eq!(
        pipeline::exit_names(&g.linear),
        pipeline::exit_names(&rl),
        "linear pipeline: exit order"
    );
    check_eq!(
        pipeline::sorted_values(&g.fan_out.output),
        pipeline::sorted_values(&rf.output),
        "fan-out pipeline: values, sorted"
    );
    for (what, run, graph) in [
        ("linear", &g.linear, &lgraph),
        ("fan-out", &g.fan_out, &fgraph),
    ] {
        let bad = pipeline::exit_order_violations(&pipeline::exit_names(run), graph);
        check!(bad.is_empty(), "Go {what}: shutdown out of order: {bad:?}");
        let bad = pipeline::route_violations(&run.output, graph);
        check!(
            bad.is_empty(),
            "Go {what}: packets off the channels: {bad:?}"
        );
        check_eq!(run.joined, run.spawned, "Go {what}: goroutines waited for");
    }
    check_eq!(g.fan_out.spawned, rf.spawned, "fan-out: stages started");
    ctx.say("Go and Rust agree on output, order of shutdown and routes");
    Ok(())
}
