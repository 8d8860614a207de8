//! What a channel did, one event per state change, recorded under the channel's lock.
//!
//! A channel made with [`Chan::traced`](super::Chan::traced) appends an [`Event`] every time its
//! state changes: a value written into a buffer slot, taken from one, handed straight to a parked
//! receiver, a thread parking on `sendq` or `recvq`, `close` waking the waiters. Each event carries
//! the [`Snapshot`] right after it: `qcount`, `sendx`, `recvx` and the lengths of the two wait
//! queues, the fields of Go's `hchan` that the go-38 answer is about. Because events are appended
//! while the lock is held, the trace is the order in which the channel's state really changed, even
//! with many threads hammering it; that is what lets [`replay`] check the invariants at every step.
//!
//! An untraced channel pays one branch on an `Option` per state change and nothing else.
//!
//! ```text
//!   #  event                                       qcount sendx recvx recvq sendq
//!   1  send 1 -> buf[0]                                  1     1     0     0     0
//!   2  send 2 -> buf[1]                                  2     0     0     0     0
//!   3  sender parks on sendq with 3                      2     0     0     0     1
//!   4  recv buf[0] = 1, parked sender's 3 -> buf[0]      2     1     1     0     0
//! ```
//!
//! [`invariant_broken`] is the channel's invariant as one function, [`replay`] re-enacts a trace
//! on a plain model (a ring of labels and a queue of parked senders' values) and fails on the first
//! event whose effect or snapshot the model does not reproduce.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;

use serde::{Deserialize, Serialize};

/// The channel's bookkeeping right after an event: Go's `hchan` fields, and the wait queues'
/// lengths (stale `select` entries included until someone drops them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    /// `dataqsiz`: the buffer's size.
    pub cap: usize,
    /// How many values are buffered (`len(ch)`).
    pub qcount: usize,
    /// The slot the next buffered send writes.
    pub sendx: usize,
    /// The slot the next buffered receive reads.
    pub recvx: usize,
    /// Parked receivers.
    pub recvq: usize,
    /// Parked senders.
    pub sendq: usize,
    pub closed: bool,
}

/// Which wait queue an entry left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queue {
    Recvq,
    Sendq,
}

/// What changed. Values appear as their `Debug` text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// A send found no parked receiver and room in the buffer: the value went into `buf[slot]`
    /// (`slot` was `sendx`).
    Buffered { slot: usize, value: String },
    /// A receive found no parked sender and took `buf[slot]` (`slot` was `recvx`).
    Taken { slot: usize, value: String },
    /// A send found a parked receiver and wrote the value into it directly (Go's `sendDirect`):
    /// the buffer, `qcount` and `sendx` are untouched.
    HandedToReceiver { value: String },
    /// A receive on an unbuffered channel found a parked sender and took its value directly.
    TookFromSender { value: String },
    /// A receive on a full buffer with a parked sender: it took the head `buf[slot]`, and the
    /// sender's value went into the same slot, which is now the tail (`recvx` and `sendx` both
    /// move on by one, `qcount` stays `cap`).
    TookHeadRefilledTail {
        slot: usize,
        head: String,
        refill: String,
    },
    /// A send could not complete and parked on `sendq`, holding its value.
    SenderParked { value: String },
    /// A receive could not complete and parked on `recvq`.
    ReceiverParked,
    /// An entry of a `select` that had already completed elsewhere was found at the head of a
    /// queue and dropped. `value` is a stale sender's (not sent).
    StaleDropped { queue: Queue, value: Option<String> },
    /// A `select` that completed withdrew one of its other entries from a queue.
    Withdrawn { queue: Queue, value: Option<String> },
    /// `close`: the channel is closed, and every parked receiver and sender was woken (receivers
    /// see "closed", senders get their value back).
    Closed {
        woke_receivers: usize,
        woke_senders: usize,
    },
}

