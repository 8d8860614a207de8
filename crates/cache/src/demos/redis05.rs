//! redis-05 · Redis的数据过期策略: lazy expiry on access and the active expire cycle, on the
//! model under an injected clock (exact) and on a real `redis-server` (TTL replies, INFO counters).

use std::time::{Duration, Instant};

use catalog::{Ctx, Demo, DemoError, Need, check, check_eq};
use servers::redis;

use crate::clock::Clock;
use crate::expire::{CycleCost, CycleKind, CycleParams, should_repeat};
use crate::keyspace::{Config, Keyspace};
use crate::rng::Rng;
use crate::scratch::ScratchRedis;

fn model(clock: &Clock, seed: u64) -> Keyspace<u64> {
    Keyspace::new(Config::default(), clock.clone(), seed)
}

fn broken(e: impl std::fmt::Display) -> DemoError {
    DemoError::Broken(e.to_string())
}

pub const LAZY: Demo = Demo {
    name: "redis-05/lazy-expiry-deletes-on-access",
    claim: "A key is expired when the time is strictly past its expire time; until something touches it, it stays in memory (DBSIZE counts it, expired_keys does not); the first access deletes it, misses, and adds 1 to expired_keys.",
    needs: Need::Nothing,
    run: lazy,
};

fn lazy(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let clock = Clock::at(1_700_000_000_000);
    let mut k = model(&clock, 1);
    k.config.active_expire_enabled = false;
    k.set_px(1, 1_500).map_err(broken)?;
    k.set(2).map_err(broken)?;
    check_eq!(
        (k.ttl(&1), k.pttl(&1)),
        (2, 1_500),
        "(TTL, PTTL) right after SET PX 1500"
    );
    clock.advance_ms(1_500);
    check_eq!(k.pttl(&1), 0, "PTTL exactly at the expire time");
    clock.advance_ms(1);
    for _ in 0..10 {
        k.cron_tick(); // active expiry is off: nothing but an access can remove it
    }
    check_eq!(
        k.len(),
        2,
        "DBSIZE 1 s past the TTL, nobody touched the key"
    );
    check_eq!(k.stats.expired_keys, 0, "expired_keys before the access");
    ctx.say("SET k1 PX 1500, SET k2: TTL 2 (rounded), PTTL 1500; at +1500 ms PTTL 0 (not yet expired: the rule is now > when)");
    ctx.say(
        "at +1501 ms and 10 cron ticks later (active expiry off): DBSIZE still 2, expired_keys 0",
    );
    check!(!k.get(&1), "GET of an expired key hit");
    check_eq!(k.stats.expired_keys, 1, "expired_keys after the GET");
    check_eq!(k.len(), 1, "DBSIZE after the GET");
    check_eq!((k.ttl(&1), k.ttl(&2)), (-2, -1), "(TTL k1, TTL k2)");
    ctx.say("GET k1 → nil; expired_keys 1; DBSIZE 1; TTL k1 → -2 (gone), TTL k2 → -1 (no TTL)");
    Ok(())
}

pub const ACTIVE_CYCLE: Demo = Demo {
    name: "redis-05/active-cycle-samples-repeats-and-stops",
    claim: "One slow activeExpireCycle samples 20 keys per loop (20 + 5·(effort−1)), repeats while more than 10% of a sample had expired, stops at the first sample with ≤ 10%, and stops on its time budget (25% of a 1/hz tick: 25 ms at hz 10, checked every 16 loops) when everything it sees is stale.",
    needs: Need::Nothing,
    run: active_cycle,
};

/// Checks one cycle's loops against the repeat rule: every loop but the last was stale enough to
/// repeat, and the last either was not or hit the time limit.
pub fn loops_follow_the_rule(
    loops: &[(u64, u64)],
    acceptable_stale: u64,
    hit_time_limit: bool,
) -> Result<(), String> {
    let Some((last, rest)) = loops.split_last() else {
        return Err("no loop ran".into());
    };
    for (i, &(s, e)) in rest.iter().enumerate() {
        if !should_repeat(s, e, acceptable_stale) {
            return Err(format!(
                "loop {} ({e}/{s} expired) should have been the last",
                i + 1
            ));
        }
    }
    if !hit_time_limit && should_repeat(last.0, last.1, acceptable_stale) {
        return Err(format!(
            "stopped after {}/{} expired without a reason",
            last.1, last.0
        ));
    }
    Ok(())
}

