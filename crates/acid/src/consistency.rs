//! Consistency: the invariants survive every transaction, because constraints refuse bad
//! statements and the other three letters take care of the rest.
//!
//! The server enforces only what is declared (types, NOT NULL, keys, CHECK, FOREIGN KEY). It
//! refuses the offending *statement*; the transaction around it stays open with its earlier work,
//! so a half-done transfer exists for a moment. Atomicity (the application's ROLLBACK) removes it,
//! and isolation keeps anyone else from seeing it in the meantime. Invariants nobody declared
//! ("the sum of all balances never changes") hold only because every transaction is written to
//! keep them.
//!
//! ```text
//!   wallets: alice 100, bob 50                  SUM = 150 (the invariant)
//!   A: BEGIN
//!   A: bob   += 500                             A's view: SUM = 650  (nobody else's: still 150)
//!   A: alice -= 500   -> CHECK (balance >= 0) fails, this statement only is undone
//!   A: ROLLBACK                                 SUM = 150 again
//! ```

use catalog::{Ctx, DemoError, check_eq};
use servers::MysqlInfo;

use crate::client::{Client, Transcript, on_mysql, refused};
use crate::errors::{Rejection, classify};

pub(crate) fn constraint_rejects_overdraft(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    on_mysql(ctx, constraint_rejects_overdraft_on)
}

async fn constraint_rejects_overdraft_on(
    ctx: &Ctx<'_>,
    info: &MysqlInfo,
    out: &Transcript,
) -> Result<(), DemoError> {
    let mut db = ctx.mysql().await?;
    // The child table is registered first so that it is dropped first: the parent cannot go while
    // a foreign key still points at it.
    let transfers = db.table("transfers");
    let wallets = db.table("wallets");
    let total = format!("SELECT CAST(SUM(balance) AS SIGNED) FROM {wallets}");
    let balances = format!("SELECT id, balance FROM {wallets} ORDER BY id");
    let mut a = Client::open(&db, "A", out).await?;
    let mut b = Client::open(&db, "B", out).await?;
    // Constraint names are per schema on MySQL, so they carry the table's (unique) name.
    a.exec(
        out,
        &format!(
            "CREATE TABLE {wallets} (id INT PRIMARY KEY, owner VARCHAR(20) NOT NULL, \
             balance INT NOT NULL, CONSTRAINT {wallets}_no_overdraft CHECK (balance >= 0)) ENGINE=InnoDB"
        ),
    )
    .await?;
    a.exec(
        out,
        &format!(
            "CREATE TABLE {transfers} (id INT AUTO_INCREMENT PRIMARY KEY, from_id INT NOT NULL, \
             to_id INT NOT NULL, amount INT NOT NULL, \
             CONSTRAINT {transfers}_from FOREIGN KEY (from_id) REFERENCES {wallets} (id), \
             CONSTRAINT {transfers}_to FOREIGN KEY (to_id) REFERENCES {wallets} (id)) ENGINE=InnoDB"
        ),
    )
    .await?;
    a.exec(
        out,
        &format!("INSERT INTO {wallets} VALUES (1, 'alice', 100), (2, 'bob', 50)"),
    )
    .await?;
    let start: i64 = a.one(out, &total).await?;
    let start_balances: Vec<(i32, i64)> = a.rows(out, &balances).await?;

    out.say("-- 1. bob is credited 500 first, then alice's debit overdraws her wallet");
    a.exec(out, "START TRANSACTION").await?;
    a.exec(
        out,
        &format!("UPDATE {wallets} SET balance = balance + 500 WHERE id = 2"),
    )
    .await?;
    let debit = a
        .attempt(
            out,
            &format!("UPDATE {wallets} SET balance = balance - 500 WHERE id = 1"),
        )
        .await?;
    let refusal = refused(debit, "the overdraft")?;
    check_eq!(
        classify(info.flavor, refusal.code),
        Rejection::CheckViolated,
        "the overdraft's error on {} (expected {}): {}",
        info.flavor,
        Rejection::CheckViolated.code(info.flavor),
        refusal.message
    );
    let in_flight: i64 = a.one(out, &total).await?;
    check_eq!(
        in_flight,
        start + 500,
        "A's total after the refused debit (the credit is still in A's open transaction)"
    );
    let others: i64 = b.one(out, &total).await?;
    check_eq!(
        others,
        start,
        "B's total while A's half-done transfer is open"
    );
    a.exec(out, "ROLLBACK").await?;
    let after: i64 = b.one(out, &total).await?;
    check_eq!(after, start, "the total after A's ROLLBACK");

    out.say("-- 2. alice pays 30 to wallet 99, which does not exist");
    a.exec(out, "START TRANSACTION").await?;
    a.exec(
        out,
        &format!("UPDATE {wallets} SET balance = balance - 30 WHERE id = 1"),
    )
    .await?;
    let record = a
        .attempt(
            out,
            &format!("INSERT INTO {transfers} (from_id, to_id, amount) VALUES (1, 99, 30)"),
        )
        .await?;
    let refusal = refused(record, "a transfer to a missing wallet")?;
    check_eq!(
        classify(info.flavor, refusal.code),
        Rejection::NoParentRow,
        "the missing wallet's error: {}",
        refusal.message
    );
    a.exec(out, "ROLLBACK").await?;
    let after: i64 = b.one(out, &total).await?;
    check_eq!(after, start, "the total after the second ROLLBACK");
    let recorded: i64 = b
        .one(out, &format!("SELECT COUNT(*) FROM {transfers}"))
        .await?;
    check_eq!(recorded, 0, "transfers recorded");
    let now: Vec<(i32, i64)> = b.rows(out, &balances).await?;
    check_eq!(now, start_balances, "balances after both refusals");

    out.say("-- 3. a valid transfer of 30 commits, and the invariant still holds");
    a.exec(out, "START TRANSACTION").await?;
    a.exec(
        out,
        &format!("UPDATE {wallets} SET balance = balance - 30 WHERE id = 1"),
    )
    .await?;
    a.exec(
        out,
        &format!("UPDATE {wallets} SET balance = balance + 30 WHERE id = 2"),
    )
    .await?;
    a.exec(
        out,
        &format!("INSERT INTO {transfers} (from_id, to_id, amount) VALUES (1, 2, 30)"),
    )
    .await?;
    a.exec(out, "COMMIT").await?;
    let now: Vec<(i32, i64)> = b.rows(out, &balances).await?;
    check_eq!(now, vec![(1, 70), (2, 80)], "balances after the transfer");
    let after: i64 = b.one(out, &total).await?;
    check_eq!(after, start, "the total after a committed transfer");
    out.say(format!(
        "=> SUM(balance) = {start} before, during (for everyone else) and after; the constraints refused \
         the bad statements, ROLLBACK removed the rest"
    ));

    a.quit(out).await?;
    b.quit(out).await?;
    db.finish().await?;
    Ok(())
}
