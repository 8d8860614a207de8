//! Scenario benchmarks: our analogue, the crates a user would pick instead, and the real system, in
//! one run, reported as medians and ratios.
//!
//! Machines are shared and noisy, so a number alone means little: each row is the median of several
//! runs, and the ratio to the suite's baseline (usually the real system) is computed within the
//! same run. The report records the machine and versions next to the numbers.

use serde::Serialize;

use crate::demo::DemoError;
use crate::env::{Env, Probe};

/// A named group of scenarios, registered by a topic crate and run by `lab bench <name>`.
#[derive(Debug, Clone, Copy)]
pub struct BenchSuite {
    pub name: &'static str,
    pub about: &'static str,
    /// The questions whose answers these numbers back.
    pub questions: &'static [&'static str],
    pub run: fn(&mut BenchCtx<'_>) -> Result<BenchReport, DemoError>,
}

/// What a running suite can use.
pub struct BenchCtx<'a> {
    pub env: &'a Env,
    /// `--quick`: fewer iterations and runs, for CI and a first look.
    pub quick: bool,
    progress: &'a mut dyn FnMut(&str),
}

impl std::fmt::Debug for BenchCtx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BenchCtx")
            .field("quick", &self.quick)
            .finish()
    }
}

impl<'a> BenchCtx<'a> {
    pub fn new(env: &'a Env, quick: bool, progress: &'a mut dyn FnMut(&str)) -> Self {
        BenchCtx {
            env,
            quick,
            progress,
        }
    }

    /// Tells the user what is being measured now.
    pub fn step(&mut self, what: &str) {
        (self.progress)(what);
    }

    /// Runs a Go benchmark program (`cmd/<name>` in `go/`) and parses its JSON. Without Go: `None`,
    /// with a note in `report`, or an error under `CI=true`, where a missing Go is a failure.
    pub fn run_go<T: serde::de::DeserializeOwned>(
        &mut self,
        report: &mut BenchReport,
        program: &str,
        args: &[&str],
    ) -> Result<Option<T>, DemoError> {
        self.step(&format!("Go: go run ./{program}"));
        match self.env.go() {
            Ok(go) => Ok(Some(go.run_json(program, args)?)),
            Err(why) if self.env.ci => Err(DemoError::Unavailable(format!(
                "{why} (CI=true: Go is required)"
            ))),
            Err(why) => {
                report.notes.push(format!("Go rows skipped: {why}"));
                Ok(None)
            }
        }
    }

    /// How many times to repeat each measurement: 3 with `--quick`, else 7.
    pub fn runs(&self) -> usize {
        if self.quick { 3 } else { 7 }
    }
}

/// Summary of repeated measurements of one thing.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Stats {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub runs: usize,
}

impl Stats {
    /// Median, min and max of `samples`; `None` when there are none or any is not a number.
    pub fn of(samples: &[f64]) -> Option<Stats> {
        if samples.is_empty() || samples.iter().any(|s| !s.is_finite()) {
            return None;
        }
        let mut v = samples.to_vec();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let median = if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        };
        Some(Stats {
            median,
            min: v[0],
            max: v[n - 1],
            runs: n,
        })
    }
}

/// Calls `one_run` `runs` times (each returns one figure, e.g. ns/op) and summarises.
pub fn measure(runs: usize, mut one_run: impl FnMut() -> f64) -> Option<Stats> {
    let samples: Vec<f64> = (0..runs.max(1)).map(|_| one_run()).collect();
    Stats::of(&samples)
}

/// One implementation in one scenario.
#[derive(Debug, Clone, Serialize)]
pub struct BenchRow {
    pub scenario: String,
    pub implementation: String,
    pub stats: Option<Stats>,
    /// `median / baseline median` in the same scenario (lower is faster when the unit is a cost).
    pub ratio: Option<f64>,
    /// Why there is no figure (e.g. "skipped: go not found").
    pub note: Option<String>,
}

/// What a suite measured.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    pub suite: String,
    /// Unit of the figures, e.g. `ns/op`.
    pub unit: String,
    /// The implementation ratios are relative to.
    pub baseline: String,
    pub rows: Vec<BenchRow>,
    /// Plain-words remarks: what surprised, what was left out.
    pub notes: Vec<String>,
}

impl BenchReport {
    pub fn new(suite: &str, unit: &str, baseline: &str) -> Self {
        BenchReport {
            suite: suite.into(),
            unit: unit.into(),
            baseline: baseline.into(),
            rows: Vec::new(),
            notes: Vec::new(),
        }
    }

    pub fn push(&mut self, scenario: &str, implementation: &str, stats: Option<Stats>) {
        self.rows.push(BenchRow {
            scenario: scenario.into(),
            implementation: implementation.into(),
            note: stats.is_none().then(|| "no valid measurement".to_string()),
            stats,
            ratio: None,
        });
    }

    pub fn skip(&mut self, scenario: &str, implementation: &str, why: &str) {
        self.rows.push(BenchRow {
            scenario: scenario.into(),
            implementation: implementation.into(),
            stats: None,
            ratio: None,
            note: Some(why.into()),
        });
    }

