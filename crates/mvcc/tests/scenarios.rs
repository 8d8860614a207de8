//! The model's behaviour, one phenomenon per test, each starting from hermitage's table
//! `test = {1=>10, 2=>20}`. The hermitage suite (`tests/hermitage.rs`) checks the same engine
//! against the real server; these tests pin down the mechanisms one at a time.

use mvcc::engine::code;
use mvcc::{Engine, Level, Options, Reply, Response, SessionId};

fn engine() -> Engine {
    Engine::with_rows(Options::default(), &[(1, 10), (2, 20)])
}

fn sql(e: &mut Engine, s: SessionId, text: &str) -> Response {
    let st = mvcc::sql::Statement::parse(text).unwrap_or_else(|err| panic!("{text}: {err}"));
    e.submit(s, st)
}

/// Runs a statement that must complete; returns its reply.
fn done(e: &mut Engine, s: SessionId, text: &str) -> Reply {
    match sql(e, s, text) {
        Response::Done(r) => r,
        other => panic!("{text}: expected a reply, got {other:?}"),
    }
}

fn rows(e: &mut Engine, s: SessionId, text: &str) -> Vec<(i64, i64)> {
    done(e, s, text)
        .rows()
        .unwrap_or_else(|| panic!("{text}: not a result set"))
        .to_vec()
}

fn blocked(e: &mut Engine, s: SessionId, text: &str) {
    let r = sql(e, s, text);
    assert!(
        matches!(r, Response::Blocked { .. }),
        "{text}: expected to block, got {r:?}"
    );
}

fn pair(level: Level) -> (Engine, SessionId, SessionId) {
    let mut e = engine();
    let a = e.open_session(level);
    let b = e.open_session(level);
    done(&mut e, a, "begin");
    done(&mut e, b, "begin");
    (e, a, b)
}

// Dirty read: seeing another transaction's uncommitted write.
#[test]
fn dirty_reads_happen_only_under_read_uncommitted() {
    for level in Level::ALL {
        let (mut e, a, b) = pair(level);
        done(&mut e, a, "update test set value = 101 where id = 1");
        let r = sql(&mut e, b, "select * from test where id = 1");
        match level {
            Level::ReadUncommitted => assert_eq!(
                r,
                Response::Done(Reply::Rows {
                    rows: vec![(1, 101)]
                })
            ),
            Level::Serializable => assert!(matches!(r, Response::Blocked { .. }), "{r:?}"),
            _ => assert_eq!(
                r,
                Response::Done(Reply::Rows {
                    rows: vec![(1, 10)]
                }),
                "{level}"
            ),
        }
    }
}

// Non-repeatable read: the same row read twice in one transaction gives two values.
#[test]
fn read_committed_sees_each_new_commit_repeatable_read_does_not() {
    for (level, second) in [(Level::ReadCommitted, 11), (Level::RepeatableRead, 10)] {
        let (mut e, a, b) = pair(level);
        assert_eq!(
            rows(&mut e, a, "select * from test where id = 1"),
            vec![(1, 10)]
        );
        done(&mut e, b, "update test set value = 11 where id = 1");
        done(&mut e, b, "commit");
        assert_eq!(
            rows(&mut e, a, "select * from test where id = 1"),
            vec![(1, second)],
            "{level}"
        );
    }
}

// The REPEATABLE READ snapshot is taken by the first consistent read, not by BEGIN.
#[test]
fn the_read_view_is_made_at_the_first_read_not_at_begin() {
    let (mut e, a, b) = pair(Level::RepeatableRead);
    done(&mut e, b, "update test set value = 11 where id = 1");
    done(&mut e, b, "commit");
    assert!(e.read_view(a).is_none());
    assert_eq!(
        rows(&mut e, a, "select * from test where id = 1"),
        vec![(1, 11)]
    );
    assert!(e.read_view(a).is_some());
}

// Lost update (P4): both read 10, both write 11; the second write silently overwrites the first.
#[test]
fn lost_update_is_allowed_under_repeatable_read_and_a_deadlock_under_serializable() {
    let (mut e, a, b) = pair(Level::RepeatableRead);
    rows(&mut e, a, "select * from test where id = 1");
    rows(&mut e, b, "select * from test where id = 1");
    done(&mut e, a, "update test set value = 11 where id = 1");
    blocked(&mut e, b, "update test set value = 11 where id = 1");
    done(&mut e, a, "commit");
    // b resumes on the newest committed row (11) and writes 11 over it: 0 rows changed, no error.
    assert_eq!(e.take_completions(), vec![(b, Reply::Affected { rows: 0 })]);
    done(&mut e, b, "commit");

    let (mut e, a, b) = pair(Level::Serializable);
    rows(&mut e, a, "select * from test where id = 1");
    rows(&mut e, b, "select * from test where id = 1");
    blocked(&mut e, a, "update test set value = 11 where id = 1");
    // Equal weights: the transaction that closed the cycle is the victim.
    assert_eq!(
        done(&mut e, b, "update test set value = 11 where id = 1"),
        Reply::Error {
            code: code::DEADLOCK
        }
    );
    assert_eq!(e.take_completions(), vec![(a, Reply::Affected { rows: 1 })]);
    assert!(
        !e.in_transaction(b),
        "a deadlock ends the victim's transaction"
    );
}

