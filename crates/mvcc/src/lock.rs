//! InnoDB's lock modes and the lock queue: who waits for whom (mysql-19).
//!
//! Two layers. **Table locks** are intention locks (IS, IX) taken before any row lock, plus the
//! rarely used S, X and AUTO-INC; [`compatible`] is InnoDB's `lock_compatibility_matrix`:
//!
//! ```text
//!             IS   IX   S    X    AI        a row: the lock held; a column: the lock requested
//!        IS   +    +    +    -    +
//!        IX   +    +    -    -    +         intention locks only say "rows below will be locked",
//!        S    +    -    +    -    -         so IS/IX never block each other; they exist to make
//!        X    -    -    -    -    -         LOCK TABLES ... READ/WRITE cheap to check
//!        AI   +    +    -    -    -
//! ```
//!
//! **Record locks** are S or X on one index record, in four shapes ([`RecKind`]):
//!
//! ```text
//!   keys:     (-inf) ... 10 ....... 20 ....... supremum
//!   REC_NOT_GAP on 20:           [20]                      the record only
//!   GAP on 20:             (10,20)                         the gap before it only
//!   ORDINARY (next-key) on 20:  (10,20]                    gap + record
//!   INSERT_INTENTION on 20: "I want to insert into (10,20)": waits for others' GAP/ORDINARY there
//! ```
//!
//! Two requests conflict when their S/X modes do (only S+S is compatible) **and** the gap rules of
//! [`rec_has_to_wait`] (`lock_rec_has_to_wait`) do not excuse it: gap locks never wait for
//! anything (two transactions may both "own" a gap), a record lock never waits for a gap lock,
//! a gap lock never waits for a record-only lock, and nobody waits for an insert-intention lock.
//! So gap locks exist only to stop inserts: that is how REPEATABLE READ keeps phantoms out of
//! locking reads.
//!
//! The queue of each record is kept in creation order; a request waits when any lock in the queue
//! (granted **or waiting**) conflicts with it, and a waiting lock is granted when no lock *ahead of
//! it* still conflicts. Locks live in structs, as in InnoDB (one struct per transaction, page and
//! mode carries a bitmap of records); the number of structs is half of a transaction's deadlock
//! *weight* (`trx_weight`: undo records + lock structs; the lighter transaction is the victim).
//!
//! # How the real system differs
//! InnoDB hashes lock structs by page and keeps a bitmap per struct; the model keeps one entry per
//! (transaction, record, shape) and remembers which struct each entry would share, so weights
//! match. All rows of the model's tables live on one "page". Locks on secondary indexes, predicate
//! locks (spatial) and AUTO-INC locking modes are not modelled.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::version::Key;

/// A lock mode: the two record modes S and X, and the table-level intention and AUTO-INC modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum LockMode {
    IS,
    IX,
    S,
    X,
    AutoInc,
}

impl LockMode {
    pub const ALL: [LockMode; 5] = [
        LockMode::IS,
        LockMode::IX,
        LockMode::S,
        LockMode::X,
        LockMode::AutoInc,
    ];

    pub fn name(self) -> &'static str {
        match self {
            LockMode::IS => "IS",
            LockMode::IX => "IX",
            LockMode::S => "S",
            LockMode::X => "X",
            LockMode::AutoInc => "AUTO-INC",
        }
    }

    /// The intention lock a row lock of this mode needs on its table first.
    pub fn intention(self) -> LockMode {
        match self {
            LockMode::S | LockMode::IS => LockMode::IS,
            _ => LockMode::IX,
        }
    }
}

/// InnoDB's compatibility matrix: may `held` (another transaction's) and `requested` coexist?
pub fn compatible(held: LockMode, requested: LockMode) -> bool {
    use LockMode::*;
    match (held, requested) {
        (X, _) | (_, X) => false,
        (IS, _) | (_, IS) => true,
        (IX, IX) | (IX, AutoInc) | (AutoInc, IX) => true,
        (S, S) => true,
        _ => false,
    }
}

/// InnoDB's `lock_mode_stronger_or_eq`: does holding `held` already cover `wanted`?
pub fn stronger_or_eq(held: LockMode, wanted: LockMode) -> bool {
    use LockMode::*;
    match (held, wanted) {
        (X, _) => true,
        (a, b) if a == b => true,
        (IX, IS) | (S, IS) => true,
        _ => false,
    }
}

