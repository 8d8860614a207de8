//! `lab hermitage`: the 15 hermitage tests at the four isolation levels, on the model, on the real
//! server, or on both side by side (mysql-04). The `lab` binary only parses arguments into
//! [`HermitageArgs`] and calls [`hermitage`].
//!
//! Exit codes: 0 done (and, with `both`, no difference), 1 model and server differ, 2 bad
//! arguments or schedule file, 3 the server could not be used.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use catalog::{Env, Probe};
use servers::MysqlLab;

use crate::engine::{Level, Options};
use crate::hermitage::model::ModelTarget;
use crate::hermitage::server::{self, ServerConfig, ServerTarget};
use crate::hermitage::{Cell, Schedule, differences, now, report, run_all, schedule};

/// Which side(s) to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    Model,
    Server,
    Both,
}

/// The options of `lab hermitage`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HermitageArgs {
    pub target: Which,
    /// One test by name (`g1a`, `pmp-write`, ...); all 15 when `None`.
    pub test: Option<String>,
    /// One level (`read committed`, `rc`, `repeatable-read`, ...); all four when `None`.
    pub level: Option<String>,
    pub json: bool,
    /// MariaDB's `innodb_snapshot_isolation` for the sessions and the model.
    pub snapshot_isolation: bool,
    /// A schedule file of one's own instead of the built-in tests.
    pub file: Option<PathBuf>,
    /// How long a step may take before the runner asks the server whether it waits for a lock.
    pub blocked_wait_ms: u64,
}

impl Default for HermitageArgs {
    fn default() -> Self {
        HermitageArgs {
            target: Which::Model,
            test: None,
            level: None,
            json: false,
            snapshot_isolation: false,
            file: None,
            blocked_wait_ms: 300,
        }
    }
}

/// Exit codes.
pub mod exit {
    pub const OK: i32 = 0;
    pub const DIFFERENT: i32 = 1;
    pub const USAGE: i32 = 2;
    pub const SERVER: i32 = 3;
}

/// Runs `lab hermitage`, writing results to `out` and errors to `err`; returns the exit code.
pub fn hermitage(args: &HermitageArgs, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let (schedules, levels) = match select(args) {
        Ok(x) => x,
        Err(msg) => {
            let _ = writeln!(err, "error: {msg}");
            return exit::USAGE;
        }
    };
    if !(10..=60_000).contains(&args.blocked_wait_ms) {
        let _ = writeln!(err, "error: --blocked-wait-ms must be between 10 and 60000");
        return exit::USAGE;
    }
    let opts = Options {
        snapshot_isolation: args.snapshot_isolation,
        ..Options::default()
    };
    let model_started = Instant::now();
    let model: Option<Vec<Cell>> = if args.target == Which::Server {
        None
    } else {
        let mut m = ModelTarget::new(opts);
        match now(run_all(&mut m, &schedules, &levels)) {
            Ok(cells) => Some(cells),
            Err(e) => {
                let _ = writeln!(err, "error: the model could not run the schedule: {e}");
                return exit::USAGE;
            }
        }
    };
    let model_time = model_started.elapsed();
    let mut server_label = None;
    let mut server_time = Duration::ZERO;
    let server: Option<Vec<Cell>> = if args.target == Which::Model {
        None
    } else {
        let cfg = ServerConfig {
            blocked_wait: Duration::from_millis(args.blocked_wait_ms),
            snapshot_isolation: args.snapshot_isolation,
            ..ServerConfig::default()
        };
        let started = Instant::now();
        let notice = (!args.json).then(|| {
            format!(
                "running {} cells on the server (each blocked step costs about {} ms)...",
                schedules.len() * levels.len(),
                args.blocked_wait_ms
            )
        });
        match run_server(&schedules, &levels, cfg, notice.as_deref(), err) {
            Ok((label, cells)) => {
                server_time = started.elapsed();
                server_label = Some(label);
                Some(cells)
            }
            Err(msg) => {
                let _ = writeln!(err, "error: {msg}");
                return exit::SERVER;
            }
        }
    };

    let tests: Vec<String> = schedules.iter().map(|s| s.name.clone()).collect();
    let mut diffs = Vec::new();
    if let (Some(m), Some(s)) = (&model, &server) {
        for (a, b) in m.iter().zip(s) {
            for d in differences(a, b) {
                diffs.push(format!("{} at {}: {d}", a.test, a.level));
            }
        }
    }
    if args.json {
        let all: Vec<&Cell> = model.iter().chain(server.iter()).flatten().collect();
        let _ = writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&all).unwrap_or_else(|_| "[]".into())
        );
    } else {
        let _ = writeln!(
            out,
            "hermitage: {} test{} x {} level{}; innodb_snapshot_isolation {} for the runs{}",
            tests.len(),
            if tests.len() == 1 { "" } else { "s" },
            levels.len(),
            if levels.len() == 1 { "" } else { "s" },
            if args.snapshot_isolation { "ON" } else { "OFF" },
            server_label
                .as_ref()
                .map_or_else(String::new, |l| format!("; server: {l}"))
        );
        let (a, b) = match (&model, &server) {
            (Some(m), Some(s)) => (m.as_slice(), Some(s.as_slice())),
            (Some(m), None) => (m.as_slice(), None),
            (None, Some(s)) => (s.as_slice(), None),
            (None, None) => (&[][..], None),
        };
        let _ = write!(out, "{}", report::table(&tests, &levels, a, b));
        let _ = writeln!(
            out,
            "anomaly: the phenomenon the test probes was observed; prevented: it was not{}",
            if b.is_some() {
                "; ≠: model (A/P) and server (A/P) disagree"
            } else {
                ""
            }
        );
        if args.test.is_some() || args.file.is_some() {
            for cell in model.iter().chain(server.iter()).flatten() {
                let _ = writeln!(out);
                let _ = write!(out, "{}", report::details(cell));
            }
        }
        let cells = tests.len() * levels.len();
        match (&model, &server) {
            (Some(_), Some(_)) if diffs.is_empty() => {
                let _ = writeln!(
                    out,
                    "\nmodel and server agree on all {cells} cells, step by step (server {:.1} s, model {:.3} s)",
                    server_time.as_secs_f64(),
                    model_time.as_secs_f64()
                );
            }
            (Some(_), Some(_)) => {
                let _ = writeln!(out, "\n{} difference(s):", diffs.len());
                for d in &diffs {
                    let _ = writeln!(out, "  {d}");
                }
            }
            (None, Some(_)) => {
                let _ = writeln!(
                    out,
                    "\n{cells} cells on the server in {:.1} s",
                    server_time.as_secs_f64()
                );
            }
            _ => {
                let _ = writeln!(
                    out,
                    "\n{cells} cells on the model in {:.3} s",
                    model_time.as_secs_f64()
                );
            }
        }
    }
    if diffs.is_empty() {
        exit::OK
    } else {
        exit::DIFFERENT
    }
}

