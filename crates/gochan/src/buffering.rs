//! Synchronous or asynchronous? A channel of capacity `k` lets a sender run exactly `k` values
//! ahead of its receiver, and no further; `k = 0` is the synchronous case.
//!
//! Answers **go-20 「Channel是同步的还是异步的」** (are channels synchronous or asynchronous?). Both,
//! depending on the capacity given to `make`: an unbuffered channel (`make(chan T)`) is synchronous,
//! a send finishes only together with a receive (go-03, [`crate::rendezvous`], proves that part in
//! detail); a buffered channel (`make(chan T, k)`) is asynchronous only while its buffer has room. It
//! is a bounded queue, not a mailbox: the `(k+1)`-th send without a receive blocks exactly like an
//! unbuffered send, values still come out in FIFO order, and `close` does not throw buffered values
//! away (receivers drain them first).
//!
//! # The invariant
//!
//! The Go memory model's rule for a channel of capacity `C`: the k-th receive is synchronized before
//! the `(k+C)`-th send completes. Seen from a sender with no receiver at all, it says: **exactly `C`
//! sends complete, the `(C+1)`-th parks**, and `len(ch) == C` at that moment. [`RunAhead`] records
//! that observation for one capacity, and [`sends_until_refused`] is the one rule that counts it.
//!
//! ```text
//!  make(chan int, 3), nobody receiving
//!
//!    ch <- 0   ch <- 1   ch <- 2        ch <- 3
//!    returns   returns   returns        parks: the goroutine waits on sendq with 3 in its sudog
//!
//!    buf: [ 0 │ 1 │ 2 ]   len = cap = 3     sendq: ──► sudog{3}
//!          ▲recvx      ▲sendx (wrapped to 0)
//!
//!  one <-ch takes 0 from buf[recvx], moves the parked 3 into the freed slot, wakes the sender:
//!    buf: [ 3 │ 1 │ 2 ]   recvx = sendx = 1, still FIFO: 1, 2, 3 come out next
//! ```
//!
//! With capacity 0 the picture has no `buf`: the first send parks at once, its value stays in its
//! own sudog (so `len(ch)` is 0 while a sender waits), and a receiver copies it out directly.
//!
//! # How we observe it without sleeping
//!
//! Two measurements per capacity, made the same way on [`Chan`], on
//! `crossbeam_channel::bounded`, on `std::sync::mpsc::sync_channel` and on real Go channels
//! (`go/cmd/go20-buffered`):
//!
//! 1. **Non-blocking sends** (`try_send`; Go: `select` with `default`) on a fresh channel until the
//!    first one is refused. That count is how far a sender can run ahead, deterministically.
//! 2. **Blocking sends**: a thread (goroutine) sends `cap + 1` values and counts each send that
//!    returned. Once it is seen *parked* ([`Chan::waiting`] here; in Go the goroutine's state in
//!    `runtime.Stack` reads `chan send`), the count is read: it cannot change while the sender
//!    waits. One receive then releases it; the channel is closed and drained to check the order.
//!
//! The std and crossbeam channels have no way to see a parked sender, so for them only the first
//! measurement and the order are compared (`None` in [`RunAhead`] means "cannot be observed").
//!
//! # Worked example
//!
//! For capacities 0, 1, 3, 10 every implementation reports `sends_without_receiver = cap`,
//! `len_when_full = cap`, `sends_before_sender_parked = cap` and `received = [0, 1, ..., cap]`.
//! With capacity 2, two values buffered and a third sender parked, `close` fails the parked send
//! (Go: "send on closed channel" panic; here a [`crate::chan::SendError`] with the value), and the
//! receiver still drains `[0, 1]`.
//!
//! # How the real system differs
//!
//! - A parked Go sender is a goroutine on the channel's `sendq` (a `sudog`), costing a scheduler
//!   switch; here it is a parked OS thread. The counts are the same; the cost of reaching them is
//!   not (`lab bench channels` measures it).
//! - Go panics on a send to a closed channel, including a sender that was parked when `close` came;
//!   [`Chan`] returns the value in an error, crossbeam and std have no `close` (dropping the last
//!   sender plays that part, so a parked sender cannot race with it).
//! - Go's `len(ch)` reads `qcount` without the lock (a racy snapshot); [`Chan::len`] takes the lock.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::thread;
use std::time::{Duration, Instant};

