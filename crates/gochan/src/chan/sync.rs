//! The three synchronization primitives the channel is built from, behind one face: `Arc`, a plain
//! `Mutex` and a `Condvar`.
//!
//! Normally they are `std::sync::Arc` and `parking_lot`'s mutex and condition variable. Built with
//! `RUSTFLAGS="--cfg gochan_loom"` they are [loom]'s instead, so that `tests/loom.rs` can run the
//! very same channel code under loom's model checker, which explores every interleaving of the
//! threads (up to a bound on preemptions) and fails on a deadlock or a failed assertion in any of
//! them.
//!
//! Why `gochan_loom` and not the conventional `loom`: `RUSTFLAGS` reaches every crate of the build,
//! and some of this crate's dependencies (tokio, event-listener behind the Redis client) switch to
//! their own loom mode on `cfg(loom)` and then fail to compile without loom in their own
//! dependencies. A name only this crate knows avoids that.
//!
//! The face is the intersection of the two: `Mutex::lock` returns the guard (loom's poisoning is
//! unwrapped: a panic under loom fails the model anyway), `Condvar::wait` takes and returns the
//! guard by value, and [`Condvar::wait_until`] (a deadline) exists only outside loom, which has no
//! clock. Under loom a `select` deadline is modelled instead: see `Parker::wait` in `mod.rs`.
//!
//! [loom]: https://docs.rs/loom

#[cfg(not(gochan_loom))]
pub(crate) use std::sync::Arc;

#[cfg(not(gochan_loom))]
pub(crate) use parking_lot::{Mutex, MutexGuard};

#[cfg(gochan_loom)]
pub(crate) use loom::sync::{Arc, MutexGuard};

/// loom's mutex with the poisoning unwrapped, so that `lock()` reads the same as parking_lot's.
#[cfg(gochan_loom)]
#[derive(Debug)]
pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

#[cfg(gochan_loom)]
impl<T> Mutex<T> {
    pub(crate) fn new(value: T) -> Mutex<T> {
        Mutex(loom::sync::Mutex::new(value))
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A condition variable whose `wait` takes the guard by value and gives it back (std's and loom's
/// shape; parking_lot's `&mut guard` is adapted to it).
#[derive(Debug, Default)]
pub(crate) struct Condvar {
    #[cfg(not(gochan_loom))]
    inner: parking_lot::Condvar,
    #[cfg(gochan_loom)]
    inner: loom::sync::Condvar,
}

impl Condvar {
    pub(crate) fn new() -> Condvar {
        Condvar::default()
    }

    /// Releases the lock, sleeps until notified (or spuriously), and locks again.
    #[cfg(not(gochan_loom))]
    pub(crate) fn wait<'a, T>(&self, mut guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        self.inner.wait(&mut guard);
        guard
    }

    /// Releases the lock, sleeps until notified (or spuriously), and locks again.
    #[cfg(gochan_loom)]
    pub(crate) fn wait<'a, T>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        self.inner
            .wait(guard)
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Like [`Condvar::wait`], but gives up at `deadline`. Not available under loom.
    #[cfg(not(gochan_loom))]
    pub(crate) fn wait_until<'a, T>(
        &self,
        mut guard: MutexGuard<'a, T>,
        deadline: std::time::Instant,
    ) -> MutexGuard<'a, T> {
        let _ = self.inner.wait_until(&mut guard, deadline);
        guard
    }

    pub(crate) fn notify_one(&self) {
        self.inner.notify_one();
    }
}
