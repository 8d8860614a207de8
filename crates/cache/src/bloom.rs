//! A Bloom filter sized from the number of items and the false-positive rate you can accept — the
//! usual guard against cache penetration (redis-07): ask the filter before the cache and the
//! database, and an id that was never inserted is refused without touching either.
//!
//! ```text
//!   m bits, k hash functions          insert(x): set bits h1(x) … hk(x)
//!   0 0 1 0 1 1 0 0 1 0 1 0           contains(x): all k bits set? "maybe" : "definitely not"
//!       ↑   ↑ ↑     ↑                 no false negatives; false positives with probability
//!                                     p ≈ (1 − e^(−k·n/m))^k
//! ```
//!
//! Sizing ([`BloomParams::for_capacity`]): for `n` items and target rate `p`, the optimum is
//! `m = −n·ln p / (ln 2)²` bits and `k = (m/n)·ln 2` hashes — 9.59 bits and 7 hashes per item at
//! 1%, 14.38 bits and 10 hashes at 0.1%. The `k` hashes come from two 64-bit hashes by double
//! hashing (`h1 + i·h2`, Kirsch–Mitzenmacher), which keeps the same asymptotic rate.
//!
//! The bit positions are public ([`Bloom::positions`]) and [`Bloom::to_redis_bitmap`] lays the
//! bits out as Redis's `SETBIT`/`GETBIT` number them (bit 0 is the most significant bit of byte
//! 0), so the same filter can live in a Redis string and be queried with `GETBIT`.
//!
//! ## How the real system differs
//! Redis 7.0 has no Bloom filter; `BF.RESERVE`/`BF.ADD`/`BF.EXISTS` come with the RedisBloom
//! module (built in from Redis 8), which also grows the filter by stacking sub-filters when it
//! fills (`EXPANSION`). This one has a fixed size: past its capacity the false-positive rate rises.

use std::hash::Hash;

use crate::hash::hash_one;

/// The size of a filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BloomParams {
    /// Bits.
    pub m: u64,
    /// Hash functions.
    pub k: u32,
}

impl BloomParams {
    /// `m = ⌈−n ln p / (ln 2)²⌉`, `k = round((m/n) ln 2)` (at least 1).
    pub fn for_capacity(n: u64, p: f64) -> BloomParams {
        let n = n.max(1) as f64;
        let p = p.clamp(1e-12, 0.5);
        let ln2 = std::f64::consts::LN_2;
        let m = (-n * p.ln() / (ln2 * ln2)).ceil().max(8.0);
        let k = ((m / n) * ln2).round().max(1.0);
        BloomParams {
            m: m as u64,
            k: k as u32,
        }
    }

    /// The predicted false-positive rate after `n` insertions: `(1 − e^(−kn/m))^k`.
    pub fn predicted_fp_rate(&self, n: u64) -> f64 {
        let k = f64::from(self.k);
        (1.0 - (-k * n as f64 / self.m as f64).exp()).powf(k)
    }
}

/// See the module documentation.
#[derive(Debug, Clone)]
pub struct Bloom {
    params: BloomParams,
    bits: Vec<u64>,
    seed: u64,
    inserted: u64,
}

impl Bloom {
    pub fn new(params: BloomParams, seed: u64) -> Bloom {
        Bloom {
            params,
            bits: vec![0; params.m.div_ceil(64) as usize],
            seed,
            inserted: 0,
        }
    }

    /// A filter for `n` items at false-positive rate `p`.
    pub fn with_rate(n: u64, p: f64, seed: u64) -> Bloom {
        Bloom::new(BloomParams::for_capacity(n, p), seed)
    }

    pub fn params(&self) -> BloomParams {
        self.params
    }

    pub fn inserted(&self) -> u64 {
        self.inserted
    }

    /// The `k` bit positions of `x`.
    pub fn positions<T: Hash + ?Sized>(&self, x: &T) -> Vec<u64> {
        let h1 = hash_one(self.seed, x);
        let h2 = hash_one(self.seed ^ 0x5851_F42D_4C95_7F2D, x) | 1;
        (0..u64::from(self.params.k))
            .map(|i| h1.wrapping_add(i.wrapping_mul(h2)) % self.params.m)
            .collect()
    }

