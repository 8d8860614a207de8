//! The Go side: `go/cmd/go09-race` built with and without `-race`, and how to read what it says.
//!
//! The program counts with goroutines released together, in one of four variants (`racy`, `mutex`,
//! `atomic`, `channel`), and prints a [`GoCount`]. Built with `-race`, the racy variant also makes
//! the race detector write reports like this one to stderr:
//!
//! ```text
//!   ==================
//!   WARNING: DATA RACE
//!   Read at 0x00c000096088 by goroutine 9:
//!     main.racy.func1()
//!         /…/go/cmd/go09-race/main.go:71 +0x3c        ← the `counter++` line
//!     main.release.func1()
//!         /…/go/cmd/go09-race/main.go:58 +0xa8
//!
//!   Previous write at 0x00c000096088 by goroutine 10:
//!     main.racy.func1()
//!         /…/go/cmd/go09-race/main.go:71 +0x4e
//!   …
//!   ==================
//!   Found 2 data race(s)
//! ```
//!
//! Then the process exits with status 66, or with the status `GORACE=exitcode=N` asks for. `go run`
//! passes nothing through: it prints `exit status 66` and exits 1 itself. [`RaceReport::parse`]
//! reads the reports, and [`go_run_exit_status`] reads that last line.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

use crate::process::{self, Finished, Scratch};
use catalog::DemoError;

/// The Go program, relative to the lab's `go/` module.
pub const PROGRAM: &str = "cmd/go09-race";

/// What `go/cmd/go09-race` prints, field for field.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoCount {
    pub go_version: String,
    pub gomaxprocs: u32,
    pub num_cpu: u32,
    /// The binary was built with `-race` (the `race` build tag was set).
    pub race_enabled: bool,
    pub variant: String,
    pub goroutines: u64,
    pub each: u64,
    pub expected: u64,
    /// One count per attempt; the program stops at the first count that is not `expected`.
    pub counts: Vec<u64>,
    pub elapsed_ns: Vec<u64>,
    /// Peak resident memory of the process (Linux `VmHWM`; 0 where unknown), race detector's
    /// shadow memory included.
    pub peak_rss_kib: u64,
}

impl GoCount {
    /// The first attempt that lost updates, as (attempt number from 1, updates lost).
    pub fn first_loss(&self) -> Option<(usize, u64)> {
        self.counts
            .iter()
            .position(|&c| c != self.expected)
            .map(|i| (i + 1, self.expected.saturating_sub(self.counts[i])))
    }
}

/// One stack frame of a race report: `main.racy.func1()` at `/…/main.go:71`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub function: String,
    pub file: String,
    pub line: u32,
}

/// What the race detector wrote to stderr.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RaceReport {
    /// `WARNING: DATA RACE` blocks.
    pub warnings: usize,
    /// The `Found N data race(s)` summary printed at exit, if any.
    pub found: Option<usize>,
    /// Every frame of every report, in order.
    pub frames: Vec<Frame>,
}

impl RaceReport {
    /// Reads the reports out of a program's stderr (anything else there is ignored).
    pub fn parse(stderr: &str) -> RaceReport {
        let mut r = RaceReport::default();
        let lines: Vec<&str> = stderr.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let t = line.trim();
            if t == "WARNING: DATA RACE" {
                r.warnings += 1;
            } else if let Some(n) = t
                .strip_prefix("Found ")
                .and_then(|rest| rest.strip_suffix(" data race(s)"))
                .and_then(|n| n.parse().ok())
            {
                r.found = Some(n);
            } else if let (Some(function), Some(next)) = (t.strip_suffix("()"), lines.get(i + 1)) {
                // A frame is "  pkg.func()" followed by "      /path/file.go:LINE +0xOFF".
                let place = next.trim().split(' ').next().unwrap_or("");
                if let Some((file, line)) = place.rsplit_once(':')
                    && let Ok(line) = line.parse()
                    && file.ends_with(".go")
                {
                    r.frames.push(Frame {
                        function: function.to_string(),
                        file: file.to_string(),
                        line,
                    });
                }
            }
        }
        r
    }

    /// Whether some frame is in a function whose name starts with `function` (closures add
    /// `.func1`), in a file named `file`, at `line`.
    pub fn points_at(&self, function: &str, file: &str, line: u32) -> bool {
        self.frames.iter().any(|f| {
            f.function.starts_with(function)
                && Path::new(&f.file).file_name().is_some_and(|n| n == file)
                && f.line == line
        })
    }

    /// The claim about a racy run: at least one report, the exit summary agrees with the number
    /// of reports, and a report points at the racing line.
    pub fn shows_race_at(&self, function: &str, file: &str, line: u32) -> Result<(), String> {
        if self.warnings == 0 {
            return Err("no `WARNING: DATA RACE` on stderr".into());
        }
        if self.found != Some(self.warnings) {
            return Err(format!(
                "{} reports, but the exit summary says {:?}",
                self.warnings, self.found
            ));
        }
        if !self.points_at(function, file, line) {
            return Err(format!(
                "no frame of {function} at {file}:{line}; frames: {:?}",
                self.frames
            ));
        }
        Ok(())
    }
}