/// The shape of a record lock: which part of the index it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecKind {
    /// `LOCK_ORDINARY`: the record and the gap before it.
    NextKey,
    /// `LOCK_GAP`: only the gap before the record.
    Gap,
    /// `LOCK_REC_NOT_GAP`: only the record.
    RecNotGap,
    /// `LOCK_INSERT_INTENTION` (a gap lock): "I am inserting into the gap before this record".
    InsertIntention,
}

impl RecKind {
    pub fn name(self) -> &'static str {
        match self {
            RecKind::NextKey => "next-key",
            RecKind::Gap => "gap",
            RecKind::RecNotGap => "record",
            RecKind::InsertIntention => "insert-intention",
        }
    }

    /// Carries the `LOCK_GAP` bit (insert intention does too).
    fn gap_bit(self) -> bool {
        matches!(self, RecKind::Gap | RecKind::InsertIntention)
    }
}

/// A position in the index that a record lock can name: a record, or the supremum (the gap after
/// the last record).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Pos {
    Rec(Key),
    Supremum,
}

impl std::fmt::Display for Pos {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Pos::Rec(k) => write!(f, "id={k}"),
            Pos::Supremum => f.write_str("supremum"),
        }
    }
}

/// InnoDB's `lock_rec_has_to_wait` for two different transactions: must a request of
/// `(mode, kind)` at `pos` wait for a lock `(held_mode, held_kind)` there?
pub fn rec_has_to_wait(
    mode: LockMode,
    kind: RecKind,
    on_supremum: bool,
    held_mode: LockMode,
    held_kind: RecKind,
) -> bool {
    if compatible(held_mode, mode) {
        return false;
    }
    let insert_intention = kind == RecKind::InsertIntention;
    // Gap locks (the supremum is all gap) do not wait for anything: conflicting gap locks coexist.
    if (on_supremum || kind == RecKind::Gap) && !insert_intention {
        return false;
    }
    // A record lock does not wait for a gap-only lock.
    if !insert_intention && held_kind.gap_bit() {
        return false;
    }
    // A gap lock (an insert intention here) does not wait for a record-only lock.
    if kind.gap_bit() && held_kind == RecKind::RecNotGap {
        return false;
    }
    // Nobody waits for an insert intention.
    held_kind != RecKind::InsertIntention
}

/// Whether a held record lock of `(held_mode, held_kind)` covers a request of `(mode, kind)`
/// (`lock_rec_has_expl`): a next-key lock covers the record and the gap; a record-only lock covers
/// record-only requests; a gap lock covers gap requests; on the supremum every lock is a gap lock.
pub fn covers(
    held_mode: LockMode,
    held_kind: RecKind,
    mode: LockMode,
    kind: RecKind,
    on_supremum: bool,
) -> bool {
    if held_kind == RecKind::InsertIntention || !stronger_or_eq(held_mode, mode) {
        return false;
    }
    (held_kind != RecKind::RecNotGap || kind == RecKind::RecNotGap || on_supremum)
        && (held_kind != RecKind::Gap || kind == RecKind::Gap || on_supremum)
}

/// An index into [`LockSys`]'s transactions: the model's name for a transaction, which exists
/// before (and whether or not) it gets a `DB_TRX_ID`.
pub type Tx = usize;

/// One granted or waiting record lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecLock {
    pub tx: Tx,
    pub pos: Pos,
    pub mode: LockMode,
    pub kind: RecKind,
    pub waiting: bool,
    /// The struct it lives in; its creation number is the lock's place in the queue.
    #[serde(skip)]
    pub strukt: usize,
}

/// A lock struct: what `trx_locks` counts.
#[derive(Debug, Clone, PartialEq, Eq)]
struct LockStruct {
    tx: Tx,
    /// `None` for a table lock.
    rec: Option<(LockMode, RecKind)>,
    table_mode: Option<LockMode>,
    /// Created as a waiting request and not granted yet: never shared.
    waiting: bool,
    alive: bool,
}

/// An id of a record lock entry.
pub type LockId = usize;

/// The lock system: table locks, record-lock queues, lock structs.
#[derive(Debug, Clone, Default)]
pub struct LockSys {
    recs: Vec<Option<RecLock>>,
    structs: Vec<LockStruct>,
    /// Table locks held, by transaction (one table in the model).
    tables: BTreeMap<Tx, Vec<LockMode>>,
}

impl LockSys {
    fn queue(&self, pos: Pos) -> Vec<LockId> {
        let mut ids: Vec<LockId> = self
            .recs
            .iter()
            .enumerate()
            .filter_map(|(i, l)| l.as_ref().filter(|l| l.pos == pos).map(|_| i))
            .collect();
        ids.sort_by_key(|&i| (self.recs[i].as_ref().map_or(0, |l| l.strukt), i));
        ids
    }

