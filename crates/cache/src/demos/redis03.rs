//! redis-03 · Redis的LRU具体实现: exact LRU, the 24-bit clock, sampling with the eviction pool,
//! LFU counters, the eight policies; the LRU experiment and OBJECT FREQ against a real
//! `redis-server` started for the purpose.

use catalog::{Ctx, Demo, DemoError, Need, check, check_eq};
use servers::redis;

use crate::clock::Clock;
use crate::experiment::{self, IDLE_OFFSET_SECS, Outcome};
use crate::keyspace::{Config, Keyspace, ObjectError, Oom};
use crate::lfu;
use crate::lru::Lru;
use crate::lruclock::{self, LRU_CLOCK_MAX};
use crate::policy::{self, MaxmemoryPolicy};
use crate::pool::{EvictionPool, Offer};
use crate::rng::Rng;
use crate::scratch::{ScratchRedis, info_u64};

/// Keys in the LRU experiment (the model and the real server alike).
pub const EXPERIMENT_KEYS: usize = 3000;
/// Age groups compared between the model and the real server.
pub const AGE_BINS: usize = 5;
/// Largest allowed difference (absolute) of a group's eviction rate, model mean vs real.
pub const AGE_BIN_TOLERANCE: f64 = 0.08;
/// How far (relative) the real server's resident key count may drift from the model's: client
/// buffers grow and shrink in `clientsCron`, and a few kilobytes are dozens of keys.
pub const RESIDENT_TOLERANCE: f64 = 0.06;
/// Real-server runs per sample count (their mean is compared with the model's mean).
pub const REAL_RUNS: usize = 2;

pub const EXACT_LRU: Demo = Demo {
    name: "redis-03/exact-lru-evicts-the-older-half",
    claim: "An exact LRU (hash map + linked list in an arena, O(1) get/put) evicts exactly the least recently used keys: in Redis's experiment (N keys accessed in order, then N/2 new keys) it evicts precisely the older half.",
    needs: Need::Nothing,
    run: exact_lru,
};

fn exact_lru(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let mut c = Lru::new(3);
    for k in ["a", "b", "c"] {
        c.put(k, ());
    }
    c.get(&"a");
    let evicted = c.put("d", ()).map(|(k, _)| k);
    check_eq!(evicted, Some("b"), "victim after put a,b,c; get a; put d");
    ctx.say("capacity 3: put a, b, c; get a; put d → evicts b (least recently used), not a (oldest inserted)");
    let o = experiment::run_exact(EXPERIMENT_KEYS);
    check_eq!(o.evicted_old(), EXPERIMENT_KEYS / 2, "old keys evicted");
    check_eq!(
        o.oldest_half_evicted(),
        1.0,
        "share of the older half evicted"
    );
    check_eq!(o.evicted_new(), 0, "new keys evicted");
    ctx.say(format!(
        "experiment, {} keys then {} new: evicted exactly keys 0..{} (the older half); error score {:.1}%",
        EXPERIMENT_KEYS,
        o.kept_new.len(),
        EXPERIMENT_KEYS / 2,
        o.lru_error_percent()
    ));
    Ok(())
}

pub const POOL_RULE: Demo = Demo {
    name: "redis-03/eviction-pool-keeps-the-best-candidates",
    claim: "The 16-entry eviction pool keeps candidates sorted by idle time with evictionPoolPopulate's rule (skip a sample worse than a full pool, otherwise drop the least idle), and eviction skips ghost entries whose key is already gone.",
    needs: Need::Nothing,
    run: pool_rule,
};

