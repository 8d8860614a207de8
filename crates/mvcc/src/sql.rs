//! The SQL the model understands: exactly what the hermitage schedules and the demos send.
//!
//! ```text
//!   BEGIN | START TRANSACTION | COMMIT | ROLLBACK
//!   SELECT * FROM test [WHERE cond] [FOR UPDATE | FOR SHARE | LOCK IN SHARE MODE]
//!   UPDATE test SET value = n | value = value (+|-) n [WHERE cond]
//!   DELETE FROM test [WHERE cond]
//!   INSERT INTO test [(id, value)] VALUES (n, n) [, (n, n) ...]
//!
//!   cond:  id = n | id IN (n, ...) | id > n | id >= n
//!        | value = n | value <> n | value > n | value < n | value % n = m
//! ```
//!
//! Keywords are case-insensitive and a trailing `;` is allowed. The table is always called `test`
//! in scripts; [`Statement::to_sql`] renders a statement for the real server under any table name.
//! What the parser accepts is also what the model can plan: `id` conditions use the primary key
//! (one unique lookup per value, or a range from the bound), `value` conditions scan the whole
//! clustered index, as they do on the server (`value` has no index).

use std::fmt;

use serde::Serialize;

use crate::version::Key;

/// How a SELECT locks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadLock {
    /// A consistent (non-locking) read, unless SERIALIZABLE turns it into a shared one.
    None,
    /// `LOCK IN SHARE MODE` / `FOR SHARE`: S locks.
    Share,
    /// `FOR UPDATE`: X locks.
    Update,
}

/// A WHERE condition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cond {
    IdEq(Key),
    IdIn(Vec<Key>),
    IdGt(Key),
    IdGe(Key),
    ValueEq(i64),
    ValueNe(i64),
    ValueGt(i64),
    ValueLt(i64),
    /// `value % modulus = rest` (SQL's `%` keeps the sign of the dividend, as Rust's does).
    ValueMod {
        modulus: i64,
        rest: i64,
    },
}

impl Cond {
    /// Whether a row matches.
    pub fn matches(&self, id: Key, value: i64) -> bool {
        match self {
            Cond::IdEq(k) => id == *k,
            Cond::IdIn(ks) => ks.contains(&id),
            Cond::IdGt(k) => id > *k,
            Cond::IdGe(k) => id >= *k,
            Cond::ValueEq(v) => value == *v,
            Cond::ValueNe(v) => value != *v,
            Cond::ValueGt(v) => value > *v,
            Cond::ValueLt(v) => value < *v,
            Cond::ValueMod { modulus, rest } => *modulus != 0 && value % modulus == *rest,
        }
    }
}

/// The right-hand side of `SET value = ...`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SetValue {
    /// `value = n`: a value the client computed.
    Const(i64),
    /// `value = value + n` (n may be negative): computed by the server from the row it locked.
    Add(i64),
}

impl SetValue {
    pub fn apply(self, old: i64) -> i64 {
        match self {
            SetValue::Const(n) => n,
            SetValue::Add(n) => old + n,
        }
    }
}

/// One statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Statement {
    Begin,
    Commit,
    Rollback,
    Select {
        filter: Option<Cond>,
        lock: ReadLock,
    },
    Update {
        set: SetValue,
        filter: Option<Cond>,
    },
    Delete {
        filter: Option<Cond>,
    },
    Insert {
        rows: Vec<(Key, i64)>,
    },
}

/// Why a line is not a statement the lab knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (near {near:?})")]
pub struct ParseError {
    pub message: String,
    /// The text where parsing stopped.
    pub near: String,
}

impl Statement {
    /// Parses one statement.
    pub fn parse(text: &str) -> Result<Statement, ParseError> {
        let toks = tokenize(text)?;
        let mut p = Parser { toks, at: 0 };
        let st = p.statement()?;
        if p.peek() == Some(";") {
            p.at += 1;
        }
        if let Some(rest) = p.peek() {
            return Err(p.error(&format!("unexpected {rest:?} after the statement")));
        }
        Ok(st)
    }

