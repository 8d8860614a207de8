//! Inside a channel: what `hchan` does as values move, traced step by step and compared with the
//! real Go runtime.
//!
//! Answers **go-38 「Go中的channel的实现」** (how are channels implemented?) and **go-10
//! 「什么是channel,为什么它可以做到线程安全」** (what is a channel, why is it thread-safe?) with
//! the traced [`Chan`] of [`crate::chan`] and with `go/cmd/go38-hchan`, which reads the private
//! fields of a real Go channel through `unsafe`.
//!
//! # Scripts as data
//!
//! Each go-38 claim is a [`Scenario`]: a capacity and a list of [`Step`]s (non-blocking send or
//! receive, park a thread in a blocking send or receive, close). [`run_scenario`] plays it on a
//! traced Rust channel; the Go program plays the very same JSON on a Go channel. After every step
//! both sides record the `hchan` bookkeeping ([`Snapshot`]: `qcount`, `sendx`, `recvx`, the wait
//! queues' lengths, `closed`) and what the step returned; at the end, what each parked party got.
//!
//! ```text
//!   scenario "refill-from-parked-sender", cap 2        qcount sendx recvx recvq sendq
//!   send 1          -> buf[0]                               1     1     0     0     0
//!   send 2          -> buf[1]                               2     0     0     0     0
//!   park_send 3     sender parks on sendq                   2     0     0     0     1
//!   recv            buf[0] = 1, sender's 3 -> buf[0]        2     1     1     0     0
//!   recv            buf[1] = 2                              1     1     0     0     0
//!   recv            buf[0] = 3                              0     1     1     0     0
//! ```
//!
//! # The invariant under contention (go-10)
//!
//! [`hammer`] has several senders and receivers share one traced channel. Because every event is
//! appended under the channel's one lock, the trace is a total order of what happened, and
//! [`trace::replay`] can re-enact it and check the invariant after every single event; [`tally`]
//! checks, from what the receivers got, that every value arrived exactly once and that no receiver
//! saw one sender's values out of order. The Go program runs the same hammer on a Go channel.
//!
//! # How the real system differs
//!
//! - Go's trace here is a sequence of *snapshots* read from outside; the Rust trace also names
//!   the path each operation took. Both agree step by step, but Go's `hchan` is read without its
//!   lock, so the Go side only reads it when nothing is moving (or polls it until a goroutine has
//!   parked).
//! - A parked party here is an OS thread on a condition variable; in Go a goroutine parked with
//!   `gopark`, which costs far less to wake (see `lab bench channels`).

use std::thread;
use std::time::{Duration, Instant};

use catalog::{Ctx, Demo, DemoError, Need, check, check_eq};
use serde::{Deserialize, Serialize};

use crate::chan::{Chan, Event, Op, RecvError, Snapshot, TryRecvError, TrySendError, trace};

/// One step of a scenario. The JSON form (`{"op": "send", "value": 1}`) is what the Go program
/// reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Step {
    /// A non-blocking send (`select` with `default`): "ok", "would block" or "closed".
    Send { value: i64 },
    /// A non-blocking receive: the value, "would block" or "closed".
    Recv,
    /// Start a thread (goroutine) that blocks in `send`, and wait until it is on `sendq`.
    ParkSend { value: i64 },
    /// Start a thread (goroutine) that blocks in `recv`, and wait until it is on `recvq`.
    ParkRecv,
    /// `close(ch)`.
    Close,
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Step::Send { value } => write!(f, "send {value}"),
            Step::Recv => f.write_str("recv"),
            Step::ParkSend { value } => write!(f, "park_send {value}"),
            Step::ParkRecv => f.write_str("park_recv"),
            Step::Close => f.write_str("close"),
        }
    }
}

/// A capacity and the steps to play on a fresh channel of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Scenario {
    pub name: &'static str,
    pub cap: usize,
    pub steps: Vec<Step>,
}

/// What one side observed while playing a scenario. The Go program prints these field names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioRun {
    pub name: String,
    /// The channel's bookkeeping after each step.
    pub snapshots: Vec<Snapshot>,
    /// What each step returned ("ok", a received value, "would block", "closed", "parked").
    pub results: Vec<String>,
    /// What each parked party finally got, in the order they parked ("received 5", "sent",
    /// "closed").
    pub outcomes: Vec<String>,
    /// The Rust channel's trace (not part of the Go document).
    #[serde(skip)]
    pub trace: Vec<Event>,
}

/// The scenario behind `go-38/ring-indices-wrap`: cap 3, four sends with a receive between the
/// third and the fourth, then drain.
pub fn ring_scenario() -> Scenario {
    use Step::*;
    Scenario {
        name: "ring-indices-wrap",
        cap: 3,
        steps: vec![
            Send { value: 1 },
            Send { value: 2 },
            Send { value: 3 },
            Recv,
            Send { value: 4 },
            Recv,
            Recv,
            Recv,
        ],
    }
}

/// `go-38/send-to-parked-receiver-bypasses-the-buffer`: move `sendx` off 0 first, so that "sendx
/// unchanged" means something, then park a receiver and send.
pub fn direct_scenario() -> Scenario {
    use Step::*;
    Scenario {
        name: "send-to-parked-receiver",
        cap: 2,
        steps: vec![Send { value: 1 }, Recv, ParkRecv, Send { value: 5 }],
    }
}

