//! Channels with Go's semantics, and the Go interview questions about channels.
//!
//! - [`rendezvous`]: go-03, whether an unbuffered channel's send and receive are synchronous,
//!   observed on `std::sync::mpsc::sync_channel(0)` and `crossbeam_channel::bounded(0)` and
//!   compared with real Go channels.
//! - [`chan`]: a channel with Go's semantics, built the way `runtime/chan.go` builds it (go-10,
//!   go-38), with `select` as `runtime/select.go` does it (go-24).
//! - [`shootout`]: `lab bench channels`, the crossbeam-channel benchmark matrix for this channel,
//!   crossbeam, std, flume, tokio and real Go channels.

use catalog::{Demo, Topic};

pub mod chan;
pub mod rendezvous;
pub mod shootout;

/// This crate's demos and benchmarks, for the lab's registry.
pub fn topic() -> Topic {
    Topic {
        name: "gochan",
        demos: DEMOS,
        benches: &[shootout::SUITE],
    }
}

static DEMOS: &[Demo] = &[
    // go-03 · 无缓冲Chan的发送和接收是否同步
    rendezvous::demos::SEND_WAITS,
    rendezvous::demos::BUFFERED_SEND_ALONE,
    rendezvous::demos::RECV_WAITS,
    rendezvous::demos::GO_AGREES,
];
