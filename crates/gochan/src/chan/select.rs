//! `select`, built as Go's `runtime/select.go` `selectgo` builds it.
//!
//! 1. **Poll order**: a random permutation of the cases (Fisher–Yates with a small per-thread PRNG,
//!    Go uses `cheaprandn`), leaving out nil channels, which are never ready. Taking the first
//!    ready case in a uniformly random order is a uniformly random choice among the ready cases.
//! 2. **Fast pass** (no Go counterpart), when every channel of the select has a buffer: try the
//!    cases one by one in poll order, each under its own channel's lock alone, and take the first
//!    that can complete. Holding one lock at a time cannot deadlock, so no lock order is needed,
//!    and when a case is ready (the common case of a busy buffered select) the select costs one
//!    lock instead of one per channel, and no sort. The choice is still the first ready case in a
//!    uniformly random order; what changes is that it is made at the moment that case's channel is
//!    locked rather than at one moment with every channel locked, which is also a moment at which
//!    `selectgo` could have made it. Only when no case is ready does the select go on to the passes
//!    below, which decide "nothing ready" (and so `default` or parking) with every channel locked,
//!    as `selectgo` does; a channel is then locked twice in that `select`, once here and once
//!    there. A select naming an unbuffered channel skips this pass: such a case is ready only when
//!    a counterpart is already parked, so the pass mostly fails, and on the channels benchmark's
//!    `select_both bounded(0)` the wasted round of locks slowed it by about a third.
//! 3. **Lock order**: the same cases sorted by channel address, so two selects that share channels
//!    always lock them in the same order and cannot deadlock each other. A channel named by several
//!    cases is locked once, by the first of them in lock order (its *owner*), as `selectgo` skips a
//!    lock it already holds; so the channel's mutex need not be reentrant.
//! 4. **Pass 0** (no Go counterpart): each case whose channel an earlier case owns leaves a
//!    [`Sudog`] with the channel (`State::lent`), so that the owner can reach it under the lock.
//!    Go reaches any case through raw pointers; here the cases are trait objects of different
//!    element types, and only the channel itself is typed on both sides.
//! 5. **Pass 1**: with every channel locked, poll in poll order; the first case that can complete
//!    does so (an owner polls its lent cases for them). None ready: run `default` if there is one.
//! 6. **Pass 2**: otherwise park one [`Sudog`] per case on its channel's queue, all sharing one
//!    [`Parker`], unlock, and sleep (until the deadline of [`Select::after`], if any).
//! 7. **Pass 3**: the first channel to complete one of the sudogs claims the parker; the others
//!    become stale. Lock everything again and withdraw the stale sudogs, then report the case.

use std::fmt;
use std::time::{Duration, Instant};

use super::sync::{Arc, MutexGuard};
use super::{
    Chan, Dir, Inner, Lent, Parker, RecvError, SendError, State, Sudog, TIMEOUT, TryRecvError,
    TrySendError, block_forever,
};

/// A `select` statement: any mix of send and receive cases, an optional `default` and an optional
/// timeout, each with the code to run when it is chosen. All arms return the same `R`.
///
/// [`Select::run`] follows Go's `selectgo`: it shuffles the cases into a random *poll order*
/// (leaving out nil channels) and takes the first case in that order that can complete now (so the
/// choice among ready cases is uniform); when every channel has a buffer it first tries them one
/// channel lock at a time, and if none is ready it sorts them by channel address into a *lock
/// order*, locks every channel in that order and polls them all. If none can complete, it runs `default`, or else parks one waiter
/// on every channel, all sharing one wake-up, and when woken locks everything again to withdraw
/// the waiters that lost.
///
/// ```
/// use gochan::chan::{Chan, Select};
/// let a: Chan<i32> = Chan::new(1);
/// let b: Chan<&str> = Chan::new(1);
/// b.try_send("hi").unwrap();
/// let got = Select::new()
///     .recv(&a, |v| format!("a: {v:?}"))
///     .recv(&b, |v| format!("b: {v:?}"))
///     .default_case(|| "nothing ready".to_string())
///     .run();
/// assert_eq!(got, "b: Ok(\"hi\")");
/// ```
pub struct Select<'a, R> {
    cases: Vec<Box<dyn Case<R> + 'a>>,
    default: Option<Box<dyn FnOnce() -> R + 'a>>,
    timeout: Option<(Duration, Box<dyn FnOnce() -> R + 'a>)>,
}