/// `go-38/receive-from-full-buffer-refills-from-parked-sender`.
pub fn refill_scenario() -> Scenario {
    use Step::*;
    Scenario {
        name: "refill-from-parked-sender",
        cap: 2,
        steps: vec![
            Send { value: 1 },
            Send { value: 2 },
            ParkSend { value: 3 },
            Recv,
            Recv,
            Recv,
        ],
    }
}

/// `go-38/close-wakes-every-waiter`, receivers: two parked on an unbuffered channel.
pub fn close_receivers_scenario() -> Scenario {
    use Step::*;
    Scenario {
        name: "close-wakes-receivers",
        cap: 0,
        steps: vec![ParkRecv, ParkRecv, Close, Recv],
    }
}

/// `go-38/close-wakes-every-waiter`, senders: two parked on a full buffer, whose value survives.
pub fn close_senders_scenario() -> Scenario {
    use Step::*;
    Scenario {
        name: "close-wakes-senders",
        cap: 1,
        steps: vec![
            Send { value: 1 },
            ParkSend { value: 2 },
            ParkSend { value: 3 },
            Close,
            Recv,
            Recv,
        ],
    }
}

/// An unbuffered channel in both directions: a receive takes a parked sender's value, a send
/// hands its value to a parked receiver. Neither touches a buffer (there is none).
pub fn rendezvous_scenario() -> Scenario {
    use Step::*;
    Scenario {
        name: "unbuffered-rendezvous",
        cap: 0,
        steps: vec![ParkSend { value: 7 }, Recv, ParkRecv, Send { value: 8 }],
    }
}

/// Every scenario, as sent to the Go program.
pub fn all_scenarios() -> Vec<Scenario> {
    vec![
        ring_scenario(),
        direct_scenario(),
        refill_scenario(),
        close_receivers_scenario(),
        close_senders_scenario(),
        rendezvous_scenario(),
    ]
}

/// How long a step may wait for a thread to park before the run is declared broken (a safety net;
/// parking normally takes microseconds).
const PATIENCE: Duration = Duration::from_secs(5);

/// Yields until `ready` holds for the channel's `(receivers, senders)` waiting counts.
fn wait_for(
    ch: &Chan<i64>,
    what: &str,
    ready: impl Fn((usize, usize)) -> bool,
) -> Result<(), String> {
    let start = Instant::now();
    while !ready(ch.waiting()) {
        if start.elapsed() > PATIENCE {
            return Err(format!("waited {PATIENCE:?} for {what}"));
        }
        thread::yield_now();
    }
    Ok(())
}

/// Plays `sc` on a fresh traced channel. Parked parties are threads; each step that parks one
/// returns only once the channel reports it on its queue.
///
/// # Errors
/// When a thread never parks, or the scenario leaves one parked at the end (a broken script).
pub fn run_scenario(sc: &Scenario) -> Result<ScenarioRun, String> {
    let ch: Chan<i64> = Chan::traced(sc.cap);
    let mut parked: Vec<thread::JoinHandle<String>> = Vec::new();
    let mut run = ScenarioRun {
        name: sc.name.to_string(),
        ..ScenarioRun::default()
    };
    let played = play(sc, &ch, &mut parked, &mut run);
    if played.is_err() || ch.waiting() != (0, 0) {
        // Release every parked thread before reporting, so none is left behind.
        let _ = ch.close();
        for p in parked {
            let _ = p.join();
        }
        played?;
        return Err(format!("scenario {} left a party parked", sc.name));
    }
    for p in parked {
        run.outcomes
            .push(p.join().unwrap_or_else(|_| "panicked".to_string()));
    }
    run.trace = ch.trace().unwrap_or_default();
    Ok(run)
}

fn play(
    sc: &Scenario,
    ch: &Chan<i64>,
    parked: &mut Vec<thread::JoinHandle<String>>,
    run: &mut ScenarioRun,
) -> Result<(), String> {
    for step in &sc.steps {
        let result = match *step {
            Step::Send { value } => match ch.try_send(value) {
                Ok(()) => "ok".to_string(),
                Err(TrySendError::Full(_)) => "would block".to_string(),
                Err(TrySendError::Closed(_)) => "closed".to_string(),
            },
            Step::Recv => match ch.try_recv() {
                Ok(v) => v.to_string(),
                Err(TryRecvError::Empty) => "would block".to_string(),
                Err(TryRecvError::Closed) => "closed".to_string(),
            },
            Step::ParkRecv => {
                let before = ch.waiting().0;
                let rx = ch.clone();
                parked.push(thread::spawn(move || match rx.recv() {
                    Ok(v) => format!("received {v}"),
                    Err(RecvError::Closed) => "closed".to_string(),
                }));
                wait_for(ch, "a receiver to park", |(r, _)| r > before)?;
                "parked".to_string()
            }
            Step::ParkSend { value } => {
                let before = ch.waiting().1;
                let tx = ch.clone();
                parked.push(thread::spawn(move || match tx.send(value) {
                    Ok(()) => "sent".to_string(),
                    Err(_) => "closed".to_string(),
                }));
                wait_for(ch, "a sender to park", |(_, s)| s > before)?;
                "parked".to_string()
            }
            Step::Close => match ch.close() {
                Ok(()) => "ok".to_string(),
                Err(e) => e.to_string(),
            },
        };
        run.results.push(result);
        run.snapshots
            .push(ch.snapshot().ok_or("a traced channel is never nil")?);
    }
    Ok(())
}

