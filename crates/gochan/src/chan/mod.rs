//! A channel built the way Go's runtime builds one: a ring buffer, two queues of parked waiters and
//! one lock over all of it.
//!
//! Answers **go-38 「Go中的channel的实现」** (how are channels implemented?) and **go-10
//! 「什么是channel,为什么它可以做到线程安全」** (what is a channel and why is it thread-safe?) by
//! pointing at real code: [`Chan`] is a small copy of `hchan` in `runtime/chan.go`, thread-safe for
//! the same reason Go's is (one lock guards every field, and a parked party is completed by the other
//! side under that lock), and [`Select`] follows `selectgo` in `runtime/select.go` (go-24: what
//! `select` is for, including its uniformly random choice).
//!
//! The rules live in named functions so the answer page and the tests point at the same place:
//! `State::try_send` is `chansend` without the parking, `State::try_recv` is `chanrecv` without the
//! parking, [`Chan::close`] is `closechan`, and [`Select::run`] is `selectgo`.
//!
//! Two ways to watch it work: [`Chan::traced`] records every state change with the `hchan`
//! fields after it ([`trace`]; the go-10 and go-38 demos print and check these traces), and
//! `tests/loom.rs` runs the same code under the loom model checker (the primitives come from
//! `sync.rs`, which swaps in loom's under `--cfg gochan_loom`).
//!
//! # The idea
//!
//! A channel is a queue with a lock. What makes it a *Go* channel is what happens when the queue
//! cannot take or give a value: the goroutine writes itself onto a wait queue (a `sudog`, here a
//! `Sudog`) and parks, and the goroutine that later makes progress possible finishes the operation
//! *for* it (copies the value straight into the parked receiver, or takes the value out of the parked
//! sender) before waking it. The woken side never retries; it just reads its outcome.
//!
//! # The invariant
//!
//! Under the channel's lock, as in the comment at the top of `chan.go` (checked after every event
//! of a trace by [`trace::invariant_broken`]):
//!
//! - at least one of `sendq` and `recvq` is empty, except, as Go's comment says, while one
//!   `select` waits to send and to receive on the same unbuffered channel (a sender or receiver
//!   that is about to park first drops every stale entry of the other queue, so stale entries of a
//!   `select` that fired elsewhere never break it);
//! - a non-empty buffer means no receiver is waiting, and a buffer with room means no sender is
//!   waiting: a waiter exists only when the buffer is empty (receivers) or full (senders);
//! - `qcount` values sit in the slots `recvx, recvx+1, ...` (mod the capacity), and `sendx ==
//!   (recvx + qcount) % cap`.
//!
//! ```text
//!            recvx                 sendx
//!              │                     │
//!   buf:  [ .  │ v1 │ v2 │ v3 │ v4 │ .  │ .  ]   cap = 7, qcount = 4
//!              └─ next receive       └─ next send into the buffer
//!
//!   recvq: (empty: the buffer has values, a receiver would have taken one)
//!   sendq: (empty: the buffer has room)
//!
//!   buffer full, two senders parked:
//!   buf:  [ v5 │ v6 │ v7 │ v1 │ v2 │ v3 │ v4 ]   recvx = sendx = 3
//!   sendq: ──► sudog{slot: v8, parker A} ──► sudog{slot: v9, parker B}
//! ```
//!
//! # Worked example
//!
//! `let c = Chan::new(2);` then `send(1)`, `send(2)` fill the buffer (`sendx` wraps back to 0). A
//! third `send(3)` finds it full and parks on `sendq` with `3` in its sudog. A `recv()` now takes the
//! head `1` from slot 0, moves the parked sender's `3` into that same slot (the tail, because the
//! buffer was full) and wakes it: `recvx = sendx = 1`, the buffer holds `2, 3` in order, and FIFO
//! order is kept even though `3` never went through the normal send path. On an unbuffered channel
//! (`Chan::new(0)`) the same `recv()` copies the value straight out of the sender's sudog: a
//! rendezvous, since there is no buffer at all. Symmetrically, a `send` that finds a parked receiver
//! writes into that receiver's sudog and bypasses the buffer (Go's `sendDirect`).
//!
//! [`Chan::close`] marks the channel closed and wakes every waiter: receivers come back with
//! [`RecvError::Closed`] (Go's `v, ok := <-ch` with `ok == false`), senders with [`SendError`]
//! (Go panics). Later receives still drain the buffer first, then report closed.
//!
//! # How the real system differs
//!
//! - **Threads, not goroutines.** A parked waiter here is an OS thread blocked on its own
//!   `parking_lot::Condvar` (a `Parker`); Go parks a goroutine with `gopark` and the
//!   scheduler runs something else on the same OS thread. A wake-up here costs a futex call and a
//!   context switch, so hand-offs are far slower than Go's.
//! - **Panics become errors.** Go panics on send to a closed channel, close of a closed channel and
//!   close of a nil channel; this crate returns [`SendError`] and [`CloseError`] instead, marked
//!   `#[must_use]`.
//! - **No zero values.** Go's receive on a closed channel returns the element type's zero value;
//!   here it returns `Err(RecvError::Closed)`.
//! - **Values move, they are not copied.** Go copies `elemsize` bytes with `typedmemmove` into the
//!   buffer slot or into the other goroutine's stack; here a value moves into an `Option<T>` slot.
//! - **The lock.** Go's `hchan.lock` is a runtime mutex (a futex-backed lock that spins a little
//!   first); here it is a plain `parking_lot::Mutex` around the state. A [`Select`] over buffered
//!   channels first tries its cases one channel lock at a time, in poll order (a fast path
//!   `selectgo` lacks, see `select.rs`); when none is ready, or a channel is unbuffered, it does
//!   what `selectgo` does and locks each distinct channel once, in address order. A case that names
//!   a channel already named by an earlier case leaves its sudog with the channel for the lock
//!   holder to poll and park (`State::lent`), because safe Rust cannot reach across type-erased
//!   cases the way Go's raw pointers do. There is no lock-free fast path (Go checks "closed or not
//!   ready" without the lock in non-blocking operations), so every send, receive and `try_*` takes
//!   the lock once, and a `select` over buffered channels that finds nothing ready takes each of
//!   its locks twice before it parks or runs `default`.
//! - **Timeouts.** Go's `time.After` is itself a channel fed by a timer; here [`Select::after`]
//!   is a deadline on the parked thread's condition variable.

