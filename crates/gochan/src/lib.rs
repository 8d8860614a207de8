//! Channels with Go's semantics, and the Go interview questions about channels.
//!
//! - [`rendezvous`]: go-03, whether an unbuffered channel's send and receive are synchronous,
//!   observed on `std::sync::mpsc::sync_channel(0)` and `crossbeam_channel::bounded(0)` and
//!   compared with real Go channels.
//! - [`chan`]: a channel with Go's semantics, built the way `runtime/chan.go` builds it (go-10,
//!   go-38), with `select` as `runtime/select.go` does it (go-24).
//! - [`buffering`]: go-20, synchronous or asynchronous: how far a sender runs ahead on a channel of
//!   capacity k (gochan, crossbeam, std and real Go channels).
//! - [`selecting`]: go-24, what `select` is for: multiplexing, timeouts, non-blocking operations and
//!   a uniformly random choice, measured on gochan, crossbeam, tokio and real Go.
//! - [`internals`]: go-10 and go-38, the channel's internals traced step by step (ring indices,
//!   direct hand-off, refill from a parked sender, close) and compared with a real Go channel's
//!   `hchan` fields; the invariant checked after every event under contention.
//! - [`shootout`]: `lab bench channels`, the crossbeam-channel benchmark matrix for this channel,
//!   crossbeam, std, flume, tokio and real Go channels.

use catalog::{Demo, Topic};

pub mod buffering;
pub mod chan;
pub mod internals;
pub mod rendezvous;
pub mod selecting;
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
    // go-10 · 什么是channel,为什么它可以做到线程安全
    internals::INVARIANT,
    internals::GO_EXACTLY_ONCE,
    // go-38 · Go中的channel的实现
    internals::RING_WRAPS,
    internals::BYPASS,
    internals::REFILL,
    internals::CLOSE_WAKES,
    internals::GO_HCHAN,
    // go-20 · Channel是同步的还是异步的
    buffering::SENDER_RUNS_CAP_AHEAD,
    buffering::RUST_CHANNELS_AGREE,
    buffering::CLOSE_DRAINS,
    buffering::GO_AGREES,
    // go-24 · Go的select可以用于什么
    selecting::MULTIPLEX,
    selecting::TIMEOUT_DEMO,
    selecting::DEFAULT_DEMO,
    selecting::PARKS_DEMO,
    selecting::UNIFORM_DEMO,
    selecting::BIASED_DEMO,
    selecting::GO_AGREES,
    selecting::GO_TIMERS,
];
