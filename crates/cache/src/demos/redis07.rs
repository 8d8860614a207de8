//! redis-07 · 如何解决Redis缓存穿透问题: requests for ids that exist nowhere go through the cache to
//! the database every time; caching the miss or a Bloom filter of the real ids stops them.

use std::time::Duration;

use catalog::{Ctx, Demo, DemoError, Need, check, check_eq};
use servers::redis;

use crate::bloom::{Bloom, BloomParams, measured_fp_rate, rate_within};
use crate::slowdb::SlowDb;

pub const BLOOM_RATE: Demo = Demo {
    name: "redis-07/bloom-filter-meets-its-error-rate",
    claim: "A Bloom filter sized by m = −n·ln p/(ln 2)² bits and k = (m/n)·ln 2 hashes has no false negatives, and its measured false-positive rate on ids never inserted is within ±15% of the target (1% and 0.1% for 100 000 ids).",
    needs: Need::Nothing,
    run: bloom_rate,
};

fn bloom_rate(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let n = 100_000u64;
    for (p, probes) in [(0.01, 200_000u64), (0.001, 600_000)] {
        let mut f = Bloom::with_rate(n, p, 7);
        for id in 0..n {
            f.insert(&id);
        }
        let misses = (0..n).filter(|id| !f.contains(id)).count();
        check_eq!(misses, 0, "false negatives at p = {p}");
        let rate = measured_fp_rate(&f, n..n + probes);
        let BloomParams { m, k } = f.params();
        ctx.say(format!(
            "p = {p}: m = {m} bits ({:.2} bits/id, {} KiB), k = {k}; {probes} foreign ids → {:.4}% false positives (predicted {:.4}%)",
            m as f64 / n as f64,
            m / 8 / 1024,
            rate * 100.0,
            f.params().predicted_fp_rate(n) * 100.0
        ));
        check!(
            rate_within(rate, p, 0.15),
            "measured {rate} for target {p} (±15%)"
        );
    }
    Ok(())
}

pub const REAL_PENETRATION: Demo = Demo {
    name: "redis-07/null-caching-and-bloom-filter-stop-penetration",
    claim: "Against the real Redis with a 2 ms database of 10 000 rows, 300 requests for 150 ids that do not exist reach the database 300 times with plain cache-aside, 150 times when misses are cached as empty values with a TTL, and only for the filter's false positives with a Bloom filter of the real ids kept in Redis (SETBIT layout, GETBIT checks, answers identical to the in-process filter).",
    needs: Need::Redis,
    run: real_penetration,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Guard {
    None,
    NullCache,
    Bloom,
}

fn bloom_says_maybe(
    conn: &mut redis::Connection,
    key: &str,
    f: &Bloom,
    id: u64,
) -> Result<bool, DemoError> {
    let mut p = redis::pipe();
    for b in f.positions(&id) {
        p.cmd("GETBIT").arg(key).arg(b);
    }
    let bits: Vec<u8> = p.query(conn)?;
    Ok(bits.iter().all(|&b| b == 1))
}

fn real_penetration(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let mut r = ctx.redis()?;
    let rows = 10_000u64;
    let missing: Vec<u64> = (0..150).map(|i| 1_000_000 + i * 7).collect();
    let repeats = 2;
    let mut filter = Bloom::with_rate(rows, 0.01, 99);
    for id in 0..rows {
        filter.insert(&id);
    }
    let bloom_key = r.key("bloom");
    redis::cmd("SET")
        .arg(&bloom_key)
        .arg(filter.to_redis_bitmap())
        .exec(r.conn())?;
    // The Redis copy answers as the in-process filter does (real ids and foreign ones).
    for id in (0..rows)
        .step_by(97)
        .chain(missing.iter().copied())
        .chain(2_000_000..2_000_200)
    {
        let remote = bloom_says_maybe(r.conn(), &bloom_key, &filter, id)?;
        check_eq!(remote, filter.contains(&id), "GETBIT answer for id {id}");
    }
    let strlen: u64 = redis::cmd("STRLEN").arg(&bloom_key).query(r.conn())?;
    let mut loads = Vec::new();
    for guard in [Guard::None, Guard::NullCache, Guard::Bloom] {
        let db = SlowDb::new(rows, Duration::from_millis(2));
        let prefix = r.key(&format!("{guard:?}:user:"));
        for _ in 0..repeats {
            for &id in &missing {
                if guard == Guard::Bloom && !bloom_says_maybe(r.conn(), &bloom_key, &filter, id)? {
                    continue; // definitely not a real id: refused before cache and database
                }
                let k = format!("{prefix}{id}");
                let cached: Option<String> = redis::cmd("GET").arg(&k).query(r.conn())?;
                if cached.is_some() {
                    continue; // a real value, or the empty "known missing" marker
                }
                match db.load(id) {
                    Some(v) => redis::cmd("SET")
                        .arg(&k)
                        .arg(v)
                        .arg("PX")
                        .arg(60_000)
                        .exec(r.conn())?,
                    None if guard == Guard::NullCache => redis::cmd("SET")
                        .arg(&k)
                        .arg("")
                        .arg("PX")
                        .arg(30_000)
                        .exec(r.conn())?,
                    None => {}
                }
            }
        }
        let null_keys = if guard == Guard::NullCache {
            missing.len()
        } else {
            0
        };
        loads.push((guard, db.loads(), null_keys));
    }
    let fp_ids = missing.iter().filter(|id| filter.contains(*id)).count() as u64;
    let requests = (missing.len() * repeats) as u64;
    for (g, l, nk) in &loads {
        ctx.say(format!(
            "{:<10} {requests} requests for {} missing ids → {l} database loads{}",
            format!("{g:?}:"),
            missing.len(),
            if *nk > 0 {
                format!(" ({nk} empty marker keys in Redis)")
            } else {
                String::new()
            }
        ));
    }
    ctx.say(format!(
        "the Bloom filter is one {strlen}-byte Redis string (k = {}); {fp_ids} of the {} missing ids were false positives",
        filter.params().k,
        missing.len()
    ));
    check_eq!(loads[0].1, requests, "loads without protection");
    check_eq!(loads[1].1, missing.len() as u64, "loads with null caching");
    check_eq!(
        loads[2].1,
        fp_ids * repeats as u64,
        "loads with the Bloom filter (false positives only)"
    );
    check!(
        fp_ids <= 6,
        "{fp_ids} false positives among 150 ids at 1% (about 1.5 expected)"
    );
    Ok(())
}
