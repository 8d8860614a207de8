//! The kinds of locks Go offers, each observed doing the one thing that defines it.
//!
//! Interview question go-18 (「Go中的锁有哪些」). Go's `sync` package has `Mutex`, `RWMutex`, `Once`,
//! `Cond` (and `WaitGroup`, `Map`, `Pool`); a spin lock is what people build from `sync/atomic`.
//!
//! ```text
//!   kind        defining property                         observed as
//!   Mutex       one holder at a time                      4 threads × 20 000 load+store increments, none lost
//!   RWMutex     many readers at once; a waiting writer    4 readers inside together (overlap 4);
//!               stops new readers                         TryRLock refused while only read-held
//!   Once        f runs once, callers wait for it          8 racing callers, 1 run; a panicking f is done
//!   spin lock   busy-waits on an atomic, never parks      load+store increments under a CAS loop, none lost
//!   Cond        Wait releases the lock while waiting      the signaller can lock while the waiter waits
//! ```
//!
//! [`observe`] makes these observations with the lab's ports ([`GoMutex`], [`GoRwMutex`],
//! [`GoOnce`]), [`SpinLock`] and std's `Condvar`; `go/cmd/go37-mutex` makes the same ones with Go's
//! real `sync` types under the same field names, and [`differences`] compares the two.
//!
//! ## How the real system differs
//! Go's `Cond` takes any `Locker`; std's `Condvar` pairs with a std `Mutex` and may wake
//! spuriously. Both need their wait inside a loop that re-checks the condition. Go's spin lock here
//! yields with `runtime.Gosched()` every 64 failed tries; ours spins with `spin_loop` hints only.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Barrier, Condvar, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use crate::mutex::GoMutex;
use crate::once::GoOnce;
use crate::rwmutex::GoRwMutex;

/// Threads (goroutines) that increment the shared counter, and increments each.
pub const COUNTER_THREADS: u64 = 4;
pub const COUNTER_EACH: u64 = 20_000;
/// Readers that try to be inside the read lock together.
pub const READERS: u32 = 4;
/// Callers racing on one Once.
pub const ONCE_CALLERS: u32 = 8;
/// How long a reader waits for the others to join it inside before giving up (no hang).
const OVERLAP_DEADLINE: Duration = Duration::from_secs(5);

/// What each kind of lock was seen to do. Field names match the Go program's JSON.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct LockKinds {
    pub mutex_count: u64,
    pub mutex_expected: u64,
    pub rw_readers: u32,
    pub rw_max_overlap: u32,
    pub rw_try_rlock_refused_behind_writer: bool,
    pub rw_writer_before_new_reader: bool,
    pub once_callers: u32,
    pub once_runs: u32,
    pub once_done_after_panic: bool,
    pub spin_count: u64,
    pub spin_try_refused_while_held: bool,
    pub cond_wait_released_lock: bool,
}

/// A spin lock: one `AtomicBool`, taken with a CAS loop, released with a store. It never parks,
/// so a waiter burns its CPU; that is fine only for critical sections of a few instructions.
#[derive(Debug, Default)]
pub struct SpinLock {
    held: AtomicBool,
}

/// Holding the spin lock; dropping it releases.
#[derive(Debug)]
#[must_use = "the spin lock is released as soon as the guard is dropped"]
pub struct SpinGuard<'a> {
    lock: &'a SpinLock,
}

impl Drop for SpinGuard<'_> {
    fn drop(&mut self) {
        self.lock.held.store(false, Ordering::Release);
    }
}

impl SpinLock {
    pub const fn new() -> Self {
        SpinLock {
            held: AtomicBool::new(false),
        }
    }

    pub fn lock(&self) -> SpinGuard<'_> {
        loop {
            if let Some(g) = self.try_lock() {
                return g;
            }
            // Wait with plain loads until it looks free, so the CAS does not bounce the cache line.
            while self.held.load(Ordering::Relaxed) {
                std::hint::spin_loop();
            }
        }
    }

    pub fn try_lock(&self) -> Option<SpinGuard<'_>> {
        self.held
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .ok()
            .map(|_| SpinGuard { lock: self })
    }
}

/// Runs `threads` × `each` load-then-store increments, each inside `locked`, and returns the total.
/// Without mutual exclusion two threads read the same value and one increment is lost.
fn count_with<G>(threads: u64, each: u64, locked: impl Fn() -> G + Sync) -> u64 {
    let counter = AtomicU64::new(0);
    thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                for _ in 0..each {
                    let _g = locked();
                    let v = counter.load(Ordering::Relaxed);
                    counter.store(v + 1, Ordering::Relaxed);
                }
            });
        }
    });
    counter.into_inner()
}

