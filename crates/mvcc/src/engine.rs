//! The engine: sessions, transactions, statements, lock waits, deadlocks and purge, driven one
//! statement at a time (mysql-04, mysql-13, mysql-19).
//!
//! Nothing here runs concurrently. A caller [`Engine::submit`]s one statement for one session and
//! gets back either its reply (rows, rows affected, OK, or an error code) or
//! [`Response::Blocked`]: the statement waits for a lock, keeping its place in the scan. When a
//! later statement commits, rolls back or loses a deadlock, the waiters it unblocks resume right
//! away, inside that call, and their replies are collected with [`Engine::take_completions`].
//! That is the order a person typing into several `mysql` clients sees, and the order the
//! hermitage runner reproduces on the real server.
//!
//! # Which read is which
//!
//! ```text
//!   statement                          READ UNCOMMITTED   READ COMMITTED    REPEATABLE READ      SERIALIZABLE
//!   SELECT (plain)                     newest version     new view per      view made at first   in BEGIN: S-locking read
//!                                      (no view)          statement         consistent read      autocommit: like RR
//!   SELECT ... FOR SHARE / FOR UPDATE  current read: newest committed version after waiting for S / X locks
//!   UPDATE / DELETE                    current read with X locks (UPDATE at RU/RC: semi-consistent)
//!   locks a scan sets                  record locks, released on rows      next-key locks on every record
//!                                      the WHERE rejects                   scanned, plus the supremum
//! ```
//!
//! A consistent read walks each row's version chain through [`ReadView::visibility`]. A current
//! read locks first and then reads the record as it is now, which is why an UPDATE inside a
//! REPEATABLE READ transaction can act on rows its own SELECTs do not show (see
//! `tests/scenarios.rs`, `locking_reads_see_rows_the_snapshot_does_not`).
//!
//! # Worked example: a lost update at REPEATABLE READ
//!
//! ```text
//!   T1: SELECT value WHERE id=1   -> 10   (view v1)
//!   T2: SELECT value WHERE id=1   -> 10   (view v2)
//!   T1: UPDATE SET value=11 WHERE id=1    X lock on id=1, new version (trx T1) -> 1 row
//!   T2: UPDATE SET value=11 WHERE id=1    waits for T1's X lock                -> blocked
//!   T1: COMMIT                            lock released; T2 resumes: no write-write check
//!                                         against v2, so it overwrites T1's 11 -> 0 rows changed
//! ```
//!
//! # Deadlocks
//! Each waiting transaction points at the one transaction it waits for (InnoDB's
//! `trx->lock.wait_trx`: the owner of the first conflicting lock ahead in the queue). When a
//! transaction starts waiting, the engine follows those pointers; coming back to the start is a
//! deadlock. The victim is the lightest transaction of the cycle by [`Engine::weight`]
//! (undo records + lock structs), the requester on a tie; it is rolled back whole with 1213.
//! A lock wait timeout (1205) rolls back only the statement; the model has no clock, so the
//! caller decides when time has run out ([`Engine::expire_oldest_wait`]).
//!
//! # How the real system differs
//! Real InnoDB runs each session on its own thread and checks deadlocks inside `lock_wait()`;
//! here the "threads" are resumed in the order their locks are granted. Implicit locks are
//! converted to explicit ones only when someone else asks, as in InnoDB, but only for the clustered
//! index: the model has no secondary indexes. Purge runs after every commit instead of in the
//! background, so the model never keeps history longer than a read view needs it.

use serde::Serialize;

use crate::lock::{LockId, LockMode, LockSys, Pos, RecKind, Tx};
use crate::read_view::ReadView;
use crate::sql::{Cond, ReadLock, SetValue, Statement};
use crate::version::{Key, RollPtr, TrxId, UndoKind, UndoRecord, Version, Versions};

/// The four SQL isolation levels, weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    ReadUncommitted,
    ReadCommitted,
    RepeatableRead,
    Serializable,
}

impl Level {
    pub const ALL: [Level; 4] = [
        Level::ReadUncommitted,
        Level::ReadCommitted,
        Level::RepeatableRead,
        Level::Serializable,
    ];

