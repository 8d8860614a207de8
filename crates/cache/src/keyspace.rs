//! One Redis database as the eviction and expiry code see it: a main `dict` of keys, each with its
//! 24-bit `lru` field, an `expires` dict of absolute expire times, the eviction pool, and the
//! INFO counters. Values are left out: they do not take part in eviction or expiry.
//!
//! ```text
//!   main:    key ─► Obj { lru: 24 bits }     (LRU: last access, seconds; LFU: ldt<<8 | counter)
//!   expires: key ─► unix ms                  (only keys with a TTL: the volatile-* candidates)
//!   pool:    16 candidates, ascending "idle"  (shared across evictions; may hold ghosts)
//! ```
//!
//! - **Reads** ([`Keyspace::get`]) run `expireIfNeeded` first (lazy expiry: a key whose time has
//!   passed is deleted on access, `expired_keys` +1, and the read misses), then touch the key:
//!   `lru = LRU_CLOCK()` under LRU policies, `updateLFU` under LFU ones.
//! - **Writes of a new key** ([`Keyspace::set`]) first make room while the keyspace is at
//!   `maxkeys` ([`Keyspace::evict_one`], `performEvictions`); with nothing evictable the write fails
//!   with [`Oom`], as a `denyoom` command does.
//! - **Eviction** for the LRU, LFU and TTL policies: sample `maxmemory-samples` keys with
//!   `dictGetSomeKeys` from the main dict (`allkeys-*`) or the expires dict (`volatile-*`), offer
//!   each to the pool with its score, then take the best live candidate from the right of the
//!   pool, skipping ghosts; if only ghosts were there, sample again. The random policies take
//!   `dictGetRandomKey` and skip the pool.
//!
//! A worked example (`allkeys-lru`, `maxkeys` 3, samples 5): keys a, b, c touched at t = 1, 2, 3 s;
//! at t = 4 `set(d)` samples all three (idle 3000, 2000, 1000 ms), the pool holds them in that
//! order reversed, `a` is popped and evicted; `b` and `c` stay in the pool for the next eviction.
//!
//! ## How the real system differs
//! - Redis compares *bytes* (`used_memory` against `maxmemory`); the model counts keys
//!   (`maxkeys`). The real-Redis experiment in `redis-03` converts one into the other by measuring
//!   the server's bytes per key.
//! - Redis evicts before running the *next* command once memory is over the limit; the model
//!   evicts just before the insert that would exceed `maxkeys`, so exactly `maxkeys` keys stay.
//! - One database instead of 16; no replicas, no lazy-free thread, no eviction time limit
//!   (`maxmemory-eviction-tenacity`): a model eviction always finishes.
//! - Sampling is `dictGetSomeKeys` over the model [`Dict`] (same walk, different hash function, no
//!   incremental rehashing).

use std::hash::Hash;

use crate::clock::Clock;
use crate::dict::Dict;
use crate::expire::ExpireState;
use crate::lfu;
use crate::lruclock::{self, estimate_idle_ms, lru_clock, lru_for_idle};
use crate::policy::{MaxmemoryPolicy, Ranking};
use crate::pool::EvictionPool;
use crate::rng::Rng;

/// The settings the model takes from `redis.conf` / `CONFIG SET`.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub policy: MaxmemoryPolicy,
    /// The model's `maxmemory`, in keys; 0 = unlimited.
    pub maxkeys: usize,
    /// `maxmemory-samples` (default 5).
    pub samples: usize,
    /// `lfu-log-factor` (default 10).
    pub lfu_log_factor: u32,
    /// `lfu-decay-time` in minutes (default 1; 0 = never).
    pub lfu_decay_time: u32,
    /// `hz` (default 10): cron ticks per second.
    pub hz: u32,
    /// `active-expire-effort` (1..=10, default 1).
    pub active_expire_effort: u32,
    /// `DEBUG SET-ACTIVE-EXPIRE`: whether cron runs the active expire cycle.
    pub active_expire_enabled: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            policy: MaxmemoryPolicy::NoEviction,
            maxkeys: 0,
            samples: 5,
            lfu_log_factor: lfu::DEFAULT_LOG_FACTOR,
            lfu_decay_time: lfu::DEFAULT_DECAY_TIME,
            hz: 10,
            active_expire_effort: 1,
            active_expire_enabled: true,
        }
    }
}

