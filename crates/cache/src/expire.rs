//! Active expiry: `activeExpireCycle` of Redis 7.0's `expire.c`, run against the model keyspace
//! under the injected clock, so a test can say exactly what one cycle does.
//!
//! Lazy expiry ([`crate::keyspace::Keyspace::get`]) alone would keep a key nobody reads forever.
//! The active cycle walks the `expires` table a few buckets at a time and deletes what has expired:
//!
//! ```text
//!   serverCron (hz times a second) ──► SLOW cycle: budget = 25% of a tick = 25 ms at hz 10
//!   beforeSleep (every event loop) ──► FAST cycle: budget 1 ms, only if the last slow cycle ran
//!                                      out of time, and not again within 2 ms
//!   per database:
//!     do {
//!       num = min(keys with a TTL, 20)          ← keys per loop
//!       walk buckets from expires_cursor until num keys sampled (or 20·num buckets seen),
//!         deleting every sampled key whose time is past          (expired_keys += 1)
//!       every 16 loops: stop if the budget is spent             (time_cap_reached += 1)
//!     } while nothing was sampled || expired·100/sampled > 10   ← "more than 10% stale: again"
//! ```
//!
//! `active-expire-effort` e (1..=10) scales the four numbers ([`CycleParams::for_effort`]): with
//! `d = e − 1`, keys per loop `20 + 5d`, fast budget `1000 + 250d` µs, slow CPU share `25 + 2d` %,
//! acceptable stale `10 − d` %.
//!
//! A worked example (effort 1, hz 10, 100 keys with a TTL of which 50 have expired, evenly
//! spread): loop 1 samples ~20, finds ~10 expired (50% > 10%) and repeats; after a few loops only
//! live keys remain in the buckets it reaches and the stale share drops under 10%, so it stops.
//!
//! Time: the cycle reads the clock as Redis reads `ustime()`. The model charges a fixed cost per
//! bucket visited, key checked and key deleted ([`CycleCost`]) and advances the clock by it, so the
//! time limit is hit after a deterministic amount of work. The real costs depend on the machine;
//! the defaults are round guesses (≈0.1 µs to check a key, ≈1 µs to delete one) and the demos say
//! which they use.
//!
//! ## How the real system differs
//! One database instead of 16 (Redis visits up to 16 per call, all of them after a timeout). No
//! propagation of DELs to replicas or the AOF. The fast cycle's condition keeps Redis 7.0's quirk:
//! `stat_expired_stale_perc` is a ratio in 0..1 but is compared with the percentage 10, so only
//! "the last cycle hit its time limit" ever starts a fast cycle.

use std::hash::Hash;

use crate::keyspace::Keyspace;

/// `ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP`.
pub const KEYS_PER_LOOP: u64 = 20;
/// `ACTIVE_EXPIRE_CYCLE_FAST_DURATION` (µs).
pub const FAST_DURATION_US: u64 = 1000;
/// `ACTIVE_EXPIRE_CYCLE_SLOW_TIME_PERC`.
pub const SLOW_TIME_PERC: u64 = 25;
/// `ACTIVE_EXPIRE_CYCLE_ACCEPTABLE_STALE` (%).
pub const ACCEPTABLE_STALE: u64 = 10;

/// The cycle's knobs after `active-expire-effort` scaling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CycleParams {
    pub keys_per_loop: u64,
    pub fast_duration_us: u64,
    pub slow_time_perc: u64,
    pub acceptable_stale: u64,
}

impl CycleParams {
    /// The scaling at the top of `activeExpireCycle` (effort clamped to 1..=10).
    pub fn for_effort(effort: u32) -> CycleParams {
        let d = u64::from(effort.clamp(1, 10) - 1);
        CycleParams {
            keys_per_loop: KEYS_PER_LOOP + KEYS_PER_LOOP / 4 * d,
            fast_duration_us: FAST_DURATION_US + FAST_DURATION_US / 4 * d,
            slow_time_perc: SLOW_TIME_PERC + 2 * d,
            acceptable_stale: ACCEPTABLE_STALE - d,
        }
    }

    /// The slow cycle's budget in µs at `hz`: `perc · 1 000 000 / hz / 100` (at least 1).
    pub fn slow_time_limit_us(&self, hz: u32) -> u64 {
        (self.slow_time_perc * 1_000_000 / u64::from(hz.max(1)) / 100).max(1)
    }
}

/// Which cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CycleKind {
    Slow,
    Fast,
}

/// What the model charges the clock for the cycle's work (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CycleCost {
    pub per_bucket_ns: u64,
    pub per_key_ns: u64,
    pub per_delete_ns: u64,
}

impl Default for CycleCost {
    fn default() -> Self {
        CycleCost {
            per_bucket_ns: 10,
            per_key_ns: 100,
            per_delete_ns: 1_000,
        }
    }
}

