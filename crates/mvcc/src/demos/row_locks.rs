//! mysql-19: InnoDB's lock modes, the compatibility rules, and next-key locks against phantoms.

use catalog::{Ctx, DemoError, check, check_eq};

use crate::demos::{disagreements, run_model, run_server, schedule};
use crate::engine::{Engine, Level, LockInfo, Options, Response};
use crate::hermitage::{Cell, SETUP_ROWS, Schedule};
use crate::lock::{LockMode, Pos, RecKind, compatible, rec_has_to_wait};
use crate::sql::Statement;

/// Every shape a record lock takes (an insert intention is always X).
const RECORD_SHAPES: [(LockMode, RecKind); 7] = [
    (LockMode::S, RecKind::RecNotGap),
    (LockMode::X, RecKind::RecNotGap),
    (LockMode::S, RecKind::Gap),
    (LockMode::X, RecKind::Gap),
    (LockMode::S, RecKind::NextKey),
    (LockMode::X, RecKind::NextKey),
    (LockMode::X, RecKind::InsertIntention),
];

/// A lock as the demo compares it: where, which mode, which shape.
type Held = (Pos, LockMode, RecKind);

fn shape(m: LockMode, k: RecKind) -> String {
    format!("{} {}", m.name(), k.name())
}

/// The locks one statement leaves, run alone on hermitage's table at `level`.
fn locks_after(level: Level, sql: &str) -> Result<Vec<LockInfo>, DemoError> {
    let mut e = Engine::with_rows(Options::default(), &SETUP_ROWS);
    let s = e.open_session(level);
    for text in ["begin", sql] {
        let st = Statement::parse(text).map_err(|err| DemoError::Broken(err.to_string()))?;
        if let Response::Blocked { .. } = e.submit(s, st) {
            return Err(DemoError::Broken(format!("{text} blocked alone")));
        }
    }
    Ok(e.locks())
}

