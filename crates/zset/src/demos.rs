//! The demos of redis-10 (how a zset is built) and redis-11 (skip-list search and its cost).

use catalog::{Ctx, Demo, DemoError, Need, Topic, check, check_eq};

use crate::command::{self, MemDb};
use crate::oracle;
use crate::skiplist::{MAX_LEVEL, SkipList};
use crate::{Reply, SortedSet};

pub fn topic() -> Topic {
    Topic {
        name: "zset",
        demos: DEMOS,
        benches: &[crate::bench::SUITE],
    }
}

static DEMOS: &[Demo] = &[
    Demo {
        name: "redis-10/spans-sum-to-rank",
        claim: "Every forward link carries a span; summing the spans along a search path gives the member's rank, for every member.",
        needs: Need::Nothing,
        run: spans_sum_to_rank,
    },
    Demo {
        name: "redis-10/update-fast-path",
        claim: "A score change that keeps the node between its neighbours is done in place; one that moves it past a neighbour removes and re-inserts the node.",
        needs: Need::Nothing,
        run: update_fast_path,
    },
    Demo {
        name: "redis-10/encoding-matches-real-redis",
        claim: "A zset is a listpack up to 128 members of at most 64 bytes, becomes a skiplist at the 129th member or a 65-byte member, and does not convert back when it shrinks: OBJECT ENCODING and every reply equal the real Redis's.",
        needs: Need::Redis,
        run: encoding_matches_real_redis,
    },
    Demo {
        name: "redis-10/replies-match-real-redis",
        claim: "ZADD flags, ZINCRBY, ranges by rank/score/lex, removals, pops and the error replies are byte-for-byte those of the real Redis.",
        needs: Need::Redis,
        run: replies_match_real_redis,
    },
    Demo {
        name: "redis-11/levels-promote-with-p-one-quarter",
        claim: "A node reaches level k+1 with probability 1/4 given level k, so about 3/4 of nodes have one level and the list stays within 32 levels.",
        needs: Need::Nothing,
        run: levels_quarter,
    },
    Demo {
        name: "redis-11/search-cost-grows-logarithmically",
        claim: "A ZRANK search compares O(log n) nodes: each 4x growth of n adds a near-constant number of visited nodes, far below the n/2 of a linked-list scan.",
        needs: Need::Nothing,
        run: search_cost_log,
    },
    Demo {
        name: "redis-11/ranks-match-real-redis",
        claim: "The rank found by walking spans equals the real Redis's ZRANK/ZREVRANK for every member of a 1000-member skiplist-encoded set with tied scores.",
        needs: Need::Redis,
        run: ranks_match_real_redis,
    },
];

fn argv(parts: &[&[u8]]) -> Vec<Vec<u8>> {
    parts.iter().map(|p| p.to_vec()).collect()
}

/// Compare two reply lists; the first difference, described.
pub fn first_difference(cmds: &[Vec<Vec<u8>>], ours: &[Reply], theirs: &[Reply]) -> Option<String> {
    if ours.len() != theirs.len() {
        return Some(format!("{} replies vs {}", ours.len(), theirs.len()));
    }
    for (i, (a, b)) in ours.iter().zip(theirs).enumerate() {
        if a != b {
            let c: Vec<String> = cmds[i]
                .iter()
                .map(|x| String::from_utf8_lossy(x).into_owned())
                .collect();
            return Some(format!("command {:?}: ours {:?}, Redis {:?}", c, a, b));
        }
    }
    None
}

