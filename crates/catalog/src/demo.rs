use crate::bench::BenchSuite;
use crate::env::Env;
use crate::question::{Question, Status, page};

/// What a demo needs besides the Rust program itself. Anything but [`Need::Nothing`] is a real
/// system, and a demo that needs one checks its claim against that system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Need {
    /// Runs in process.
    Nothing,
    /// The real `go` toolchain.
    Go,
    /// A real `redis-server`.
    Redis,
    /// A real MySQL or MariaDB.
    Mysql,
}

impl Need {
    pub fn label(self) -> &'static str {
        match self {
            Need::Nothing => "in-process",
            Need::Go => "go",
            Need::Redis => "redis",
            Need::Mysql => "mysql",
        }
    }

    /// The real system a question names as its oracle, if the lab can reach it.
    pub fn for_oracle(oracle: &str) -> Option<Need> {
        let o = oracle.to_ascii_lowercase();
        if o == "go" {
            Some(Need::Go)
        } else if o.contains("redis") {
            Some(Need::Redis)
        } else if o.contains("mysql") || o.contains("mariadb") {
            Some(Need::Mysql)
        } else {
            None
        }
    }
}

/// One runnable, asserting illustration of one claim of an answer.
#[derive(Debug, Clone, Copy)]
pub struct Demo {
    /// `<question-id>/<slug>`, e.g. `go-03/unbuffered-send-waits-for-a-receiver`. The prefix says
    /// which question it backs, so a demo cannot forget to belong to one.
    pub name: &'static str,
    /// The claim it asserts, in one sentence.
    pub claim: &'static str,
    pub needs: Need,
    /// Prints what it shows through [`Ctx::say`] and returns `Err` when the claim does not hold.
    pub run: fn(&mut Ctx<'_>) -> Result<(), DemoError>,
}

impl Demo {
    /// The question id this demo backs.
    pub fn question(&self) -> &'static str {
        self.name.split('/').next().unwrap_or(self.name)
    }
}

/// What a topic crate contributes to the lab.
#[derive(Debug, Clone, Copy)]
pub struct Topic {
    /// The crate's name, e.g. `gochan`.
    pub name: &'static str,
    pub demos: &'static [Demo],
    pub benches: &'static [BenchSuite],
}

/// Why a demo did not pass.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DemoError {
    /// The claim did not hold: the assertion the demo exists for failed.
    #[error("claim failed: {0}")]
    Claim(String),
    /// A real system the demo needs is missing. A skip on a developer's machine, a failure in CI.
    #[error("{0}")]
    Unavailable(String),
    /// The demo could not reach a verdict (a server error midway, bad output from Go, ...).
    #[error("error: {0}")]
    Broken(String),
}

impl From<servers::ServerError> for DemoError {
    fn from(e: servers::ServerError) -> Self {
        if e.is_unreachable() {
            DemoError::Unavailable(e.to_string())
        } else {
            DemoError::Broken(e.to_string())
        }
    }
}

impl From<gotool::GoError> for DemoError {
    fn from(e: gotool::GoError) -> Self {
        match e {
            gotool::GoError::NotFound => DemoError::Unavailable(format!("skipped: {e}")),
            other => DemoError::Broken(other.to_string()),
        }
    }
}

impl From<servers::redis::RedisError> for DemoError {
    fn from(e: servers::redis::RedisError) -> Self {
        DemoError::Broken(format!("Redis: {e}"))
    }
}

impl From<servers::mysql_async::Error> for DemoError {
    fn from(e: servers::mysql_async::Error) -> Self {
        DemoError::Broken(format!("MySQL: {e}"))
    }
}

/// What a running demo can use: a place to print, and the real systems.
pub struct Ctx<'a> {
    env: &'a Env,
    question: &'static str,
    /// Behind a `RefCell` so that `say` takes `&self`: async demos hold `&Ctx` inside `block_on`
    /// and can still print as they go.
    out: std::cell::RefCell<&'a mut dyn FnMut(&str)>,
}

