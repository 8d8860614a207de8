//! go-23 (「Go的defer原理是什么」): Go's `defer` next to Rust's answer to the same need, a guard whose
//! `Drop` runs a closure.
//!
//! ```text
//!   Go                                     Rust
//!   func f() {                             fn f() {
//!       defer a()      ─┐ pushed on the        let _a = defer(|| a());   ─┐ dropped in reverse
//!       defer b()       │ goroutine's          let _b = defer(|| b());    │ order of declaration
//!       ...             │ defer chain          ...                        │ at the end of the
//!   }   // b(), then a()┘ at return        }   // b(), then a()           ┘ *block*
//! ```
//!
//! Where they agree ([`Table`], compared field by field with `go/cmd/go23-defer`): last in,
//! first out; a value handed over when the guard is made is frozen then (Go evaluates a deferred
//! call's arguments at the `defer` statement; a `move` closure copies them), while a closure that
//! *borrows* sees later writes; the cleanup can change a result the caller reads afterwards (Go's
//! named result; here an out-parameter) but not a value already returned; it runs while unwinding
//! and when a goroutine/thread ends early ([`goexit`]).
//!
//! Where they differ: a Go defer belongs to the *function*, a Rust guard to the *block*, so a
//! guard made in a loop body runs at the end of each iteration ([`loop_block_scoped`]) and a
//! `Vec` of guards drops front to back ([`loop_vec_of_guards`]); [`DeferStack`] gives Go's
//! function-scoped LIFO. Go's `recover` has no Rust twin: `catch_unwind` is called around the
//! code, not from the cleanup. `os.Exit` and `std::process::exit` both skip the cleanup; only the
//! Go side is run (as a child process) because re-running a Rust test binary as a child is not
//! worth its plumbing here.
//!
//! The unwinding demos use `std::panic::resume_unwind`, which unwinds exactly like `panic!` but
//! skips the panic hook, so the lab's output is not interrupted by a "thread panicked" message.
//!
//! ## How the real system differs
//! Since Go 1.14 most defers are *open-coded*: the compiler keeps a bitmask of which defers were
//! reached and inlines their calls at every return, costing about a nanosecond; a defer inside a
//! loop (or beyond 8 in a function) still builds a `_defer` record that the runtime runs
//! (`runtime/panic.go`, `deferreturn`). Rust guards are always resolved at compile time: the drop
//! calls are inserted by the compiler, there is no runtime list.

use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

/// Runs `f` when dropped: Go's `defer f()` scoped to the enclosing block.
#[must_use = "a guard that is not bound to a variable runs at once"]
pub struct Guard<F: FnOnce()> {
    f: Option<F>,
}

impl<F: FnOnce()> std::fmt::Debug for Guard<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard")
            .field("armed", &self.f.is_some())
            .finish()
    }
}

/// Makes a [`Guard`].
pub fn defer<F: FnOnce()>(f: F) -> Guard<F> {
    Guard { f: Some(f) }
}

impl<F: FnOnce()> Drop for Guard<F> {
    fn drop(&mut self) {
        if let Some(f) = self.f.take() {
            f();
        }
    }
}

/// A function-scoped defer list, like a goroutine's defer chain: calls pushed anywhere (in a loop,
/// say) run in reverse order when the stack is dropped.
#[derive(Default)]
pub struct DeferStack<'a> {
    calls: Vec<Box<dyn FnOnce() + 'a>>,
}

impl std::fmt::Debug for DeferStack<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeferStack")
            .field("pending", &self.calls.len())
            .finish()
    }
}

impl<'a> DeferStack<'a> {
    pub fn push(&mut self, f: impl FnOnce() + 'a) {
        self.calls.push(Box::new(f));
    }
}

impl Drop for DeferStack<'_> {
    fn drop(&mut self) {
        while let Some(f) = self.calls.pop() {
            f();
        }
    }
}

/// The observations Go and Rust share, field for field with `go/cmd/go23-defer`'s output.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Table {
    pub lifo: Vec<i32>,
    pub args_at_defer: i32,
    pub closure_sees_later: i32,
    pub named_result: i32,
    pub unnamed_result: i32,
    pub loop_order: Vec<String>,
    pub runs_on_panic: bool,
    pub goexit_deferred_ran: bool,
    pub goexit_after_ran: bool,
}

