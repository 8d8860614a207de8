//! Channels with Go's semantics, and the Go interview questions about channels.
//!
//! - [`rendezvous`]: go-03, whether an unbuffered channel's send and receive are synchronous,
//!   observed on `std::sync::mpsc::sync_channel(0)` and `crossbeam_channel::bounded(0)` and
//!   compared with real Go channels.

use catalog::{Demo, Topic};

pub mod rendezvous;

/// This crate's demos and benchmarks, for the lab's registry.
pub fn topic() -> Topic {
    Topic {
        name: "gochan",
        demos: DEMOS,
        benches: &[],
    }
}

static DEMOS: &[Demo] = &[
    // go-03 · 无缓冲Chan的发送和接收是否同步
    rendezvous::demos::SEND_WAITS,
    rendezvous::demos::BUFFERED_SEND_ALONE,
    rendezvous::demos::RECV_WAITS,
    rendezvous::demos::GO_AGREES,
];
