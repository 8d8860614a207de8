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
//! Under the channel's lock, as in the comment at the top of `chan.go`:
//!
//! - at least one of `sendq` and `recvq` is empty (apart from stale entries of a `select` that has
//!   already fired elsewhere, which everyone skips);
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
//! - **The lock.** Go's `hchan.lock` is a runtime mutex and `selectgo` skips a channel it already
//!   locked when the same channel appears twice. Here the lock is a `parking_lot::ReentrantMutex`
//!   around a `RefCell`, so a `select` that names one channel twice can take the lock twice. There
//!   is no lock-free fast path (Go checks "closed or not ready" without the lock in non-blocking
//!   operations).
//! - **Timeouts.** Go's `time.After` is itself a channel fed by a timer; here [`Select::after`]
//!   is a deadline on the parked thread's condition variable.

mod select;

pub use select::Select;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use parking_lot::{Condvar, Mutex, ReentrantMutex, ReentrantMutexGuard};

/// A channel with Go's semantics: buffered (capacity > 0), unbuffered (capacity 0) or nil.
///
/// Cloning the handle gives another reference to the same channel, like copying a Go `chan` value.
pub struct Chan<T> {
    /// `None` is the nil channel: every send and receive on it blocks forever, and its `select`
    /// cases are never ready.
    inner: Option<Arc<Inner<T>>>,
}

/// The shared part, Go's `hchan`.
struct Inner<T> {
    /// Go's `hchan.lock`: one lock guards every field, which is what makes the rules below simple.
    /// Reentrant only so that a [`Select`] naming this channel in two cases can lock it once per
    /// case (Go's `selectgo` skips the second lock instead); the `RefCell` is borrowed for one
    /// operation at a time and never across a call out.
    lock: ReentrantMutex<RefCell<State<T>>>,
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
    fn wait(&self, deadline: Option<Instant>) -> Wake {
        let mut woken = self.woken.lock();
        loop {
            if let Some(w) = *woken {
                return w;
            }
            match deadline {
                None => self.cv.wait(&mut woken),
                Some(d) => {
                    if Instant::now() >= d {
                        let w = Wake {
                            case: TIMEOUT,
                            ok: true,
                        };
                        *woken = Some(w);
                        return w;
                    }
                    let _ = self.cv.wait_until(&mut woken, d);
                }
            }
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
        }
    }

    fn cap(&self) -> usize {
        self.buf.len()
    }

    /// The whole non-blocking send rule, `chansend` up to the point where it would park:
    /// closed → error; a parked receiver → hand the value straight to it (the buffer is bypassed);
    /// room in the buffer → write `buf[sendx]`; otherwise → `Full`, and the caller decides whether to
    /// park.
    fn try_send(&mut self, value: T) -> Result<(), TrySendError<T>> {
        if self.closed {
            return Err(TrySendError::Closed(value));
        }
        let mut value = Some(value);
        while let Some(receiver) = self.recvq.pop_front() {
            // A stale receiver (its select fired elsewhere) is dropped and the next one tried.
            if receiver
                .complete(true, |slot| *slot = value.take())
                .is_some()
            {
                return Ok(());
            }
        }
        let value = value.expect("only a completed receiver takes the value");
        if self.qcount < self.cap() {
            self.buf[self.sendx] = Some(value);
            self.sendx = (self.sendx + 1) % self.cap();
            self.qcount += 1;
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
            let Some(offered) = sender.complete(true, Option::take) else {
                continue; // stale: its select already fired elsewhere
            };
            let offered = offered.expect("a parked sender holds its value until completed");
            if self.cap() == 0 {
                return Ok(offered);
            }
            // The buffer is full (a sender only parks then): the head leaves, the sender's value
            // enters the same slot, which is now the tail.
            let head = self.buf[self.recvx]
                .replace(offered)
                .expect("a full buffer has a value at recvx");
            self.recvx = (self.recvx + 1) % self.cap();
            self.sendx = self.recvx;
            return Ok(head);
        }
        if self.qcount > 0 {
            let head = self.buf[self.recvx]
                .take()
                .expect("qcount > 0 means recvx holds a value");
            self.recvx = (self.recvx + 1) % self.cap();
            self.qcount -= 1;
            return Ok(head);
        }
        Err(TryRecvError::Empty)
    }

    /// Removes a sudog this thread parked, if it is still queued (the one that fired was already
    /// popped by whoever completed it). Go's `dequeueSudoG`.
    fn forget(&mut self, sudog: &Arc<Sudog<T>>) {
        self.recvq.retain(|s| !Arc::ptr_eq(s, sudog));
        self.sendq.retain(|s| !Arc::ptr_eq(s, sudog));
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
        }
    }
}

impl<T> fmt::Debug for Chan<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner {
            None => f.write_str("Chan(nil)"),
            Some(inner) => {
                let guard = inner.lock.lock();
                let st = guard.borrow();
                f.debug_struct("Chan")
                    .field("cap", &st.cap())
                    .field("qcount", &st.qcount)
                    .field("sendx", &st.sendx)
                    .field("recvx", &st.recvx)
                    .field("closed", &st.closed)
                    .field("recvq", &st.recvq.len())
                    .field("sendq", &st.sendq.len())
                    .finish()
            }
        }
    }
}

