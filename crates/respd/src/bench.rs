//! `lab bench serve`: the installed `redis-benchmark` against the real Redis and against `lab serve`
//! in both execution modes, side by side (redis-04).
//!
//! | scenario | redis-benchmark arguments |
//! |---|---|
//! | SET, GET | `-t set,get -r 100000` (keys `key:<12 digits>`) |
//! | ZADD -r | `-t zadd -r 100000` (`ZADD myzset <rand> element:<rand>`) |
//! | ZRANK | `-r 100000 ZRANK myzset element:__rand_int__` (after the ZADD runs) |
//!
//! each with `-P 1` and `-P 16`, `-c 50`, `-n 100000` (`--quick`: 5000), `-q --csv`. The figure is
//! µs per request, `1e6 / requests per second`, so that "lower is better" holds as in every other
//! suite and the ratio to the real Redis reads the usual way (below 1: faster than Redis).
//!
//! The real Redis is borrowed: redis-benchmark's key names cannot be namespaced, so its runs go to
//! database 9 (`--dbnum 9`), which must be empty when the suite starts (else the Redis rows are
//! refused). Afterwards every key in db 9 must be one redis-benchmark writes (`key:` + 12 digits,
//! or `myzset`); only then is db 9 flushed. Database 0 is never selected. Every child process is
//! killed after 120 s.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use catalog::{BenchCtx, BenchReport, BenchSuite, DemoError, Stats};
use servers::redis;

use crate::{Handle, Mode};

/// `lab bench serve`.
pub const SUITE: BenchSuite = BenchSuite {
    name: "serve",
    about: "redis-benchmark (SET, GET, ZADD -r, ZRANK; -P 1 and 16; 50 clients) against the real Redis and lab serve in single and shared mode, µs per request",
    questions: &["redis-04"],
    run,
};

const REDIS: &str = "real Redis";
const SINGLE: &str = "lab serve single";
const SHARED: &str = "lab serve shared";
/// The real Redis database redis-benchmark writes to; never 0.
pub const BORROWED_DB: u32 = 9;
const KEYSPACE: u32 = 100_000;
const CLIENTS: u32 = 50;
const PIPELINES: [u32; 2] = [1, 16];
const CHILD_TIMEOUT: Duration = Duration::from_secs(120);

/// One redis-benchmark invocation's workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Test {
    /// `-t set,get`: two CSV rows.
    SetGet,
    /// `-t zadd` with `-r`: random scores and members.
    Zadd,
    /// A custom command line: `ZRANK myzset element:__rand_int__`.
    Zrank,
}

impl Test {
    const ALL: [Test; 3] = [Test::SetGet, Test::Zadd, Test::Zrank];

    /// For progress messages.
    pub fn label(self) -> &'static str {
        match self {
            Test::SetGet => "SET, GET",
            Test::Zadd => "ZADD -r",
            Test::Zrank => "ZRANK",
        }
    }

    /// The arguments after the common options.
    pub fn args(self) -> &'static [&'static str] {
        match self {
            Test::SetGet => &["-t", "set,get"],
            Test::Zadd => &["-t", "zadd"],
            Test::Zrank => &["ZRANK", "myzset", "element:__rand_int__"],
        }
    }

    /// (name redis-benchmark prints in its CSV, scenario label) for each row the run yields.
    pub fn rows(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Test::SetGet => &[("SET", "SET"), ("GET", "GET")],
            Test::Zadd => &[("ZADD", "ZADD -r")],
            Test::Zrank => &[("ZRANK myzset element:__rand_int__", "ZRANK")],
        }
    }
}

/// Where redis-benchmark connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    /// `Some(db)`: `--dbnum db` (the real Redis); `None`: the default db 0 (lab serve has only 0).
    pub db: Option<u32>,
}

/// redis-benchmark's command line for one run.
pub fn benchmark_args(to: &Endpoint, test: Test, pipeline: u32, requests: u32) -> Vec<String> {
    let mut a: Vec<String> = vec![
        "-h".into(),
        to.host.clone(),
        "-p".into(),
        to.port.to_string(),
        "-c".into(),
        CLIENTS.to_string(),
        "-n".into(),
        requests.to_string(),
        "-r".into(),
        KEYSPACE.to_string(),
        "-P".into(),
        pipeline.to_string(),
        "-q".into(),
        "--csv".into(),
    ];
    if let Some(db) = to.db {
        a.push("--dbnum".into());
        a.push(db.to_string());
    }
    a.extend(test.args().iter().map(|s| s.to_string()));
    a
}

