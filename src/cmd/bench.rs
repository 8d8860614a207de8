use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use catalog::{BenchCtx, BenchReport, BenchSuite, Env, Machine, Registry};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::out;

/// The JSON file `lab bench` writes: the machine and versions beside the numbers.
#[derive(Serialize)]
struct Saved<'a> {
    machine: &'a Machine,
    quick: bool,
    /// Seconds since the Unix epoch.
    started_at: u64,
    suites: &'a [BenchReport],
}

pub fn bench(
    registry: &Registry,
    names: &[String],
    quick: bool,
    json: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    if names.is_empty() {
        out::line("Benchmark suites (run with `lab bench <suite> [--quick] [--json FILE]`):");
        for b in registry.benches() {
            out::line(format!(
                "  {:<12} {}  [{}]",
                b.name,
                b.about,
                b.questions.join(", ")
            ));
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut suites: Vec<&'static BenchSuite> = Vec::new();
    for n in names {
        let suite = registry.bench(n.trim()).ok_or_else(|| {
            let known: Vec<&str> = registry.benches().map(|b| b.name).collect();
            anyhow::anyhow!("no benchmark suite {n:?}; there are: {}", known.join(", "))
        })?;
        if !suites.iter().any(|s| s.name == suite.name) {
            suites.push(suite);
        }
    }
    let env = Env::from_env()?;
    let machine = Machine::describe(&env);
    let started_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    out::line(out::dim(&format!(
        "{} CPUs ({}), {}, go {}, redis {}, mysql {}{}",
        machine.cpus,
        machine.cpu_model.as_deref().unwrap_or("unknown CPU"),
        machine.rustc,
        machine.go.as_deref().unwrap_or("not found"),
        machine.redis.as_deref().unwrap_or("not reachable"),
        machine.mysql.as_deref().unwrap_or("not reachable"),
        if quick { "; --quick" } else { "" }
    )));
    if !machine.crates.is_empty() {
        let crates: Vec<String> = machine
            .crates
            .iter()
            .map(|(name, version)| format!("{name} {version}"))
            .collect();
        out::line(out::dim(&format!("crates: {}", crates.join(", "))));
    }

    if machine.profile == "debug" {
        out::err_line(out::yellow(
            "warning: this is a debug build; its figures are not comparable with Go's. Use `cargo run --release -- bench ...`.",
        ));
    }
    let mut reports = Vec::new();
    let mut failed = false;
    for suite in suites {
        let spinner = std::io::stderr().is_terminal().then(|| {
            let pb = ProgressBar::new_spinner();
            pb.set_style(
                ProgressStyle::with_template("{spinner} {elapsed} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            pb.enable_steady_tick(Duration::from_millis(120));
            pb
        });
        let mut progress = |msg: &str| match &spinner {
            Some(pb) => pb.set_message(format!("{}: {msg}", suite.name)),
            None => out::err_line(format!("  {}: {msg}", suite.name)),
        };
        let mut ctx = BenchCtx::new(&env, quick, &mut progress);
        let result = (suite.run)(&mut ctx);
        if let Some(pb) = spinner {
            pb.finish_and_clear();
        }
        match result {
            Ok(report) => {
                print_report(&report);
                reports.push(report);
            }
            Err(e) => {
                out::error(&format!("suite {}: {e}", suite.name));
                failed = true;
            }
        }
    }
    if !reports.is_empty() {
        let path = json.unwrap_or_else(|| {
            let names: Vec<&str> = reports.iter().map(|r| r.suite.as_str()).collect();
            PathBuf::from("bench-results").join(format!("{}.json", names.join("+")))
        });
        let saved = Saved {
            machine: &machine,
            quick,
            started_at,
            suites: &reports,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
        }
        std::fs::write(&path, serde_json::to_string_pretty(&saved)?)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
        out::line(format!("saved {}", path.display()));
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn print_report(r: &BenchReport) {
    out::line(out::bold(&format!(
        "\n{} ({}; ratio to {})",
        r.suite, r.unit, r.baseline
    )));
    let mut table = out::table(vec![
        "scenario",
        "implementation",
        "median",
        "min … max",
        "ratio",
    ]);
    for row in &r.rows {
        let (median, range) = match row.stats {
            Some(s) => (
                format!("{:.1}", s.median),
                format!("{:.1} … {:.1} ({} runs)", s.min, s.max, s.runs),
            ),
            None => ("-".into(), row.note.clone().unwrap_or_default()),
        };
        let ratio = row.ratio.map_or("-".into(), |x| format!("{x:.2}×"));
        table.add_row(vec![
            row.scenario.clone(),
            row.implementation.clone(),
            median,
            range,
            ratio,
        ]);
    }
    out::line(table.to_string());
    for n in &r.notes {
        out::line(out::dim(&format!("  note: {n}")));
    }
}
