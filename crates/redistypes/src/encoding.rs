//! Which internal encoding Redis picks for a value: the rules the demos predict before asking
//! `OBJECT ENCODING`.
//!
//! Every Redis value is a small header (`redisObject`: type, encoding, LRU bits, refcount) pointing
//! at one of several layouts. Small values get a compact, cache-friendly layout that is scanned
//! linearly; once a value outgrows a threshold it is converted, once and for good, to a layout with
//! O(1) or O(log n) lookups:
//!
//! ```text
//!   type    small (compact)                      large                 thresholds (CONFIG GET)
//!   string  int (fits i64) / embstr (<= 44 B)    raw                   none, compiled in
//!   hash    listpack (ziplist before 7.0)        hashtable             hash-max-listpack-entries/-value
//!   list    listpack (7.2+; quicklist always     quicklist             list-max-listpack-size
//!           before 7.2)
//!   set     intset (all integers)                hashtable             set-max-intset-entries
//!           listpack (7.2+, short strings)                             set-max-listpack-entries/-value
//!   zset    listpack (ziplist before 7.0)        skiplist + dict       zset-max-listpack-entries/-value
//! ```
//!
//! The thresholds are settings, so the demos read them with `CONFIG GET` and pass them in here; the
//! *names* of the encodings depend on the server version, so [`Version`] is passed in too. Each
//! function models a value that was only ever grown (no deletions): Redis converts a compact value
//! to the large layout when it crosses a threshold, and (lists on 7.2+ aside) never converts it back.
//!
//! # How the real system differs
//! These are predictions, not an implementation. Redis decides with byte-exact listpack sizes
//! (`lpSafeToAdd`, `lpBytes`), size hints taken from the number of arguments of one command, and a
//! 1 GB safety cap; the models here use the documented thresholds and an estimate of listpack bytes,
//! which is why the demos stay far from the list byte limit and test the count limits exactly.

use std::fmt;

/// A Redis server version, from `INFO server`'s `redis_version` (Valkey reports a Redis-compatible
/// `redis_version` there too).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl Version {
    /// Parses `7.0.15` (or `7.2`, with patch 0). Anything else is `None`.
    pub fn parse(s: &str) -> Option<Version> {
        let mut parts = s.trim().split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        let patch = match parts.next() {
            Some(p) => p.parse().ok()?,
            None => 0,
        };
        if parts.next().is_some() {
            return None;
        }
        Some(Version {
            major,
            minor,
            patch,
        })
    }

    /// Finds `redis_version:<x.y.z>` in the text of `INFO server`.
    pub fn from_info(info: &str) -> Option<Version> {
        info.lines()
            .find_map(|l| l.strip_prefix("redis_version:"))
            .and_then(Version::parse)
    }

    /// True when this version is `major.minor` or later.
    pub fn at_least(self, major: u32, minor: u32) -> bool {
        (self.major, self.minor) >= (major, minor)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// An internal encoding, spelled as `OBJECT ENCODING` replies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// A string that is a 64-bit integer, stored in the pointer itself.
    Int,
    /// A short string allocated together with its header (one allocation).
    Embstr,
    /// A string in its own allocation.
    Raw,
    /// The compact layout of hashes and sorted sets before 7.0.
    Ziplist,
    /// The compact layout since 7.0 (hashes, zsets), for small lists and sets since 7.2.
    Listpack,
    /// A linked list of listpacks: every list before 7.2, large lists since.
    Quicklist,
    /// A sorted array of integers, for small all-integer sets.
    Intset,
    /// A dict: large hashes and sets.
    Hashtable,
    /// A skip list plus a dict: large sorted sets.
    Skiplist,
}

impl Encoding {
    /// The name `OBJECT ENCODING` uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Int => "int",
            Encoding::Embstr => "embstr",
            Encoding::Raw => "raw",
            Encoding::Ziplist => "ziplist",
            Encoding::Listpack => "listpack",
            Encoding::Quicklist => "quicklist",
            Encoding::Intset => "intset",
            Encoding::Hashtable => "hashtable",
            Encoding::Skiplist => "skiplist",
        }
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The longest string stored as `embstr` (`OBJ_ENCODING_EMBSTR_SIZE_LIMIT`, 44 since 3.2): a
/// 16-byte header, a 3-byte sds header, 44 bytes and a NUL fill one 64-byte allocator bin.
pub const EMBSTR_SIZE_LIMIT: usize = 44;

