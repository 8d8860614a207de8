//! mysql-13: a row's version chain, the read views that walk it, and purge.

use catalog::{Ctx, DemoError, check, check_eq};

use crate::demos::{disagreements, run_model, run_server, schedule, show_cell};
use crate::engine::{Engine, Level, Options, Reply, Response, SessionId};
use crate::hermitage::{Cell, SETUP_ROWS};
use crate::sql::Statement;
use crate::version::RollPtr;

fn exec(e: &mut Engine, s: SessionId, sql: &str) -> Result<Reply, DemoError> {
    let st = Statement::parse(sql).map_err(|err| DemoError::Broken(format!("{sql}: {err}")))?;
    match e.submit(s, st) {
        Response::Done(r) => Ok(r),
        Response::Blocked { .. } => Err(DemoError::Broken(format!("{sql} blocked"))),
    }
}

fn value_of(r: &Reply) -> Option<i64> {
    r.rows().and_then(|rows| rows.first()).map(|(_, v)| *v)
}

/// The chain of row 1 as one line: `13 (trx 103) -> 12 (trx 102) -> ... -> 10 (trx 100, insert)`.
fn draw_chain(e: &Engine) -> String {
    e.versions()
        .chain(1)
        .iter()
        .map(|v| {
            let tail = match v.roll_ptr {
                RollPtr::Insert => ", insert",
                RollPtr::Purged => ", older purged",
                RollPtr::Undo(_) => "",
            };
            format!("{} (trx {}{tail})", v.value, v.trx_id)
        })
        .collect::<Vec<_>>()
        .join(" -> ")
}

/// How many versions the chain must keep: from the newest down to the oldest one an open
/// reader still reads (independent of how purge finds them).
fn needed_versions(chain_values: &[i64], open_readers_values: &[i64]) -> usize {
    open_readers_values
        .iter()
        .filter_map(|v| chain_values.iter().position(|c| c == v))
        .max()
        .map_or(1, |i| i + 1)
}

pub(crate) fn chain_and_views(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let mut e = Engine::with_rows(
        Options {
            manual_purge: true,
            ..Options::default()
        },
        &[(1, 10)],
    );
    // The oracle: what was last committed when each reader made its view. It knows nothing of
    // transaction ids or chains; it just remembers commits in order.
    let mut last_committed = 10;
    let names = ["A", "B", "C", "D"];
    let readers: Vec<SessionId> = names
        .iter()
        .map(|_| e.open_session(Level::RepeatableRead))
        .collect();
    let writer = e.open_session(Level::RepeatableRead);
    let mut expected = [0i64; 4];
    let mut first_read = [None; 4];
    let mut read = |e: &mut Engine, i: usize, expect: i64| -> Result<(), DemoError> {
        exec(e, readers[i], "begin")?;
        first_read[i] = value_of(&exec(e, readers[i], "select * from test where id = 1")?);
        expected[i] = expect;
        Ok(())
    };
    read(&mut e, 0, last_committed)?;
    exec(&mut e, writer, "update test set value = 11 where id = 1")?;
    last_committed = 11;
    read(&mut e, 1, last_committed)?;
    exec(&mut e, writer, "begin")?;
    exec(&mut e, writer, "update test set value = 12 where id = 1")?;
    read(&mut e, 2, last_committed)?; // 12 is not committed yet
    exec(&mut e, writer, "commit")?;
    exec(&mut e, writer, "update test set value = 13 where id = 1")?;
    last_committed = 13;
    read(&mut e, 3, last_committed)?;
    ctx.say(
        "history of row id=1: insert 10; A reads; 11 (autocommit); B reads; 12 in a transaction;",
    );
    ctx.say("  C reads while 12 is uncommitted; 12 commits; 13 (autocommit); D reads");
    ctx.say(format!("version chain (newest first): {}", draw_chain(&e)));
    check_eq!(
        e.versions().chain(1).len(),
        4,
        "versions kept while A..D are open"
    );

    for (i, name) in names.iter().enumerate() {
        let view = e
            .read_view(readers[i])
            .cloned()
            .ok_or_else(|| DemoError::Broken(format!("{name} has no read view")))?;
        let walk = e.versions().walk(1, Some(&view));
        ctx.say(format!("{name}'s view: {}", view.describe()));
        for step in &walk.steps {
            let verdict = step.verdict.map_or("no view", |v| v.explain());
            ctx.say(format!(
                "    {} (trx {}): {}{}",
                step.version.value,
                step.version.trx_id,
                verdict,
                if step.verdict.is_some_and(|v| v.is_visible()) {
                    "  <- reads this"
                } else {
                    ", follow roll_ptr"
                }
            ));
        }
        let again = value_of(&exec(
            &mut e,
            readers[i],
            "select * from test where id = 1",
        )?);
        check_eq!(
            walk.value,
            Some(expected[i]),
            "{name}'s chain walk vs the commit log"
        );
        check_eq!(first_read[i], Some(expected[i]), "{name}'s SELECT");
        check_eq!(again, first_read[i], "{name}'s second SELECT (same view)");
    }

    // Purge: as readers finish, the versions only they needed go.
    let chain_values: Vec<i64> = e.versions().chain(1).iter().map(|v| v.value).collect();
    let mut open: Vec<usize> = (0..4).collect();
    for (close, label) in [
        (vec![], "A..D open"),
        (vec![0], "A committed"),
        (vec![1, 2], "B, C committed"),
    ] {
        for i in close {
            exec(&mut e, readers[i], "commit")?;
            open.retain(|&x| x != i);
        }
        let freed = e.purge();
        let want: Vec<i64> = open.iter().map(|&i| expected[i]).collect();
        let need = needed_versions(&chain_values, &want);
        ctx.say(format!(
            "purge with {label}: freed {freed} undo record(s); chain now {}",
            draw_chain(&e)
        ));
        check_eq!(
            e.versions().chain(1).len(),
            need,
            "versions left after purge ({label})"
        );
    }
    Ok(())
}

