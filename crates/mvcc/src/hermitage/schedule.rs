//! Hermitage's interleavings as small text files, one per test (`crates/mvcc/hermitage/*.txt`).
//!
//! ```text
//!   # g1a: aborted read (Adya G1a)          comment lines; the first one is the title
//!   t1: begin                               <transaction>: <statement>
//!   t2: begin
//!   t1: update test set value = 101 where id = 1
//!   t2: select * from test
//!   [serializable]                          optional: a schedule used only at these levels
//! ```
//!
//! Each `tN` is one client connection; `t0` by convention never begins a transaction and is used
//! for final autocommit reads. When a file has `[level, ...]` headers, every level must be covered
//! by exactly one of them (hermitage runs PMP-write and G2-two-edges in a different order at
//! SERIALIZABLE). A line that is not understood is an error naming the file and the line.

use std::fmt;

use crate::engine::Level;
use crate::sql::Statement;

/// One line of a schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// 1-based line in the file.
    pub line: usize,
    /// `t1`, `t2`, ...
    pub txn: String,
    pub stmt: Statement,
    /// The statement as written (after `tN:`).
    pub text: String,
}

/// The steps used at some levels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    pub levels: Vec<Level>,
    pub steps: Vec<Step>,
}

/// One hermitage test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// The file name without `.txt`: `g1a`, `pmp-write`, ...
    pub name: String,
    /// The first comment line, without `# `.
    pub title: String,
    /// The other comment lines at the top.
    pub about: Vec<String>,
    pub variants: Vec<Variant>,
}

/// A schedule file that could not be read: names the file and the line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ScheduleError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ScheduleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}:{}: {}", self.file, self.line, self.message)
        }
    }
}

/// The 15 tests, in the order hermitage's README lists them.
pub const ORDER: [&str; 15] = [
    "g0",
    "g1a",
    "g1b",
    "g1c",
    "otv",
    "pmp",
    "pmp-write",
    "p4",
    "g-single",
    "g-single-dependencies",
    "g-single-write-1",
    "g-single-write-2",
    "g2-item",
    "g2",
    "g2-two-edges",
];

const FILES: [(&str, &str); 15] = [
    ("g0", include_str!("../../hermitage/g0.txt")),
    ("g1a", include_str!("../../hermitage/g1a.txt")),
    ("g1b", include_str!("../../hermitage/g1b.txt")),
    ("g1c", include_str!("../../hermitage/g1c.txt")),
    ("otv", include_str!("../../hermitage/otv.txt")),
    ("pmp", include_str!("../../hermitage/pmp.txt")),
    ("pmp-write", include_str!("../../hermitage/pmp-write.txt")),
    ("p4", include_str!("../../hermitage/p4.txt")),
    ("g-single", include_str!("../../hermitage/g-single.txt")),
    (
        "g-single-dependencies",
        include_str!("../../hermitage/g-single-dependencies.txt"),
    ),
    (
        "g-single-write-1",
        include_str!("../../hermitage/g-single-write-1.txt"),
    ),
    (
        "g-single-write-2",
        include_str!("../../hermitage/g-single-write-2.txt"),
    ),
    ("g2-item", include_str!("../../hermitage/g2-item.txt")),
    ("g2", include_str!("../../hermitage/g2.txt")),
    (
        "g2-two-edges",
        include_str!("../../hermitage/g2-two-edges.txt"),
    ),
];

/// The 15 built-in schedules (embedded at build time), in [`ORDER`].
pub fn builtin() -> Vec<Schedule> {
    FILES
        .iter()
        .map(|(name, text)| {
            Schedule::parse(&format!("crates/mvcc/hermitage/{name}.txt"), text)
                .unwrap_or_else(|e| panic!("a built-in schedule does not parse: {e}"))
        })
        .collect()
}

/// One built-in schedule by name (`g1a`, `G1a`, `pmp-write`).
pub fn by_name(name: &str) -> Option<Schedule> {
    let name = name.trim().to_ascii_lowercase();
    builtin().into_iter().find(|s| s.name == name)
}

