//! What Rust still allows: race conditions that are not data races.
//!
//! A *data race* is two unsynchronized accesses to one memory location, at least one a write. Safe
//! Rust has none. A *race condition* is a bug where the result depends on how threads interleave,
//! and safe Rust has as many as any language. The classic one is a read-modify-write split into
//! two atomic steps. Each step is atomic, so there is no data race, but another thread can slip in
//! between them:
//!
//! ```text
//!   schedule INTERLEAVED          counter        the same with fetch_add
//!   A: v = load()    (0)            0            A: (read: nothing)
//!   B: v = load()    (0)            0            B: (read: nothing)
//!   A: store(v + 1)                 1            A: fetch_add(1)      1
//!   B: store(v + 1)                 1  ← lost    B: fetch_add(1)      2
//! ```
//!
//! Check-then-act is the same bug with a condition: two withdrawals of 100 from a balance of 100
//! both see enough money and both subtract it.
//!
//! The threads here really run concurrently, but a coordinator decides which step runs next. Each
//! thread waits for a "go" message before each of its two steps and acknowledges it when the step
//! is done. The interleaving is therefore data (a [`Schedule`]), forced by channels and not by
//! sleeps, and every run gives the same result.
//!
//! # How the real system differs
//! Go has the same split: `atomic.Int64`'s `Load` then `Store` loses updates exactly like this, and
//! `-race` stays silent because atomics are synchronizing accesses. Neither language's tools find
//! these bugs: the race detector looks for data races only, and Rust's type system rules out only
//! data races.

use std::sync::atomic::{AtomicI64, Ordering::SeqCst};
use std::sync::mpsc;
use std::thread;

/// Which thread runs its next step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    A,
    B,
}

/// The order in which the two threads take their two steps each.
pub type Schedule = [Who; 4];

/// A finishes before B starts.
pub const SERIAL: Schedule = [Who::A, Who::A, Who::B, Who::B];
/// Both read before either writes: the worst case for a split read-modify-write.
pub const INTERLEAVED: Schedule = [Who::A, Who::B, Who::A, Who::B];

/// One thread's update, as two steps: a read step and a write step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Update {
    /// `+1` as `load` then `store(v + 1)`: two atomic steps, not one.
    LoadThenStore,
    /// `+1` as one `fetch_add` in the write step.
    FetchAdd,
    /// Withdraw 100 if the balance covers it: check with `load`, then `fetch_sub` (two steps).
    CheckThenWithdraw,
    /// Withdraw 100 if the balance covers it, check and subtract in one `fetch_update` (CAS loop).
    WithdrawIfCovered,
}

impl Update {
    /// What the shared value starts at: 0 for a counter, 100 for a balance.
    pub fn initial(self) -> i64 {
        match self {
            Update::LoadThenStore | Update::FetchAdd => 0,
            Update::CheckThenWithdraw | Update::WithdrawIfCovered => 100,
        }
    }

    /// What the value must be after both threads' updates, whatever the interleaving: two
    /// increments make 2, and only one of two withdrawals of 100 from 100 can succeed.
    pub fn correct(self) -> i64 {
        match self {
            Update::LoadThenStore | Update::FetchAdd => 2,
            Update::CheckThenWithdraw | Update::WithdrawIfCovered => 0,
        }
    }

    /// Runs step `step` (0 = read, 1 = write) of this update on `value`; `seen` carries what the
    /// read step saw to the write step.
    fn step(self, step: usize, value: &AtomicI64, seen: &mut i64) {
        match (self, step) {
            (Update::LoadThenStore | Update::CheckThenWithdraw, 0) => *seen = value.load(SeqCst),
            (Update::LoadThenStore, _) => value.store(*seen + 1, SeqCst),
            (Update::CheckThenWithdraw, _) => {
                if *seen >= 100 {
                    value.fetch_sub(100, SeqCst);
                }
            }
            (Update::FetchAdd | Update::WithdrawIfCovered, 0) => {}
            (Update::FetchAdd, _) => {
                value.fetch_add(1, SeqCst);
            }
            (Update::WithdrawIfCovered, _) => {
                let _ = value.fetch_update(SeqCst, SeqCst, |b| (b >= 100).then_some(b - 100));
            }
        }
    }
}

