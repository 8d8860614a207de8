//! The sorted-set commands with Redis 7.0's replies and errors. The keyspace belongs to the caller
//! (the `respd` server or a test), reached through [`KeyAccess`].

pub use crate::set::Limits;
use crate::set::SortedSet;
use crate::skiplist::{LexRange, ScoreRange};

/// The key holds a value that is not a sorted set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WrongType;

/// What a command needs from the keyspace.
pub trait KeyAccess {
    /// The sorted set at `key`, `Ok(None)` when the key does not exist, `Err(WrongType)` when it
    /// holds another type.
    fn get_zset(&mut self, key: &[u8]) -> Result<Option<&mut SortedSet>, WrongType>;
    /// Store `set` at `key` (the key does not exist) and return it.
    fn create_zset(&mut self, key: &[u8], set: SortedSet) -> &mut SortedSet;
    /// Remove `key` (called when a set becomes empty).
    fn delete(&mut self, key: &[u8]);
    /// The current `zset-max-listpack-entries` / `zset-max-listpack-value`. Read by every `ZADD`
    /// and `ZINCRBY` (when a set is created and before it is changed), as Redis reads its
    /// configuration. The default is Redis's (128 / 64); a server with `CONFIG SET` overrides it.
    fn limits(&self) -> Limits {
        Limits::default()
    }
}

/// A RESP2 reply.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Simple(String),
    Error(String),
    Integer(i64),
    Bulk(Option<Vec<u8>>),
    Array(Option<Vec<Reply>>),
}

impl Reply {
    /// Append the RESP2 encoding of this reply to `out`.
    pub fn encode_resp2(&self, out: &mut Vec<u8>) {
        match self {
            Reply::Simple(s) => {
                out.push(b'+');
                out.extend_from_slice(s.as_bytes());
                out.extend_from_slice(b"\r\n");
            }
            Reply::Error(s) => {
                out.push(b'-');
                out.extend_from_slice(s.as_bytes());
                out.extend_from_slice(b"\r\n");
            }
            Reply::Integer(i) => {
                out.extend_from_slice(format!(":{i}\r\n").as_bytes());
            }
            Reply::Bulk(None) | Reply::Array(None) => {
                let c = if matches!(self, Reply::Bulk(_)) {
                    b'$'
                } else {
                    b'*'
                };
                out.push(c);
                out.extend_from_slice(b"-1\r\n");
            }
            Reply::Bulk(Some(b)) => {
                out.extend_from_slice(format!("${}\r\n", b.len()).as_bytes());
                out.extend_from_slice(b);
                out.extend_from_slice(b"\r\n");
            }
            Reply::Array(Some(items)) => {
                out.extend_from_slice(format!("*{}\r\n", items.len()).as_bytes());
                for it in items {
                    it.encode_resp2(out);
                }
            }
        }
    }
}

/// The commands this module implements, with Redis's arity (negative: at least that many).
const COMMANDS: &[(&str, i32)] = &[
    ("ZADD", -4),
    ("ZINCRBY", 4),
    ("ZREM", -3),
    ("ZSCORE", 3),
    ("ZCARD", 2),
    ("ZCOUNT", 4),
    ("ZLEXCOUNT", 4),
    ("ZRANK", 3),
    ("ZREVRANK", 3),
    ("ZRANGE", -4),
    ("ZREVRANGE", -4),
    ("ZRANGEBYSCORE", -4),
    ("ZREVRANGEBYSCORE", -4),
    ("ZRANGEBYLEX", -4),
    ("ZREVRANGEBYLEX", -4),
    ("ZREMRANGEBYRANK", 4),
    ("ZREMRANGEBYSCORE", 4),
    ("ZREMRANGEBYLEX", 4),
    ("ZPOPMIN", -2),
    ("ZPOPMAX", -2),
];

/// Whether `name_upper` is a sorted-set command handled by [`run`].
pub fn is_zset_command(name_upper: &str) -> bool {
    arity(name_upper).is_some()
}

/// Redis's arity of a sorted-set command (negative means "at least"), `None` for other names.
pub fn arity(name: &str) -> Option<i32> {
    COMMANDS
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|&(_, a)| a)
}

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
const SYNTAX: &str = "ERR syntax error";
const NOT_FLOAT: &str = "ERR value is not a valid float";
const NOT_INT: &str = "ERR value is not an integer or out of range";
const RANGE_FLOAT: &str = "ERR min or max is not a float";
const RANGE_LEX: &str = "ERR min or max not valid string range item";
const NAN: &str = "ERR resulting score is not a number (NaN)";

fn err(s: &str) -> Reply {
    Reply::Error(s.to_string())
}

