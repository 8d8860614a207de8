//! Go's concurrency patterns in Rust, with the real Go runtime as the judge.
//!
//! - [`tasks`]: go-17 (「怎么查看Goroutine的数量」) and go-43 (「Goroutine发生了泄漏如何检测」).
//!   A registry of live tasks (threads and tokio tasks), its count (the `runtime.NumGoroutine`
//!   analogue) and a goleak-style leak check; [`count_demos`] asserts both next to
//!   `go/cmd/go17-numgoroutine` and `go/cmd/go43-goleak` (`lab run go-17`, `lab run go-43`).
//! - [`waitgroup`]: go-26 (「Go主协程如何等其余协程完再操作」), Go's `sync.WaitGroup`, asserted in
//!   [`count_demos`] next to `go/cmd/go26-waitgroup` (`lab run go-26`).
//! - [`leaks`]: go-35 (「在Go函数中为什么会发生内存泄露」). Three goroutine leaks reproduced,
//!   caught by the detector and fixed; [`leak_demos`] asserts them next to
//!   `go/cmd/go43-goleak -part=leaks` (`lab run go-35`).
//! - [`pool`] and [`semaphore`]: go-19 (「怎么限制Goroutine的数量」). A CSP worker pool (bounded
//!   job queue, N workers, results out, backpressure, draining shutdown, panics reported, live
//!   workers counted) and a counting semaphore; [`limit_demos`] asserts both next to
//!   `go/cmd/go19-limit` (`lab run go-19`). The pool's API is documented in [`pool`]; the pool
//!   benchmark uses it.
//! - [`context`]: go-25 (「Context包的用途是什么」). The cancellation tree, deadlines, values and
//!   the reason a context ended, from threads and tokio tasks; [`context_demos`] asserts it next
//!   to `go/cmd/go25-context` (`lab run go-25`).
//! - [`errgroup`] and [`patterns`]: go-05 (「Golang中常用的并发模型」). An errgroup (first error
//!   cancels the rest, optional limit, panics reported) and the channel patterns (generator,
//!   pipeline stage, fan-out/fan-in, bounded parallelism, first response wins), each stoppable
//!   through a [`Context`]; [`patterns_demos`] asserts them next to `go/cmd/go05-patterns`
//!   (`lab run go-05`).
//!
//! Everything that starts a task takes a [`Tasks`] registry, so a test can prove that the pattern
//! it runs leaves nothing behind.

pub mod context;
pub mod context_demos;
pub mod count_demos;
pub mod errgroup;
pub mod leak_demos;
pub mod leaks;
pub mod limit_demos;
pub mod patterns;
pub mod patterns_demos;
pub mod pool;
mod probe;
pub mod semaphore;
pub mod tasks;
pub mod waitgroup;

pub use context::{CancelCauseFn, CancelFn, Context, CtxError};
pub use errgroup::{Group, GroupError};
pub use pool::{JobPanicked, Outcome, Pool, SubmitError};
pub use semaphore::{Permit, Semaphore};
pub use tasks::{Leaks, TaskInfo, Tasks, assert_no_leaks};
pub use waitgroup::WaitGroup;

use catalog::{Demo, Topic};

static DEMOS: &[Demo] = &[
    count_demos::LIVE_COUNT,
    count_demos::GO_LIVE_COUNT,
    count_demos::WAITGROUP,
    count_demos::ADD_INSIDE,
    count_demos::GO_WAITGROUP,
    count_demos::DETECTOR,
    count_demos::GO_DETECTOR,
    limit_demos::LIMITS,
    limit_demos::GO_LIMITS,
    context_demos::TREE,
    context_demos::RULES,
    context_demos::GO_CONTEXT,
    leak_demos::LEAKS,
    leak_demos::GO_LEAKS,
    patterns_demos::FIRST_ERROR,
    patterns_demos::LIMIT_DEMO,
    patterns_demos::FAN,
    patterns_demos::FIRST_RESPONSE,
    patterns_demos::GO_PATTERNS,
];

/// This crate's demos and benchmarks, for the lab's registry.
pub fn topic() -> Topic {
    Topic {
        name: "csp",
        demos: DEMOS,
        benches: &[],
    }
}