    /// The lock entry behind an id.
    pub fn get(&self, id: LockId) -> Option<&RecLock> {
        self.recs.get(id).and_then(Option::as_ref)
    }

    /// Every live record lock, in queue order per position.
    pub fn all(&self) -> Vec<(LockId, &RecLock)> {
        let mut v: Vec<(LockId, &RecLock)> = self
            .recs
            .iter()
            .enumerate()
            .filter_map(|(i, l)| l.as_ref().map(|l| (i, l)))
            .collect();
        v.sort_by_key(|(i, l)| (l.pos, l.strukt, *i));
        v
    }

    /// Table locks held by `tx`.
    pub fn table_locks(&self, tx: Tx) -> &[LockMode] {
        self.tables.get(&tx).map_or(&[], Vec::as_slice)
    }

    /// `lock_table`: takes `mode` on the table unless `tx` holds an equal or stronger one. The
    /// model's statements only take IS/IX, which never conflict, so there is no waiting here.
    pub fn lock_table(&mut self, tx: Tx, mode: LockMode) {
        let held = self.tables.entry(tx).or_default();
        if held.iter().any(|&h| stronger_or_eq(h, mode)) {
            return;
        }
        held.push(mode);
        self.structs.push(LockStruct {
            tx,
            rec: None,
            table_mode: Some(mode),
            waiting: false,
            alive: true,
        });
    }

    /// `lock_rec_has_expl`: does `tx` hold a granted lock covering this request?
    pub fn has_covering(&self, tx: Tx, pos: Pos, mode: LockMode, kind: RecKind) -> bool {
        let sup = pos == Pos::Supremum;
        self.recs.iter().flatten().any(|l| {
            l.tx == tx && l.pos == pos && !l.waiting && covers(l.mode, l.kind, mode, kind, sup)
        })
    }

    /// `lock_rec_other_has_conflicting`: the first lock of another transaction in `pos`'s queue,
    /// granted or waiting, that the request would have to wait for.
    pub fn first_conflict(
        &self,
        tx: Tx,
        pos: Pos,
        mode: LockMode,
        kind: RecKind,
    ) -> Option<LockId> {
        let sup = pos == Pos::Supremum;
        self.queue(pos).into_iter().find(|&i| {
            let l = self.recs[i].as_ref().expect("queued lock is live");
            l.tx != tx && rec_has_to_wait(mode, kind, sup, l.mode, l.kind)
        })
    }

    /// The transaction `id` (a waiting lock) waits for: the first lock ahead of it in the queue
    /// that it must wait for (`lock_rec_has_to_wait_in_queue`). `None` once it may be granted.
    pub fn blocker(&self, id: LockId) -> Option<Tx> {
        let w = self.get(id)?;
        let sup = w.pos == Pos::Supremum;
        for i in self.queue(w.pos) {
            if i == id {
                return None;
            }
            let l = self.recs[i].as_ref().expect("queued lock is live");
            if l.tx != w.tx && rec_has_to_wait(w.mode, w.kind, sup, l.mode, l.kind) {
                return Some(l.tx);
            }
        }
        None
    }

    /// The shape InnoDB stores for a request: on the supremum gap/not-gap bits are cleared.
    pub fn normalize(pos: Pos, kind: RecKind) -> RecKind {
        if pos == Pos::Supremum && matches!(kind, RecKind::Gap | RecKind::RecNotGap) {
            RecKind::NextKey
        } else {
            kind
        }
    }

    /// `lock_rec_add_to_queue`: a granted lock, in a struct of `tx`'s with the same shape when
    /// there is one and nobody waits on this record (then InnoDB only sets a bit), else a new struct.
    pub fn grant_new(&mut self, tx: Tx, pos: Pos, mode: LockMode, kind: RecKind) -> LockId {
        let kind = Self::normalize(pos, kind);
        let someone_waits = self
            .recs
            .iter()
            .flatten()
            .any(|l| l.pos == pos && l.waiting && l.tx != tx);
        let reuse = if someone_waits {
            None
        } else {
            self.structs
                .iter()
                .position(|s| s.alive && s.tx == tx && !s.waiting && s.rec == Some((mode, kind)))
        };
        let strukt = reuse.unwrap_or_else(|| self.new_struct(tx, mode, kind, false));
        self.push(RecLock {
            tx,
            pos,
            mode,
            kind,
            waiting: false,
            strukt,
        })
    }