    pub fn insert<T: Hash + ?Sized>(&mut self, x: &T) {
        for b in self.positions(x) {
            self.bits[(b / 64) as usize] |= 1 << (b % 64);
        }
        self.inserted += 1;
    }

    /// "Maybe present" (true) or "definitely absent" (false).
    pub fn contains<T: Hash + ?Sized>(&self, x: &T) -> bool {
        self.positions(x)
            .into_iter()
            .all(|b| self.bits[(b / 64) as usize] & (1 << (b % 64)) != 0)
    }

    /// Whether bit `b` is set.
    pub fn bit(&self, b: u64) -> bool {
        self.bits[(b / 64) as usize] & (1 << (b % 64)) != 0
    }

    /// The bits as a Redis string: bit `b` is `GETBIT key b` (MSB-first within each byte).
    pub fn to_redis_bitmap(&self) -> Vec<u8> {
        let mut out = vec![0u8; self.params.m.div_ceil(8) as usize];
        for b in 0..self.params.m {
            if self.bit(b) {
                out[(b / 8) as usize] |= 0x80 >> (b % 8);
            }
        }
        out
    }
}

/// Measured false-positive rate: the share of `probes` (never inserted) the filter says "maybe" to.
pub fn measured_fp_rate<T: Hash>(filter: &Bloom, probes: impl IntoIterator<Item = T>) -> f64 {
    let (mut yes, mut n) = (0u64, 0u64);
    for p in probes {
        n += 1;
        if filter.contains(&p) {
            yes += 1;
        }
    }
    if n == 0 { 0.0 } else { yes as f64 / n as f64 }
}

/// Is a measured rate within `tolerance` (relative, e.g. 0.25 = ±25%) of the target?
pub fn rate_within(measured: f64, target: f64, tolerance: f64) -> bool {
    (measured - target).abs() <= target * tolerance
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizing_matches_the_formulas() {
        let p = BloomParams::for_capacity(1_000_000, 0.01);
        assert_eq!(p.k, 7);
        assert!((p.m as f64 / 1e6 - 9.585).abs() < 0.01, "{p:?}");
        let p = BloomParams::for_capacity(1_000_000, 0.001);
        assert_eq!(p.k, 10);
        assert!((p.m as f64 / 1e6 - 14.378).abs() < 0.01);
    }

    #[test]
    fn no_false_negatives_and_the_rate_is_near_target() {
        let n = 20_000u64;
        for target in [0.01, 0.001] {
            let mut f = Bloom::with_rate(n, target, 42);
            for i in 0..n {
                f.insert(&i);
            }
            assert!((0..n).all(|i| f.contains(&i)), "false negative");
            let probes = 200_000;
            let rate = measured_fp_rate(&f, n..n + probes);
            // ±25% at 1% (2000 expected hits, sd ≈ 45) and ±35% at 0.1% (200 hits, sd ≈ 14).
            let tol = if target >= 0.01 { 0.25 } else { 0.35 };
            assert!(
                rate_within(rate, target, tol),
                "target {target}: measured {rate}"
            );
        }
    }

    #[test]
    fn an_undersized_filter_misses_its_target() {
        // Counterexample: filled to 4× its capacity, the rate is far above the target.
        let mut f = Bloom::with_rate(1_000, 0.01, 1);
        for i in 0..4_000u64 {
            f.insert(&i);
        }
        let rate = measured_fp_rate(&f, 10_000..60_000u64);
        assert!(!rate_within(rate, 0.01, 0.25), "{rate}");
        assert!(rate > 0.2);
    }

    #[test]
    fn redis_bitmap_is_msb_first() {
        let mut f = Bloom::new(BloomParams { m: 16, k: 1 }, 3);
        f.insert(&"x");
        let b = f.positions(&"x")[0];
        let bytes = f.to_redis_bitmap();
        assert_eq!(bytes.len(), 2);
        assert_eq!(bytes[(b / 8) as usize], 0x80 >> (b % 8));
    }
}