    /// The SQL for a real server, with `table` as the table name. Locking reads are spelled
    /// `LOCK IN SHARE MODE`, which MySQL 8 and MariaDB 10.11 both accept (MariaDB has no `FOR SHARE`).
    pub fn to_sql(&self, table: &str) -> String {
        let filter = |f: &Option<Cond>| match f {
            Some(c) => format!(" WHERE {}", cond_sql(c)),
            None => String::new(),
        };
        match self {
            Statement::Begin => "BEGIN".into(),
            Statement::Commit => "COMMIT".into(),
            Statement::Rollback => "ROLLBACK".into(),
            Statement::Select { filter: f, lock } => format!(
                "SELECT id, value FROM {table}{}{} ",
                filter(f),
                match lock {
                    ReadLock::None => "",
                    ReadLock::Share => " LOCK IN SHARE MODE",
                    ReadLock::Update => " FOR UPDATE",
                }
            )
            .trim_end()
            .to_string(),
            Statement::Update { set, filter: f } => {
                let set = match set {
                    SetValue::Const(n) => n.to_string(),
                    SetValue::Add(n) if *n < 0 => format!("value - {}", -n),
                    SetValue::Add(n) => format!("value + {n}"),
                };
                format!("UPDATE {table} SET value = {set}{}", filter(f))
            }
            Statement::Delete { filter: f } => format!("DELETE FROM {table}{}", filter(f)),
            Statement::Insert { rows } => {
                let rows: Vec<String> = rows.iter().map(|(i, v)| format!("({i}, {v})")).collect();
                format!("INSERT INTO {table} (id, value) VALUES {}", rows.join(", "))
            }
        }
    }

    /// Whether it reads rows (and so returns a result set).
    pub fn is_select(&self) -> bool {
        matches!(self, Statement::Select { .. })
    }
}

impl fmt::Display for Statement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sql = self.to_sql("test");
        f.write_str(
            &sql.replacen("SELECT id, value FROM", "SELECT * FROM", 1)
                .to_lowercase(),
        )
    }
}

fn cond_sql(c: &Cond) -> String {
    match c {
        Cond::IdEq(k) => format!("id = {k}"),
        Cond::IdIn(ks) => {
            let ks: Vec<String> = ks.iter().map(|k| k.to_string()).collect();
            format!("id IN ({})", ks.join(", "))
        }
        Cond::IdGt(k) => format!("id > {k}"),
        Cond::IdGe(k) => format!("id >= {k}"),
        Cond::ValueEq(v) => format!("value = {v}"),
        Cond::ValueNe(v) => format!("value <> {v}"),
        Cond::ValueGt(v) => format!("value > {v}"),
        Cond::ValueLt(v) => format!("value < {v}"),
        Cond::ValueMod { modulus, rest } => format!("value % {modulus} = {rest}"),
    }
}

fn tokenize(text: &str) -> Result<Vec<String>, ParseError> {
    let mut toks = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c.is_ascii_alphanumeric() || c == '_' {
            let mut t = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_ascii_alphanumeric() || c == '_' {
                    t.push(c.to_ascii_lowercase());
                    chars.next();
                } else {
                    break;
                }
            }
            toks.push(t);
        } else if c == '<' || c == '>' || c == '!' {
            chars.next();
            let mut t = c.to_string();
            if let Some(&n) = chars.peek()
                && (n == '=' || (c == '<' && n == '>'))
            {
                t.push(n);
                chars.next();
            }
            toks.push(t);
        } else if "=,();*%+-".contains(c) {
            toks.push(c.to_string());
            chars.next();
        } else {
            return Err(ParseError {
                message: format!("unexpected character {c:?}"),
                near: chars.collect(),
            });
        }
    }
    Ok(toks)
}

struct Parser {
    toks: Vec<String>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&str> {
        self.toks.get(self.at).map(String::as_str)
    }

    fn error(&self, message: &str) -> ParseError {
        ParseError {
            message: message.to_string(),
            near: self.toks[self.at.min(self.toks.len())..].join(" "),
        }
    }

    fn eat(&mut self, word: &str) -> bool {
        if self.peek() == Some(word) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, word: &str) -> Result<(), ParseError> {
        if self.eat(word) {
            Ok(())
        } else {
            Err(self.error(&format!("expected {word:?}")))
        }
    }

