//! The demos against the real server, and the promise that they leave nothing behind.

use std::sync::Mutex;

use catalog::{Env, Need};
use servers::mysql_async::prelude::*;
use servers::mysql_async::{Conn, Opts};
use servers::{LAB_DATABASE, ServerError, Target, timed};

/// The demos of this crate share table names (`mysql_02_accounts`, ...) and each one clears the
/// question's leftovers when it starts, so two runs must not overlap: the tests take turns.
static ONE_RUN_AT_A_TIME: Mutex<()> = Mutex::new(());

#[test]
fn every_demo_passes() {
    let _turn = ONE_RUN_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    catalog::testing::run_topic_demos(&acid::topic());
}

// Cleanup: every table a demo creates lives in database `lab` under the question's prefix and is
// dropped by `MysqlLab::finish`. After a full run none may be left.
#[test]
fn demos_leave_no_mysql_02_tables_behind() {
    let _turn = ONE_RUN_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let env = Env::from_env().expect("build the lab's runtime");
    if catalog::testing::needed("MySQL (for the cleanup check)", env.available(Need::Mysql))
        .is_none()
    {
        return;
    }
    catalog::testing::run_topic_demos(&acid::topic());
    let target = env
        .mysql_target()
        .expect("the MySQL target was usable a moment ago");
    let left = env
        .block_on(tables_like(&target, "mysql\\_02\\_%"))
        .expect("list the tables in database lab");
    assert!(
        left.is_empty(),
        "the demos left tables behind in `{LAB_DATABASE}`: {left:?}"
    );
    println!("no mysql_02_% tables left in `{LAB_DATABASE}`");
}

async fn tables_like(target: &Target, pattern: &str) -> Result<Vec<String>, ServerError> {
    let opts = Opts::from_url(target.url()).map_err(servers::mysql_async::Error::from)?;
    let mut conn = timed("connect", Conn::new(opts)).await?;
    let tables: Vec<String> = timed(
        "list tables",
        conn.exec(
            "SELECT table_name FROM information_schema.tables \
             WHERE table_schema = ? AND table_name LIKE ?",
            (LAB_DATABASE, pattern),
        ),
    )
    .await?;
    timed("disconnect", conn.disconnect()).await?;
    Ok(tables)
}
