//! `lab bench pool`: what a task costs to start and to keep, what a worker pool costs per job, and
//! the same CPU-bound work concurrent on one core vs parallel on two; Go's figures from
//! `go/cmd/bench-pool` in the same run, as the baseline of every scenario.
//!
//! | scenario | Go row | Rust rows |
//! |---|---|---|
//! | spawn + join | goroutines + `sync.WaitGroup` | std threads, tokio tasks, rayon `scope.spawn`, `/bin/true` processes, the project's GPM scheduler |
//! | memory per parked task | `MemStats` stack + heap delta | thread `VmRSS` and `VmSize` deltas, tokio task `VmRSS` delta |
//! | pool, tiny jobs / heavy jobs | workers reading a channel of capacity 1024 | [`crate::pools::PoolImpl`], including this project's `csp::Pool` |
//! | CPU-bound work | 1 worker at `GOMAXPROCS=1`, 2 at 1, 2 at 2 | 1 thread, 2 tokio tasks on one thread, 2 threads |
//!
//! Each row checks its own result: every task or job ran exactly once, and the heavy jobs' XOR
//! equals [`crate::work::checksum`], on both sides. A run that fails the check fails the suite.

use std::sync::Arc;

use catalog::{BenchCtx, BenchReport, BenchSuite, DemoError, Stats};

use crate::pools::{self, PoolImpl, Runtimes};
use crate::spawn;
use crate::work::{HEAVY_ITERS, Seen, checksum, verdict};

/// `lab bench pool`.
pub const SUITE: BenchSuite = BenchSuite {
    name: "pool",
    about: "spawn cost and memory per task (goroutines, threads, tokio, rayon, processes), per-job overhead of worker pools (threadpool, rayon, tokio, crossbeam, Go), 1 vs 2 cores",
    questions: &["go-07", "go-21", "go-14"],
    run,
};

/// Workers of every pool and threads of the tokio and rayon runtimes: the lab's machines have 2.
pub const WORKERS: usize = 2;
/// The pools' queue capacity, the same on both sides.
pub const QUEUE_CAP: usize = 1024;

/// How much each scenario does; `--quick` keeps a debug build under half a minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizes {
    /// Goroutines, tokio tasks and rayon jobs per spawn + join run.
    pub spawn_tasks: usize,
    /// OS threads per spawn + join run.
    pub spawn_threads: usize,
    /// `/bin/true` processes per run.
    pub processes: usize,
    /// Parked goroutines and tokio tasks for the memory figures.
    pub mem_tasks: usize,
    /// Parked OS threads for the memory figures.
    pub mem_threads: usize,
    pub tiny_jobs: usize,
    pub heavy_jobs: usize,
    /// Heavy items in the concurrency-vs-parallelism runs.
    pub cpu_items: usize,
}

impl Sizes {
    pub fn for_run(quick: bool) -> Sizes {
        if quick {
            Sizes {
                spawn_tasks: 5_000,
                spawn_threads: 200,
                processes: 10,
                mem_tasks: 10_000,
                mem_threads: 100,
                tiny_jobs: 20_000,
                heavy_jobs: 300,
                cpu_items: 100,
            }
        } else {
            Sizes {
                spawn_tasks: 100_000,
                spawn_threads: 2_000,
                processes: 100,
                mem_tasks: 100_000,
                mem_threads: 1_000,
                tiny_jobs: 1_000_000,
                heavy_jobs: 10_000,
                cpu_items: 2_000,
            }
        }
    }
}

