//! What a task costs: goroutines, OS threads, tokio tasks, rayon jobs and processes, to start, to
//! keep parked, and as the workers of a pool; with Go's figures from the real runtime beside them.
//!
//! - [`spawn`]: spawn + join of many trivial tasks, and the memory of many parked ones.
//! - [`pools`]: the per-job overhead of a worker pool (threadpool, rayon, tokio, a crossbeam-fed
//!   pool; the project's own `csp` pool has a marked place) on tiny and on ~10 µs jobs.
//! - [`suite`]: `lab bench pool`, those rows side by side with `go/cmd/bench-pool`, ratios to Go,
//!   plus the same CPU-bound work on 1 and 2 cores (the numbers behind go-14).
//! - [`demos`]: go-07 (「协程和线程和进程的区别」) and go-21 (「Goroutine和线程的区别」), asserted
//!   against the kernel's view of this process and against real Go (`go/cmd/go07-tasks`,
//!   `go/cmd/go21-stacks`).
//! - [`work`]: the job itself and the exactly-once check every row passes.
//!
//! ## How the real system differs
//! Go measures its goroutines with its own allocator's accounting; the Rust rows read the kernel's
//! counters (`/proc/self/status`), which are coarser. See each module's last section.

pub mod demos;
pub mod pools;
pub mod procfs;
pub mod spawn;
pub mod suite;
pub mod work;

use catalog::Topic;

/// This crate's demos and the `pool` suite, for the lab's registry.
pub fn topic() -> Topic {
    Topic {
        name: "poolbench",
        demos: demos::DEMOS,
        benches: &[suite::SUITE],
    }
}