/// Run each command (with `{k}` replaced by the key) on our in-memory keyspace and on the real
/// Redis, returning both reply lists.
fn both(
    r: &mut servers::RedisLab,
    key_ours: &[u8],
    key_real: &str,
    script: &[Vec<Vec<u8>>],
) -> (Vec<Vec<Vec<u8>>>, Vec<Reply>, Vec<Reply>) {
    let mut db = MemDb::default();
    let (mut ours, mut theirs, mut shown) = (Vec::new(), Vec::new(), Vec::new());
    for c in script {
        let sub = |k: &[u8]| -> Vec<Vec<u8>> {
            c.iter()
                .map(|a| {
                    if a.as_slice() == b"{k}" {
                        k.to_vec()
                    } else {
                        a.clone()
                    }
                })
                .collect()
        };
        let mine = sub(key_ours);
        let real = sub(key_real.as_bytes());
        let o = if mine[0].eq_ignore_ascii_case(b"OBJECT") {
            match db.sets.get(key_ours) {
                Some(s) => Reply::Bulk(Some(s.encoding().as_bytes().to_vec())),
                None => Reply::Bulk(None),
            }
        } else {
            command::run(&mut db, &mine)
        };
        ours.push(o);
        theirs.push(oracle::run_real(r.conn(), &real));
        shown.push(mine);
    }
    (shown, ours, theirs)
}

fn spans_sum_to_rank(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let mut zsl = SkipList::with_seed(7);
    for i in 0..1000u32 {
        zsl.insert(f64::from(i % 37), format!("m{i}").into_bytes());
    }
    for i in (0..1000u32).step_by(3) {
        zsl.delete(f64::from(i % 37), format!("m{i}").as_bytes());
    }
    check!(
        zsl.check_invariants().is_ok(),
        "invariants: {:?}",
        zsl.check_invariants()
    );
    let mut x = zsl.first();
    let mut expect = 1;
    while x != crate::skiplist::NIL {
        let r = zsl.rank(zsl.score(x), zsl.member(x));
        check_eq!(
            r,
            expect,
            "span-sum rank of the member at position {expect}"
        );
        x = zsl.next(x);
        expect += 1;
    }
    ctx.say(format!("{} members after 334 deletions, {} levels; every span-sum rank equals the level-0 position", zsl.len(), zsl.level()));
    let mut small = SkipList::with_seed(1);
    for (i, m) in ["a", "b", "c", "d", "e", "f"].iter().enumerate() {
        small.insert_with_level(i as f64, m.as_bytes().to_vec(), [1, 3, 1, 2, 1, 2][i]);
    }
    ctx.say("a small list, links labelled with their spans:");
    ctx.say(small.draw());
    let (found, steps) = small.trace_search(5);
    check_eq!(small.member(found), b"e".as_slice(), "member at rank 5");
    ctx.say(format!("rank 5 lookup lands on: {}", steps.join(", ")));
    Ok(())
}

fn update_fast_path(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let mut s = SortedSet::skiplist_with_seed(3);
    for i in 0..10 {
        s.insert(f64::from(i) * 10.0, format!("p{i}").as_bytes());
    }
    s.insert(42.0, b"p4"); // 40 -> 42: still between p3 (30) and p5 (50)
    let (fast, slow) = s.fast_updates().unwrap_or_default();
    check_eq!(
        (fast, slow),
        (1, 0),
        "(in place, re-inserted) after 40 -> 42"
    );
    s.insert(55.0, b"p4"); // passes p5 (50)
    let (fast, slow) = s.fast_updates().unwrap_or_default();
    check_eq!(
        (fast, slow),
        (1, 1),
        "(in place, re-inserted) after 42 -> 55"
    );
    check_eq!(s.rank(b"p4"), Some(5), "p4 now sorts after p5");
    ctx.say("40 -> 42 kept p4 between p3 and p5: changed in place; 42 -> 55 passed p5: removed and re-inserted");
    check!(
        s.skiplist().is_some_and(|z| z.check_invariants().is_ok()),
        "skip list invariants after updates"
    );
    Ok(())
}

