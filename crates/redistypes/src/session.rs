//! A transcript around the borrowed Redis: every command a demo sends is printed the way `redis-cli`
//! would show it, with its reply, so a reader can retype the demo by hand.
//!
//! ```text
//!   > HINCRBY lab:redis-01:user:42 visits 10  → (integer) 11
//!   > OBJECT ENCODING lab:redis-01:user:42  → "listpack"
//! ```
//!
//! Long arguments and replies are shortened (`"xxxxxxxxxxxx…" (45 bytes)`, `… (+1014 more)`); bulk
//! loads use [`Session::quiet`] and print one summary line instead.

use catalog::{Ctx, DemoError};
use servers::RedisLab;
use servers::redis::{self, Cmd, FromRedisValue, RedisError, Value};

use crate::encoding::{CompactLimits, Encoding, Version};

/// How many arguments or array items a transcript line shows before summarising the rest.
const SHOW_ITEMS: usize = 10;
/// The longest argument or string reply a transcript line shows whole (every key of the demos fits).
const SHOW_BYTES: usize = 40;
/// About how wide a printed command may get before its remaining arguments are summarised.
const SHOW_LINE: usize = 110;

/// One demo's connection to Redis, fenced into `lab:redis-01:`, plus where it prints.
pub(crate) struct Session<'c, 'a> {
    ctx: &'c mut Ctx<'a>,
    lab: RedisLab,
    version: Version,
}

impl<'c, 'a> Session<'c, 'a> {
    /// Borrows the Redis of `ctx` and asks which version it is.
    pub(crate) fn open(ctx: &'c mut Ctx<'a>) -> Result<Self, DemoError> {
        let mut lab = ctx.redis()?;
        let info: String = redis::cmd("INFO").arg("server").query(lab.conn())?;
        let version = Version::from_info(&info).ok_or_else(|| {
            DemoError::Broken("INFO server has no redis_version this lab can read".into())
        })?;
        Ok(Session { ctx, lab, version })
    }

    /// The full name of a key of this question: `lab:redis-01:<name>`.
    pub(crate) fn key(&self, name: &str) -> String {
        self.lab.key(name)
    }

    pub(crate) fn version(&self) -> Version {
        self.version
    }

    pub(crate) fn say(&mut self, line: impl AsRef<str>) {
        self.ctx.say(line);
    }

    /// A second, independent client of the same server.
    pub(crate) fn another_connection(&self) -> Result<redis::Connection, DemoError> {
        Ok(self.lab.another_connection()?)
    }

    /// Sends `cmd`, prints it with its reply, and decodes the reply. A server error is a failure.
    pub(crate) fn run<T: FromRedisValue>(&mut self, cmd: &Cmd) -> Result<T, DemoError> {
        let reply = self.send(cmd, true)?;
        decode(cmd, reply)
    }

    /// Like [`Session::run`] without printing, for bulk loads the demo summarises itself.
    pub(crate) fn quiet<T: FromRedisValue>(&mut self, cmd: &Cmd) -> Result<T, DemoError> {
        let reply = self.send(cmd, false)?;
        decode(cmd, reply)
    }

    /// Sends `cmd` and prints it; a server error (`WRONGTYPE ...`) comes back as `Ok(Err(..))` to be
    /// examined, while a broken connection is still a failure of the demo.
    pub(crate) fn attempt(&mut self, cmd: &Cmd) -> Result<Result<Value, RedisError>, DemoError> {
        match cmd.query::<Value>(self.lab.conn()) {
            Ok(v) => {
                let line = format!("> {}  → {}", show_cmd(cmd), show_value(&v));
                self.say(line);
                Ok(Ok(v))
            }
            Err(e) if e.code().is_some() => {
                let line = format!("> {}  → (error) {}", show_cmd(cmd), show_error(&e));
                self.say(line);
                Ok(Err(e))
            }
            Err(e) => Err(e.into()),
        }
    }