/// The size of a dense HyperLogLog: a 16-byte header and 16384 six-bit registers.
pub const HLL_DENSE_BYTES: usize = 16 + 16384 * 6 / 8;

/// The encoding `SET key value` gives `value`: `int` when the bytes are the canonical decimal form of
/// an `i64` (at most 20 bytes, no `+`, no leading zeros, no `-0`), else `embstr` up to
/// [`EMBSTR_SIZE_LIMIT`] bytes, else `raw`.
pub fn string_encoding(value: &[u8]) -> Encoding {
    if value.len() <= 20 && is_canonical_i64(value) {
        Encoding::Int
    } else if value.len() <= EMBSTR_SIZE_LIMIT {
        Encoding::Embstr
    } else {
        Encoding::Raw
    }
}

/// Redis's `string2ll` acceptance: the decimal text an `i64` would print as, and nothing else.
fn is_canonical_i64(s: &[u8]) -> bool {
    if s == b"0" {
        return true;
    }
    let digits = s.strip_prefix(b"-").unwrap_or(s);
    let well_formed =
        matches!(digits.first(), Some(b'1'..=b'9')) && digits.iter().all(u8::is_ascii_digit);
    well_formed
        && std::str::from_utf8(s)
            .ok()
            .and_then(|t| t.parse::<i64>().ok())
            .is_some()
}

/// The name of the compact layout of hashes and sorted sets on this version.
pub fn compact(v: Version) -> Encoding {
    if v.at_least(7, 0) {
        Encoding::Listpack
    } else {
        Encoding::Ziplist
    }
}

/// The two limits of a compact (listpack) value: how many entries, and how long the longest element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompactLimits {
    /// `*-max-listpack-entries`: the most entries (hash fields, zset members) it may hold.
    pub entries: usize,
    /// `*-max-listpack-value`: the longest field, value or member, in bytes.
    pub value: usize,
}

/// A hash with `fields` fields whose longest field or value is `longest` bytes: compact while both
/// are within the limits, `hashtable` as soon as one is exceeded.
pub fn hash_encoding(v: Version, fields: usize, longest: usize, limits: CompactLimits) -> Encoding {
    if fields <= limits.entries && longest <= limits.value {
        compact(v)
    } else {
        Encoding::Hashtable
    }
}

/// A sorted set with `members` members, the longest `longest` bytes: compact within the limits,
/// else `skiplist` (a skip list for order plus a dict for member lookups).
pub fn zset_encoding(
    v: Version,
    members: usize,
    longest: usize,
    limits: CompactLimits,
) -> Encoding {
    if members <= limits.entries && longest <= limits.value {
        compact(v)
    } else {
        Encoding::Skiplist
    }
}

/// The limits of set encodings: `set-max-intset-entries`, and on 7.2+ the listpack limits
/// (`set-max-listpack-entries`/`-value`, which do not exist before 7.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetLimits {
    pub intset_entries: usize,
    pub listpack: Option<CompactLimits>,
}

/// A set grown by `SADD` to `members` members, the longest `longest` bytes:
/// - all integers and at most `set-max-intset-entries` of them: `intset`;
/// - an intset that outgrows its limit goes straight to `hashtable` (also on 7.2+);
/// - other small sets: `listpack` on 7.2+ within its limits, else (and always before 7.2) `hashtable`.
///
/// One corner this does not model: on 7.2+ a *single* `SADD` of more integers than the intset limit
/// on a new key may start as a listpack (Redis sizes the new set from the argument count).
pub fn set_encoding(
    v: Version,
    members: usize,
    all_integers: bool,
    longest: usize,
    limits: SetLimits,
) -> Encoding {
    if all_integers {
        return if members <= limits.intset_entries {
            Encoding::Intset
        } else {
            Encoding::Hashtable
        };
    }
    match limits.listpack {
        Some(lp) if v.at_least(7, 2) && members <= lp.entries && longest <= lp.value => {
            Encoding::Listpack
        }
        _ => Encoding::Hashtable,
    }
}