/// Splits one line of redis-benchmark's CSV (every field double-quoted) into its fields.
fn csv_fields(line: &str) -> Option<Vec<String>> {
    let mut fields = Vec::new();
    let mut rest = line.trim();
    loop {
        let inner = rest.strip_prefix('"')?;
        let end = inner.find('"')?;
        fields.push(inner[..end].to_string());
        rest = &inner[end + 1..];
        if rest.is_empty() {
            return Some(fields);
        }
        rest = rest.strip_prefix(',')?;
    }
}

/// The `(test, requests per second)` pairs of `redis-benchmark -q --csv` output. An error when a
/// line is not CSV, a rate is not a positive number, or there is no row at all.
pub fn parse_csv(out: &str) -> Result<Vec<(String, f64)>, String> {
    let mut rows = Vec::new();
    for line in out.lines().filter(|l| !l.trim().is_empty()) {
        let f = csv_fields(line).ok_or_else(|| format!("not redis-benchmark CSV: {line:?}"))?;
        if f.len() < 2 {
            return Err(format!("no rps field in {line:?}"));
        }
        if f[0] == "test" {
            continue;
        }
        let rps: f64 = f[1]
            .parse()
            .map_err(|_| format!("rps {:?} is not a number in {line:?}", f[1]))?;
        if !(rps.is_finite() && rps > 0.0) {
            return Err(format!("rps {rps} is not positive in {line:?}"));
        }
        rows.push((f[0].clone(), rps));
    }
    if rows.is_empty() {
        return Err(format!("no result rows in {out:?}"));
    }
    Ok(rows)
}

/// µs per request from requests per second: the figure this suite reports (lower is better).
pub fn us_per_request(rps: f64) -> f64 {
    1e6 / rps
}

/// True for a key redis-benchmark writes in this suite: `key:` + 12 digits, or `myzset`.
pub fn is_benchmark_key(key: &[u8]) -> bool {
    if key == b"myzset" {
        return true;
    }
    match key.strip_prefix(b"key:") {
        Some(d) => d.len() == 12 && d.iter().all(u8::is_ascii_digit),
        None => false,
    }
}

/// `redis-benchmark` on `PATH`, if any.
pub fn find_redis_benchmark() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("redis-benchmark"))
        .find(|p| p.is_file())
}

/// Runs `program args`, killing it after `limit`; its stdout on success, else why not.
fn run_child(program: &Path, args: &[String], limit: Duration) -> Result<String, String> {
    let shown = format!("{} {}", program.display(), args.join(" "));
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{shown}: {e}"))?;
    let reader = |r: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            if let Some(mut r) = r {
                let _ = r.read_to_string(&mut s);
            }
            s
        })
    };
    let out = reader(
        child
            .stdout
            .take()
            .map(|r| Box::new(r) as Box<dyn Read + Send>),
    );
    let err = reader(
        child
            .stderr
            .take()
            .map(|r| Box::new(r) as Box<dyn Read + Send>),
    );
    let deadline = Instant::now() + limit;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{shown}: killed after {} s", limit.as_secs()));
            }
            // Polling only bounds the wait; the child's exit is what ends the loop.
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(format!("{shown}: {e}")),
        }
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    if !status.success() {
        return Err(format!("{shown}: {status}; stderr: {}", stderr.trim()));
    }
    if stderr.contains("Error") {
        return Err(format!(
            "{shown}: errors from the server: {}",
            stderr.trim()
        ));
    }
    Ok(stdout)
}

/// A connection to the real Redis with database [`BORROWED_DB`] selected.
fn borrowed_conn(target: &servers::Target) -> Result<redis::Connection, String> {
    let client = redis::Client::open(target.url()).map_err(|e| e.to_string())?;
    let mut conn = client
        .get_connection_with_timeout(Duration::from_secs(5))
        .map_err(|e| format!("{}: {e}", target.addr()))?;
    conn.set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    select_borrowed(&mut conn)?;
    Ok(conn)
}

fn select_borrowed(conn: &mut redis::Connection) -> Result<(), String> {
    redis::cmd("SELECT")
        .arg(BORROWED_DB)
        .query::<()>(conn)
        .map_err(|e| format!("SELECT {BORROWED_DB}: {e}"))
}

