//! Go's channel patterns, small and reusable: generator, pipeline stage, fan-out, fan-in,
//! bounded parallelism and first-response-wins, each stoppable through a [`Context`].
//!
//! Part of go-05 (「Golang中常用的并发模型」). In Go every one of these is a goroutine in a loop
//! around a `select` with two cases: the channel operation it wants, and `<-ctx.Done()`. The second
//! case is what keeps a stage from leaking when its consumer goes away.
//!
//! ```text
//!   generate(0..)  ──►  stage(square)  ──►  consumer takes 10, cancels ctx
//!        │ select{send, done}  │ select{recv, done} / select{send, done}
//!        └── both see done, return; the leak check finds nothing left
//!
//!   fan_out: one input ─┬─► worker-0 ─┐                 merge: in-0 ─► fwd-0 ─┐
//!                       ├─► worker-1 ─┼─► one output           in-1 ─► fwd-1 ─┼─► one output
//!                       └─► worker-2 ─┘ (fan-in)                              ┘
//!
//!   first_response: contender-0 ─┐ each gets a child ctx; the first answer is taken,
//!                   contender-1 ─┼─► winner   then the race's ctx is cancelled and the
//!                   contender-2 ─┘            losers see it (their answers go to a buffer, never block)
//! ```
//!
//! **`<-ctx.Done()` for threads.** A crossbeam `select!` can only wait on channels, and a
//! [`Context`] is a condition variable. [`Done`] bridges the two: a watcher thread waits on a
//! child of the context and drops a channel's only sender when it ends, so `recv(done.rx())`
//! becomes ready exactly like a closed Go `Done()` channel. The watcher also ends when the last
//! clone of the [`Done`] is dropped (it cancels its own child context), so a pattern that finishes
//! normally leaves no watcher behind. That costs one extra thread per pattern, which Go does not pay.
//!
//! **Invariants.** Every value a stage takes is passed on at most once, and exactly once unless
//! the context ended; every thread a pattern starts is a [`Tasks`] entry and ends once its input
//! is exhausted, its consumer is gone, or the context is done.
//!
//! # How the real system differs
//! - Each stage is an OS thread blocked in the kernel, not a parked goroutine, so a pipeline of
//!   thousands of stages is not cheap here.
//! - A Go consumer that stops reading without cancelling leaks the producer forever. Here the
//!   producer's send fails once the receiver is dropped, so that leak ends by itself (go-35).

use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, bounded, select};

use crate::context::{CancelFn, Context};
use crate::errgroup::{Group, GroupError};
use crate::tasks::Tasks;

/// How long the watcher sleeps per wait; it loops, so this is no limit on a context's life.
const WATCH_SLICE: Duration = Duration::from_secs(3600);

/// Cancels the watcher's context when the last [`Done`] clone goes away.
#[derive(Debug)]
struct StopWatcher(CancelFn);

impl Drop for StopWatcher {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

/// `ctx.Done()` as a crossbeam channel: [`Done::rx`] is disconnected (ready in a `select!`) once
/// the context ends. Cloning shares one watcher thread.
#[derive(Debug, Clone)]
pub struct Done {
    rx: Receiver<()>,
    ctx: Context,
    _stop: Arc<StopWatcher>,
}

impl Done {
    /// Starts the watcher for `ctx` as a task of `tasks`.
    #[track_caller]
    pub fn new(tasks: &Tasks, ctx: &Context) -> Done {
        let (watched, stop) = Context::with_cancel(ctx);
        let (tx, rx) = bounded::<()>(0);
        let w = watched.clone();
        drop(tasks.spawn("ctx-done-watcher", move || {
            while w.wait_timeout(WATCH_SLICE).is_none() {}
            drop(tx);
        }));
        Done {
            rx,
            ctx: ctx.clone(),
            _stop: Arc::new(StopWatcher(stop)),
        }
    }

    /// Ready (with an error) once the context has ended: use as `recv(done.rx()) -> _ => ..`.
    pub fn rx(&self) -> &Receiver<()> {
        &self.rx
    }

