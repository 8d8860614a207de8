//! Go's `sync` and `sync/atomic` next to Rust's: counters, CAS, and Go's locks ported.
//!
//! - [`sharing`]: go-02 (「Golang中除了加Mutex锁以外还有哪些方式安全读写共享变量」). Atomics, a
//!   channel-owned map, Once, confinement and RWMutex, each giving an exact answer, next to a
//!   load-then-store counter that loses updates. [`sharing_demos`] asserts it, and
//!   `go/cmd/go02-sharing` does the same in Go under the race detector (`lab run go-02`).
//! - [`cas`]: go-29 (「Go中CAS是怎么回事」). The compare-and-swap retry loop with its retries
//!   counted, strong vs weak CAS, ABA, and what a CAS loop can do that an atomic add cannot;
//!   [`cas_demos`] asserts it next to `go/cmd/go29-cas` (`lab run go-29`).
//! - [`counters`]: the numbers for go-02 and go-29. How much does each way of updating one shared
//!   integer cost: atomic add, CAS loop, mutexes (Go's ported one included), RWMutex read-heavy, a
//!   channel-owned counter? Go's and Rust's side by side (`lab bench counters`).
//! - [`mutex`]: go-37 (「Go中的锁如何实现」). [`mutex::GoMutex`], Go's `sync.Mutex` algorithm: the
//!   state word, fast path, bounded spinning, semaphore queue, normal and starvation modes.
//!   [`starvation`] drives it through the state-word walkthrough and the hog-and-victim workload
//!   (`lab run go-37`).
//! - [`rwmutex`], [`once`], [`kinds`]: go-18 (「Go中的锁有哪些」). [`rwmutex::GoRwMutex`] with Go's
//!   writer preference, [`once::GoOnce`], a spin lock, and each kind's defining property observed
//!   next to Go's real `sync` types (`lab run go-18`).
//! - [`rw_tradeoff`]: go-18 again: when a reader-writer lock pays off (long, overlapping reads)
//!   and when it costs more than a mutex (mostly writes); [`rw_tradeoff_demos`] asserts both, and
//!   `go/cmd/go18-rwtradeoff` measures Go's `sync.RWMutex` and `sync.Mutex` the same way.
//! - [`demos`]: the demos of go-18 and go-37; `go/cmd/go37-mutex` is their Go side.
//!
//! The ports are pure locks, like Go's: no data inside, because a Rust `Mutex<T>` needs `unsafe`,
//! which this workspace denies. Tests protect counters updated with separate loads and stores.

pub mod cas;
pub mod cas_demos;
pub mod counters;
pub mod demos;
pub mod kinds;
pub mod mutex;
pub mod once;
pub mod rw_tradeoff;
pub mod rw_tradeoff_demos;
pub mod rwmutex;
mod sema;
pub mod sharing;
pub mod sharing_demos;
pub mod starvation;

use catalog::{Demo, Topic};

static DEMOS: &[Demo] = &[
    demos::STATE_WORD,
    demos::STARVATION_BOUND,
    demos::GO_STARVATION_BOUND,
    demos::KINDS,
    demos::GO_KINDS,
    rw_tradeoff_demos::READ_HEAVY_WINS,
    rw_tradeoff_demos::WRITE_HEAVY_LOSES,
    rw_tradeoff_demos::GO_TRADEOFF,
    sharing_demos::ATOMICS,
    sharing_demos::CHANNEL_OWNER,
    sharing_demos::ONCE,
    sharing_demos::CONFINEMENT,
    sharing_demos::RW_READERS,
    sharing_demos::GO_SAFE,
    sharing_demos::GO_RACY,
    cas_demos::LONE,
    cas_demos::CONTENDED,
    cas_demos::STALE,
    cas_demos::ABA,
    cas_demos::CAPPED,
    cas_demos::GO_CONTENDED,
    cas_demos::GO_INSTRUCTIONS,
];

/// This crate's demos and benchmarks, for the lab's registry.
pub fn topic() -> Topic {
    Topic {
        name: "gosync",
        demos: DEMOS,
        benches: &[counters::SUITE],
    }
}