/// Blocks the calling thread forever, as an operation on a nil channel does in Go (where the
/// runtime would report "all goroutines are asleep" if nothing else can run; here nothing does).
fn block_forever() -> ! {
    loop {
        std::thread::park();
    }
}

impl<T> Chan<T> {
    /// `make(chan T, cap)`: capacity 0 is unbuffered (a rendezvous).
    pub fn new(cap: usize) -> Chan<T> {
        Chan {
            inner: Some(Arc::new(Inner {
                lock: ReentrantMutex::new(RefCell::new(State::new(cap))),
            })),
        }
    }

    /// The nil channel, `var ch chan T`: send and receive block forever, `close` is an error, and in
    /// a [`Select`] its cases are never ready (the usual way to switch a case off).
    pub fn nil() -> Chan<T> {
        Chan { inner: None }
    }

    /// Whether this is the nil channel.
    pub fn is_nil(&self) -> bool {
        self.inner.is_none()
    }

    fn locked(&self) -> Option<ReentrantMutexGuard<'_, RefCell<State<T>>>> {
        self.inner.as_ref().map(|inner| inner.lock.lock())
    }

    /// `cap(ch)`: the buffer size (0 for unbuffered and nil channels).
    pub fn cap(&self) -> usize {
        self.locked().map_or(0, |g| g.borrow().cap())
    }

    /// `len(ch)`: how many values are buffered right now (0 for nil).
    pub fn len(&self) -> usize {
        self.locked().map_or(0, |g| g.borrow().qcount)
    }

    /// Whether nothing is buffered right now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `close` has been called (never true for nil).
    pub fn is_closed(&self) -> bool {
        self.locked().is_some_and(|g| g.borrow().closed)
    }

    /// `ch <- v`. Completes at once when a receiver is parked (direct hand-off) or the buffer has
    /// room; otherwise parks this thread on `sendq` until a receiver takes the value or the channel
    /// is closed. On a nil channel it blocks forever.
    ///
    /// # Errors
    /// [`SendError`] with the value when the channel is closed, before or while waiting (Go panics).
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        let Some(guard) = self.locked() else {
            block_forever()
        };
        let parker = Parker::new();
        let sudog = {
            let mut st = guard.borrow_mut();
            match st.try_send(value) {
                Ok(()) => return Ok(()),
                Err(TrySendError::Closed(v)) => return Err(SendError(v)),
                Err(TrySendError::Full(v)) => {
                    let sudog = Sudog::new(&parker, 0, Some(v));
                    st.sendq.push_back(Arc::clone(&sudog));
                    sudog
                }
            }
        };
        drop(guard);
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
        let Some(guard) = self.locked() else {
            block_forever()
        };
        let parker = Parker::new();
        let sudog = {
            let mut st = guard.borrow_mut();
            match st.try_recv() {
                Ok(v) => return Ok(v),
                Err(TryRecvError::Closed) => return Err(RecvError::Closed),
                Err(TryRecvError::Empty) => {
                    let sudog = Sudog::new(&parker, 0, None);
                    st.recvq.push_back(Arc::clone(&sudog));
                    sudog
                }
            }
        };
        drop(guard);
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
            Some(g) => g.borrow_mut().try_send(value),
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
            Some(g) => g.borrow_mut().try_recv(),
        }
    }

    /// `close(ch)`, Go's `closechan`: marks the channel closed and wakes every parked receiver
    /// (they report closed) and every parked sender (they get their value back in a
    /// [`SendError`]). Values already buffered stay and are still received.
    ///
    /// # Errors
    /// [`CloseError::AlreadyClosed`] or [`CloseError::Nil`] (Go panics in both cases).
    pub fn close(&self) -> Result<(), CloseError> {
        let Some(guard) = self.locked() else {
            return Err(CloseError::Nil);
        };
        let mut st = guard.borrow_mut();
        if st.closed {
            return Err(CloseError::AlreadyClosed);
        }
        st.closed = true;
        // Stale sudogs (their select fired elsewhere) decline the wake-up; that is fine.
        for receiver in std::mem::take(&mut st.recvq) {
            let _ = receiver.complete(false, |_| ());
        }
        for sender in std::mem::take(&mut st.sendq) {
            let _ = sender.complete(false, |_| ());
        }
        Ok(())
    }

    /// Receives until the channel is closed and drained, like `for v := range ch`.
    pub fn iter(&self) -> impl Iterator<Item = T> + '_ {
        std::iter::from_fn(move || self.recv().ok())
    }

    /// How many threads are parked on this channel: `(receivers, senders)`, counting stale select
    /// entries not yet removed. For tests and demos that must wait until someone has parked.
    pub fn waiting(&self) -> (usize, usize) {
        self.locked().map_or((0, 0), |g| {
            let st = g.borrow();
            (st.recvq.len(), st.sendq.len())
        })
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
