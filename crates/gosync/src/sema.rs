//! A small counting semaphore with a wait queue: the lab's stand-in for Go's `runtime/sema.go`.
//!
//! Go's `sync` package never parks a goroutine itself; it calls `runtime_SemacquireMutex` and
//! `runtime_Semrelease`, and the runtime keeps, per semaphore address, a count and a queue of
//! parked goroutines (a treap of addresses in `semaRoot`, each with its own wait list).
//!
//! ```text
//!   count: 0        queue: front ─► [w1] ─► [w2] ─► [w3] ◄─ back
//!   acquire(lifo=false)  count > 0 ? take one : park at the back
//!   acquire(lifo=true)   count > 0 ? take one : park at the front   (a woken waiter that lost)
//!   release(handoff=false)  count += 1, wake the front waiter; it must still take the count
//!   release(handoff=true)   count += 1, take it *for* the front waiter (Go's `ticket`), wake it
//! ```
//!
//! The invariant: a unit of count is either in `count` or owned by exactly one waker/waiter. A
//! waiter woken without a ticket competes for the count with every thread that calls `acquire` at
//! that moment; a waiter woken with a ticket owns the unit already.
//!
//! ## How the real system differs
//! Go parks a goroutine (`gopark`) and makes it runnable on the releasing P (`goready`), which is a
//! user-space switch; here a waiter is an OS thread parked with `std::thread::park`, so a wake-up
//! costs a futex wake and, on an idle vCPU, a hypervisor round trip (tens of µs).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, Thread};

/// Waiter states: still parked, woken to compete, woken owning the unit (Go's `ticket != 0`).
const PARKED: u8 = 0;
const WOKEN: u8 = 1;
const HANDED_OFF: u8 = 2;

#[derive(Debug)]
struct Waiter {
    thread: Thread,
    /// Written by the releaser before `unpark`, so a spurious wake-up is told apart by `PARKED`.
    state: AtomicU8,
}

#[derive(Debug, Default)]
struct Inner {
    count: u32,
    queue: VecDeque<Arc<Waiter>>,
}

/// A counting semaphore whose release can hand its unit straight to the first waiter.
#[derive(Debug, Default)]
pub(crate) struct Sema {
    inner: Mutex<Inner>,
}

impl Sema {
    pub(crate) const fn new() -> Self {
        Sema {
            inner: Mutex::new(Inner {
                count: 0,
                queue: VecDeque::new(),
            }),
        }
    }

    /// Nothing panics while holding the lock, but a poisoned lock must not turn into a panic here.
    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes one unit, parking until one is available. `lifo` queues at the front (Go does this for
    /// a waiter that was woken before and lost the race, so it is not sent to the back of the line).
    /// Returns true when the unit was handed off by the releaser.
    pub(crate) fn acquire(&self, lifo: bool) -> bool {
        let mut inner = self.inner();
        loop {
            if inner.count > 0 {
                inner.count -= 1;
                return false;
            }
            let me = Arc::new(Waiter {
                thread: thread::current(),
                state: AtomicU8::new(PARKED),
            });
            if lifo {
                inner.queue.push_front(Arc::clone(&me));
            } else {
                inner.queue.push_back(Arc::clone(&me));
            }
            drop(inner);
            let woke = loop {
                match me.state.load(Ordering::Acquire) {
                    PARKED => thread::park(),
                    s => break s,
                }
            };
            if woke == HANDED_OFF {
                return true;
            }
            inner = self.inner();
        }
    }

    /// Adds one unit and wakes the first waiter, if any. With `handoff` the unit goes to that waiter
    /// directly, and the caller yields its CPU so the waiter can run (Go's `goyield`).
    pub(crate) fn release(&self, handoff: bool) {
        let mut inner = self.inner();
        inner.count += 1;
        let Some(w) = inner.queue.pop_front() else {
            return;
        };
        let state = if handoff {
            inner.count -= 1;
            HANDED_OFF
        } else {
            WOKEN
        };
        w.state.store(state, Ordering::Release);
        w.thread.unpark();
        drop(inner);
        if handoff {
            thread::yield_now();
        }
    }

    /// How many threads are parked on this semaphore right now.
    pub(crate) fn queued(&self) -> usize {
        self.inner().queue.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_release_with_nobody_waiting_is_kept_for_the_next_acquire() {
        let s = Sema::new();
        s.release(false);
        assert!(!s.acquire(false));
        assert_eq!(s.queued(), 0);
    }

    #[test]
    fn a_handoff_release_gives_the_unit_to_the_parked_waiter() {
        let s = Sema::new();
        thread::scope(|scope| {
            let h = scope.spawn(|| s.acquire(false));
            while s.queued() == 0 {
                thread::yield_now();
            }
            s.release(true);
            assert!(
                h.join().unwrap_or(false),
                "the waiter must own the handed-off unit"
            );
        });
        assert_eq!(s.inner().count, 0);
    }
}
