//! Go's `sync.Mutex`, ported: one state word, a fast path, bounded spinning, a semaphore queue,
//! and the two modes, normal and starvation.
//!
//! Interview questions go-37 (「Go中的锁如何实现」) and go-18 (「Go中的锁有哪些」). The algorithm is the
//! one in Go's `internal/sync/mutex.go` (`sync/mutex.go` before Go 1.24), written again from its
//! description; the semaphore underneath is `src/sema.rs`, standing in for `runtime/sema.go`.
//!
//! ## The state word
//! ```text
//!   bit 31 ………………………………………… 3     2          1        0
//!   ┌──────────────────────────┬──────────┬────────┬────────┐
//!   │ waiters (count of parked │ starving │ woken  │ locked │
//!   │ or about-to-park lockers)│          │        │        │
//!   └──────────────────────────┴──────────┴────────┴────────┘
//! ```
//! - `locked`: someone holds the mutex.
//! - `woken`: a locker is awake and competing (a spinner, or a waiter just woken), so `unlock` need
//!   not wake another one.
//! - `starving`: the mutex is in starvation mode: `unlock` hands ownership to the first waiter, and
//!   newcomers neither spin nor try to grab it; they queue at the back.
//! - waiters: how many lockers are counted as queued on the semaphore.
//!
//! ## Normal mode and starvation mode
//! In normal mode a woken waiter does not get the lock; it competes for it with the threads that
//! are arriving right now, and those are already running on a CPU, so they usually win. A waiter
//! that loses goes back to the *front* of the queue (LIFO). Throughput is best this way: the lock
//! passes between running threads without a sleep/wake in between.
//!
//! A waiter that has waited more than 1 ms ([`STARVATION_THRESHOLD`]) and still finds the lock taken
//! sets `starving`. From then on `unlock` hands the lock directly to the first waiter, which runs
//! with `locked` already counted for it. The mutex goes back to normal mode when a waiter that got
//! the lock is the last one in the queue, or waited less than 1 ms.
//!
//! ## A worked example (the `go-37/state-word-step-by-step` demo prints it live)
//! ```text
//!   main: lock()                 0 → locked                          (fast path: CAS 0 → 1)
//!   B:    lock()                 spins 4 × 30 PAUSE, then waiters=1, parks
//!   main: holds 2 ms, unlock()   waiters 0, woken; B is being woken
//!   C:    already running on the other CPU, grabs it: locked|woken   (B is not running yet)
//!   B:    wakes, finds it locked, has waited > 1 ms → locked|starving, waiters=1, parks at the front
//!   C:    unlock()               hands the lock to B: B runs with locked; B is the last waiter,
//!                                so it clears starving               → locked
//!   B:    unlock()               → 0
//! ```
//!
//! ## What the port does not do
//! `GoMutex` is a pure lock with no data inside, like Go's. Rust would normally put the protected
//! value *inside* the mutex (`Mutex<T>`), which needs an `UnsafeCell` and `unsafe` code, and this
//! workspace denies `unsafe`. Tests and demos protect plain counters kept in atomics that are
//! updated with a separate load and store (`Relaxed`), which loses updates unless the lock really
//! excludes; the lock's `Acquire`/`Release` orderings make the holder see the previous holder's writes.
//!
//! ## How the real system differs
//! - Go spins only when `GOMAXPROCS > 1`, another P is running, and the local run queue is empty
//!   (`runtime_canSpin`); we spin when the machine has more than one CPU.
//! - Go's waiters are goroutines parked by the runtime; ours are OS threads parked by the kernel, so
//!   a wake-up costs 10–50 µs instead of well under 1 µs, which makes barging even more likely.
//! - [`GoMutex::without_starvation`] exists only for the lab, to show what starvation mode buys.
//! - Unlocking an unlocked mutex is a fatal error in Go; here only the guard unlocks, so it cannot
//!   happen.

use std::fmt;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::sema::Sema;

/// Bit 0: the mutex is held.
pub const MUTEX_LOCKED: i32 = 1;
/// Bit 1: a locker is awake and competing, so `unlock` must not wake another.
pub const MUTEX_WOKEN: i32 = 2;
/// Bit 2: starvation mode, ownership is handed off.
pub const MUTEX_STARVING: i32 = 4;
/// The waiter count starts at bit 3.
pub const MUTEX_WAITER_SHIFT: u32 = 3;
/// A waiter that waited longer than this switches the mutex to starvation mode.
pub const STARVATION_THRESHOLD: Duration = Duration::from_millis(1);
/// Go's `active_spin`: at most this many spin rounds before queueing.
pub const ACTIVE_SPIN: u32 = 4;
/// Go's `active_spin_cnt`: `PAUSE` instructions per spin round (`procyield(30)`).
pub const ACTIVE_SPIN_CNT: u32 = 30;