/// The largest number of readers seen inside the read lock at once. Each reader, once inside,
/// waits (bounded) until all are inside, so the answer is `READERS` whenever reads can overlap.
fn reader_overlap(rw: &GoRwMutex) -> u32 {
    let inside = AtomicU32::new(0);
    // Only ever grows, so a reader leaving does not make the others wait for it again.
    let arrived = AtomicU32::new(0);
    let max = AtomicU32::new(0);
    thread::scope(|s| {
        for _ in 0..READERS {
            s.spawn(|| {
                let _r = rw.rlock();
                let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                max.fetch_max(now, Ordering::SeqCst);
                arrived.fetch_add(1, Ordering::SeqCst);
                let start = Instant::now();
                while arrived.load(Ordering::SeqCst) < READERS && start.elapsed() < OVERLAP_DEADLINE
                {
                    thread::yield_now();
                }
                max.fetch_max(inside.load(Ordering::SeqCst), Ordering::SeqCst);
                inside.fetch_sub(1, Ordering::SeqCst);
            });
        }
    });
    max.into_inner()
}

/// A reader holds the lock; a writer arrives and waits. Then TryRLock must be refused, and a reader
/// that arrives now gets in only after the writer. Returns (refused, writer first).
fn writer_preference(rw: &GoRwMutex) -> (bool, bool) {
    let order = AtomicU32::new(0);
    let deadline = Instant::now() + OVERLAP_DEADLINE;
    thread::scope(|s| {
        let first = rw.rlock();
        let writer = s.spawn(|| {
            let _w = rw.lock();
            order.fetch_add(1, Ordering::SeqCst) + 1
        });
        while !rw.writer_pending() && Instant::now() < deadline {
            thread::yield_now();
        }
        let refused = rw.try_rlock().is_none();
        let reader = s.spawn(|| {
            let _r = rw.rlock();
            order.fetch_add(1, Ordering::SeqCst) + 1
        });
        while rw.readers_parked() == 0 && Instant::now() < deadline {
            thread::yield_now();
        }
        drop(first);
        let w = writer.join().unwrap_or(0);
        let r = reader.join().unwrap_or(0);
        (refused, w == 1 && r == 2)
    })
}

fn once_runs() -> u32 {
    let once = GoOnce::new();
    let runs = AtomicU32::new(0);
    let start = Barrier::new(ONCE_CALLERS as usize);
    thread::scope(|s| {
        for _ in 0..ONCE_CALLERS {
            s.spawn(|| {
                start.wait();
                once.call_once(|| {
                    runs.fetch_add(1, Ordering::Relaxed);
                });
            });
        }
    });
    runs.into_inner()
}

/// Go sets `done` in a defer: after a panicking f, a second Do does not run its f.
fn once_done_after_panic() -> bool {
    let once = GoOnce::new();
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        once.call_once(|| std::panic::panic_any("f panics on purpose"));
    }))
    .is_err();
    let mut second_ran = false;
    once.call_once(|| second_ran = true);
    panicked && !second_ran
}

/// The waiter holds the mutex and calls `wait`; the signaller can take the same mutex only if
/// `wait` released it. Returns true when the signaller saw the waiter already waiting.
fn cond_wait_releases() -> bool {
    let m = Mutex::new((false, false)); // (waiter is waiting, ready)
    let cv = Condvar::new();
    thread::scope(|s| {
        let waiter = s.spawn(|| {
            let mut g = m.lock().unwrap_or_else(PoisonError::into_inner);
            g.0 = true;
            while !g.1 {
                g = cv.wait(g).unwrap_or_else(PoisonError::into_inner);
            }
        });
        let saw_waiting = loop {
            let mut g = m.lock().unwrap_or_else(PoisonError::into_inner);
            if g.0 {
                // We hold the mutex although the waiter took it first and has not returned:
                // `wait` gave it up.
                g.1 = true;
                cv.notify_one();
                break true;
            }
            drop(g);
            thread::yield_now();
        };
        waiter.join().is_ok() && saw_waiting
    })
}

/// Suppresses the expected panic message of [`once_done_after_panic`] while it runs.
fn quietly<T>(f: impl FnOnce() -> T) -> T {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let out = f();
    std::panic::set_hook(hook);
    out
}

