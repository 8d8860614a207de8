//! The keyspace and every command that is not a sorted-set command.
//!
//! [`Db::execute`] is the one place a command runs: it finds the name in the command table
//! ([`lookup`]: the name lower-cased on the stack, then a binary search), checks the arity the way
//! Redis does (`ERR wrong number of arguments for 'get' command`), runs the handler, and charges the
//! time to `INFO commandstats` (`cmdstat_get:calls=..,usec=..,usec_per_call=..`). Sorted-set
//! commands go to `zset::command::run` through [`zset::command::KeyAccess`], which this keyspace
//! implements.
//!
//! Handlers write their reply straight into the connection's output buffer ([`Client`]), in the
//! connection's protocol (RESP2, or RESP3 after `HELLO 3`); nothing is allocated per reply.
//!
//! Whoever owns a `Db` runs commands one at a time (`&mut self`): in `single` mode the event-loop
//! thread owns it, in `shared` mode it sits behind a mutex. Either way a command is atomic.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use zset::SortedSet;
use zset::command::{KeyAccess, Limits, WrongType};

use crate::reply::{Client, Proto, ScoreShape, push_int};
use crate::resp::parse_i64;

/// Redis's `OBJ_ENCODING_EMBSTR_SIZE_LIMIT`: strings up to 44 bytes are `embstr`.
pub const EMBSTR_SIZE_LIMIT: usize = 44;

pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
const SYNTAX: &str = "ERR syntax error";

/// A value in the keyspace. The sorted set is boxed: unboxed, `Value` was 160 bytes and every slot
/// of the keyspace's hash table 184 bytes instead of 48, for string keys too
/// (measured in process, `examples/exec_cost.rs`: a pipelined `GET` over 100,000 keys went from
/// about 313 to 205 ns).
#[derive(Debug)]
pub enum Value {
    Str(Vec<u8>),
    Zset(Box<SortedSet>),
}

/// Calls and time of one command, for `INFO commandstats`.
#[derive(Debug, Default, Clone, Copy)]
pub struct CmdStat {
    pub calls: u64,
    /// Summed in nanoseconds and shown in microseconds: a command that takes 0.3 µs would add 0 to a
    /// sum of whole microseconds every time.
    pub nanos: u64,
}

/// Which execution model the server runs; reported by `INFO server` as `respd_mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// One thread reads, parses, executes and writes for every client (Redis's model).
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
    /// One entry per [`COMMANDS`] row, same index.
    stats: Vec<CmdStat>,
    config: Vec<(String, String)>,
    /// The listpack limits, parsed from `config` whenever `CONFIG SET` changes it, because every
    /// `ZADD` reads them.
    limits: Limits,
    started: Instant,
    mode: Mode,
    port: u16,
    /// Maintained by the connection tasks, read by `INFO clients`.
    pub clients: Arc<AtomicUsize>,
    total_commands: u64,
    total_connections: Arc<AtomicUsize>,
    /// The OS threads that have executed commands, for `INFO server`'s `respd_executor_threads`:
    /// 1 in `single` mode however many clients there are, up to the worker count in `shared` mode.
    executor_threads: Vec<std::thread::ThreadId>,
}

/// A command: writes its reply to the client's buffer.
type Handler = fn(&mut Db, &mut Client, &[Vec<u8>]);

/// A row of the command table; arity as Redis: exact when positive, at least `-arity` when negative.
#[derive(Debug)]
pub struct Command {
    pub name: &'static str,
    pub arity: i32,
    run: Handler,
}

const fn c(name: &'static str, arity: i32, run: Handler) -> Command {
    Command { name, arity, run }
}

/// Every command, sorted by name as `INFO commandstats` lists them; [`lookup`] maps a name to its
/// row (a test checks both, and that the sorted-set arities are `zset::command`'s).
pub static COMMANDS: &[Command] = &[
    c("client", -2, client_command),
    c("command", -1, command),
    c("config", -2, config),
    c("dbsize", 1, dbsize),
    c("del", -2, del),
    c("echo", 2, echo),
    c("exists", -2, exists),
    c("flushall", -1, flushdb),
    c("flushdb", -1, flushdb),
    c("get", 2, get),
    c("hello", -1, hello),
    c("incr", 2, incr),
    c("info", -1, info),
    c("object", -2, object),
    c("ping", -1, ping),
    c("quit", -1, quit),
    c("reset", 1, reset),
    c("select", 2, select),
    c("set", -3, set),
    c("type", 2, type_),
    c("zadd", -4, zset_command),
    c("zcard", 2, zset_command),
    c("zcount", 4, zset_command),
    c("zincrby", 4, zset_command),
    c("zlexcount", 4, zset_command),
    c("zpopmax", -2, zset_command),
    c("zpopmin", -2, zset_command),
    c("zrange", -4, zset_command),
    c("zrangebylex", -4, zset_command),
    c("zrangebyscore", -4, zset_command),
    c("zrank", 3, zset_command),
    c("zrem", -3, zset_command),
    c("zremrangebylex", 4, zset_command),
    c("zremrangebyrank", 4, zset_command),
    c("zremrangebyscore", 4, zset_command),
    c("zrevrange", -4, zset_command),
    c("zrevrangebylex", -4, zset_command),
    c("zrevrangebyscore", -4, zset_command),
    c("zrevrank", 3, zset_command),
    c("zscore", 3, zset_command),
];