fn pool_rule(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let mut p = EvictionPool::default();
    for i in 1..=16u64 {
        p.offer(i, i * 10);
    }
    ctx.say(format!("full pool (idle ms): {:?}", flat(&p.idles())));
    check_eq!(
        p.offer(100, 5),
        Offer::Skipped,
        "offer idle 5 to a full pool of 10..160"
    );
    check_eq!(p.offer(101, 155), Offer::Inserted(14), "offer idle 155");
    check_eq!(p.idles()[0], Some(20), "least idle after dropping 10");
    ctx.say(format!(
        "offer 5 → skipped; offer 155 → slot 14, 10 falls off: {:?}",
        flat(&p.idles())
    ));
    check!(p.is_sorted(), "pool out of order: {:?}", p.idles());

    // Ghosts in a real eviction: candidates left in the pool whose keys are deleted meanwhile.
    let cfg = Config {
        policy: MaxmemoryPolicy::AllkeysLru,
        maxkeys: 100,
        samples: 10,
        ..Config::default()
    };
    let mut ks: Keyspace<u64> = Keyspace::new(cfg, Clock::at(1_700_000_000_000), 3);
    for i in 0..100u64 {
        let _ = ks.set(i);
        ks.set_idle_secs(&i, 1000 - i);
    }
    let _ = ks.set(100); // evicts one; the pool keeps the other sampled candidates
    let waiting: Vec<(u64, u64)> = ks.pool().candidates().map(|c| (c.key, c.idle)).collect();
    let Some(&(best, best_idle)) = waiting.last() else {
        return Err(DemoError::Claim("the pool kept no candidates".into()));
    };
    // Delete the best waiting candidate and every key at least as idle, so no new sample can
    // outrank its (now ghost) pool entry.
    let doomed: Vec<u64> = (0..100u64)
        .filter(|k| ks.eviction_score(k).is_some_and(|s| s >= best_idle))
        .collect();
    for k in &doomed {
        ks.del(k);
    }
    // Refill to the limit with fresh keys (no eviction needed), then one more insert evicts.
    for j in 0..doomed.len() as u64 {
        let _ = ks.set(200 + j);
    }
    check_eq!(ks.stats.evicted_keys, 1, "evictions before the ghost test");
    let before = ks.len();
    let _ = ks.set(101);
    check_eq!(ks.stats.evicted_keys, 2, "evictions after the ghost test");
    check!(
        ks.stats.pool_ghosts_skipped >= 1,
        "the deleted candidate was not skipped as a ghost"
    );
    check_eq!(ks.len(), before, "keys after one more eviction and insert");
    check!(!ks.contains_raw(&best), "ghost resurrected");
    ctx.say(format!(
        "after one eviction the pool still held {} candidates, the best key {best} (idle {best_idle} ms); \
         DEL of it and {} older keys left ghosts; the next eviction skipped {} ghost(s) and evicted a live key",
        waiting.len(),
        doomed.len() - 1,
        ks.stats.pool_ghosts_skipped
    ));
    Ok(())
}

fn flat(v: &[Option<u64>]) -> Vec<String> {
    v.iter()
        .map(|x| x.map_or("·".into(), |i| i.to_string()))
        .collect()
}

pub const MORE_SAMPLES: Demo = Demo {
    name: "redis-03/more-samples-approach-true-lru",
    claim: "In the LRU experiment the sampled LRU with the pool evicts mostly old keys, and more maxmemory-samples bring it closer to true LRU: the error score falls strictly from 1 to 3 to 5 to 10 samples, and 10 samples evict at least 90% of the older half.",
    needs: Need::Nothing,
    run: more_samples,
};

/// Mean error score and older-half eviction share over `seeds` runs.
pub fn sampled_summary(n: usize, samples: usize, seeds: u64) -> (f64, f64) {
    let runs: Vec<Outcome> = (0..seeds)
        .map(|s| experiment::run_sampled(n, samples, 100 + s))
        .collect();
    let err = runs.iter().map(Outcome::lru_error_percent).sum::<f64>() / seeds as f64;
    let half = runs.iter().map(Outcome::oldest_half_evicted).sum::<f64>() / seeds as f64;
    (err, half)
}

/// Strictly decreasing?
pub fn strictly_decreasing(v: &[f64]) -> bool {
    v.windows(2).all(|w| w[1] < w[0])
}

fn more_samples(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let mut errs = Vec::new();
    let mut last_half = 0.0;
    for s in [1usize, 3, 5, 10] {
        let (err, half) = sampled_summary(EXPERIMENT_KEYS, s, 3);
        ctx.say(format!(
            "{s:>2} samples: error {err:5.1}%, older half evicted {:5.1}%",
            half * 100.0
        ));
        errs.push(err);
        last_half = half;
    }
    ctx.say("exact LRU: error   0.0%, older half evicted 100.0%");
    let random: Vec<Outcome> = (0..3)
        .map(|s| {
            experiment::run_policy(EXPERIMENT_KEYS, MaxmemoryPolicy::AllkeysRandom, 5, 100 + s)
        })
        .collect();
    let rnd_err = random.iter().map(Outcome::lru_error_percent).sum::<f64>() / 3.0;
    let rnd_half = random.iter().map(Outcome::oldest_half_evicted).sum::<f64>() / 3.0;
    ctx.say(format!(
        "allkeys-random (reference): error {rnd_err:5.1}%, older half evicted {:5.1}%",
        rnd_half * 100.0
    ));
    check!(
        strictly_decreasing(&errs),
        "error scores do not fall with more samples: {errs:?}"
    );
    check!(
        last_half >= 0.9,
        "10 samples evicted only {:.1}% of the older half",
        last_half * 100.0
    );
    Ok(())
}

