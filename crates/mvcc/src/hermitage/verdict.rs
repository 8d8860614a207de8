//! Per-test rules: did a cell show the phenomenon its test probes? (mysql-04)
//!
//! Each rule reads only what the steps returned (rows, rows affected, errors, whether a step ran
//! inside its transaction) and knows what each transaction wrote, from the schedule. It never
//! looks at the isolation level or at the target: the same rule judges the model and the server,
//! and the table of verdicts is whatever they did.
//!
//! ```text
//!   test                    anomaly when ...
//!   g0                      the final rows were written by different transactions (or a rolled-back one)
//!   g1a / g1b               T2 read 101 (aborted / intermediate value)
//!   g1c                     T1 read T2's 22 and T2 read T1's 11
//!   otv                     a T3 read is not a state between whole transactions
//!   pmp                     T1's second predicate read has a value-30 row its first did not
//!   pmp-write               final rows are no serial outcome, or T2's delete acted on a state its read did not show
//!   p4                      both committed an UPDATE of row 1 after both read 10
//!   g-single(-dependencies) T1 saw row 1 from before T2 and row 2 (or row 1 again) from after
//!   g-single-write-1/2      T1 read 10 and then its DELETE (or read) saw T2's rows
//!   g2-item / g2            both committed what they decided on reads that missed the other's write
//!   g2-two-edges            T3 saw T2's write but not T1's while T1 read before T2: all committed
//! ```

use std::collections::BTreeMap;

use crate::engine::Reply;
use crate::hermitage::StepRecord;
use crate::sql::{Cond, SetValue, Statement};

type Rows = BTreeMap<i64, i64>;

/// The verdict for `test` from its steps, with the reason in words.
pub fn anomaly(test: &str, steps: &[StepRecord]) -> (bool, String) {
    let o = Obs { steps };
    match test {
        "g0" => g0(&o),
        "g1a" | "g1b" => saw(&o, "t2", 1, 101),
        "g1c" => g1c(&o),
        "otv" => otv(&o),
        "pmp" => pmp(&o),
        "pmp-write" => pmp_write(&o),
        "p4" => p4(&o),
        "g-single" => g_single(&o),
        "g-single-dependencies" => g_single_dependencies(&o),
        "g-single-write-1" | "g-single-write-2" => g_single_write(&o),
        "g2-item" => g2_item(&o),
        "g2" => g2(&o),
        "g2-two-edges" => g2_two_edges(&o),
        other => (
            false,
            format!("{other:?} is not a hermitage test: no verdict"),
        ),
    }
}

/// Whether `test` is a hermitage test with a rule (a schedule of one's own has none).
pub fn has_rule(test: &str) -> bool {
    crate::hermitage::schedule::ORDER.contains(&test)
}

struct Obs<'a> {
    steps: &'a [StepRecord],
}

impl Obs<'_> {
    fn stmt(s: &StepRecord) -> Option<Statement> {
        Statement::parse(&s.sql).ok()
    }

    /// Rows of the SELECTs `txn` ran inside its transaction, in schedule order.
    fn reads(&self, txn: &str) -> Vec<Rows> {
        self.steps
            .iter()
            .filter(|s| s.txn == txn && s.in_txn)
            .filter(|s| Self::stmt(s).is_some_and(|st| st.is_select()))
            .filter_map(|s| s.reply.as_ref().and_then(Reply::rows))
            .map(|r| r.iter().copied().collect())
            .collect()
    }

    /// Every SELECT of `txn`, inside its transaction or not.
    fn all_reads(&self, txn: &str) -> Vec<Rows> {
        self.steps
            .iter()
            .filter(|s| s.txn == txn)
            .filter_map(|s| s.reply.as_ref().and_then(Reply::rows))
            .map(|r| r.iter().copied().collect())
            .collect()
    }

    /// The replies of `txn`'s writes inside its transaction.
    fn writes(&self, txn: &str) -> Vec<&Reply> {
        self.steps
            .iter()
            .filter(|s| s.txn == txn && s.in_txn)
            .filter(|s| {
                Self::stmt(s).is_some_and(|st| {
                    matches!(
                        st,
                        Statement::Update { .. }
                            | Statement::Delete { .. }
                            | Statement::Insert { .. }
                    )
                })
            })
            .filter_map(|s| s.reply.as_ref())
            .collect()
    }

    /// Whether `txn` committed: its COMMIT ran inside the transaction and answered OK.
    fn committed(&self, txn: &str) -> bool {
        self.steps.iter().any(|s| {
            s.txn == txn
                && s.in_txn
                && Self::stmt(s) == Some(Statement::Commit)
                && s.reply == Some(Reply::Ok)
        })
    }

    /// The last read of `t0`, the observer that runs autocommit reads after everything.
    fn final_read(&self) -> Option<Rows> {
        self.all_reads("t0").pop()
    }
}

