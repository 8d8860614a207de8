//! Strings: a cache entry with a TTL, a counter two clients share, a once-only guard, and the three
//! ways Redis stores a string.
//!
//! ```text
//!   SET page:home "<html>" EX 60    cache entry, gone after 60 s (TTL counts down)
//!   INCR views / INCRBY views 5     read-add-write inside the server: no lost updates
//!   SET once:email worker-a NX      only the first SET of a missing key succeeds
//!
//!   "12345"      → int     the number lives in the header's pointer slot
//!   44 bytes     → embstr  header and bytes in one 64-byte allocation
//!   45 bytes     → raw     header and bytes allocated separately
//! ```

use std::sync::Barrier;

use catalog::{Ctx, DemoError, check, check_eq};
use servers::redis::{self, Connection, RedisResult};

use crate::encoding::{EMBSTR_SIZE_LIMIT, string_encoding};
use crate::session::Session;

/// What `TTL key` says about a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ttl {
    /// `-2`: there is no such key (a cache miss, or it expired).
    Missing,
    /// `-1`: the key exists and never expires.
    Persistent,
    /// Seconds left, rounded.
    Expires(i64),
}

impl Ttl {
    /// Reads the integer reply of `TTL`.
    pub fn from_reply(reply: i64) -> Ttl {
        match reply {
            -2 => Ttl::Missing,
            r if r < 0 => Ttl::Persistent,
            r => Ttl::Expires(r),
        }
    }

    /// True for a key set with `EX ex` moments ago: it exists, expires, and has at most `ex` s left.
    pub fn is_fresh_for(self, ex: i64) -> bool {
        matches!(self, Ttl::Expires(s) if s > 0 && s <= ex)
    }
}

/// True when no two replies are equal: each `INCR`/`INCRBY` saw a counter no other command saw,
/// which is what "atomic" means for a read-add-write.
pub fn all_distinct(replies: &[i64]) -> bool {
    let mut sorted = replies.to_vec();
    sorted.sort_unstable();
    sorted.windows(2).all(|w| w[0] != w[1])
}

const INCRS_PER_CLIENT: i64 = 1000;
const INCRBY_STEP: i64 = 5;

pub(crate) fn cache_counter_and_guard(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let mut s = Session::open(ctx)?;

    s.say("1) Cache: a value with a lifetime.");
    let page = s.key("cache:page:home");
    s.run::<()>(
        redis::cmd("SET")
            .arg(&page)
            .arg("<html>home</html>")
            .arg("EX")
            .arg(60),
    )?;
    let hit: Option<String> = s.run(redis::cmd("GET").arg(&page))?;
    check_eq!(
        hit.as_deref(),
        Some("<html>home</html>"),
        "GET of a cached page"
    );
    let ttl = Ttl::from_reply(s.run(redis::cmd("TTL").arg(&page))?);
    check!(
        ttl.is_fresh_for(60),
        "a key just set with EX 60 should have 1..=60 s left, TTL says {ttl:?}"
    );
    let miss = s.key("cache:page:missing");
    let ttl_miss = Ttl::from_reply(s.run(redis::cmd("TTL").arg(&miss))?);
    check_eq!(ttl_miss, Ttl::Missing, "TTL of a key that was never cached");

    s.say("2) Counter: two clients add at the same time; INCR is atomic, so nothing is lost.");
    let views = s.key("counter:views");
    let (a, b) = (s.another_connection()?, s.another_connection()?);
    let (replies_a, replies_b) = race_two_counters(a, b, &views)?;
    s.say(format!(
        "   client A: {INCRS_PER_CLIENT} × INCR {views}; client B: {INCRS_PER_CLIENT} × INCRBY {views} {INCRBY_STEP}; both started together"
    ));
    let total: i64 = s.run(redis::cmd("GET").arg(&views))?;
    let expected = INCRS_PER_CLIENT + INCRS_PER_CLIENT * INCRBY_STEP;
    check_eq!(total, expected, "the counter after both clients finished");
    let replies: Vec<i64> = replies_a.iter().chain(&replies_b).copied().collect();
    check!(
        all_distinct(&replies),
        "two increments returned the same counter value: one read-add-write saw another's input"
    );
    s.say(format!(
        "   all {} replies are distinct: every increment saw a counter no other increment saw",
        replies.len()
    ));

    s.say("3) Guard: SET NX lets exactly one caller through (e.g. send a welcome e-mail once).");
    let once = s.key("once:welcome-email:user:42");
    let first: Option<String> = s.run(
        redis::cmd("SET")
            .arg(&once)
            .arg("worker-a")
            .arg("NX")
            .arg("EX")
            .arg(3600),
    )?;
    let second: Option<String> = s.run(
        redis::cmd("SET")
            .arg(&once)
            .arg("worker-b")
            .arg("NX")
            .arg("EX")
            .arg(3600),
    )?;
    check_eq!(first.as_deref(), Some("OK"), "the first SET NX");
    check_eq!(
        second,
        None,
        "the second SET NX of the same key (nil = not set)"
    );
    let owner: Option<String> = s.run(redis::cmd("GET").arg(&once))?;
    check_eq!(
        owner.as_deref(),
        Some("worker-a"),
        "the guard keeps the first writer's value"
    );

    s.say(format!(
        "4) Encodings: int for canonical integers, embstr up to {EMBSTR_SIZE_LIMIT} bytes, raw beyond."
    ));
    let samples: [(&str, Vec<u8>); 4] = [
        ("enc:int", b"12345".to_vec()),
        ("enc:leading-zero", b"007".to_vec()),
        ("enc:44-bytes", vec![b'x'; EMBSTR_SIZE_LIMIT]),
        ("enc:45-bytes", vec![b'x'; EMBSTR_SIZE_LIMIT + 1]),
    ];
    for (name, value) in samples {
        let key = s.key(name);
        s.run::<()>(redis::cmd("SET").arg(&key).arg(&value))?;
        let want = string_encoding(&value);
        s.expect_encoding(
            &key,
            want,
            &format!("{:?}", String::from_utf8_lossy(&value)),
        )?;
    }
    // The counter built by INCR is a number too.
    let want = string_encoding(total.to_string().as_bytes());
    s.expect_encoding(&views, want, "the counter")?;
    s.finish()
}