/// One state change and the state right after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub op: Op,
    pub after: Snapshot,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Buffered { slot, value } => write!(f, "send {value} -> buf[{slot}]"),
            Op::Taken { slot, value } => write!(f, "recv buf[{slot}] = {value}"),
            Op::HandedToReceiver { value } => {
                write!(f, "send {value} handed to parked receiver")
            }
            Op::TookFromSender { value } => write!(f, "recv {value} from parked sender"),
            Op::TookHeadRefilledTail { slot, head, refill } => write!(
                f,
                "recv buf[{slot}] = {head}, parked sender's {refill} -> buf[{slot}]"
            ),
            Op::SenderParked { value } => write!(f, "sender parks on sendq with {value}"),
            Op::ReceiverParked => f.write_str("receiver parks on recvq"),
            Op::StaleDropped { queue, value } => {
                write!(f, "stale select entry dropped from {}", queue.name())?;
                value.iter().try_for_each(|v| write!(f, " ({v} not sent)"))
            }
            Op::Withdrawn { queue, value } => {
                write!(f, "select withdraws its entry from {}", queue.name())?;
                value.iter().try_for_each(|v| write!(f, " ({v} not sent)"))
            }
            Op::Closed {
                woke_receivers,
                woke_senders,
            } => write!(
                f,
                "close: woke {woke_receivers} receiver(s), {woke_senders} sender(s)"
            ),
        }
    }
}

impl Queue {
    fn name(self) -> &'static str {
        match self {
            Queue::Recvq => "recvq",
            Queue::Sendq => "sendq",
        }
    }
}

/// The recording side, kept in the channel's state (so under its lock).
pub(crate) struct Recorder<T> {
    /// How values are shown: their `Debug` text, fixed when the channel was made.
    pub(crate) label: fn(&T) -> String,
    pub(crate) events: Vec<Event>,
}

impl<T> Recorder<T> {
    pub(crate) fn new(label: fn(&T) -> String) -> Recorder<T> {
        Recorder {
            label,
            events: Vec::new(),
        }
    }
}

/// The `Debug` text of a value, the label a traced channel gives it.
pub(crate) fn debug_label<T: fmt::Debug>(value: &T) -> String {
    format!("{value:?}")
}

/// The trace as a table, one line per event (numbered from 1), with the snapshot after it.
pub fn table(events: &[Event]) -> String {
    let ops: Vec<String> = events.iter().map(|e| e.op.to_string()).collect();
    let width = ops.iter().map(String::len).max().unwrap_or(0).max(5);
    let mut out = format!(
        "{:>3}  {:width$}  qcount sendx recvx recvq sendq",
        "#", "event"
    );
    for (n, (e, op)) in events.iter().zip(&ops).enumerate() {
        let s = e.after;
        out.push_str(&format!(
            "\n{:>3}  {op:width$}  {:>6} {:>5} {:>5} {:>5} {:>5}{}",
            n + 1,
            s.qcount,
            s.sendx,
            s.recvx,
            s.recvq,
            s.sendq,
            if s.closed { "  closed" } else { "" }
        ));
    }
    out
}

/// The channel's invariant, checked on one snapshot: `None` when it holds, otherwise which part
/// broke. It is the comment at the top of Go's `runtime/chan.go`, for a channel no `select` waits
/// on in both directions:
///
/// - at least one of `recvq` and `sendq` is empty;
/// - buffered values mean no receiver waits (`qcount > 0` ⇒ `recvq` empty), and room in the buffer
///   means no sender waits (`qcount < cap` ⇒ `sendq` empty; for an unbuffered channel both are 0,
///   so this part only concerns buffered ones);
/// - the ring is consistent: `qcount <= cap` and `sendx == (recvx + qcount) % cap` (an unbuffered
///   channel keeps all three at 0).
///
/// Go states one exception, which this function reports as broken: a single `select` parked on
/// the same unbuffered channel for both sending and receiving.
pub fn invariant_broken(s: &Snapshot) -> Option<String> {
    if s.recvq > 0 && s.sendq > 0 {
        return Some(format!(
            "{} receiver(s) and {} sender(s) wait at the same time",
            s.recvq, s.sendq
        ));
    }
    if s.qcount > s.cap {
        return Some(format!("qcount {} exceeds cap {}", s.qcount, s.cap));
    }
    if s.cap == 0 {
        if (s.qcount, s.sendx, s.recvx) != (0, 0, 0) {
            return Some(format!(
                "unbuffered channel with qcount {} sendx {} recvx {}",
                s.qcount, s.sendx, s.recvx
            ));
        }
        return None;
    }
    if s.qcount > 0 && s.recvq > 0 {
        return Some(format!(
            "{} receiver(s) wait although {} value(s) are buffered",
            s.recvq, s.qcount
        ));
    }
    if s.qcount < s.cap && s.sendq > 0 {
        return Some(format!(
            "{} sender(s) wait although the buffer has room ({}/{})",
            s.sendq, s.qcount, s.cap
        ));
    }
    if s.sendx >= s.cap || s.recvx >= s.cap || s.sendx != (s.recvx + s.qcount) % s.cap {
        return Some(format!(
            "ring indices out of step: sendx {} recvx {} qcount {} cap {}",
            s.sendx, s.recvx, s.qcount, s.cap
        ));
    }
    None
}