/// The go-38 ring claim as arithmetic: on a channel where every send and receive goes through the
/// buffer, `sendx` is the number of sends so far mod `cap`, `recvx` the number of receives mod
/// `cap`, and `qcount` their difference. Returns each step where a snapshot disagrees.
pub fn ring_mismatches(cap: usize, steps: &[Step], run: &ScenarioRun) -> Vec<String> {
    let (mut sends, mut recvs) = (0usize, 0usize);
    let mut out = Vec::new();
    for (i, (step, snap)) in steps.iter().zip(&run.snapshots).enumerate() {
        let result = run.results.get(i).map(String::as_str).unwrap_or("");
        match step {
            Step::Send { .. } if result == "ok" => sends += 1,
            Step::Recv if result.parse::<i64>().is_ok() => recvs += 1,
            _ => {}
        }
        let want = (
            sends - recvs.min(sends),
            sends % cap.max(1),
            recvs % cap.max(1),
        );
        let got = (snap.qcount, snap.sendx, snap.recvx);
        if got != want {
            out.push(format!(
                "after step {} ({step}): (qcount, sendx, recvx) = {got:?}, predicted {want:?}",
                i + 1
            ));
        }
    }
    if run.snapshots.len() != steps.len() {
        out.push(format!(
            "{} snapshots for {} steps",
            run.snapshots.len(),
            steps.len()
        ));
    }
    out
}

/// The state just before event `i` of a trace: the previous event's snapshot, or a fresh channel's.
fn before(cap: usize, events: &[Event], i: usize) -> Snapshot {
    i.checked_sub(1).and_then(|j| events.get(j)).map_or(
        Snapshot {
            cap,
            ..Snapshot::default()
        },
        |e| e.after,
    )
}

/// The direct hand-off claim on one event: a send met a parked receiver and wrote straight into
/// it, so the buffer's bookkeeping (`qcount`, `sendx`, `recvx`) is exactly as before and one
/// receiver left `recvq`.
pub fn bypassed_the_buffer(before: &Snapshot, e: &Event) -> bool {
    matches!(e.op, Op::HandedToReceiver { .. })
        && (e.after.qcount, e.after.sendx, e.after.recvx)
            == (before.qcount, before.sendx, before.recvx)
        && before.recvq == e.after.recvq + 1
}

/// The refill claim on one event: a receive on a full buffer with a parked sender took the head
/// and put the sender's value in the same slot, so the buffer stays full, `recvx` moves on by one
/// and `sendx` equals it (the freed slot is the new tail), and one sender left `sendq`.
pub fn refilled_the_tail(before: &Snapshot, e: &Event) -> bool {
    let cap = before.cap;
    let Op::TookHeadRefilledTail { slot, .. } = &e.op else {
        return false;
    };
    cap > 0
        && *slot == before.recvx
        && before.qcount == cap
        && e.after.qcount == cap
        && e.after.recvx == (before.recvx + 1) % cap
        && e.after.sendx == e.after.recvx
        && before.sendq == e.after.sendq + 1
}

/// The close claim on one event: every parked receiver and sender was woken, both queues are
/// empty, and the buffer kept its values.
pub fn woke_every_waiter(before: &Snapshot, e: &Event) -> bool {
    matches!(
        e.op,
        Op::Closed { woke_receivers, woke_senders }
            if woke_receivers == before.recvq && woke_senders == before.sendq
    ) && e.after.closed
        && (e.after.recvq, e.after.sendq) == (0, 0)
        && e.after.qcount == before.qcount
}

/// Every disagreement between two runs of the same scenario, step by step.
pub fn scenario_differences(
    ours: &ScenarioRun,
    theirs: &ScenarioRun,
    steps: &[Step],
) -> Vec<String> {
    let mut out = Vec::new();
    let n = ours.snapshots.len().max(theirs.snapshots.len());
    for i in 0..n {
        let step = steps.get(i).map_or("?".to_string(), Step::to_string);
        let (a, b) = (ours.snapshots.get(i), theirs.snapshots.get(i));
        if a != b {
            out.push(format!(
                "{}: after step {} ({step}) ours {a:?}, Go {b:?}",
                ours.name,
                i + 1
            ));
        }
        let (a, b) = (ours.results.get(i), theirs.results.get(i));
        if a != b {
            out.push(format!(
                "{}: step {} ({step}) returned {a:?} here, {b:?} in Go",
                ours.name,
                i + 1
            ));
        }
    }
    if ours.outcomes != theirs.outcomes {
        out.push(format!(
            "{}: parked parties got {:?} here, {:?} in Go",
            ours.name, ours.outcomes, theirs.outcomes
        ));
    }
    out
}