pub const LRU_CLOCK: Demo = Demo {
    name: "redis-03/lru-clock-is-24-bits-of-seconds",
    claim: "The per-key LRU clock has 24 bits at 1 s resolution: accesses in the same second look equally old, and estimateObjectIdleTime survives one wrap-around (every 2^24 s ≈ 194 days).",
    needs: Need::Nothing,
    run: lru_clock,
};

fn lru_clock(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let (a, b) = (
        lruclock::lru_clock(1_000_000_100),
        lruclock::lru_clock(1_000_000_900),
    );
    check_eq!(a, b, "clock values 800 ms apart in the same second");
    ctx.say(format!(
        "t = …100 ms and …900 ms: both clock {a}: same age for eviction"
    ));
    let wrap_days = (u64::from(LRU_CLOCK_MAX) + 1) as f64 / 86_400.0;
    check!(
        (wrap_days - 194.18).abs() < 0.01,
        "wrap period {wrap_days} days"
    );
    let lru = LRU_CLOCK_MAX - 10;
    let idle = lruclock::estimate_idle_ms(5, lru);
    check_eq!(
        idle,
        15_000,
        "idle across the wrap (10 s before, 5 s after)"
    );
    ctx.say(format!(
        "the clock wraps every {wrap_days:.1} days; touched at {lru}, now 5 (wrapped): idle {} s, not {} s",
        idle / 1000,
        u64::from(5u32.wrapping_sub(lru))
    ));
    Ok(())
}

/// One cell of the table in `redis.conf` (LFU section): counter after `hits` with `factor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LfuTableCell {
    pub factor: u32,
    pub hits: u64,
    pub counter: u8,
}

/// The factor 10 and 100 rows of `redis.conf`'s table.
pub const LFU_TABLE: [LfuTableCell; 8] = [
    LfuTableCell {
        factor: 10,
        hits: 100,
        counter: 10,
    },
    LfuTableCell {
        factor: 10,
        hits: 1_000,
        counter: 18,
    },
    LfuTableCell {
        factor: 10,
        hits: 100_000,
        counter: 142,
    },
    LfuTableCell {
        factor: 10,
        hits: 1_000_000,
        counter: 255,
    },
    LfuTableCell {
        factor: 100,
        hits: 100,
        counter: 8,
    },
    LfuTableCell {
        factor: 100,
        hits: 1_000,
        counter: 11,
    },
    LfuTableCell {
        factor: 100,
        hits: 100_000,
        counter: 49,
    },
    LfuTableCell {
        factor: 100,
        hits: 1_000_000,
        counter: 143,
    },
];

/// The tolerance: the mean counter must be within max(3, 6% of the table value) of it.
pub fn lfu_cell_within(mean: f64, table: u8) -> bool {
    (mean - f64::from(table)).abs() <= (f64::from(table) * 0.06).max(3.0)
}

/// Counters after each of `checkpoints` hits (cumulative, one key), for one run.
pub fn lfu_growth(factor: u32, checkpoints: &[u64], rng: &mut Rng) -> Vec<u8> {
    let mut c = lfu::LFU_INIT_VAL;
    let mut done = 1u64; // the first hit creates the key at LFU_INIT_VAL
    let mut out = Vec::new();
    for &cp in checkpoints {
        while done < cp && c < 255 {
            c = lfu::log_incr(c, factor, rng);
            done += 1;
        }
        out.push(c);
    }
    out
}

pub const LFU_TABLE_DEMO: Demo = Demo {
    name: "redis-03/lfu-counter-grows-logarithmically",
    claim: "The 8-bit LFU counter (LFULogIncr: +1 with probability 1/((c−5)·factor+1)) reproduces redis.conf's table for factors 10 and 100 at 100, 1000, 100K and 1M hits: the mean of 8 runs is within max(3, 6%) of every cell.",
    needs: Need::Nothing,
    run: lfu_table,
};

