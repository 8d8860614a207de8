//! Row versions and the undo log: how one row keeps its history (mysql-13).
//!
//! The clustered index holds only the **newest** version of each row. Every version carries the
//! two hidden columns InnoDB adds to a clustered-index record: `DB_TRX_ID`, the transaction that
//! wrote it, and `DB_ROLL_PTR`, a pointer to the undo record from which the version before it can
//! be rebuilt. A DELETE writes a version with the delete mark set; the record leaves the index
//! only when purge decides no read view can still want an older version.
//!
//! ```text
//!   clustered index            undo log (update undo)               (insert undo)
//!   id=1 value=13              #7: id=1 was value=12,               #2: "id=1 is new"
//!        trx=104 ───roll_ptr──►    trx=103 ───roll_ptr──► #5: value=10, trx=100 ─► #2
//!
//!   a view that sees 104 reads 13; one that sees 103 but not 104 reads 12;
//!   one that sees neither reads 10; one that does not see 100 finds the insert undo: no row.
//! ```
//!
//! [`Versions::walk`] is `row_vers_build_for_consistent_read`: start at the newest version, ask
//! the read view, follow `roll_ptr` while the answer is no. [`Versions::last_committed`] is its
//! sibling for READ COMMITTED's semi-consistent UPDATE (`row_vers_build_for_semi_consistent_read`).
//!
//! # How the real system differs
//! InnoDB's undo records live in undo pages (protected by the redo log) and store only the
//! changed columns; rebuilding a version applies them to a copy of the newer one. Here a record
//! stores the whole previous version in a `Vec` slot, and purge empties the slot.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::read_view::{ReadView, Visibility};

/// A transaction id (`DB_TRX_ID`). Ids grow; 0 is never used.
pub type TrxId = u64;
/// The primary key.
pub type Key = i64;

/// Where `DB_ROLL_PTR` points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RollPtr {
    /// At an insert undo record: there is no older version (for a view that does not see the
    /// inserter, the row does not exist). Kept after commit though the record itself is discarded.
    Insert,
    /// At an update undo record, by its slot in the undo log.
    Undo(usize),
    /// The older versions were purged: every read view sees this version or a newer one.
    Purged,
}

/// One version of a row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Version {
    pub value: i64,
    /// `DB_TRX_ID`: who wrote this version.
    pub trx_id: TrxId,
    /// `DB_ROLL_PTR`: how to get the version before it.
    pub roll_ptr: RollPtr,
    /// A DELETE is an update that sets this flag.
    pub delete_marked: bool,
}

/// What an undo record can undo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UndoKind {
    /// A fresh insert: rolling back removes the record. Not needed by readers after commit.
    Insert,
    /// An update or delete-mark: holds the previous version, for rollback and for old read views.
    Update,
}

/// One undo record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UndoRecord {
    pub kind: UndoKind,
    pub key: Key,
    /// The transaction whose change this record undoes.
    pub trx_id: TrxId,
    /// For [`UndoKind::Update`]: the version the change replaced (a delete-marked one when an
    /// insert reused a deleted key).
    pub previous: Option<Version>,
}

/// One step of a chain walk, for drawings and for the demos' checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WalkStep {
    pub version: Version,
    /// `None` under READ UNCOMMITTED, which has no view and takes the newest version.
    pub verdict: Option<Visibility>,
}

/// Where a consistent read ended up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Walk {
    pub steps: Vec<WalkStep>,
    /// The visible value, or `None` when the row does not exist for this reader (inserted after
    /// the view, or the visible version is delete-marked).
    pub value: Option<i64>,
}

/// The clustered index (newest version per key) and the undo log behind it.
#[derive(Debug, Clone, Default)]
pub struct Versions {
    /// The clustered index: key order is scan order.
    pub index: BTreeMap<Key, Version>,
    /// The undo log: a slot per record; purge empties slots no reader can need.
    pub undo: Vec<Option<UndoRecord>>,
}

impl Versions {
    /// Appends an undo record; returns its slot.
    pub fn push_undo(&mut self, rec: UndoRecord) -> usize {
        self.undo.push(Some(rec));
        self.undo.len() - 1
    }

    /// The version that `roll_ptr` of `v` leads to, if any.
    pub fn previous(&self, v: &Version) -> Option<&Version> {
        match v.roll_ptr {
            RollPtr::Undo(slot) => self
                .undo
                .get(slot)
                .and_then(Option::as_ref)
                .and_then(|u| u.previous.as_ref()),
            RollPtr::Insert | RollPtr::Purged => None,
        }
    }

