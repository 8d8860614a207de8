//! The lab borrows real servers: a round trip to each, the namespace rule (only `lab:` keys, only
//! database `lab`) and the restore rule (every setting put back, also after a panic).
//!
//! These talk to the servers `scripts/services.sh up` starts (or LAB_REDIS_URL / LAB_MYSQL_URL).
//! Without them the tests print why and pass, except under CI=true, where a missing server fails.
//! With `--features testcontainers` they start their own containers instead (needs Docker).

#[cfg(not(feature = "testcontainers"))]
use catalog::testing::ci;
use servers::mysql_async::prelude::*;
use servers::redis::{self, Commands};
use servers::{MysqlLab, RedisLab, Target, timed};

/// The tests change the same server settings, so they take turns.
static SERVER: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn take_turn() -> std::sync::MutexGuard<'static, ()> {
    SERVER.lock().unwrap_or_else(|e| e.into_inner())
}

/// The targets to test against: local servers, or containers with the feature.
fn targets(rt: &tokio::runtime::Runtime) -> Option<(Target, Target, Box<dyn std::any::Any>)> {
    #[cfg(feature = "testcontainers")]
    {
        // Without a Docker engine this fails with a message saying so (and how to run without it).
        let c = rt
            .block_on(servers::containers::start())
            .unwrap_or_else(|e| panic!("{e}"));
        let (r, m) = (c.redis.clone(), c.mysql.clone());
        Some((r, m, Box::new(c)))
    }
    #[cfg(not(feature = "testcontainers"))]
    {
        let r = servers::redis_target().expect("LAB_REDIS_URL");
        let m = servers::mysql_target().expect("LAB_MYSQL_URL");
        let redis_ok = servers::probe_redis(&r);
        let mysql_ok = rt.block_on(servers::probe_mysql(&m));
        match (redis_ok, mysql_ok) {
            (Ok(_), Ok(_)) => Some((r, m, Box::new(()))),
            (a, b) => {
                let why: Vec<String> = [
                    a.err().map(|e| e.to_string()),
                    b.err().map(|e| e.to_string()),
                ]
                .into_iter()
                .flatten()
                .collect();
                assert!(
                    !ci(),
                    "CI=true and a real server is missing: {}",
                    why.join("; ")
                );
                eprintln!("skipped: {}", why.join("; "));
                None
            }
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn redis_round_trip_stays_in_the_namespace_and_restores_settings() {
    let _turn = take_turn();
    let rt = runtime();
    let Some((redis_t, _, _guard)) = targets(&rt) else {
        return;
    };

    // A key outside the lab's namespace that the lab must not touch.
    let mut other = RedisLab::connect(&redis_t, "namespace-test")
        .unwrap()
        .another_connection()
        .unwrap();
    let outsider = "gmr-lab-test-outsider";
    let _: () = other.set(outsider, "keep me").unwrap();

    let samples_before: String = {
        let mut lab = RedisLab::connect(&redis_t, "namespace-test").unwrap();
        lab.config_get("maxmemory-samples").unwrap()
    };
    {
        let mut lab = RedisLab::connect(&redis_t, "namespace-test").unwrap();
        let key = lab.key("greeting");
        assert_eq!(key, "lab:namespace-test:greeting");
        let _: () = lab.conn().set(&key, "hello").unwrap();
        let back: String = lab.conn().get(&key).unwrap();
        assert_eq!(back, "hello", "round trip");
        lab.set_config("maxmemory-samples", "7").unwrap();
        lab.set_config("maxmemory-samples", "9").unwrap();
        assert_eq!(lab.config_get("maxmemory-samples").unwrap(), "9");
    } // dropped: keys deleted, setting restored
    let mut check = RedisLab::connect(&redis_t, "namespace-test").unwrap();
    assert_eq!(
        check.config_get("maxmemory-samples").unwrap(),
        samples_before
    );
    let leftovers: Vec<String> = redis::cmd("KEYS")
        .arg("lab:namespace-test:*")
        .query(check.conn())
        .unwrap();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let kept: String = other.get(outsider).unwrap();
    assert_eq!(kept, "keep me", "a key outside lab: was touched");
    let _: () = other.del(outsider).unwrap();
}

#[test]
fn redis_settings_are_restored_when_a_demo_panics() {
    let _turn = take_turn();
    let rt = runtime();
    let Some((redis_t, _, _guard)) = targets(&rt) else {
        return;
    };
    let before = RedisLab::connect(&redis_t, "panic-test")
        .unwrap()
        .config_get("maxmemory-samples")
        .unwrap();
    let t = redis_t.clone();
    let result = std::panic::catch_unwind(move || {
        let mut lab = RedisLab::connect(&t, "panic-test").unwrap();
        lab.set_config("maxmemory-samples", "3").unwrap();
        let key = lab.key("x");
        let _: () = lab.conn().set(key, 1).unwrap();
        panic!("a demo blew up halfway");
    });
    assert!(result.is_err());
    let mut lab = RedisLab::connect(&redis_t, "panic-test").unwrap();
    assert_eq!(lab.config_get("maxmemory-samples").unwrap(), before);
    let exists: bool = lab.conn().exists("lab:panic-test:x").unwrap();
    assert!(!exists);
}

#[test]
fn mysql_round_trip_stays_in_database_lab_and_restores_globals() {
    let _turn = take_turn();
    let rt = runtime();
    let Some((_, mysql_t, _guard)) = targets(&rt) else {
        return;
    };
    rt.block_on(async {
        let mut lab = MysqlLab::open(&mysql_t, "borrow-test").await.unwrap();
        let table = lab.table("t");
        assert_eq!(table, "borrow_test_t");
        let mut conn = lab.conn().await.unwrap();
        let db: Option<String> = timed("db", conn.query_first("SELECT DATABASE()")).await.unwrap();
        assert_eq!(db.as_deref(), Some("lab"));
        timed("create", conn.query_drop(format!("CREATE TABLE {table} (id INT PRIMARY KEY, v INT) ENGINE=InnoDB")))
            .await
            .unwrap();
        timed("insert", conn.query_drop(format!("INSERT INTO {table} VALUES (1, 42)"))).await.unwrap();
        let v: Option<i64> = timed("select", conn.query_first(format!("SELECT v FROM {table} WHERE id = 1")))
            .await
            .unwrap();
        assert_eq!(v, Some(42), "round trip");

        let before: Option<String> =
            timed("read", conn.query_first("SELECT @@GLOBAL.innodb_lock_wait_timeout")).await.unwrap();
        lab.set_global(&mut conn, "innodb_lock_wait_timeout", "7").await.unwrap();
        lab.set_global(&mut conn, "innodb_lock_wait_timeout", "9").await.unwrap();
        let mode_before: Option<String> =
            timed("read", conn.query_first("SELECT @@GLOBAL.sql_mode")).await.unwrap();
        lab.set_global(&mut conn, "sql_mode", "'ANSI_QUOTES'").await.unwrap();
        timed("disconnect", conn.disconnect()).await.unwrap();
        lab.finish().await.unwrap();

        let mut conn = servers::MysqlLab::open(&mysql_t, "borrow-check").await.unwrap().conn().await.unwrap();
        let after: Option<String> =
            timed("read", conn.query_first("SELECT @@GLOBAL.innodb_lock_wait_timeout")).await.unwrap();
        assert_eq!(after, before, "global restored");
        let mode_after: Option<String> =
            timed("read", conn.query_first("SELECT @@GLOBAL.sql_mode")).await.unwrap();
        assert_eq!(mode_after, mode_before, "a text-valued global restored");
        let n: Option<i64> = timed(
            "tables",
            conn.query_first("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'lab' AND table_name LIKE 'borrow\\_test\\_%'"),
        )
        .await
        .unwrap();
        assert_eq!(n, Some(0), "tables dropped");
        timed("disconnect", conn.disconnect()).await.unwrap();
    });
}

#[test]
fn mysql_cleans_up_even_without_finish() {
    let _turn = take_turn();
    let rt = runtime();
    let Some((_, mysql_t, _guard)) = targets(&rt) else {
        return;
    };
    let before: Option<String> = rt.block_on(async {
        let lab = MysqlLab::open(&mysql_t, "drop-test").await.unwrap();
        let mut conn = lab.conn().await.unwrap();
        let v = timed(
            "read",
            conn.query_first("SELECT @@GLOBAL.innodb_lock_wait_timeout"),
        )
        .await
        .unwrap();
        timed("disconnect", conn.disconnect()).await.unwrap();
        v
    });
    let t = mysql_t.clone();
    let handle = rt.handle().clone();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        handle.block_on(async {
            let mut lab = MysqlLab::open(&t, "drop-test").await.unwrap();
            let table = lab.table("t");
            let mut conn = lab.conn().await.unwrap();
            timed(
                "create",
                conn.query_drop(format!("CREATE TABLE {table} (id INT PRIMARY KEY)")),
            )
            .await
            .unwrap();
            lab.set_global(&mut conn, "innodb_lock_wait_timeout", "5")
                .await
                .unwrap();
            timed("disconnect", conn.disconnect()).await.unwrap();
            panic!("a demo failed before finish()");
        })
    }));
    assert!(result.is_err());
    rt.block_on(async {
        let lab = MysqlLab::open(&mysql_t, "drop-check").await.unwrap();
        let mut conn = lab.conn().await.unwrap();
        let after: Option<String> =
            timed("read", conn.query_first("SELECT @@GLOBAL.innodb_lock_wait_timeout")).await.unwrap();
        assert_eq!(after, before, "global restored by Drop");
        let n: Option<i64> = timed(
            "tables",
            conn.query_first("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'lab' AND table_name LIKE 'drop\\_test\\_%'"),
        )
        .await
        .unwrap();
        assert_eq!(n, Some(0), "tables dropped by Drop");
        timed("disconnect", conn.disconnect()).await.unwrap();
    });
}