fn lfu_table(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let checkpoints = [100u64, 1_000, 100_000, 1_000_000];
    let runs = 8;
    let mut rng = Rng::new(2024);
    for factor in [10u32, 100] {
        let mut sums = [0f64; 4];
        for _ in 0..runs {
            for (s, v) in sums
                .iter_mut()
                .zip(lfu_growth(factor, &checkpoints, &mut rng))
            {
                *s += f64::from(v);
            }
        }
        let means: Vec<f64> = sums.iter().map(|s| s / f64::from(runs)).collect();
        let table: Vec<u8> = LFU_TABLE
            .iter()
            .filter(|c| c.factor == factor)
            .map(|c| c.counter)
            .collect();
        ctx.say(format!(
            "factor {factor:>3}: hits 100/1K/100K/1M → mean counters {:.1?}; redis.conf says {table:?}",
            means
        ));
        for ((m, t), hits) in means.iter().zip(&table).zip(checkpoints) {
            check!(
                lfu_cell_within(*m, *t),
                "factor {factor}, {hits} hits: mean {m:.1}, table {t}"
            );
        }
    }
    let mut r = Rng::new(1);
    let det = lfu_growth(0, &[100], &mut r)[0];
    check_eq!(det, 104, "factor 0 after 100 hits");
    ctx.say("factor 0: every hit counts, 100 hits → 104 (5 + 99), as in the table's first row");
    Ok(())
}

pub const LFU_DECAY: Demo = Demo {
    name: "redis-03/lfu-counter-decays-per-idle-minute",
    claim: "An LFU counter loses one point per lfu-decay-time minutes without access (LFUDecrAndReturn, applied when the key is read or sampled), never below 0, and never with lfu-decay-time 0; a key with a high counter left idle long enough becomes the eviction victim.",
    needs: Need::Nothing,
    run: lfu_decay,
};

fn lfu_decay(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let clock = Clock::at(1_700_000_000_000);
    let cfg = Config {
        policy: MaxmemoryPolicy::AllkeysLfu,
        maxkeys: 2,
        lfu_log_factor: 0,
        ..Config::default()
    };
    let mut ks: Keyspace<&str> = Keyspace::new(cfg, clock.clone(), 5);
    ks.set("old-hot").map_err(oom)?;
    for _ in 0..30 {
        ks.get(&"old-hot");
    }
    check_eq!(
        ks.object_freq(&"old-hot"),
        Ok(Some(35)),
        "freq after 30 hits"
    );
    clock.advance_secs(10 * 60);
    check_eq!(
        ks.object_freq(&"old-hot"),
        Ok(Some(25)),
        "after 10 idle minutes"
    );
    ks.set("new").map_err(oom)?;
    for _ in 0..25 {
        ks.get(&"new");
    }
    ctx.say("old-hot: 30 hits → 35; 10 idle minutes → 25; new: 25 hits → 30");
    ks.set("third").map_err(oom)?;
    check!(
        !ks.contains_raw(&"old-hot") && ks.contains_raw(&"new"),
        "the decayed key should have been evicted"
    );
    ctx.say("inserting a third key (maxkeys 2) evicts old-hot (25) before new (30)");
    ks.config.lfu_decay_time = 0;
    clock.advance_secs(3600);
    check_eq!(
        ks.object_freq(&"new"),
        Ok(Some(30)),
        "lfu-decay-time 0, an hour later"
    );
    ks.config.lfu_decay_time = 1;
    clock.advance_secs(3600);
    check_eq!(
        ks.object_freq(&"new"),
        Ok(Some(0)),
        "two idle hours at decay 1"
    );
    ctx.say("lfu-decay-time 0: still 30 an hour later; back to 1: 0 after two idle hours (floor)");
    Ok(())
}

fn oom(e: Oom) -> DemoError {
    DemoError::Broken(e.to_string())
}

pub const POLICIES: Demo = Demo {
    name: "redis-03/eight-policies",
    claim: "All eight maxmemory-policy values parse by Redis's names (any case), anything else gets Redis's CONFIG SET error; noeviction and the volatile-* policies without TTL keys refuse writes with OOM; volatile-ttl evicts the soonest expiry; the random policies evict some key.",
    needs: Need::Nothing,
    run: policies,
};

