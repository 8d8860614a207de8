//! An unbuffered channel is a rendezvous: a send and its receive finish together, or not at all.
//!
//! Answers **go-03 「无缓冲Chan的发送和接收是否同步」** (is an unbuffered channel send/receive
//! synchronous?). Yes: on a channel with capacity 0 there is nowhere to leave a value, so the sender
//! cannot finish until a receiver has turned up to take it, and a receiver cannot finish until a
//! sender has turned up to give it one. A buffered channel decouples the two sides until its buffer is
//! full (or empty).
//!
//! The Rust analogues are [`std::sync::mpsc::sync_channel`]`(0)` and
//! [`crossbeam_channel::bounded`]`(0)`, both of which document capacity 0 as a rendezvous. This
//! module makes the same observations on both and on real Go channels (`go/cmd/go03-rendezvous`),
//! and the `go-03/go-agrees` demo compares them field by field.
//!
//! # The invariant
//!
//! On an unbuffered channel, **the completion of the k-th send happens after the k-th receiver has
//! arrived**, and symmetrically the k-th receive completes only after the k-th sender arrived. This is
//! the Go memory model's rule "a receive from an unbuffered channel is synchronized before the
//! completion of the corresponding send", seen from the outside.
//!
//! # How we observe it without sleeping
//!
//! A sleep can only make an ordering likely. Instead each side publishes a counter of its own
//! *arrivals* just before it blocks, and the other side reads that counter just after its own
//! operation returned:
//!
//! ```text
//!  receiver thread                         sender thread
//!  ───────────────                         ─────────────
//!  arrivals.store(k+1)   (I am here)
//!  rx.recv() ──────────┐                   tx.send(k) ──┐ parks until a receiver takes k
//!                      └──── value k ◄──────────────────┘
//!                                          seen = arrivals.load()   must be ≥ k+1
//! ```
//!
//! [`had_happened`] is the one rule that decides a round: the peer's event for round `k` (0-based)
//! is its `(k+1)`-th, so it had happened when the counter read is greater than `k`. The counter is a
//! `Relaxed` atomic on purpose: it carries no synchronization of its own, so every ordering it shows
//! comes from the channel.
//!
//! The contrast must be just as deterministic. On a capacity-1 channel the receiver is held behind a
//! gate that only the sender opens, *after* its send returned and after it read the counter:
//!
//! ```text
//!  sender: tx.send(k) returns ─► seen = arrivals.load() (= k, receiver absent) ─► gate.send(())
//!  receiver:                                                gate.recv() ─► arrivals.store(k+1) ─► rx.recv()
//! ```
//!
//! The same rule then reports a violation in every round: the buffered send completed alone.
//!
//! # Worked example
//!
//! With 2000 rounds, [`observe`] on `sync_channel(0)` gives `sends_completed_after_receiver_arrived
//! = 2000`; on the gated `sync_channel(1)` it gives `buffered_sends_completed_before_receiver_arrived
//! = 2000`. A non-blocking `try_send` with nobody receiving fails on capacity 0 and succeeds on
//! capacity 1; `try_recv` on an empty unbuffered channel reports empty. Go's `select` with `default`
//! says the same.
//!
//! # How the real system differs
//!
//! - Go parks a *goroutine* (a `sudog` on the channel's `sendq`/`recvq`, then `gopark`) and a
//!   sender that finds a parked receiver copies the value straight onto the receiver's stack
//!   (`sendDirect`). The Rust channels park an OS *thread* (a futex) and hand the value over through
//!   a slot the channel owns; a handoff costs a kernel wake-up rather than a scheduler switch.
//! - Go has `nil` channels that block forever and `close` that makes a blocked sender panic; the std
//!   and crossbeam channels have neither (dropping one side disconnects the other, and `send` returns
//!   an error rather than panicking).
//! - Go's `select` picks uniformly at random among ready cases; here only single operations are
//!   compared, so `select` reduces to Go's non-blocking `selectnbsend` / `selectnbrecv`, the
//!   counterparts of `try_send` / `try_recv`.

pub(crate) mod demos;

use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::sync::mpsc;
use std::thread;

use serde::{Deserialize, Serialize};

/// How many rounds the demos and the Go program run. Enough for a rare reordering to show, few enough
/// to stay well under a second on two cores.
pub const ROUNDS: u32 = 2000;