fn double(d: f64) -> Reply {
    Reply::Bulk(Some(crate::format_double(d).into_bytes()))
}

fn entries(list: Vec<crate::set::Entry>, withscores: bool) -> Reply {
    let mut out = Vec::with_capacity(list.len() * if withscores { 2 } else { 1 });
    for (m, s) in list {
        out.push(Reply::Bulk(Some(m)));
        if withscores {
            out.push(double(s));
        }
    }
    Reply::Array(Some(out))
}

/// Redis's `string2ll`-based `getLongFromObject`: a decimal i64, no spaces, no `+`.
fn parse_long(arg: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(arg).ok()?;
    if s.is_empty()
        || s.starts_with('+')
        || (s.len() > 1 && s.starts_with('0'))
        || s.starts_with("-0")
    {
        return None;
    }
    s.parse().ok()
}

fn eq(a: &[u8], b: &str) -> bool {
    a.eq_ignore_ascii_case(b.as_bytes())
}

fn parse_score_range(min: &[u8], max: &[u8]) -> Option<ScoreRange> {
    let (lo, minex) = crate::parse_score_bound(min)?;
    let (hi, maxex) = crate::parse_score_bound(max)?;
    Some(ScoreRange {
        min: lo,
        max: hi,
        minex,
        maxex,
    })
}

fn parse_lex_range(min: &[u8], max: &[u8]) -> Option<LexRange> {
    Some(LexRange {
        min: crate::parse_lex_bound(min)?,
        max: crate::parse_lex_bound(max)?,
    })
}

/// Look the key up for reading: `Ok(None)` when missing.
macro_rules! lookup {
    ($db:expr, $key:expr) => {
        match $db.get_zset($key) {
            Ok(s) => s,
            Err(WrongType) => return err(WRONGTYPE),
        }
    };
}

/// Run one sorted-set command; `argv[0]` is the command name (any case).
pub fn run(db: &mut dyn KeyAccess, argv: &[Vec<u8>]) -> Reply {
    let Some(first) = argv.first() else {
        return err("ERR empty command");
    };
    let name = String::from_utf8_lossy(first).to_ascii_uppercase();
    let Some(ar) = arity(&name) else {
        return Reply::Error(format!(
            "ERR unknown command '{}'",
            String::from_utf8_lossy(first)
        ));
    };
    let n = argv.len() as i32;
    if (ar > 0 && n != ar) || (ar < 0 && n < -ar) {
        return Reply::Error(format!(
            "ERR wrong number of arguments for '{}' command",
            name.to_ascii_lowercase()
        ));
    }
    let key = argv[1].as_slice();
    let a = &argv[2..];
    match name.as_str() {
        "ZADD" => zadd(db, key, a, false),
        "ZINCRBY" => zadd(db, key, a, true),
        "ZREM" => {
            let Some(set) = lookup!(db, key) else {
                return Reply::Integer(0);
            };
            let mut deleted = 0;
            let mut emptied = false;
            for m in a {
                if set.remove(m) {
                    deleted += 1;
                }
                if set.is_empty() {
                    emptied = true;
                    break;
                }
            }
            if emptied {
                db.delete(key);
            }
            Reply::Integer(deleted)
        }
        "ZSCORE" => match lookup!(db, key) {
            Some(set) => match set.score(&a[0]) {
                Some(s) => double(s),
                None => Reply::Bulk(None),
            },
            None => Reply::Bulk(None),
        },
        "ZCARD" => Reply::Integer(lookup!(db, key).map_or(0, |s| s.len() as i64)),
        "ZCOUNT" => {
            let Some(r) = parse_score_range(&a[0], &a[1]) else {
                return err(RANGE_FLOAT);
            };
            let Some(set) = lookup!(db, key) else {
                return Reply::Integer(0);
            };
            Reply::Integer(set.range_by_score(&r, false, 0, -1).len() as i64)
        }
        "ZLEXCOUNT" => {
            let Some(r) = parse_lex_range(&a[0], &a[1]) else {
                return err(RANGE_LEX);
            };
            let Some(set) = lookup!(db, key) else {
                return Reply::Integer(0);
            };
            Reply::Integer(set.range_by_lex(&r, false, 0, -1).len() as i64)
        }
        "ZRANK" | "ZREVRANK" => {
            let Some(set) = lookup!(db, key) else {
                return Reply::Bulk(None);
            };
            match set.rank(&a[0]) {
                Some(r) if name == "ZRANK" => Reply::Integer(r as i64),
                Some(r) => Reply::Integer((set.len() - 1 - r) as i64),
                None => Reply::Bulk(None),
            }
        }
        "ZRANGE" => zrange(db, key, a, None, None),
        "ZREVRANGE" => zrange(db, key, a, Some(Kind::Rank), Some(true)),
        "ZRANGEBYSCORE" => zrange(db, key, a, Some(Kind::Score), Some(false)),
        "ZREVRANGEBYSCORE" => zrange(db, key, a, Some(Kind::Score), Some(true)),
        "ZRANGEBYLEX" => zrange(db, key, a, Some(Kind::Lex), Some(false)),
        "ZREVRANGEBYLEX" => zrange(db, key, a, Some(Kind::Lex), Some(true)),
        "ZREMRANGEBYRANK" | "ZREMRANGEBYSCORE" | "ZREMRANGEBYLEX" => zremrange(db, key, a, &name),
        "ZPOPMIN" | "ZPOPMAX" => zpop(db, key, a, name == "ZPOPMAX"),
        _ => Reply::Error(format!(
            "ERR unknown command '{}'",
            String::from_utf8_lossy(first)
        )),
    }
}