/// The status `go run` reports for its program: its last `exit status N` line. `None` when the
/// program exited 0 (then `go run` prints no such line).
pub fn go_run_exit_status(go_stderr: &str) -> Option<i32> {
    go_stderr
        .lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("exit status ")?.parse().ok())
}

/// The 1-based line of the first `needle` inside the Go function `func` in `source`, so a check
/// can follow the program when it is edited instead of hard-coding a line number.
pub fn line_in_func(source: &str, func: &str, needle: &str) -> Option<u32> {
    let header = format!("func {func}(");
    let start = source.lines().position(|l| l.starts_with(&header))?;
    source
        .lines()
        .enumerate()
        .skip(start + 1)
        .take_while(|(_, l)| !l.starts_with('}'))
        .find(|(_, l)| l.trim() == needle)
        .and_then(|(i, _)| u32::try_from(i + 1).ok())
}

/// Whether a failed `go build -race` failed because the race detector cannot be built here (no
/// cgo or no C compiler, or an unsupported platform), not because the program is wrong.
pub fn race_unavailable(build_error: &str) -> bool {
    ["requires cgo", "C compiler", "-race is not supported"]
        .iter()
        .any(|s| build_error.contains(s))
}

/// The program built with and without `-race` into a scratch directory.
#[derive(Debug)]
pub struct Binaries {
    pub race: PathBuf,
    pub plain: PathBuf,
    pub source: String,
    /// How long `go build -race` took: long the first time (the runtime and standard library are
    /// compiled with instrumentation), short once they are in Go's build cache.
    pub race_build: std::time::Duration,
    _dir: Scratch,
}

/// Builds both binaries. A missing cgo/C compiler is [`DemoError::Unavailable`], with the reason.
pub fn build(go: &gotool::Go) -> Result<Binaries, DemoError> {
    let dir = Scratch::new("go09").map_err(|e| DemoError::Broken(format!("scratch dir: {e}")))?;
    let race = dir.path().join("go09-race-race");
    let plain = dir.path().join("go09-race-plain");
    let t = std::time::Instant::now();
    match go.build(PROGRAM, &["-race"], &race) {
        Ok(()) => {}
        Err(gotool::GoError::Failed { stderr, .. }) if race_unavailable(&stderr) => {
            return Err(DemoError::Unavailable(format!(
                "`go build -race` cannot build the race detector here (it needs cgo and a C \
                 compiler such as gcc; set CGO_ENABLED=1 and CC): {}",
                stderr.lines().last().unwrap_or("").trim()
            )));
        }
        Err(e) => return Err(e.into()),
    }
    let race_build = t.elapsed();
    go.build(PROGRAM, &[], &plain)?;
    let source = std::fs::read_to_string(go.module_dir.join(PROGRAM).join("main.go"))
        .map_err(|e| DemoError::Broken(format!("read {PROGRAM}/main.go: {e}")))?;
    Ok(Binaries {
        race,
        plain,
        source,
        race_build,
        _dir: dir,
    })
}

/// Runs a built binary with `args`, `GORACE` set to `gorace` (or removed when `None`).
pub fn run(bin: &Path, args: &[&str], gorace: Option<&str>) -> Result<Finished, DemoError> {
    let mut cmd = Command::new(bin);
    cmd.args(args);
    match gorace {
        Some(v) => cmd.env("GORACE", v),
        None => cmd.env_remove("GORACE"),
    };
    process::run(&mut cmd, process::TIMEOUT).map_err(|e| DemoError::Broken(e.to_string()))
}