/// The `INFO stats` counters the model keeps.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stats {
    pub expired_keys: u64,
    pub evicted_keys: u64,
    pub keyspace_hits: u64,
    pub keyspace_misses: u64,
    /// `expired_stale_perc` as a ratio 0..1 (running estimate of the active cycle).
    pub expired_stale_ratio: f64,
    pub expired_time_cap_reached_count: u64,
    /// Pool entries dropped because their key was already gone.
    pub pool_ghosts_skipped: u64,
}

/// A write refused because memory is full and the policy cannot free any
/// (Redis: `-OOM command not allowed when used memory > 'maxmemory'.`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Oom;

impl std::fmt::Display for Oom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OOM command not allowed when used memory > 'maxmemory'.")
    }
}

impl std::error::Error for Oom {}

/// `OBJECT FREQ` / `OBJECT IDLETIME` under the wrong policy family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectError {
    /// `OBJECT FREQ` without an LFU policy.
    NotLfu,
    /// `OBJECT IDLETIME` with an LFU policy.
    IsLfu,
}

impl std::fmt::Display for ObjectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const TAIL: &str = "Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";
        match self {
            ObjectError::NotLfu => write!(
                f,
                "ERR An LFU maxmemory policy is not selected, access frequency not tracked. {TAIL}"
            ),
            ObjectError::IsLfu => write!(
                f,
                "ERR An LFU maxmemory policy is selected, idle time not tracked. {TAIL}"
            ),
        }
    }
}

impl std::error::Error for ObjectError {}

/// The per-key object header the model keeps (`robj.lru`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Obj {
    pub lru: u32,
}

/// See the module documentation.
#[derive(Debug, Clone)]
pub struct Keyspace<K> {
    pub(crate) main: Dict<K, Obj>,
    pub(crate) expires: Dict<K, u64>,
    pool: EvictionPool<K>,
    pub(crate) clock: Clock,
    pub(crate) rng: Rng,
    pub config: Config,
    pub stats: Stats,
    pub(crate) expire_state: ExpireState,
}

impl<K: Hash + Eq + Clone> Keyspace<K> {
    pub fn new(config: Config, clock: Clock, seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let main = Dict::new(rng.next_u64());
        let expires = Dict::new(rng.next_u64());
        Keyspace {
            main,
            expires,
            pool: EvictionPool::default(),
            clock,
            rng,
            config,
            stats: Stats::default(),
            expire_state: ExpireState::default(),
        }
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// `DBSIZE`: keys in the main dict, including logically expired ones not yet removed.
    pub fn len(&self) -> usize {
        self.main.len()
    }

    pub fn is_empty(&self) -> bool {
        self.main.is_empty()
    }

    /// Keys with a TTL (the `expires=` of `INFO keyspace`).
    pub fn volatile_len(&self) -> usize {
        self.expires.len()
    }

    pub fn pool(&self) -> &EvictionPool<K> {
        &self.pool
    }

    /// Every key present (expired or not), in no particular order.
    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.main.keys()
    }

    /// Whether `k` is in the main dict, without expiring, touching or counting it.
    pub fn contains_raw(&self, k: &K) -> bool {
        self.main.contains(k)
    }

    fn now_lru_clock(&self) -> u32 {
        lru_clock(self.clock.now_ms())
    }

    fn now_minutes(&self) -> u16 {
        lfu::minutes(self.clock.unix_secs())
    }

    /// The `lru` field a new object gets (`createObject`).
    fn fresh_lru(&self) -> u32 {
        if self.config.policy.is_lfu() {
            lfu::pack(self.now_minutes(), lfu::LFU_INIT_VAL)
        } else {
            self.now_lru_clock()
        }
    }

