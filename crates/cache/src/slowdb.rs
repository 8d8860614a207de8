//! The database behind the cache in the failure-pattern demos (redis-06, redis-07): an in-process
//! store that takes a fixed time per load and counts every load with its timestamp, so a demo can
//! say "the database saw 200 loads in one 100 ms window".
//!
//! The latency is a sleep inside the load — a model of the database's cost, not a way of ordering
//! threads: the demos order their clients with barriers and only *measure* when loads happened.
//! [`SlowDb::queued`] models the same cost without sleeping: one server, one load at a time, and
//! the queue a burst builds is computed from the arrival times.
//!
//! ```text
//!   client ──GET──► Redis ──miss──► SlowDb::load(id) ──(2 ms)──► value ──SET PX──► Redis
//!                                     └─ loads += 1, log += t
//! ```

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// See the module documentation. Ids below `rows` exist; others are missing (penetration).
#[derive(Debug)]
pub struct SlowDb {
    latency: Duration,
    /// Queued mode: loads return at once, and the database is modelled as one server that takes
    /// `latency` per load, so a burst builds a queue ([`SlowDb::max_queue_wait_us`]).
    queued: bool,
    rows: u64,
    loads: AtomicU64,
    started: Instant,
    /// Microseconds since `started` at which each load arrived.
    log: Mutex<Vec<u64>>,
    /// Queued mode: when the modelled server is next free (µs since `started`), and the longest
    /// wait a load had before its service began.
    queue: Mutex<(u64, u64)>,
}

impl SlowDb {
    /// A database whose loads sleep `latency` in the caller's thread.
    pub fn new(rows: u64, latency: Duration) -> SlowDb {
        SlowDb {
            latency,
            queued: false,
            rows,
            loads: AtomicU64::new(0),
            started: Instant::now(),
            log: Mutex::new(Vec::new()),
            queue: Mutex::new((0, 0)),
        }
    }

    /// A database modelled as a single server with `service` per load: a load returns at once
    /// (so the caller's scheduling cannot spread a burst out), and its wait in the queue is
    /// computed — the delay a real one-at-a-time database would add under that burst.
    pub fn queued(rows: u64, service: Duration) -> SlowDb {
        SlowDb {
            queued: true,
            ..SlowDb::new(rows, service)
        }
    }

    /// Loads row `id`: `Some(value)` if it exists.
    pub fn load(&self, id: u64) -> Option<String> {
        let t = self.started.elapsed().as_micros() as u64;
        self.loads.fetch_add(1, Ordering::SeqCst);
        self.log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(t);
        if self.queued {
            let mut q = self
                .queue
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let begin = q.0.max(t);
            q.1 = q.1.max(begin - t);
            q.0 = begin + self.latency.as_micros() as u64;
        } else if !self.latency.is_zero() {
            std::thread::sleep(self.latency);
        }
        (id < self.rows).then(|| format!("row-{id}"))
    }

    /// Queued mode: the longest time a load waited for the modelled server, in µs.
    pub fn max_queue_wait_us(&self) -> u64 {
        self.queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .1
    }

    pub fn loads(&self) -> u64 {
        self.loads.load(Ordering::SeqCst)
    }

    /// Load start times, µs since the database was created, sorted.
    pub fn load_times_us(&self) -> Vec<u64> {
        let mut v = self
            .log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        v.sort_unstable();
        v
    }

    /// Time since the database was created, in µs (to mark phases on the same axis).
    pub fn now_us(&self) -> u64 {
        self.started.elapsed().as_micros() as u64
    }
}

/// The most events that fall in any window `[t, t + window)` (a sliding window, so a burst split by
/// a fixed grid is still counted whole). `times` must be sorted. Returns (count, window start).
pub fn peak_in_window(times: &[u64], window: u64) -> (usize, u64) {
    let (mut best, mut at, mut lo) = (0, 0, 0);
    for hi in 0..times.len() {
        while times[hi] - times[lo] >= window {
            lo += 1;
        }
        if hi + 1 - lo > best {
            best = hi + 1 - lo;
            at = times[lo];
        }
    }
    (best, at)
}

/// Events per fixed window `[i·window, (i+1)·window)` from 0 up to `end`.
pub fn per_window(times: &[u64], window: u64, end: u64) -> Vec<usize> {
    let n = end.div_ceil(window.max(1)) as usize;
    let mut out = vec![0; n.max(1)];
    for &t in times {
        let i = (t / window.max(1)) as usize;
        if i < out.len() {
            out[i] += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sliding_peak_sees_a_burst_the_grid_splits() {
        // 10 events from 95 to 104: a 100-wide grid splits them 5 + 5, the sliding window sees 10.
        let burst: Vec<u64> = (95..105).collect();
        assert_eq!(peak_in_window(&burst, 100), (10, 95));
        assert_eq!(per_window(&burst, 100, 200), vec![5, 5]);
        // Counterexample: spread-out events never exceed 1 per window.
        let spread: Vec<u64> = (0..10).map(|i| i * 100).collect();
        assert_eq!(peak_in_window(&spread, 100).0, 1);
        assert_eq!(peak_in_window(&[], 100), (0, 0));
    }

    #[test]
    fn a_burst_queues_behind_a_single_server() {
        // 50 loads arriving together at 2 ms each: the last waits ~98 ms.
        let db = SlowDb::queued(100, Duration::from_millis(2));
        for i in 0..50 {
            db.load(i);
        }
        let w = db.max_queue_wait_us();
        assert!((97_000..=100_000).contains(&w), "{w}");
        // Counterexample: one load waits for nothing.
        let one = SlowDb::queued(100, Duration::from_millis(2));
        one.load(1);
        assert_eq!(one.max_queue_wait_us(), 0);
    }

    #[test]
    fn loads_are_counted_and_missing_rows_are_none() {
        let db = SlowDb::new(10, Duration::ZERO);
        assert_eq!(db.load(3).as_deref(), Some("row-3"));
        assert_eq!(db.load(10), None);
        assert_eq!(db.loads(), 2);
        assert_eq!(db.load_times_us().len(), 2);
    }
}