fn show(r: &Rows) -> String {
    if r.is_empty() {
        return "{}".into();
    }
    let parts: Vec<String> = r.iter().map(|(k, v)| format!("{k}=>{v}")).collect();
    format!("{{{}}}", parts.join(", "))
}

fn succeeded(r: &Reply) -> bool {
    r.error().is_none()
}

/// Any read of `txn` (in its transaction) showed `id => value`.
fn saw(o: &Obs<'_>, txn: &str, id: i64, value: i64) -> (bool, String) {
    let seen = o.reads(txn).iter().any(|r| r.get(&id) == Some(&value));
    if seen {
        (
            true,
            format!("{txn} read {id}=>{value}, a value that was never committed as final"),
        )
    } else {
        (false, format!("{txn} never read {id}=>{value}"))
    }
}

fn g0(o: &Obs<'_>) -> (bool, String) {
    let Some(f) = o.final_read() else {
        return (false, "no final read".into());
    };
    // The step that wrote each final value: an UPDATE setting exactly that value on that row.
    let writer = |id: i64| {
        let v = *f.get(&id)?;
        o.steps.iter().rev().find(|s| {
            s.reply.as_ref().is_some_and(succeeded)
                && Obs::stmt(s)
                    == Some(Statement::Update {
                        set: SetValue::Const(v),
                        filter: Some(Cond::IdEq(id)),
                    })
        })
    };
    let (a, b) = (writer(1), writer(2));
    for w in [a, b].into_iter().flatten() {
        if w.in_txn && !o.committed(&w.txn) {
            return (
                true,
                format!(
                    "final {} holds a write of {}, which did not commit",
                    show(&f),
                    w.txn
                ),
            );
        }
    }
    // Two explicit transactions' writes side by side: no serial order gives that. (A statement
    // that ran in autocommit, e.g. after an error ended its transaction, is a transaction of its own.)
    match (a, b) {
        (Some(x), Some(y)) if x.in_txn && y.in_txn && x.txn != y.txn => (
            true,
            format!(
                "final {} mixes {}'s and {}'s writes",
                show(&f),
                x.txn,
                y.txn
            ),
        ),
        _ => (
            false,
            format!("final {} comes from one writer at a time", show(&f)),
        ),
    }
}

fn g1c(o: &Obs<'_>) -> (bool, String) {
    let t1 = o.reads("t1").first().and_then(|r| r.get(&2).copied());
    let t2 = o.reads("t2").first().and_then(|r| r.get(&1).copied());
    match (t1, t2) {
        (Some(22), Some(11)) => (true, "T1 read T2's 22 and T2 read T1's 11: a cycle".into()),
        _ => (
            false,
            format!("T1 read row 2 as {t1:?}, T2 read row 1 as {t2:?}: no cycle"),
        ),
    }
}

fn otv(o: &Obs<'_>) -> (bool, String) {
    let whole = [
        Rows::from([(1, 10), (2, 20)]),
        Rows::from([(1, 11), (2, 19)]),
        Rows::from([(1, 12), (2, 18)]),
    ];
    match o.reads("t3").into_iter().find(|r| !whole.contains(r)) {
        Some(r) => (true, format!("T3 read {}: part of a transaction", show(&r))),
        None => (
            false,
            "every T3 read is a state between whole transactions".into(),
        ),
    }
}

fn pmp(o: &Obs<'_>) -> (bool, String) {
    let reads = o.reads("t1");
    let (Some(first), Some(second)) = (reads.first(), reads.get(1)) else {
        return (false, "T1 did not read twice".into());
    };
    let again: Rows = second
        .iter()
        .filter(|(_, v)| **v == 30)
        .map(|(k, v)| (*k, *v))
        .collect();
    if &again != first {
        (
            true,
            format!("value=30 first gave {}, then {}", show(first), show(&again)),
        )
    } else {
        (false, format!("value=30 gave {} both times", show(first)))
    }
}

