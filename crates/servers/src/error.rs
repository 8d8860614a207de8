use std::fmt;
use std::time::Duration;

/// A real system the lab can check a claim against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum System {
    Redis,
    Mysql,
}

impl System {
    /// The environment variable that points the lab at this system.
    pub fn env_var(self) -> &'static str {
        match self {
            System::Redis => "LAB_REDIS_URL",
            System::Mysql => "LAB_MYSQL_URL",
        }
    }

    /// What a user runs to get this system on loopback.
    pub fn hint(self) -> String {
        format!(
            "run `bash scripts/services.sh up` (or point {} at a server; docker/compose.yml has one)",
            self.env_var()
        )
    }
}

impl fmt::Display for System {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            System::Redis => "Redis",
            System::Mysql => "MySQL",
        })
    }
}

/// Why the lab could not use a real server.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// Nothing answered at the address (refused, no route, or the greeting timed out).
    #[error("{system} not reachable at {addr}: {reason}; {hint}", hint = system.hint())]
    Unreachable {
        system: System,
        addr: String,
        reason: String,
    },
    /// The server is there but would not let the lab in (wrong user or password, missing grants).
    #[error("{system} at {addr} refused the lab: {reason}; {hint}", hint = system.hint())]
    Login {
        system: System,
        addr: String,
        reason: String,
    },
    /// The URL in the environment could not be used.
    #[error("{var}={url:?} is not a usable URL: {reason}")]
    BadUrl {
        var: &'static str,
        url: String,
        reason: String,
    },
    /// A command or query took longer than the lab allows.
    #[error("{system} did not answer `{what}` within {after:?}")]
    Timeout {
        system: System,
        what: String,
        after: Duration,
    },
    /// The lab would change a setting on a server that is not on this machine.
    #[error(
        "refusing to {what} on {system} at {addr}: it is not a loopback server; set LAB_ALLOW_REMOTE=1 if you really mean it"
    )]
    RemoteRefused {
        system: System,
        addr: String,
        what: String,
    },
    /// Throwaway containers could not be started (the `testcontainers` feature).
    #[error(
        "could not start containers: {0}; testcontainers needs a Docker engine; build without --features testcontainers to use local servers (bash scripts/services.sh up)"
    )]
    Containers(String),
    /// The server answered with an error.
    #[error("Redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// The server answered with an error.
    #[error("MySQL: {0}")]
    Mysql(#[from] mysql_async::Error),
}

impl ServerError {
    /// True when the server is simply not there (as opposed to there and misbehaving).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, ServerError::Unreachable { .. })
    }
}
