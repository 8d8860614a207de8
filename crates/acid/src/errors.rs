//! What a server error means for a transaction, on the flavor that sent it.
//!
//! The demos provoke errors on purpose (a duplicate key, a CHECK violation, a deadlock) and must
//! recognise them on MariaDB and on MySQL. Most codes are shared, because MariaDB forked from MySQL
//! 5.5 and both kept the old numbers; the ones added after the fork are not:
//!
//! ```text
//!   meaning                     MariaDB   MySQL
//!   duplicate key               1062      1062
//!   CHECK constraint violated   4025      3819   <- added separately after the fork
//!   child row without parent    1452      1452
//!   parent row still referenced 1451      1451
//!   deadlock                    1213      1213
//!   lock wait timeout           1205      1205
//!   needs a privilege (PROCESS) 1227      1227
//!   unknown system variable     1193      1193
//! ```
//!
//! The second rule is how much an error undoes. InnoDB marks a savepoint before every statement: an
//! ordinary failure rolls back to it (the statement), a deadlock rolls back the whole transaction,
//! because the victim must release its locks for the others to go on. A lock wait timeout is a
//! statement rollback unless the server runs with `innodb_rollback_on_timeout=ON`.
//!
//! # How the real system differs
//!
//! The server knows hundreds of codes; this lists only the ones the demos meet and calls the rest
//! [`Rejection::Other`], for which no rollback scope is claimed.

use servers::Flavor;

/// A server error, named by what it means for the demos.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// A row with the same primary or unique key exists (1062 on both).
    DuplicateKey,
    /// A `CHECK` constraint evaluated to false (4025 on MariaDB, 3819 on MySQL).
    CheckViolated,
    /// A foreign key points at a parent row that does not exist (1452 on both).
    NoParentRow,
    /// A parent row cannot go because children still point at it (1451 on both).
    RowIsReferenced,
    /// InnoDB found a cycle of lock waits and chose this transaction as the victim (1213).
    Deadlock,
    /// A lock was not granted within `innodb_lock_wait_timeout` (1205).
    LockWaitTimeout,
    /// The user lacks a privilege the statement needs, e.g. PROCESS for `SHOW ENGINE INNODB STATUS` (1227).
    NeedsPrivilege,
    /// `@@name` names no system variable on this server (1193).
    UnknownVariable,
    /// A code the demos do not interpret.
    Other(u16),
}

/// What `code` means when `flavor` sent it.
pub fn classify(flavor: Flavor, code: u16) -> Rejection {
    match (flavor, code) {
        (_, 1062) => Rejection::DuplicateKey,
        (Flavor::MariaDb, 4025) | (Flavor::Mysql, 3819) => Rejection::CheckViolated,
        (_, 1452) => Rejection::NoParentRow,
        (_, 1451) => Rejection::RowIsReferenced,
        (_, 1213) => Rejection::Deadlock,
        (_, 1205) => Rejection::LockWaitTimeout,
        (_, 1227) => Rejection::NeedsPrivilege,
        (_, 1193) => Rejection::UnknownVariable,
        (_, other) => Rejection::Other(other),
    }
}

impl Rejection {
    /// The code `flavor` uses for this meaning (the inverse of [`classify`]), for messages.
    pub fn code(self, flavor: Flavor) -> u16 {
        match self {
            Rejection::DuplicateKey => 1062,
            Rejection::CheckViolated => match flavor {
                Flavor::MariaDb => 4025,
                Flavor::Mysql => 3819,
            },
            Rejection::NoParentRow => 1452,
            Rejection::RowIsReferenced => 1451,
            Rejection::Deadlock => 1213,
            Rejection::LockWaitTimeout => 1205,
            Rejection::NeedsPrivilege => 1227,
            Rejection::UnknownVariable => 1193,
            Rejection::Other(code) => code,
        }
    }
}

/// How much of a transaction an error undoes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RollbackScope {
    /// Only the failed statement; the transaction stays open with its earlier work.
    Statement,
    /// Everything the transaction did; the session is back in autocommit until the next BEGIN.
    Transaction,
}