fn pmp_write(o: &Obs<'_>) -> (bool, String) {
    let Some(f) = o.final_read() else {
        return (false, "no final read".into());
    };
    let (c1, c2) = (o.committed("t1"), o.committed("t2"));
    let t1_then_t2 = Rows::from([(2, 30)]);
    let t2_then_t1 = Rows::from([(1, 20)]);
    let allowed: Vec<Rows> = match (c1, c2) {
        (true, true) => vec![t1_then_t2.clone(), t2_then_t1.clone()],
        (true, false) => vec![Rows::from([(1, 20), (2, 30)])],
        (false, true) => vec![Rows::from([(1, 10)])],
        (false, false) => vec![Rows::from([(1, 10), (2, 20)])],
    };
    if !allowed.contains(&f) {
        return (true, format!("final {} is no serial outcome", show(&f)));
    }
    if !(c1 && c2) {
        return (false, format!("final {} matches what committed", show(&f)));
    }
    // Which of T2's reads came before its delete?
    let mut before = Vec::new();
    for s in o.steps.iter().filter(|s| s.txn == "t2" && s.in_txn) {
        match Obs::stmt(s) {
            Some(Statement::Delete { .. }) => break,
            Some(Statement::Select { .. }) => {
                if let Some(r) = s.reply.as_ref().and_then(Reply::rows) {
                    before.push(r.iter().copied().collect::<Rows>());
                }
            }
            _ => {}
        }
    }
    let pre_t1 = |r: &Rows| r.get(&1) == Some(&10) || r.get(&2) == Some(&20);
    let post_t1 = |r: &Rows| r.get(&1) == Some(&20) || r.get(&2) == Some(&30);
    if f == t1_then_t2 && before.iter().any(pre_t1) {
        (
            true,
            "T2 read the rows before T1's update but deleted after it".into(),
        )
    } else if f == t2_then_t1 && before.iter().any(post_t1) {
        (
            true,
            "T2 read T1's update but deleted as if before it".into(),
        )
    } else {
        (
            false,
            format!("final {} and T2's read agree on an order", show(&f)),
        )
    }
}

fn p4(o: &Obs<'_>) -> (bool, String) {
    let both_read_10 = ["t1", "t2"]
        .iter()
        .all(|t| o.reads(t).first().and_then(|r| r.get(&1)) == Some(&10));
    let both_wrote = ["t1", "t2"]
        .iter()
        .all(|t| o.committed(t) && o.writes(t).iter().any(|r| succeeded(r)));
    if both_read_10 && both_wrote {
        (
            true,
            "both read 10 and both committed their write: one update is lost".into(),
        )
    } else {
        (
            false,
            "at most one of the read-then-write transactions committed its write".into(),
        )
    }
}

fn g_single(o: &Obs<'_>) -> (bool, String) {
    let reads = o.reads("t1");
    let r1 = reads.first().and_then(|r| r.get(&1).copied());
    let r2 = reads.get(1).and_then(|r| r.get(&2).copied());
    match (r1, r2) {
        (Some(10), Some(18)) | (Some(12), Some(20)) => (
            true,
            format!(
                "T1 read 1=>{} and 2=>{}: from both sides of T2",
                r1.unwrap_or(0),
                r2.unwrap_or(0)
            ),
        ),
        _ => (
            false,
            format!("T1 read row 1 as {r1:?} and row 2 as {r2:?}"),
        ),
    }
}

fn g_single_dependencies(o: &Obs<'_>) -> (bool, String) {
    let reads = o.reads("t1");
    let first = reads.first().and_then(|r| r.get(&1).copied());
    let second = reads.get(1).and_then(|r| r.get(&1).copied());
    if first == Some(10) && second == Some(12) {
        (true, "T1 saw row 1 as 10, then as 12 (T2's write)".into())
    } else {
        (false, format!("T1 saw row 1 as {first:?}, then {second:?}"))
    }
}

