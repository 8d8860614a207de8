//! A throw-away `redis-server` for the experiments that must change server-wide settings.
//!
//! `maxmemory`, `maxmemory-policy` and `DEBUG SET-ACTIVE-EXPIRE` act on the whole server: setting
//! them on the shared Redis would evict or keep alive other sessions' keys. So the eviction and
//! expiry experiments start their own server — the same `redis-server` binary — on a free loopback
//! port, with no persistence (`--save '' --appendonly no`), its files in a fresh temporary
//! directory, and `DEBUG` enabled for local connections. The process is killed and the directory
//! removed when the [`ScratchRedis`] is dropped, also when a demo fails halfway.
//!
//! Starting is bounded: the server must answer `PING` within [`START_DEADLINE`], or the start fails
//! with the server's log. A machine without `redis-server` gets [`ScratchError::NotInstalled`],
//! which a demo reports as "unavailable" (a skip on a laptop, a failure in CI), like a missing
//! shared Redis.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use catalog::DemoError;
use servers::redis;

/// How long a fresh server may take to answer `PING`.
pub const START_DEADLINE: Duration = Duration::from_secs(10);

/// Why a scratch server could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ScratchError {
    #[error(
        "skipped: redis-server not found on PATH or in /usr/bin (install Redis 7.0, e.g. `bash scripts/services.sh up`)"
    )]
    NotInstalled,
    #[error("could not start a scratch redis-server: {0}")]
    Spawn(String),
    #[error("scratch redis-server did not come up: {0}")]
    NotReady(String),
    #[error("scratch redis-server: {0}")]
    Redis(#[from] redis::RedisError),
}

impl From<ScratchError> for DemoError {
    fn from(e: ScratchError) -> Self {
        match e {
            ScratchError::NotInstalled => DemoError::Unavailable(e.to_string()),
            other => DemoError::Broken(other.to_string()),
        }
    }
}

/// Where `redis-server` is: on `PATH`, else `/usr/bin`.
pub fn find_redis_server() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("redis-server"))
            .find(|p| p.is_file())
    });
    on_path.or_else(|| {
        let p = PathBuf::from("/usr/bin/redis-server");
        p.is_file().then_some(p)
    })
}

/// See the module documentation.
pub struct ScratchRedis {
    child: Child,
    port: u16,
    dir: PathBuf,
    conn: redis::Connection,
    scope: String,
}

impl std::fmt::Debug for ScratchRedis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScratchRedis")
            .field("pid", &self.child.id())
            .field("port", &self.port)
            .field("dir", &self.dir)
            .finish()
    }
}

fn free_port() -> Result<u16, ScratchError> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| ScratchError::Spawn(e.to_string()))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(|e| ScratchError::Spawn(e.to_string()))
}

fn connect(port: u16) -> Result<redis::Connection, redis::RedisError> {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}/"))?;
    servers::with_io_timeouts(client.get_connection_with_timeout(Duration::from_secs(1))?)
}

impl ScratchRedis {
    /// Starts a server for the demo of question `scope` (keys still go under `lab:<scope>:`).
    pub fn start(scope: &str) -> Result<ScratchRedis, ScratchError> {
        let bin = find_redis_server().ok_or(ScratchError::NotInstalled)?;
        let mut last = String::new();
        // A port found free can be taken before the server binds it: try a few.
        for attempt in 0..3 {
            match Self::start_once(&bin, scope, attempt) {
                Ok(s) => return Ok(s),
                Err(ScratchError::NotReady(e)) => last = e,
                Err(other) => return Err(other),
            }
        }
        Err(ScratchError::NotReady(last))
    }

    fn start_once(bin: &Path, scope: &str, attempt: u32) -> Result<ScratchRedis, ScratchError> {
        let port = free_port()?;
        let dir = std::env::temp_dir().join(format!(
            "lab-scratch-redis-{}-{port}-{attempt}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).map_err(|e| ScratchError::Spawn(e.to_string()))?;
        let log = dir.join("redis.log");
        let child = Command::new(bin)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&dir)
            .arg("--logfile")
            .arg(&log)
            .args(["--daemonize", "no", "--enable-debug-command", "local"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                let _ = std::fs::remove_dir_all(&dir);
                ScratchError::Spawn(format!("{}: {e}", bin.display()))
            })?;
        // From here on, a guard owns the process so an early return kills it.
        let mut guard = ProcessGuard {
            child: Some(child),
            dir: dir.clone(),
        };
        let deadline = Instant::now() + START_DEADLINE;
        loop {
            if let Some(c) = guard.child.as_mut()
                && let Ok(Some(status)) = c.try_wait()
            {
                let tail = std::fs::read_to_string(&log).unwrap_or_default();
                let tail: Vec<&str> = tail.lines().rev().take(5).collect();
                return Err(ScratchError::NotReady(format!(
                    "exited with {status}; log: {}",
                    tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
                )));
            }
            if let Ok(mut conn) = connect(port)
                && redis::cmd("PING").query::<String>(&mut conn).is_ok()
            {
                let child = guard.child.take().expect("child present until handed over");
                return Ok(ScratchRedis {
                    child,
                    port,
                    dir,
                    conn,
                    scope: scope.to_string(),
                });
            }
            if Instant::now() > deadline {
                return Err(ScratchError::NotReady(format!(
                    "no PING reply on 127.0.0.1:{port} within {START_DEADLINE:?}"
                )));
            }
            // Bounded polling for readiness (not ordering): the server starts in ~10–50 ms.
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `lab:<scope>:<name>`, as on the shared server.
    pub fn key(&self, name: &str) -> String {
        format!("{}{}:{name}", servers::LAB_KEY_PREFIX, self.scope)
    }

    pub fn conn(&mut self) -> &mut redis::Connection {
        &mut self.conn
    }

    /// Another client of the same server.
    pub fn another_connection(&self) -> Result<redis::Connection, ScratchError> {
        Ok(connect(self.port)?)
    }

    /// `CONFIG SET` (the server is ours: nothing to restore).
    pub fn config_set(&mut self, name: &str, value: &str) -> Result<(), ScratchError> {
        redis::cmd("CONFIG")
            .arg("SET")
            .arg(name)
            .arg(value)
            .exec(&mut self.conn)?;
        Ok(())
    }

    /// One numeric field of `INFO <section>`.
    pub fn info_u64(&mut self, section: &str, field: &str) -> Result<u64, ScratchError> {
        info_u64(&mut self.conn, section, field)
    }
}

/// One numeric field of `INFO <section>` on any connection (shared or scratch server).
pub fn info_u64(
    conn: &mut redis::Connection,
    section: &str,
    field: &str,
) -> Result<u64, ScratchError> {
    let info: String = redis::cmd("INFO").arg(section).query(conn)?;
    info.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| ScratchError::NotReady(format!("INFO {section} has no numeric {field}")))
}

/// Kills the process and removes its directory unless handed over.
struct ProcessGuard {
    child: Option<Child>,
    dir: PathBuf,
}

impl Drop for ProcessGuard {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

impl Drop for ScratchRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