fn zadd(db: &mut dyn KeyAccess, key: &[u8], a: &[Vec<u8>], zincrby: bool) -> Reply {
    let (mut nx, mut xx, mut gt, mut lt, mut ch, mut incr) =
        (false, false, false, false, false, zincrby);
    let mut i = 0;
    if !zincrby {
        while i < a.len() {
            let o = &a[i];
            if eq(o, "nx") {
                nx = true
            } else if eq(o, "xx") {
                xx = true
            } else if eq(o, "ch") {
                ch = true
            } else if eq(o, "incr") {
                incr = true
            } else if eq(o, "gt") {
                gt = true
            } else if eq(o, "lt") {
                lt = true
            } else {
                break;
            }
            i += 1;
        }
    }
    let rest = &a[i..];
    if rest.is_empty() || !rest.len().is_multiple_of(2) {
        return err(SYNTAX);
    }
    if nx && xx {
        return err("ERR XX and NX options at the same time are not compatible");
    }
    if (nx && (gt || lt)) || (gt && lt) {
        return err("ERR GT, LT, and/or NX options at the same time are not compatible");
    }
    if incr && rest.len() > 2 {
        return err("ERR INCR option supports a single increment-element pair");
    }
    let mut scores = Vec::with_capacity(rest.len() / 2);
    for p in rest.chunks(2) {
        match crate::parse_score(&p[0]) {
            Some(s) => scores.push(s),
            None => return err(NOT_FLOAT),
        }
    }
    let limits = db.limits();
    let set = match db.get_zset(key) {
        Err(WrongType) => return err(WRONGTYPE),
        Ok(Some(s)) => {
            s.set_limits(limits);
            s
        }
        Ok(None) => {
            if xx {
                return if incr {
                    Reply::Bulk(None)
                } else {
                    Reply::Integer(0)
                };
            }
            let first_len = rest[1].len();
            db.create_zset(key, SortedSet::create(limits, first_len))
        }
    };
    let (mut added, mut updated, mut processed) = (0i64, 0i64, 0i64);
    let mut last = 0.0;
    let mut nan = false;
    for (p, &score) in rest.chunks(2).zip(&scores) {
        let member = &p[1];
        match set.score(member) {
            Some(cur) => {
                if nx {
                    continue;
                }
                let mut s = score;
                if incr {
                    s += cur;
                    if s.is_nan() {
                        nan = true;
                        break;
                    }
                }
                if (lt && s >= cur) || (gt && s <= cur) {
                    continue;
                }
                last = s;
                processed += 1;
                if s != cur {
                    set.insert(s, member);
                    updated += 1;
                }
            }
            None => {
                if xx {
                    continue;
                }
                set.insert(score, member);
                added += 1;
                processed += 1;
                last = score;
            }
        }
    }
    let empty = set.is_empty();
    if empty {
        // Only possible when the key was just created and nothing was added (e.g. NaN).
        db.delete(key);
    }
    if nan {
        return err(NAN);
    }
    if incr {
        if processed > 0 {
            double(last)
        } else {
            Reply::Bulk(None)
        }
    } else {
        Reply::Integer(if ch { added + updated } else { added })
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Rank,
    Score,
    Lex,
}

fn zrange(
    db: &mut dyn KeyAccess,
    key: &[u8],
    a: &[Vec<u8>],
    kind: Option<Kind>,
    rev: Option<bool>,
) -> Reply {
    let (mut kind, mut rev) = (kind, rev);
    let mut withscores = false;
    let (mut offset, mut limit) = (0i64, -1i64);
    let mut j = 2;
    while j < a.len() {
        let left = a.len() - j - 1;
        let o = &a[j];
        if eq(o, "withscores") {
            withscores = true;
        } else if eq(o, "limit") && left >= 2 {
            let (Some(off), Some(lim)) = (parse_long(&a[j + 1]), parse_long(&a[j + 2])) else {
                return err(NOT_INT);
            };
            offset = off;
            limit = lim;
            j += 2;
        } else if rev.is_none() && eq(o, "rev") {
            rev = Some(true);
        } else if kind.is_none() && eq(o, "bylex") {
            kind = Some(Kind::Lex);
        } else if kind.is_none() && eq(o, "byscore") {
            kind = Some(Kind::Score);
        } else {
            return err(SYNTAX);
        }
        j += 1;
    }
    let rev = rev.unwrap_or(false);
    let kind = kind.unwrap_or(Kind::Rank);
    if limit != -1 && kind == Kind::Rank {
        return err(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        );
    }
    if withscores && kind == Kind::Lex {
        return err("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
    }
    let (lo, hi) = if rev && kind != Kind::Rank {
        (&a[1], &a[0])
    } else {
        (&a[0], &a[1])
    };
    match kind {
        Kind::Rank => {
            let (Some(start), Some(end)) = (parse_long(lo), parse_long(hi)) else {
                return err(NOT_INT);
            };
            let Some(set) = lookup!(db, key) else {
                return Reply::Array(Some(Vec::new()));
            };
            let len = set.len() as i64;
            let mut start = if start < 0 { len + start } else { start };
            let mut end = if end < 0 { len + end } else { end };
            if start < 0 {
                start = 0;
            }
            if start > end || start >= len {
                return Reply::Array(Some(Vec::new()));
            }
            if end >= len {
                end = len - 1;
            }
            entries(
                set.range_by_rank(start as usize, end as usize, rev),
                withscores,
            )
        }
        Kind::Score => {
            let Some(r) = parse_score_range(lo, hi) else {
                return err(RANGE_FLOAT);
            };
            let Some(set) = lookup!(db, key) else {
                return Reply::Array(Some(Vec::new()));
            };
            entries(set.range_by_score(&r, rev, offset, limit), withscores)
        }
        Kind::Lex => {
            let Some(r) = parse_lex_range(lo, hi) else {
                return err(RANGE_LEX);
            };
            let Some(set) = lookup!(db, key) else {
                return Reply::Array(Some(Vec::new()));
            };
            entries(set.range_by_lex(&r, rev, offset, limit), false)
        }
    }
}

fn zremrange(db: &mut dyn KeyAccess, key: &[u8], a: &[Vec<u8>], name: &str) -> Reply {
    enum R {
        Rank(i64, i64),
        Score(ScoreRange),
        Lex(LexRange),
    }
    let r = match name {
        "ZREMRANGEBYRANK" => match (parse_long(&a[0]), parse_long(&a[1])) {
            (Some(s), Some(e)) => R::Rank(s, e),
            _ => return err(NOT_INT),
        },
        "ZREMRANGEBYSCORE" => match parse_score_range(&a[0], &a[1]) {
            Some(r) => R::Score(r),
            None => return err(RANGE_FLOAT),
        },
        _ => match parse_lex_range(&a[0], &a[1]) {
            Some(r) => R::Lex(r),
            None => return err(RANGE_LEX),
        },
    };
    let Some(set) = lookup!(db, key) else {
        return Reply::Integer(0);
    };
    let victims = match r {
        R::Rank(start, end) => {
            let len = set.len() as i64;
            let start = if start < 0 { len + start } else { start }.max(0);
            let end = if end < 0 { len + end } else { end };
            if start > end || start >= len {
                return Reply::Integer(0);
            }
            set.range_by_rank(start as usize, end.min(len - 1) as usize, false)
        }
        R::Score(r) => set.range_by_score(&r, false, 0, -1),
        R::Lex(r) => set.range_by_lex(&r, false, 0, -1),
    };
    let n = set.remove_all(&victims);
    if set.is_empty() {
        db.delete(key);
    }
    Reply::Integer(n as i64)
}

fn zpop(db: &mut dyn KeyAccess, key: &[u8], a: &[Vec<u8>], max: bool) -> Reply {
    if a.len() > 1 {
        return err(SYNTAX);
    }
    let count = match a.first() {
        None => 1,
        Some(c) => match parse_long(c) {
            Some(c) if c >= 0 => c,
            _ => return err("ERR value is out of range, must be positive"),
        },
    };
    let Some(set) = lookup!(db, key) else {
        return Reply::Array(Some(Vec::new()));
    };
    if count == 0 {
        return Reply::Array(Some(Vec::new()));
    }
    let take = (count as usize).min(set.len());
    let victims = set.range_by_rank(0, take - 1, max);
    set.remove_all(&victims);
    if set.is_empty() {
        db.delete(key);
    }
    entries(victims, true)
}

/// A plain in-memory keyspace holding only sorted sets (plus a marker for "another type"), for
/// tests, demos and the differential test.
#[derive(Debug, Default)]
pub struct MemDb {
    pub sets: std::collections::HashMap<Vec<u8>, SortedSet>,
    /// Keys that hold some other type (every zset command must answer WRONGTYPE).
    pub other: std::collections::HashSet<Vec<u8>>,
    /// What [`KeyAccess::limits`] answers (a stand-in for `CONFIG SET zset-max-listpack-*`).
    pub limits: Limits,
}

impl KeyAccess for MemDb {
    fn get_zset(&mut self, key: &[u8]) -> Result<Option<&mut SortedSet>, WrongType> {
        if self.other.contains(key) {
            return Err(WrongType);
        }
        Ok(self.sets.get_mut(key))
    }
    fn create_zset(&mut self, key: &[u8], set: SortedSet) -> &mut SortedSet {
        self.sets.entry(key.to_vec()).or_insert(set)
    }
    fn delete(&mut self, key: &[u8]) {
        self.sets.remove(key);
        self.other.remove(key);
    }
    fn limits(&self) -> Limits {
        self.limits
    }
}

impl MemDb {
    /// Run a command given as string arguments.
    pub fn cmd(&mut self, args: &[&[u8]]) -> Reply {
        let argv: Vec<Vec<u8>> = args.iter().map(|a| a.to_vec()).collect();
        run(self, &argv)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zadd(db: &mut MemDb, key: &[u8], score: &[u8], member: &[u8]) -> Reply {
        db.cmd(&[b"ZADD", key, score, member])
    }

    #[test]
    fn default_limits_are_redis_defaults() {
        struct Bare;
        impl KeyAccess for Bare {
            fn get_zset(&mut self, _: &[u8]) -> Result<Option<&mut SortedSet>, WrongType> {
                Err(WrongType)
            }
            fn create_zset(&mut self, _: &[u8], _: SortedSet) -> &mut SortedSet {
                unreachable!("never called: every key is of another type")
            }
            fn delete(&mut self, _: &[u8]) {}
        }
        assert_eq!(
            Bare.limits(),
            Limits {
                max_listpack_entries: 128,
                max_listpack_value: 64
            }
        );
        let mut db = MemDb::default();
        for i in 0..128 {
            zadd(&mut db, b"k", b"1", format!("m{i}").as_bytes());
        }
        assert_eq!(db.sets[&b"k"[..]].encoding(), "listpack");
        zadd(&mut db, b"k", b"1", b"m128");
        assert_eq!(db.sets[&b"k"[..]].encoding(), "skiplist");
    }

    #[test]
    fn limits_come_from_the_keyspace_on_every_write() {
        let mut db = MemDb::default();
        db.limits.max_listpack_entries = 2;
        zadd(&mut db, b"k", b"1", b"a");
        zadd(&mut db, b"k", b"2", b"b");
        assert_eq!(db.sets[&b"k"[..]].encoding(), "listpack");
        zadd(&mut db, b"k", b"3", b"c");
        assert_eq!(db.sets[&b"k"[..]].encoding(), "skiplist");

        // Raised after creation: the existing listpack takes the new threshold, as in Redis.
        db.limits.max_listpack_entries = 1;
        zadd(&mut db, b"j", b"1", b"a");
        db.limits.max_listpack_entries = 3;
        zadd(&mut db, b"j", b"2", b"b");
        assert_eq!(db.sets[&b"j"[..]].encoding(), "listpack");

        // Zero entries or a first member longer than the value limit: born a skiplist.
        db.limits.max_listpack_entries = 0;
        zadd(&mut db, b"z", b"1", b"a");
        assert_eq!(db.sets[&b"z"[..]].encoding(), "skiplist");
        db.limits = Limits {
            max_listpack_entries: 128,
            max_listpack_value: 3,
        };
        zadd(&mut db, b"v", b"1", b"abcd");
        assert_eq!(db.sets[&b"v"[..]].encoding(), "skiplist");
        // Counterexample: with the defaults the same member stays in a listpack.
        db.limits = Limits::default();
        zadd(&mut db, b"w", b"1", b"abcd");
        assert_eq!(db.sets[&b"w"[..]].encoding(), "listpack");
    }
}