/// The schedules and levels the arguments pick.
fn select(args: &HermitageArgs) -> Result<(Vec<Schedule>, Vec<Level>), String> {
    let levels = match &args.level {
        None => Level::ALL.to_vec(),
        Some(l) => vec![Level::parse(l).ok_or_else(|| {
            format!(
                "unknown level {l:?}; use read-uncommitted (ru), read-committed (rc), repeatable-read (rr) or serializable (ser)"
            )
        })?],
    };
    let schedules = match &args.file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            vec![Schedule::parse(&path.display().to_string(), &text).map_err(|e| e.to_string())?]
        }
        None => match &args.test {
            None => schedule::builtin(),
            Some(t) => vec![schedule::by_name(t).ok_or_else(|| {
                format!(
                    "unknown test {t:?}; the tests are: {}",
                    schedule::ORDER.join(", ")
                )
            })?],
        },
    };
    Ok((schedules, levels))
}

/// Runs the cells on the server `LAB_MYSQL_URL` names; a description of it and the cells.
fn run_server(
    schedules: &[Schedule],
    levels: &[Level],
    cfg: ServerConfig,
    notice: Option<&str>,
    err: &mut dyn Write,
) -> Result<(String, Vec<Cell>), String> {
    let env = Env::from_env().map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let info = match env.mysql_probe() {
        Probe::Up(info) => info.clone(),
        Probe::Down(why) => return Err(format!("cannot run on the server: {why}")),
    };
    let target = env.mysql_target().map_err(|e| e.to_string())?;
    let label = server::describe(&info);
    if let Some(n) = notice {
        let _ = writeln!(err, "{n}");
    }
    env.block_on(async {
        let mut lab = MysqlLab::open(&target, "hermitage")
            .await
            .map_err(|e| e.to_string())?;
        let table = lab.table("test");
        let result = {
            let mut srv = ServerTarget::new(&lab, table, info, cfg).map_err(|e| e.to_string())?;
            run_all(&mut srv, schedules, levels).await
        };
        let finished = lab.finish().await;
        let mut cells = result.map_err(|e| format!("the server run stopped: {e}"))?;
        finished.map_err(|e| format!("could not clean up after the run: {e}"))?;
        for c in &mut cells {
            c.server = Some(label.clone());
        }
        Ok((label, cells))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: HermitageArgs) -> (i32, String, String) {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = hermitage(&args, &mut out, &mut err);
        (
            code,
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
        )
    }

    #[test]
    fn the_model_table_has_every_test() {
        let (code, out, _) = run(HermitageArgs::default());
        assert_eq!(code, exit::OK);
        for t in schedule::ORDER {
            assert!(out.lines().any(|l| l.starts_with(t)), "{t} missing:\n{out}");
        }
        assert!(out.contains("60 cells on the model"));
    }

    #[test]
    fn bad_arguments_exit_2_with_a_reason() {
        let (code, _, err) = run(HermitageArgs {
            test: Some("g9".into()),
            ..HermitageArgs::default()
        });
        assert_eq!(code, exit::USAGE);
        assert!(
            err.contains("unknown test \"g9\"") && err.contains("g2-two-edges"),
            "{err}"
        );
        let (code, _, err) = run(HermitageArgs {
            level: Some("snapshot".into()),
            ..HermitageArgs::default()
        });
        assert_eq!(code, exit::USAGE);
        assert!(err.contains("unknown level"), "{err}");
        let (code, _, err) = run(HermitageArgs {
            file: Some("/nonexistent/x.txt".into()),
            ..HermitageArgs::default()
        });
        assert_eq!(code, exit::USAGE);
        assert!(err.contains("cannot read"), "{err}");
    }

    #[test]
    fn a_single_cell_prints_its_steps_and_json_has_the_fields() {
        let (code, out, _) = run(HermitageArgs {
            test: Some("p4".into()),
            level: Some("rr".into()),
            ..HermitageArgs::default()
        });
        assert_eq!(code, exit::OK);
        assert!(
            out.contains("p4 at repeatable read on the model: anomaly"),
            "{out}"
        );
        assert!(out.contains("blocked, then 0 rows after step 7"), "{out}");
        let (_, out, _) = run(HermitageArgs {
            test: Some("p4".into()),
            json: true,
            ..HermitageArgs::default()
        });
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let cells = v.as_array().unwrap();
        assert_eq!(cells.len(), 4);
        for c in cells {
            for field in ["test", "level", "target", "anomaly", "steps"] {
                assert!(c.get(field).is_some(), "{field} missing in {c}");
            }
        }
    }
}