/// Shape of the go-10 hammer: `senders` threads each send `per_sender` values through one channel
/// per capacity in `caps`, `receivers` threads drain it until it is closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HammerSpec {
    pub senders: usize,
    pub receivers: usize,
    pub per_sender: usize,
    pub caps: Vec<usize>,
}

/// What a hammer run adds up to. The Go program prints these field names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Delivery {
    pub cap: usize,
    pub sent: usize,
    /// Receives that returned a value (a duplicate counts each time).
    pub delivered: usize,
    /// Values received more than once, or that nobody sent.
    pub duplicates: usize,
    /// Values sent but never received.
    pub lost: usize,
    /// Times a receiver got a value of some sender after a later value of the same sender.
    pub order_violations: usize,
    /// What was wrong with the channel's state once everything was done (should be empty).
    pub not_quiescent: Vec<String>,
    /// The channel's state once everything was done.
    pub after: Snapshot,
}

/// Counts, from what each receiver got (in order), how many values were delivered, duplicated and
/// lost, and per-sender order violations. Value `v` is sender `v / per_sender`'s `v % per_sender`-th.
pub fn tally(spec: &HammerSpec, logs: &[Vec<i64>]) -> Delivery {
    let total = spec.senders * spec.per_sender;
    let mut seen = vec![0usize; total];
    let mut d = Delivery {
        sent: total,
        ..Delivery::default()
    };
    for log in logs {
        let mut last: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
        for &v in log {
            d.delivered += 1;
            let Some(i) = usize::try_from(v).ok().filter(|&i| i < total) else {
                d.duplicates += 1;
                continue;
            };
            seen[i] += 1;
            if seen[i] > 1 {
                d.duplicates += 1;
            }
            let (sender, seq) = (i / spec.per_sender, i % spec.per_sender);
            if last.get(&sender).is_some_and(|&prev| seq < prev) {
                d.order_violations += 1;
            }
            last.insert(sender, seq);
        }
    }
    d.lost = seen.iter().filter(|&&n| n == 0).count();
    d
}

/// What is wrong with a channel that everyone is done with: it should be closed, with nothing
/// buffered, nobody waiting, and `sendx == recvx`.
pub fn not_quiescent(s: &Snapshot) -> Vec<String> {
    let mut out = Vec::new();
    if !s.closed {
        out.push("not closed".to_string());
    }
    if s.qcount != 0 || s.sendx != s.recvx {
        out.push(format!(
            "buffer not drained: qcount {} sendx {} recvx {}",
            s.qcount, s.sendx, s.recvx
        ));
    }
    if (s.recvq, s.sendq) != (0, 0) {
        out.push(format!("waiters left: recvq {} sendq {}", s.recvq, s.sendq));
    }
    out
}

/// Everything a hammer run should show and did not: values lost or duplicated, per-sender order
/// broken, the channel not left quiescent.
pub fn delivery_problems(d: &Delivery) -> Vec<String> {
    let mut out = Vec::new();
    if d.delivered != d.sent || d.lost != 0 || d.duplicates != 0 {
        out.push(format!(
            "cap {}: sent {}, delivered {}, lost {}, duplicated {}",
            d.cap, d.sent, d.delivered, d.lost, d.duplicates
        ));
    }
    if d.order_violations != 0 {
        out.push(format!(
            "cap {}: {} per-sender order violations",
            d.cap, d.order_violations
        ));
    }
    out.extend(
        d.not_quiescent
            .iter()
            .map(|p| format!("cap {}: {p}", d.cap)),
    );
    out
}

