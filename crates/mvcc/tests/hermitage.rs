//! Hermitage on the real server and on the model: every cell must agree, step by step.
//!
//! The server is the oracle. Nothing here says what a cell should show; the test fails when the
//! model's steps (rows, rows affected, blocking, error codes, the order replies arrive) or its
//! verdict differ from the server's, and names the server's flavor and version when they do.
//! Without a server the test is skipped, except under `CI=true`.

use std::time::{Duration, Instant};

use catalog::{Env, Need, Probe};
use mvcc::hermitage::model::ModelTarget;
use mvcc::hermitage::server::{self, ServerConfig, ServerTarget};
use mvcc::hermitage::{Cell, differences, now, run_all, schedule};
use mvcc::{Level, Options};
use servers::mysql_async::prelude::*;
use servers::{LAB_DATABASE, MysqlLab, timed};

/// Beyond hermitage: a duplicate key (1062, statement rollback), an insert that reuses a key
/// whose delete is not committed yet (it waits), and a plain write-write wait.
const EXTRA: &str = "\
# extra: paths hermitage does not take
t1: begin
t2: begin
t1: insert into test values (1, 99)
t1: delete from test where id = 2
t2: insert into test values (2, 77)
t1: commit
t2: select * from test
t2: commit
t3: begin
t4: begin
t3: update test set value = 5 where id = 1
t4: update test set value = 6 where id = 1
t4: select * from test where id = 1
t4: commit
t3: commit
t0: select * from test
";

fn compare(label: &str, model: &[Cell], server: &[Cell]) -> Vec<String> {
    assert_eq!(model.len(), server.len());
    let mut out = Vec::new();
    for (m, s) in model.iter().zip(server) {
        for d in differences(m, s) {
            out.push(format!("[{label}] {} at {}: {d}", m.test, m.level));
        }
    }
    out
}

#[test]
fn model_and_server_agree_on_all_60_cells() {
    let env = Env::from_env().expect("runtime");
    if catalog::testing::needed("MySQL/MariaDB", env.available(Need::Mysql)).is_none() {
        return;
    }
    let Probe::Up(info) = env.mysql_probe().clone() else {
        unreachable!("available() said it is up")
    };
    let target = env.mysql_target().expect("target");
    let mut schedules = schedule::builtin();
    schedules.push(mvcc::hermitage::Schedule::parse("extra.txt", EXTRA).expect("extra parses"));
    let label = server::describe(&info);
    let mut diffs = Vec::new();
    let mut ids = Vec::new();
    let started = Instant::now();
    let (model_off, server_off, model_on, server_on) = env.block_on(async {
        let mut lab = MysqlLab::open(&target, "hermitage_ci")
            .await
            .expect("open lab");
        let table = lab.table("test");
        let mut srv = ServerTarget::new(&lab, table.clone(), info.clone(), ServerConfig::default())
            .expect("server target");
        let server_off = run_all(&mut srv, &schedules, &Level::ALL).await;
        ids.extend_from_slice(srv.connections_used());
        // innodb_snapshot_isolation changes only what REPEATABLE READ and SERIALIZABLE do.
        let si_levels = [Level::RepeatableRead, Level::Serializable];
        let server_on = if info.snapshot_isolation.is_some() {
            let cfg = ServerConfig {
                snapshot_isolation: true,
                ..ServerConfig::default()
            };
            let mut srv = ServerTarget::new(&lab, table, info.clone(), cfg).expect("target");
            let r = run_all(&mut srv, &schedules, &si_levels).await;
            ids.extend_from_slice(srv.connections_used());
            Some(r)
        } else {
            None
        };
        lab.finish().await.expect("drop the tables");
        let mut m = ModelTarget::new(Options::default());
        let model_off = now(run_all(&mut m, &schedules, &Level::ALL)).unwrap();
        let mut m = ModelTarget::new(Options {
            snapshot_isolation: true,
            ..Options::default()
        });
        let model_on = now(run_all(&mut m, &schedules, &si_levels)).unwrap();

        (model_off, server_off, model_on, server_on)
    });
    let server_off = server_off.unwrap_or_else(|e| panic!("the run on {label} failed: {e}"));
    diffs.extend(compare("snapshot isolation OFF", &model_off, &server_off));
    if let Some(on) = server_on {
        let on = on.unwrap_or_else(|e| panic!("the run on {label} failed: {e}"));
        diffs.extend(compare("snapshot isolation ON", &model_on, &on));
    }
    println!(
        "{} + {} cells on {label} in {:.1} s",
        server_off.len(),
        model_on.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        diffs.is_empty(),
        "the model differs from {label} in {} place(s):\n{}",
        diffs.len(),
        diffs.join("\n")
    );

    // Nothing left behind: no table, no connection.
    env.block_on(async {
        let mut conn = servers::mysql_async::Conn::new(
            servers::mysql_async::Opts::from_url(target.url()).expect("url"),
        )
        .await
        .expect("connect");
        let left: Vec<String> = timed(
            "list tables",
            conn.exec(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = ? AND table_name LIKE 'hermitage\\_ci\\_%'",
                (LAB_DATABASE,),
            ),
        )
        .await
        .expect("list tables");
        assert!(left.is_empty(), "tables left behind: {left:?}");
        // Disconnects are acknowledged asynchronously by the server: give it a moment.
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let list: Vec<String> = ids.iter().map(u32::to_string).collect();
            let alive: Vec<u64> = timed(
                "processlist",
                conn.query(format!(
                    "SELECT id FROM information_schema.processlist WHERE id IN ({})",
                    list.join(",")
                )),
            )
            .await
            .expect("processlist");
            if alive.is_empty() {
                break;
            }
            assert!(Instant::now() < deadline, "connections left open: {alive:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = conn.disconnect().await;
    });
}

#[test]
fn the_model_gives_the_same_answers_every_time() {
    let schedules = schedule::builtin();
    let run = || {
        let mut m = ModelTarget::new(Options::default());
        let cells = now(run_all(&mut m, &schedules, &Level::ALL)).unwrap();
        cells
            .into_iter()
            .map(|c| (c.test, c.level, c.anomaly, c.steps))
            .collect::<Vec<_>>()
    };
    assert_eq!(run(), run());
}

/// A TCP proxy to `upstream` that forwards the first `cut_after` connections and, when one more
/// arrives, drops them all (the server "goes away" for the client) and refuses the rest.
async fn cutting_proxy(upstream: String, cut_after: usize) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let mut links = Vec::new();
        let mut n = 0;
        while let Ok((mut client, _)) = listener.accept().await {
            n += 1;
            if n > cut_after {
                links
                    .drain(..)
                    .for_each(|t: tokio::task::JoinHandle<_>| t.abort());
                drop(client);
                continue;
            }
            let Ok(mut server) = tokio::net::TcpStream::connect(&upstream).await else {
                continue;
            };
            links.push(tokio::spawn(async move {
                let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
            }));
        }
    });
    addr
}