    /// `keyIsExpired`: the key has a TTL and the time is strictly past it.
    pub fn is_expired(&self, k: &K) -> bool {
        self.expires
            .get(k)
            .is_some_and(|&when| self.clock.now_ms() > when)
    }

    /// `expireIfNeeded` on a master: delete an expired key; true when it was expired.
    pub fn expire_if_needed(&mut self, k: &K) -> bool {
        if !self.is_expired(k) {
            return false;
        }
        self.delete_expired(k);
        true
    }

    pub(crate) fn delete_expired(&mut self, k: &K) {
        self.main.remove(k);
        self.expires.remove(k);
        self.stats.expired_keys += 1;
    }

    /// The access-time update of `lookupKey` (unless NOTOUCH).
    fn touch(&mut self, k: &K) {
        let lfu = self.config.policy.is_lfu();
        let (now_clock, now_min) = (self.now_lru_clock(), self.now_minutes());
        let (factor, decay) = (self.config.lfu_log_factor, self.config.lfu_decay_time);
        let rng = &mut self.rng;
        if let Some(o) = self.main.get_mut(k) {
            o.lru = if lfu {
                lfu::on_access(o.lru, now_min, factor, decay, rng)
            } else {
                now_clock
            };
        }
    }

    /// `GET`: lazy expiry, then a hit (touching the key) or a miss.
    pub fn get(&mut self, k: &K) -> bool {
        self.expire_if_needed(k);
        if self.main.contains(k) {
            self.touch(k);
            self.stats.keyspace_hits += 1;
            true
        } else {
            self.stats.keyspace_misses += 1;
            false
        }
    }

    /// `EXISTS` (NOTOUCH lookup): lazy expiry, no access-time update, counted as hit/miss.
    pub fn exists(&mut self, k: &K) -> bool {
        self.expire_if_needed(k);
        let hit = self.main.contains(k);
        if hit {
            self.stats.keyspace_hits += 1;
        } else {
            self.stats.keyspace_misses += 1;
        }
        hit
    }

    /// `SET k v` (no options): replaces the value and clears any TTL. A new key first needs room.
    pub fn set(&mut self, k: K) -> Result<(), Oom> {
        self.expire_if_needed(&k);
        if self.main.contains(&k) {
            // lookupKeyWrite touches; then the new object either keeps the (touched) LFU field
            // (dbOverwrite under LFU) or gets a fresh LRU clock (createObject).
            self.touch(&k);
            if !self.config.policy.is_lfu() {
                let lru = self.fresh_lru();
                if let Some(o) = self.main.get_mut(&k) {
                    o.lru = lru;
                }
            }
            self.expires.remove(&k);
            return Ok(());
        }
        if self.config.maxkeys > 0 {
            while self.main.len() >= self.config.maxkeys {
                self.evict_one()?;
            }
        }
        let lru = self.fresh_lru();
        self.main.insert(k, Obj { lru });
        Ok(())
    }

    /// `SET k v PX ms`.
    pub fn set_px(&mut self, k: K, px: u64) -> Result<(), Oom> {
        self.set(k.clone())?;
        let when = self.clock.now_ms() + px;
        self.expires.insert(k, when);
        Ok(())
    }

    /// `PEXPIREAT k when`: false when the key does not exist. A time not in the future deletes the
    /// key at once (counted as a deletion, not an expiry, as in Redis).
    pub fn pexpireat(&mut self, k: &K, when_ms: u64) -> bool {
        self.expire_if_needed(k);
        if !self.main.contains(k) {
            return false;
        }
        if when_ms <= self.clock.now_ms() {
            self.del(k);
        } else {
            self.expires.insert(k.clone(), when_ms);
        }
        true
    }

    /// `PEXPIRE k ms`.
    pub fn pexpire(&mut self, k: &K, ms: u64) -> bool {
        let when = self.clock.now_ms() + ms;
        self.pexpireat(k, when)
    }

    /// `PERSIST`.
    pub fn persist(&mut self, k: &K) -> bool {
        self.expire_if_needed(k);
        self.main.contains(k) && self.expires.remove(k).is_some()
    }

