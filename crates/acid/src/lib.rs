//! ACID, shown against a real MySQL/MariaDB: the answer to mysql-02 「Mysql事务的基本要素」.
//!
//! A transaction is a group of statements the server treats as one unit. The four letters are four
//! promises about that unit, and InnoDB keeps each with a different piece of machinery:
//!
//! ```text
//!   A  atomicity    all or nothing         undo log: every change first records how to reverse it;
//!                                          ROLLBACK (or a failed statement) applies those records
//!   C  consistency  invariants hold        declared constraints (PK, CHECK, FOREIGN KEY, NOT NULL)
//!                                          + the other three + the application choosing to ROLLBACK
//!   I  isolation    others' work in flight row locks (writers) + MVCC read views over the undo chain
//!                   is invisible           (plain readers), REPEATABLE READ by default
//!   D  durability   committed means kept   redo log flushed at COMMIT (innodb_flush_log_at_trx_commit=1),
//!                                          doublewrite buffer against torn pages
//! ```
//!
//! # What the demos assert
//!
//! Each demo opens one connection per simulated client on the borrowed server, prints every
//! statement and its answer, and checks the claim against what the server says:
//!
//! ```text
//!   A  rollback-leaves-no-trace                 A: BEGIN; -30 / +30; sees 70/130; ROLLBACK
//!                                               A and a fresh B both see 100/100 again
//!   A  failed-statement-rolls-back-alone        BEGIN; INSERT 10 ok; INSERT 1,2,3 -> 1062
//!                                               rows 1,2 gone, row 10 still there (statement rollback)
//!   A  deadlock-rolls-back-the-whole-transaction two clients lock 1,2 / 2,1 -> one gets 1213
//!                                               and loses both its updates (transaction rollback)
//!   A  autocommit-makes-each-statement-a-transaction   ROLLBACK after an autocommit UPDATE undoes nothing;
//!                                               with autocommit=0 a disconnect undoes the open work
//!   A  ddl-commits-implicitly                   BEGIN; UPDATE; CREATE TABLE; ROLLBACK -> the UPDATE stays
//!   C  constraint-rejects-overdraft             CHECK (balance >= 0) and a FOREIGN KEY refuse a statement;
//!                                               the transfer is rolled back and SUM(balance) is unchanged
//!   I  uncommitted-insert-is-invisible          B does not see A's uncommitted row; after A's COMMIT
//!                                               B's old snapshot still does not, a new transaction does
//!   D  committed-row-survives-reconnect         COMMIT, disconnect, new session: the row is there and
//!                                               the redo log was flushed past it before COMMIT returned
//! ```
//!
//! The deciding rules live in named functions with unit tests, so the page, the demos and the tests
//! point at the same place: [`errors::classify`] (what an error code means on which flavor),
//! [`errors::rollback_scope`] (statement or whole transaction), [`flavor::isolation_variable`],
//! [`redo::FlushAtCommit`], and the readers of the InnoDB monitor [`monitor::undo_log_entries`] and
//! [`monitor::parse_log_position`].
//!
//! # Worked example: statement-level rollback
//!
//! ```text
//!   START TRANSACTION;
//!   INSERT INTO items VALUES (10, ..);                  -- ok, undo record #1
//!   INSERT INTO items VALUES (1, ..), (2, ..), (3, ..); -- rows 1, 2 written (undo #2, #3),
//!                                                       -- row 3 is a duplicate: ERROR 1062
//!                                                       -- InnoDB undoes #3..#2 only
//!   SELECT id FROM items;                               -- 3 (committed before), 10
//!   ROLLBACK;                                           -- undoes #1
//! ```
//!
//! # How the real system differs
//!
//! Nothing here is modelled: every claim is checked on the server itself. What the demos cannot
//! show is a crash: durability is observed through a reconnect and the redo log's flushed LSN, not
//! by pulling the plug (the lab borrows the server and never restarts it). MariaDB and MySQL differ
//! in error codes (a CHECK violation is 4025 on MariaDB, 3819 on MySQL), in the name of the
//! isolation variable (`tx_isolation` on MariaDB 10.11, `transaction_isolation` on MySQL 8), and in
//! the values `innodb_flush_log_at_trx_commit` accepts (MariaDB also has 3).

