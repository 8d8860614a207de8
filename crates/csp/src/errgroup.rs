//! `errgroup`: a [`WaitGroup`] that also collects the first error and cancels the rest.
//!
//! Part of go-05 (「Golang中常用的并发模型」). `golang.org/x/sync/errgroup` is the usual way to
//! run sibling subtasks of one request: start each with `g.Go(f)`, then `g.Wait()` waits for all
//! of them and returns the **first** error any of them returned. Built with
//! `errgroup.WithContext(parent)`, the group also hands out a derived context that is cancelled
//! as soon as one task fails (so the others can stop early) or when `Wait` returns. `SetLimit(n)`
//! caps how many tasks run at once: `Go` then blocks while `n` are running, and `TryGo` refuses.
//!
//! ```text
//!   let (g, ctx) = Group::with_context(&parent)      ctx = child of parent
//!   g.spawn("a", ..) ─► ok
//!   g.spawn("b", ..) ─► Err(boom) ─► first error := boom; cancel ctx with cause "boom"
//!   g.spawn("c", ..) ─► sees ctx done ─► returns Err(canceled)   (not the first: ignored)
//!   g.wait()         ─► joins a, b, c ─► cancels ctx ─► Err(Failed(boom))
//!
//!   set_limit(Some(2)):  spawn = acquire a permit (blocks while 2 run) ─► thread ─► permit dropped
//!                        try_spawn = try_acquire, or hand the closure back as `Full`
//! ```
//!
//! **The rule** is [`Group::record`]: only the first failure is kept, and keeping it cancels the
//! group's context with the failure's text as the cause (`context.Cause(ctx)` in Go). Later
//! failures, typically the `context canceled` of the tasks that noticed, are dropped.
//!
//! **Panics** are a decision Go leaves open: in the x/sync source read for this page a panicking
//! `f` is not recovered, so it ends the whole process like any goroutine panic. Here a panic is
//! caught in the task's thread and recorded as [`GroupError::Panicked`] under the same rule as an
//! error: it can be the first failure, it cancels the siblings, and `wait` returns it. Nothing is
//! swallowed and nothing is fatal.
//!
//! Every task is a named thread of a [`Tasks`] registry, so tests can prove that a group leaves
//! nothing behind once `wait` returns.
//!
//! # How the real system differs
//! - Go's errgroup starts a goroutine per `Go` call (a few KB); here each task is an OS thread.
//! - Go's `Wait` does not consume the group; [`Group::wait`] does, and hands back the first error
//!   by value instead of requiring `E: Clone`.
//! - Go's errgroup is not in the standard library (`golang.org/x/sync`); the Go program for go-05
//!   builds a tiny equivalent from `sync.WaitGroup`, `sync.Once` and `context.WithCancelCause`.

use std::sync::{Arc, Mutex};

use crate::context::{Context, CtxError};
use crate::pool::panic_message;
use crate::semaphore::{Permit, Semaphore};
use crate::tasks::{self, Tasks};
use crate::waitgroup::WaitGroup;

/// Why a group failed: the first task failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GroupError<E> {
    /// A task returned this error.
    #[error("{0}")]
    Failed(E),
    /// A task panicked; the panic was caught in its thread.
    #[error("task {task} panicked: {message}")]
    Panicked { task: String, message: String },
}

/// `try_spawn` found every slot taken; the closure is handed back unrun.
pub struct Full<F>(pub F);

impl<F> std::fmt::Debug for Full<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Full(..)")
    }
}

/// The message Go's `SetLimit` panics with when tasks are still running.
pub fn modify_limit_message(active: i64) -> String {
    format!("errgroup: modify limit while {active} goroutines in the group are still active")
}

/// A group of tasks working on one job; see the module docs.
pub struct Group<E> {
    tasks: Tasks,
    wg: WaitGroup,
    /// The first failure; `None` until one happens.
    first: Arc<Mutex<Option<GroupError<E>>>>,
    /// The derived context ([`Group::with_context`]), cancelled on the first failure or by `wait`.
    ctx: Option<Context>,
    /// `None`: no limit.
    limit: Option<Semaphore>,
    spawned: u64,
}

impl<E> std::fmt::Debug for Group<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Group")
            .field("active", &self.wg.count())
            .field("limit", &self.limit.as_ref().map(Semaphore::capacity))
            .field("with_context", &self.ctx.is_some())
            .finish()
    }
}

impl<E: std::fmt::Display + Send + 'static> Default for Group<E> {
    fn default() -> Self {
        Group::new()
    }
}

