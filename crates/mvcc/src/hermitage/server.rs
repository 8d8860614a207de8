//! A real MySQL/MariaDB as a hermitage target: one connection per transaction, each on a task
//! of its own, so a statement can wait for a lock while the runner goes on with the next step.
//!
//! ```text
//!   runner ──send(t2, UPDATE ...)──► task t2 ──► conn t2 ──► server
//!      │  no reply within the blocked wait (300 ms)?
//!      └─► control conn: SHOW ENGINE INNODB STATUS ── "LOCK WAIT ... thread id 57" ──► blocked
//! ```
//!
//! A step counts as **blocked** when its reply has not come within the blocked wait *and* the
//! server lists its transaction as waiting for a lock; a slow reply on a busy machine is waited
//! for, not mistaken for a lock wait. After each step, statements that were blocked and are no
//! longer listed as waiting are waited for, so the step they finished after is recorded exactly.
//! `innodb_lock_wait_timeout` is set per session to a few seconds: a safety net that ends a
//! forgotten wait with 1205 instead of a hang.
//!
//! Nothing outlives a cell: at the end every session rolls back and disconnects, a session still
//! waiting is killed from the control connection, and the table (in database `lab`) is dropped by
//! the [`MysqlLab`] it came from. If the server goes away mid-run, the calls fail with
//! [`servers::ServerError`] and the sessions are dropped, which closes their sockets.

use std::collections::{HashSet, VecDeque};
use std::time::{Duration, Instant};

use servers::mysql_async::prelude::*;
use servers::mysql_async::{self, Conn};
use servers::{Flavor, IO_TIMEOUT, MysqlInfo, MysqlLab, ServerError, System, timed};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::engine::{Level, Reply};
use crate::hermitage::{RunError, SETUP_ROWS, Target};
use crate::sql::Statement;

/// How the runner treats the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerConfig {
    /// How long a step may take before the runner asks the server whether it waits for a lock.
    pub blocked_wait: Duration,
    /// `innodb_lock_wait_timeout` for the sessions, in seconds (a safety net).
    pub lock_wait_timeout: u64,
    /// MariaDB's `innodb_snapshot_isolation` for the sessions.
    pub snapshot_isolation: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            blocked_wait: Duration::from_millis(300),
            lock_wait_timeout: 5,
            snapshot_isolation: false,
        }
    }
}

struct Job {
    sql: String,
    select: bool,
}

struct Session {
    id: u32,
    jobs: mpsc::UnboundedSender<Job>,
    pending: bool,
    task: JoinHandle<()>,
}

/// Runs schedules on a borrowed server.
pub struct ServerTarget<'a> {
    lab: &'a MysqlLab,
    table: String,
    info: MysqlInfo,
    cfg: ServerConfig,
    control: Option<Conn>,
    sessions: Vec<Session>,
    replies: Option<mpsc::UnboundedReceiver<(usize, Result<Reply, ServerError>)>>,
    /// Replies that arrived while the runner waited for another session's.
    arrived: VecDeque<(usize, Result<Reply, ServerError>)>,
    /// Every connection id this target opened, so a test can check none is left.
    used: Vec<u32>,
}

impl std::fmt::Debug for ServerTarget<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerTarget")
            .field("table", &self.table)
            .field("server", &self.info.version)
            .field("sessions", &self.sessions.len())
            .finish()
    }
}

