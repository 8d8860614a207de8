//! Goroutines and channels seen from Rust: CSP processes, what each is for, `defer`, and how a
//! goroutine stops midway.
//!
//! - [`pipeline`]: go-04 (「Golang并发机制以及它所使用的CSP并发模型」). A pipeline of threads that
//!   share nothing and talk over channels, with a fan-out/fan-in stage; [`pipeline_demos`] asserts
//!   order, content, ownership and front-to-back shutdown next to `go/cmd/go04-csp`.
//! - [`roles`]: go-16 (「Goroutine和Channel的作用分别是什么」). One channel as a mutex, a signal and
//!   a future, and what a parked goroutine costs next to a parked OS thread; [`roles_demos`] next
//!   to `go/cmd/go16-roles`.
//! - [`defer`]: go-23 (「Go的defer原理是什么」). Scope guards (`Drop`) next to `defer`: LIFO, values
//!   frozen at creation, named results, loops, unwinding and a Goexit analogue; [`defer_demos`]
//!   compares the table with `go/cmd/go23-defer`.
//! - [`exit`]: go-48 (「如何在goroutine执行一半就退出协程」). Return, a cancellation token, a
//!   select woken by it, a Goexit-style unwind, a caught panic, and a worker that ignores the token;
//!   [`exit_demos`] compares the table with `go/cmd/go48-exit`.
//!
//! Every Go claim is checked against the real toolchain by a `Need::Go` demo.

pub mod defer;
pub mod defer_demos;
pub mod exit;
pub mod exit_demos;
pub mod pipeline;
pub mod pipeline_demos;
pub mod roles;
pub mod roles_demos;

use catalog::{Demo, Topic};

static DEMOS: &[Demo] = &[
    pipeline_demos::LINEAR,
    pipeline_demos::FAN,
    pipeline_demos::GO_AGREES,
    roles_demos::MUTEX,
    roles_demos::SIGNAL,
    roles_demos::FUTURE,
    roles_demos::GO_ROLES,
    roles_demos::GO_CHEAP,
    defer_demos::GUARDS,
    defer_demos::SCOPES,
    defer_demos::GO_AGREES,
    defer_demos::GO_RECOVER_EXIT,
    exit_demos::WAYS,
    exit_demos::NO_KILL,
    exit_demos::GO_AGREES,
    exit_demos::GO_WHOLE_PROGRAM,
];

/// This crate's demos, for the lab's registry.
pub fn topic() -> Topic {
    Topic {
        name: "goroutines",
        demos: DEMOS,
        benches: &[],
    }
}
