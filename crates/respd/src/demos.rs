//! The demos of redis-04 (「单线程的Redis为什么快」): one executor serves many clients with no locks,
//! each command whole; pipelining turns 100 round trips into one; and the real Redis runs its
//! commands on one thread too.

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use catalog::{Ctx, Demo, DemoError, Need, check, check_eq};
use servers::redis::{self, Connection};

use cache::experiment::{self, Outcome};
use cache::scratch::ScratchRedis;

use crate::db::{Db, Mode};
use crate::differential::{
    EXPIRY_SCRIPT, Raw, SETTINGS_SCRIPT, Seq, random_expiry_command, replies_agree,
};
use crate::reply::Client;
use crate::server::Handle;

pub static DEMOS: &[Demo] = &[
    Demo {
        name: "redis-04/one-executor-runs-each-command-whole",
        claim: "With one thread owning the keyspace and no lock, INCRs from 8 concurrent clients \
                interleave but none is lost or seen twice: every reply is distinct, the total is exact, and \
                `INFO` counts exactly one thread that executed commands.",
        needs: Need::Nothing,
        run: one_executor_atomic,
    },
    Demo {
        name: "redis-04/pipelining-cuts-round-trips",
        claim: "Against `lab serve`, 100 SETs sent as one pipeline finish at least 3x faster than 100 SETs \
                each waiting for its reply.",
        needs: Need::Nothing,
        run: pipelining_lab,
    },
    Demo {
        name: "redis-04/pipelining-cuts-round-trips-on-real-redis",
        claim: "Against the real Redis, a pipeline of 100 SETs is at least 3x faster than 100 sequential \
                round trips, and concurrent INCRs are never lost.",
        needs: Need::Redis,
        run: pipelining_real,
    },
    Demo {
        name: "redis-04/real-redis-executes-commands-on-one-thread",
        claim: "The real Redis 7.0 reports io_threads_active:0 (commands and, by default, socket I/O on its \
                main thread) and counts commands in INFO commandstats exactly as `lab serve` does.",
        needs: Need::Redis,
        run: real_redis_info,
    },
    Demo {
        name: "redis-03/lab-serve-lru-experiment-matches-the-model",
        claim: "Redis's LRU experiment run in `lab serve`'s keyspace (3,000 keys aged 1 s apart, \
                allkeys-lru, maxmemory at the 3,000 keys' bytes, new keys added until 1,500 were evicted) \
                evicts old keys at the model's rates: with 5 and 10 samples, in each fifth of the keys by \
                age the mean of four lab serve runs is within 8 points of the mean of four model runs.",
        needs: Need::Nothing,
        run: lab_lru_experiment,
    },
    Demo {
        name: "redis-03/lab-serve-lru-experiment-matches-real-redis",
        claim: "The same LRU experiment on a throw-away redis-server 7.0 (two runs per sample count, \
                keys aged with RESTORE … IDLETIME, maxmemory for 3,000 resident keys, within 6%) and in `lab \
                serve`'s keyspace (four runs): with 5 and 10 samples, each age fifth's eviction rate \
                is within 8 points; the picture is written to target/lab/redis-03-lab-serve-lru.svg.",
        needs: Need::Redis,
        run: lab_lru_experiment_real,
    },
    Demo {
        name: "redis-03/lab-serve-lfu-and-settings-match-real-redis",
        claim: "Against a throw-away redis-server 7.0, `lab serve` gives identical replies to CONFIG \
                SET/GET of maxmemory, maxmemory-policy, maxmemory-samples, lfu-log-factor, hz and \
                active-expire-effort (errors included), to OBJECT FREQ with lfu-log-factor 0 after \
                each kind of access, to OBJECT FREQ/IDLETIME under the other policy family, and ends \
                with the same expired_keys, evicted_keys, keyspace_hits and keyspace_misses.",
        needs: Need::Redis,
        run: lfu_and_settings_real,
    },
    Demo {
        name: "redis-05/lab-serve-expiry-matches-real-redis",
        claim: "`lab serve` and the real Redis 7.0 give identical replies (a TTL may differ by the \
                second that passes between them) to a fixed script and 250 seeded random commands of \
                SET EX/PX/EXAT/PXAT/KEEPTTL/NX/XX/GET, EXPIRE/PEXPIRE/EXPIREAT/PEXPIREAT with \
                NX/XX/GT/LT, TTL, PTTL, PERSIST and their errors: zero differences.",
        needs: Need::Redis,
        run: expiry_real,
    },
    Demo {
        name: "redis-05/lab-serve-timer-expires-untouched-keys",
        claim: "200 keys set with PX 50 and never read again still count in DBSIZE, then disappear \
                within 10 s on `lab serve`'s hz timer as on a throw-away redis-server 7.0's, with \
                expired_keys 200 on both.",
        needs: Need::Redis,
        run: active_expiry_real,
    },
];