    fn number(&mut self) -> Result<i64, ParseError> {
        let neg = self.eat("-");
        match self.peek().and_then(|t| t.parse::<i64>().ok()) {
            Some(n) => {
                self.at += 1;
                Ok(if neg { -n } else { n })
            }
            None => Err(self.error("expected a number")),
        }
    }

    fn table(&mut self) -> Result<(), ParseError> {
        if self.eat("test") {
            Ok(())
        } else {
            Err(self.error("the table is always `test` in the lab's scripts"))
        }
    }

    fn statement(&mut self) -> Result<Statement, ParseError> {
        match self.peek() {
            Some("begin") => {
                self.at += 1;
                Ok(Statement::Begin)
            }
            Some("start") => {
                self.at += 1;
                self.expect("transaction")?;
                Ok(Statement::Begin)
            }
            Some("commit") => {
                self.at += 1;
                Ok(Statement::Commit)
            }
            Some("rollback") => {
                self.at += 1;
                Ok(Statement::Rollback)
            }
            Some("select") => self.select(),
            Some("update") => self.update(),
            Some("delete") => {
                self.at += 1;
                self.expect("from")?;
                self.table()?;
                let filter = self.filter()?;
                Ok(Statement::Delete { filter })
            }
            Some("insert") => self.insert(),
            _ => {
                Err(self
                    .error("expected BEGIN, COMMIT, ROLLBACK, SELECT, UPDATE, DELETE or INSERT"))
            }
        }
    }

    fn select(&mut self) -> Result<Statement, ParseError> {
        self.expect("select")?;
        if !self.eat("*") {
            // `SELECT id, value` is the same thing.
            self.expect("id")?;
            self.expect(",")?;
            self.expect("value")?;
        }
        self.expect("from")?;
        self.table()?;
        let filter = self.filter()?;
        let lock = if self.eat("for") {
            if self.eat("update") {
                ReadLock::Update
            } else if self.eat("share") {
                ReadLock::Share
            } else {
                return Err(self.error("expected UPDATE or SHARE after FOR"));
            }
        } else if self.eat("lock") {
            self.expect("in")?;
            self.expect("share")?;
            self.expect("mode")?;
            ReadLock::Share
        } else {
            ReadLock::None
        };
        Ok(Statement::Select { filter, lock })
    }

    fn update(&mut self) -> Result<Statement, ParseError> {
        self.expect("update")?;
        self.table()?;
        self.expect("set")?;
        self.expect("value")?;
        self.expect("=")?;
        let set = if self.eat("value") {
            if self.eat("+") {
                SetValue::Add(self.number()?)
            } else if self.eat("-") {
                SetValue::Add(-self.number()?)
            } else {
                return Err(self.error("expected + or - after `value`"));
            }
        } else {
            SetValue::Const(self.number()?)
        };
        let filter = self.filter()?;
        Ok(Statement::Update { set, filter })
    }

    fn insert(&mut self) -> Result<Statement, ParseError> {
        self.expect("insert")?;
        self.expect("into")?;
        self.table()?;
        if self.eat("(") {
            self.expect("id")?;
            self.expect(",")?;
            self.expect("value")?;
            self.expect(")")?;
        }
        self.expect("values")?;
        let mut rows = Vec::new();
        loop {
            self.expect("(")?;
            let id = self.number()?;
            self.expect(",")?;
            let value = self.number()?;
            self.expect(")")?;
            rows.push((id, value));
            if !self.eat(",") {
                break;
            }
        }
        Ok(Statement::Insert { rows })
    }