fn active_cycle(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    // 10 000 keys with a TTL, about half of them already expired, spread at random.
    let clock = Clock::at(1_700_000_000_000);
    let mut k = model(&clock, 2);
    let mut rng = Rng::new(5);
    let mut expired_ids = 0;
    for i in 0..10_000u64 {
        let px = if rng.below(2) == 0 {
            expired_ids += 1;
            10
        } else {
            3_600_000
        };
        k.set_px(i, px).map_err(broken)?;
    }
    clock.advance_ms(11);
    let p = CycleParams::for_effort(1);
    let r = k.active_expire_cycle(CycleKind::Slow);
    let loops: Vec<(u64, u64)> = r.loops.iter().map(|l| (l.sampled, l.expired)).collect();
    let shown: Vec<String> = loops
        .iter()
        .take(4)
        .map(|(s, e)| format!("{e}/{s}"))
        .collect();
    ctx.say(format!(
        "{expired_ids} of 10000 keys expired; one slow cycle ran {} loops (expired/sampled: {} … last {}/{}), {} µs of its {} µs budget",
        loops.len(),
        shown.join(", "),
        loops.last().map_or(0, |l| l.1),
        loops.last().map_or(0, |l| l.0),
        r.elapsed_us,
        r.time_limit_us
    ));
    loops_follow_the_rule(&loops, p.acceptable_stale, r.hit_time_limit)
        .map_err(DemoError::Claim)?;
    check!(
        r.loops
            .iter()
            .all(|l| l.sampled >= p.keys_per_loop || l.buckets == l.sampled.max(1) * 20),
        "a loop sampled fewer than {} keys: {:?}",
        p.keys_per_loop,
        r.loops
    );
    check!(
        loops.len() > 1,
        "the first loop was more than 10% stale but the cycle did not repeat"
    );
    ctx.say(format!(
        "every loop but the last found > 10% expired; the last found ≤ 10% (or the budget ran out): {} expired keys removed, {} left for later cycles or readers",
        r.expired(),
        expired_ids - r.expired()
    ));

    // All stale: the budget ends the cycle.
    for (effort, hz) in [(1u32, 10u32), (1, 100), (10, 10)] {
        let clock = Clock::at(1_700_000_000_000);
        let mut k = model(&clock, 3);
        k.config.active_expire_effort = effort;
        k.config.hz = hz;
        k.set_cycle_cost(CycleCost::default());
        for i in 0..300_000u64 {
            k.set_px(i, 10).map_err(broken)?;
        }
        clock.advance_ms(11);
        let p = CycleParams::for_effort(effort);
        let r = k.active_expire_cycle(CycleKind::Slow);
        let limit = p.slow_time_limit_us(hz);
        ctx.say(format!(
            "300000 stale keys, effort {effort}, hz {hz}: {} keys/loop, budget {} µs → {} loops, {} µs, {} keys expired, time limit hit: {}",
            p.keys_per_loop,
            limit,
            r.loops.len(),
            r.elapsed_us,
            r.expired(),
            r.hit_time_limit
        ));
        check!(
            r.hit_time_limit,
            "effort {effort} hz {hz}: budget not reached"
        );
        check_eq!(r.time_limit_us, limit, "budget at effort {effort}, hz {hz}");
        check_eq!(r.loops.len() % 16, 0, "loops when the clock is checked");
        check!(r.elapsed_us > limit, "stopped before the budget");
        check!(
            r.loops.iter().all(|l| l.sampled >= p.keys_per_loop),
            "a loop sampled fewer than {} keys",
            p.keys_per_loop
        );
    }
    ctx.say(format!(
        "cost model: {:?} (charged to the injected clock)",
        CycleCost::default()
    ));
    Ok(())
}

pub const CRON: Demo = Demo {
    name: "redis-05/untouched-keys-are-removed-by-cron",
    claim: "Keys nobody reads are still removed: cron runs the active cycle hz times a second and 10 000 expired keys are gone within a few ticks; with active expiry disabled (DEBUG SET-ACTIVE-EXPIRE 0) they stay until accessed.",
    needs: Need::Nothing,
    run: cron,
};

/// Cron ticks until only `keep` keys have a TTL (at most `max_ticks`).
pub fn ticks_until_clean(k: &mut Keyspace<u64>, keep: usize, max_ticks: usize) -> Option<usize> {
    (1..=max_ticks).find(|_| {
        k.cron_tick();
        k.volatile_len() <= keep
    })
}

