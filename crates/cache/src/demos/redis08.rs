//! redis-08 · Redis并发竞争key如何解决: optimistic transactions (WATCH/MULTI/EXEC) and the SET NX PX
//! lock with a token, against the real Redis; why a plain DEL is not a safe release.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use catalog::{Ctx, Demo, DemoError, Need, check, check_eq};
use servers::redis;

use crate::lock::{Step, double_grant, run_schedule};

use super::{RELEASE_LUA, random_token, try_lock};

/// A's lock expires while A is paused; B takes it; A releases; C tries. With a plain DEL.
pub const UNSAFE: &[Step] = &[
    Step::Acquire("a", 100),
    Step::Wait(150),
    Step::Acquire("b", 5_000),
    Step::Wait(10),
    Step::Del("a"),
    Step::Acquire("c", 5_000),
];

/// The same schedule with the token-checked release.
pub const SAFE: &[Step] = &[
    Step::Acquire("a", 100),
    Step::Wait(150),
    Step::Acquire("b", 5_000),
    Step::Wait(10),
    Step::Release("a"),
    Step::Acquire("c", 5_000),
];

fn describe(s: Step) -> String {
    match s {
        Step::Acquire(c, ttl) => format!("{c}: SET lock {c} NX PX {ttl}"),
        Step::Del(c) => format!("{c}: DEL lock"),
        Step::Release(c) => format!("{c}: EVAL release(lock, {c})"),
        Step::Wait(ms) => format!("   … {ms} ms pass"),
    }
}

pub const LOCK_MODEL: Demo = Demo {
    name: "redis-08/plain-del-releases-another-clients-lock",
    claim: "In the lock model under an injected clock: A's lock (PX 100) expires while A is paused, B takes it, and A's plain DEL deletes B's lock so C gets it while B's is still valid (two holders); releasing with a compare-and-delete on A's token returns 0 and C is refused.",
    needs: Need::Nothing,
    run: lock_model,
};

fn lock_model(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    for (name, steps) in [("plain DEL", UNSAFE), ("token release", SAFE)] {
        ctx.say(format!("{name}:"));
        for (s, reply) in run_schedule(steps) {
            if !matches!(s, Step::Wait(_)) {
                ctx.say(format!("  {:<34} → {}", describe(s), reply_text(s, reply)));
            } else {
                ctx.say(format!("  {}", describe(s)));
            }
        }
    }
    check!(
        double_grant(UNSAFE),
        "the plain DEL schedule should break mutual exclusion"
    );
    check!(
        !double_grant(SAFE),
        "the token release schedule broke mutual exclusion"
    );
    ctx.say("plain DEL: B and C hold the lock at once; token release: never two holders");
    Ok(())
}

fn reply_text(s: Step, ok: bool) -> &'static str {
    match (s, ok) {
        (Step::Acquire(..), true) => "OK",
        (Step::Acquire(..), false) => "(nil)",
        (_, true) => "1",
        (_, false) => "0",
    }
}

pub const WATCH_REAL: Demo = Demo {
    name: "redis-08/watch-multi-exec-prevents-lost-updates",
    claim: "On the real Redis, two clients doing GET then SET lose an update (2 increments, counter 1); with WATCH the second EXEC returns nil when the key changed after WATCH, and 4 clients × 50 increments with WATCH/MULTI/EXEC retries end at exactly 200.",
    needs: Need::Redis,
    run: watch_real,
};

/// One optimistic increment; returns how many EXECs were aborted before it went through.
fn watched_incr(conn: &mut redis::Connection, key: &str) -> Result<u64, DemoError> {
    let mut retries = 0;
    loop {
        redis::cmd("WATCH").arg(key).exec(conn)?;
        let v: Option<i64> = redis::cmd("GET").arg(key).query(conn)?;
        let next = v.unwrap_or(0) + 1;
        let done: Option<(i64,)> = redis::pipe()
            .atomic()
            .cmd("SET")
            .arg(key)
            .arg(next)
            .ignore()
            .cmd("GET")
            .arg(key)
            .query(conn)?;
        if done.is_some() {
            return Ok(retries);
        }
        retries += 1;
        check!(retries < 10_000, "no progress on {key}");
    }
}

