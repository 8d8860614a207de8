//! The work every row of `lab bench pool` does, and the check that it was done exactly once.
//!
//! A *tiny* job only marks its slot in a [`Seen`] table: what is measured is the pool's own
//! per-job overhead (queueing, waking, handing over). A *heavy* job also runs [`spin`], a chain of
//! xorshift rounds (about 10 µs for [`HEAVY_ITERS`] rounds in a release build), so the overhead is
//! small next to the work. The Go program (`go/cmd/bench-pool`) runs the same rounds from the same
//! seeds, so both sides must agree on [`checksum`].

use std::sync::atomic::{AtomicU8, Ordering};

/// Xorshift rounds per heavy job: about 10 µs in release on the lab's 2-vCPU machines.
pub const HEAVY_ITERS: u32 = 6_000;

/// The heavy job: `iters` rounds of xorshift64 from a start derived from `seed`. Multiplying
/// `seed + 1` by an odd constant keeps distinct seeds distinct (and non-zero for every seed below
/// `u64::MAX`), so the XOR of many results does not cancel out in pairs.
pub fn spin(seed: u64, iters: u32) -> u64 {
    let mut x = seed.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    for _ in 0..iters {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    x
}

/// The XOR of `spin(i, iters)` over `0..jobs`: the same whatever order the jobs ran in.
pub fn checksum(jobs: usize, iters: u32) -> u64 {
    (0..jobs as u64).fold(0, |acc, i| acc ^ spin(i, iters))
}

/// One counter per job, bumped by the job itself. A pool that lost a job leaves a 0; one that ran
/// a job twice leaves a 2 (saturating at 255, which still reads as "not once").
#[derive(Debug)]
pub struct Seen(Vec<AtomicU8>);

impl Seen {
    pub fn new(jobs: usize) -> Seen {
        Seen((0..jobs).map(|_| AtomicU8::new(0)).collect())
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Job `i` ran.
    pub fn mark(&self, i: usize) {
        // fetch_add wraps at 256; a job run 256 times would read as once, which needs 255 reruns
        // of the same job: far beyond any bug a run could hide.
        self.0[i].fetch_add(1, Ordering::Relaxed);
    }

    /// How many jobs ran other than exactly once (0 means every job ran once).
    pub fn not_once(&self) -> usize {
        self.0
            .iter()
            .filter(|c| c.load(Ordering::Relaxed) != 1)
            .count()
    }
}

/// The verdict for one run: `Ok` when every job ran exactly once and the results' checksum is the
/// expected one (`None` for tiny jobs, which compute nothing).
pub fn verdict(
    who: &str,
    seen: &Seen,
    got: Option<u64>,
    expected: Option<u64>,
) -> Result<(), String> {
    let bad = seen.not_once();
    if bad > 0 {
        return Err(format!(
            "{who}: {bad} of {} jobs did not run exactly once",
            seen.len()
        ));
    }
    if got != expected {
        return Err(format!(
            "{who}: checksum {got:?}, expected {expected:?} (a job's result was lost or doubled)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_job_once_passes() {
        let s = Seen::new(4);
        (0..4).for_each(|i| s.mark(i));
        assert_eq!(s.not_once(), 0);
        assert!(verdict("t", &s, None, None).is_ok());
    }

    /// Counterexamples: a lost job, a job run twice, a wrong checksum all fail the verdict.
    #[test]
    fn a_lost_or_doubled_job_fails() {
        let lost = Seen::new(3);
        lost.mark(0);
        lost.mark(1);
        assert_eq!(lost.not_once(), 1);
        assert!(verdict("t", &lost, None, None).is_err());

        let doubled = Seen::new(2);
        [0, 1, 1].into_iter().for_each(|i| doubled.mark(i));
        assert!(verdict("t", &doubled, None, None).is_err());

        let fine = Seen::new(1);
        fine.mark(0);
        assert!(verdict("t", &fine, Some(1), Some(2)).is_err());
    }

    #[test]
    fn checksum_does_not_cancel_and_ignores_order() {
        let forward = checksum(100, 50);
        let backward = (0..100u64).rev().fold(0, |a, i| a ^ spin(i, 50));
        assert_eq!(forward, backward);
        assert_ne!(forward, 0);
        // A doubled job cancels its own contribution: the checksum catches it.
        assert_ne!(forward ^ spin(7, 50), forward);
    }

    /// The same rounds as `go/cmd/bench-pool`'s `spin`: the checksum below is what the Go program
    /// printed for its heavy scenario (go1.26.8), so the two sides run the same work.
    #[test]
    fn spin_matches_go() {
        assert_eq!(spin(0, 0), 0x9E37_79B9_7F4A_7C15);
        assert_eq!(checksum(10_000, HEAVY_ITERS), GO_HEAVY_CHECKSUM);
    }

    /// What `go run ./cmd/bench-pool` reported for the heavy scenario (10,000 jobs, 6,000 rounds).
    const GO_HEAVY_CHECKSUM: u64 = 18_372_127_771_691_010_933;
}