mod select;
mod sync;
pub mod trace;

pub use select::Select;
pub use trace::{Event, Op, Queue, Snapshot};

use std::collections::VecDeque;
use std::fmt;
use std::time::Instant;

use sync::{Arc, Condvar, Mutex, MutexGuard};
use trace::Recorder;

/// A channel with Go's semantics: buffered (capacity > 0), unbuffered (capacity 0) or nil.
///
/// Cloning the handle gives another reference to the same channel, like copying a Go `chan` value.
pub struct Chan<T> {
    /// `None` is the nil channel: every send and receive on it blocks forever, and its `select`
    /// cases are never ready.
    inner: Option<Arc<Inner<T>>>,
    /// Whether the channel has a buffer (capacity > 0). Fixed at `make`, so a copy lives in every
    /// handle, read without the lock: a [`Select`] whose channels all have a buffer tries the
    /// fast pass of `select.rs` first. Kept here rather than in [`Inner`] because growing the
    /// shared allocation by a word moved the channels' hot fields relative to each other and
    /// slowed the contended select shapes of the channels benchmark.
    buffered: bool,
}

/// The shared part, Go's `hchan`.
struct Inner<T> {
    /// Go's `hchan.lock`: one plain mutex guards every field, which is what makes the rules below
    /// simple. A [`Select`] that names this channel in several cases locks it once, as `selectgo`
    /// does (see `select.rs`), so the lock never needs to be reentrant.
    lock: Mutex<State<T>>,
}

/// Everything the lock guards.
struct State<T> {
    /// The ring buffer, `dataqsiz` slots (none for an unbuffered channel). A slot is `Some` exactly
    /// when it holds a buffered value.
    buf: Box<[Option<T>]>,
    /// Index of the slot the next buffered send writes.
    sendx: usize,
    /// Index of the slot the next buffered receive reads.
    recvx: usize,
    /// How many values are buffered.
    qcount: usize,
    /// Set once by [`Chan::close`]; never cleared.
    closed: bool,
    /// Parked receivers, oldest first (FIFO wake-up order, as in Go).
    recvq: VecDeque<Arc<Sudog<T>>>,
    /// Parked senders, oldest first; each holds the value it wants to send.
    sendq: VecDeque<Arc<Sudog<T>>>,
    /// Sudogs of `select` cases that name this channel after an earlier case of the same select
    /// did. Only that earlier case holds the lock while the select runs, so the later ones leave
    /// their sudog here before the select locks anything, and the lock holder polls and parks them
    /// on their behalf (`poll_lent`, `park_lent`). Empty unless such a select is running. Go needs
    /// nothing like it: `selectgo` reaches every case through raw pointers, which safe Rust, with
    /// cases of different element types behind one trait object, cannot.
    lent: Vec<Lent<T>>,
    /// `Some` for a channel made with [`Chan::traced`]: how values are shown, and the events so
    /// far. Every state change below tests this once; an untraced channel pays nothing else.
    trace: Option<Recorder<T>>,
}

/// A sudog left with the channel by a `select` case that does not hold the lock itself.
struct Lent<T> {
    sudog: Arc<Sudog<T>>,
    dir: Dir,
}

