//! Go's `sync.Once`, ported: an atomic `done` flag for the fast path, a mutex for the slow path.
//!
//! Interview question go-18 (「Go中的锁有哪些」). Go's `sync/once.go`:
//!
//! ```text
//!   Do(f):   done == 1 ? return                       (one atomic load, the common case)
//!            doSlow(f): lock m; done == 0 ? { defer done = 1; f() }; unlock m
//! ```
//!
//! Why not a CAS on `done` instead of the mutex? Because `Do` must not return before `f` has
//! finished: a second caller that loses the CAS would return while `f` is still running. With the
//! mutex, latecomers wait for `f`, then see `done`.
//!
//! `done` is set in a `defer`, so it is set even when `f` panics: a panicking `f` counts as done
//! and is never retried. [`GoOnce::call_once`] mirrors this with a drop guard that runs during
//! unwinding. (Rust's `std::sync::Once` does the opposite: a panic poisons it.)
//!
//! ## How the real system differs
//! Go's `done` is the struct's first field so the fast path's load needs no offset (a hot-path
//! micro-optimisation); here it is simply an `AtomicBool`.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::mutex::GoMutex;

/// Go's `sync.Once`.
#[derive(Debug, Default)]
pub struct GoOnce {
    /// Set (Release) after `f` returned or panicked; read (Acquire) by the fast path, so a caller
    /// that sees it also sees everything `f` wrote.
    done: AtomicBool,
    m: GoMutex,
}

/// Sets `done` when dropped, i.e. after `f` returns and also while a panic unwinds (Go's `defer`).
struct MarkDone<'a>(&'a AtomicBool);

impl Drop for MarkDone<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

impl GoOnce {
    pub const fn new() -> Self {
        GoOnce {
            done: AtomicBool::new(false),
            m: GoMutex::new(),
        }
    }

    /// Go's `Do`: runs `f` if no call has run one yet; returns only after that `f` has finished.
    pub fn call_once(&self, f: impl FnOnce()) {
        if !self.done.load(Ordering::Acquire) {
            self.call_slow(f);
        }
    }

    fn call_slow(&self, f: impl FnOnce()) {
        let _g = self.m.lock();
        if !self.done.load(Ordering::Relaxed) {
            let _mark = MarkDone(&self.done);
            f();
        }
    }

    pub fn is_done(&self) -> bool {
        self.done.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Barrier;
    use std::sync::atomic::AtomicU32;

    /// Exactly once: eight threads released together all call `call_once`; `f` runs once, and no
    /// caller returns before it has finished (each sees its effect).
    #[test]
    fn once_runs_f_exactly_once_across_threads() {
        let once = GoOnce::new();
        let runs = AtomicU32::new(0);
        let finished = AtomicBool::new(false);
        let start = Barrier::new(8);
        let saw_finished = AtomicU32::new(0);
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    start.wait();
                    once.call_once(|| {
                        runs.fetch_add(1, Ordering::Relaxed);
                        finished.store(true, Ordering::Relaxed);
                    });
                    if finished.load(Ordering::Relaxed) {
                        saw_finished.fetch_add(1, Ordering::Relaxed);
                    }
                });
            }
        });
        assert_eq!(runs.load(Ordering::Relaxed), 1);
        assert_eq!(saw_finished.load(Ordering::Relaxed), 8);
    }

    /// Go marks a Once done even when f panics; the next call does nothing.
    #[test]
    fn a_panicking_f_still_counts_as_done() {
        let once = GoOnce::new();
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            once.call_once(|| panic!("f panicked on purpose"));
        }));
        assert!(caught.is_err());
        assert!(once.is_done());
        let mut ran_again = false;
        once.call_once(|| ran_again = true);
        assert!(!ran_again);
        // The mutex was released during unwinding too.
        assert!(once.m.try_lock().is_some());
    }
}
