//! Asking a real `rustc` to judge a [`Snippet`]: refuse it with the expected error codes, or build
//! it into a program that counts exactly.
//!
//! ```text
//!   Snippet.code ──write──► <scratch>/spawn_mut.rs
//!                              │ rustc --edition 2024 --error-format=json --emit=metadata
//!                              ▼
//!              stderr: one JSON diagnostic per line ──parse_diagnostics──► [Diagnostic]
//!                              │                                           │
//!                              └──────────── judge_rejection(expect, …) ◄──┘  → Ok / why not
//! ```
//!
//! Racy snippets are only type- and borrow-checked (`--emit=metadata`, what `cargo check` does):
//! the errors come from those passes, and no code is generated. Fixes are built into real
//! binaries, run, and their output compared with [`COUNT`] by [`judge_run`].

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::process::{self, Finished, ProcError, Scratch};
use crate::snippets::{COUNT, Expect, Snippet};

/// Why rustc could not be asked.
#[derive(Debug, thiserror::Error)]
pub enum RustcError {
    #[error(
        "rustc not found (looked at $RUSTC, then `rustc` on $PATH); install Rust (https://rustup.rs) or set RUSTC"
    )]
    NotFound,
    #[error("{0}")]
    Process(#[from] ProcError),
    #[error("scratch directory: {0}")]
    Io(#[from] std::io::Error),
}

/// A Rust compiler that answered `--version`.
#[derive(Debug, Clone)]
pub struct Rustc {
    pub bin: PathBuf,
    /// `rustc 1.95.0 (59807616e 2026-04-14)`, say.
    pub version: String,
}

/// `$RUSTC` if set, else the first `rustc` on `$PATH`, checked with `rustc --version`.
pub fn find() -> Result<Rustc, RustcError> {
    let bin = match std::env::var_os("RUSTC").filter(|v| !v.is_empty()) {
        Some(v) => PathBuf::from(v),
        None => std::env::var_os("PATH")
            .and_then(|path| {
                std::env::split_paths(&path)
                    .map(|d| d.join("rustc"))
                    .find(|p| p.is_file())
            })
            .ok_or(RustcError::NotFound)?,
    };
    let out = process::run(Command::new(&bin).arg("--version"), process::TIMEOUT)
        .map_err(|_| RustcError::NotFound)?;
    if out.code != Some(0) {
        return Err(RustcError::NotFound);
    }
    Ok(Rustc {
        bin,
        version: out.stdout.trim().to_string(),
    })
}

/// One message from rustc's JSON output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// `error`, `warning`, `note`, ...
    pub level: String,
    /// `E0499`, say; `None` for messages without a code ("aborting due to 2 previous errors").
    pub code: Option<String>,
    pub message: String,
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.code {
            Some(code) => write!(f, "{}[{code}]: {}", self.level, self.message),
            None => write!(f, "{}: {}", self.level, self.message),
        }
    }
}

/// What one rustc invocation produced.
#[derive(Debug, Clone)]
pub struct Compiled {
    /// rustc exited 0.
    pub success: bool,
    pub diagnostics: Vec<Diagnostic>,
    /// Lines of stderr that were not JSON (a crashed compiler, a linker message).
    pub other_stderr: String,
    pub elapsed: Duration,
    /// The program built, when asked for one and compilation succeeded.
    pub binary: Option<PathBuf>,
}

impl Compiled {
    /// The codes of the error-level diagnostics, in order, without repeats.
    pub fn error_codes(&self) -> Vec<&str> {
        let mut codes: Vec<&str> = Vec::new();
        for d in self.diagnostics.iter().filter(|d| d.level == "error") {
            if let Some(c) = d.code.as_deref().filter(|c| !codes.contains(c)) {
                codes.push(c);
            }
        }
        codes
    }
}

/// Reads rustc's `--error-format=json` stderr: one JSON object per line. Lines that are not a
/// diagnostic go to the second value, so nothing rustc said is lost.
pub fn parse_diagnostics(stderr: &str) -> (Vec<Diagnostic>, String) {
    let mut diags = Vec::new();
    let mut other = String::new();
    for line in stderr.lines().filter(|l| !l.trim().is_empty()) {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            other.push_str(line);
            other.push('\n');
            continue;
        };
        let text = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
        match (text("level"), text("message")) {
            (Some(level), Some(message)) => diags.push(Diagnostic {
                level,
                code: v
                    .get("code")
                    .and_then(|c| c.get("code"))
                    .and_then(|c| c.as_str())
                    .map(str::to_string),
                message,
            }),
            _ => {
                other.push_str(line);
                other.push('\n');
            }
        }
    }
    (diags, other)
}

impl Rustc {
    /// Type- and borrow-checks `snippet` (no code generation).
    pub fn check(&self, snippet: &Snippet, dir: &Scratch) -> Result<Compiled, RustcError> {
        self.compile(snippet, dir.path(), false)
    }

    /// Compiles `snippet` into a binary in `dir`.
    pub fn build(&self, snippet: &Snippet, dir: &Scratch) -> Result<Compiled, RustcError> {
        self.compile(snippet, dir.path(), true)
    }