impl<T> Clone for Lent<T> {
    fn clone(&self) -> Self {
        Lent {
            sudog: Arc::clone(&self.sudog),
            dir: self.dir,
        }
    }
}

/// Which way a lent case goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dir {
    Send,
    Recv,
}

/// A parked operation on one channel, Go's `sudog`.
///
/// A blocked `send`/`recv` has one; a blocked [`Select`] has one per case, all sharing one
/// [`Parker`], so whichever channel fires first claims the thread and the others see the claim and
/// skip their entry.
struct Sudog<T> {
    /// The thread to wake, shared by all the sudogs of one `select`.
    parker: Arc<Parker>,
    /// Which `select` case this sudog stands for (0 for a plain send or receive).
    case: usize,
    /// For a sender: the value it is offering (taken by the receiver that completes it). For a
    /// receiver: empty until a sender deposits a value (Go writes into the receiver's stack slot).
    slot: Mutex<Option<T>>,
}

/// How a parked thread was woken, Go's `sudog.success` plus the index `selectgo` returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Wake {
    /// The case that completed, or [`TIMEOUT`].
    case: usize,
    /// `true` when a value was communicated, `false` when the channel was closed.
    ok: bool,
}

/// The [`Wake::case`] of a `select` whose deadline passed first.
const TIMEOUT: usize = usize::MAX;

/// One blocked thread: a condition variable and the decision of who woke it.
///
/// The decision is written once, under the parker's lock, by whoever claims the thread first: a
/// sender, a receiver, `close`, or the thread itself when its deadline passes. This plays the role of
/// Go's `selectDone` compare-and-swap: every later claimant sees `Some` and moves on.
struct Parker {
    woken: Mutex<Option<Wake>>,
    cv: Condvar,
}

impl Parker {
    fn new() -> Arc<Parker> {
        Arc::new(Parker {
            woken: Mutex::new(None),
            cv: Condvar::new(),
        })
    }

    /// Parks until someone claims this thread, or until `deadline`, in which case the thread claims
    /// itself as [`TIMEOUT`] (unless someone got there first, which then wins).
    ///
    /// Under loom (`cfg(gochan_loom)`), which has no clock, a deadline is modelled as "the timer may
    /// fire at any moment": the thread claims itself as soon as it runs, and loom explores both
    /// orders of that claim and a completion racing with it.
    fn wait(&self, deadline: Option<Instant>) -> Wake {
        let mut woken = self.woken.lock();
        loop {
            if let Some(w) = *woken {
                return w;
            }
            let Some(deadline) = deadline else {
                woken = self.cv.wait(woken);
                continue;
            };
            #[cfg(not(gochan_loom))]
            if Instant::now() < deadline {
                woken = self.cv.wait_until(woken, deadline);
                continue;
            }
            #[cfg(gochan_loom)]
            let _ = deadline;
            let w = Wake {
                case: TIMEOUT,
                ok: true,
            };
            *woken = Some(w);
            return w;
        }
    }
}

impl<T> Sudog<T> {
    fn new(parker: &Arc<Parker>, case: usize, value: Option<T>) -> Arc<Sudog<T>> {
        Arc::new(Sudog {
            parker: Arc::clone(parker),
            case,
            slot: Mutex::new(value),
        })
    }

    /// Completes this waiter if nobody has yet: `deposit` runs on its value slot (put a value in for
    /// a receiver, take it out of a sender), then the thread is marked woken with `ok` and signalled.
    /// Returns `None` (and leaves `deposit` unused) when the waiter is stale: its `select` already
    /// fired on another case, or timed out.
    fn complete<R>(&self, ok: bool, deposit: impl FnOnce(&mut Option<T>) -> R) -> Option<R> {
        let mut woken = self.parker.woken.lock();
        if woken.is_some() {
            return None;
        }
        let r = deposit(&mut self.slot.lock());
        *woken = Some(Wake {
            case: self.case,
            ok,
        });
        self.parker.cv.notify_one();
        Some(r)
    }

    /// Whether this sudog belongs to the thread (or `select`) that `parker` parks.
    fn of(&self, parker: &Arc<Parker>) -> bool {
        Arc::ptr_eq(&self.parker, parker)
    }
}

impl<T> State<T> {
    fn new(cap: usize) -> State<T> {
        State {
            buf: (0..cap).map(|_| None).collect(),
            sendx: 0,
            recvx: 0,
            qcount: 0,
            closed: false,
            recvq: VecDeque::new(),
            sendq: VecDeque::new(),
            lent: Vec::new(),
            trace: None,
        }
    }

    fn cap(&self) -> usize {
        self.buf.len()
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot {
            cap: self.cap(),
            qcount: self.qcount,
            sendx: self.sendx,
            recvx: self.recvx,
            recvq: self.recvq.len(),
            sendq: self.sendq.len(),
            closed: self.closed,
        }
    }