fn policies(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    for p in policy::ALL {
        check_eq!(
            p.name().to_uppercase().parse::<MaxmemoryPolicy>().ok(),
            Some(p),
            "parse {}",
            p.name()
        );
    }
    let bad = "allkeys-lrm".parse::<MaxmemoryPolicy>();
    check!(bad.is_err(), "allkeys-lrm (Redis 8.6) accepted");
    ctx.say(format!(
        "allkeys-lrm → {}",
        MaxmemoryPolicy::config_set_error()
    ));
    for p in policy::ALL {
        let cfg = Config {
            policy: p,
            maxkeys: 3,
            ..Config::default()
        };
        let mut ks: Keyspace<&str> = Keyspace::new(cfg, Clock::at(1_700_000_000_000), 9);
        ks.set("a").map_err(oom)?;
        ks.set("b").map_err(oom)?;
        ks.set("c").map_err(oom)?;
        let plain = ks.set("d");
        let mut ks2: Keyspace<&str> =
            Keyspace::new(ks.config.clone(), Clock::at(1_700_000_000_000), 9);
        ks2.set("persistent").map_err(oom)?;
        ks2.set_px("late", 60_000).map_err(oom)?;
        ks2.set_px("soon", 1_000).map_err(oom)?;
        let with_ttl = ks2.set("d");
        let line = format!(
            "{:<16} no TTL keys: {:<5} with 2 TTL keys: {:<5} evicted {:?}",
            p.name(),
            if plain.is_ok() { "evict" } else { "OOM" },
            if with_ttl.is_ok() { "evict" } else { "OOM" },
            ["persistent", "late", "soon"]
                .iter()
                .filter(|k| !ks2.contains_raw(k))
                .collect::<Vec<_>>()
        );
        ctx.say(line);
        let expect_plain = p.all_keys();
        let expect_ttl = p != MaxmemoryPolicy::NoEviction;
        check_eq!(
            plain.is_ok(),
            expect_plain,
            "{p}: write with only persistent keys"
        );
        check_eq!(with_ttl.is_ok(), expect_ttl, "{p}: write with two TTL keys");
        if !p.all_keys() && with_ttl.is_ok() {
            check!(
                ks2.contains_raw(&"persistent"),
                "{p} evicted a key without TTL"
            );
        }
        if p == MaxmemoryPolicy::VolatileTtl {
            check!(
                !ks2.contains_raw(&"soon"),
                "volatile-ttl kept the soonest expiry"
            );
        }
    }
    Ok(())
}

pub const LRU_EXPERIMENT_REAL: Demo = Demo {
    name: "redis-03/lru-experiment-matches-real-redis",
    claim: "Redis's LRU experiment on a real redis-server 7.0 (allkeys-lru, maxmemory set for the same number of resident keys) evicts old keys at the same rates as the model: with 5 and 10 samples, in each fifth of the keys by age the eviction rate of two real runs (mean) is within 8 points of four model runs (mean); the picture is written to target/lab/redis-03-lru.svg.",
    needs: Need::Redis,
    run: lru_experiment_real,
};

/// Redis's LRU experiment on a real server (allkeys-lru, `samples`, `n` keys aged with
/// `RESTORE … IDLETIME`, `maxmemory` for `n` resident keys): who survived, and how many keys were
/// resident. For other crates that compare their own evictor with the real one (`respd`).
pub fn real_lru_outcome(
    r: &mut ScratchRedis,
    n: usize,
    samples: usize,
) -> Result<(Outcome, u64), DemoError> {
    real_lru_run(r, n, samples).map(|(o, mem)| (o, mem.resident))
}

/// What the real server's memory looked like during one run.
#[derive(Debug, Clone, Copy)]
struct MemoryNote {
    per_key: u64,
    maxmemory: u64,
    resident: u64,
}

