//! A small seeded generator, so every model run (sampling, LFU coin flips, TTL jitter) can be
//! replayed exactly from its seed.
//!
//! SplitMix64: one 64-bit add and three xor-shift-multiply rounds per number. Good enough for
//! sampling and Monte-Carlo counters; not for cryptography (the lock tokens use it only because a
//! demo needs *distinct* tokens, not secret ones — see `redis-08`).

/// glibc's `RAND_MAX`: Redis's `LFULogIncr` draws `rand()/RAND_MAX`.
pub const RAND_MAX: u32 = (1 << 31) - 1;

/// SplitMix64.
#[derive(Debug, Clone)]
pub struct Rng {
    state: u64,
}

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`), by the multiply-high method (bias below 2^-32 for the sizes
    /// used here).
    pub fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Like C's `rand()` on glibc: uniform in `0..=RAND_MAX`.
    pub fn c_rand(&mut self) -> u32 {
        (self.next_u64() >> 33) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence_and_ranges_hold() {
        let mut a = Rng::new(9);
        let mut b = Rng::new(9);
        for _ in 0..1000 {
            assert_eq!(a.next_u64(), b.next_u64());
            assert!(a.below(7) < 7);
            b.below(7);
            let u = a.unit();
            b.unit();
            assert!((0.0..1.0).contains(&u));
            assert!(a.c_rand() <= RAND_MAX);
            b.c_rand();
        }
        assert_ne!(Rng::new(1).next_u64(), Rng::new(2).next_u64());
    }

    #[test]
    fn below_is_roughly_uniform() {
        let mut r = Rng::new(3);
        let mut counts = [0u32; 10];
        for _ in 0..100_000 {
            counts[r.below(10) as usize] += 1;
        }
        for c in counts {
            assert!((9_500..10_500).contains(&c), "{counts:?}");
        }
    }
}
