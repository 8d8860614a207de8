//! `maxmemory` in the lab's server: its own memory accounting, and eviction before a command as
//! Redis's `performEvictions` does it (redis-03, 「Redis的LRU具体实现」).
//!
//! ## How memory is counted
//! Redis compares the allocator's `used_memory` with `maxmemory`. This server does not ask its
//! allocator; it keeps [`Db::used_memory`], a running sum over the keyspace of
//!
//! ```text
//!   key bytes + value bytes + ENTRY_OVERHEAD (64)                       every key
//!   value bytes of a sorted set = ZSET_OVERHEAD (96) + 64 per member     (an estimate)
//!   key bytes + EXPIRE_OVERHEAD (32)                                     every key with a TTL
//! ```
//!
//! 64 bytes stand for Redis's `dictEntry` (24) + `robj` (16) + the key's and value's `sds`
//! headers and the allocator's rounding; the counts are updated by every insert, overwrite and
//! delete, and a unit test recounts the whole keyspace after random commands to check the sum.
//! The server's own buffers and tables are not counted, so `used_memory` starts at 0.
//!
//! ## Eviction
//! Before every command, when `maxmemory` is set and `used_memory` is above it, keys are evicted
//! until it is not ([`Db::perform_evictions`]), each victim chosen by the policy:
//!
//! ```text
//!   allkeys-* / volatile-*: sample maxmemory-samples keys of the keyspace / of the keys with a TTL
//!   lru: score = estimated idle ms (24-bit clock)    ┐ offer each to the 16-entry pool
//!   lfu: score = 255 − decayed counter               ├ (cache::pool::EvictionPool::offer),
//!   ttl: score = u64::MAX − deadline                 ┘ evict the best live one (pop_best)
//!   random: one random key, no pool
//!   noeviction, or volatile-* with no TTL anywhere: nothing to evict
//! ```
//!
//! When nothing can be evicted, a command flagged `denyoom` (SET, INCR, ZADD, ZINCRBY) gets
//! `-OOM command not allowed when used memory > 'maxmemory'.`; other commands (GET, DEL, ...) run.
//!
//! ## How the real system differs
//! Redis samples with `dictGetSomeKeys` (a run of consecutive buckets from a random one); here a
//! sample is `maxmemory-samples` independent random keys ([`crate::table::KeyTable::random`]). Redis bounds one eviction round by
//! `maxmemory-eviction-tenacity` and continues in a timer; here a round always finishes. The bytes
//! are the lab's estimate, not the allocator's.

use cache::lfu;
use cache::lruclock::estimate_idle_ms;
use cache::policy::{MaxmemoryPolicy, Ranking};

use crate::db::{Db, Entry, Value};

/// Bytes counted per key besides its name and value.
pub const ENTRY_OVERHEAD: usize = 64;
/// Bytes counted per key with a TTL besides its name.
pub const EXPIRE_OVERHEAD: usize = 32;
/// A sorted set's fixed part.
pub const ZSET_OVERHEAD: usize = 96;
/// Bytes counted per sorted-set member.
pub const ZSET_MEMBER_COST: usize = 64;

pub const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";

/// The bytes a value is counted for.
pub fn value_cost(v: &Value) -> usize {
    match v {
        Value::Str(s) => s.len(),
        Value::Zset(z) => ZSET_OVERHEAD + ZSET_MEMBER_COST * z.len(),
    }
}

/// The bytes one key of the keyspace is counted for (without its TTL).
pub fn entry_cost(key: &[u8], v: &Value) -> usize {
    key.len() + value_cost(v) + ENTRY_OVERHEAD
}

/// The settings of this module, typed; `CONFIG GET` shows them from the string table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvictConfig {
    pub maxmemory: u64,
    pub policy: MaxmemoryPolicy,
    pub samples: u32,
    pub lfu_log_factor: u32,
    pub lfu_decay_time: u32,
    pub hz: u32,
    pub active_expire_effort: u32,
}

impl Default for EvictConfig {
    fn default() -> Self {
        EvictConfig {
            maxmemory: 0,
            policy: MaxmemoryPolicy::NoEviction,
            samples: 5,
            lfu_log_factor: lfu::DEFAULT_LOG_FACTOR,
            lfu_decay_time: lfu::DEFAULT_DECAY_TIME,
            hz: 10,
            active_expire_effort: 1,
        }
    }
}

