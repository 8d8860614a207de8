//! The model as a hermitage target: one [`Engine`] per cell, one session per transaction.

use crate::engine::{Engine, Level, Options, Reply, Response, SessionId};
use crate::hermitage::{RunError, SETUP_ROWS, Target};
use crate::sql::Statement;

/// Runs schedules on the model.
#[derive(Debug)]
pub struct ModelTarget {
    opts: Options,
    engine: Engine,
    sessions: Vec<SessionId>,
}

impl ModelTarget {
    pub fn new(opts: Options) -> ModelTarget {
        ModelTarget {
            opts,
            engine: Engine::with_rows(opts, &SETUP_ROWS),
            sessions: Vec::new(),
        }
    }

    /// The engine of the cell being run (or last run).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    fn map(&self, got: Vec<(SessionId, Reply)>) -> Vec<(usize, Reply)> {
        got.into_iter()
            .filter_map(|(s, r)| self.sessions.iter().position(|&x| x == s).map(|t| (t, r)))
            .collect()
    }
}

impl Target for ModelTarget {
    fn name(&self) -> &'static str {
        "model"
    }

    async fn open(&mut self, level: Level, txns: usize) -> Result<(), RunError> {
        self.engine = Engine::with_rows(self.opts, &SETUP_ROWS);
        self.sessions = (0..txns).map(|_| self.engine.open_session(level)).collect();
        Ok(())
    }

    async fn send(&mut self, txn: usize, stmt: &Statement) -> Result<Option<Reply>, RunError> {
        let s = self.sessions[txn];
        Ok(match self.engine.submit(s, stmt.clone()) {
            Response::Done(r) => Some(r),
            Response::Blocked { .. } => None,
        })
    }

    async fn collect(&mut self) -> Result<Vec<(usize, Reply)>, RunError> {
        let got = self.engine.take_completions();
        Ok(self.map(got))
    }

    async fn wait_any(&mut self) -> Result<Vec<(usize, Reply)>, RunError> {
        self.engine.expire_oldest_wait();
        let got = self.engine.take_completions();
        Ok(self.map(got))
    }

    async fn close(&mut self) -> Result<(), RunError> {
        Ok(())
    }
}