    /// Whether the watched context has ended.
    pub fn is_done(&self) -> bool {
        self.ctx.err().is_some()
    }
}

/// Sends `v` unless the context ends first or the receiver is gone; true if it was sent. The one
/// place every pattern's send goes through (Go's `select { case out <- v: case <-ctx.Done(): }`).
pub fn send_or_done<T>(out: &Sender<T>, v: T, done: &Done) -> bool {
    if done.is_done() {
        return false;
    }
    select! {
        send(out, v) -> r => r.is_ok(),
        recv(done.rx()) -> _ => false,
    }
}

/// Receives unless the context ends first or the input is closed (Go's or-done read).
pub fn recv_or_done<T>(input: &Receiver<T>, done: &Done) -> Option<T> {
    if done.is_done() {
        return None;
    }
    select! {
        recv(input) -> r => r.ok(),
        recv(done.rx()) -> _ => None,
    }
}

/// A generator: a task that sends each item of `items` (possibly endless) until it runs out, the
/// receiver is dropped, or `ctx` ends.
#[track_caller]
pub fn generate<T, I>(tasks: &Tasks, ctx: &Context, name: &str, items: I, cap: usize) -> Receiver<T>
where
    T: Send + 'static,
    I: IntoIterator<Item = T> + Send + 'static,
{
    let done = Done::new(tasks, ctx);
    let (tx, rx) = bounded(cap);
    drop(tasks.spawn(name, move || {
        for v in items {
            if !send_or_done(&tx, v, &done) {
                return;
            }
        }
    }));
    rx
}

/// A pipeline stage: applies `f` to each input value, in order, on one task.
#[track_caller]
pub fn stage<I, O, F>(
    tasks: &Tasks,
    ctx: &Context,
    name: &str,
    input: Receiver<I>,
    f: F,
) -> Receiver<O>
where
    I: Send + 'static,
    O: Send + 'static,
    F: Fn(I) -> O + Send + Sync + 'static,
{
    fan_out(tasks, ctx, name, input, 1, f)
}

/// Fan-out and fan-in: `workers` tasks take values from the one `input` (each value goes to
/// exactly one of them) and send `f(value)` to one shared output, which closes when the last
/// worker ends. Output order is completion order.
#[track_caller]
pub fn fan_out<I, O, F>(
    tasks: &Tasks,
    ctx: &Context,
    name: &str,
    input: Receiver<I>,
    workers: usize,
    f: F,
) -> Receiver<O>
where
    I: Send + 'static,
    O: Send + 'static,
    F: Fn(I) -> O + Send + Sync + 'static,
{
    let done = Done::new(tasks, ctx);
    let (tx, rx) = bounded(workers.max(1));
    let f = Arc::new(f);
    for i in 0..workers.max(1) {
        let (input, tx, f, done) = (input.clone(), tx.clone(), Arc::clone(&f), done.clone());
        drop(tasks.spawn(format!("{name}-{i}"), move || {
            while let Some(v) = recv_or_done(&input, &done) {
                if !send_or_done(&tx, f(v), &done) {
                    return;
                }
            }
        }));
    }
    rx
}

/// Fan-in: one forwarding task per input, all into one output that closes when every input has
/// closed (Go's `merge`).
#[track_caller]
pub fn merge<T: Send + 'static>(
    tasks: &Tasks,
    ctx: &Context,
    inputs: Vec<Receiver<T>>,
) -> Receiver<T> {
    let done = Done::new(tasks, ctx);
    let (tx, rx) = bounded(inputs.len().max(1));
    for (i, input) in inputs.into_iter().enumerate() {
        let (tx, done) = (tx.clone(), done.clone());
        drop(tasks.spawn(format!("merge-{i}"), move || {
            while let Some(v) = recv_or_done(&input, &done) {
                if !send_or_done(&tx, v, &done) {
                    return;
                }
            }
        }));
    }
    rx
}

/// Bounded parallelism: `f` on every item with at most `limit` running at once (an errgroup with
/// a limit). Results come back in input order; the first failure cancels the rest (each `f` gets
/// the group's context) and is returned.
pub fn map_limited<I, O, E, F>(
    tasks: &Tasks,
    parent: &Context,
    limit: usize,
    items: Vec<I>,
    f: F,
) -> Result<Vec<O>, GroupError<E>>
where
    I: Send + 'static,
    O: Send + 'static,
    E: std::fmt::Display + Send + 'static,
    F: Fn(&Context, I) -> Result<O, E> + Send + Sync + 'static,
{
    let (mut g, ctx) = Group::with_context_in(tasks, parent);
    g.set_limit(Some(limit.max(1)));
    let n = items.len();
    let (tx, rx) = crossbeam_channel::unbounded();
    let f = Arc::new(f);
    for (i, item) in items.into_iter().enumerate() {
        let (tx, f, ctx) = (tx.clone(), Arc::clone(&f), ctx.clone());
        g.spawn(format!("map-{i}"), move || {
            let o = f(&ctx, item)?;
            let _ = tx.send((i, o));
            Ok(())
        });
    }
    drop(tx);
    g.wait()?;
    let mut out: Vec<Option<O>> = (0..n).map(|_| None).collect();
    for (i, o) in rx.try_iter() {
        out[i] = Some(o);
    }
    Ok(out.into_iter().flatten().collect())
}

/// A contender in [`first_response`]: given its own context, answers or gives up (`None`).
pub type Contender<T> = Box<dyn FnOnce(&Context) -> Option<T> + Send + 'static>;