    /// Fills in each row's ratio to the baseline of its scenario. Where the baseline has no figure
    /// (Go missing, say), ratios are relative to the first measured row of the scenario instead, and
    /// a note says so.
    pub fn compute_ratios(&mut self) {
        let mut scenarios: Vec<String> = Vec::new();
        for r in &self.rows {
            if !scenarios.contains(&r.scenario) {
                scenarios.push(r.scenario.clone());
            }
        }
        for sc in scenarios {
            let base = self
                .rows
                .iter()
                .find(|r| r.scenario == sc && r.implementation == self.baseline)
                .and_then(|r| r.stats);
            let (base, label) = match base {
                Some(b) => (Some(b), self.baseline.clone()),
                None => {
                    let first = self
                        .rows
                        .iter()
                        .find(|r| r.scenario == sc && r.stats.is_some());
                    (
                        first.and_then(|r| r.stats),
                        first.map(|r| r.implementation.clone()).unwrap_or_default(),
                    )
                }
            };
            if label != self.baseline && !label.is_empty() {
                self.notes.push(format!(
                    "{sc}: {} has no figure, ratios are relative to {label}",
                    self.baseline
                ));
            }
            for r in self.rows.iter_mut().filter(|r| r.scenario == sc) {
                r.ratio = match (r.stats, base) {
                    (Some(s), Some(b)) if b.median > 0.0 => Some(s.median / b.median),
                    _ => None,
                };
            }
        }
    }
}

/// The machine and versions a benchmark ran on, saved with the numbers.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub cpus: usize,
    pub os: String,
    pub arch: String,
    pub cpu_model: Option<String>,
    pub rustc: String,
    pub go: Option<String>,
    pub redis: Option<String>,
    pub mysql: Option<String>,
    pub lab_version: String,
    /// Versions of the crates under comparison (crossbeam-channel, flume, tokio, ...), from the
    /// workspace's `Cargo.lock` at build time.
    pub crates: std::collections::BTreeMap<String, String>,
    /// `release` or `debug`: debug-build figures say little about either side.
    pub profile: String,
}

impl Machine {
    pub fn describe(env: &Env) -> Machine {
        let cpu_model = std::fs::read_to_string("/proc/cpuinfo").ok().and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        });
        Machine {
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            os: std::env::consts::OS.into(),
            arch: std::env::consts::ARCH.into(),
            cpu_model,
            rustc: env!("LAB_RUSTC_VERSION").into(),
            go: env.go().ok().map(|g| g.version.clone()),
            redis: match env.redis_probe() {
                Probe::Up(i) => Some(i.version.clone()),
                Probe::Down(_) => None,
            },
            mysql: match env.mysql_probe() {
                Probe::Up(i) => Some(format!("{} {}", i.flavor, i.version)),
                Probe::Down(_) => None,
            },
            lab_version: env!("CARGO_PKG_VERSION").into(),
            crates: crate_versions(env!("LAB_CRATE_VERSIONS")),
            profile: if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            }
            .into(),
        }
    }
}

/// The rustc that built the lab.
pub fn rustc_version() -> &'static str {
    env!("LAB_RUSTC_VERSION")
}

/// Parses the `name=version,...` list the build script takes from `Cargo.lock`.
fn crate_versions(list: &str) -> std::collections::BTreeMap<String, String> {
    let mut map = std::collections::BTreeMap::new();
    for (name, version) in list.split(',').filter_map(|p| p.split_once('=')) {
        map.entry(name.to_string())
            .and_modify(|v: &mut String| {
                v.push_str(" + ");
                v.push_str(version);
            })
            .or_insert_with(|| version.to_string());
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crate_versions_come_from_the_lock_file() {
        let built = crate_versions(env!("LAB_CRATE_VERSIONS"));
        for name in ["crossbeam-channel", "flume", "tokio", "parking_lot"] {
            assert!(built.contains_key(name), "{name} missing from {built:?}");
        }
        let two = crate_versions("a=1.0,a=2.0,b=3");
        assert_eq!(two["a"], "1.0 + 2.0");
        assert_eq!(two["b"], "3");
        assert!(crate_versions("").is_empty());
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(Stats::of(&[3.0, 1.0, 2.0]).unwrap().median, 2.0);
        assert_eq!(Stats::of(&[4.0, 1.0, 2.0, 3.0]).unwrap().median, 2.5);
        assert!(Stats::of(&[]).is_none());
        assert!(Stats::of(&[1.0, f64::NAN]).is_none());
    }

    #[test]
    fn ratios_are_per_scenario_and_fall_back_when_the_baseline_is_missing() {
        let s = |m: f64| Stats::of(&[m]);
        let mut r = BenchReport::new("t", "ns/op", "go");
        r.push("a", "go", s(10.0));
        r.push("a", "rust", s(5.0));
        r.skip("b", "go", "skipped: go not found");
        r.push("b", "rust", s(4.0));
        r.push("b", "other", s(8.0));
        r.compute_ratios();
        let ratio = |sc: &str, imp: &str| {
            r.rows
                .iter()
                .find(|x| x.scenario == sc && x.implementation == imp)
                .unwrap()
                .ratio
        };
        assert_eq!(ratio("a", "rust"), Some(0.5));
        assert_eq!(ratio("a", "go"), Some(1.0));
        assert_eq!(ratio("b", "go"), None);
        assert_eq!(ratio("b", "other"), Some(2.0));
        assert!(r.notes.iter().any(|n| n.contains("relative to rust")));
    }
}
