//! `lab bench zset`: this crate's sorted set against three ordered indexes a Rust user would pick
//! instead, each paired with a `HashMap` member → score dictionary as Redis pairs its skip list with
//! a dict — `BTreeSet<(score, member)>`, `crossbeam_skiplist::SkipSet` and the `skiplist` crate's
//! `OrderedSkipList` — in process, and the real Redis's own server-side time per command
//! (`INFO commandstats`) for the same operations, at 10k and 100k members (and 1M without
//! `--quick`).
//!
//! | scenario | this crate | BTreeSet / crossbeam SkipSet | `skiplist` OrderedSkipList | real Redis |
//! |---|---|---|---|---|
//! | insert a new member | `SortedSet::insert` (and `ZADD` through `command::run`) | set + map insert | list + map insert | `ZADD` |
//! | change a score | `SortedSet::insert` on a member | remove + insert | remove + insert | `ZADD` |
//! | score lookup | `SortedSet::score` | `HashMap::get` | `HashMap::get` | `ZSCORE` |
//! | rank | span walk, O(log n) (and `ZRANK` through `command::run`) | iterate until found, O(n) | `rank`, O(log n) (it keeps link lengths) | `ZRANK` |
//! | 10 members from a rank | `by_rank` + 10 steps | `iter().skip(r).take(10)`, O(n) | `get_by_index` + a cursor | `ZRANGE key r r+9` |
//! | remove | `SortedSet::remove` | set + map remove | list + map remove | `ZREM` |
//! | memory per member | [`SortedSet::heap_bytes_estimate`] | — | — | `MEMORY USAGE key SAMPLES 0` / n |
//!
//! Redis's figure is the delta of `cmdstat_<cmd>`'s `usec` over the delta of its `calls` around
//! each phase: the time inside the command, without network and parsing of the request — so it
//! is compared with the in-process cost. Nothing is reset or changed on the server (no
//! `CONFIG RESETSTAT`), and the keys live under `lab:redis-11:`.
//!
//! Every phase checks its result (every insert added, every rank right, every removal removed,
//! both sides end with the same members); a wrong result fails the suite.

use std::collections::{BTreeSet, HashMap};
use std::hint::black_box;
use std::time::Instant;

use catalog::{BenchCtx, BenchReport, BenchSuite, DemoError, Stats};
use servers::redis;

use crate::SortedSet;
use crate::command::{self, MemDb};

/// `lab bench zset`.
pub const SUITE: BenchSuite = BenchSuite {
    name: "zset",
    about: "sorted set: this skip list + dict vs BTreeSet, crossbeam-skiplist and the skiplist crate (+ HashMap) in process (insert, score update, rank, range, remove at 10k..1M members), the real Redis's server-side usec_per_call, memory per member",
    questions: &["redis-10", "redis-11"],
    run,
};

const OURS: &str = "zset (SortedSet)";
const OURS_CMD: &str = "zset via command::run";
const BTREE: &str = "BTreeSet + HashMap";
const CROSSBEAM: &str = "crossbeam SkipSet + HashMap";
const SKIPLIST_CRATE: &str = "skiplist OrderedSkipList + HashMap";
const REDIS: &str = "real Redis";

/// The member count steps and operations per phase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sizes {
    pub members: Vec<usize>,
    /// Operations per timed phase.
    pub ops: usize,
}

impl Sizes {
    pub fn for_run(quick: bool) -> Sizes {
        if quick {
            Sizes {
                members: vec![10_000, 100_000],
                ops: 1_000,
            }
        } else {
            Sizes {
                members: vec![10_000, 100_000, 1_000_000],
                ops: 20_000,
            }
        }
    }
}

/// How many O(n) rank/range operations the BTreeMap model gets at size `n`: a fixed budget of
/// visited entries, at least 10 operations.
pub fn linear_ops(n: usize, ops: usize) -> usize {
    (20_000_000 / n.max(1)).clamp(10, ops)
}