fn real_lru_run(
    r: &mut ScratchRedis,
    n: usize,
    samples: usize,
) -> Result<(Outcome, MemoryNote), DemoError> {
    redis::cmd("FLUSHALL").exec(r.conn())?;
    r.config_set("maxmemory", "0")?;
    r.config_set("maxmemory-policy", "allkeys-lru")?;
    r.config_set("maxmemory-samples", &samples.to_string())?;
    let tmpl = r.key("template");
    redis::cmd("SET").arg(&tmpl).arg("v").exec(r.conn())?;
    let payload: Vec<u8> = redis::cmd("DUMP").arg(&tmpl).query(r.conn())?;
    redis::cmd("DEL").arg(&tmpl).exec(r.conn())?;
    let (old_prefix, new_prefix) = (r.key("old:"), r.key("new:"));
    let new = |j: usize| format!("{new_prefix}{j:05}");
    let old_keys: Vec<String> = (0..n).map(|i| format!("{old_prefix}{i:05}")).collect();
    let before = r.info_u64("memory", "used_memory")?;
    {
        // The bulk load goes through its own connection, closed afterwards, so its large query
        // buffer is not part of the memory the experiment measures.
        let mut bulk = r.another_connection()?;
        for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
            let mut p = redis::pipe();
            for &i in chunk {
                p.cmd("RESTORE")
                    .arg(&old_keys[i])
                    .arg(0)
                    .arg(&payload)
                    .arg("IDLETIME")
                    .arg(n as u64 - i as u64 + IDLE_OFFSET_SECS)
                    .ignore();
            }
            p.exec(&mut bulk)?;
        }
    }
    // Bring this connection to the state it has during the add phase (one RESTORE + DBSIZE
    // round trip at a time) before measuring, so client buffers are the same in both.
    let warm = r.key("warm");
    for _ in 0..3 {
        let _: ((), u64) = redis::pipe()
            .cmd("RESTORE")
            .arg(&warm)
            .arg(0)
            .arg(&payload)
            .arg("REPLACE")
            .cmd("DBSIZE")
            .query(r.conn())?;
    }
    redis::cmd("DEL").arg(&warm).exec(r.conn())?;
    let after = r.info_u64("memory", "used_memory")?;
    let per_key = after.saturating_sub(before) / n as u64;
    // Room for the n keys and half a key more: each new key pushes memory over the limit.
    let maxmemory = after + per_key / 2;
    r.config_set("maxmemory", &maxmemory.to_string())?;
    let size: u64 = redis::cmd("DBSIZE").query(r.conn())?;
    check_eq!(size, n as u64, "keys before adding (maxmemory {maxmemory})");
    let mut added = 0usize;
    loop {
        let (_, size): ((), u64) = redis::pipe()
            .cmd("RESTORE")
            .arg(new(added))
            .arg(0)
            .arg(&payload)
            .arg("IDLETIME")
            .arg(0)
            .cmd("DBSIZE")
            .query(r.conn())?;
        added += 1;
        let evicted = (n + added) as u64 - size;
        if evicted >= (n / 2) as u64 {
            break;
        }
        check!(added < 3 * n, "no eviction after {added} new keys");
    }
    // Read back with the limit off, so the reads themselves cannot evict anything.
    r.config_set("maxmemory", "0")?;
    let resident: u64 = redis::cmd("DBSIZE").query(r.conn())?;
    let exists = |r: &mut ScratchRedis, keys: &[String]| -> Result<Vec<bool>, DemoError> {
        let mut out = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(500) {
            let mut p = redis::pipe();
            for k in chunk {
                p.cmd("EXISTS").arg(k);
            }
            let v: Vec<i64> = p.query(r.conn())?;
            out.extend(v.into_iter().map(|x| x == 1));
        }
        Ok(out)
    };
    let new_keys: Vec<String> = (0..added).map(new).collect();
    let outcome = Outcome {
        label: format!("{samples} samples (Redis 7.0)"),
        kept_old: exists(r, &old_keys)?,
        kept_new: exists(r, &new_keys)?,
    };
    Ok((
        outcome,
        MemoryNote {
            per_key,
            maxmemory,
            resident,
        },
    ))
}