/// Redis's `memtoull`: digits with an optional unit (`b`, `k` = 1000, `kb` = 1024, `m`, `mb`,
/// `g`, `gb`, any case). No sign.
pub fn parse_memory(s: &str) -> Option<u64> {
    let lower = s.to_ascii_lowercase();
    let digits_end = lower
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(lower.len());
    let (num, unit) = lower.split_at(digits_end);
    let mul: u64 = match unit {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    num.parse::<u64>().ok()?.checked_mul(mul)
}

/// Checks one `CONFIG SET name value` of this module's settings against Redis 7.0's rules and
/// returns the value as `CONFIG GET` will show it (`None`: not one of this module's names).
pub fn validate(name: &str, value: &str) -> Option<Result<String, String>> {
    let fail = |why: &str| {
        Err(format!(
            "ERR CONFIG SET failed (possibly related to argument '{name}') - {why}"
        ))
    };
    let int_in = |lo: i64, hi: i64| -> Result<String, String> {
        match crate::resp::parse_i64(value.as_bytes()) {
            None => fail("argument couldn't be parsed into an integer"),
            Some(n) if n < lo || n > hi => {
                fail(&format!("argument must be between {lo} and {hi} inclusive"))
            }
            Some(n) => Ok(n.to_string()),
        }
    };
    let int_max = i64::from(i32::MAX);
    Some(match name {
        "maxmemory" => match parse_memory(value) {
            Some(n) => Ok(n.to_string()),
            None => fail("argument must be a memory value"),
        },
        "maxmemory-policy" => match value.parse::<MaxmemoryPolicy>() {
            Ok(p) => Ok(p.name().to_string()),
            Err(e) => Err(e.to_string()),
        },
        "maxmemory-samples" => int_in(1, int_max),
        "lfu-log-factor" | "lfu-decay-time" => int_in(0, int_max),
        // Redis accepts any non-negative hz and clamps it to 1..=500 (CONFIG GET shows the clamp).
        "hz" => {
            int_in(0, int_max).map(|n| n.parse::<u32>().unwrap_or(500).clamp(1, 500).to_string())
        }
        "active-expire-effort" => int_in(1, 10),
        _ => return None,
    })
}

impl EvictConfig {
    /// Applies a value [`validate`] accepted.
    pub fn apply(&mut self, name: &str, value: &str) {
        let n = || value.parse::<u64>().unwrap_or(0);
        match name {
            "maxmemory" => self.maxmemory = n(),
            "maxmemory-policy" => self.policy = value.parse().unwrap_or_default(),
            "maxmemory-samples" => self.samples = n() as u32,
            "lfu-log-factor" => self.lfu_log_factor = n() as u32,
            "lfu-decay-time" => self.lfu_decay_time = n() as u32,
            "hz" => self.hz = n() as u32,
            "active-expire-effort" => self.active_expire_effort = n() as u32,
            _ => {}
        }
    }
}

/// What a key access writes into its 24-bit field: the LRU clock, or the LFU counter and minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Touch {
    pub lfu: bool,
    /// `LRU_CLOCK()`, Unix seconds in 24 bits, refreshed by the timer.
    pub lru_clock: u32,
    /// `LFUGetTimeInMinutes()`, refreshed by the timer.
    pub minutes: u16,
    pub log_factor: u32,
    pub decay_time: u32,
}

impl Touch {
    /// The field of a key created now (`createObject`): now, or `LFU_INIT_VAL` this minute.
    pub fn fresh(&self) -> u32 {
        if self.lfu {
            lfu::pack(self.minutes, lfu::LFU_INIT_VAL)
        } else {
            self.lru_clock
        }
    }

    /// `lookupKey`'s touch: `lru = LRU_CLOCK()` or `updateLFU`.
    pub fn touch(&self, e: &mut Entry, rng: &mut cache::rng::Rng) {
        e.lru = if self.lfu {
            lfu::on_access(e.lru, self.minutes, self.log_factor, self.decay_time, rng)
        } else {
            self.lru_clock
        };
    }

    /// The eviction pool's score for a key under `ranking` (bigger: better victim).
    pub fn score(&self, ranking: Ranking, e: &Entry, deadline: Option<i64>) -> Option<u64> {
        match ranking {
            Ranking::Lru => Some(estimate_idle_ms(self.lru_clock, e.lru)),
            Ranking::Lfu => {
                Some(255 - u64::from(lfu::decr_and_return(e.lru, self.minutes, self.decay_time)))
            }
            Ranking::Ttl => deadline.map(|d| u64::MAX - d.max(0) as u64),
            Ranking::Random | Ranking::None => None,
        }
    }
}