fn watch_real(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let mut r = ctx.redis()?;
    let mut a = r.another_connection()?;
    let mut b = r.another_connection()?;
    // Lost update: both read 0, both write 1.
    let k = r.key("lost");
    redis::cmd("SET").arg(&k).arg(0).exec(r.conn())?;
    let va: i64 = redis::cmd("GET").arg(&k).query(&mut a)?;
    let vb: i64 = redis::cmd("GET").arg(&k).query(&mut b)?;
    redis::cmd("SET").arg(&k).arg(va + 1).exec(&mut a)?;
    redis::cmd("SET").arg(&k).arg(vb + 1).exec(&mut b)?;
    let lost: i64 = redis::cmd("GET").arg(&k).query(r.conn())?;
    check_eq!(lost, 1, "counter after two GET/SET increments interleaved");
    ctx.say(
        "A: GET → 0; B: GET → 0; A: SET 1; B: SET 1 → counter 1 after two increments (one lost)",
    );

    // WATCH: B's write after A's WATCH aborts A's EXEC.
    let k = r.key("watched");
    redis::cmd("SET").arg(&k).arg(0).exec(r.conn())?;
    redis::cmd("WATCH").arg(&k).exec(&mut a)?;
    let va: i64 = redis::cmd("GET").arg(&k).query(&mut a)?;
    redis::cmd("INCR").arg(&k).exec(&mut b)?;
    let exec: Option<(i64,)> = redis::pipe()
        .atomic()
        .cmd("SET")
        .arg(&k)
        .arg(va + 1)
        .ignore()
        .cmd("GET")
        .arg(&k)
        .query(&mut a)?;
    check_eq!(exec, None, "A's EXEC after B changed the watched key");
    let retries = watched_incr(&mut a, &k)?;
    let v: i64 = redis::cmd("GET").arg(&k).query(r.conn())?;
    check_eq!((v, retries), (2, 0), "(counter, retries) after A retries");
    ctx.say("A: WATCH k; GET → 0; B: INCR k; A: MULTI SET k 1 EXEC → nil (aborted); A retries: WATCH, GET 1, EXEC → counter 2");

    // Concurrent clients: no lost update, retries counted.
    let k = r.key("counter");
    redis::cmd("SET").arg(&k).arg(0).exec(r.conn())?;
    let conns: Vec<redis::Connection> = (0..4)
        .map(|_| r.another_connection())
        .collect::<Result<_, _>>()?;
    let retries = AtomicU64::new(0);
    let errors = AtomicU64::new(0);
    let start = Instant::now();
    std::thread::scope(|s| {
        for mut c in conns {
            let (k, retries, errors) = (&k, &retries, &errors);
            s.spawn(move || {
                for _ in 0..50 {
                    match watched_incr(&mut c, k) {
                        Ok(n) => retries.fetch_add(n, Ordering::Relaxed),
                        Err(_) => errors.fetch_add(1, Ordering::Relaxed),
                    };
                }
            });
        }
    });
    check_eq!(errors.load(Ordering::Relaxed), 0, "failed increments");
    let v: i64 = redis::cmd("GET").arg(&k).query(r.conn())?;
    check_eq!(v, 200, "counter after 4 × 50 optimistic increments");
    ctx.say(format!(
        "4 clients × 50 WATCH/GET/MULTI/SET/EXEC increments: counter 200, {} aborted EXECs retried ({} ms)",
        retries.load(Ordering::Relaxed),
        start.elapsed().as_millis()
    ));
    Ok(())
}