/// Longest command name in [`COMMANDS`] (`zremrangebyscore`).
const MAX_NAME: usize = 16;

/// The row of [`COMMANDS`] for `name` in any case, without allocating: the name is lower-cased
/// into a stack buffer and matched against the literal names. The compiler turns the `match` into
/// a switch on the length and, within one length, compares of a few machine words, where a binary
/// search over the table costs five or six calls to `memcmp` (measured: a third of a pipelined
/// `SET`'s time in `run_batch`). A test checks that each row's name leads back to that row.
pub fn lookup(name: &[u8]) -> Option<usize> {
    if name.len() > MAX_NAME {
        return None;
    }
    let mut buf = [0u8; MAX_NAME];
    let lower = &mut buf[..name.len()];
    lower.copy_from_slice(name);
    lower.make_ascii_lowercase();
    Some(match &*lower {
        b"client" => 0,
        b"command" => 1,
        b"config" => 2,
        b"dbsize" => 3,
        b"del" => 4,
        b"echo" => 5,
        b"exists" => 6,
        b"flushall" => 7,
        b"flushdb" => 8,
        b"get" => 9,
        b"hello" => 10,
        b"incr" => 11,
        b"info" => 12,
        b"object" => 13,
        b"ping" => 14,
        b"quit" => 15,
        b"reset" => 16,
        b"select" => 17,
        b"set" => 18,
        b"type" => 19,
        b"zadd" => 20,
        b"zcard" => 21,
        b"zcount" => 22,
        b"zincrby" => 23,
        b"zlexcount" => 24,
        b"zpopmax" => 25,
        b"zpopmin" => 26,
        b"zrange" => 27,
        b"zrangebylex" => 28,
        b"zrangebyscore" => 29,
        b"zrank" => 30,
        b"zrem" => 31,
        b"zremrangebylex" => 32,
        b"zremrangebyrank" => 33,
        b"zremrangebyscore" => 34,
        b"zrevrange" => 35,
        b"zrevrangebylex" => 36,
        b"zrevrangebyscore" => 37,
        b"zrevrank" => 38,
        b"zscore" => 39,
        _ => return None,
    })
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
            stats: vec![CmdStat::default(); COMMANDS.len()],
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
            limits: Limits::default(),
            started: Instant::now(),
            mode,
            port,
            clients: Arc::new(AtomicUsize::new(0)),
            total_commands: 0,
            total_connections: Arc::new(AtomicUsize::new(0)),
            executor_threads: Vec::new(),
        }
    }

    /// Records the calling thread as one that executes commands (once per batch).
    pub fn note_executor_thread(&mut self) {
        let id = std::thread::current().id();
        if !self.executor_threads.contains(&id) {
            self.executor_threads.push(id);
        }
    }

    /// The counter the server bumps for every accepted connection.
    pub fn connections_counter(&self) -> Arc<AtomicUsize> {
        Arc::clone(&self.total_connections)
    }

    /// Runs one command (`argv[0]` is its name, any case) and appends its reply to `client.out`.
    pub fn execute(&mut self, client: &mut Client, argv: &[Vec<u8>]) {
        self.execute_timed(client, argv, Instant::now());
    }

    /// [`Db::execute`] for a batch: charges the command with the time from `since` to its end and
    /// returns that end, to be the next command's `since`. One clock read per command instead of
    /// Redis's two (each is a vDSO `clock_gettime`, about 20 ns here, a tenth of a pipelined `SET`);
    /// the price is that a command's `usec` also covers parsing and looking it up.
    pub fn execute_timed(
        &mut self,
        client: &mut Client,
        argv: &[Vec<u8>],
        since: Instant,
    ) -> Instant {
        let Some(name) = argv.first() else {
            client.error("ERR empty command");
            return since;
        };
        let Some(i) = lookup(name) else {
            client.error(&unknown_command_error(argv));
            return since;
        };
        let cmd = &COMMANDS[i];
        if !arity_ok(cmd.arity, argv.len()) {
            client.error(&format!(
                "ERR wrong number of arguments for '{}' command",
                cmd.name
            ));
            return since;
        }
        (cmd.run)(self, client, argv);
        let end = Instant::now();
        let s = &mut self.stats[i];
        s.calls += 1;
        s.nanos += end.duration_since(since).as_nanos() as u64;
        self.total_commands += 1;
        end
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

impl KeyAccess for Db {
    fn get_zset(&mut self, key: &[u8]) -> Result<Option<&mut SortedSet>, WrongType> {
        match self.map.get_mut(key) {
            None => Ok(None),
            Some(Value::Zset(z)) => Ok(Some(z)),
            Some(_) => Err(WrongType),
        }
    }

    fn create_zset(&mut self, key: &[u8], set: SortedSet) -> &mut SortedSet {
        self.map.insert(key.to_vec(), Value::Zset(Box::new(set)));
        match self.map.get_mut(key) {
            Some(Value::Zset(z)) => z,
            // Just inserted as a sorted set under `key`.
            _ => unreachable!("a sorted set was just stored at this key"),
        }
    }

    fn delete(&mut self, key: &[u8]) {
        self.map.remove(key);
    }

    fn limits(&self) -> Limits {
        self.limits
    }
}

/// Every sorted-set command: `zset::command::run` builds the reply, which is then written with
/// its scores typed for the connection's protocol.
fn zset_command(db: &mut Db, client: &mut Client, argv: &[Vec<u8>]) {
    let reply = zset::command::run(db, argv);
    client.zset_reply(ScoreShape::of(argv), &reply);
}

fn ping(_: &mut Db, client: &mut Client, argv: &[Vec<u8>]) {
    match argv.len() {
        1 => client.simple("PONG"),
        2 => client.bulk(&argv[1]),
        _ => client.error("ERR wrong number of arguments for 'ping' command"),
    }
}

fn echo(_: &mut Db, client: &mut Client, argv: &[Vec<u8>]) {
    client.bulk(&argv[1]);
}

fn get(db: &mut Db, client: &mut Client, argv: &[Vec<u8>]) {
    match db.live(&argv[1]) {
        None => client.null(),
        Some(Value::Str(s)) => client.bulk(s),
        Some(_) => client.error(WRONGTYPE),
    }
}

/// Stores `value` in `slot`, reusing its allocation unless that is much larger than needed.
fn overwrite(slot: &mut Vec<u8>, value: &[u8]) {
    if slot.capacity() <= 2 * value.len().max(32) {
        slot.clear();
        slot.extend_from_slice(value);
    } else {
        *slot = value.to_vec();
    }
}

/// `SET key value [NX|XX] [GET]`. Expiry options are refused rather than silently ignored: this
/// server has no clock-driven expiry. An existing string is overwritten in place.
fn set(db: &mut Db, client: &mut Client, argv: &[Vec<u8>]) {
    let (mut nx, mut xx, mut want_get) = (false, false, false);
    for opt in &argv[3..] {
        if opt.eq_ignore_ascii_case(b"NX") && !xx {
            nx = true;
        } else if opt.eq_ignore_ascii_case(b"XX") && !nx {
            xx = true;
        } else if opt.eq_ignore_ascii_case(b"GET") {
            want_get = true;
        } else {
            return client.error(SYNTAX);
        }
    }
    let (key, value) = (&argv[1], &argv[2]);
    match db.map.get_mut(key.as_slice()) {
        Some(Value::Str(old)) => {
            if want_get {
                client.bulk(old);
            }
            if nx {
                if !want_get {
                    client.null();
                }
                return;
            }
            overwrite(old, value);
        }
        Some(_) if want_get => return client.error(WRONGTYPE),
        Some(_) if nx => return client.null(),
        Some(other) => *other = Value::Str(value.clone()),
        None if xx => return client.null(),
        None => {
            db.map.insert(key.clone(), Value::Str(value.clone()));
            if want_get {
                return client.null();
            }
        }
    }
    if !want_get {
        client.ok();
    }
}

fn incr(db: &mut Db, client: &mut Client, argv: &[Vec<u8>]) {
    let slot = match db.map.get_mut(argv[1].as_slice()) {
        None => None,
        Some(Value::Str(s)) => Some(s),
        Some(_) => return client.error(WRONGTYPE),
    };
    let current = match &slot {
        None => 0,
        Some(s) => match parse_i64(s) {
            Some(n) => n,
            None => return client.error("ERR value is not an integer or out of range"),
        },
    };
    let Some(next) = current.checked_add(1) else {
        return client.error("ERR increment or decrement would overflow");
    };
    match slot {
        Some(s) => {
            s.clear();
            push_int(s, next);
        }
        None => {
            let mut s = Vec::new();
            push_int(&mut s, next);
            db.map.insert(argv[1].clone(), Value::Str(s));
        }
    }
    client.int(next);
}

fn del(db: &mut Db, client: &mut Client, argv: &[Vec<u8>]) {
    let n = argv[1..]
        .iter()
        .filter(|k| db.map.remove(k.as_slice()).is_some())
        .count();
    client.int(n as i64);
}

fn exists(db: &mut Db, client: &mut Client, argv: &[Vec<u8>]) {
    let n = argv[1..].iter().filter(|k| db.map.contains_key(*k)).count();
    client.int(n as i64);
}

fn type_(db: &mut Db, client: &mut Client, argv: &[Vec<u8>]) {
    client.simple(match db.live(&argv[1]) {
        None => "none",
        Some(Value::Str(_)) => "string",
        Some(Value::Zset(_)) => "zset",
    });
}

fn dbsize(db: &mut Db, client: &mut Client, _: &[Vec<u8>]) {
    client.int(db.map.len() as i64);
}

fn flushdb(db: &mut Db, client: &mut Client, argv: &[Vec<u8>]) {
    if argv.len() > 2
        || argv
            .get(1)
            .is_some_and(|a| !(a.eq_ignore_ascii_case(b"SYNC") || a.eq_ignore_ascii_case(b"ASYNC")))
    {
        return client.error(SYNTAX);
    }
    db.map.clear();
    client.ok();
}

fn select(_: &mut Db, client: &mut Client, argv: &[Vec<u8>]) {
    match parse_i64(&argv[1]) {
        Some(0) => client.ok(),
        Some(_) => client.error("ERR DB index is out of range"),
        None => client.error("ERR value is not an integer or out of range"),
    }
}

fn quit(_: &mut Db, client: &mut Client, _: &[Vec<u8>]) {
    client.ok();
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

fn object(db: &mut Db, client: &mut Client, argv: &[Vec<u8>]) {
    let sub = argv[1].to_ascii_uppercase();
    match (sub.as_slice(), argv.len()) {
        (b"ENCODING", 3) => match db.live(&argv[2]) {
            None => client.null(),
            Some(Value::Str(s)) => client.bulk(string_encoding(s).as_bytes()),
            Some(Value::Zset(z)) => client.bulk(z.encoding().as_bytes()),
        },
        (b"HELP", _) => {
            client.array(1);
            client.simple("OBJECT ENCODING <key>");
        }
        _ => client.error(&format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try OBJECT HELP.",
            String::from_utf8_lossy(&argv[1])
        )),
    }
}

/// The listpack limits as the configuration says (Redis's `zset-max-listpack-*`, alias `ziplist`).
fn limits_of(config: &[(String, String)]) -> Limits {
    let get = |name: &str| {
        config
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.parse().ok())
    };
    let default = Limits::default();
    Limits {
        max_listpack_entries: get("zset-max-listpack-entries")
            .unwrap_or(default.max_listpack_entries),
        max_listpack_value: get("zset-max-listpack-value").unwrap_or(default.max_listpack_value),
    }
}