    /// `read committed`, as hermitage's tables name it.
    pub fn name(self) -> &'static str {
        match self {
            Level::ReadUncommitted => "read uncommitted",
            Level::ReadCommitted => "read committed",
            Level::RepeatableRead => "repeatable read",
            Level::Serializable => "serializable",
        }
    }

    /// `READ COMMITTED`, for `SET SESSION TRANSACTION ISOLATION LEVEL`.
    pub fn sql(self) -> &'static str {
        match self {
            Level::ReadUncommitted => "READ UNCOMMITTED",
            Level::ReadCommitted => "READ COMMITTED",
            Level::RepeatableRead => "REPEATABLE READ",
            Level::Serializable => "SERIALIZABLE",
        }
    }

    /// `RC`.
    pub fn short(self) -> &'static str {
        match self {
            Level::ReadUncommitted => "RU",
            Level::ReadCommitted => "RC",
            Level::RepeatableRead => "RR",
            Level::Serializable => "SER",
        }
    }

    /// Accepts `read committed`, `read-committed`, `READ_COMMITTED`, `rc`, ...
    pub fn parse(s: &str) -> Option<Level> {
        let norm: String = s
            .trim()
            .chars()
            .map(|c| {
                if c == '-' || c == '_' {
                    ' '
                } else {
                    c.to_ascii_lowercase()
                }
            })
            .collect();
        let norm = norm.split_whitespace().collect::<Vec<_>>().join(" ");
        Level::ALL
            .into_iter()
            .find(|l| l.name() == norm || l.short().eq_ignore_ascii_case(&norm))
            .or(match norm.as_str() {
                "ser" | "serial" => Some(Level::Serializable),
                _ => None,
            })
    }

    /// READ UNCOMMITTED and READ COMMITTED: record locks only, released on rows the WHERE rejects.
    fn record_locks_only(self) -> bool {
        self <= Level::ReadCommitted
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The server error codes the model produces.
pub mod code {
    /// `ER_LOCK_DEADLOCK`: chosen as a deadlock victim; the whole transaction was rolled back.
    pub const DEADLOCK: u16 = 1213;
    /// `ER_LOCK_WAIT_TIMEOUT`: waited too long; the statement was rolled back.
    pub const LOCK_WAIT_TIMEOUT: u16 = 1205;
    /// `ER_CHECKREAD` (MariaDB `innodb_snapshot_isolation`): the row changed since the snapshot;
    /// the whole transaction was rolled back.
    pub const RECORD_CHANGED: u16 = 1020;
    /// `ER_DUP_ENTRY`: the key exists; the statement was rolled back.
    pub const DUPLICATE_KEY: u16 = 1062;

    /// Whether the error ended the whole transaction (so later statements run in autocommit).
    pub fn rolls_back_transaction(code: u16) -> bool {
        code == DEADLOCK || code == RECORD_CHANGED
    }
}

/// What a completed statement answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reply", rename_all = "snake_case")]
pub enum Reply {
    /// BEGIN, COMMIT, ROLLBACK.
    Ok,
    /// A SELECT's rows, `(id, value)` in key order.
    Rows { rows: Vec<(Key, i64)> },
    /// Rows changed by INSERT, UPDATE or DELETE (an UPDATE to the same value does not count,
    /// as with the server's default client flags).
    Affected { rows: u64 },
    /// A server error code, e.g. 1213.
    Error { code: u16 },
}

impl Reply {
    pub fn rows(&self) -> Option<&[(Key, i64)]> {
        match self {
            Reply::Rows { rows } => Some(rows),
            _ => None,
        }
    }

    pub fn error(&self) -> Option<u16> {
        match self {
            Reply::Error { code } => Some(*code),
            _ => None,
        }
    }
}

impl std::fmt::Display for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reply::Ok => f.write_str("ok"),
            Reply::Rows { rows } if rows.is_empty() => f.write_str("(no rows)"),
            Reply::Rows { rows } => {
                let r: Vec<String> = rows.iter().map(|(k, v)| format!("{k}=>{v}")).collect();
                f.write_str(&r.join(", "))
            }
            Reply::Affected { rows } => {
                write!(f, "{rows} row{}", if *rows == 1 { "" } else { "s" })
            }
            Reply::Error { code } => write!(f, "ERROR {code}"),
        }
    }
}

/// What [`Engine::submit`] returns at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    Done(Reply),
    /// Waiting for a lock held (or requested earlier) by the session given.
    Blocked {
        on: Option<SessionId>,
    },
}

/// A client connection.
pub type SessionId = usize;

/// Engine-wide switches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Options {
    /// MariaDB's `innodb_snapshot_isolation`: under REPEATABLE READ, locking a row whose newest
    /// version the transaction's read view does not see fails with 1020 (and rolls back).
    pub snapshot_isolation: bool,
    /// Leave history alone until [`Engine::purge`] is called (the mysql-13 demo wants to show it).
    pub manual_purge: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TrxState {
    Active,
    Committed,
    RolledBack,
}

#[derive(Debug, Clone)]
struct Trx {
    /// `DB_TRX_ID`, assigned at the first write.
    id: Option<TrxId>,
    state: TrxState,
    level: Level,
    /// The read view: REPEATABLE READ's from its first consistent read on.
    view: Option<ReadView>,
    /// Undo slots, oldest first (`undo_no` is their count).
    undo: Vec<usize>,
    session: SessionId,
    /// The lock it waits for.
    wait: Option<LockId>,
    /// Whom it waited for when last checked for deadlocks.
    wait_for: Option<Tx>,
    /// When the wait started (the model's clock for lock wait timeouts).
    wait_seq: u64,
}

/// Where a scan goes next.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Plan {
    /// Unique lookups on the primary key, in key order.
    Points(Vec<Key>),
    /// A primary-key range from a lower bound (`id > k` or `id >= k`).
    Range { from: Key, inclusive: bool },
    /// The whole clustered index.
    Full,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Cursor {
    /// The next lookup of [`Plan::Points`].
    Point(usize),
    /// Scans: the last record processed (`None`: not started).
    After(Option<Key>),
    /// The supremum was processed (or there is nothing more).
    Done,
}

/// A statement in progress.
#[derive(Debug, Clone)]
struct Running {
    stmt: Statement,
    plan: Plan,
    cursor: Cursor,
    /// S or X for locking statements; `None` for a consistent read.
    lock: Option<LockMode>,
    rows: Vec<(Key, i64)>,
    affected: u64,
    /// Undo length at statement start: a statement rollback returns here.
    undo_mark: usize,
    /// UPDATE at RU/RC scanning: may look at the last committed version instead of waiting.
    semi_consistent: bool,
    /// The WHERE matched the last committed version of the row we now wait for: do a real read.
    semi_matched: bool,
    /// The lock we waited for, now granted: go on without checking the queue again (InnoDB does
    /// not re-check after a grant, even if a later gap lock arrived meanwhile).
    granted: Option<(Pos, LockMode, RecKind)>,
    /// INSERT: the next row of the VALUES list.
    next_insert: usize,
}

/// One row lock as `lab` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LockInfo {
    pub session: SessionId,
    pub trx_id: Option<TrxId>,
    pub pos: Pos,
    pub mode: LockMode,
    pub kind: RecKind,
    pub waiting: bool,
}

#[derive(Debug, Clone, Default)]
struct Session {
    level: Option<Level>,
    /// Inside BEGIN ... COMMIT.
    in_txn: bool,
    tx: Option<Tx>,
    running: Option<Running>,
}

/// The model of one InnoDB table `test (id INT PRIMARY KEY, value INT)` and its clients.
#[derive(Debug, Clone)]
pub struct Engine {
    opts: Options,
    data: Versions,
    locks: LockSys,
    trxs: Vec<Trx>,
    sessions: Vec<Session>,
    next_trx_id: TrxId,
    clock: u64,
    /// Replies of statements that finished after they had blocked, in the order they finished.
    completions: Vec<(SessionId, Reply)>,
    /// Transactions whose lock was granted (or whose wait was cancelled) and that should resume.
    runnable: Vec<Tx>,
}

impl Engine {
    /// An empty table. Transaction ids start at `first_trx_id`.
    pub fn new(opts: Options) -> Engine {
        Engine {
            opts,
            data: Versions::default(),
            locks: LockSys::default(),
            trxs: Vec::new(),
            sessions: Vec::new(),
            next_trx_id: 100,
            clock: 0,
            completions: Vec::new(),
            runnable: Vec::new(),
        }
    }

