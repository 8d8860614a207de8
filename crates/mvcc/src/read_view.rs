//! Read views: which committed work a consistent read may see (mysql-13).
//!
//! A read view is a snapshot of *who was still working* when it was made, not a copy of the data.
//! InnoDB keeps four things (`ReadView` in `read0types.h`, filled by `ReadView::snapshot` /
//! `read_view_open`):
//!
//! ```text
//!   ids          the read-write transactions active when the view was made (sorted, creator left out)
//!   up_limit     "low-water mark": the smallest id in `ids`, or low_limit when `ids` is empty
//!   low_limit    "high-water mark": the next transaction id the system would hand out
//!   creator      the view owner's own id (0 until it writes), so it sees its own changes
//!
//!   trx ids:  ... 90   91   92   93   94   95 ...
//!                 ├────┤    ↑ids={92,94}    ↑ low_limit = 95
//!                 visible   up_limit = 92
//!                 (< 92)    93: committed before the view → visible
//!                           92, 94: active at the time → invisible;  95+: started later → invisible
//! ```
//!
//! [`ReadView::visibility`] is the one rule every consistent read goes through; a reader walks a
//! row's version chain (see [`crate::version`]) until it meets a version this function accepts.
//!
//! # How the real system differs
//! InnoDB stores `m_ids` in a small vector and searches it with a binary search, keeps a
//! `m_low_limit_no` for purge, and has a fast "surely visible" test for secondary-index pages
//! (`page_get_max_trx_id`). Views are also reused between statements at READ COMMITTED when no
//! transaction committed meanwhile; the model makes a fresh one each time, which sees the same.

use serde::Serialize;

use crate::version::TrxId;

/// The snapshot a consistent read judges row versions against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReadView {
    /// Read-write transactions that were active when the view was made (sorted), creator excluded.
    pub ids: Vec<TrxId>,
    /// Ids below this were all committed when the view was made: visible.
    pub up_limit: TrxId,
    /// The next id to be assigned when the view was made: this and above are invisible.
    pub low_limit: TrxId,
    /// The owner's id once it has one (`trx_set_rw_mode` stamps it in when the owner first writes).
    pub creator: Option<TrxId>,
}

/// Why a version is or is not visible: the branch of [`ReadView::visibility`] that decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Written by the view's own transaction.
    OwnChange,
    /// Below the low-water mark: committed before any transaction the view saw running.
    BelowLowWater,
    /// At or above the high-water mark: the writer started after the view was made.
    AtOrAboveHighWater,
    /// Between the marks and in the active list: still running when the view was made.
    ActiveAtSnapshot,
    /// Between the marks but not in the active list: committed before the view was made.
    CommittedBeforeSnapshot,
}

impl Visibility {
    pub fn is_visible(self) -> bool {
        matches!(
            self,
            Visibility::OwnChange | Visibility::BelowLowWater | Visibility::CommittedBeforeSnapshot
        )
    }

    /// A few words for drawings.
    pub fn explain(self) -> &'static str {
        match self {
            Visibility::OwnChange => "own change",
            Visibility::BelowLowWater => "below the low-water mark",
            Visibility::AtOrAboveHighWater => "at/above the high-water mark (started later)",
            Visibility::ActiveAtSnapshot => "in the active list (uncommitted at snapshot)",
            Visibility::CommittedBeforeSnapshot => "committed before the snapshot",
        }
    }
}

impl ReadView {
    /// A view over the given active transactions, with `next_id` the id the system would hand out next.
    pub fn new(mut active: Vec<TrxId>, next_id: TrxId, creator: Option<TrxId>) -> ReadView {
        active.retain(|id| Some(*id) != creator);
        active.sort_unstable();
        active.dedup();
        let up_limit = active.first().copied().unwrap_or(next_id);
        ReadView {
            ids: active,
            up_limit,
            low_limit: next_id,
            creator,
        }
    }

    /// The visibility rule (InnoDB's `ReadView::changes_visible` plus the creator check): whether a
    /// row version written by `trx_id` belongs to this snapshot, and which branch decided.
    pub fn visibility(&self, trx_id: TrxId) -> Visibility {
        if Some(trx_id) == self.creator {
            Visibility::OwnChange
        } else if trx_id < self.up_limit {
            Visibility::BelowLowWater
        } else if trx_id >= self.low_limit {
            Visibility::AtOrAboveHighWater
        } else if self.ids.binary_search(&trx_id).is_ok() {
            Visibility::ActiveAtSnapshot
        } else {
            Visibility::CommittedBeforeSnapshot
        }
    }

    /// Shorthand for `visibility(trx_id).is_visible()`.
    pub fn sees(&self, trx_id: TrxId) -> bool {
        self.visibility(trx_id).is_visible()
    }

    /// `ids=[92, 94] up=92 low=95 creator=96`, for drawings.
    pub fn describe(&self) -> String {
        let ids: Vec<String> = self.ids.iter().map(|i| i.to_string()).collect();
        format!(
            "active=[{}] low-water={} high-water={} creator={}",
            ids.join(", "),
            self.up_limit,
            self.low_limit,
            self.creator
                .map_or_else(|| "none yet".to_string(), |c| c.to_string())
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_branch_of_the_rule() {
        // Made while 92 and 94 ran, with 95 the next id; the owner is 96 (it wrote later).
        let v = ReadView::new(vec![94, 92], 95, Some(96));
        assert_eq!(v.up_limit, 92);
        assert_eq!(v.visibility(91), Visibility::BelowLowWater);
        assert_eq!(v.visibility(92), Visibility::ActiveAtSnapshot);
        assert_eq!(v.visibility(93), Visibility::CommittedBeforeSnapshot);
        assert_eq!(v.visibility(94), Visibility::ActiveAtSnapshot);
        assert_eq!(v.visibility(95), Visibility::AtOrAboveHighWater);
        assert_eq!(v.visibility(96), Visibility::OwnChange);
        assert!(v.sees(93) && v.sees(96) && v.sees(1));
        // Counterexamples: active or later writers are never seen.
        assert!(!v.sees(92) && !v.sees(94) && !v.sees(95) && !v.sees(1000));
    }

    #[test]
    fn an_empty_active_list_puts_both_marks_at_the_next_id() {
        let v = ReadView::new(vec![], 50, None);
        assert_eq!((v.up_limit, v.low_limit), (50, 50));
        assert!(v.sees(49));
        assert!(!v.sees(50));
    }

    #[test]
    fn the_creator_is_never_in_its_own_active_list() {
        let v = ReadView::new(vec![7, 8], 9, Some(8));
        assert_eq!(v.ids, vec![7]);
        assert_eq!(v.visibility(8), Visibility::OwnChange);
    }
}