/// What go-03 observes about one channel implementation. The Go program prints a document with these
/// exact field names, so the two sides can be compared field by field.
///
/// Counts are numbers of rounds out of [`Observations::rounds`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Observations {
    /// A non-blocking send on a capacity-0 channel with nobody receiving went through.
    pub unbuffered_send_alone: bool,
    /// A non-blocking send on an empty capacity-1 channel with nobody receiving went through.
    pub buffered_send_alone: bool,
    /// A non-blocking receive on an empty capacity-0 channel with nobody sending got a value.
    pub unbuffered_recv_alone: bool,
    /// How many rounds each ordering experiment ran.
    pub rounds: u32,
    /// Unbuffered: blocking sends that, on returning, saw their receiver had already arrived.
    pub sends_completed_after_receiver_arrived: u32,
    /// Capacity 1, receiver gated: sends that returned before their receiver arrived.
    pub buffered_sends_completed_before_receiver_arrived: u32,
    /// Unbuffered: blocking receives that, on returning, saw their sender had already arrived.
    pub recvs_completed_after_sender_arrived: u32,
    /// Unbuffered: receivers that, on arriving, saw their send had not yet completed (the sender
    /// cannot leave before the receiver comes).
    pub receivers_arrived_before_send_completed: u32,
}

impl Observations {
    /// What go-03's answer predicts for `rounds` rounds: a rendezvous when unbuffered, a drop box
    /// when buffered.
    pub fn predicted(rounds: u32) -> Observations {
        Observations {
            unbuffered_send_alone: false,
            buffered_send_alone: true,
            unbuffered_recv_alone: false,
            rounds,
            sends_completed_after_receiver_arrived: rounds,
            buffered_sends_completed_before_receiver_arrived: rounds,
            recvs_completed_after_sender_arrived: rounds,
            receivers_arrived_before_send_completed: rounds,
        }
    }

    /// Every field as `(name, value)` under its JSON name (the Go program's), sorted by name.
    pub fn fields(&self) -> Vec<(String, serde_json::Value)> {
        let mut fields: Vec<_> = match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(map)) => map.into_iter().collect(),
            _ => Vec::new(),
        };
        fields.sort_by(|a, b| a.0.cmp(&b.0));
        fields
    }
}

/// One field on which two sets of observations disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub field: String,
    pub ours: serde_json::Value,
    pub theirs: serde_json::Value,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: ours {} vs theirs {}",
            self.field, self.ours, self.theirs
        )
    }
}

/// The fields on which `ours` and `theirs` disagree, found by walking the serialized fields, so a
/// field added to [`Observations`] is compared without touching this function.
pub fn differences(ours: &Observations, theirs: &Observations) -> Vec<Difference> {
    let theirs: std::collections::BTreeMap<String, serde_json::Value> =
        theirs.fields().into_iter().collect();
    ours.fields()
        .into_iter()
        .filter_map(|(field, ours)| {
            let theirs = theirs
                .get(&field)
                .cloned()
                .unwrap_or(serde_json::Value::Null);
            (ours != theirs).then_some(Difference {
                field,
                ours,
                theirs,
            })
        })
        .collect()
}

/// The one rule that decides a round: the peer's event for round `round` (0-based) is its
/// `(round + 1)`-th, so it had happened when the peer's counter, read at that moment, exceeds `round`.
pub fn had_happened(round: u32, counter_seen: u32) -> bool {
    counter_seen > round
}

/// Rounds in which the peer's event had already happened, given what was read in each round.
pub fn rounds_after(seen: &[u32]) -> u32 {
    count(seen, true)
}

/// Rounds in which the peer's event had not happened yet.
pub fn rounds_before(seen: &[u32]) -> u32 {
    count(seen, false)
}