    /// The hermitage table: rows inserted and committed by one setup transaction.
    pub fn with_rows(opts: Options, rows: &[(Key, i64)]) -> Engine {
        let mut e = Engine::new(opts);
        let s = e.open_session(Level::RepeatableRead);
        if !rows.is_empty() {
            let r = e.submit(
                s,
                Statement::Insert {
                    rows: rows.to_vec(),
                },
            );
            debug_assert!(matches!(r, Response::Done(Reply::Affected { .. })));
        }
        e
    }

    pub fn options(&self) -> Options {
        self.opts
    }

    /// A new client session at `level` (`SET SESSION TRANSACTION ISOLATION LEVEL`).
    pub fn open_session(&mut self, level: Level) -> SessionId {
        self.sessions.push(Session {
            level: Some(level),
            ..Session::default()
        });
        self.sessions.len() - 1
    }

    /// The session's isolation level.
    pub fn level(&self, s: SessionId) -> Level {
        self.sessions[s].level.unwrap_or(Level::RepeatableRead)
    }

    /// Whether the session has a statement waiting for a lock.
    pub fn busy(&self, s: SessionId) -> bool {
        self.sessions[s].running.is_some()
    }

    /// Whether the session is inside BEGIN ... COMMIT.
    pub fn in_transaction(&self, s: SessionId) -> bool {
        self.sessions[s].in_txn
    }

    /// The session's transaction id, once it has written.
    pub fn trx_id(&self, s: SessionId) -> Option<TrxId> {
        self.sessions[s].tx.and_then(|t| self.trxs[t].id)
    }

    /// The session's open read view (REPEATABLE READ after its first consistent read).
    pub fn read_view(&self, s: SessionId) -> Option<&ReadView> {
        self.sessions[s].tx.and_then(|t| self.trxs[t].view.as_ref())
    }

    /// The clustered index and undo log, for drawings.
    pub fn versions(&self) -> &Versions {
        &self.data
    }

    /// The deadlock weight of the session's transaction: (undo records, lock structs).
    pub fn weight(&self, s: SessionId) -> Option<(usize, usize)> {
        let t = self.sessions[s].tx?;
        Some((self.trxs[t].undo.len(), self.locks.struct_count(t)))
    }

    /// The session whose transaction this session's waiting statement waits for.
    pub fn waits_for(&self, s: SessionId) -> Option<SessionId> {
        let t = self.sessions[s].tx?;
        let l = self.trxs[t].wait?;
        self.locks.blocker(l).map(|b| self.trxs[b].session)
    }

    /// Every record lock, in queue order per record.
    pub fn locks(&self) -> Vec<LockInfo> {
        self.locks
            .all()
            .into_iter()
            .map(|(_, l)| LockInfo {
                session: self.trxs[l.tx].session,
                trx_id: self.trxs[l.tx].id,
                pos: l.pos,
                mode: l.mode,
                kind: l.kind,
                waiting: l.waiting,
            })
            .collect()
    }

    /// The table as a new autocommit READ COMMITTED reader would see it (latest committed rows).
    pub fn committed_rows(&self) -> Vec<(Key, i64)> {
        let view = self.make_view(None);
        self.data
            .index
            .keys()
            .filter_map(|&k| self.data.walk(k, Some(&view)).value.map(|v| (k, v)))
            .collect()
    }

    /// Live undo records that old read views might need (InnoDB's history list length).
    pub fn history_length(&self) -> usize {
        self.data
            .undo
            .iter()
            .flatten()
            .filter(|u| u.kind == UndoKind::Update)
            .count()
    }

    /// Replies of blocked statements that have finished since the last call, in finishing order.
    pub fn take_completions(&mut self) -> Vec<(SessionId, Reply)> {
        std::mem::take(&mut self.completions)
    }

    // ---------------------------------------------------------------- statements

    /// Runs one statement of one session. It either completes (perhaps after unblocking others
    /// and being unblocked in turn within this call) or blocks on a lock.
    ///
    /// # Panics
    /// If the session already has a statement waiting: a client cannot send a second statement
    /// before the first one answers.
    pub fn submit(&mut self, s: SessionId, stmt: Statement) -> Response {
        assert!(
            !self.busy(s),
            "session {s} sent a statement while its previous one is still waiting"
        );
        let first = match stmt {
            Statement::Begin => {
                self.end_txn(s, true);
                self.sessions[s].in_txn = true;
                Some(Reply::Ok)
            }
            Statement::Commit => {
                self.end_txn(s, true);
                Some(Reply::Ok)
            }
            Statement::Rollback => {
                self.end_txn(s, false);
                Some(Reply::Ok)
            }
            _ => {
                self.start_statement(s, stmt);
                self.run(s)
            }
        };
        if let Some(reply) = first {
            self.finish_statement(s, &reply);
            self.settle();
            return Response::Done(reply);
        }
        self.settle();
        // The statement may have been unblocked while others moved on (a deadlock victim released
        // what it needed): then its reply is among the completions.
        if let Some(i) = self.completions.iter().position(|(c, _)| *c == s) {
            let (_, reply) = self.completions.remove(i);
            return Response::Done(reply);
        }
        Response::Blocked {
            on: self.waits_for(s),
        }
    }

    /// The model's clock ran out for the session that has waited longest: its statement fails with
    /// 1205 and is rolled back (the transaction stays open). Returns that session.
    pub fn expire_oldest_wait(&mut self) -> Option<SessionId> {
        let t = self
            .trxs
            .iter()
            .enumerate()
            .filter(|(_, t)| t.wait.is_some() && t.state == TrxState::Active)
            .min_by_key(|(_, t)| t.wait_seq)
            .map(|(i, _)| i)?;
        let s = self.trxs[t].session;
        if let Some(l) = self.trxs[t].wait.take() {
            self.locks.remove(l);
        }
        self.statement_rollback(t);
        let reply = Reply::Error {
            code: code::LOCK_WAIT_TIMEOUT,
        };
        self.finish_statement(s, &reply);
        self.completions.push((s, reply));
        self.settle();
        Some(s)
    }