impl<'a> ServerTarget<'a> {
    /// A target on `lab`'s server, using the table `table` (created and dropped per cell; the
    /// [`MysqlLab`] drops it for good at the end). Refuses `snapshot_isolation` on a server
    /// without MariaDB's variable.
    pub fn new(
        lab: &'a MysqlLab,
        table: String,
        info: MysqlInfo,
        cfg: ServerConfig,
    ) -> Result<ServerTarget<'a>, RunError> {
        if cfg.snapshot_isolation && info.snapshot_isolation.is_none() {
            return Err(RunError::Stuck(format!(
                "{} {} has no innodb_snapshot_isolation (MariaDB 10.6.18/10.11.8/11.4.2 and later have it)",
                info.flavor, info.version
            )));
        }
        Ok(ServerTarget {
            lab,
            table,
            info,
            cfg,
            control: None,
            sessions: Vec::new(),
            replies: None,
            arrived: VecDeque::new(),
            used: Vec::new(),
        })
    }

    /// The server this target talks to.
    pub fn info(&self) -> &MysqlInfo {
        &self.info
    }

    /// The ids of every connection this target has opened (sessions and control).
    pub fn connections_used(&self) -> &[u32] {
        &self.used
    }

    async fn control(&mut self) -> Result<&mut Conn, ServerError> {
        if self.control.is_none() {
            let conn = self.lab.conn().await?;
            self.used.push(conn.id());
            self.control = Some(conn);
        }
        Ok(self.control.as_mut().expect("just connected"))
    }

    /// Connection ids whose transaction waits for a lock right now.
    async fn lock_waiting(&mut self) -> Result<HashSet<u32>, ServerError> {
        let conn = self.control().await?;
        let row: Option<(String, String, String)> = timed(
            "SHOW ENGINE INNODB STATUS",
            conn.query_first("SHOW ENGINE INNODB STATUS"),
        )
        .await?;
        Ok(row.map_or_else(HashSet::new, |(_, _, status)| lock_waiting_threads(&status)))
    }

    fn take_arrived(&mut self, txn: usize) -> Option<Result<Reply, ServerError>> {
        let i = self.arrived.iter().position(|(t, _)| *t == txn)?;
        self.arrived.remove(i).map(|(_, r)| r)
    }

    fn drain_channel(&mut self) {
        if let Some(rx) = self.replies.as_mut() {
            while let Ok(got) = rx.try_recv() {
                self.arrived.push_back(got);
            }
        }
    }

    /// Waits for `txn`'s reply; `None` if the server says it waits for a lock.
    async fn await_reply(&mut self, txn: usize) -> Result<Option<Reply>, RunError> {
        let give_up = Instant::now() + IO_TIMEOUT + Duration::from_secs(self.cfg.lock_wait_timeout);
        loop {
            self.drain_channel();
            if let Some(r) = self.take_arrived(txn) {
                self.sessions[txn].pending = false;
                return Ok(Some(r?));
            }
            let rx = self
                .replies
                .as_mut()
                .ok_or_else(|| RunError::Stuck("no sessions are open".into()))?;
            match tokio::time::timeout(self.cfg.blocked_wait, rx.recv()).await {
                Ok(Some(got)) => self.arrived.push_back(got),
                Ok(None) => return Err(RunError::Stuck("the sessions ended early".into())),
                Err(_) => {
                    let id = self.sessions[txn].id;
                    if self.lock_waiting().await?.contains(&id) {
                        return Ok(None);
                    }
                    if Instant::now() > give_up {
                        return Err(RunError::Server(ServerError::Timeout {
                            system: System::Mysql,
                            what: format!("a statement on connection {id}"),
                            after: IO_TIMEOUT,
                        }));
                    }
                }
            }
        }
    }

    async fn exec_control(&mut self, sql: &str) -> Result<(), ServerError> {
        let conn = self.control().await?;
        timed(sql, conn.query_drop(sql)).await
    }
}

