//! InnoDB's MVCC and row locking as a model you can drive one statement at a time, and
//! Kleppmann's hermitage suite run against the model and a real MySQL/MariaDB (mysql-04
//! 「Mysql事务隔离级别」, mysql-07 「Mysql中乐观锁和悲观锁区别」, mysql-13 「Mysql中的MVCC是什么」,
//! mysql-19 「InnoDB的行锁模式」).
//!
//! # The idea
//! InnoDB answers two different questions with two different mechanisms. *What may a plain
//! SELECT see?* is answered without any lock, by a **read view** judging the transaction id on
//! each row version and walking back through the **undo log** when the answer is no. *Who may
//! change or lock-read this row now?* is answered by **row locks** (S/X, on records and on the
//! gaps between them), with waits, deadlock detection and a timeout. The isolation levels are
//! just choices of when a view is made and which locks a scan takes:
//!
//! ```text
//!   statement ─► sql::Statement ─► Engine::submit(session, stmt)
//!                                     │
//!          plain SELECT ──────────────┼──► ReadView (read_view.rs) ──► Versions::walk (version.rs)
//!                                     │      ids, low/high water,        newest version, then
//!                                     │      creator                     roll_ptr → undo → older
//!          SELECT ... FOR UPDATE/     │
//!          SHARE, UPDATE, DELETE, ────┼──► LockSys (lock.rs): record / gap / next-key / insert-intention
//!          INSERT                     │      granted or queued; a wait may close a cycle → 1213
//!                                     ▼
//!                      Response::Done(reply) or Response::Blocked, completions later
//! ```
//!
//! # Where each interview answer points
//! - Read views and the one visibility rule: [`read_view::ReadView::visibility`].
//! - Version chains, delete marks, purge: [`version::Versions::walk`], [`engine::Engine::purge`].
//! - When views are made per level, current vs consistent reads: [`engine`] (module docs).
//! - Lock modes, the compatibility matrix and gap rules: [`lock::compatible`], [`lock::rec_has_to_wait`].
//! - Deadlock victims (lighter `trx_weight`, the requester on a tie): `engine::Engine::choose_victim`.
//! - Hermitage schedules as data, run on both targets, verdict rules: [`hermitage`].
//! - Optimistic vs pessimistic increments on the server: [`contention`].
//!
//! # Invariant
//! The model is deterministic: the same statements in the same order give the same replies,
//! blocks and errors. On the hermitage suite (15 tests × 4 levels, `innodb_snapshot_isolation` off
//! and on) its steps equal those of MariaDB 10.11, which `tests/hermitage.rs` checks on every run.
//!
//! # Worked example: dirty read is gone at READ COMMITTED
//! ```text
//!   T1: UPDATE test SET value=101 WHERE id=1   row 1: 101 (trx 101) ─roll_ptr─► 10 (trx 100)
//!   T2: SELECT * FROM test                     RU: newest version → 101 (dirty)
//!                                              RC: view {active=[101]} → 101 invisible → 10
//! ```
//!
//! # How the real system differs
//! One table `test (id INT PRIMARY KEY, value INT)` on one page, no secondary indexes, no
//! AUTO-INC, no persistence. The real server runs sessions on threads and detects deadlocks in
//! the waiting thread; the model resumes waiters in grant order inside the call that released
//! them. Purge runs at each commit instead of in the background. Undo records hold whole rows.

pub mod bench;
pub mod cli;
pub mod contention;
mod demos;
pub mod engine;
pub mod hermitage;
pub mod lock;
pub mod read_view;
pub mod sql;
pub mod version;

pub use engine::{Engine, Level, LockInfo, Options, Reply, Response, SessionId};

use catalog::Topic;

/// This crate's demos and benchmarks, for the lab's registry.
pub fn topic() -> Topic {
    Topic {
        name: "mvcc",
        demos: demos::DEMOS,
        benches: &[bench::SUITE],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_demo_belongs_to_an_owned_question() {
        let owned = ["mysql-04", "mysql-07", "mysql-13", "mysql-19"];
        for d in topic().demos {
            assert!(owned.contains(&d.question()), "{}", d.name);
        }
        for q in owned {
            let demos: Vec<_> = topic().demos.iter().filter(|d| d.question() == q).collect();
            assert!(
                demos.iter().any(|d| d.needs == catalog::Need::Mysql),
                "{q} has no demo against the real server"
            );
        }
    }
}