impl<E: std::fmt::Display + Send + 'static> Group<E> {
    /// A group without a context (Go's zero `Group`), tasks in the [`tasks::global`] registry.
    pub fn new() -> Self {
        Group::new_in(tasks::global())
    }

    /// A group without a context, tasks registered in `tasks`.
    pub fn new_in(tasks: &Tasks) -> Self {
        Group {
            tasks: tasks.clone(),
            wg: WaitGroup::new(),
            first: Arc::default(),
            ctx: None,
            limit: None,
            spawned: 0,
        }
    }

    /// Go's `errgroup.WithContext`: the group and a child of `parent` that is cancelled when the
    /// first task fails (cause: the failure's text) or when [`Group::wait`] returns.
    pub fn with_context(parent: &Context) -> (Self, Context) {
        Group::with_context_in(tasks::global(), parent)
    }

    /// [`Group::with_context`] with the tasks registered in `tasks`.
    pub fn with_context_in(tasks: &Tasks, parent: &Context) -> (Self, Context) {
        let (ctx, _cancel) = Context::with_cancel_cause(parent);
        let mut g = Group::new_in(tasks);
        g.ctx = Some(ctx.clone());
        (g, ctx)
    }

    /// Caps the number of running tasks at `n` (`None`: no cap). Like Go's `SetLimit`, setting a
    /// new cap panics while tasks started under the current cap are still running.
    pub fn set_limit(&mut self, n: Option<usize>) {
        let active = self.wg.count();
        if n.is_some() && self.limit.is_some() && active != 0 {
            panic!("{}", modify_limit_message(active));
        }
        self.limit = n.map(Semaphore::new);
    }

    /// Tasks started and not yet ended.
    pub fn active(&self) -> i64 {
        self.wg.count()
    }

    /// Go's `g.Go(f)` with a generated task name.
    #[track_caller]
    pub fn go<F>(&mut self, f: F)
    where
        F: FnOnce() -> Result<(), E> + Send + 'static,
    {
        let name = format!("errgroup-task-{}", self.spawned);
        self.spawn(name, f);
    }

    /// Starts `f` on a named thread, first waiting for a free slot if a limit is set.
    #[track_caller]
    pub fn spawn<F>(&mut self, name: impl Into<String>, f: F)
    where
        F: FnOnce() -> Result<(), E> + Send + 'static,
    {
        let permit = self.limit.as_ref().map(Semaphore::acquire);
        self.start(name.into(), permit, f);
    }

    /// Go's `TryGo`: starts `f` only if a slot is free now; otherwise hands it back.
    #[track_caller]
    pub fn try_spawn<F>(&mut self, name: impl Into<String>, f: F) -> Result<(), Full<F>>
    where
        F: FnOnce() -> Result<(), E> + Send + 'static,
    {
        let permit = match &self.limit {
            None => None,
            Some(sem) => match sem.try_acquire() {
                Some(p) => Some(p),
                None => return Err(Full(f)),
            },
        };
        self.start(name.into(), permit, f);
        Ok(())
    }

    #[track_caller]
    fn start<F>(&mut self, name: String, permit: Option<Permit>, f: F)
    where
        F: FnOnce() -> Result<(), E> + Send + 'static,
    {
        self.spawned += 1;
        self.wg.add(1);
        let wg = self.wg.clone();
        let first = Arc::clone(&self.first);
        let ctx = self.ctx.clone();
        let task = name.clone();
        drop(self.tasks.spawn(name, move || {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
            let failure = match outcome {
                Ok(Ok(())) => None,
                Ok(Err(e)) => Some(GroupError::Failed(e)),
                Err(p) => Some(GroupError::Panicked {
                    task,
                    message: panic_message(&*p),
                }),
            };
            if let Some(failure) = failure {
                Group::record(&first, ctx.as_ref(), failure);
            }
            // Go's `done()`: the slot first, then the count, so `wait` never returns while a
            // slot is still held.
            drop(permit);
            wg.done();
        }));
    }

    /// The first-failure rule: keep `failure` only if none was kept before, and then cancel the
    /// group's context with its text as the cause. Returns whether it was kept.
    pub fn record(
        first: &Mutex<Option<GroupError<E>>>,
        ctx: Option<&Context>,
        failure: GroupError<E>,
    ) -> bool {
        let mut slot = first.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_some() {
            return false;
        }
        let cause = failure.to_string();
        *slot = Some(failure);
        drop(slot);
        if let Some(ctx) = ctx {
            ctx.cancel_with(CtxError::Canceled, Some(cause));
        }
        true
    }

    /// Waits for every task, cancels the context (if any), and returns the first failure.
    pub fn wait(self) -> Result<(), GroupError<E>> {
        self.wg.wait();
        if let Some(ctx) = &self.ctx {
            ctx.cancel_with(CtxError::Canceled, None);
        }
        let first = self.first.lock().unwrap_or_else(|p| p.into_inner()).take();
        match first {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
    use std::time::Duration;

    use crate::tasks::assert_no_leaks;

    const LONG: Duration = Duration::from_secs(10);

    #[test]
    fn only_the_first_failure_is_kept_and_it_cancels_the_context() {
        let (ctx, _) = Context::with_cancel(&Context::background());
        let first = Mutex::new(None);
        assert!(Group::<String>::record(
            &first,
            Some(&ctx),
            GroupError::Failed("boom".into())
        ));
        assert_eq!(ctx.cause().as_deref(), Some("boom"));
        // Counterexample: a later failure is not kept and does not change the cause.
        assert!(!Group::<String>::record(
            &first,
            Some(&ctx),
            GroupError::Failed("context canceled".into())
        ));
        assert_eq!(
            *first.lock().unwrap(),
            Some(GroupError::Failed("boom".into()))
        );
        assert_eq!(ctx.cause().as_deref(), Some("boom"));
    }

    #[test]
    fn the_first_error_cancels_the_siblings_and_wait_returns_it() {
        // Phenomenon: one failure stops work that would otherwise run for LONG.
        let tasks = Tasks::new();
        let before = tasks.baseline();
        let (mut g, ctx) = Group::<String>::with_context_in(&tasks, &Context::background());
        let saw_cancel = Arc::new(AtomicUsize::new(0));
        for i in 0..3 {
            let (ctx, saw) = (ctx.clone(), Arc::clone(&saw_cancel));
            g.spawn(format!("slow-{i}"), move || match ctx.wait_timeout(LONG) {
                Some(e) => {
                    saw.fetch_add(1, Ordering::SeqCst);
                    Err(e.to_string())
                }
                None => Ok(()),
            });
        }
        g.go(|| Err("boom".to_string()));
        assert_eq!(g.wait(), Err(GroupError::Failed("boom".into())));
        assert_eq!(saw_cancel.load(Ordering::SeqCst), 3);
        assert_eq!(ctx.cause().as_deref(), Some("boom"));
        assert_no_leaks(&tasks, &before, LONG);
    }

    #[test]
    fn wait_cancels_the_context_even_without_an_error() {
        let (mut g, ctx) = Group::<String>::with_context_in(&Tasks::new(), &Context::background());
        g.go(|| Ok(()));
        assert_eq!(g.wait(), Ok(()));
        assert_eq!(ctx.err(), Some(CtxError::Canceled));
        assert_eq!(ctx.cause().as_deref(), Some("context canceled"));
    }

    #[test]
    fn a_panic_is_reported_as_the_first_failure() {
        let (mut g, ctx) = Group::<String>::with_context_in(&Tasks::new(), &Context::background());
        g.spawn("boom", || panic!("on purpose"));
        let err = g.wait().unwrap_err();
        assert_eq!(
            err,
            GroupError::Panicked {
                task: "boom".into(),
                message: "on purpose".into()
            }
        );
        assert_eq!(
            ctx.cause().as_deref(),
            Some("task boom panicked: on purpose")
        );
    }

    #[test]
    fn the_limit_caps_running_tasks_and_try_spawn_refuses_when_full() {
        let tasks = Tasks::new();
        let mut g = Group::<String>::new_in(&tasks);
        g.set_limit(Some(2));
        let (open, gate) = crossbeam_channel::bounded::<()>(0);
        let (in_tx, inside) = crossbeam_channel::unbounded();
        for i in 0..2 {
            let (gate, in_tx) = (gate.clone(), in_tx.clone());
            g.spawn(format!("held-{i}"), move || {
                in_tx.send(()).unwrap();
                let _ = gate.recv();
                Ok(())
            });
        }
        inside.recv().unwrap();
        inside.recv().unwrap();
        assert!(g.try_spawn("third", || Ok(())).is_err());
        drop(open);
        let (now, peak) = (Arc::new(AtomicI64::new(0)), Arc::new(AtomicI64::new(0)));
        for _ in 0..10 {
            let (now, peak) = (Arc::clone(&now), Arc::clone(&peak));
            g.go(move || {
                let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(n, Ordering::SeqCst);
                std::thread::yield_now();
                now.fetch_sub(1, Ordering::SeqCst);
                Ok(())
            });
        }
        assert_eq!(g.wait(), Ok(()));
        assert!(peak.load(Ordering::SeqCst) <= 2);
    }

    #[test]
    #[should_panic(expected = "errgroup: modify limit while 1 goroutines")]
    fn changing_the_limit_while_tasks_run_panics_like_go() {
        let mut g = Group::<String>::new_in(&Tasks::new());
        g.set_limit(Some(2));
        let (_open, gate) = crossbeam_channel::bounded::<()>(0);
        g.go(move || {
            let _ = gate.recv();
            Ok(())
        });
        g.set_limit(Some(1));
    }
}
