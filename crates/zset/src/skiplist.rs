//! A skip list laid out like Redis's `zskiplist` (`t_zset.c`), with arena indices instead of
//! pointers: promotion probability 1/4, at most 32 levels, order by score then member bytes,
//! a span on every forward link (so rank is O(log n)) and a backward link on level 0.

use std::cmp::Ordering;
use std::fmt::Write as _;

/// Redis's `ZSKIPLIST_MAXLEVEL`.
pub const MAX_LEVEL: usize = 32;
/// Redis's `ZSKIPLIST_P`.
pub const P: f64 = 0.25;
/// "No node": the null pointer of the arena.
pub const NIL: usize = usize::MAX;
const HEAD: usize = 0;

/// A forward link as the algorithms see it.
#[derive(Debug, Clone, Copy)]
struct Link {
    forward: usize,
    /// How many level-0 steps this link jumps over (Redis's `span`).
    span: usize,
}

/// Words of a node before its levels: score, backward + height, member id.
const HEADER: usize = 3;
const NIL32: u32 = u32::MAX;

fn pack(id: usize) -> u32 {
    if id == NIL {
        NIL32
    } else {
        u32::try_from(id).expect("skip-list store beyond 2^32 words")
    }
}

fn unpack(id: u32) -> usize {
    if id == NIL32 { NIL } else { id as usize }
}

fn word(lo: u32, hi: u32) -> u64 {
    u64::from(lo) | (u64::from(hi) << 32)
}

/// A score bound: value and whether it is excluded (`(` in Redis syntax).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreRange {
    pub min: f64,
    pub max: f64,
    pub minex: bool,
    pub maxex: bool,
}

impl ScoreRange {
    /// Redis's `zslValueGteMin`.
    pub fn gte_min(&self, v: f64) -> bool {
        if self.minex {
            v > self.min
        } else {
            v >= self.min
        }
    }
    /// Redis's `zslValueLteMax`.
    pub fn lte_max(&self, v: f64) -> bool {
        if self.maxex {
            v < self.max
        } else {
            v <= self.max
        }
    }
    /// Whether the range can contain anything at all.
    pub fn is_empty(&self) -> bool {
        self.min > self.max || (self.min == self.max && (self.minex || self.maxex))
    }
}

/// One end of a lex range: `-`, `+`, `[x` or `(x`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LexBound {
    MinusInf,
    PlusInf,
    Incl(Vec<u8>),
    Excl(Vec<u8>),
}

/// A lex range (`ZRANGEBYLEX` syntax).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexRange {
    pub min: LexBound,
    pub max: LexBound,
}

impl LexRange {
    pub fn gte_min(&self, v: &[u8]) -> bool {
        match &self.min {
            LexBound::MinusInf => true,
            LexBound::PlusInf => false,
            LexBound::Incl(m) => v >= m.as_slice(),
            LexBound::Excl(m) => v > m.as_slice(),
        }
    }
    pub fn lte_max(&self, v: &[u8]) -> bool {
        match &self.max {
            LexBound::MinusInf => false,
            LexBound::PlusInf => true,
            LexBound::Incl(m) => v <= m.as_slice(),
            LexBound::Excl(m) => v < m.as_slice(),
        }
    }
    /// Redis's `zslIsInLexRange` emptiness test.
    pub fn is_empty(&self) -> bool {
        use LexBound::*;
        match (&self.min, &self.max) {
            (PlusInf, _) | (_, MinusInf) => true,
            (MinusInf, _) | (_, PlusInf) => false,
            (Incl(a), Incl(b)) => a > b,
            (Incl(a), Excl(b)) | (Excl(a), Incl(b)) | (Excl(a), Excl(b)) => a >= b,
        }
    }
}

/// Order of (score, member) pairs as in Redis: score first, then member bytes.
pub fn cmp_entry(s1: f64, m1: &[u8], s2: f64, m2: &[u8]) -> Ordering {
    s1.partial_cmp(&s2)
        .unwrap_or(Ordering::Equal)
        .then_with(|| m1.cmp(m2))
}

