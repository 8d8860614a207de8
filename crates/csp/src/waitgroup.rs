//! `WaitGroup`: the main task waits until a counter of outstanding tasks reaches zero.
//!
//! Answers go-26 (「Go主协程如何等其余协程完再操作」). Go's `sync.WaitGroup` is a 64-bit state
//! (counter in the high half, number of waiters in the low half) plus a semaphore; `Add` changes
//! the counter, `Done` is `Add(-1)`, and the `Add` that brings the counter to zero releases every
//! waiter. Here the counter sits under a `Mutex` with a `Condvar` for the waiters.
//!
//! ```text
//!   main: wg.add(3) ── spawn A, B, C ── wg.wait() ······ parked ······ ▶ returns
//!   A:                                   done() 3→2
//!   B:                                         done() 2→1
//!   C:                                               done() 1→0 ── notify_all
//! ```
//!
//! **The rule** ([`WaitGroup::add`]): the counter may never go below zero (Go panics with
//! `sync: negative WaitGroup counter`, and so does this), and `wait` returns whenever it sees zero.
//! That is why `Add` must happen *before* the task is started: an `Add` inside the new task can
//! run after `Wait` has already seen zero and returned (`go-26/add-inside-the-task-lets-wait-return-early`).
//!
//! # How the real system differs
//! - Go's is lock-free on the fast path (one atomic add on the packed state); waiters park on a
//!   runtime semaphore, not an OS condition variable.
//! - Go 1.25 added `wg.Go(f)`, which does the `Add(1)` and the deferred `Done()` for you; here
//!   [`WaitGroup::go`] does the same on a thread of a [`crate::Tasks`] registry.
//! - Reusing a WaitGroup before a previous `Wait` has returned is a detected misuse in Go
//!   ("WaitGroup is reused before previous Wait has returned"); this one simply allows it.

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::tasks::Tasks;

/// The message Go panics with, reused so the demo can compare the two.
pub const NEGATIVE: &str = "sync: negative WaitGroup counter";

/// A counter of outstanding tasks and the tasks waiting for it to reach zero. Cloning shares it.
#[derive(Debug, Clone, Default)]
pub struct WaitGroup {
    inner: Arc<(Mutex<i64>, Condvar)>,
}

impl WaitGroup {
    pub fn new() -> Self {
        WaitGroup::default()
    }

    /// Adds `delta` (may be negative). Panics if the counter would go below zero; wakes every
    /// waiter when it reaches zero.
    pub fn add(&self, delta: i64) {
        let (m, cv) = &*self.inner;
        let mut n = m.lock().unwrap_or_else(|p| p.into_inner());
        let next = *n + delta;
        if next < 0 {
            drop(n);
            panic!("{NEGATIVE}");
        }
        *n = next;
        if next == 0 {
            cv.notify_all();
        }
    }

    pub fn done(&self) {
        self.add(-1);
    }

    /// The counter now.
    pub fn count(&self) -> i64 {
        *self.inner.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Blocks until the counter is zero.
    pub fn wait(&self) {
        let (m, cv) = &*self.inner;
        let mut n = m.lock().unwrap_or_else(|p| p.into_inner());
        while *n != 0 {
            n = cv.wait(n).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Blocks until the counter is zero or `timeout` passes; true if it reached zero.
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        let end = Instant::now() + timeout;
        let (m, cv) = &*self.inner;
        let mut n = m.lock().unwrap_or_else(|p| p.into_inner());
        while *n != 0 {
            let now = Instant::now();
            if now >= end {
                return false;
            }
            n = cv
                .wait_timeout(n, end - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        true
    }

    /// Go 1.25's `wg.Go(f)`: `add(1)` now, then run `f` on a named thread of `tasks` and call
    /// `done()` when it ends, even by panic.
    #[track_caller]
    pub fn go<F>(&self, tasks: &Tasks, name: impl Into<String>, f: F)
    where
        F: FnOnce() + Send + 'static,
    {
        self.add(1);
        let done = DoneOnDrop(self.clone());
        drop(tasks.spawn(name, move || {
            let _done = done;
            f()
        }));
    }
}

/// `defer wg.Done()`.
#[derive(Debug)]
struct DoneOnDrop(WaitGroup);

impl Drop for DoneOnDrop {
    fn drop(&mut self) {
        self.0.done();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn wait_returns_after_every_done() {
        let tasks = Tasks::new();
        let wg = WaitGroup::new();
        let finished = Arc::new(AtomicUsize::new(0));
        for i in 0..8 {
            let f = Arc::clone(&finished);
            wg.go(&tasks, format!("w{i}"), move || {
                f.fetch_add(1, Ordering::SeqCst);
            });
        }
        wg.wait();
        assert_eq!(finished.load(Ordering::SeqCst), 8);
    }

    #[test]
    fn a_panicking_task_still_counts_done() {
        let tasks = Tasks::new();
        let wg = WaitGroup::new();
        wg.go(&tasks, "boom", || panic!("on purpose"));
        assert!(wg.wait_timeout(Duration::from_secs(5)));
    }

    #[test]
    fn wait_timeout_fails_while_a_task_is_outstanding() {
        let wg = WaitGroup::new();
        wg.add(1);
        assert!(!wg.wait_timeout(Duration::from_millis(5)));
        wg.done();
        assert!(wg.wait_timeout(Duration::ZERO));
    }

    #[test]
    #[should_panic(expected = "sync: negative WaitGroup counter")]
    fn done_without_add_panics_like_go() {
        WaitGroup::new().done();
    }
}