/// What a trace adds up to once [`replay`] accepted it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Replay {
    /// Every value that entered the channel (buffered, handed over, or parked with a sender that
    /// was later completed), in the order it entered.
    pub sent: Vec<String>,
    /// Every value a receiver got, in the order the channel gave it out.
    pub delivered: Vec<String>,
    /// Values still buffered at the end, oldest first.
    pub buffered: Vec<String>,
    /// Values still held by parked senders at the end, oldest first.
    pub parked_senders: Vec<String>,
}

impl Replay {
    /// Values delivered more than once, or delivered without having been sent, with their counts.
    pub fn not_exactly_once(&self) -> Vec<(String, usize)> {
        let mut sent: BTreeMap<&str, usize> = BTreeMap::new();
        for v in &self.sent {
            *sent.entry(v.as_str()).or_default() += 1;
        }
        let mut got: BTreeMap<&str, usize> = BTreeMap::new();
        for v in &self.delivered {
            *got.entry(v.as_str()).or_default() += 1;
        }
        got.into_iter()
            .filter(|&(v, n)| n != sent.get(v).copied().unwrap_or(0))
            .map(|(v, n)| (v.to_string(), n))
            .collect()
    }
}

/// Why [`replay`] rejected a trace: the 1-based event number and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceError {
    pub event: usize,
    pub problem: String,
}

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "event {}: {}", self.event, self.problem)
    }
}

impl std::error::Error for TraceError {}

/// The plain model [`replay`] runs the events on.
struct Model {
    snap: Snapshot,
    buf: Vec<Option<String>>,
    /// The parked senders' values, in queue order.
    senders: VecDeque<String>,
    out: Replay,
}

/// Re-enacts `events` on a plain model of a fresh channel of capacity `cap`, and checks at every
/// event that
///
/// 1. the event was allowed in the model's state (a direct hand-off needs a parked receiver, a
///    buffered send needs room and no parked receiver, a receive reads the slot at `recvx` and gets
///    the value that is there, a refill takes the oldest parked sender's value, ...);
/// 2. the recorded snapshot is the model's state after the event;
/// 3. the snapshot satisfies [`invariant_broken`].
///
/// Returns what was sent and delivered, so the caller can check that every value arrived exactly
/// once.
///
/// # Errors
/// The first event that fails one of the three checks.
pub fn replay(cap: usize, events: &[Event]) -> Result<Replay, TraceError> {
    let mut m = Model {
        snap: Snapshot {
            cap,
            ..Snapshot::default()
        },
        buf: vec![None; cap],
        senders: VecDeque::new(),
        out: Replay::default(),
    };
    for (n, e) in events.iter().enumerate() {
        let fail = |problem: String| TraceError {
            event: n + 1,
            problem,
        };
        m.apply(&e.op).map_err(fail)?;
        if e.after != m.snap {
            return Err(fail(format!(
                "recorded {:?} but the replay gives {:?}",
                e.after, m.snap
            )));
        }
        if let Some(why) = invariant_broken(&e.after) {
            return Err(fail(format!("invariant broken after `{}`: {why}", e.op)));
        }
    }
    m.out.buffered = (0..m.snap.qcount)
        .filter_map(|k| m.buf[(m.snap.recvx + k) % cap.max(1)].clone())
        .collect();
    m.out.parked_senders = m.senders.into_iter().collect();
    Ok(m.out)
}