    /// How a traced channel shows `value`; `None` (one branch) when not tracing.
    fn label(&self, value: &T) -> Option<String> {
        self.trace.as_ref().map(|r| (r.label)(value))
    }

    /// The label of the value a parked sender holds, when tracing.
    fn label_of(&self, sudog: &Sudog<T>) -> Option<String> {
        let recorder = self.trace.as_ref()?;
        sudog.slot.lock().as_ref().map(|v| (recorder.label)(v))
    }

    /// Appends `op` with the state as it is now, when tracing. Called right after each change.
    fn record(&mut self, op: impl FnOnce() -> Op) {
        if self.trace.is_some() {
            let after = self.snapshot();
            let op = op();
            if let Some(r) = &mut self.trace {
                r.events.push(Event { op, after });
            }
        }
    }

    /// The whole non-blocking send rule, `chansend` up to the point where it would park:
    /// closed → error; a parked receiver → hand the value straight to it (the buffer is bypassed);
    /// room in the buffer → write `buf[sendx]`; otherwise → `Full`, and the caller decides whether to
    /// park.
    fn try_send(&mut self, value: T) -> Result<(), TrySendError<T>> {
        if self.closed {
            return Err(TrySendError::Closed(value));
        }
        let label = self.label(&value);
        let mut value = Some(value);
        while let Some(receiver) = self.recvq.pop_front() {
            // A stale receiver (its select fired elsewhere) is dropped and the next one tried.
            if receiver
                .complete(true, |slot| *slot = value.take())
                .is_some()
            {
                self.record(|| Op::HandedToReceiver {
                    value: label.unwrap_or_default(),
                });
                return Ok(());
            }
            self.record(|| Op::StaleDropped {
                queue: Queue::Recvq,
                value: None,
            });
        }
        let value = value.expect("only a completed receiver takes the value");
        if self.qcount < self.cap() {
            let slot = self.sendx;
            self.buf[slot] = Some(value);
            self.sendx = (slot + 1) % self.cap();
            self.qcount += 1;
            self.record(|| Op::Buffered {
                slot,
                value: label.unwrap_or_default(),
            });
            return Ok(());
        }
        Err(TrySendError::Full(value))
    }

    /// The whole non-blocking receive rule, `chanrecv` up to the point where it would park:
    /// closed and drained → `Closed`; a parked sender → on an unbuffered channel take its value
    /// directly, on a (necessarily full) buffered one take the head and move the sender's value into
    /// the slot just freed, which is the tail; a buffered value → take `buf[recvx]`; otherwise
    /// `Empty`.
    fn try_recv(&mut self) -> Result<T, TryRecvError> {
        if self.closed && self.qcount == 0 {
            return Err(TryRecvError::Closed);
        }
        while let Some(sender) = self.sendq.pop_front() {
            let stale = self.label_of(&sender);
            let Some(offered) = sender.complete(true, Option::take) else {
                // Stale: its select already fired elsewhere; it keeps its value.
                self.record(|| Op::StaleDropped {
                    queue: Queue::Sendq,
                    value: stale,
                });
                continue;
            };
            let offered = offered.expect("a parked sender holds its value until completed");
            let refill = self.label(&offered);
            if self.cap() == 0 {
                self.record(|| Op::TookFromSender {
                    value: refill.unwrap_or_default(),
                });
                return Ok(offered);
            }
            // The buffer is full (a sender only parks then): the head leaves, the sender's value
            // enters the same slot, which is now the tail.
            let slot = self.recvx;
            let head = self.buf[slot]
                .replace(offered)
                .expect("a full buffer has a value at recvx");
            self.recvx = (slot + 1) % self.cap();
            self.sendx = self.recvx;
            let head_label = self.label(&head);
            self.record(|| Op::TookHeadRefilledTail {
                slot,
                head: head_label.unwrap_or_default(),
                refill: refill.unwrap_or_default(),
            });
            return Ok(head);
        }
        if self.qcount > 0 {
            let slot = self.recvx;
            let head = self.buf[slot]
                .take()
                .expect("qcount > 0 means recvx holds a value");
            self.recvx = (slot + 1) % self.cap();
            self.qcount -= 1;
            let label = self.label(&head);
            self.record(|| Op::Taken {
                slot,
                value: label.unwrap_or_default(),
            });
            return Ok(head);
        }
        Err(TryRecvError::Empty)
    }

    /// Queues a sender that could not complete (`gopark` follows, after the unlock).
    fn park_sender(&mut self, sudog: Arc<Sudog<T>>) {
        let value = self.label_of(&sudog);
        self.sendq.push_back(sudog);
        self.record(|| Op::SenderParked {
            value: value.unwrap_or_default(),
        });
    }

    /// Queues a receiver that could not complete.
    fn park_receiver(&mut self, sudog: Arc<Sudog<T>>) {
        self.recvq.push_back(sudog);
        self.record(|| Op::ReceiverParked);
    }

