//! Hermitage (Kleppmann's isolation test suite), run step by step against the model and against a
//! real MySQL/MariaDB, with the same runner (mysql-04).
//!
//! ```text
//!   hermitage/g1a.txt ──parse──► Schedule ──┬─► run_cell(ModelTarget)  ─► Cell { steps, anomaly }
//!                                           └─► run_cell(ServerTarget) ─► Cell { steps, anomaly }
//!                                                                       └─ differences(model, server)
//! ```
//!
//! The runner sends one step at a time. A step whose transaction is still waiting for an earlier
//! reply is **deferred**: it is sent as soon as that reply arrives, before the next scripted step,
//! which is what a person typing into several `mysql` prompts does (and how hermitage's
//! `mysql.md` records the SERIALIZABLE runs). After every step the runner collects the replies of
//! blocked statements that this step released; those record *after which step* they finished.
//! When the script is over and statements still wait, the oldest wait times out (1205).
//!
//! Each cell's verdict comes from [`verdict::anomaly`], a rule per test that reads only what the
//! steps returned. Nothing here knows what a server "should" answer: the model and the server are
//! each run, and [`differences`] lists where they disagree.
//!
//! # How the real system differs
//! Hermitage itself is a set of Markdown files typed by hand into `mysql` prompts; its verdicts
//! are a person's reading. Here the interleavings are data, "blocked" is decided by a timeout
//! confirmed by the server's own lock-wait list, and the verdicts are the lab's rules. The
//! agreement between model and server covers these interleavings on the server that was run
//! (MariaDB 10.11 in the lab), not InnoDB in general.

pub mod model;
pub mod report;
pub mod schedule;
pub mod server;
pub mod verdict;

use std::collections::VecDeque;
use std::future::Future;
use std::time::Instant;

use serde::Serialize;

use crate::engine::{Level, Reply, code};
use crate::sql::Statement;
pub use schedule::{Schedule, ScheduleError, Step};

/// The rows every test starts from: `CREATE TABLE test (id INT PRIMARY KEY, value INT)` with these.
pub const SETUP_ROWS: [(i64, i64); 2] = [(1, 10), (2, 20)];

/// What a run can fail with (as opposed to what it observes).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The real server failed or went away.
    #[error(transparent)]
    Server(#[from] servers::ServerError),
    /// A schedule could not be used.
    #[error(transparent)]
    Schedule(#[from] ScheduleError),
    /// The run cannot go on (e.g. statements wait and nothing can release them).
    #[error("{0}")]
    Stuck(String),
}

/// Something a schedule can run against: the model, or a real server.
#[allow(async_fn_in_trait)]
pub trait Target {
    /// `model` or `server`.
    fn name(&self) -> &'static str;
    /// A fresh table with [`SETUP_ROWS`] and one session per transaction at `level`.
    async fn open(&mut self, level: Level, txns: usize) -> Result<(), RunError>;
    /// Sends one statement on a session: its reply, or `None` when it is blocked on a lock.
    async fn send(&mut self, txn: usize, stmt: &Statement) -> Result<Option<Reply>, RunError>;
    /// Replies of earlier blocked statements that have finished since.
    async fn collect(&mut self) -> Result<Vec<(usize, Reply)>, RunError>;
    /// Nothing more to send: wait until some blocked statement ends (a lock wait timeout).
    async fn wait_any(&mut self) -> Result<Vec<(usize, Reply)>, RunError>;
    /// Ends the sessions (rolling back what is open) and leaves nothing behind.
    async fn close(&mut self) -> Result<(), RunError>;
}

/// What one step did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepRecord {
    /// 1-based position in the schedule.
    pub n: usize,
    /// Line in the schedule file.
    pub line: usize,
    pub txn: String,
    pub sql: String,
    /// 1-based position in the order the steps were actually sent (0: never sent).
    pub sent_as: usize,
    /// Its transaction was still waiting for an earlier step when its turn came: sent later.
    pub deferred: bool,
    /// Ran inside the transaction's BEGIN (false: an autocommit statement, e.g. after COMMIT or
    /// after an error that rolled the transaction back).
    pub in_txn: bool,
    /// No reply within the blocked wait: it waited for a lock.
    pub blocked: bool,
    /// What it returned in the end.
    pub reply: Option<Reply>,
    /// For a blocked step: the step (`n`) after which its reply arrived; `None` when it ended
    /// after the script (lock wait timeout) or did not block.
    pub finished_after: Option<usize>,
}

