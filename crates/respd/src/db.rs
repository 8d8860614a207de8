//! The keyspace and every command that is not a sorted-set command.
//!
//! [`Db::execute`] is the one place a command runs: it looks the name up in the command table,
//! checks the arity the way Redis does (`ERR wrong number of arguments for 'get' command`), runs the
//! handler, and charges the time to `INFO commandstats` (`cmdstat_get:calls=..,usec=..,usec_per_call=..`).
//! Sorted-set commands go to `zset::command::run` through [`zset::command::KeyAccess`], which
//! this keyspace implements.
//!
//! Whoever owns a `Db` runs commands one at a time (`&mut self`): in `single` mode one executor
//! thread owns it, in `shared` mode it sits behind a mutex. Either way a command is atomic.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use zset::SortedSet;
use zset::command::{KeyAccess, Reply, WrongType};

use crate::resp::parse_i64;

/// Redis's `OBJ_ENCODING_EMBSTR_SIZE_LIMIT`: strings up to 44 bytes are `embstr`.
pub const EMBSTR_SIZE_LIMIT: usize = 44;

pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

/// A value in the keyspace.
#[derive(Debug)]
pub enum Value {
    Str(Vec<u8>),
    Zset(SortedSet),
}

/// Calls and time of one command, for `INFO commandstats`.
#[derive(Debug, Default, Clone, Copy)]
pub struct CmdStat {
    pub calls: u64,
    pub usec: u64,
}

/// Which execution model the server runs; reported by `INFO server` as `respd_mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// One executor thread owns the keyspace; connections send it commands (Redis's model).
    Single,
    /// Connection tasks on a multi-threaded runtime run commands under one mutex.
    Shared,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Single => "single",
            Mode::Shared => "shared",
        }
    }
}

/// The keyspace plus the server-wide state commands report.
#[derive(Debug)]
pub struct Db {
    map: HashMap<Vec<u8>, Value>,
    stats: HashMap<&'static str, CmdStat>,
    config: Vec<(String, String)>,
    started: Instant,
    mode: Mode,
    port: u16,
    /// Maintained by the connection tasks, read by `INFO clients`.
    pub clients: Arc<AtomicUsize>,
    total_commands: u64,
    total_connections: Arc<AtomicUsize>,
}

type Handler = fn(&mut Db, &[Vec<u8>]) -> Reply;

/// `(name, arity, handler)`; arity as Redis: exact when positive, at least `-arity` when negative.
static COMMANDS: &[(&str, i32, Handler)] = &[
    ("ping", -1, ping),
    ("echo", 2, echo),
    ("get", 2, get),
    ("set", -3, set),
    ("incr", 2, incr),
    ("del", -2, del),
    ("exists", -2, exists),
    ("type", 2, type_),
    ("dbsize", 1, dbsize),
    ("flushdb", -1, flushdb),
    ("flushall", -1, flushdb),
    ("select", 2, select),
    ("info", -1, info),
    ("config", -2, config),
    ("object", -2, object),
    ("command", -1, command),
    ("hello", -1, hello),
    ("client", -2, client),
    ("quit", -1, ok),
    ("reset", 1, reset),
];

fn err(msg: impl Into<String>) -> Reply {
    Reply::Error(msg.into())
}

fn ok(_: &mut Db, _: &[Vec<u8>]) -> Reply {
    Reply::Simple("OK".into())
}

fn bulk(b: impl Into<Vec<u8>>) -> Reply {
    Reply::Bulk(Some(b.into()))
}

/// Redis 7.0's reply to a command it does not know: the name and the first arguments, 128 bytes at most.
pub fn unknown_command_error(argv: &[Vec<u8>]) -> String {
    let mut args = String::new();
    for a in &argv[1..] {
        if args.len() >= 128 {
            break;
        }
        let room = 128 - args.len();
        let a = String::from_utf8_lossy(a);
        let a: String = a.chars().take(room).collect();
        args.push_str(&format!("'{a}' "));
    }
    let name: String = String::from_utf8_lossy(&argv[0])
        .chars()
        .take(128)
        .collect();
    // Redis turns newlines into spaces so the error stays one protocol line.
    format!("ERR unknown command '{name}', with args beginning with: {args}")
        .replace(['\r', '\n'], " ")
}

