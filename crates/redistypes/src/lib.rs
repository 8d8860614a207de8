//! Redis data types and what they are for, shown with real commands against a real Redis
//! (question `redis-01`, 「Redis的数据结构及使用场景」).
//!
//! Redis is a map from keys to typed values. The type is chosen when a key is created and fixed for
//! its life; each type comes with its own commands, and each has two or more internal *encodings*: a
//! compact one for small values and a general one for large values, switched by thresholds you can
//! read with `CONFIG GET`.
//!
//! ```text
//!   key ──► redisObject { type, encoding, lru, refcount, ptr }
//!                 │           │                          │
//!                 │           └── how it is laid out ────┴──► int | embstr | raw
//!                 │                                           listpack | quicklist
//!                 └── what commands apply                     intset | hashtable | skiplist
//!
//!   string  cache entry, counter, lock/guard        SET EX, GET, INCR, SET NX
//!   hash    an object's fields                      HSET, HGET, HINCRBY, HGETALL
//!   list    queue, latest-N timeline, blocking pop  LPUSH, RPOP, LTRIM, LRANGE, BLPOP
//!   set     tags, unique visitors, common friends   SADD, SCARD, SISMEMBER, SINTER
//!   zset    leaderboard, priority, time index       ZADD, ZINCRBY, ZREVRANGE, ZREVRANK
//!   extras  bitmap / HyperLogLog (strings), geo (a zset), stream (its own type)
//! ```
//!
//! Each demo ([`topic`]) takes one type through a use case, prints every command with its reply, and
//! asserts the replies. The rules that decide an outcome live in named functions with unit tests:
//! [`encoding`] predicts `OBJECT ENCODING` from the version and the `CONFIG GET` thresholds,
//! [`extras::within_relative`] judges the HyperLogLog estimate and the geo distance,
//! [`zsets::leaderboard`] gives the order of a sorted set with ties, and so on.
//!
//! Every key is `lab:redis-01:<name>`; the demos read settings but never change them, and every key
//! is deleted when a demo ends (also when it fails).
//!
//! # How the real system differs
//! There is no Rust model of Redis here: the demos run against the real server (Redis 7.0.15 in CI,
//! whatever `LAB_REDIS_URL` points at otherwise). The encoding predictions in [`encoding`] are the
//! documented rules, not Redis's byte-exact bookkeeping; see that module. The lab's own RESP server
//! is a later addition; these demos will then run against both.

pub mod encoding;
pub mod extras;
pub mod hashes;
pub mod lists;
mod session;
pub mod sets;
pub mod streams;
pub mod strings;
pub mod wrongtype;
pub mod zsets;

use catalog::{Demo, Need, Topic};

/// This crate's demos and benchmarks, for the lab's registry.
pub fn topic() -> Topic {
    Topic {
        name: "redistypes",
        demos: DEMOS,
        benches: &[],
    }
}

static DEMOS: &[Demo] = &[
    Demo {
        name: "redis-01/strings-cache-counter-and-guard",
        claim: "A string is a cache entry with a TTL, an INCR counter two clients share without losing a step, and a SET NX once-only guard; it is stored as int, embstr (up to 44 bytes) or raw.",
        needs: Need::Redis,
        run: strings::cache_counter_and_guard,
    },
    Demo {
        name: "redis-01/hash-object-and-listpack-threshold",
        claim: "A hash holds an object's fields (HSET, HGET, HINCRBY, HGETALL) and stays a listpack up to hash-max-listpack-entries fields, becoming a hashtable one field later or with one over-long value.",
        needs: Need::Redis,
        run: hashes::object_and_listpack_threshold,
    },
    Demo {
        name: "redis-01/list-queue-timeline-and-blocking-pop",
        claim: "A list is a FIFO queue (LPUSH + RPOP), a capped latest-N timeline (LPUSH + LTRIM), and a blocking queue: BLPOP on an empty list returns nil after its timeout and is woken at once by a push.",
        needs: Need::Redis,
        run: lists::queue_timeline_and_blocking_pop,
    },
    Demo {
        name: "redis-01/set-tags-friends-and-intset",
        claim: "A set dedupes (tags, unique visitors), answers SISMEMBER and SINTER (common friends), and keeps up to set-max-intset-entries integers as an intset, a hashtable one member later.",
        needs: Need::Redis,
        run: sets::tags_friends_and_intset,
    },
    Demo {
        name: "redis-01/zset-leaderboard-ties-by-member",
        claim: "A sorted set is a leaderboard (ZADD, ZINCRBY, ZREVRANGE, ZREVRANK) ordered by score and then by member bytes, so ZREVRANGE lists tied members in reverse byte order.",
        needs: Need::Redis,
        run: zsets::leaderboard_ties_by_member,
    },
    Demo {
        name: "redis-01/bitmap-hyperloglog-and-geo",
        claim: "A bitmap counts daily actives with one bit per id, a HyperLogLog counts 10,000 distinct visitors within 2% in at most 12 KB, and geo (a sorted set) gives the great-circle distance and radius searches.",
        needs: Need::Redis,
        run: extras::bitmap_hyperloglog_and_geo,
    },
    Demo {
        name: "redis-01/stream-consumer-group-acks",
        claim: "A stream consumer group gives each entry to one consumer and keeps it pending until XACK; XPENDING drops to zero once all are acknowledged, and the entries stay in the stream.",
        needs: Need::Redis,
        run: streams::consumer_group_acks,
    },
    Demo {
        name: "redis-01/wrongtype-leaves-the-key-intact",
        claim: "A key has one type: a list command on a string key fails with WRONGTYPE and leaves the value intact; bitmaps and HyperLogLogs report type string, geo indexes zset.",
        needs: Need::Redis,
        run: wrongtype::wrongtype_leaves_the_key_intact,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demos_are_named_for_redis_01_and_need_redis() {
        let mut names = std::collections::BTreeSet::new();
        for d in topic().demos {
            assert_eq!(d.question(), "redis-01", "{}", d.name);
            assert_eq!(d.needs, Need::Redis, "{}", d.name);
            let slug = d.name.trim_start_matches("redis-01/");
            assert!(
                slug.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{}",
                d.name
            );
            assert!(names.insert(d.name), "duplicate demo {}", d.name);
        }
        assert!((5..=8).contains(&names.len()));
    }
}