fn lru_experiment_real(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let mut r = ScratchRedis::start("redis-03")?;
    let version = redis_version(r.conn())?;
    ctx.say(format!(
        "scratch redis-server {version} on 127.0.0.1:{} (pid {}), {} keys, keys aged 1 s apart with RESTORE … IDLETIME",
        r.port(),
        r.pid(),
        EXPERIMENT_KEYS
    ));
    let mut panels = vec![experiment::run_exact(EXPERIMENT_KEYS)];
    let mut failures = Vec::new();
    for samples in [5usize, 10] {
        let models: Vec<Outcome> = (0..4)
            .map(|s| experiment::run_sampled(EXPERIMENT_KEYS, samples, 7 + s))
            .collect();
        let mut reals = Vec::new();
        for _ in 0..REAL_RUNS {
            let (real, mem) = real_lru_run(&mut r, EXPERIMENT_KEYS, samples)?;
            let drift =
                (mem.resident as f64 - EXPERIMENT_KEYS as f64).abs() / EXPERIMENT_KEYS as f64;
            check!(
                drift <= RESIDENT_TOLERANCE,
                "samples {samples}: {} keys resident on the server, the model holds {EXPERIMENT_KEYS}",
                mem.resident
            );
            ctx.say(format!(
                "samples {samples:>2}: {} B/key → maxmemory {} → {} keys resident (model {}); {} new keys added",
                mem.per_key,
                mem.maxmemory,
                mem.resident,
                EXPERIMENT_KEYS,
                real.kept_new.len()
            ));
            reals.push(real);
        }
        let model_bins = experiment::mean_by_age(&models, AGE_BINS);
        let real_bins = experiment::mean_by_age(&reals, AGE_BINS);
        let mean =
            |v: &[Outcome], f: fn(&Outcome) -> f64| v.iter().map(f).sum::<f64>() / v.len() as f64;
        ctx.say(format!(
            "  evicted per age fifth (oldest first): model {} | real {}",
            pct(&model_bins),
            pct(&real_bins)
        ));
        ctx.say(format!(
            "  older half evicted: model {:.1}%, real {:.1}%; error score model {:.1}%, real {:.1}% (means of {} model and {REAL_RUNS} real runs)",
            mean(&models, Outcome::oldest_half_evicted) * 100.0,
            mean(&reals, Outcome::oldest_half_evicted) * 100.0,
            mean(&models, Outcome::lru_error_percent),
            mean(&reals, Outcome::lru_error_percent),
            models.len()
        ));
        let real = reals.swap_remove(0);
        match experiment::agreement(&model_bins, &real_bins, AGE_BIN_TOLERANCE) {
            Ok(worst) => ctx.say(format!(
                "  agreement: largest difference {:.1} points (tolerance {:.0})",
                worst * 100.0,
                AGE_BIN_TOLERANCE * 100.0
            )),
            Err(e) => failures.push(format!("samples {samples}: {e}")),
        }
        let mut first_model = models[0].clone();
        first_model.label = format!("{samples} samples (model)");
        panels.push(first_model);
        panels.push(real);
    }
    let dir = experiment::lab_output_dir().map_err(|e| DemoError::Broken(e.to_string()))?;
    let path = dir.join("redis-03-lru.svg");
    std::fs::write(&path, experiment::svg(&panels, 60))
        .map_err(|e| DemoError::Broken(format!("{}: {e}", path.display())))?;
    ctx.say(format!("picture: {}", path.display()));
    check!(failures.is_empty(), "{}", failures.join("; "));
    Ok(())
}

fn pct(v: &[f64]) -> String {
    v.iter()
        .map(|x| format!("{:>5.1}%", x * 100.0))
        .collect::<Vec<_>>()
        .join(" ")
}

fn redis_version(conn: &mut redis::Connection) -> Result<String, DemoError> {
    let info: String = redis::cmd("INFO").arg("server").query(conn)?;
    Ok(info
        .lines()
        .find_map(|l| l.strip_prefix("redis_version:"))
        .unwrap_or("?")
        .trim()
        .to_string())
}

/// A reply as the demos compare them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Ok,
    Int(i64),
    Nil,
    Err(String),
}

fn real_reply(v: redis::RedisResult<redis::Value>) -> Reply {
    match v {
        Ok(redis::Value::Okay) => Reply::Ok,
        Ok(redis::Value::Int(i)) => Reply::Int(i),
        Ok(redis::Value::Nil) => Reply::Nil,
        Ok(redis::Value::SimpleString(s)) if s == "OK" => Reply::Ok,
        Ok(other) => Reply::Err(format!("unexpected {other:?}")),
        Err(e) => {
            // Redis's text is "<CODE> <detail>"; the client splits it: put it back together.
            let code = e.code().unwrap_or("ERR").to_string();
            let detail = e.detail().unwrap_or("").to_string();
            Reply::Err(format!("{code} {detail}"))
        }
    }
}

pub const LFU_REAL: Demo = Demo {
    name: "redis-03/object-freq-matches-real-redis",
    claim: "With lfu-log-factor 0 (and lfu-decay-time 0) the LFU counter is deterministic, and OBJECT FREQ on a real redis-server 7.0 equals the model after every step (5 for a new key, +1 per access, 255 cap); OBJECT FREQ/IDLETIME under the other policy family and a bad maxmemory-policy get Redis's exact error text.",
    needs: Need::Redis,
    run: lfu_real,
};