use catalog::{Ctx, Demo, DemoError, Need, check, check_eq};
use serde::{Deserialize, Serialize};

use crate::chan::{Chan, RecvError, TrySendError};
use crate::rendezvous::{Crossbeam, Flavor, StdMpsc};

/// The capacities every demo measures, and the Go program's default.
pub const CAPS: [usize; 4] = [0, 1, 3, 10];

/// The capacity of the close-while-a-sender-is-parked experiment.
pub const CLOSE_CAP: usize = 2;

/// The Go program of the `go-20/go-agrees` demo.
pub const GO_PROGRAM: &str = "cmd/go20-buffered";

/// How long a demo waits for a thread to park before it gives up. A safety net only: every wait
/// ends as soon as the parked thread is seen.
pub const PARK_DEADLINE: Duration = Duration::from_secs(5);

/// How far a sender ran ahead of a receiver that had not started, on a channel of capacity `cap`.
/// The Go program prints the same fields under the same names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunAhead {
    pub cap: usize,
    /// Non-blocking sends on a fresh channel that went through before the first refusal.
    pub sends_without_receiver: usize,
    /// `len(ch)` after those sends. `None` where the channel cannot report it (std).
    pub len_when_full: Option<usize>,
    /// Blocking sends that had returned when the sender was seen parked on the next one. `None`
    /// where a parked sender cannot be observed (std, crossbeam).
    pub sends_before_sender_parked: Option<usize>,
    /// Everything received, in order: one receive that releases the parked sender, then a drain
    /// after close. The sender sent `0, 1, ..., cap`.
    pub received: Vec<u32>,
}

impl RunAhead {
    /// What go-20's answer predicts for capacity `cap`.
    pub fn predicted(cap: usize) -> RunAhead {
        RunAhead {
            cap,
            sends_without_receiver: cap,
            len_when_full: Some(cap),
            sends_before_sender_parked: Some(cap),
            received: (0..=cap as u32).collect(),
        }
    }
}

/// The fields on which two observations disagree, as `field: ours vs theirs`. A field one side
/// could not observe (`None`) is not compared.
pub fn disagreements(ours: &RunAhead, theirs: &RunAhead) -> Vec<String> {
    fn opt(field: &str, a: Option<usize>, b: Option<usize>, out: &mut Vec<String>) {
        if let (Some(a), Some(b)) = (a, b)
            && a != b
        {
            out.push(format!("{field}: ours {a} vs theirs {b}"));
        }
    }
    let mut out = Vec::new();
    if ours.cap != theirs.cap {
        out.push(format!("cap: ours {} vs theirs {}", ours.cap, theirs.cap));
    }
    if ours.sends_without_receiver != theirs.sends_without_receiver {
        out.push(format!(
            "sends_without_receiver: ours {} vs theirs {}",
            ours.sends_without_receiver, theirs.sends_without_receiver
        ));
    }
    opt(
        "len_when_full",
        ours.len_when_full,
        theirs.len_when_full,
        &mut out,
    );
    opt(
        "sends_before_sender_parked",
        ours.sends_before_sender_parked,
        theirs.sends_before_sender_parked,
        &mut out,
    );
    if ours.received != theirs.received {
        out.push(format!(
            "received: ours {:?} vs theirs {:?}",
            ours.received, theirs.received
        ));
    }
    out
}

