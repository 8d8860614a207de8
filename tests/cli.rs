//! The `lab` binary as a user meets it: tables, JSON, clear errors, no panics.

use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, Instant};

mod common;

use common::{lab, run, text};

#[test]
fn list_json_has_all_questions_with_their_fields() {
    let o = run(&["list", "--json"]);
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("valid JSON");
    let arr = v.as_array().expect("an array");
    assert_eq!(arr.len(), 101);
    for (row, q) in arr.iter().zip(catalog::questions()) {
        assert_eq!(row["id"], q.id);
        assert_eq!(row["title_zh"], q.title_zh);
        assert_eq!(row["title_en"], q.title_en);
        assert_eq!(row["section"], q.section.name());
        assert!(row["status"].is_string());
    }
    let o = run(&["list", "--section", "redis", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 11);
}

#[test]
fn list_prints_a_table_with_chinese_titles() {
    let o = run(&["list", "--section", "go"]);
    let (out, _) = text(&o);
    assert!(o.status.success());
    assert!(out.contains("无缓冲Chan的发送和接收是否同步"));
    assert!(out.contains("48 questions"));
}

#[test]
fn show_renders_the_page_and_the_commands() {
    let o = run(&["show", "go-3"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(out.contains("go-03 · 无缓冲Chan的发送和接收是否同步"));
    assert!(out.contains("lab run go-03"));
    assert!(out.contains("What it needs"));
}

#[test]
fn unknown_ids_get_the_closest_ones() {
    for args in [
        &["show", "redis-99"][..],
        &["run", "redis-99"],
        &["run", "go-03/no-such-demo"],
    ] {
        let o = run(args);
        let (_, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("error:"), "{args:?}: {err}");
    }
    let (_, err) = text(&run(&["show", "redis-99"]));
    assert!(err.contains("closest: redis-09"), "{err}");
}

#[test]
fn odd_arguments_never_panic() {
    let long = "x".repeat(10_000);
    let cases: Vec<Vec<&str>> = vec![
        vec![],
        vec!["show"],
        vec!["show", ""],
        vec!["show", "-"],
        vec!["show", "🙂"],
        vec!["show", &long],
        vec!["run", ""],
        vec!["run", "/"],
        vec!["run", "go-01"],
        vec!["run", "--all", "go-03"],
        vec!["run", "--section", "xx"],
        vec!["list", "--section", ""],
        vec!["bench", "nope"],
        vec![
            "bench",
            "counters",
            "--json",
            "/proc/no/such/dir/x.json",
            "--quick",
        ],
        vec!["search", "\t\u{7f}"],
        vec!["search"],
        vec!["frobnicate"],
        vec!["--no-color", "list", "--json", "--json"],
    ];
    for args in cases {
        let o = lab(&args)
            .env("LAB_REDIS_URL", "redis://127.0.0.1:1/")
            .env("LAB_MYSQL_URL", "mysql://lab@127.0.0.1:1/lab")
            .env("LAB_GO", "/nonexistent/go")
            .output()
            .unwrap();
        let (_, err) = text(&o);
        assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
        assert!(o.status.code().is_some(), "{args:?} died by a signal");
    }
}

#[test]
fn a_missing_redis_is_a_clear_message_within_five_seconds() {
    let start = Instant::now();
    let o = lab(&["run", "redis-01"])
        .env("LAB_REDIS_URL", "redis://127.0.0.1:1/")
        .output()
        .unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "took {:?}",
        start.elapsed()
    );
    let (out, err) = text(&o);
    assert_ne!(o.status.code(), Some(0));
    assert!(out.contains("Redis not reachable at 127.0.0.1:1"), "{out}");
    assert!(out.contains("scripts/services.sh up"), "{out}");
    assert!(out.contains("skipped"), "{out}\n{err}");

    // In CI the same situation is a failure, not a skip.
    let o = lab(&["run", "redis-01"])
        .env("LAB_REDIS_URL", "redis://127.0.0.1:1/")
        .env("CI", "true")
        .output()
        .unwrap();
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("failed"), "{out}");
}

#[test]
fn a_missing_go_is_a_skip_that_says_so() {
    let o = lab(&["run", "go-03", "--allow-skip"])
        .env("LAB_GO", "/nonexistent/go")
        .output()
        .unwrap();
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}\n{err}");
    assert!(out.contains("skipped: go not found"), "{out}");
    assert!(out.contains("0 failed"), "{out}");
}