    fn make_view(&self, creator: Option<TrxId>) -> ReadView {
        let active: Vec<TrxId> = self
            .trxs
            .iter()
            .filter(|t| t.state == TrxState::Active)
            .filter_map(|t| t.id)
            .collect();
        ReadView::new(active, self.next_trx_id, creator)
    }

    /// The session's transaction, started if there is none (an autocommit statement gets one of
    /// its own).
    fn tx_of(&mut self, s: SessionId) -> Tx {
        if let Some(t) = self.sessions[s].tx {
            return t;
        }
        let level = self.level(s);
        self.trxs.push(Trx {
            id: None,
            state: TrxState::Active,
            level,
            view: None,
            undo: Vec::new(),
            session: s,
            wait: None,
            wait_for: None,
            wait_seq: 0,
        });
        let t = self.trxs.len() - 1;
        self.sessions[s].tx = Some(t);
        t
    }

    /// `trx_set_rw_mode`: the first write assigns the transaction id and stamps it into an open view.
    fn assign_id(&mut self, t: Tx) -> TrxId {
        if let Some(id) = self.trxs[t].id {
            return id;
        }
        let id = self.next_trx_id;
        self.next_trx_id += 1;
        self.trxs[t].id = Some(id);
        if let Some(v) = self.trxs[t].view.as_mut() {
            v.creator = Some(id);
        }
        id
    }

    fn start_statement(&mut self, s: SessionId, stmt: Statement) {
        let t = self.tx_of(s);
        let level = self.trxs[t].level;
        let in_txn = self.sessions[s].in_txn;
        let lock = match &stmt {
            Statement::Select { lock, .. } => match lock {
                ReadLock::Update => Some(LockMode::X),
                ReadLock::Share => Some(LockMode::S),
                // SERIALIZABLE: a plain SELECT inside a transaction becomes LOCK IN SHARE MODE.
                ReadLock::None if level == Level::Serializable && in_txn => Some(LockMode::S),
                ReadLock::None => None,
            },
            Statement::Update { .. } | Statement::Delete { .. } | Statement::Insert { .. } => {
                Some(LockMode::X)
            }
            _ => None,
        };
        let filter = match &stmt {
            Statement::Select { filter, .. }
            | Statement::Update { filter, .. }
            | Statement::Delete { filter } => filter.clone(),
            _ => None,
        };
        let plan = plan_for(filter.as_ref());
        let semi_consistent = matches!(stmt, Statement::Update { .. })
            && level.record_locks_only()
            && !matches!(plan, Plan::Points(_));
        if matches!(
            stmt,
            Statement::Update { .. } | Statement::Delete { .. } | Statement::Insert { .. }
        ) {
            self.assign_id(t);
        }
        if let Some(mode) = lock {
            self.locks.lock_table(t, mode.intention());
        }
        // MariaDB opens a SERIALIZABLE transaction's read view with its first statement
        // (MDEV-36330), so snapshot-isolation checks apply there too. Measured on 10.11.19: a row
        // committed by another transaction after that first statement fails the check, one
        // committed before it does not, and BEGIN alone opens nothing.
        if level == Level::Serializable && self.trxs[t].view.is_none() {
            let v = self.make_view(self.trxs[t].id);
            self.trxs[t].view = Some(v);
        }
        let cursor = match plan {
            Plan::Points(_) => Cursor::Point(0),
            _ => Cursor::After(None),
        };
        let undo_mark = self.trxs[t].undo.len();
        self.sessions[s].running = Some(Running {
            stmt,
            plan,
            cursor,
            lock,
            rows: Vec::new(),
            affected: 0,
            undo_mark,
            semi_consistent,
            semi_matched: false,
            granted: None,
            next_insert: 0,
        });
    }

    /// Runs the session's statement until it completes (`Some(reply)`) or waits (`None`).
    fn run(&mut self, s: SessionId) -> Option<Reply> {
        let running = self.sessions[s].running.as_ref()?;
        let reply = match (&running.stmt, running.lock) {
            (Statement::Select { filter, .. }, None) => {
                let filter = filter.clone();
                Some(self.consistent_read(s, filter.as_ref()))
            }
            (Statement::Insert { .. }, _) => self.run_insert(s),
            _ => self.run_locking_scan(s),
        };
        if reply.is_some() {
            // Done: the statement no longer runs (finish_statement handles autocommit).
            if let Some(t) = self.sessions[s].tx {
                self.trxs[t].wait = None;
            }
        }
        reply
    }

    /// A plain SELECT: no locks, each row through the version chain and the read view.
    fn consistent_read(&mut self, s: SessionId, filter: Option<&Cond>) -> Reply {
        let t = self.tx_of(s);
        let level = self.trxs[t].level;
        let in_txn = self.sessions[s].in_txn;
        let view = match level {
            Level::ReadUncommitted => None,
            Level::ReadCommitted => Some(self.make_view(self.trxs[t].id)),
            Level::RepeatableRead | Level::Serializable => {
                if self.trxs[t].view.is_none() {
                    let v = self.make_view(self.trxs[t].id);
                    if in_txn {
                        self.trxs[t].view = Some(v.clone());
                    }
                    Some(v)
                } else {
                    self.trxs[t].view.clone()
                }
            }
        };
        let rows = self
            .data
            .index
            .keys()
            .filter_map(|&k| {
                let w = self.data.walk(k, view.as_ref());
                w.value
                    .filter(|&v| filter.is_none_or(|c| c.matches(k, v)))
                    .map(|v| (k, v))
            })
            .collect();
        Reply::Rows { rows }
    }