/// Whether `argc` arguments (name included) satisfy a Redis arity.
pub fn arity_ok(arity: i32, argc: usize) -> bool {
    if arity >= 0 {
        argc == arity as usize
    } else {
        argc >= arity.unsigned_abs() as usize
    }
}

impl Db {
    pub fn new(mode: Mode, port: u16) -> Self {
        Db {
            map: HashMap::new(),
            stats: HashMap::new(),
            config: vec![
                ("zset-max-listpack-entries".into(), "128".into()),
                ("zset-max-listpack-value".into(), "64".into()),
                ("zset-max-ziplist-entries".into(), "128".into()),
                ("zset-max-ziplist-value".into(), "64".into()),
                ("save".into(), String::new()),
                ("appendonly".into(), "no".into()),
                ("maxmemory".into(), "0".into()),
                ("io-threads".into(), "1".into()),
                ("databases".into(), "1".into()),
            ],
            started: Instant::now(),
            mode,
            port,
            clients: Arc::new(AtomicUsize::new(0)),
            total_commands: 0,
            total_connections: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// The counter the server bumps for every accepted connection.
    pub fn connections_counter(&self) -> Arc<AtomicUsize> {
        Arc::clone(&self.total_connections)
    }

    /// Runs one command (`argv[0]` is its name, any case) and returns its reply.
    pub fn execute(&mut self, argv: &[Vec<u8>]) -> Reply {
        let Some(name) = argv.first() else {
            return err("ERR empty command");
        };
        let lower = String::from_utf8_lossy(name).to_ascii_lowercase();
        let (stat_name, arity, handler): (&'static str, i32, Handler) =
            if let Some(&(n, a, h)) = COMMANDS.iter().find(|(n, _, _)| *n == lower) {
                (n, a, h)
            } else if let Some(a) = zset::command::arity(&lower) {
                let n = ZSET_NAMES
                    .iter()
                    .copied()
                    .find(|n| *n == lower)
                    .unwrap_or("zset");
                (n, a, run_zset)
            } else {
                return err(unknown_command_error(argv));
            };
        if !arity_ok(arity, argv.len()) {
            return err(format!(
                "ERR wrong number of arguments for '{stat_name}' command"
            ));
        }
        let t0 = Instant::now();
        let reply = handler(self, argv);
        let usec = t0.elapsed().as_micros() as u64;
        let s = self.stats.entry(stat_name).or_default();
        s.calls += 1;
        s.usec += usec;
        self.total_commands += 1;
        reply
    }

    /// A config value, as `CONFIG GET` shows it.
    pub fn config_value(&self, name: &str) -> Option<&str> {
        self.config
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn live(&self, key: &[u8]) -> Option<&Value> {
        self.map.get(key)
    }
}

/// Lower-case names of the sorted-set commands, for `INFO commandstats` keys.
static ZSET_NAMES: &[&str] = &[
    "zadd",
    "zincrby",
    "zrem",
    "zscore",
    "zcard",
    "zcount",
    "zlexcount",
    "zrank",
    "zrevrank",
    "zrange",
    "zrevrange",
    "zrangebyscore",
    "zrevrangebyscore",
    "zrangebylex",
    "zrevrangebylex",
    "zremrangebyrank",
    "zremrangebyscore",
    "zremrangebylex",
    "zpopmin",
    "zpopmax",
];

impl KeyAccess for Db {
    fn get_zset(&mut self, key: &[u8]) -> Result<Option<&mut SortedSet>, WrongType> {
        match self.map.get_mut(key) {
            None => Ok(None),
            Some(Value::Zset(z)) => Ok(Some(z)),
            Some(_) => Err(WrongType),
        }
    }

    fn create_zset(&mut self, key: &[u8], set: SortedSet) -> &mut SortedSet {
        self.map.insert(key.to_vec(), Value::Zset(set));
        match self.map.get_mut(key) {
            Some(Value::Zset(z)) => z,
            // Just inserted as a sorted set under `key`.
            _ => unreachable!("a sorted set was just stored at this key"),
        }
    }

    fn delete(&mut self, key: &[u8]) {
        self.map.remove(key);
    }
}

fn run_zset(db: &mut Db, argv: &[Vec<u8>]) -> Reply {
    zset::command::run(db, argv)
}

fn ping(_: &mut Db, argv: &[Vec<u8>]) -> Reply {
    match argv.len() {
        1 => Reply::Simple("PONG".into()),
        2 => bulk(argv[1].clone()),
        _ => err("ERR wrong number of arguments for 'ping' command"),
    }
}

fn echo(_: &mut Db, argv: &[Vec<u8>]) -> Reply {
    bulk(argv[1].clone())
}

fn get(db: &mut Db, argv: &[Vec<u8>]) -> Reply {
    match db.live(&argv[1]) {
        None => Reply::Bulk(None),
        Some(Value::Str(s)) => bulk(s.clone()),
        Some(_) => err(WRONGTYPE),
    }
}

/// `SET key value [NX|XX] [GET]`. Expiry options are refused rather than silently ignored: this
/// server has no clock-driven expiry.
fn set(db: &mut Db, argv: &[Vec<u8>]) -> Reply {
    let (mut nx, mut xx, mut want_get) = (false, false, false);
    for opt in &argv[3..] {
        match opt.to_ascii_uppercase().as_slice() {
            b"NX" if !xx => nx = true,
            b"XX" if !nx => xx = true,
            b"GET" => want_get = true,
            _ => return err("ERR syntax error"),
        }
    }
    let old = match db.live(&argv[1]) {
        None => None,
        Some(Value::Str(s)) => Some(s.clone()),
        Some(_) if want_get => return err(WRONGTYPE),
        Some(_) => Some(Vec::new()),
    };
    let exists = db.map.contains_key(&argv[1]);
    let write = !(nx && exists || xx && !exists);
    if write {
        db.map.insert(argv[1].clone(), Value::Str(argv[2].clone()));
    }
    match (want_get, write) {
        (true, _) => Reply::Bulk(old),
        (false, true) => Reply::Simple("OK".into()),
        (false, false) => Reply::Bulk(None),
    }
}

fn incr(db: &mut Db, argv: &[Vec<u8>]) -> Reply {
    let current = match db.live(&argv[1]) {
        None => 0,
        Some(Value::Str(s)) => match parse_i64(s) {
            Some(n) => n,
            None => return err("ERR value is not an integer or out of range"),
        },
        Some(_) => return err(WRONGTYPE),
    };
    let Some(next) = current.checked_add(1) else {
        return err("ERR increment or decrement would overflow");
    };
    db.map
        .insert(argv[1].clone(), Value::Str(next.to_string().into_bytes()));
    Reply::Integer(next)
}

fn del(db: &mut Db, argv: &[Vec<u8>]) -> Reply {
    let n = argv[1..]
        .iter()
        .filter(|k| db.map.remove(k.as_slice()).is_some())
        .count();
    Reply::Integer(n as i64)
}

fn exists(db: &mut Db, argv: &[Vec<u8>]) -> Reply {
    let n = argv[1..].iter().filter(|k| db.map.contains_key(*k)).count();
    Reply::Integer(n as i64)
}

fn type_(db: &mut Db, argv: &[Vec<u8>]) -> Reply {
    Reply::Simple(
        match db.live(&argv[1]) {
            None => "none",
            Some(Value::Str(_)) => "string",
            Some(Value::Zset(_)) => "zset",
        }
        .into(),
    )
}

fn dbsize(db: &mut Db, _: &[Vec<u8>]) -> Reply {
    Reply::Integer(db.map.len() as i64)
}

fn flushdb(db: &mut Db, argv: &[Vec<u8>]) -> Reply {
    if argv.len() > 2
        || argv
            .get(1)
            .is_some_and(|a| !matches!(a.to_ascii_uppercase().as_slice(), b"SYNC" | b"ASYNC"))
    {
        return err("ERR syntax error");
    }
    db.map.clear();
    Reply::Simple("OK".into())
}

fn select(_: &mut Db, argv: &[Vec<u8>]) -> Reply {
    match parse_i64(&argv[1]) {
        Some(0) => Reply::Simple("OK".into()),
        Some(_) => err("ERR DB index is out of range"),
        None => err("ERR value is not an integer or out of range"),
    }
}

/// The encoding Redis reports for a string value: `int`, `embstr` or `raw`.
pub fn string_encoding(s: &[u8]) -> &'static str {
    if s.len() <= 20 && parse_i64(s).is_some() {
        "int"
    } else if s.len() <= EMBSTR_SIZE_LIMIT {
        "embstr"
    } else {
        "raw"
    }
}

fn object(db: &mut Db, argv: &[Vec<u8>]) -> Reply {
    let sub = argv[1].to_ascii_uppercase();
    match (sub.as_slice(), argv.len()) {
        (b"ENCODING", 3) => match db.live(&argv[2]) {
            None => Reply::Bulk(None),
            Some(Value::Str(s)) => bulk(string_encoding(s)),
            Some(Value::Zset(z)) => bulk(z.encoding()),
        },
        (b"HELP", _) => Reply::Array(Some(vec![Reply::Simple("OBJECT ENCODING <key>".into())])),
        _ => err(format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try OBJECT HELP.",
            String::from_utf8_lossy(&argv[1])
        )),
    }
}

fn config(db: &mut Db, argv: &[Vec<u8>]) -> Reply {
    let sub = argv[1].to_ascii_uppercase();
    match sub.as_slice() {
        b"GET" if argv.len() >= 3 => {
            let mut out = Vec::new();
            for pattern in &argv[2..] {
                let pattern = String::from_utf8_lossy(pattern).to_ascii_lowercase();
                for (n, v) in &db.config {
                    if glob_match(pattern.as_bytes(), n.as_bytes())
                        && !out.iter().any(|r| r == &bulk(n.as_bytes()))
                    {
                        out.push(bulk(n.as_bytes()));
                        out.push(bulk(v.as_bytes()));
                    }
                }
            }
            Reply::Array(Some(out))
        }
        b"SET" if argv.len() >= 4 && argv.len().is_multiple_of(2) => {
            for pair in argv[2..].chunks(2) {
                let name = String::from_utf8_lossy(&pair[0]).to_ascii_lowercase();
                let value = String::from_utf8_lossy(&pair[1]).into_owned();
                let Some(slot) = db.config.iter_mut().find(|(n, _)| *n == name) else {
                    return err(format!(
                        "ERR Unknown option or number of arguments for CONFIG SET - '{name}'"
                    ));
                };
                if name.starts_with("zset-") && value.parse::<u64>().is_err() {
                    return err(format!(
                        "ERR CONFIG SET failed (possibly related to argument '{name}') - argument couldn't be parsed into an integer"
                    ));
                }
                slot.1 = value;
            }
            Reply::Simple("OK".into())
        }
        b"RESETSTAT" if argv.len() == 2 => {
            db.stats.clear();
            Reply::Simple("OK".into())
        }
        _ => err(format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try CONFIG HELP.",
            String::from_utf8_lossy(&argv[1])
        )),
    }
}

/// Redis's `stringmatchlen` for the patterns clients use with `CONFIG GET`: `*`, `?` and literals.
pub fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    match (pattern.first(), text.first()) {
        (None, None) => true,
        (Some(b'*'), _) => {
            glob_match(&pattern[1..], text) || (!text.is_empty() && glob_match(pattern, &text[1..]))
        }
        (Some(b'?'), Some(_)) => glob_match(&pattern[1..], &text[1..]),
        (Some(p), Some(t)) if p == t => glob_match(&pattern[1..], &text[1..]),
        _ => false,
    }
}