fn count(seen: &[u32], happened: bool) -> u32 {
    let n = (0u32..)
        .zip(seen)
        .filter(|&(round, &s)| had_happened(round, s) == happened)
        .count();
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A bounded channel the experiments can run on: the std and crossbeam channels behind one face.
/// Values are round numbers.
pub trait Flavor {
    /// How the demos name it.
    const NAME: &'static str;
    type Tx: Send;
    type Rx: Send;
    fn with_capacity(capacity: usize) -> (Self::Tx, Self::Rx);
    /// Non-blocking send: true when the value went through (to a waiting receiver or the buffer).
    fn try_send(tx: &Self::Tx, v: u32) -> bool;
    /// Blocking send: false only when the receiver is gone.
    fn send(tx: &Self::Tx, v: u32) -> bool;
    /// Non-blocking receive.
    fn try_recv(rx: &Self::Rx) -> Option<u32>;
    /// Blocking receive: `None` only when the sender is gone.
    fn recv(rx: &Self::Rx) -> Option<u32>;
}

/// `std::sync::mpsc::sync_channel`: capacity 0 is documented as a rendezvous.
#[derive(Debug, Clone, Copy)]
pub struct StdMpsc;

impl Flavor for StdMpsc {
    const NAME: &'static str = "std::sync::mpsc::sync_channel";
    type Tx = mpsc::SyncSender<u32>;
    type Rx = mpsc::Receiver<u32>;

    fn with_capacity(capacity: usize) -> (Self::Tx, Self::Rx) {
        mpsc::sync_channel(capacity)
    }
    fn try_send(tx: &Self::Tx, v: u32) -> bool {
        tx.try_send(v).is_ok()
    }
    fn send(tx: &Self::Tx, v: u32) -> bool {
        tx.send(v).is_ok()
    }
    fn try_recv(rx: &Self::Rx) -> Option<u32> {
        rx.try_recv().ok()
    }
    fn recv(rx: &Self::Rx) -> Option<u32> {
        rx.recv().ok()
    }
}

/// `crossbeam_channel::bounded`: capacity 0 is its "zero" flavor, a rendezvous.
#[derive(Debug, Clone, Copy)]
pub struct Crossbeam;

impl Flavor for Crossbeam {
    const NAME: &'static str = "crossbeam_channel::bounded";
    type Tx = crossbeam_channel::Sender<u32>;
    type Rx = crossbeam_channel::Receiver<u32>;

    fn with_capacity(capacity: usize) -> (Self::Tx, Self::Rx) {
        crossbeam_channel::bounded(capacity)
    }
    fn try_send(tx: &Self::Tx, v: u32) -> bool {
        tx.try_send(v).is_ok()
    }
    fn send(tx: &Self::Tx, v: u32) -> bool {
        tx.send(v).is_ok()
    }
    fn try_recv(rx: &Self::Rx) -> Option<u32> {
        rx.try_recv().ok()
    }
    fn recv(rx: &Self::Rx) -> Option<u32> {
        rx.recv().ok()
    }
}

/// Whether a non-blocking send on a fresh channel of `capacity` goes through while the receiver
/// exists but is not receiving (Go: `select { case ch <- 1: default: }`).
pub fn try_send_alone<F: Flavor>(capacity: usize) -> bool {
    let (tx, _rx) = F::with_capacity(capacity);
    F::try_send(&tx, 1)
}

/// Whether a non-blocking receive on a fresh, empty unbuffered channel gets a value while the sender
/// exists but is not sending (Go: `select { case <-ch: default: }`).
pub fn try_recv_alone<F: Flavor>() -> bool {
    let (_tx, rx) = F::with_capacity(0);
    F::try_recv(&rx).is_some()
}

/// Send side, unbuffered: in each round the receiver counts its arrival and then blocks in `recv`;
/// the sender blocks in `send` and, as soon as it returns, reads the receiver's arrival counter.
/// Returns what the sender read in each round (fewer than `rounds` entries if a side failed).
pub fn unbuffered_send_rounds<F: Flavor>(rounds: u32) -> Vec<u32> {
    let (tx, rx) = F::with_capacity(0);
    let arrivals = AtomicU32::new(0);
    let arrivals = &arrivals;
    thread::scope(move |s| {
        // If the thread cannot start, `rx` is dropped with the closure and the first send fails.
        let _receiver = thread::Builder::new()
            .name("go03-receiver".into())
            .spawn_scoped(s, move || {
                for round in 0..rounds {
                    arrivals.store(round + 1, Relaxed);
                    if F::recv(&rx).is_none() {
                        break;
                    }
                }
            });
        let mut seen = Vec::with_capacity(rounds as usize);
        for round in 0..rounds {
            if !F::send(&tx, round) {
                break;
            }
            seen.push(arrivals.load(Relaxed));
        }
        seen
    })
}

/// Send side, capacity 1, receiver gated: the receiver may only arrive once the sender, after its
/// send returned and after reading the arrival counter, opens the gate. Returns what the sender
/// read in each round; every round must show the receiver absent.
pub fn gated_buffered_send_rounds<F: Flavor>(rounds: u32) -> Vec<u32> {
    let (tx, rx) = F::with_capacity(1);
    // The gate is a plain std channel, whatever is under test: it only orders "sender read the
    // counter" before "receiver arrives".
    let (gate_tx, gate_rx) = mpsc::channel::<()>();
    let arrivals = AtomicU32::new(0);
    let arrivals = &arrivals;
    thread::scope(move |s| {
        let _receiver = thread::Builder::new()
            .name("go03-gated-receiver".into())
            .spawn_scoped(s, move || {
                for round in 0..rounds {
                    if gate_rx.recv().is_err() {
                        break;
                    }
                    arrivals.store(round + 1, Relaxed);
                    if F::recv(&rx).is_none() {
                        break;
                    }
                }
            });
        let mut seen = Vec::with_capacity(rounds as usize);
        for round in 0..rounds {
            if !F::send(&tx, round) {
                break;
            }
            seen.push(arrivals.load(Relaxed));
            if gate_tx.send(()).is_err() {
                break;
            }
        }
        seen
    })
}

/// What the receiver read in each round of [`unbuffered_recv_rounds`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecvRounds {
    /// The sender's arrival counter, read just after `recv` returned the round's value.
    pub sender_arrivals_after_recv: Vec<u32>,
    /// The sender's completed-sends counter, read just before calling `recv`.
    pub sends_completed_before_recv: Vec<u32>,
}

