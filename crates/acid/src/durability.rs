//! Durability: once COMMIT is acknowledged the row is kept, whatever happens to the session.
//!
//! ```text
//!   A: BEGIN; INSERT 1;  [LSN L: the insert's redo is in the log buffer]
//!   A: COMMIT            [policy 1: log fsynced past the commit (or, with the binlog on,
//!                         the prepare) record, which comes after L]
//!   A: BEGIN; INSERT 2;  disconnect   -> the server rolls 2 back
//!   B (new session): row 1 is there, and B can insert its own row 2
//! ```
//!
//! See [`crate::redo`] for what `innodb_flush_log_at_trx_commit` promises. The lab borrows the
//! server and never restarts it, so the crash half of the promise is shown through the log's
//! flushed position, not by pulling the plug.

use catalog::{Ctx, DemoError, check, check_eq};
use servers::MysqlInfo;

use crate::client::{Client, Transcript, on_mysql};
use crate::errors::{Rejection, classify};
use crate::monitor::{LogPosition, parse_log_position};
use crate::redo::FlushAtCommit;

pub(crate) fn committed_row_survives_reconnect(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    on_mysql(ctx, committed_row_survives_reconnect_on)
}

/// Where the redo log is, or `None` (said in the output) when the user may not ask.
async fn log_position(
    c: &mut Client,
    info: &MysqlInfo,
    out: &Transcript,
) -> Result<Option<LogPosition>, DemoError> {
    // The monitor text is long; the transcript keeps only the two numbers the demo uses.
    let status = c
        .try_one_shown::<(String, String, String)>(
            out,
            "SHOW ENGINE INNODB STATUS",
            |(_, _, text)| match parse_log_position(text) {
                Some(pos) => format!(
                    "LOG: Log sequence number {}, Log flushed up to {}",
                    pos.lsn, pos.flushed
                ),
                None => format!("{} characters, no readable LOG section", text.len()),
            },
        )
        .await;
    match status? {
        Ok((_, _, text)) => match parse_log_position(&text) {
            Some(pos) => Ok(Some(pos)),
            None => Err(DemoError::Broken(
                "no readable LOG section in SHOW ENGINE INNODB STATUS".into(),
            )),
        },
        Err(r) if classify(info.flavor, r.code) == Rejection::NeedsPrivilege => {
            out.say("   (SHOW ENGINE INNODB STATUS needs the PROCESS privilege; skipping the LSN check)");
            Ok(None)
        }
        Err(r) => Err(DemoError::Broken(format!("SHOW ENGINE INNODB STATUS: {r}"))),
    }
}

async fn committed_row_survives_reconnect_on(
    ctx: &Ctx<'_>,
    info: &MysqlInfo,
    out: &Transcript,
) -> Result<(), DemoError> {
    let mut db = ctx.mysql().await?;
    let ledger = db.table("ledger");
    let mut a = Client::open(&db, "A", out).await?;

    let (flush, doublewrite): (String, String) = a
        .one(
            out,
            "SELECT @@GLOBAL.innodb_flush_log_at_trx_commit, @@GLOBAL.innodb_doublewrite",
        )
        .await?;
    let (log_bin, sync_binlog): (String, String) = a
        .one(out, "SELECT @@GLOBAL.log_bin, @@GLOBAL.sync_binlog")
        .await?;
    let policy = FlushAtCommit::parse(info.flavor, &flush).ok_or_else(|| {
        DemoError::Broken(format!(
            "innodb_flush_log_at_trx_commit={flush} is not a value {} accepts",
            info.flavor
        ))
    })?;
    out.say(format!(
        "innodb_flush_log_at_trx_commit = {}",
        policy.explain()
    ));
    out.say(format!(
        "innodb_doublewrite = {doublewrite} (pages go to a scratch area first, so a torn page write can be repaired); \
         log_bin = {log_bin}, sync_binlog = {sync_binlog} (the binary log has its own flush policy)"
    ));

    a.exec(
        out,
        &format!(
            "CREATE TABLE {ledger} (id INT PRIMARY KEY, note VARCHAR(40) NOT NULL) ENGINE=InnoDB"
        ),
    )
    .await?;
    a.exec(out, "START TRANSACTION").await?;
    a.exec(
        out,
        &format!("INSERT INTO {ledger} VALUES (1, 'committed')"),
    )
    .await?;
    let before = log_position(&mut a, info, out).await?;
    a.exec(out, "COMMIT").await?;
    let after = log_position(&mut a, info, out).await?;
    if let (Some(before), Some(after)) = (before, after) {
        if policy.synced_at_commit() {
            check!(
                after.flushed >= before.lsn,
                "COMMIT returned with the redo log flushed only to {} although the transaction's \
                 changes reached LSN {} before it",
                after.flushed,
                before.lsn
            );
            out.say(format!(
                "   flushed {} >= {}: the log was on disk past the transaction's changes \
                 before COMMIT answered",
                after.flushed, before.lsn
            ));
        } else {
            out.say("   (with this policy COMMIT does not wait for the disk; nothing to assert about the flushed LSN)");
        }
    }

    a.exec(out, "START TRANSACTION").await?;
    a.exec(
        out,
        &format!("INSERT INTO {ledger} VALUES (2, 'never committed')"),
    )
    .await?;
    let first_session = a.id();
    a.quit(out).await?;

    let mut b = Client::open(&db, "B", out).await?;
    check!(
        b.id() != first_session,
        "the reconnect reused session {first_session}"
    );
    let rows: Vec<(i32, String)> = b
        .rows(out, &format!("SELECT id, note FROM {ledger} ORDER BY id"))
        .await?;
    check_eq!(
        rows,
        vec![(1, "committed".to_string())],
        "what a new session reads after A disconnected"
    );
    // Waits, if need be, until the server has finished rolling A back; a duplicate-key error here
    // would mean A's uncommitted row had been kept.
    b.exec(
        out,
        &format!("INSERT INTO {ledger} VALUES (2, 'written by B')"),
    )
    .await?;
    out.say("=> the committed row outlived its session; the uncommitted one died with it");

    b.quit(out).await?;
    db.finish().await?;
    Ok(())
}