/// Bytes glibc's malloc takes for a request of `n` bytes: 8 bytes of header, rounded up to 16,
/// at least 32 (0 for no allocation).
pub fn malloc_size(n: usize) -> usize {
    if n == 0 {
        0
    } else {
        ((n + 8).div_ceil(16) * 16).max(32)
    }
}

/// The skip list.
///
/// Nodes live in one vector of 64-bit words, each node a run of `3 + height` words laid out like
/// Redis's `zskiplistNode`, whose level array is allocated inline with the node:
///
/// ```text
///   x      score (f64 bits)
///   x+1    backward node (low 32 bits) | height (high 32 bits)
///   x+2    member id (index into `members`)
///   x+3+i  level i: forward node (low 32 bits) | span (high 32 bits)
/// ```
///
/// A node's id is the index of its first word. Stepping to a node and comparing its score reads
/// the same few words as the link that is followed next, so a search step costs one cache miss,
/// as in Redis. (A first version kept each node's levels in a separately allocated `Vec`, then
/// the levels above the second in a separate box: both cost a second miss per step on tall
/// nodes, which perf showed as the hottest instruction of ZADD.) Freed runs are reused by nodes
/// of the same height. The member bytes are kept apart, as Redis keeps the `sds` apart, and are
/// read only when scores tie and when a reply needs them.
#[derive(Debug, Clone)]
pub struct SkipList {
    words: Vec<u64>,
    /// Freed node runs, by height.
    free: Vec<Vec<u32>>,
    members: Vec<Box<[u8]>>,
    free_members: Vec<u32>,
    tail: usize,
    len: usize,
    level: usize,
    rng: u64,
    /// How many score updates took the in-place fast path.
    pub fast_updates: u64,
    /// How many score updates removed and re-inserted the node.
    pub slow_updates: u64,
}

impl Default for SkipList {
    fn default() -> Self {
        Self::with_seed(0x9E37_79B9_7F4A_7C15)
    }
}

impl SkipList {
    /// An empty list whose level coin flips come from a generator seeded with `seed`.
    pub fn with_seed(seed: u64) -> Self {
        let mut zsl = SkipList {
            words: Vec::new(),
            free: vec![Vec::new(); MAX_LEVEL + 1],
            members: Vec::new(),
            free_members: Vec::new(),
            tail: NIL,
            len: 0,
            level: 1,
            rng: seed | 1,
            fast_updates: 0,
            slow_updates: 0,
        };
        let head = zsl.alloc(0.0, Box::default(), MAX_LEVEL);
        debug_assert_eq!(head, HEAD);
        zsl
    }

    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// Current number of levels in use (Redis's `zsl->level`).
    pub fn level(&self) -> usize {
        self.level
    }
    /// Level `i` of node `x`.
    fn link(&self, x: usize, i: usize) -> Link {
        let w = self.words[x + HEADER + i];
        Link {
            forward: unpack(w as u32),
            span: (w >> 32) as usize,
        }
    }

    fn set_link(&mut self, x: usize, i: usize, l: Link) {
        let span = u32::try_from(l.span).expect("span beyond 2^32");
        self.words[x + HEADER + i] = word(pack(l.forward), span);
    }

    fn forward(&self, x: usize, i: usize) -> usize {
        unpack(self.words[x + HEADER + i] as u32)
    }

    fn set_span(&mut self, x: usize, i: usize, span: usize) {
        let f = self.words[x + HEADER + i] as u32;
        self.words[x + HEADER + i] = word(f, u32::try_from(span).expect("span beyond 2^32"));
    }

    fn backward(&self, x: usize) -> usize {
        unpack(self.words[x + 1] as u32)
    }

    fn set_backward(&mut self, x: usize, b: usize) {
        let h = (self.words[x + 1] >> 32) as u32;
        self.words[x + 1] = word(pack(b), h);
    }

    fn set_score(&mut self, x: usize, score: f64) {
        self.words[x] = score.to_bits();
    }

