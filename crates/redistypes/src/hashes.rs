//! Hashes: one object per key, fields read and updated one at a time, stored as a listpack while it
//! is small.
//!
//! ```text
//!   user:42 ─► listpack [ name|Ada ][ city|London ][ visits|11 ]     fields <= hash-max-listpack-entries
//!                                                                    and each <= hash-max-listpack-value
//!   wide    ─► hashtable { f:0001 → 1, f:0002 → 1, … }              one field more, or one long value
//! ```
//!
//! A listpack is one contiguous byte array scanned from the front: tiny and cache friendly, but O(n)
//! per lookup, which is why Redis stops using it past a few hundred fields.

use std::collections::BTreeMap;

use catalog::{Ctx, DemoError, check_eq};
use servers::redis;

use crate::encoding::hash_encoding;
use crate::session::Session;

/// Above this many fields the demo does not build a hash just to cross the limit (a server with an
/// unusual setting); it still shows the value-length rule.
const MAX_FIELDS_TO_BUILD: usize = 10_000;

/// Names for `n` fields: `f:0001`, `f:0002`, ... (short, equal length, far under any value limit).
pub fn field_names(n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("f:{i:04}")).collect()
}

pub(crate) fn object_and_listpack_threshold(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let mut s = Session::open(ctx)?;
    let v = s.version();

    s.say("1) An object: one key, many fields.");
    let user = s.key("user:42");
    let added: i64 = s.run(
        redis::cmd("HSET")
            .arg(&user)
            .arg("name")
            .arg("Ada")
            .arg("city")
            .arg("London")
            .arg("visits")
            .arg(0),
    )?;
    check_eq!(added, 3, "HSET of three new fields");
    let name: Option<String> = s.run(redis::cmd("HGET").arg(&user).arg("name"))?;
    check_eq!(name.as_deref(), Some("Ada"), "HGET name");
    let visits: i64 = s.run(redis::cmd("HINCRBY").arg(&user).arg("visits").arg(1))?;
    check_eq!(visits, 1, "HINCRBY visits 1");
    let visits: i64 = s.run(redis::cmd("HINCRBY").arg(&user).arg("visits").arg(10))?;
    check_eq!(visits, 11, "HINCRBY visits 10");
    let updated: i64 = s.run(redis::cmd("HSET").arg(&user).arg("city").arg("Paris"))?;
    check_eq!(updated, 0, "HSET of an existing field (0 = no new field)");
    let all: BTreeMap<String, String> = s.run(redis::cmd("HGETALL").arg(&user))?;
    let want: BTreeMap<String, String> = [("name", "Ada"), ("city", "Paris"), ("visits", "11")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    check_eq!(all, want, "HGETALL");

    s.say("2) Encoding: compact while small, a hash table once there are too many fields.");
    let limits = s.compact_limits("hash")?;
    let longest = all
        .iter()
        .map(|(k, v)| k.len().max(v.len()))
        .max()
        .unwrap_or(0);
    let want = hash_encoding(v, all.len(), longest, limits);
    s.expect_encoding(&user, want, &format!("a {}-field hash", all.len()))?;

    if limits.entries <= MAX_FIELDS_TO_BUILD {
        let wide = s.key("wide");
        let names = field_names(limits.entries + 1);
        let longest = names.iter().map(String::len).max().unwrap_or(0);
        let (at_limit, one_more) = names.split_at(limits.entries);
        let mut hset = redis::cmd("HSET");
        hset.arg(&wide);
        for f in at_limit {
            hset.arg(f).arg(1);
        }
        s.run::<i64>(&hset)?;
        let want = hash_encoding(v, limits.entries, longest, limits);
        s.expect_encoding(
            &wide,
            want,
            &format!(
                "a hash with exactly hash-max-listpack-entries = {} fields",
                limits.entries
            ),
        )?;
        let mut hset = redis::cmd("HSET");
        hset.arg(&wide);
        for f in one_more {
            hset.arg(f).arg(1);
        }
        s.run::<i64>(&hset)?;
        let want = hash_encoding(v, limits.entries + 1, longest, limits);
        s.expect_encoding(&wide, want, "the same hash with one field more")?;
        let len: usize = s.run(redis::cmd("HLEN").arg(&wide))?;
        check_eq!(len, limits.entries + 1, "HLEN");
    } else {
        s.say(format!(
            "   (hash-max-listpack-entries is {}: not building a hash that large)",
            limits.entries
        ));
    }

    s.say("3) One value longer than hash-max-listpack-value converts it too.");
    if limits.value < 1 << 20 {
        let bio = "b".repeat(limits.value + 1);
        s.run::<i64>(redis::cmd("HSET").arg(&user).arg("bio").arg(&bio))?;
        let want = hash_encoding(v, all.len() + 1, bio.len(), limits);
        s.expect_encoding(
            &user,
            want,
            &format!("a small hash holding one {}-byte value", bio.len()),
        )?;
    } else {
        s.say(format!(
            "   (hash-max-listpack-value is {} bytes: not writing a value that long)",
            limits.value
        ));
    }
    s.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_are_distinct_and_short() {
        let names = field_names(513);
        assert_eq!(names.len(), 513);
        assert_eq!(names[0], "f:0001");
        assert_eq!(names[512], "f:0513");
        let unique: std::collections::BTreeSet<_> = names.iter().collect();
        assert_eq!(unique.len(), 513);
        assert!(names.iter().all(|n| n.len() == 6));
        // Past 9999 the names grow by a byte, so the demo measures them rather than assuming 6.
        assert_eq!(field_names(10_000)[9_999].len(), 7);
    }
}
