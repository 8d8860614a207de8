//! redis-06 · 如何解决Redis缓存雪崩问题: keys that expire together send their reloads to the database
//! together; jitter spreads them. And the hot-key variant (one key, many clients): rebuild it once.

use std::sync::Barrier;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use catalog::{Ctx, Demo, DemoError, Need, check, check_eq};
use servers::redis;

use crate::clock::Clock;
use crate::keyspace::{Config, Keyspace};
use crate::rng::Rng;
use crate::singleflight::{FlightError, Group};
use crate::slowdb::{SlowDb, peak_in_window, per_window};

use super::{RELEASE_LUA, random_token, try_lock, wait_until};

pub const MODEL_AVALANCHE: Demo = Demo {
    name: "redis-06/same-ttl-reloads-arrive-together",
    claim: "In a cache-aside model under an injected clock, 1000 keys loaded together with the same 60 s TTL all miss in the same second (1000 database loads in one 1 s window, every 60 s), while a TTL of 60 s + uniform 0–30 s jitter keeps the busiest second under 80 loads.",
    needs: Need::Nothing,
    run: model_avalanche,
};

/// Cache-aside over the model keyspace: every key is read once per simulated second for
/// `seconds`; a miss loads from the "database" (counted per second) and sets the key with
/// `ttl_ms()`. Returns loads per second.
pub fn simulate_cache_aside(
    keys: u64,
    seconds: u64,
    mut ttl_ms: impl FnMut() -> u64,
) -> Vec<usize> {
    let clock = Clock::at(1_700_000_000_000);
    let mut ks: Keyspace<u64> = Keyspace::new(Config::default(), clock.clone(), 11);
    ks.config.active_expire_enabled = false;
    for k in 0..keys {
        let _ = ks.set_px(k, ttl_ms());
    }
    let mut loads = vec![0usize; seconds as usize];
    for (sec, slot) in loads.iter_mut().enumerate() {
        clock.set_ms(1_700_000_000_000 + sec as u64 * 1000 + 1);
        for k in 0..keys {
            if !ks.get(&k) {
                *slot += 1;
                let _ = ks.set_px(k, ttl_ms());
            }
        }
    }
    loads
}

fn model_avalanche(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let same = simulate_cache_aside(1000, 200, || 60_000);
    let mut rng = Rng::new(6);
    let jitter = simulate_cache_aside(1000, 200, || 60_000 + rng.below(30_001));
    let peak = |v: &[usize]| v.iter().copied().max().unwrap_or(0);
    let busy = |v: &[usize]| {
        v.iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(s, _)| s)
            .take(4)
            .collect::<Vec<_>>()
    };
    ctx.say(format!(
        "same TTL: {} loads in 200 s, busiest second {} loads; loads happen only at seconds {:?} …",
        same.iter().sum::<usize>(),
        peak(&same),
        busy(&same)
    ));
    ctx.say(format!(
        "TTL + jitter: {} loads in 200 s, busiest second {} loads, {} seconds with loads",
        jitter.iter().sum::<usize>(),
        peak(&jitter),
        jitter.iter().filter(|n| **n > 0).count()
    ));
    check_eq!(peak(&same), 1000, "busiest second with one TTL");
    check!(
        peak(&jitter) < 80,
        "busiest second with jitter: {}",
        peak(&jitter)
    );
    Ok(())
}

pub const REAL_AVALANCHE: Demo = Demo {
    name: "redis-06/jittered-ttls-flatten-the-reload-peak",
    claim: "Against the real Redis, 200 keys cached with the same 300 ms PX send at least 80% of their reloads to the database within one 100 ms window (a one-at-a-time database at 2 ms per load then queues them for ~400 ms); with PX 300 + 0–600 ms jitter the busiest 100 ms window and the longest queue wait are at most half as large.",
    needs: Need::Redis,
    run: real_avalanche,
};

