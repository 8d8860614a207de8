//! `Context`: a tree of cancellation scopes with deadlines, values and a reason for ending.
//!
//! Answers go-25 (「Context包的用途是什么」). A request fans out into tasks, and those into more
//! tasks; when the request is abandoned (the client left, a deadline passed, a sibling failed),
//! everything started on its behalf must stop. Go's answer is `context.Context`: each scope is a
//! node whose parent is the scope it came from. This is the same tree.
//!
//! ```text
//!   background ── req (timeout 2s) ──┬── db   (cancel)        cancel(req) ⇒ req, db, cache, v done
//!                                     ├── cache (cancel cause) cancel(db)  ⇒ db done; req, cache not
//!                                     └── v (value "user"=7)   v.value("user") walks v → req → bg
//! ```
//!
//! **The rules**, each in one place:
//! - Cancelling a node cancels its whole subtree with the same reason, never its parent
//!   ([`Context::cancel_with`]). A child created under a node that is already done is done at once.
//! - A node's deadline is the earlier of its own and its parent's ([`earlier`]): a child cannot
//!   outlive its parent's deadline, and `deadline()` reports the one that applies, as Go does.
//! - The reason: [`CtxError::Canceled`] or [`CtxError::DeadlineExceeded`] (what Go's `Err()`
//!   returns, same texts), plus an optional cause (`context.WithCancelCause`); [`Context::cause`]
//!   falls back to the error's text when no cause was given, like `context.Cause`.
//! - [`Context::value`] looks the key up in this node, then its parent, and so on to the root.
//!
//! A deadline is enforced when it is looked at: [`Context::err`], the blocking
//! [`Context::wait_timeout`] and the async [`Context::done`] all notice it has passed and cancel
//! the node then (waiters sleep exactly until it). Go arms a timer instead, which also cancels a
//! context nobody is looking at.
//!
//! The same context works from threads (`wait_timeout`, `err`) and from tokio tasks
//! (`ctx.done().await`), so a tokio task and a thread can be cancelled by one call.
//!
//! # How the real system differs
//! - Go's `Done()` is a channel closed on cancel, usable in any `select`; here threads block on a
//!   condition variable and async code awaits a `tokio::sync::Notify`.
//! - Go keys values by any comparable value (usually an unexported type, to avoid collisions);
//!   here keys are `&'static str` and values are typed by `Any`.
//! - Go's parent holds strong references to its cancelable children until they are cancelled
//!   (the reason `go vet` insists on calling `cancel`); here a parent holds weak ones, so a
//!   forgotten child is freed when dropped. Calling `cancel` is still how its subtree stops.

use std::any::Any;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

/// Why a context ended: what Go's `ctx.Err()` returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum CtxError {
    #[error("context canceled")]
    Canceled,
    #[error("context deadline exceeded")]
    DeadlineExceeded,
}

/// The error and the optional custom cause a context ended with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    pub err: CtxError,
    pub cause: Option<String>,
}

#[derive(Debug, Default)]
struct State {
    reason: Option<Reason>,
    /// Weak: a child that is dropped does not stay reachable from its parent.
    children: Vec<Weak<Node>>,
}

type Value = (&'static str, Arc<dyn Any + Send + Sync>);

struct Node {
    parent: Option<Context>,
    /// Already the earlier of this node's own deadline and its parent's.
    deadline: Option<Instant>,
    value: Option<Value>,
    state: Mutex<State>,
    /// Wakes threads in `wait_timeout`.
    changed: Condvar,
    /// Wakes tasks in `done().await`.
    notify: tokio::sync::Notify,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("deadline", &self.deadline)
            .field("value_key", &self.value.as_ref().map(|v| v.0))
            .field("reason", &self.lock().reason)
            .finish_non_exhaustive()
    }
}