/// Takes db 9 of the real Redis if it is empty; otherwise refuses with the reason.
fn borrow_db(target: &servers::Target) -> Result<redis::Connection, String> {
    target
        .may_change(&format!("flush db {BORROWED_DB} after redis-benchmark"))
        .map_err(|e| e.to_string())?;
    let mut conn = borrowed_conn(target)?;
    let n: u64 = redis::cmd("DBSIZE")
        .query(&mut conn)
        .map_err(|e| e.to_string())?;
    if n > 0 {
        return Err(format!(
            "refused: db {BORROWED_DB} of the real Redis at {} holds {n} keys; this suite writes redis-benchmark's fixed key names there and flushes it afterwards, so it only borrows an empty db {BORROWED_DB}",
            target.addr()
        ));
    }
    Ok(conn)
}

/// Checks that db 9 holds only redis-benchmark's keys, then flushes it; with any other key, leaves
/// it alone and says so.
fn give_back_db(conn: &mut redis::Connection) -> Result<u64, String> {
    select_borrowed(conn)?;
    let mut cursor: u64 = 0;
    let mut seen = 0u64;
    loop {
        let (next, keys): (u64, Vec<Vec<u8>>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("COUNT")
            .arg(1000)
            .query(conn)
            .map_err(|e| e.to_string())?;
        if let Some(k) = keys.iter().find(|k| !is_benchmark_key(k)) {
            return Err(format!(
                "db {BORROWED_DB} holds {:?}, which redis-benchmark did not write: not flushed",
                String::from_utf8_lossy(k)
            ));
        }
        seen += keys.len() as u64;
        cursor = next;
        if cursor == 0 {
            break;
        }
    }
    select_borrowed(conn)?;
    redis::cmd("FLUSHDB")
        .query::<()>(conn)
        .map_err(|e| e.to_string())?;
    Ok(seen)
}

/// The first member of `myzset` and its size, via any connection to the server measured.
fn zset_probe(conn: &mut redis::Connection) -> Result<(String, u64), String> {
    let first: Vec<String> = redis::cmd("ZRANGE")
        .arg("myzset")
        .arg(0)
        .arg(0)
        .query(conn)
        .map_err(|e| e.to_string())?;
    let card: u64 = redis::cmd("ZCARD")
        .arg("myzset")
        .query(conn)
        .map_err(|e| e.to_string())?;
    Ok((first.into_iter().next().unwrap_or_default(), card))
}

struct Subject {
    name: &'static str,
    endpoint: Endpoint,
    conn: redis::Connection,
    _server: Option<Handle>,
}

fn lab_subject(name: &'static str, mode: Mode) -> Result<Subject, DemoError> {
    let server = Handle::start(mode, 0, 2)
        .map_err(|e| DemoError::Broken(format!("lab serve {}: {e}", mode.name())))?;
    let conn = redis::Client::open(server.url())
        .and_then(|c| c.get_connection_with_timeout(Duration::from_secs(5)))
        .map_err(|e| DemoError::Broken(format!("lab serve {}: {e}", mode.name())))?;
    Ok(Subject {
        name,
        endpoint: Endpoint {
            host: server.addr().ip().to_string(),
            port: server.addr().port(),
            db: None,
        },
        conn,
        _server: Some(server),
    })
}

fn run(ctx: &mut BenchCtx<'_>) -> Result<BenchReport, DemoError> {
    let mut report = BenchReport::new("serve", "µs/request", REDIS);
    let requests: u32 = if ctx.quick { 5_000 } else { 100_000 };
    let runs = if ctx.quick { 1 } else { 3 };
    let skip_all = |report: &mut BenchReport, why: &str| {
        for test in Test::ALL {
            for p in PIPELINES {
                for (_, label) in test.rows() {
                    for imp in [REDIS, SINGLE, SHARED] {
                        report.skip(&scenario(label, p), imp, why);
                    }
                }
            }
        }
    };
    let Some(bench) = find_redis_benchmark() else {
        let why = "skipped: redis-benchmark not found on PATH (install redis-tools)";
        if ctx.env.ci {
            return Err(DemoError::Unavailable(format!(
                "{why} (CI=true: redis-benchmark is required)"
            )));
        }
        skip_all(&mut report, why);
        report.notes.push(why.into());
        return Ok(report);
    };
    let version = run_child(&bench, &["--version".into()], CHILD_TIMEOUT)
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|e| format!("version unknown ({e})"));
    report.notes.push(format!("client: {version}"));

    let mut subjects: Vec<Subject> = Vec::new();
    let mut borrowed: Option<usize> = None;
    let redis_conn = ctx
        .env
        .redis_target()
        .map_err(|e| e.to_string())
        .and_then(|t| borrow_db(&t).map(|c| (t, c)));
    match redis_conn {
        Ok((t, conn)) => {
            borrowed = Some(subjects.len());
            subjects.push(Subject {
                name: REDIS,
                endpoint: Endpoint {
                    host: t.host.clone(),
                    port: t.port,
                    db: Some(BORROWED_DB),
                },
                conn,
                _server: None,
            });
        }
        Err(e) if ctx.env.ci => {
            return Err(DemoError::Unavailable(format!(
                "{e} (CI=true: the real Redis is required)"
            )));
        }
        Err(e) => report.notes.push(format!("real Redis rows skipped: {e}")),
    }
    subjects.push(lab_subject(SINGLE, Mode::Single)?);
    subjects.push(lab_subject(SHARED, Mode::Shared)?);

    let measured = measure_all(ctx, &bench, &mut subjects, requests, runs, &mut report);
    // Give db 9 back whatever happened above.
    if let Some(i) = borrowed {
        match give_back_db(&mut subjects[i].conn) {
            Ok(n) => report.notes.push(format!(
                "real Redis: db {BORROWED_DB} was empty before, held {n} redis-benchmark keys after, flushed; db 0 never selected"
            )),
            Err(e) => {
                let also = match &measured {
                    Err(m) => format!(" (and the runs failed: {m})"),
                    Ok(_) => String::new(),
                };
                return Err(DemoError::Broken(format!("{e}{also}")));
            }
        }
    }
    let samples = measured?;

    for test in Test::ALL {
        for p in PIPELINES {
            for (_, label) in test.rows() {
                let sc = scenario(label, p);
                let mut rps_line = Vec::new();
                for s in &subjects {
                    let rps: Vec<f64> = samples
                        .iter()
                        .filter(|(sc2, imp, _)| *sc2 == sc && *imp == s.name)
                        .map(|(_, _, r)| *r)
                        .collect();
                    let us: Vec<f64> = rps.iter().map(|r| us_per_request(*r)).collect();
                    report.push(&sc, s.name, Stats::of(&us));
                    if let Some(st) = Stats::of(&rps) {
                        rps_line.push(format!("{} {:.0}", s.name, st.median));
                    }
                }
                if borrowed.is_none() {
                    report.skip(&sc, REDIS, "skipped: real Redis not used");
                }
                report.notes.push(format!(
                    "{sc}: requests/s (median): {}",
                    rps_line.join(", ")
                ));
            }
        }
    }
    maxmemory_rows(ctx, &bench, requests, runs, &mut report)?;
    report.compute_ratios();
    report.notes.push(format!(
        "µs/request = 1e6 / redis-benchmark's requests per second (lower is better; ratio < 1: faster than the real Redis); -c {CLIENTS} -n {requests} -r {KEYSPACE}, median of {runs} run(s), redis-benchmark on the same machine"
    ));
    report.notes.push("lab serve runs in this process on an ephemeral port (single: one thread does all the work; shared: 2 tokio workers); the real Redis is a separate process".into());
    Ok(report)
}

