//! LFU in the same 24 bits (`evict.c`, Redis 4.0+): 16 bits of "last decrement time" in minutes and
//! an 8-bit logarithmic counter.
//!
//! ```text
//!          16 bits             8 bits
//!   +----------------------+----------+
//!   | ldt (unix min & 0xFFFF) | counter |      new keys: counter = LFU_INIT_VAL (5)
//!   +----------------------+----------+
//! ```
//!
//! - **Increment** ([`log_incr`], `LFULogIncr`): at 255 stay; otherwise increment with probability
//!   `1 / ((counter − 5)·lfu-log-factor + 1)` (0 below 5). Counters ≤ 5 always increment; with
//!   factor 10 a counter near 100 needs ~950 hits for +1. Expected hits to go from 5 to `c` are
//!   `Σ_{b=0}^{c−6} (b·f + 1)` — about 93 000 for 142 at factor 10, 311 500 for 255.
//! - **Decay** ([`decr_and_return`], `LFUDecrAndReturn`): one point per `lfu-decay-time` minutes
//!   since `ldt` (linear, not halving, whatever the old comment in `evict.c` says), floored at 0;
//!   `lfu-decay-time 0` never decays. Sampling computes the decayed value without storing it.
//! - **On access** ([`on_access`], `updateLFU`): decay, then increment, then store
//!   `(now_minutes << 8) | counter`.
//! - The 16-bit minute clock wraps every 65 536 minutes (~45.5 days); [`time_elapsed`] assumes one
//!   wrap, and uses `65535 − ldt + now` (one minute short, as Redis does).
//!
//! ## How the real system differs
//! Redis calls glibc's `rand()`; the model draws from [`crate::rng::Rng`] in the same 0..=RAND_MAX
//! range, so counters follow the same distribution but not the same sequence. `lfu-log-factor 0`
//! is deterministic in both (every access increments), which is what the real-Redis comparison uses.

use crate::rng::{RAND_MAX, Rng};

/// `LFU_INIT_VAL`.
pub const LFU_INIT_VAL: u8 = 5;
/// Default `lfu-log-factor`.
pub const DEFAULT_LOG_FACTOR: u32 = 10;
/// Default `lfu-decay-time` (minutes).
pub const DEFAULT_DECAY_TIME: u32 = 1;

/// `LFUGetTimeInMinutes()`: Unix minutes, 16 bits.
pub fn minutes(unix_secs: u64) -> u16 {
    ((unix_secs / 60) & 0xFFFF) as u16
}

/// `LFUTimeElapsed`: minutes since `ldt`, assuming at most one wrap.
pub fn time_elapsed(now_min: u16, ldt: u16) -> u64 {
    if now_min >= ldt {
        u64::from(now_min - ldt)
    } else {
        65535 - u64::from(ldt) + u64::from(now_min)
    }
}

/// The 24-bit field for `counter` accessed at `now_min`.
pub fn pack(now_min: u16, counter: u8) -> u32 {
    (u32::from(now_min) << 8) | u32::from(counter)
}

pub fn ldt(field: u32) -> u16 {
    ((field >> 8) & 0xFFFF) as u16
}

pub fn counter(field: u32) -> u8 {
    (field & 0xFF) as u8
}

/// The probability that one access increments `counter` under `factor`.
pub fn incr_probability(counter: u8, factor: u32) -> f64 {
    if counter == 255 {
        return 0.0;
    }
    let base = f64::from(counter.saturating_sub(LFU_INIT_VAL));
    1.0 / (base * f64::from(factor) + 1.0)
}

/// `LFULogIncr`.
pub fn log_incr(counter: u8, factor: u32, rng: &mut Rng) -> u8 {
    if counter == 255 {
        return 255;
    }
    let r = f64::from(rng.c_rand()) / f64::from(RAND_MAX);
    if r < incr_probability(counter, factor) {
        counter + 1
    } else {
        counter
    }
}

/// `LFUDecrAndReturn`: the counter after decay, without storing it.
pub fn decr_and_return(field: u32, now_min: u16, decay_time: u32) -> u8 {
    let c = counter(field);
    if decay_time == 0 {
        return c;
    }
    let periods = time_elapsed(now_min, ldt(field)) / u64::from(decay_time);
    if periods >= u64::from(c) {
        0
    } else {
        c - periods as u8
    }
}

/// `updateLFU`: the new field after one access at `now_min`.
pub fn on_access(field: u32, now_min: u16, factor: u32, decay_time: u32, rng: &mut Rng) -> u32 {
    let c = decr_and_return(field, now_min, decay_time);
    pack(now_min, log_incr(c, factor, rng))
}

/// The counter after `hits` accesses of a new key (no time passing), as `redis-benchmark incr`
/// produces for the table in `redis.conf`.
pub fn counter_after(hits: u64, factor: u32, rng: &mut Rng) -> u8 {
    let mut c = LFU_INIT_VAL;
    // The first access creates the key at LFU_INIT_VAL; the remaining hits-1 increment.
    for _ in 1..hits {
        if c == 255 {
            break;
        }
        c = log_incr(c, factor, rng);
    }
    c
}

/// Expected number of accesses (after creation) to bring a counter from 5 to `c`.
pub fn expected_hits_to_reach(c: u8, factor: u32) -> f64 {
    (0..u64::from(c.saturating_sub(LFU_INIT_VAL)))
        .map(|b| (b * u64::from(factor) + 1) as f64)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn factor_zero_is_deterministic() {
        let mut r = Rng::new(1);
        assert_eq!(counter_after(1, 0, &mut r), 5);
        assert_eq!(counter_after(100, 0, &mut r), 104);
        assert_eq!(counter_after(1000, 0, &mut r), 255);
    }

    #[test]
    fn low_counters_always_increment_high_ones_rarely() {
        assert_eq!(incr_probability(0, 10), 1.0);
        assert_eq!(incr_probability(5, 10), 1.0);
        assert_eq!(incr_probability(6, 10), 1.0 / 11.0);
        assert_eq!(incr_probability(255, 0), 0.0);
        // Counterexample to the redis.conf wording (1/(old·factor+1)): for 6 that would be 1/61.
        assert_ne!(incr_probability(6, 10), 1.0 / 61.0);
    }

    #[test]
    fn decay_is_one_per_period_and_floors_at_zero() {
        let f = pack(100, 20);
        assert_eq!(decr_and_return(f, 100, 1), 20);
        assert_eq!(decr_and_return(f, 103, 1), 17);
        assert_eq!(decr_and_return(f, 110, 5), 18);
        assert_eq!(decr_and_return(f, 200, 1), 0);
        assert_eq!(decr_and_return(f, 200, 0), 20, "decay time 0: never");
        // Across the 16-bit wrap: ldt 65530, now 2 → 65535−65530+2 = 7 minutes.
        assert_eq!(decr_and_return(pack(65530, 20), 2, 1), 13);
    }

    #[test]
    fn expected_hits_formula() {
        assert_eq!(expected_hits_to_reach(5, 10), 0.0);
        assert_eq!(expected_hits_to_reach(6, 10), 1.0);
        assert_eq!(expected_hits_to_reach(7, 10), 12.0);
        assert_eq!(expected_hits_to_reach(104, 0), 99.0);
    }

    #[test]
    fn on_access_stamps_the_minute() {
        let mut r = Rng::new(2);
        let f = on_access(pack(7, 5), 9, 10, 1, &mut r);
        assert_eq!(ldt(f), 9);
        assert_eq!(
            counter(f),
            4,
            "two minutes of decay (5 → 3), then +1 (p = 1 below 5)"
        );
    }
}