/// The state word, decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct State {
    pub locked: bool,
    pub woken: bool,
    pub starving: bool,
    pub waiters: u32,
}

impl State {
    pub fn decode(word: i32) -> State {
        State {
            locked: word & MUTEX_LOCKED != 0,
            woken: word & MUTEX_WOKEN != 0,
            starving: word & MUTEX_STARVING != 0,
            waiters: (word as u32) >> MUTEX_WAITER_SHIFT,
        }
    }

    pub fn encode(self) -> i32 {
        let mut w = (self.waiters << MUTEX_WAITER_SHIFT) as i32;
        if self.locked {
            w |= MUTEX_LOCKED;
        }
        if self.woken {
            w |= MUTEX_WOKEN;
        }
        if self.starving {
            w |= MUTEX_STARVING;
        }
        w
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut flags = Vec::new();
        if self.locked {
            flags.push("locked");
        }
        if self.woken {
            flags.push("woken");
        }
        if self.starving {
            flags.push("starving");
        }
        let flags = if flags.is_empty() {
            "unlocked".to_string()
        } else {
            flags.join("|")
        };
        write!(
            f,
            "{:#07b} = {flags}, waiters={}",
            self.encode(),
            self.waiters
        )
    }
}

/// What the mutex has seen, for demos and tests. Each is one relaxed atomic, bumped on the slow
/// path only, so the fast path stays a single CAS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MutexStats {
    /// Times a waiter switched the mutex into starvation mode.
    pub starvation_entries: u64,
    /// Unlocks that handed ownership directly to a waiter.
    pub handoffs: u64,
    /// Times a locker parked on the semaphore.
    pub parks: u64,
    /// Spin rounds (each `ACTIVE_SPIN_CNT` pauses).
    pub spins: u64,
    /// The longest time one `lock()` call took on the slow path.
    pub max_wait: Duration,
}

#[derive(Debug, Default)]
struct Counters {
    starvation_entries: AtomicU64,
    handoffs: AtomicU64,
    parks: AtomicU64,
    spins: AtomicU64,
    max_wait_ns: AtomicU64,
}

/// Go's `sync.Mutex`: a lock without data. `lock()` returns a guard that unlocks on drop.
#[derive(Debug)]
pub struct GoMutex {
    /// locked | woken | starving | waiters << 3, exactly Go's `state int32`.
    state: AtomicI32,
    sema: Sema,
    /// Always true in Go; false only for the lab's comparison of the two modes.
    starvation_allowed: bool,
    counters: Counters,
}

impl Default for GoMutex {
    fn default() -> Self {
        GoMutex::new()
    }
}

/// Holding the lock; dropping it is Go's `Unlock`.
#[derive(Debug)]
#[must_use = "the mutex unlocks as soon as the guard is dropped"]
pub struct GoMutexGuard<'a> {
    mutex: &'a GoMutex,
}

impl Drop for GoMutexGuard<'_> {
    fn drop(&mut self) {
        self.mutex.unlock();
    }
}

/// Spinning helps only when the holder can run at the same time, i.e. on another CPU.
fn multicore() -> bool {
    static CPUS: OnceLock<usize> = OnceLock::new();
    *CPUS.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get())) > 1
}

/// Go's `runtime_canSpin`, minus the scheduler conditions we do not have.
fn can_spin(iter: u32) -> bool {
    iter < ACTIVE_SPIN && multicore()
}

/// Go's `runtime_doSpin`: `procyield(30)`.
fn do_spin() {
    for _ in 0..ACTIVE_SPIN_CNT {
        std::hint::spin_loop();
    }
}

const ONE_WAITER: i32 = 1 << MUTEX_WAITER_SHIFT;

impl GoMutex {
    pub const fn new() -> Self {
        GoMutex {
            state: AtomicI32::new(0),
            sema: Sema::new(),
            starvation_allowed: true,
            counters: Counters {
                starvation_entries: AtomicU64::new(0),
                handoffs: AtomicU64::new(0),
                parks: AtomicU64::new(0),
                spins: AtomicU64::new(0),
                max_wait_ns: AtomicU64::new(0),
            },
        }
    }