/// The mysql-13 sequence as a schedule: t1..t4 are readers A..D, t5..t7 the writers.
const VIEWS: &str = "\
# views: four readers open their snapshots between updates of row 1
t1: begin
t1: select * from test where id = 1
t5: update test set value = 11 where id = 1
t2: begin
t2: select * from test where id = 1
t6: begin
t6: update test set value = 12 where id = 1
t3: begin
t3: select * from test where id = 1
t6: commit
t7: update test set value = 13 where id = 1
t4: begin
t4: select * from test where id = 1
t1: select * from test where id = 1
t2: select * from test where id = 1
t3: select * from test where id = 1
t4: select * from test where id = 1
t1: commit
t2: commit
t3: commit
t4: commit
";

fn reads_of(cell: &Cell, txn: &str) -> Vec<Option<i64>> {
    cell.steps
        .iter()
        .filter(|s| s.txn == txn)
        .filter_map(|s| s.reply.as_ref())
        .filter(|r| r.rows().is_some())
        .map(value_of)
        .collect()
}

pub(crate) fn views_match_the_server(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let s = schedule("views", VIEWS)?;
    let jobs = [(&s, Level::RepeatableRead)];
    let server = run_server(ctx, &jobs)?;
    let model = run_model(&jobs, Options::default());
    for (t, name) in [("t1", "A"), ("t2", "B"), ("t3", "C"), ("t4", "D")] {
        ctx.say(format!(
            "reader {name}: server read {:?}, model read {:?}",
            reads_of(&server[0], t),
            reads_of(&model[0], t)
        ));
    }
    let diffs = disagreements(&model, &server);
    check!(
        diffs.is_empty(),
        "model and server differ:\n{}",
        diffs.join("\n")
    );
    // The server on its own terms: each reader reads one value twice, and that value is the
    // one last committed when its first read ran (replayed from the steps, in the order sent).
    let oracle = committed_at_first_read(&server[0]);
    for t in ["t1", "t2", "t3", "t4"] {
        let r = reads_of(&server[0], t);
        check_eq!(r.len(), 2, "reads of {t}");
        check_eq!(r[0], r[1], "{t}'s two reads (one snapshot)");
        check_eq!(
            r[0],
            oracle.get(t).copied(),
            "{t}'s value vs the commit log"
        );
    }
    Ok(())
}