    /// The next place a locking scan visits: a record (or the supremum), the lock shape it takes
    /// there at this level, and whether a row there can be part of the result.
    fn next_target(&self, s: SessionId) -> Option<Target> {
        let r = self.sessions[s].running.as_ref()?;
        let t = self.sessions[s].tx?;
        let level = self.trxs[t].level;
        let gaps = !level.record_locks_only();
        match (&r.plan, &r.cursor) {
            (_, Cursor::Done) => None,
            (Plan::Points(keys), Cursor::Point(i)) => {
                let &k = keys.get(*i)?;
                match self.data.index.get(&k) {
                    Some(v) => Some(Target {
                        pos: Pos::Rec(k),
                        // A unique search locks only the record, unless the record is
                        // delete-marked: then the gap before it too (at RR).
                        kind: Some(if gaps && v.delete_marked {
                            RecKind::NextKey
                        } else {
                            RecKind::RecNotGap
                        }),
                        row: true,
                    }),
                    // Not found: at RR the gap where it would be, so nobody can insert it.
                    None => Some(Target {
                        pos: self.next_pos_after(k),
                        kind: gaps.then_some(RecKind::Gap),
                        row: false,
                    }),
                }
            }
            (Plan::Range { from, inclusive }, Cursor::After(last)) => {
                let pos = match last {
                    Some(k) => self.next_pos_after(*k),
                    None if *inclusive => self.first_pos_from(*from),
                    None => self.next_pos_after(*from),
                };
                // `id >= k` positioned exactly on k: a record lock only (row_search_mvcc's
                // special case for the clustered index).
                let exact_start = last.is_none() && *inclusive && pos == Pos::Rec(*from);
                Some(self.scan_target(pos, gaps, exact_start))
            }
            (Plan::Full, Cursor::After(last)) => {
                let pos = match last {
                    Some(k) => self.next_pos_after(*k),
                    None => self
                        .data
                        .index
                        .keys()
                        .next()
                        .map_or(Pos::Supremum, |&k| Pos::Rec(k)),
                };
                Some(self.scan_target(pos, gaps, false))
            }
            _ => None,
        }
    }

    fn scan_target(&self, pos: Pos, gaps: bool, exact_start: bool) -> Target {
        match pos {
            Pos::Supremum => Target {
                pos,
                kind: gaps.then_some(RecKind::NextKey),
                row: false,
            },
            Pos::Rec(_) => Target {
                pos,
                kind: Some(if gaps && !exact_start {
                    RecKind::NextKey
                } else {
                    RecKind::RecNotGap
                }),
                row: true,
            },
        }
    }

    fn next_pos_after(&self, k: Key) -> Pos {
        self.data
            .index
            .range(k + 1..)
            .next()
            .map_or(Pos::Supremum, |(&k, _)| Pos::Rec(k))
    }

    fn first_pos_from(&self, k: Key) -> Pos {
        self.data
            .index
            .range(k..)
            .next()
            .map_or(Pos::Supremum, |(&k, _)| Pos::Rec(k))
    }

    fn advance(&mut self, s: SessionId, pos: Pos) {
        let r = self.sessions[s]
            .running
            .as_mut()
            .expect("a running statement");
        r.granted = None;
        r.semi_matched = false;
        r.cursor = match (&r.plan, &r.cursor) {
            (Plan::Points(keys), Cursor::Point(i)) if i + 1 < keys.len() => Cursor::Point(i + 1),
            (Plan::Points(_), _) => Cursor::Done,
            (_, _) => match pos {
                Pos::Rec(k) => Cursor::After(Some(k)),
                Pos::Supremum => Cursor::Done,
            },
        };
    }

    fn is_active(&self, id: TrxId) -> bool {
        self.trxs
            .iter()
            .any(|t| t.id == Some(id) && t.state == TrxState::Active)
    }

    fn tx_by_id(&self, id: TrxId) -> Option<Tx> {
        self.trxs.iter().position(|t| t.id == Some(id))
    }

    /// `lock_rec_convert_impl_to_expl`: a record whose newest version was written by a running
    /// transaction is implicitly X-locked by it; make that lock explicit before queueing behind it.
    fn convert_implicit(&mut self, t: Tx, pos: Pos) {
        let Pos::Rec(k) = pos else { return };
        let Some(writer) = self.data.index.get(&k).map(|v| v.trx_id) else {
            return;
        };
        if !self.is_active(writer) {
            return;
        }
        let Some(owner) = self.tx_by_id(writer) else {
            return;
        };
        if owner != t
            && !self
                .locks
                .has_covering(owner, pos, LockMode::X, RecKind::RecNotGap)
        {
            self.locks
                .grant_new(owner, pos, LockMode::X, RecKind::RecNotGap);
        }
    }

    /// Asks for a record lock. `Ok(Some(id))`: newly granted; `Ok(None)`: already held;
    /// `Err(())`: the request now waits (the caller returns "blocked").
    fn acquire(
        &mut self,
        s: SessionId,
        t: Tx,
        pos: Pos,
        mode: LockMode,
        kind: RecKind,
    ) -> Result<Option<LockId>, Wait> {
        let want = (pos, mode, LockSys::normalize(pos, kind));
        let granted = self.sessions[s]
            .running
            .as_ref()
            .is_some_and(|r| r.granted == Some(want));
        self.convert_implicit(t, pos);
        if granted || self.locks.has_covering(t, pos, mode, kind) {
            return Ok(None);
        }
        if self.locks.first_conflict(t, pos, mode, kind).is_none() {
            return Ok(Some(self.locks.grant_new(t, pos, mode, kind)));
        }
        Err(Wait)
    }

    /// Queues a waiting lock and runs the deadlock check. Returns the reply if the requester was
    /// the victim.
    fn wait(&mut self, t: Tx, pos: Pos, mode: LockMode, kind: RecKind) -> Option<Reply> {
        let id = self.locks.enqueue_waiting(t, pos, mode, kind);
        self.clock += 1;
        self.trxs[t].wait = Some(id);
        self.trxs[t].wait_seq = self.clock;
        self.trxs[t].wait_for = self.locks.blocker(id);
        self.check_deadlock(t)
    }

    /// Follows the wait-for pointers from `start`; on a cycle, rolls the victim back. Returns the
    /// requester's reply if it was the victim.
    fn check_deadlock(&mut self, start: Tx) -> Option<Reply> {
        let cycle = self.cycle_from(start)?;
        let victim = self.choose_victim(start, &cycle);
        let s = self.trxs[victim].session;
        let reply = Reply::Error {
            code: code::DEADLOCK,
        };
        self.rollback(victim);
        if victim == start {
            return Some(reply);
        }
        // Another transaction's waiting statement ends with the error.
        self.finish_statement(s, &reply);
        self.completions.push((s, reply));
        None
    }

