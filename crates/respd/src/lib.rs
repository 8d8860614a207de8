//! `respd`: the lab's RESP server, for redis-04 (「单线程的Redis为什么快」) and for serving the
//! sorted sets of redis-10/redis-11 to `redis-cli`, `redis-benchmark` and the `redis` crate.
//!
//! - [`resp`]: the incremental, bounded request parser with Redis's protocol errors.
//! - [`db`]: the command table and the keyspace (strings, INFO with commandstats, CONFIG, OBJECT,
//!   COMMAND, HELLO, CLIENT); sorted-set commands go to `zset::command::run`.
//! - [`expiry`]: TTLs (SET EX/PX/EXAT/PXAT/KEEPTTL, EXPIRE family with NX/XX/GT/LT, TTL, PTTL,
//!   PERSIST), lazy expiry on lookup and the active cycle on the `hz` timer (redis-05).
//! - [`memory`]: `maxmemory` with the lab's byte accounting, the eight policies, eviction before a
//!   command with the `cache` crate's eviction pool, OOM for `denyoom` commands (redis-03).
//! - [`table`]: the keyspace's hash table, which can also hand out a random key for sampling.
//! - [`differential`]: scripts, a seeded command generator and a raw client for comparing replies
//!   with the real Redis (`tests/expiry.rs`, the redis-03/redis-05 demos).
//! - [`reply`]: replies written straight into the connection's buffer, RESP2 or (after `HELLO 3`)
//!   RESP3.
//! - [`server`]: tokio networking and the two execution modes (`single`: one thread does
//!   everything, like Redis's main thread; `shared`: connection tasks on several threads lock a
//!   mutex).
//! - [`demos`]: redis-04's demos (`lab run redis-04`), and the redis-03/redis-05 demos that check
//!   `lab serve`'s eviction and expiry against the model and the real Redis.
//! - [`bench`](mod@bench): `lab bench serve`, redis-benchmark against the real Redis and both modes.
//!
//! ```text
//!   socket ─► Parser ─► argv, argv, ... ─► Db::execute ─► Client::out ─► one write ─► socket
//!             (one read)   (reused buffers)  table lookup, arity,
//!                                            run, commandstats
//! ```
//!
//! ## How the real system differs
//! Redis runs its own epoll/kqueue event loop (`ae.c`); here tokio's current-thread runtime (mio
//! over epoll) plays that part in `single` mode, with one task per connection instead of Redis's
//! file-event callbacks. Redis 6.0+ can hand socket reads and writes to I/O threads (off by
//! default); `shared` mode is the opposite experiment: execution itself on several threads.

pub mod bench;
pub mod db;
pub mod demos;
pub mod differential;
pub mod expiry;
pub mod memory;
pub mod reply;
pub mod resp;
pub mod server;
pub mod table;

pub use db::{Db, Mode, Value};
pub use server::{Handle, serve, serve_forever};

use catalog::Topic;

pub fn topic() -> Topic {
    Topic {
        name: "respd",
        demos: demos::DEMOS,
        benches: &[bench::SUITE],
    }
}