/// One test at one level on one target.
#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    pub test: String,
    pub level: Level,
    pub target: String,
    pub anomaly: bool,
    /// Why the rule decided so, in words.
    pub why: String,
    pub steps: Vec<StepRecord>,
    pub millis: u128,
    /// The server's flavor and version, for cells run on a server.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
}

impl StepRecord {
    /// `blocked, then 1 row after step 6`, for tables.
    pub fn outcome(&self) -> String {
        let reply = self
            .reply
            .as_ref()
            .map_or_else(|| "no reply".to_string(), Reply::to_string);
        match (self.blocked, self.finished_after) {
            (true, Some(n)) => format!("blocked, then {reply} after step {n}"),
            (true, None) => format!("blocked, then {reply} at the end"),
            (false, _) => reply,
        }
    }
}

/// Runs a future that is ready at once (the model's). Panics if it is not.
pub fn now<F: Future>(fut: F) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match fut.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(v) => v,
        std::task::Poll::Pending => panic!("the model's target never waits"),
    }
}

#[derive(Debug)]
struct TxnState {
    /// The step it waits on.
    busy: Option<usize>,
    deferred: VecDeque<usize>,
    in_txn: bool,
}

/// Runs one schedule at one level against `target`.
pub async fn run_cell<T: Target>(
    target: &mut T,
    schedule: &Schedule,
    level: Level,
) -> Result<Cell, RunError> {
    let started = Instant::now();
    let steps = schedule.steps(level);
    let txns = schedule.txns(level);
    let index = |name: &str| txns.iter().position(|t| t == name).unwrap_or(0);
    target.open(level, txns.len()).await?;
    let mut run = Run {
        steps,
        records: steps
            .iter()
            .enumerate()
            .map(|(i, s)| StepRecord {
                n: i + 1,
                line: s.line,
                txn: s.txn.clone(),
                sql: s.text.clone(),
                sent_as: 0,
                deferred: false,
                in_txn: false,
                blocked: false,
                reply: None,
                finished_after: None,
            })
            .collect(),
        txn_of: steps.iter().map(|s| index(&s.txn)).collect(),
        state: (0..txns.len())
            .map(|_| TxnState {
                busy: None,
                deferred: VecDeque::new(),
                in_txn: false,
            })
            .collect(),
        sent: 0,
        last_sent: 0,
    };
    let result = run.drive(target).await;
    let closed = target.close().await;
    result?;
    closed?;
    let (anomaly, why) = verdict::anomaly(&schedule.name, &run.records);
    Ok(Cell {
        test: schedule.name.clone(),
        level,
        target: target.name().to_string(),
        anomaly,
        why,
        steps: run.records,
        millis: started.elapsed().as_millis(),
        server: None,
    })
}

struct Run<'a> {
    steps: &'a [Step],
    records: Vec<StepRecord>,
    txn_of: Vec<usize>,
    state: Vec<TxnState>,
    sent: usize,
    /// `n` of the last step sent.
    last_sent: usize,
}

