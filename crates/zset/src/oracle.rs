//! Talking to the real Redis: run the same argv there and turn its answer into a [`Reply`].

use crate::Reply;
use servers::redis;

/// Convert a `redis` crate reply (or its error) to this crate's [`Reply`].
pub fn from_redis(r: redis::RedisResult<redis::Value>) -> Reply {
    match r {
        Ok(v) => from_value(v),
        Err(e) => {
            let code = e.code().unwrap_or("ERR");
            match e.detail() {
                Some(d) => Reply::Error(format!("{code} {d}")),
                None => Reply::Error(code.to_string()),
            }
        }
    }
}

fn from_value(v: redis::Value) -> Reply {
    use redis::Value as V;
    match v {
        V::Nil => Reply::Bulk(None),
        V::Int(i) => Reply::Integer(i),
        V::BulkString(b) => Reply::Bulk(Some(b)),
        V::Array(items) | V::Set(items) => {
            Reply::Array(Some(items.into_iter().map(from_value).collect()))
        }
        V::SimpleString(s) => Reply::Simple(s),
        V::Okay => Reply::Simple("OK".into()),
        V::Double(d) => Reply::Bulk(Some(crate::format_double(d).into_bytes())),
        other => Reply::Error(format!("unexpected reply {other:?}")),
    }
}

/// Send `argv` as one command on `conn`.
pub fn run_real(conn: &mut redis::Connection, argv: &[Vec<u8>]) -> Reply {
    let mut c = redis::cmd(std::str::from_utf8(&argv[0]).unwrap_or("PING"));
    for a in &argv[1..] {
        c.arg(a.as_slice());
    }
    from_redis(c.query::<redis::Value>(conn))
}
