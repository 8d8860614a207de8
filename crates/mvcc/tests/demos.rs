//! Every demo of mysql-04, mysql-07, mysql-13 and mysql-19, as `lab run` runs them. The tables they
//! create in database `lab` are dropped when each demo ends; `scripts/footprint.sh` checks, at the
//! end of the CI run, that none is left.

#[test]
fn every_demo_passes() {
    catalog::testing::run_topic_demos(&mvcc::topic());
}