/// The rule that measures run-ahead: offer the values `0, 1, 2, ...` to a non-blocking send until
/// one is refused, and return how many went through. Stops at `limit`, so a channel that never
/// refuses (an unbounded queue: truly "fire and forget") reports `limit` instead of looping.
pub fn sends_until_refused(mut try_send: impl FnMut(u32) -> bool, limit: usize) -> usize {
    (0..limit)
        .take_while(|&i| try_send(u32::try_from(i).unwrap_or(u32::MAX)))
        .count()
}

/// Polls `cond` (yielding in between) until it holds; `Err` naming `what` after `PARK_DEADLINE`.
/// For "wait until that thread has parked", never for ordering by time.
pub fn until(what: &str, mut cond: impl FnMut() -> bool) -> Result<(), String> {
    let start = Instant::now();
    while !cond() {
        if start.elapsed() > PARK_DEADLINE {
            return Err(format!("{what}: not seen within {PARK_DEADLINE:?}"));
        }
        thread::yield_now();
    }
    Ok(())
}

/// Both measurements on a [`Chan`] of capacity `cap`.
pub fn observe_chan(cap: usize) -> Result<RunAhead, String> {
    let probe: Chan<u32> = Chan::new(cap);
    let sends_without_receiver = sends_until_refused(|v| probe.try_send(v).is_ok(), cap + 100);
    let len_when_full = probe.len();

    let ch: Chan<u32> = Chan::new(cap);
    let completed = AtomicUsize::new(0);
    let values = u32::try_from(cap + 1).map_err(|_| "capacity too large".to_string())?;
    thread::scope(|s| {
        let sender = s.spawn(|| {
            for v in 0..values {
                if ch.send(v).is_err() {
                    break;
                }
                completed.fetch_add(1, SeqCst);
            }
        });
        if let Err(e) = until("the sender parked on the full channel", || {
            ch.waiting().1 == 1
        }) {
            // Release the sender so the scope can end: it gets its value back and stops.
            let _ = ch.close();
            return Err(e);
        }
        let sends_before_sender_parked = completed.load(SeqCst);
        let first = ch.recv().map_err(|e| format!("first receive: {e}"))?;
        sender
            .join()
            .map_err(|_| "the sender thread panicked".to_string())?;
        ch.close().map_err(|e| format!("close: {e}"))?;
        let received = std::iter::once(first).chain(ch.iter()).collect();
        Ok(RunAhead {
            cap,
            sends_without_receiver,
            len_when_full: Some(len_when_full),
            sends_before_sender_parked: Some(sends_before_sender_parked),
            received,
        })
    })
}

/// The measurements a std or crossbeam channel allows: non-blocking sends until refused, then a
/// thread sends one more (blocking), one receive, the sender is dropped (their `close`) and the
/// rest is drained.
pub fn observe_flavor<F: Flavor>(cap: usize) -> RunAhead {
    let (tx, rx) = F::with_capacity(cap);
    let sent = sends_until_refused(|v| F::try_send(&tx, v), cap + 100);
    let last = u32::try_from(sent).unwrap_or(u32::MAX);
    let received = thread::scope(|s| {
        // The thread owns `tx`, so when it ends the channel is disconnected: Go's close.
        let sender = s.spawn(move || F::send(&tx, last));
        let first = F::recv(&rx);
        let _ = sender.join();
        first
            .into_iter()
            .chain(std::iter::from_fn(|| F::recv(&rx)))
            .collect()
    });
    RunAhead {
        cap,
        sends_without_receiver: sent,
        len_when_full: None,
        sends_before_sender_parked: None,
        received,
    }
}

/// [`observe_flavor`] on `crossbeam_channel::bounded`, plus its `len()`.
pub fn observe_crossbeam(cap: usize) -> RunAhead {
    let (tx, _rx) = crossbeam_channel::bounded::<u32>(cap);
    let _ = sends_until_refused(|v| tx.try_send(v).is_ok(), cap + 100);
    RunAhead {
        len_when_full: Some(tx.len()),
        ..observe_flavor::<Crossbeam>(cap)
    }
}

