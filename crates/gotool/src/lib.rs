//! The real Go toolchain, used as the oracle for every claim about Go.
//!
//! The lab keeps its Go reference programs in `go/` (one module, standard library only). A check
//! that compares Rust with Go asks this crate to `go run` a program there and reads what it prints,
//! usually one JSON document. Without Go the check is skipped with [`GoError::NotFound`], which says
//! how to get Go; in CI that skip counts as a failure (the runner decides, not this crate).
//!
//! `GOTOOLCHAIN=local` is always set: the lab must never try to download a toolchain.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long one `go run` may take, including the first compile of a program.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(180);

/// Why a Go check could not run or produced nothing usable.
#[derive(Debug, thiserror::Error)]
pub enum GoError {
    #[error(
        "go not found (looked at $LAB_GO, $PATH and /usr/local/go/bin/go); install Go 1.22+ (https://go.dev/dl/) or set LAB_GO"
    )]
    NotFound,
    #[error(
        "the Go reference programs are not at {0} (set LAB_GO_DIR to the repository's go/ directory)"
    )]
    ModuleMissing(PathBuf),
    #[error("`go {args}` failed ({status}): {stderr}")]
    Failed {
        args: String,
        status: String,
        stderr: String,
    },
    #[error("`go {args}` did not finish within {after:?}")]
    Timeout { args: String, after: Duration },
    #[error("`go run {program}` printed something the lab cannot read: {reason}")]
    BadOutput { program: String, reason: String },
    #[error("could not start go: {0}")]
    Io(#[from] std::io::Error),
}

/// A Go toolchain that answered `go version`, plus where the lab's Go programs are.
#[derive(Debug, Clone)]
pub struct Go {
    pub bin: PathBuf,
    /// `go1.26.8 linux/amd64`, say.
    pub version: String,
    pub module_dir: PathBuf,
}

/// What a Go program printed.
#[derive(Debug, Clone)]
pub struct Output {
    pub stdout: String,
    pub stderr: String,
    /// False when the program exited non-zero (only returned by [`Go::run_allow_failure`]).
    pub success: bool,
}

/// Where the lab's `go/` directory is: `$LAB_GO_DIR`, else the one in this checkout.
pub fn module_dir() -> PathBuf {
    match std::env::var_os("LAB_GO_DIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../go");
            dir.canonicalize().unwrap_or(dir)
        }
    }
}

/// Finds `go` and asks its version. Never panics; a missing Go is [`GoError::NotFound`].
pub fn find() -> Result<Go, GoError> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(p) = std::env::var_os("LAB_GO").filter(|p| !p.is_empty()) {
        candidates.push(PathBuf::from(p));
    } else {
        if let Some(path) = std::env::var_os("PATH") {
            candidates.extend(std::env::split_paths(&path).map(|d| d.join("go")));
        }
        candidates.push(PathBuf::from("/usr/local/go/bin/go"));
    }
    let bin = candidates
        .into_iter()
        .find(|p| p.is_file())
        .ok_or(GoError::NotFound)?;
    let out = Command::new(&bin)
        .arg("version")
        .env("GOTOOLCHAIN", "local")
        .output()
        .map_err(|_| GoError::NotFound)?;
    if !out.status.success() {
        return Err(GoError::NotFound);
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let version = text
        .trim()
        .strip_prefix("go version ")
        .unwrap_or(text.trim())
        .to_string();
    let module_dir = module_dir();
    if !module_dir.join("go.mod").is_file() {
        return Err(GoError::ModuleMissing(module_dir));
    }
    Ok(Go {
        bin,
        version,
        module_dir,
    })
}

impl Go {
    /// Runs `go <args>` in the lab's module, failing on a non-zero exit.
    pub fn go(&self, args: &[&str]) -> Result<Output, GoError> {
        let out = self.go_allow_failure(args)?;
        if out.success {
            Ok(out)
        } else {
            Err(GoError::Failed {
                args: args.join(" "),
                status: "non-zero exit".into(),
                stderr: tail(&out.stderr, 2000),
            })
        }
    }

    /// `go run ./<program> <args>` (`program` like `cmd/go03-rendezvous`), failing on a non-zero exit.
    pub fn run(&self, program: &str, args: &[&str]) -> Result<Output, GoError> {
        let pkg = format!("./{program}");
        let mut all = vec!["run", pkg.as_str()];
        all.extend_from_slice(args);
        self.go(&all)
    }

    /// Like [`Go::run`] but returns the output even when the program exits non-zero (a race report, say).
    pub fn run_allow_failure(&self, program: &str, args: &[&str]) -> Result<Output, GoError> {
        let pkg = format!("./{program}");
        let mut all = vec!["run", pkg.as_str()];
        all.extend_from_slice(args);
        self.go_allow_failure(&all)
    }

