//! The sorted set value: the listpack encoding for small sets, skip list + dict for large ones,
//! converted one way only (as in Redis 7.0's `zsetAdd`).

use crate::skiplist::{LexRange, NIL, ScoreRange, SkipList};
use std::collections::HashMap;

/// Redis's `zset-max-listpack-entries` default.
pub const MAX_LISTPACK_ENTRIES: usize = 128;
/// Redis's `zset-max-listpack-value` default.
pub const MAX_LISTPACK_VALUE: usize = 64;

/// The listpack thresholds (`zset-max-listpack-entries` / `zset-max-listpack-value`). Redis reads
/// the current configuration on every insert, so a `CONFIG SET` applies to existing sets too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most members a listpack-encoded set may hold.
    pub max_listpack_entries: usize,
    /// Longest member (bytes) a listpack-encoded set may hold.
    pub max_listpack_value: usize,
}

impl Default for Limits {
    /// Redis 7.0's defaults: 128 entries, 64 bytes.
    fn default() -> Self {
        Limits {
            max_listpack_entries: MAX_LISTPACK_ENTRIES,
            max_listpack_value: MAX_LISTPACK_VALUE,
        }
    }
}

/// The two encodings. The listpack is modelled as a sorted vector of (score, member): one flat
/// allocation scanned linearly, like Redis's listpack.
#[derive(Debug, Clone)]
enum Repr {
    Listpack(Vec<(f64, Vec<u8>)>),
    Skiplist {
        zsl: SkipList,
        dict: HashMap<Vec<u8>, f64>,
    },
}

/// A Redis sorted set value.
#[derive(Debug, Clone)]
pub struct SortedSet {
    repr: Repr,
    max_entries: usize,
    max_value: usize,
}

impl Default for SortedSet {
    fn default() -> Self {
        Self::new()
    }
}

/// One (member, score) pair of a reply.
pub type Entry = (Vec<u8>, f64);

impl SortedSet {
    /// An empty listpack-encoded set with Redis's default thresholds.
    pub fn new() -> Self {
        Self::with_limits(MAX_LISTPACK_ENTRIES, MAX_LISTPACK_VALUE, 0)
    }

    /// A set created by `ZADD` whose first member is `first_len` bytes long, with the given
    /// thresholds: listpack unless the thresholds rule it out (Redis's `zaddGenericCommand`).
    pub fn with_limits(max_entries: usize, max_value: usize, first_len: usize) -> Self {
        let repr = if max_entries == 0 || first_len > max_value {
            Repr::Skiplist {
                zsl: SkipList::default(),
                dict: HashMap::new(),
            }
        } else {
            Repr::Listpack(Vec::new())
        };
        SortedSet {
            repr,
            max_entries,
            max_value,
        }
    }

    /// A set created by `ZADD` under `limits` whose first member is `first_len` bytes long.
    pub fn create(limits: Limits, first_len: usize) -> Self {
        Self::with_limits(
            limits.max_listpack_entries,
            limits.max_listpack_value,
            first_len,
        )
    }

    /// The thresholds later inserts are checked against.
    pub fn limits(&self) -> Limits {
        Limits {
            max_listpack_entries: self.max_entries,
            max_listpack_value: self.max_value,
        }
    }

    /// Change the thresholds for later inserts (a `CONFIG SET` between commands). Never converts
    /// by itself: like Redis, only an insert that breaks a threshold converts.
    pub fn set_limits(&mut self, limits: Limits) {
        self.max_entries = limits.max_listpack_entries;
        self.max_value = limits.max_listpack_value;
    }

    /// A set already in the skip-list encoding (for demos and benchmarks of the big encoding).
    pub fn skiplist_with_seed(seed: u64) -> Self {
        SortedSet {
            repr: Repr::Skiplist {
                zsl: SkipList::with_seed(seed),
                dict: HashMap::new(),
            },
            max_entries: MAX_LISTPACK_ENTRIES,
            max_value: MAX_LISTPACK_VALUE,
        }
    }