/// Client A sends INCR and client B INCRBY, [`INCRS_PER_CLIENT`] times each, released together by a
/// barrier; returns each client's replies.
fn race_two_counters(
    mut a: Connection,
    mut b: Connection,
    key: &str,
) -> Result<(Vec<i64>, Vec<i64>), DemoError> {
    let start = Barrier::new(2);
    let bump = |conn: &mut Connection, step: i64| -> RedisResult<Vec<i64>> {
        start.wait();
        (0..INCRS_PER_CLIENT)
            .map(|_| {
                if step == 1 {
                    redis::cmd("INCR").arg(key).query::<i64>(conn)
                } else {
                    redis::cmd("INCRBY").arg(key).arg(step).query::<i64>(conn)
                }
            })
            .collect()
    };
    std::thread::scope(|scope| {
        let ha = scope.spawn(|| bump(&mut a, 1));
        let hb = scope.spawn(|| bump(&mut b, INCRBY_STEP));
        let ra = ha
            .join()
            .map_err(|_| DemoError::Broken("client A's thread panicked".into()))??;
        let rb = hb
            .join()
            .map_err(|_| DemoError::Broken("client B's thread panicked".into()))??;
        Ok((ra, rb))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_replies_mean_missing_persistent_or_seconds_left() {
        assert_eq!(Ttl::from_reply(-2), Ttl::Missing);
        assert_eq!(Ttl::from_reply(-1), Ttl::Persistent);
        assert_eq!(Ttl::from_reply(59), Ttl::Expires(59));
        assert!(Ttl::Expires(60).is_fresh_for(60));
        assert!(Ttl::Expires(1).is_fresh_for(60));
        // Counterexamples: no key, no expiry, or more time left than was asked for.
        assert!(!Ttl::Missing.is_fresh_for(60));
        assert!(!Ttl::Persistent.is_fresh_for(60));
        assert!(!Ttl::Expires(61).is_fresh_for(60));
        assert!(!Ttl::Expires(0).is_fresh_for(60));
    }

    #[test]
    fn distinct_replies_show_atomic_increments() {
        assert!(all_distinct(&[1, 6, 2, 11, 3]));
        assert!(all_distinct(&[]));
        // Counterexample: a lost update (GET, add, SET by two clients) shows up as a repeated value.
        assert!(!all_distinct(&[1, 2, 2, 3]));
    }
}