fn cron(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let build = |active: bool| -> Result<Keyspace<u64>, DemoError> {
        let clock = Clock::at(1_700_000_000_000);
        let mut k = model(&clock, 4);
        k.config.active_expire_enabled = active;
        for i in 0..10_000u64 {
            k.set_px(i, 50).map_err(broken)?;
        }
        for i in 0..1_000u64 {
            k.set_px(100_000 + i, 3_600_000).map_err(broken)?;
        }
        Ok(k)
    };
    let mut on = build(true)?;
    let ticks = ticks_until_clean(&mut on, 1_000, 100);
    check!(
        ticks.is_some(),
        "expired keys still present after 100 ticks"
    );
    let ticks = ticks.unwrap_or(0);
    check!(ticks <= 5, "took {ticks} ticks");
    check_eq!(on.stats.expired_keys, 10_000, "expired_keys");
    ctx.say(format!(
        "10000 keys with PX 50 + 1000 with an hour: hz 10 → all 10000 removed by tick {ticks} ({} ms), none read",
        ticks * 100
    ));
    let mut off = build(false)?;
    check!(
        ticks_until_clean(&mut off, 1_000, 100).is_none(),
        "keys vanished with active expiry off"
    );
    check_eq!(
        off.len(),
        11_000,
        "DBSIZE after 10 s with active expiry off"
    );
    ctx.say("with active expiry off, 100 ticks (10 s) later DBSIZE is still 11000");
    let hits = (0..10_000u64).filter(|i| off.get(i)).count();
    check_eq!(
        (hits, off.stats.expired_keys),
        (0, 10_000),
        "(hits, expired_keys) after reading each key once"
    );
    ctx.say("reading each of them once: 0 hits, expired_keys 10000 (lazy expiry did the work)");
    Ok(())
}

pub const REAL: Demo = Demo {
    name: "redis-05/expiry-matches-real-redis",
    claim: "On a real redis-server 7.0: TTL/PTTL/PERSIST/PEXPIRE replies equal the model's; with active expiry off an expired key stays in DBSIZE until a GET deletes it (expired_keys +1); with it on, 3000 keys nobody reads are removed within a few cron periods and expired_keys grows by exactly 3000.",
    needs: Need::Redis,
    run: real,
};

fn server_ms(r: &mut ScratchRedis) -> Result<u64, DemoError> {
    let (s, us): (u64, u64) = redis::cmd("TIME").query(r.conn())?;
    Ok(s * 1000 + us / 1000)
}

