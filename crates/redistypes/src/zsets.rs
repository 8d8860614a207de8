//! Sorted sets: members kept in score order, the natural leaderboard.
//!
//! ```text
//!   score  member                ZRANGE (ascending)      ZREVRANGE (descending)
//!    70    erin                  erin  70                bob   105
//!    90    carol   ┐ a tie:      carol 90  ┐ by member   alice 100
//!    90    dave    ┘             dave  90  ┘ a → z       dave  90  ┐ by member
//!   100    alice                 alice 100               carol 90  ┘ z → a
//!   105    bob (80 + 25)         bob   105               erin  70
//! ```
//!
//! Order is (score, then member bytes); `ZREVRANGE` reverses the whole order, so tied members come
//! out in *reverse* byte order. A leaderboard that wants ties alphabetical in both directions must
//! break them itself (e.g. fold a tie-breaker into the score).

use std::cmp::Ordering;

use catalog::{Ctx, DemoError, check_eq};
use servers::redis;

use crate::encoding::zset_encoding;
use crate::session::Session;

/// The order Redis keeps: by score, ties by member bytes (`memcmp`, shorter first). `descending`
/// reverses the whole order, as `ZREVRANGE` does.
pub fn leaderboard(entries: &[(&str, f64)], descending: bool) -> Vec<(String, f64)> {
    let mut sorted: Vec<(String, f64)> =
        entries.iter().map(|(m, sc)| (m.to_string(), *sc)).collect();
    sorted.sort_by(|a, b| {
        a.1.partial_cmp(&b.1)
            .unwrap_or(Ordering::Equal)
            .then_with(|| a.0.as_bytes().cmp(b.0.as_bytes()))
    });
    if descending {
        sorted.reverse();
    }
    sorted
}

/// The 0-based position of `member` in `board`, as `ZRANK`/`ZREVRANK` reply (`None` = nil).
pub fn rank_of(board: &[(String, f64)], member: &str) -> Option<usize> {
    board.iter().position(|(m, _)| m == member)
}

pub(crate) fn leaderboard_ties_by_member(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let mut s = Session::open(ctx)?;
    let v = s.version();
    let board = s.key("leaderboard:season-1");

    s.say("1) Scores go in with ZADD; a player scores again with ZINCRBY.");
    let added: i64 = s.run(redis::cmd("ZADD").arg(&board).arg(&[
        "100", "alice", "80", "bob", "90", "carol", "90", "dave", "70", "erin",
    ]))?;
    check_eq!(added, 5, "ZADD of 5 players");
    let bob: f64 = s.run(redis::cmd("ZINCRBY").arg(&board).arg(25).arg("bob"))?;
    check_eq!(bob, 105.0, "bob's score after ZINCRBY 25");
    let entries = [
        ("alice", 100.0),
        ("bob", 105.0),
        ("carol", 90.0),
        ("dave", 90.0),
        ("erin", 70.0),
    ];

    s.say("2) Best first: ZREVRANGE; carol and dave tie at 90 and come out z → a.");
    let top: Vec<(String, f64)> = s.run(
        redis::cmd("ZREVRANGE")
            .arg(&board)
            .arg(0)
            .arg(-1)
            .arg("WITHSCORES"),
    )?;
    let want_desc = leaderboard(&entries, true);
    check_eq!(top, want_desc, "ZREVRANGE 0 -1 WITHSCORES");
    let asc: Vec<(String, f64)> = s.run(
        redis::cmd("ZRANGE")
            .arg(&board)
            .arg(0)
            .arg(-1)
            .arg("WITHSCORES"),
    )?;
    check_eq!(
        asc,
        leaderboard(&entries, false),
        "ZRANGE 0 -1 WITHSCORES (ties a → z)"
    );
    let podium: Vec<String> = s.run(redis::cmd("ZREVRANGE").arg(&board).arg(0).arg(2))?;
    let want_podium: Vec<String> = want_desc.iter().take(3).map(|(m, _)| m.clone()).collect();
    check_eq!(podium, want_podium, "the top 3");

    s.say("3) A player's rank (0 = first) and score.");
    let alice_rank: Option<usize> = s.run(redis::cmd("ZREVRANK").arg(&board).arg("alice"))?;
    check_eq!(alice_rank, rank_of(&want_desc, "alice"), "ZREVRANK alice");
    let nobody: Option<usize> = s.run(redis::cmd("ZREVRANK").arg(&board).arg("mallory"))?;
    check_eq!(nobody, None, "ZREVRANK of a member that is not there");
    let score: Option<f64> = s.run(redis::cmd("ZSCORE").arg(&board).arg("dave"))?;
    check_eq!(score, Some(90.0), "ZSCORE dave");

    s.say("4) Encoding: a small sorted set is compact; a big one is a skip list plus a dict.");
    let limits = s.compact_limits("zset")?;
    let longest = entries.iter().map(|(m, _)| m.len()).max().unwrap_or(0);
    let want = zset_encoding(v, entries.len(), longest, limits);
    s.expect_encoding(&board, want, "a 5-member sorted set")?;
    s.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAYERS: [(&str, f64); 5] = [
        ("alice", 100.0),
        ("bob", 105.0),
        ("carol", 90.0),
        ("dave", 90.0),
        ("erin", 70.0),
    ];

    fn names(board: &[(String, f64)]) -> Vec<&str> {
        board.iter().map(|(m, _)| m.as_str()).collect()
    }

    #[test]
    fn descending_order_reverses_ties_too() {
        let desc = leaderboard(&PLAYERS, true);
        assert_eq!(names(&desc), ["bob", "alice", "dave", "carol", "erin"]);
        let asc = leaderboard(&PLAYERS, false);
        assert_eq!(names(&asc), ["erin", "carol", "dave", "alice", "bob"]);
        // Counterexample: "by score descending, ties alphabetical" is not ZREVRANGE's order.
        assert_ne!(names(&desc), ["bob", "alice", "carol", "dave", "erin"]);
    }

    #[test]
    fn ties_compare_bytes_not_insertion_order() {
        let board = leaderboard(&[("zed", 1.0), ("Zed", 1.0), ("ze", 1.0)], false);
        // 'Z' (0x5a) sorts before 'z' (0x7a); a prefix sorts before the longer string.
        assert_eq!(names(&board), ["Zed", "ze", "zed"]);
    }

    #[test]
    fn ranks_are_zero_based_positions() {
        let desc = leaderboard(&PLAYERS, true);
        assert_eq!(rank_of(&desc, "bob"), Some(0));
        assert_eq!(rank_of(&desc, "alice"), Some(1));
        assert_eq!(rank_of(&desc, "mallory"), None);
    }
}