impl Target for ServerTarget<'_> {
    fn name(&self) -> &'static str {
        "server"
    }

    async fn open(&mut self, level: Level, txns: usize) -> Result<(), RunError> {
        let t = self.table.clone();
        self.exec_control(&format!("DROP TABLE IF EXISTS {t}"))
            .await?;
        self.exec_control(&format!(
            "CREATE TABLE {t} (id INT PRIMARY KEY, value INT) ENGINE=InnoDB"
        ))
        .await?;
        let rows: Vec<String> = SETUP_ROWS
            .iter()
            .map(|(i, v)| format!("({i}, {v})"))
            .collect();
        self.exec_control(&format!(
            "INSERT INTO {t} (id, value) VALUES {}",
            rows.join(", ")
        ))
        .await?;
        let (reply_tx, reply_rx) = mpsc::unbounded_channel();
        self.replies = Some(reply_rx);
        self.arrived.clear();
        self.sessions.clear();
        let max_statement = Duration::from_secs(self.cfg.lock_wait_timeout) + IO_TIMEOUT;
        for txn in 0..txns {
            let mut conn = self.lab.conn().await?;
            let mut setup = vec![
                format!("SET SESSION TRANSACTION ISOLATION LEVEL {}", level.sql()),
                format!(
                    "SET SESSION innodb_lock_wait_timeout = {}",
                    self.cfg.lock_wait_timeout
                ),
            ];
            if self.info.snapshot_isolation.is_some() {
                setup.push(format!(
                    "SET SESSION innodb_snapshot_isolation = {}",
                    if self.cfg.snapshot_isolation {
                        "ON"
                    } else {
                        "OFF"
                    }
                ));
            }
            for sql in setup {
                timed(&sql, conn.query_drop(sql.as_str())).await?;
            }
            let id = conn.id();
            self.used.push(id);
            let (jobs, job_rx) = mpsc::unbounded_channel();
            let task = tokio::spawn(session_task(
                conn,
                txn,
                job_rx,
                reply_tx.clone(),
                max_statement,
            ));
            self.sessions.push(Session {
                id,
                jobs,
                pending: false,
                task,
            });
        }
        Ok(())
    }

    async fn send(&mut self, txn: usize, stmt: &Statement) -> Result<Option<Reply>, RunError> {
        let job = Job {
            sql: stmt.to_sql(&self.table),
            select: stmt.is_select(),
        };
        self.sessions[txn]
            .jobs
            .send(job)
            .map_err(|_| RunError::Stuck(format!("session {txn} has ended")))?;
        self.sessions[txn].pending = true;
        self.await_reply(txn).await
    }

    async fn collect(&mut self) -> Result<Vec<(usize, Reply)>, RunError> {
        self.drain_channel();
        let mut got = Vec::new();
        let pending: Vec<usize> = (0..self.sessions.len())
            .filter(|&t| self.sessions[t].pending)
            .collect();
        let mut still = Vec::new();
        for t in pending {
            match self.take_arrived(t) {
                Some(r) => {
                    self.sessions[t].pending = false;
                    got.push((t, r?));
                }
                None => still.push(t),
            }
        }
        if still.is_empty() {
            return Ok(got);
        }
        let waiting = self.lock_waiting().await?;
        for t in still {
            if waiting.contains(&self.sessions[t].id) {
                continue;
            }
            // Not waiting for a lock any more: its reply is on the way (or it blocks again).
            if let Some(r) = self.await_reply(t).await? {
                got.push((t, r));
            }
        }
        Ok(got)
    }

    async fn wait_any(&mut self) -> Result<Vec<(usize, Reply)>, RunError> {
        let limit = Duration::from_secs(self.cfg.lock_wait_timeout) + IO_TIMEOUT;
        self.drain_channel();
        if self.arrived.is_empty() {
            let rx = self
                .replies
                .as_mut()
                .ok_or_else(|| RunError::Stuck("no sessions are open".into()))?;
            match tokio::time::timeout(limit, rx.recv()).await {
                Ok(Some(got)) => self.arrived.push_back(got),
                Ok(None) => return Err(RunError::Stuck("the sessions ended early".into())),
                Err(_) => {
                    return Err(RunError::Stuck(format!(
                        "blocked statements did not end within {limit:?} (innodb_lock_wait_timeout = {} s)",
                        self.cfg.lock_wait_timeout
                    )));
                }
            }
        }
        let mut got = Vec::new();
        while let Some((t, r)) = self.arrived.pop_front() {
            if let Some(s) = self.sessions.get_mut(t) {
                s.pending = false;
            }
            got.push((t, r?));
        }
        Ok(got)
    }

    async fn close(&mut self) -> Result<(), RunError> {
        // A session still waiting cannot take its ROLLBACK: end it from the control connection.
        let stuck: Vec<u32> = self
            .sessions
            .iter()
            .filter(|s| s.pending)
            .map(|s| s.id)
            .collect();
        let mut first_err = None;
        for id in stuck {
            if let Err(e) = self.exec_control(&format!("KILL {id}")).await {
                first_err.get_or_insert(e);
            }
        }
        for s in self.sessions.drain(..) {
            drop(s.jobs);
            let _ = tokio::time::timeout(IO_TIMEOUT, s.task).await;
        }
        self.replies = None;
        self.arrived.clear();
        if let Some(conn) = self.control.take() {
            let _ = timed("disconnect", conn.disconnect()).await;
        }
        first_err.map_or(Ok(()), |e| Err(e.into()))
    }
}

async fn session_task(
    mut conn: Conn,
    txn: usize,
    mut jobs: mpsc::UnboundedReceiver<Job>,
    replies: mpsc::UnboundedSender<(usize, Result<Reply, ServerError>)>,
    max: Duration,
) {
    while let Some(job) = jobs.recv().await {
        let reply = exec(&mut conn, &job, max).await;
        let failed = reply.is_err();
        if replies.send((txn, reply)).is_err() || failed {
            break;
        }
    }
    // Done (or abandoned): roll back whatever is open and hang up.
    let _ = tokio::time::timeout(IO_TIMEOUT, conn.query_drop("ROLLBACK")).await;
    let _ = tokio::time::timeout(IO_TIMEOUT, conn.disconnect()).await;
}

