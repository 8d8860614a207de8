//! `lab bench zset`: this crate's sorted set against a `BTreeMap<(score, member)>` + `HashMap`
//! model in process, and the real Redis's own server-side time per command (`INFO commandstats`)
//! for the same operations, at 10k and 100k members (and 1M without `--quick`).
//!
//! | scenario | this crate | BTreeMap + HashMap | real Redis |
//! |---|---|---|---|
//! | insert a new member | `SortedSet::insert` (and `ZADD` through `command::run`) | two map inserts | `ZADD` |
//! | change a score | `SortedSet::insert` on a member | remove + insert in the BTreeMap | `ZADD` |
//! | score lookup | `SortedSet::score` | `HashMap::get` | `ZSCORE` |
//! | rank | span walk, O(log n) (and `ZRANK` through `command::run`) | iterate until found, O(n) | `ZRANK` |
//! | 10 members from a rank | `by_rank` + 10 steps | `iter().skip(r).take(10)`, O(n) | `ZRANGE key r r+9` |
//! | remove | `SortedSet::remove` | two map removes | `ZREM` |
//! | memory per member | [`SortedSet::heap_bytes_estimate`] | — | `MEMORY USAGE key SAMPLES 0` / n |
//!
//! Redis's figure is the delta of `cmdstat_<cmd>`'s `usec` over the delta of its `calls` around
//! each phase: the time inside the command, without network and parsing of the request — so it
//! is compared with the in-process cost. Nothing is reset or changed on the server (no
//! `CONFIG RESETSTAT`), and the keys live under `lab:redis-11:`.
//!
//! Every phase checks its result (every insert added, every rank right, every removal removed,
//! both sides end with the same members); a wrong result fails the suite.

use std::collections::{BTreeMap, HashMap};
use std::hint::black_box;
use std::time::Instant;

use catalog::{BenchCtx, BenchReport, BenchSuite, DemoError, Stats};
use servers::redis;

use crate::SortedSet;
use crate::command::{self, MemDb};

/// `lab bench zset`.
pub const SUITE: BenchSuite = BenchSuite {
    name: "zset",
    about: "sorted set: this skip list + dict vs BTreeMap + HashMap in process (insert, score update, rank, range, remove at 10k..1M members), the real Redis's server-side usec_per_call, memory per member",
    questions: &["redis-10", "redis-11"],
    run,
};

const OURS: &str = "zset (SortedSet)";
const OURS_CMD: &str = "zset via command::run";
const BTREE: &str = "BTreeMap + HashMap";
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

/// The BTreeMap + HashMap sorted set.
#[derive(Debug, Default)]
pub struct ModelSet {
    order: BTreeMap<(Score, Vec<u8>), ()>,
    dict: HashMap<Vec<u8>, f64>,
}

/// A non-NaN score with a total order.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Score(f64);
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