/// The other name of a config parameter that has two (Redis 7 keeps the pre-7 `ziplist` names).
fn alias(name: &str) -> Option<String> {
    if let Some(rest) = name.strip_prefix("zset-max-listpack-") {
        Some(format!("zset-max-ziplist-{rest}"))
    } else {
        name.strip_prefix("zset-max-ziplist-")
            .map(|rest| format!("zset-max-listpack-{rest}"))
    }
}

fn config(db: &mut Db, client: &mut Client, argv: &[Vec<u8>]) {
    let sub = argv[1].to_ascii_uppercase();
    match sub.as_slice() {
        b"GET" if argv.len() >= 3 => {
            let mut found: Vec<&(String, String)> = Vec::new();
            for pattern in &argv[2..] {
                let pattern = String::from_utf8_lossy(pattern).to_ascii_lowercase();
                for entry in &db.config {
                    if glob_match(pattern.as_bytes(), entry.0.as_bytes())
                        && !found.iter().any(|f| f.0 == entry.0)
                    {
                        found.push(entry);
                    }
                }
            }
            client.map(found.len());
            for (n, v) in found {
                client.bulk(n.as_bytes());
                client.bulk(v.as_bytes());
            }
        }
        b"SET" if argv.len() >= 4 && argv.len().is_multiple_of(2) => {
            for pair in argv[2..].chunks(2) {
                let name = String::from_utf8_lossy(&pair[0]).to_ascii_lowercase();
                let value = String::from_utf8_lossy(&pair[1]).into_owned();
                if !db.config.iter().any(|(n, _)| *n == name) {
                    return client.error(&format!(
                        "ERR Unknown option or number of arguments for CONFIG SET - '{name}'"
                    ));
                }
                if name.starts_with("zset-") && value.parse::<u64>().is_err() {
                    return client.error(&format!(
                        "ERR CONFIG SET failed (possibly related to argument '{name}') - argument couldn't be parsed into an integer"
                    ));
                }
                let other = alias(&name);
                for (n, v) in db.config.iter_mut() {
                    if *n == name || Some(&*n) == other.as_ref() {
                        v.clone_from(&value);
                    }
                }
            }
            db.limits = limits_of(&db.config);
            client.ok();
        }
        b"RESETSTAT" if argv.len() == 2 => {
            db.stats.fill(CmdStat::default());
            client.ok();
        }
        _ => client.error(&format!(
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

fn command(_: &mut Db, client: &mut Client, argv: &[Vec<u8>]) {
    let sub = argv.get(1).map(|s| s.to_ascii_uppercase());
    match sub.as_deref() {
        None | Some(b"INFO") => {
            let shown: Vec<&Command> = COMMANDS
                .iter()
                .filter(|c| {
                    argv.len() <= 2
                        || argv[2..]
                            .iter()
                            .any(|a| a.eq_ignore_ascii_case(c.name.as_bytes()))
                })
                .collect();
            client.array(shown.len());
            for c in shown {
                client.array(6);
                client.bulk(c.name.as_bytes());
                client.int(c.arity as i64);
                client.array(0);
                client.int(0);
                client.int(0);
                client.int(0);
            }
        }
        Some(b"COUNT") => client.int(COMMANDS.len() as i64),
        // redis-cli asks for the docs to show hints; an empty map is a valid answer.
        Some(b"DOCS") => client.map(0),
        _ => client.error(&format!(
            "ERR unknown subcommand '{}'. Try COMMAND HELP.",
            String::from_utf8_lossy(&argv[1])
        )),
    }
}

/// Redis's rule for client names (`CLIENT SETNAME`, `HELLO ... SETNAME`): printable ASCII, no
/// spaces. An empty name clears it.
pub fn valid_client_name(name: &[u8]) -> bool {
    name.iter().all(|&b| (b'!'..=b'~').contains(&b))
}

const BAD_NAME: &str = "ERR Client names cannot contain spaces, newlines or special characters.";

/// `HELLO [protover [AUTH username password] [SETNAME name]]`, with Redis 7.0's checks in its
/// order: the version (an integer, then 2 or 3), the options' syntax, the credentials (the only
/// user is `default`, with no password, as on a fresh Redis), the name; only then does the
/// connection switch protocol.
fn hello(_: &mut Db, client: &mut Client, argv: &[Vec<u8>]) {
    let mut proto = client.proto;
    if let Some(v) = argv.get(1) {
        proto = match parse_i64(v) {
            Some(2) => Proto::Resp2,
            Some(3) => Proto::Resp3,
            Some(_) => return client.error("NOPROTO unsupported protocol version"),
            None => return client.error("ERR Protocol version is not an integer or out of range"),
        };
    }
    let (mut user, mut name) = (None, None);
    let mut i = 2;
    while i < argv.len() {
        let more = argv.len() - i - 1;
        if argv[i].eq_ignore_ascii_case(b"AUTH") && more >= 2 {
            user = Some(&argv[i + 1]);
            i += 3;
        } else if argv[i].eq_ignore_ascii_case(b"SETNAME") && more >= 1 {
            name = Some(&argv[i + 1]);
            i += 2;
        } else {
            return client.error(&format!(
                "ERR Syntax error in HELLO option '{}'",
                String::from_utf8_lossy(&argv[i])
            ));
        }
    }
    if user.is_some_and(|u| u.as_slice() != b"default") {
        return client.error("WRONGPASS invalid username-password pair or user is disabled.");
    }
    if let Some(n) = name {
        if !valid_client_name(n) {
            return client.error(BAD_NAME);
        }
        client.name = (!n.is_empty()).then(|| n.clone());
    }
    client.proto = proto;
    client.map(7);
    client.bulk(b"server");
    client.bulk(b"redis");
    client.bulk(b"version");
    client.bulk(REDIS_VERSION.as_bytes());
    client.bulk(b"proto");
    client.int(proto.number());
    client.bulk(b"id");
    client.int(client.id as i64);
    client.bulk(b"mode");
    client.bulk(b"standalone");
    client.bulk(b"role");
    client.bulk(b"master");
    client.bulk(b"modules");
    client.array(0);
}

fn client_command(_: &mut Db, client: &mut Client, argv: &[Vec<u8>]) {
    let sub = argv[1].to_ascii_uppercase();
    match (sub.as_slice(), argv.len()) {
        (b"SETNAME", 3) => {
            if !valid_client_name(&argv[2]) {
                return client.error(BAD_NAME);
            }
            client.name = (!argv[2].is_empty()).then(|| argv[2].clone());
            client.ok();
        }
        (b"SETINFO" | b"NO-EVICT" | b"NO-TOUCH" | b"REPLY", _) => client.ok(),
        (b"GETNAME", 2) => match client.name.clone() {
            Some(n) => client.bulk(&n),
            None => client.null(),
        },
        (b"ID", 2) => client.int(client.id as i64),
        _ => client.error(&format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try CLIENT HELP.",
            String::from_utf8_lossy(&argv[1])
        )),
    }
}

/// `RESET`: the connection goes back to RESP2 and loses its name, as in Redis.
fn reset(_: &mut Db, client: &mut Client, _: &[Vec<u8>]) {
    client.proto = Proto::Resp2;
    client.name = None;
    client.simple("RESET");
}

/// The Redis version this server imitates, reported as `redis_version` so clients that check it work.
pub const REDIS_VERSION: &str = "7.0.15";

fn info(db: &mut Db, client: &mut Client, argv: &[Vec<u8>]) {
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
            "# Server\r\nredis_version:{REDIS_VERSION}\r\nredis_mode:standalone\r\nrespd_version:{}\r\nrespd_mode:{}\r\nmultiplexing_api:tokio\r\nprocess_id:{}\r\ntcp_port:{}\r\nuptime_in_seconds:{}\r\nio_threads_active:0\r\nrespd_executor_threads:{}\r\n\r\n",
            env!("CARGO_PKG_VERSION"),
            db.mode.name(),
            std::process::id(),
            db.port,
            db.started.elapsed().as_secs(),
            db.executor_threads.len(),
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
        // The table is sorted by name, as Redis sorts this section.
        for (c, s) in COMMANDS.iter().zip(&db.stats).filter(|(_, s)| s.calls > 0) {
            let usec = s.nanos as f64 / 1000.0;
            out.push_str(&format!(
                "cmdstat_{}:calls={},usec={},usec_per_call={:.2},rejected_calls=0,failed_calls=0\r\n",
                c.name,
                s.calls,
                s.nanos / 1000,
                usec / s.calls as f64
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
    client.verbatim((out.trim_end().to_string() + "\r\n").as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(db: &mut Db, client: &mut Client, args: &[&str]) -> String {
        let argv: Vec<Vec<u8>> = args.iter().map(|a| a.as_bytes().to_vec()).collect();
        client.out.clear();
        db.execute(client, &argv);
        String::from_utf8_lossy(&client.out).into_owned()
    }

    fn fresh() -> (Db, Client) {
        (Db::new(Mode::Single, 0), Client::new(1))
    }

    #[test]
    fn the_command_table_is_sorted_and_matches_zset() {
        for pair in COMMANDS.windows(2) {
            assert!(
                pair[0].name < pair[1].name,
                "{} before {}",
                pair[0].name,
                pair[1].name
            );
        }
        for (i, c) in COMMANDS.iter().enumerate() {
            assert_eq!(lookup(c.name.as_bytes()), Some(i), "{}", c.name);
            assert_eq!(
                lookup(c.name.to_uppercase().as_bytes()),
                Some(i),
                "{}",
                c.name
            );
            assert!(c.name.len() <= MAX_NAME, "{}", c.name);
        }
        for c in COMMANDS.iter().filter(|c| c.name.starts_with('z')) {
            assert_eq!(zset::command::arity(c.name), Some(c.arity), "{}", c.name);
        }
        assert_eq!(lookup(b"zRaNk").map(|i| COMMANDS[i].name), Some("zrank"));
        // Counterexamples: a prefix, a longer name, a name longer than any buffer.
        assert_eq!(lookup(b"zran"), None);
        assert_eq!(lookup(b"zranks"), None);
        assert_eq!(lookup(&[b'z'; 100]), None);
    }

    #[test]
    fn errors_read_as_redis_writes_them() {
        let (mut db, mut c) = fresh();
        assert_eq!(
            run(&mut db, &mut c, &["foo", "bar", "baz"]),
            "-ERR unknown command 'foo', with args beginning with: 'bar' 'baz' \r\n"
        );
        assert_eq!(
            run(&mut db, &mut c, &["GET"]),
            "-ERR wrong number of arguments for 'get' command\r\n"
        );
        run(&mut db, &mut c, &["SET", "k", "v"]);
        assert_eq!(
            run(&mut db, &mut c, &["INCR", "k"]),
            "-ERR value is not an integer or out of range\r\n"
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
        let (mut db, mut c) = fresh();
        assert_eq!(run(&mut db, &mut c, &["SET", "k", "12"]), "+OK\r\n");
        assert_eq!(run(&mut db, &mut c, &["INCR", "k"]), ":13\r\n");
        assert_eq!(run(&mut db, &mut c, &["INCR", "n"]), ":1\r\n");
        assert_eq!(run(&mut db, &mut c, &["SET", "k", "x", "NX"]), "$-1\r\n");
        assert_eq!(run(&mut db, &mut c, &["GET", "k"]), "$2\r\n13\r\n");
        assert_eq!(run(&mut db, &mut c, &["TYPE", "k"]), "+string\r\n");
        assert_eq!(
            run(&mut db, &mut c, &["OBJECT", "ENCODING", "k"]),
            "$3\r\nint\r\n"
        );
        assert_eq!(run(&mut db, &mut c, &["EXISTS", "k", "k", "no"]), ":2\r\n");
        assert_eq!(run(&mut db, &mut c, &["DEL", "k", "no", "n"]), ":2\r\n");
        assert_eq!(run(&mut db, &mut c, &["DBSIZE"]), ":0\r\n");
    }

    // SET's options as Redis 7.0.15 answers them (checked with a raw socket), except EX, which
    // this server refuses.
    #[test]
    fn set_options() {
        let (mut db, mut c) = fresh();
        assert_eq!(run(&mut db, &mut c, &["SET", "k", "a", "XX"]), "$-1\r\n");
        assert_eq!(run(&mut db, &mut c, &["SET", "k", "a", "GET"]), "$-1\r\n");
        assert_eq!(
            run(&mut db, &mut c, &["SET", "k", "bb", "GET"]),
            "$1\r\na\r\n"
        );
        assert_eq!(
            run(&mut db, &mut c, &["SET", "k", "c", "NX", "GET"]),
            "$2\r\nbb\r\n"
        );
        assert_eq!(run(&mut db, &mut c, &["GET", "k"]), "$2\r\nbb\r\n");
        assert_eq!(
            run(&mut db, &mut c, &["SET", "k", "c", "NX", "XX"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            run(&mut db, &mut c, &["SET", "k", "c", "EX", "1"]),
            "-ERR syntax error\r\n"
        );
        run(&mut db, &mut c, &["ZADD", "z", "1", "m"]);
        assert_eq!(
            run(&mut db, &mut c, &["SET", "z", "v", "GET"]),
            format!("-{WRONGTYPE}\r\n")
        );
        assert_eq!(run(&mut db, &mut c, &["SET", "z", "v", "NX"]), "$-1\r\n");
        assert_eq!(run(&mut db, &mut c, &["SET", "z", "v"]), "+OK\r\n");
        assert_eq!(run(&mut db, &mut c, &["TYPE", "z"]), "+string\r\n");
    }

    // A value overwritten in place must not keep bytes of the longer old value.
    #[test]
    fn overwriting_in_place_keeps_only_the_new_bytes() {
        let mut slot = b"a long old value".to_vec();
        overwrite(&mut slot, b"new");
        assert_eq!(slot, b"new");
        let mut big = vec![0u8; 10_000];
        overwrite(&mut big, b"x");
        assert_eq!(big, b"x");
        assert!(
            big.capacity() < 10_000,
            "a huge old allocation is given back"
        );
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
        let (mut db, mut c) = fresh();
        let got = run(&mut db, &mut c, &["CONFIG", "GET", "zset-max-listpack-*"]);
        assert!(got.starts_with("*4\r\n"), "{got:?}");
        c.proto = Proto::Resp3;
        let got = run(&mut db, &mut c, &["CONFIG", "GET", "zset-max-listpack-*"]);
        assert!(got.starts_with("%2\r\n"), "{got:?}");
        assert!(glob_match(b"sa?e", b"save"));
        assert!(!glob_match(b"save", b"saves"));
    }

    // CONFIG SET of a listpack limit reaches ZADD (and its ziplist alias follows).
    #[test]
    fn config_set_changes_the_encoding_threshold() {
        let (mut db, mut c) = fresh();
        assert_eq!(
            run(
                &mut db,
                &mut c,
                &["CONFIG", "SET", "zset-max-ziplist-entries", "2"]
            ),
            "+OK\r\n"
        );
        assert_eq!(db.config_value("zset-max-listpack-entries"), Some("2"));
        run(&mut db, &mut c, &["ZADD", "z", "1", "a", "2", "b"]);
        assert_eq!(
            run(&mut db, &mut c, &["OBJECT", "ENCODING", "z"]),
            "$8\r\nlistpack\r\n"
        );
        run(&mut db, &mut c, &["ZADD", "z", "3", "c"]);
        assert_eq!(
            run(&mut db, &mut c, &["OBJECT", "ENCODING", "z"]),
            "$8\r\nskiplist\r\n"
        );
    }

    #[test]
    fn commandstats_count_calls() {
        let (mut db, mut c) = fresh();
        run(&mut db, &mut c, &["PING"]);
        run(&mut db, &mut c, &["ping"]);
        let info = run(&mut db, &mut c, &["INFO", "commandstats"]);
        assert!(info.contains("cmdstat_ping:calls=2,"), "{info}");
        assert!(!info.contains("cmdstat_get"), "{info}");
        c.proto = Proto::Resp3;
        let info = run(&mut db, &mut c, &["INFO", "commandstats"]);
        assert!(
            info.starts_with('=') && info.contains("\r\ntxt:# Commandstats"),
            "{info}"
        );
    }

    // Counterexample to single mode's one thread: commands from a second thread are counted.
    #[test]
    fn executor_threads_are_counted_once_each() {
        let (mut db, mut c) = fresh();
        db.note_executor_thread();
        db.note_executor_thread();
        let one = run(&mut db, &mut c, &["INFO", "server"]);
        assert!(one.contains("respd_executor_threads:1\r\n"), "{one}");
        std::thread::scope(|s| {
            s.spawn(|| db.note_executor_thread());
        });
        let two = run(&mut db, &mut c, &["INFO", "server"]);
        assert!(two.contains("respd_executor_threads:2\r\n"), "{two}");
    }

    // HELLO's checks in Redis 7.0.15's order (observed with a raw socket).
    #[test]
    fn hello_switches_protocol_only_when_everything_checks_out() {
        let (mut db, mut c) = fresh();
        for (args, want) in [
            (
                &["HELLO", "4"][..],
                "-NOPROTO unsupported protocol version\r\n",
            ),
            (&["HELLO", "1"], "-NOPROTO unsupported protocol version\r\n"),
            (
                &["HELLO", "03"],
                "-ERR Protocol version is not an integer or out of range\r\n",
            ),
            (
                &["HELLO", "AUTH", "a", "b"],
                "-ERR Protocol version is not an integer or out of range\r\n",
            ),
            (
                &["HELLO", "3", "foo"],
                "-ERR Syntax error in HELLO option 'foo'\r\n",
            ),
            (
                &["HELLO", "3", "AUTH", "x"],
                "-ERR Syntax error in HELLO option 'AUTH'\r\n",
            ),
            (
                &["HELLO", "3", "AUTH", "bob", "pw"],
                "-WRONGPASS invalid username-password pair or user is disabled.\r\n",
            ),
            (
                &["HELLO", "3", "SETNAME", "a b"],
                "-ERR Client names cannot contain spaces, newlines or special characters.\r\n",
            ),
        ] {
            assert_eq!(run(&mut db, &mut c, args), want, "{args:?}");
            assert_eq!(c.proto, Proto::Resp2, "{args:?} must not switch");
        }
        let got = run(
            &mut db,
            &mut c,
            &["HELLO", "3", "AUTH", "default", "x", "SETNAME", "n"],
        );
        assert!(got.starts_with("%7\r\n$6\r\nserver\r\n"), "{got:?}");
        assert!(got.contains("$5\r\nproto\r\n:3\r\n"), "{got:?}");
        assert_eq!(c.proto, Proto::Resp3);
        assert_eq!(run(&mut db, &mut c, &["CLIENT", "GETNAME"]), "$1\r\nn\r\n");
        assert_eq!(run(&mut db, &mut c, &["GET", "nokey"]), "_\r\n");
        assert_eq!(run(&mut db, &mut c, &["RESET"]), "+RESET\r\n");
        assert_eq!(c.proto, Proto::Resp2);
        assert_eq!(run(&mut db, &mut c, &["GET", "nokey"]), "$-1\r\n");
    }
}