    fn member_id(&self, x: usize) -> usize {
        self.words[x + 2] as usize
    }

    /// First node (rank 1) or `NIL`.
    pub fn first(&self) -> usize {
        self.forward(HEAD, 0)
    }
    /// Last node or `NIL`.
    pub fn last(&self) -> usize {
        self.tail
    }
    pub fn next(&self, n: usize) -> usize {
        self.forward(n, 0)
    }
    pub fn prev(&self, n: usize) -> usize {
        let b = self.backward(n);
        if b == HEAD { NIL } else { b }
    }
    pub fn member(&self, n: usize) -> &[u8] {
        &self.members[self.member_id(n)]
    }
    pub fn score(&self, n: usize) -> f64 {
        f64::from_bits(self.words[n])
    }
    /// The height of node `n`.
    pub fn height(&self, n: usize) -> usize {
        (self.words[n + 1] >> 32) as usize
    }

    fn next_u64(&mut self) -> u64 {
        // xorshift64*: deterministic per list, no global state.
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Redis's `zslRandomLevel`: keep promoting with probability 1/4, up to 32 levels.
    pub fn random_level(&mut self) -> usize {
        let threshold = (P * 65535.0) as u64;
        let mut level = 1;
        while level < MAX_LEVEL && (self.next_u64() >> 48) & 0xFFFF < threshold {
            level += 1;
        }
        level
    }

    /// A node of `height` levels with no links yet: a freed run of that height if there is one.
    fn alloc(&mut self, score: f64, member: Box<[u8]>, height: usize) -> usize {
        let id = match self.free_members.pop() {
            Some(id) => {
                self.members[id as usize] = member;
                id as usize
            }
            None => {
                self.members.push(member);
                self.members.len() - 1
            }
        };
        let x = match self.free[height].pop() {
            Some(x) => x as usize,
            None => {
                let x = self.words.len();
                self.words.resize(x + HEADER + height, 0);
                x
            }
        };
        let height32 = u32::try_from(height).expect("height fits");
        self.words[x] = score.to_bits();
        self.words[x + 1] = word(NIL32, height32);
        self.words[x + 2] = id as u64;
        for i in 0..height {
            self.words[x + HEADER + i] = word(NIL32, 0);
        }
        x
    }

    /// Returns node `x`'s run and member slot to the free lists, and its member bytes.
    fn release(&mut self, x: usize) -> Box<[u8]> {
        let id = self.member_id(x);
        let h = self.height(x);
        self.free[h].push(pack(x));
        self.free_members.push(id as u32);
        std::mem::take(&mut self.members[id])
    }

    fn less(&self, x: usize, score: f64, member: &[u8]) -> bool {
        let s = self.score(x);
        s < score || (s == score && self.member(x) < member)
    }

    /// Insert a member that is not in the list yet (the dict guarantees it). Returns its node.
    pub fn insert(&mut self, score: f64, member: Vec<u8>) -> usize {
        let level = self.random_level();
        self.insert_with_level(score, member, level)
    }

    /// Insert with a chosen height (tests and drawings use it to build exact shapes).
    pub fn insert_with_level(&mut self, score: f64, member: Vec<u8>, level: usize) -> usize {
        assert!(!score.is_nan(), "NaN score");
        let level = level.clamp(1, MAX_LEVEL);
        let mut update = [HEAD; MAX_LEVEL];
        let mut rank = [0usize; MAX_LEVEL];
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            rank[i] = if i == self.level - 1 { 0 } else { rank[i + 1] };
            loop {
                let f = self.forward(x, i);
                if f != NIL && self.less(f, score, &member) {
                    rank[i] += self.link(x, i).span;
                    x = f;
                } else {
                    break;
                }
            }
            update[i] = x;
        }
        if level > self.level {
            for i in self.level..level {
                rank[i] = 0;
                update[i] = HEAD;
                self.set_span(HEAD, i, self.len);
            }
            self.level = level;
        }
        let id = self.alloc(score, member.into_boxed_slice(), level);
        for i in 0..level {
            let u = update[i];
            let ul = self.link(u, i);
            self.set_link(
                id,
                i,
                Link {
                    forward: ul.forward,
                    span: ul.span - (rank[0] - rank[i]),
                },
            );
            self.set_link(
                u,
                i,
                Link {
                    forward: id,
                    span: rank[0] - rank[i] + 1,
                },
            );
        }
        for (i, &u) in update.iter().enumerate().take(self.level).skip(level) {
            self.set_span(u, i, self.link(u, i).span + 1);
        }
        self.set_backward(id, update[0]);
        let f0 = self.forward(id, 0);
        if f0 != NIL {
            self.set_backward(f0, id);
        } else {
            self.tail = id;
        }
        self.len += 1;
        id
    }