const CLIENTS: usize = 8;
const INCRS_PER_CLIENT: usize = 300;
const PIPELINE: usize = 100;
const REPEATS: usize = 7;
/// Required speed-up of one pipeline of `PIPELINE` (100) SETs over as many sequential round trips.
pub const MIN_SPEEDUP: f64 = 3.0;

fn broken(e: impl std::fmt::Display) -> DemoError {
    DemoError::Broken(e.to_string())
}

fn connect(url: &str) -> Result<Connection, DemoError> {
    let client = redis::Client::open(url)?;
    let conn = client.get_connection_with_timeout(Duration::from_secs(2))?;
    conn.set_read_timeout(Some(Duration::from_secs(10)))?;
    conn.set_write_timeout(Some(Duration::from_secs(10)))?;
    Ok(conn)
}

/// True when the INCR replies are exactly 1..=total, each once: no update lost, none applied twice.
pub fn increments_are_atomic(replies: &[i64], total: usize) -> bool {
    let mut sorted = replies.to_vec();
    sorted.sort_unstable();
    sorted.len() == total && sorted.iter().enumerate().all(|(i, &r)| r == i as i64 + 1)
}

/// True when the replies of one client are not one contiguous run: other clients' commands ran
/// between its commands (interleaving happened).
pub fn interleaved(replies: &[i64]) -> bool {
    replies.windows(2).any(|w| w[1] != w[0] + 1)
}

/// Runs `CLIENTS` connections doing `INCRS_PER_CLIENT` INCRs each on `key`, all released at once.
fn hammer(conns: Vec<Connection>, key: &str) -> Result<Vec<Vec<i64>>, DemoError> {
    let start = Arc::new(Barrier::new(conns.len()));
    let handles: Vec<_> = conns
        .into_iter()
        .map(|mut c| {
            let start = Arc::clone(&start);
            let key = key.to_string();
            std::thread::spawn(move || -> redis::RedisResult<Vec<i64>> {
                start.wait();
                (0..INCRS_PER_CLIENT)
                    .map(|_| redis::cmd("INCR").arg(&key).query::<i64>(&mut c))
                    .collect()
            })
        })
        .collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.join().map_err(|_| broken("a client thread panicked"))??);
    }
    Ok(out)
}

