//! `respd`: the lab's RESP2 server, for redis-04 (「单线程的Redis为什么快」) and for serving the
//! sorted sets of redis-10/redis-11 to `redis-cli`, `redis-benchmark` and the `redis` crate.
//!
//! - [`resp`]: the incremental, bounded request parser with Redis's protocol errors.
//! - [`db`]: the keyspace and the commands (strings, INFO with commandstats, CONFIG, OBJECT,
//!   COMMAND, HELLO); sorted-set commands go to `zset::command::run`.
//! - [`server`]: tokio networking and the two execution modes (`single`: one executor thread owns
//!   the keyspace, like Redis's main thread; `shared`: connection tasks lock a mutex).
//! - [`demos`]: redis-04's demos (`lab run redis-04`).
//! - [`bench`](mod@bench): `lab bench serve`, redis-benchmark against the real Redis and both modes.
//!
//! ```text
//!   socket ─► Parser ─► [argv, argv, ...] ─► executor (single) / Mutex<Db> (shared)
//!                                                │ Db::execute: table lookup, arity, run, commandstats
//!   socket ◄──────── one write of all replies ◄──┘
//! ```
//!
//! ## How the real system differs
//! Redis runs its own epoll/kqueue event loop (`ae.c`) on one thread: reading, parsing, executing
//! and writing all happen there (6.0+ can hand socket reads and writes to I/O threads, off by
//! default). Here tokio's reactor does the I/O on its worker threads, and only *execution* is
//! single-threaded in `single` mode, so each command pays a channel hop Redis does not.

pub mod bench;
pub mod db;
pub mod demos;
pub mod resp;
pub mod server;

pub use db::{Db, Mode, Value};
pub use server::{Handle, serve};

use catalog::Topic;

pub fn topic() -> Topic {
    Topic {
        name: "respd",
        demos: demos::DEMOS,
        benches: &[bench::SUITE],
    }
}

/// Serves on `127.0.0.1:port` until the process is stopped (`lab serve`).
pub fn serve_forever(port: u16, mode: Mode) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        serve(listener, mode).await
    })
}