fn scenario(op: &str, n: usize) -> String {
    format!("{op}, n={}, ns/op", size_label(n))
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn score(&mut self) -> f64 {
        self.below(1 << 20) as f64
    }
}

fn member(i: usize) -> Vec<u8> {
    format!("member:{i:09}").into_bytes()
}

/// An ordered index of (score, member) pairs: the part of a sorted set a skip list (or a tree)
/// provides, without the member → score dictionary.
pub trait Order: Default {
    /// The row label in the report.
    const NAME: &'static str;
    /// Whether rank and range walk from the smallest entry (O(n)), so the suite gives them fewer
    /// operations ([`linear_ops`]).
    const LINEAR: bool;
    fn insert(&mut self, key: Key);
    fn remove(&mut self, key: &Key) -> bool;
    /// 0-based rank.
    fn rank(&self, key: &Key) -> Option<usize>;
    /// `count` entries from 0-based rank `start`, as (member, score).
    fn range(&self, start: usize, count: usize) -> Vec<(Vec<u8>, f64)>;
}

/// An entry of an ordered index: ordered by score, then member bytes, as Redis orders them.
pub type Key = (Score, Vec<u8>);

fn entry(k: &Key) -> (Vec<u8>, f64) {
    (k.1.clone(), k.0.0)
}

/// `std::collections::BTreeSet`: a B-tree keeps no subtree sizes, so rank and range from a rank
/// iterate from the start.
#[derive(Debug, Default)]
pub struct BTreeOrder(BTreeSet<Key>);

impl Order for BTreeOrder {
    const NAME: &'static str = BTREE;
    const LINEAR: bool = true;
    fn insert(&mut self, key: Key) {
        self.0.insert(key);
    }
    fn remove(&mut self, key: &Key) -> bool {
        self.0.remove(key)
    }
    fn rank(&self, key: &Key) -> Option<usize> {
        self.0.iter().position(|k| k == key)
    }
    fn range(&self, start: usize, count: usize) -> Vec<(Vec<u8>, f64)> {
        self.0.iter().skip(start).take(count).map(entry).collect()
    }
}

/// `crossbeam_skiplist::SkipSet`: a concurrent skip list without spans, so rank iterates too; every
/// operation pays for the atomics and epoch pinning that make it safe to share.
#[derive(Debug, Default)]
pub struct CrossbeamOrder(crossbeam_skiplist::SkipSet<Key>);

impl Order for CrossbeamOrder {
    const NAME: &'static str = CROSSBEAM;
    const LINEAR: bool = true;
    fn insert(&mut self, key: Key) {
        self.0.insert(key);
    }
    fn remove(&mut self, key: &Key) -> bool {
        self.0.remove(key).is_some()
    }
    fn rank(&self, key: &Key) -> Option<usize> {
        self.0.iter().position(|e| e.value() == key)
    }
    fn range(&self, start: usize, count: usize) -> Vec<(Vec<u8>, f64)> {
        self.0
            .iter()
            .skip(start)
            .take(count)
            .map(|e| entry(e.value()))
            .collect()
    }
}

/// The `skiplist` crate's `OrderedSkipList`: it keeps link lengths like Redis's spans, so rank and
/// index access are O(log n).
#[derive(Default)]
pub struct SkiplistCrateOrder(skiplist::OrderedSkipList<Key>);

impl std::fmt::Debug for SkiplistCrateOrder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SkiplistCrateOrder({} entries)", self.0.len())
    }
}

impl Order for SkiplistCrateOrder {
    const NAME: &'static str = SKIPLIST_CRATE;
    const LINEAR: bool = false;
    fn insert(&mut self, key: Key) {
        self.0.insert(key);
    }
    fn remove(&mut self, key: &Key) -> bool {
        self.0.remove_by_value(key)
    }
    fn rank(&self, key: &Key) -> Option<usize> {
        self.0.rank(key)
    }
    fn range(&self, start: usize, count: usize) -> Vec<(Vec<u8>, f64)> {
        // Find the entry at `start` by index (O(log n)), then walk from a cursor placed before it
        // (its `range` was O(n) here).
        let Some(first) = self.0.get_by_index(start) else {
            return Vec::new();
        };
        let mut cur = self.0.lower_bound(std::ops::Bound::Included(first));
        std::iter::from_fn(|| cur.next())
            .take(count)
            .map(entry)
            .collect()
    }
}