/// A schedule is well formed when each thread takes exactly its two steps.
pub fn well_formed(schedule: Schedule) -> bool {
    [Who::A, Who::B]
        .iter()
        .all(|w| schedule.iter().filter(|s| *s == w).count() == 2)
}

/// Runs `update` on two threads sharing one `AtomicI64`, stepping them in the order `schedule`
/// gives, and returns the final value. Each thread blocks on its own "go" channel before each
/// step and reports on a shared "done" channel after it, so exactly one step runs at a time.
///
/// # Panics
/// If the schedule is not [`well_formed`]: a thread told to take a third step would never answer.
pub fn run(update: Update, schedule: Schedule) -> i64 {
    assert!(
        well_formed(schedule),
        "each thread takes exactly two steps: {schedule:?}"
    );
    let value = AtomicI64::new(update.initial());
    let (done_tx, done_rx) = mpsc::channel::<Who>();
    thread::scope(|s| {
        let mut go = Vec::new();
        for who in [Who::A, Who::B] {
            let (go_tx, go_rx) = mpsc::channel::<()>();
            go.push((who, go_tx));
            let done = done_tx.clone();
            let value = &value;
            s.spawn(move || {
                let mut seen = 0;
                for step in 0..2 {
                    if go_rx.recv().is_err() {
                        return;
                    }
                    update.step(step, value, &mut seen);
                    if done.send(who).is_err() {
                        return;
                    }
                }
            });
        }
        // Only the threads hold "done" senders now: if one died, `recv` fails instead of hanging.
        drop(done_tx);
        for who in schedule {
            let Some((_, tx)) = go.iter().find(|(w, _)| *w == who) else {
                continue;
            };
            if tx.send(()).is_err() || done_rx.recv() != Ok(who) {
                break;
            }
        }
        // Dropping the "go" senders releases any thread still waiting, so the scope can end.
        drop(go);
    });
    value.load(SeqCst)
}

/// Whether a run of `update` under `schedule` ended with the value every serial run gives.
pub fn is_correct(update: Update, final_value: i64) -> bool {
    final_value == update.correct()
}

#[cfg(test)]
mod tests {
    use super::*;

    // A lost update: a read-modify-write split into a load and a store loses one of two increments
    // when both threads read before either writes, although every access is atomic.
    #[test]
    fn a_split_increment_loses_an_update_when_interleaved() {
        assert_eq!(run(Update::LoadThenStore, INTERLEAVED), 1);
        assert!(!is_correct(Update::LoadThenStore, 1));
    }

    // The counterexample: serially, the split increment is correct, so the check can pass.
    #[test]
    fn a_split_increment_is_correct_when_serial() {
        assert_eq!(run(Update::LoadThenStore, SERIAL), 2);
        assert!(is_correct(Update::LoadThenStore, 2));
    }

    #[test]
    fn fetch_add_is_correct_under_both_schedules() {
        assert_eq!(run(Update::FetchAdd, INTERLEAVED), 2);
        assert_eq!(run(Update::FetchAdd, SERIAL), 2);
    }

    // Check-then-act: both withdrawals see 100 and both subtract, leaving -100.
    #[test]
    fn check_then_act_overdraws_when_interleaved() {
        assert_eq!(run(Update::CheckThenWithdraw, INTERLEAVED), -100);
        assert_eq!(run(Update::CheckThenWithdraw, SERIAL), 0);
        assert_eq!(run(Update::WithdrawIfCovered, INTERLEAVED), 0);
    }

    #[test]
    fn only_two_steps_per_thread_make_a_schedule() {
        assert!(well_formed(SERIAL) && well_formed(INTERLEAVED));
        assert!(!well_formed([Who::A, Who::A, Who::A, Who::B]));
    }
}