/// Closing a full buffered channel while a sender is parked on it. Same fields as the Go program.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloseDrain {
    pub cap: usize,
    /// The parked send failed when the channel was closed (Go: it panicked).
    pub parked_sender_failed: bool,
    /// `len(ch)` right after close: buffered values are kept.
    pub len_after_close: usize,
    /// What receivers got after close, in order, before being told the channel is closed.
    pub drained: Vec<u32>,
}

impl CloseDrain {
    pub fn predicted(cap: usize) -> CloseDrain {
        CloseDrain {
            cap,
            parked_sender_failed: true,
            len_after_close: cap,
            drained: (0..cap as u32).collect(),
        }
    }
}

/// Fills a [`Chan`] of capacity `cap`, parks one more sender on it, closes it, and drains it.
pub fn close_while_sender_parked(cap: usize) -> Result<CloseDrain, String> {
    let ch: Chan<u32> = Chan::new(cap);
    let values = u32::try_from(cap).map_err(|_| "capacity too large".to_string())?;
    for v in 0..values {
        ch.try_send(v)
            .map_err(|e| format!("filling the buffer, value {v}: {e}"))?;
    }
    thread::scope(|s| {
        let sender = s.spawn(|| ch.send(values));
        let parked = until("the extra sender parked", || ch.waiting().1 == 1);
        ch.close().map_err(|e| format!("close: {e}"))?;
        parked?;
        let outcome = sender
            .join()
            .map_err(|_| "the sender thread panicked".to_string())?;
        let len_after_close = ch.len();
        let drained: Vec<u32> = ch.iter().collect();
        let closed_after = ch.recv() == Err(RecvError::Closed);
        if !closed_after {
            return Err("after draining, a receive did not report closed".into());
        }
        Ok(CloseDrain {
            cap,
            parked_sender_failed: outcome.is_err(),
            len_after_close,
            drained,
        })
    })
}

/// What `go/cmd/go20-buffered` prints.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoReport {
    pub go_version: String,
    pub caps: Vec<RunAhead>,
    pub close: CloseDrain,
}

fn opt(v: Option<usize>) -> String {
    v.map_or_else(|| "-".to_string(), |v| v.to_string())
}

fn line(side: &str, r: &RunAhead) -> String {
    format!(
        "{side:<10} cap {:>2}: {:>2} sends without a receiver, len {:>2}, parked after {:>2}, received {:?}",
        r.cap,
        r.sends_without_receiver,
        opt(r.len_when_full),
        opt(r.sends_before_sender_parked),
        r.received
    )
}

pub const SENDER_RUNS_CAP_AHEAD: Demo = Demo {
    name: "go-20/sender-runs-exactly-cap-ahead",
    claim: "With no receiver, a sender on a channel of capacity k completes exactly k sends (len = k) \
            and parks on the (k+1)-th; k = 0 is the synchronous case, where the first send parks.",
    needs: Need::Nothing,
    run: sender_runs_cap_ahead,
};

fn sender_runs_cap_ahead(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    ctx.say("gochan::chan::Chan: try_send until refused, then a thread sends cap+1 values and is");
    ctx.say("watched until it parks (Chan::waiting), then one recv, close, drain.");
    for cap in CAPS {
        let ours = observe_chan(cap).map_err(DemoError::Broken)?;
        ctx.say(line("gochan", &ours));
        let diff = disagreements(&ours, &RunAhead::predicted(cap));
        check!(
            diff.is_empty(),
            "capacity {cap}: not what the k+C rule predicts: {}",
            diff.join("; ")
        );
    }
    ctx.say("cap 0: the first send already parks and len stays 0: the value waits in the sender,");
    ctx.say(
        "not in the channel (the rendezvous of go-03). Each extra slot lets it run one further.",
    );
    Ok(())
}

