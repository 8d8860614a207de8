//! Running a compiler or a compiled program with a time limit, in a scratch directory that is
//! removed afterwards.
//!
//! The demos start `rustc`, the binaries it builds, and the Go binaries built with and without
//! `-race`. Each must be bounded (a hung child must not hang the lab) and must leave nothing
//! behind in the temp directory.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long one child process may run: a compile of a small program, or one counting run.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// Why a child process produced no result.
#[derive(Debug, thiserror::Error)]
pub enum ProcError {
    #[error("could not start {program}: {source}")]
    Start {
        program: String,
        source: std::io::Error,
    },
    #[error("{program} did not finish within {after:?} and was killed")]
    Timeout { program: String, after: Duration },
    #[error("waiting for {program}: {source}")]
    Wait {
        program: String,
        source: std::io::Error,
    },
}

/// What a finished child printed and how it exited.
#[derive(Debug, Clone)]
pub struct Finished {
    /// The exit code; `None` when a signal ended it.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

/// Runs `cmd` to completion or until `timeout`, reading both pipes on threads so that a chatty
/// child cannot block on a full pipe.
pub fn run(cmd: &mut Command, timeout: Duration) -> Result<Finished, ProcError> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| ProcError::Start {
            program: program.clone(),
            source,
        })?;
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let err = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(ProcError::Timeout {
                    program,
                    after: timeout,
                });
            }
            // Polling a child for its exit: a wait loop, not an ordering device.
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(source) => return Err(ProcError::Wait { program, source }),
        }
    };
    let elapsed = start.elapsed();
    Ok(Finished {
        code: status.code(),
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
        elapsed,
    })
}

/// A fresh directory under the system temp directory, removed with everything in it on drop.
#[derive(Debug)]
pub struct Scratch {
    path: PathBuf,
}

impl Scratch {
    /// Creates `gmr-lab-<tag>-<pid>-<n>-<nanos>`; `create_dir` (not `_all`) fails if it exists, so
    /// two scratch directories are never the same one.
    pub fn new(tag: &str) -> std::io::Result<Scratch> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!(
            "gmr-lab-{tag}-{}-{}-{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let path = std::env::temp_dir().join(name);
        std::fs::create_dir(&path)?;
        Ok(Scratch { path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scratch_directories_are_distinct_and_removed_on_drop() {
        let a = Scratch::new("t").unwrap();
        let b = Scratch::new("t").unwrap();
        assert_ne!(a.path(), b.path());
        std::fs::write(a.path().join("f"), "x").unwrap();
        let kept = a.path().to_path_buf();
        drop(a);
        assert!(!kept.exists());
        assert!(b.path().is_dir());
    }

    #[cfg(unix)]
    #[test]
    fn run_reports_the_exit_code_and_both_streams() {
        let f = run(
            Command::new("sh").args(["-c", "echo out; echo err >&2; exit 66"]),
            TIMEOUT,
        )
        .unwrap();
        assert_eq!(f.code, Some(66));
        assert_eq!(f.stdout, "out\n");
        assert_eq!(f.stderr, "err\n");
    }

    #[cfg(unix)]
    #[test]
    fn run_kills_a_child_that_outlives_its_timeout() {
        let r = run(
            Command::new("sh").args(["-c", "while :; do :; done"]),
            Duration::from_millis(200),
        );
        assert!(matches!(r, Err(ProcError::Timeout { .. })), "{r:?}");
    }
}
