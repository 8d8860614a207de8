//! Go's `sync` and `sync/atomic` next to Rust's: the shared-counter benchmarks.
//!
//! Interview questions go-02 (safe sharing without a Mutex) and go-29 (CAS) both end at the same
//! place: how much does each way of updating one shared integer cost? [`counters`] answers with
//! numbers measured in one run, Go's and Rust's side by side (`lab bench counters`).
//!
//! Go's Mutex port and the questions' demos arrive with the channels-and-mutexes issue.

pub mod counters;

use catalog::Topic;

/// This crate's demos and benchmarks, for the lab's registry.
pub fn topic() -> Topic {
    Topic {
        name: "gosync",
        demos: &[],
        benches: &[counters::SUITE],
    }
}