/// A sorted set built from an ordered index and a `HashMap` member → score dictionary.
#[derive(Debug, Default)]
pub struct ModelSet<O> {
    order: O,
    dict: HashMap<Vec<u8>, f64>,
}

/// The `BTreeSet` + `HashMap` sorted set.
pub type BTreeModel = ModelSet<BTreeOrder>;

/// A non-NaN score with a total order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Score(pub f64);
impl Eq for Score {}
impl PartialOrd for Score {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Score {
    /// As the skip list compares: numerically, so -0 equals 0 (never called with NaN).
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.0.partial_cmp(&o.0).expect("no NaN scores")
    }
}

impl<O: Order> ModelSet<O> {
    /// Adds or updates; true when the member is new.
    pub fn insert(&mut self, score: f64, m: &[u8]) -> bool {
        let old = self.dict.insert(m.to_vec(), score);
        if let Some(s) = old {
            self.order.remove(&(Score(s), m.to_vec()));
        }
        self.order.insert((Score(score), m.to_vec()));
        old.is_none()
    }
    pub fn remove(&mut self, m: &[u8]) -> bool {
        match self.dict.remove(m) {
            Some(s) => self.order.remove(&(Score(s), m.to_vec())),
            None => false,
        }
    }
    pub fn score(&self, m: &[u8]) -> Option<f64> {
        self.dict.get(m).copied()
    }
    /// 0-based rank.
    pub fn rank(&self, m: &[u8]) -> Option<usize> {
        let s = *self.dict.get(m)?;
        self.order.rank(&(Score(s), m.to_vec()))
    }
    pub fn range(&self, start: usize, count: usize) -> Vec<(Vec<u8>, f64)> {
        self.order.range(start, count)
    }
}

fn ns_per_op(start: Instant, ops: usize) -> f64 {
    start.elapsed().as_nanos() as f64 / ops.max(1) as f64
}

fn claim(ok: bool, what: impl FnOnce() -> String) -> Result<(), DemoError> {
    if ok {
        Ok(())
    } else {
        Err(DemoError::Claim(what()))
    }
}

/// One run of every in-process phase at size n: ns/op per (scenario op, implementation).
type Phase = (&'static str, &'static str, f64);

/// The operations of one in-process run, the same for every implementation.
struct Work {
    n: usize,
    ops: usize,
    fresh: Vec<(f64, Vec<u8>)>,
    existing: Vec<Vec<u8>>,
    new_scores: Vec<f64>,
    starts: Vec<usize>,
    /// Operations the O(n) rank and range get.
    lin: usize,
}

/// What this crate's set answered, which every other implementation must answer too.
struct Expect {
    ranks: Vec<Option<usize>>,
    ranges: Vec<Vec<(Vec<u8>, f64)>>,
}

/// The in-process models, built to the same n members as this crate's set.
#[derive(Debug, Default)]
pub struct Models {
    btree: ModelSet<BTreeOrder>,
    crossbeam: ModelSet<CrossbeamOrder>,
    skiplist: ModelSet<SkiplistCrateOrder>,
}

impl Models {
    fn insert(&mut self, score: f64, m: &[u8]) {
        self.btree.insert(score, m);
        self.crossbeam.insert(score, m);
        self.skiplist.insert(score, m);
    }
}

