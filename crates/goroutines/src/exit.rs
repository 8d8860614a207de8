//! go-48 (「如何在goroutine执行一半就退出协程」): the ways a goroutine (here, a thread) can stop
//! midway, and which cleanup runs in each.
//!
//! ```text
//!   way                 who decides        how the worker leaves              cleanup (defer/Drop)
//!   return              the worker         returns from its function          runs
//!   cancel              someone else       checks a token between steps       runs
//!   blocked-cancel      someone else       a select wakes on the token        runs
//!   goexit              the worker         unwinds to the top of the thread   runs
//!   panic (+ recover)   the worker         unwinds, caught at the top         runs
//!   ignores-cancel      nobody             never checks: runs to the end      runs, at the end
//! ```
//!
//! The last row is the point: neither Go nor Rust can stop a goroutine or thread from outside.
//! Go has no API for it at all; Rust's `JoinHandle` has none either, and killing an OS thread
//! with `pthread_cancel` would skip its destructors and is not offered by std. Stopping is always
//! cooperative: the worker must look at a [`CancelToken`] (Go: `ctx.Done()` / `ctx.Err()`).
//!
//! Each worker here does up to [`TOTAL`] steps and is stopped at step [`STOP_AT`]. Where the stop
//! comes from outside, worker and canceller meet on channels at that step, so the table
//! ([`rust_rows`]) is the same on every run and can be compared with `go/cmd/go48-exit`'s.
//!
//! ## How the real system differs
//! - `runtime.Goexit` is a runtime call that runs the deferred calls and ends the goroutine; the
//!   Rust stand-in ([`crate::defer::goexit`]) unwinds with a marker payload that
//!   [`crate::defer::run_task`] recognizes at the top of the thread.
//! - An unrecovered panic in *any* goroutine ends the whole Go program (exit status 2, other
//!   goroutines' defers skipped). In Rust a panicking thread ends alone; whoever joins it gets
//!   `Err` ([`panicking_thread_leaves_the_process_running`]).
//! - `runtime.Goexit` in the main goroutine lets the others run on and then fails with "no
//!   goroutines (main called runtime.Goexit) - deadlock!"; Rust's main thread has no such call.

use std::cell::Cell;
use std::panic::resume_unwind;

use crossbeam_channel::{Receiver, Sender, TryRecvError, bounded, never, select};

use crate::defer::{Ended, defer, goexit, run_task};

/// Steps each worker would do if nobody stopped it.
pub const TOTAL: u32 = 10;
/// The step at which each worker is stopped.
pub const STOP_AT: u32 = 4;

/// The ways to stop, in the order of the table.
pub const CASES: [&str; 6] = [
    "return",
    "cancel",
    "blocked-cancel",
    "goexit",
    "panic",
    "ignores-cancel",
];

/// The side that cancels: dropping its sender closes the channel every token watches, which is
/// Go's `close(done)` (and what `context.WithCancel`'s cancel function does underneath).
#[derive(Debug)]
pub struct Canceller {
    tx: Option<Sender<()>>,
}

/// The side that is cancelled: cheap to clone, checked between steps or waited on in a select.
#[derive(Debug, Clone)]
pub struct CancelToken {
    rx: Receiver<()>,
}

/// A new canceller and the token it controls.
pub fn cancellation() -> (Canceller, CancelToken) {
    let (tx, rx) = bounded(0);
    (Canceller { tx: Some(tx) }, CancelToken { rx })
}

impl Canceller {
    pub fn cancel(&mut self) {
        self.tx = None;
    }
}

impl CancelToken {
    /// Go's `ctx.Err() != nil`.
    pub fn is_cancelled(&self) -> bool {
        matches!(self.rx.try_recv(), Err(TryRecvError::Disconnected))
    }

    /// Go's `ctx.Done()`: becomes ready (disconnected) once cancelled.
    pub fn done(&self) -> &Receiver<()> {
        &self.rx
    }
}

/// One row of the table: how a worker stopped and whether its cleanup ran.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct Row {
    pub case: String,
    pub steps_done: u32,
    pub cleanup_ran: bool,
    /// `returned`, `cancelled`, `goexit`, `panicked` or `completed`.
    pub ended: String,
}