    /// The cycle of waits through `start`, if there is one, in wait-for order from `start`.
    fn cycle_from(&self, start: Tx) -> Option<Vec<Tx>> {
        let mut cycle = vec![start];
        let mut cur = start;
        loop {
            let next = self.trxs[cur].wait.and_then(|l| self.locks.blocker(l))?;
            if next == start {
                return Some(cycle);
            }
            if cycle.contains(&next) {
                return None;
            }
            cycle.push(next);
            cur = next;
        }
    }

    /// InnoDB's victim: the lightest transaction by `trx_weight` (undo records + lock structs),
    /// the one that closed the cycle when it ties for lightest.
    pub(crate) fn choose_victim(&self, requester: Tx, cycle: &[Tx]) -> Tx {
        let w = |t: Tx| self.trxs[t].undo.len() + self.locks.struct_count(t);
        let lightest = cycle.iter().map(|&t| w(t)).min().unwrap_or(0);
        if w(requester) == lightest {
            return requester;
        }
        cycle
            .iter()
            .copied()
            .find(|&t| w(t) == lightest)
            .unwrap_or(requester)
    }

    /// SELECT ... FOR SHARE/UPDATE, UPDATE and DELETE: visit records in plan order, lock each,
    /// read it as it is now.
    fn run_locking_scan(&mut self, s: SessionId) -> Option<Reply> {
        let t = self.tx_of(s);
        let level = self.trxs[t].level;
        loop {
            let Some(target) = self.next_target(s) else {
                let r = self.sessions[s].running.as_ref()?;
                return Some(match &r.stmt {
                    Statement::Select { .. } => Reply::Rows {
                        rows: r.rows.clone(),
                    },
                    _ => Reply::Affected { rows: r.affected },
                });
            };
            let r = self.sessions[s].running.as_ref()?;
            let (mode, stmt) = (r.lock.unwrap_or(LockMode::S), r.stmt.clone());
            let (semi, semi_matched) = (r.semi_consistent, r.semi_matched);
            let filter = match &stmt {
                Statement::Select { filter, .. }
                | Statement::Update { filter, .. }
                | Statement::Delete { filter } => filter.clone(),
                _ => None,
            };
            let mut new_lock = None;
            if let Some(kind) = target.kind {
                match self.acquire(s, t, target.pos, mode, kind) {
                    Ok(id) => new_lock = id,
                    Err(Wait) => {
                        // READ COMMITTED UPDATE: look at the last committed version first; wait
                        // only if that version would match (semi-consistent read).
                        if semi
                            && !semi_matched
                            && let Pos::Rec(k) = target.pos
                        {
                            let committed = self
                                .data
                                .last_committed(k, |id| {
                                    self.is_active(id) && Some(id) != self.trxs[t].id
                                })
                                .cloned();
                            let matches = committed.as_ref().is_some_and(|v| {
                                !v.delete_marked
                                    && filter.as_ref().is_none_or(|c| c.matches(k, v.value))
                            });
                            if !matches {
                                self.advance(s, target.pos);
                                continue;
                            }
                            if let Some(r) = self.sessions[s].running.as_mut() {
                                r.semi_matched = true;
                            }
                        }
                        return self.wait(t, target.pos, mode, kind);
                    }
                }
            }
            let Pos::Rec(k) = target.pos else {
                self.advance(s, target.pos);
                continue;
            };
            if !target.row {
                self.advance(s, target.pos);
                continue;
            }
            let Some(current) = self.data.index.get(&k).cloned() else {
                // Removed while we waited (purged or an insert rolled back): move on.
                self.advance(s, target.pos);
                continue;
            };
            // MariaDB's innodb_snapshot_isolation: the row changed after our snapshot.
            if self.violates_snapshot(t, &current) {
                self.rollback(t);
                return Some(Reply::Error {
                    code: code::RECORD_CHANGED,
                });
            }
            let matches = !current.delete_marked
                && filter.as_ref().is_none_or(|c| c.matches(k, current.value));
            if !matches {
                // READ COMMITTED keeps no lock on a row it does not return or change.
                if level.record_locks_only()
                    && let Some(id) = new_lock
                {
                    self.locks.remove(id);
                }
                self.advance(s, target.pos);
                continue;
            }
            match &stmt {
                Statement::Select { .. } => {
                    if let Some(r) = self.sessions[s].running.as_mut() {
                        r.rows.push((k, current.value));
                    }
                }
                Statement::Update { set, .. } => self.write_update(s, t, k, &current, *set),
                Statement::Delete { .. } => self.write_delete(s, t, k, &current),
                _ => {}
            }
            self.advance(s, target.pos);
        }
    }

    /// MariaDB's `innodb_snapshot_isolation`: a locked record whose newest version the
    /// transaction's open read view does not see (REPEATABLE READ and SERIALIZABLE only).
    fn violates_snapshot(&self, t: Tx, current: &Version) -> bool {
        self.opts.snapshot_isolation
            && self.trxs[t].level >= Level::RepeatableRead
            && self.trxs[t]
                .view
                .as_ref()
                .is_some_and(|view| !view.sees(current.trx_id))
    }

    fn write_update(&mut self, s: SessionId, t: Tx, k: Key, current: &Version, set: SetValue) {
        let value = set.apply(current.value);
        if value == current.value {
            // The server compares the new row with the old one and skips the write: no new
            // version, no undo record, and it does not count as changed.
            return;
        }
        self.write_version(t, k, current, value, false);
        if let Some(r) = self.sessions[s].running.as_mut() {
            r.affected += 1;
        }
    }

    fn write_delete(&mut self, s: SessionId, t: Tx, k: Key, current: &Version) {
        self.write_version(t, k, current, current.value, true);
        if let Some(r) = self.sessions[s].running.as_mut() {
            r.affected += 1;
        }
    }

    /// A new newest version over `current`, the old one moved to the undo log.
    fn write_version(&mut self, t: Tx, k: Key, current: &Version, value: i64, delete_marked: bool) {
        let id = self.assign_id(t);
        let slot = self.data.push_undo(UndoRecord {
            kind: UndoKind::Update,
            key: k,
            trx_id: id,
            previous: Some(current.clone()),
        });
        self.trxs[t].undo.push(slot);
        self.data.index.insert(
            k,
            Version {
                value,
                trx_id: id,
                roll_ptr: RollPtr::Undo(slot),
                delete_marked,
            },
        );
    }