fn one_executor_atomic(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let server = Handle::start(Mode::Single, 0, 2).map_err(broken)?;
    ctx.say(format!(
        "`lab serve --mode single` on {}: one thread reads, executes and writes for every client; no lock anywhere.",
        server.addr()
    ));
    let conns = (0..CLIENTS)
        .map(|_| connect(&server.url()))
        .collect::<Result<Vec<_>, _>>()?;
    let per_client = hammer(conns, "counter")?;
    let all: Vec<i64> = per_client.iter().flatten().copied().collect();
    let total = CLIENTS * INCRS_PER_CLIENT;
    let mixed = per_client.iter().filter(|r| interleaved(r)).count();
    ctx.say(format!(
        "{CLIENTS} clients x {INCRS_PER_CLIENT} INCR: {} replies, {mixed} clients saw others' INCRs between theirs.",
        all.len()
    ));
    check!(
        increments_are_atomic(&all, total),
        "the INCR replies are not exactly 1..={total}: an update was lost or applied twice"
    );
    let mut c = connect(&server.url())?;
    let last: i64 = redis::cmd("GET").arg("counter").query(&mut c)?;
    check_eq!(last, total as i64, "final counter");
    ctx.say(format!(
        "Every reply 1..={total} appeared exactly once and GET says {last}: each INCR ran whole."
    ));
    let info: String = redis::cmd("INFO").arg("server").query(&mut c)?;
    let threads = info_field(&info, "respd_executor_threads").unwrap_or("?");
    ctx.say(format!(
        "INFO server: respd_executor_threads:{threads} (OS threads that ran a command)."
    ));
    check_eq!(
        threads,
        "1",
        "threads that executed commands in single mode"
    );
    Ok(())
}

/// Median of the times.
pub fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort_unstable();
    xs.get(xs.len() / 2).copied().unwrap_or_default()
}

/// True when the pipelined batch is at least `min` times faster than the sequential one.
pub fn pipelining_wins(sequential: Duration, pipelined: Duration, min: f64) -> bool {
    pipelined.as_secs_f64() * min <= sequential.as_secs_f64()
}

/// `SET key i` in RESP, packed once so the timing measures round trips and not the client library.
fn packed_set(key: &str, i: usize) -> Vec<u8> {
    redis::cmd("SET").arg(key).arg(i).get_packed_command()
}

/// Medians of `REPEATS` runs: 100 sequential SETs (send one, wait for its reply, repeat), and one
/// pipeline of 100 SETs (send all, then read 100 replies). Commands are packed before the clock
/// starts.
fn time_round_trips(conn: &mut Connection, key: &str) -> Result<(Duration, Duration), DemoError> {
    use redis::ConnectionLike;
    let singles: Vec<Vec<u8>> = (0..PIPELINE).map(|i| packed_set(key, i)).collect();
    let batch: Vec<u8> = singles.concat();
    let mut seq = Vec::new();
    let mut pipe = Vec::new();
    // One warm-up round of each, not counted.
    for round in 0..=REPEATS {
        let t = Instant::now();
        for one in &singles {
            conn.req_packed_command(one)?;
        }
        let s = t.elapsed();
        let t = Instant::now();
        let replies = conn.req_packed_commands(&batch, 0, PIPELINE)?;
        let q = t.elapsed();
        check_eq!(replies.len(), PIPELINE, "replies to the pipeline");
        if round > 0 {
            seq.push(s);
            pipe.push(q);
        }
    }
    Ok((median(seq), median(pipe)))
}

fn report(ctx: &Ctx<'_>, what: &str, seq: Duration, pipe: Duration) {
    ctx.say(format!(
        "{what}: {PIPELINE} sequential SETs {:.0} µs ({:.1} µs per round trip), one pipeline of {PIPELINE} {:.0} µs: {:.1}x faster.",
        seq.as_secs_f64() * 1e6,
        seq.as_secs_f64() * 1e6 / PIPELINE as f64,
        pipe.as_secs_f64() * 1e6,
        seq.as_secs_f64() / pipe.as_secs_f64().max(1e-9)
    ));
}

fn pipelining_lab(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let server = Handle::start(Mode::Single, 0, 2).map_err(broken)?;
    let mut conn = connect(&server.url())?;
    let (seq, pipe) = time_round_trips(&mut conn, "k")?;
    report(ctx, "lab serve (single)", seq, pipe);
    check!(
        pipelining_wins(seq, pipe, MIN_SPEEDUP),
        "the pipeline was not {MIN_SPEEDUP}x faster: {seq:?} vs {pipe:?}"
    );
    Ok(())
}