/// Bytes a listpack holding `items` elements of `payload` bytes in total takes, roughly: a 6-byte
/// header, a 1-byte end mark, and per element an encoding byte and a back-length byte (exact for
/// strings up to 63 bytes; longer ones take a little more).
pub fn listpack_bytes_estimate(items: usize, payload: usize) -> usize {
    7 + payload + 2 * items
}

/// The most bytes a quicklist node (and, on 7.2+, a listpack-encoded list) may hold before a
/// new node is needed, for `list-max-listpack-size` = `fill` when `fill` is negative: -1 is 4 KB,
/// -2 (the default) 8 KB, ... -5 and below 64 KB. `None` for a positive fill (a count limit).
pub fn list_node_byte_limit(fill: i64) -> Option<usize> {
    if fill >= 0 {
        return None;
    }
    let level = fill.unsigned_abs().clamp(1, 5);
    Some(4096usize << (level - 1))
}

/// With a positive `fill`, a node also may not grow past this many bytes.
pub const LIST_NODE_SAFETY_BYTES: usize = 8192;

/// True when a list of `items` elements and about `bytes` bytes no longer fits one node.
pub fn list_exceeds_one_node(fill: i64, items: usize, bytes: usize) -> bool {
    match list_node_byte_limit(fill) {
        Some(limit) => bytes > limit,
        None => {
            let count_limit = fill.max(1) as usize;
            bytes > LIST_NODE_SAFETY_BYTES || items > count_limit
        }
    }
}