/// Receive side, unbuffered, the mirror of [`unbuffered_send_rounds`]: the sender counts its arrival,
/// blocks in `send`, and counts the completion when it returns; the receiver reads the completion
/// counter just before it blocks in `recv` and the arrival counter just after `recv` returns.
pub fn unbuffered_recv_rounds<F: Flavor>(rounds: u32) -> RecvRounds {
    let (tx, rx) = F::with_capacity(0);
    let arrivals = AtomicU32::new(0);
    let completions = AtomicU32::new(0);
    let (arrivals, completions) = (&arrivals, &completions);
    thread::scope(move |s| {
        let _sender = thread::Builder::new()
            .name("go03-sender".into())
            .spawn_scoped(s, move || {
                for round in 0..rounds {
                    arrivals.store(round + 1, Relaxed);
                    if !F::send(&tx, round) {
                        break;
                    }
                    completions.store(round + 1, Relaxed);
                }
            });
        let mut out = RecvRounds::default();
        for round in 0..rounds {
            let completed = completions.load(Relaxed);
            match F::recv(&rx) {
                Some(v) if v == round => {}
                // Out of order or a vanished sender: stop, and the short record fails the counts.
                _ => break,
            }
            out.sends_completed_before_recv.push(completed);
            out.sender_arrivals_after_recv.push(arrivals.load(Relaxed));
        }
        out
    })
}

