//! A GPM scheduler you can watch: Go's M:N scheduler rebuilt on OS threads, running real tasks.
//!
//! - [`sched`]: the GPM scheduler. G = a task ([`task::Task`], a closure called step by step),
//!   M = an OS thread, P = a processor with a local run queue of 256 and a `runnext` slot. Global
//!   queue checked every 61 ticks, work stealing of half a victim's queue, hand-off of a P whose M
//!   blocks in a syscall, time-slice preemption by a monitor thread. go-13 and go-46.
//! - [`gm`]: Go 1.0's scheduler, no P and one locked global queue, for go-47.
//! - [`trace`]: the events of a run and a readable rendering; [`watch`] returns one small run's
//!   trace as text.
//! - [`workloads`]: the runs the demos, tests and pages share.
//! - [`demos`]: the demos of go-13, go-14, go-46 and go-47; `go/cmd/go13-sched` is their Go side.

pub mod demos;
pub mod gm;
pub mod report;
pub mod sched;
pub mod task;
pub mod trace;
pub mod workloads;

pub use report::{GRecord, LockStats, Report, Stats};
pub use sched::{Config, run};
pub use task::{Step, Task, TaskCtx};
pub use workloads::watch;

use catalog::{Demo, Topic};

static DEMOS: &[Demo] = &[
    demos::WATCH,
    demos::HANDOFF,
    demos::PREEMPT,
    demos::GO_SCHEDTRACE,
    demos::M_TO_N,
    demos::SYSCALL_ADDS_M,
    demos::GO_M_TO_N,
    demos::CONCURRENCY,
    demos::GO_PARALLELISM,
    demos::WHY_P,
    demos::GO_WHY_P,
];

/// This crate's demos, for the lab's registry.
pub fn topic() -> Topic {
    Topic {
        name: "gpm",
        demos: DEMOS,
        benches: &[],
    }
}