use catalog::{Demo, Need, Topic};

mod atomicity;
mod client;
mod consistency;
mod durability;
pub mod errors;
pub mod flavor;
mod isolation;
pub mod monitor;
pub mod redo;

/// This crate's demos and benchmarks, for the lab's registry.
pub fn topic() -> Topic {
    Topic {
        name: "acid",
        demos: DEMOS,
        benches: &[],
    }
}

static DEMOS: &[Demo] = &[
    Demo {
        name: "mysql-02/rollback-leaves-no-trace",
        claim: "A transfer rolled back leaves no trace: the same connection and a fresh one both read the \
                balances from before it, while inside the transaction the writer saw its own change.",
        needs: Need::Mysql,
        run: atomicity::rollback_leaves_no_trace,
    },
    Demo {
        name: "mysql-02/failed-statement-rolls-back-alone",
        claim: "A multi-row INSERT that hits a duplicate key fails with 1062 and keeps none of its rows, \
                but the transaction stays open and its earlier statement is still there.",
        needs: Need::Mysql,
        run: atomicity::failed_statement_rolls_back_alone,
    },
    Demo {
        name: "mysql-02/deadlock-rolls-back-the-whole-transaction",
        claim: "When two transactions deadlock, one gets 1213 and loses every change it made, not just \
                the statement that waited.",
        needs: Need::Mysql,
        run: atomicity::deadlock_rolls_back_the_whole_transaction,
    },
    Demo {
        name: "mysql-02/autocommit-makes-each-statement-a-transaction",
        claim: "With autocommit on, each statement commits by itself, so a later ROLLBACK undoes nothing; \
                with autocommit off, work not committed before a disconnect is rolled back.",
        needs: Need::Mysql,
        run: atomicity::autocommit_makes_each_statement_a_transaction,
    },
    Demo {
        name: "mysql-02/ddl-commits-implicitly",
        claim: "A CREATE TABLE inside a transaction commits the work before it, so a later ROLLBACK \
                cannot undo that work.",
        needs: Need::Mysql,
        run: atomicity::ddl_commits_implicitly,
    },
    Demo {
        name: "mysql-02/constraint-rejects-overdraft",
        claim: "A CHECK (balance >= 0) constraint and a foreign key reject the bad statement (flavor's \
                error code); after ROLLBACK the total balance is what it was, and nobody saw the half-done transfer.",
        needs: Need::Mysql,
        run: consistency::constraint_rejects_overdraft,
    },
    Demo {
        name: "mysql-02/uncommitted-insert-is-invisible",
        claim: "At REPEATABLE READ another connection does not see an uncommitted insert; after COMMIT its \
                old snapshot still does not, and its next transaction does.",
        needs: Need::Mysql,
        run: isolation::uncommitted_insert_is_invisible,
    },
    Demo {
        name: "mysql-02/committed-row-survives-reconnect",
        claim: "A committed row is read by a new session after the writer disconnects, an uncommitted one is \
                gone, and with innodb_flush_log_at_trx_commit=1 the redo log is on disk past the commit when COMMIT returns.",
        needs: Need::Mysql,
        run: durability::committed_row_survives_reconnect,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_demo_names_this_question_with_a_lowercase_slug() {
        for d in DEMOS {
            let slug = d.name.strip_prefix("mysql-02/");
            assert!(slug.is_some(), "{} is not a mysql-02 demo", d.name);
            let slug = slug.unwrap_or_default();
            assert!(
                !slug.is_empty()
                    && slug
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{} has a slug that is not lowercase-with-dashes",
                d.name
            );
            assert_eq!(d.needs, Need::Mysql, "{} must check against MySQL", d.name);
        }
        let mut names: Vec<_> = DEMOS.iter().map(|d| d.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), DEMOS.len(), "demo names must be unique");
    }
}