    /// `lock_rec_enqueue_waiting`: a waiting request at the end of the queue, in a struct of its own.
    pub fn enqueue_waiting(&mut self, tx: Tx, pos: Pos, mode: LockMode, kind: RecKind) -> LockId {
        let kind = Self::normalize(pos, kind);
        let strukt = self.new_struct(tx, mode, kind, true);
        self.push(RecLock {
            tx,
            pos,
            mode,
            kind,
            waiting: true,
            strukt,
        })
    }

    fn new_struct(&mut self, tx: Tx, mode: LockMode, kind: RecKind, waiting: bool) -> usize {
        self.structs.push(LockStruct {
            tx,
            rec: Some((mode, kind)),
            table_mode: None,
            waiting,
            alive: true,
        });
        self.structs.len() - 1
    }

    fn push(&mut self, l: RecLock) -> LockId {
        self.recs.push(Some(l));
        self.recs.len() - 1
    }

    /// Marks a waiting lock granted.
    pub fn grant(&mut self, id: LockId) {
        if let Some(l) = self.recs.get_mut(id).and_then(Option::as_mut) {
            l.waiting = false;
            let s = l.strukt;
            self.structs[s].waiting = false;
        }
    }

    /// Removes one lock entry (a cancelled wait, or READ COMMITTED releasing a non-matching row).
    pub fn remove(&mut self, id: LockId) {
        if let Some(l) = self.recs.get_mut(id).and_then(Option::take) {
            let s = l.strukt;
            let still_used = self.recs.iter().flatten().any(|o| o.strukt == s);
            if !still_used {
                self.structs[s].alive = false;
            }
        }
    }

    /// Releases everything `tx` holds or waits for (commit, rollback).
    pub fn release_all(&mut self, tx: Tx) {
        for slot in &mut self.recs {
            if slot.as_ref().is_some_and(|l| l.tx == tx) {
                *slot = None;
            }
        }
        for s in &mut self.structs {
            if s.tx == tx {
                s.alive = false;
            }
        }
        self.tables.remove(&tx);
    }

    /// Waiting locks that no lock ahead of them blocks any more, granted now in queue order
    /// (`lock_rec_dequeue_from_page`'s loop). Returns the granted ids.
    pub fn grant_waiters(&mut self) -> Vec<LockId> {
        let mut waiting: Vec<LockId> = self
            .recs
            .iter()
            .enumerate()
            .filter_map(|(i, l)| l.as_ref().filter(|l| l.waiting).map(|_| i))
            .collect();
        waiting.sort_by_key(|&i| (self.recs[i].as_ref().map_or(0, |l| l.strukt), i));
        let mut granted = Vec::new();
        for id in waiting {
            if self.blocker(id).is_none() {
                self.grant(id);
                granted.push(id);
            }
        }
        granted
    }

    /// How many lock structs `tx` owns (`trx_lock_structs` in `information_schema.INNODB_TRX`).
    pub fn struct_count(&self, tx: Tx) -> usize {
        self.structs
            .iter()
            .filter(|s| s.alive && s.tx == tx)
            .count()
    }