impl Run<'_> {
    async fn drive<T: Target>(&mut self, target: &mut T) -> Result<(), RunError> {
        for i in 0..self.steps.len() {
            let t = self.txn_of[i];
            if self.state[t].busy.is_some() {
                self.records[i].deferred = true;
                self.state[t].deferred.push_back(i);
                continue;
            }
            self.send(target, i).await?;
            self.settle(target).await?;
        }
        while self.state.iter().any(|s| s.busy.is_some()) {
            let got = target.wait_any().await?;
            if got.is_empty() {
                return Err(RunError::Stuck(format!(
                    "{} statements still wait and nothing can release them",
                    self.state.iter().filter(|s| s.busy.is_some()).count()
                )));
            }
            self.apply(got, None);
            self.send_deferred(target).await?;
            self.settle(target).await?;
        }
        Ok(())
    }

    async fn send<T: Target>(&mut self, target: &mut T, i: usize) -> Result<(), RunError> {
        let t = self.txn_of[i];
        self.sent += 1;
        self.last_sent = i + 1;
        self.records[i].sent_as = self.sent;
        self.records[i].in_txn = self.state[t].in_txn;
        match target.send(t, &self.steps[i].stmt).await? {
            Some(reply) => self.complete(i, reply, None),
            None => {
                self.records[i].blocked = true;
                self.state[t].busy = Some(i);
            }
        }
        Ok(())
    }

    fn complete(&mut self, i: usize, reply: Reply, after: Option<usize>) {
        let t = self.txn_of[i];
        match (&self.steps[i].stmt, &reply) {
            (Statement::Begin, Reply::Ok) => self.state[t].in_txn = true,
            (Statement::Commit | Statement::Rollback, _) => self.state[t].in_txn = false,
            (_, Reply::Error { code: c }) if code::rolls_back_transaction(*c) => {
                self.state[t].in_txn = false;
            }
            _ => {}
        }
        self.records[i].reply = Some(reply);
        self.records[i].finished_after = after;
    }

    fn apply(&mut self, got: Vec<(usize, Reply)>, after: Option<usize>) -> Vec<usize> {
        let mut freed = Vec::new();
        for (t, reply) in got {
            if let Some(i) = self.state.get_mut(t).and_then(|s| s.busy.take()) {
                self.complete(i, reply, after);
                freed.push(t);
            }
        }
        freed
    }

    /// Sends the deferred steps of transactions that are free again, in schedule order.
    async fn send_deferred<T: Target>(&mut self, target: &mut T) -> Result<bool, RunError> {
        let mut any = false;
        loop {
            let next = (0..self.state.len())
                .filter(|&t| self.state[t].busy.is_none())
                .filter_map(|t| self.state[t].deferred.front().copied())
                .min();
            let Some(i) = next else { return Ok(any) };
            let t = self.txn_of[i];
            self.state[t].deferred.pop_front();
            self.send(target, i).await?;
            any = true;
            self.settle(target).await?;
        }
    }

    /// Collects replies released by the last step, and sends what they free, until quiet.
    async fn settle<T: Target>(&mut self, target: &mut T) -> Result<(), RunError> {
        loop {
            if self.state.iter().all(|s| s.busy.is_none()) {
                Box::pin(self.send_deferred(target)).await?;
                return Ok(());
            }
            let got = target.collect().await?;
            if got.is_empty() {
                return Ok(());
            }
            let after = Some(self.last_sent);
            self.apply(got, after);
            Box::pin(self.send_deferred(target)).await?;
        }
    }
}

/// Runs every schedule at every level given, in that order.
pub async fn run_all<T: Target>(
    target: &mut T,
    schedules: &[Schedule],
    levels: &[Level],
) -> Result<Vec<Cell>, RunError> {
    let mut cells = Vec::new();
    for s in schedules {
        for &l in levels {
            cells.push(run_cell(target, s, l).await?);
        }
    }
    Ok(cells)
}

/// Where two runs of the same cell disagree, step by step.
pub fn differences(a: &Cell, b: &Cell) -> Vec<String> {
    let mut out = Vec::new();
    if a.steps.len() != b.steps.len() {
        out.push(format!(
            "{} has {} steps, {} has {}",
            a.target,
            a.steps.len(),
            b.target,
            b.steps.len()
        ));
    }
    for (x, y) in a.steps.iter().zip(&b.steps) {
        let what = |s: &StepRecord| {
            format!(
                "sent #{}{}{}: {}",
                s.sent_as,
                if s.deferred { " (deferred)" } else { "" },
                if s.in_txn { "" } else { " (autocommit)" },
                s.outcome()
            )
        };
        if what(x) != what(y) {
            out.push(format!(
                "step {} `{}: {}`: {} {} / {} {}",
                x.n,
                x.txn,
                x.sql,
                a.target,
                what(x),
                b.target,
                what(y)
            ));
        }
    }
    if a.anomaly != b.anomaly {
        out.push(format!(
            "verdict: {} says anomaly={} ({}), {} says anomaly={} ({})",
            a.target, a.anomaly, a.why, b.target, b.anomaly, b.why
        ));
    }
    out
}
