//! Data races: caught at run time by Go's `-race`, refused at compile time by Rust.
//!
//! Answers **go-09 「Go中数据竞争问题怎么解决」** (how do you solve data races in Go?). A data race is
//! two accesses to one memory location that happen concurrently, where at least one is a write
//! and not both are atomic. Go compiles such a program. Its race detector (`go run -race`,
//! ThreadSanitizer underneath) reports the race if the run performs it. The fixes are a mutex, an
//! atomic, or a goroutine that owns the data and receives updates over a channel. Rust has the
//! same three fixes, but it refuses to compile the racy version at all.
//!
//! ```text
//!   the racy counter              Go                               Rust
//!   ────────────────              ──                               ────
//!   4 × { counter++ }   compiles; `go run -race` reports     does not compile: &mut twice
//!                       WARNING: DATA RACE, exit 66;         (E0499), borrow outlives main
//!                       without -race: silent, may lose      (E0373), Rc/Cell not Send/Sync
//!                       updates                              (E0277), static mut (E0133)
//!   fixed with a        Mutex / atomic.Uint64 /              Mutex<u64> / AtomicU64 /
//!   lock, an atomic,    owner goroutine + chan:              owner thread + mpsc:
//!   or an owner         exact count, -race silent            compiles, exact count
//! ```
//!
//! # Modules
//! - [`snippets`]: the racy counter written seven ways and fixed three ways, as whole programs.
//!   Each one is a doctest (`compile_fail` with the expected error code for the racy ones) and is
//!   what the rustc demos compile.
//! - [`rustc`]: runs a real `rustc` on a snippet and judges the result by its JSON diagnostics.
//! - [`fixes`]: the three fixes as library code, threads released together by a barrier, plus
//!   the compile-time `Send`/`Sync` assertions they rest on.
//! - [`traits`]: what `Send` and `Sync` mean, and a probe that prints the compiler's answer for
//!   a list of types.
//! - [`interleave`]: what Rust still allows. These are race conditions that are not data races,
//!   such as an increment split into an atomic load and store, or check-then-act. Each runs under
//!   a forced interleaving.
//! - [`go_side`]: `go/cmd/go09-race`, built with and without `-race`, and how to read its race
//!   reports.
//! - [`demos`]: the demos (`lab run go-09`).
//!
//! # The invariant
//! Safe Rust has no data races. The type system enforces aliasing XOR mutation: a `&mut T` is
//! exclusive, and shared mutation needs a type that synchronizes (`Mutex`, atomics) or stays on
//! one thread (`Cell`, `Rc`, which are not `Sync`/`Send`). No such invariant stops race
//! *conditions*, and neither Rust nor Go's detector looks for them.
//!
//! # How the real system differs
//! Go's detector works at run time. It finds only the races that the run performs, costs several
//! times the CPU and memory, and checks one execution: code the run does not reach is not checked.
//! Rust's check is static and covers every path. The price is that some correct programs are
//! refused, for example threads that write disjoint parts of one buffer without `split_at_mut` or
//! `chunks_mut`. The way around that is `unsafe`, and there the guarantee is the programmer's.

pub mod demos;
pub mod fixes;
pub mod go_side;
pub mod interleave;
pub mod process;
pub mod rustc;
pub mod snippets;
pub mod traits;

use catalog::{Demo, Topic};

static DEMOS: &[Demo] = &[
    demos::GO_RACE_DETECTED,
    demos::GO_FIXES_CLEAN,
    demos::GO_RACE_SILENT,
    demos::GO_MISSES_RACE_CONDITION,
    demos::RUSTC_REJECTS,
    demos::RUSTC_ACCEPTS_FIXES,
    demos::RUST_FIXES_COUNT,
    demos::SEND_SYNC,
    demos::RACE_CONDITIONS,
];

/// This crate's demos, for the lab's registry.
pub fn topic() -> Topic {
    Topic {
        name: "gorace",
        demos: DEMOS,
        benches: &[],
    }
}