pub const RUST_CHANNELS_AGREE: Demo = Demo {
    name: "go-20/std-and-crossbeam-run-the-same-distance",
    claim: "std::sync::mpsc::sync_channel(k) and crossbeam_channel::bounded(k) also accept exactly k \
            sends without a receiver and deliver in FIFO order, the last value after the receiver \
            made room.",
    needs: Need::Nothing,
    run: rust_channels_agree,
};

fn rust_channels_agree(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    ctx.say("('-': the channel has no way to show it.)");
    for cap in CAPS {
        let predicted = RunAhead::predicted(cap);
        for (side, ours) in [
            ("std", observe_flavor::<StdMpsc>(cap)),
            ("crossbeam", observe_crossbeam(cap)),
        ] {
            ctx.say(line(side, &ours));
            let diff = disagreements(&ours, &predicted);
            check!(
                diff.is_empty(),
                "{side}, capacity {cap}: {}",
                diff.join("; ")
            );
        }
    }
    Ok(())
}

pub const CLOSE_DRAINS: Demo = Demo {
    name: "go-20/close-keeps-buffered-values",
    claim: "Closing a full buffered channel fails the sender parked on it (Go panics) but keeps the \
            buffered values: receivers still get them in order, then see the channel closed.",
    needs: Need::Nothing,
    run: close_drains,
};

fn close_drains(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let got = close_while_sender_parked(CLOSE_CAP).map_err(DemoError::Broken)?;
    ctx.say(format!(
        "capacity {}: filled, one more sender parked, close → parked send failed: {}, len after \
         close {}, drained {:?}, then closed",
        got.cap, got.parked_sender_failed, got.len_after_close, got.drained
    ));
    check_eq!(
        got,
        CloseDrain::predicted(CLOSE_CAP),
        "close with a parked sender"
    );
    let ch: Chan<u32> = Chan::new(1);
    ch.close().map_err(|e| DemoError::Broken(e.to_string()))?;
    let late = ch.try_send(9);
    ctx.say(format!(
        "a send after close: {late:?} (Go: panic: send on closed channel)"
    ));
    check!(
        matches!(late, Err(TrySendError::Closed(9))),
        "a send after close was not refused as closed: {late:?}"
    );
    Ok(())
}

pub const GO_AGREES: Demo = Demo {
    name: "go-20/go-agrees",
    claim: "Real Go channels of capacity 0, 1, 3 and 10 run exactly as far ahead as gochan, \
            crossbeam and std, deliver in the same order, and keep buffered values on close.",
    needs: Need::Go,
    run: go_agrees,
};