fn g_single_write(o: &Obs<'_>) -> (bool, String) {
    let reads = o.reads("t1");
    let first = reads.first().and_then(|r| r.get(&1).copied());
    let deleted = o.steps.iter().find_map(|s| {
        (s.txn == "t1" && s.in_txn && matches!(Obs::stmt(s), Some(Statement::Delete { .. })))
            .then(|| s.reply.clone())
            .flatten()
    });
    let later_row2 = reads.get(1).and_then(|r| r.get(&2).copied());
    if first != Some(10) {
        return (false, format!("T1 read row 1 as {first:?}"));
    }
    match deleted {
        Some(Reply::Affected { rows: 0 }) => (
            true,
            "T1 read 1=>10 (before T2) but its delete of value=20 matched nothing (after T2)"
                .into(),
        ),
        _ if later_row2 == Some(18) => (true, "T1 read 1=>10 and later 2=>18".into()),
        Some(r) => (false, format!("T1's delete answered {r}")),
        None => (false, "T1's delete did not run in its transaction".into()),
    }
}

fn g2_item(o: &Obs<'_>) -> (bool, String) {
    let initial = Rows::from([(1, 10), (2, 20)]);
    let ok = ["t1", "t2"].iter().all(|t| {
        o.committed(t)
            && o.reads(t).first() == Some(&initial)
            && o.writes(t).iter().any(|r| succeeded(r))
    });
    if ok {
        (
            true,
            "both read {1=>10, 2=>20} and both committed a write: write skew".into(),
        )
    } else {
        (
            false,
            "not both of them committed a write decided on the same old rows".into(),
        )
    }
}

fn g2(o: &Obs<'_>) -> (bool, String) {
    let ok = ["t1", "t2"].iter().all(|t| {
        o.committed(t)
            && o.reads(t).first().is_some_and(BTreeMap::is_empty)
            && o.writes(t)
                .iter()
                .any(|r| matches!(r, Reply::Affected { rows: 1 }))
    });
    if ok {
        (
            true,
            "both saw no value%3=0 row and both inserted one: write skew on a predicate".into(),
        )
    } else {
        (false, "not both predicate-checked inserts committed".into())
    }
}

