//! Reading the InnoDB monitor (`SHOW ENGINE INNODB STATUS`): the one place both flavors show the
//! undo log a transaction has built up and how far the redo log is on disk.
//!
//! The monitor is one long text. The demos need two things from it:
//!
//! ```text
//!   ------------
//!   TRANSACTIONS
//!   ------------
//!   ---TRANSACTION 232, ACTIVE 0 sec
//!   2 lock struct(s), heap size 1128, 2 row lock(s), undo log entries 2   <- undo_log_entries()
//!   MariaDB thread id 161, OS thread handle ..., query id 605 ...         (MySQL: "MySQL thread id")
//!   ...
//!   ---
//!   LOG
//!   ---
//!   Log sequence number 150115                                            <- parse_log_position()
//!   Log flushed up to   149897
//! ```
//!
//! Unlike `INFORMATION_SCHEMA.INNODB_TRX`, which serves a copy refreshed at most every 0.1 s (so a
//! transaction a moment old may be missing from it), the monitor is generated when asked. Both need
//! the PROCESS privilege.
//!
//! # How the real system differs
//!
//! The text is meant for people, not programs, and its layout changes between versions; the
//! parsers look for labelled lines only and return `None` rather than guess.

/// Two points of the redo log, from `SHOW ENGINE INNODB STATUS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogPosition {
    /// `Log sequence number`: the end of the log generated so far (possibly only in memory).
    pub lsn: u64,
    /// `Log flushed up to`: the end of the log known to be on disk.
    pub flushed: u64,
}

/// Finds the two LSNs in the LOG section of the InnoDB monitor text. Both MariaDB and MySQL print
/// them as `<label> <number>` with padding; very old servers printed two 32-bit halves, which this
/// refuses rather than misreads.
pub fn parse_log_position(status: &str) -> Option<LogPosition> {
    let number_after = |label: &str| -> Option<u64> {
        let line = status
            .lines()
            .map(str::trim)
            .find(|l| l.starts_with(label))?;
        let rest = line[label.len()..].trim();
        if rest.split_whitespace().count() != 1 {
            return None;
        }
        rest.parse().ok()
    };
    Some(LogPosition {
        lsn: number_after("Log sequence number")?,
        flushed: number_after("Log flushed up to")?,
    })
}

/// How many undo records the transaction of session `thread_id` (its `CONNECTION_ID()`) has
/// written, from the monitor's list of transactions. `Some(0)` when the transaction is listed
/// without undo (the line is printed only when there is some), `None` when it is not listed.
pub fn undo_log_entries(status: &str, thread_id: u32) -> Option<u64> {
    let me = format!("thread id {thread_id},");
    let mut in_block = false;
    let (mut mine, mut entries) = (false, 0);
    for line in status.lines() {
        let ends_block = line.starts_with("---TRANSACTION")
            || (line.len() >= 4 && line.bytes().all(|b| b == b'-'));
        if ends_block {
            if mine {
                return Some(entries);
            }
            in_block = line.starts_with("---TRANSACTION");
            (mine, entries) = (false, 0);
            continue;
        }
        if !in_block {
            continue;
        }
        if line.contains(&me) {
            mine = true;
        }
        if let Some((_, after)) = line.split_once("undo log entries ") {
            let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
            entries = digits.parse().ok()?;
        }
    }
    mine.then_some(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_positions_parse_from_either_flavor() {
        let mariadb = "---\nLOG\n---\nLog sequence number 44776\nLog flushed up to   44770\n\
                       Pages flushed up to 44776\nLast checkpoint at  44760\n";
        assert_eq!(
            parse_log_position(mariadb),
            Some(LogPosition {
                lsn: 44776,
                flushed: 44770
            })
        );
        let mysql = "LOG\n---\nLog sequence number          19254133\n\
                     Log buffer assigned up to    19254133\nLog buffer completed up to   19254133\n\
                     Log written up to            19254133\nLog flushed up to            19254100\n";
        assert_eq!(
            parse_log_position(mysql),
            Some(LogPosition {
                lsn: 19254133,
                flushed: 19254100
            })
        );
    }

    #[test]
    fn log_positions_refuse_what_they_cannot_read() {
        // Old servers: two 32-bit halves.
        assert_eq!(
            parse_log_position("Log sequence number 0 3934414864\nLog flushed up to 0 3934414864"),
            None
        );
        // A missing line.
        assert_eq!(parse_log_position("Log sequence number 5\n"), None);
        assert_eq!(parse_log_position(""), None);
    }

    const MARIADB_TRANSACTIONS: &str = "\
------------------------
LATEST DETECTED DEADLOCK
------------------------
*** (1) TRANSACTION:
TRANSACTION 161, ACTIVE 0 sec starting index read
LOCK WAIT 3 lock struct(s), heap size 1128, 2 row lock(s), undo log entries 1
MariaDB thread id 119, OS thread handle 140040496604864, query id 435 localhost lab Updating
------------
TRANSACTIONS
------------
Trx id counter 234
LIST OF TRANSACTIONS FOR EACH SESSION:
---TRANSACTION 233, ACTIVE 0 sec
2 lock struct(s), heap size 1128, 2 row lock(s), undo log entries 2
MariaDB thread id 119, OS thread handle 1, query id 7 localhost lab starting
SHOW ENGINE INNODB STATUS
---TRANSACTION 230, ACTIVE 3 sec
1 lock struct(s), heap size 1128, 0 row lock(s)
MariaDB thread id 1190, OS thread handle 2, query id 9 localhost lab
--------
FILE I/O
--------
";

    #[test]
    fn undo_entries_are_read_for_the_right_session() {
        assert_eq!(undo_log_entries(MARIADB_TRANSACTIONS, 119), Some(2));
        // Listed, but nothing written yet: no "undo log entries" line at all.
        assert_eq!(undo_log_entries(MARIADB_TRANSACTIONS, 1190), Some(0));
        // Counterexamples: a session that is not listed, and a prefix of a listed id.
        assert_eq!(undo_log_entries(MARIADB_TRANSACTIONS, 7), None);
        assert_eq!(undo_log_entries(MARIADB_TRANSACTIONS, 11), None);
    }

    #[test]
    fn undo_entries_read_mysql_spelling_too() {
        let mysql = "---TRANSACTION 1822, ACTIVE 2 sec\n\
                     2 lock struct(s), heap size 1128, 1 row lock(s), undo log entries 5\n\
                     MySQL thread id 9, OS thread handle 1403, query id 56 localhost root starting\n\
                     SHOW ENGINE INNODB STATUS\n\
                     --------\nFILE I/O\n";
        assert_eq!(undo_log_entries(mysql, 9), Some(5));
        assert_eq!(undo_log_entries(mysql, 10), None);
    }
}