fn command(db: &mut Db, argv: &[Vec<u8>]) -> Reply {
    let sub = argv.get(1).map(|s| s.to_ascii_uppercase());
    let names: Vec<(&str, i32)> = COMMANDS
        .iter()
        .map(|(n, a, _)| (*n, *a))
        .chain(
            ZSET_NAMES
                .iter()
                .map(|n| (*n, zset::command::arity(n).unwrap_or(-1))),
        )
        .collect();
    match sub.as_deref() {
        None | Some(b"INFO") => Reply::Array(Some(
            names
                .iter()
                .filter(|(n, _)| {
                    argv.len() <= 2
                        || argv[2..]
                            .iter()
                            .any(|a| a.eq_ignore_ascii_case(n.as_bytes()))
                })
                .map(|(n, a)| {
                    Reply::Array(Some(vec![
                        bulk(n.as_bytes()),
                        Reply::Integer(*a as i64),
                        Reply::Array(Some(vec![])),
                        Reply::Integer(0),
                        Reply::Integer(0),
                        Reply::Integer(0),
                    ]))
                })
                .collect(),
        )),
        Some(b"COUNT") => Reply::Integer(names.len() as i64),
        // redis-cli asks for the docs to show hints; an empty map is a valid answer.
        Some(b"DOCS") => Reply::Array(Some(vec![])),
        _ => {
            let _ = db;
            err(format!(
                "ERR unknown subcommand '{}'. Try COMMAND HELP.",
                String::from_utf8_lossy(&argv[1])
            ))
        }
    }
}