    fn filter(&mut self) -> Result<Option<Cond>, ParseError> {
        if !self.eat("where") {
            return Ok(None);
        }
        let cond = if self.eat("id") {
            if self.eat("=") {
                Cond::IdEq(self.number()?)
            } else if self.eat(">") {
                Cond::IdGt(self.number()?)
            } else if self.eat(">=") {
                Cond::IdGe(self.number()?)
            } else if self.eat("in") {
                self.expect("(")?;
                let mut ks = vec![self.number()?];
                while self.eat(",") {
                    ks.push(self.number()?);
                }
                self.expect(")")?;
                Cond::IdIn(ks)
            } else {
                return Err(self.error(
                    "on id the lab plans =, IN (...), > and >= (other shapes lock differently)",
                ));
            }
        } else if self.eat("value") {
            if self.eat("=") {
                Cond::ValueEq(self.number()?)
            } else if self.eat("<>") || self.eat("!=") {
                Cond::ValueNe(self.number()?)
            } else if self.eat(">") {
                Cond::ValueGt(self.number()?)
            } else if self.eat("<") {
                Cond::ValueLt(self.number()?)
            } else if self.eat("%") {
                let modulus = self.number()?;
                self.expect("=")?;
                let rest = self.number()?;
                Cond::ValueMod { modulus, rest }
            } else {
                return Err(self.error("expected =, <>, >, < or % after `value`"));
            }
        } else {
            return Err(self.error("a condition starts with `id` or `value`"));
        };
        if matches!(self.peek(), Some("and") | Some("or")) {
            return Err(self.error("one condition per WHERE in the lab's SQL"));
        }
        Ok(Some(cond))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_hermitage_sends() {
        assert_eq!(Statement::parse("begin"), Ok(Statement::Begin));
        assert_eq!(Statement::parse("START TRANSACTION;"), Ok(Statement::Begin));
        assert_eq!(
            Statement::parse("update test set value = 11 where id = 1"),
            Ok(Statement::Update {
                set: SetValue::Const(11),
                filter: Some(Cond::IdEq(1))
            })
        );
        assert_eq!(
            Statement::parse("UPDATE test SET value = value + 10"),
            Ok(Statement::Update {
                set: SetValue::Add(10),
                filter: None
            })
        );
        assert_eq!(
            Statement::parse("select * from test where value % 3 = 0"),
            Ok(Statement::Select {
                filter: Some(Cond::ValueMod {
                    modulus: 3,
                    rest: 0
                }),
                lock: ReadLock::None
            })
        );
        assert_eq!(
            Statement::parse("select * from test where id in (1,2) for update"),
            Ok(Statement::Select {
                filter: Some(Cond::IdIn(vec![1, 2])),
                lock: ReadLock::Update
            })
        );
        assert_eq!(
            Statement::parse("insert into test (id, value) values (3, 30), (4, -42)"),
            Ok(Statement::Insert {
                rows: vec![(3, 30), (4, -42)]
            })
        );
        assert_eq!(
            Statement::parse("select * from test where id > 1 lock in share mode"),
            Ok(Statement::Select {
                filter: Some(Cond::IdGt(1)),
                lock: ReadLock::Share
            })
        );
    }

    #[test]
    fn refuses_what_the_model_cannot_plan() {
        for bad in [
            "select * from other",
            "select value from test",
            "update test set id = 3",
            "delete from test where id < 3",
            "select * from test where id = 1 and value = 10",
            "select * from test where value = ten",
            "drop table test",
            "select * from test; select 1",
            "select * from test where id = 1 for",
        ] {
            assert!(Statement::parse(bad).is_err(), "{bad} parsed");
        }
    }

    #[test]
    fn renders_for_the_server_and_round_trips() {
        for text in [
            "select * from test where value = 30",
            "select * from test where id >= 2 for update",
            "select * from test lock in share mode",
            "update test set value = value - 5 where id = 2",
            "delete from test where value = 20",
            "insert into test (id, value) values (3, 30)",
            "commit",
        ] {
            let st = Statement::parse(text).unwrap();
            let sql = st.to_sql("lab_t");
            assert!(!sql.contains(" test"), "{sql}");
            let back = Statement::parse(&sql.replace("lab_t", "test")).unwrap();
            assert_eq!(back, st, "{sql}");
        }
        assert_eq!(
            Statement::parse("select * from test where id = 1")
                .unwrap()
                .to_string(),
            "select * from test where id = 1"
        );
    }

    #[test]
    fn conditions_match_like_sql() {
        assert!(
            Cond::ValueMod {
                modulus: 3,
                rest: 0
            }
            .matches(3, 30)
        );
        assert!(
            !Cond::ValueMod {
                modulus: 3,
                rest: 0
            }
            .matches(1, 10)
        );
        assert!(Cond::IdIn(vec![1, 2]).matches(2, 0));
        assert!(!Cond::IdGt(2).matches(2, 0));
        assert!(Cond::IdGe(2).matches(2, 0));
    }
}
