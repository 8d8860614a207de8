//! A task registry: who is running right now, and did a piece of code leave anything behind?
//!
//! Answers go-17 (「怎么查看Goroutine的数量」) and go-43 (「Goroutine发生了泄漏如何检测」).
//! Go counts its goroutines for free (`runtime.NumGoroutine` reads the scheduler's count) and can
//! list them (`runtime.Stack(buf, true)`), which is all `go.uber.org/goleak` needs. Rust threads
//! and tokio tasks have no such list, so this module keeps one: every task started through
//! [`Tasks::spawn`] or [`Tasks::spawn_tokio`] is entered with its name and the source line that
//! started it, and leaves when it ends — normally or by panic, because the entry is removed by a
//! [`TaskGuard`]'s `Drop`.
//!
//! ```text
//!   Tasks ── Arc<Inner> ── live: BTreeMap<id, TaskInfo{name, spawned_at}>   + Condvar "changed"
//!      spawn("worker-1", f) ─► insert #7 ─► thread runs f ─► guard drops ─► remove #7, notify
//!
//!   let before = tasks.baseline();          // ids live now
//!   code_under_test();
//!   tasks.check_leaks(&before, grace)?;     // waits up to `grace` for ids ∉ before to go away
//! ```
//!
//! **Invariant.** An entry exists exactly while its task's closure or future is alive: inserted
//! before the thread starts (so [`Tasks::live`] counts it as soon as `spawn` returns) and removed
//! when the guard moved into the task is dropped.
//!
//! **The leak rule** is one function, [`leaked`]: a task is leaked when it is live after the
//! grace period and was not live at the baseline. The check waits on a condition variable that
//! every exit signals, so a clean run returns as soon as the last task ends; `grace` only bounds
//! how long a real leak is waited for.
//!
//! Each [`Tasks`] is its own registry. Tests running in parallel in one process each use their
//! own, so one test's tasks are never another's leaks; [`global`] is the process-wide one.
//!
//! # How the real system differs
//! - Go's count includes every goroutine, started by anyone, with no opt-in; this registry sees only
//!   tasks started through it. A `std::thread::spawn` elsewhere is invisible to it.
//! - goleak identifies goroutines by the stack's top function and ignores known runtime
//!   goroutines; here a task is identified by the name it was given and where `spawn` was called.
//! - A goroutine blocked forever on a channel is garbage to nobody: Go never frees it. A Rust
//!   thread blocked on a crossbeam channel wakes with an error once the other side is dropped, so
//!   many Go leaks end by themselves in Rust (see [`crate::leaks`]).

use std::collections::{BTreeMap, BTreeSet};
use std::panic::Location;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

/// One live task, as the registry knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskInfo {
    /// Unique within its registry, never reused.
    pub id: u64,
    pub name: String,
    /// Where `spawn` was called: the "stack" a leak report points at.
    pub spawned_at: &'static Location<'static>,
}

impl std::fmt::Display for TaskInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "#{} {} (spawned at {})",
            self.id, self.name, self.spawned_at
        )
    }
}

/// Tasks still live after the grace period that were not live at the baseline.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} leaked task(s): {}", .tasks.len(), list(.tasks))]
pub struct Leaks {
    pub tasks: Vec<TaskInfo>,
}

impl Leaks {
    /// The leaked tasks' names, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut n: Vec<String> = self.tasks.iter().map(|t| t.name.clone()).collect();
        n.sort();
        n
    }
}

