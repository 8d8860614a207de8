use std::future::Future;

use mysql_async::prelude::*;
use mysql_async::{Conn, Opts, OptsBuilder};

use crate::{CONNECT_TIMEOUT, IO_TIMEOUT, LAB_DATABASE, ServerError, System, Target};

/// Which server speaks the MySQL protocol at the other end. They differ in exactly the places
/// interview answers gloss over (snapshot isolation, variable names), so the lab always says which.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    MariaDb,
    Mysql,
}

impl std::fmt::Display for Flavor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Flavor::MariaDb => "MariaDB",
            Flavor::Mysql => "MySQL",
        })
    }
}

/// What the lab needs to know about a MySQL/MariaDB before trusting its answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MysqlInfo {
    pub flavor: Flavor,
    /// `VERSION()`, e.g. `10.11.19-MariaDB-0+deb12u1`.
    pub version: String,
    /// The default isolation level (`REPEATABLE-READ` unless someone changed it).
    pub isolation: String,
    /// MariaDB's `innodb_snapshot_isolation` (11.6+ turns it on); `None` where the variable does not exist.
    pub snapshot_isolation: Option<bool>,
    /// `innodb_flush_log_at_trx_commit`: 1 means every commit reaches the disk before it is acknowledged.
    pub flush_log_at_trx_commit: Option<String>,
}

/// Runs one client call under the lab's I/O timeout.
pub async fn timed<T>(
    what: &str,
    fut: impl Future<Output = Result<T, mysql_async::Error>>,
) -> Result<T, ServerError> {
    match tokio::time::timeout(IO_TIMEOUT, fut).await {
        Ok(r) => Ok(r?),
        Err(_) => Err(ServerError::Timeout {
            system: System::Mysql,
            what: what.to_string(),
            after: IO_TIMEOUT,
        }),
    }
}

fn opts(target: &Target) -> Result<Opts, ServerError> {
    Opts::from_url(target.url()).map_err(|e| ServerError::BadUrl {
        var: System::Mysql.env_var(),
        url: target.display_url(),
        reason: e.to_string(),
    })
}

async fn connect_with(target: &Target, opts: Opts) -> Result<Conn, ServerError> {
    match tokio::time::timeout(CONNECT_TIMEOUT, Conn::new(opts)).await {
        Err(_) => Err(ServerError::Unreachable {
            system: System::Mysql,
            addr: target.addr(),
            reason: format!("no greeting within {CONNECT_TIMEOUT:?}"),
        }),
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(mysql_async::Error::Server(e))) => Err(ServerError::Login {
            system: System::Mysql,
            addr: target.addr(),
            reason: format!("ERROR {} ({}): {}", e.code, e.state, e.message),
        }),
        Ok(Err(e)) => Err(ServerError::Unreachable {
            system: System::Mysql,
            addr: target.addr(),
            reason: e.to_string(),
        }),
    }
}

/// Connects without choosing a database.
async fn connect_bare(target: &Target) -> Result<Conn, ServerError> {
    let opts = OptsBuilder::from_opts(opts(target)?).db_name(None::<String>);
    connect_with(target, opts.into()).await
}

/// Connects, asks who it is, and hangs up.
pub async fn probe(target: &Target) -> Result<MysqlInfo, ServerError> {
    let mut conn = connect_bare(target).await?;
    let version: Option<String> =
        timed("SELECT VERSION()", conn.query_first("SELECT VERSION()")).await?;
    let version = version.unwrap_or_default();
    let vars: Vec<(String, String)> = timed(
        "SHOW VARIABLES",
        conn.query(
            "SHOW GLOBAL VARIABLES WHERE Variable_name IN \
             ('tx_isolation', 'transaction_isolation', 'innodb_snapshot_isolation', 'innodb_flush_log_at_trx_commit')",
        ),
    )
    .await?;
    let var = |name: &str| vars.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    let info = MysqlInfo {
        flavor: if version.contains("MariaDB") {
            Flavor::MariaDb
        } else {
            Flavor::Mysql
        },
        isolation: var("transaction_isolation")
            .or_else(|| var("tx_isolation"))
            .unwrap_or_else(|| "unknown".into()),
        snapshot_isolation: var("innodb_snapshot_isolation").map(|v| v == "ON" || v == "1"),
        flush_log_at_trx_commit: var("innodb_flush_log_at_trx_commit"),
        version,
    };
    let _ = timed("disconnect", conn.disconnect()).await;
    Ok(info)
}