    /// Removes every entry the select parked with `parker` still has here (the one that fired was
    /// already popped by whoever completed it), and its lent sudogs. Go's `dequeueSudoG` in pass 3
    /// of `selectgo`.
    fn withdraw(&mut self, parker: &Arc<Parker>) {
        self.lent.retain(|l| !l.sudog.of(parker));
        let mut i = 0;
        while i < self.recvq.len() {
            if self.recvq[i].of(parker) {
                self.recvq.remove(i);
                self.record(|| Op::Withdrawn {
                    queue: Queue::Recvq,
                    value: None,
                });
            } else {
                i += 1;
            }
        }
        let mut i = 0;
        while i < self.sendq.len() {
            if self.sendq[i].of(parker) {
                let value = self.sendq.remove(i).and_then(|s| self.label_of(&s));
                self.record(|| Op::Withdrawn {
                    queue: Queue::Sendq,
                    value,
                });
            } else {
                i += 1;
            }
        }
    }

    /// The lent sudog of case `case` of the select parked with `parker`.
    fn lent_case(&self, parker: &Arc<Parker>, case: usize) -> Option<Lent<T>> {
        self.lent
            .iter()
            .find(|l| l.sudog.case == case && l.sudog.of(parker))
            .cloned()
    }

    /// Pass 1 of `selectgo` for a lent case: tries its operation now, through its sudog (a
    /// received value goes into the sudog's slot; a sent value comes out of it and goes back if it
    /// cannot be sent). `Some(ok)` when the case is ready (`ok == false`: the channel is closed),
    /// `None` when it would have to wait.
    fn poll_lent(&mut self, parker: &Arc<Parker>, case: usize) -> Option<bool> {
        let Lent { sudog, dir } = self.lent_case(parker, case)?;
        match dir {
            Dir::Recv => match self.try_recv() {
                Ok(v) => {
                    *sudog.slot.lock() = Some(v);
                    Some(true)
                }
                Err(TryRecvError::Closed) => Some(false),
                Err(TryRecvError::Empty) => None,
            },
            Dir::Send => {
                let value = sudog.slot.lock().take()?;
                match self.try_send(value) {
                    Ok(()) => Some(true),
                    Err(TrySendError::Closed(v)) => {
                        *sudog.slot.lock() = Some(v);
                        Some(false)
                    }
                    Err(TrySendError::Full(v)) => {
                        *sudog.slot.lock() = Some(v);
                        None
                    }
                }
            }
        }
    }

    /// Pass 2 for the lent cases of `parker`'s select: queue their sudogs.
    fn park_lent(&mut self, parker: &Arc<Parker>) {
        let mine: Vec<Lent<T>> = self
            .lent
            .iter()
            .filter(|l| l.sudog.of(parker))
            .cloned()
            .collect();
        for Lent { sudog, dir } in mine {
            match dir {
                Dir::Recv => self.park_receiver(sudog),
                Dir::Send => self.park_sender(sudog),
            }
        }
    }
}

/// The error of a blocking [`Chan::send`]: the channel is (or became, while this sender was
/// parked) closed. The value is handed back. Go panics here ("send on closed channel").
#[must_use]
#[derive(PartialEq, Eq)]
pub struct SendError<T>(pub T);

/// The error of [`Chan::try_send`].
#[must_use]
#[derive(PartialEq, Eq)]
pub enum TrySendError<T> {
    /// No receiver is waiting and the buffer is full (always the case when unbuffered with no
    /// receiver). Go's `select { case ch <- v: ... default: ... }` takes `default`.
    Full(T),
    /// The channel is closed. Go panics.
    Closed(T),
}

/// The error of a blocking [`Chan::recv`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecvError {
    /// The channel is closed and drained: Go's `v, ok := <-ch` with `ok == false`.
    Closed,
}

/// The error of [`Chan::try_recv`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    /// Nothing buffered and no sender waiting.
    Empty,
    /// Closed and drained.
    Closed,
}

/// The error of [`Chan::close`]. Go panics in both cases.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseError {
    /// "close of closed channel".
    AlreadyClosed,
    /// "close of nil channel".
    Nil,
}

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendError(..)")
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("send on closed channel")
    }
}

impl<T> std::error::Error for SendError<T> {}

impl<T> fmt::Debug for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("Full(..)"),
            TrySendError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

impl<T> fmt::Display for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("channel full (no receiver waiting)"),
            TrySendError::Closed(_) => f.write_str("send on closed channel"),
        }
    }
}

impl<T> std::error::Error for TrySendError<T> {}

impl<T> TrySendError<T> {
    /// The value that was not sent.
    pub fn into_inner(self) -> T {
        match self {
            TrySendError::Full(v) | TrySendError::Closed(v) => v,
        }
    }
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("receive on closed and drained channel")
    }
}