    fn run_insert(&mut self, s: SessionId) -> Option<Reply> {
        let t = self.tx_of(s);
        loop {
            let r = self.sessions[s].running.as_ref()?;
            let Statement::Insert { rows } = &r.stmt else {
                return None;
            };
            let Some(&(k, value)) = rows.get(r.next_insert) else {
                return Some(Reply::Affected { rows: r.affected });
            };
            let id = self.assign_id(t);
            if let Some(existing) = self.data.index.get(&k).cloned() {
                // Duplicate check: an S lock on the record with this key, then 1062 unless it is
                // a delete-marked leftover, which the insert reuses.
                let pos = Pos::Rec(k);
                if let Err(Wait) = self.acquire(s, t, pos, LockMode::S, RecKind::RecNotGap) {
                    return self.wait(t, pos, LockMode::S, RecKind::RecNotGap);
                }
                let existing = self.data.index.get(&k).cloned().unwrap_or(existing);
                // The duplicate check is a locking read: snapshot isolation applies to it too
                // (measured: an insert reusing a key deleted after the snapshot gets 1020).
                if self.violates_snapshot(t, &existing) {
                    self.rollback(t);
                    return Some(Reply::Error {
                        code: code::RECORD_CHANGED,
                    });
                }
                if !existing.delete_marked {
                    self.statement_rollback(t);
                    return Some(Reply::Error {
                        code: code::DUPLICATE_KEY,
                    });
                }
                self.write_version(t, k, &existing, value, false);
            } else {
                let next = self.next_pos_after(k);
                let want = (next, LockMode::X, RecKind::InsertIntention);
                let granted = self.sessions[s]
                    .running
                    .as_ref()
                    .is_some_and(|r| r.granted == Some(want));
                if !granted
                    && self
                        .locks
                        .first_conflict(t, next, LockMode::X, RecKind::InsertIntention)
                        .is_some()
                {
                    return self.wait(t, next, LockMode::X, RecKind::InsertIntention);
                }
                let slot = self.data.push_undo(UndoRecord {
                    kind: UndoKind::Insert,
                    key: k,
                    trx_id: id,
                    previous: None,
                });
                self.trxs[t].undo.push(slot);
                self.data.index.insert(
                    k,
                    Version {
                        value,
                        trx_id: id,
                        roll_ptr: RollPtr::Insert,
                        delete_marked: false,
                    },
                );
                // The new record splits the gap: it inherits the gap locks of the next record.
                self.locks.inherit_gap(next, Pos::Rec(k), |l| {
                    next == Pos::Supremum || l.kind != RecKind::RecNotGap
                });
            }
            if let Some(r) = self.sessions[s].running.as_mut() {
                r.affected += 1;
                r.next_insert += 1;
                r.granted = None;
            }
        }
    }

    /// After a statement's reply: clear it, and end an autocommit transaction, or a transaction an
    /// error rolled back.
    fn finish_statement(&mut self, s: SessionId, reply: &Reply) {
        self.sessions[s].running = None;
        let Some(t) = self.sessions[s].tx else { return };
        self.trxs[t].wait = None;
        if let Some(code) = reply.error()
            && code::rolls_back_transaction(code)
        {
            if self.trxs[t].state == TrxState::Active {
                self.rollback(t);
            }
            self.sessions[s].tx = None;
            self.sessions[s].in_txn = false;
            return;
        }
        if !self.sessions[s].in_txn {
            if reply.error().is_some() {
                self.rollback(t);
            } else {
                self.commit(t);
            }
            self.sessions[s].tx = None;
        }
    }

    fn end_txn(&mut self, s: SessionId, commit: bool) {
        if let Some(t) = self.sessions[s].tx.take() {
            if commit {
                self.commit(t);
            } else {
                self.rollback(t);
            }
        }
        self.sessions[s].in_txn = false;
    }

    fn commit(&mut self, t: Tx) {
        if self.trxs[t].state != TrxState::Active {
            return;
        }
        self.trxs[t].state = TrxState::Committed;
        self.trxs[t].view = None;
        // Insert undo is only for rollback: discarded at commit.
        for &slot in &self.trxs[t].undo {
            if self.data.undo[slot]
                .as_ref()
                .is_some_and(|u| u.kind == UndoKind::Insert)
            {
                self.data.undo[slot] = None;
            }
        }
        self.locks.release_all(t);
        if !self.opts.manual_purge {
            self.purge();
        }
    }

    /// Undoes everything the transaction wrote, newest first, and releases its locks.
    fn rollback(&mut self, t: Tx) {
        if self.trxs[t].state != TrxState::Active {
            return;
        }
        self.undo_to(t, 0);
        self.trxs[t].state = TrxState::RolledBack;
        self.trxs[t].view = None;
        self.trxs[t].wait = None;
        let s = self.trxs[t].session;
        if self.sessions[s].tx == Some(t) {
            self.sessions[s].running = None;
        }
        self.locks.release_all(t);
    }

    /// Rolls back the running statement's changes; keeps the locks (InnoDB does too).
    fn statement_rollback(&mut self, t: Tx) {
        let s = self.trxs[t].session;
        let mark = self.sessions[s]
            .running
            .as_ref()
            .map_or(self.trxs[t].undo.len(), |r| r.undo_mark);
        self.undo_to(t, mark);
    }

    fn undo_to(&mut self, t: Tx, mark: usize) {
        while self.trxs[t].undo.len() > mark {
            let Some(slot) = self.trxs[t].undo.pop() else {
                break;
            };
            let Some(rec) = self.data.undo[slot].take() else {
                continue;
            };
            match (rec.kind, rec.previous) {
                (UndoKind::Update, Some(prev)) => {
                    self.data.index.insert(rec.key, prev);
                }
                _ => {
                    self.remove_record(rec.key);
                }
            }
        }
    }