/// Polls the server's own clock until it is past `when_ms` (a bounded wait, not an ordering).
fn wait_server_past(r: &mut ScratchRedis, when_ms: u64) -> Result<(), DemoError> {
    let deadline = Instant::now() + Duration::from_secs(5);
    while server_ms(r)? <= when_ms {
        check!(
            Instant::now() < deadline,
            "server clock never passed {when_ms}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    Ok(())
}

fn real(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let mut r = ScratchRedis::start("redis-05")?;
    let now = server_ms(&mut r)?;
    let clock = Clock::at(now);
    let mut m = Keyspace::new(Config::default(), clock.clone(), 9);
    let (p, s, gone) = (r.key("p"), r.key("s"), r.key("missing"));

    // Replies. The model's clock follows the server's between commands.
    redis::cmd("SET").arg(&p).arg("v").exec(r.conn())?;
    redis::cmd("SET")
        .arg(&s)
        .arg("v")
        .arg("PX")
        .arg(1_800)
        .exec(r.conn())?;
    m.set(p.clone()).map_err(broken)?;
    m.set_px(s.clone(), 1_800).map_err(broken)?;
    let ttl = |r: &mut ScratchRedis, c: &str, k: &str| -> Result<i64, DemoError> {
        Ok(redis::cmd(c).arg(k).query(r.conn())?)
    };
    clock.set_ms(server_ms(&mut r)?);
    let real_ttls = (
        ttl(&mut r, "TTL", &p)?,
        ttl(&mut r, "TTL", &gone)?,
        ttl(&mut r, "TTL", &s)?,
    );
    let model_ttls = (m.ttl(&p), m.ttl(&gone), m.ttl(&s));
    check_eq!(
        real_ttls,
        model_ttls,
        "(TTL no-ttl key, TTL missing key, TTL PX 1800 key)"
    );
    let pttl = ttl(&mut r, "PTTL", &s)?;
    check!((1_000..=1_800).contains(&pttl), "PTTL {pttl}");
    let persist: i64 = redis::cmd("PERSIST").arg(&s).query(r.conn())?;
    check_eq!(
        (persist, ttl(&mut r, "TTL", &s)?),
        (i64::from(m.persist(&s)), m.ttl(&s)),
        "(PERSIST, TTL after it)"
    );
    let expired_before = r.info_u64("stats", "expired_keys")?;
    let pexpire: i64 = redis::cmd("PEXPIRE").arg(&p).arg(0).query(r.conn())?;
    check_eq!(pexpire, i64::from(m.pexpire(&p, 0)), "PEXPIRE key 0");
    let exists: i64 = redis::cmd("EXISTS").arg(&p).query(r.conn())?;
    check_eq!(exists, 0, "EXISTS after PEXPIRE 0");
    check_eq!(
        r.info_u64("stats", "expired_keys")? - expired_before,
        m.stats.expired_keys,
        "expired_keys after PEXPIRE 0 (a delete, not an expiry)"
    );
    ctx.say(format!(
        "TTL no-TTL/missing/PX 1800 → {real_ttls:?} on both; PTTL {pttl}; PERSIST → 1 then TTL -1; PEXPIRE 0 → 1, key deleted, expired_keys unchanged"
    ));

    // Lazy expiry with the active cycle off.
    redis::cmd("DEBUG")
        .arg("SET-ACTIVE-EXPIRE")
        .arg(0)
        .exec(r.conn())?;
    let lazy = r.key("lazy");
    redis::cmd("SET")
        .arg(&lazy)
        .arg("v")
        .arg("PX")
        .arg(100)
        .exec(r.conn())?;
    let when: u64 = redis::cmd("PEXPIRETIME").arg(&lazy).query(r.conn())?;
    let e0 = r.info_u64("stats", "expired_keys")?;
    wait_server_past(&mut r, when + 300)?; // three cron periods at hz 10 with nothing touching it
    let size: u64 = redis::cmd("DBSIZE").query(r.conn())?;
    let e1 = r.info_u64("stats", "expired_keys")?;
    check_eq!(
        (size, e1 - e0),
        (2, 0),
        "(DBSIZE, new expired_keys) 300 ms past the TTL, active expiry off"
    );
    let got: Option<String> = redis::cmd("GET").arg(&lazy).query(r.conn())?;
    let e2 = r.info_u64("stats", "expired_keys")?;
    let size2: u64 = redis::cmd("DBSIZE").query(r.conn())?;
    check_eq!(
        (got, e2 - e0, size2),
        (None, 1, 1),
        "(GET, new expired_keys, DBSIZE) after the access"
    );
    ctx.say("active expiry off: SET lazy PX 100; 300 ms past it DBSIZE still counts it, expired_keys +0; GET → nil, expired_keys +1, DBSIZE −1");

    // Active expiry: keys nobody touches.
    let n = 3_000u64;
    let mut pipe = redis::pipe();
    for i in 0..n {
        pipe.cmd("SET")
            .arg(r.key(&format!("t:{i}")))
            .arg("v")
            .arg("PX")
            .arg(100)
            .ignore();
    }
    pipe.exec(r.conn())?;
    let set_at = server_ms(&mut r)?;
    wait_server_past(&mut r, set_at + 400)?;
    let still: u64 = redis::cmd("DBSIZE").query(r.conn())?;
    check_eq!(
        still,
        1 + n,
        "DBSIZE 300 ms past the TTLs, active expiry off"
    );
    let e3 = r.info_u64("stats", "expired_keys")?;
    redis::cmd("DEBUG")
        .arg("SET-ACTIVE-EXPIRE")
        .arg(1)
        .exec(r.conn())?;
    let on_at = Instant::now();
    let deadline = on_at + Duration::from_secs(5);
    loop {
        let size: u64 = redis::cmd("DBSIZE").query(r.conn())?;
        if size == 1 {
            break;
        }
        check!(
            Instant::now() < deadline,
            "{size} keys left 5 s after enabling active expiry"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let took = on_at.elapsed();
    let e4 = r.info_u64("stats", "expired_keys")?;
    check_eq!(e4 - e3, n, "expired_keys added by the active cycle");
    check!(took < Duration::from_secs(2), "active expiry took {took:?}");
    ctx.say(format!(
        "{n} keys with PX 100, never read: still there 300 ms past their TTL while active expiry is off; after DEBUG SET-ACTIVE-EXPIRE 1 all gone in {} ms, expired_keys +{}",
        took.as_millis(),
        e4 - e3
    ));
    let mut mk = Keyspace::new(Config::default(), Clock::at(now), 3);
    for i in 0..n {
        mk.set_px(i, 100).map_err(broken)?;
    }
    let ticks = ticks_until_clean(&mut mk, 0, 50).unwrap_or(usize::MAX);
    ctx.say(format!(
        "the model needs {ticks} cron tick(s) at hz 10 for the same {n} keys"
    ));
    check!(ticks <= 3, "model took {ticks} ticks");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_check_rejects_an_early_or_late_stop() {
        assert!(loops_follow_the_rule(&[(20, 5), (20, 3), (21, 2)], 10, false).is_ok());
        assert!(loops_follow_the_rule(&[(20, 5), (20, 1), (20, 2)], 10, false).is_err());
        assert!(loops_follow_the_rule(&[(20, 5), (20, 5)], 10, false).is_err());
        assert!(loops_follow_the_rule(&[(20, 5), (20, 5)], 10, true).is_ok());
        assert!(loops_follow_the_rule(&[], 10, false).is_err());
    }
}