fn encoding_matches_real_redis(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let mut r = ctx.redis()?;
    let k = r.key("enc");
    let k2 = r.key("long");
    let mut script = Vec::new();
    for i in 0..128 {
        script.push(argv(&[
            b"ZADD",
            b"{k}",
            i.to_string().as_bytes(),
            format!("m{i:03}").as_bytes(),
        ]));
    }
    script.push(argv(&[b"OBJECT", b"ENCODING", b"{k}"]));
    script.push(argv(&[b"ZADD", b"{k}", b"5", b"m005"])); // update: no conversion
    script.push(argv(&[b"OBJECT", b"ENCODING", b"{k}"]));
    script.push(argv(&[b"ZADD", b"{k}", b"128", b"m128"]));
    script.push(argv(&[b"OBJECT", b"ENCODING", b"{k}"]));
    script.push(argv(&[b"ZREMRANGEBYRANK", b"{k}", b"0", b"-3"]));
    script.push(argv(&[b"ZRANGE", b"{k}", b"0", b"-1", b"WITHSCORES"]));
    script.push(argv(&[b"OBJECT", b"ENCODING", b"{k}"]));
    let (a, b, c) = both(&mut r, b"enc", &k, &script);
    if let Some(d) = first_difference(&a, &b, &c) {
        return Err(DemoError::Claim(format!("replies differ: {d}")));
    }
    let enc: Vec<&Reply> = b
        .iter()
        .enumerate()
        .filter(|(i, _)| a[*i][0] == b"OBJECT")
        .map(|(_, x)| x)
        .collect();
    ctx.say(format!(
        "OBJECT ENCODING at 128, after an update, at 129, after shrinking to 2: {enc:?}"
    ));
    let long = vec![b'x'; 65];
    let script2 = vec![
        argv(&[b"ZADD", b"{k}", b"1", &long[..64]]),
        argv(&[b"OBJECT", b"ENCODING", b"{k}"]),
        argv(&[b"ZADD", b"{k}", b"2", &long]),
        argv(&[b"OBJECT", b"ENCODING", b"{k}"]),
    ];
    let (a, b, c) = both(&mut r, b"long", &k2, &script2);
    if let Some(d) = first_difference(&a, &b, &c) {
        return Err(DemoError::Claim(format!("replies differ: {d}")));
    }
    check_eq!(
        b[1].clone(),
        Reply::Bulk(Some(b"listpack".to_vec())),
        "64-byte member"
    );
    check_eq!(
        b[3].clone(),
        Reply::Bulk(Some(b"skiplist".to_vec())),
        "65-byte member"
    );
    ctx.say(format!(
        "{} + {} commands: every reply equals the real Redis's",
        script.len(),
        script2.len()
    ));
    Ok(())
}

fn replies_match_real_redis(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let mut r = ctx.redis()?;
    let k = r.key("cmds");
    let lines: &[&str] = &[
        "ZADD {k} 1 a 2 b 3 c 0.1 d 1e20 e",
        "ZADD {k} NX XX 1 a",
        "ZADD {k} GT LT 1 a",
        "ZADD {k} INCR 1 a 2 b",
        "ZADD {k} 1 a 2",
        "ZADD {k} nan a",
        "ZADD {k} CH GT 5 a 0 b 9 z",
        "ZADD {k} XX INCR 1 nosuch",
        "ZADD {k} INCR 1.5 a",
        "ZINCRBY {k} -inf a",
        "ZINCRBY {k} inf a",
        "ZSCORE {k} d",
        "ZSCORE {k} e",
        "ZRANGE {k} 0 -1 WITHSCORES",
        "ZRANGE {k} (0.1 +inf BYSCORE LIMIT 1 2 WITHSCORES",
        "ZRANGE {k} +inf -inf BYSCORE REV WITHSCORES",
        "ZRANGE {k} 0 1 LIMIT 0 1",
        "ZRANGE {k} - + BYLEX WITHSCORES",
        "ZRANGEBYSCORE {k} -inf (3",
        "ZREVRANGEBYSCORE {k} 3 -inf WITHSCORES LIMIT 0 2",
        "ZRANGEBYSCORE {k} x 3",
        "ZCOUNT {k} (1 3",
        "ZRANK {k} c",
        "ZREVRANK {k} c",
        "ZRANK {k} nosuch",
        "ZREM {k} a nosuch",
        "ZPOPMIN {k}",
        "ZPOPMAX {k} 2",
        "ZPOPMAX {k} -1",
        "ZCARD {k}",
        "ZADD {k} 0 aa 0 ab 0 b 0 c",
        "ZRANGEBYLEX {k} [aa (c",
        "ZREVRANGEBYLEX {k} + (aa LIMIT 1 5",
        "ZLEXCOUNT {k} - +",
        "ZRANGEBYLEX {k} a c",
        "ZREMRANGEBYLEX {k} [aa [ab",
        "ZREMRANGEBYSCORE {k} -inf +inf",
        "ZCARD {k}",
        "ZRANGE {k} 0 -1",
    ];
    let script: Vec<Vec<Vec<u8>>> = lines
        .iter()
        .map(|l| l.split(' ').map(|w| w.as_bytes().to_vec()).collect())
        .collect();
    let (a, b, c) = both(&mut r, b"cmds", &k, &script);
    if let Some(d) = first_difference(&a, &b, &c) {
        return Err(DemoError::Claim(format!("replies differ: {d}")));
    }
    for (l, rep) in lines.iter().zip(&b).take(12) {
        ctx.say(format!("{l:<40} -> {rep:?}"));
    }
    ctx.say(format!(
        "... all {} replies equal the real Redis's",
        lines.len()
    ));
    Ok(())
}