    /// Takes a record out of the index (rolled-back insert, purged delete): its locks move to the
    /// next record as gap locks, and anyone waiting for it retries from there.
    fn remove_record(&mut self, k: Key) {
        self.data.index.remove(&k);
        let next = self.next_pos_after(k);
        // READ COMMITTED transactions' X locks are not inherited (they keep no gap locks).
        let rc: Vec<Tx> = (0..self.trxs.len())
            .filter(|&t| self.trxs[t].level.record_locks_only())
            .collect();
        self.locks.inherit_gap(Pos::Rec(k), next, |l| {
            !(l.mode == LockMode::X && rc.contains(&l.tx))
        });
        let waiting: Vec<(LockId, Tx)> = self
            .locks
            .all()
            .into_iter()
            .filter(|(_, l)| l.pos == Pos::Rec(k))
            .map(|(i, l)| (i, l.tx))
            .collect();
        for (id, tx) in waiting {
            let was_waiting = self.locks.get(id).is_some_and(|l| l.waiting);
            self.locks.remove(id);
            if was_waiting {
                self.trxs[tx].wait = None;
                self.runnable.push(tx);
            }
        }
    }

    /// Grants what can be granted and resumes those transactions, until nothing changes.
    fn settle(&mut self) {
        loop {
            for id in self.locks.grant_waiters() {
                if let Some(l) = self.locks.get(id) {
                    let tx = l.tx;
                    self.trxs[tx].wait = None;
                    let want = (l.pos, l.mode, l.kind);
                    if let Some(r) = self.sessions[self.trxs[tx].session].running.as_mut() {
                        r.granted = Some(want);
                    }
                    self.runnable.push(tx);
                }
            }
            if self.runnable.is_empty() {
                // A waiter whose blocker changed may now close a cycle (MariaDB re-checks then).
                let changed: Vec<Tx> = (0..self.trxs.len())
                    .filter(|&t| {
                        self.trxs[t].state == TrxState::Active
                            && self.trxs[t]
                                .wait
                                .is_some_and(|l| self.locks.blocker(l) != self.trxs[t].wait_for)
                    })
                    .collect();
                if changed.is_empty() {
                    return;
                }
                for t in changed {
                    if let Some(l) = self.trxs[t].wait {
                        self.trxs[t].wait_for = self.locks.blocker(l);
                    }
                    if self.trxs[t].wait.is_some()
                        && let Some(reply) = self.check_deadlock(t)
                    {
                        let s = self.trxs[t].session;
                        self.finish_statement(s, &reply);
                        self.completions.push((s, reply));
                    }
                }
                continue;
            }
            let runnable = std::mem::take(&mut self.runnable);
            for tx in runnable {
                if self.trxs[tx].state != TrxState::Active || self.trxs[tx].wait.is_some() {
                    continue;
                }
                let s = self.trxs[tx].session;
                if self.sessions[s].tx != Some(tx) || self.sessions[s].running.is_none() {
                    continue;
                }
                if let Some(reply) = self.run(s) {
                    self.finish_statement(s, &reply);
                    self.completions.push((s, reply));
                }
            }
        }
    }

    /// Removes history no read view can need: old versions behind one every open view sees, and
    /// delete-marked records whose delete every view sees. Returns the undo records freed.
    pub fn purge(&mut self) -> usize {
        let views: Vec<ReadView> = self
            .trxs
            .iter()
            .filter(|t| t.state == TrxState::Active)
            .filter_map(|t| t.view.clone())
            .collect();
        let settled = |e: &Engine, id: TrxId| -> bool {
            !e.is_active(id) && views.iter().all(|v| v.sees(id))
        };
        let mut freed = 0;
        let keys: Vec<Key> = self.data.index.keys().copied().collect();
        for k in keys {
            // Find the newest version every view agrees on; everything older is garbage.
            let mut at: Option<usize> = None; // None: the index entry; Some(slot): undo[slot].previous
            let mut cur = self.data.index.get(&k).cloned();
            while let Some(v) = cur {
                if settled(self, v.trx_id) {
                    if at.is_none() && v.delete_marked {
                        freed += self.free_chain(v.roll_ptr);
                        self.remove_record(k);
                    } else if let RollPtr::Undo(slot) = v.roll_ptr {
                        freed += self.free_chain(RollPtr::Undo(slot));
                        match at {
                            None => {
                                if let Some(e) = self.data.index.get_mut(&k) {
                                    e.roll_ptr = RollPtr::Purged;
                                }
                            }
                            Some(s) => {
                                if let Some(p) =
                                    self.data.undo[s].as_mut().and_then(|u| u.previous.as_mut())
                                {
                                    p.roll_ptr = RollPtr::Purged;
                                }
                            }
                        }
                    }
                    break;
                }
                match v.roll_ptr {
                    RollPtr::Undo(slot) => {
                        at = Some(slot);
                        cur = self.data.undo[slot]
                            .as_ref()
                            .and_then(|u| u.previous.clone());
                    }
                    _ => break,
                }
            }
        }
        freed
    }

    fn free_chain(&mut self, mut ptr: RollPtr) -> usize {
        let mut freed = 0;
        while let RollPtr::Undo(slot) = ptr {
            let Some(rec) = self.data.undo[slot].take() else {
                break;
            };
            freed += 1;
            ptr = rec.previous.map_or(RollPtr::Purged, |p| p.roll_ptr);
        }
        freed
    }
}

/// The lock request that could not be granted yet.
#[derive(Debug)]
struct Wait;

/// A place a locking scan visits.
#[derive(Debug, Clone, Copy)]
struct Target {
    pos: Pos,
    /// The lock shape to take there; `None`: no lock (READ COMMITTED on the supremum or a miss).
    kind: Option<RecKind>,
    /// Whether a row there can be returned or changed.
    row: bool,
}

/// How the server reaches the rows of a condition on `test (id PRIMARY KEY, value)`.
fn plan_for(filter: Option<&Cond>) -> Plan {
    match filter {
        Some(Cond::IdEq(k)) => Plan::Points(vec![*k]),
        Some(Cond::IdIn(ks)) => {
            let mut ks = ks.clone();
            ks.sort_unstable();
            ks.dedup();
            Plan::Points(ks)
        }
        Some(Cond::IdGt(k)) => Plan::Range {
            from: *k,
            inclusive: false,
        },
        Some(Cond::IdGe(k)) => Plan::Range {
            from: *k,
            inclusive: true,
        },
        _ => Plan::Full,
    }
}
