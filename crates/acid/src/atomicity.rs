//! Atomicity: all of a transaction or none of it, and the two sizes of "none".
//!
//! InnoDB writes an undo record before each change (for an insert: "delete this row"; for an
//! update: the old column values). ROLLBACK walks the transaction's undo records backwards and
//! applies them. The server also remembers where each statement's undo began, so a statement that
//! fails is undone alone (statement-level rollback) while the transaction stays open; only a
//! deadlock (or a lock wait timeout with `innodb_rollback_on_timeout=ON`) undoes the whole
//! transaction. Two more ways the unit of work is not what the client thinks: autocommit (every
//! statement outside BEGIN is a transaction of its own) and implicit commit (DDL commits first).
//!
//! ```text
//!   undo log of A:  [#1 id=10 inserted] [#2 id=1 inserted] [#3 id=2 inserted]  <- statement 2 fails
//!                                        \___________ undone by the error __/
//!                   \________________________ undone by ROLLBACK ___________/
//! ```

use catalog::{Ctx, DemoError, check, check_eq};
use servers::MysqlInfo;

use crate::client::{Client, Transcript, both, on_mysql, refused};
use crate::errors::{Rejection, RollbackScope, classify, rollback_scope};
use crate::monitor::undo_log_entries;

pub(crate) fn rollback_leaves_no_trace(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    on_mysql(ctx, rollback_leaves_no_trace_on)
}

async fn rollback_leaves_no_trace_on(
    ctx: &Ctx<'_>,
    info: &MysqlInfo,
    out: &Transcript,
) -> Result<(), DemoError> {
    let mut db = ctx.mysql().await?;
    let accounts = db.table("accounts");
    let select = format!("SELECT id, balance FROM {accounts} ORDER BY id");
    let mut a = Client::open(&db, "A", out).await?;
    a.exec(
        out,
        &format!(
            "CREATE TABLE {accounts} (id INT PRIMARY KEY, balance INT NOT NULL) ENGINE=InnoDB"
        ),
    )
    .await?;
    a.exec(
        out,
        &format!("INSERT INTO {accounts} VALUES (1, 100), (2, 100)"),
    )
    .await?;
    let before: Vec<(i32, i64)> = a.rows(out, &select).await?;

    a.exec(out, "START TRANSACTION").await?;
    a.exec(
        out,
        &format!("UPDATE {accounts} SET balance = balance - 30 WHERE id = 1"),
    )
    .await?;
    a.exec(
        out,
        &format!("UPDATE {accounts} SET balance = balance + 30 WHERE id = 2"),
    )
    .await?;
    let inside: Vec<(i32, i64)> = a.rows(out, &select).await?;
    check_eq!(
        inside,
        vec![(1, 70), (2, 130)],
        "inside its transaction A reads its own uncommitted transfer"
    );
    // The undo records ROLLBACK is about to apply, as InnoDB counts them (needs PROCESS).
    let session = a.id();
    let status = a
        .try_one_shown::<(String, String, String)>(
            out,
            "SHOW ENGINE INNODB STATUS",
            |(_, _, text)| match undo_log_entries(text, session) {
                Some(n) => format!("A's transaction: undo log entries {n}"),
                None => format!("{} characters, A's transaction not listed", text.len()),
            },
        )
        .await?;
    match status {
        Ok((_, _, text)) => check_eq!(
            undo_log_entries(&text, session),
            Some(2),
            "undo records of A's transaction (one per updated row)"
        ),
        Err(r) if classify(info.flavor, r.code) == Rejection::NeedsPrivilege => {
            out.say("   (the InnoDB monitor needs the PROCESS privilege; skipping the undo count)")
        }
        Err(r) => return Err(DemoError::Broken(format!("SHOW ENGINE INNODB STATUS: {r}"))),
    }

    a.exec(out, "ROLLBACK").await?;
    let same_session: Vec<(i32, i64)> = a.rows(out, &select).await?;
    check_eq!(same_session, before, "A after ROLLBACK");
    let mut b = Client::open(&db, "B", out).await?;
    let fresh_session: Vec<(i32, i64)> = b.rows(out, &select).await?;
    check_eq!(fresh_session, before, "a fresh session after A's ROLLBACK");
    out.say("=> the rolled-back transfer left no trace, for its own session or a new one");

    a.quit(out).await?;
    b.quit(out).await?;
    db.finish().await?;
    Ok(())
}

pub(crate) fn failed_statement_rolls_back_alone(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    on_mysql(ctx, failed_statement_rolls_back_alone_on)
}