/// Room the eviction rows give each server above what it uses when they start: far less than the
/// 100,000 keys redis-benchmark's `-r` can write, so SETs keep evicting.
pub const HEADROOM_BYTES: u64 = 4 * 1024 * 1024;

/// `SET, GET -P 16` under `maxmemory` (used memory at the start + [`HEADROOM_BYTES`]) with
/// `allkeys-lru`, on a throw-away `redis-server` (maxmemory is global, so the shared one is never
/// limited) and on `lab serve` single, each first filled with redis-benchmark's 100,000 keys so
/// that every run evicts; both must have evicted keys by the end.
fn maxmemory_rows(
    ctx: &mut BenchCtx<'_>,
    bench: &Path,
    requests: u32,
    runs: usize,
    report: &mut BenchReport,
) -> Result<(), DemoError> {
    use cache::scratch::{ScratchError, ScratchRedis};
    let label = |l: &str| format!("{l} under maxmemory (+4 MiB) allkeys-lru, -P 16");
    let mut scratch = match ScratchRedis::start("redis-04") {
        Ok(r) => r,
        Err(e @ ScratchError::NotInstalled) if !ctx.env.ci => {
            report.notes.push(format!("maxmemory rows skipped: {e}"));
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    let mut lab = lab_subject(SINGLE, Mode::Single)?;
    let broken = |what: &str, e: redis::RedisError| DemoError::Broken(format!("{what}: {e}"));
    for conn in [scratch.conn(), &mut lab.conn] {
        let info: String = redis::cmd("INFO")
            .arg("memory")
            .query(conn)
            .map_err(|e| broken("INFO memory", e))?;
        let used: u64 = info
            .lines()
            .find_map(|l| l.strip_prefix("used_memory:"))
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| DemoError::Broken(format!("no used_memory in {info:?}")))?;
        let limit = (used + HEADROOM_BYTES).to_string();
        for (name, value) in [
            ("maxmemory", limit.as_str()),
            ("maxmemory-policy", "allkeys-lru"),
        ] {
            redis::cmd("CONFIG")
                .arg("SET")
                .arg(name)
                .arg(value)
                .exec(conn)
                .map_err(|e| broken(&format!("CONFIG SET {name}"), e))?;
        }
        for chunk in (0..KEYSPACE).collect::<Vec<_>>().chunks(1000) {
            let mut p = redis::pipe();
            for i in chunk {
                p.cmd("SET").arg(format!("key:{i:012}")).arg("xxx").ignore();
            }
            p.exec(conn).map_err(|e| broken("filling", e))?;
        }
    }
    let targets = [
        (
            REDIS,
            Endpoint {
                host: "127.0.0.1".into(),
                port: scratch.port(),
                db: None,
            },
        ),
        (SINGLE, lab.endpoint.clone()),
    ];
    let mut samples: Vec<(&str, &str, f64)> = Vec::new();
    for run in 0..runs {
        for (name, endpoint) in &targets {
            ctx.step(&format!("run {}/{runs}: {name} SET, GET -P 16", run + 1));
            let args = benchmark_args(endpoint, Test::SetGet, 16, requests);
            let out = run_child(bench, &args, CHILD_TIMEOUT).map_err(DemoError::Broken)?;
            for (row, rps) in parse_csv(&out).map_err(DemoError::Broken)? {
                samples.push((name, if row == "SET" { "SET" } else { "GET" }, rps));
            }
        }
    }
    let evicted = |conn: &mut redis::Connection| -> Result<u64, DemoError> {
        let info: String = redis::cmd("INFO")
            .arg("stats")
            .query(conn)
            .map_err(|e| DemoError::Broken(format!("INFO stats: {e}")))?;
        Ok(info
            .lines()
            .find_map(|l| l.strip_prefix("evicted_keys:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0))
    };
    let (real_evicted, lab_evicted) = (evicted(scratch.conn())?, evicted(&mut lab.conn)?);
    if real_evicted == 0 || lab_evicted == 0 {
        return Err(DemoError::Claim(format!(
            "under maxmemory both servers should evict: real Redis {real_evicted}, \
             lab serve {lab_evicted}"
        )));
    }
    for row in ["SET", "GET"] {
        let sc = label(row);
        for (name, _) in &targets {
            let us: Vec<f64> = samples
                .iter()
                .filter(|(n, r, _)| n == name && *r == row)
                .map(|(_, _, rps)| us_per_request(*rps))
                .collect();
            report.push(&sc, name, Stats::of(&us));
        }
    }
    report.notes.push(format!(
        "maxmemory rows: real Redis (a throw-away redis-server) evicted {real_evicted} keys, lab \
         serve single {lab_evicted} (its own byte accounting, see docs/redis/redis-03.md)"
    ));
    Ok(())
}

fn scenario(label: &str, pipeline: u32) -> String {
    format!("{label}, -P {pipeline}")
}

/// Every run of every test against every subject; `(scenario, implementation, rps)` samples.
fn measure_all(
    ctx: &mut BenchCtx<'_>,
    bench: &Path,
    subjects: &mut [Subject],
    requests: u32,
    runs: usize,
    report: &mut BenchReport,
) -> Result<Vec<(String, &'static str, f64)>, DemoError> {
    let mut samples = Vec::new();
    for run in 0..runs {
        for s in subjects.iter_mut() {
            for test in Test::ALL {
                for p in PIPELINES {
                    ctx.step(&format!(
                        "run {}/{runs}: {} {} -P {p}",
                        run + 1,
                        s.name,
                        test.label()
                    ));
                    let args = benchmark_args(&s.endpoint, test, p, requests);
                    let out = run_child(bench, &args, CHILD_TIMEOUT).map_err(DemoError::Broken)?;
                    let rows = parse_csv(&out).map_err(DemoError::Broken)?;
                    for (name, label) in test.rows() {
                        let rps = rows
                            .iter()
                            .find(|(n, _)| n.eq_ignore_ascii_case(name))
                            .map(|(_, r)| *r)
                            .ok_or_else(|| {
                                DemoError::Broken(format!("no {name} row in {out:?}"))
                            })?;
                        samples.push((scenario(label, p), s.name, rps));
                    }
                }
                if test == Test::Zadd && run == 0 {
                    // What ZRANK will look up must be what ZADD wrote.
                    let (first, card) = zset_probe(&mut s.conn).map_err(DemoError::Broken)?;
                    if !first.starts_with("element:") || card == 0 {
                        return Err(DemoError::Broken(format!(
                            "{}: after ZADD, myzset has {card} members, first {first:?}",
                            s.name
                        )));
                    }
                    report.notes.push(format!(
                        "{}: myzset has {card} members after the first ZADD runs, so ZRANK finds about {:.0}% of the members it asks for",
                        s.name,
                        100.0 * card as f64 / KEYSPACE as f64
                    ));
                }
            }
        }
    }
    Ok(samples)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\"test\",\"rps\",\"avg_latency_ms\",\"min_latency_ms\"\n\"SET\",\"81300.81\",\"0.330\",\"0.1\"\n\"GET\",\"90000.00\",\"0.3\",\"0.1\"\n";

    #[test]
    fn parses_redis_benchmark_csv() {
        let rows = parse_csv(SAMPLE).unwrap();
        assert_eq!(
            rows,
            vec![("SET".to_string(), 81300.81), ("GET".to_string(), 90000.0)]
        );
        let custom = "\"test\",\"rps\"\n\"ZRANK myzset element:__rand_int__\",\"1234.5\"\n";
        assert_eq!(parse_csv(custom).unwrap()[0].1, 1234.5);
    }

    #[test]
    fn rejects_what_is_not_a_result() {
        // Counterexamples: the human-readable -q output, a header only, a zero or garbage rate.
        assert!(parse_csv("SET: 81300.81 requests per second\n").is_err());
        assert!(parse_csv("\"test\",\"rps\"\n").is_err());
        assert!(parse_csv("\"SET\",\"0\"\n").is_err());
        assert!(parse_csv("\"SET\",\"fast\"\n").is_err());
        assert!(parse_csv("").is_err());
    }

    #[test]
    fn rate_becomes_cost() {
        assert_eq!(us_per_request(100_000.0), 10.0);
        assert!(us_per_request(200_000.0) < us_per_request(100_000.0));
    }

    #[test]
    fn only_benchmark_keys_are_recognised() {
        assert!(is_benchmark_key(b"key:000000012345"));
        assert!(is_benchmark_key(b"myzset"));
        assert!(!is_benchmark_key(b"key:12345"));
        assert!(!is_benchmark_key(b"key:00000001234x"));
        assert!(!is_benchmark_key(b"lab:redis-11:z"));
        assert!(!is_benchmark_key(b"mylist"));
    }

    #[test]
    fn the_real_redis_gets_db_9_and_lab_serve_db_0() {
        let redis = Endpoint {
            host: "127.0.0.1".into(),
            port: 6379,
            db: Some(BORROWED_DB),
        };
        let a = benchmark_args(&redis, Test::Zrank, 16, 5000);
        let i = a.iter().position(|s| s == "--dbnum").unwrap();
        assert_eq!(a[i + 1], "9");
        assert!(a.ends_with(&[
            "ZRANK".to_string(),
            "myzset".into(),
            "element:__rand_int__".into()
        ]));
        let lab = Endpoint { db: None, ..redis };
        let b = benchmark_args(&lab, Test::SetGet, 1, 5000);
        assert!(!b.contains(&"--dbnum".to_string()));
        assert!(b.windows(2).any(|w| w == ["-r", "100000"]));
        assert!(b.windows(2).any(|w| w == ["-c", "50"]));
    }

    #[test]
    fn a_child_that_hangs_is_killed() {
        let t = Instant::now();
        let r = run_child(
            Path::new("sleep"),
            &["30".to_string()],
            Duration::from_millis(200),
        );
        assert!(r.unwrap_err().contains("killed"));
        assert!(t.elapsed() < Duration::from_secs(10));
    }
}