impl std::error::Error for RecvError {}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("channel empty (no sender waiting)"),
            TryRecvError::Closed => f.write_str("receive on closed and drained channel"),
        }
    }
}

impl std::error::Error for TryRecvError {}

impl fmt::Display for CloseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CloseError::AlreadyClosed => f.write_str("close of closed channel"),
            CloseError::Nil => f.write_str("close of nil channel"),
        }
    }
}

impl std::error::Error for CloseError {}

impl<T> Clone for Chan<T> {
    fn clone(&self) -> Self {
        Chan {
            inner: self.inner.clone(),
            buffered: self.buffered,
        }
    }
}

impl<T> fmt::Debug for Chan<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.locked() {
            None => f.write_str("Chan(nil)"),
            Some(st) => f
                .debug_struct("Chan")
                .field("cap", &st.cap())
                .field("qcount", &st.qcount)
                .field("sendx", &st.sendx)
                .field("recvx", &st.recvx)
                .field("closed", &st.closed)
                .field("recvq", &st.recvq.len())
                .field("sendq", &st.sendq.len())
                .field("traced", &st.trace.is_some())
                .finish(),
        }
    }
}

/// Blocks the calling thread forever, as an operation on a nil channel does in Go (where the
/// runtime would report "all goroutines are asleep" if nothing else can run; here nothing does).
/// Under loom the model reports the deadlock instead.
fn block_forever() -> ! {
    loop {
        #[cfg(not(gochan_loom))]
        std::thread::park();
        #[cfg(gochan_loom)]
        loom::thread::park();
    }
}

impl<T> Chan<T> {
    /// `make(chan T, cap)`: capacity 0 is unbuffered (a rendezvous).
    pub fn new(cap: usize) -> Chan<T> {
        Chan::from_state(State::new(cap))
    }

    /// Like [`Chan::new`], but the channel records every change of its state in a trace (see
    /// [`trace`]), read with [`Chan::trace`]. Values are shown by their `Debug` text.
    pub fn traced(cap: usize) -> Chan<T>
    where
        T: fmt::Debug,
    {
        let mut st = State::new(cap);
        st.trace = Some(Recorder::new(trace::debug_label::<T>));
        Chan::from_state(st)
    }

    fn from_state(st: State<T>) -> Chan<T> {
        Chan {
            buffered: st.cap() > 0,
            inner: Some(Arc::new(Inner {
                lock: Mutex::new(st),
            })),
        }
    }

    /// The nil channel, `var ch chan T`: send and receive block forever, `close` is an error, and in
    /// a [`Select`] its cases are never ready (the usual way to switch a case off).
    pub fn nil() -> Chan<T> {
        Chan {
            inner: None,
            buffered: false,
        }
    }

    /// Whether this is the nil channel.
    pub fn is_nil(&self) -> bool {
        self.inner.is_none()
    }

