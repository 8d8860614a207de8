//! Three ways a Go function leaks goroutines, reproduced with threads, caught by the leak
//! detector of [`crate::tasks`], and fixed.
//!
//! Answers go-35 (「在Go函数中为什么会发生内存泄露」) and supplies go-43's leaky example. A
//! goroutine is a root for the garbage collector: whatever a parked goroutine references (its
//! stack, its channel, the buffers it holds) stays alive as long as it does, and a goroutine parked
//! on a channel nobody will ever touch again is parked forever. So in Go most "memory leaks" of a
//! function are goroutine leaks.
//!
//! ```text
//!   blocked sender       caller ◄─ first answer ── replica 0      returns with the answer
//!                                  ✗ nobody reads ─ replica 1, 2   parked on `send` forever
//!   forgotten ticker     caller starts   loop { select { tick => refresh, stop => return } }
//!                        and never stops it: the loop (and its ticker) live forever
//!   abandoned producer   consumer takes 5 items and leaves; the producer keeps producing into a
//!                        queue nobody drains (unbounded here: the backlog grows without limit)
//! ```
//!
//! Each scenario has a leaky and a fixed version ([`Scenario`]), both returning a clean-up that
//! the demo runs after the leak was observed, so a demo never leaves threads behind:
//!
//! | leak | fix (Go) | fix (here) |
//! |---|---|---|
//! | blocked sender | a channel with room for every replica | `bounded(replicas)` |
//! | forgotten ticker | `defer ticker.Stop()` plus a `ctx.Done()` case | a guard whose `Drop` stops it |
//! | abandoned producer | the producer selects on `ctx.Done()`; the consumer cancels | the same with [`crate::Context`] |
//!
//! # How the real system differs
//! In Go a channel is one object: as long as the blocked goroutine holds it, both ends exist, and
//! the sender can never learn that nobody will receive. A crossbeam channel has two ends, and
//! dropping every `Receiver` makes a blocked `send` return an error: the Rust version of the
//! blocked sender only leaks while the receiver is still held somewhere (here, handed back to the
//! caller, who keeps it). That is also how the clean-ups work: they drop the forgotten end.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crossbeam_channel::{Receiver, bounded, select, tick, unbounded};

use crate::context::Context;
use crate::tasks::Tasks;

/// What the demo runs after observing a scenario: ends whatever the scenario left running.
pub type Cleanup = Box<dyn FnOnce() + Send>;

/// One leak, as a leaky and a fixed function of the same job.
#[derive(Debug, Clone, Copy)]
pub struct Scenario {
    /// Also the name the Go program uses.
    pub name: &'static str,
    /// What the leaked task's name starts with.
    pub task: &'static str,
    /// How many tasks the leaky version leaves behind.
    pub leaks: usize,
    pub run: fn(&Tasks, bool) -> Cleanup,
}

/// Replicas [`first_of`] asks.
pub const REPLICAS: usize = 3;
/// Items the consumer of the abandoned-producer scenario takes before it leaves.
pub const TAKEN: u64 = 5;

pub const SCENARIOS: [Scenario; 3] = [
    Scenario {
        name: "blocked-sender",
        task: "replica",
        leaks: REPLICAS - 1,
        run: blocked_sender,
    },
    Scenario {
        name: "forgotten-ticker",
        task: "ticker",
        leaks: 1,
        run: forgotten_ticker,
    },
    Scenario {
        name: "abandoned-producer",
        task: "producer",
        leaks: 1,
        run: abandoned_producer,
    },
];

/// Asks `replicas` replicas and returns the first answer, with the channel the answers arrive on
/// (the caller keeps it, as a Go channel stays reachable from its goroutines). With capacity 0
/// the slower replicas block on `send` until the receiver is dropped; with a buffer for every
/// replica they all finish.
pub fn first_of(tasks: &Tasks, replicas: usize, buffered: bool) -> (usize, Receiver<usize>) {
    let (tx, rx) = bounded(if buffered { replicas } else { 0 });
    for i in 0..replicas {
        let tx = tx.clone();
        drop(tasks.spawn(format!("replica-{i}"), move || {
            let _ = tx.send(i);
        }));
    }
    let first = rx.recv().expect("a replica answers");
    (first, rx)
}

fn blocked_sender(tasks: &Tasks, fixed: bool) -> Cleanup {
    let (_, answers) = first_of(tasks, REPLICAS, fixed);
    Box::new(move || drop(answers))
}

/// A background refresher on a 1 ms ticker; stops when `stop` is dropped. Counts its refreshes.
fn start_ticker(tasks: &Tasks, refreshes: Arc<AtomicU64>) -> crossbeam_channel::Sender<()> {
    let (stop, stopped) = bounded::<()>(0);
    drop(tasks.spawn("ticker", move || {
        let ticker = tick(Duration::from_millis(1));
        loop {
            select! {
                recv(ticker) -> _ => { refreshes.fetch_add(1, Ordering::Relaxed); }
                recv(stopped) -> _ => return,
            }
        }
    }));
    stop
}

/// `time.NewTicker` with no `Stop`: the handle that could stop it stays alive (here: in the
/// returned clean-up, standing for a long-lived struct) and nobody uses it.
fn forgotten_ticker(tasks: &Tasks, fixed: bool) -> Cleanup {
    let stop = start_ticker(tasks, Arc::default());
    if fixed {
        let _guard = StopOnDrop(Some(stop)); // `defer ticker.Stop()`
        return Box::new(|| {});
    }
    Box::new(move || drop(stop))
}

