//! Lists: a queue, a capped timeline, and a consumer that blocks until work arrives.
//!
//! ```text
//!   LPUSH → [ job:3 | job:2 | job:1 ] → RPOP        first in, first out
//!   LPUSH post:15, LTRIM 0 9 → [ post:15 … post:6 ]  only the latest 10 are kept
//!   BLPOP jobs 5   ── parks the client ── LPUSH jobs x ─► wakes it with ("jobs", "x")
//! ```
//!
//! Before 7.2 every list is a quicklist (a doubly linked list of listpack nodes); since 7.2 a list
//! that fits in one node (`list-max-listpack-size`, 8 KB by default) is a bare listpack.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use catalog::{Ctx, DemoError, check, check_eq};
use servers::redis::{self, Connection};

use crate::encoding::list_encoding;
use crate::session::Session;

/// The timeline a reader sees after `LPUSH post; LTRIM 0 n-1` for each post in order: the newest
/// `n`, newest first.
pub fn latest_n(posts: &[String], n: usize) -> Vec<String> {
    posts.iter().rev().take(n).cloned().collect()
}

/// True when a `CLIENT LIST` line shows a client parked in a blocking command `cmd`: flag `b` and
/// that command as its current one.
pub fn is_blocked_in(client_line: &str, cmd: &str) -> bool {
    let field = |name: &str| {
        client_line
            .split_whitespace()
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
    };
    field("flags").is_some_and(|f| f.contains('b')) && field("cmd") == Some(cmd)
}

/// How many 64-byte elements make a list at least twice as large as one node may be, for
/// `list-max-listpack-size` = `fill`: well past the limit, whatever the exact listpack overhead.
pub fn elements_past_one_node(fill: i64) -> usize {
    match crate::encoding::list_node_byte_limit(fill) {
        Some(bytes) => 2 * bytes / 64 + 1,
        None => {
            let by_count = 2 * fill.max(1) as usize;
            let by_safety = 2 * crate::encoding::LIST_NODE_SAFETY_BYTES / 64 + 1;
            by_count.min(by_safety)
        }
    }
}

const TIMELINE_LEN: usize = 10;
const BLPOP_TIMEOUT: Duration = Duration::from_millis(100);
/// How long the woken consumer may wait at most; it should be woken long before.
const WORKER_TIMEOUT_S: u64 = 5;

pub(crate) fn queue_timeline_and_blocking_pop(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let mut s = Session::open(ctx)?;
    let v = s.version();

    s.say("1) Queue: producers LPUSH at the head, a worker RPOPs from the tail.");
    let jobs = s.key("queue:jobs");
    for job in ["job:1", "job:2", "job:3"] {
        s.run::<i64>(redis::cmd("LPUSH").arg(&jobs).arg(job))?;
    }
    let mut served = Vec::new();
    for _ in 0..3 {
        let job: Option<String> = s.run(redis::cmd("RPOP").arg(&jobs))?;
        served.extend(job);
    }
    check_eq!(
        served,
        ["job:1", "job:2", "job:3"],
        "RPOP order after LPUSH job:1, job:2, job:3"
    );
    let none: Option<String> = s.run(redis::cmd("RPOP").arg(&jobs))?;
    check_eq!(none, None, "RPOP of an empty queue");

    s.say(format!(
        "2) Timeline: LPUSH each new post, LTRIM 0 {} keeps the latest {TIMELINE_LEN}.",
        TIMELINE_LEN - 1
    ));
    let timeline = s.key("timeline:user:42");
    let posts: Vec<String> = (1..=15).map(|i| format!("post:{i}")).collect();
    for (i, post) in posts.iter().enumerate() {
        let push = redis::cmd("LPUSH").arg(&timeline).arg(post).clone();
        let trim = redis::cmd("LTRIM")
            .arg(&timeline)
            .arg(0)
            .arg(TIMELINE_LEN - 1)
            .clone();
        if i == 0 || i == posts.len() - 1 {
            s.run::<i64>(&push)?;
            s.run::<()>(&trim)?;
        } else {
            s.quiet::<i64>(&push)?;
            s.quiet::<()>(&trim)?;
        }
    }
    let shown: Vec<String> = s.run(redis::cmd("LRANGE").arg(&timeline).arg(0).arg(-1))?;
    check_eq!(
        shown,
        latest_n(&posts, TIMELINE_LEN),
        "LRANGE after 15 posts"
    );

    s.say("3) BLPOP on an empty list waits for its timeout, then replies nil.");
    let empty = s.key("queue:empty");
    let started = Instant::now();
    let got: Option<(String, String)> = s.run(
        redis::cmd("BLPOP")
            .arg(&empty)
            .arg(BLPOP_TIMEOUT.as_secs_f64()),
    )?;
    let waited = started.elapsed();
    check_eq!(got, None, "BLPOP of an empty list after its timeout");
    check!(
        waited >= BLPOP_TIMEOUT - Duration::from_millis(10),
        "BLPOP replied after {waited:?}, before its {BLPOP_TIMEOUT:?} timeout"
    );
    s.say(format!("   waited {} ms", waited.as_millis()));

    s.say("4) A parked BLPOP is woken by the next push, long before its timeout.");
    let wake = s.key("queue:wake");
    let worker = s.another_connection()?;
    let (popped, worker_waited) = wake_a_blocked_worker(&mut s, worker, &wake)?;
    check_eq!(
        popped,
        Some((wake.clone(), "job:urgent".to_string())),
        "what the parked worker received"
    );
    check!(
        worker_waited < Duration::from_secs(WORKER_TIMEOUT_S),
        "the worker waited {worker_waited:?}: it timed out instead of being woken"
    );

    s.say("5) Encoding: one node or many.");
    let fill: i64 = s.config_num(&["list-max-listpack-size", "list-max-ziplist-size"])?;
    let payload: usize = shown.iter().map(String::len).sum();
    let want = list_encoding(v, shown.len(), payload, fill);
    s.expect_encoding(&timeline, want, &format!("a {}-element list", shown.len()))?;
    let big = s.key("big");
    let n = elements_past_one_node(fill);
    let element = "e".repeat(64);
    let mut rpush = redis::cmd("RPUSH");
    rpush.arg(&big);
    for _ in 0..n {
        rpush.arg(&element);
    }
    let len: usize = s.run(&rpush)?;
    check_eq!(len, n, "RPUSH of {n} elements");
    let want = list_encoding(v, n, n * element.len(), fill);
    s.expect_encoding(&big, want, &format!("a list of {n} × 64-byte elements"))?;
    s.finish()
}