async fn failed_statement_rolls_back_alone_on(
    ctx: &Ctx<'_>,
    info: &MysqlInfo,
    out: &Transcript,
) -> Result<(), DemoError> {
    let mut db = ctx.mysql().await?;
    let items = db.table("items");
    let ids = format!("SELECT id FROM {items} ORDER BY id");
    let mut a = Client::open(&db, "A", out).await?;
    let mut b = Client::open(&db, "B", out).await?;
    a.exec(
        out,
        &format!(
            "CREATE TABLE {items} (id INT PRIMARY KEY, note VARCHAR(40) NOT NULL) ENGINE=InnoDB"
        ),
    )
    .await?;
    a.exec(
        out,
        &format!("INSERT INTO {items} VALUES (3, 'committed earlier')"),
    )
    .await?;

    a.exec(out, "START TRANSACTION").await?;
    a.exec(
        out,
        &format!("INSERT INTO {items} VALUES (10, 'first statement')"),
    )
    .await?;
    let result = a
        .attempt(
            out,
            &format!(
                "INSERT INTO {items} VALUES (1, 'row 1'), (2, 'row 2'), (3, 'duplicate of 3')"
            ),
        )
        .await?;
    let refusal = refused(result, "the multi-row INSERT with a duplicate third row")?;
    let rejection = classify(info.flavor, refusal.code);
    check_eq!(
        rejection,
        Rejection::DuplicateKey,
        "error code {} on {}",
        refusal.code,
        info.flavor
    );
    check_eq!(
        rollback_scope(rejection, false),
        Some(RollbackScope::Statement),
        "the rule for a duplicate key"
    );

    let in_a: Vec<i32> = a.rows(out, &ids).await?;
    check!(
        !in_a.contains(&1) && !in_a.contains(&2),
        "rows 1 and 2 of the failed INSERT are still there: {in_a:?}"
    );
    check!(
        in_a.contains(&10),
        "the earlier statement's row 10 vanished with the failed one (that would be a transaction rollback): {in_a:?}"
    );
    check_eq!(
        in_a,
        vec![3, 10],
        "A after the failed statement, transaction still open"
    );
    let in_b: Vec<i32> = b.rows(out, &ids).await?;
    check_eq!(
        in_b,
        vec![3],
        "B while A's transaction is open (row 10 is not committed)"
    );

    a.exec(out, "ROLLBACK").await?;
    let after: Vec<i32> = a.rows(out, &ids).await?;
    check_eq!(after, vec![3], "A after ROLLBACK");
    out.say("=> the error undid its own statement only; ROLLBACK undid the rest");

    a.quit(out).await?;
    b.quit(out).await?;
    db.finish().await?;
    Ok(())
}

pub(crate) fn deadlock_rolls_back_the_whole_transaction(
    ctx: &mut Ctx<'_>,
) -> Result<(), DemoError> {
    on_mysql(ctx, deadlock_rolls_back_the_whole_transaction_on)
}

async fn deadlock_rolls_back_the_whole_transaction_on(
    ctx: &Ctx<'_>,
    info: &MysqlInfo,
    out: &Transcript,
) -> Result<(), DemoError> {
    let mut db = ctx.mysql().await?;
    let t = db.table("counters");
    let mut a = Client::open(&db, "A", out).await?;
    let mut b = Client::open(&db, "B", out).await?;
    let detect: String = a.one(out, "SELECT @@GLOBAL.innodb_deadlock_detect").await?;
    if !(detect == "1" || detect.eq_ignore_ascii_case("ON")) {
        return Err(DemoError::Broken(format!(
            "innodb_deadlock_detect={detect}: without detection both clients would wait for \
             innodb_lock_wait_timeout instead of one being chosen as the victim"
        )));
    }
    a.exec(
        out,
        &format!("CREATE TABLE {t} (id INT PRIMARY KEY, v INT NOT NULL) ENGINE=InnoDB"),
    )
    .await?;
    a.exec(out, &format!("INSERT INTO {t} VALUES (1, 0), (2, 0)"))
        .await?;

    a.exec(out, "START TRANSACTION").await?;
    a.exec(out, &format!("UPDATE {t} SET v = v + 1 WHERE id = 1"))
        .await?;
    b.exec(out, "START TRANSACTION").await?;
    b.exec(out, &format!("UPDATE {t} SET v = v + 10 WHERE id = 2"))
        .await?;
    out.say("A and B now each lock the row the other is about to ask for; both statements are sent together:");
    let a_second = format!("UPDATE {t} SET v = v + 1 WHERE id = 2");
    let b_second = format!("UPDATE {t} SET v = v + 10 WHERE id = 1");
    let (ra, rb) = both(a.attempt(out, &a_second), b.attempt(out, &b_second)).await;
    let (ra, rb) = (ra?, rb?);

    let (mut survivor, victim, delta, refusal) = match (ra, rb) {
        (Ok(_), Err(r)) => (a, b, 1, r),
        (Err(r), Ok(_)) => (b, a, 10, r),
        (Ok(_), Ok(_)) => {
            return Err(DemoError::Claim(
                "both crossing updates succeeded: no deadlock was detected".into(),
            ));
        }
        (Err(x), Err(y)) => {
            return Err(DemoError::Claim(format!(
                "both clients failed ({} and {}); expected exactly one deadlock victim",
                x.code, y.code
            )));
        }
    };
    let rejection = classify(info.flavor, refusal.code);
    check_eq!(
        rejection,
        Rejection::Deadlock,
        "the victim's error code {} ({})",
        refusal.code,
        refusal.message
    );
    check_eq!(
        rollback_scope(rejection, false),
        Some(RollbackScope::Transaction),
        "the rule for a deadlock"
    );
    survivor.exec(out, "COMMIT").await?;

    let mut c = Client::open(&db, "C", out).await?;
    let rows: Vec<(i32, i64)> = c
        .rows(out, &format!("SELECT id, v FROM {t} ORDER BY id"))
        .await?;
    check_eq!(
        rows,
        vec![(1, delta), (2, delta)],
        "after the survivor's COMMIT only its two updates are there (the victim's first update, \
         made before it ever waited, is gone too)"
    );
    out.say(
        "=> the deadlock victim lost its whole transaction, not only the statement that waited",
    );

    survivor.quit(out).await?;
    victim.quit(out).await?;
    c.quit(out).await?;
    db.finish().await?;
    Ok(())
}

