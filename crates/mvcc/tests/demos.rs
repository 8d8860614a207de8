//! Every demo of mysql-04, mysql-07, mysql-13 and mysql-19, as `lab run` runs them.

use std::sync::Mutex;

/// The demos share table names in database `lab` (`mysql_04_test`, ...): one run at a time.
static ONE_RUN_AT_A_TIME: Mutex<()> = Mutex::new(());

#[test]
fn every_demo_passes() {
    let _turn = ONE_RUN_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    catalog::testing::run_topic_demos(&mvcc::topic());
}