    /// `go run -race ./<program> <args>`, returning the output even when it fails. A program whose
    /// run hit a data race exits with status 66 (unless `GORACE=exitcode=N` says otherwise); `go run`
    /// then prints `exit status 66` on its stderr and fails itself. `-race` needs cgo and a C
    /// compiler: without them the build fails and `stderr` says so.
    pub fn run_race(&self, program: &str, args: &[&str]) -> Result<Output, GoError> {
        let pkg = format!("./{program}");
        let mut all = vec!["run", "-race", pkg.as_str()];
        all.extend_from_slice(args);
        self.go_allow_failure(&all)
    }

    /// `go build <flags> -o <out> ./<program>`: a binary to run several times (under different
    /// environments, say) without linking it again for each run.
    pub fn build(&self, program: &str, flags: &[&str], out: &Path) -> Result<(), GoError> {
        let pkg = format!("./{program}");
        let out = out.to_str().ok_or_else(|| {
            GoError::Io(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("output path {} is not UTF-8", out.display()),
            ))
        })?;
        let mut all = vec!["build"];
        all.extend_from_slice(flags);
        all.extend_from_slice(&["-o", out, &pkg]);
        self.go(&all).map(|_| ())
    }

    /// Runs a program and parses its standard output as one JSON document.
    pub fn run_json<T: serde::de::DeserializeOwned>(
        &self,
        program: &str,
        args: &[&str],
    ) -> Result<T, GoError> {
        let out = self.run(program, args)?;
        serde_json::from_str(&out.stdout).map_err(|e| GoError::BadOutput {
            program: program.to_string(),
            reason: format!("{e}; it printed: {}", tail(&out.stdout, 500)),
        })
    }

    fn go_allow_failure(&self, args: &[&str]) -> Result<Output, GoError> {
        if !self.module_dir.join("go.mod").is_file() {
            return Err(GoError::ModuleMissing(self.module_dir.clone()));
        }
        let mut cmd = Command::new(&self.bin);
        if ["GOCACHE", "XDG_CACHE_HOME", "HOME"]
            .iter()
            .all(|v| std::env::var_os(v).is_none_or(|x| x.is_empty()))
        {
            // `go` refuses to build without a cache directory; stripped environments may have no HOME.
            cmd.env("GOCACHE", std::env::temp_dir().join("gmr-lab-gocache"));
        }
        let mut child = cmd
            .args(args)
            .current_dir(&self.module_dir)
            .env("GOTOOLCHAIN", "local")
            .env("GOFLAGS", "-mod=mod")
            .env("GOPROXY", "off")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        // Drain both pipes on threads so a chatty program cannot block on a full pipe.
        let mut so = child.stdout.take().expect("stdout was piped");
        let mut se = child.stderr.take().expect("stderr was piped");
        let t_out = std::thread::spawn(move || {
            let mut s = Vec::new();
            let _ = so.read_to_end(&mut s);
            s
        });
        let t_err = std::thread::spawn(move || {
            let mut s = Vec::new();
            let _ = se.read_to_end(&mut s);
            s
        });
        let start = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait()? {
                break status;
            }
            if start.elapsed() > RUN_TIMEOUT {
                let _ = child.kill();
                let _ = child.wait();
                return Err(GoError::Timeout {
                    args: args.join(" "),
                    after: RUN_TIMEOUT,
                });
            }
            // Polling a child process for exit: not an ordering device, just a wait loop.
            std::thread::sleep(Duration::from_millis(10));
        };
        let stdout = String::from_utf8_lossy(&t_out.join().unwrap_or_default()).into_owned();
        let stderr = String::from_utf8_lossy(&t_err.join().unwrap_or_default()).into_owned();
        Ok(Output {
            stdout,
            stderr,
            success: status.success(),
        })
    }
}

fn tail(s: &str, max: usize) -> String {
    let s = s.trim();
    if s.len() <= max {
        return s.to_string();
    }
    let mut start = s.len() - max;
    while !s.is_char_boundary(start) {
        start += 1;
    }
    format!("…{}", &s[start..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_keeps_the_end_and_respects_char_boundaries() {
        assert_eq!(tail("abc", 10), "abc");
        // At most 4 bytes, never splitting a character: "ö" would need byte 9, so it is left out.
        assert_eq!(tail("héllo wörld", 4), "…rld");
    }

    #[test]
    fn the_module_dir_of_this_checkout_has_a_go_mod() {
        assert!(module_dir().join("go.mod").is_file(), "{:?}", module_dir());
    }
}