fn lfu_real(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let mut r = ScratchRedis::start("redis-03")?;
    // Shared integers would give many keys one object (and one counter) when maxmemory is 0.
    r.config_set("maxmemory", "1gb")?;
    r.config_set("maxmemory-policy", "allkeys-lfu")?;
    r.config_set("lfu-log-factor", "0")?;
    r.config_set("lfu-decay-time", "0")?;
    let k = r.key("freq");
    let cfg = Config {
        policy: MaxmemoryPolicy::AllkeysLfu,
        lfu_log_factor: 0,
        lfu_decay_time: 0,
        ..Config::default()
    };
    let mut m: Keyspace<String> = Keyspace::new(cfg, Clock::from_system_time(), 1);
    let freq_model = |m: &mut Keyspace<String>, k: &String| match m.object_freq(k) {
        Ok(Some(f)) => Reply::Int(i64::from(f)),
        Ok(None) => Reply::Nil,
        Err(e) => Reply::Err(e.to_string()),
    };
    let freq_real = |r: &mut ScratchRedis, k: &str| {
        real_reply(redis::cmd("OBJECT").arg("FREQ").arg(k).query(r.conn()))
    };
    let mut steps = Vec::new();
    m.set(k.clone()).map_err(oom)?;
    redis::cmd("SET").arg(&k).arg("v").exec(r.conn())?;
    let mut total = 0;
    for gets in [0usize, 10, 89, 200] {
        for _ in 0..gets {
            m.get(&k);
        }
        if gets > 0 {
            let mut p = redis::pipe();
            for _ in 0..gets {
                p.cmd("GET").arg(&k).ignore();
            }
            p.exec(r.conn())?;
        }
        total += gets;
        let (a, b) = (freq_model(&mut m, &k), freq_real(&mut r, &k));
        steps.push(format!(
            "after SET + {total:>3} GETs: OBJECT FREQ model {a:?}, real {b:?}"
        ));
        check_eq!(b, a, "OBJECT FREQ after {total} GETs");
    }
    let missing = r.key("missing");
    check_eq!(
        freq_real(&mut r, &missing),
        freq_model(&mut m, &missing),
        "OBJECT FREQ of a missing key"
    );
    let idle_real = real_reply(redis::cmd("OBJECT").arg("IDLETIME").arg(&k).query(r.conn()));
    let idle_model = match m.object_idletime(&k) {
        Ok(Some(s)) => Reply::Int(s as i64),
        Ok(None) => Reply::Nil,
        Err(e) => Reply::Err(e.to_string()),
    };
    check_eq!(
        idle_model,
        Reply::Err(ObjectError::IsLfu.to_string()),
        "model OBJECT IDLETIME under LFU"
    );
    check_eq!(idle_real, idle_model, "OBJECT IDLETIME under allkeys-lfu");
    r.config_set("maxmemory-policy", "allkeys-lru")?;
    m.config.policy = MaxmemoryPolicy::AllkeysLru;
    check_eq!(
        freq_real(&mut r, &k),
        freq_model(&mut m, &k),
        "OBJECT FREQ under allkeys-lru"
    );
    let bad = real_reply(
        redis::cmd("CONFIG")
            .arg("SET")
            .arg("maxmemory-policy")
            .arg("allkeys-lrm")
            .query(r.conn()),
    );
    check_eq!(
        bad,
        Reply::Err(MaxmemoryPolicy::config_set_error()),
        "CONFIG SET maxmemory-policy allkeys-lrm"
    );
    for s in steps {
        ctx.say(s);
    }
    ctx.say("OBJECT FREQ of a missing key: nil on both; OBJECT IDLETIME under LFU, OBJECT FREQ under LRU and CONFIG SET maxmemory-policy allkeys-lrm: the same error text on both");
    let hits = info_u64(r.conn(), "stats", "keyspace_hits")?;
    let misses = info_u64(r.conn(), "stats", "keyspace_misses")?;
    check_eq!(
        (hits, misses),
        (m.stats.keyspace_hits, m.stats.keyspace_misses),
        "(keyspace_hits, keyspace_misses), real vs model"
    );
    ctx.say(format!(
        "INFO keyspace_hits {hits}, keyspace_misses {misses} on both: 299 GETs and 6 OBJECT calls hit, the missing key missed"
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lfu_tolerance_rejects_a_linear_counter() {
        assert!(lfu_cell_within(146.0, 142));
        assert!(lfu_cell_within(7.5, 8));
        // Counterexample: a plain (linear) counter would say 100 after 100 hits.
        assert!(!lfu_cell_within(100.0, 10));
        assert!(!lfu_cell_within(160.0, 142));
    }

    #[test]
    fn decreasing_check() {
        assert!(strictly_decreasing(&[30.0, 20.0, 10.0]));
        assert!(!strictly_decreasing(&[30.0, 30.0, 10.0]));
    }

    #[test]
    fn growth_is_cumulative_and_capped() {
        let mut r = Rng::new(3);
        let v = lfu_growth(0, &[1, 10, 1000], &mut r);
        assert_eq!(v, vec![5, 14, 255]);
    }
}
