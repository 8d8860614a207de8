//! The demos of redis-03, redis-05, redis-06, redis-07 and redis-08, one file per question. Each
//! asserts a claim of its answer page (`docs/redis/<id>.md`).

use catalog::{Demo, Topic};

mod hitratio;
mod redis03;
mod redis05;
mod redis06;
mod redis07;
mod redis08;

pub use redis03::{LFU_TABLE, LfuTableCell, lfu_cell_within, real_lru_outcome};

pub fn topic() -> Topic {
    Topic {
        name: "cache",
        demos: DEMOS,
        benches: &[crate::bench::SUITE],
    }
}

static DEMOS: &[Demo] = &[
    redis03::EXACT_LRU,
    redis03::POOL_RULE,
    redis03::MORE_SAMPLES,
    redis03::LRU_CLOCK,
    redis03::LFU_TABLE_DEMO,
    redis03::LFU_DECAY,
    redis03::POLICIES,
    redis03::LRU_EXPERIMENT_REAL,
    redis03::LFU_REAL,
    hitratio::HIT_RATIO_REAL,
    redis05::LAZY,
    redis05::ACTIVE_CYCLE,
    redis05::CRON,
    redis05::REAL,
    redis06::MODEL_AVALANCHE,
    redis06::REAL_AVALANCHE,
    redis06::SINGLEFLIGHT,
    redis06::HOT_KEY_REAL,
    redis07::BLOOM_RATE,
    redis07::REAL_PENETRATION,
    redis08::LOCK_MODEL,
    redis08::WATCH_REAL,
    redis08::LOCK_REAL,
];

/// The release of a Redis lock: delete the key only if it still holds our token (what a plain
/// `DEL` cannot check). Atomic because Redis runs a script without interleaving other commands.
pub const RELEASE_LUA: &str = r#"if redis.call("GET", KEYS[1]) == ARGV[1] then
    return redis.call("DEL", KEYS[1])
else
    return 0
end"#;

/// `SET key token NX PX ttl_ms`: whether the caller now holds the lock (false: someone else does).
pub fn try_lock(
    conn: &mut servers::redis::Connection,
    key: &str,
    token: &str,
    ttl_ms: u64,
) -> servers::redis::RedisResult<bool> {
    let won: Option<String> = servers::redis::cmd("SET")
        .arg(key)
        .arg(token)
        .arg("NX")
        .arg("PX")
        .arg(ttl_ms)
        .query(conn)?;
    Ok(won.is_some())
}

/// A token unique to this process, client and moment: 128 bits from the clock, the process id
/// and `client`, mixed. Unique is what the release needs; it is not a secret.
pub fn random_token(client: u64) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut rng = crate::rng::Rng::new(nanos ^ (u64::from(std::process::id()) << 32) ^ client);
    format!("{:016x}{:016x}", rng.next_u64(), rng.next_u64())
}

/// Spins (yielding) until `cond` holds or `limit` passes — a safety net, not a timer: the
/// condition is what the caller waits for. Returns whether it held.
pub fn wait_until(limit: std::time::Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + limit;
    while !cond() {
        if std::time::Instant::now() > deadline {
            return false;
        }
        std::thread::yield_now();
    }
    true
}