pub(crate) fn compatibility_matrix(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    ctx.say("table locks (row: held by another transaction, column: requested):");
    let mut head = String::from("          ");
    for m in LockMode::ALL {
        head.push_str(&format!("{:>9}", m.name()));
    }
    ctx.say(head);
    for held in LockMode::ALL {
        let mut row = format!("{:>9} ", held.name());
        for req in LockMode::ALL {
            row.push_str(&format!(
                "{:>9}",
                if compatible(held, req) {
                    "ok"
                } else {
                    "conflict"
                }
            ));
        }
        ctx.say(row);
    }
    for a in LockMode::ALL {
        for b in LockMode::ALL {
            check_eq!(
                compatible(a, b),
                compatible(b, a),
                "symmetry of {a:?}/{b:?}"
            );
        }
        check!(!compatible(LockMode::X, a), "X coexists with {a:?}");
    }
    for (a, b) in [
        (LockMode::IS, LockMode::IX),
        (LockMode::IX, LockMode::IX),
        (LockMode::IS, LockMode::S),
    ] {
        check!(compatible(a, b), "{a:?} conflicts with {b:?}");
    }
    check!(!compatible(LockMode::S, LockMode::IX), "S and IX coexist");

    ctx.say("record locks on one record (row: held by another transaction, column: requested; W = must wait):");
    let mut head = String::from("                        ");
    for (m, k) in RECORD_SHAPES.iter() {
        head.push_str(&format!("{:>6}", format!("{}{}", m.name(), &k.name()[..1])));
    }
    ctx.say(head.clone());
    for (hm, hk) in RECORD_SHAPES.iter() {
        let mut row = format!("{:>22}  ", shape(*hm, *hk));
        for (rm, rk) in RECORD_SHAPES.iter() {
            row.push_str(&format!(
                "{:>6}",
                if rec_has_to_wait(*rm, *rk, false, *hm, *hk) {
                    "W"
                } else {
                    "."
                }
            ));
        }
        ctx.say(row);
    }
    ctx.say("  (column letters: r record-only, g gap, n next-key, i insert-intention)");
    for (hm, hk) in RECORD_SHAPES {
        for (rm, rk) in RECORD_SHAPES {
            let w = rec_has_to_wait(rm, rk, false, hm, hk);
            if rk == RecKind::Gap {
                check!(!w, "a gap request waited for {}", shape(hm, hk));
            }
            if rk == RecKind::InsertIntention {
                let gap_part = matches!(hk, RecKind::Gap | RecKind::NextKey);
                check_eq!(w, gap_part, "insert intention vs {}", shape(hm, hk));
            }
            if hk == RecKind::Gap && rk != RecKind::InsertIntention {
                check!(!w, "{} waited for a gap lock", shape(rm, rk));
            }
        }
    }

    // What the model's statements lock, alone on {1=>10, 2=>20}.
    let cases: [(Level, &str, Vec<Held>); 5] = [
        (
            Level::RepeatableRead,
            "select * from test where id = 2 for update",
            vec![(Pos::Rec(2), LockMode::X, RecKind::RecNotGap)],
        ),
        (
            Level::RepeatableRead,
            "select * from test where id > 1 for update",
            vec![
                (Pos::Rec(2), LockMode::X, RecKind::NextKey),
                (Pos::Supremum, LockMode::X, RecKind::NextKey),
            ],
        ),
        (
            Level::RepeatableRead,
            "select * from test where id = 5 lock in share mode",
            vec![(Pos::Supremum, LockMode::S, RecKind::NextKey)],
        ),
        (
            Level::RepeatableRead,
            "update test set value = 0 where value = 20",
            vec![
                (Pos::Rec(1), LockMode::X, RecKind::NextKey),
                (Pos::Rec(2), LockMode::X, RecKind::NextKey),
                (Pos::Supremum, LockMode::X, RecKind::NextKey),
            ],
        ),
        (
            Level::ReadCommitted,
            "update test set value = 0 where value = 20",
            vec![(Pos::Rec(2), LockMode::X, RecKind::RecNotGap)],
        ),
    ];
    for (level, sql, want) in cases {
        let got: Vec<Held> = locks_after(level, sql)?
            .into_iter()
            .map(|l| (l.pos, l.mode, l.kind))
            .collect();
        let shown: Vec<String> = got
            .iter()
            .map(|(p, m, k)| format!("{} {p}", shape(*m, *k)))
            .collect();
        ctx.say(format!(
            "{:>16}: {sql}  ->  {}",
            level.name(),
            shown.join(", ")
        ));
        check_eq!(got, want, "locks of `{sql}` at {level}");
    }
    Ok(())
}

const HOLDERS: [(&str, &str); 4] = [
    (
        "S on id=1",
        "select * from test where id = 1 lock in share mode",
    ),
    ("X on id=1", "select * from test where id = 1 for update"),
    (
        "X id>1 (next-key)",
        "select * from test where id > 1 for update",
    ),
    (
        "X gap (id=5 absent)",
        "select * from test where id = 5 for update",
    ),
];

const REQUESTS: [(&str, &str); 5] = [
    (
        "S id=1",
        "select * from test where id = 1 lock in share mode",
    ),
    ("X id=1", "select * from test where id = 1 for update"),
    ("insert 3", "insert into test (id, value) values (3, 30)"),
    ("X gap id=6", "select * from test where id = 6 for update"),
    ("update id=2", "update test set value = 0 where id = 2"),
];

fn pair_schedule(holder: &str, request: &str) -> Result<Schedule, DemoError> {
    schedule(
        "pair",
        &format!("t1: begin\nt2: begin\nt1: {holder}\nt2: {request}\nt1: rollback\nt2: rollback\n"),
    )
}

/// Whether the requester (step 4) waited.
fn waited(cell: &Cell) -> bool {
    cell.steps.get(3).is_some_and(|s| s.blocked)
}

