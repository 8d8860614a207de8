//! `lab bench mvcc`: optimistic vs pessimistic increments on the real server, and the hermitage
//! suite's speed on the model vs the server (mysql-07, mysql-04).
//!
//! | scenario | optimistic | pessimistic | naive |
//! |---|---|---|---|
//! | one hot row, 1/2/8/32 clients: commits/s and retries/s | version column + compare-and-set, retried | `SELECT ... FOR UPDATE` in a transaction | read, blind write (loses updates; shown for scale) |
//! | rows spread out (one per client) | same | same | — |
//! | hermitage cells/s | — | — | model vs server |
//!
//! Every run checks itself: optimistic and pessimistic must end with the sum equal to the
//! commits (no lost update), or the suite fails. The baseline is the pessimistic strategy.
//! Figures are per second of wall time for the whole group of clients, median of the runs.

use std::time::Instant;

use catalog::{BenchCtx, BenchReport, BenchSuite, DemoError, Probe, Stats};
use servers::MysqlLab;

use crate::contention::{self, Rows, Strategy, lost_updates};
use crate::engine::{Level, Options};
use crate::hermitage::model::ModelTarget;
use crate::hermitage::server::{ServerConfig, ServerTarget};
use crate::hermitage::{now, run_all, schedule};

/// `lab bench mvcc`.
pub const SUITE: BenchSuite = BenchSuite {
    name: "mvcc",
    about: "optimistic (version column) vs pessimistic (FOR UPDATE) increments on the real server with 1, 2, 8, 32 clients on one hot row and on spread rows (commits/s, retries/s); hermitage cells/s on the model vs the server",
    questions: &["mysql-07", "mysql-04"],
    run,
};

const OPT: &str = "optimistic (version column)";
const PES: &str = "pessimistic (FOR UPDATE)";
const NAIVE: &str = "naive read-then-write";
const MODEL: &str = "model";
const SERVER: &str = "server";

/// Increments per run, split among the clients (at least a few each).
fn per_client(total: usize, clients: usize) -> usize {
    (total / clients).max(4)
}

fn run(ctx: &mut BenchCtx<'_>) -> Result<BenchReport, DemoError> {
    let mut report = BenchReport::new("mvcc", "per second", PES);
    let runs = ctx.runs();
    let total = if ctx.quick { 96 } else { 400 };
    let client_counts = [1usize, 2, 8, 32];
    let info = match ctx.env.mysql_probe() {
        Probe::Up(info) => Some(info.clone()),
        Probe::Down(why) if ctx.env.ci => {
            return Err(DemoError::Unavailable(format!(
                "{why} (CI=true: MySQL is required)"
            )));
        }
        Probe::Down(why) => {
            report.notes.push(format!("server rows skipped: {why}"));
            None
        }
    };
    // The model's hermitage speed (no server needed).
    let schedules = schedule::builtin();
    let picked: Vec<_> = if ctx.quick {
        schedules.iter().take(3).cloned().collect()
    } else {
        schedules.clone()
    };
    ctx.step("hermitage on the model");
    let cells = (picked.len() * Level::ALL.len()) as f64;
    let model = catalog::measure(runs, || {
        let started = Instant::now();
        let mut m = ModelTarget::new(Options::default());
        let done = now(run_all(&mut m, &picked, &Level::ALL)).map(|c| c.len());
        if done.is_ok() {
            cells / started.elapsed().as_secs_f64()
        } else {
            f64::NAN
        }
    });
    let scenario = format!("hermitage cells/s ({} cells)", picked.len() * 4);
    report.push(&scenario, MODEL, model);

    let Some(info) = info else {
        report.skip(&scenario, SERVER, "no server");
        report.compute_ratios();
        return Ok(report);
    };
    let target = ctx.env.mysql_target()?;
    let env = ctx.env;
    // Progress messages go through `ctx.step`, which needs `&mut ctx`: collect them in order.
    let mut steps: Vec<String> = Vec::new();
    let result: Result<(), DemoError> = env.block_on(async {
        let mut lab = MysqlLab::open(&target, "mysql-07-bench").await?;
        let table = lab.table("counter");
        let herm_table = lab.table("test");
        let outcome = async {
            // One server pass of hermitage (it takes seconds: once, not `runs` times).
            steps.push("hermitage on the server".into());
            let started = Instant::now();
            let mut srv = ServerTarget::new(&lab, herm_table, info, ServerConfig::default())?;
            run_all(&mut srv, &picked, &Level::ALL).await?;
            let secs = started.elapsed().as_secs_f64();
            report.push(&scenario, SERVER, Stats::of(&[cells / secs]));
            report.notes.push(format!(
                "hermitage: {} cells in {secs:.1} s on the server (one run; about 300 ms per blocked step)",
                cells
            ));
            for rows in [Rows::Hot, Rows::Spread] {
                for clients in client_counts {
                    let each = per_client(total, clients);
                    let label = match rows {
                        Rows::Hot => format!("one hot row, {clients} client{}", if clients == 1 { "" } else { "s" }),
                        Rows::Spread => format!("spread rows, {clients} client{}", if clients == 1 { "" } else { "s" }),
                    };
                    let strategies: &[Strategy] = match rows {
                        Rows::Hot => &[Strategy::Optimistic, Strategy::Pessimistic, Strategy::Naive],
                        Rows::Spread => &[Strategy::Optimistic, Strategy::Pessimistic],
                    };
                    for &strategy in strategies {
                        steps.push(format!("{label}: {}", strategy.name()));
                        let mut commits = Vec::new();
                        let mut retries = Vec::new();
                        let mut lost = Vec::new();
                        for _ in 0..runs {
                            let o = contention::run(&lab, &table, strategy, rows, clients, each).await?;
                            let l = lost_updates(o.commits, o.total);
                            if strategy != Strategy::Naive && l != 0 {
                                return Err(DemoError::Claim(format!(
                                    "{} lost {l} updates ({label})",
                                    strategy.name()
                                )));
                            }
                            let secs = o.elapsed.as_secs_f64();
                            commits.push(o.commits as f64 / secs);
                            retries.push(o.retries as f64 / secs);
                            lost.push(l as f64);
                        }
                        let name = match strategy {
                            Strategy::Optimistic => OPT,
                            Strategy::Pessimistic => PES,
                            Strategy::Naive => NAIVE,
                        };
                        report.push(&format!("{label}: commits/s"), name, Stats::of(&commits));
                        if strategy != Strategy::Naive {
                            report.push(&format!("{label}: retries/s"), name, Stats::of(&retries));
                        } else if let Some(s) = Stats::of(&lost) {
                            report.notes.push(format!(
                                "{label}: the naive strategy lost a median of {:.0} of {} increments",
                                s.median,
                                clients * each
                            ));
                        }
                    }
                }
            }
            Ok::<(), DemoError>(())
        }
        .await;
        lab.finish().await?;
        outcome
    });
    for s in steps {
        ctx.step(&s);
    }
    result?;
    report.notes.push(format!(
        "each run: {total} increments split among the clients (at least 4 each), all starting at a barrier; autocommit for optimistic and naive, BEGIN ... COMMIT for pessimistic"
    ));
    report.compute_ratios();
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_is_split_but_never_below_four_each() {
        assert_eq!(per_client(400, 1), 400);
        assert_eq!(per_client(400, 8), 50);
        assert_eq!(per_client(96, 32), 4);
        // Counterexample: 400 / 200 would be 2 each; the floor keeps a run meaningful.
        assert_eq!(per_client(400, 200), 4);
    }
}