#[test]
fn doctor_reports_what_is_missing_and_how_to_fix_it() {
    let o = lab(&["doctor", "--json"])
        .env("LAB_REDIS_URL", "redis://127.0.0.1:1/")
        .env("LAB_MYSQL_URL", "mysql://lab@127.0.0.1:1/lab")
        .env("LAB_GO", "/nonexistent/go")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for part in ["go", "redis", "mysql"] {
        assert_eq!(v[part]["found"], false, "{part}");
        assert!(v[part]["fix"].is_string(), "{part}");
    }
    assert!(
        v["redis"]["fix"]
            .as_str()
            .unwrap()
            .contains("scripts/services.sh up")
    );
    assert!(
        v["rust"]["built_with"]
            .as_str()
            .unwrap()
            .starts_with("rustc ")
    );
}

#[test]
fn search_finds_in_both_languages() {
    let (out, _) = text(&run(&["search", "跳表"]));
    assert!(out.contains("redis-11"), "{out}");
    let (out, _) = text(&run(&["search", "isolation", "levels"]));
    assert!(out.contains("mysql-04"), "{out}");
    let o = run(&["search", "zzzz-nothing"]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn bench_lists_suites_and_rejects_unknown_ones() {
    let (out, _) = text(&run(&["bench"]));
    assert!(out.contains("counters"), "{out}");
    let o = run(&["bench", "nope"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err.contains("there are:") && err.contains("counters"),
        "{err}"
    );
}

#[test]
fn a_closed_pipe_ends_quietly() {
    // The reader goes away before the first line is written (as with `lab list | head -0`): the
    // write fails with EPIPE, which must end the program quietly, not panic it.
    let mut child = lab(&["list"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let status = child.wait().unwrap();
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(status.code(), Some(0), "{err}");
}

#[test]
fn the_tour_runs_with_nothing_but_rust() {
    // No Go, no servers: every in-process demo runs, the rest is listed as skipped, exit 0.
    let o = lab(&["tour"])
        .env("LAB_REDIS_URL", "redis://127.0.0.1:1/")
        .env("LAB_MYSQL_URL", "mysql://lab@127.0.0.1:1/lab")
        .env("LAB_GO", "/nonexistent/go")
        .output()
        .unwrap();
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}\n{err}");
    let registry = gmr_lab::registry();
    let in_process = registry
        .demos()
        .filter(|d| d.needs == catalog::Need::Nothing)
        .count();
    let elsewhere = registry.demos().count() - in_process;
    assert!(in_process > 0);
    assert!(
        out.contains(&format!(
            "demos: {in_process} passed, 0 failed, {elsewhere} skipped"
        )),
        "{out}"
    );
    assert!(out.contains("scripts/services.sh up"), "{out}");
}

#[test]
fn gpm_prints_a_readable_trace_of_a_small_run() {
    let o = run(&["gpm"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "lab gpm failed: {err}");
    for expected in ["Gs on 2 Ps", "P0", "run (from runnext)", "steal", "tick 61"] {
        assert!(out.contains(expected), "no {expected:?} in:\n{out}");
    }
}

#[test]
fn zset_draws_levels_and_traces_a_rank_and_refuses_bad_pairs() {
    let o = run(&[
        "zset", "--rank", "3", "1", "a", "2", "b", "3", "c", "4", "d",
    ]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "lab zset failed: {err}");
    assert!(out.contains("L1  HEAD"), "no level-1 row in:\n{out}");
    assert!(out.contains("rank 3 (c)"), "no trace to c in:\n{out}");
    for bad in [
        &["zset", "1", "a", "2"][..],
        &["zset", "nan", "a"],
        &["zset", "1", "a", "2", "a"],
        &["zset", "--rank", "5", "1", "a"],
    ] {
        let o = run(bad);
        let (_, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{bad:?} should be refused: {err}");
        assert!(err.contains("error:"), "{bad:?}: no clear error in {err:?}");
    }
}