pub(crate) fn conflicts_match_the_server(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let mut plan = Vec::new();
    for (_, h) in HOLDERS {
        for (_, r) in REQUESTS {
            plan.push(pair_schedule(h, r)?);
        }
    }
    let jobs: Vec<(&Schedule, Level)> = plan.iter().map(|s| (s, Level::RepeatableRead)).collect();
    let server = run_server(ctx, &jobs)?;
    let model = run_model(&jobs, Options::default());
    ctx.say("REPEATABLE READ; T1 holds (row), T2 asks (column); W = T2 waited on the server:");
    let mut head = format!("{:>22}", "");
    for (name, _) in REQUESTS {
        head.push_str(&format!("{name:>13}"));
    }
    ctx.say(head);
    for (i, (hname, _)) in HOLDERS.iter().enumerate() {
        let mut row = format!("{hname:>22}");
        for j in 0..REQUESTS.len() {
            row.push_str(&format!(
                "{:>13}",
                if waited(&server[i * REQUESTS.len() + j]) {
                    "W"
                } else {
                    "."
                }
            ));
        }
        ctx.say(row);
    }
    let diffs = disagreements(&model, &server);
    check!(
        diffs.is_empty(),
        "model and server differ:\n{}",
        diffs.join("\n")
    );
    let waits = server.iter().filter(|c| waited(c)).count();
    check!(
        waits > 0 && waits < server.len(),
        "the matrix should hold both waits and non-waits, got {waits} of {}",
        server.len()
    );
    ctx.say(format!(
        "the model predicted all {} outcomes ({waits} waits)",
        server.len()
    ));
    Ok(())
}

const PHANTOM: &str = "\
# phantom: a locking range read, then an insert into the range
t1: begin
t2: begin
t1: select * from test where id > 1 for update
t2: insert into test (id, value) values (3, 30)
t1: select * from test where id > 1 for update
t1: commit
t2: commit
";

const POINT: &str = "\
# point: a unique lookup locks the record only
t1: begin
t2: begin
t1: select * from test where id = 2 for update
t2: insert into test (id, value) values (3, 30)
t1: commit
t2: commit
";

pub(crate) fn next_key_blocks_phantom(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let range = schedule("phantom", PHANTOM)?;
    let point = schedule("point", POINT)?;
    let jobs = [
        (&range, Level::RepeatableRead),
        (&range, Level::ReadCommitted),
        (&point, Level::RepeatableRead),
    ];
    let server = run_server(ctx, &jobs)?;
    let model = run_model(&jobs, Options::default());
    for c in &server {
        ctx.say(crate::hermitage::report::details(c));
    }
    let diffs = disagreements(&model, &server);
    check!(
        diffs.is_empty(),
        "model and server differ:\n{}",
        diffs.join("\n")
    );
    let insert = |c: &Cell| c.steps[3].clone();
    let rr = insert(&server[0]);
    check!(
        rr.blocked,
        "at REPEATABLE READ the insert into id>1 did not wait"
    );
    check_eq!(
        rr.finished_after,
        Some(6),
        "the insert ends after T1's commit (step 6)"
    );
    // T1's second range read shows no phantom: the insert could not get in.
    let reread = server[0].steps[4].reply.clone();
    check_eq!(
        reread,
        server[0].steps[2].reply.clone(),
        "T1's two range reads at RR"
    );
    let rc = insert(&server[1]);
    check!(!rc.blocked, "at READ COMMITTED the insert waited");
    let rc_reread = server[1].steps[4].reply.clone();
    check!(
        rc_reread != server[1].steps[2].reply,
        "at READ COMMITTED the second locking read should see the phantom row 3"
    );
    let pt = insert(&server[2]);
    check!(
        !pt.blocked,
        "a point lock on id=2 blocked the insert of id=3"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_requester_that_waits_is_read_from_step_four() {
        let s = pair_schedule(HOLDERS[1].1, REQUESTS[0].1).unwrap();
        let cell = &run_model(&[(&s, Level::RepeatableRead)], Options::default())[0];
        assert!(waited(cell));
        // Counterexample: two shared locks coexist.
        let s = pair_schedule(HOLDERS[0].1, REQUESTS[0].1).unwrap();
        let cell = &run_model(&[(&s, Level::RepeatableRead)], Options::default())[0];
        assert!(!waited(cell));
    }
}