    /// Takes node `x` out of every level and frees it; returns its member.
    fn unlink(&mut self, x: usize, update: &[usize; MAX_LEVEL]) -> Box<[u8]> {
        for (i, &u) in update.iter().enumerate().take(self.level) {
            let ul = self.link(u, i);
            if ul.forward == x {
                let xl = self.link(x, i);
                self.set_link(
                    u,
                    i,
                    Link {
                        forward: xl.forward,
                        span: ul.span + xl.span - 1,
                    },
                );
            } else {
                self.set_span(u, i, ul.span - 1);
            }
        }
        let f0 = self.forward(x, 0);
        let back = self.backward(x);
        if f0 != NIL {
            self.set_backward(f0, back);
        } else {
            self.tail = if back == HEAD { NIL } else { back };
        }
        while self.level > 1 && self.forward(HEAD, self.level - 1) == NIL {
            self.level -= 1;
        }
        self.len -= 1;
        self.release(x)
    }

    fn find_update(&self, score: f64, member: &[u8]) -> ([usize; MAX_LEVEL], usize) {
        let mut update = [HEAD; MAX_LEVEL];
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let f = self.forward(x, i);
                if f != NIL && self.less(f, score, member) {
                    x = f;
                } else {
                    break;
                }
            }
            update[i] = x;
        }
        (update, self.forward(x, 0))
    }

    /// Remove (score, member); false when absent.
    pub fn delete(&mut self, score: f64, member: &[u8]) -> bool {
        let (update, x) = self.find_update(score, member);
        if x != NIL && self.score(x) == score && self.member(x) == member {
            self.unlink(x, &update);
            true
        } else {
            false
        }
    }

    /// Redis's `zslUpdateScore`: change the score of an existing member. When the node stays
    /// between its neighbours the score is changed in place (the fast path); otherwise the node
    /// is removed and inserted again. Returns the node and whether the fast path was taken.
    pub fn update_score(&mut self, cur: f64, member: &[u8], new: f64) -> (usize, bool) {
        let (update, x) = self.find_update(cur, member);
        assert!(
            x != NIL && self.score(x) == cur && self.member(x) == member,
            "update_score on a missing member"
        );
        let back = self.backward(x);
        let fwd = self.forward(x, 0);
        let back_ok = back == HEAD || self.score(back) < new;
        let fwd_ok = fwd == NIL || self.score(fwd) > new;
        if back_ok && fwd_ok {
            self.set_score(x, new);
            self.fast_updates += 1;
            return (x, true);
        }
        let member = self.unlink(x, &update);
        self.slow_updates += 1;
        (self.insert(new, member.into_vec()), false)
    }

    /// 1-based rank of (score, member), 0 when absent (Redis's `zslGetRank`).
    pub fn rank(&self, score: f64, member: &[u8]) -> usize {
        self.rank_traced(score, member, &mut |_| {})
    }

    fn rank_traced(&self, score: f64, member: &[u8], visit: &mut dyn FnMut(usize)) -> usize {
        let mut rank = 0;
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let f = self.forward(x, i);
                if f == NIL {
                    break;
                }
                visit(f);
                if cmp_entry(self.score(f), self.member(f), score, member) != Ordering::Greater {
                    rank += self.link(x, i).span;
                    x = f;
                } else {
                    break;
                }
            }
            if x != HEAD && self.member(x) == member && self.score(x) == score {
                return rank;
            }
        }
        0
    }

    /// Number of node comparisons a `rank` lookup of (score, member) makes.
    pub fn rank_cost(&self, score: f64, member: &[u8]) -> usize {
        let mut n = 0;
        self.rank_traced(score, member, &mut |_| n += 1);
        n
    }

    /// The node at 1-based `rank` (Redis's `zslGetElementByRank`), `NIL` when out of range.
    pub fn by_rank(&self, rank: usize) -> usize {
        self.by_rank_traced(rank, &mut |_, _| {})
    }

    fn by_rank_traced(&self, rank: usize, visit: &mut dyn FnMut(usize, usize)) -> usize {
        let mut traversed = 0;
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let l = self.link(x, i);
                if l.forward != NIL && traversed + l.span <= rank {
                    traversed += l.span;
                    x = l.forward;
                    visit(x, i);
                } else {
                    break;
                }
            }
            if traversed == rank {
                return if x == HEAD { NIL } else { x };
            }
        }
        NIL
    }

    /// First node inside a score range, `NIL` if none.
    pub fn first_in_score_range(&self, r: &ScoreRange) -> usize {
        self.first_where(|z, n| r.gte_min(z.score(n)), |z, n| r.lte_max(z.score(n)))
    }
    /// Last node inside a score range, `NIL` if none.
    pub fn last_in_score_range(&self, r: &ScoreRange) -> usize {
        self.last_where(|z, n| r.lte_max(z.score(n)), |z, n| r.gte_min(z.score(n)))
    }
    pub fn first_in_lex_range(&self, r: &LexRange) -> usize {
        self.first_where(|z, n| r.gte_min(z.member(n)), |z, n| r.lte_max(z.member(n)))
    }
    pub fn last_in_lex_range(&self, r: &LexRange) -> usize {
        self.last_where(|z, n| r.lte_max(z.member(n)), |z, n| r.gte_min(z.member(n)))
    }

    /// The first node for which `past_min` holds (a monotone predicate), if it satisfies `in_max`.
    fn first_where(
        &self,
        past_min: impl Fn(&Self, usize) -> bool,
        in_max: impl Fn(&Self, usize) -> bool,
    ) -> usize {
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let f = self.forward(x, i);
                if f != NIL && !past_min(self, f) {
                    x = f;
                } else {
                    break;
                }
            }
        }
        let x = self.forward(x, 0);
        if x != NIL && in_max(self, x) { x } else { NIL }
    }

    fn last_where(
        &self,
        below_max: impl Fn(&Self, usize) -> bool,
        in_min: impl Fn(&Self, usize) -> bool,
    ) -> usize {
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let f = self.forward(x, i);
                if f != NIL && below_max(self, f) {
                    x = f;
                } else {
                    break;
                }
            }
        }
        if x != HEAD && in_min(self, x) { x } else { NIL }
    }

    /// Estimated heap bytes of the list: the word store and the member table at their
    /// capacities, each member's bytes as glibc malloc sizes them ([`malloc_size`]), and the free
    /// lists.
    pub fn heap_bytes_estimate(&self) -> usize {
        let words = malloc_size(self.words.capacity() * 8);
        let table = malloc_size(self.members.capacity() * std::mem::size_of::<Box<[u8]>>());
        let bytes: usize = self.members.iter().map(|m| malloc_size(m.len())).sum();
        let free: usize = self
            .free
            .iter()
            .map(|f| malloc_size(f.capacity() * 4))
            .sum::<usize>()
            + malloc_size(self.free_members.capacity() * 4);
        words + table + bytes + free
    }

    /// Every (level, span) pair of the forward links, level by level from the head — the raw
    /// material for checking that spans add up to ranks.
    pub fn check_invariants(&self) -> Result<(), String> {
        // Level 0 order, backward links and tail.
        let mut prev = HEAD;
        let mut x = self.first();
        let mut count = 0;
        let mut rank_of = std::collections::HashMap::new();
        while x != NIL {
            count += 1;
            rank_of.insert(x, count);
            if self.backward(x) != prev {
                return Err(format!("backward link of node {x} is wrong"));
            }
            if prev != HEAD {
                let (ps, pm) = (self.score(prev), self.member(prev));
                if cmp_entry(ps, pm, self.score(x), self.member(x)) != Ordering::Less {
                    return Err(format!("order broken at rank {count}"));
                }
            }
            if self.forward(x, 0) != NIL && self.link(x, 0).span != 1 {
                return Err(format!("level-0 span at rank {count} is not 1"));
            }
            prev = x;
            x = self.next(x);
        }
        if count != self.len {
            return Err(format!("len {} but {} nodes on level 0", self.len, count));
        }
        if self.tail != if prev == HEAD { NIL } else { prev } {
            return Err("tail is wrong".into());
        }
        // On every level, span = rank(forward) - rank(node).
        for i in 0..self.level {
            let mut x = HEAD;
            let mut r = 0;
            loop {
                let l = self.link(x, i);
                if l.forward == NIL {
                    break;
                }
                let fr = rank_of[&l.forward];
                if fr - r != l.span {
                    return Err(format!(
                        "span on level {i} after rank {r} is {} not {}",
                        l.span,
                        fr - r
                    ));
                }
                r = fr;
                x = l.forward;
            }
        }
        Ok(())
    }

    /// Text picture of a small list: one row per level, each link drawn with its span.
    pub fn draw(&self) -> String {
        let mut out = String::new();
        let mut col = vec![0usize; self.words.len()];
        let mut order = Vec::new();
        let mut x = self.first();
        while x != NIL {
            order.push(x);
            x = self.next(x);
        }
        let labels: Vec<String> = order
            .iter()
            .map(|&n| {
                format!(
                    "{}:{}",
                    String::from_utf8_lossy(self.member(n)),
                    crate::format_double(self.score(n))
                )
            })
            .collect();
        let width = labels.iter().map(|l| l.len()).max().unwrap_or(1).max(3) + 2;
        for (k, &n) in order.iter().enumerate() {
            col[n] = k + 1;
        }
        for i in (0..self.level).rev() {
            let mut line = format!("L{:<2} HEAD", i + 1);
            let mut x = HEAD;
            let mut pos = 0;
            loop {
                let l = self.link(x, i);
                if l.forward == NIL {
                    let rest = (order.len() - pos) * width;
                    let _ = write!(line, "{}", "-".repeat(rest));
                    line.push_str("> NIL");
                    break;
                }
                let target = col[l.forward];
                let dashes = (target - pos) * width - labels[target - 1].len();
                let tag = format!("({})", l.span);
                let fill = dashes.saturating_sub(tag.len());
                let _ = write!(
                    line,
                    "{}{}{}",
                    "-".repeat(fill.max(1)),
                    tag,
                    labels[target - 1]
                );
                pos = target;
                x = l.forward;
            }
            out.push_str(&line);
            out.push('\n');
        }
        out
    }

    /// The path a lookup of 1-based `rank` takes: one line per node landed on, with its level.
    pub fn trace_search(&self, rank: usize) -> (usize, Vec<String>) {
        let mut steps = Vec::new();
        let found = self.by_rank_traced(rank, &mut |x, lvl| {
            steps.push(format!(
                "L{} -> {} (score {})",
                lvl + 1,
                String::from_utf8_lossy(self.member(x)),
                crate::format_double(self.score(x))
            ));
        });
        (found, steps)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members(z: &SkipList) -> Vec<(f64, Vec<u8>)> {
        let mut out = Vec::new();
        let mut x = z.first();
        while x != NIL {
            out.push((z.score(x), z.member(x).to_vec()));
            x = z.next(x);
        }
        out
    }

    /// Spans of level `i` from the head, in order.
    fn spans(z: &SkipList, i: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut x = HEAD;
        while z.forward(x, i) != NIL {
            out.push(z.link(x, i).span);
            x = z.forward(x, i);
        }
        out
    }

    #[test]
    fn empty_list() {
        let z = SkipList::default();
        assert!(z.is_empty());
        assert_eq!((z.first(), z.last(), z.level()), (NIL, NIL, 1));
        assert_eq!(z.rank(1.0, b"a"), 0);
        assert_eq!(z.by_rank(0), NIL);
        assert_eq!(z.by_rank(1), NIL);
        let all = ScoreRange {
            min: f64::NEG_INFINITY,
            max: f64::INFINITY,
            minex: false,
            maxex: false,
        };
        assert_eq!(z.first_in_score_range(&all), NIL);
        assert_eq!(z.last_in_score_range(&all), NIL);
        let mut z = z;
        assert!(!z.delete(1.0, b"a"));
        z.check_invariants().unwrap();
    }

    #[test]
    fn single_element_then_empty_again() {
        let mut z = SkipList::default();
        let n = z.insert_with_level(2.0, b"a".to_vec(), 3);
        assert_eq!((z.first(), z.last(), z.level(), z.len()), (n, n, 3, 1));
        assert_eq!(z.prev(n), NIL);
        assert_eq!(z.rank(2.0, b"a"), 1);
        assert_eq!(z.rank(2.0, b"b"), 0);
        assert_eq!(z.by_rank(1), n);
        z.check_invariants().unwrap();
        assert!(
            !z.delete(1.0, b"a"),
            "same member, other score is a different pair"
        );
        assert!(z.delete(2.0, b"a"));
        assert_eq!((z.first(), z.last(), z.level(), z.len()), (NIL, NIL, 1, 0));
        z.check_invariants().unwrap();
    }

    #[test]
    fn delete_head_and_tail_fix_links() {
        let mut z = SkipList::default();
        for (i, m) in [b"a", b"b", b"c", b"d"].iter().enumerate() {
            z.insert_with_level(i as f64, m.to_vec(), [2, 1, 3, 1][i]);
        }
        z.check_invariants().unwrap();
        assert!(z.delete(0.0, b"a")); // the first node
        z.check_invariants().unwrap();
        assert_eq!(z.member(z.first()), b"b");
        assert_eq!(z.prev(z.first()), NIL);
        assert!(z.delete(3.0, b"d")); // the tail
        z.check_invariants().unwrap();
        assert_eq!(z.member(z.last()), b"c");
        assert_eq!(z.next(z.last()), NIL);
        assert_eq!(z.level(), 3, "c still has three levels");
        assert!(z.delete(2.0, b"c"));
        assert_eq!(
            z.level(),
            1,
            "the list shrinks to the highest level still used"
        );
        z.check_invariants().unwrap();
        assert_eq!(members(&z), vec![(1.0, b"b".to_vec())]);
    }

    #[test]
    fn equal_scores_order_by_member_bytes() {
        let mut z = SkipList::default();
        for m in [&b"b"[..], b"a", b"\xff", b"", b"ab"] {
            z.insert(1.0, m.to_vec());
        }
        let got: Vec<Vec<u8>> = members(&z).into_iter().map(|(_, m)| m).collect();
        assert_eq!(
            got,
            vec![
                b"".to_vec(),
                b"a".to_vec(),
                b"ab".to_vec(),
                b"b".to_vec(),
                b"\xff".to_vec()
            ]
        );
    }

    #[test]
    fn update_fast_path_vs_reinsert() {
        let mut z = SkipList::default();
        z.insert_with_level(1.0, b"a".to_vec(), 1);
        let b = z.insert_with_level(2.0, b"b".to_vec(), 2);
        z.insert_with_level(3.0, b"c".to_vec(), 1);
        // Stays strictly between its neighbours: same node, changed in place.
        let (n, fast) = z.update_score(2.0, b"b", 2.5);
        assert!(fast);
        assert_eq!(n, b);
        assert_eq!(z.height(n), 2, "the fast path keeps the node's levels");
        assert_eq!((z.fast_updates, z.slow_updates), (1, 0));
        z.check_invariants().unwrap();
        // Equal to a neighbour's score: Redis takes the slow path (the order then depends on the
        // member), and so must we.
        let (_, fast) = z.update_score(2.5, b"b", 3.0);
        assert!(!fast);
        z.check_invariants().unwrap();
        // Past a neighbour: removed and re-inserted at its new place.
        let (_, fast) = z.update_score(3.0, b"b", 0.0);
        assert!(!fast);
        assert_eq!((z.fast_updates, z.slow_updates), (1, 2));
        z.check_invariants().unwrap();
        let order: Vec<Vec<u8>> = members(&z).into_iter().map(|(_, m)| m).collect();
        assert_eq!(order, vec![b"b".to_vec(), b"a".to_vec(), b"c".to_vec()]);
        assert_eq!(z.rank(0.0, b"b"), 1);
    }

    #[test]
    fn spans_after_deletes() {
        // Heights chosen so level 2 links skip over level-1-only nodes.
        let mut z = SkipList::default();
        let heights = [2, 1, 1, 3, 1, 2, 1];
        for (i, h) in heights.iter().enumerate() {
            z.insert_with_level(i as f64, vec![b'a' + i as u8], *h);
        }
        assert_eq!(spans(&z, 0), vec![1; 7]);
        assert_eq!(spans(&z, 1), vec![1, 3, 2]);
        assert_eq!(spans(&z, 2), vec![4]);
        // Delete a level-1 node under a level-2 link: that link's span shrinks by one.
        assert!(z.delete(1.0, b"b"));
        assert_eq!(spans(&z, 1), vec![1, 2, 2]);
        assert_eq!(spans(&z, 2), vec![3]);
        // Delete the tall node: its links merge into the ones before it.
        assert!(z.delete(3.0, b"d"));
        assert_eq!(spans(&z, 1), vec![1, 3]);
        assert_eq!(z.level(), 2);
        z.check_invariants().unwrap();
        for (i, (s, m)) in members(&z).iter().enumerate() {
            assert_eq!(z.rank(*s, m), i + 1);
            assert_eq!(
                z.by_rank(i + 1),
                std::iter::successors(Some(z.first()), |&n| Some(z.next(n)))
                    .find(|&n| z.member(n) == &m[..])
                    .unwrap()
            );
        }
    }

    #[test]
    fn invariant_checker_catches_a_wrong_span() {
        let mut z = SkipList::default();
        z.insert_with_level(1.0, b"a".to_vec(), 2);
        z.insert_with_level(2.0, b"b".to_vec(), 1);
        z.insert_with_level(3.0, b"c".to_vec(), 2);
        z.check_invariants().unwrap();
        let a = z.first();
        // Counterexample: corrupt one span and the checker must say so.
        z.set_span(a, 1, z.link(a, 1).span + 1);
        assert!(
            z.check_invariants()
                .unwrap_err()
                .contains("span on level 1")
        );
    }

    #[test]
    fn freed_runs_are_reused_by_nodes_of_the_same_height() {
        let mut z = SkipList::default();
        let heights: Vec<usize> = (0..10)
            .map(|i| {
                let n = z.insert(f64::from(i), vec![i as u8]);
                z.height(n)
            })
            .collect();
        for i in 0..10 {
            assert!(z.delete(f64::from(i), &[i as u8]));
        }
        let (words, members) = (z.words.len(), z.members.len());
        for (i, h) in heights.iter().enumerate() {
            z.insert_with_level(i as f64, vec![i as u8], *h);
        }
        assert_eq!((z.words.len(), z.members.len()), (words, members));
        z.check_invariants().unwrap();
        // Counterexample: a height nobody freed needs a new run.
        z.insert_with_level(99.0, vec![99], MAX_LEVEL - 1);
        assert_eq!(z.words.len(), words + HEADER + MAX_LEVEL - 1);
    }
}
