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

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use cache::pool::EvictionPool;
use cache::rng::Rng;
use zset::SortedSet;
use zset::command::{KeyAccess, Limits, WrongType};

use crate::expiry::{
    ExpireFlags, expire_deadline, expire_flags_allow, parse_expire_flags, parse_set_options,
    set_deadline, ttl_reply, unix_ms,
};
use crate::memory::{self, EvictConfig, OOM, Touch, entry_cost};
use crate::reply::{Client, Proto, ScoreShape, push_int};
use crate::resp::parse_i64;
use crate::table::KeyTable;

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

/// A key's slot: its value and Redis's 24-bit `lru` field (the last access in seconds under an
/// LRU policy, the LFU minute and counter under an LFU one), which eviction ranks keys by.
#[derive(Debug)]
pub struct Entry {
    pub value: Value,
    pub lru: u32,
}

/// The `INFO stats` counters of expiry, eviction and lookups.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct KeyStats {
    pub expired_keys: u64,
    pub evicted_keys: u64,
    pub keyspace_hits: u64,
    pub keyspace_misses: u64,
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
    /// The keyspace. A [`KeyTable`] rather than std's `HashMap`, because eviction and the active
    /// expire cycle sample *random* keys, which std's map cannot do.
    pub(crate) map: KeyTable<Entry>,
    /// Deadlines in Unix ms of the keys that have one (Redis's `db->expires`).
    pub(crate) expires: KeyTable<i64>,
    /// The lab's byte count of `map` and `expires` ([`crate::memory`]).
    pub(crate) used: usize,
    pub(crate) evict: EvictConfig,
    /// What a key access writes into [`Entry::lru`]; its clocks are refreshed by [`Db::cron`].
    pub(crate) touch: Touch,
    pub(crate) pool: EvictionPool<Vec<u8>>,
    /// Sampling for eviction and the expire cycle, and LFU's coin flips.
    pub(crate) rng: Rng,
    pub(crate) stats: KeyStats,
    /// `DEBUG SET-ACTIVE-EXPIRE 0|1`: whether the timer runs the active expire cycle.
    pub(crate) active_expire_enabled: bool,
    /// Set by sorted-set commands that write, so their key lookups count no hit or miss.
    zset_write: bool,
    /// One entry per [`COMMANDS`] row, same index.
    cmdstats: Vec<CmdStat>,
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
    /// Redis's `denyoom` flag: refused with `-OOM` when over `maxmemory` and nothing can be evicted.
    pub denyoom: bool,
    run: Handler,
}

const fn c(name: &'static str, arity: i32, run: Handler) -> Command {
    Command {
        name,
        arity,
        denyoom: false,
        run,
    }
}

/// A command that may grow the keyspace.
const fn d(name: &'static str, arity: i32, run: Handler) -> Command {
    Command {
        name,
        arity,
        denyoom: true,
        run,
    }
}