fn in_process_run(
    ours: &mut SortedSet,
    models: &mut Models,
    db: &mut MemDb,
    n: usize,
    ops: usize,
    rng: &mut Rng,
) -> Result<Vec<Phase>, DemoError> {
    let len = ours.len();
    let w = Work {
        n,
        ops,
        fresh: (0..ops).map(|i| (rng.score(), member(n + i))).collect(),
        existing: (0..ops).map(|_| member(rng.below(n))).collect(),
        new_scores: (0..ops).map(|_| rng.score()).collect(),
        starts: (0..ops).map(|_| rng.below(len - 10)).collect(),
        lin: linear_ops(n, ops),
    };
    let mut out = Vec::new();
    let expect = ours_run(ours, db, &w, &mut out)?;
    model_run(&mut models.btree, &w, &expect, &mut out)?;
    model_run(&mut models.crossbeam, &w, &expect, &mut out)?;
    model_run(&mut models.skiplist, &w, &expect, &mut out)?;
    Ok(out)
}

/// This crate's set through every phase, and the same through the command layer for ZADD and
/// ZRANK. Returns the ranks and ranges it found, for the models to match.
fn ours_run(
    ours: &mut SortedSet,
    db: &mut MemDb,
    w: &Work,
    out: &mut Vec<Phase>,
) -> Result<Expect, DemoError> {
    let ops = w.ops;
    let t = Instant::now();
    let added = w.fresh.iter().filter(|(s, m)| ours.insert(*s, m)).count();
    out.push(("insert", OURS, ns_per_op(t, ops)));
    claim(added == ops, || format!("insert added {added} of {ops}"))?;

    let t = Instant::now();
    for (m, s) in w.existing.iter().zip(&w.new_scores) {
        black_box(ours.insert(*s, m));
    }
    out.push(("score update", OURS, ns_per_op(t, ops)));

    let t = Instant::now();
    let found = w
        .existing
        .iter()
        .filter(|m| black_box(ours.score(m)).is_some())
        .count();
    out.push(("score lookup", OURS, ns_per_op(t, ops)));
    claim(found == ops, || "score lookup missed".into())?;

    let t = Instant::now();
    let ranks: Vec<Option<usize>> = w.existing.iter().map(|m| ours.rank(m)).collect();
    out.push(("rank", OURS, ns_per_op(t, ops)));
    claim(ranks.iter().all(Option::is_some), || {
        "a member present in the set had no rank".into()
    })?;

    let t = Instant::now();
    let ranges: Vec<_> = w
        .starts
        .iter()
        .map(|&r| ours.range_by_rank(r, r + 9, false))
        .collect();
    out.push(("range, 10 from a rank", OURS, ns_per_op(t, ops)));

    // Through the command layer: ZADD of new members (then ZREM them again) and ZRANK.
    let zadds: Vec<Vec<Vec<u8>>> = w
        .fresh
        .iter()
        .map(|(s, m)| {
            vec![
                b"ZADD".to_vec(),
                b"k".to_vec(),
                crate::format_double(*s).into_bytes(),
                [b"c:", m.as_slice()].concat(),
            ]
        })
        .collect();
    let t = Instant::now();
    let ok = zadds
        .iter()
        .filter(|a| command::run(db, a) == crate::Reply::Integer(1))
        .count();
    out.push(("insert", OURS_CMD, ns_per_op(t, ops)));
    claim(ok == ops, || format!("ZADD added {ok} of {ops}"))?;
    let zranks: Vec<Vec<Vec<u8>>> = w
        .existing
        .iter()
        .map(|m| vec![b"ZRANK".to_vec(), b"k".to_vec(), m.clone()])
        .collect();
    let t = Instant::now();
    let ok = zranks
        .iter()
        .filter(|a| matches!(command::run(db, a), crate::Reply::Integer(_)))
        .count();
    out.push(("rank", OURS_CMD, ns_per_op(t, ops)));
    claim(ok == ops, || format!("ZRANK found {ok} of {ops}"))?;
    for a in &zadds {
        command::run(db, &[b"ZREM".to_vec(), a[1].clone(), a[3].clone()]);
    }

    let t = Instant::now();
    let removed = w.fresh.iter().filter(|(_, m)| ours.remove(m)).count();
    out.push(("remove", OURS, ns_per_op(t, ops)));
    claim(removed == ops && ours.len() == w.n, || {
        format!("remove removed {removed} of {ops}")
    })?;
    Ok(Expect { ranks, ranges })
}