/// A list grown by pushes to `items` elements of `payload` bytes in total. Before 7.2 every list is
/// a `quicklist`; since 7.2 a list that fits one node is a plain `listpack`.
pub fn list_encoding(v: Version, items: usize, payload: usize, fill: i64) -> Encoding {
    if !v.at_least(7, 2) {
        return Encoding::Quicklist;
    }
    let bytes = listpack_bytes_estimate(items, payload);
    if list_exceeds_one_node(fill, items, bytes) {
        Encoding::Quicklist
    } else {
        Encoding::Listpack
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V6_2: Version = Version {
        major: 6,
        minor: 2,
        patch: 14,
    };
    const V7_0: Version = Version {
        major: 7,
        minor: 0,
        patch: 15,
    };
    const V7_2: Version = Version {
        major: 7,
        minor: 2,
        patch: 4,
    };
    const HASH: CompactLimits = CompactLimits {
        entries: 512,
        value: 64,
    };

    #[test]
    fn versions_parse_and_compare() {
        assert_eq!(Version::parse("7.0.15"), Some(V7_0));
        assert_eq!(
            Version::parse("7.2"),
            Some(Version {
                major: 7,
                minor: 2,
                patch: 0
            })
        );
        assert_eq!(Version::parse("7"), None);
        assert_eq!(Version::parse("7.x.1"), None);
        assert_eq!(Version::parse("7.0.15.1"), None);
        let info = "# Server\r\nredis_version:7.0.15\r\nredis_git_sha1:00000000\r\n";
        assert_eq!(Version::from_info(info), Some(V7_0));
        assert_eq!(Version::from_info("valkey_version:8.0.1\r\n"), None);
        assert!(V7_2.at_least(7, 2) && V7_2.at_least(7, 0) && !V7_0.at_least(7, 2));
        assert!(!V6_2.at_least(7, 0));
    }

    #[test]
    fn strings_are_int_embstr_or_raw() {
        assert_eq!(string_encoding(b"12345"), Encoding::Int);
        assert_eq!(string_encoding(b"0"), Encoding::Int);
        assert_eq!(string_encoding(b"-42"), Encoding::Int);
        assert_eq!(string_encoding(b"9223372036854775807"), Encoding::Int);
        assert_eq!(string_encoding(b"-9223372036854775808"), Encoding::Int);
        assert_eq!(string_encoding(&[b'x'; 44]), Encoding::Embstr);
        assert_eq!(string_encoding(&[b'x'; 45]), Encoding::Raw);
        assert_eq!(string_encoding(b""), Encoding::Embstr);
    }

    #[test]
    fn numbers_that_are_not_canonical_are_not_int() {
        // Counterexamples: each parses as a number in Rust or by eye, but Redis keeps the bytes.
        for s in [
            "007",
            "-0",
            "+5",
            " 5",
            "5 ",
            "1e3",
            "9223372036854775808",
            "-",
        ] {
            assert_eq!(string_encoding(s.as_bytes()), Encoding::Embstr, "{s:?}");
        }
        assert_eq!(string_encoding(&[b'7'; 45]), Encoding::Raw);
    }

    #[test]
    fn hashes_convert_one_past_the_limits() {
        assert_eq!(hash_encoding(V7_0, 512, 5, HASH), Encoding::Listpack);
        assert_eq!(hash_encoding(V7_0, 513, 5, HASH), Encoding::Hashtable);
        assert_eq!(hash_encoding(V7_0, 3, 64, HASH), Encoding::Listpack);
        assert_eq!(hash_encoding(V7_0, 3, 65, HASH), Encoding::Hashtable);
        // Counterexample: the same small hash on 6.2 is a ziplist, not a listpack.
        assert_eq!(hash_encoding(V6_2, 3, 5, HASH), Encoding::Ziplist);
        assert_ne!(hash_encoding(V6_2, 3, 5, HASH), Encoding::Listpack);
    }

    #[test]
    fn zsets_are_compact_then_skiplists() {
        let z = CompactLimits {
            entries: 128,
            value: 64,
        };
        assert_eq!(zset_encoding(V7_0, 128, 10, z), Encoding::Listpack);
        assert_eq!(zset_encoding(V7_0, 129, 10, z), Encoding::Skiplist);
        assert_eq!(zset_encoding(V7_0, 1, 65, z), Encoding::Skiplist);
    }

    #[test]
    fn sets_depend_on_integers_size_and_version() {
        let v70 = SetLimits {
            intset_entries: 512,
            listpack: None,
        };
        let v72 = SetLimits {
            intset_entries: 512,
            listpack: Some(CompactLimits {
                entries: 128,
                value: 64,
            }),
        };
        assert_eq!(set_encoding(V7_0, 512, true, 3, v70), Encoding::Intset);
        assert_eq!(set_encoding(V7_0, 513, true, 3, v70), Encoding::Hashtable);
        assert_eq!(set_encoding(V7_2, 513, true, 3, v72), Encoding::Hashtable);
        // Counterexample: a small set of words is a hashtable on 7.0 but a listpack on 7.2.
        assert_eq!(set_encoding(V7_0, 3, false, 5, v70), Encoding::Hashtable);
        assert_eq!(set_encoding(V7_2, 3, false, 5, v72), Encoding::Listpack);
        assert_eq!(set_encoding(V7_2, 129, false, 5, v72), Encoding::Hashtable);
        assert_eq!(set_encoding(V7_2, 3, false, 65, v72), Encoding::Hashtable);
    }

    #[test]
    fn lists_are_quicklists_before_7_2_and_small_listpacks_after() {
        assert_eq!(list_node_byte_limit(-2), Some(8192));
        assert_eq!(list_node_byte_limit(-1), Some(4096));
        assert_eq!(list_node_byte_limit(-9), Some(65536));
        assert_eq!(list_node_byte_limit(i64::MIN), Some(65536));
        assert_eq!(list_node_byte_limit(128), None);
        assert_eq!(list_encoding(V7_0, 3, 15, -2), Encoding::Quicklist);
        assert_eq!(list_encoding(V7_2, 3, 15, -2), Encoding::Listpack);
        // 300 elements of 64 bytes are ~19 KB: more than one 8 KB node.
        assert_eq!(list_encoding(V7_2, 300, 300 * 64, -2), Encoding::Quicklist);
        // A count limit: 5 per node.
        assert_eq!(list_encoding(V7_2, 5, 5, 5), Encoding::Listpack);
        assert_eq!(list_encoding(V7_2, 6, 6, 5), Encoding::Quicklist);
        // fill 0 still allows one element per node.
        assert!(!list_exceeds_one_node(0, 1, 10));
        assert!(list_exceeds_one_node(0, 2, 10));
    }

    #[test]
    fn a_dense_hll_is_12_kb() {
        assert_eq!(HLL_DENSE_BYTES, 12304);
    }
}