/// The cycle's state across calls (the `static`s of `activeExpireCycle` and `db->expires_cursor`).
#[derive(Debug, Clone, Default)]
pub struct ExpireState {
    pub cursor: u64,
    pub timelimit_exit: bool,
    pub last_fast_cycle_us: u64,
    pub cost: CycleCost,
    /// Nanoseconds charged but not yet a whole microsecond on the clock.
    carry_ns: u64,
}

/// One `do { … } while` round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Loop {
    pub sampled: u64,
    pub expired: u64,
    pub buckets: u64,
}

/// What one call did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CycleReport {
    pub kind: CycleKind,
    /// False when a fast cycle declined to run.
    pub ran: bool,
    pub loops: Vec<Loop>,
    pub time_limit_us: u64,
    pub elapsed_us: u64,
    pub hit_time_limit: bool,
}

impl CycleReport {
    pub fn sampled(&self) -> u64 {
        self.loops.iter().map(|l| l.sampled).sum()
    }
    pub fn expired(&self) -> u64 {
        self.loops.iter().map(|l| l.expired).sum()
    }
}

/// The repeat rule: run another loop on the same database when nothing was sampled or the stale
/// share is above the acceptable percentage (integer arithmetic, as in Redis).
pub fn should_repeat(sampled: u64, expired: u64, acceptable_stale: u64) -> bool {
    sampled == 0 || expired * 100 / sampled > acceptable_stale
}

impl<K: Hash + Eq + Clone> Keyspace<K> {
    fn charge(&mut self, ns: u64) {
        let st = &mut self.expire_state;
        st.carry_ns += ns;
        let us = st.carry_ns / 1000;
        st.carry_ns %= 1000;
        if us > 0 {
            self.clock.advance_us(us);
        }
    }

    /// Sets the cost model of the active cycle.
    pub fn set_cycle_cost(&mut self, cost: CycleCost) {
        self.expire_state.cost = cost;
    }

    pub fn expire_state(&self) -> &ExpireState {
        &self.expire_state
    }

    /// `activeExpireCycle(type)` on this database.
    pub fn active_expire_cycle(&mut self, kind: CycleKind) -> CycleReport {
        let p = CycleParams::for_effort(self.config.active_expire_effort);
        let start = self.clock.now_us();
        let mut report = CycleReport {
            kind,
            ran: false,
            loops: Vec::new(),
            time_limit_us: 0,
            elapsed_us: 0,
            hit_time_limit: false,
        };
        if kind == CycleKind::Fast {
            // Redis 7.0 compares a 0..1 ratio with a percentage here (see the module docs).
            if !self.expire_state.timelimit_exit
                && self.stats.expired_stale_ratio < p.acceptable_stale as f64
            {
                return report;
            }
            if start < self.expire_state.last_fast_cycle_us + p.fast_duration_us * 2 {
                return report;
            }
            self.expire_state.last_fast_cycle_us = start;
        }
        report.ran = true;
        let time_limit = match kind {
            CycleKind::Slow => p.slow_time_limit_us(self.config.hz),
            CycleKind::Fast => p.fast_duration_us,
        };
        report.time_limit_us = time_limit;
        self.expire_state.timelimit_exit = false;
        let cost = self.expire_state.cost;
        let (mut total_sampled, mut total_expired) = (0u64, 0u64);
        let mut iteration: u64 = 0;
        loop {
            iteration += 1;
            let num = self.expires.len() as u64;
            if num == 0 {
                break;
            }
            let slots = self.expires.slots() as u64;
            let now = self.clock.now_ms();
            if slots > crate::dict::INITIAL_SIZE as u64 && num * 100 / slots < 1 {
                break; // under 1% full: sampling is too expensive, wait for a resize
            }
            let num = num.min(p.keys_per_loop);
            let max_buckets = num * 20;
            let (mut sampled, mut expired, mut buckets) = (0u64, 0u64, 0u64);
            while sampled < num && buckets < max_buckets {
                let keys = self.expires.bucket_keys(self.expire_state.cursor);
                buckets += 1;
                self.charge(cost.per_bucket_ns);
                for k in keys {
                    let when = self.expires.get(&k).copied().unwrap_or(u64::MAX);
                    self.charge(cost.per_key_ns);
                    if now > when {
                        self.delete_expired(&k);
                        self.charge(cost.per_delete_ns);
                        expired += 1;
                    }
                    sampled += 1;
                }
                self.expire_state.cursor = self.expire_state.cursor.wrapping_add(1);
            }
            total_sampled += sampled;
            total_expired += expired;
            report.loops.push(Loop {
                sampled,
                expired,
                buckets,
            });
            if iteration & 0xf == 0 && self.clock.now_us() - start > time_limit {
                self.expire_state.timelimit_exit = true;
                self.stats.expired_time_cap_reached_count += 1;
                report.hit_time_limit = true;
                break;
            }
            if !should_repeat(sampled, expired, p.acceptable_stale) {
                break;
            }
        }
        report.elapsed_us = self.clock.now_us() - start;
        let current = if total_sampled > 0 {
            total_expired as f64 / total_sampled as f64
        } else {
            0.0
        };
        self.stats.expired_stale_ratio = current * 0.05 + self.stats.expired_stale_ratio * 0.95;
        report
    }