    /// The same mutex with starvation mode switched off: waiters only ever compete, roughly as in Go
    /// before 1.9, which added starvation mode. For the lab's comparison; Go has no such switch.
    pub const fn without_starvation() -> Self {
        let mut m = GoMutex::new();
        m.starvation_allowed = false;
        m
    }

    /// The state word right now, decoded.
    pub fn state(&self) -> State {
        State::decode(self.state.load(Ordering::Relaxed))
    }

    /// Threads parked on the mutex's semaphore right now.
    pub fn parked(&self) -> usize {
        self.sema.queued()
    }

    pub fn stats(&self) -> MutexStats {
        let c = &self.counters;
        MutexStats {
            starvation_entries: c.starvation_entries.load(Ordering::Relaxed),
            handoffs: c.handoffs.load(Ordering::Relaxed),
            parks: c.parks.load(Ordering::Relaxed),
            spins: c.spins.load(Ordering::Relaxed),
            max_wait: Duration::from_nanos(c.max_wait_ns.load(Ordering::Relaxed)),
        }
    }

    /// Go's `Lock`: one CAS when the word is 0, the slow path otherwise.
    pub fn lock(&self) -> GoMutexGuard<'_> {
        if self
            .state
            .compare_exchange(0, MUTEX_LOCKED, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            self.lock_slow();
        }
        GoMutexGuard { mutex: self }
    }

    /// Go's `TryLock`: succeeds only if the mutex is unlocked and not starving (a starving mutex
    /// belongs to its first waiter), and never waits.
    pub fn try_lock(&self) -> Option<GoMutexGuard<'_>> {
        let old = self.state.load(Ordering::Relaxed);
        if old & (MUTEX_LOCKED | MUTEX_STARVING) != 0 {
            return None;
        }
        self.state
            .compare_exchange(
                old,
                old | MUTEX_LOCKED,
                Ordering::Acquire,
                Ordering::Relaxed,
            )
            .ok()
            .map(|_| GoMutexGuard { mutex: self })
    }

    fn lock_slow(&self) {
        let start = Instant::now();
        let mut wait_start: Option<Instant> = None;
        let mut starving = false;
        let mut awoke = false;
        let mut iter = 0;
        let mut old = self.state.load(Ordering::Relaxed);
        loop {
            // Spin only while the mutex is held in normal mode: in starvation mode the lock goes to
            // the first waiter anyway, so spinning could not win it.
            if old & (MUTEX_LOCKED | MUTEX_STARVING) == MUTEX_LOCKED && can_spin(iter) {
                // Say "someone is awake" so that unlock does not wake a sleeper we would race with.
                if !awoke
                    && old & MUTEX_WOKEN == 0
                    && old >> MUTEX_WAITER_SHIFT != 0
                    && self
                        .state
                        .compare_exchange(
                            old,
                            old | MUTEX_WOKEN,
                            Ordering::Relaxed,
                            Ordering::Relaxed,
                        )
                        .is_ok()
                {
                    awoke = true;
                }
                do_spin();
                self.counters.spins.fetch_add(1, Ordering::Relaxed);
                iter += 1;
                old = self.state.load(Ordering::Relaxed);
                continue;
            }
            let mut new = old;
            // A starving mutex is not for newcomers: they only queue.
            if old & MUTEX_STARVING == 0 {
                new |= MUTEX_LOCKED;
            }
            if old & (MUTEX_LOCKED | MUTEX_STARVING) != 0 {
                new += ONE_WAITER;
            }
            // Switch to starvation mode only if the mutex is still held; if it is free, take it.
            if starving && old & MUTEX_LOCKED != 0 {
                new |= MUTEX_STARVING;
            }
            if awoke {
                // We set woken (or were woken with it set); either way it is ours to clear.
                new &= !MUTEX_WOKEN;
            }
            if self
                .state
                .compare_exchange(old, new, Ordering::Acquire, Ordering::Relaxed)
                .is_err()
            {
                old = self.state.load(Ordering::Relaxed);
                continue;
            }
            if old & (MUTEX_LOCKED | MUTEX_STARVING) == 0 {
                break; // took a free mutex with the CAS
            }
            if new & MUTEX_STARVING != 0 && old & MUTEX_STARVING == 0 {
                self.counters
                    .starvation_entries
                    .fetch_add(1, Ordering::Relaxed);
            }
            // A waiter that has waited before goes back to the front of the queue.
            let lifo = wait_start.is_some();
            let since = *wait_start.get_or_insert_with(Instant::now);
            self.counters.parks.fetch_add(1, Ordering::Relaxed);
            self.sema.acquire(lifo);
            starving =
                starving || (self.starvation_allowed && since.elapsed() > STARVATION_THRESHOLD);
            old = self.state.load(Ordering::Acquire);
            if old & MUTEX_STARVING != 0 {
                // Handed off: the unlocker left `locked` clear and counted us as a waiter still.
                let mut delta = MUTEX_LOCKED - ONE_WAITER;
                if !starving || old >> MUTEX_WAITER_SHIFT == 1 {
                    // Leave starvation mode: we waited briefly, or nobody is behind us.
                    delta -= MUTEX_STARVING;
                }
                self.state.fetch_add(delta, Ordering::Acquire);
                break;
            }
            awoke = true;
            iter = 0;
        }
        let waited = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.counters
            .max_wait_ns
            .fetch_max(waited, Ordering::Relaxed);
    }

    /// Go's `Unlock`: clear `locked`; if nothing else is set, done.
    fn unlock(&self) {
        let new = self.state.fetch_sub(MUTEX_LOCKED, Ordering::Release) - MUTEX_LOCKED;
        if new != 0 {
            self.unlock_slow(new);
        }
    }

    fn unlock_slow(&self, new: i32) {
        if new & MUTEX_STARVING != 0 {
            // Starvation mode: give the lock to the first waiter. `locked` stays clear, but no
            // newcomer takes it because `starving` is set; the waiter sets `locked` itself.
            self.counters.handoffs.fetch_add(1, Ordering::Relaxed);
            self.sema.release(true);
            return;
        }
        let mut old = new;
        loop {
            // Nobody to wake, or someone already locked it, is awake, or the mode changed.
            if old >> MUTEX_WAITER_SHIFT == 0
                || old & (MUTEX_LOCKED | MUTEX_WOKEN | MUTEX_STARVING) != 0
            {
                return;
            }
            // Take one waiter off the count and mark it woken, then wake it to compete.
            let woke = (old - ONE_WAITER) | MUTEX_WOKEN;
            match self
                .state
                .compare_exchange(old, woke, Ordering::Release, Ordering::Relaxed)
            {
                Ok(_) => {
                    self.sema.release(false);
                    return;
                }
                Err(now) => old = now,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;

    #[test]
    fn state_word_round_trips_and_prints_its_bits() {
        let s = State {
            locked: true,
            woken: false,
            starving: true,
            waiters: 2,
        };
        assert_eq!(s.encode(), 0b10101);
        assert_eq!(State::decode(0b10101), s);
        assert_eq!(s.to_string(), "0b10101 = locked|starving, waiters=2");
        assert_eq!(
            State::default().to_string(),
            "0b00000 = unlocked, waiters=0"
        );
    }

    #[test]
    fn try_lock_fails_while_held_and_succeeds_after() {
        let m = GoMutex::new();
        let g = m.lock();
        assert!(m.try_lock().is_none());
        assert_eq!(m.state(), State::decode(MUTEX_LOCKED));
        drop(g);
        assert!(m.try_lock().is_some());
        assert_eq!(m.state(), State::default());
    }

    /// Mutual exclusion: every thread does load-then-store increments that lose updates unless no
    /// two of them are ever inside at once.
    #[test]
    fn mutual_exclusion_under_contention_loses_no_update() {
        for m in [GoMutex::new(), GoMutex::without_starvation()] {
            let counter = AtomicU64::new(0);
            let (threads, each) = (4, 20_000);
            std::thread::scope(|s| {
                for _ in 0..threads {
                    s.spawn(|| {
                        for _ in 0..each {
                            let _g = m.lock();
                            let v = counter.load(Ordering::Relaxed);
                            counter.store(v + 1, Ordering::Relaxed);
                        }
                    });
                }
            });
            assert_eq!(counter.load(Ordering::Relaxed), threads * each);
            if !m.starvation_allowed {
                assert_eq!(m.stats().starvation_entries, 0);
                assert_eq!(m.stats().handoffs, 0);
            }
            assert_eq!(m.state(), State::default(), "all released: {}", m.state());
        }
    }
}
