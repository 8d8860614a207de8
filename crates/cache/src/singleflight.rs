//! Singleflight: at most one loader per key at a time; callers that arrive while it runs wait and
//! share its result (Go's `golang.org/x/sync/singleflight`, the in-process fix for a hot key's
//! cache breakdown — redis-06).
//!
//! ```text
//!   caller A ──► run("k", load) ── no flight for k: A becomes the leader, runs load()
//!   caller B ──► run("k", …)    ── flight exists: B waits on it            (waiting("k") = 1)
//!   caller C ──► run("k", …)    ── waits too                               (waiting("k") = 2)
//!   load() returns v ─► the flight is removed from the map, then A, B and C all get v
//!   caller D ──► run("k", …)    ── no flight any more: D leads a new one
//! ```
//!
//! Invariants: a key maps to at most one flight; a flight is removed from the map *before* its
//! waiters are woken, so nobody joins a finished flight; the map lock is never held while a loader
//! runs.
//!
//! A panicking loader does not poison the key: the panic is caught, the leader and every waiter
//! get [`FlightError::LoaderPanicked`] with the message, the flight is removed, and the next call
//! runs a fresh loader. (Go's package instead re-panics in the leader and crashes the program from
//! the waiters, on purpose: it cannot hand a result to them.)
//!
//! ## How the real system differs
//! This is one process's deduplication. Ten application servers each run their own flight, so the
//! database sees up to ten loads; across processes the lock lives in Redis (`SET NX PX`, see
//! redis-06's mutex variant).

use std::collections::HashMap;
use std::hash::Hash;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

/// Why a call got no value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlightError {
    /// The loader panicked; the message, if it was a string.
    LoaderPanicked(String),
}

impl std::fmt::Display for FlightError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FlightError::LoaderPanicked(m) => write!(f, "the loader panicked: {m}"),
        }
    }
}

impl std::error::Error for FlightError {}

/// What a caller got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shared<V> {
    pub value: Result<V, FlightError>,
    /// True for a waiter (the value came from another caller's loader), false for the leader.
    pub shared: bool,
}

#[derive(Debug)]
struct Flight<V> {
    result: Mutex<Option<Result<V, FlightError>>>,
    done: Condvar,
    waiters: Mutex<usize>,
}

/// See the module documentation.
#[derive(Debug)]
pub struct Group<K, V> {
    flights: Mutex<HashMap<K, Arc<Flight<V>>>>,
}

impl<K, V> Default for Group<K, V> {
    fn default() -> Self {
        Group {
            flights: Mutex::new(HashMap::new()),
        }
    }
}

/// A lock that ignores poisoning: no code here panics while holding one (loaders run unlocked).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<K: Hash + Eq + Clone, V: Clone> Group<K, V> {
    pub fn new() -> Self {
        Group::default()
    }

    /// Runs `load` unless a flight for `key` is already running, in which case waits for it.
    pub fn run(&self, key: K, load: impl FnOnce() -> V) -> Shared<V> {
        let flight = {
            let mut map = lock(&self.flights);
            if let Some(f) = map.get(&key) {
                let f = Arc::clone(f);
                *lock(&f.waiters) += 1;
                drop(map);
                return Shared {
                    value: Self::wait(&f),
                    shared: true,
                };
            }
            let f = Arc::new(Flight {
                result: Mutex::new(None),
                done: Condvar::new(),
                waiters: Mutex::new(0),
            });
            map.insert(key.clone(), Arc::clone(&f));
            f
        };
        let value = catch_unwind(AssertUnwindSafe(load)).map_err(|p| {
            let msg = p
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "non-string panic".into());
            FlightError::LoaderPanicked(msg)
        });
        lock(&self.flights).remove(&key);
        *lock(&flight.result) = Some(value.clone());
        flight.done.notify_all();
        Shared {
            value,
            shared: false,
        }
    }

    fn wait(f: &Flight<V>) -> Result<V, FlightError> {
        let mut r = lock(&f.result);
        loop {
            if let Some(v) = r.as_ref() {
                return v.clone();
            }
            r = f.done.wait(r).unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// How many callers are waiting on the running flight for `key` (0 when none runs) — for
    /// tests and demos that must know every caller has joined before letting the loader finish.
    pub fn waiting(&self, key: &K) -> usize {
        let map = lock(&self.flights);
        map.get(key).map_or(0, |f| *lock(&f.waiters))
    }

    /// Whether a flight for `key` is running.
    pub fn in_flight(&self, key: &K) -> bool {
        lock(&self.flights).contains_key(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::mpsc;
    use std::time::{Duration, Instant};

    /// Spins (yielding) until `cond`, with a safety-net deadline.
    fn wait_until(mut cond: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !cond() {
            assert!(Instant::now() < deadline, "timed out");
            std::thread::yield_now();
        }
    }

    #[test]
    fn concurrent_callers_share_one_load() {
        // The phenomenon: N callers miss at once, but the loader runs once.
        let g = Arc::new(Group::<&str, u64>::new());
        let loads = Arc::new(AtomicUsize::new(0));
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let leader = {
            let (g, loads) = (Arc::clone(&g), Arc::clone(&loads));
            std::thread::spawn(move || {
                g.run("k", || {
                    loads.fetch_add(1, Ordering::SeqCst);
                    release_rx.recv().ok();
                    42
                })
            })
        };
        wait_until(|| g.in_flight(&"k"));
        let followers: Vec<_> = (0..7)
            .map(|_| {
                let (g, loads) = (Arc::clone(&g), Arc::clone(&loads));
                std::thread::spawn(move || {
                    g.run("k", || {
                        loads.fetch_add(1, Ordering::SeqCst);
                        0
                    })
                })
            })
            .collect();
        wait_until(|| g.waiting(&"k") == 7);
        release_tx.send(()).unwrap();
        let l = leader.join().unwrap();
        assert_eq!(
            l,
            Shared {
                value: Ok(42),
                shared: false
            }
        );
        for f in followers {
            assert_eq!(
                f.join().unwrap(),
                Shared {
                    value: Ok(42),
                    shared: true
                }
            );
        }
        assert_eq!(loads.load(Ordering::SeqCst), 1);
        assert!(!g.in_flight(&"k"));
        // Counterexample: calls that do not overlap each run their own loader.
        let seq = Group::<&str, u64>::new();
        let n = AtomicUsize::new(0);
        for _ in 0..3 {
            seq.run("k", || n.fetch_add(1, Ordering::SeqCst) as u64);
        }
        assert_eq!(n.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn a_panicking_loader_does_not_poison_the_key() {
        let g = Arc::new(Group::<u32, String>::new());
        let (go_tx, go_rx) = mpsc::channel::<()>();
        let leader = {
            let g = Arc::clone(&g);
            std::thread::spawn(move || {
                g.run(1, || {
                    go_rx.recv().ok();
                    panic!("database down")
                })
            })
        };
        wait_until(|| g.in_flight(&1));
        let waiter = {
            let g = Arc::clone(&g);
            std::thread::spawn(move || g.run(1, || "never".to_string()))
        };
        wait_until(|| g.waiting(&1) == 1);
        go_tx.send(()).unwrap();
        let want = Err(FlightError::LoaderPanicked("database down".into()));
        assert_eq!(leader.join().unwrap().value, want);
        assert_eq!(waiter.join().unwrap().value, want);
        // The key works again.
        assert_eq!(g.run(1, || "ok".to_string()).value, Ok("ok".to_string()));
    }
}