/// Runs the hammer on one channel of capacity `cap` (traced when `traced`): senders send, then the
/// channel is closed and the receivers drain it. Returns the tally and the trace.
pub fn hammer(spec: &HammerSpec, cap: usize, traced: bool) -> (Delivery, Option<Vec<Event>>) {
    let ch: Chan<i64> = if traced {
        Chan::traced(cap)
    } else {
        Chan::new(cap)
    };
    let logs: Vec<Vec<i64>> = thread::scope(|s| {
        let receivers: Vec<_> = (0..spec.receivers)
            .map(|_| s.spawn(|| ch.iter().collect::<Vec<i64>>()))
            .collect();
        let senders: Vec<_> = (0..spec.senders)
            .map(|sender| {
                let ch = &ch;
                s.spawn(move || {
                    for seq in 0..spec.per_sender {
                        let v = i64::try_from(sender * spec.per_sender + seq).unwrap_or(-1);
                        if ch.send(v).is_err() {
                            break;
                        }
                    }
                })
            })
            .collect();
        for h in senders {
            let _ = h.join();
        }
        let _ = ch.close();
        receivers
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    let mut d = tally(spec, &logs);
    d.cap = cap;
    d.after = ch.snapshot().unwrap_or_default();
    d.not_quiescent = not_quiescent(&d.after);
    (d, ch.trace())
}

/// The hammer the go-10 demos run: small enough for a debug build on two cores.
pub fn hammer_spec() -> HammerSpec {
    HammerSpec {
        senders: 4,
        receivers: 4,
        per_sender: 500,
        caps: vec![0, 1, 16],
    }
}

/// What the Go program prints.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoReport {
    pub go_version: String,
    pub gomaxprocs: usize,
    pub layout: String,
    pub scenarios: Vec<ScenarioRun>,
    pub hammer: Vec<Delivery>,
}

// ---------------------------------------------------------------------------------------------
// Demos

pub(crate) const RING_WRAPS: Demo = Demo {
    name: "go-38/ring-indices-wrap",
    claim: "sendx and recvx are send and receive counts mod cap: the ring wraps and qcount is their difference.",
    needs: Need::Nothing,
    run: ring_wraps,
};

pub(crate) const BYPASS: Demo = Demo {
    name: "go-38/send-to-parked-receiver-bypasses-the-buffer",
    claim: "A send that finds a parked receiver hands it the value directly: qcount, sendx and recvx do not move.",
    needs: Need::Nothing,
    run: bypass,
};

pub(crate) const REFILL: Demo = Demo {
    name: "go-38/receive-from-full-buffer-refills-from-parked-sender",
    claim: "A receive on a full buffer with a parked sender takes the head and puts the sender's value in the freed slot, keeping FIFO order.",
    needs: Need::Nothing,
    run: refill,
};

pub(crate) const CLOSE_WAKES: Demo = Demo {
    name: "go-38/close-wakes-every-waiter",
    claim: "close wakes every parked receiver (closed) and sender (value back), empties both queues and keeps the buffer.",
    needs: Need::Nothing,
    run: close_wakes,
};

pub(crate) const GO_HCHAN: Demo = Demo {
    name: "go-38/go-hchan-agrees-step-by-step",
    claim: "A real Go channel's hchan fields go through the same qcount/sendx/recvx/recvq/sendq values as the Rust trace, step by step.",
    needs: Need::Go,
    run: go_hchan_agrees,
};

pub(crate) const INVARIANT: Demo = Demo {
    name: "go-10/one-lock-keeps-the-invariant-under-contention",
    claim: "With 4 senders and 4 receivers on one channel, the invariant holds after every traced event and every value arrives exactly once.",
    needs: Need::Nothing,
    run: invariant_under_contention,
};

pub(crate) const GO_EXACTLY_ONCE: Demo = Demo {
    name: "go-10/go-agrees-exactly-once-under-contention",
    claim: "Real Go channels under the same hammer deliver every value exactly once, keep per-sender order and end quiescent, as the Rust channel does.",
    needs: Need::Go,
    run: go_exactly_once,
};

fn broken(e: String) -> DemoError {
    DemoError::Broken(e)
}

/// Plays a scenario, prints it as a table (step, event(s), snapshot) and checks the trace replays.
fn play_and_show(ctx: &Ctx<'_>, sc: &Scenario) -> Result<ScenarioRun, DemoError> {
    let run = run_scenario(sc).map_err(broken)?;
    ctx.say(format!("scenario {} (cap {}):", sc.name, sc.cap));
    ctx.say(trace::table(&run.trace));
    let steps: Vec<String> = sc
        .steps
        .iter()
        .zip(&run.results)
        .map(|(s, r)| format!("{s} -> {r}"))
        .collect();
    ctx.say(format!("steps: {}", steps.join(", ")));
    if !run.outcomes.is_empty() {
        ctx.say(format!("parked parties got: {}", run.outcomes.join(", ")));
    }
    let replayed = trace::replay(sc.cap, &run.trace);
    check!(
        replayed.is_ok(),
        "the trace does not replay: {}",
        replayed.err().map(|e| e.to_string()).unwrap_or_default()
    );
    check_eq!(
        run.trace.last().map(|e| e.after),
        run.snapshots.last().copied(),
        "the last event's snapshot and the channel's state at the end"
    );
    Ok(run)
}

/// The first event matching `is`, with the state before it.
fn find_event(
    cap: usize,
    events: &[Event],
    is: impl Fn(&Op) -> bool,
) -> Option<(Snapshot, &Event)> {
    let i = events.iter().position(|e| is(&e.op))?;
    Some((before(cap, events, i), &events[i]))
}

fn ring_wraps(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let sc = ring_scenario();
    let run = play_and_show(ctx, &sc)?;
    let wrong = ring_mismatches(sc.cap, &sc.steps, &run);
    check!(wrong.is_empty(), "{}", wrong.join("; "));
    check_eq!(
        run.results,
        ["ok", "ok", "ok", "1", "ok", "2", "3", "4"],
        "what the steps returned (FIFO)"
    );
    let wrapped = run.snapshots.iter().any(|s| s.sendx < s.recvx);
    check!(wrapped, "sendx never wrapped behind recvx");
    ctx.say("every snapshot is (sends - receives, sends mod 3, receives mod 3)");
    Ok(())
}

fn bypass(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let sc = direct_scenario();
    let run = play_and_show(ctx, &sc)?;
    let Some((before, e)) = find_event(sc.cap, &run.trace, |op| {
        matches!(op, Op::HandedToReceiver { .. })
    }) else {
        return Err(DemoError::Claim(
            "the send to a parked receiver was not a direct hand-off".into(),
        ));
    };
    check!(
        bypassed_the_buffer(&before, e),
        "the hand-off moved the buffer: before {before:?}, after {:?}",
        e.after
    );
    check_eq!(
        before.sendx,
        1,
        "sendx before the hand-off (it had moved off 0)"
    );
    check_eq!(run.outcomes, ["received 5"], "what the parked receiver got");
    ctx.say(format!(
        "before: qcount {} sendx {} recvq {}; after: qcount {} sendx {} recvq {}",
        before.qcount, before.sendx, before.recvq, e.after.qcount, e.after.sendx, e.after.recvq
    ));
    Ok(())
}

fn refill(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let sc = refill_scenario();
    let run = play_and_show(ctx, &sc)?;
    let Some((before, e)) = find_event(sc.cap, &run.trace, |op| {
        matches!(op, Op::TookHeadRefilledTail { .. })
    }) else {
        return Err(DemoError::Claim(
            "no receive took the head and refilled from the parked sender".into(),
        ));
    };
    check!(
        refilled_the_tail(&before, e),
        "not a refill of the tail: before {before:?}, event {e:?}"
    );
    check_eq!(
        run.results[3..],
        ["1", "2", "3"],
        "the three receives (FIFO kept across the refill)"
    );
    check_eq!(run.outcomes, ["sent"], "what the parked sender got");
    Ok(())
}

fn close_wakes(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    for (sc, outcomes, last_results) in [
        (
            close_receivers_scenario(),
            vec!["closed", "closed"],
            vec!["closed"],
        ),
        (
            close_senders_scenario(),
            vec!["closed", "closed"],
            vec!["1", "closed"],
        ),
    ] {
        let run = play_and_show(ctx, &sc)?;
        let Some((before, e)) =
            find_event(sc.cap, &run.trace, |op| matches!(op, Op::Closed { .. }))
        else {
            return Err(DemoError::Claim(format!("{}: no close event", sc.name)));
        };
        check!(
            woke_every_waiter(&before, e),
            "{}: close did not wake everyone: before {before:?}, event {e:?}",
            sc.name
        );
        check_eq!(
            before.recvq + before.sendq,
            2,
            "{}: parties parked before close",
            sc.name
        );
        check_eq!(
            run.outcomes,
            outcomes,
            "{}: what the parked parties got",
            sc.name
        );
        let tail = &run.results[run.results.len() - last_results.len()..];
        check_eq!(
            tail,
            last_results,
            "{}: receives after close (buffer first, then closed)",
            sc.name
        );
    }
    Ok(())
}

fn go_hchan_agrees(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let go = ctx.go()?;
    let scenarios = all_scenarios();
    let script = serde_json::to_string(&scenarios).map_err(|e| broken(e.to_string()))?;
    ctx.say(format!(
        "go run ./cmd/go38-hchan -script <{} scenarios as JSON>   ({})",
        scenarios.len(),
        go.version
    ));
    let report: GoReport = go.run_json("cmd/go38-hchan", &["-script", &script])?;
    ctx.say(format!(
        "Go {} (GOMAXPROCS {}), hchan read with the {} layout",
        report.go_version, report.gomaxprocs, report.layout
    ));
    check_eq!(
        report.scenarios.len(),
        scenarios.len(),
        "scenarios Go played"
    );
    let mut steps = 0;
    for (sc, theirs) in scenarios.iter().zip(&report.scenarios) {
        let ours = run_scenario(sc).map_err(broken)?;
        let diff = scenario_differences(&ours, theirs, &sc.steps);
        check!(diff.is_empty(), "{}", diff.join("; "));
        steps += sc.steps.len();
        let line: Vec<String> = ours
            .snapshots
            .iter()
            .map(|s| {
                format!(
                    "{}/{}/{}{}{}",
                    s.qcount,
                    s.sendx,
                    s.recvx,
                    if s.recvq > 0 {
                        format!(" r{}", s.recvq)
                    } else {
                        String::new()
                    },
                    if s.sendq > 0 {
                        format!(" s{}", s.sendq)
                    } else {
                        String::new()
                    }
                )
            })
            .collect();
        ctx.say(format!(
            "{:26} qcount/sendx/recvx per step: {}",
            sc.name,
            line.join(" | ")
        ));
    }
    ctx.say(format!(
        "all {steps} snapshots, step results and parked outcomes agree with Go"
    ));
    Ok(())
}

fn count_ops(events: &[Event]) -> std::collections::BTreeMap<&'static str, usize> {
    let mut counts = std::collections::BTreeMap::new();
    for e in events {
        let kind = match e.op {
            Op::Buffered { .. } => "buffered",
            Op::Taken { .. } => "taken",
            Op::HandedToReceiver { .. } => "handed-to-receiver",
            Op::TookFromSender { .. } => "took-from-sender",
            Op::TookHeadRefilledTail { .. } => "refilled",
            Op::SenderParked { .. } => "sender-parked",
            Op::ReceiverParked => "receiver-parked",
            Op::StaleDropped { .. } => "stale",
            Op::Withdrawn { .. } => "withdrawn",
            Op::Closed { .. } => "closed",
        };
        *counts.entry(kind).or_insert(0) += 1;
    }
    counts
}

