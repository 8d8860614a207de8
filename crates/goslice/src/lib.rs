//! goslice (work in progress).

use catalog::Topic;

/// This crate's demos and benchmarks, for the lab's registry.
pub fn topic() -> Topic {
    Topic {
        name: "goslice",
        demos: &[],
        benches: &[],
    }
}