    fn compile(&self, snippet: &Snippet, dir: &Path, link: bool) -> Result<Compiled, RustcError> {
        let src = dir.join(format!("{}.rs", snippet.name));
        std::fs::write(&src, snippet.code)?;
        let out = dir.join(if link {
            format!("{}{}", snippet.name, std::env::consts::EXE_SUFFIX)
        } else {
            format!("lib{}.rmeta", snippet.name)
        });
        let mut cmd = Command::new(&self.bin);
        cmd.args([
            "--edition",
            "2024",
            "--error-format=json",
            "--crate-type=bin",
        ])
        .args(["--crate-name", snippet.name])
        .arg("-o")
        .arg(&out)
        .arg(&src)
        .current_dir(dir);
        if !link {
            cmd.arg("--emit=metadata");
        }
        let f = process::run(&mut cmd, process::TIMEOUT)?;
        let (diagnostics, other_stderr) = parse_diagnostics(&f.stderr);
        let success = f.code == Some(0);
        Ok(Compiled {
            success,
            diagnostics,
            other_stderr,
            elapsed: f.elapsed,
            binary: (link && success && out.is_file()).then_some(out),
        })
    }
}

/// The rule for a racy snippet: rustc must have failed, and every code `expect` names must be
/// among its errors. Extra errors are allowed (rustc may add follow-on errors, and later versions
/// may add more), missing ones are not.
pub fn judge_rejection(expect: Expect, compiled: &Compiled) -> Result<(), String> {
    let Expect::Rejected { codes } = expect else {
        return Err("this snippet is expected to compile".into());
    };
    if compiled.success {
        return Err("rustc accepted it".into());
    }
    let got = compiled.error_codes();
    let missing: Vec<&str> = codes.iter().copied().filter(|c| !got.contains(c)).collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "rustc refused it, but without {missing:?} (its error codes: {got:?}; {})",
            compiled.other_stderr.trim()
        ))
    }
}

/// The rule for a fix: the program exited 0 and printed exactly [`COUNT`] and nothing else.
pub fn judge_run(run: &Finished) -> Result<u64, String> {
    if run.code != Some(0) {
        return Err(format!("exited with {:?}: {}", run.code, run.stderr.trim()));
    }
    let printed = run.stdout.trim();
    match printed.parse::<u64>() {
        Ok(n) if n == COUNT => Ok(n),
        Ok(n) => Err(format!(
            "printed {n}, not {COUNT}: {} updates lost",
            COUNT.saturating_sub(n)
        )),
        Err(_) => Err(format!("printed {printed:?}, not a count")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snippets::{FIX_MUTEX, SCOPE_MUT, SPAWN_MUT};

    const E0499: &str = r#"{"$message_type":"diagnostic","message":"cannot borrow `counter` as mutable more than once at a time","code":{"code":"E0499","explanation":"..."},"level":"error","spans":[],"children":[],"rendered":"error[E0499]: ..."}"#;
    const E0373: &str = r#"{"$message_type":"diagnostic","message":"closure may outlive the current function, but it borrows `counter`","code":{"code":"E0373","explanation":"..."},"level":"error","spans":[],"children":[],"rendered":"..."}"#;
    const ABORT: &str = r#"{"$message_type":"diagnostic","message":"aborting due to 1 previous error","code":null,"level":"error","spans":[],"children":[],"rendered":"error: aborting"}"#;

    fn compiled(success: bool, stderr: &str) -> Compiled {
        let (diagnostics, other_stderr) = parse_diagnostics(stderr);
        Compiled {
            success,
            diagnostics,
            other_stderr,
            elapsed: Duration::ZERO,
            binary: None,
        }
    }

    fn finished(code: Option<i32>, stdout: &str) -> Finished {
        Finished {
            code,
            stdout: stdout.into(),
            stderr: String::new(),
            elapsed: Duration::ZERO,
        }
    }

    #[test]
    fn diagnostics_keep_codes_and_set_aside_what_is_not_json() {
        let c = compiled(false, &format!("{E0499}\n{ABORT}\nnot json\n"));
        assert_eq!(c.diagnostics.len(), 2);
        assert_eq!(c.error_codes(), ["E0499"]);
        assert_eq!(c.other_stderr, "not json\n");
        assert_eq!(
            c.diagnostics[0].to_string(),
            "error[E0499]: cannot borrow `counter` as mutable more than once at a time"
        );
    }

    #[test]
    fn a_rejection_with_the_expected_codes_passes() {
        let c = compiled(false, &format!("{E0373}\n{E0499}\n{E0499}\n{ABORT}\n"));
        assert_eq!(judge_rejection(SPAWN_MUT.expect, &c), Ok(()));
        assert_eq!(judge_rejection(SCOPE_MUT.expect, &c), Ok(()));
    }

    #[test]
    fn counterexamples_accepted_or_refused_for_another_reason_fail() {
        // Accepted: the check must fail.
        assert!(judge_rejection(SCOPE_MUT.expect, &compiled(true, "")).is_err());
        // Refused, but without E0373: the check must fail too.
        let only_e0499 = compiled(false, &format!("{E0499}\n{ABORT}\n"));
        let why = judge_rejection(SPAWN_MUT.expect, &only_e0499).unwrap_err();
        assert!(why.contains("E0373"), "{why}");
        // Refused with no code at all (a crashed compiler, say).
        assert!(judge_rejection(SCOPE_MUT.expect, &compiled(false, "boom")).is_err());
        // A fix is never judged as a rejection.
        assert!(judge_rejection(FIX_MUTEX.expect, &only_e0499).is_err());
    }

    #[test]
    fn a_run_counts_exactly_or_fails() {
        assert_eq!(judge_run(&finished(Some(0), "400000\n")), Ok(400_000));
        let lost = judge_run(&finished(Some(0), "399998\n")).unwrap_err();
        assert!(lost.contains("2 updates lost"), "{lost}");
        assert!(judge_run(&finished(Some(101), "400000\n")).is_err());
        assert!(judge_run(&finished(None, "")).is_err());
        assert!(judge_run(&finished(Some(0), "four hundred thousand")).is_err());
    }
}