/// For each transaction, the value of row 1 last committed when it first read: a replay of the
/// writes and commits in the order they were sent, knowing nothing about views or chains.
fn committed_at_first_read(cell: &Cell) -> std::collections::BTreeMap<String, i64> {
    use crate::sql::{Cond, SetValue};
    let mut steps: Vec<_> = cell.steps.iter().filter(|s| s.sent_as > 0).collect();
    steps.sort_by_key(|s| s.sent_as);
    let mut committed = SETUP_ROWS[0].1;
    let mut pending: std::collections::BTreeMap<&str, i64> = Default::default();
    let mut first = std::collections::BTreeMap::new();
    for s in steps {
        let ok = s.reply.as_ref().is_some_and(|r| r.error().is_none());
        match Statement::parse(&s.sql) {
            Ok(Statement::Update {
                set: SetValue::Const(v),
                filter: Some(Cond::IdEq(1)),
            }) if ok => {
                if s.in_txn {
                    pending.insert(&s.txn, v);
                } else {
                    committed = v;
                }
            }
            Ok(Statement::Commit) if s.in_txn => {
                if let Some(v) = pending.remove(s.txn.as_str()) {
                    committed = v;
                }
            }
            Ok(Statement::Select { .. }) => {
                first.entry(s.txn.clone()).or_insert(committed);
            }
            _ => {}
        }
    }
    first
}

/// A REPEATABLE READ transaction mixing consistent and locking reads.
const PAST_SNAPSHOT: &str = "\
# past-snapshot: consistent vs current reads in one REPEATABLE READ transaction
t1: begin
t2: begin
t1: select * from test
t2: update test set value = 12 where id = 1
t2: update test set value = 18 where id = 2
t2: commit
t1: select * from test
t1: select * from test for update
t1: select * from test lock in share mode
t1: update test set value = value + 1 where id = 1
t1: select * from test
t1: commit
t0: select * from test
";

pub(crate) fn locking_read_sees_past_the_snapshot(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let s = schedule("past-snapshot", PAST_SNAPSHOT)?;
    let jobs = [(&s, Level::RepeatableRead)];
    let server = run_server(ctx, &jobs)?;
    let model = run_model(&jobs, Options::default());
    show_cell(ctx, &server[0]);
    let diffs = disagreements(&model, &server);
    check!(
        diffs.is_empty(),
        "model and server differ:\n{}",
        diffs.join("\n")
    );
    let rows = |n: usize| -> Result<Vec<(i64, i64)>, DemoError> {
        server[0]
            .steps
            .get(n - 1)
            .and_then(|st| st.reply.as_ref())
            .and_then(|r| r.rows())
            .map(<[(i64, i64)]>::to_vec)
            .ok_or_else(|| DemoError::Broken(format!("step {n} returned no rows")))
    };
    let initial = SETUP_ROWS.to_vec();
    check_eq!(rows(3)?, initial, "T1's first read");
    check_eq!(
        rows(7)?,
        initial,
        "T1's plain read after T2 committed (snapshot)"
    );
    let current = rows(8)?;
    check!(
        current != initial,
        "FOR UPDATE read the snapshot: {current:?}"
    );
    check_eq!(rows(9)?, current, "LOCK IN SHARE MODE vs FOR UPDATE");
    let mixed = rows(11)?;
    let final_state = rows(13)?;
    ctx.say(format!(
        "committed states: {initial:?}, {current:?}, {final_state:?}; T1 saw {mixed:?}"
    ));
    check!(
        mixed != initial && mixed != current && mixed != final_state,
        "T1's last read {mixed:?} is a state someone committed"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_commit_log_oracle_follows_commits_not_writes() {
        let s = crate::demos::schedule("views", VIEWS).unwrap();
        let cell = &run_model(&[(&s, Level::RepeatableRead)], Options::default())[0];
        let o = committed_at_first_read(cell);
        assert_eq!(o["t1"], 10);
        assert_eq!(o["t3"], 11, "t6's 12 was not committed yet");
        assert_eq!(o["t4"], 13);
    }

    #[test]
    fn needed_versions_reach_down_to_the_oldest_reader() {
        let chain = [13, 12, 11, 10];
        assert_eq!(needed_versions(&chain, &[10, 11, 13]), 4);
        assert_eq!(needed_versions(&chain, &[11, 13]), 3);
        assert_eq!(needed_versions(&chain, &[13]), 1);
        // Counterexample: no reader, only the newest stays.
        assert_eq!(needed_versions(&chain, &[]), 1);
    }
}