    /// Every version of `key`, newest first.
    pub fn chain(&self, key: Key) -> Vec<Version> {
        let mut out = Vec::new();
        let mut cur = self.index.get(&key);
        while let Some(v) = cur {
            out.push(v.clone());
            cur = self.previous(v);
        }
        out
    }

    /// A consistent read of one row: the newest version the view accepts, found by walking the
    /// chain. `view = None` means READ UNCOMMITTED: the newest version, whoever wrote it.
    pub fn walk(&self, key: Key, view: Option<&ReadView>) -> Walk {
        let mut steps = Vec::new();
        let mut cur = self.index.get(&key);
        while let Some(v) = cur {
            let verdict = view.map(|view| view.visibility(v.trx_id));
            steps.push(WalkStep {
                version: v.clone(),
                verdict,
            });
            if verdict.is_none_or(Visibility::is_visible) {
                let value = (!v.delete_marked).then_some(v.value);
                return Walk { steps, value };
            }
            cur = self.previous(v);
        }
        // The chain ran out: the row was inserted after the view (or its history was purged,
        // which purge only does when every view sees a newer version, so this is the insert case).
        Walk { steps, value: None }
    }

    /// The newest version written by a committed transaction (READ COMMITTED's semi-consistent
    /// read): `None` when the row exists only as an uncommitted insert. `active` says whether a
    /// writer is still running.
    pub fn last_committed(&self, key: Key, active: impl Fn(TrxId) -> bool) -> Option<&Version> {
        let mut cur = self.index.get(&key);
        while let Some(v) = cur {
            if !active(v.trx_id) {
                return Some(v);
            }
            cur = self.previous(v);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// id=1 inserted by 100 (value 10), updated by 103 (12) and 104 (13).
    fn three_versions() -> Versions {
        let mut vs = Versions::default();
        vs.index.insert(
            1,
            Version {
                value: 10,
                trx_id: 100,
                roll_ptr: RollPtr::Insert,
                delete_marked: false,
            },
        );
        for (trx, value) in [(103, 12), (104, 13)] {
            let old = vs.index[&1].clone();
            let slot = vs.push_undo(UndoRecord {
                kind: UndoKind::Update,
                key: 1,
                trx_id: trx,
                previous: Some(old),
            });
            vs.index.insert(
                1,
                Version {
                    value,
                    trx_id: trx,
                    roll_ptr: RollPtr::Undo(slot),
                    delete_marked: false,
                },
            );
        }
        vs
    }

    #[test]
    fn each_view_finds_the_newest_version_it_may_see() {
        let vs = three_versions();
        assert_eq!(vs.chain(1).len(), 3);
        let sees_all = ReadView::new(vec![], 105, None);
        assert_eq!(vs.walk(1, Some(&sees_all)).value, Some(13));
        let before_104 = ReadView::new(vec![104], 105, None);
        let w = vs.walk(1, Some(&before_104));
        assert_eq!(w.value, Some(12));
        assert_eq!(w.steps.len(), 2);
        let before_103 = ReadView::new(vec![103, 104], 105, None);
        assert_eq!(vs.walk(1, Some(&before_103)).value, Some(10));
        // Counterexample: a view made before the insert committed finds no row at all.
        let before_insert = ReadView::new(vec![100], 101, None);
        assert_eq!(vs.walk(1, Some(&before_insert)).value, None);
        // READ UNCOMMITTED: no view, newest version.
        assert_eq!(vs.walk(1, None).value, Some(13));
    }

    #[test]
    fn a_visible_delete_mark_hides_the_row_but_an_invisible_one_does_not() {
        let mut vs = three_versions();
        let old = vs.index[&1].clone();
        let slot = vs.push_undo(UndoRecord {
            kind: UndoKind::Update,
            key: 1,
            trx_id: 106,
            previous: Some(old),
        });
        vs.index.insert(
            1,
            Version {
                value: 13,
                trx_id: 106,
                roll_ptr: RollPtr::Undo(slot),
                delete_marked: true,
            },
        );
        assert_eq!(
            vs.walk(1, Some(&ReadView::new(vec![], 107, None))).value,
            None
        );
        assert_eq!(
            vs.walk(1, Some(&ReadView::new(vec![106], 107, None))).value,
            Some(13)
        );
    }

    #[test]
    fn last_committed_skips_running_writers() {
        let vs = three_versions();
        assert_eq!(
            vs.last_committed(1, |t| t == 104).map(|v| v.value),
            Some(12)
        );
        assert_eq!(vs.last_committed(1, |_| false).map(|v| v.value), Some(13));
        // Counterexample: everything uncommitted, the row has no committed version.
        assert!(vs.last_committed(1, |_| true).is_none());
    }
}