impl<R> fmt::Debug for Select<'_, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Select")
            .field("cases", &self.cases.len())
            .field("default", &self.default.is_some())
            .field("timeout", &self.timeout.as_ref().map(|(d, _)| *d))
            .finish()
    }
}

impl<R> Default for Select<'_, R> {
    fn default() -> Self {
        Select {
            cases: Vec::new(),
            default: None,
            timeout: None,
        }
    }
}

impl<'a, R> Select<'a, R> {
    /// An empty `select`. Run with no cases, no default and no timeout it blocks forever, like
    /// Go's `select {}`.
    pub fn new() -> Self {
        Self::default()
    }

    /// `case v, ok := <-ch:`. `f` gets `Ok(v)`, or `Err(RecvError::Closed)` when the channel is
    /// closed and drained (a closed channel is always ready). A nil `ch` is never ready.
    pub fn recv<T: 'a>(
        mut self,
        ch: &'a Chan<T>,
        f: impl FnOnce(Result<T, RecvError>) -> R + 'a,
    ) -> Self {
        self.cases.push(Box::new(RecvCase {
            chan: Held::new(ch),
            sudog: None,
            outcome: None,
            f,
        }));
        self
    }

    /// `case ch <- value:`. `f` gets `Ok(())`, or the value back in a [`SendError`] when the
    /// channel is closed (where Go panics; a closed channel counts as ready). A nil `ch` is never
    /// ready, and the value is dropped if another case is chosen.
    pub fn send<T: 'a>(
        mut self,
        ch: &'a Chan<T>,
        value: T,
        f: impl FnOnce(Result<(), SendError<T>>) -> R + 'a,
    ) -> Self {
        self.cases.push(Box::new(SendCase {
            chan: Held::new(ch),
            sudog: None,
            value: Some(value),
            outcome: None,
            f,
        }));
        self
    }

    /// `default:`, run when no case is ready; with a default, `run` never blocks. Named
    /// `default_case` because `default` is taken by [`Default`].
    pub fn default_case(mut self, f: impl FnOnce() -> R + 'a) -> Self {
        self.default = Some(Box::new(f));
        self
    }

    /// `case <-time.After(d):`, run when no case has become ready within `d` of calling
    /// [`Select::run`]. Given twice, the shorter duration wins.
    pub fn after(mut self, d: Duration, f: impl FnOnce() -> R + 'a) -> Self {
        if self.timeout.as_ref().is_none_or(|(old, _)| d < *old) {
            self.timeout = Some((d, Box::new(f)));
        }
        self
    }

    /// Chooses a case and runs its arm: uniformly at random among the cases ready now; else
    /// `default`; else parks on every channel until one case completes or the timeout passes.
    pub fn run(mut self) -> R {
        let deadline = self
            .timeout
            .as_ref()
            .and_then(|(d, _)| Instant::now().checked_add(*d));
        // Each case's channel address, read once (0: nil channel, never ready, never locked).
        let mut all_buffered = true;
        let addrs: Indices = self
            .cases
            .iter()
            .map(|c| {
                let (addr, buffered) = c.chan_key();
                all_buffered &= buffered || addr == 0;
                addr
            })
            .collect();
        let poll_order = poll_order(&addrs);

        // Fast pass, when every channel has a buffer: the first case in poll order that is ready
        // under its own lock alone.
        if all_buffered {
            for &i in &poll_order {
                if self.cases[i].poll_alone() {
                    return self.cases.swap_remove(i).finish(None);
                }
            }
            if poll_order.len() <= 1
                && let Some(default) = self.default.take()
            {
                // One channel (or none): the fast pass looked at everything under one lock.
                return default();
            }
        }

        let (lock_order, shared) = lock_order(&addrs, &poll_order);
        // Which case locks each channel, and the cases that do, in lock order: only worked out
        // when some channel is named twice (otherwise every case owns its channel).
        let mut owner = None;
        let mut owners = lock_order;
        let mut parker = None;
        if shared {
            let o = owners_of(&addrs, &owners);
            owners = owners.iter().copied().filter(|&i| o[i] == i).collect();
            // Pass 0: cases on a channel another case owns lend their sudog to it.
            let p = Parker::new();
            for &i in &poll_order {
                if o[i] != i {
                    self.cases[i].lend(&p, i);
                }
            }
            owner = Some(o);
            parker = Some(p);
        }

        // Pass 1: lock each channel once, take the first ready case in random order.
        lock_all(&mut self.cases, &owners);
        for &i in &poll_order {
            let ready = match (&parker, &owner) {
                (Some(p), Some(o)) if o[i] != i => self.cases[o[i]].poll_lent(p, i).map(Some),
                _ => self.cases[i].poll().then_some(None),
            };
            if let Some(woke) = ready {
                unlock_all(&mut self.cases, &owners, parker.as_ref());
                return self.cases.swap_remove(i).finish(woke);
            }
        }
        if let Some(default) = self.default.take() {
            unlock_all(&mut self.cases, &owners, parker.as_ref());
            return default();
        }
        if poll_order.is_empty() && deadline.is_none() {
            // Only nil channels (or none at all) and nothing to time out: `select {}`.
            unlock_all(&mut self.cases, &owners, None);
            block_forever();
        }

        // Pass 2: a sudog on every channel, one parker for all of them.
        let parker = parker.unwrap_or_else(Parker::new);
        for &i in &owners {
            self.cases[i].park(&parker, i);
        }
        unlock_all(&mut self.cases, &owners, None);
        let wake = parker.wait(deadline);

        // Pass 3: the others are stale now; take them off their queues.
        lock_all(&mut self.cases, &owners);
        for &i in &owners {
            self.cases[i].withdraw(&parker);
        }
        unlock_all(&mut self.cases, &owners, None);

        if wake.case == TIMEOUT {
            match self.timeout.take() {
                Some((_, f)) => f(),
                None => unreachable!("only a select with a deadline times out"),
            }
        } else {
            self.cases.swap_remove(wake.case).finish(Some(wake.ok))
        }
    }
}