    /// `DEL`.
    pub fn del(&mut self, k: &K) -> bool {
        self.expire_if_needed(k);
        self.expires.remove(k);
        self.main.remove(k).is_some()
    }

    /// `PTTL`: −2 missing, −1 no TTL, else milliseconds left (never negative).
    pub fn pttl(&mut self, k: &K) -> i64 {
        self.expire_if_needed(k);
        if !self.main.contains(k) {
            return -2;
        }
        match self.expires.get(k) {
            None => -1,
            Some(&when) => (when as i64 - self.clock.now_ms() as i64).max(0),
        }
    }

    /// `TTL`: as `PTTL`, in seconds rounded to nearest (`(ms + 500) / 1000`).
    pub fn ttl(&mut self, k: &K) -> i64 {
        match self.pttl(k) {
            t if t < 0 => t,
            ms => (ms + 500) / 1000,
        }
    }

    /// The lookup of the OBJECT subcommands (`LOOKUP_NOTOUCH`): lazy expiry, counted as a hit or
    /// a miss, no access-time update.
    fn object_lookup(&mut self, k: &K) -> Option<Obj> {
        self.expire_if_needed(k);
        let o = self.main.get(k).copied();
        if o.is_some() {
            self.stats.keyspace_hits += 1;
        } else {
            self.stats.keyspace_misses += 1;
        }
        o
    }

    /// `OBJECT FREQ`: the decayed counter (not written back).
    pub fn object_freq(&mut self, k: &K) -> Result<Option<u8>, ObjectError> {
        let Some(o) = self.object_lookup(k) else {
            return Ok(None);
        };
        if !self.config.policy.is_lfu() {
            return Err(ObjectError::NotLfu);
        }
        Ok(Some(lfu::decr_and_return(
            o.lru,
            self.now_minutes(),
            self.config.lfu_decay_time,
        )))
    }

    /// `OBJECT IDLETIME`: seconds since the last access.
    pub fn object_idletime(&mut self, k: &K) -> Result<Option<u64>, ObjectError> {
        let Some(o) = self.object_lookup(k) else {
            return Ok(None);
        };
        if self.config.policy.is_lfu() {
            return Err(ObjectError::IsLfu);
        }
        Ok(Some(estimate_idle_ms(self.now_lru_clock(), o.lru) / 1000))
    }

    /// `RESTORE … IDLETIME secs` on an existing key (LRU policies): sets its access time to
    /// `secs` ago. Returns false for a missing key or under an LFU policy.
    pub fn set_idle_secs(&mut self, k: &K, secs: u64) -> bool {
        if self.config.policy.is_lfu() {
            return false;
        }
        let lru = lru_for_idle(self.now_lru_clock(), secs);
        match self.main.get_mut(k) {
            Some(o) => {
                o.lru = lru;
                true
            }
            None => false,
        }
    }

    /// `RESTORE … FREQ n` on an existing key (LFU policies).
    pub fn set_freq(&mut self, k: &K, freq: u8) -> bool {
        if !self.config.policy.is_lfu() {
            return false;
        }
        let f = lfu::pack(self.now_minutes(), freq);
        match self.main.get_mut(k) {
            Some(o) => {
                o.lru = f;
                true
            }
            None => false,
        }
    }

    /// The raw 24-bit field of a key.
    pub fn lru_field(&self, k: &K) -> Option<u32> {
        self.main.get(k).map(|o| o.lru)
    }

    /// The "idle" score the eviction pool ranks a key by under the current policy.
    pub fn eviction_score(&self, k: &K) -> Option<u64> {
        match self.config.policy.ranking() {
            Ranking::Lru => self
                .main
                .get(k)
                .map(|o| estimate_idle_ms(self.now_lru_clock(), o.lru)),
            Ranking::Lfu => self.main.get(k).map(|o| {
                255 - u64::from(lfu::decr_and_return(
                    o.lru,
                    self.now_minutes(),
                    self.config.lfu_decay_time,
                ))
            }),
            Ranking::Ttl => self.expires.get(k).map(|&when| u64::MAX - when),
            Ranking::Random | Ranking::None => None,
        }
    }

