//! Isolation: a transaction's work in flight is invisible to the others.
//!
//! Writers take row locks (two writers of one row queue up); plain readers take none and read
//! through a read view instead: a snapshot of which transactions had committed, used to pick, from
//! each row's chain of versions (newest in the page, older ones rebuilt from the undo log), the
//! newest one the snapshot may see. At REPEATABLE READ, InnoDB's default, a transaction makes its
//! view at its first read and keeps it to the end; at READ COMMITTED each statement makes a new one.
//!
//! ```text
//!   A: BEGIN; INSERT 1 ──────────────── COMMIT
//!   B:   BEGIN; SELECT (view made: A active)   SELECT      COMMIT; BEGIN; SELECT
//!                 -> 0 rows                     -> 0 rows               -> 1 row (new view)
//! ```

use catalog::{Ctx, DemoError, check_eq};
use servers::MysqlInfo;

use crate::client::{Client, Transcript, on_mysql};
use crate::errors::{Rejection, classify};
use crate::flavor::{has_transaction_isolation, is_repeatable_read, isolation_variable};

pub(crate) fn uncommitted_insert_is_invisible(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    on_mysql(ctx, uncommitted_insert_is_invisible_on)
}

async fn uncommitted_insert_is_invisible_on(
    ctx: &Ctx<'_>,
    info: &MysqlInfo,
    out: &Transcript,
) -> Result<(), DemoError> {
    let mut db = ctx.mysql().await?;
    let notes = db.table("notes");
    let count = format!("SELECT COUNT(*) FROM {notes}");
    let mut a = Client::open(&db, "A", out).await?;
    let mut b = Client::open(&db, "B", out).await?;

    // Which name the level goes by depends on the flavor (and version): predict, then ask.
    let var = isolation_variable(info.flavor);
    let (global, session): (String, String) = b
        .one(out, &format!("SELECT @@GLOBAL.{var}, @@SESSION.{var}"))
        .await?;
    let expected = has_transaction_isolation(info.flavor, &info.version);
    let asked = b
        .try_one::<String>(out, "SELECT @@transaction_isolation")
        .await?;
    match asked {
        Ok(_) => check_eq!(
            expected,
            true,
            "@@transaction_isolation answered on {} {}",
            info.flavor,
            info.version
        ),
        Err(r) => {
            check_eq!(
                classify(info.flavor, r.code),
                Rejection::UnknownVariable,
                "asking for @@transaction_isolation"
            );
            check_eq!(
                expected,
                false,
                "@@transaction_isolation is unknown on {} {}",
                info.flavor,
                info.version
            );
        }
    }
    out.say(format!(
        "isolation: global {global}, session {session} (read from @@{var} on {})",
        info.flavor
    ));
    if !is_repeatable_read(&session) {
        out.say("the server's default is not REPEATABLE READ; setting it for both sessions");
        for c in [&mut a, &mut b] {
            c.exec(
                out,
                "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ",
            )
            .await?;
        }
    }

    a.exec(
        out,
        &format!(
            "CREATE TABLE {notes} (id INT PRIMARY KEY, body VARCHAR(40) NOT NULL) ENGINE=InnoDB"
        ),
    )
    .await?;
    a.exec(out, "START TRANSACTION").await?;
    a.exec(out, &format!("INSERT INTO {notes} VALUES (1, 'draft')"))
        .await?;
    let own: i64 = a.one(out, &count).await?;
    check_eq!(own, 1, "A's count of its own uncommitted insert");
    b.exec(out, "START TRANSACTION").await?;
    let before: i64 = b.one(out, &count).await?;
    check_eq!(before, 0, "B's count while A has not committed");

    a.exec(out, "COMMIT").await?;
    let same_view: i64 = b.one(out, &count).await?;
    check_eq!(
        same_view,
        0,
        "B's count after A's COMMIT, still in the transaction whose view predates it"
    );
    b.exec(out, "COMMIT").await?;
    b.exec(out, "START TRANSACTION").await?;
    let new_view: i64 = b.one(out, &count).await?;
    check_eq!(new_view, 1, "B's count in a new transaction");
    b.exec(out, "COMMIT").await?;
    out.say("=> uncommitted work is invisible; committed work shows up in the next snapshot, not the current one");

    a.quit(out).await?;
    b.quit(out).await?;
    db.finish().await?;
    Ok(())
}