/// Guards for 1, 2, 3 made in that order: the order they ran.
pub fn lifo() -> Vec<i32> {
    let order = RefCell::new(Vec::new());
    {
        let push = |k| order.borrow_mut().push(k);
        let _one = defer(|| push(1));
        let _two = defer(|| push(2));
        let _three = defer(|| push(3));
    }
    order.into_inner()
}

/// `x` is 1 when the guard is made and 2 when it runs; a `move` closure copied the 1.
pub fn args_at_defer() -> i32 {
    let seen = Cell::new(0);
    {
        let seen = &seen;
        let mut x = 1;
        let _g = defer(move || seen.set(x));
        x = 2;
        let _ = x;
    }
    seen.get()
}

/// The same, but the closure borrows `x`, so it reads the value `x` has when it runs.
pub fn closure_sees_later() -> i32 {
    let seen = Cell::new(0);
    {
        let x = Cell::new(1);
        let _g = defer(|| seen.set(x.get()));
        x.set(2);
    }
    seen.get()
}

/// Go's named result is a variable of the frame that the caller reads after the defers ran. Its
/// Rust shape is an out-parameter: the guard doubles it after the body stored 3.
pub fn named_result() -> i32 {
    fn body(r: &Cell<i32>) {
        let _g = defer(|| r.set(r.get() * 2));
        r.set(3);
    }
    let r = Cell::new(0);
    body(&r);
    r.get()
}

/// A plain return value is computed before the locals (the guard among them) are dropped, so the
/// guard's doubling comes too late: the caller gets 3.
pub fn unnamed_result() -> i32 {
    let r = Cell::new(3);
    let _g = defer(|| r.set(r.get() * 2));
    r.get()
}

/// Three cleanups registered in a loop on a [`DeferStack`]: they run after the loop, last first,
/// as Go's defers in a loop do.
pub fn loop_deferred_to_function_end() -> Vec<String> {
    let events = RefCell::new(Vec::new());
    {
        let mut stack = DeferStack::default();
        for i in 0..3 {
            let events = &events;
            stack.push(move || events.borrow_mut().push(i.to_string()));
        }
        events.borrow_mut().push("loop-done".to_string());
    }
    events.into_inner()
}

/// A guard bound inside the loop body is dropped at the end of each iteration.
pub fn loop_block_scoped() -> Vec<String> {
    let events = RefCell::new(Vec::new());
    for i in 0..3 {
        let _g = defer(|| events.borrow_mut().push(i.to_string()));
    }
    events.borrow_mut().push("loop-done".to_string());
    events.into_inner()
}

/// Guards collected in a `Vec` run after the loop, but front to back: a `Vec` drops its elements
/// in index order.
pub fn loop_vec_of_guards() -> Vec<String> {
    let events = RefCell::new(Vec::new());
    {
        let mut guards = Vec::new();
        for i in 0..3 {
            let events = &events;
            guards.push(defer(move || events.borrow_mut().push(i.to_string())));
        }
        events.borrow_mut().push("loop-done".to_string());
    }
    events.into_inner()
}

/// What a guard saw when the code around it unwound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unwound {
    pub guard_ran: bool,
    /// `std::thread::panicking()` inside the guard: the cleanup knows it runs during unwinding.
    pub guard_saw_panicking: bool,
    pub caught: bool,
}

/// A guard in a function that unwinds; `catch_unwind` stops the unwinding at the caller.
pub fn runs_on_unwind() -> Unwound {
    let ran = Cell::new(false);
    let saw = Cell::new(false);
    let caught = catch_unwind(AssertUnwindSafe(|| {
        let _g = defer(|| {
            ran.set(true);
            saw.set(std::thread::panicking());
        });
        resume_unwind(Box::new("boom"));
    }))
    .is_err();
    Unwound {
        guard_ran: ran.get(),
        guard_saw_panicking: saw.get(),
        caught,
    }
}

/// The payload that marks a deliberate early exit, Rust's stand-in for `runtime.Goexit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Goexit;

