//! Sets: unordered, unique members: tags, unique visitors, and set algebra such as common friends.
//!
//! ```text
//!   SADD tags redis cache redis db cache   → 3 new, duplicates ignored
//!   friends:alice {bob carol dave}  ∩  friends:bob {alice carol dave erin}  = {carol dave}
//!
//!   ids {1..512}  → intset   a sorted array of integers, binary-searched
//!   ids {1..513}  → hashtable                     (set-max-intset-entries = 512)
//!   {redis cache db} → hashtable before 7.2, listpack since 7.2 (set-max-listpack-entries)
//! ```

use std::collections::BTreeSet;

use catalog::{Ctx, DemoError, check_eq};
use servers::redis;

use crate::encoding::{SetLimits, set_encoding};
use crate::session::Session;

/// Above this `set-max-intset-entries` the demo does not build a set just to cross it.
const MAX_MEMBERS_TO_BUILD: usize = 100_000;

/// The members both sets hold, the way `SINTER` answers (as a sorted set, since Redis's order is
/// unspecified).
pub fn common<'a>(a: &[&'a str], b: &[&'a str]) -> BTreeSet<&'a str> {
    let b: BTreeSet<&str> = b.iter().copied().collect();
    a.iter().copied().filter(|m| b.contains(m)).collect()
}

/// True when every member is an integer Redis would keep in an intset (canonical i64 text).
pub fn all_integers(members: &[&str]) -> bool {
    members
        .iter()
        .all(|m| crate::encoding::string_encoding(m.as_bytes()) == crate::encoding::Encoding::Int)
}

pub(crate) fn tags_friends_and_intset(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let mut s = Session::open(ctx)?;
    let v = s.version();

    s.say("1) Tags: SADD ignores members that are already there.");
    let tags = s.key("article:7:tags");
    let added: i64 = s.run(
        redis::cmd("SADD")
            .arg(&tags)
            .arg(&["redis", "cache", "redis", "db", "cache"]),
    )?;
    check_eq!(added, 3, "SADD of 5 tags with 2 repeats");
    let members: BTreeSet<String> = s.run(redis::cmd("SMEMBERS").arg(&tags))?;
    let want: BTreeSet<String> = ["cache", "db", "redis"].map(String::from).into();
    check_eq!(members, want, "SMEMBERS");

    s.say("2) Unique visitors: one SADD per page view, SCARD counts people, not views.");
    let uv = s.key("uv:2024-06-01");
    let views = ["u1", "u2", "u1", "u3", "u2"];
    let mut new_flags = Vec::new();
    for user in views {
        new_flags.push(s.run::<i64>(redis::cmd("SADD").arg(&uv).arg(user))?);
    }
    check_eq!(new_flags, [1, 1, 0, 1, 0], "SADD replies (1 = first visit)");
    let unique: usize = s.run(redis::cmd("SCARD").arg(&uv))?;
    let want_unique = views.iter().collect::<BTreeSet<_>>().len();
    check_eq!(unique, want_unique, "SCARD after 5 views by 3 users");

    s.say("3) Common friends: SINTER; membership: SISMEMBER.");
    let alice_friends = ["bob", "carol", "dave"];
    let bob_friends = ["alice", "carol", "dave", "erin"];
    let (fa, fb) = (s.key("friends:alice"), s.key("friends:bob"));
    s.run::<i64>(redis::cmd("SADD").arg(&fa).arg(&alice_friends))?;
    s.run::<i64>(redis::cmd("SADD").arg(&fb).arg(&bob_friends))?;
    let both: BTreeSet<String> = s.run(redis::cmd("SINTER").arg(&fa).arg(&fb))?;
    let want_both: BTreeSet<String> = common(&alice_friends, &bob_friends)
        .into_iter()
        .map(String::from)
        .collect();
    check_eq!(both, want_both, "SINTER friends:alice friends:bob");
    let alice_knows_erin: i64 = s.run(redis::cmd("SISMEMBER").arg(&fa).arg("erin"))?;
    let bob_knows_erin: i64 = s.run(redis::cmd("SISMEMBER").arg(&fb).arg("erin"))?;
    check_eq!(
        (alice_knows_erin, bob_knows_erin),
        (0, 1),
        "SISMEMBER erin in alice's and bob's friends"
    );

    s.say("4) Encoding: intset for a few integers; words are a hashtable (listpack on 7.2+).");
    let intset_entries: usize = s.config_num(&["set-max-intset-entries"])?;
    let listpack = if v.at_least(7, 2) {
        Some(s.compact_limits("set")?)
    } else {
        None
    };
    let limits = SetLimits {
        intset_entries,
        listpack,
    };
    let words = ["redis", "cache", "db"];
    let longest = words.iter().map(|w| w.len()).max().unwrap_or(0);
    let want = set_encoding(v, words.len(), all_integers(&words), longest, limits);
    s.expect_encoding(&tags, want, "a set of 3 words")?;

    if intset_entries <= MAX_MEMBERS_TO_BUILD {
        let ids = s.key("user-ids");
        let mut sadd = redis::cmd("SADD");
        sadd.arg(&ids).arg((1..=intset_entries).collect::<Vec<_>>());
        let added: usize = s.run(&sadd)?;
        check_eq!(added, intset_entries, "SADD of 1..={intset_entries}");
        let longest = intset_entries.to_string().len();
        let want = set_encoding(v, intset_entries, true, longest, limits);
        s.expect_encoding(
            &ids,
            want,
            &format!("a set of exactly set-max-intset-entries = {intset_entries} integers"),
        )?;
        s.run::<i64>(redis::cmd("SADD").arg(&ids).arg(intset_entries + 1))?;
        let want = set_encoding(v, intset_entries + 1, true, longest, limits);
        s.expect_encoding(&ids, want, "the same set with one integer more")?;
    } else {
        s.say(format!(
            "   (set-max-intset-entries is {intset_entries}: not building a set that large)"
        ));
    }
    s.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_friends_are_the_intersection() {
        let got = common(
            &["bob", "carol", "dave"],
            &["alice", "carol", "dave", "erin"],
        );
        assert_eq!(got, BTreeSet::from(["carol", "dave"]));
        assert!(common(&["a"], &["b"]).is_empty());
        // Counterexample: the union is not what SINTER answers.
        assert_ne!(got.len(), 5);
    }

    #[test]
    fn only_canonical_integers_keep_a_set_an_intset() {
        assert!(all_integers(&["1", "-7", "512"]));
        assert!(all_integers(&[]));
        assert!(!all_integers(&["1", "007"]));
        assert!(!all_integers(&["1", "redis"]));
    }
}