impl Db {
    /// The lab's count of the keyspace's bytes (see the module docs).
    pub fn used_memory(&self) -> usize {
        self.used
    }

    /// The same sum computed from scratch, for tests of the running count.
    pub fn recount_memory(&self) -> usize {
        let main: usize = self.map.iter().map(|(k, e)| entry_cost(k, &e.value)).sum();
        let ttl: usize = self.expires.keys().map(|k| k.len() + EXPIRE_OVERHEAD).sum();
        main + ttl
    }

    /// Whether the keyspace is over `maxmemory` (never when it is 0).
    pub fn over_maxmemory(&self) -> bool {
        self.evict.maxmemory != 0 && self.used as u64 > self.evict.maxmemory
    }

    /// `performEvictions`: evicts until `used_memory` ≤ `maxmemory`; false if the policy found
    /// nothing more to evict while still over.
    pub fn perform_evictions(&mut self) -> bool {
        while self.over_maxmemory() {
            match self.choose_victim() {
                Some(key) => {
                    self.delete_key(&key);
                    self.stats.evicted_keys += 1;
                }
                None => return false,
            }
        }
        true
    }

    /// One victim under the current policy, or `None` when there is nothing it may evict.
    fn choose_victim(&mut self) -> Option<Vec<u8>> {
        let policy = self.evict.policy;
        let all = policy.all_keys();
        let len = if all {
            self.map.len()
        } else {
            self.expires.len()
        };
        if len == 0 {
            return None;
        }
        match policy.ranking() {
            Ranking::None => None,
            Ranking::Random => {
                let key = if all {
                    self.map.random(&mut self.rng).map(|(k, _)| k)
                } else {
                    self.expires.random(&mut self.rng).map(|(k, _)| k)
                };
                key.cloned()
            }
            ranking => loop {
                // evictionPoolPopulate: sample, score, offer.
                for _ in 0..self.evict.samples.max(1) {
                    let key = if all {
                        self.map.random(&mut self.rng).map(|(k, _)| k)
                    } else {
                        self.expires.random(&mut self.rng).map(|(k, _)| k)
                    };
                    let Some(key) = key else { continue };
                    let Some(entry) = self.map.get(key) else {
                        continue;
                    };
                    let deadline = self.expires.get(key).copied();
                    if let Some(score) = self.touch.score(ranking, entry, deadline) {
                        self.pool.offer(key.clone(), score);
                    }
                }
                // Take the best from the right, skipping ghosts (keys deleted since sampled).
                let (map, expires) = (&self.map, &self.expires);
                let best = self.pool.pop_best(|k| {
                    if all {
                        map.contains_key(k)
                    } else {
                        expires.contains_key(k)
                    }
                });
                if let Some(c) = best {
                    break Some(c.key);
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_values_parse_as_memtoull() {
        assert_eq!(parse_memory("100"), Some(100));
        assert_eq!(parse_memory("1kb"), Some(1024));
        assert_eq!(parse_memory("1K"), Some(1000));
        assert_eq!(parse_memory("2mb"), Some(2 << 20));
        // Counterexamples Redis refuses.
        for bad in ["-1", "abc", "1x", "1.5mb", ""] {
            assert_eq!(parse_memory(bad), None, "{bad}");
        }
    }

    #[test]
    fn config_values_get_redis_errors() {
        let e = |n: &str, v: &str| validate(n, v).unwrap().unwrap_err();
        assert!(e("maxmemory-samples", "0").ends_with("between 1 and 2147483647 inclusive"));
        assert!(e("hz", "abc").ends_with("couldn't be parsed into an integer"));
        assert!(e("active-expire-effort", "11").ends_with("between 1 and 10 inclusive"));
        assert!(e("maxmemory", "-1").ends_with("must be a memory value"));
        assert!(e("maxmemory-policy", "lru").contains("must be one of the following"));
        assert_eq!(validate("hz", "600"), Some(Ok("500".into())));
        assert_eq!(validate("hz", "0"), Some(Ok("1".into())));
        assert_eq!(
            validate("maxmemory-policy", "ALLKEYS-LRU"),
            Some(Ok("allkeys-lru".into()))
        );
        assert_eq!(validate("save", ""), None);
    }
}