    fn locked(&self) -> Option<MutexGuard<'_, State<T>>> {
        self.inner.as_ref().map(|inner| inner.lock.lock())
    }

    /// `cap(ch)`: the buffer size (0 for unbuffered and nil channels).
    pub fn cap(&self) -> usize {
        self.locked().map_or(0, |st| st.cap())
    }

    /// `len(ch)`: how many values are buffered right now (0 for nil).
    pub fn len(&self) -> usize {
        self.locked().map_or(0, |st| st.qcount)
    }

    /// Whether nothing is buffered right now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `close` has been called (never true for nil).
    pub fn is_closed(&self) -> bool {
        self.locked().is_some_and(|st| st.closed)
    }

    /// The `hchan` bookkeeping right now (`None` for nil): what a trace event records.
    pub fn snapshot(&self) -> Option<Snapshot> {
        self.locked().map(|st| st.snapshot())
    }

    /// The events recorded so far, oldest first; `None` unless made with [`Chan::traced`].
    pub fn trace(&self) -> Option<Vec<Event>> {
        self.locked()
            .and_then(|st| st.trace.as_ref().map(|r| r.events.clone()))
    }

    /// `ch <- v`. Completes at once when a receiver is parked (direct hand-off) or the buffer has
    /// room; otherwise parks this thread on `sendq` until a receiver takes the value or the channel
    /// is closed. On a nil channel it blocks forever.
    ///
    /// # Errors
    /// [`SendError`] with the value when the channel is closed, before or while waiting (Go panics).
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        let Some(mut st) = self.locked() else {
            block_forever()
        };
        let value = match st.try_send(value) {
            Ok(()) => return Ok(()),
            Err(TrySendError::Closed(v)) => return Err(SendError(v)),
            Err(TrySendError::Full(v)) => v,
        };
        let parker = Parker::new();
        let sudog = Sudog::new(&parker, 0, Some(value));
        st.park_sender(Arc::clone(&sudog));
        drop(st);
        let wake = parker.wait(None);
        if wake.ok {
            Ok(())
        } else {
            let v = sudog.slot.lock().take();
            Err(SendError(
                v.expect("a sender woken by close still owns its value"),
            ))
        }
    }

    /// `v, ok := <-ch`. Takes a buffered value or a parked sender's value at once; otherwise parks
    /// this thread on `recvq` until a sender hands it a value or the channel is closed. On a nil
    /// channel it blocks forever.
    ///
    /// # Errors
    /// [`RecvError::Closed`] when the channel is closed and nothing is left in the buffer.
    pub fn recv(&self) -> Result<T, RecvError> {
        let Some(mut st) = self.locked() else {
            block_forever()
        };
        match st.try_recv() {
            Ok(v) => return Ok(v),
            Err(TryRecvError::Closed) => return Err(RecvError::Closed),
            Err(TryRecvError::Empty) => {}
        }
        let parker = Parker::new();
        let sudog = Sudog::new(&parker, 0, None);
        st.park_receiver(Arc::clone(&sudog));
        drop(st);
        let wake = parker.wait(None);
        if wake.ok {
            let v = sudog.slot.lock().take();
            Ok(v.expect("a receiver completed with ok holds the value"))
        } else {
            Err(RecvError::Closed)
        }
    }

    /// Go's `select { case ch <- v: default: }` (`selectnbsend`): sends only if that can complete
    /// without waiting.
    ///
    /// # Errors
    /// [`TrySendError::Full`] when it would have to wait (always on nil), [`TrySendError::Closed`]
    /// when closed.
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        match self.locked() {
            None => Err(TrySendError::Full(value)),
            Some(mut st) => st.try_send(value),
        }
    }

    /// Go's `select { case v, ok := <-ch: default: }` (`selectnbrecv`): receives only if that can
    /// complete without waiting.
    ///
    /// # Errors
    /// [`TryRecvError::Empty`] when it would have to wait (always on nil), [`TryRecvError::Closed`]
    /// when closed and drained.
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        match self.locked() {
            None => Err(TryRecvError::Empty),
            Some(mut st) => st.try_recv(),
        }
    }

    /// `close(ch)`, Go's `closechan`: marks the channel closed and wakes every parked receiver
    /// (they report closed) and every parked sender (they get their value back in a
    /// [`SendError`]). Values already buffered stay and are still received.
    ///
    /// # Errors
    /// [`CloseError::AlreadyClosed`] or [`CloseError::Nil`] (Go panics in both cases).
    pub fn close(&self) -> Result<(), CloseError> {
        let Some(mut st) = self.locked() else {
            return Err(CloseError::Nil);
        };
        if st.closed {
            return Err(CloseError::AlreadyClosed);
        }
        st.closed = true;
        // Stale sudogs (their select fired elsewhere) decline the wake-up; that is fine.
        let mut woke_receivers = 0;
        for receiver in std::mem::take(&mut st.recvq) {
            woke_receivers += usize::from(receiver.complete(false, |_| ()).is_some());
        }
        let mut woke_senders = 0;
        for sender in std::mem::take(&mut st.sendq) {
            woke_senders += usize::from(sender.complete(false, |_| ()).is_some());
        }
        st.record(|| Op::Closed {
            woke_receivers,
            woke_senders,
        });
        Ok(())
    }

    /// Receives until the channel is closed and drained, like `for v := range ch`.
    pub fn iter(&self) -> impl Iterator<Item = T> + '_ {
        std::iter::from_fn(move || self.recv().ok())
    }

    /// How many threads are parked on this channel: `(receivers, senders)`, counting stale select
    /// entries not yet removed. For tests and demos that must wait until someone has parked.
    pub fn waiting(&self) -> (usize, usize) {
        self.locked()
            .map_or((0, 0), |st| (st.recvq.len(), st.sendq.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ring invariant: `sendx == (recvx + qcount) % cap`, and exactly the `qcount` slots from
    /// `recvx` on hold values.
    fn ring_is_consistent<T>(st: &State<T>) -> bool {
        let cap = st.cap();
        if cap == 0 {
            return st.qcount == 0;
        }
        let filled = (0..cap).filter(|&i| st.buf[i].is_some()).count();
        let in_window = (0..st.qcount).all(|k| st.buf[(st.recvx + k) % cap].is_some());
        st.sendx == (st.recvx + st.qcount) % cap && filled == st.qcount && in_window
    }

    #[test]
    fn ring_indices_wrap_and_stay_consistent() {
        let mut st: State<u32> = State::new(3);
        for round in 0..10 {
            st.try_send(round).unwrap();
            st.try_send(round + 100).unwrap();
            assert!(ring_is_consistent(&st));
            assert_eq!(st.try_recv(), Ok(round));
            assert_eq!(st.try_recv(), Ok(round + 100));
            assert!(ring_is_consistent(&st));
        }
        assert_eq!(st.sendx, 20 % 3);
        // A counterexample the check rejects: a value outside the window.
        st.buf[st.recvx] = Some(7);
        assert!(!ring_is_consistent(&st));
    }

    #[test]
    fn full_buffer_takes_the_parked_senders_value_into_the_freed_slot() {
        let mut st: State<u32> = State::new(2);
        st.try_send(1).unwrap();
        st.try_send(2).unwrap();
        let parker = Parker::new();
        st.sendq.push_back(Sudog::new(&parker, 0, Some(3)));
        assert_eq!(st.try_recv(), Ok(1));
        assert!(ring_is_consistent(&st));
        assert_eq!((st.qcount, st.recvx, st.sendx), (2, 1, 1));
        assert_eq!(*parker.woken.lock(), Some(Wake { case: 0, ok: true }));
        assert_eq!((st.try_recv(), st.try_recv()), (Ok(2), Ok(3)));
    }

    fn lent_is_empty<T>(ch: &Chan<T>) -> bool {
        ch.locked().is_none_or(|st| st.lent.is_empty())
    }

    // A select naming one channel twice: the second case lends its sudog to the first, which polls
    // it under the one lock; either way exactly one case gets the value, and nothing stays lent.
    #[test]
    fn a_select_naming_one_channel_twice_polls_the_lent_case_and_cleans_up() {
        let ch: Chan<u32> = Chan::new(1);
        let mut chosen = [0u32; 2];
        for round in 0..200 {
            ch.try_send(round).unwrap();
            let (case, got) = Select::new()
                .recv(&ch, |v| (0, v))
                .recv(&ch, |v| (1, v))
                .run();
            assert_eq!(got, Ok(round));
            chosen[case] += 1;
            assert!(lent_is_empty(&ch));
        }
        assert!(
            chosen.iter().all(|&n| n > 0),
            "one case never chosen: {chosen:?}"
        );
        // The lent send case on a closed channel gets its value back.
        ch.close().unwrap();
        let back = Select::new()
            .send(&ch, 7, |r| r.map_err(|e| e.0))
            .send(&ch, 8, |r| r.map_err(|e| e.0))
            .run();
        assert!(matches!(back, Err(7 | 8)), "{back:?}");
        assert!(lent_is_empty(&ch));
    }

    // Parked on one channel twice: woken once, the other waiter is withdrawn, nothing stays lent.
    #[test]
    fn a_parked_select_on_one_channel_twice_is_woken_once() {
        let ch: Chan<u32> = Chan::traced(0);
        std::thread::scope(|s| {
            let sel = s.spawn(|| Select::new().recv(&ch, |v| v).recv(&ch, |v| v).run());
            while ch.waiting().0 < 2 {
                std::thread::yield_now();
            }
            ch.send(3).unwrap();
            assert_eq!(sel.join().unwrap(), Ok(3));
        });
        assert_eq!(ch.waiting(), (0, 0));
        assert!(lent_is_empty(&ch));
        let ops: Vec<Op> = ch.trace().unwrap().into_iter().map(|e| e.op).collect();
        assert_eq!(
            ops,
            [
                Op::ReceiverParked,
                Op::ReceiverParked,
                Op::HandedToReceiver { value: "3".into() },
                Op::Withdrawn {
                    queue: Queue::Recvq,
                    value: None
                },
            ]
        );
    }

    // With tracing off nothing is recorded; with it on, the events replay.
    #[test]
    fn only_a_traced_channel_records() {
        let plain: Chan<u8> = Chan::new(2);
        plain.send(1).unwrap();
        assert_eq!(plain.trace(), None);
        let traced: Chan<u8> = Chan::traced(2);
        traced.send(1).unwrap();
        traced.send(2).unwrap();
        assert_eq!(traced.recv(), Ok(1));
        let events = traced.trace().unwrap();
        assert_eq!(events.len(), 3);
        assert_eq!(events.last().map(|e| e.after), traced.snapshot());
        let r = trace::replay(2, &events).unwrap();
        assert_eq!(r.buffered, ["2"]);
    }

    #[test]
    fn stale_select_waiters_are_skipped() {
        let mut st: State<u32> = State::new(0);
        let fired = Parker::new();
        *fired.woken.lock() = Some(Wake { case: 1, ok: true });
        let live = Parker::new();
        st.recvq.push_back(Sudog::new(&fired, 0, None));
        let receiver = Sudog::new(&live, 2, None);
        st.recvq.push_back(Arc::clone(&receiver));
        assert_eq!(st.try_send(9), Ok(()));
        assert_eq!(*receiver.slot.lock(), Some(9));
        assert_eq!(*live.woken.lock(), Some(Wake { case: 2, ok: true }));
        assert!(st.recvq.is_empty());
    }
}
