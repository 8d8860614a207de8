//! The real servers the lab checks its claims against, and the rules for borrowing them.
//!
//! The lab never owns a Redis or a MySQL/MariaDB: it borrows one, usually the loopback servers that
//! `scripts/services.sh up` installs and starts. Borrowing has three rules, and this crate is where
//! they are kept so that no demo has to remember them:
//!
//! 1. **Stay in the lab's namespace.** Redis keys live under `lab:<scope>:` ([`RedisLab::key`]);
//!    MySQL tables live in database `lab` ([`MysqlLab::table`]). Both are removed when the demo ends.
//! 2. **Undo every setting.** [`RedisLab::set_config`] and [`MysqlLab::set_global`] remember the
//!    old value the first time they touch a setting and put it back when the demo ends, also when it
//!    fails or panics (the guards restore on `Drop`).
//! 3. **Refuse to change a server that is not on this machine** unless the user said so with
//!    `LAB_ALLOW_REMOTE=1` ([`Target::may_change`]).
//!
//! Every network call has a timeout ([`CONNECT_TIMEOUT`], [`IO_TIMEOUT`]), so a missing or hung server
//! turns into a [`ServerError`] with a hint, never a hang.
//!
//! ```text
//!   demo ──► RedisLab { conn, scope: "redis-01", saved: [(maxmemory-policy, noeviction)] }
//!                 │ key("queue") = "lab:redis-01:queue"
//!                 └─ Drop: CONFIG SET maxmemory-policy noeviction; DEL lab:redis-01:*
//! ```

mod error;
mod mysql_lab;
mod redis_lab;
mod target;

#[cfg(feature = "testcontainers")]
pub mod containers;

pub use error::{ServerError, System};
pub use mysql_lab::{Flavor, MysqlInfo, MysqlLab, probe as probe_mysql, timed};
pub use redis_lab::{RedisInfo, RedisLab, probe as probe_redis, with_io_timeouts};
pub use target::{Target, mysql_target, redis_target};

pub use mysql_async;
pub use redis;

use std::time::Duration;

/// How long to wait for a TCP connection (and the server's greeting) before calling a server unreachable.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long one command or query may take before the lab gives up on it.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);
/// The one database the lab creates tables in.
pub const LAB_DATABASE: &str = "lab";
/// The prefix of every Redis key the lab writes.
pub const LAB_KEY_PREFIX: &str = "lab:";