/// Runs every go-03 experiment on one channel implementation.
pub fn observe<F: Flavor>(rounds: u32) -> Observations {
    let recv = unbuffered_recv_rounds::<F>(rounds);
    Observations {
        unbuffered_send_alone: try_send_alone::<F>(0),
        buffered_send_alone: try_send_alone::<F>(1),
        unbuffered_recv_alone: try_recv_alone::<F>(),
        rounds,
        sends_completed_after_receiver_arrived: rounds_after(&unbuffered_send_rounds::<F>(rounds)),
        buffered_sends_completed_before_receiver_arrived: rounds_before(
            &gated_buffered_send_rounds::<F>(rounds),
        ),
        recvs_completed_after_sender_arrived: rounds_after(&recv.sender_arrivals_after_recv),
        receivers_arrived_before_send_completed: rounds_before(&recv.sends_completed_before_recv),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FEW: u32 = 300;

    #[test]
    fn the_round_rule_counts_a_late_peer_as_a_violation() {
        // Counterexample: in rounds 0 and 2 the peer's counter had not reached the round's event.
        let seen = [0, 2, 2, 4];
        assert!(!had_happened(0, 0));
        assert!(had_happened(1, 2));
        assert!(!had_happened(2, 2));
        assert_eq!(rounds_after(&seen), 2);
        assert_eq!(rounds_before(&seen), 2);
        assert_eq!(rounds_after(&[]), 0);
    }

    fn unbuffered_send_blocks_until_a_receiver_arrives<F: Flavor>() {
        // Rendezvous: no send on a capacity-0 channel can complete before its receiver is there.
        assert!(!try_send_alone::<F>(0), "{}", F::NAME);
        let seen = unbuffered_send_rounds::<F>(FEW);
        assert_eq!(seen.len(), FEW as usize);
        assert_eq!(rounds_after(&seen), FEW, "{}: {seen:?}", F::NAME);
    }

    #[test]
    fn unbuffered_send_blocks_until_a_receiver_arrives_std() {
        unbuffered_send_blocks_until_a_receiver_arrives::<StdMpsc>();
    }

    #[test]
    fn unbuffered_send_blocks_until_a_receiver_arrives_crossbeam() {
        unbuffered_send_blocks_until_a_receiver_arrives::<Crossbeam>();
    }

    fn buffered_send_completes_before_its_receiver_arrives<F: Flavor>() {
        // The live counterexample: the same ordering rule, applied to a buffered channel whose
        // receiver is held back, reports a violation in every round.
        assert!(try_send_alone::<F>(1), "{}", F::NAME);
        let seen = gated_buffered_send_rounds::<F>(FEW);
        assert_eq!(seen.len(), FEW as usize);
        assert_eq!(rounds_after(&seen), 0, "{}: {seen:?}", F::NAME);
        assert_eq!(rounds_before(&seen), FEW);
    }

    #[test]
    fn buffered_send_completes_before_its_receiver_arrives_std() {
        buffered_send_completes_before_its_receiver_arrives::<StdMpsc>();
    }

    #[test]
    fn buffered_send_completes_before_its_receiver_arrives_crossbeam() {
        buffered_send_completes_before_its_receiver_arrives::<Crossbeam>();
    }

    fn unbuffered_receive_waits_for_a_sender<F: Flavor>() {
        // The mirror: an empty unbuffered channel has nothing to give, and a receiver always arrives
        // while its sender is still inside `send`.
        assert!(!try_recv_alone::<F>(), "{}", F::NAME);
        let r = unbuffered_recv_rounds::<F>(FEW);
        assert_eq!(rounds_after(&r.sender_arrivals_after_recv), FEW);
        assert_eq!(rounds_before(&r.sends_completed_before_recv), FEW);
    }

    #[test]
    fn unbuffered_receive_waits_for_a_sender_std() {
        unbuffered_receive_waits_for_a_sender::<StdMpsc>();
    }

    #[test]
    fn unbuffered_receive_waits_for_a_sender_crossbeam() {
        unbuffered_receive_waits_for_a_sender::<Crossbeam>();
    }

    #[test]
    fn both_rust_channels_match_the_prediction() {
        assert_eq!(observe::<StdMpsc>(FEW), Observations::predicted(FEW));
        assert_eq!(observe::<Crossbeam>(FEW), Observations::predicted(FEW));
    }

    #[test]
    fn differences_name_each_field_that_differs() {
        let ours = Observations::predicted(10);
        assert!(differences(&ours, &ours).is_empty());
        // Counterexample: a "Go" that let an unbuffered send through and lost a round.
        let theirs = Observations {
            unbuffered_send_alone: true,
            sends_completed_after_receiver_arrived: 9,
            ..ours
        };
        let d = differences(&ours, &theirs);
        let names: Vec<&str> = d.iter().map(|d| d.field.as_str()).collect();
        assert_eq!(
            names,
            [
                "sends_completed_after_receiver_arrived",
                "unbuffered_send_alone"
            ]
        );
        assert_eq!(
            d[1].to_string(),
            "unbuffered_send_alone: ours false vs theirs true"
        );
    }

    #[test]
    fn the_go_programs_json_names_are_the_field_names() {
        let json = r#"{"unbuffered_send_alone":false,"buffered_send_alone":true,
            "unbuffered_recv_alone":false,"rounds":5,"sends_completed_after_receiver_arrived":5,
            "buffered_sends_completed_before_receiver_arrived":5,"recvs_completed_after_sender_arrived":5,
            "receivers_arrived_before_send_completed":5}"#;
        let parsed: Observations = serde_json::from_str(json).expect("parses");
        assert_eq!(parsed, Observations::predicted(5));
        // A field Go prints but Rust does not know is an error, not a silent pass.
        let extra = json.replacen('{', r#"{"nil_send_ready":false,"#, 1);
        assert!(serde_json::from_str::<Observations>(&extra).is_err());
        // So is a field Go forgot.
        let missing = json.replacen(r#""rounds":5,"#, "", 1);
        assert!(serde_json::from_str::<Observations>(&missing).is_err());
    }
}