fn invariant_under_contention(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let spec = hammer_spec();
    ctx.say(format!(
        "{} senders x {} values, {} receivers, one traced channel per capacity",
        spec.senders, spec.per_sender, spec.receivers
    ));
    for &cap in &spec.caps {
        let (d, events) = hammer(&spec, cap, true);
        let events = events.unwrap_or_default();
        let replay = trace::replay(cap, &events);
        check!(
            replay.is_ok(),
            "cap {cap}: {}",
            replay
                .as_ref()
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        );
        let replay = replay.unwrap_or_default();
        let twice = replay.not_exactly_once();
        check!(
            twice.is_empty(),
            "cap {cap}: delivered not exactly once: {twice:?}"
        );
        check_eq!(
            replay.delivered.len(),
            d.sent,
            "cap {cap}: deliveries in the trace"
        );
        let problems = delivery_problems(&d);
        check!(problems.is_empty(), "{}", problems.join("; "));
        let counts = count_ops(&events);
        let parked = counts.get("sender-parked").copied().unwrap_or(0)
            + counts.get("receiver-parked").copied().unwrap_or(0);
        check!(
            parked > 0,
            "cap {cap}: nobody ever parked, so the test exercised no hand-off"
        );
        let max_r = events.iter().map(|e| e.after.recvq).max().unwrap_or(0);
        let max_s = events.iter().map(|e| e.after.sendq).max().unwrap_or(0);
        ctx.say(format!(
            "cap {cap:>2}: {} events, invariant held after each; {} values each delivered once; \
             max recvq {max_r}, max sendq {max_s}",
            events.len(),
            d.delivered
        ));
        let summary: Vec<String> = counts.iter().map(|(k, n)| format!("{k} {n}")).collect();
        ctx.say(format!("        {}", summary.join(", ")));
    }
    Ok(())
}