/// Every command, sorted by name as `INFO commandstats` lists them; [`lookup`] maps a name to its
/// row (a test checks both, and that the sorted-set arities are `zset::command`'s).
pub static COMMANDS: &[Command] = &[
    c("client", -2, client_command),
    c("command", -1, command),
    c("config", -2, config),
    c("dbsize", 1, dbsize),
    c("debug", -2, debug),
    c("del", -2, del),
    c("echo", 2, echo),
    c("exists", -2, exists),
    c("expire", -3, expire),
    c("expireat", -3, expireat),
    c("flushall", -1, flushdb),
    c("flushdb", -1, flushdb),
    c("get", 2, get),
    c("hello", -1, hello),
    d("incr", 2, incr),
    c("info", -1, info),
    c("object", -2, object),
    c("persist", 2, persist),
    c("pexpire", -3, pexpire),
    c("pexpireat", -3, pexpireat),
    c("ping", -1, ping),
    c("pttl", 2, pttl),
    c("quit", -1, quit),
    c("reset", 1, reset),
    c("select", 2, select),
    d("set", -3, set),
    c("ttl", 2, ttl),
    c("type", 2, type_),
    d("zadd", -4, zset_command),
    c("zcard", 2, zset_command),
    c("zcount", 4, zset_command),
    d("zincrby", 4, zset_command),
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
        b"debug" => 4,
        b"del" => 5,
        b"echo" => 6,
        b"exists" => 7,
        b"expire" => 8,
        b"expireat" => 9,
        b"flushall" => 10,
        b"flushdb" => 11,
        b"get" => 12,
        b"hello" => 13,
        b"incr" => 14,
        b"info" => 15,
        b"object" => 16,
        b"persist" => 17,
        b"pexpire" => 18,
        b"pexpireat" => 19,
        b"ping" => 20,
        b"pttl" => 21,
        b"quit" => 22,
        b"reset" => 23,
        b"select" => 24,
        b"set" => 25,
        b"ttl" => 26,
        b"type" => 27,
        b"zadd" => 28,
        b"zcard" => 29,
        b"zcount" => 30,
        b"zincrby" => 31,
        b"zlexcount" => 32,
        b"zpopmax" => 33,
        b"zpopmin" => 34,
        b"zrange" => 35,
        b"zrangebylex" => 36,
        b"zrangebyscore" => 37,
        b"zrank" => 38,
        b"zrem" => 39,
        b"zremrangebylex" => 40,
        b"zremrangebyrank" => 41,
        b"zremrangebyscore" => 42,
        b"zrevrange" => 43,
        b"zrevrangebylex" => 44,
        b"zrevrangebyscore" => 45,
        b"zrevrank" => 46,
        b"zscore" => 47,
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
        let evict = EvictConfig::default();
        let mut db = Db {
            map: KeyTable::new(),
            expires: KeyTable::new(),
            used: 0,
            evict,
            touch: Touch {
                lfu: false,
                lru_clock: 0,
                minutes: 0,
                log_factor: evict.lfu_log_factor,
                decay_time: evict.lfu_decay_time,
            },
            pool: EvictionPool::default(),
            rng: Rng::new(0x5EED_4E5D ^ u64::from(port)),
            stats: KeyStats::default(),
            zset_write: false,
            active_expire_enabled: true,
            cmdstats: vec![CmdStat::default(); COMMANDS.len()],
            config: vec![
                ("zset-max-listpack-entries".into(), "128".into()),
                ("zset-max-listpack-value".into(), "64".into()),
                ("zset-max-ziplist-entries".into(), "128".into()),
                ("zset-max-ziplist-value".into(), "64".into()),
                ("save".into(), String::new()),
                ("appendonly".into(), "no".into()),
                ("maxmemory".into(), "0".into()),
                ("maxmemory-policy".into(), "noeviction".into()),
                ("maxmemory-samples".into(), "5".into()),
                ("lfu-log-factor".into(), "10".into()),
                ("lfu-decay-time".into(), "1".into()),
                ("hz".into(), "10".into()),
                ("active-expire-effort".into(), "1".into()),
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
        };
        db.refresh_clocks();
        db
    }

    /// Refreshes the LRU clock and the LFU minute from the system clock (Redis's `serverCron`
    /// updates `server.lruclock` the same way, once per tick).
    pub fn refresh_clocks(&mut self) {
        let ms = unix_ms().max(0) as u64;
        self.touch.lru_clock = cache::lruclock::lru_clock(ms);
        self.touch.minutes = cache::lfu::minutes(ms / 1000);
    }

    /// One tick of the server's `hz` timer: refresh the clocks, run the active expire cycle.
    /// Returns the interval until the next tick (`1000/hz` ms).
    pub fn cron(&mut self) -> std::time::Duration {
        self.refresh_clocks();
        if self.active_expire_enabled {
            self.active_expire_cycle();
        }
        std::time::Duration::from_micros(1_000_000 / u64::from(self.evict.hz.max(1)))
    }

    /// The settings of expiry and eviction.
    pub fn evict_config(&self) -> &EvictConfig {
        &self.evict
    }

    /// `expired_keys`, `evicted_keys`, `keyspace_hits`, `keyspace_misses`.
    pub fn key_stats(&self) -> KeyStats {
        self.stats
    }

    /// Keys in the keyspace, expired-but-not-yet-removed ones included (as `DBSIZE` counts).
    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Sets `key`'s last access to `secs` seconds ago, as `RESTORE … IDLETIME secs` does in Redis
    /// (LRU policies); false when the key is missing or an LFU policy is set. For Redis's LRU
    /// experiment, whose keys must be aged one second apart without waiting.
    pub fn set_idle_secs(&mut self, key: &[u8], secs: u64) -> bool {
        if self.touch.lfu {
            return false;
        }
        let lru = cache::lruclock::lru_for_idle(self.touch.lru_clock, secs);
        self.map.get_mut(key).map(|e| e.lru = lru).is_some()
    }

    /// Restarts the random numbers of sampling and LFU from `seed`, so a run can be replayed.
    pub fn reseed(&mut self, seed: u64) {
        self.rng = Rng::new(seed);
    }

    /// Inserts a new key (none must be there) with a fresh access field.
    pub(crate) fn insert_new(&mut self, key: &[u8], value: Value) {
        self.used += entry_cost(key, &value);
        let lru = self.touch.fresh();
        self.map.insert(key.to_vec(), Entry { value, lru });
    }

    /// Deletes `key` and its deadline; true if it existed.
    pub(crate) fn delete_key(&mut self, key: &[u8]) -> bool {
        self.remove_deadline(key);
        match self.map.remove(key) {
            Some(e) => {
                self.used -= entry_cost(key, &e.value);
                true
            }
            None => false,
        }
    }

    /// `lookupKeyRead`: lazy expiry, then the access touches the key and counts a hit or a miss.
    fn lookup_read(&mut self, key: &[u8]) -> Option<&mut Entry> {
        self.expire_if_needed(key);
        match self.map.get_mut(key) {
            Some(e) => {
                self.touch.touch(e, &mut self.rng);
                self.stats.keyspace_hits += 1;
                Some(e)
            }
            None => {
                self.stats.keyspace_misses += 1;
                None
            }
        }
    }

    /// `lookupKeyReadWithFlags(LOOKUP_NOTOUCH)` (EXISTS, TYPE, TTL, OBJECT): counts, no touch.
    fn lookup_notouch(&mut self, key: &[u8]) -> Option<&Entry> {
        self.expire_if_needed(key);
        match self.map.get(key) {
            Some(e) => {
                self.stats.keyspace_hits += 1;
                Some(e)
            }
            None => {
                self.stats.keyspace_misses += 1;
                None
            }
        }
    }

    /// `lookupKeyWrite`: lazy expiry and a touch, no hit or miss counted.
    fn lookup_write(&mut self, key: &[u8]) -> Option<&mut Entry> {
        self.expire_if_needed(key);
        let e = self.map.get_mut(key)?;
        self.touch.touch(e, &mut self.rng);
        Some(e)
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
        // processCommand: with maxmemory set, evict before any command; a command that may grow
        // memory is refused when nothing more can be evicted.
        if self.evict.maxmemory != 0 && !self.perform_evictions() && cmd.denyoom {
            client.error(OOM);
            return since;
        }
        (cmd.run)(self, client, argv);
        let end = Instant::now();
        let s = &mut self.cmdstats[i];
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
}

impl KeyAccess for Db {
    // Lazy expiry already ran in `zset_command`, and the byte count is settled there once the
    // command is done, so these three only look up, insert and remove.
    fn get_zset(&mut self, key: &[u8]) -> Result<Option<&mut SortedSet>, WrongType> {
        let found = self.map.get_mut(key);
        if !self.zset_write {
            if found.is_some() {
                self.stats.keyspace_hits += 1;
            } else {
                self.stats.keyspace_misses += 1;
            }
        }
        match found {
            None => Ok(None),
            Some(e) => {
                self.touch.touch(e, &mut self.rng);
                match &mut e.value {
                    Value::Zset(z) => Ok(Some(z)),
                    _ => Err(WrongType),
                }
            }
        }
    }

    fn create_zset(&mut self, key: &[u8], set: SortedSet) -> &mut SortedSet {
        let lru = self.touch.fresh();
        let value = Value::Zset(Box::new(set));
        self.map.insert(key.to_vec(), Entry { value, lru });
        match self.map.get_mut(key).map(|e| &mut e.value) {
            Some(Value::Zset(z)) => z,
            // Just inserted as a sorted set under `key`.
            _ => unreachable!("a sorted set was just stored at this key"),
        }
    }

    fn delete(&mut self, key: &[u8]) {
        self.map.remove(key);
        if !self.expires.is_empty() {
            self.expires.remove(key);
        }
    }

    fn limits(&self) -> Limits {
        self.limits
    }
}

/// Every sorted-set command: `zset::command::run` builds the reply, which is then written with
/// its scores typed for the connection's protocol.
/// The sorted-set commands that write: their lookups count no keyspace hit or miss
/// (`lookupKeyWrite`).
const ZSET_WRITES: &[&str] = &[
    "zadd",
    "zincrby",
    "zrem",
    "zpopmin",
    "zpopmax",
    "zremrangebylex",
    "zremrangebyrank",
    "zremrangebyscore",
];

fn zset_command(db: &mut Db, client: &mut Client, argv: &[Vec<u8>]) {
    let key = argv[1].as_slice();
    db.expire_if_needed(key);
    let cost = |db: &Db| {
        db.map.get(key).map_or(0, |e| entry_cost(key, &e.value))
            + db.expires
                .get(key)
                .map_or(0, |_| memory::EXPIRE_OVERHEAD + key.len())
    };
    let before = cost(db);
    db.zset_write = ZSET_WRITES
        .iter()
        .any(|w| argv[0].eq_ignore_ascii_case(w.as_bytes()));
    let reply = zset::command::run(db, argv);
    db.used = db.used + cost(db) - before;
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
    match db.lookup_read(&argv[1]).map(|e| &e.value) {
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

/// `SET key value [NX|XX] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL]`, as Redis 7.0's
/// `setGenericCommand`: options first (syntax), then the expire value, then `GET`'s read of the
/// old value, then NX/XX. The key's TTL goes unless KEEPTTL. An existing string is overwritten in
/// place.
fn set(db: &mut Db, client: &mut Client, argv: &[Vec<u8>]) {
    let opts = match parse_set_options(&argv[3..]) {
        Ok(o) => o,
        Err(e) => return client.error(e),
    };
    let deadline = match opts.expire {
        None => None,
        Some((kind, arg)) => match set_deadline(kind, arg, unix_ms()) {
            Ok(when) => Some(when),
            Err(e) => return client.error(&e),
        },
    };
    let (key, value) = (argv[1].as_slice(), argv[2].as_slice());
    if opts.get {
        match db.lookup_read(key).map(|e| &e.value) {
            Some(Value::Str(old)) => client.bulk(old),
            Some(_) => return client.error(WRONGTYPE),
            None => client.null(),
        }
    }
    let reply_ok = !opts.get;
    match db.lookup_write(key) {
        Some(_) if opts.nx => {
            if reply_ok {
                client.null();
            }
            return;
        }
        Some(e) => {
            let old = memory::value_cost(&e.value);
            match &mut e.value {
                Value::Str(s) => overwrite(s, value),
                other => *other = Value::Str(value.to_vec()),
            }
            db.used = db.used + value.len() - old;
        }
        None if opts.xx => {
            if reply_ok {
                client.null();
            }
            return;
        }
        None => db.insert_new(key, Value::Str(value.to_vec())),
    }
    if !opts.keepttl {
        db.remove_deadline(key);
    }
    if let Some(when) = deadline {
        db.set_deadline(key, when);
    }
    if reply_ok {
        client.ok();
    }
}

fn incr(db: &mut Db, client: &mut Client, argv: &[Vec<u8>]) {
    let slot = match db.lookup_write(&argv[1]).map(|e| &mut e.value) {
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
            let old = s.len();
            s.clear();
            push_int(s, next);
            let new = s.len();
            db.used = db.used + new - old;
        }
        None => {
            let mut s = Vec::new();
            push_int(&mut s, next);
            db.insert_new(&argv[1], Value::Str(s));
        }
    }
    client.int(next);
}

fn del(db: &mut Db, client: &mut Client, argv: &[Vec<u8>]) {
    let n = argv[1..]
        .iter()
        .filter(|k| {
            // An expired key is removed (and counted as expired), not deleted.
            db.expire_if_needed(k);
            db.delete_key(k)
        })
        .count();
    client.int(n as i64);
}

fn exists(db: &mut Db, client: &mut Client, argv: &[Vec<u8>]) {
    let n = argv[1..]
        .iter()
        .filter(|k| db.lookup_notouch(k).is_some())
        .count();
    client.int(n as i64);
}

fn type_(db: &mut Db, client: &mut Client, argv: &[Vec<u8>]) {
    client.simple(match db.lookup_notouch(&argv[1]).map(|e| &e.value) {
        None => "none",
        Some(Value::Str(_)) => "string",
        Some(Value::Zset(_)) => "zset",
    });
}

/// `EXPIRE`, `PEXPIRE`, `EXPIREAT`, `PEXPIREAT` (`expireGenericCommand`): flags, then the number
/// and its overflow checks, then the key (`lookupKeyWrite`), then NX/XX/GT/LT against its current
/// deadline. A deadline already past deletes the key (and replies 1).
fn expire_generic(db: &mut Db, client: &mut Client, argv: &[Vec<u8>], seconds: bool, at: bool) {
    let name = String::from_utf8_lossy(&argv[0]).to_ascii_lowercase();
    let flags: ExpireFlags = match parse_expire_flags(&argv[3..]) {
        Ok(f) => f,
        Err(e) => return client.error(&e),
    };
    let now = unix_ms();
    let when = match expire_deadline(&name, &argv[2], seconds, if at { 0 } else { now }) {
        Ok(w) => w,
        Err(e) => return client.error(&e),
    };
    let key = argv[1].as_slice();
    if db.lookup_write(key).is_none() {
        return client.int(0);
    }
    if !expire_flags_allow(flags, db.deadline(key), when) {
        return client.int(0);
    }
    if when <= now {
        db.delete_key(key);
    } else {
        db.set_deadline(key, when);
    }
    client.int(1);
}

fn expire(db: &mut Db, client: &mut Client, argv: &[Vec<u8>]) {
    expire_generic(db, client, argv, true, false);
}

fn pexpire(db: &mut Db, client: &mut Client, argv: &[Vec<u8>]) {
    expire_generic(db, client, argv, false, false);
}

fn expireat(db: &mut Db, client: &mut Client, argv: &[Vec<u8>]) {
    expire_generic(db, client, argv, true, true);
}

fn pexpireat(db: &mut Db, client: &mut Client, argv: &[Vec<u8>]) {
    expire_generic(db, client, argv, false, true);
}

/// `TTL`/`PTTL`: -2 without the key, -1 without a deadline, else the time left.
fn ttl_generic(db: &mut Db, client: &mut Client, argv: &[Vec<u8>], in_ms: bool) {
    let key = argv[1].as_slice();
    if db.lookup_notouch(key).is_none() {
        return client.int(-2);
    }
    match db.deadline(key) {
        None => client.int(-1),
        Some(when) => client.int(ttl_reply(when, unix_ms(), in_ms)),
    }
}

fn ttl(db: &mut Db, client: &mut Client, argv: &[Vec<u8>]) {
    ttl_generic(db, client, argv, false);
}

fn pttl(db: &mut Db, client: &mut Client, argv: &[Vec<u8>]) {
    ttl_generic(db, client, argv, true);
}

fn persist(db: &mut Db, client: &mut Client, argv: &[Vec<u8>]) {
    let key = argv[1].as_slice();
    let removed = db.lookup_write(key).is_some() && db.remove_deadline(key);
    client.int(i64::from(removed));
}

/// `DEBUG SET-ACTIVE-EXPIRE 0|1`, the one DEBUG subcommand here: it lets a test watch expired keys
/// that only lazy expiry may remove.
fn debug(db: &mut Db, client: &mut Client, argv: &[Vec<u8>]) {
    if argv[1].eq_ignore_ascii_case(b"SET-ACTIVE-EXPIRE") && argv.len() == 3 {
        db.active_expire_enabled = parse_i64(&argv[2]).is_some_and(|n| n != 0);
        return client.ok();
    }
    client.error(&format!(
        "ERR unknown subcommand '{}'. Try DEBUG HELP.",
        String::from_utf8_lossy(&argv[1])
    ));
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
    db.expires.clear();
    db.used = 0;
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

/// `OBJECT ENCODING|FREQ|IDLETIME|REFCOUNT key` (no touch). FREQ needs an LFU policy and
/// IDLETIME an LRU one; each refuses with Redis's text under the other family.
fn object(db: &mut Db, client: &mut Client, argv: &[Vec<u8>]) {
    let sub = argv[1].to_ascii_uppercase();
    let known = [b"ENCODING".as_slice(), b"FREQ", b"IDLETIME", b"REFCOUNT"];
    if sub.as_slice() == b"HELP" {
        client.array(1);
        return client.simple("OBJECT ENCODING <key>");
    }
    if !known.contains(&sub.as_slice()) {
        return client.error(&format!(
            "ERR unknown subcommand '{}'. Try OBJECT HELP.",
            String::from_utf8_lossy(&argv[1])
        ));
    }
    if argv.len() != 3 {
        return client.error(&format!(
            "ERR wrong number of arguments for 'object|{}' command",
            String::from_utf8_lossy(&sub).to_ascii_lowercase()
        ));
    }
    let lfu = db.evict.policy.is_lfu();
    let touch = db.touch;
    let Some(e) = db.lookup_notouch(&argv[2]) else {
        return client.null();
    };
    match sub.as_slice() {
        b"ENCODING" => match &e.value {
            Value::Str(s) => client.bulk(string_encoding(s).as_bytes()),
            Value::Zset(z) => client.bulk(z.encoding().as_bytes()),
        },
        b"FREQ" if !lfu => client.error(&cache::keyspace::ObjectError::NotLfu.to_string()),
        b"FREQ" => client.int(i64::from(cache::lfu::decr_and_return(
            e.lru,
            touch.minutes,
            touch.decay_time,
        ))),
        b"IDLETIME" if lfu => client.error(&cache::keyspace::ObjectError::IsLfu.to_string()),
        b"IDLETIME" => {
            client.int((cache::lruclock::estimate_idle_ms(touch.lru_clock, e.lru) / 1000) as i64)
        }
        _ => match &e.value {
            // Redis shares the integers 0..9999 (OBJ_SHARED_REFCOUNT).
            Value::Str(s) if parse_i64(s).is_some_and(|n| (0..10_000).contains(&n)) => {
                client.int(i64::from(i32::MAX))
            }
            _ => client.int(1),
        },
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
            // As Redis 7.0: every name is checked first, then every value; nothing changes
            // unless all are valid.
            let mut pending = Vec::new();
            for pair in argv[2..].chunks(2) {
                let name = String::from_utf8_lossy(&pair[0]).to_ascii_lowercase();
                if !db.config.iter().any(|(n, _)| *n == name) {
                    return client.error(&format!(
                        "ERR Unknown option or number of arguments for CONFIG SET - '{name}'"
                    ));
                }
                pending.push((name, String::from_utf8_lossy(&pair[1]).into_owned()));
            }
            for (name, value) in pending.iter_mut() {
                if let Some(checked) = memory::validate(name, value) {
                    match checked {
                        Ok(v) => *value = v,
                        Err(e) => return client.error(&e),
                    }
                } else if name.starts_with("zset-") && value.parse::<u64>().is_err() {
                    return client.error(&format!(
                        "ERR CONFIG SET failed (possibly related to argument '{name}') - argument couldn't be parsed into an integer"
                    ));
                }
            }
            for (name, value) in &pending {
                let other = alias(name);
                for (n, v) in db.config.iter_mut() {
                    if n == name || Some(&*n) == other.as_ref() {
                        v.clone_from(value);
                    }
                }
                db.evict.apply(name, value);
            }
            db.limits = limits_of(&db.config);
            db.touch.lfu = db.evict.policy.is_lfu();
            db.touch.log_factor = db.evict.lfu_log_factor;
            db.touch.decay_time = db.evict.lfu_decay_time;
            client.ok();
        }
        b"RESETSTAT" if argv.len() == 2 => {
            db.cmdstats.fill(CmdStat::default());
            db.stats = KeyStats::default();
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
            "# Stats\r\ntotal_connections_received:{}\r\ntotal_commands_processed:{}\r\nexpired_keys:{}\r\nevicted_keys:{}\r\nkeyspace_hits:{}\r\nkeyspace_misses:{}\r\n\r\n",
            db.total_connections.load(Ordering::Relaxed),
            db.total_commands,
            db.stats.expired_keys,
            db.stats.evicted_keys,
            db.stats.keyspace_hits,
            db.stats.keyspace_misses,
        ));
    }
    if want("memory") {
        out.push_str(&format!(
            "# Memory\r\nused_memory:{}\r\nmaxmemory:{}\r\nmaxmemory_policy:{}\r\nrespd_memory_accounting:key+value+{}/key,+key+{}/ttl\r\n\r\n",
            db.used,
            db.evict.maxmemory,
            db.evict.policy.name(),
            memory::ENTRY_OVERHEAD,
            memory::EXPIRE_OVERHEAD,
        ));
    }
    if want("commandstats") {
        out.push_str("# Commandstats\r\n");
        // The table is sorted by name, as Redis sorts this section.
        for (c, s) in COMMANDS
            .iter()
            .zip(&db.cmdstats)
            .filter(|(_, s)| s.calls > 0)
        {
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
                "db0:keys={},expires={},avg_ttl=0\r\n",
                db.map.len(),
                db.expires.len()
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

    // SET's options as Redis 7.0.15 answers them (checked with a raw socket).
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
            run(&mut db, &mut c, &["SET", "k", "c", "EX", "1", "PX", "1"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            run(&mut db, &mut c, &["SET", "k", "c", "EX", "0"]),
            "-ERR invalid expire time in 'set' command\r\n"
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

    // The running byte count equals a recount of the keyspace after every command of a seeded
    // mix that inserts, overwrites, grows, expires and deletes strings and sorted sets.
    #[test]
    fn memory_accounting_matches_a_recount() {
        let (mut db, mut c) = fresh();
        let mut x: u64 = 7;
        for i in 0..3000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let k = format!("k{}", x % 40);
            let v = "v".repeat((x % 90) as usize);
            let args: Vec<&str> = match (x >> 8) % 10 {
                0 => vec!["SET", &k, &v],
                1 => vec!["SET", &k, &v, "PX", "1"],
                2 => vec!["INCR", &k],
                3 => vec!["ZADD", &k, "1", &v],
                4 => vec!["ZREM", &k, &v],
                5 => vec!["DEL", &k],
                6 => vec!["EXPIRE", &k, "100"],
                7 => vec!["PERSIST", &k],
                8 => vec!["SET", &k, &v, "KEEPTTL"],
                _ => vec!["GET", &k],
            };
            run(&mut db, &mut c, &args);
            assert_eq!(db.used_memory(), db.recount_memory(), "after #{i} {args:?}");
        }
        // Counterexample: the recount notices a stale running count.
        db.used += 1;
        assert_ne!(db.used_memory(), db.recount_memory());
    }

    // Under allkeys-lru with samples covering the whole keyspace (exact LRU), keys go oldest
    // first: the key touched later and the 15 new keys survive, the victims are untouched keys.
    // Under noeviction, SET is refused with Redis's text and GET still runs.
    #[test]
    fn eviction_runs_before_a_write_and_noeviction_refuses() {
        let (mut db, mut c) = fresh();
        run(&mut db, &mut c, &["CONFIG", "SET", "maxmemory", "2000"]);
        for i in 0..30 {
            run(&mut db, &mut c, &["SET", &format!("k{i}"), "0123456789"]);
        }
        assert_eq!(
            run(&mut db, &mut c, &["SET", "more", "x"]),
            format!("-{OOM}\r\n")
        );
        assert_eq!(
            run(&mut db, &mut c, &["GET", "k0"]),
            "$10\r\n0123456789\r\n"
        );
        run(
            &mut db,
            &mut c,
            &[
                "CONFIG",
                "SET",
                "maxmemory-policy",
                "allkeys-lru",
                "maxmemory-samples",
                "1000",
            ],
        );
        db.touch.lru_clock += 10;
        run(&mut db, &mut c, &["GET", "k5"]);
        db.touch.lru_clock += 10;
        for i in 30..45 {
            assert_eq!(
                run(&mut db, &mut c, &["SET", &format!("k{i}"), "0123456789"]),
                "+OK\r\n"
            );
        }
        assert!(db.used_memory() <= 2000 + 100, "{}", db.used_memory());
        assert!(db.key_stats().evicted_keys >= 15, "{:?}", db.key_stats());
        assert_eq!(run(&mut db, &mut c, &["EXISTS", "k5"]), ":1\r\n");
        // Every victim was one of the untouched old keys (all equally idle): the new ones stay.
        let new_keys: Vec<String> = (30..45).map(|i| format!("k{i}")).collect();
        let mut exists = vec!["EXISTS"];
        exists.extend(new_keys.iter().map(String::as_str));
        assert_eq!(run(&mut db, &mut c, &exists), ":15\r\n");
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