/// One run: preload `keys` with `ttl(i)`, then 8 clients (each owning keys i ≡ c mod 8) read
/// their keys in a loop for `run_for`, reloading misses from a 2 ms database with a fresh `ttl`.
/// Returns the database's load times (µs since its creation), the run's length in µs, and the
/// longest queue wait of the modelled one-at-a-time database.
fn avalanche_run(
    r: &mut servers::RedisLab,
    prefix: &str,
    keys: u64,
    run_for: Duration,
    ttl: impl Fn(&mut Rng) -> u64 + Sync,
) -> Result<(Vec<u64>, u64, u64), DemoError> {
    const CLIENTS: u64 = 8;
    let db = SlowDb::queued(keys, Duration::from_millis(2));
    let mut rng = Rng::new(17);
    let mut p = redis::pipe();
    for i in 0..keys {
        p.cmd("SET")
            .arg(format!("{prefix}{i}"))
            .arg(format!("row-{i}"))
            .arg("PX")
            .arg(ttl(&mut rng))
            .ignore();
    }
    p.exec(r.conn())?;
    let start = db.now_us();
    let conns: Vec<redis::Connection> = (0..CLIENTS)
        .map(|_| r.another_connection())
        .collect::<Result<_, _>>()?;
    let errors = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for (c, mut conn) in conns.into_iter().enumerate() {
            let (db, ttl, errors) = (&db, &ttl, &errors);
            s.spawn(move || {
                let mut rng = Rng::new(100 + c as u64);
                let stop = Instant::now() + run_for;
                while Instant::now() < stop {
                    for i in (c as u64..keys).step_by(CLIENTS as usize) {
                        let k = format!("{prefix}{i}");
                        let got: redis::RedisResult<Option<String>> =
                            redis::cmd("GET").arg(&k).query(&mut conn);
                        match got {
                            Ok(Some(_)) => {}
                            Ok(None) => {
                                let v = db.load(i).unwrap_or_default();
                                let set = redis::cmd("SET")
                                    .arg(&k)
                                    .arg(v)
                                    .arg("PX")
                                    .arg(ttl(&mut rng))
                                    .exec(&mut conn);
                                if set.is_err() {
                                    errors.fetch_add(1, Ordering::Relaxed);
                                }
                            }
                            Err(_) => {
                                errors.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                    // Pace the clients (one pass per ms): load shaping, not ordering.
                    std::thread::sleep(Duration::from_millis(1));
                }
            });
        }
    });
    check_eq!(
        errors.load(Ordering::Relaxed),
        0,
        "Redis errors during the run"
    );
    let times: Vec<u64> = db
        .load_times_us()
        .into_iter()
        .map(|t| t.saturating_sub(start))
        .collect();
    Ok((times, db.now_us() - start, db.max_queue_wait_us()))
}

/// Does jitter at least halve the peak, and does the same-TTL peak hold most keys?
pub fn jitter_flattens(peak_same: usize, peak_jitter: usize, keys: usize) -> bool {
    peak_same * 5 >= keys * 4 && peak_jitter * 2 <= peak_same
}

/// Attempts of the real-Redis avalanche run before the claim is judged failed: the run measures
/// wall-clock windows, and a stall of the shared machine (another process hogging both cores, or
/// the shared Redis busy) can split or merge a wave. Every attempt is printed.
pub const AVALANCHE_ATTEMPTS: usize = 3;

fn real_avalanche(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let mut r = ctx.redis()?;
    let keys = 200u64;
    let run_for = Duration::from_millis(700);
    let mut last = (0, 0);
    for attempt in 1..=AVALANCHE_ATTEMPTS {
        let same_prefix = r.key(&format!("same{attempt}:"));
        let (same, len_same, wait_same) =
            avalanche_run(&mut r, &same_prefix, keys, run_for, |_| 300)?;
        let jit_prefix = r.key(&format!("jitter{attempt}:"));
        let (jit, len_jit, wait_jit) =
            avalanche_run(&mut r, &jit_prefix, keys, run_for, |g| 300 + g.below(601))?;
        let (ps, at_s) = peak_in_window(&same, 100_000);
        let (pj, at_j) = peak_in_window(&jit, 100_000);
        ctx.say(format!(
            "attempt {attempt}: same PX 300:        {} loads in {} ms; per 100 ms {:?}; busiest 100 ms window {ps} loads (from {} ms); longest database queue wait {} ms",
            same.len(),
            len_same / 1000,
            per_window(&same, 100_000, len_same),
            at_s / 1000,
            wait_same / 1000
        ));
        ctx.say(format!(
            "attempt {attempt}: PX 300 + 0..600 ms: {} loads in {} ms; per 100 ms {:?}; busiest 100 ms window {pj} loads (from {} ms); longest database queue wait {} ms",
            jit.len(),
            len_jit / 1000,
            per_window(&jit, 100_000, len_jit),
            at_j / 1000,
            wait_jit / 1000
        ));
        if jitter_flattens(ps, pj, keys as usize) && wait_jit * 2 <= wait_same {
            return Ok(());
        }
        last = (ps, pj);
        r.delete_keys()?;
    }
    Err(DemoError::Claim(format!(
        "in {AVALANCHE_ATTEMPTS} attempts, never ≥ 80% of {keys} keys in one window with one TTL and at most half that with jitter (last: {} vs {})",
        last.0, last.1
    )))
}

pub const SINGLEFLIGHT: Demo = Demo {
    name: "redis-06/singleflight-loads-once",
    claim: "With singleflight, 8 concurrent callers of one missing key cause one load: the leader loads, the 7 others wait and share its value; a panicking loader gives every waiter an error but does not poison the key.",
    needs: Need::Nothing,
    run: singleflight,
};

fn singleflight(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let g = Group::<&'static str, String>::new();
    let loads = AtomicUsize::new(0);
    let results = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let (g, loads) = (&g, &loads);
                s.spawn(move || {
                    g.run("user:42", || {
                        loads.fetch_add(1, Ordering::SeqCst);
                        // Hold the flight open until the 7 others have joined it.
                        wait_until(Duration::from_secs(10), || g.waiting(&"user:42") == 7);
                        "row-42".to_string()
                    })
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .map_err(|_| DemoError::Broken("caller panicked".into()))
            })
            .collect::<Result<Vec<_>, _>>()
    })?;
    let shared = results.iter().filter(|r| r.shared).count();
    check_eq!(
        loads.load(Ordering::SeqCst),
        1,
        "loads for 8 concurrent callers"
    );
    check_eq!(shared, 7, "callers that got the leader's value");
    check!(
        results.iter().all(|r| r.value.as_deref() == Ok("row-42")),
        "not everyone got the value"
    );
    ctx.say("8 callers of user:42 at once: 1 load, 1 leader + 7 sharing its value");
    let bad = Group::<u32, String>::new();
    let out = std::thread::scope(|s| {
        let leader = s.spawn(|| {
            bad.run(7, || {
                wait_until(Duration::from_secs(10), || bad.waiting(&7) == 3);
                // A panic that skips the panic hook (no message on stderr); unwinds the same way.
                std::panic::resume_unwind(Box::new("database timeout"))
            })
        });
        wait_until(Duration::from_secs(10), || bad.in_flight(&7));
        let waiters: Vec<_> = (0..3)
            .map(|_| s.spawn(|| bad.run(7, || "unused".to_string())))
            .collect();
        let mut v = vec![leader.join()];
        v.extend(waiters.into_iter().map(|w| w.join()));
        v
    });
    let want = Err(FlightError::LoaderPanicked("database timeout".into()));
    check!(
        out.iter()
            .all(|o| o.as_ref().is_ok_and(|r| r.value == want)),
        "every caller should get the loader's panic as an error"
    );
    let again = bad.run(7, || "row-7".to_string());
    check_eq!(
        again.value,
        Ok("row-7".to_string()),
        "the next call after a panic"
    );
    ctx.say("a loader that panics: the leader and its 3 waiters get LoaderPanicked(\"database timeout\"); the next call loads normally");
    Ok(())
}