/// The fix for the ticker: dropping the guard stops the loop.
#[derive(Debug)]
struct StopOnDrop(Option<crossbeam_channel::Sender<()>>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.take();
    }
}

/// A producer feeding an unbounded queue, a consumer that takes [`TAKEN`] items and leaves. The
/// leaky producer checks nothing and keeps going; the fixed one stops when the consumer cancels.
fn abandoned_producer(tasks: &Tasks, fixed: bool) -> Cleanup {
    let (ctx, cancel) = Context::with_cancel(&Context::background());
    let items = start_producer(tasks, fixed.then_some(ctx));
    for _ in 0..TAKEN {
        items.recv().expect("the producer produces");
    }
    cancel.cancel();
    // The leaky producer ignores the cancel; the queue stays referenced (by the caller, in Go by
    // the goroutine itself) until the clean-up drops it.
    Box::new(move || drop(items))
}

/// Produces one item per millisecond into an unbounded queue until the queue's receiver is gone
/// or, if it has one, `ctx` is done.
pub fn start_producer(tasks: &Tasks, ctx: Option<Context>) -> Receiver<u64> {
    let (tx, rx) = unbounded();
    drop(tasks.spawn("producer", move || {
        let ticker = tick(Duration::from_millis(1));
        for i in 0.. {
            if ctx.as_ref().is_some_and(|c| c.err().is_some()) || tx.send(i).is_err() {
                return;
            }
            let _ = ticker.recv();
        }
    }));
    rx
}

/// The leaked tasks' names with their numbering dropped (`replica-2` → `replica`), sorted.
pub fn kinds(names: &[String]) -> Vec<String> {
    let mut k: Vec<String> = names
        .iter()
        .map(|n| match n.rsplit_once('-') {
            Some((base, num)) if num.bytes().all(|b| b.is_ascii_digit()) => base.to_string(),
            _ => n.clone(),
        })
        .collect();
    k.sort();
    k
}

/// What the detector saw for one scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    pub leaked: Vec<String>,
    pub fixed_leaked: Vec<String>,
}

/// Runs the leaky and the fixed version under the detector; each clean-up must leave nothing.
pub fn observe(tasks: &Tasks, s: &Scenario, grace: Duration) -> Result<Observed, String> {
    let run = |fixed: bool| -> Result<Vec<String>, String> {
        let before = tasks.baseline();
        let cleanup = (s.run)(tasks, fixed);
        let leaked = match tasks.check_leaks(&before, grace) {
            Ok(()) => Vec::new(),
            Err(l) => l.names(),
        };
        cleanup();
        tasks
            .check_leaks(&before, Duration::from_secs(5))
            .map_err(|l| format!("{}: the clean-up left {l}", s.name))?;
        Ok(leaked)
    };
    Ok(Observed {
        leaked: run(false)?,
        fixed_leaked: run(true)?,
    })
}

/// The go-35 claim for one scenario: the leaky version leaves exactly `s.leaks` tasks of the
/// expected kind behind, the fixed one none.
pub fn leak_caught_and_fixed(s: &Scenario, o: &Observed) -> Result<(), String> {
    let want = vec![s.task.to_string(); s.leaks];
    if kinds(&o.leaked) != want {
        return Err(format!(
            "{}: expected the detector to report {want:?}, it reported {:?}",
            s.name, o.leaked
        ));
    }
    if !o.fixed_leaked.is_empty() {
        return Err(format!(
            "{}: the fix still leaks {:?}",
            s.name, o.fixed_leaked
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRACE: Duration = Duration::from_millis(50);

    #[test]
    fn every_leak_is_caught_and_every_fix_passes() {
        let tasks = Tasks::new();
        for s in &SCENARIOS {
            let o = observe(&tasks, s, GRACE).unwrap();
            leak_caught_and_fixed(s, &o).unwrap();
        }
        assert_eq!(tasks.live(), 0);
    }

    #[test]
    fn the_claim_fails_when_nothing_leaked_or_the_fix_leaks() {
        let s = &SCENARIOS[0];
        let none = Observed {
            leaked: vec![],
            fixed_leaked: vec![],
        };
        assert!(leak_caught_and_fixed(s, &none).is_err());
        let fix_leaks = Observed {
            leaked: vec!["replica-1".into(), "replica-2".into()],
            fixed_leaked: vec!["replica-0".into()],
        };
        assert!(leak_caught_and_fixed(s, &fix_leaks).is_err());
        let good = Observed {
            leaked: vec!["replica-2".into(), "replica-1".into()],
            fixed_leaked: vec![],
        };
        assert!(leak_caught_and_fixed(s, &good).is_ok());
    }

    #[test]
    fn the_abandoned_queue_keeps_growing() {
        let tasks = Tasks::new();
        let rx = start_producer(&tasks, None);
        let mut waited = 0;
        while rx.len() < 20 && waited < 5000 {
            std::thread::sleep(Duration::from_millis(1)); // polling a safety-netted condition
            waited += 1;
        }
        assert!(rx.len() >= 20);
        drop(rx);
        assert!(tasks.wait_until(Duration::from_secs(5), |n| n == 0));
    }
}