    /// One `serverCron` tick: advance the clock by `1000/hz` ms, run the slow cycle (if active
    /// expiry is enabled), then shrink sparse tables (`databasesCron`).
    pub fn cron_tick(&mut self) -> Option<CycleReport> {
        self.clock
            .advance_ms(1000 / u64::from(self.config.hz.max(1)));
        let r = self
            .config
            .active_expire_enabled
            .then(|| self.active_expire_cycle(CycleKind::Slow));
        self.shrink_tables();
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;
    use crate::keyspace::Config;

    #[test]
    fn effort_scaling_matches_expire_c() {
        assert_eq!(
            CycleParams::for_effort(1),
            CycleParams {
                keys_per_loop: 20,
                fast_duration_us: 1000,
                slow_time_perc: 25,
                acceptable_stale: 10
            }
        );
        assert_eq!(
            CycleParams::for_effort(10),
            CycleParams {
                keys_per_loop: 65,
                fast_duration_us: 3250,
                slow_time_perc: 43,
                acceptable_stale: 1
            }
        );
        assert_eq!(CycleParams::for_effort(1).slow_time_limit_us(10), 25_000);
        assert_eq!(CycleParams::for_effort(1).slow_time_limit_us(100), 2_500);
    }

    #[test]
    fn repeat_rule_is_integer_percent_strictly_above() {
        assert!(should_repeat(0, 0, 10));
        assert!(should_repeat(20, 3, 10)); // 15%
        assert!(!should_repeat(20, 2, 10)); // exactly 10%: stop
        assert!(!should_repeat(19, 2, 10)); // 10.5% truncates to 10: stop
        // Counterexample: the pre-6.0 rule ("repeat while more than 25% expired") would stop at 15%.
        let old_rule = |s: u64, e: u64| e * 4 > s;
        assert!(!old_rule(20, 3));
    }

    fn keyspace(n_expired: u64, n_live: u64) -> Keyspace<u64> {
        let clock = Clock::at(1_000_000);
        let mut k = Keyspace::new(Config::default(), clock.clone(), 7);
        for i in 0..n_expired {
            k.set_px(i, 10).unwrap();
        }
        for i in 0..n_live {
            k.set_px(1_000_000 + i, 1_000_000).unwrap();
        }
        clock.advance_ms(11);
        k
    }

    #[test]
    fn a_slow_cycle_repeats_while_stale_and_stops_when_clean() {
        let mut k = keyspace(1000, 0);
        let r = k.active_expire_cycle(CycleKind::Slow);
        // Everything sampled is expired, so the loop repeats until the table is empty (or the
        // 1% rule stops it); far more than one loop of 20.
        assert!(r.loops.len() > 10, "{} loops", r.loops.len());
        assert!(
            r.loops
                .iter()
                .all(|l| l.sampled == 0 || l.expired == l.sampled)
        );
        assert_eq!(k.stats.expired_keys, r.expired());
        // Counterexample: live keys only — one loop, nothing deleted.
        let mut live = keyspace(0, 1000);
        let r = live.active_expire_cycle(CycleKind::Slow);
        assert_eq!(r.loops.len(), 1);
        assert_eq!(r.expired(), 0);
        assert!(r.sampled() >= 20);
    }

    #[test]
    fn the_time_limit_cuts_a_cycle_and_enables_a_fast_one() {
        let mut k = keyspace(200_000, 0);
        let r = k.active_expire_cycle(CycleKind::Slow);
        assert!(r.hit_time_limit);
        assert_eq!(r.loops.len() % 16, 0, "the clock is checked every 16 loops");
        assert!(r.elapsed_us > 25_000);
        assert!(k.len() > 100_000, "most keys are still there");
        let f = k.active_expire_cycle(CycleKind::Fast);
        assert!(f.ran && f.time_limit_us == 1000);
        // A second fast cycle right away is refused (2 × fast duration spacing).
        let again = k.active_expire_cycle(CycleKind::Fast);
        assert!(!again.ran);
    }

    #[test]
    fn fast_cycle_declines_when_the_slow_one_finished_in_time() {
        let mut k = keyspace(10, 1000);
        let s = k.active_expire_cycle(CycleKind::Slow);
        assert!(!s.hit_time_limit);
        let f = k.active_expire_cycle(CycleKind::Fast);
        assert!(!f.ran);
    }

    #[test]
    fn cron_ticks_clear_untouched_keys() {
        let mut k = keyspace(5_000, 500);
        let mut ticks = 0;
        while k.volatile_len() > 500 && ticks < 100 {
            k.cron_tick();
            ticks += 1;
        }
        assert_eq!(k.volatile_len(), 500, "after {ticks} ticks");
        assert_eq!(k.stats.expired_keys, 5_000);
        // Counterexample: with active expiry disabled nothing is removed without access.
        let mut off = keyspace(5_000, 500);
        off.config.active_expire_enabled = false;
        for _ in 0..100 {
            off.cron_tick();
        }
        assert_eq!(off.len(), 5_500);
    }
}