impl Node {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A node of the cancellation tree. Cloning shares the node.
#[derive(Debug, Clone)]
pub struct Context {
    node: Arc<Node>,
}

/// Cancels its context with [`CtxError::Canceled`] (Go's `CancelFunc`). Cloning shares it.
#[derive(Debug, Clone)]
pub struct CancelFn {
    ctx: Context,
}

impl CancelFn {
    pub fn cancel(&self) {
        self.ctx.cancel_with(CtxError::Canceled, None);
    }
}

/// Cancels its context with [`CtxError::Canceled`] and a cause (Go's `CancelCauseFunc`).
#[derive(Debug, Clone)]
pub struct CancelCauseFn {
    ctx: Context,
}

impl CancelCauseFn {
    pub fn cancel(&self, cause: impl Into<String>) {
        self.ctx.cancel_with(CtxError::Canceled, Some(cause.into()));
    }
}

/// The deadline rule: the earlier of two, where `None` means "no deadline".
pub fn earlier(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

impl Context {
    /// The root: never done, no deadline, no values.
    pub fn background() -> Context {
        Context::node(None, None, None)
    }

    fn node(
        parent: Option<&Context>,
        own_deadline: Option<Instant>,
        value: Option<Value>,
    ) -> Context {
        let deadline = earlier(own_deadline, parent.and_then(|p| p.node.deadline));
        let ctx = Context {
            node: Arc::new(Node {
                parent: parent.cloned(),
                deadline,
                value,
                state: Mutex::default(),
                changed: Condvar::new(),
                notify: tokio::sync::Notify::new(),
            }),
        };
        if let Some(p) = parent {
            let mut st = p.node.lock();
            match st.reason.clone() {
                // Born under a finished parent: finished at once, with the parent's reason.
                Some(r) => {
                    drop(st);
                    ctx.cancel_with(r.err, r.cause);
                }
                None => {
                    st.children.retain(|w| w.strong_count() > 0);
                    st.children.push(Arc::downgrade(&ctx.node));
                }
            }
        }
        ctx
    }

    /// A child that ends when `cancel` is called or the parent ends.
    pub fn with_cancel(parent: &Context) -> (Context, CancelFn) {
        let ctx = Context::node(Some(parent), None, None);
        (ctx.clone(), CancelFn { ctx })
    }

    /// Like [`Context::with_cancel`], but the canceller states a cause ([`Context::cause`]).
    pub fn with_cancel_cause(parent: &Context) -> (Context, CancelCauseFn) {
        let ctx = Context::node(Some(parent), None, None);
        (ctx.clone(), CancelCauseFn { ctx })
    }

    /// A child that also ends, with [`CtxError::DeadlineExceeded`], at `at` (or at the parent's
    /// deadline if that is earlier).
    pub fn with_deadline(parent: &Context, at: Instant) -> (Context, CancelFn) {
        let ctx = Context::node(Some(parent), Some(at), None);
        (ctx.clone(), CancelFn { ctx })
    }

    pub fn with_timeout(parent: &Context, d: Duration) -> (Context, CancelFn) {
        Context::with_deadline(parent, Instant::now() + d)
    }

    /// A child carrying one key and value; it ends when its parent does.
    pub fn with_value<V: Any + Send + Sync>(
        parent: &Context,
        key: &'static str,
        value: V,
    ) -> Context {
        Context::node(Some(parent), None, Some((key, Arc::new(value))))
    }

    /// The value for `key` in this node or the nearest ancestor that has one.
    pub fn value<V: Any + Clone>(&self, key: &'static str) -> Option<V> {
        let mut at = Some(self);
        while let Some(c) = at {
            if let Some((k, v)) = &c.node.value
                && *k == key
            {
                return v.downcast_ref::<V>().cloned();
            }
            at = c.node.parent.as_ref();
        }
        None
    }

    /// The deadline that applies to this node, if any.
    pub fn deadline(&self) -> Option<Instant> {
        self.node.deadline
    }

    /// `None` while running; why it ended once it has. Notices a passed deadline.
    pub fn err(&self) -> Option<CtxError> {
        self.reason().map(|r| r.err)
    }

    /// The cause given to a [`CancelCauseFn`], else the text of [`Context::err`] (Go's
    /// `context.Cause`); `None` while running.
    pub fn cause(&self) -> Option<String> {
        self.reason()
            .map(|r| r.cause.unwrap_or_else(|| r.err.to_string()))
    }

    /// The full reason, noticing a passed deadline.
    pub fn reason(&self) -> Option<Reason> {
        if let Some(r) = self.node.lock().reason.clone() {
            return Some(r);
        }
        if self.node.deadline.is_some_and(|d| Instant::now() >= d) {
            self.cancel_with(CtxError::DeadlineExceeded, None);
        }
        self.node.lock().reason.clone()
    }

    /// Ends this node and its whole subtree with `err` and `cause`, unless it has already ended
    /// (the first reason stays). Never touches the parent.
    pub fn cancel_with(&self, err: CtxError, cause: Option<String>) {
        let children = {
            let mut st = self.node.lock();
            if st.reason.is_some() {
                return;
            }
            st.reason = Some(Reason {
                err,
                cause: cause.clone(),
            });
            std::mem::take(&mut st.children)
        };
        self.node.changed.notify_all();
        self.node.notify.notify_waiters();
        for child in children.iter().filter_map(Weak::upgrade) {
            Context { node: child }.cancel_with(err, cause.clone());
        }
    }

    /// Blocks the thread until the context ends or `timeout` passes; returns why it ended.
    pub fn wait_timeout(&self, timeout: Duration) -> Option<CtxError> {
        let give_up = Instant::now() + timeout;
        loop {
            if let Some(e) = self.err() {
                return Some(e);
            }
            let now = Instant::now();
            if now >= give_up {
                return None;
            }
            let until = earlier(Some(give_up), self.node.deadline).unwrap_or(give_up);
            let st = self.node.lock();
            if st.reason.is_none() {
                let _ = self
                    .node
                    .changed
                    .wait_timeout(st, until.saturating_duration_since(now));
            }
        }
    }

    /// Completes when the context ends (by cancel or deadline), with why: `<-ctx.Done()` for
    /// tokio tasks.
    pub async fn done(&self) -> CtxError {
        loop {
            let notified = self.node.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(e) = self.err() {
                return e;
            }
            match self.node.deadline {
                Some(d) => {
                    tokio::select! {
                        _ = notified => {}
                        _ = tokio::time::sleep_until(d.into()) => {}
                    }
                }
                None => notified.await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LONG: Duration = Duration::from_secs(10);

    #[test]
    fn cancelling_a_parent_cancels_its_children_not_the_reverse() {
        let root = Context::background();
        let (parent, cancel_parent) = Context::with_cancel(&root);
        let (child, cancel_child) = Context::with_cancel(&parent);
        let (grandchild, _) = Context::with_cancel(&child);
        let (sibling, _) = Context::with_cancel(&parent);
        cancel_child.cancel();
        assert_eq!(child.err(), Some(CtxError::Canceled));
        assert_eq!(grandchild.err(), Some(CtxError::Canceled));
        assert_eq!(parent.err(), None, "a child's cancel reached its parent");
        assert_eq!(sibling.err(), None);
        cancel_parent.cancel();
        assert_eq!(sibling.err(), Some(CtxError::Canceled));
        assert_eq!(root.err(), None);
    }

    #[test]
    fn a_child_of_a_finished_parent_is_finished_at_once() {
        let (p, cancel) = Context::with_cancel_cause(&Context::background());
        cancel.cancel("shutting down");
        let (c, _) = Context::with_cancel(&p);
        assert_eq!(c.cause().as_deref(), Some("shutting down"));
    }

    #[test]
    fn the_earlier_deadline_wins() {
        let now = Instant::now();
        let (p, _) = Context::with_deadline(&Context::background(), now + Duration::from_secs(1));
        let (late, _) = Context::with_deadline(&p, now + LONG);
        let (early, _) = Context::with_deadline(&p, now + Duration::from_millis(1));
        assert_eq!(late.deadline(), p.deadline());
        assert_eq!(early.deadline(), Some(now + Duration::from_millis(1)));
        assert_eq!(earlier(None, None), None);
        // Counterexample: taking the later one would give the child 10 s.
        assert_ne!(late.deadline(), Some(now + LONG));
    }

    #[test]
    fn a_deadline_ends_a_blocked_waiter_with_deadline_exceeded() {
        let (c, _) = Context::with_timeout(&Context::background(), Duration::from_millis(5));
        assert_eq!(c.wait_timeout(LONG), Some(CtxError::DeadlineExceeded));
        assert_eq!(c.cause().as_deref(), Some("context deadline exceeded"));
    }

    #[test]
    fn values_are_found_up_the_tree_and_shadowed_below() {
        let root = Context::background();
        let a = Context::with_value(&root, "user", 7_u32);
        let (b, _) = Context::with_cancel(&a);
        let c = Context::with_value(&b, "user", 9_u32);
        assert_eq!(b.value::<u32>("user"), Some(7));
        assert_eq!(c.value::<u32>("user"), Some(9));
        assert_eq!(root.value::<u32>("user"), None);
        assert_eq!(b.value::<String>("user"), None, "wrong type");
    }

    #[test]
    fn a_thread_wakes_when_another_cancels() {
        let (c, cancel) = Context::with_cancel(&Context::background());
        let c2 = c.clone();
        let h = std::thread::spawn(move || c2.wait_timeout(LONG));
        cancel.cancel();
        assert_eq!(h.join().unwrap(), Some(CtxError::Canceled));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_tokio_task_wakes_on_cancel_and_on_deadline() {
        let (c, cancel) = Context::with_cancel(&Context::background());
        let c2 = c.clone();
        let h = tokio::spawn(async move { c2.done().await });
        cancel.cancel();
        assert_eq!(h.await.unwrap(), CtxError::Canceled);
        let (d, _) = Context::with_timeout(&Context::background(), Duration::from_millis(5));
        assert_eq!(d.done().await, CtxError::DeadlineExceeded);
    }
}