/// Ends the current thread's work here, running every guard on the way out; [`run_task`] at the
/// top of the thread turns it into a normal end.
pub fn goexit() -> ! {
    resume_unwind(Box::new(Goexit))
}

/// How a task run by [`run_task`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    Returned,
    Goexit,
    Panicked,
}

/// Runs `f` the way a goroutine body runs: a [`goexit`] ends it quietly, any other unwinding is a
/// panic.
pub fn run_task(f: impl FnOnce()) -> Ended {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(()) => Ended::Returned,
        Err(p) if p.is::<Goexit>() => Ended::Goexit,
        Err(_) => Ended::Panicked,
    }
}

/// A thread calls [`goexit`] midway: (guard ran, code after it ran, how it ended).
pub fn goexit_in_thread() -> (bool, bool, Ended) {
    std::thread::spawn(|| {
        let ran = Cell::new(false);
        let after = Cell::new(false);
        let ended = run_task(|| {
            let _g = defer(|| ran.set(true));
            goexit();
            #[allow(unreachable_code)]
            after.set(true);
        });
        (ran.get(), after.get(), ended)
    })
    .join()
    .unwrap_or((false, false, Ended::Panicked))
}

/// Every observation of the Rust side.
pub fn rust_table() -> Table {
    let (goexit_deferred_ran, goexit_after_ran, _) = goexit_in_thread();
    Table {
        lifo: lifo(),
        args_at_defer: args_at_defer(),
        closure_sees_later: closure_sees_later(),
        named_result: named_result(),
        unnamed_result: unnamed_result(),
        loop_order: loop_deferred_to_function_end(),
        runs_on_panic: runs_on_unwind().guard_ran,
        goexit_deferred_ran,
        goexit_after_ran,
    }
}

/// The fields where two tables disagree, each as `field: go … vs rust …`. Empty means they agree.
pub fn differences(go: &Table, rust: &Table) -> Vec<String> {
    let mut d = Vec::new();
    macro_rules! cmp {
        ($($f:ident),*) => {$(
            if go.$f != rust.$f {
                d.push(format!("{}: go {:?} vs rust {:?}", stringify!($f), go.$f, rust.$f));
            }
        )*};
    }
    cmp!(
        lifo,
        args_at_defer,
        closure_sees_later,
        named_result,
        unnamed_result,
        loop_order,
        runs_on_panic,
        goexit_deferred_ran,
        goexit_after_ran
    );
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn guards_run_last_in_first_out() {
        assert_eq!(lifo(), vec![3, 2, 1]);
    }

    #[test]
    fn moved_values_are_frozen_borrowed_ones_are_not() {
        assert_eq!((args_at_defer(), closure_sees_later()), (1, 2));
    }

    #[test]
    fn a_guard_changes_an_out_parameter_but_not_a_returned_value() {
        assert_eq!((named_result(), unnamed_result()), (6, 3));
    }

    #[test]
    fn loop_guards_are_block_scoped_unless_stacked() {
        assert_eq!(
            loop_deferred_to_function_end(),
            strings(&["loop-done", "2", "1", "0"])
        );
        assert_eq!(loop_block_scoped(), strings(&["0", "1", "2", "loop-done"]));
        assert_eq!(loop_vec_of_guards(), strings(&["loop-done", "0", "1", "2"]));
    }

    #[test]
    fn guards_run_on_unwind_and_on_goexit() {
        assert_eq!(
            runs_on_unwind(),
            Unwound {
                guard_ran: true,
                guard_saw_panicking: true,
                caught: true
            }
        );
        assert_eq!(goexit_in_thread(), (true, false, Ended::Goexit));
    }

    #[test]
    fn differences_names_each_disagreeing_field() {
        let rust = rust_table();
        assert!(differences(&rust, &rust).is_empty());
        // Counterexample: a "Go" that ran defers first-in first-out and in each loop iteration.
        let fifo = Table {
            lifo: vec![1, 2, 3],
            loop_order: strings(&["0", "1", "2", "loop-done"]),
            ..rust.clone()
        };
        let d = differences(&fifo, &rust);
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(d[0].starts_with("lifo"));
    }
}