fn go_exactly_once(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let go = ctx.go()?;
    let spec = hammer_spec();
    let json = serde_json::to_string(&spec).map_err(|e| broken(e.to_string()))?;
    ctx.say(format!(
        "go run ./cmd/go38-hchan -hammer '{json}'   ({})",
        go.version
    ));
    let report: GoReport = go.run_json("cmd/go38-hchan", &["-hammer", &json])?;
    check_eq!(report.hammer.len(), spec.caps.len(), "capacities Go ran");
    ctx.say(format!(
        "{:>5}  {:>22}  {:>22}",
        "cap", "Go delivered/lost/dup/order", "Rust delivered/lost/dup/order"
    ));
    for (&cap, theirs) in spec.caps.iter().zip(&report.hammer) {
        let (ours, _) = hammer(&spec, cap, false);
        let go_problems = delivery_problems(theirs);
        check!(go_problems.is_empty(), "Go: {}", go_problems.join("; "));
        let our_problems = delivery_problems(&ours);
        check!(our_problems.is_empty(), "Rust: {}", our_problems.join("; "));
        check_eq!(theirs.cap, cap, "capacity of Go's run");
        check_eq!(
            (theirs.sent, theirs.delivered),
            (ours.sent, ours.delivered),
            "cap {cap}: (sent, delivered), Go vs Rust"
        );
        ctx.say(format!(
            "{cap:>5}  {:>22}  {:>22}",
            format!(
                "{}/{}/{}/{}",
                theirs.delivered, theirs.lost, theirs.duplicates, theirs.order_violations
            ),
            format!(
                "{}/{}/{}/{}",
                ours.delivered, ours.lost, ours.duplicates, ours.order_violations
            )
        ));
    }
    ctx.say("both end closed, drained, with sendx == recvx and no waiter left");
    Ok(())
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

    #[test]
    fn scripts_serialize_as_the_go_program_reads_them() {
        let json = serde_json::to_string(&direct_scenario()).unwrap();
        assert_eq!(
            json,
            r#"{"name":"send-to-parked-receiver","cap":2,"steps":[{"op":"send","value":1},{"op":"recv"},{"op":"park_recv"},{"op":"send","value":5}]}"#
        );
    }

    #[test]
    fn every_scenario_plays_and_replays() {
        for sc in all_scenarios() {
            let run = run_scenario(&sc).unwrap();
            assert_eq!(run.snapshots.len(), sc.steps.len(), "{}", sc.name);
            trace::replay(sc.cap, &run.trace).unwrap();
        }
    }

    #[test]
    fn ring_mismatches_accepts_the_ring_and_rejects_a_ring_that_does_not_wrap() {
        let sc = ring_scenario();
        let mut run = run_scenario(&sc).unwrap();
        assert!(ring_mismatches(sc.cap, &sc.steps, &run).is_empty());
        // Counterexample: a "ring" whose sendx kept counting past the end.
        run.snapshots[2].sendx = 3;
        let wrong = ring_mismatches(sc.cap, &sc.steps, &run);
        assert_eq!(wrong.len(), 1, "{wrong:?}");
        assert!(wrong[0].contains("after step 3"));
    }

    #[test]
    fn the_event_rules_reject_their_counterexamples() {
        let before = Snapshot {
            recvq: 1,
            ..snap(2, 0, 1, 1)
        };
        let handed = Event {
            op: Op::HandedToReceiver { value: "5".into() },
            after: snap(2, 0, 1, 1),
        };
        assert!(bypassed_the_buffer(&before, &handed));
        // Counterexample: the value went through the buffer instead.
        let buffered = Event {
            op: Op::Buffered {
                slot: 1,
                value: "5".into(),
            },
            after: Snapshot {
                recvq: 1,
                ..snap(2, 1, 0, 1)
            },
        };
        assert!(!bypassed_the_buffer(&before, &buffered));

        let full = Snapshot {
            sendq: 1,
            ..snap(2, 2, 0, 0)
        };
        let refill = Event {
            op: Op::TookHeadRefilledTail {
                slot: 0,
                head: "1".into(),
                refill: "3".into(),
            },
            after: snap(2, 2, 1, 1),
        };
        assert!(refilled_the_tail(&full, &refill));
        // Counterexample: the sender's value appended after the old tail (sendx not reset).
        let appended = Event {
            after: snap(2, 2, 0, 1),
            ..refill.clone()
        };
        assert!(!refilled_the_tail(&full, &appended));

        let two_waiting = Snapshot {
            recvq: 2,
            ..snap(0, 0, 0, 0)
        };
        let closed = Event {
            op: Op::Closed {
                woke_receivers: 2,
                woke_senders: 0,
            },
            after: Snapshot {
                closed: true,
                ..snap(0, 0, 0, 0)
            },
        };
        assert!(woke_every_waiter(&two_waiting, &closed));
        // Counterexample: close woke only one of the two.
        let one = Event {
            op: Op::Closed {
                woke_receivers: 1,
                woke_senders: 0,
            },
            ..closed.clone()
        };
        assert!(!woke_every_waiter(&two_waiting, &one));
    }

    #[test]
    fn scenario_differences_names_the_step() {
        let sc = refill_scenario();
        let ours = run_scenario(&sc).unwrap();
        assert!(scenario_differences(&ours, &ours, &sc.steps).is_empty());
        // Counterexample: a "Go" whose refill appended instead of reusing the freed slot.
        let mut theirs = ours.clone();
        theirs.snapshots[3].sendx = 0;
        theirs.outcomes = vec!["closed".into()];
        let d = scenario_differences(&ours, &theirs, &sc.steps);
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(d[0].contains("after step 4 (recv)"), "{d:?}");
    }

    #[test]
    fn tally_counts_loss_duplicates_and_order() {
        let spec = HammerSpec {
            senders: 2,
            receivers: 2,
            per_sender: 3,
            caps: vec![],
        };
        // Values 0..3 from sender 0, 3..6 from sender 1.
        let good = [vec![0, 3, 1, 4], vec![2, 5]];
        let d = tally(&spec, &good);
        assert_eq!(
            (
                d.sent,
                d.delivered,
                d.lost,
                d.duplicates,
                d.order_violations
            ),
            (6, 6, 0, 0, 0)
        );
        // Counterexample: 4 lost, 1 delivered twice, and a receiver saw sender 0's 2 before its 1.
        let bad = [vec![0, 2, 1, 3], vec![1, 5]];
        let d = tally(&spec, &bad);
        assert_eq!((d.lost, d.duplicates, d.order_violations), (1, 1, 1));
        assert_eq!(delivery_problems(&d).len(), 2);
    }

    #[test]
    fn not_quiescent_lists_what_is_left() {
        let done = Snapshot {
            closed: true,
            ..snap(4, 0, 2, 2)
        };
        assert!(not_quiescent(&done).is_empty());
        let busy = Snapshot {
            recvq: 1,
            ..snap(4, 1, 3, 2)
        };
        assert_eq!(not_quiescent(&busy).len(), 3);
    }

    #[test]
    fn the_hammer_delivers_exactly_once_and_replays() {
        let spec = HammerSpec {
            senders: 3,
            receivers: 2,
            per_sender: 200,
            caps: vec![],
        };
        for cap in [0, 1, 4] {
            let (d, events) = hammer(&spec, cap, true);
            assert!(delivery_problems(&d).is_empty(), "{d:?}");
            let r = trace::replay(cap, &events.unwrap()).unwrap();
            assert!(r.not_exactly_once().is_empty());
            assert_eq!(r.delivered.len(), 600);
        }
    }

    #[test]
    fn the_go_report_parses() {
        let json = r#"{"go_version":"go1.26.8","gomaxprocs":2,"layout":"go1.23+ (timer after closed)",
          "scenarios":[{"name":"x","snapshots":[{"cap":0,"qcount":0,"sendx":0,"recvx":0,"recvq":1,"sendq":0,"closed":false}],
          "results":["parked"],"outcomes":["closed"]}],
          "hammer":[{"cap":0,"sent":1,"delivered":1,"duplicates":0,"lost":0,"order_violations":0,
          "not_quiescent":[],"after":{"cap":0,"qcount":0,"sendx":0,"recvx":0,"recvq":0,"sendq":0,"closed":true}}]}"#;
        let r: GoReport = serde_json::from_str(json).unwrap();
        assert_eq!(r.scenarios[0].snapshots[0].recvq, 1);
        assert!(delivery_problems(&r.hammer[0]).is_empty());
        // A field Rust does not know is an error, not a silent pass.
        assert!(
            serde_json::from_str::<GoReport>(&json.replacen('{', r#"{"extra":1,"#, 1)).is_err()
        );
    }
}