pub const HOT_KEY_REAL: Demo = Demo {
    name: "redis-06/hot-key-is-rebuilt-once",
    claim: "When a hot key is missing and 8 clients miss it at once (real Redis, 20 ms database), plain cache-aside rebuilds it 8 times; a SET NX PX mutex, singleflight, and logical expiry each rebuild it exactly once, and with logical expiry no client waits for the database.",
    needs: Need::Redis,
    run: hot_key_real,
};

const HOT_CLIENTS: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Strategy {
    None,
    Mutex,
    Singleflight,
    LogicalExpiry,
}

/// Rebuilds of one hot key by `HOT_CLIENTS` clients that all see it stale/missing at once.
/// Returns (database loads, clients that had to wait for a load, clients that got a value).
fn hot_key_run(
    r: &mut servers::RedisLab,
    strategy: Strategy,
) -> Result<(u64, usize, usize), DemoError> {
    let key = r.key(&format!("hot:{strategy:?}"));
    let lock = r.key(&format!("hot-lock:{strategy:?}"));
    let db = SlowDb::new(1, Duration::from_millis(20));
    if strategy == Strategy::LogicalExpiry {
        // No Redis TTL: the value carries its own logical expire time, already in the past.
        redis::cmd("SET")
            .arg(&key)
            .arg("0|row-0-old")
            .exec(r.conn())?;
    } else {
        redis::cmd("DEL").arg(&key).exec(r.conn())?;
    }
    let conns: Vec<redis::Connection> = (0..HOT_CLIENTS)
        .map(|_| r.another_connection())
        .collect::<Result<_, _>>()?;
    let all_missed = Barrier::new(HOT_CLIENTS);
    let group = Group::<String, String>::new();
    let waited = AtomicUsize::new(0);
    let got = AtomicUsize::new(0);
    let failures = AtomicU64::new(0);
    let release = redis::Script::new(RELEASE_LUA);
    std::thread::scope(|s| {
        for (c, mut conn) in conns.into_iter().enumerate() {
            let (key, lock, db, all_missed, group, waited, got, failures, release) = (
                &key,
                &lock,
                &db,
                &all_missed,
                &group,
                &waited,
                &got,
                &failures,
                &release,
            );
            s.spawn(move || {
                let res = hot_key_client(
                    &mut conn, strategy, c, key, lock, db, all_missed, group, release,
                );
                match res {
                    Ok((w, v)) => {
                        waited.fetch_add(usize::from(w), Ordering::SeqCst);
                        got.fetch_add(usize::from(v), Ordering::SeqCst);
                    }
                    Err(_) => {
                        failures.fetch_add(1, Ordering::SeqCst);
                    }
                }
            });
        }
    });
    check_eq!(
        failures.load(Ordering::SeqCst),
        0,
        "{strategy:?}: clients that failed"
    );
    Ok((
        db.loads(),
        waited.load(Ordering::SeqCst),
        got.load(Ordering::SeqCst),
    ))
}