fn g2_two_edges(o: &Obs<'_>) -> (bool, String) {
    let t1 = o.reads("t1").first().and_then(|r| r.get(&2).copied());
    let t3 = o.reads("t3").first().cloned();
    let all = o.committed("t1") && o.committed("t2") && o.committed("t3");
    let t3_mixed = t3
        .as_ref()
        .is_some_and(|r| r.get(&2) == Some(&25) && r.get(&1) == Some(&10));
    if all && t1 == Some(20) && t3_mixed {
        (
            true,
            "T3 saw T2's 25 but not T1's 0, and T1 read 20 before T2: a cycle".into(),
        )
    } else {
        (
            false,
            format!(
                "T1 read row 2 as {t1:?}, T3 read {}, all committed: {all}",
                t3.as_ref().map_or_else(|| "nothing".into(), show)
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Steps from `(txn, sql, reply, in_txn)`.
    fn steps(list: &[(&str, &str, Reply, bool)]) -> Vec<StepRecord> {
        list.iter()
            .enumerate()
            .map(|(i, (t, sql, r, in_txn))| StepRecord {
                n: i + 1,
                line: i + 1,
                txn: t.to_string(),
                sql: sql.to_string(),
                sent_as: i + 1,
                deferred: false,
                in_txn: *in_txn,
                blocked: false,
                reply: Some(r.clone()),
                finished_after: None,
            })
            .collect()
    }

    fn rows(r: &[(i64, i64)]) -> Reply {
        Reply::Rows { rows: r.to_vec() }
    }

    const OK: Reply = Reply::Ok;

    #[test]
    fn g0_flags_a_final_state_from_two_writers() {
        let up = |v: i64, id: i64| format!("update test set value = {v} where id = {id}");
        let one = Reply::Affected { rows: 1 };
        let run = |t2_in_txn: bool, fin: &[(i64, i64)]| {
            steps(&[
                ("t1", "begin", OK, false),
                ("t2", "begin", OK, false),
                ("t1", &up(11, 1), one.clone(), true),
                ("t2", &up(12, 1), one.clone(), t2_in_txn),
                ("t1", &up(21, 2), one.clone(), true),
                ("t1", "commit", OK, true),
                ("t2", &up(22, 2), one.clone(), t2_in_txn),
                ("t2", "commit", OK, t2_in_txn),
                ("t0", "select * from test", rows(fin), false),
            ])
        };
        assert!(anomaly("g0", &run(true, &[(1, 12), (2, 21)])).0);
        // Counterexamples: serial outcomes.
        assert!(!anomaly("g0", &run(true, &[(1, 12), (2, 22)])).0);
        assert!(!anomaly("g0", &run(true, &[(1, 11), (2, 21)])).0);
        // T2's transaction ended early; its later UPDATE ran on its own: no mix.
        assert!(!anomaly("g0", &run(false, &[(1, 11), (2, 22)])).0);
        // A write of a transaction that never committed must not survive.
        let mut aborted = run(true, &[(1, 11), (2, 22)]);
        aborted[7].reply = Some(Reply::Error { code: 1213 });
        assert!(anomaly("g0", &aborted).0);
    }

    #[test]
    fn g1a_needs_the_aborted_value_in_t2s_read() {
        let run = |v| {
            steps(&[
                ("t2", "begin", OK, false),
                ("t2", "select * from test", rows(&[(1, v), (2, 20)]), true),
            ])
        };
        assert!(anomaly("g1a", &run(101)).0);
        assert!(!anomaly("g1a", &run(10)).0);
    }

    #[test]
    fn g1c_needs_both_reads_to_see_the_other() {
        let run = |a, b| {
            steps(&[
                (
                    "t1",
                    "select * from test where id = 2",
                    rows(&[(2, a)]),
                    true,
                ),
                (
                    "t2",
                    "select * from test where id = 1",
                    rows(&[(1, b)]),
                    true,
                ),
            ])
        };
        assert!(anomaly("g1c", &run(22, 11)).0);
        assert!(!anomaly("g1c", &run(20, 11)).0);
        assert!(!anomaly("g1c", &run(20, 10)).0);
    }

    #[test]
    fn otv_flags_a_partial_state() {
        let run = |r: &[(i64, i64)]| steps(&[("t3", "select * from test", rows(r), true)]);
        assert!(anomaly("otv", &run(&[(1, 12), (2, 19)])).0);
        assert!(!anomaly("otv", &run(&[(1, 11), (2, 19)])).0);
    }

    #[test]
    fn pmp_flags_a_phantom() {
        let run = |second: &[(i64, i64)]| {
            steps(&[
                ("t1", "select * from test where value = 30", rows(&[]), true),
                (
                    "t1",
                    "select * from test where value % 3 = 0",
                    rows(second),
                    true,
                ),
            ])
        };
        assert!(anomaly("pmp", &run(&[(3, 30)])).0);
        assert!(!anomaly("pmp", &run(&[])).0);
    }

    #[test]
    fn pmp_write_compares_t2s_read_with_the_order_its_delete_implies() {
        let run = |read: &[(i64, i64)], fin: &[(i64, i64)]| {
            steps(&[
                (
                    "t1",
                    "update test set value = value + 10",
                    Reply::Affected { rows: 2 },
                    true,
                ),
                ("t2", "select * from test", rows(read), true),
                (
                    "t2",
                    "delete from test where value = 20",
                    Reply::Affected { rows: 1 },
                    true,
                ),
                ("t1", "commit", OK, true),
                ("t2", "commit", OK, true),
                ("t0", "select * from test", rows(fin), false),
            ])
        };
        assert!(anomaly("pmp-write", &run(&[(1, 10), (2, 20)], &[(2, 30)])).0);
        assert!(anomaly("pmp-write", &run(&[(1, 10), (2, 20)], &[])).0);
        // Counterexamples: T2 read after T1 and deleted after T1; or read before and deleted before.
        assert!(!anomaly("pmp-write", &run(&[(1, 20), (2, 30)], &[(2, 30)])).0);
        assert!(!anomaly("pmp-write", &run(&[(1, 10), (2, 20)], &[(1, 20)])).0);
    }

    #[test]
    fn p4_needs_both_writes_committed() {
        let run = |second_commit: Reply| {
            steps(&[
                (
                    "t1",
                    "select * from test where id = 1",
                    rows(&[(1, 10)]),
                    true,
                ),
                (
                    "t2",
                    "select * from test where id = 1",
                    rows(&[(1, 10)]),
                    true,
                ),
                (
                    "t1",
                    "update test set value = 11 where id = 1",
                    Reply::Affected { rows: 1 },
                    true,
                ),
                (
                    "t2",
                    "update test set value = 11 where id = 1",
                    Reply::Affected { rows: 0 },
                    true,
                ),
                ("t1", "commit", OK, true),
                ("t2", "commit", second_commit, true),
            ])
        };
        assert!(anomaly("p4", &run(OK)).0);
        let mut lost = run(OK);
        lost[3].reply = Some(Reply::Error { code: 1213 });
        lost[5].in_txn = false;
        assert!(!anomaly("p4", &lost).0);
    }

    #[test]
    fn g_single_rules_look_for_both_sides_of_t2() {
        let run = |a, b| {
            steps(&[
                (
                    "t1",
                    "select * from test where id = 1",
                    rows(&[(1, a)]),
                    true,
                ),
                (
                    "t1",
                    "select * from test where id = 2",
                    rows(&[(2, b)]),
                    true,
                ),
            ])
        };
        assert!(anomaly("g-single", &run(10, 18)).0);
        assert!(!anomaly("g-single", &run(10, 20)).0);
        let dep = |second: &[(i64, i64)]| {
            steps(&[
                (
                    "t1",
                    "select * from test where value % 5 = 0",
                    rows(&[(1, 10), (2, 20)]),
                    true,
                ),
                (
                    "t1",
                    "select * from test where value % 3 = 0",
                    rows(second),
                    true,
                ),
            ])
        };
        assert!(anomaly("g-single-dependencies", &dep(&[(1, 12)])).0);
        assert!(!anomaly("g-single-dependencies", &dep(&[])).0);
    }

    #[test]
    fn g_single_write_looks_at_the_delete() {
        let run = |deleted: Reply, in_txn: bool| {
            steps(&[
                (
                    "t1",
                    "select * from test where id = 1",
                    rows(&[(1, 10)]),
                    true,
                ),
                ("t1", "delete from test where value = 20", deleted, in_txn),
            ])
        };
        assert!(anomaly("g-single-write-1", &run(Reply::Affected { rows: 0 }, true)).0);
        assert!(!anomaly("g-single-write-1", &run(Reply::Affected { rows: 1 }, true)).0);
        assert!(!anomaly("g-single-write-2", &run(Reply::Error { code: 1213 }, true)).0);
    }

    #[test]
    fn write_skew_rules_need_both_commits() {
        let run = |c2: bool| {
            steps(&[
                (
                    "t1",
                    "select * from test where id in (1, 2)",
                    rows(&[(1, 10), (2, 20)]),
                    true,
                ),
                (
                    "t2",
                    "select * from test where id in (1, 2)",
                    rows(&[(1, 10), (2, 20)]),
                    true,
                ),
                (
                    "t1",
                    "update test set value = 11 where id = 1",
                    Reply::Affected { rows: 1 },
                    true,
                ),
                (
                    "t2",
                    "update test set value = 21 where id = 2",
                    Reply::Affected { rows: 1 },
                    true,
                ),
                ("t1", "commit", OK, true),
                ("t2", "commit", OK, c2),
            ])
        };
        assert!(anomaly("g2-item", &run(true)).0);
        assert!(!anomaly("g2-item", &run(false)).0);
        let g2 = |second_insert: Reply| {
            steps(&[
                (
                    "t1",
                    "select * from test where value % 3 = 0",
                    rows(&[]),
                    true,
                ),
                (
                    "t2",
                    "select * from test where value % 3 = 0",
                    rows(&[]),
                    true,
                ),
                (
                    "t1",
                    "insert into test (id, value) values (3, 30)",
                    Reply::Affected { rows: 1 },
                    true,
                ),
                (
                    "t2",
                    "insert into test (id, value) values (4, 42)",
                    second_insert,
                    true,
                ),
                ("t1", "commit", OK, true),
                ("t2", "commit", OK, true),
            ])
        };
        assert!(anomaly("g2", &g2(Reply::Affected { rows: 1 })).0);
        assert!(!anomaly("g2", &g2(Reply::Error { code: 1213 })).0);
    }

    #[test]
    fn g2_two_edges_needs_the_read_only_witness() {
        let run = |t3: &[(i64, i64)]| {
            steps(&[
                ("t1", "select * from test", rows(&[(1, 10), (2, 20)]), true),
                ("t2", "commit", OK, true),
                ("t3", "select * from test", rows(t3), true),
                ("t3", "commit", OK, true),
                ("t1", "commit", OK, true),
            ])
        };
        assert!(anomaly("g2-two-edges", &run(&[(1, 10), (2, 25)])).0);
        assert!(!anomaly("g2-two-edges", &run(&[(1, 10), (2, 20)])).0);
    }

    #[test]
    fn an_unknown_test_is_never_an_anomaly() {
        assert!(!anomaly("nope", &[]).0);
    }
}