/// One model through the same phases; every answer must match this crate's.
fn model_run<O: Order>(
    model: &mut ModelSet<O>,
    w: &Work,
    expect: &Expect,
    out: &mut Vec<Phase>,
) -> Result<(), DemoError> {
    let (ops, name) = (w.ops, O::NAME);
    let t = Instant::now();
    let added = w.fresh.iter().filter(|(s, m)| model.insert(*s, m)).count();
    out.push(("insert", name, ns_per_op(t, ops)));
    claim(added == ops, || {
        format!("{name}: insert added {added} of {ops}")
    })?;

    let t = Instant::now();
    for (m, s) in w.existing.iter().zip(&w.new_scores) {
        black_box(model.insert(*s, m));
    }
    out.push(("score update", name, ns_per_op(t, ops)));

    let t = Instant::now();
    let found = w
        .existing
        .iter()
        .filter(|m| black_box(model.score(m)).is_some())
        .count();
    out.push(("score lookup", name, ns_per_op(t, ops)));
    claim(found == ops, || format!("{name}: score lookup missed"))?;

    let k = if O::LINEAR { w.lin } else { ops };
    let t = Instant::now();
    let ranks: Vec<Option<usize>> = w.existing[..k].iter().map(|m| model.rank(m)).collect();
    out.push(("rank", name, ns_per_op(t, k)));
    claim(ranks[..] == expect.ranks[..k], || {
        format!("{name}: ranks differ from the skip list's")
    })?;

    let t = Instant::now();
    let ranges: Vec<_> = w.starts[..k].iter().map(|&r| model.range(r, 10)).collect();
    out.push(("range, 10 from a rank", name, ns_per_op(t, k)));
    claim(ranges[..] == expect.ranges[..k], || {
        format!("{name}: ranges differ from the skip list's")
    })?;

    let t = Instant::now();
    let removed = w.fresh.iter().filter(|(_, m)| model.remove(m)).count();
    out.push(("remove", name, ns_per_op(t, ops)));
    claim(removed == ops, || {
        format!("{name}: remove removed {removed} of {ops}")
    })?;
    Ok(())
}

/// `(calls, usec)` of every command in `INFO commandstats`.
pub fn parse_commandstats(info: &str) -> HashMap<String, (u64, u64)> {
    let mut out = HashMap::new();
    for line in info.lines() {
        let Some(rest) = line.strip_prefix("cmdstat_") else {
            continue;
        };
        let Some((name, fields)) = rest.split_once(':') else {
            continue;
        };
        let mut calls = None;
        let mut usec = None;
        for f in fields.trim().split(',') {
            match f.split_once('=') {
                Some(("calls", v)) => calls = v.parse().ok(),
                Some(("usec", v)) => usec = v.parse().ok(),
                _ => {}
            }
        }
        if let (Some(c), Some(u)) = (calls, usec) {
            out.insert(name.to_string(), (c, u));
        }
    }
    out
}

/// Microseconds per call of `cmd` between two `INFO commandstats` snapshots.
pub fn usec_per_call(
    before: &HashMap<String, (u64, u64)>,
    after: &HashMap<String, (u64, u64)>,
    cmd: &str,
) -> Option<f64> {
    let (c0, u0) = before.get(cmd).copied().unwrap_or((0, 0));
    let (c1, u1) = *after.get(cmd)?;
    (c1 > c0).then(|| (u1 - u0) as f64 / (c1 - c0) as f64)
}

fn stats(conn: &mut redis::Connection) -> Result<HashMap<String, (u64, u64)>, DemoError> {
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query(conn)
        .map_err(|e| DemoError::Broken(format!("INFO commandstats: {e}")))?;
    Ok(parse_commandstats(&info))
}

fn pipelined(conn: &mut redis::Connection, cmds: &[redis::Cmd]) -> Result<(), DemoError> {
    for chunk in cmds.chunks(1000) {
        let mut p = redis::pipe();
        for c in chunk {
            p.add_command(c.clone()).ignore();
        }
        p.exec(conn)
            .map_err(|e| DemoError::Broken(format!("pipeline: {e}")))?;
    }
    Ok(())
}