/// The indices of the non-nil cases (`addrs[i] != 0`) in a uniformly random order: Fisher–Yates
/// with the calling thread's generator.
fn poll_order(addrs: &[usize]) -> Indices {
    let mut order: Indices = (0..addrs.len()).filter(|&i| addrs[i] != 0).collect();
    if order.len() > 1 {
        XorShift::with(|rng| {
            for i in (1..order.len()).rev() {
                let j = rng.below(i + 1);
                order.swap(i, j);
            }
        });
    }
    order
}

/// The same cases sorted by channel address: the global order every `select` locks in, cases on
/// one channel in poll order (so the first of them in poll order locks it). The flag says whether
/// any channel is named by more than one case.
///
/// The sort runs over the cases in the order they were given, not in poll order: a `select` run
/// again and again over the same channels then sorts the same sequence each time, which the branch
/// predictor learns; sorting the shuffled order would cost a mispredicted branch or two per
/// comparison. Only when a channel is named twice, which needs the poll order among its cases, is
/// the poll order sorted instead.
fn lock_order(addrs: &[usize], poll_order: &[usize]) -> (Indices, bool) {
    let mut order: Indices = (0..addrs.len()).filter(|&i| addrs[i] != 0).collect();
    for k in 1..order.len() {
        let mut j = k;
        while j > 0 && addrs[order[j - 1]] > addrs[order[j]] {
            order.swap(j - 1, j);
            j -= 1;
        }
    }
    let shared = order
        .windows(2)
        .any(|pair| addrs[pair[0]] == addrs[pair[1]]);
    if shared {
        order = Indices::from(poll_order);
        // Stable: equal addresses keep their poll order.
        order.sort_by_key(|&i| addrs[i]);
    }
    (order, shared)
}

