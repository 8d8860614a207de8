//! The injected clock every model reads instead of the system time.
//!
//! Redis reads the wall clock (`ustime()`, `mstime()`, the cached `server.unixtime`, the 24-bit
//! `server.lruclock`); the models here read a [`Clock`] that a test or demo moves by hand, so "the
//! key is 1 ms past its TTL" or "three minutes passed, the LFU counter decays by 3" are exact
//! statements and no test sleeps.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// A Unix time in microseconds that only moves when told to. Clones share the same time, so the
/// keyspace, a lock table and the test driving them all see one clock.
#[derive(Debug, Clone, Default)]
pub struct Clock(Arc<AtomicU64>);

impl Clock {
    /// A clock reading `unix_ms` milliseconds.
    pub fn at(unix_ms: u64) -> Clock {
        Clock(Arc::new(AtomicU64::new(unix_ms * 1000)))
    }

    /// A clock starting at the current wall-clock time (then moved by hand only).
    pub fn from_system_time() -> Clock {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        Clock::at(ms)
    }

    /// Microseconds since the Unix epoch (Redis's `ustime()`).
    pub fn now_us(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }

    /// Milliseconds since the Unix epoch (Redis's `mstime()`).
    pub fn now_ms(&self) -> u64 {
        self.now_us() / 1000
    }

    /// Seconds since the Unix epoch (Redis's cached `server.unixtime`).
    pub fn unix_secs(&self) -> u64 {
        self.now_us() / 1_000_000
    }

    pub fn advance_us(&self, us: u64) {
        self.0.fetch_add(us, Ordering::SeqCst);
    }

    pub fn advance_ms(&self, ms: u64) {
        self.advance_us(ms * 1000);
    }

    pub fn advance_secs(&self, s: u64) {
        self.advance_ms(s * 1000);
    }

    pub fn set_ms(&self, unix_ms: u64) {
        self.0.store(unix_ms * 1000, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_time() {
        let c = Clock::at(1_000);
        let d = c.clone();
        d.advance_secs(2);
        assert_eq!(c.now_ms(), 3_000);
        assert_eq!(c.unix_secs(), 3);
        c.advance_us(1_500);
        assert_eq!(d.now_ms(), 3_001);
        assert_eq!(d.now_us(), 3_001_500);
        c.set_ms(5);
        assert_eq!(d.now_us(), 5_000);
    }
}