/// What one Redis run gives: (op, usec_per_call) per phase, and bytes per member.
type RedisRun = (Vec<(&'static str, f64)>, f64);

/// The Redis phases at size n: (op, usec_per_call) plus bytes per member.
fn redis_run(
    conn: &mut redis::Connection,
    key: &str,
    n: usize,
    ops: usize,
    rng: &mut Rng,
) -> Result<RedisRun, DemoError> {
    redis::cmd("DEL")
        .arg(key)
        .exec(conn)
        .map_err(|e| DemoError::Broken(e.to_string()))?;
    let build: Vec<redis::Cmd> = (0..n)
        .step_by(100)
        .map(|i| {
            let mut c = redis::cmd("ZADD");
            c.arg(key);
            for j in i..(i + 100).min(n) {
                c.arg(rng.score()).arg(member(j));
            }
            c
        })
        .collect();
    pipelined(conn, &build)?;
    let usage: u64 = redis::cmd("MEMORY")
        .arg("USAGE")
        .arg(key)
        .arg("SAMPLES")
        .arg(0)
        .query(conn)
        .map_err(|e| DemoError::Broken(format!("MEMORY USAGE: {e}")))?;
    let per_member = usage as f64 / n as f64;

    let fresh: Vec<Vec<u8>> = (0..ops).map(|i| member(n + i)).collect();
    let existing: Vec<Vec<u8>> = (0..ops).map(|_| member(rng.below(n))).collect();
    let one = |name: &str, args: &[&[u8]]| {
        let mut c = redis::cmd(name);
        c.arg(key);
        for a in args {
            c.arg(*a);
        }
        c
    };
    let num = |x: f64| crate::format_double(x).into_bytes();
    let phases: Vec<(&'static str, &'static str, Vec<redis::Cmd>)> = vec![
        (
            "insert",
            "zadd",
            fresh
                .iter()
                .map(|m| one("ZADD", &[&num(rng.score()), m]))
                .collect(),
        ),
        (
            "score update",
            "zadd",
            existing
                .iter()
                .map(|m| one("ZADD", &[&num(rng.score()), m]))
                .collect(),
        ),
        (
            "score lookup",
            "zscore",
            existing
                .iter()
                .map(|m| one("ZSCORE", &[m.as_slice()]))
                .collect(),
        ),
        (
            "rank",
            "zrank",
            existing
                .iter()
                .map(|m| one("ZRANK", &[m.as_slice()]))
                .collect(),
        ),
        (
            "range, 10 from a rank",
            "zrange",
            (0..ops)
                .map(|_| {
                    let r = rng.below(n - 10);
                    one(
                        "ZRANGE",
                        &[r.to_string().as_bytes(), (r + 9).to_string().as_bytes()],
                    )
                })
                .collect(),
        ),
        (
            "remove",
            "zrem",
            fresh.iter().map(|m| one("ZREM", &[m.as_slice()])).collect(),
        ),
    ];
    let mut out = Vec::new();
    for (op, cmd, cmds) in phases {
        let before = stats(conn)?;
        pipelined(conn, &cmds)?;
        let after = stats(conn)?;
        let u = usec_per_call(&before, &after, cmd)
            .ok_or_else(|| DemoError::Broken(format!("no cmdstat_{cmd} after the {op} phase")))?;
        out.push((op, u));
    }
    let card: usize = redis::cmd("ZCARD")
        .arg(key)
        .query(conn)
        .map_err(|e| DemoError::Broken(e.to_string()))?;
    claim(card == n, || {
        format!("Redis set has {card} members after the run, not {n}")
    })?;
    redis::cmd("DEL")
        .arg(key)
        .exec(conn)
        .map_err(|e| DemoError::Broken(e.to_string()))?;
    Ok((out, per_member))
}

fn collect(samples: &mut HashMap<(String, &'static str), Vec<f64>>, n: usize, ph: &[Phase]) {
    for (op, imp, v) in ph {
        samples.entry((scenario(op, n), imp)).or_default().push(*v);
    }
}

fn run(ctx: &mut BenchCtx<'_>) -> Result<BenchReport, DemoError> {
    let sizes = Sizes::for_run(ctx.quick);
    let runs = ctx.runs();
    let mut report = BenchReport::new("zset", "ns/op (memory: bytes/member)", REDIS);
    let mut redis_lab = match ctx.env.redis_target() {
        Ok(t) => match servers::RedisLab::connect(&t, "redis-11") {
            Ok(l) => Some(l),
            Err(e) if ctx.env.ci => {
                return Err(DemoError::Unavailable(format!(
                    "{e} (CI=true: Redis is required)"
                )));
            }
            Err(e) => {
                report.notes.push(format!("Redis rows skipped: {e}"));
                None
            }
        },
        Err(e) if ctx.env.ci => return Err(e),
        Err(e) => {
            report.notes.push(format!("Redis rows skipped: {e}"));
            None
        }
    };
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let mut order: Vec<(String, &'static str)> = Vec::new();
    for &n in &sizes.members {
        ctx.step(&format!("in process, {n} members"));
        let mut ours = SortedSet::skiplist_with_seed(n as u64);
        let mut models = Models::default();
        let mut db = MemDb::default();
        for i in 0..n {
            let s = rng.score();
            let m = member(i);
            ours.insert(s, &m);
            models.insert(s, &m);
            command::run(
                &mut db,
                &[
                    b"ZADD".to_vec(),
                    b"k".to_vec(),
                    crate::format_double(s).into_bytes(),
                    m,
                ],
            );
        }
        let mut samples: HashMap<(String, &'static str), Vec<f64>> = HashMap::new();
        for _ in 0..runs {
            let ph = in_process_run(&mut ours, &mut models, &mut db, n, sizes.ops, &mut rng)?;
            for (op, imp, _) in &ph {
                let key = (scenario(op, n), *imp);
                if !order.contains(&key) {
                    order.push(key);
                }
            }
            collect(&mut samples, n, &ph);
        }
        let mem = format!("memory per member, n={}, bytes", size_label(n));
        let ours_mem = ours.heap_bytes_estimate() as f64 / n as f64;
        if let Some(lab) = redis_lab.as_mut() {
            ctx.step(&format!("real Redis, {n} members"));
            let key = lab.key("bench");
            for _ in 0..runs {
                let (ph, per_member) = redis_run(lab.conn(), &key, n, sizes.ops, &mut rng)?;
                for (op, v) in ph {
                    let k = (scenario(op, n), REDIS);
                    samples.entry(k).or_default().push(v * 1000.0);
                }
                samples
                    .entry((mem.clone(), REDIS))
                    .or_default()
                    .push(per_member);
            }
        }
        samples
            .entry((mem.clone(), OURS))
            .or_default()
            .push(ours_mem);
        // Rows in a stable order: per scenario, Redis first, then ours, then the rest.
        let suffix = format!("n={}, ns/op", size_label(n));
        let mut scen: Vec<String> = Vec::new();
        for (sc, _) in &order {
            if sc.ends_with(&suffix) && !scen.contains(sc) {
                scen.push(sc.clone());
            }
        }
        scen.push(mem);
        for s in scen {
            for imp in [REDIS, OURS, OURS_CMD, BTREE, CROSSBEAM, SKIPLIST_CRATE] {
                if let Some(v) = samples.get(&(s.clone(), imp)) {
                    report.push(&s, imp, Stats::of(v));
                }
            }
        }
    }
    if redis_lab.is_some() {
        report.notes.push(
            "real Redis ns/op rows: server-side usec_per_call, i.e. delta of INFO commandstats usec / calls around each phase (server-side time inside the command, no network), in ns; commands pipelined 1000 at a time; nothing reset or reconfigured on the server".into(),
        );
        report.notes.push("Redis memory: MEMORY USAGE key SAMPLES 0 / members (jemalloc sizes). Ours: SortedSet::heap_bytes_estimate / members, glibc malloc sizes, 16-byte members, see docs/redis/redis-10.md".into());
    }
    report.notes.push(format!(
        "BTreeSet and crossbeam SkipSet rank and range iterate from the smallest entry (O(n)), so they run fewer ops ({}) than the other rows ({}); the skiplist crate's OrderedSkipList keeps link lengths and ranks in O(log n)",
        sizes
            .members
            .iter()
            .map(|&n| format!("{} at n={n}", linear_ops(n, sizes.ops)))
            .collect::<Vec<_>>()
            .join(", "),
        sizes.ops
    ));
    if let Some(mut lab) = redis_lab {
        lab.restore()
            .map_err(|e| DemoError::Broken(format!("cleaning up Redis: {e}")))?;
    }
    report.compute_ratios();
    Ok(report)
}

fn size_label(n: usize) -> String {
    if n >= 1_000_000 {
        format!("{}M", n / 1_000_000)
    } else {
        format!("{}k", n / 1_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commandstats_deltas() {
        let a = parse_commandstats(
            "# Commandstats\r\ncmdstat_zadd:calls=10,usec=25,usec_per_call=2.50,rejected_calls=0,failed_calls=0\r\n",
        );
        let b = parse_commandstats(
            "cmdstat_zadd:calls=110,usec=225,usec_per_call=2.05,rejected_calls=0,failed_calls=0\r\ncmdstat_zrank:calls=3,usec=3,usec_per_call=1.00\r\n",
        );
        assert_eq!(usec_per_call(&a, &b, "zadd"), Some(2.0));
        assert_eq!(usec_per_call(&a, &b, "zrank"), Some(1.0));
        // Counterexample: no new calls, no figure (not a division by zero or a stale average).
        assert_eq!(usec_per_call(&b, &b, "zadd"), None);
        assert_eq!(usec_per_call(&a, &b, "zrem"), None);
    }

    #[test]
    fn model_rank_and_range_agree_with_the_skip_list() {
        let mut ours = SortedSet::skiplist_with_seed(7);
        let mut model = BTreeModel::default();
        let mut crate_model = ModelSet::<SkiplistCrateOrder>::default();
        let mut cb_model = ModelSet::<CrossbeamOrder>::default();
        let mut rng = Rng(99);
        for i in 0..500 {
            let s = (rng.below(50)) as f64;
            ours.insert(s, &member(i));
            model.insert(s, &member(i));
            crate_model.insert(s, &member(i));
            cb_model.insert(s, &member(i));
        }
        for i in (0..500).step_by(37) {
            assert_eq!(ours.rank(&member(i)), model.rank(&member(i)));
            assert_eq!(ours.rank(&member(i)), crate_model.rank(&member(i)));
            assert_eq!(ours.rank(&member(i)), cb_model.rank(&member(i)));
        }
        assert_eq!(ours.range_by_rank(100, 109, false), model.range(100, 10));
        assert_eq!(
            ours.range_by_rank(100, 109, false),
            crate_model.range(100, 10)
        );
        assert_eq!(ours.range_by_rank(495, 504, false), cb_model.range(495, 10));
        assert_eq!(crate_model.range(600, 10), Vec::new());
        assert_eq!(model.rank(b"absent"), None);
        assert!(model.remove(&member(3)));
        assert!(!model.remove(&member(3)));
    }

    #[test]
    fn linear_budget() {
        assert_eq!(linear_ops(10_000, 1_000), 1_000);
        assert_eq!(linear_ops(1_000_000, 20_000), 20);
        assert_eq!(linear_ops(100_000_000, 20_000), 10);
    }

    #[test]
    fn memory_estimate_counts_both_structures() {
        let mut s = SortedSet::skiplist_with_seed(1);
        for i in 0..1000 {
            s.insert(i as f64, &member(i));
        }
        let per = s.heap_bytes_estimate() as f64 / 1000.0;
        // Two 16-byte member copies (32 bytes each in malloc) + a 64-byte node + its levels.
        assert!((150.0..300.0).contains(&per), "{per} bytes per member");
    }
}