    fn send(&mut self, cmd: &Cmd, print: bool) -> Result<Value, DemoError> {
        match cmd.query::<Value>(self.lab.conn()) {
            Ok(v) => {
                if print {
                    let line = format!("> {}  → {}", show_cmd(cmd), show_value(&v));
                    self.say(line);
                }
                Ok(v)
            }
            Err(e) => Err(DemoError::Broken(format!(
                "Redis refused `{}`: {e}",
                show_cmd(cmd)
            ))),
        }
    }

    /// Asks `OBJECT ENCODING key`, prints the reply next to the prediction, and fails the demo with
    /// a claim error when they differ. `what` describes the value, for that error.
    pub(crate) fn expect_encoding(
        &mut self,
        key: &str,
        want: Encoding,
        what: &str,
    ) -> Result<(), DemoError> {
        let cmd = redis::cmd("OBJECT").arg("ENCODING").arg(key).clone();
        let got: String = self.quiet(&cmd)?;
        let line = format!("> {}  → \"{got}\"   (predicted: {want})", show_cmd(&cmd));
        self.say(line);
        if got == want.as_str() {
            Ok(())
        } else {
            Err(DemoError::Claim(format!(
                "OBJECT ENCODING of {what} on Redis {}: predicted {want}, the server says {got}",
                self.version
            )))
        }
    }

    /// `TYPE key`, printed.
    pub(crate) fn type_of(&mut self, key: &str) -> Result<String, DemoError> {
        self.run(redis::cmd("TYPE").arg(key))
    }

    /// `CONFIG GET` of the first of `names` the server knows (new names first, the pre-7.0
    /// `ziplist` aliases after), printed. Reads only: nothing here changes a setting.
    pub(crate) fn config(&mut self, names: &[&str]) -> Result<String, DemoError> {
        for name in names {
            let pair: Vec<String> = self.quiet(redis::cmd("CONFIG").arg("GET").arg(*name))?;
            if let [_, value] = pair.as_slice() {
                let line = format!("> CONFIG GET {name}  → {value}");
                self.say(line);
                return Ok(value.clone());
            }
        }
        Err(DemoError::Broken(format!(
            "this server knows none of the settings {names:?}"
        )))
    }

    /// A numeric setting, as [`Session::config`] reads it.
    pub(crate) fn config_num<T: std::str::FromStr>(
        &mut self,
        names: &[&str],
    ) -> Result<T, DemoError> {
        let text = self.config(names)?;
        text.trim()
            .parse()
            .map_err(|_| DemoError::Broken(format!("{names:?} is {text:?}, not a number")))
    }

    /// The `<type>-max-listpack-entries` and `-value` limits (or their `ziplist` names before 7.0).
    pub(crate) fn compact_limits(&mut self, ty: &str) -> Result<CompactLimits, DemoError> {
        let entries = self.config_num(&[
            &format!("{ty}-max-listpack-entries"),
            &format!("{ty}-max-ziplist-entries"),
        ])?;
        let value = self.config_num(&[
            &format!("{ty}-max-listpack-value"),
            &format!("{ty}-max-ziplist-value"),
        ])?;
        Ok(CompactLimits { entries, value })
    }

    /// Deletes this question's keys and restores settings now, reporting a failure (dropping the
    /// session does the same, but can only print).
    pub(crate) fn finish(mut self) -> Result<(), DemoError> {
        self.lab.restore()?;
        Ok(())
    }
}

fn decode<T: FromRedisValue>(cmd: &Cmd, reply: Value) -> Result<T, DemoError> {
    let shown = show_value(&reply);
    redis::from_redis_value(reply).map_err(|e| {
        DemoError::Broken(format!(
            "unexpected reply {shown} to `{}`: {e}",
            show_cmd(cmd)
        ))
    })
}

