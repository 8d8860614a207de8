//! The three fixes of the racy counter as real Rust code, each run with threads released together.
//!
//! | fix | shared state | what makes it correct |
//! |---|---|---|
//! | [`count_with_mutex`] | `Mutex<u64>` | the `u64` is reachable only through the guard |
//! | [`count_with_atomic`] | `AtomicU64` | `fetch_add` is one indivisible read-modify-write |
//! | [`count_with_owner`] | none: the owner thread's local | increments travel over a channel |
//!
//! They are Go's three answers (`sync.Mutex`, `sync/atomic`, a goroutine that owns the data) with
//! the same shape as `go/cmd/go09-race`. The difference is when the mistake is caught. In Go, the
//! racy version compiles and `-race` finds the race at run time, if the run hits it. In Rust, only
//! these versions compile: `thread::scope` and `thread::spawn` demand `Send` closures, a `&T` is
//! `Send` only when `T: Sync`, and `u64` behind a `&mut` cannot be lent twice. The assertions below
//! are evaluated by the compiler; if one of the fixed types lost its `Send`/`Sync`, this crate
//! would not build.
//!
//! # How the real system differs
//! Go's Mutex parks goroutines and its channel hands values between goroutines without a kernel
//! call; std's `Mutex` and `mpsc` park OS threads on a futex. The counts are the same; the costs
//! are not (`lab bench counters` compares them).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Barrier, Mutex, mpsc};
use std::thread;

/// Compile-time facts the fixes rest on. Nothing runs: a `T` that is not `Send + Sync` here is a
/// build error, not a failed test.
const _: () = {
    const fn shareable<T: Send + Sync>() {}
    const fn movable<T: Send>() {}
    shareable::<Mutex<u64>>();
    shareable::<std::sync::Arc<Mutex<u64>>>();
    shareable::<AtomicU64>();
    movable::<mpsc::Sender<u64>>();
    movable::<mpsc::Receiver<u64>>();
};

/// Runs `body` on `threads` scoped threads, released together by a barrier, and waits for them.
fn released_together(threads: usize, body: impl Fn() + Sync) {
    let start = Barrier::new(threads);
    thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                start.wait();
                body();
            });
        }
    });
}

/// Fix 1: `threads × each` increments of a `u64` inside a `Mutex`.
pub fn count_with_mutex(threads: usize, each: u64) -> u64 {
    let counter = Mutex::new(0u64);
    released_together(threads, || {
        for _ in 0..each {
            *counter.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        }
    });
    counter.into_inner().unwrap_or_else(|e| e.into_inner())
}

/// Fix 2: `threads × each` `fetch_add`s on an `AtomicU64`. `Relaxed` is enough: only the total
/// matters, and joining the threads orders their writes before the final load.
pub fn count_with_atomic(threads: usize, each: u64) -> u64 {
    let counter = AtomicU64::new(0);
    released_together(threads, || {
        for _ in 0..each {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    });
    counter.load(Ordering::Relaxed)
}

/// Fix 3: the counter is a local of one owner thread; `threads` senders send it `each` ones. A
/// bounded channel keeps the queue short; the owner's loop ends when every sender is dropped.
pub fn count_with_owner(threads: usize, each: u64) -> u64 {
    let (tx, rx) = mpsc::sync_channel::<u64>(128);
    thread::scope(|s| {
        let owner = s.spawn(move || {
            let mut counter = 0u64;
            for delta in rx {
                counter += delta;
            }
            counter
        });
        released_together(threads, || {
            for _ in 0..each {
                // The owner outlives every sender, so the send cannot fail.
                let _ = tx.send(1);
            }
        });
        drop(tx);
        owner.join().unwrap_or(0)
    })
}

/// One fix and what it counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub fix: &'static str,
    pub expected: u64,
    pub got: u64,
}

impl Tally {
    /// Increments that did not make it into the total.
    pub fn lost(&self) -> u64 {
        self.expected.saturating_sub(self.got)
    }

    /// The claim for every fix: nothing lost, nothing invented.
    pub fn exact(&self) -> bool {
        self.got == self.expected
    }
}

/// A counting function: `(threads, each) -> total`.
pub type Counter = fn(usize, u64) -> u64;

/// The three fixes with `threads × each` increments.
pub fn tally_all(threads: usize, each: u64) -> Vec<Tally> {
    let expected = threads as u64 * each;
    let fixes: [(&'static str, Counter); 3] = [
        ("Mutex<u64>", count_with_mutex),
        ("AtomicU64", count_with_atomic),
        ("owner thread + mpsc", count_with_owner),
    ];
    fixes
        .into_iter()
        .map(|(fix, count)| Tally {
            fix,
            expected,
            got: count(threads, each),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    // The three fixes count every increment: no update is lost under contention.
    #[test]
    fn every_fix_counts_every_increment() {
        for t in tally_all(4, 20_000) {
            assert!(t.exact(), "{t:?}");
            assert_eq!(t.lost(), 0);
        }
    }

    // A counter updated with a separate load and store is the racy counter without `unsafe`: the
    // check must be able to tell it apart. Two threads interleaved by hand lose one update.
    #[test]
    fn a_lost_update_is_not_exact() {
        let t = Tally {
            fix: "load then store",
            expected: 2,
            got: 1,
        };
        assert!(!t.exact());
        assert_eq!(t.lost(), 1);
        assert!(
            !Tally {
                fix: "invented",
                expected: 2,
                got: 3
            }
            .exact()
        );
    }

    #[test]
    fn one_thread_and_zero_increments_are_fine() {
        assert_eq!(count_with_owner(1, 0), 0);
        assert_eq!(count_with_mutex(1, 3), 3);
    }
}
