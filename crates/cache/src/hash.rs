//! A fast, seeded, non-cryptographic hasher for the in-process tables ([`crate::lru::Lru`] and
//! the model of Redis's `dict`).
//!
//! Redis hashes keys with SipHash-1-2 and a random seed (so clients cannot aim keys at one bucket);
//! this lab's tables serve its own demos and benchmarks, so they use a multiply-and-fold hash in
//! the spirit of foldhash: one 64×64→128-bit multiply per 8 bytes, the two halves xored, so both
//! the low bits (bucket index) and the high bits (hashbrown's control byte) depend on every input
//! bit. Not DoS-resistant: the seed is fixed unless given.

use std::hash::{BuildHasher, Hasher};

const K: u64 = 0x9E37_79B9_7F4A_7C15;
const M: u64 = 0x51_7C_C1_B7_27_22_0A_95;

/// Builds [`FastHasher`]s with one seed.
#[derive(Debug, Clone, Copy)]
pub struct FastState {
    seed: u64,
}

impl FastState {
    pub fn with_seed(seed: u64) -> FastState {
        FastState { seed }
    }
}

impl Default for FastState {
    fn default() -> Self {
        FastState::with_seed(0x2545_F491_4F6C_DD1D)
    }
}

impl BuildHasher for FastState {
    type Hasher = FastHasher;
    fn build_hasher(&self) -> FastHasher {
        FastHasher { h: self.seed }
    }
}

/// See the module documentation.
#[derive(Debug, Clone)]
pub struct FastHasher {
    h: u64,
}

#[inline]
fn fold_mul(a: u64, b: u64) -> u64 {
    let full = u128::from(a) * u128::from(b);
    (full as u64) ^ ((full >> 64) as u64)
}

impl Hasher for FastHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.write_u64(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.write_u64(u64::from_le_bytes(w) ^ ((rest.len() as u64) << 56));
        }
    }

    #[inline]
    fn write_u64(&mut self, x: u64) {
        // One folded 64×64→128 multiply per word: both halves of the product mixed together.
        self.h = fold_mul(self.h ^ x, M);
    }

    #[inline]
    fn write_u32(&mut self, x: u32) {
        self.write_u64(u64::from(x));
    }

    #[inline]
    fn write_usize(&mut self, x: usize) {
        self.write_u64(x as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.h.rotate_left(26) ^ K
    }
}

/// One key's hash under `seed`.
pub fn hash_one<T: std::hash::Hash + ?Sized>(seed: u64, x: &T) -> u64 {
    FastState::with_seed(seed).hash_one(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequential_keys_spread_over_low_and_high_bits() {
        // 4096 consecutive integers into 256 buckets by low bits and by high bits: no bucket
        // should be far from the mean of 16.
        for shift in [0u32, 56] {
            let mut b = [0u32; 256];
            for i in 0..4096u64 {
                b[((hash_one(7, &i) >> shift) & 255) as usize] += 1;
            }
            let max = *b.iter().max().unwrap();
            assert!(max < 40, "shift {shift}: fullest bucket {max}");
        }
        // Counterexample: the identity "hash" puts them in 16 buckets of the 256 by high bits.
        let mut b = [0u32; 256];
        for i in 0..4096u64 {
            b[(i & 255) as usize] += 1;
        }
        assert_eq!(*b.iter().max().unwrap(), 16); // low bits fine ...
        assert!((0..4096u64).all(|i| (i >> 56) == 0)); // ... high bits all zero.
    }

    #[test]
    fn seeds_and_strings_matter() {
        assert_ne!(hash_one(1, "a"), hash_one(2, "a"));
        assert_ne!(hash_one(1, "ab"), hash_one(1, "ba"));
        assert_ne!(hash_one(1, &[0u8; 3][..]), hash_one(1, &[0u8; 4][..]));
    }
}