/// `SET lab:redis-01:k "a b" EX 60`: the command as sent, arguments shortened for reading.
pub(crate) fn show_cmd(cmd: &Cmd) -> String {
    let args: Vec<String> = cmd
        .args_iter()
        .map(|a| match a {
            redis::Arg::Simple(bytes) => show_arg(bytes),
            _ => "<cursor>".to_string(),
        })
        .collect();
    // Command, key and first argument always; then as many as fit a readable line.
    let mut shown = 0;
    let mut out = String::new();
    for a in &args {
        let fits = shown < 3 || (shown < SHOW_ITEMS + 2 && out.len() + a.len() < SHOW_LINE);
        if !fits {
            break;
        }
        if shown > 0 {
            out.push(' ');
        }
        out.push_str(a);
        shown += 1;
    }
    if args.len() > shown {
        out.push_str(&format!(" … (+{} more)", args.len() - shown));
    }
    out
}

fn show_arg(bytes: &[u8]) -> String {
    let plain = !bytes.is_empty()
        && bytes
            .iter()
            .all(|b| b.is_ascii_graphic() && *b != b'"' && *b != b'\\');
    if plain && bytes.len() <= SHOW_BYTES {
        String::from_utf8_lossy(bytes).into_owned()
    } else {
        show_bytes(bytes)
    }
}

/// A quoted string, cut to [`SHOW_BYTES`] with its full length when longer.
fn show_bytes(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    if text.chars().count() <= SHOW_BYTES {
        format!("{text:?}")
    } else {
        let head: String = text.chars().take(12).collect();
        format!("{:?} ({} bytes)", format!("{head}…"), bytes.len())
    }
}

/// A reply the way `redis-cli` prints it, on one line.
pub(crate) fn show_value(v: &Value) -> String {
    match v {
        Value::Int(n) => format!("(integer) {n}"),
        other => show_inner(other),
    }
}

fn show_inner(v: &Value) -> String {
    match v {
        Value::Nil => "(nil)".into(),
        Value::Int(n) => n.to_string(),
        Value::BulkString(b) => show_bytes(b),
        Value::SimpleString(s) => s.clone(),
        Value::Okay => "OK".into(),
        Value::Double(d) => d.to_string(),
        Value::Boolean(b) => b.to_string(),
        Value::Array(items) | Value::Set(items) => show_items(items.iter().map(show_inner)),
        Value::Map(pairs) => show_items(
            pairs
                .iter()
                .map(|(k, v)| format!("{}: {}", show_inner(k), show_inner(v))),
        ),
        Value::ServerError(e) => format!("(error) {} {}", e.code(), e.details().unwrap_or("")),
        other => format!("{other:?}"),
    }
}

fn show_items(items: impl ExactSizeIterator<Item = String>) -> String {
    let n = items.len();
    let mut shown: Vec<String> = items.take(SHOW_ITEMS).collect();
    if n > SHOW_ITEMS {
        shown.push(format!("… (+{} more)", n - SHOW_ITEMS));
    }
    format!("[{}]", shown.join(", "))
}

fn show_error(e: &RedisError) -> String {
    match (e.code(), e.detail()) {
        (Some(code), Some(detail)) => format!("{code} {detail}"),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_print_like_redis_cli_and_long_ones_are_cut() {
        let c = redis::cmd("SET")
            .arg("k")
            .arg("a b")
            .arg("EX")
            .arg(60)
            .clone();
        assert_eq!(show_cmd(&c), r#"SET k "a b" EX 60"#);
        let long = "x".repeat(45);
        let c = redis::cmd("SET").arg("k").arg(&long).clone();
        assert_eq!(show_cmd(&c), r#"SET k "xxxxxxxxxxxx…" (45 bytes)"#);
        let mut c = redis::cmd("SADD");
        c.arg("s");
        for i in 0..20 {
            c.arg(i);
        }
        assert!(show_cmd(&c).ends_with("9 … (+10 more)"), "{}", show_cmd(&c));
    }

    #[test]
    fn replies_print_like_redis_cli() {
        assert_eq!(show_value(&Value::Int(3)), "(integer) 3");
        assert_eq!(show_value(&Value::Nil), "(nil)");
        assert_eq!(show_value(&Value::Okay), "OK");
        let arr = Value::Array(vec![
            Value::BulkString(b"bob".to_vec()),
            Value::BulkString(b"105".to_vec()),
            Value::Int(7),
        ]);
        assert_eq!(show_value(&arr), r#"["bob", "105", 7]"#);
    }
}