fn pipelining_real(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let mut r = ctx.redis()?;
    let key = r.key("pipelined");
    let (seq, pipe) = time_round_trips(r.conn(), &key)?;
    report(ctx, "real Redis", seq, pipe);
    check!(
        pipelining_wins(seq, pipe, MIN_SPEEDUP),
        "the pipeline was not {MIN_SPEEDUP}x faster: {seq:?} vs {pipe:?}"
    );
    let counter = r.key("counter");
    let conns = (0..CLIENTS)
        .map(|_| r.another_connection())
        .collect::<Result<Vec<_>, _>>()?;
    let all: Vec<i64> = hammer(conns, &counter)?.into_iter().flatten().collect();
    check!(
        increments_are_atomic(&all, CLIENTS * INCRS_PER_CLIENT),
        "the real Redis lost or repeated an INCR"
    );
    ctx.say(format!(
        "{CLIENTS} clients x {INCRS_PER_CLIENT} INCR on the real Redis: replies are exactly 1..={}, as on `lab serve`.",
        CLIENTS * INCRS_PER_CLIENT
    ));
    Ok(())
}

/// The value of `name:` in an INFO reply.
pub fn info_field<'a>(info: &'a str, name: &str) -> Option<&'a str> {
    info.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .map(str::trim)
}

/// `calls` of `cmdstat_<cmd>` in an INFO commandstats reply (0 when the command never ran).
pub fn cmdstat_calls(info: &str, cmd: &str) -> Option<u64> {
    match info_field(info, &format!("cmdstat_{cmd}")) {
        None => Some(0),
        Some(v) => v
            .split(',')
            .find_map(|kv| kv.strip_prefix("calls="))
            .and_then(|n| n.parse().ok()),
    }
}

/// True when the `usec_per_call` field is present and numeric, as Redis prints it.
pub fn has_usec_per_call(info: &str, cmd: &str) -> bool {
    info_field(info, &format!("cmdstat_{cmd}")).is_some_and(|v| {
        v.split(',')
            .find_map(|kv| kv.strip_prefix("usec_per_call="))
            .is_some_and(|n| n.parse::<f64>().is_ok())
    })
}

/// Runs 10 ECHOs and returns the growth of `cmdstat_echo` calls, checking `usec_per_call` is there.
fn count_echos(conn: &mut Connection) -> Result<(u64, bool), DemoError> {
    let before: String = redis::cmd("INFO").arg("commandstats").query(conn)?;
    for _ in 0..10 {
        redis::cmd("ECHO").arg("hi").query::<String>(conn)?;
    }
    let after: String = redis::cmd("INFO").arg("commandstats").query(conn)?;
    let calls = |s: &str| cmdstat_calls(s, "echo").ok_or_else(|| broken("unreadable cmdstat_echo"));
    Ok((
        calls(&after)? - calls(&before)?,
        has_usec_per_call(&after, "echo"),
    ))
}

fn real_redis_info(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let mut r = ctx.redis()?;
    let info: String = redis::cmd("INFO").arg("server").query(r.conn())?;
    let version = info_field(&info, "redis_version")
        .unwrap_or("?")
        .to_string();
    let io_active = info_field(&info, "io_threads_active")
        .unwrap_or("?")
        .to_string();
    let io_threads = r.config_get("io-threads")?;
    ctx.say(format!(
        "real Redis {version}: io-threads {io_threads}, io_threads_active:{io_active}, multiplexing_api:{}",
        info_field(&info, "multiplexing_api").unwrap_or("?")
    ));
    check_eq!(
        io_active.as_str(),
        "0",
        "the real Redis's io_threads_active"
    );
    let (real_calls, real_usec) = count_echos(r.conn())?;

    let server = Handle::start(Mode::Single, 0, 2).map_err(broken)?;
    let mut ours = connect(&server.url())?;
    let our_info: String = redis::cmd("INFO").arg("server").query(&mut ours)?;
    check_eq!(
        info_field(&our_info, "io_threads_active"),
        Some("0"),
        "lab serve's io_threads_active"
    );
    let (our_calls, our_usec) = count_echos(&mut ours)?;
    ctx.say(format!(
        "10 ECHOs: cmdstat_echo calls grew by {real_calls} on Redis and by {our_calls} on lab serve; usec_per_call present: {real_usec} / {our_usec}."
    ));
    check_eq!(real_calls, 10, "cmdstat_echo calls on the real Redis");
    check_eq!(our_calls, 10, "cmdstat_echo calls on lab serve");
    check!(
        real_usec && our_usec,
        "usec_per_call missing from a cmdstat line"
    );
    Ok(())
}

