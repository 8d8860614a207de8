//! The demos of redis-01 against the real Redis, the promise that they leave nothing behind, and the
//! answer page's agreement with the registry.

use std::sync::Mutex;

use catalog::testing::ci;
use servers::redis;

/// Both Redis tests use the `lab:redis-01:` slice of one server: run them one at a time, or the leak
/// check would see the other test's keys mid-demo.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

#[test]
fn every_demo_passes() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    catalog::testing::run_topic_demos(&redistypes::topic());
}

// The demos borrow a shared server: after they run, no key of theirs may remain.
#[test]
fn the_demos_leave_no_keys_behind() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let target = servers::redis_target().expect("LAB_REDIS_URL parses");
    if let Err(e) = servers::probe_redis(&target) {
        assert!(!ci(), "CI=true and Redis is unreachable: {e}");
        println!("SKIPPED: {e}");
        return;
    }
    catalog::testing::run_topic_demos(&redistypes::topic());

    let client = redis::Client::open(target.url()).expect("a Redis client for the target");
    let mut conn = client
        .get_connection_with_timeout(servers::CONNECT_TIMEOUT)
        .expect("connect to Redis");
    let pattern = format!("{}redis-01:*", servers::LAB_KEY_PREFIX);
    let mut left = Vec::new();
    let mut cursor: u64 = 0;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(1000)
            .query(&mut conn)
            .expect("SCAN");
        left.extend(keys);
        if next == 0 {
            break;
        }
        cursor = next;
    }
    assert!(left.is_empty(), "keys left behind: {left:?}");
    println!("no {pattern} keys left after the demos");
}