impl Model {
    fn apply(&mut self, op: &Op) -> Result<(), String> {
        let s = &mut self.snap;
        let cap = s.cap;
        match op {
            Op::Buffered { slot, value } => {
                if s.closed || s.recvq > 0 || s.qcount == cap {
                    return Err(format!(
                        "buffered send with closed={} recvq={} qcount={}/{cap}",
                        s.closed, s.recvq, s.qcount
                    ));
                }
                expect_slot("send", *slot, s.sendx)?;
                if let Some(old) = &self.buf[*slot] {
                    return Err(format!("send overwrote {old} in buf[{slot}]"));
                }
                self.buf[*slot] = Some(value.clone());
                s.sendx = (s.sendx + 1) % cap;
                s.qcount += 1;
                self.out.sent.push(value.clone());
            }
            Op::Taken { slot, value } => {
                if s.sendq > 0 || s.qcount == 0 {
                    return Err(format!(
                        "buffered receive with sendq={} qcount={}",
                        s.sendq, s.qcount
                    ));
                }
                expect_slot("receive", *slot, s.recvx)?;
                let had = self.buf[*slot].take();
                if had.as_deref() != Some(value.as_str()) {
                    return Err(format!("receive got {value} but buf[{slot}] held {had:?}"));
                }
                s.recvx = (s.recvx + 1) % cap;
                s.qcount -= 1;
                self.out.delivered.push(value.clone());
            }
            Op::HandedToReceiver { value } => {
                if s.recvq == 0 || s.closed {
                    return Err(format!(
                        "direct hand-off with recvq={} closed={}",
                        s.recvq, s.closed
                    ));
                }
                s.recvq -= 1;
                self.out.sent.push(value.clone());
                self.out.delivered.push(value.clone());
            }
            Op::TookFromSender { value } => {
                if cap != 0 {
                    return Err("a buffered channel took a value from a sender directly".into());
                }
                let front = self.senders.pop_front();
                if front.as_deref() != Some(value.as_str()) {
                    return Err(format!(
                        "took {value} from a sender, but the oldest parked sender held {front:?}"
                    ));
                }
                s.sendq -= 1;
                self.out.sent.push(value.clone());
                self.out.delivered.push(value.clone());
            }
            Op::TookHeadRefilledTail { slot, head, refill } => {
                if cap == 0 || s.qcount != cap {
                    return Err(format!("refill with qcount={}/{cap}", s.qcount));
                }
                expect_slot("refilling receive", *slot, s.recvx)?;
                let front = self.senders.pop_front();
                if front.as_deref() != Some(refill.as_str()) {
                    return Err(format!(
                        "refilled {refill}, but the oldest parked sender held {front:?}"
                    ));
                }
                let had = self.buf[*slot].replace(refill.clone());
                if had.as_deref() != Some(head.as_str()) {
                    return Err(format!("receive got {head} but buf[{slot}] held {had:?}"));
                }
                s.sendq -= 1;
                s.recvx = (s.recvx + 1) % cap;
                s.sendx = s.recvx;
                self.out.delivered.push(head.clone());
                self.out.sent.push(refill.clone());
            }
            Op::SenderParked { value } => {
                self.senders.push_back(value.clone());
                s.sendq += 1;
            }
            Op::ReceiverParked => s.recvq += 1,
            Op::StaleDropped { queue, value } | Op::Withdrawn { queue, value } => match queue {
                Queue::Recvq => {
                    s.recvq = s.recvq.checked_sub(1).ok_or("recvq was already empty")?;
                }
                Queue::Sendq => {
                    let value = value
                        .as_ref()
                        .ok_or("a sender left sendq without its value")?;
                    let at = self
                        .senders
                        .iter()
                        .position(|v| v == value)
                        .ok_or_else(|| format!("no parked sender held {value}"))?;
                    self.senders.remove(at);
                    s.sendq -= 1;
                }
            },
            Op::Closed {
                woke_receivers,
                woke_senders,
            } => {
                if s.closed {
                    return Err("closed twice".into());
                }
                if *woke_receivers > s.recvq || *woke_senders > s.sendq {
                    return Err(format!(
                        "close woke {woke_receivers}+{woke_senders} but only {}+{} were parked",
                        s.recvq, s.sendq
                    ));
                }
                s.closed = true;
                s.recvq = 0;
                s.sendq = 0;
                self.senders.clear();
            }
        }
        Ok(())
    }
}