impl Schedule {
    /// Parses a schedule; `file` names it in errors and gives its name (the file stem).
    pub fn parse(file: &str, text: &str) -> Result<Schedule, ScheduleError> {
        let err = |line: usize, message: String| ScheduleError {
            file: file.to_string(),
            line,
            message,
        };
        let stem = std::path::Path::new(file)
            .file_stem()
            .map_or_else(|| file.to_string(), |s| s.to_string_lossy().into_owned());
        let mut title = None;
        let mut about = Vec::new();
        let mut variants: Vec<Variant> = Vec::new();
        let mut headed = false;
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let trimmed = raw.trim();
            if trimmed.is_empty() {
                continue;
            }
            if let Some(c) = trimmed.strip_prefix('#') {
                let c = c.trim().to_string();
                if variants.is_empty() {
                    if title.is_none() {
                        title = Some(c);
                    } else {
                        about.push(c);
                    }
                }
                continue;
            }
            if let Some(inner) = trimmed.strip_prefix('[') {
                let inner = inner
                    .strip_suffix(']')
                    .ok_or_else(|| err(line, "a level header ends with `]`".into()))?;
                if !headed && variants.iter().any(|v| !v.steps.is_empty()) {
                    return Err(err(
                        line,
                        "steps before the first [levels] header: put every step under a header"
                            .into(),
                    ));
                }
                headed = true;
                let mut levels = Vec::new();
                for name in inner.split(',') {
                    let level = Level::parse(name).ok_or_else(|| {
                        err(
                            line,
                            format!(
                                "{:?} is not an isolation level (read uncommitted, read committed, repeatable read, serializable)",
                                name.trim()
                            ),
                        )
                    })?;
                    if variants.iter().any(|v| v.levels.contains(&level)) || levels.contains(&level)
                    {
                        return Err(err(line, format!("{level} has two schedules")));
                    }
                    levels.push(level);
                }
                variants.push(Variant {
                    levels,
                    steps: Vec::new(),
                });
                continue;
            }
            let (txn, sql) = trimmed
                .split_once(':')
                .ok_or_else(|| err(line, "expected `tN: <statement>`".into()))?;
            let txn = txn.trim().to_ascii_lowercase();
            let numbered = txn
                .strip_prefix('t')
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
            if !numbered {
                return Err(err(
                    line,
                    format!(
                        "{txn:?} is not a transaction name like t1, t2 (t0 for autocommit reads)"
                    ),
                ));
            }
            let sql = sql.trim();
            let stmt = Statement::parse(sql).map_err(|e| err(line, e.to_string()))?;
            if variants.is_empty() {
                variants.push(Variant {
                    levels: Level::ALL.to_vec(),
                    steps: Vec::new(),
                });
            }
            let v = variants.last_mut().expect("a variant exists");
            v.steps.push(Step {
                line,
                txn,
                stmt,
                text: sql.trim_end_matches(';').to_string(),
            });
        }
        if variants.iter().all(|v| v.steps.is_empty()) {
            return Err(err(0, "no steps".into()));
        }
        if let Some(v) = variants.iter().find(|v| v.steps.is_empty()) {
            return Err(err(
                0,
                format!("the schedule for {:?} has no steps", v.levels),
            ));
        }
        for level in Level::ALL {
            if !variants.iter().any(|v| v.levels.contains(&level)) {
                return Err(err(0, format!("no schedule for {level}")));
            }
        }
        Ok(Schedule {
            name: stem,
            title: title.unwrap_or_default(),
            about,
            variants,
        })
    }

    /// The steps run at `level`.
    pub fn steps(&self, level: Level) -> &[Step] {
        self.variants
            .iter()
            .find(|v| v.levels.contains(&level))
            .map_or(&[], |v| v.steps.as_slice())
    }

    /// The transactions of the steps at `level`, in order of first appearance.
    pub fn txns(&self, level: Level) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for s in self.steps(level) {
            if !out.contains(&s.txn) {
                out.push(s.txn.clone());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_fifteen_parse_in_hermitage_order() {
        let all = builtin();
        assert_eq!(all.len(), 15);
        for (s, name) in all.iter().zip(ORDER) {
            assert_eq!(s.name, name);
            assert!(s.title.starts_with(name), "{}: title {:?}", s.name, s.title);
            for level in Level::ALL {
                assert!(!s.steps(level).is_empty());
            }
        }
        let pmpw = by_name("PMP-write").unwrap();
        assert_eq!(pmpw.variants.len(), 2);
        assert_ne!(
            pmpw.steps(Level::Serializable),
            pmpw.steps(Level::RepeatableRead)
        );
        assert_eq!(
            by_name("otv").unwrap().txns(Level::ReadCommitted),
            ["t1", "t2", "t3"]
        );
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let e =
            Schedule::parse("x/bad.txt", "# t\nt1: begin\nt2: selec * from test\n").unwrap_err();
        assert_eq!((e.file.as_str(), e.line), ("x/bad.txt", 3));
        assert!(e.to_string().starts_with("x/bad.txt:3: "), "{e}");
        let e = Schedule::parse("b.txt", "T: begin").unwrap_err();
        assert_eq!(e.line, 1);
        let e = Schedule::parse("b.txt", "t1 begin").unwrap_err();
        assert!(e.message.contains("tN:"), "{e}");
        let e = Schedule::parse("b.txt", "[serializable]\nt1: begin\n").unwrap_err();
        assert!(
            e.message.contains("no schedule for read uncommitted"),
            "{e}"
        );
        let e = Schedule::parse("b.txt", "[serializable, serializable]\nt1: begin\n").unwrap_err();
        assert!(e.message.contains("two schedules"), "{e}");
        let e = Schedule::parse("b.txt", "# only a comment\n").unwrap_err();
        assert!(e.message.contains("no steps"), "{e}");
        let e = Schedule::parse("b.txt", "t1: begin\n[serializable]\nt1: begin\n").unwrap_err();
        assert_eq!(e.line, 2);
    }
}
