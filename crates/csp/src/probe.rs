//! Instruments the demos share: a counter of how many jobs are inside a region at once, and a
//! small piece of CPU work to hold them there.

use std::sync::atomic::{AtomicI64, Ordering};

/// Counts jobs inside a region and remembers the most at once.
#[derive(Debug, Default)]
pub(crate) struct Tracker {
    pub(crate) inside: AtomicI64,
    pub(crate) peak: AtomicI64,
}

impl Tracker {
    pub(crate) fn enter(&self) {
        let n = self.inside.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(n, Ordering::SeqCst);
    }
    pub(crate) fn leave(&self) {
        self.inside.fetch_sub(1, Ordering::SeqCst);
    }
}

/// About 20,000 additions the optimiser cannot remove.
pub(crate) fn work() -> u64 {
    (0..20_000u64).fold(0, |a, i| a.wrapping_add(std::hint::black_box(i)))
}
