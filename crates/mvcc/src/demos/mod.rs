//! The demos of mysql-04, mysql-07, mysql-13 and mysql-19, and what they share: running a
//! schedule on the model and on the borrowed server and comparing the two.

use catalog::{Ctx, Demo, DemoError, Need, Probe};
use servers::MysqlInfo;

use crate::engine::{Level, Options};
use crate::hermitage::model::ModelTarget;
use crate::hermitage::server::{ServerConfig, ServerTarget};
use crate::hermitage::{Cell, RunError, Schedule, differences, now, run_cell};

mod isolation;
mod optimistic;
mod row_locks;
mod snapshots;

pub(crate) static DEMOS: &[Demo] = &[
    Demo {
        name: "mysql-04/anomaly-ladder-in-the-model",
        claim: "In the InnoDB model, dirty writes never happen; dirty reads stop at READ COMMITTED; non-repeatable reads and phantoms (for plain reads) stop at REPEATABLE READ; lost updates and write skew are stopped only by SERIALIZABLE.",
        needs: Need::Nothing,
        run: isolation::ladder_in_the_model,
    },
    Demo {
        name: "mysql-04/anomaly-ladder-on-the-server",
        claim: "On the real server each of those anomalies shows at the strongest level that allows it and is gone one level up, and the model's steps and verdicts equal the server's in every cell.",
        needs: Need::Mysql,
        run: isolation::ladder_on_the_server,
    },
    Demo {
        name: "mysql-07/lost-update-and-two-fixes-in-the-model",
        claim: "Two read-then-write transactions lose an update at REPEATABLE READ; an atomic `value = value + 1` or a `SELECT ... FOR UPDATE` before the write keeps both increments (the second waits).",
        needs: Need::Nothing,
        run: optimistic::lost_update_in_the_model,
    },
    Demo {
        name: "mysql-07/optimistic-retries-on-a-stale-version",
        claim: "With a version column, the second of two writers that read the same version changes 0 rows, re-reads and succeeds on its retry: both increments survive.",
        needs: Need::Mysql,
        run: optimistic::stale_version_is_retried,
    },
    Demo {
        name: "mysql-07/pessimistic-lock-makes-the-second-reader-wait",
        claim: "With SELECT ... FOR UPDATE the second reader waits for the first writer's commit and then reads its value, on the server as in the model: no update is lost and nothing is retried.",
        needs: Need::Mysql,
        run: optimistic::pessimistic_reader_waits,
    },
    Demo {
        name: "mysql-07/concurrent-increments-lose-nothing",
        claim: "8 connections incrementing one row concurrently end with exactly 8 x 25 increments both with optimistic (version column, retry) and pessimistic (FOR UPDATE) locking; optimistic pays in retries.",
        needs: Need::Mysql,
        run: optimistic::concurrent_increments,
    },
    Demo {
        name: "mysql-13/version-chain-and-read-views",
        claim: "A row keeps its old versions in an undo chain; each read view returns the newest version whose writer had committed when the view was made (or itself), found by walking the chain; purge drops versions only when no view needs them.",
        needs: Need::Nothing,
        run: snapshots::chain_and_views,
    },
    Demo {
        name: "mysql-13/read-views-match-the-server",
        claim: "The same sequence of updates and snapshots on the real server gives every reader the version the model's chain walk picked.",
        needs: Need::Mysql,
        run: snapshots::views_match_the_server,
    },
    Demo {
        name: "mysql-13/locking-read-sees-past-the-snapshot",
        claim: "At REPEATABLE READ a plain SELECT reads the snapshot but SELECT ... FOR UPDATE and UPDATE read the newest commit, so after an UPDATE the transaction sees a state no one committed (1=>13, 2=>20), on the server and in the model.",
        needs: Need::Mysql,
        run: snapshots::locking_read_sees_past_the_snapshot,
    },
    Demo {
        name: "mysql-19/lock-compatibility-matrix",
        claim: "Intention locks never conflict with each other; S conflicts with IX and X; gap locks never wait and conflict only with insert intentions; the model's statements take exactly these locks.",
        needs: Need::Nothing,
        run: row_locks::compatibility_matrix,
    },
    Demo {
        name: "mysql-19/record-lock-conflicts-match-the-server",
        claim: "For every pair of a lock-taking statement and a second one (S/X record, gap, next-key, insert), the second blocks on the real server exactly when the model says it must wait.",
        needs: Need::Mysql,
        run: row_locks::conflicts_match_the_server,
    },
    Demo {
        name: "mysql-19/next-key-lock-blocks-phantom-insert",
        claim: "At REPEATABLE READ `SELECT ... WHERE id > 1 FOR UPDATE` blocks an INSERT of id 3 until commit (next-key and supremum locks); at READ COMMITTED it does not, nor does a point lock on id 2; server and model agree.",
        needs: Need::Mysql,
        run: row_locks::next_key_blocks_phantom,
    },
];

impl From<RunError> for DemoError {
    fn from(e: RunError) -> Self {
        match e {
            RunError::Server(e) => DemoError::from(e),
            other => DemoError::Broken(other.to_string()),
        }
    }
}

/// The server's description, or a skip.
pub(crate) fn server_info(ctx: &Ctx<'_>) -> Result<MysqlInfo, DemoError> {
    match ctx.env().mysql_probe() {
        Probe::Up(info) => Ok(info.clone()),
        Probe::Down(why) => Err(DemoError::Unavailable(why.clone())),
    }
}

/// A schedule written inline in a demo.
pub(crate) fn schedule(name: &str, text: &str) -> Result<Schedule, DemoError> {
    Schedule::parse(&format!("{name}.txt"), text).map_err(|e| DemoError::Broken(e.to_string()))
}

/// Runs each (schedule, level) on the model.
pub(crate) fn run_model(jobs: &[(&Schedule, Level)], opts: Options) -> Vec<Cell> {
    let mut m = ModelTarget::new(opts);
    jobs.iter()
        .map(|(s, l)| now(run_cell(&mut m, s, *l)).expect("the model always runs"))
        .collect()
}

/// Runs each (schedule, level) on the borrowed server (table `<question>_test` in `lab`).
pub(crate) fn run_server(
    ctx: &Ctx<'_>,
    jobs: &[(&Schedule, Level)],
) -> Result<Vec<Cell>, DemoError> {
    let info = server_info(ctx)?;
    ctx.block_on(async {
        let mut lab = ctx.mysql().await?;
        let table = lab.table("test");
        let result = async {
            let mut srv = ServerTarget::new(&lab, table, info, ServerConfig::default())?;
            let mut cells = Vec::new();
            for (s, l) in jobs {
                cells.push(run_cell(&mut srv, s, *l).await?);
            }
            Ok::<_, RunError>(cells)
        }
        .await;
        lab.finish().await?;
        Ok(result?)
    })
}

/// The differences between model and server cells, one line each, labelled.
pub(crate) fn disagreements(model: &[Cell], server: &[Cell]) -> Vec<String> {
    model
        .iter()
        .zip(server)
        .flat_map(|(m, s)| {
            differences(m, s)
                .into_iter()
                .map(move |d| format!("{} at {}: {d}", m.test, m.level))
        })
        .collect()
}

/// Prints a cell's steps through the demo's output.
pub(crate) fn show_cell(ctx: &Ctx<'_>, cell: &Cell) {
    ctx.say(crate::hermitage::report::details(cell));
}