/// The logical expire time (ms since the epoch) of a value stored as `<expire_at>|<row>`; 0
/// (long expired) for anything else.
fn logical_expire_at(value: &str) -> u64 {
    value
        .split_once('|')
        .and_then(|(at, _)| at.parse().ok())
        .unwrap_or(0)
}

/// One client. Returns (waited for a load, got a value).
#[allow(clippy::too_many_arguments)]
fn hot_key_client(
    conn: &mut redis::Connection,
    strategy: Strategy,
    c: usize,
    key: &str,
    lock: &str,
    db: &SlowDb,
    all_missed: &Barrier,
    group: &Group<String, String>,
    release: &redis::Script,
) -> Result<(bool, bool), DemoError> {
    let get = |conn: &mut redis::Connection| -> Result<Option<String>, DemoError> {
        Ok(redis::cmd("GET").arg(key).query(conn)?)
    };
    let rebuild = |conn: &mut redis::Connection| -> Result<String, DemoError> {
        let v = db.load(0).unwrap_or_default();
        redis::cmd("SET")
            .arg(key)
            .arg(&v)
            .arg("PX")
            .arg(60_000)
            .exec(conn)?;
        Ok(v)
    };
    match strategy {
        Strategy::None => {
            let first = get(conn)?;
            all_missed.wait();
            if first.is_none() {
                rebuild(conn)?;
                return Ok((true, true));
            }
            Ok((false, true))
        }
        Strategy::Mutex => {
            let first = get(conn)?;
            all_missed.wait();
            if first.is_some() {
                return Ok((false, true));
            }
            let token = random_token(c as u64);
            if try_lock(conn, lock, &token, 5_000)? {
                // Double check: someone may have rebuilt it between our GET and our lock.
                if get(conn)?.is_none() {
                    rebuild(conn)?;
                }
                let _: i64 = release.key(lock).arg(&token).invoke(conn)?;
                return Ok((true, true));
            }
            // Lost: wait (bounded) for the winner's value instead of hitting the database.
            let deadline = Instant::now() + Duration::from_secs(5);
            loop {
                if get(conn)?.is_some() {
                    return Ok((true, true));
                }
                check!(
                    Instant::now() < deadline,
                    "client {c}: the hot key never came back"
                );
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        Strategy::Singleflight => {
            let first = get(conn)?;
            all_missed.wait();
            if first.is_some() {
                return Ok((false, true));
            }
            let key_s = key.to_string();
            let out = group.run(key_s.clone(), || {
                // Hold the flight until every other client has joined, then re-check and load.
                wait_until(Duration::from_secs(5), || {
                    group.waiting(&key_s) == HOT_CLIENTS - 1
                });
                match get(conn) {
                    Ok(Some(v)) => v,
                    Ok(None) => rebuild(conn).unwrap_or_default(),
                    Err(_) => String::new(),
                }
            });
            Ok((true, out.value.is_ok_and(|v| !v.is_empty())))
        }
        Strategy::LogicalExpiry => {
            let v = get(conn)?.unwrap_or_default();
            all_missed.wait();
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64);
            if logical_expire_at(&v) < now {
                let token = random_token(c as u64);
                if try_lock(conn, lock, &token, 5_000)? {
                    // Double check under the lock, then rebuild (in a real service: in the
                    // background, after answering with the stale value).
                    let cur = get(conn)?.unwrap_or_default();
                    if logical_expire_at(&cur) < now {
                        let row = db.load(0).unwrap_or_default();
                        let fresh = format!("{}|{row}", now + 60_000);
                        redis::cmd("SET").arg(key).arg(fresh).exec(conn)?;
                    }
                    let _: i64 = release.key(lock).arg(&token).invoke(conn)?;
                }
            }
            // Everyone answered with the value they read (stale or fresh) without waiting.
            Ok((false, !v.is_empty()))
        }
    }
}

fn hot_key_real(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let mut r = ctx.redis()?;
    let mut lines = Vec::new();
    for (strategy, want_loads) in [
        (Strategy::None, HOT_CLIENTS as u64),
        (Strategy::Mutex, 1),
        (Strategy::Singleflight, 1),
        (Strategy::LogicalExpiry, 1),
    ] {
        let (loads, waited, got) = hot_key_run(&mut r, strategy)?;
        lines.push(format!(
            "{:<14} database loads {loads}, clients that waited for a load {waited}, clients answered {got}/{HOT_CLIENTS}",
            format!("{strategy:?}:")
        ));
        check_eq!(
            loads,
            want_loads,
            "{strategy:?}: rebuilds by {HOT_CLIENTS} clients"
        );
        check_eq!(got, HOT_CLIENTS, "{strategy:?}: clients that got a value");
        if strategy == Strategy::LogicalExpiry {
            check_eq!(
                waited,
                0,
                "logical expiry: clients that waited for the database"
            );
        }
    }
    for l in lines {
        ctx.say(l);
    }
    ctx.say("(each run: all 8 clients read the key before any of them rebuilds it — a barrier, so the stampede is certain)");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flatten_check() {
        assert!(jitter_flattens(200, 60, 200));
        assert!(!jitter_flattens(200, 150, 200));
        // Counterexample: no avalanche to flatten (the same-TTL peak is not most of the keys).
        assert!(!jitter_flattens(50, 10, 200));
    }

    #[test]
    fn same_ttl_loads_all_at_once() {
        let v = simulate_cache_aside(100, 130, || 60_000);
        assert_eq!(v[60], 100);
        assert_eq!(v[121], 100);
        assert_eq!(v.iter().sum::<usize>(), 200);
    }
}