fn go_agrees(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let go = ctx.go()?;
    let caps: Vec<String> = CAPS.iter().map(ToString::to_string).collect();
    let caps = caps.join(",");
    ctx.say(format!(
        "go run ./{GO_PROGRAM} -caps {caps} -close-cap {CLOSE_CAP}   ({})",
        go.version
    ));
    let close_cap = CLOSE_CAP.to_string();
    let theirs: GoReport = go.run_json(GO_PROGRAM, &["-caps", &caps, "-close-cap", &close_cap])?;
    check_eq!(
        theirs.caps.iter().map(|r| r.cap).collect::<Vec<_>>(),
        CAPS.to_vec(),
        "capacities Go measured"
    );
    for (cap, go_side) in CAPS.into_iter().zip(&theirs.caps) {
        ctx.say(line("go", go_side));
        let sides = [
            ("predicted", RunAhead::predicted(cap)),
            ("gochan", observe_chan(cap).map_err(DemoError::Broken)?),
            ("crossbeam", observe_crossbeam(cap)),
            ("std", observe_flavor::<StdMpsc>(cap)),
        ];
        for (side, ours) in &sides {
            let diff = disagreements(ours, go_side);
            check!(
                diff.is_empty(),
                "capacity {cap}: {side} and Go disagree (ours = {side}, theirs = Go): {}",
                diff.join("; ")
            );
        }
    }
    ctx.say("capacity by capacity, Go agrees with the prediction, gochan, crossbeam and std");
    let ours = close_while_sender_parked(CLOSE_CAP).map_err(DemoError::Broken)?;
    ctx.say(format!(
        "close with a parked sender: Go {:?}; gochan {:?}",
        theirs.close, ours
    ));
    check_eq!(
        theirs.close,
        CloseDrain::predicted(CLOSE_CAP),
        "Go: close with a parked sender"
    );
    check_eq!(
        ours,
        theirs.close,
        "gochan vs Go: close with a parked sender"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_run_ahead_rule_counts_until_the_first_refusal() {
        let mut room = 3;
        let bounded = sends_until_refused(
            |_| {
                let ok = room > 0;
                room -= usize::from(ok);
                ok
            },
            50,
        );
        assert_eq!(bounded, 3);
        // Counterexample: an unbounded queue ("fire and forget") never refuses, so it reports the
        // limit, and the prediction for any small capacity rejects it.
        let unbounded = sends_until_refused(|_| true, 50);
        assert_eq!(unbounded, 50);
        let fire_and_forget = RunAhead {
            sends_without_receiver: unbounded,
            ..RunAhead::predicted(3)
        };
        assert_eq!(
            disagreements(&fire_and_forget, &RunAhead::predicted(3)),
            ["sends_without_receiver: ours 50 vs theirs 3"]
        );
    }

    #[test]
    fn disagreements_skip_only_what_one_side_cannot_see() {
        let go = RunAhead::predicted(2);
        let std_side = RunAhead {
            len_when_full: None,
            sends_before_sender_parked: None,
            ..RunAhead::predicted(2)
        };
        assert!(disagreements(&std_side, &go).is_empty());
        // Counterexample: out-of-order delivery and a sender that parked too early are caught.
        let wrong = RunAhead {
            sends_before_sender_parked: Some(1),
            received: vec![0, 2, 1],
            ..RunAhead::predicted(2)
        };
        let d = disagreements(&wrong, &go);
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(d[0].starts_with("sends_before_sender_parked"));
        assert!(d[1].starts_with("received"));
    }

    #[test]
    fn a_buffered_sender_parks_after_exactly_cap_sends() {
        // Phenomenon: without a receiver, capacity k admits k sends and parks the (k+1)-th.
        for cap in [0, 2, 5] {
            assert_eq!(observe_chan(cap).unwrap(), RunAhead::predicted(cap));
        }
    }

    #[test]
    fn std_and_crossbeam_admit_exactly_cap_sends() {
        for cap in [0, 2] {
            assert!(
                disagreements(&observe_flavor::<StdMpsc>(cap), &RunAhead::predicted(cap))
                    .is_empty()
            );
            assert_eq!(observe_crossbeam(cap).len_when_full, Some(cap));
        }
    }

    #[test]
    fn close_fails_the_parked_sender_and_keeps_the_buffer() {
        assert_eq!(
            close_while_sender_parked(3).unwrap(),
            CloseDrain::predicted(3)
        );
        // Counterexample: a close that dropped the buffer would be caught by the comparison.
        let dropped = CloseDrain {
            len_after_close: 0,
            drained: vec![],
            ..CloseDrain::predicted(3)
        };
        assert_ne!(dropped, CloseDrain::predicted(3));
    }

    #[test]
    fn the_go_programs_json_parses() {
        let json = r#"{"go_version":"go1.26.8","caps":[{"cap":1,"sends_without_receiver":1,
            "len_when_full":1,"sends_before_sender_parked":1,"received":[0,1]}],
            "close":{"cap":2,"parked_sender_failed":true,"len_after_close":2,"drained":[0,1]}}"#;
        let r: GoReport = serde_json::from_str(json).unwrap();
        assert_eq!(r.caps, vec![RunAhead::predicted(1)]);
        assert_eq!(r.close, CloseDrain::predicted(2));
        let extra = json.replacen(r#""cap":1,"#, r#""cap":1,"blocked":true,"#, 1);
        assert!(serde_json::from_str::<GoReport>(&extra).is_err());
    }
}