/// Keys of the LRU experiment.
pub const EXPERIMENT_KEYS: usize = 3000;
/// Age groups compared.
pub const AGE_BINS: usize = 5;
/// How far the real server's resident key count may drift from `EXPERIMENT_KEYS` (its client
/// buffers move `used_memory` by a few KB; the cache crate's demo allows the same).
pub const RESIDENT_TOLERANCE: f64 = 0.06;
/// Largest difference in one age group's eviction rate between lab serve and the model.
pub const AGE_BIN_TOLERANCE: f64 = 0.08;

fn exec(db: &mut Db, client: &mut Client, args: &[&[u8]]) {
    let argv: Vec<Vec<u8>> = args.iter().map(|a| a.to_vec()).collect();
    client.out.clear();
    db.execute(client, &argv);
}

/// Redis's LRU experiment (see `cache::experiment`) on `lab serve`'s keyspace, in process: `n`
/// keys aged `n − i + 5` s, maxmemory at their bytes, allkeys-lru with `samples`, then new keys
/// until `n/2` were evicted. All key names have the same length, so every key costs the same.
pub fn lru_experiment_in_lab(n: usize, samples: usize, seed: u64) -> Outcome {
    let mut db = Db::new(Mode::Single, 0);
    db.reseed(seed);
    let mut c = Client::new(1);
    let samples = samples.to_string();
    exec(
        &mut db,
        &mut c,
        &[
            b"CONFIG",
            b"SET",
            b"maxmemory-policy",
            b"allkeys-lru",
            b"maxmemory-samples",
            samples.as_bytes(),
        ],
    );
    let old = |i: usize| format!("old:{i:05}");
    let new = |j: usize| format!("new:{j:05}");
    for i in 0..n {
        exec(&mut db, &mut c, &[b"SET", old(i).as_bytes(), b"v"]);
        db.set_idle_secs(
            old(i).as_bytes(),
            (n - i) as u64 + experiment::IDLE_OFFSET_SECS,
        );
    }
    let limit = db.used_memory().to_string();
    exec(
        &mut db,
        &mut c,
        &[b"CONFIG", b"SET", b"maxmemory", limit.as_bytes()],
    );
    let mut added = 0;
    // Each SET leaves the keyspace one key over the limit, and the next command (the next SET,
    // or the CONFIG SET below) evicts before it runs: stop one eviction early.
    while db.key_stats().evicted_keys + 1 < (n / 2) as u64 && added < 3 * n {
        exec(&mut db, &mut c, &[b"SET", new(added).as_bytes(), b"v"]);
        added += 1;
    }
    // This command makes the last eviction; with the limit off, the reads evict nothing.
    exec(&mut db, &mut c, &[b"CONFIG", b"SET", b"maxmemory", b"0"]);
    let mut present = |k: String| {
        exec(&mut db, &mut c, &[b"EXISTS", k.as_bytes()]);
        c.out == b":1\r\n"
    };
    Outcome {
        label: format!("{samples} samples (lab serve)"),
        kept_old: (0..n).map(|i| present(old(i))).collect(),
        kept_new: (0..added).map(|j| present(new(j))).collect(),
    }
}