/// How much InnoDB rolls back after `rejection`, given the server's `innodb_rollback_on_timeout`.
/// `None` for errors that are not about a data change (privileges, variables, unknown codes).
pub fn rollback_scope(rejection: Rejection, rollback_on_timeout: bool) -> Option<RollbackScope> {
    match rejection {
        Rejection::Deadlock => Some(RollbackScope::Transaction),
        Rejection::LockWaitTimeout if rollback_on_timeout => Some(RollbackScope::Transaction),
        Rejection::LockWaitTimeout
        | Rejection::DuplicateKey
        | Rejection::CheckViolated
        | Rejection::NoParentRow
        | Rejection::RowIsReferenced => Some(RollbackScope::Statement),
        Rejection::NeedsPrivilege | Rejection::UnknownVariable | Rejection::Other(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_codes_mean_the_same_on_both_flavors() {
        for flavor in [Flavor::MariaDb, Flavor::Mysql] {
            assert_eq!(classify(flavor, 1062), Rejection::DuplicateKey);
            assert_eq!(classify(flavor, 1452), Rejection::NoParentRow);
            assert_eq!(classify(flavor, 1451), Rejection::RowIsReferenced);
            assert_eq!(classify(flavor, 1213), Rejection::Deadlock);
            assert_eq!(classify(flavor, 1205), Rejection::LockWaitTimeout);
            assert_eq!(classify(flavor, 1227), Rejection::NeedsPrivilege);
            assert_eq!(classify(flavor, 1193), Rejection::UnknownVariable);
        }
    }

    #[test]
    fn a_check_violation_has_a_different_code_on_each_flavor() {
        assert_eq!(classify(Flavor::MariaDb, 4025), Rejection::CheckViolated);
        assert_eq!(classify(Flavor::Mysql, 3819), Rejection::CheckViolated);
        // Counterexamples: the other flavor's number means nothing to us.
        assert_eq!(classify(Flavor::Mysql, 4025), Rejection::Other(4025));
        assert_eq!(classify(Flavor::MariaDb, 3819), Rejection::Other(3819));
        // And a duplicate key is not a CHECK violation anywhere.
        assert_ne!(classify(Flavor::MariaDb, 1062), Rejection::CheckViolated);
    }

    #[test]
    fn code_is_the_inverse_of_classify() {
        for flavor in [Flavor::MariaDb, Flavor::Mysql] {
            for code in [1062, 4025, 3819, 1452, 1451, 1213, 1205, 1227, 1193, 1146] {
                assert_eq!(classify(flavor, code).code(flavor), code, "{flavor} {code}");
            }
        }
        assert_eq!(Rejection::CheckViolated.code(Flavor::MariaDb), 4025);
        assert_eq!(Rejection::CheckViolated.code(Flavor::Mysql), 3819);
    }

    #[test]
    fn a_deadlock_undoes_the_transaction_a_constraint_only_the_statement() {
        assert_eq!(
            rollback_scope(Rejection::Deadlock, false),
            Some(RollbackScope::Transaction)
        );
        for r in [
            Rejection::DuplicateKey,
            Rejection::CheckViolated,
            Rejection::NoParentRow,
        ] {
            assert_eq!(rollback_scope(r, false), Some(RollbackScope::Statement));
            // Counterexample: the timeout switch does not widen constraint errors.
            assert_eq!(rollback_scope(r, true), Some(RollbackScope::Statement));
        }
    }

    #[test]
    fn a_lock_wait_timeout_depends_on_innodb_rollback_on_timeout() {
        assert_eq!(
            rollback_scope(Rejection::LockWaitTimeout, false),
            Some(RollbackScope::Statement)
        );
        assert_eq!(
            rollback_scope(Rejection::LockWaitTimeout, true),
            Some(RollbackScope::Transaction)
        );
    }

    #[test]
    fn errors_that_change_no_data_claim_no_scope() {
        assert_eq!(rollback_scope(Rejection::NeedsPrivilege, false), None);
        assert_eq!(rollback_scope(Rejection::Other(1146), true), None);
    }
}