impl std::fmt::Debug for Ctx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx")
            .field("question", &self.question)
            .finish()
    }
}

impl<'a> Ctx<'a> {
    pub fn new(env: &'a Env, question: &'static str, out: &'a mut dyn FnMut(&str)) -> Self {
        Ctx {
            env,
            question,
            out: std::cell::RefCell::new(out),
        }
    }

    /// Prints one line of what the demo shows.
    pub fn say(&self, line: impl AsRef<str>) {
        // A `say` from inside the printer itself cannot happen (the printer is the runner's), so
        // the borrow cannot fail; if it ever did, dropping the line beats panicking.
        if let Ok(mut out) = self.out.try_borrow_mut() {
            for l in line.as_ref().lines() {
                (*out)(l);
            }
        }
    }

    pub fn env(&self) -> &'a Env {
        self.env
    }

    /// The borrowed Redis, fenced into `lab:<question>:`; cleaned up and restored when dropped.
    pub fn redis(&self) -> Result<servers::RedisLab, DemoError> {
        let target = self.env.redis_target()?;
        Ok(servers::RedisLab::connect(&target, self.question)?)
    }

    /// The borrowed MySQL/MariaDB, fenced into database `lab` with tables prefixed by the question id.
    pub async fn mysql(&self) -> Result<servers::MysqlLab, DemoError> {
        let target = self.env.mysql_target()?;
        Ok(servers::MysqlLab::open(&target, self.question).await?)
    }

    /// The real Go toolchain, or a skip saying Go was not found.
    pub fn go(&self) -> Result<&'a gotool::Go, DemoError> {
        self.env
            .go()
            .map_err(|e| DemoError::Unavailable(format!("skipped: {e}")))
    }

    /// Runs async code (the MySQL client is async) on the lab's runtime.
    pub fn block_on<F: std::future::Future>(&self, fut: F) -> F::Output {
        self.env.block_on(fut)
    }
}

/// Every topic the binary was built with, and what they add up to.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    topics: Vec<Topic>,
}

impl Registry {
    pub fn new(topics: Vec<Topic>) -> Self {
        Registry { topics }
    }

    pub fn topics(&self) -> &[Topic] {
        &self.topics
    }

    pub fn demos(&self) -> impl Iterator<Item = &'static Demo> + '_ {
        self.topics.iter().flat_map(|t| t.demos.iter())
    }

    pub fn demo(&self, name: &str) -> Option<&'static Demo> {
        self.demos().find(|d| d.name == name)
    }

    pub fn demos_for(&self, question: &str) -> Vec<&'static Demo> {
        self.demos().filter(|d| d.question() == question).collect()
    }

    pub fn benches(&self) -> impl Iterator<Item = &'static BenchSuite> + '_ {
        self.topics.iter().flat_map(|t| t.benches.iter())
    }

    pub fn bench(&self, name: &str) -> Option<&'static BenchSuite> {
        self.benches().find(|b| b.name == name)
    }

    pub fn benches_for(&self, question: &str) -> Vec<&'static BenchSuite> {
        self.benches()
            .filter(|b| b.questions.contains(&question))
            .collect()
    }

    /// The topic crate a demo comes from.
    pub fn topic_of(&self, demo: &Demo) -> Option<&Topic> {
        self.topics
            .iter()
            .find(|t| t.demos.iter().any(|d| d.name == demo.name))
    }

    /// How far the lab has got with a question: derived from its page and the demos that exist.
    pub fn status(&self, q: &Question) -> Status {
        if page(q.id).is_none() {
            return Status::NoPage;
        }
        let demos = self.demos_for(q.id);
        let oracle = Need::for_oracle(q.oracle);
        if oracle.is_some() && demos.iter().any(|d| Some(d.needs) == oracle) {
            Status::Verified
        } else if demos.is_empty() {
            Status::Answered
        } else {
            Status::Demo
        }
    }
}
