use crate::{CONNECT_TIMEOUT, IO_TIMEOUT, LAB_KEY_PREFIX, ServerError, System, Target};

/// What `INFO server` says about a Redis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisInfo {
    pub version: String,
    /// `standalone`, `cluster` or `sentinel`.
    pub mode: String,
}

fn connect(target: &Target) -> Result<redis::Connection, ServerError> {
    let unreachable = |reason: String| ServerError::Unreachable {
        system: System::Redis,
        addr: target.addr(),
        reason,
    };
    let client = redis::Client::open(target.url()).map_err(|e| ServerError::BadUrl {
        var: System::Redis.env_var(),
        url: target.display_url(),
        reason: e.to_string(),
    })?;
    let conn = client
        .get_connection_with_timeout(CONNECT_TIMEOUT)
        .map_err(|e| unreachable(e.to_string()))?;
    with_io_timeouts(conn).map_err(ServerError::from)
}

/// `conn` with [`IO_TIMEOUT`] on every read and write, so a hung server ends in an error.
pub fn with_io_timeouts(conn: redis::Connection) -> redis::RedisResult<redis::Connection> {
    conn.set_read_timeout(Some(IO_TIMEOUT))?;
    conn.set_write_timeout(Some(IO_TIMEOUT))?;
    Ok(conn)
}

/// Connects, asks `INFO server`, and hangs up: is this Redis there, and which one is it?
pub fn probe(target: &Target) -> Result<RedisInfo, ServerError> {
    let mut conn = connect(target)?;
    let info: String = redis::cmd("INFO").arg("server").query(&mut conn)?;
    let field = |name: &str| {
        info.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(':')))
            .map(|v| v.trim().to_string())
            .unwrap_or_else(|| "unknown".to_string())
    };
    Ok(RedisInfo {
        version: field("redis_version"),
        mode: field("redis_mode"),
    })
}

/// A connection to the borrowed Redis, fenced into the key space `lab:<scope>:`.
///
/// When it is dropped it deletes every key of its scope and puts back every setting it changed, in
/// that order, so a demo that fails halfway leaves the server as it found it.
pub struct RedisLab {
    target: Target,
    conn: redis::Connection,
    scope: String,
    /// Settings changed through [`RedisLab::set_config`], with the value each had before the first change.
    saved: Vec<(String, String)>,
}

impl std::fmt::Debug for RedisLab {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisLab")
            .field("target", &self.target.addr())
            .field("scope", &self.scope)
            .field("saved", &self.saved)
            .finish()
    }
}

impl RedisLab {
    /// Connects for one demo. `scope` (a question id, say) names its slice of the key space; keys a
    /// crashed earlier run left in that slice are removed first.
    pub fn connect(target: &Target, scope: &str) -> Result<Self, ServerError> {
        let conn = connect(target)?;
        let mut lab = RedisLab {
            target: target.clone(),
            conn,
            scope: scope.to_string(),
            saved: Vec::new(),
        };
        lab.delete_keys()?;
        Ok(lab)
    }

    /// The full name of a key of this demo: `lab:<scope>:<name>`.
    pub fn key(&self, name: &str) -> String {
        format!("{LAB_KEY_PREFIX}{}:{name}", self.scope)
    }

    /// The connection, for commands. Use [`RedisLab::key`] for every key you touch.
    pub fn conn(&mut self) -> &mut redis::Connection {
        &mut self.conn
    }

    /// Where this Redis is.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// A second connection to the same server (for demos with two clients), sharing nothing but the server.
    pub fn another_connection(&self) -> Result<redis::Connection, ServerError> {
        connect(&self.target)
    }

    /// `CONFIG GET name`, as a single value.
    pub fn config_get(&mut self, name: &str) -> Result<String, ServerError> {
        let pairs: Vec<String> = redis::cmd("CONFIG")
            .arg("GET")
            .arg(name)
            .query(&mut self.conn)?;
        pairs.get(1).cloned().ok_or_else(|| {
            ServerError::Redis(redis::RedisError::from((
                redis::ErrorKind::Client,
                "CONFIG GET returned nothing for this name",
                name.to_string(),
            )))
        })
    }

    /// `CONFIG SET name value`, remembering the old value to restore when this handle is dropped.
    /// Refused on a server that is not on loopback unless `LAB_ALLOW_REMOTE=1`.
    pub fn set_config(&mut self, name: &str, value: &str) -> Result<(), ServerError> {
        self.target.may_change(&format!("CONFIG SET {name}"))?;
        if !self.saved.iter().any(|(n, _)| n == name) {
            let old = self.config_get(name)?;
            self.saved.push((name.to_string(), old));
        }
        redis::cmd("CONFIG")
            .arg("SET")
            .arg(name)
            .arg(value)
            .exec(&mut self.conn)?;
        Ok(())
    }

    /// Puts back changed settings and deletes this scope's keys now, reporting any failure. Dropping
    /// the handle does the same but can only print failures.
    pub fn restore(&mut self) -> Result<(), ServerError> {
        let keys = self.delete_keys();
        let mut config = Ok(());
        // Newest change first, so a setting changed twice ends at its original value.
        while let Some((name, old)) = self.saved.pop() {
            let r = redis::cmd("CONFIG")
                .arg("SET")
                .arg(&name)
                .arg(&old)
                .exec(&mut self.conn);
            if let Err(e) = r {
                config = Err(ServerError::Redis(e));
            }
        }
        keys.map(|_| ()).and(config)
    }

    /// Deletes every key under `lab:<scope>:`; returns how many there were.
    pub fn delete_keys(&mut self) -> Result<usize, ServerError> {
        let pattern = format!("{}*", glob_escape(&self.key("")));
        let mut cursor: u64 = 0;
        let mut deleted = 0;
        loop {
            let (next, keys): (u64, Vec<Vec<u8>>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(1000)
                .query(&mut self.conn)?;
            if !keys.is_empty() {
                deleted += keys.len();
                redis::cmd("DEL").arg(&keys).exec(&mut self.conn)?;
            }
            if next == 0 {
                return Ok(deleted);
            }
            cursor = next;
        }
    }
}

impl Drop for RedisLab {
    fn drop(&mut self) {
        if let Err(e) = self.restore() {
            eprintln!(
                "warning: could not fully restore Redis at {}: {e}",
                self.target.addr()
            );
        }
    }
}

/// Escapes Redis glob metacharacters so a scope is matched literally.
fn glob_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_matched_literally() {
        assert_eq!(glob_escape("lab:a*b?[c]:"), "lab:a\\*b\\?\\[c\\]:");
    }

    #[test]
    fn a_closed_port_is_unreachable_quickly() {
        // Port 1 on loopback: nothing listens there on any sane machine.
        let t = Target::parse(System::Redis, "redis://127.0.0.1:1/", 6379).unwrap();
        let start = std::time::Instant::now();
        let err = probe(&t).unwrap_err();
        assert!(err.is_unreachable(), "{err}");
        assert!(err.to_string().contains("scripts/services.sh up"), "{err}");
        assert!(start.elapsed() < CONNECT_TIMEOUT + std::time::Duration::from_secs(1));
    }
}
