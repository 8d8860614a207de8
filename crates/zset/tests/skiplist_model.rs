//! Proptest: the skip list against a model made of a `BTreeMap<(score, member), ()>` (the order)
//! plus a `HashMap<member, score>` (the dictionary). Random insert / update / delete sequences,
//! the skip list's own invariant checker after every operation, then rank of every member, range
//! by rank, range by score with inclusive and exclusive bounds, lex range on single-score lists
//! and removal by rank and by score.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};

use proptest::prelude::*;
use zset::skiplist::{LexBound, LexRange, NIL, ScoreRange, SkipList};

/// A total order on non-NaN scores, for the model's keys.
#[derive(Debug, Clone, Copy, PartialEq)]
struct OrderedScore(f64);
impl Eq for OrderedScore {}
impl PartialOrd for OrderedScore {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for OrderedScore {
    fn cmp(&self, other: &Self) -> Ordering {
        // Scores are never NaN; -0.0 == 0.0 as in the skip list's comparison.
        self.0.partial_cmp(&other.0).expect("no NaN scores")
    }
}

#[derive(Debug, Default)]
struct Model {
    order: BTreeMap<(OrderedScore, Vec<u8>), ()>,
    dict: HashMap<Vec<u8>, f64>,
}

impl Model {
    fn upsert(&mut self, score: f64, member: &[u8]) {
        if let Some(old) = self.dict.insert(member.to_vec(), score) {
            self.order.remove(&(OrderedScore(old), member.to_vec()));
        }
        self.order
            .insert((OrderedScore(score), member.to_vec()), ());
    }
    fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let s = self.dict.remove(member)?;
        self.order.remove(&(OrderedScore(s), member.to_vec()));
        Some(s)
    }
    fn sorted(&self) -> Vec<(f64, Vec<u8>)> {
        self.order.keys().map(|(s, m)| (s.0, m.clone())).collect()
    }
}

/// The same change applied to list and model (the list is driven like `SortedSet` drives it:
/// the dictionary decides between insert and update).
#[derive(Debug, Clone)]
enum Op {
    Upsert(f64, Vec<u8>),
    Delete(Vec<u8>),
}

fn score() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => (-5i32..5).prop_map(f64::from),
        2 => (-5i32..5).prop_map(|x| f64::from(x) + 0.5),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(-0.0),
    ]
}

fn member() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop::sample::select(vec![b'a', b'b', b'c', 0u8, 0xff]),
        0..4,
    )
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (score(), member()).prop_map(|(s, m)| Op::Upsert(s, m)),
        1 => member().prop_map(Op::Delete),
    ]
}

fn apply(zsl: &mut SkipList, model: &mut Model, op: &Op) -> Result<(), TestCaseError> {
    match op {
        Op::Upsert(s, m) => {
            match model.dict.get(m).copied() {
                Some(cur) if cur != *s => {
                    let (node, _) = zsl.update_score(cur, m, *s);
                    prop_assert_eq!(zsl.member(node), m.as_slice());
                    prop_assert_eq!(zsl.score(node), *s);
                }
                Some(_) => {}
                None => {
                    zsl.insert(*s, m.clone());
                }
            }
            model.upsert(*s, m);
        }
        Op::Delete(m) => {
            let want = model.remove(m);
            let got = match want {
                Some(s) => zsl.delete(s, m),
                // Deleting an absent (score, member) pair must report false and change nothing.
                None => zsl.delete(0.0, m),
            };
            prop_assert_eq!(got, want.is_some());
        }
    }
    zsl.check_invariants().map_err(TestCaseError::fail)?;
    prop_assert_eq!(zsl.len(), model.dict.len());
    Ok(())
}

fn walk(zsl: &SkipList, from: usize, count: usize, rev: bool) -> Vec<(f64, Vec<u8>)> {
    let mut out = Vec::new();
    let mut x = from;
    while x != NIL && out.len() < count {
        out.push((zsl.score(x), zsl.member(x).to_vec()));
        x = if rev { zsl.prev(x) } else { zsl.next(x) };
    }
    out
}

fn score_range() -> impl Strategy<Value = ScoreRange> {
    (score(), score(), any::<bool>(), any::<bool>()).prop_map(|(min, max, minex, maxex)| {
        ScoreRange {
            min,
            max,
            minex,
            maxex,
        }
    })
}

