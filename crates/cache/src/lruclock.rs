//! The 24-bit LRU clock every Redis object carries (`robj.lru`, `LRU_BITS` = 24).
//!
//! Redis does not keep a recency list; each object stores the time of its last access in 24 bits,
//! at one-second resolution (`LRU_CLOCK_RESOLUTION` = 1000 ms). The clock therefore wraps every
//! 2^24 s ≈ 194 days, and [`estimate_idle_ms`] (`estimateObjectIdleTime`) assumes at most one wrap:
//!
//! ```text
//!   0 ─────────── obj.lru ────────── now ───── 2^24−1     idle = (now − lru) s
//!   0 ── now ───────────────── obj.lru ─────── 2^24−1     idle = (now + (2^24−1 − lru)) s
//! ```
//!
//! Two consequences worth knowing in an interview: keys touched in the same second are equally
//! old to the eviction code, and a key idle for longer than 194 days looks recently used again.
//! (Redis's own `utils/lru/test-lru.rb` tells you to recompile with a 1 ms resolution first.)
//!
//! ## How the real system differs
//! Redis caches the clock in `server.lruclock`, refreshed by `serverCron` at `hz`; `LRU_CLOCK()`
//! uses the cached value when `1000/hz` ≤ the resolution (always, for hz ≥ 1). The model reads the
//! injected clock directly, which equals a cron that just ran. In the unwrapped case the two
//! formulas are as in 7.0; the wrapped branch computes `now + (MAX − lru)`, one second short of
//! the true distance — the model keeps that quirk.

/// `LRU_BITS`.
pub const LRU_BITS: u32 = 24;
/// `LRU_CLOCK_MAX`: the largest value of the 24-bit field.
pub const LRU_CLOCK_MAX: u32 = (1 << LRU_BITS) - 1;
/// `LRU_CLOCK_RESOLUTION` in milliseconds.
pub const LRU_CLOCK_RESOLUTION_MS: u64 = 1000;

/// `getLRUClock()`: the Unix time in seconds, masked to 24 bits.
pub fn lru_clock(unix_ms: u64) -> u32 {
    ((unix_ms / LRU_CLOCK_RESOLUTION_MS) & u64::from(LRU_CLOCK_MAX)) as u32
}

/// `estimateObjectIdleTime`: milliseconds since `obj_lru`, assuming at most one wrap.
pub fn estimate_idle_ms(now_clock: u32, obj_lru: u32) -> u64 {
    let (now, lru) = (u64::from(now_clock), u64::from(obj_lru));
    if now >= lru {
        (now - lru) * LRU_CLOCK_RESOLUTION_MS
    } else {
        (now + (u64::from(LRU_CLOCK_MAX) - lru)) * LRU_CLOCK_RESOLUTION_MS
    }
}

/// The `lru` field `objectSetLRUOrLFU` writes for `RESTORE … IDLETIME secs`: `now − secs`, moved
/// back into range if it underflows.
pub fn lru_for_idle(now_clock: u32, idle_secs: u64) -> u32 {
    let abs = i64::from(now_clock) - idle_secs as i64;
    if abs < 0 {
        (abs + i64::from(LRU_CLOCK_MAX)) as u32
    } else {
        abs as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolution_is_one_second() {
        // Two accesses in the same second have the same clock value.
        assert_eq!(lru_clock(5_000), lru_clock(5_999));
        assert_ne!(lru_clock(5_999), lru_clock(6_000));
        assert_eq!(estimate_idle_ms(lru_clock(9_400), lru_clock(5_000)), 4_000);
    }

    #[test]
    fn idle_survives_one_wrap() {
        // Touched 10 s before the wrap, now 5 s after it: 16 s passed; Redis's formula says 15.
        let lru = LRU_CLOCK_MAX - 10;
        assert_eq!(estimate_idle_ms(5, lru), 15_000);
        // Counterexample: the naive difference would be a huge idle time (wrapping subtraction).
        let naive = u64::from(5u32.wrapping_sub(lru)) * 1000;
        assert_ne!(naive, 15_000);
        // The clock itself wraps after 2^24 s.
        let wrap_ms = (u64::from(LRU_CLOCK_MAX) + 1) * 1000;
        assert_eq!(lru_clock(wrap_ms), 0);
        assert_eq!(lru_clock(wrap_ms - 1000), LRU_CLOCK_MAX);
    }

    #[test]
    fn idletime_restore_round_trips() {
        for (now, idle) in [(1_000u32, 10u64), (5, 20), (LRU_CLOCK_MAX, 0)] {
            let lru = lru_for_idle(now, idle);
            let back = estimate_idle_ms(now, lru) / 1000;
            // Past a wrap Redis's arithmetic is off by one second (MAX instead of 2^24).
            assert!(
                back == idle || back + 1 == idle,
                "now {now} idle {idle}: {back}"
            );
        }
    }
}