/// Fraction of nodes of height ≥ k+1 among those of height ≥ k, for k = 1..; all near `p`?
pub fn promotion_ratios_near(
    heights: &[usize],
    p: f64,
    tol: f64,
    levels: usize,
) -> Result<Vec<f64>, String> {
    let mut ratios = Vec::new();
    for k in 1..=levels {
        let at_least_k = heights.iter().filter(|&&h| h >= k).count();
        let above = heights.iter().filter(|&&h| h > k).count();
        if at_least_k == 0 {
            return Err(format!("no node reaches level {k}"));
        }
        let r = above as f64 / at_least_k as f64;
        if (r - p).abs() > tol {
            return Err(format!(
                "level {k}->{}: ratio {r:.3}, expected {p} ± {tol}",
                k + 1
            ));
        }
        ratios.push(r);
    }
    Ok(ratios)
}

fn levels_quarter(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let mut zsl = SkipList::with_seed(11);
    let heights: Vec<usize> = (0..100_000).map(|_| zsl.random_level()).collect();
    let max = heights.iter().copied().max().unwrap_or(0);
    check!(max <= MAX_LEVEL, "height {max} above 32");
    match promotion_ratios_near(&heights, 0.25, 0.02, 3) {
        Ok(r) => ctx.say(format!(
            "100000 coin-flip heights: P(>k | >=k) for k=1..3 = {r:.3?}; tallest {max}"
        )),
        Err(e) => return Err(DemoError::Claim(e)),
    }
    Ok(())
}

/// Average comparisons per ZRANK lookup in a skip list of `n` members.
pub fn average_rank_cost(n: usize, seed: u64) -> f64 {
    let mut zsl = SkipList::with_seed(seed);
    for i in 0..n {
        zsl.insert(i as f64, format!("m{i}").into_bytes());
    }
    let probes = 2000.min(n);
    let step = n / probes;
    let total: usize = (0..probes)
        .map(|j| {
            let i = j * step;
            zsl.rank_cost(i as f64, format!("m{i}").as_bytes())
        })
        .sum();
    total as f64 / probes as f64
}

/// Logarithmic growth: for each 4x step of n, cost grows by a positive step no larger than
/// `max_step`, and the steps stay within a factor 2.5 of each other.
pub fn grows_logarithmically(costs: &[(usize, f64)], max_step: f64) -> Result<Vec<f64>, String> {
    let steps: Vec<f64> = costs.windows(2).map(|w| w[1].1 - w[0].1).collect();
    for (w, s) in costs.windows(2).zip(&steps) {
        if *s <= 0.0 || *s > max_step {
            return Err(format!(
                "n {} -> {}: cost {:.1} -> {:.1}, step {s:.1}",
                w[0].0, w[1].0, w[0].1, w[1].1
            ));
        }
    }
    let (lo, hi) = steps
        .iter()
        .fold((f64::MAX, 0.0f64), |(a, b), &s| (a.min(s), b.max(s)));
    if hi > 2.5 * lo {
        return Err(format!("steps {steps:.2?} are not near-constant"));
    }
    Ok(steps)
}

