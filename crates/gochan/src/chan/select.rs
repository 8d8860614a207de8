//! `select`, built as Go's `runtime/select.go` `selectgo` builds it.
//!
//! 1. **Poll order**: a random permutation of the cases (Fisher–Yates with a small per-call PRNG,
//!    Go uses `cheaprandn`), leaving out nil channels, which are never ready. Taking the first
//!    ready case in a uniformly random order is a uniformly random choice among the ready cases.
//! 2. **Lock order**: the same cases sorted by channel address, so two selects that share channels
//!    always lock them in the same order and cannot deadlock each other. A channel named by several
//!    cases is locked once, by the first of them in lock order (its *owner*), as `selectgo` skips a
//!    lock it already holds; so the channel's mutex need not be reentrant.
//! 3. **Pass 0** (no Go counterpart): each case whose channel an earlier case owns leaves a
//!    [`Sudog`] with the channel (`State::lent`), so that the owner can reach it under the lock.
//!    Go reaches any case through raw pointers; here the cases are trait objects of different
//!    element types, and only the channel itself is typed on both sides.
//! 4. **Pass 1**: with every channel locked, poll in poll order; the first case that can complete
//!    does so (an owner polls its lent cases for them). None ready: run `default` if there is one.
//! 5. **Pass 2**: otherwise park one [`Sudog`] per case on its channel's queue, all sharing one
//!    [`Parker`], unlock, and sleep (until the deadline of [`Select::after`], if any).
//! 6. **Pass 3**: the first channel to complete one of the sudogs claims the parker; the others
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
/// (leaving out nil channels), sorts them by channel address into a *lock order*, locks every
/// channel in that order and takes the first case in poll order that can complete now (so the choice
/// among ready cases is uniform). If none can, it runs `default`, or else parks one waiter on every
/// channel, all sharing one wake-up, and when woken locks everything again to withdraw the waiters
/// that lost.
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
        let poll_order = poll_order(&self.cases, &mut XorShift::seeded());
        let lock_order = lock_order(&self.cases, &poll_order);
        let owner = owners(&self.cases, &lock_order);
        let owners: Vec<usize> = lock_order
            .iter()
            .copied()
            .filter(|&i| owner[i] == i)
            .collect();

        // Pass 0: cases on a channel another case owns lend their sudog to it.
        let mut parker = None;
        if owners.len() < lock_order.len() {
            let p = Parker::new();
            for &i in &lock_order {
                if owner[i] != i {
                    self.cases[i].lend(&p, i);
                }
            }
            parker = Some(p);
        }

        // Pass 1: lock each channel once, take the first ready case in random order.
        lock_all(&mut self.cases, &owners);
        for &i in &poll_order {
            let ready = match &parker {
                Some(p) if owner[i] != i => self.cases[owner[i]].poll_lent(p, i).map(Some),
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

/// The indices of the non-nil cases in a uniformly random order (Fisher–Yates).
fn poll_order<R>(cases: &[Box<dyn Case<R> + '_>], rng: &mut XorShift) -> Vec<usize> {
    let mut order: Vec<usize> = (0..cases.len())
        .filter(|&i| cases[i].chan_addr().is_some())
        .collect();
    for i in (1..order.len()).rev() {
        let j = rng.below(i + 1);
        order.swap(i, j);
    }
    order
}

/// The same cases sorted by channel address: the global order every `select` locks in.
fn lock_order<R>(cases: &[Box<dyn Case<R> + '_>], poll_order: &[usize]) -> Vec<usize> {
    let mut order = poll_order.to_vec();
    order.sort_by_key(|&i| cases[i].chan_addr());
    order
}

/// For each case, the case that locks its channel during the select: the first case in lock order
/// on the same channel (a case owns itself unless an earlier one names the same channel). Nil
/// cases, outside the lock order, own themselves and are never used.
fn owners<R>(cases: &[Box<dyn Case<R> + '_>], lock_order: &[usize]) -> Vec<usize> {
    let mut owner: Vec<usize> = (0..cases.len()).collect();
    for pair in lock_order.windows(2) {
        if cases[pair[0]].chan_addr() == cases[pair[1]].chan_addr() {
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

/// A small xorshift64* generator, seeded per `select` from std's per-process random keys and a
/// counter, so that two selects never share a sequence. Go uses the per-M `cheaprand`.
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
    /// The channel's address (the lock order key), `None` for a nil channel.
    fn chan_addr(&self) -> Option<usize>;
    /// Locks the channel; called only on the case that owns it in this select.
    fn lock(&mut self);
    /// Drops the sudogs lent by `lent_by`'s select (if given), then unlocks.
    fn unlock(&mut self, lent_by: Option<&Arc<Parker>>);
    /// Pass 0, before anything is locked: leaves this case's sudog with its channel, whose owner is
    /// another case.
    fn lend(&mut self, parker: &Arc<Parker>, index: usize);
    /// Under the lock: completes the operation if it can without waiting.
    fn poll(&mut self) -> bool;
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
    guard: Option<MutexGuard<'a, State<T>>>,
}

impl<'a, T> Held<'a, T> {
    fn new(ch: &'a Chan<T>) -> Self {
        Held {
            inner: ch.inner.as_deref(),
            guard: None,
        }
    }

    fn addr(&self) -> Option<usize> {
        self.inner.map(|i| std::ptr::from_ref(i) as usize)
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
    fn chan_addr(&self) -> Option<usize> {
        self.chan.addr()
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
    fn chan_addr(&self) -> Option<usize> {
        self.chan.addr()
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
    use super::XorShift;

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