/// Parks `worker` in `BLPOP key`, waits (by asking the server, not by sleeping) until `CLIENT LIST`
/// shows it blocked, then pushes one job. Returns what the worker popped and how long it waited.
fn wake_a_blocked_worker(
    s: &mut Session<'_, '_>,
    mut worker: Connection,
    key: &str,
) -> Result<(Option<(String, String)>, Duration), DemoError> {
    let worker_id: i64 = redis::cmd("CLIENT").arg("ID").query(&mut worker)?;
    let (tx, rx) = mpsc::channel();
    let key_owned = key.to_string();
    let handle = std::thread::spawn(move || {
        let started = Instant::now();
        let r = redis::cmd("BLPOP")
            .arg(&key_owned)
            .arg(WORKER_TIMEOUT_S)
            .query::<Option<(String, String)>>(&mut worker);
        // The receiver only goes away if the demo already failed; nothing to report then.
        let _ = tx.send((r, started.elapsed()));
    });
    s.say(format!(
        "worker (client {worker_id})> BLPOP {key} {WORKER_TIMEOUT_S}"
    ));
    let deadline = Instant::now() + Duration::from_secs(WORKER_TIMEOUT_S);
    let mut blocked = None;
    while Instant::now() < deadline {
        let line: String = s.quiet(redis::cmd("CLIENT").arg("LIST").arg("ID").arg(worker_id))?;
        if is_blocked_in(&line, "blpop") {
            blocked = Some(line);
            break;
        }
        std::thread::yield_now();
    }
    let Some(line) = blocked else {
        return Err(DemoError::Claim(
            "CLIENT LIST never showed the worker blocked in BLPOP".into(),
        ));
    };
    let fields: Vec<&str> = line
        .split_whitespace()
        .filter(|kv| kv.starts_with("id=") || kv.starts_with("flags=") || kv.starts_with("cmd="))
        .collect();
    s.say(format!(
        "> CLIENT LIST ID {worker_id}  → {} …  (b = blocked)",
        fields.join(" … ")
    ));
    s.run::<i64>(redis::cmd("LPUSH").arg(key).arg("job:urgent"))?;
    let (popped, waited) = rx
        .recv_timeout(Duration::from_secs(WORKER_TIMEOUT_S + 5))
        .map_err(|_| DemoError::Broken("the worker thread never reported".into()))?;
    handle
        .join()
        .map_err(|_| DemoError::Broken("the worker thread panicked".into()))?;
    let popped = popped?;
    let shown = match &popped {
        Some((k, v)) => format!("[\"{k}\", \"{v}\"]"),
        None => "(nil)".to_string(),
    };
    s.say(format!(
        "worker (client {worker_id})  → {shown} after {} ms",
        waited.as_millis()
    ));
    Ok((popped, waited))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trimmed_timeline_holds_the_newest_first() {
        let posts: Vec<String> = (1..=15).map(|i| format!("post:{i}")).collect();
        let t = latest_n(&posts, 10);
        assert_eq!(t.len(), 10);
        assert_eq!(t[0], "post:15");
        assert_eq!(t[9], "post:6");
        // Counterexample: the oldest ten, or the newest ten oldest-first, are not what LRANGE shows.
        let oldest: Vec<String> = posts.iter().take(10).cloned().collect();
        assert_ne!(t, oldest);
        let mut oldest_first = t.clone();
        oldest_first.reverse();
        assert_ne!(t, oldest_first);
        assert_eq!(latest_n(&posts[..3], 10).len(), 3);
    }

    #[test]
    fn client_list_lines_show_who_is_blocked() {
        let parked = "id=7 addr=127.0.0.1:5 laddr=127.0.0.1:6379 fd=9 name= age=0 idle=0 flags=b db=0 sub=0 psub=0 ssub=0 multi=-1 qbuf=0 cmd=blpop user=default";
        assert!(is_blocked_in(parked, "blpop"));
        // Counterexamples: a client between commands, and one blocked in another command.
        let idle = parked
            .replace("flags=b", "flags=N")
            .replace("cmd=blpop", "cmd=client|id");
        assert!(!is_blocked_in(&idle, "blpop"));
        let other = parked.replace("cmd=blpop", "cmd=brpop");
        assert!(!is_blocked_in(&other, "blpop"));
        // Fields are matched by their whole name.
        assert!(!is_blocked_in("xflags=b cmd=blpop", "blpop"));
    }

    #[test]
    fn the_big_list_is_at_least_twice_one_node() {
        assert_eq!(elements_past_one_node(-2), 257);
        assert!(elements_past_one_node(-2) * 64 > 2 * 8192);
        assert_eq!(elements_past_one_node(128), 256);
        // A huge count limit: the 8 KB safety limit decides instead.
        assert_eq!(elements_past_one_node(100_000), 257);
        assert_eq!(elements_past_one_node(0), 2);
    }
}