fn lab_lru_experiment(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    for samples in [5usize, 10] {
        let lab: Vec<Outcome> = (0..4)
            .map(|s| lru_experiment_in_lab(EXPERIMENT_KEYS, samples, 11 + s))
            .collect();
        let model: Vec<Outcome> = (0..4)
            .map(|s| experiment::run_sampled(EXPERIMENT_KEYS, samples, 7 + s))
            .collect();
        for o in &lab {
            check_eq!(
                o.evicted_old() + o.evicted_new(),
                EXPERIMENT_KEYS / 2,
                "keys evicted in lab serve"
            );
        }
        let (l, m) = (
            experiment::mean_by_age(&lab, AGE_BINS),
            experiment::mean_by_age(&model, AGE_BINS),
        );
        ctx.say(format!(
            "{samples} samples: evicted by age fifth (oldest first): lab serve {} | model {}",
            percents(&l),
            percents(&m)
        ));
        let worst = experiment::agreement(&m, &l, AGE_BIN_TOLERANCE)
            .map_err(|e| DemoError::Claim(format!("{samples} samples: {e}")))?;
        ctx.say(format!(
            "  largest gap {:.1} points (allowed {:.0})",
            worst * 100.0,
            AGE_BIN_TOLERANCE * 100.0
        ));
    }
    Ok(())
}

fn lab_lru_experiment_real(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let mut scratch = ScratchRedis::start("redis-03-respd-lru")?;
    let mut panels = Vec::new();
    let mut failures = Vec::new();
    for samples in [5usize, 10] {
        let mut reals = Vec::new();
        for _ in 0..2 {
            let (o, resident) =
                cache::demos::real_lru_outcome(&mut scratch, EXPERIMENT_KEYS, samples)?;
            ctx.say(format!(
                "redis-server, {samples} samples: {resident} keys resident, {} evicted",
                o.evicted_old() + o.evicted_new()
            ));
            let drift = (resident as f64 - EXPERIMENT_KEYS as f64).abs() / EXPERIMENT_KEYS as f64;
            check!(
                drift <= RESIDENT_TOLERANCE,
                "{samples} samples: {resident} keys resident on redis-server, lab serve holds {EXPERIMENT_KEYS}"
            );
            reals.push(o);
        }
        let lab: Vec<Outcome> = (0..4)
            .map(|s| lru_experiment_in_lab(EXPERIMENT_KEYS, samples, 21 + s))
            .collect();
        let (l, r) = (
            experiment::mean_by_age(&lab, AGE_BINS),
            experiment::mean_by_age(&reals, AGE_BINS),
        );
        ctx.say(format!(
            "{samples} samples, evicted by age fifth (oldest first): lab serve {} | redis {}",
            percents(&l),
            percents(&r)
        ));
        match experiment::agreement(&r, &l, AGE_BIN_TOLERANCE) {
            Ok(worst) => ctx.say(format!(
                "  largest gap {:.1} points (allowed {:.0})",
                worst * 100.0,
                AGE_BIN_TOLERANCE * 100.0
            )),
            Err(e) => failures.push(format!("{samples} samples: {e}")),
        }
        let mut real = reals.swap_remove(0);
        real.label = format!("{samples} samples (Redis 7.0)");
        panels.push(lab[0].clone());
        panels.push(real);
    }
    let dir = experiment::lab_output_dir().map_err(broken)?;
    let path = dir.join("redis-03-lab-serve-lru.svg");
    std::fs::write(&path, experiment::svg(&panels, 60)).map_err(broken)?;
    ctx.say(format!("picture: {}", path.display()));
    check!(failures.is_empty(), "{}", failures.join("; "));
    Ok(())
}