fn search_cost_log(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let ns = [1_000usize, 4_000, 16_000, 64_000];
    let costs: Vec<(usize, f64)> = ns.iter().map(|&n| (n, average_rank_cost(n, 5))).collect();
    for (n, c) in &costs {
        ctx.say(format!(
            "n = {n:>6}: {c:.1} nodes compared per ZRANK (a list scan would average {})",
            n / 2
        ));
    }
    match grows_logarithmically(&costs, 12.0) {
        Ok(steps) => ctx.say(format!(
            "per 4x n the cost grows by {steps:.1?} (log4(4)·(1/p) = 4 expected)"
        )),
        Err(e) => return Err(DemoError::Claim(e)),
    }
    Ok(())
}

fn ranks_match_real_redis(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let mut r = ctx.redis()?;
    let k = r.key("ranks");
    let mut db = MemDb::default();
    let mut add = vec![b"ZADD".to_vec(), k.clone().into_bytes()];
    for i in 0..1000 {
        add.push((i % 50).to_string().into_bytes());
        add.push(format!("u{i}").into_bytes());
    }
    let ours = command::run(&mut db, &add);
    let theirs = oracle::run_real(r.conn(), &add);
    check_eq!(ours, theirs, "ZADD of 1000 members");
    let set = db
        .sets
        .get(k.as_bytes())
        .ok_or_else(|| DemoError::Claim("set missing".into()))?;
    check_eq!(set.encoding(), "skiplist", "encoding at 1000 members");
    let mut worst = 0;
    for i in (0..1000).step_by(7) {
        let m = format!("u{i}").into_bytes();
        for c in [b"ZRANK".as_slice(), b"ZREVRANK"] {
            let a = vec![c.to_vec(), k.clone().into_bytes(), m.clone()];
            let ours = command::run(&mut db, &a);
            let theirs = oracle::run_real(r.conn(), &a);
            check_eq!(ours, theirs, "{} u{i}", String::from_utf8_lossy(c));
        }
        let set = &db.sets[k.as_bytes()];
        let z = set
            .skiplist()
            .ok_or_else(|| DemoError::Claim("not a skiplist".into()))?;
        worst = worst.max(z.rank_cost(f64::from(i % 50), &m));
    }
    ctx.say(format!("143 members x (ZRANK, ZREVRANK) equal the real Redis's; at most {worst} nodes compared per lookup"));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratio_check_rejects_p_one_half() {
        let mut zsl = SkipList::with_seed(2);
        let h: Vec<usize> = (0..20_000).map(|_| zsl.random_level()).collect();
        assert!(promotion_ratios_near(&h, 0.25, 0.02, 3).is_ok());
        // Counterexample: heights from p = 1/2.
        let half: Vec<usize> = (0..20_000)
            .map(|i: usize| 1 + (i.trailing_zeros() as usize).min(31))
            .collect();
        assert!(promotion_ratios_near(&half, 0.25, 0.02, 3).is_err());
    }

    #[test]
    fn log_check_rejects_linear_growth() {
        assert!(grows_logarithmically(&[(1000, 20.0), (4000, 24.0), (16000, 28.5)], 12.0).is_ok());
        assert!(grows_logarithmically(&[(1000, 500.0), (4000, 2000.0)], 12.0).is_err());
        assert!(grows_logarithmically(&[(1000, 20.0), (4000, 20.0)], 12.0).is_err());
    }

    #[test]
    fn difference_is_reported() {
        let c = vec![vec![b"ZSCORE".to_vec()]];
        assert!(first_difference(&c, &[Reply::Integer(1)], &[Reply::Integer(1)]).is_none());
        assert!(first_difference(&c, &[Reply::Integer(1)], &[Reply::Integer(2)]).is_some());
    }
}