pub const LOCK_REAL: Demo = Demo {
    name: "redis-08/lock-release-needs-the-token",
    claim: "On the real Redis, SET lock token NX PX grants one holder; after A's lock expires and B takes it, A's plain DEL deletes B's lock and C acquires it (two holders), while the Lua compare-and-delete with A's token returns 0 and keeps B's lock — the same replies as the model's schedule.",
    needs: Need::Redis,
    run: lock_real,
};

/// Runs a lock schedule against the real Redis; `Wait` steps poll until A's lock has expired (or
/// the time passes), bounded. Replies as booleans, like the model's.
fn real_schedule(
    r: &mut servers::RedisLab,
    key: &str,
    steps: &[Step],
) -> Result<Vec<bool>, DemoError> {
    let release = redis::Script::new(RELEASE_LUA);
    let mut tokens: Vec<(&'static str, String)> = Vec::new();
    let mut token_of = |c: &'static str| -> String {
        if let Some((_, t)) = tokens.iter().find(|(n, _)| *n == c) {
            return t.clone();
        }
        let t = format!(
            "{c}-{}",
            random_token(c.len() as u64 + c.as_bytes()[0] as u64)
        );
        tokens.push((c, t.clone()));
        t
    };
    let mut out = Vec::new();
    for &s in steps {
        let reply = match s {
            Step::Acquire(c, ttl) => try_lock(r.conn(), key, &token_of(c), ttl)?,
            Step::Del(_) => {
                let n: i64 = redis::cmd("DEL").arg(key).query(r.conn())?;
                n == 1
            }
            Step::Release(c) => {
                let n: i64 = release.key(key).arg(token_of(c)).invoke(r.conn())?;
                n == 1
            }
            Step::Wait(ms) => {
                // Bounded wait for the time to pass on the server: the lock's PTTL tells us when
                // a 100 ms lock is gone (-2); a short wait just lets `ms` pass.
                let deadline = Instant::now() + Duration::from_secs(5);
                let until = Instant::now() + Duration::from_millis(ms);
                loop {
                    let pttl: i64 = redis::cmd("PTTL").arg(key).query(r.conn())?;
                    if Instant::now() >= until && (ms < 100 || pttl == -2) {
                        break;
                    }
                    check!(
                        Instant::now() < deadline,
                        "the lock never expired (PTTL {pttl})"
                    );
                    std::thread::sleep(Duration::from_millis(2));
                }
                true
            }
        };
        out.push(reply);
    }
    Ok(out)
}

fn lock_real(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let mut r = ctx.redis()?;
    for (name, steps, key) in [
        ("plain DEL", UNSAFE, "lock-del"),
        ("Lua release", SAFE, "lock-lua"),
    ] {
        let key = r.key(key);
        let real = real_schedule(&mut r, &key, steps)?;
        let model: Vec<bool> = run_schedule(steps).into_iter().map(|(_, ok)| ok).collect();
        let holder: Option<String> = redis::cmd("GET").arg(&key).query(r.conn())?;
        ctx.say(format!("{name}:"));
        for (s, ok) in steps.iter().zip(&real) {
            if !matches!(s, Step::Wait(_)) {
                ctx.say(format!("  {:<34} → {}", describe(*s), reply_text(*s, *ok)));
            } else {
                ctx.say(format!("  {}", describe(*s)));
            }
        }
        let holder = holder.unwrap_or_default();
        ctx.say(format!(
            "  lock now held by token {}…",
            holder.get(..3).unwrap_or("")
        ));
        check_eq!(real, model, "{name}: real replies vs the model's schedule");
        let expect_holder = if steps == UNSAFE { "c-" } else { "b-" };
        check!(
            holder.starts_with(expect_holder),
            "{name}: lock held by {holder}"
        );
    }
    ctx.say("plain DEL: B still believes it holds the lock, but C holds it — two holders; Lua release: A gets 0, B keeps the lock, C is refused");
    Ok(())
}