/// The borrowed MySQL/MariaDB for one demo: tables in database `lab`, prefixed by the demo's scope,
/// and global variables that are put back afterwards.
///
/// Call [`MysqlLab::finish`] at the end to clean up and see any error. If a demo returns early or
/// panics, `Drop` does the same cleanup on a thread of its own (it cannot `.await`).
#[derive(Debug)]
pub struct MysqlLab {
    target: Target,
    opts: Opts,
    /// `[a-z0-9_]` form of the scope: a prefix for table names.
    prefix: String,
    tables: Vec<String>,
    /// Global variables changed through [`MysqlLab::set_global`], with their values before the first
    /// change as SQL literals (numbers bare, text quoted, `NULL`): a server rejects a quoted number
    /// for an integer variable.
    globals: Vec<(String, String)>,
    finished: bool,
}

impl MysqlLab {
    /// Opens the lab's database (creating it if needed) and drops tables an earlier, crashed run of
    /// the same scope left behind.
    pub async fn open(target: &Target, scope: &str) -> Result<Self, ServerError> {
        let mut conn = connect_bare(target).await?;
        timed(
            "CREATE DATABASE",
            conn.query_drop(format!("CREATE DATABASE IF NOT EXISTS `{LAB_DATABASE}`")),
        )
        .await?;
        let prefix: String = scope
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .collect();
        let leftovers: Vec<String> = timed(
            "list leftover tables",
            conn.exec(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = ? AND table_name LIKE ?",
                (LAB_DATABASE, format!("{}\\_%", prefix)),
            ),
        )
        .await?;
        // Leftovers may reference each other by foreign key; drop them in any order.
        timed(
            "SET foreign_key_checks",
            conn.query_drop("SET SESSION foreign_key_checks = 0"),
        )
        .await?;
        for t in leftovers {
            timed(
                "DROP TABLE",
                conn.query_drop(format!("DROP TABLE IF EXISTS `{LAB_DATABASE}`.`{t}`")),
            )
            .await?;
        }
        let _ = timed("disconnect", conn.disconnect()).await;
        let opts = OptsBuilder::from_opts(opts(target)?)
            .db_name(Some(LAB_DATABASE))
            .into();
        Ok(MysqlLab {
            target: target.clone(),
            opts,
            prefix,
            tables: Vec::new(),
            globals: Vec::new(),
            finished: false,
        })
    }

    /// A new connection with `lab` as its current database. One per simulated client.
    pub async fn conn(&self) -> Result<Conn, ServerError> {
        connect_with(&self.target, self.opts.clone()).await
    }

    /// The name to create a table under, `<scope>_<name>` in database `lab`; it is dropped at the end.
    pub fn table(&mut self, name: &str) -> String {
        let full = format!("{}_{}", self.prefix, name);
        if !self.tables.contains(&full) {
            self.tables.push(full.clone());
        }
        full
    }