fn percents(v: &[f64]) -> String {
    v.iter()
        .map(|x| format!("{:.0}%", x * 100.0))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Sends each line to both servers; the lines whose replies do not agree, with both replies.
fn differences(ours: &mut Raw, theirs: &mut Raw, lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .filter_map(|line| {
            let command = line.split(' ').next().unwrap_or_default();
            let (a, b) = (ours.line(line), theirs.line(line));
            (!replies_agree(command, &a, &b)).then(|| format!("{line}: lab {a:?}, redis {b:?}"))
        })
        .collect()
}

fn connect_raw(port: u16) -> Result<Raw, DemoError> {
    Raw::connect(port).map_err(broken)
}

fn lfu_and_settings_real(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let scratch = ScratchRedis::start("redis-03-respd")?;
    let mut redis = connect_raw(scratch.port())?;
    let server = Handle::start(Mode::Single, 0, 1).map_err(broken)?;
    let mut ours = connect_raw(server.addr().port())?;
    for raw in [&mut ours, &mut redis] {
        raw.line("CONFIG RESETSTAT");
    }
    let lines: Vec<String> = SETTINGS_SCRIPT
        .iter()
        .map(|l| {
            l.replace("{k}", &scratch.key("k"))
                .replace("{n}", &scratch.key("n"))
                .replace("{z}", &scratch.key("z"))
                .replace("{x}", &scratch.key("x"))
        })
        .collect();
    let diff = differences(&mut ours, &mut redis, &lines);
    ctx.say(format!(
        "{} commands sent to lab serve and to redis-server on port {}: {} differences",
        lines.len(),
        scratch.port(),
        diff.len()
    ));
    check!(diff.is_empty(), "replies differ:\n{}", diff.join("\n"));
    for field in [
        "expired_keys",
        "evicted_keys",
        "keyspace_hits",
        "keyspace_misses",
    ] {
        let (a, b) = (
            ours.info_field("stats", field),
            redis.info_field("stats", field),
        );
        ctx.say(format!("  INFO {field}: lab serve {a}, redis {b}"));
        check_eq!(a, b, "INFO {field}");
    }
    Ok(())
}

fn expiry_real(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let lab = ctx.redis()?;
    let mut redis = connect_raw(lab.target().port)?;
    let server = Handle::start(Mode::Single, 0, 1).map_err(broken)?;
    let mut ours = connect_raw(server.addr().port())?;
    let now_ms = crate::expiry::unix_ms();
    let (far_ms, far_s) = (now_ms + 1_000_000_000, now_ms / 1000 + 1_000_000);
    let mut lines: Vec<String> = EXPIRY_SCRIPT
        .iter()
        .map(|l| {
            l.replace("{k}", &lab.key("k"))
                .replace("{s}", &lab.key("s"))
                .replace("{z}", &lab.key("z"))
                .replace("{far_ms}", &far_ms.to_string())
                .replace("{far_s}", &(far_ms / 1000).to_string())
        })
        .collect();
    let keys: Vec<String> = (0..4).map(|i| lab.key(&format!("r{i}"))).collect();
    let mut seq = Seq(0x5EED_0005);
    lines.extend((0..250).map(|_| random_expiry_command(&mut seq, &keys, far_s)));
    let diff = differences(&mut ours, &mut redis, &lines);
    ctx.say(format!(
        "{} commands ({} scripted, 250 seeded) sent to lab serve and to Redis on {}: {} differences",
        lines.len(),
        EXPIRY_SCRIPT.len(),
        lab.target().addr(),
        diff.len()
    ));
    check!(diff.is_empty(), "replies differ:\n{}", diff.join("\n"));
    drop(lab);
    Ok(())
}

fn active_expiry_real(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let scratch = ScratchRedis::start("redis-05-respd")?;
    let mut redis = connect_raw(scratch.port())?;
    let server = Handle::start(Mode::Single, 0, 1).map_err(broken)?;
    let mut ours = connect_raw(server.addr().port())?;
    for (name, raw) in [("lab serve", &mut ours), ("redis", &mut redis)] {
        raw.line("CONFIG RESETSTAT");
        for i in 0..10 {
            raw.call(&["SET", &scratch.key(&format!("keep{i}")), "v"]);
        }
        for i in 0..200 {
            raw.call(&["SET", &scratch.key(&format!("gone{i}")), "v", "PX", "50"]);
        }
        let at_once = raw.int("DBSIZE");
        check_eq!(at_once, 210, "{name}: DBSIZE right after the SETs");
    }
    for (name, raw) in [("lab serve", &mut ours), ("redis", &mut redis)] {
        let start = Instant::now();
        // The servers' timers do the work; this loop only watches, with a 10 s safety limit.
        let left = loop {
            let n = raw.int("DBSIZE");
            if n == 10 || start.elapsed() > Duration::from_secs(10) {
                break n;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let expired = raw.info_field("stats", "expired_keys");
        ctx.say(format!(
            "{name}: DBSIZE 210 -> {left} after {:.0} ms with no key read; expired_keys {expired}",
            start.elapsed().as_secs_f64() * 1000.0
        ));
        check_eq!(left, 10, "{name}: keys left once the timer ran");
        check_eq!(expired, 200, "{name}: expired_keys");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_increments_are_recognised() {
        assert!(increments_are_atomic(&[2, 1, 3], 3));
        // A lost update: two clients read 1 and both wrote 2.
        assert!(!increments_are_atomic(&[1, 2, 2], 3));
        assert!(!increments_are_atomic(&[1, 2], 3));
    }

    // The LRU experiment's check can fail: lab serve with 1 sample (close to random eviction)
    // is far from the model with 10 samples, while 10 against 10 agrees. Sizes and run counts
    // are the demo's: the key order in lab serve's hash table changes from process to process,
    // and one run of 1,000 keys strayed up to 11 points from the model (one run of 3,000: at most
    // 5.2 in 40 runs; 1 sample against 10: 52 or more).
    #[test]
    fn lru_experiment_check_tells_sample_counts_apart() {
        let n = EXPERIMENT_KEYS;
        let runs = |f: &dyn Fn(u64) -> Outcome| -> Vec<f64> {
            experiment::mean_by_age(&(0..4).map(f).collect::<Vec<_>>(), AGE_BINS)
        };
        let model = runs(&|s| experiment::run_sampled(n, 10, 7 + s));
        let lab10 = runs(&|s| lru_experiment_in_lab(n, 10, 11 + s));
        let lab1 = runs(&|s| lru_experiment_in_lab(n, 1, 11 + s));
        assert!(experiment::agreement(&model, &lab10, AGE_BIN_TOLERANCE).is_ok());
        assert!(experiment::agreement(&model, &lab1, AGE_BIN_TOLERANCE).is_err());
    }

    #[test]
    fn interleaving_is_seen() {
        assert!(interleaved(&[1, 2, 5]));
        assert!(!interleaved(&[3, 4, 5]));
    }

    #[test]
    fn speedup_rule() {
        let ms = Duration::from_millis;
        assert!(pipelining_wins(ms(50), ms(10), 5.0));
        assert!(!pipelining_wins(ms(40), ms(10), 5.0));
    }

    #[test]
    fn info_parsing() {
        let info = "# Server\r\nio_threads_active:0\r\ncmdstat_echo:calls=12,usec=3,usec_per_call=0.25,rejected_calls=0\r\n";
        assert_eq!(info_field(info, "io_threads_active"), Some("0"));
        assert_eq!(cmdstat_calls(info, "echo"), Some(12));
        assert_eq!(cmdstat_calls(info, "get"), Some(0));
        assert!(has_usec_per_call(info, "echo"));
        assert!(!has_usec_per_call(
            "cmdstat_echo:calls=1,usec=2\r\n",
            "echo"
        ));
    }
}