// A locking read or UPDATE reads the newest committed row, not the snapshot, so the
// transaction ends up seeing a state that never existed.
#[test]
fn locking_reads_see_rows_the_snapshot_does_not() {
    let (mut e, a, b) = pair(Level::RepeatableRead);
    assert_eq!(
        rows(&mut e, a, "select * from test"),
        vec![(1, 10), (2, 20)]
    );
    done(&mut e, b, "update test set value = 12 where id = 1");
    done(&mut e, b, "update test set value = 18 where id = 2");
    done(&mut e, b, "commit");
    assert_eq!(
        rows(&mut e, a, "select * from test"),
        vec![(1, 10), (2, 20)]
    );
    assert_eq!(
        rows(&mut e, a, "select * from test for update"),
        vec![(1, 12), (2, 18)]
    );
    assert_eq!(
        rows(&mut e, a, "select * from test lock in share mode"),
        vec![(1, 12), (2, 18)]
    );
    done(&mut e, a, "update test set value = value + 1 where id = 1");
    assert_eq!(
        rows(&mut e, a, "select * from test"),
        vec![(1, 13), (2, 20)]
    );
}

// Phantom: a row appears in a range a locking read already covered.
#[test]
fn next_key_locks_block_a_phantom_insert_at_repeatable_read_only() {
    for level in [Level::ReadCommitted, Level::RepeatableRead] {
        let (mut e, a, b) = pair(level);
        rows(&mut e, a, "select * from test where id > 1 for update");
        let r = sql(&mut e, b, "insert into test values (3, 30)");
        if level == Level::RepeatableRead {
            assert!(
                matches!(r, Response::Blocked { on: Some(s) } if s == a),
                "{r:?}"
            );
            done(&mut e, a, "commit");
            assert_eq!(e.take_completions(), vec![(b, Reply::Affected { rows: 1 })]);
        } else {
            assert_eq!(r, Response::Done(Reply::Affected { rows: 1 }));
        }
    }
    // A unique lookup locks the record only: the gap after it stays open.
    let (mut e, a, b) = pair(Level::RepeatableRead);
    rows(&mut e, a, "select * from test where id = 2 for update");
    assert_eq!(
        done(&mut e, b, "insert into test values (3, 30)"),
        Reply::Affected { rows: 1 }
    );
}

// Gap locks do not conflict with each other: two transactions may lock the same gap.
#[test]
fn two_transactions_can_hold_the_same_gap() {
    let (mut e, a, b) = pair(Level::RepeatableRead);
    assert!(rows(&mut e, a, "select * from test where id = 5 for update").is_empty());
    assert!(rows(&mut e, b, "select * from test where id = 6 for update").is_empty());
    // ...and then neither may insert into it: a deadlock, the second inserter loses.
    blocked(&mut e, a, "insert into test values (5, 50)");
    assert_eq!(
        done(&mut e, b, "insert into test values (6, 60)"),
        Reply::Error {
            code: code::DEADLOCK
        }
    );
    assert_eq!(e.take_completions(), vec![(a, Reply::Affected { rows: 1 })]);
}

// Semi-consistent read: READ COMMITTED's UPDATE skips a locked row whose committed version does
// not match, instead of waiting.
#[test]
fn read_committed_update_does_not_wait_for_rows_it_would_not_change() {
    for (level, waits) in [(Level::ReadCommitted, false), (Level::RepeatableRead, true)] {
        let (mut e, a, b) = pair(level);
        done(&mut e, a, "update test set value = 11 where id = 1");
        let r = sql(&mut e, b, "update test set value = 99 where value = 20");
        assert_eq!(
            matches!(r, Response::Blocked { .. }),
            waits,
            "{level}: {r:?}"
        );
    }
    // DELETE has no semi-consistent read: it waits, then acts on the new version.
    let (mut e, a, b) = pair(Level::ReadCommitted);
    done(&mut e, a, "update test set value = value + 10");
    assert_eq!(
        rows(&mut e, b, "select * from test"),
        vec![(1, 10), (2, 20)]
    );
    blocked(&mut e, b, "delete from test where value = 20");
    done(&mut e, a, "commit");
    assert_eq!(e.take_completions(), vec![(b, Reply::Affected { rows: 1 })]);
    assert_eq!(rows(&mut e, b, "select * from test"), vec![(2, 30)]);
}