fn lex_bound() -> impl Strategy<Value = LexBound> {
    prop_oneof![
        1 => Just(LexBound::MinusInf),
        1 => Just(LexBound::PlusInf),
        3 => member().prop_map(LexBound::Incl),
        3 => member().prop_map(LexBound::Excl),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn skiplist_matches_btreemap_model(
        seed in any::<u64>(),
        ops in prop::collection::vec(op(), 0..120),
        ranges in prop::collection::vec(score_range(), 1..6),
        rank_queries in prop::collection::vec((0usize..130, 0usize..20), 1..6),
    ) {
        let mut zsl = SkipList::with_seed(seed);
        let mut model = Model::default();
        for op in &ops {
            apply(&mut zsl, &mut model, op)?;
        }
        let sorted = model.sorted();

        // Rank of every member, and the node at every rank.
        for (i, (s, m)) in sorted.iter().enumerate() {
            prop_assert_eq!(zsl.rank(*s, m), i + 1);
            let n = zsl.by_rank(i + 1);
            prop_assert!(n != NIL);
            prop_assert_eq!(zsl.member(n), m.as_slice());
        }
        prop_assert_eq!(zsl.by_rank(0), NIL);
        prop_assert_eq!(zsl.by_rank(sorted.len() + 1), NIL);
        // Absent pair: rank 0.
        prop_assert_eq!(zsl.rank(0.25, b"absent-member"), 0);

        // Range by rank, both directions.
        for &(start, count) in &rank_queries {
            let want: Vec<_> = sorted.iter().skip(start).take(count).cloned().collect();
            let got = walk(&zsl, zsl.by_rank(start + 1), count, false);
            prop_assert_eq!(got, want);
            let want_rev: Vec<_> = sorted.iter().rev().skip(start).take(count).cloned().collect();
            let from = if start < sorted.len() { zsl.by_rank(sorted.len() - start) } else { NIL };
            prop_assert_eq!(walk(&zsl, from, count, true), want_rev);
        }

        // Range by score, inclusive and exclusive bounds, forward and reverse.
        for r in &ranges {
            let want: Vec<_> = sorted
                .iter()
                .filter(|(s, _)| r.gte_min(*s) && r.lte_max(*s))
                .cloned()
                .collect();
            let fwd = walk(&zsl, zsl.first_in_score_range(r), usize::MAX, false);
            let fwd: Vec<_> = fwd.into_iter().take_while(|(s, _)| r.lte_max(*s)).collect();
            prop_assert_eq!(&fwd, &want, "forward {:?}", r);
            let back = walk(&zsl, zsl.last_in_score_range(r), usize::MAX, true);
            let mut back: Vec<_> = back.into_iter().take_while(|(s, _)| r.gte_min(*s)).collect();
            back.reverse();
            prop_assert_eq!(&back, &want, "reverse {:?}", r);
            if r.is_empty() {
                prop_assert!(want.is_empty());
            }
        }

        // Removal by score range (as ZREMRANGEBYSCORE does it: collect, then delete each).
        let r = &ranges[0];
        let mut zsl2 = zsl.clone();
        let mut model2 = sorted.clone();
        let victims = walk(&zsl2, zsl2.first_in_score_range(r), usize::MAX, false);
        for (s, m) in victims.iter().take_while(|(s, _)| r.lte_max(*s)) {
            prop_assert!(zsl2.delete(*s, m));
            zsl2.check_invariants().map_err(TestCaseError::fail)?;
        }
        model2.retain(|(s, _)| !(r.gte_min(*s) && r.lte_max(*s)));
        prop_assert_eq!(walk(&zsl2, zsl2.first(), usize::MAX, false), model2);

        // Removal by rank (ZREMRANGEBYRANK start..start+count).
        let (start, count) = rank_queries[0];
        let mut model3 = sorted.clone();
        let victims = walk(&zsl, zsl.by_rank(start + 1), count, false);
        for (s, m) in &victims {
            prop_assert!(zsl.delete(*s, m));
            zsl.check_invariants().map_err(TestCaseError::fail)?;
        }
        let end = (start + count).min(model3.len());
        if start < model3.len() {
            model3.drain(start..end);
        }
        prop_assert_eq!(walk(&zsl, zsl.first(), usize::MAX, false), model3.clone());
        for (i, (s, m)) in model3.iter().enumerate() {
            prop_assert_eq!(zsl.rank(*s, m), i + 1);
        }
    }

    #[test]
    fn lex_ranges_on_single_score_lists_match_model(
        seed in any::<u64>(),
        members in prop::collection::vec(member(), 0..60),
        deletes in prop::collection::vec(member(), 0..20),
        bounds in prop::collection::vec((lex_bound(), lex_bound()), 1..8),
    ) {
        let mut zsl = SkipList::with_seed(seed);
        let mut model = Model::default();
        for m in &members {
            apply(&mut zsl, &mut model, &Op::Upsert(0.0, m.clone()))?;
        }
        for m in &deletes {
            apply(&mut zsl, &mut model, &Op::Delete(m.clone()))?;
        }
        let sorted = model.sorted();
        for (min, max) in bounds {
            let r = LexRange { min, max };
            let want: Vec<_> = sorted
                .iter()
                .filter(|(_, m)| r.gte_min(m) && r.lte_max(m))
                .cloned()
                .collect();
            let fwd: Vec<_> = walk(&zsl, zsl.first_in_lex_range(&r), usize::MAX, false)
                .into_iter()
                .take_while(|(_, m)| r.lte_max(m))
                .collect();
            prop_assert_eq!(&fwd, &want, "forward {:?}", r);
            let mut back: Vec<_> = walk(&zsl, zsl.last_in_lex_range(&r), usize::MAX, true)
                .into_iter()
                .take_while(|(_, m)| r.gte_min(m))
                .collect();
            back.reverse();
            prop_assert_eq!(&back, &want, "reverse {:?}", r);
            if r.is_empty() {
                prop_assert!(want.is_empty(), "{:?} called empty but holds {:?}", r, want);
            }
        }
    }
}