fn hello(db: &mut Db, argv: &[Vec<u8>]) -> Reply {
    if let Some(v) = argv.get(1) {
        match parse_i64(v) {
            Some(2) => {}
            Some(_) => return err("NOPROTO unsupported protocol version"),
            None => {
                return err("ERR Protocol version is not an integer or out of range");
            }
        }
    }
    let s = |x: &str| bulk(x.as_bytes());
    Reply::Array(Some(vec![
        s("server"),
        s("redis"),
        s("version"),
        s(REDIS_VERSION),
        s("proto"),
        Reply::Integer(2),
        s("id"),
        Reply::Integer(db.total_connections.load(Ordering::Relaxed) as i64),
        s("mode"),
        s("standalone"),
        s("role"),
        s("master"),
        s("modules"),
        Reply::Array(Some(vec![])),
    ]))
}

fn client(_: &mut Db, argv: &[Vec<u8>]) -> Reply {
    match argv[1].to_ascii_uppercase().as_slice() {
        b"SETNAME" | b"SETINFO" | b"NO-EVICT" | b"NO-TOUCH" | b"REPLY" => {
            Reply::Simple("OK".into())
        }
        b"GETNAME" => Reply::Bulk(None),
        b"ID" => Reply::Integer(1),
        _ => err(format!(
            "ERR unknown subcommand '{}'. Try CLIENT HELP.",
            String::from_utf8_lossy(&argv[1])
        )),
    }
}