/// Runs one worker on its own thread, stopped the way `case` says.
pub fn run_case(case: &'static str) -> Row {
    let (mut canceller, token) = cancellation();
    let (reached_tx, reached) = bounded::<()>(0);
    let (ack, ack_rx) = bounded::<()>(0);
    let worker = std::thread::spawn(move || {
        let steps = Cell::new(0);
        let cleanup = Cell::new(false);
        let ended = Cell::new("completed");
        let how = run_task(|| {
            let _cleanup = defer(|| cleanup.set(true));
            let work: Receiver<u32> = never(); // nobody ever sends work
            for _ in 0..TOTAL {
                if case == "cancel" && token.is_cancelled() {
                    ended.set("cancelled");
                    return;
                }
                steps.set(steps.get() + 1);
                if steps.get() != STOP_AT {
                    continue;
                }
                match case {
                    "return" => {
                        ended.set("returned");
                        return;
                    }
                    "goexit" => goexit(),
                    // Unwinds like panic! without the panic hook's message; run_task catches it.
                    "panic" => resume_unwind(Box::new("boom")),
                    "cancel" | "ignores-cancel" => {
                        let _ = reached_tx.send(());
                        let _ = ack_rx.recv();
                    }
                    "blocked-cancel" => {
                        let _ = reached_tx.send(());
                        select! {
                            recv(work) -> _ => {}
                            recv(token.done()) -> _ => {
                                ended.set("cancelled");
                                return;
                            }
                        }
                    }
                    _ => {}
                }
            }
        });
        let ended = match how {
            Ended::Returned => ended.get(),
            Ended::Goexit => "goexit",
            Ended::Panicked => "panicked",
        };
        Row {
            case: case.to_string(),
            steps_done: steps.get(),
            cleanup_ran: cleanup.get(),
            ended: ended.to_string(),
        }
    });
    if matches!(case, "cancel" | "ignores-cancel" | "blocked-cancel") {
        let _ = reached.recv();
        canceller.cancel();
        drop(ack);
    }
    worker.join().unwrap_or_else(|_| Row {
        case: case.to_string(),
        steps_done: 0,
        cleanup_ran: false,
        ended: "thread died".to_string(),
    })
}

/// The whole table.
pub fn rust_rows() -> Vec<Row> {
    CASES.iter().map(|c| run_case(c)).collect()
}

/// What the table must say: the cleanup ran in every case; every worker stopped right at
/// [`STOP_AT`] except the one that ignores cancellation, which ran all [`TOTAL`] steps.
/// Returns the rows that break it.
pub fn rule_violations(rows: &[Row]) -> Vec<String> {
    let mut bad = Vec::new();
    for r in rows {
        let want = if r.case == "ignores-cancel" {
            TOTAL
        } else {
            STOP_AT
        };
        if !r.cleanup_ran {
            bad.push(format!("{}: cleanup did not run", r.case));
        }
        if r.steps_done != want {
            bad.push(format!(
                "{}: {} steps, expected {want}",
                r.case, r.steps_done
            ));
        }
    }
    if rows.len() != CASES.len() {
        bad.push(format!("{} rows, expected {}", rows.len(), CASES.len()));
    }
    bad
}

/// A thread that unwinds ends alone: the process (this caller) goes on, and `join` reports the
/// panic as `Err`. Returns whether it did.
pub fn panicking_thread_leaves_the_process_running() -> bool {
    std::thread::spawn(|| resume_unwind(Box::new("boom")))
        .join()
        .is_err()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_way_to_stop_runs_the_cleanup() {
        let rows = rust_rows();
        assert!(rule_violations(&rows).is_empty(), "{rows:?}");
        let ended: Vec<&str> = rows.iter().map(|r| r.ended.as_str()).collect();
        assert_eq!(
            ended,
            [
                "returned",
                "cancelled",
                "cancelled",
                "goexit",
                "panicked",
                "completed"
            ]
        );
    }

    #[test]
    fn rule_violations_flags_a_skipped_cleanup_and_a_late_stop() {
        let ok = Row {
            case: "cancel".into(),
            steps_done: STOP_AT,
            cleanup_ran: true,
            ended: "cancelled".into(),
        };
        let mut rows: Vec<Row> = CASES
            .iter()
            .map(|c| Row {
                case: c.to_string(),
                steps_done: if *c == "ignores-cancel" {
                    TOTAL
                } else {
                    STOP_AT
                },
                ..ok.clone()
            })
            .collect();
        assert!(rule_violations(&rows).is_empty());
        // Counterexamples: a kill that skipped the cleanup, a cancellation noticed a step late.
        rows[0].cleanup_ran = false;
        rows[1].steps_done = STOP_AT + 1;
        assert_eq!(rule_violations(&rows).len(), 2);
    }

    #[test]
    fn a_token_is_cancelled_only_after_cancel() {
        let (mut c, t) = cancellation();
        let t2 = t.clone();
        assert!(!t.is_cancelled());
        c.cancel();
        assert!(t.is_cancelled() && t2.is_cancelled());
    }

    #[test]
    fn a_panicking_thread_does_not_end_the_process() {
        assert!(panicking_thread_leaves_the_process_running());
    }
}
