//! Hermitage results as text: the tests × levels table of hermitage's README, a cell's steps,
//! and the differences between two targets.

use std::fmt::Write as _;

use crate::engine::Level;
use crate::hermitage::{Cell, differences};

/// The word for a verdict in the table.
fn word(anomaly: bool) -> &'static str {
    if anomaly { "anomaly" } else { "prevented" }
}

fn find<'a>(cells: &'a [Cell], test: &str, level: Level) -> Option<&'a Cell> {
    cells.iter().find(|c| c.test == test && c.level == level)
}

/// Tests × levels. With two targets, a cell where they disagree shows both verdicts.
pub fn table(tests: &[String], levels: &[Level], a: &[Cell], b: Option<&[Cell]>) -> String {
    let first = tests.iter().map(String::len).max().unwrap_or(4).max(4);
    let width = 17;
    let mut out = String::new();
    let _ = write!(out, "{:first$}", "test");
    for l in levels {
        let _ = write!(out, "  {:width$}", l.name());
    }
    out.push('\n');
    let _ = write!(out, "{}", "-".repeat(first));
    for _ in levels {
        let _ = write!(out, "  {}", "-".repeat(width));
    }
    out.push('\n');
    for t in tests {
        let _ = write!(out, "{t:first$}");
        for &l in levels {
            let x = find(a, t, l);
            let y = b.and_then(|b| find(b, t, l));
            let text = match (x, y) {
                (Some(x), None) => word(x.anomaly).to_string(),
                (Some(x), Some(y)) if differences(x, y).is_empty() => word(x.anomaly).to_string(),
                (Some(x), Some(y)) => format!(
                    "≠ {}:{} {}:{}",
                    x.target,
                    if x.anomaly { "A" } else { "P" },
                    y.target,
                    if y.anomaly { "A" } else { "P" }
                ),
                _ => "-".to_string(),
            };
            let _ = write!(out, "  {text:width$}");
        }
        out.push('\n');
    }
    out
}

/// One cell's steps, in schedule order, with the order they were sent and what each returned.
pub fn details(cell: &Cell) -> String {
    let mut out = String::new();
    let verdict = if crate::hermitage::verdict::has_rule(&cell.test) {
        format!(": {} ({})", word(cell.anomaly), cell.why)
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "{} at {} on the {}{verdict} [{} ms]",
        cell.test, cell.level, cell.target, cell.millis
    );
    let sql_width = cell.steps.iter().map(|s| s.sql.len()).max().unwrap_or(10);
    for s in &cell.steps {
        let control = matches!(s.sql.as_str(), "begin" | "start transaction");
        let mut notes = Vec::new();
        if s.deferred {
            notes.push(format!(
                "sent #{} (waited for its own earlier step)",
                s.sent_as
            ));
        }
        if !s.in_txn && !control {
            notes.push("autocommit".to_string());
        }
        let _ = writeln!(
            out,
            "  {:>2}. {}: {:sql_width$}  -> {}{}",
            s.n,
            s.txn,
            s.sql,
            s.outcome(),
            if notes.is_empty() {
                String::new()
            } else {
                format!("   [{}]", notes.join("; "))
            }
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Options;
    use crate::hermitage::{model::ModelTarget, now, run_cell, schedule};

    #[test]
    fn the_table_has_a_row_per_test_and_marks_disagreements() {
        let s = schedule::by_name("g1a").unwrap();
        let mut m = ModelTarget::new(Options::default());
        let a: Vec<Cell> = Level::ALL
            .iter()
            .map(|&l| now(run_cell(&mut m, &s, l)).unwrap())
            .collect();
        let t = table(&["g1a".into()], &Level::ALL, &a, Some(&a));
        assert!(t.contains("read uncommitted"));
        assert!(t.lines().nth(2).unwrap().starts_with("g1a"));
        assert!(!t.contains('≠'));
        let mut b = a.clone();
        b[0].anomaly = !b[0].anomaly;
        b[0].target = "server".into();
        let t = table(&["g1a".into()], &Level::ALL, &a, Some(&b));
        assert!(t.contains('≠'), "{t}");
        let d = details(&a[0]);
        assert!(d.contains("t2: select * from test"), "{d}");
    }
}
