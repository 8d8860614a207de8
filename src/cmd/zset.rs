//! `lab zset`: draw a small skip list built like Redis's (crate `zset`) and trace a ZRANK search
//! through it (redis-10, redis-11).

use std::collections::HashSet;
use std::process::ExitCode;

use anyhow::{bail, ensure};
use zset::skiplist::SkipList;

use crate::out;

/// At most this many members: the drawing is one column per node.
const MAX_MEMBERS: usize = 32;

pub fn zset(pairs: &[String], rank: Option<usize>, seed: u64) -> anyhow::Result<ExitCode> {
    let members = members(pairs)?;
    let mut list = SkipList::with_seed(seed);
    for (score, member) in &members {
        list.insert(*score, member.as_bytes().to_vec());
    }
    let rank = rank.unwrap_or(members.len().div_ceil(2));
    ensure!(
        (1..=members.len()).contains(&rank),
        "--rank {rank} is outside 1..={} (ranks count from 1 here; ZRANK's 0-based rank is one less)",
        members.len()
    );
    out::line(out::dim(&format!(
        "{} members, {} levels (coin flips seeded with {seed}; --seed changes them); each link shows its span:",
        list.len(),
        list.level()
    )));
    for line in list.draw().lines() {
        out::line(line);
    }
    let (found, steps) = list.trace_search(rank);
    out::line(format!(
        "ZRANK of the member at rank {rank} ({}) walks: {}",
        String::from_utf8_lossy(list.member(found)),
        steps.join(", ")
    ));
    out::line(out::dim(
        "Each step moves right while the spans still fit the rank, then drops a level: O(log n) nodes on average.",
    ));
    Ok(ExitCode::SUCCESS)
}

/// `SCORE MEMBER` pairs from the command line, or eight default members.
fn members(pairs: &[String]) -> anyhow::Result<Vec<(f64, String)>> {
    if pairs.is_empty() {
        return Ok(["a", "b", "c", "d", "e", "f", "g", "h"]
            .iter()
            .enumerate()
            .map(|(i, m)| ((i + 1) as f64, m.to_string()))
            .collect());
    }
    ensure!(
        pairs.len().is_multiple_of(2),
        "expected SCORE MEMBER pairs, like ZADD's arguments (got {} words)",
        pairs.len()
    );
    ensure!(
        pairs.len() / 2 <= MAX_MEMBERS,
        "at most {MAX_MEMBERS} members fit a drawing (got {})",
        pairs.len() / 2
    );
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for pair in pairs.chunks(2) {
        let Some(score) = zset::parse_score(pair[0].as_bytes()) else {
            bail!(
                "{:?} is not a valid score (a float, inf or -inf; not NaN)",
                pair[0]
            );
        };
        ensure!(
            seen.insert(pair[1].clone()),
            "member {:?} given twice (a sorted set holds each member once)",
            pair[1]
        );
        out.push((score, pair[1].clone()));
    }
    Ok(out)
}