/// Observes every kind with the lab's ports.
pub fn observe() -> LockKinds {
    let m = GoMutex::new();
    let rw = GoRwMutex::new();
    let spin = SpinLock::new();
    let (refused, writer_first) = writer_preference(&rw);
    let held = spin.lock();
    let spin_try_refused_while_held = spin.try_lock().is_none();
    drop(held);
    LockKinds {
        mutex_count: count_with(COUNTER_THREADS, COUNTER_EACH, || m.lock()),
        mutex_expected: COUNTER_THREADS * COUNTER_EACH,
        rw_readers: READERS,
        rw_max_overlap: reader_overlap(&rw),
        rw_try_rlock_refused_behind_writer: refused,
        rw_writer_before_new_reader: writer_first,
        once_callers: ONCE_CALLERS,
        once_runs: once_runs(),
        once_done_after_panic: quietly(once_done_after_panic),
        spin_count: count_with(COUNTER_THREADS, COUNTER_EACH, || spin.lock()),
        spin_try_refused_while_held,
        cond_wait_released_lock: cond_wait_releases(),
    }
}

/// Which defining properties fail in `k` (empty when every kind keeps its promise).
pub fn broken_promises(k: &LockKinds) -> Vec<String> {
    let mut out = Vec::new();
    let mut need = |ok: bool, what: String| {
        if !ok {
            out.push(what);
        }
    };
    need(
        k.mutex_count == k.mutex_expected,
        format!(
            "Mutex lost updates: {} of {}",
            k.mutex_count, k.mutex_expected
        ),
    );
    need(
        k.rw_max_overlap == k.rw_readers && k.rw_readers > 1,
        format!(
            "RWMutex: only {} of {} readers inside together",
            k.rw_max_overlap, k.rw_readers
        ),
    );
    need(
        k.rw_try_rlock_refused_behind_writer,
        "RWMutex: TryRLock succeeded while a writer waited".into(),
    );
    need(
        k.rw_writer_before_new_reader,
        "RWMutex: a reader that came after the waiting writer got in first".into(),
    );
    need(
        k.once_runs == 1,
        format!(
            "Once ran f {} times for {} callers",
            k.once_runs, k.once_callers
        ),
    );
    need(
        k.once_done_after_panic,
        "Once: f ran again after a panicking f".into(),
    );
    need(
        k.spin_count == k.mutex_expected,
        format!(
            "spin lock lost updates: {} of {}",
            k.spin_count, k.mutex_expected
        ),
    );
    need(
        k.spin_try_refused_while_held,
        "spin lock: try_lock succeeded while held".into(),
    );
    need(
        k.cond_wait_released_lock,
        "Cond: the signaller never held the lock while the waiter waited".into(),
    );
    out
}

/// Fields on which two observations differ (the Rust ports vs Go's `sync`).
pub fn differences(rust: &LockKinds, go: &LockKinds) -> Vec<String> {
    let mut out = Vec::new();
    macro_rules! compare {
        ($($field:ident),* $(,)?) => {
            $(if rust.$field != go.$field {
                out.push(format!(
                    "{}: Rust {:?}, Go {:?}",
                    stringify!($field),
                    rust.$field,
                    go.$field
                ));
            })*
        };
    }
    compare!(
        mutex_count,
        mutex_expected,
        rw_readers,
        rw_max_overlap,
        rw_try_rlock_refused_behind_writer,
        rw_writer_before_new_reader,
        once_callers,
        once_runs,
        once_done_after_panic,
        spin_count,
        spin_try_refused_while_held,
        cond_wait_released_lock,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_keeps_its_promise_in_the_ports() {
        let k = observe();
        assert_eq!(broken_promises(&k), Vec::<String>::new(), "{k:?}");
    }

    #[test]
    fn broken_promises_catches_a_lost_update_and_serial_readers() {
        let mut k = observe();
        k.mutex_count -= 1;
        k.rw_max_overlap = 1;
        k.once_runs = 2;
        let broken = broken_promises(&k);
        assert_eq!(broken.len(), 3, "{broken:?}");
    }

    #[test]
    fn differences_names_the_field_that_differs() {
        let a = LockKinds {
            once_runs: 1,
            ..LockKinds::default()
        };
        let b = LockKinds {
            once_runs: 2,
            ..LockKinds::default()
        };
        assert_eq!(differences(&a, &a), Vec::<String>::new());
        assert_eq!(
            differences(&a, &b),
            vec!["once_runs: Rust 1, Go 2".to_string()]
        );
    }

    #[test]
    fn a_spin_lock_refuses_try_lock_while_held() {
        let s = SpinLock::new();
        let g = s.lock();
        assert!(s.try_lock().is_none());
        drop(g);
        assert!(s.try_lock().is_some());
    }
}
