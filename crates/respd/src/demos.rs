//! The demos of redis-04 (「单线程的Redis为什么快」): one executor serves many clients with no locks,
//! each command whole; pipelining turns 100 round trips into one; and the real Redis runs its
//! commands on one thread too.

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use catalog::{Ctx, Demo, DemoError, Need, check, check_eq};
use servers::redis::{self, Connection};

use crate::db::Mode;
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