    /// `evictionPoolPopulate` for this database.
    fn populate_pool(&mut self) {
        let from_all = self.config.policy.all_keys();
        let samples = self.config.samples.max(1);
        let picked: Vec<K> = if from_all {
            let idx = self.main.get_some_keys(samples, &mut self.rng);
            idx.into_iter()
                .map(|i| self.main.entry(i).0.clone())
                .collect()
        } else {
            let idx = self.expires.get_some_keys(samples, &mut self.rng);
            idx.into_iter()
                .map(|i| self.expires.entry(i).0.clone())
                .collect()
        };
        for k in picked {
            if let Some(score) = self.eviction_score(&k) {
                self.pool.offer(k, score);
            }
        }
    }

    /// One iteration of `performEvictions`' loop: choose a victim under the policy and delete it.
    pub fn evict_one(&mut self) -> Result<K, Oom> {
        let policy = self.config.policy;
        let victim = match policy.ranking() {
            Ranking::None => return Err(Oom),
            Ranking::Random => {
                let from = if policy.all_keys() {
                    self.main
                        .random_entry(&mut self.rng)
                        .map(|i| self.main.entry(i).0.clone())
                } else {
                    self.expires
                        .random_entry(&mut self.rng)
                        .map(|i| self.expires.entry(i).0.clone())
                };
                from.ok_or(Oom)?
            }
            Ranking::Lru | Ranking::Lfu | Ranking::Ttl => loop {
                let candidates = if policy.all_keys() {
                    self.main.len()
                } else {
                    self.expires.len()
                };
                if candidates == 0 {
                    return Err(Oom);
                }
                self.populate_pool();
                let (main, expires) = (&self.main, &self.expires);
                let before = self.pool.ghosts_skipped;
                let best = self.pool.pop_best(|k| {
                    if policy.all_keys() {
                        main.contains(k)
                    } else {
                        expires.contains(k)
                    }
                });
                self.stats.pool_ghosts_skipped += self.pool.ghosts_skipped - before;
                if let Some(c) = best {
                    break c.key;
                }
            },
        };
        self.main.remove(&victim);
        self.expires.remove(&victim);
        self.stats.evicted_keys += 1;
        Ok(victim)
    }

    /// `databasesCron`'s resize step: shrink tables under 10% full.
    pub fn shrink_tables(&mut self) {
        self.main.shrink_if_sparse();
        self.expires.shrink_if_sparse();
    }