#[test]
fn a_lock_wait_timeout_rolls_back_the_statement_only() {
    let (mut e, a, b) = pair(Level::RepeatableRead);
    done(&mut e, b, "update test set value = 21 where id = 2");
    done(&mut e, a, "update test set value = 11 where id = 1");
    blocked(&mut e, b, "update test set value = 12 where id = 1");
    assert_eq!(e.expire_oldest_wait(), Some(b));
    assert_eq!(
        e.take_completions(),
        vec![(
            b,
            Reply::Error {
                code: code::LOCK_WAIT_TIMEOUT
            }
        )]
    );
    assert!(e.in_transaction(b));
    assert_eq!(
        rows(&mut e, b, "select * from test where id = 2"),
        vec![(2, 21)]
    );
}

// Purge: history is dropped only when no read view can need it.
#[test]
fn purge_keeps_the_versions_an_open_view_needs() {
    let mut e = Engine::with_rows(
        Options {
            manual_purge: true,
            ..Options::default()
        },
        &[(1, 10)],
    );
    let reader = e.open_session(Level::RepeatableRead);
    let writer = e.open_session(Level::RepeatableRead);
    done(&mut e, reader, "begin");
    rows(&mut e, reader, "select * from test");
    for v in [11, 12, 13] {
        done(
            &mut e,
            writer,
            &format!("update test set value = {v} where id = 1"),
        );
    }
    assert_eq!(e.versions().chain(1).len(), 4);
    e.purge();
    assert_eq!(e.versions().chain(1).len(), 4, "the reader still needs 10");
    assert_eq!(rows(&mut e, reader, "select * from test"), vec![(1, 10)]);
    done(&mut e, reader, "commit");
    assert_eq!(e.purge(), 3);
    assert_eq!(e.versions().chain(1).len(), 1);
    assert_eq!(e.history_length(), 0);
}

// SERIALIZABLE: inside a transaction a plain SELECT takes S locks, so a writer waits.
#[test]
fn serializable_reads_block_writers_autocommit_reads_do_not() {
    let (mut e, a, b) = pair(Level::Serializable);
    rows(&mut e, a, "select * from test where id = 1");
    blocked(&mut e, b, "update test set value = 11 where id = 1");
    let c = e.open_session(Level::Serializable);
    assert_eq!(
        rows(&mut e, c, "select * from test where id = 1"),
        vec![(1, 10)]
    );
}

// MariaDB's innodb_snapshot_isolation: writing a row changed after the snapshot fails with 1020.
#[test]
fn snapshot_isolation_refuses_to_overwrite_a_newer_version() {
    let mut e = Engine::with_rows(
        Options {
            snapshot_isolation: true,
            ..Options::default()
        },
        &[(1, 10), (2, 20)],
    );
    let a = e.open_session(Level::RepeatableRead);
    let b = e.open_session(Level::RepeatableRead);
    done(&mut e, a, "begin");
    done(&mut e, b, "begin");
    rows(&mut e, a, "select * from test where id = 1");
    rows(&mut e, b, "select * from test where id = 1");
    done(&mut e, a, "update test set value = 11 where id = 1");
    blocked(&mut e, b, "update test set value = 11 where id = 1");
    done(&mut e, a, "commit");
    assert_eq!(
        e.take_completions(),
        vec![(
            b,
            Reply::Error {
                code: code::RECORD_CHANGED
            }
        )]
    );
    assert!(!e.in_transaction(b));
}

// The deadlock victim is the lighter transaction (fewer undo records + lock structs).
#[test]
fn the_lighter_transaction_is_the_deadlock_victim() {
    let (mut e, a, b) = pair(Level::Serializable);
    // b: an S-locking scan (2 structs). a: an UPDATE that waits (2 structs).
    rows(&mut e, b, "select * from test where value = 20");
    blocked(&mut e, a, "update test set value = value + 10");
    // b's DELETE queues behind a's waiting X: a cycle; a is lighter and loses, b goes on.
    assert_eq!(
        done(&mut e, b, "delete from test where value = 20"),
        Reply::Affected { rows: 1 }
    );
    assert_eq!(
        e.take_completions(),
        vec![(
            a,
            Reply::Error {
                code: code::DEADLOCK
            }
        )]
    );
}