fn list(tasks: &[TaskInfo]) -> String {
    tasks
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The ids live at one moment; what a leak check compares against.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Baseline {
    ids: BTreeSet<u64>,
}

impl Baseline {
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// The leak rule: every task in `now` that was not live at `baseline`.
pub fn leaked(baseline: &Baseline, now: &[TaskInfo]) -> Vec<TaskInfo> {
    now.iter()
        .filter(|t| !baseline.ids.contains(&t.id))
        .cloned()
        .collect()
}

#[derive(Debug, Default)]
struct Inner {
    next: AtomicU64,
    /// Behind a std `Mutex` paired with `changed`: waiters for "the count changed" sleep on the
    /// condition variable instead of polling, and entries change only at task start and end.
    live: Mutex<BTreeMap<u64, TaskInfo>>,
    changed: Condvar,
}

/// A registry of live tasks. Cloning shares it.
#[derive(Debug, Clone, Default)]
pub struct Tasks {
    inner: Arc<Inner>,
}

/// Keeps one task's entry alive; dropping it (at the task's end, or while it unwinds from a
/// panic) removes the entry and wakes whoever waits on the count.
#[derive(Debug)]
#[must_use = "the task is deregistered when the guard is dropped"]
pub struct TaskGuard {
    inner: Arc<Inner>,
    id: u64,
}

impl TaskGuard {
    pub fn id(&self) -> u64 {
        self.id
    }
}

impl Drop for TaskGuard {
    fn drop(&mut self) {
        lock(&self.inner.live).remove(&self.id);
        self.inner.changed.notify_all();
    }
}

/// A poisoned lock here only means some task panicked while inserting; the map is still valid.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The process-wide registry, used by [`spawn`] and [`live`] and by a [`crate::Pool`] built
/// with [`crate::Pool::new`].
pub fn global() -> &'static Tasks {
    static GLOBAL: OnceLock<Tasks> = OnceLock::new();
    GLOBAL.get_or_init(Tasks::new)
}

/// Spawns a named thread in the [`global`] registry.
#[track_caller]
pub fn spawn<F, T>(name: impl Into<String>, f: F) -> std::thread::JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    global().spawn(name, f)
}

/// The number of live tasks in the [`global`] registry: the `runtime.NumGoroutine` analogue.
pub fn live() -> usize {
    global().live()
}

impl Tasks {
    pub fn new() -> Self {
        Tasks::default()
    }

    /// Enters a task by hand; it stays live until the guard is dropped.
    #[track_caller]
    pub fn register(&self, name: impl Into<String>) -> TaskGuard {
        let id = self.inner.next.fetch_add(1, Ordering::Relaxed);
        let info = TaskInfo {
            id,
            name: name.into(),
            spawned_at: Location::caller(),
        };
        lock(&self.inner.live).insert(id, info);
        self.inner.changed.notify_all();
        TaskGuard {
            inner: Arc::clone(&self.inner),
            id,
        }
    }