    /// `SET GLOBAL name = value` (value as SQL text, e.g. `'READ-COMMITTED'` or `50`), restored at the end.
    pub async fn set_global(
        &mut self,
        conn: &mut Conn,
        name: &str,
        value: &str,
    ) -> Result<(), ServerError> {
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(ServerError::BadUrl {
                var: "variable name",
                url: name.to_string(),
                reason: "not a system variable name".into(),
            });
        }
        self.target.may_change(&format!("SET GLOBAL {name}"))?;
        if !self.globals.iter().any(|(n, _)| n == name) {
            let old: Option<Option<String>> = timed(
                "read global",
                conn.query_first(format!("SELECT @@GLOBAL.{name}")),
            )
            .await?;
            self.globals
                .push((name.to_string(), sql_literal(old.flatten().as_deref())));
        }
        timed(
            "SET GLOBAL",
            conn.query_drop(format!("SET GLOBAL {name} = {value}")),
        )
        .await
    }

    /// Drops this demo's tables and restores changed globals, reporting the first failure.
    pub async fn finish(mut self) -> Result<(), ServerError> {
        self.finished = true;
        cleanup(&self.target, &self.opts, &self.tables, &self.globals).await
    }
}

async fn cleanup(
    target: &Target,
    opts: &Opts,
    tables: &[String],
    globals: &[(String, String)],
) -> Result<(), ServerError> {
    if tables.is_empty() && globals.is_empty() {
        return Ok(());
    }
    let mut conn = connect_with(target, opts.clone()).await?;
    let mut first_err = None;
    // A demo's tables may reference each other by foreign key; drop them in any order.
    if let Err(e) = timed(
        "SET foreign_key_checks",
        conn.query_drop("SET SESSION foreign_key_checks = 0"),
    )
    .await
    {
        first_err.get_or_insert(e);
    }
    for t in tables {
        let r = timed(
            "DROP TABLE",
            conn.query_drop(format!("DROP TABLE IF EXISTS `{LAB_DATABASE}`.`{t}`")),
        )
        .await;
        if let Err(e) = r {
            first_err.get_or_insert(e);
        }
    }
    for (name, old) in globals.iter().rev() {
        let r = timed(
            "restore global",
            conn.query_drop(format!("SET GLOBAL {name} = {old}")),
        )
        .await;
        if let Err(e) = r {
            first_err.get_or_insert(e);
        }
    }
    let _ = timed("disconnect", conn.disconnect()).await;
    first_err.map_or(Ok(()), Err)
}

/// The SQL text that sets a variable back to `value` as `SELECT @@GLOBAL.x` reported it.
fn sql_literal(value: Option<&str>) -> String {
    match value {
        None => "NULL".into(),
        Some(v) if !v.is_empty() && v.parse::<f64>().is_ok_and(f64::is_finite) => v.into(),
        Some(v) => format!("'{}'", v.replace('\\', "\\\\").replace('\'', "''")),
    }
}

impl Drop for MysqlLab {
    fn drop(&mut self) {
        if self.finished || (self.tables.is_empty() && self.globals.is_empty()) {
            return;
        }
        let (target, opts) = (self.target.clone(), self.opts.clone());
        let (tables, globals) = (
            std::mem::take(&mut self.tables),
            std::mem::take(&mut self.globals),
        );
        // We may be inside a runtime (or unwinding out of one): do the async cleanup on a fresh thread
        // with a runtime of its own, and wait for it.
        let done = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(cleanup(&target, &opts, &tables, &globals))
                .map_err(|e| std::io::Error::other(e.to_string()))
        })
        .join();
        match done {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("warning: could not fully clean up MySQL after a demo: {e}"),
            Err(_) => eprintln!("warning: MySQL cleanup thread panicked"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::sql_literal;

    #[test]
    fn old_values_come_back_as_the_right_kind_of_literal() {
        assert_eq!(sql_literal(Some("50")), "50");
        assert_eq!(sql_literal(Some("0.5")), "0.5");
        assert_eq!(sql_literal(Some("REPEATABLE-READ")), "'REPEATABLE-READ'");
        assert_eq!(sql_literal(Some("it's")), "'it''s'");
        assert_eq!(sql_literal(Some("a\\b")), "'a\\\\b'");
        assert_eq!(sql_literal(Some("")), "''");
        assert_eq!(sql_literal(Some("inf")), "'inf'");
        assert_eq!(sql_literal(None), "NULL");
    }
}