/// Parses the program's JSON output.
pub fn parse_count(stdout: &str) -> Result<GoCount, DemoError> {
    serde_json::from_str(stdout.trim()).map_err(|e| {
        DemoError::Broken(format!(
            "{PROGRAM} printed something unreadable ({e}): {stdout}"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = "\
==================
WARNING: DATA RACE
Read at 0x00c000096088 by goroutine 9:
  main.racy.func1()
      /work/main/go/cmd/go09-race/main.go:71 +0x3c
  main.release.func1()
      /work/main/go/cmd/go09-race/main.go:58 +0xa8

Previous write at 0x00c000096088 by goroutine 10:
  main.racy.func1()
      /work/main/go/cmd/go09-race/main.go:71 +0x4e

Goroutine 9 (running) created at:
  main.release()
      /work/main/go/cmd/go09-race/main.go:54 +0xa6
==================
Found 1 data race(s)
";

    #[test]
    fn a_race_report_is_read_with_its_frames() {
        let r = RaceReport::parse(REPORT);
        assert_eq!(r.warnings, 1);
        assert_eq!(r.found, Some(1));
        assert_eq!(r.frames.len(), 4);
        assert_eq!(
            r.frames[0],
            Frame {
                function: "main.racy.func1".into(),
                file: "/work/main/go/cmd/go09-race/main.go".into(),
                line: 71
            }
        );
        assert_eq!(r.shows_race_at("main.racy", "main.go", 71), Ok(()));
    }

    #[test]
    fn counterexamples_no_report_wrong_line_or_wrong_summary() {
        assert!(
            RaceReport::parse("")
                .shows_race_at("main.racy", "main.go", 71)
                .is_err()
        );
        let r = RaceReport::parse(REPORT);
        assert!(r.shows_race_at("main.racy", "main.go", 72).is_err());
        assert!(r.shows_race_at("main.withMutex", "main.go", 71).is_err());
        let r = RaceReport::parse(&REPORT.replace("Found 1", "Found 2"));
        assert!(r.shows_race_at("main.racy", "main.go", 71).is_err());
    }

    #[test]
    fn go_run_status_is_the_last_exit_status_line() {
        assert_eq!(
            go_run_exit_status(&format!("{REPORT}exit status 66\n")),
            Some(66)
        );
        assert_eq!(go_run_exit_status(REPORT), None);
        assert_eq!(go_run_exit_status("exit status 3"), Some(3));
    }

    #[test]
    fn the_racing_line_is_found_inside_its_function() {
        let src = "func other() {\n\tcounter++\n}\n\nfunc racy(n int) uint64 {\n\tvar counter uint64\n\t\tcounter++\n}\n";
        assert_eq!(line_in_func(src, "racy", "counter++"), Some(7));
        assert_eq!(line_in_func(src, "missing", "counter++"), None);
        assert_eq!(line_in_func(src, "racy", "counter--"), None);
    }

    #[test]
    fn the_real_program_has_the_racing_line() {
        let src =
            std::fs::read_to_string(gotool::module_dir().join(PROGRAM).join("main.go")).unwrap();
        assert!(line_in_func(&src, "racy", "counter++").is_some());
    }

    #[test]
    fn a_missing_c_toolchain_is_told_apart_from_a_broken_program() {
        assert!(race_unavailable(
            "go: -race requires cgo; enable cgo by setting CGO_ENABLED=1"
        ));
        assert!(race_unavailable(
            "cgo: C compiler \"gcc\" not found: exec: \"gcc\": executable file not found in $PATH"
        ));
        assert!(!race_unavailable("./main.go:3:2: undefined: counter"));
    }

    #[test]
    fn first_loss_names_the_attempt_and_the_updates_lost() {
        let mut c = GoCount {
            go_version: "go1.26.8".into(),
            gomaxprocs: 2,
            num_cpu: 2,
            race_enabled: false,
            variant: "racy".into(),
            goroutines: 4,
            each: 10,
            expected: 40,
            counts: vec![40, 40],
            elapsed_ns: vec![1, 1],
            peak_rss_kib: 0,
        };
        assert_eq!(c.first_loss(), None);
        c.counts.push(31);
        assert_eq!(c.first_loss(), Some((3, 9)));
    }
}
