//! Durability: when a COMMIT is on disk, read from the server's redo-log settings and counters.
//!
//! InnoDB changes pages in memory and appends a description of each change to the redo log (a
//! circular file of log records, each at a log sequence number, LSN). A transaction is durable
//! once the redo up to its commit record is on disk; the data pages can follow much later, and
//! crash recovery replays the log over them. `innodb_flush_log_at_trx_commit` says whether COMMIT
//! waits for that:
//!
//! ```text
//!              at COMMIT                         survives a       survives an OS crash
//!                                                mysqld crash     or power loss
//!   1          write log + fsync, then answer    yes              yes
//!   2          write log to the OS, answer;      yes              no: up to ~1 s lost
//!              fsync about once a second
//!   0          nothing; write + fsync about      no: up to ~1 s   no
//!              once a second
//!   3 (MariaDB) fsync at prepare and at commit   yes              yes
//! ```
//!
//! The durability demo reads `Log sequence number` (how far the log has been generated) before its
//! COMMIT and `Log flushed up to` (how far it is on disk) after it, from `SHOW ENGINE INNODB STATUS`
//! ([`crate::monitor::parse_log_position`]).
//! With value 1 the second must be at least the first: the record COMMIT makes durable (the commit
//! record, or with the binary log on the prepare record of the two-phase commit) comes after
//! everything the transaction wrote, and COMMIT does not answer before the log is on disk past it.
//!
//! # How the real system differs
//!
//! The doublewrite buffer (pages are written twice, first to a scratch area, so a torn 16 KiB
//! write can be repaired) and the binary log's own `sync_binlog` are part of the same promise but
//! are only printed here, not measured. Nothing here crashes the server.

use servers::Flavor;

/// What COMMIT does with the redo log, from `innodb_flush_log_at_trx_commit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlushAtCommit {
    /// 0: nothing at commit; a background thread writes and flushes about once a second.
    Nothing,
    /// 1 (the default): write and fsync before COMMIT returns.
    Sync,
    /// 2: write to the OS page cache at commit; fsync about once a second.
    WriteOnly,
    /// 3, MariaDB only: fsync at the prepare step of two-phase commit and again at commit.
    SyncAtPrepareAndCommit,
}

impl FlushAtCommit {
    /// Reads the variable's value as `flavor` defines it; `None` for values that flavor rejects.
    pub fn parse(flavor: Flavor, value: &str) -> Option<Self> {
        match (value.trim(), flavor) {
            ("0", _) => Some(FlushAtCommit::Nothing),
            ("1", _) => Some(FlushAtCommit::Sync),
            ("2", _) => Some(FlushAtCommit::WriteOnly),
            ("3", Flavor::MariaDb) => Some(FlushAtCommit::SyncAtPrepareAndCommit),
            _ => None,
        }
    }

    /// True when the log is on disk before COMMIT is acknowledged.
    pub fn synced_at_commit(self) -> bool {
        matches!(
            self,
            FlushAtCommit::Sync | FlushAtCommit::SyncAtPrepareAndCommit
        )
    }

    /// True when a crash of the server process alone cannot lose an acknowledged commit
    /// (the log at least reached the OS, which outlives the process).
    pub fn survives_server_crash(self) -> bool {
        !matches!(self, FlushAtCommit::Nothing)
    }

    /// One line for the demo's output.
    pub fn explain(self) -> &'static str {
        match self {
            FlushAtCommit::Sync => {
                "1: COMMIT writes and fsyncs the redo log before answering; a committed transaction \
                 survives a server crash and a power loss (0 or 2 would trade up to ~1 s of commits for speed)"
            }
            FlushAtCommit::WriteOnly => {
                "2: COMMIT hands the redo log to the OS and answers; fsync about once a second, so a \
                 server crash loses nothing but an OS crash or power loss can lose ~1 s of commits"
            }
            FlushAtCommit::Nothing => {
                "0: COMMIT does not touch the redo log file; it is written and fsynced about once a \
                 second, so even a server crash can lose ~1 s of acknowledged commits"
            }
            FlushAtCommit::SyncAtPrepareAndCommit => {
                "3 (MariaDB): fsync at prepare and at commit; as safe as 1 and usually redundant"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_values_each_flavor_accepts() {
        for flavor in [Flavor::MariaDb, Flavor::Mysql] {
            assert_eq!(FlushAtCommit::parse(flavor, "1"), Some(FlushAtCommit::Sync));
            assert_eq!(
                FlushAtCommit::parse(flavor, "2"),
                Some(FlushAtCommit::WriteOnly)
            );
            assert_eq!(
                FlushAtCommit::parse(flavor, "0"),
                Some(FlushAtCommit::Nothing)
            );
            assert_eq!(FlushAtCommit::parse(flavor, "4"), None);
            assert_eq!(FlushAtCommit::parse(flavor, "ON"), None);
        }
        assert_eq!(
            FlushAtCommit::parse(Flavor::MariaDb, "3"),
            Some(FlushAtCommit::SyncAtPrepareAndCommit)
        );
        // Counterexample: 3 is MariaDB's; MySQL knows only 0, 1 and 2.
        assert_eq!(FlushAtCommit::parse(Flavor::Mysql, "3"), None);
    }

    #[test]
    fn only_1_and_3_are_on_disk_at_commit() {
        assert!(FlushAtCommit::Sync.synced_at_commit());
        assert!(FlushAtCommit::SyncAtPrepareAndCommit.synced_at_commit());
        assert!(!FlushAtCommit::WriteOnly.synced_at_commit());
        assert!(!FlushAtCommit::Nothing.synced_at_commit());
    }

    #[test]
    fn value_2_survives_a_server_crash_but_0_does_not() {
        assert!(FlushAtCommit::WriteOnly.survives_server_crash());
        assert!(FlushAtCommit::Sync.survives_server_crash());
        assert!(!FlushAtCommit::Nothing.survives_server_crash());
    }
}