/// For each case, the case that locks its channel during the select: the first case in lock order
/// on the same channel (a case owns itself unless an earlier one names the same channel). Nil
/// cases, outside the lock order, own themselves and are never used.
fn owners_of(addrs: &[usize], lock_order: &[usize]) -> Indices {
    let mut owner: Indices = (0..addrs.len()).collect();
    for pair in lock_order.windows(2) {
        if addrs[pair[0]] == addrs[pair[1]] {
            owner[pair[1]] = owner[pair[0]];
        }
    }
    owner
}

/// Locks the channels of `owners` (one case per distinct channel), in lock order.
fn lock_all<R>(cases: &mut [Box<dyn Case<R> + '_>], owners: &[usize]) {
    for &i in owners {
        cases[i].lock();
    }
}

/// Unlocks in reverse order, first dropping the sudogs lent by `parker`'s select if it lent any.
fn unlock_all<R>(
    cases: &mut [Box<dyn Case<R> + '_>],
    owners: &[usize],
    lent_by: Option<&Arc<Parker>>,
) {
    for &i in owners.iter().rev() {
        cases[i].unlock(lent_by);
    }
}

/// How many case indices [`Indices`] keeps without allocating; selects are rarely wider.
const INLINE: usize = 8;

/// A list of case indices that lives on the stack for up to [`INLINE`] cases, so that the orders
/// `run` builds cost no allocation in the common case (Go keeps them in a stack array too).
enum Indices {
    Inline { len: usize, items: [usize; INLINE] },
    Heap(Vec<usize>),
}

impl std::ops::Deref for Indices {
    type Target = [usize];
    fn deref(&self) -> &[usize] {
        match self {
            Indices::Inline { len, items } => &items[..*len],
            Indices::Heap(v) => v,
        }
    }
}

impl std::ops::DerefMut for Indices {
    fn deref_mut(&mut self) -> &mut [usize] {
        match self {
            Indices::Inline { len, items } => &mut items[..*len],
            Indices::Heap(v) => v,
        }
    }
}

impl FromIterator<usize> for Indices {
    fn from_iter<I: IntoIterator<Item = usize>>(iter: I) -> Self {
        let mut items = [0; INLINE];
        let mut iter = iter.into_iter();
        let mut len = 0;
        while len < INLINE {
            match iter.next() {
                Some(x) => items[len] = x,
                None => return Indices::Inline { len, items },
            }
            len += 1;
        }
        match iter.next() {
            None => Indices::Inline { len, items },
            Some(x) => {
                let mut v = items.to_vec();
                v.push(x);
                v.extend(iter);
                Indices::Heap(v)
            }
        }
    }
}

impl From<&[usize]> for Indices {
    fn from(s: &[usize]) -> Self {
        s.iter().copied().collect()
    }
}

impl<'a> IntoIterator for &'a Indices {
    type Item = &'a usize;
    type IntoIter = std::slice::Iter<'a, usize>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// A small xorshift64* generator. Each thread keeps one, seeded on first use from std's
/// per-process random keys and a counter, so that no two threads share a sequence; like Go's
/// per-M `cheaprand`, a `select` then pays a thread-local read and a few shifts, not a seeding.
#[derive(Clone, Copy)]
struct XorShift(u64);

impl XorShift {
    #[cfg(not(gochan_loom))]
    fn seeded() -> XorShift {
        use std::collections::hash_map::RandomState;
        use std::hash::BuildHasher;
        use std::sync::atomic::{AtomicU64, Ordering};
        static CALLS: AtomicU64 = AtomicU64::new(0);
        let seed = RandomState::new().hash_one(CALLS.fetch_add(1, Ordering::Relaxed));
        XorShift(seed | 1)
    }

    /// Under loom every execution of a model must make the same choices for the same schedule,
    /// so the poll order comes from a fixed seed: loom explores the interleavings, not the
    /// random choice among ready cases.
    #[cfg(gochan_loom)]
    fn seeded() -> XorShift {
        XorShift(0x9E37_79B9_7F4A_7C15)
    }

    /// Runs `f` with the calling thread's generator.
    #[cfg(not(gochan_loom))]
    fn with<T>(f: impl FnOnce(&mut XorShift) -> T) -> T {
        use std::cell::Cell;
        thread_local! {
            static RNG: Cell<Option<XorShift>> = const { Cell::new(None) };
        }
        RNG.with(|cell| {
            let mut rng = cell.get().unwrap_or_else(XorShift::seeded);
            let out = f(&mut rng);
            cell.set(Some(rng));
            out
        })
    }

    /// Under loom: a fresh fixed-seed generator per `select` (see [`XorShift::seeded`]).
    #[cfg(gochan_loom)]
    fn with<T>(f: impl FnOnce(&mut XorShift) -> T) -> T {
        f(&mut XorShift::seeded())
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n > 0`), by Lemire's multiply-shift: no modulo bias worth naming.
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next()) * n as u128) >> 64) as usize
    }
}

/// One case of a select, type-erased so that a select can mix channels of different element types.
trait Case<R> {
    /// The channel's address (the lock order key; 0 for a nil channel) and whether it has a
    /// buffer.
    fn chan_key(&self) -> (usize, bool);
    /// Locks the channel; called only on the case that owns it in this select.
    fn lock(&mut self);
    /// Drops the sudogs lent by `lent_by`'s select (if given), then unlocks.
    fn unlock(&mut self, lent_by: Option<&Arc<Parker>>);
    /// Pass 0, before anything is locked: leaves this case's sudog with its channel, whose owner is
    /// another case.
    fn lend(&mut self, parker: &Arc<Parker>, index: usize);
    /// Under the lock: completes the operation if it can without waiting.
    fn poll(&mut self) -> bool;
    /// Fast pass, nothing locked: locks the channel, polls and unlocks (one virtual call for the
    /// three). Only for a case whose channel no other case of the select has locked.
    fn poll_alone(&mut self) -> bool {
        self.lock();
        let ready = self.poll();
        self.unlock(None);
        ready
    }
    /// Under the lock, as the owner: polls lent case `index` (see `State::poll_lent`).
    fn poll_lent(&mut self, parker: &Arc<Parker>, index: usize) -> Option<bool>;
    /// Under the lock: queues a sudog for this case, and those lent to it, on the channel.
    fn park(&mut self, parker: &Arc<Parker>, index: usize);
    /// Under the lock: removes every sudog of `parker`'s select still queued on the channel.
    fn withdraw(&mut self, parker: &Arc<Parker>);
    /// Runs the arm: `None` after its own successful poll, `Some(ok)` after being woken or after
    /// its owner polled it successfully (the outcome is then in its sudog).
    fn finish(self: Box<Self>, woke: Option<bool>) -> R;
}

/// A case's channel and, while the case owns it during a pass, the lock guard.
struct Held<'a, T> {
    inner: Option<&'a Inner<T>>,
    buffered: bool,
    guard: Option<MutexGuard<'a, State<T>>>,
}

impl<'a, T> Held<'a, T> {
    fn new(ch: &'a Chan<T>) -> Self {
        Held {
            inner: ch.inner.as_deref(),
            buffered: ch.buffered,
            guard: None,
        }
    }

    fn key(&self) -> (usize, bool) {
        self.inner.map_or((0, false), |i| {
            (std::ptr::from_ref(i) as usize, self.buffered)
        })
    }

    fn lock(&mut self) {
        self.guard = self.inner.map(|i| i.lock.lock());
    }

    fn unlock(&mut self, lent_by: Option<&Arc<Parker>>) {
        if let (Some(st), Some(p)) = (&mut self.guard, lent_by) {
            st.lent.retain(|l| !l.sudog.of(p));
        }
        self.guard = None;
    }

    /// Locks briefly to leave `sudog` with the channel (pass 0; nothing else is locked yet).
    fn lend(&self, sudog: &Arc<Sudog<T>>, dir: Dir) {
        if let Some(inner) = self.inner {
            inner.lock.lock().lent.push(Lent {
                sudog: Arc::clone(sudog),
                dir,
            });
        }
    }

    fn poll_lent(&mut self, parker: &Arc<Parker>, index: usize) -> Option<bool> {
        self.guard.as_mut()?.poll_lent(parker, index)
    }

    fn withdraw(&mut self, parker: &Arc<Parker>) {
        if let Some(st) = &mut self.guard {
            st.withdraw(parker);
        }
    }
}

struct RecvCase<'a, T, F> {
    chan: Held<'a, T>,
    sudog: Option<Arc<Sudog<T>>>,
    outcome: Option<Result<T, RecvError>>,
    f: F,
}

struct SendCase<'a, T, F> {
    chan: Held<'a, T>,
    sudog: Option<Arc<Sudog<T>>>,
    value: Option<T>,
    outcome: Option<Result<(), SendError<T>>>,
    f: F,
}

impl<'a, T, R, F: FnOnce(Result<T, RecvError>) -> R> Case<R> for RecvCase<'a, T, F> {
    fn chan_key(&self) -> (usize, bool) {
        self.chan.key()
    }

    fn lock(&mut self) {
        self.chan.lock();
    }

    fn unlock(&mut self, lent_by: Option<&Arc<Parker>>) {
        self.chan.unlock(lent_by);
    }

    fn lend(&mut self, parker: &Arc<Parker>, index: usize) {
        let sudog = Sudog::new(parker, index, None);
        self.chan.lend(&sudog, Dir::Recv);
        self.sudog = Some(sudog);
    }

    fn poll(&mut self) -> bool {
        let Some(st) = &mut self.chan.guard else {
            return false;
        };
        match st.try_recv() {
            Ok(v) => self.outcome = Some(Ok(v)),
            Err(TryRecvError::Closed) => self.outcome = Some(Err(RecvError::Closed)),
            Err(TryRecvError::Empty) => return false,
        }
        true
    }

    fn poll_lent(&mut self, parker: &Arc<Parker>, index: usize) -> Option<bool> {
        self.chan.poll_lent(parker, index)
    }

    fn park(&mut self, parker: &Arc<Parker>, index: usize) {
        if let Some(st) = &mut self.chan.guard {
            let sudog = Sudog::new(parker, index, None);
            st.park_receiver(Arc::clone(&sudog));
            st.park_lent(parker);
            self.sudog = Some(sudog);
        }
    }

    fn withdraw(&mut self, parker: &Arc<Parker>) {
        self.chan.withdraw(parker);
    }

    fn finish(self: Box<Self>, woke: Option<bool>) -> R {
        let outcome = match woke {
            None => self.outcome.unwrap_or(Err(RecvError::Closed)),
            Some(false) => Err(RecvError::Closed),
            Some(true) => {
                let v = self.sudog.and_then(|s| s.slot.lock().take());
                Ok(v.expect("a receiver completed with ok holds the value"))
            }
        };
        (self.f)(outcome)
    }
}

impl<'a, T, R, F: FnOnce(Result<(), SendError<T>>) -> R> Case<R> for SendCase<'a, T, F> {
    fn chan_key(&self) -> (usize, bool) {
        self.chan.key()
    }

    fn lock(&mut self) {
        self.chan.lock();
    }

    fn unlock(&mut self, lent_by: Option<&Arc<Parker>>) {
        self.chan.unlock(lent_by);
    }

    fn lend(&mut self, parker: &Arc<Parker>, index: usize) {
        let sudog = Sudog::new(parker, index, self.value.take());
        self.chan.lend(&sudog, Dir::Send);
        self.sudog = Some(sudog);
    }

    fn poll(&mut self) -> bool {
        let (Some(st), Some(value)) = (&mut self.chan.guard, self.value.take()) else {
            return false;
        };
        match st.try_send(value) {
            Ok(()) => self.outcome = Some(Ok(())),
            Err(TrySendError::Closed(v)) => self.outcome = Some(Err(SendError(v))),
            Err(TrySendError::Full(v)) => {
                self.value = Some(v);
                return false;
            }
        }
        true
    }

    fn poll_lent(&mut self, parker: &Arc<Parker>, index: usize) -> Option<bool> {
        self.chan.poll_lent(parker, index)
    }

    fn park(&mut self, parker: &Arc<Parker>, index: usize) {
        if let Some(st) = &mut self.chan.guard {
            let sudog = Sudog::new(parker, index, self.value.take());
            st.park_sender(Arc::clone(&sudog));
            st.park_lent(parker);
            self.sudog = Some(sudog);
        }
    }

    fn withdraw(&mut self, parker: &Arc<Parker>) {
        self.chan.withdraw(parker);
    }

    fn finish(self: Box<Self>, woke: Option<bool>) -> R {
        let outcome = match woke {
            None => self.outcome.unwrap_or(Ok(())),
            Some(true) => Ok(()),
            Some(false) => {
                let v = self.sudog.and_then(|s| s.slot.lock().take());
                Err(SendError(
                    v.expect("a sender woken by close still owns its value"),
                ))
            }
        };
        (self.f)(outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::{INLINE, Indices, XorShift, lock_order};
    use crate::chan::{Chan, Select};

    #[test]
    fn indices_stay_inline_up_to_the_limit_then_spill() {
        let small: Indices = (0..INLINE).collect();
        assert!(matches!(small, Indices::Inline { .. }));
        assert_eq!(&*small, (0..INLINE).collect::<Vec<_>>());
        let big: Indices = (0..INLINE + 3).collect();
        assert!(matches!(big, Indices::Heap(_)));
        assert_eq!(&*big, (0..INLINE + 3).collect::<Vec<_>>());
    }

    #[test]
    fn lock_order_sorts_by_address_keeps_poll_order_among_equals_and_skips_nil() {
        // Distinct channels: sorted by address, the nil case (address 0) left out.
        let (order, shared) = lock_order(&[30, 10, 0, 20], &[3, 0, 1]);
        assert!(!shared);
        assert_eq!(&*order, [1, 3, 0]);
        // Cases 0 and 2 share a channel: among them, poll order decides who comes first.
        let (order, shared) = lock_order(&[30, 10, 30, 20], &[2, 3, 0, 1]);
        assert!(shared);
        assert_eq!(&*order, [1, 3, 2, 0]);
        let (order, _) = lock_order(&[30, 10, 30, 20], &[0, 3, 2, 1]);
        assert_eq!(&*order, [1, 3, 0, 2]);
    }

    // More cases than the inline buffers hold: the orders spill to the heap and still work.
    #[test]
    fn a_select_wider_than_the_inline_buffers() {
        let chans: Vec<Chan<usize>> = (0..INLINE + 4).map(|_| Chan::new(1)).collect();
        for k in [0, INLINE - 1, INLINE, INLINE + 3] {
            chans[k].try_send(k).unwrap();
            let got = chans
                .iter()
                .enumerate()
                .fold(Select::new(), |sel, (i, c)| {
                    sel.recv(c, move |v| (i, v.unwrap()))
                })
                .run();
            assert_eq!(got, (k, k));
            let none = chans
                .iter()
                .fold(Select::new(), |sel, c| sel.recv(c, |_| false))
                .default_case(|| true)
                .run();
            assert!(none, "nothing is ready any more");
        }
    }

    #[test]
    fn below_stays_in_range() {
        let mut rng = XorShift::seeded();
        for n in 1..50 {
            for _ in 0..100 {
                assert!(rng.below(n) < n);
            }
        }
    }
}