async fn exec(conn: &mut Conn, job: &Job, max: Duration) -> Result<Reply, ServerError> {
    let timeout = |what: &str| ServerError::Timeout {
        system: System::Mysql,
        what: what.to_string(),
        after: max,
    };
    if job.select {
        let r: Result<Vec<(i64, Option<i64>)>, mysql_async::Error> =
            match tokio::time::timeout(max, conn.query(job.sql.as_str())).await {
                Ok(r) => r,
                Err(_) => return Err(timeout(&job.sql)),
            };
        match r {
            Ok(rows) => Ok(Reply::Rows {
                rows: rows
                    .into_iter()
                    .map(|(id, v)| (id, v.unwrap_or(i64::MIN)))
                    .collect(),
            }),
            Err(mysql_async::Error::Server(e)) => Ok(Reply::Error { code: e.code }),
            Err(e) => Err(e.into()),
        }
    } else {
        let r = match tokio::time::timeout(max, conn.query_drop(job.sql.as_str())).await {
            Ok(r) => r,
            Err(_) => return Err(timeout(&job.sql)),
        };
        match r {
            Ok(()) if matches!(job.sql.as_str(), "BEGIN" | "COMMIT" | "ROLLBACK") => Ok(Reply::Ok),
            Ok(()) => Ok(Reply::Affected {
                rows: conn.affected_rows(),
            }),
            Err(mysql_async::Error::Server(e)) => Ok(Reply::Error { code: e.code }),
            Err(e) => Err(e.into()),
        }
    }
}

/// The connection ids `SHOW ENGINE INNODB STATUS` lists as waiting for a lock: a transaction
/// block ("---TRANSACTION ...") with a `LOCK WAIT` line and a "thread id N" line.
pub fn lock_waiting_threads(status: &str) -> HashSet<u32> {
    let mut out = HashSet::new();
    for block in status.split("---TRANSACTION").skip(1) {
        let waits = block
            .lines()
            .any(|l| l.trim_start().starts_with("LOCK WAIT"));
        if !waits {
            continue;
        }
        let id = block.lines().find_map(|l| {
            let (_, rest) = l.split_once("thread id ")?;
            rest.split(|c: char| !c.is_ascii_digit())
                .next()?
                .parse::<u32>()
                .ok()
        });
        if let Some(id) = id {
            out.insert(id);
        }
    }
    out
}

/// `MariaDB 10.11.19-MariaDB-0+deb12u1 (innodb_snapshot_isolation=OFF)`, for reports.
pub fn describe(info: &MysqlInfo) -> String {
    let si = match (info.flavor, info.snapshot_isolation) {
        (Flavor::MariaDb, Some(on)) => format!(
            " (global innodb_snapshot_isolation={})",
            if on { "ON" } else { "OFF" }
        ),
        _ => String::new(),
    };
    format!("{} {}{si}", info.flavor, info.version)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS: &str = "\
TRANSACTIONS
------------
Trx id counter 9669
LIST OF TRANSACTIONS FOR EACH SESSION:
---TRANSACTION 9668, ACTIVE 1 sec starting index read
mysql tables in use 1, locked 1
LOCK WAIT 2 lock struct(s), heap size 1128, 1 row lock(s)
MariaDB thread id 216, OS thread handle 140246097184448, query id 896 localhost 127.0.0.1 lab Updating
update mvcc_exp set value=12 where id=1
------- TRX HAS BEEN WAITING 503670 us FOR THIS LOCK TO BE GRANTED:
---TRANSACTION 9667, ACTIVE 1 sec
2 lock struct(s), heap size 1128, 1 row lock(s), undo log entries 1
MariaDB thread id 215, OS thread handle 140246098106048, query id 893 localhost 127.0.0.1 lab User sleep
select sleep(3)
--------
FILE I/O
";

    #[test]
    fn finds_the_waiting_connection_and_only_it() {
        let w = lock_waiting_threads(STATUS);
        assert!(w.contains(&216));
        // Counterexample: the lock holder is active but not waiting.
        assert!(!w.contains(&215));
        assert_eq!(w.len(), 1);
        assert!(lock_waiting_threads("").is_empty());
        let mysql = STATUS.replace("MariaDB thread id", "MySQL thread id");
        assert!(lock_waiting_threads(&mysql).contains(&216));
    }
}
