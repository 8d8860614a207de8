use std::sync::OnceLock;

use servers::{MysqlInfo, RedisInfo, Target};

use crate::demo::{DemoError, Need};

/// What a probe of a real system found, kept for the rest of the run.
#[derive(Debug, Clone)]
pub enum Probe<T> {
    Up(T),
    /// The system is missing; the message says where the lab looked and how to get it.
    Down(String),
}

/// The lab's surroundings for one run: which real systems exist, asked once each and remembered.
#[derive(Debug)]
pub struct Env {
    /// `CI=true`: a missing real system is a failure, not a skip.
    pub ci: bool,
    redis: Result<Target, String>,
    mysql: Result<Target, String>,
    go: OnceLock<Result<gotool::Go, String>>,
    redis_probe: OnceLock<Probe<RedisInfo>>,
    mysql_probe: OnceLock<Probe<MysqlInfo>>,
    rt: tokio::runtime::Runtime,
}

impl Env {
    /// Reads `LAB_REDIS_URL`, `LAB_MYSQL_URL` and `CI` and builds the runtime. Probes nothing yet.
    pub fn from_env() -> std::io::Result<Env> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        Ok(Env {
            ci: crate::testing::ci(),
            redis: servers::redis_target().map_err(|e| e.to_string()),
            mysql: servers::mysql_target().map_err(|e| e.to_string()),
            go: OnceLock::new(),
            redis_probe: OnceLock::new(),
            mysql_probe: OnceLock::new(),
            rt,
        })
    }

    pub fn redis_target(&self) -> Result<Target, DemoError> {
        self.redis.clone().map_err(DemoError::Broken)
    }

    pub fn mysql_target(&self) -> Result<Target, DemoError> {
        self.mysql.clone().map_err(DemoError::Broken)
    }

    /// The URL the lab would use for Redis, for reports.
    pub fn redis_url(&self) -> String {
        match &self.redis {
            Ok(t) => t.display_url(),
            Err(e) => e.clone(),
        }
    }

    /// The URL the lab would use for MySQL, for reports (password masked).
    pub fn mysql_url(&self) -> String {
        match &self.mysql {
            Ok(t) => t.display_url(),
            Err(e) => e.clone(),
        }
    }

    pub fn go(&self) -> Result<&gotool::Go, &str> {
        self.go
            .get_or_init(|| gotool::find().map_err(|e| e.to_string()))
            .as_ref()
            .map_err(String::as_str)
    }

    pub fn redis_probe(&self) -> &Probe<RedisInfo> {
        self.redis_probe.get_or_init(|| match &self.redis {
            Err(e) => Probe::Down(e.clone()),
            Ok(t) => match servers::probe_redis(t) {
                Ok(info) => Probe::Up(info),
                Err(e) => Probe::Down(e.to_string()),
            },
        })
    }

    pub fn mysql_probe(&self) -> &Probe<MysqlInfo> {
        self.mysql_probe.get_or_init(|| match &self.mysql {
            Err(e) => Probe::Down(e.clone()),
            Ok(t) => match self.block_on_anywhere(servers::probe_mysql(t)) {
                Some(Ok(info)) => Probe::Up(info),
                Some(Err(e)) => Probe::Down(e.to_string()),
                None => Probe::Down("could not start a runtime to probe MySQL".into()),
            },
        })
    }

    /// `Ok` when what a demo needs is there; otherwise the reason, ready to print.
    pub fn available(&self, need: Need) -> Result<(), String> {
        match need {
            Need::Nothing => Ok(()),
            Need::Go => self.go().map(|_| ()).map_err(|e| format!("skipped: {e}")),
            Need::Redis => match self.redis_probe() {
                Probe::Up(_) => Ok(()),
                Probe::Down(why) => Err(why.clone()),
            },
            Need::Mysql => match self.mysql_probe() {
                Probe::Up(_) => Ok(()),
                Probe::Down(why) => Err(why.clone()),
            },
        }
    }

    /// Runs a future to completion on the lab's runtime.
    ///
    /// Safe to call from a plain thread; must not be called from inside the runtime itself.
    pub fn block_on<F: std::future::Future>(&self, fut: F) -> F::Output {
        self.rt.block_on(fut)
    }

    /// Like [`Env::block_on`], but also callable from inside the runtime (a demo's async block):
    /// there it runs the future on a helper thread with a small runtime of its own.
    fn block_on_anywhere<F>(&self, fut: F) -> Option<F::Output>
    where
        F: std::future::Future + Send,
        F::Output: Send,
    {
        if tokio::runtime::Handle::try_current().is_err() {
            return Some(self.block_on(fut));
        }
        std::thread::scope(|s| {
            s.spawn(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map(|rt| rt.block_on(fut))
            })
            .join()
        })
        .ok()
        .and_then(Result::ok)
    }
}