impl ModelSet {
    pub fn insert(&mut self, score: f64, m: &[u8]) -> bool {
        let old = self.dict.insert(m.to_vec(), score);
        if let Some(s) = old {
            self.order.remove(&(Score(s), m.to_vec()));
        }
        self.order.insert((Score(score), m.to_vec()), ());
        old.is_none()
    }
    pub fn remove(&mut self, m: &[u8]) -> bool {
        match self.dict.remove(m) {
            Some(s) => self.order.remove(&(Score(s), m.to_vec())).is_some(),
            None => false,
        }
    }
    /// 0-based rank: iterate from the smallest until found (a BTreeMap has no rank index).
    pub fn rank(&self, m: &[u8]) -> Option<usize> {
        let s = *self.dict.get(m)?;
        self.order.keys().position(|(k, km)| k.0 == s && km == m)
    }
    pub fn range(&self, start: usize, count: usize) -> Vec<(Vec<u8>, f64)> {
        self.order
            .keys()
            .skip(start)
            .take(count)
            .map(|(s, m)| (m.clone(), s.0))
            .collect()
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

fn in_process_run(
    ours: &mut SortedSet,
    model: &mut ModelSet,
    db: &mut MemDb,
    n: usize,
    ops: usize,
    rng: &mut Rng,
) -> Result<Vec<Phase>, DemoError> {
    let mut out = Vec::new();
    let fresh: Vec<(f64, Vec<u8>)> = (0..ops).map(|i| (rng.score(), member(n + i))).collect();
    let existing: Vec<Vec<u8>> = (0..ops).map(|_| member(rng.below(n))).collect();
    let new_scores: Vec<f64> = (0..ops).map(|_| rng.score()).collect();
    let lin = linear_ops(n, ops);

    // insert
    let t = Instant::now();
    let added = fresh.iter().filter(|(s, m)| ours.insert(*s, m)).count();
    out.push(("insert", OURS, ns_per_op(t, ops)));
    let t = Instant::now();
    let madded = fresh.iter().filter(|(s, m)| model.insert(*s, m)).count();
    out.push(("insert", BTREE, ns_per_op(t, ops)));
    claim(added == ops && madded == ops, || {
        format!("insert added {added} and {madded} of {ops}")
    })?;

    // score update
    let t = Instant::now();
    for (m, s) in existing.iter().zip(&new_scores) {
        black_box(ours.insert(*s, m));
    }
    out.push(("score update", OURS, ns_per_op(t, ops)));
    let t = Instant::now();
    for (m, s) in existing.iter().zip(&new_scores) {
        black_box(model.insert(*s, m));
    }
    out.push(("score update", BTREE, ns_per_op(t, ops)));

    // score lookup
    let t = Instant::now();
    let found = existing
        .iter()
        .filter(|m| black_box(ours.score(m)).is_some())
        .count();
    out.push(("score lookup", OURS, ns_per_op(t, ops)));
    let t = Instant::now();
    let mfound = existing
        .iter()
        .filter(|m| black_box(model.dict.get(m.as_slice())).is_some())
        .count();
    out.push(("score lookup", BTREE, ns_per_op(t, ops)));
    claim(found == ops && mfound == ops, || {
        "score lookup missed".into()
    })?;

    // rank
    let t = Instant::now();
    let ranks: Vec<Option<usize>> = existing.iter().map(|m| ours.rank(m)).collect();
    out.push(("rank", OURS, ns_per_op(t, ops)));
    let t = Instant::now();
    let mranks: Vec<Option<usize>> = existing[..lin].iter().map(|m| model.rank(m)).collect();
    out.push(("rank", BTREE, ns_per_op(t, lin)));
    claim(
        ranks[..lin] == mranks[..] && ranks.iter().all(Option::is_some),
        || "ranks differ between the skip list and the BTreeMap".into(),
    )?;

    // range: 10 members from a rank
    let len = ours.len();
    let starts: Vec<usize> = (0..ops).map(|_| rng.below(len - 10)).collect();
    let t = Instant::now();
    let mut got = Vec::with_capacity(lin);
    for (i, &r) in starts.iter().enumerate() {
        let v = ours.range_by_rank(r, r + 9, false);
        if i < lin {
            got.push(v);
        } else {
            black_box(v);
        }
    }
    out.push(("range, 10 from a rank", OURS, ns_per_op(t, ops)));
    let t = Instant::now();
    let mgot: Vec<_> = starts[..lin].iter().map(|&r| model.range(r, 10)).collect();
    out.push(("range, 10 from a rank", BTREE, ns_per_op(t, lin)));
    claim(got == mgot, || "ranges differ".into())?;

    // through the command layer: ZADD of new members (then ZREM them again) and ZRANK
    let zadds: Vec<Vec<Vec<u8>>> = fresh
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
    let zranks: Vec<Vec<Vec<u8>>> = existing
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

    // remove the fresh members again
    let t = Instant::now();
    let removed = fresh.iter().filter(|(_, m)| ours.remove(m)).count();
    out.push(("remove", OURS, ns_per_op(t, ops)));
    let t = Instant::now();
    let mremoved = fresh.iter().filter(|(_, m)| model.remove(m)).count();
    out.push(("remove", BTREE, ns_per_op(t, ops)));
    claim(removed == ops && mremoved == ops && ours.len() == n, || {
        format!("remove removed {removed} and {mremoved} of {ops}")
    })?;
    Ok(out)
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
        let mut model = ModelSet::default();
        let mut db = MemDb::default();
        for i in 0..n {
            let s = rng.score();
            let m = member(i);
            ours.insert(s, &m);
            model.insert(s, &m);
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
            let ph = in_process_run(&mut ours, &mut model, &mut db, n, sizes.ops, &mut rng)?;
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
            for imp in [REDIS, OURS, OURS_CMD, BTREE] {
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
        "BTreeMap rank and range iterate from the smallest entry (O(n)), so they run fewer ops ({}) than the other rows ({})",
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
        let mut model = ModelSet::default();
        let mut rng = Rng(99);
        for i in 0..500 {
            let s = (rng.below(50)) as f64;
            ours.insert(s, &member(i));
            model.insert(s, &member(i));
        }
        for i in (0..500).step_by(37) {
            assert_eq!(ours.rank(&member(i)), model.rank(&member(i)));
        }
        assert_eq!(ours.range_by_rank(100, 109, false), model.range(100, 10));
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