    /// Copies locks on `from` onto `to` as gap locks (`lock_rec_inherit_to_gap` and its
    /// `_if_gap_lock` sibling): when a record is inserted before `from`, the new record inherits
    /// the gap protection; when a record is removed, its heir protects the merged gap. `keep`
    /// chooses which locks are inherited. Waiting requests are inherited too (as granted gap
    /// locks), as InnoDB does.
    pub fn inherit_gap(&mut self, from: Pos, to: Pos, keep: impl Fn(&RecLock) -> bool) {
        let inherited: Vec<(Tx, LockMode)> = self
            .recs
            .iter()
            .flatten()
            .filter(|l| l.pos == from && l.kind != RecKind::InsertIntention && keep(l))
            .map(|l| (l.tx, l.mode))
            .collect();
        for (tx, mode) in inherited {
            if !self.has_covering(tx, to, mode, RecKind::Gap) {
                self.grant_new(tx, to, mode, RecKind::Gap);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use LockMode::*;
    use RecKind::*;

    #[test]
    fn the_table_matrix_is_innodbs() {
        // Rows: held; columns: requested. Read straight from lock0priv.h's table.
        let expected = [
            // IS     IX     S      X      AI
            [true, true, true, false, true],     // IS
            [true, true, false, false, true],    // IX
            [true, false, true, false, false],   // S
            [false, false, false, false, false], // X
            [true, true, false, false, false],   // AI
        ];
        for (i, held) in LockMode::ALL.into_iter().enumerate() {
            for (j, req) in LockMode::ALL.into_iter().enumerate() {
                assert_eq!(compatible(held, req), expected[i][j], "{held:?} vs {req:?}");
                assert_eq!(compatible(held, req), compatible(req, held), "symmetric");
            }
        }
        // Counterexample: AUTO-INC does not tolerate a second AUTO-INC.
        assert!(!compatible(AutoInc, AutoInc));
    }

    #[test]
    fn gap_locks_never_wait_and_block_only_inserts() {
        // X gap vs X gap on the same record: both may hold it.
        assert!(!rec_has_to_wait(X, Gap, false, X, Gap));
        assert!(!rec_has_to_wait(X, Gap, false, X, NextKey));
        // A record lock ignores a gap lock...
        assert!(!rec_has_to_wait(X, RecNotGap, false, X, Gap));
        // ...but not a next-key lock, whose record part it wants.
        assert!(rec_has_to_wait(X, RecNotGap, false, S, NextKey));
        // Insert intention waits for a gap or next-key lock (also S), and for anything on the supremum.
        assert!(rec_has_to_wait(X, InsertIntention, false, S, Gap));
        assert!(rec_has_to_wait(X, InsertIntention, false, X, NextKey));
        assert!(rec_has_to_wait(X, InsertIntention, true, S, NextKey));
        // Counterexamples: not for a record-only lock, and nobody waits for an insert intention.
        assert!(!rec_has_to_wait(X, InsertIntention, false, X, RecNotGap));
        assert!(!rec_has_to_wait(X, NextKey, false, X, InsertIntention));
        // S + S never waits, whatever the shapes.
        assert!(!rec_has_to_wait(S, NextKey, false, S, RecNotGap));
        // On the supremum, a plain (non insert-intention) request never waits.
        assert!(!rec_has_to_wait(X, NextKey, true, X, NextKey));
    }

    #[test]
    fn covering_follows_shape_and_strength() {
        assert!(covers(X, NextKey, S, RecNotGap, false));
        assert!(covers(X, NextKey, X, Gap, false));
        assert!(covers(S, RecNotGap, S, RecNotGap, false));
        assert!(!covers(S, RecNotGap, S, NextKey, false));
        assert!(!covers(S, NextKey, X, RecNotGap, false));
        assert!(!covers(X, Gap, X, RecNotGap, false));
        assert!(covers(X, Gap, X, NextKey, true));
    }

    #[test]
    fn a_waiter_is_granted_when_nothing_ahead_conflicts() {
        let mut ls = LockSys::default();
        let a = ls.grant_new(0, Pos::Rec(1), S, RecNotGap);
        let b = ls.grant_new(1, Pos::Rec(1), S, RecNotGap);
        assert_eq!(ls.first_conflict(2, Pos::Rec(1), X, RecNotGap), Some(a));
        let w = ls.enqueue_waiting(2, Pos::Rec(1), X, RecNotGap);
        // A later S request conflicts with the *waiting* X: it queues behind it.
        assert_eq!(ls.first_conflict(3, Pos::Rec(1), S, RecNotGap), Some(w));
        assert_eq!(ls.blocker(w), Some(0));
        ls.remove(a);
        assert_eq!(ls.blocker(w), Some(1));
        assert!(ls.grant_waiters().is_empty());
        ls.remove(b);
        assert_eq!(ls.grant_waiters(), vec![w]);
        assert!(!ls.get(w).unwrap().waiting);
    }

    #[test]
    fn structs_are_shared_like_innodbs_bitmaps() {
        let mut ls = LockSys::default();
        ls.lock_table(0, IX);
        ls.lock_table(0, IS); // covered by IX: no new struct
        for k in [1, 2] {
            ls.grant_new(0, Pos::Rec(k), X, NextKey);
        }
        ls.grant_new(0, Pos::Supremum, X, NextKey);
        assert_eq!(ls.struct_count(0), 2);
        ls.grant_new(0, Pos::Rec(3), X, RecNotGap);
        assert_eq!(ls.struct_count(0), 3);
        ls.enqueue_waiting(1, Pos::Rec(1), S, RecNotGap);
        ls.lock_table(1, IS);
        assert_eq!(ls.struct_count(1), 2);
        ls.release_all(0);
        assert_eq!(ls.struct_count(0), 0);
    }
}