    /// Starts a named OS thread that is live in this registry until `f` returns or panics.
    #[track_caller]
    pub fn spawn<F, T>(&self, name: impl Into<String>, f: F) -> std::thread::JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let name = name.into();
        let guard = self.register(name.clone());
        std::thread::Builder::new()
            .name(name)
            .spawn(move || {
                let _guard = guard;
                f()
            })
            .expect("the OS refused to start a thread")
    }

    /// Starts a tokio task (on the current runtime) that is live in this registry until the future
    /// completes, panics, or is dropped (aborted or its runtime shut down).
    #[track_caller]
    pub fn spawn_tokio<F>(
        &self,
        name: impl Into<String>,
        fut: F,
    ) -> tokio::task::JoinHandle<F::Output>
    where
        F: std::future::Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let guard = self.register(name);
        tokio::spawn(async move {
            let _guard = guard;
            fut.await
        })
    }

    /// How many tasks are live now.
    pub fn live(&self) -> usize {
        lock(&self.inner.live).len()
    }

    /// The live tasks, oldest first.
    pub fn snapshot(&self) -> Vec<TaskInfo> {
        lock(&self.inner.live).values().cloned().collect()
    }

    /// The ids live now, to compare a later [`Tasks::check_leaks`] against.
    pub fn baseline(&self) -> Baseline {
        Baseline {
            ids: lock(&self.inner.live).keys().copied().collect(),
        }
    }

    /// Waits until `pred(live count)` holds or `timeout` passes; returns whether it held. Woken by
    /// every task start and end, so it returns as soon as the count is right.
    pub fn wait_until(&self, timeout: Duration, pred: impl Fn(usize) -> bool) -> bool {
        let end = Instant::now() + timeout;
        let mut live = lock(&self.inner.live);
        loop {
            if pred(live.len()) {
                return true;
            }
            let now = Instant::now();
            if now >= end {
                return false;
            }
            live = self
                .inner
                .changed
                .wait_timeout(live, end - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// The leak check (goleak's `VerifyNone`): waits up to `grace` for every task started since
    /// `baseline` to end, then reports those still live, by name and spawn site.
    pub fn check_leaks(&self, baseline: &Baseline, grace: Duration) -> Result<(), Leaks> {
        let end = Instant::now() + grace;
        let mut live = lock(&self.inner.live);
        loop {
            let now_live: Vec<TaskInfo> = live.values().cloned().collect();
            let tasks = leaked(baseline, &now_live);
            if tasks.is_empty() {
                return Ok(());
            }
            let now = Instant::now();
            if now >= end {
                return Err(Leaks { tasks });
            }
            live = self
                .inner
                .changed
                .wait_timeout(live, end - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }
}

/// Panics with the leak report unless nothing started since `baseline` outlives `grace`: for tests.
#[track_caller]
pub fn assert_no_leaks(tasks: &Tasks, baseline: &Baseline, grace: Duration) {
    if let Err(leaks) = tasks.check_leaks(baseline, grace) {
        panic!("{leaks}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRACE: Duration = Duration::from_secs(5);

    #[test]
    fn a_spawned_thread_is_live_until_it_returns() {
        let tasks = Tasks::new();
        let (go, wait) = crossbeam_channel::bounded::<()>(0);
        let h = tasks.spawn("parked", move || wait.recv().is_ok());
        assert_eq!(tasks.live(), 1);
        assert_eq!(tasks.snapshot()[0].name, "parked");
        go.send(()).unwrap();
        assert!(h.join().unwrap());
        assert!(tasks.wait_until(GRACE, |n| n == 0));
    }

    #[test]
    fn a_panicking_task_is_deregistered_too() {
        let tasks = Tasks::new();
        let before = tasks.baseline();
        let h = tasks.spawn("boom", || panic!("on purpose"));
        assert!(h.join().is_err());
        assert_no_leaks(&tasks, &before, GRACE);
    }

    #[test]
    fn leaked_names_only_tasks_new_since_the_baseline() {
        let tasks = Tasks::new();
        let old = tasks.register("old");
        let before = tasks.baseline();
        let new = tasks.register("new");
        let now = tasks.snapshot();
        let l = leaked(&before, &now);
        assert_eq!(l.len(), 1);
        assert_eq!(l[0].name, "new");
        // Counterexample: with an empty baseline both count as leaked.
        assert_eq!(leaked(&Baseline::default(), &now).len(), 2);
        drop((old, new));
    }

    #[test]
    fn the_check_reports_a_task_that_never_ends_and_passes_once_it_does() {
        let tasks = Tasks::new();
        let before = tasks.baseline();
        let (stop, wait) = crossbeam_channel::bounded::<()>(0);
        let h = tasks.spawn("stuck", move || {
            let _ = wait.recv();
        });
        let err = tasks
            .check_leaks(&before, Duration::from_millis(20))
            .unwrap_err();
        assert_eq!(err.names(), vec!["stuck".to_string()]);
        assert!(err.to_string().contains("tasks.rs"), "{err}");
        drop(stop);
        h.join().unwrap();
        assert_no_leaks(&tasks, &before, GRACE);
    }

    #[test]
    fn tokio_tasks_are_counted() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let tasks = Tasks::new();
        rt.block_on(async {
            let (tx, rx) = tokio::sync::oneshot::channel::<()>();
            let h = tasks.spawn_tokio("async", async move {
                let _ = rx.await;
            });
            assert_eq!(tasks.live(), 1);
            tx.send(()).unwrap();
            h.await.unwrap();
        });
        assert_eq!(tasks.live(), 0);
    }
}