/// What `go/cmd/bench-pool` prints.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct GoReport {
    pub go_version: String,
    pub gomaxprocs: usize,
    pub num_cpu: usize,
    pub spawn: GoSpawn,
    pub memory: GoMemory,
    pub pools: Vec<GoPool>,
    pub cpu: Vec<GoCpu>,
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct GoSpawn {
    pub tasks: usize,
    pub ns_per_task: Vec<f64>,
    pub exactly_once: bool,
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct GoMemory {
    pub tasks: usize,
    pub bytes_per_task: Vec<f64>,
    pub stack_bytes_per_task: Vec<f64>,
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct GoPool {
    pub scenario: String,
    pub jobs: usize,
    pub ns_per_job: Vec<f64>,
    pub exactly_once: bool,
    pub checksum: u64,
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct GoCpu {
    pub workers: usize,
    pub gomaxprocs: usize,
    pub items: usize,
    pub ns_per_item: Vec<f64>,
    pub exactly_once: bool,
}

/// The Go row's label in every scenario (the report's baseline).
pub const GO: &str = "Go";

const SPAWN: &str = "spawn + join, ns/task";
const MEMORY: &str = "memory per parked task, bytes";
const CPU_1: &str = "CPU-bound, 1 worker on 1 core, ns/item";
const CPU_2_ON_1: &str = "CPU-bound, 2 workers on 1 core, ns/item";
const CPU_2_ON_2: &str = "CPU-bound, 2 workers on 2 cores, ns/item";

fn pool_scenario(kind: &str, jobs: usize) -> String {
    match kind {
        "tiny" => format!("pool, {jobs} tiny jobs, ns/job"),
        _ => format!("pool, {jobs} heavy jobs (~10 µs), ns/job"),
    }
}

/// Runs `one` `runs` times; each run returns its figure or the reason its result is wrong.
fn sample(
    runs: usize,
    mut one: impl FnMut() -> Result<f64, String>,
) -> Result<Option<Stats>, DemoError> {
    let mut v = Vec::with_capacity(runs);
    for _ in 0..runs {
        v.push(one().map_err(DemoError::Claim)?);
    }
    Ok(Stats::of(&v))
}

fn broken(e: impl std::fmt::Display) -> DemoError {
    DemoError::Broken(e.to_string())
}

/// Checks the Go program's own exactly-once flags and heavy checksum.
pub fn check_go(go: &GoReport, heavy_expected: u64) -> Result<(), String> {
    if !go.spawn.exactly_once {
        return Err("Go spawn + join: a goroutine did not run exactly once".into());
    }
    for p in &go.pools {
        if !p.exactly_once {
            return Err(format!(
                "Go pool ({}): a job did not run exactly once",
                p.scenario
            ));
        }
        if p.scenario == "heavy" && p.checksum != heavy_expected {
            return Err(format!(
                "Go pool (heavy): checksum {} but the Rust side computes {heavy_expected}: not the same work",
                p.checksum
            ));
        }
    }
    if let Some(c) = go.cpu.iter().find(|c| !c.exactly_once) {
        return Err(format!(
            "Go CPU-bound run ({} workers, GOMAXPROCS={}): an item did not run exactly once",
            c.workers, c.gomaxprocs
        ));
    }
    Ok(())
}

fn run(ctx: &mut BenchCtx<'_>) -> Result<BenchReport, DemoError> {
    let z = Sizes::for_run(ctx.quick);
    let runs = ctx.runs();
    let mut report = BenchReport::new("pool", "ns per task/job (memory row: bytes per task)", GO);
    let heavy_expected = checksum(z.heavy_jobs, HEAVY_ITERS);

    let args: Vec<String> = [
        ("-spawn", z.spawn_tasks),
        ("-mem", z.mem_tasks),
        ("-tiny", z.tiny_jobs),
        ("-heavy", z.heavy_jobs),
        ("-iters", HEAVY_ITERS as usize),
        ("-workers", WORKERS),
        ("-queue", QUEUE_CAP),
        ("-cpu-items", z.cpu_items),
        ("-runs", runs),
    ]
    .iter()
    .flat_map(|(f, v)| [f.to_string(), v.to_string()])
    .collect();
    let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let go: Option<GoReport> = ctx.run_go(&mut report, "cmd/bench-pool", &arg_refs)?;
    if let Some(g) = &go {
        check_go(g, heavy_expected).map_err(DemoError::Claim)?;
    }
    let go_row =
        |report: &mut BenchReport, scenario: &str, figures: Option<&Vec<f64>>| match (&go, figures)
        {
            (Some(_), Some(f)) => report.push(scenario, GO, Stats::of(f)),
            (Some(_), None) => report.skip(scenario, GO, "the Go program reported no figure"),
            (None, _) => report.skip(scenario, GO, "skipped: go not found"),
        };

    let rt = Runtimes::new(WORKERS).map_err(broken)?;

    // Spawn + join.
    go_row(
        &mut report,
        SPAWN,
        go.as_ref().map(|g| &g.spawn.ns_per_task),
    );
    ctx.step("spawn + join: OS threads");
    let s = sample(runs, || {
        let seen = Seen::new(z.spawn_threads);
        let ns = spawn::threads(z.spawn_threads, &seen);
        verdict("OS threads", &seen, None, None).map(|_| ns)
    })?;
    report.push(SPAWN, "OS threads (std::thread)", s);
    ctx.step("spawn + join: tokio tasks");
    let s = sample(runs, || {
        let seen = Arc::new(Seen::new(z.spawn_tasks));
        let ns = spawn::tokio_tasks(&rt.tokio, z.spawn_tasks, &seen);
        verdict("tokio tasks", &seen, None, None).map(|_| ns)
    })?;
    report.push(SPAWN, "tokio tasks (tokio::spawn)", s);
    ctx.step("spawn + join: rayon");
    let s = sample(runs, || {
        let seen = Seen::new(z.spawn_tasks);
        let ns = spawn::rayon_jobs(&rt.rayon, z.spawn_tasks, &seen);
        verdict("rayon", &seen, None, None).map(|_| ns)
    })?;
    report.push(SPAWN, "rayon (scope.spawn)", s);
    ctx.step("spawn + join: processes");
    let s = sample(runs, || {
        let seen = Seen::new(z.processes);
        let ns = spawn::processes(z.processes, &seen).map_err(|e| e.to_string())?;
        verdict("processes", &seen, None, None).map(|_| ns)
    })?;
    report.push(SPAWN, "processes (/bin/true)", s);
    ctx.step("spawn + join: gpm scheduler");
    let s = sample(runs, || {
        let seen = std::sync::Arc::new(Seen::new(z.spawn_tasks));
        let ns = spawn::gpm_tasks(WORKERS, z.spawn_tasks, &seen);
        verdict("gpm", &seen, None, None).map(|_| ns)
    })?;
    report.push(SPAWN, "gpm scheduler (this project)", s);

    // Memory per parked task.
    let mem_runs = runs.min(3);
    go_row(
        &mut report,
        MEMORY,
        go.as_ref().map(|g| &g.memory.bytes_per_task),
    );
    ctx.step("memory: parked OS threads");
    let mut resident = Vec::new();
    let mut reserved = Vec::new();
    for _ in 0..mem_runs {
        if let Some(t) = spawn::parked_threads(z.mem_threads) {
            resident.push(t.resident);
            reserved.push(t.reserved);
        }
    }
    report.push(MEMORY, "OS thread, resident (VmRSS)", Stats::of(&resident));
    report.push(MEMORY, "OS thread, reserved (VmSize)", Stats::of(&reserved));
    ctx.step("memory: parked tokio tasks");
    let tokio_rss: Vec<f64> = (0..mem_runs)
        .filter_map(|_| spawn::parked_tokio_tasks(&rt.tokio, z.mem_tasks).map(|t| t.resident))
        .collect();
    report.push(
        MEMORY,
        "tokio task, resident (VmRSS)",
        Stats::of(&tokio_rss),
    );

    // Worker pools.
    for (kind, jobs, iters) in [
        ("tiny", z.tiny_jobs, 0),
        ("heavy", z.heavy_jobs, HEAVY_ITERS),
    ] {
        let scenario = pool_scenario(kind, jobs);
        let g = go
            .as_ref()
            .and_then(|g| g.pools.iter().find(|p| p.scenario == kind));
        go_row(&mut report, &scenario, g.map(|p| &p.ns_per_job));
        let expected = (iters > 0).then_some(heavy_expected);
        for imp in PoolImpl::ALL {
            ctx.step(&format!("{scenario}: {}", imp.label()));
            let s = sample(runs, || {
                let r = pools::run(imp, &rt, WORKERS, jobs, iters, QUEUE_CAP)
                    .ok_or_else(|| format!("{} is not wired", imp.label()))?;
                verdict(imp.label(), &r.seen, r.checksum, expected).map(|_| r.ns_per_job)
            })?;
            report.push(&scenario, imp.label(), s);
        }
    }

    // Concurrency vs parallelism.
    let cpu_expected = Some(checksum(z.cpu_items, HEAVY_ITERS));
    for (scenario, workers, procs) in [(CPU_1, 1, 1), (CPU_2_ON_1, 2, 1), (CPU_2_ON_2, 2, 2)] {
        let g = go.as_ref().and_then(|g| {
            g.cpu
                .iter()
                .find(|c| c.workers == workers && c.gomaxprocs == procs)
        });
        go_row(&mut report, scenario, g.map(|c| &c.ns_per_item));
        ctx.step(scenario);
        let (label, s) = if procs == 1 && workers == 2 {
            let s = sample(runs, || {
                let r = pools::interleaved_on_one_thread(2, z.cpu_items, HEAVY_ITERS)
                    .map_err(|e| e.to_string())?;
                verdict("2 tokio tasks", &r.seen, r.checksum, cpu_expected).map(|_| r.ns_per_job)
            })?;
            ("2 tokio tasks on a current-thread runtime", s)
        } else {
            let s = sample(runs, || {
                let r = pools::run(
                    PoolImpl::Crossbeam,
                    &rt,
                    workers,
                    z.cpu_items,
                    HEAVY_ITERS,
                    QUEUE_CAP,
                )
                .ok_or("crossbeam pool missing")?;
                verdict("threads", &r.seen, r.checksum, cpu_expected).map(|_| r.ns_per_job)
            })?;
            let label = if workers == 1 {
                "1 OS thread"
            } else {
                "2 OS threads (crossbeam pool)"
            };
            (label, s)
        };
        report.push(scenario, label, s);
    }

    if let Some(g) = &go {
        report.notes.push(format!(
            "{} (GOMAXPROCS={}, {} CPUs); Go's memory row is runtime.MemStats (StackInuse+HeapInuse) delta per parked goroutine, stack alone {:.0} B",
            g.go_version,
            g.gomaxprocs,
            g.num_cpu,
            Stats::of(&g.memory.stack_bytes_per_task).map_or(f64::NAN, |s| s.median)
        ));
    }
    if let Some(limit) = crate::procfs::stack_rlimit() {
        report.notes.push(format!(
            "RLIMIT_STACK (main thread) {} KiB; std::thread's default stack is 2 MiB (RUST_MIN_STACK), which the VmSize row shows as reserved per thread",
            limit / 1024
        ));
    }
    report.notes.push(format!(
        "{WORKERS} workers everywhere, queue capacity {QUEUE_CAP}; heavy job = {HEAVY_ITERS} xorshift rounds; median of {runs} runs ({mem_runs} for memory); every run checks that each job ran exactly once"
    ));
    report.notes.push(
        "memory rows for Rust read the kernel's VmRSS/VmSize: page-granular and process-wide, so rough to a few KiB; kernel memory per thread (task_struct, 16 KiB kernel stack) is not in either".into(),
    );
    report.notes.push(
        "Go runs first, then the Rust rows: on a shared machine a busy moment lands on one side only; the heavy job's arithmetic itself runs at the same speed in both languages (same xorshift loop, same instructions)".into(),
    );
    report.notes.push(
        "gpm scheduler: one root task spawns the tasks on 2 Ps; the time includes starting and stopping the scheduler's threads"
            .into(),
    );
    if cfg!(debug_assertions) {
        report.notes.push(
            "debug build: the Rust figures are not comparable with Go's; use `cargo run --release -- bench pool`".into(),
        );
    }
    report.compute_ratios();
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn go_report(heavy_checksum: u64, once: bool) -> GoReport {
        GoReport {
            go_version: "go1.26.8".into(),
            gomaxprocs: 2,
            num_cpu: 2,
            spawn: GoSpawn {
                tasks: 10,
                ns_per_task: vec![1.0],
                exactly_once: true,
            },
            memory: GoMemory {
                tasks: 10,
                bytes_per_task: vec![2048.0],
                stack_bytes_per_task: vec![2048.0],
            },
            pools: vec![GoPool {
                scenario: "heavy".into(),
                jobs: 10,
                ns_per_job: vec![1.0],
                exactly_once: once,
                checksum: heavy_checksum,
            }],
            cpu: vec![],
        }
    }

    #[test]
    fn go_results_are_checked() {
        let good = checksum(10, 5);
        assert!(check_go(&go_report(good, true), good).is_ok());
        // Counterexamples: Go did different work, or lost a job.
        assert!(check_go(&go_report(good ^ 1, true), good).is_err());
        assert!(check_go(&go_report(good, false), good).is_err());
    }

    #[test]
    fn quick_is_smaller_in_every_dimension() {
        let (q, f) = (Sizes::for_run(true), Sizes::for_run(false));
        assert!(q.tiny_jobs < f.tiny_jobs && q.heavy_jobs < f.heavy_jobs);
        assert!(q.spawn_tasks < f.spawn_tasks && q.processes < f.processes);
    }

    #[test]
    fn a_wrong_figure_fails_the_sample() {
        assert!(sample(3, || Ok(1.0)).unwrap().is_some());
        assert!(matches!(
            sample(3, || Err("lost a job".into())),
            Err(DemoError::Claim(_))
        ));
    }
}