/// First response wins: runs every contender on its own task, returns the first answer with its
/// index, and cancels the race's context so the losers stop. Losers' late answers go into a
/// buffer with room for all of them, so none of them can block (the classic Go leak of an
/// unbuffered result channel). Returns `None` when every contender gave up or `parent` ended.
/// Does not wait for the losers; a leak check with a grace period does.
#[track_caller]
pub fn first_response<T: Send + 'static>(
    tasks: &Tasks,
    parent: &Context,
    contenders: Vec<(String, Contender<T>)>,
) -> Option<(usize, T)> {
    let (race, cancel) = Context::with_cancel(parent);
    let n = contenders.len();
    let (tx, rx) = bounded(n.max(1));
    for (i, (name, c)) in contenders.into_iter().enumerate() {
        let (tx, race) = (tx.clone(), race.clone());
        drop(tasks.spawn(name, move || {
            // Room for every contender: this send never blocks.
            let _ = tx.send(c(&race).map(|v| (i, v)));
        }));
    }
    drop(tx);
    let done = Done::new(tasks, parent);
    let mut winner = None;
    for _ in 0..n {
        match recv_or_done(&rx, &done) {
            Some(Some(w)) => {
                winner = Some(w);
                break;
            }
            Some(None) => continue,
            None => break,
        }
    }
    cancel.cancel();
    winner
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tasks::assert_no_leaks;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const LONG: Duration = Duration::from_secs(10);

    #[test]
    fn send_or_done_refuses_once_the_context_has_ended() {
        let tasks = Tasks::new();
        let before = tasks.baseline();
        let (ctx, cancel) = Context::with_cancel(&Context::background());
        let done = Done::new(&tasks, &ctx);
        let (tx, rx) = bounded::<u32>(1);
        assert!(send_or_done(&tx, 1, &done));
        cancel.cancel();
        // Counterexample: the channel still has no room, and a plain send would block forever.
        assert!(!send_or_done(&tx, 2, &done));
        assert_eq!(rx.try_recv(), Ok(1));
        drop(done);
        assert_no_leaks(&tasks, &before, LONG);
    }

    #[test]
    fn a_finished_pattern_stops_its_watcher() {
        let tasks = Tasks::new();
        let before = tasks.baseline();
        let ctx = Context::background(); // never ends
        let got: Vec<u32> = generate(&tasks, &ctx, "gen", 0..5, 0).iter().collect();
        assert_eq!(got, vec![0, 1, 2, 3, 4]);
        assert_no_leaks(&tasks, &before, LONG);
    }

    #[test]
    fn cancelling_stops_an_endless_pipeline() {
        let tasks = Tasks::new();
        let before = tasks.baseline();
        let (ctx, cancel) = Context::with_cancel(&Context::background());
        let nums = generate(&tasks, &ctx, "gen", 0u64.., 0);
        let squares = stage(&tasks, &ctx, "square", nums, |x| x * x);
        let first: Vec<u64> = squares.iter().take(4).collect();
        assert_eq!(first, vec![0, 1, 4, 9]);
        cancel.cancel();
        assert_no_leaks(&tasks, &before, LONG);
        drop(squares);
    }

    #[test]
    fn fan_out_and_merge_deliver_each_value_once() {
        let tasks = Tasks::new();
        let ctx = Context::background();
        let a = generate(&tasks, &ctx, "a", 0..100u32, 4);
        let b = generate(&tasks, &ctx, "b", 100..200u32, 4);
        let all = merge(&tasks, &ctx, vec![a, b]);
        let mut out: Vec<u32> = fan_out(&tasks, &ctx, "w", all, 3, |x| x).iter().collect();
        out.sort_unstable();
        assert_eq!(out, (0..200).collect::<Vec<_>>());
    }

    #[test]
    fn map_limited_keeps_order_and_stops_at_the_first_error() {
        let tasks = Tasks::new();
        let bg = Context::background();
        let ok = map_limited(&tasks, &bg, 2, (0..10u32).collect(), |_, x| {
            Ok::<_, String>(x * 2)
        });
        assert_eq!(ok, Ok((0..10).map(|x| x * 2).collect()));
        let err = map_limited(&tasks, &bg, 2, (0..10u32).collect(), |ctx, x| {
            if x == 3 {
                return Err("three".to_string());
            }
            if x > 3 {
                // Later items would wait LONG unless cancelled.
                return match ctx.wait_timeout(LONG) {
                    Some(e) => Err(e.to_string()),
                    None => Ok(x),
                };
            }
            Ok(x)
        });
        assert_eq!(err, Err(GroupError::Failed("three".into())));
    }

    #[test]
    fn the_fast_contender_wins_and_the_slow_ones_see_cancel() {
        let tasks = Tasks::new();
        let before = tasks.baseline();
        let saw = Arc::new(AtomicUsize::new(0));
        let mut cs: Vec<(String, Contender<&str>)> =
            vec![("fast".into(), Box::new(|_| Some("fast")))];
        for i in 0..3 {
            let saw = Arc::clone(&saw);
            cs.push((
                format!("slow-{i}"),
                Box::new(move |ctx: &Context| {
                    ctx.wait_timeout(LONG)?;
                    saw.fetch_add(1, Ordering::SeqCst);
                    None
                }),
            ));
        }
        assert_eq!(
            first_response(&tasks, &Context::background(), cs),
            Some((0, "fast"))
        );
        assert_no_leaks(&tasks, &before, LONG);
        assert_eq!(saw.load(Ordering::SeqCst), 3);
    }
}