fn reset(_: &mut Db, _: &[Vec<u8>]) -> Reply {
    Reply::Simple("RESET".into())
}

/// The Redis version this server imitates, reported as `redis_version` so clients that check it work.
pub const REDIS_VERSION: &str = "7.0.15";

fn info(db: &mut Db, argv: &[Vec<u8>]) -> Reply {
    let wanted: Vec<String> = argv[1..]
        .iter()
        .map(|a| String::from_utf8_lossy(a).to_ascii_lowercase())
        .collect();
    let all = wanted.is_empty()
        || wanted
            .iter()
            .any(|w| w == "all" || w == "everything" || w == "default");
    let want = |s: &str| all || wanted.iter().any(|w| w == s);
    let mut out = String::new();
    if want("server") {
        out.push_str(&format!(
            "# Server\r\nredis_version:{REDIS_VERSION}\r\nredis_mode:standalone\r\nrespd_version:{}\r\nrespd_mode:{}\r\nmultiplexing_api:tokio\r\nprocess_id:{}\r\ntcp_port:{}\r\nuptime_in_seconds:{}\r\nio_threads_active:0\r\n\r\n",
            env!("CARGO_PKG_VERSION"),
            db.mode.name(),
            std::process::id(),
            db.port,
            db.started.elapsed().as_secs(),
        ));
    }
    if want("clients") {
        out.push_str(&format!(
            "# Clients\r\nconnected_clients:{}\r\n\r\n",
            db.clients.load(Ordering::Relaxed)
        ));
    }
    if want("stats") {
        out.push_str(&format!(
            "# Stats\r\ntotal_connections_received:{}\r\ntotal_commands_processed:{}\r\n\r\n",
            db.total_connections.load(Ordering::Relaxed),
            db.total_commands,
        ));
    }
    if want("commandstats") {
        out.push_str("# Commandstats\r\n");
        let mut names: Vec<_> = db.stats.iter().collect();
        names.sort_by_key(|(n, _)| **n);
        for (n, s) in names {
            out.push_str(&format!(
                "cmdstat_{n}:calls={},usec={},usec_per_call={:.2},rejected_calls=0,failed_calls=0\r\n",
                s.calls,
                s.usec,
                s.usec as f64 / s.calls.max(1) as f64
            ));
        }
        out.push_str("\r\n");
    }
    if want("keyspace") {
        out.push_str("# Keyspace\r\n");
        if !db.map.is_empty() {
            out.push_str(&format!(
                "db0:keys={},expires=0,avg_ttl=0\r\n",
                db.map.len()
            ));
        }
    }
    bulk(out.trim_end().to_string() + "\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(db: &mut Db, args: &[&str]) -> Reply {
        let argv: Vec<Vec<u8>> = args.iter().map(|a| a.as_bytes().to_vec()).collect();
        db.execute(&argv)
    }

    #[test]
    fn errors_read_as_redis_writes_them() {
        let mut db = Db::new(Mode::Single, 0);
        assert_eq!(
            run(&mut db, &["foo", "bar", "baz"]),
            err("ERR unknown command 'foo', with args beginning with: 'bar' 'baz' ")
        );
        assert_eq!(
            run(&mut db, &["GET"]),
            err("ERR wrong number of arguments for 'get' command")
        );
        run(&mut db, &["SET", "k", "v"]);
        assert_eq!(
            run(&mut db, &["INCR", "k"]),
            err("ERR value is not an integer or out of range")
        );
    }

    #[test]
    fn arity_rules() {
        assert!(arity_ok(2, 2));
        assert!(!arity_ok(2, 3));
        assert!(arity_ok(-2, 5));
        assert!(!arity_ok(-3, 2));
    }

    #[test]
    fn strings_and_types() {
        let mut db = Db::new(Mode::Single, 0);
        assert_eq!(
            run(&mut db, &["SET", "k", "12"]),
            Reply::Simple("OK".into())
        );
        assert_eq!(run(&mut db, &["INCR", "k"]), Reply::Integer(13));
        assert_eq!(run(&mut db, &["SET", "k", "x", "NX"]), Reply::Bulk(None));
        assert_eq!(run(&mut db, &["TYPE", "k"]), Reply::Simple("string".into()));
        assert_eq!(run(&mut db, &["OBJECT", "ENCODING", "k"]), bulk("int"));
        assert_eq!(run(&mut db, &["EXISTS", "k", "k", "no"]), Reply::Integer(2));
        assert_eq!(run(&mut db, &["DEL", "k", "no"]), Reply::Integer(1));
        assert_eq!(run(&mut db, &["DBSIZE"]), Reply::Integer(0));
    }

    #[test]
    fn encodings_follow_redis_limits() {
        assert_eq!(string_encoding(b"-12"), "int");
        assert_eq!(string_encoding(&[b'a'; 44]), "embstr");
        assert_eq!(string_encoding(&[b'a'; 45]), "raw");
        assert_eq!(string_encoding(b"012"), "embstr");
    }

    #[test]
    fn config_get_globs() {
        let mut db = Db::new(Mode::Single, 0);
        let Reply::Array(Some(items)) = run(&mut db, &["CONFIG", "GET", "zset-max-listpack-*"])
        else {
            panic!("not an array")
        };
        assert_eq!(items.len(), 4);
        assert!(glob_match(b"sa?e", b"save"));
        assert!(!glob_match(b"save", b"saves"));
    }

    #[test]
    fn commandstats_count_calls() {
        let mut db = Db::new(Mode::Single, 0);
        run(&mut db, &["PING"]);
        run(&mut db, &["PING"]);
        let Reply::Bulk(Some(info)) = run(&mut db, &["INFO", "commandstats"]) else {
            panic!("not a bulk")
        };
        assert!(String::from_utf8_lossy(&info).contains("cmdstat_ping:calls=2,"));
    }
}
