//! A counting semaphore: at most `n` holders at once.
//!
//! go-19's second answer. Go code limits concurrency either with a buffered channel used as a
//! token bucket (`sem <- struct{}{}` to enter, `<-sem` to leave; the capacity is the limit) or
//! with `golang.org/x/sync/semaphore.Weighted`. Unlike a worker pool, a goroutine (here a thread)
//! may still be started per job; only the part between acquire and release is limited.
//!
//! ```text
//!   permits: [■ ■ ■ □]   3 of 4 held     acquire(): take □ or wait     drop(Permit): give back
//! ```
//!
//! **Invariant**: `available + held == n`, and `available` never goes below zero
//! ([`Semaphore::try_acquire`] is the one place that decides). A [`Permit`] returns itself when
//! dropped, also during a panic, so a failing job cannot leak a token — the mistake a Go
//! `sem <- token` without `defer func() { <-sem }()` makes.
//!
//! # How the real system differs
//! A Go goroutine waiting for a token is parked on the channel's receive queue in FIFO order;
//! here waiters sleep on a `Condvar` and the OS picks who wakes first.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};

#[derive(Debug)]
struct Inner {
    available: Mutex<usize>,
    freed: Condvar,
    capacity: usize,
}

/// A counting semaphore. Cloning shares it.
#[derive(Debug, Clone)]
pub struct Semaphore {
    inner: Arc<Inner>,
}

/// One held token; dropping it gives it back.
#[derive(Debug)]
#[must_use = "the permit is released when dropped"]
pub struct Permit {
    inner: Arc<Inner>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        *lock(&self.inner.available) += 1;
        self.inner.freed.notify_one();
    }
}

fn lock(m: &Mutex<usize>) -> MutexGuard<'_, usize> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Semaphore {
    pub fn new(permits: usize) -> Self {
        Semaphore {
            inner: Arc::new(Inner {
                available: Mutex::new(permits),
                freed: Condvar::new(),
                capacity: permits,
            }),
        }
    }

    /// Takes a token if one is free now.
    pub fn try_acquire(&self) -> Option<Permit> {
        let mut a = lock(&self.inner.available);
        self.take(&mut a)
    }

    fn take(&self, available: &mut usize) -> Option<Permit> {
        if *available == 0 {
            return None;
        }
        *available -= 1;
        Some(Permit {
            inner: Arc::clone(&self.inner),
        })
    }

    /// Takes a token, waiting for one to be freed.
    pub fn acquire(&self) -> Permit {
        let mut a = lock(&self.inner.available);
        loop {
            if let Some(p) = self.take(&mut a) {
                return p;
            }
            a = self.inner.freed.wait(a).unwrap_or_else(|p| p.into_inner());
        }
    }

    pub fn available(&self) -> usize {
        *lock(&self.inner.available)
    }

    pub fn capacity(&self) -> usize {
        self.inner.capacity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_n_plus_first_acquire_is_refused_until_a_release() {
        let s = Semaphore::new(2);
        let a = s.try_acquire().unwrap();
        let _b = s.try_acquire().unwrap();
        assert!(s.try_acquire().is_none());
        drop(a);
        assert!(s.try_acquire().is_some());
    }

    #[test]
    fn a_panicking_holder_gives_its_token_back() {
        let s = Semaphore::new(1);
        let s2 = s.clone();
        let r = std::thread::spawn(move || {
            let _p = s2.acquire();
            panic!("on purpose");
        })
        .join();
        assert!(r.is_err());
        assert_eq!(s.available(), 1);
    }
}
