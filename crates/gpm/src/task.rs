//! A G: a task the schedulers run, written as a sequence of steps.
//!
//! A Go function can be stopped between any two instructions (since Go 1.14, by a signal). A Rust
//! closure cannot be stopped from outside without `unsafe` tricks, so a task here is a closure the
//! scheduler calls again and again; each call is one *step* and the boundary between two steps is
//! a yield point. What the step returns tells the scheduler what the G wants next:
//!
//! ```text
//!   Step::Continue   keep me running (the scheduler may preempt me here if my slice is used up)
//!   Step::Yield      runtime.Gosched(): put me on the global run queue
//!   Step::Syscall(f) I block in a system call: run `f` on my M, without a P
//!   Step::Done       I returned
//! ```
//!
//! A step can spawn new tasks with [`TaskCtx::spawn`], the `go f()` statement.

/// What a task wants after one step.
pub enum Step {
    /// Run the next step of the same task, unless the monitor asked this G to stop (preemption).
    Continue,
    /// Give up the processor voluntarily (Go's `runtime.Gosched`): the G goes to the global queue.
    Yield,
    /// Block the M in a (simulated) system call that runs `f`. The P is left behind so that the
    /// monitor can hand it to another M; when `f` returns, the G continues with its next step.
    Syscall(Box<dyn FnOnce() + Send>),
    /// The task returned.
    Done,
}

impl std::fmt::Debug for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Step::Continue => "Continue",
            Step::Yield => "Yield",
            Step::Syscall(_) => "Syscall",
            Step::Done => "Done",
        })
    }
}

impl Step {
    /// A system call that blocks the M while `f` runs.
    pub fn syscall(f: impl FnOnce() + Send + 'static) -> Step {
        Step::Syscall(Box::new(f))
    }
}

/// The body of a task: called once per step.
pub type Body = Box<dyn FnMut(&mut TaskCtx<'_>) -> Step + Send>;

/// A task before it becomes a G (it gets its id when it is spawned).
pub struct Task {
    pub(crate) body: Body,
}

impl std::fmt::Debug for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Task")
    }
}

impl Task {
    pub fn new(body: impl FnMut(&mut TaskCtx<'_>) -> Step + Send + 'static) -> Task {
        Task {
            body: Box::new(body),
        }
    }

    /// A task whose only step runs `f` and returns.
    pub fn once(f: impl FnOnce(&mut TaskCtx<'_>) + Send + 'static) -> Task {
        let mut f = Some(f);
        Task::new(move |cx| {
            if let Some(f) = f.take() {
                f(cx);
            }
            Step::Done
        })
    }
}

/// What a running step sees: who it is, where it runs, and the `go` statement.
#[derive(Debug)]
pub struct TaskCtx<'a> {
    pub(crate) g: u64,
    pub(crate) p: Option<usize>,
    pub(crate) m: usize,
    pub(crate) spawned: &'a mut Vec<Task>,
}

impl TaskCtx<'_> {
    /// This G's id (the root tasks are 1, 2, ...; spawned tasks get the next free id).
    pub fn id(&self) -> u64 {
        self.g
    }

    /// The P this step runs on (`None` in the GM scheduler, which has no Ps).
    pub fn p(&self) -> Option<usize> {
        self.p
    }

    /// The M (OS thread) this step runs on.
    pub fn m(&self) -> usize {
        self.m
    }

    /// `go f()`: the new G is made runnable when this step returns.
    pub fn spawn(&mut self, body: impl FnMut(&mut TaskCtx<'_>) -> Step + Send + 'static) {
        self.spawned.push(Task::new(body));
    }

    /// Spawns an already built task.
    pub fn spawn_task(&mut self, task: Task) {
        self.spawned.push(task);
    }
}