fn expect_slot(what: &str, slot: usize, expected: usize) -> Result<(), String> {
    if slot == expected {
        Ok(())
    } else {
        Err(format!(
            "{what} used buf[{slot}], the ring says buf[{expected}]"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(cap: usize, qcount: usize, sendx: usize, recvx: usize) -> Snapshot {
        Snapshot {
            cap,
            qcount,
            sendx,
            recvx,
            ..Snapshot::default()
        }
    }

    fn ev(op: Op, after: Snapshot) -> Event {
        Event { op, after }
    }

    fn buffered(slot: usize, v: &str) -> Op {
        Op::Buffered {
            slot,
            value: v.into(),
        }
    }

    #[test]
    fn the_invariant_accepts_consistent_states_and_names_each_broken_part() {
        assert_eq!(invariant_broken(&snap(3, 2, 0, 1)), None);
        assert_eq!(invariant_broken(&snap(0, 0, 0, 0)), None);
        let both = Snapshot {
            recvq: 1,
            sendq: 1,
            ..snap(0, 0, 0, 0)
        };
        assert!(invariant_broken(&both).unwrap().contains("same time"));
        let waiting_receiver = Snapshot {
            recvq: 1,
            ..snap(2, 1, 1, 0)
        };
        assert!(
            invariant_broken(&waiting_receiver)
                .unwrap()
                .contains("buffered")
        );
        let waiting_sender = Snapshot {
            sendq: 1,
            ..snap(2, 1, 1, 0)
        };
        assert!(invariant_broken(&waiting_sender).unwrap().contains("room"));
        assert!(
            invariant_broken(&snap(3, 2, 1, 1))
                .unwrap()
                .contains("out of step")
        );
        assert!(
            invariant_broken(&snap(2, 3, 1, 0))
                .unwrap()
                .contains("exceeds")
        );
        assert!(
            invariant_broken(&snap(0, 0, 1, 0))
                .unwrap()
                .contains("unbuffered")
        );
    }

    #[test]
    fn a_consistent_trace_replays_and_counts_each_value_once() {
        let parked = Snapshot {
            sendq: 1,
            ..snap(2, 2, 0, 0)
        };
        let events = [
            ev(buffered(0, "1"), snap(2, 1, 1, 0)),
            ev(buffered(1, "2"), snap(2, 2, 0, 0)),
            ev(Op::SenderParked { value: "3".into() }, parked),
            ev(
                Op::TookHeadRefilledTail {
                    slot: 0,
                    head: "1".into(),
                    refill: "3".into(),
                },
                snap(2, 2, 1, 1),
            ),
            ev(
                Op::Taken {
                    slot: 1,
                    value: "2".into(),
                },
                snap(2, 1, 1, 0),
            ),
        ];
        let r = replay(2, &events).expect("consistent");
        assert_eq!(r.sent, ["1", "2", "3"]);
        assert_eq!(r.delivered, ["1", "2"]);
        assert_eq!(r.buffered, ["3"]);
        assert!(r.not_exactly_once().is_empty());
        assert!(table(&events).contains("parked sender's 3 -> buf[0]"));
    }

    #[test]
    fn replay_rejects_broken_traces() {
        // Counterexample 1: a snapshot whose indices disagree with what the events did.
        let wrong_index = [ev(buffered(0, "1"), snap(2, 1, 0, 0))];
        let e = replay(2, &wrong_index).unwrap_err();
        assert_eq!(e.event, 1);
        assert!(e.problem.contains("replay gives"), "{e}");

        // Counterexample 2: a value buffered while a receiver was parked (should have been a
        // direct hand-off).
        let parked = Snapshot {
            recvq: 1,
            ..snap(2, 0, 0, 0)
        };
        let bypass_missed = [
            ev(Op::ReceiverParked, parked),
            ev(
                buffered(0, "1"),
                Snapshot {
                    recvq: 1,
                    ..snap(2, 1, 1, 0)
                },
            ),
        ];
        assert_eq!(replay(2, &bypass_missed).unwrap_err().event, 2);

        // Counterexample 3: a receive that reads the wrong slot (not FIFO).
        let lifo = [
            ev(buffered(0, "1"), snap(2, 1, 1, 0)),
            ev(buffered(1, "2"), snap(2, 2, 0, 0)),
            ev(
                Op::Taken {
                    slot: 1,
                    value: "2".into(),
                },
                snap(2, 1, 0, 0),
            ),
        ];
        assert!(replay(2, &lifo).unwrap_err().problem.contains("ring says"));

        // Counterexample 4: a snapshot that matches a (wrong) model but breaks the invariant is
        // still caught: a sender parked while the buffer had room.
        let early_park = [ev(
            Op::SenderParked { value: "1".into() },
            Snapshot {
                sendq: 1,
                ..snap(2, 0, 0, 0)
            },
        )];
        assert!(replay(2, &early_park).unwrap_err().problem.contains("room"));
    }

    #[test]
    fn exactly_once_flags_duplicates_and_phantoms() {
        let r = Replay {
            sent: vec!["1".into(), "2".into()],
            delivered: vec!["1".into(), "1".into(), "9".into()],
            ..Replay::default()
        };
        assert_eq!(
            r.not_exactly_once(),
            [("1".to_string(), 2), ("9".to_string(), 1)]
        );
    }
}