#[test]
fn a_server_that_goes_away_mid_run_gives_a_clear_error_and_keeps_nothing() {
    let env = Env::from_env().expect("runtime");
    if catalog::testing::needed("MySQL/MariaDB", env.available(Need::Mysql)).is_none() {
        return;
    }
    let Probe::Up(info) = env.mysql_probe().clone() else {
        unreachable!()
    };
    let real = env.mysql_target().expect("target");
    let schedules = schedule::builtin();
    let (err, ids) = env.block_on(async {
        // Enough connections for a few cells, then the cut.
        let proxy = cutting_proxy(real.addr(), 9).await;
        let url = real.url().replacen(&real.addr(), &proxy.to_string(), 1);
        let via_proxy =
            servers::Target::parse(servers::System::Mysql, &url, 3306).expect("proxy url");
        let mut lab = MysqlLab::open(&via_proxy, "hermitage_gone")
            .await
            .expect("open");
        let table = lab.table("test");
        let mut srv =
            ServerTarget::new(&lab, table, info.clone(), ServerConfig::default()).expect("target");
        let result = run_all(&mut srv, &schedules, &Level::ALL).await;
        let ids = srv.connections_used().to_vec();
        drop(srv);
        // The cleanup cannot reach the server either; it reports that instead of hanging.
        assert!(lab.finish().await.is_err());
        (result.expect_err("the run must fail"), ids)
    });
    let msg = err.to_string();
    println!("the run stopped with: {msg}");
    assert!(
        msg.contains("MySQL") || msg.contains("session"),
        "not a clear server error: {msg}"
    );
    assert!(!ids.is_empty());
    env.block_on(async {
        // On the real server: the run's sessions are gone (their transactions rolled back)...
        let mut conn = servers::mysql_async::Conn::new(
            servers::mysql_async::Opts::from_url(real.url()).expect("url"),
        )
        .await
        .expect("connect");
        let list: Vec<String> = ids.iter().map(u32::to_string).collect();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let alive: Vec<u64> = conn
                .query(format!(
                    "SELECT id FROM information_schema.processlist WHERE id IN ({})",
                    list.join(",")
                ))
                .await
                .expect("processlist");
            if alive.is_empty() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "connections left open: {alive:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = conn.disconnect().await;
        // ...and the table it left is dropped by the next run of the same scope.
        let lab = MysqlLab::open(&real, "hermitage_gone")
            .await
            .expect("reopen");
        lab.finish().await.expect("finish");
    });
}
