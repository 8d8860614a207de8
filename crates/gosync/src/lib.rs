//! Go's `sync` and `sync/atomic` next to Rust's: counters, CAS, and Go's locks ported.
//!
//! - [`counters`]: go-02 (safe sharing without a Mutex) and go-29 (CAS). How much does each way of
//!   updating one shared integer cost? Go's and Rust's numbers side by side (`lab bench counters`).
//! - [`mutex`]: go-37 (「Go中的锁如何实现」). [`mutex::GoMutex`], Go's `sync.Mutex` algorithm: the
//!   state word, fast path, bounded spinning, semaphore queue, normal and starvation modes.
//!   [`starvation`] drives it through the state-word walkthrough and the hog-and-victim workload
//!   (`lab run go-37`).
//! - [`rwmutex`], [`once`], [`kinds`]: go-18 (「Go中的锁有哪些」). [`rwmutex::GoRwMutex`] with Go's
//!   writer preference, [`once::GoOnce`], a spin lock, and each kind's defining property observed
//!   next to Go's real `sync` types (`lab run go-18`).
//! - [`demos`]: the demos of go-18 and go-37; `go/cmd/go37-mutex` is their Go side.
//!
//! The ports are pure locks, like Go's: no data inside, because a Rust `Mutex<T>` needs `unsafe`,
//! which this workspace denies. Tests protect counters updated with separate loads and stores.

pub mod counters;
pub mod demos;
pub mod kinds;
pub mod mutex;
pub mod once;
pub mod rwmutex;
mod sema;
pub mod starvation;

use catalog::{Demo, Topic};

static DEMOS: &[Demo] = &[
    demos::STATE_WORD,
    demos::STARVATION_BOUND,
    demos::GO_STARVATION_BOUND,
    demos::KINDS,
    demos::GO_KINDS,
];

/// This crate's demos and benchmarks, for the lab's registry.
pub fn topic() -> Topic {
    Topic {
        name: "gosync",
        demos: DEMOS,
        benches: &[counters::SUITE],
    }
}
