//! One key, one type: a command for another type is refused with `WRONGTYPE`, and nothing changes.
//!
//! ```text
//!   SET greeting hello        TYPE → string
//!   LPUSH greeting world      (error) WRONGTYPE …     GET greeting → "hello" (untouched)
//!   DEL greeting; LPUSH …     a new key, so a new type: list
//! ```
//!
//! The type is fixed when a key is created and checked before any command touches the value; the
//! extras report their host type (a bitmap or HyperLogLog is a `string`, a geo index a `zset`).

use catalog::{Ctx, DemoError, check, check_eq};
use servers::redis::{self, RedisError};

use crate::session::Session;

/// True when `e` is the server's `WRONGTYPE` refusal (and not, say, a syntax error).
pub fn is_wrongtype(e: &RedisError) -> bool {
    e.code() == Some("WRONGTYPE")
}

/// How each kind of value is created in this demo, and the `TYPE` Redis reports for it.
const KINDS: [(&str, &str, &[&str], &str); 8] = [
    ("kind:string", "SET", &["v"], "string"),
    ("kind:list", "RPUSH", &["a"], "list"),
    ("kind:hash", "HSET", &["f", "v"], "hash"),
    ("kind:set", "SADD", &["m"], "set"),
    ("kind:zset", "ZADD", &["1", "m"], "zset"),
    ("kind:stream", "XADD", &["*", "f", "v"], "stream"),
    ("kind:bitmap", "SETBIT", &["7", "1"], "string"),
    ("kind:hll", "PFADD", &["x"], "string"),
];

pub(crate) fn wrongtype_leaves_the_key_intact(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let mut s = Session::open(ctx)?;
    let greeting = s.key("greeting");

    s.say("1) A list command on a string key is refused, and the string is untouched.");
    s.run::<()>(redis::cmd("SET").arg(&greeting).arg("hello"))?;
    let refused = s.attempt(redis::cmd("LPUSH").arg(&greeting).arg("world"))?;
    let e = refused.err().ok_or_else(|| {
        DemoError::Claim("LPUSH on a string key succeeded instead of failing".into())
    })?;
    check!(
        is_wrongtype(&e),
        "LPUSH on a string failed, but not with WRONGTYPE: {e}"
    );
    let value: Option<String> = s.run(redis::cmd("GET").arg(&greeting))?;
    check_eq!(
        value.as_deref(),
        Some("hello"),
        "GET after the refused LPUSH"
    );
    let ty = s.type_of(&greeting)?;
    check_eq!(ty.as_str(), "string", "TYPE after the refused LPUSH");

    s.say("2) A plain string is not a HyperLogLog either, though HLLs are strings.");
    let refused = s.attempt(redis::cmd("PFCOUNT").arg(&greeting))?;
    let e = refused.err().ok_or_else(|| {
        DemoError::Claim("PFCOUNT on a plain string succeeded instead of failing".into())
    })?;
    check!(
        is_wrongtype(&e),
        "PFCOUNT on a plain string failed, but not with WRONGTYPE: {e}"
    );

    s.say("3) The type belongs to the key's life: delete it and the name can hold a list.");
    s.run::<i64>(redis::cmd("DEL").arg(&greeting))?;
    let len: i64 = s.run(redis::cmd("LPUSH").arg(&greeting).arg("world"))?;
    check_eq!(len, 1, "LPUSH on the deleted name");
    let ty = s.type_of(&greeting)?;
    check_eq!(ty.as_str(), "list", "TYPE of the new key");

    s.say("4) TYPE of each kind: the extras report the core type they are built on.");
    for (name, command, args, want) in KINDS {
        let key = s.key(name);
        s.quiet::<redis::Value>(redis::cmd(command).arg(&key).arg(args))?;
        let ty: String = s.quiet(redis::cmd("TYPE").arg(&key))?;
        s.say(format!("   {command} {key} … ; TYPE → {ty}"));
        check_eq!(ty.as_str(), want, "TYPE of a key made by {command}");
    }
    s.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server_error(line: &[u8]) -> RedisError {
        match redis::parse_redis_value(line).and_then(|v| v.extract_error()) {
            Err(e) => e,
            Ok(v) => panic!("{line:?} parsed as a value: {v:?}"),
        }
    }

    #[test]
    fn wrongtype_is_told_apart_from_other_errors() {
        let e =
            server_error(b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
        assert!(is_wrongtype(&e));
        // Counterexamples: a syntax error and a generic ERR are not type errors.
        assert!(!is_wrongtype(&server_error(b"-ERR syntax error\r\n")));
        assert!(!is_wrongtype(&server_error(
            b"-ERR value is not an integer or out of range\r\n"
        )));
    }
}