    /// How many seconds of idle time a key has by the model's clock (LRU policies).
    pub fn idle_secs(&self, k: &K) -> Option<u64> {
        self.main
            .get(k)
            .map(|o| lruclock::estimate_idle_ms(self.now_lru_clock(), o.lru) / 1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ks(policy: MaxmemoryPolicy, maxkeys: usize) -> Keyspace<&'static str> {
        let cfg = Config {
            policy,
            maxkeys,
            ..Config::default()
        };
        Keyspace::new(cfg, Clock::at(1_700_000_000_000), 1)
    }

    #[test]
    fn the_worked_example() {
        let mut k = ks(MaxmemoryPolicy::AllkeysLru, 3);
        for key in ["a", "b", "c"] {
            k.clock.advance_secs(1);
            k.set(key).unwrap();
        }
        k.clock.advance_secs(1);
        k.set("d").unwrap();
        assert!(!k.contains_raw(&"a") && k.contains_raw(&"b") && k.contains_raw(&"d"));
        assert_eq!(k.stats.evicted_keys, 1);
        let left: Vec<u64> = k.pool().candidates().map(|c| c.idle).collect();
        assert_eq!(left, vec![1000, 2000], "c and b wait in the pool");
    }

    #[test]
    fn noeviction_and_volatile_without_ttls_refuse_writes() {
        for p in [
            MaxmemoryPolicy::NoEviction,
            MaxmemoryPolicy::VolatileLru,
            MaxmemoryPolicy::VolatileLfu,
            MaxmemoryPolicy::VolatileRandom,
            MaxmemoryPolicy::VolatileTtl,
        ] {
            let mut k = ks(p, 2);
            k.set("a").unwrap();
            k.set("b").unwrap();
            assert_eq!(k.set("c"), Err(Oom), "{p}");
            assert_eq!(k.set("a"), Ok(()), "{p}: overwriting needs no room");
        }
        // Counterexample: allkeys-random does evict.
        let mut k = ks(MaxmemoryPolicy::AllkeysRandom, 2);
        k.set("a").unwrap();
        k.set("b").unwrap();
        assert_eq!(k.set("c"), Ok(()));
        assert_eq!(k.len(), 2);
    }

    #[test]
    fn volatile_policies_only_evict_keys_with_a_ttl() {
        let mut k = ks(MaxmemoryPolicy::VolatileTtl, 3);
        k.set("persistent").unwrap();
        k.set_px("late", 50_000).unwrap();
        k.set_px("soon", 10_000).unwrap();
        k.set("new").unwrap();
        assert!(!k.contains_raw(&"soon"), "the soonest expiry goes first");
        k.set("newer").unwrap();
        assert!(!k.contains_raw(&"late"));
        assert_eq!(k.set("newest"), Err(Oom), "only persistent keys are left");
        assert!(k.contains_raw(&"persistent"));
    }

    #[test]
    fn lazy_expiry_and_ttl_replies() {
        let mut k = ks(MaxmemoryPolicy::NoEviction, 0);
        k.set_px("s", 1_500).unwrap();
        k.set("p").unwrap();
        assert_eq!(k.ttl(&"s"), 2, "1500 ms rounds to 2 s");
        assert_eq!(k.pttl(&"s"), 1_500);
        assert_eq!(k.ttl(&"p"), -1);
        assert_eq!(k.ttl(&"nope"), -2);
        k.clock.advance_ms(1_500);
        assert_eq!(k.pttl(&"s"), 0, "at the expire time the key still exists");
        assert_eq!(k.stats.expired_keys, 0);
        k.clock.advance_ms(1);
        assert_eq!(
            k.len(),
            2,
            "past it, the key is still in memory until touched"
        );
        assert!(!k.get(&"s"));
        assert_eq!(k.stats.expired_keys, 1);
        assert_eq!(k.len(), 1);
        assert_eq!((k.stats.keyspace_hits, k.stats.keyspace_misses), (0, 1));
    }

    #[test]
    fn object_freq_and_idletime_refuse_the_other_family() {
        let mut k = ks(MaxmemoryPolicy::AllkeysLru, 0);
        k.set("a").unwrap();
        k.clock.advance_secs(7);
        assert_eq!(k.object_idletime(&"a"), Ok(Some(7)));
        assert_eq!(k.object_freq(&"a"), Err(ObjectError::NotLfu));
        assert_eq!(k.object_freq(&"zz"), Ok(None));
        k.config.policy = MaxmemoryPolicy::AllkeysLfu;
        assert_eq!(k.object_idletime(&"a"), Err(ObjectError::IsLfu));
        k.config.lfu_log_factor = 0;
        k.set("b").unwrap();
        for _ in 0..50 {
            k.get(&"b");
        }
        assert_eq!(k.object_freq(&"b"), Ok(Some(55)));
        k.clock.advance_secs(180);
        assert_eq!(k.object_freq(&"b"), Ok(Some(52)), "three minutes of decay");
    }

    #[test]
    fn restore_idletime_orders_victims() {
        let mut k = ks(MaxmemoryPolicy::AllkeysLru, 3);
        k.config.samples = 10;
        for key in ["x", "y", "z"] {
            k.set(key).unwrap();
        }
        k.set_idle_secs(&"y", 100);
        k.set_idle_secs(&"x", 50);
        assert_eq!(k.object_idletime(&"y"), Ok(Some(100)));
        k.set("w").unwrap();
        assert!(!k.contains_raw(&"y"));
        k.set("v").unwrap();
        assert!(!k.contains_raw(&"x"));
    }
}