pub(crate) fn autocommit_makes_each_statement_a_transaction(
    ctx: &mut Ctx<'_>,
) -> Result<(), DemoError> {
    on_mysql(ctx, autocommit_on)
}

async fn autocommit_on(
    ctx: &Ctx<'_>,
    _info: &MysqlInfo,
    out: &Transcript,
) -> Result<(), DemoError> {
    let mut db = ctx.mysql().await?;
    let accounts = db.table("accounts");
    let balance = format!("SELECT balance FROM {accounts} WHERE id = 1");
    let mut a = Client::open(&db, "A", out).await?;
    let mut b = Client::open(&db, "B", out).await?;
    a.exec(
        out,
        &format!(
            "CREATE TABLE {accounts} (id INT PRIMARY KEY, balance INT NOT NULL) ENGINE=InnoDB"
        ),
    )
    .await?;
    a.exec(out, &format!("INSERT INTO {accounts} VALUES (1, 100)"))
        .await?;

    let autocommit: i64 = a.one(out, "SELECT @@autocommit").await?;
    check_eq!(autocommit, 1, "a new session's autocommit");
    a.exec(
        out,
        &format!("UPDATE {accounts} SET balance = balance - 10 WHERE id = 1"),
    )
    .await?;
    a.exec(out, "ROLLBACK").await?;
    let seen: i64 = b.one(out, &balance).await?;
    check_eq!(
        seen,
        90,
        "B after A's autocommit UPDATE and ROLLBACK (the UPDATE committed by itself)"
    );

    a.exec(out, "SET autocommit = 0").await?;
    a.exec(
        out,
        &format!("UPDATE {accounts} SET balance = balance - 10 WHERE id = 1"),
    )
    .await?;
    let mine: i64 = a.one(out, &balance).await?;
    check_eq!(mine, 80, "A's own view inside the implicit transaction");
    let seen: i64 = b.one(out, &balance).await?;
    check_eq!(
        seen,
        90,
        "B while A's implicit transaction (autocommit=0) is open"
    );
    a.quit(out).await?;
    // A locking read waits for A's row lock, which is released only when the server has rolled A
    // back (or committed it): what it reads then tells which one happened.
    let after: i64 = b.one(out, &format!("{balance} FOR UPDATE")).await?;
    check_eq!(
        after,
        90,
        "B's locking read after A disconnected without COMMIT"
    );
    out.say("=> autocommit=1: each statement is its own transaction; autocommit=0: nothing counts until COMMIT");

    b.quit(out).await?;
    db.finish().await?;
    Ok(())
}

pub(crate) fn ddl_commits_implicitly(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    on_mysql(ctx, ddl_commits_implicitly_on)
}

async fn ddl_commits_implicitly_on(
    ctx: &Ctx<'_>,
    _info: &MysqlInfo,
    out: &Transcript,
) -> Result<(), DemoError> {
    let mut db = ctx.mysql().await?;
    let accounts = db.table("accounts");
    let audit = db.table("audit");
    let balance = format!("SELECT balance FROM {accounts} WHERE id = 1");
    let mut a = Client::open(&db, "A", out).await?;
    let mut b = Client::open(&db, "B", out).await?;
    a.exec(
        out,
        &format!(
            "CREATE TABLE {accounts} (id INT PRIMARY KEY, balance INT NOT NULL) ENGINE=InnoDB"
        ),
    )
    .await?;
    a.exec(out, &format!("INSERT INTO {accounts} VALUES (1, 100)"))
        .await?;

    a.exec(out, "START TRANSACTION").await?;
    a.exec(
        out,
        &format!("UPDATE {accounts} SET balance = balance - 10 WHERE id = 1"),
    )
    .await?;
    let seen: i64 = b.one(out, &balance).await?;
    check_eq!(seen, 100, "B before A's DDL (the UPDATE is uncommitted)");
    a.exec(
        out,
        &format!("CREATE TABLE {audit} (id INT PRIMARY KEY) ENGINE=InnoDB"),
    )
    .await?;
    a.exec(out, "ROLLBACK").await?;
    let seen: i64 = b.one(out, &balance).await?;
    check_eq!(
        seen,
        90,
        "B after A's CREATE TABLE and ROLLBACK (the DDL committed the UPDATE first)"
    );
    out.say(
        "=> CREATE TABLE committed the open transaction; the ROLLBACK had nothing left to undo",
    );

    a.quit(out).await?;
    b.quit(out).await?;
    db.finish().await?;
    Ok(())
}