    /// `OBJECT ENCODING` of this set: "listpack" or "skiplist".
    pub fn encoding(&self) -> &'static str {
        match self.repr {
            Repr::Listpack(_) => "listpack",
            Repr::Skiplist { .. } => "skiplist",
        }
    }

    /// The skip list, when the set uses that encoding.
    pub fn skiplist(&self) -> Option<&SkipList> {
        match &self.repr {
            Repr::Skiplist { zsl, .. } => Some(zsl),
            Repr::Listpack(_) => None,
        }
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Listpack(v) => v.len(),
            Repr::Skiplist { zsl, .. } => zsl.len(),
        }
    }

    /// Whether the set has no members.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The score of `member`.
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match &self.repr {
            Repr::Listpack(v) => v.iter().find(|(_, m)| m == member).map(|(s, _)| *s),
            Repr::Skiplist { dict, .. } => dict.get(member).copied(),
        }
    }

    fn convert_to_skiplist(&mut self) {
        if let Repr::Listpack(v) = &mut self.repr {
            let mut zsl = SkipList::default();
            let mut dict = HashMap::with_capacity(v.len());
            for (s, m) in v.drain(..) {
                dict.insert(m.clone(), s);
                zsl.insert(s, m);
            }
            self.repr = Repr::Skiplist { zsl, dict };
        }
    }

    /// Set `member`'s score, inserting it if new. Returns true when it was added. Converts the
    /// listpack to a skip list when a new member would break a threshold.
    pub fn insert(&mut self, score: f64, member: &[u8]) -> bool {
        assert!(!score.is_nan());
        if let Repr::Listpack(v) = &self.repr {
            let exists = v.iter().any(|(_, m)| m == member);
            if !exists && (v.len() + 1 > self.max_entries || member.len() > self.max_value) {
                self.convert_to_skiplist();
            }
        }
        match &mut self.repr {
            Repr::Listpack(v) => {
                // The listpack stores "-0" as the integer 0, so a negative zero does not survive.
                let score = if score == 0.0 { 0.0 } else { score };
                let old = v.iter().position(|(_, m)| m == member);
                if let Some(i) = old {
                    if v[i].0 == score {
                        return false;
                    }
                    v.remove(i);
                }
                let at = v
                    .partition_point(|(s, m)| *s < score || (*s == score && m.as_slice() < member));
                v.insert(at, (score, member.to_vec()));
                old.is_none()
            }
            Repr::Skiplist { zsl, dict } => match dict.get_mut(member) {
                Some(cur) => {
                    if *cur != score {
                        zsl.update_score(*cur, member, score);
                        *cur = score;
                    }
                    false
                }
                None => {
                    dict.insert(member.to_vec(), score);
                    zsl.insert(score, member.to_vec());
                    true
                }
            },
        }
    }

    /// Remove `member`; false when absent.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Listpack(v) => match v.iter().position(|(_, m)| m == member) {
                Some(i) => {
                    v.remove(i);
                    true
                }
                None => false,
            },
            Repr::Skiplist { zsl, dict } => match dict.remove(member) {
                Some(s) => zsl.delete(s, member),
                None => false,
            },
        }
    }

    /// 0-based rank of `member` in ascending order.
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        match &self.repr {
            Repr::Listpack(v) => v.iter().position(|(_, m)| m == member),
            Repr::Skiplist { zsl, dict } => dict.get(member).map(|&s| zsl.rank(s, member) - 1),
        }
    }

    /// Members with 0-based ranks `start..=end` (already clamped by the caller), ascending or,
    /// with `rev`, counted from the top.
    pub fn range_by_rank(&self, start: usize, end: usize, rev: bool) -> Vec<Entry> {
        let n = self.len();
        if start > end || start >= n {
            return Vec::new();
        }
        let end = end.min(n - 1);
        let count = end - start + 1;
        match &self.repr {
            Repr::Listpack(v) => {
                if rev {
                    v.iter()
                        .rev()
                        .skip(start)
                        .take(count)
                        .map(|(s, m)| (m.clone(), *s))
                        .collect()
                } else {
                    v.iter()
                        .skip(start)
                        .take(count)
                        .map(|(s, m)| (m.clone(), *s))
                        .collect()
                }
            }
            Repr::Skiplist { zsl, .. } => {
                let mut out = Vec::with_capacity(count);
                let mut x = if rev {
                    zsl.by_rank(n - start)
                } else {
                    zsl.by_rank(start + 1)
                };
                while out.len() < count && x != NIL {
                    out.push((zsl.member(x).to_vec(), zsl.score(x)));
                    x = if rev { zsl.prev(x) } else { zsl.next(x) };
                }
                out
            }
        }
    }

    /// Members in a score range, after skipping `offset` and taking at most `limit` (negative:
    /// all), as Redis's `genericZrangebyscoreCommand`.
    pub fn range_by_score(&self, r: &ScoreRange, rev: bool, offset: i64, limit: i64) -> Vec<Entry> {
        self.range_generic(rev, offset, limit, RangeKind::Score(r))
    }

    /// Members in a lex range (meaningful when all scores are equal).
    pub fn range_by_lex(&self, r: &LexRange, rev: bool, offset: i64, limit: i64) -> Vec<Entry> {
        self.range_generic(rev, offset, limit, RangeKind::Lex(r))
    }

    fn range_generic(&self, rev: bool, offset: i64, limit: i64, kind: RangeKind<'_>) -> Vec<Entry> {
        if offset > 0 && offset as u64 >= self.len() as u64 {
            return Vec::new();
        }
        if offset < 0 {
            return Vec::new();
        }
        let inside = |s: f64, m: &[u8]| match kind {
            RangeKind::Score(r) => r.gte_min(s) && r.lte_max(s),
            RangeKind::Lex(r) => r.gte_min(m) && r.lte_max(m),
        };
        let mut out = Vec::new();
        let mut skip = offset as usize;
        let mut push = |m: &[u8], s: f64, out: &mut Vec<Entry>| -> bool {
            if skip > 0 {
                skip -= 1;
                return true;
            }
            if limit >= 0 && out.len() as i64 >= limit {
                return false;
            }
            out.push((m.to_vec(), s));
            true
        };
        match &self.repr {
            Repr::Listpack(v) => {
                let it: Box<dyn Iterator<Item = &(f64, Vec<u8>)>> = if rev {
                    Box::new(v.iter().rev())
                } else {
                    Box::new(v.iter())
                };
                let mut started = false;
                for (s, m) in it {
                    if inside(*s, m) {
                        started = true;
                        if !push(m, *s, &mut out) {
                            break;
                        }
                    } else if started {
                        break;
                    }
                }
            }
            Repr::Skiplist { zsl, .. } => {
                let mut x = match (kind, rev) {
                    (RangeKind::Score(r), false) => zsl.first_in_score_range(r),
                    (RangeKind::Score(r), true) => zsl.last_in_score_range(r),
                    (RangeKind::Lex(r), false) => zsl.first_in_lex_range(r),
                    (RangeKind::Lex(r), true) => zsl.last_in_lex_range(r),
                };
                while x != NIL && inside(zsl.score(x), zsl.member(x)) {
                    if !push(zsl.member(x), zsl.score(x), &mut out) {
                        break;
                    }
                    x = if rev { zsl.prev(x) } else { zsl.next(x) };
                }
            }
        }
        out
    }

    /// Remove the given members (helper of the range removals and pops).
    pub fn remove_all(&mut self, entries: &[Entry]) -> usize {
        entries.iter().filter(|(m, _)| self.remove(m)).count()
    }

    /// Estimated heap bytes of this value (see `docs/redis/redis-10.md`): the skip list's
    /// [`SkipList::heap_bytes_estimate`] plus the dictionary's table (hashbrown: a bucket of
    /// `(Vec<u8>, f64)` and one control byte per bucket, buckets = capacity * 8/7 rounded up to
    /// a power of two) and its own copy of every member; for a listpack, the vector and members.
    pub fn heap_bytes_estimate(&self) -> usize {
        use crate::skiplist::malloc_size;
        match &self.repr {
            Repr::Listpack(v) => {
                malloc_size(v.capacity() * std::mem::size_of::<(f64, Vec<u8>)>())
                    + v.iter()
                        .map(|(_, m)| malloc_size(m.capacity()))
                        .sum::<usize>()
            }
            Repr::Skiplist { zsl, dict } => {
                let buckets = if dict.capacity() == 0 {
                    0
                } else {
                    (dict.capacity() * 8 / 7).next_power_of_two()
                };
                let table = malloc_size(buckets * (std::mem::size_of::<(Vec<u8>, f64)>() + 1) + 16);
                let keys: usize = dict.keys().map(|k| malloc_size(k.capacity())).sum();
                zsl.heap_bytes_estimate() + table + keys
            }
        }
    }

    /// Shape statistics of the skip list (None while listpack-encoded).
    pub fn fast_updates(&self) -> Option<(u64, u64)> {
        self.skiplist().map(|z| (z.fast_updates, z.slow_updates))
    }
}

#[derive(Clone, Copy)]
enum RangeKind<'a> {
    Score(&'a ScoreRange),
    Lex(&'a LexRange),
}
