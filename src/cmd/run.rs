use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use catalog::{Demo, Env, Need, Outcome, Registry, Section, Verdict, run_demo};
use indicatif::{ProgressBar, ProgressStyle};

use crate::cmd::resolve;
use crate::out;

/// Which demos to run.
#[derive(Debug)]
pub struct Selection {
    pub targets: Vec<String>,
    pub section: Option<Section>,
    pub all: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub allow_skip: bool,
    pub json: bool,
    pub quiet: bool,
}

/// Turns ids, demo names, `--section` and `--all` into a list of demos, or explains what is wrong.
fn select(registry: &Registry, sel: &Selection) -> anyhow::Result<Vec<&'static Demo>> {
    if sel.all {
        anyhow::ensure!(
            sel.targets.is_empty(),
            "--all runs everything: drop the ids, or drop --all"
        );
        return Ok(registry.demos().collect());
    }
    let mut demos: Vec<&'static Demo> = Vec::new();
    if let Some(section) = sel.section {
        demos.extend(
            registry
                .demos()
                .filter(|d| catalog::question(d.question()).is_some_and(|q| q.section == section)),
        );
        anyhow::ensure!(!demos.is_empty(), "no demos in section {section} yet");
    }
    for t in &sel.targets {
        if t.contains('/') {
            match registry.demo(t.trim()) {
                Some(d) => demos.push(d),
                None => {
                    let (qid, _) = t.split_once('/').unwrap_or((t, ""));
                    let known: Vec<&str> = catalog::resolve_id(qid)
                        .map(|q| registry.demos_for(q.id).iter().map(|d| d.name).collect())
                        .unwrap_or_default();
                    if known.is_empty() {
                        anyhow::bail!(
                            "no demo named {t:?}; `lab list` shows which questions have demos"
                        );
                    }
                    anyhow::bail!(
                        "no demo named {t:?}; that question has: {}",
                        known.join(", ")
                    );
                }
            }
        } else {
            let q = resolve(t)?;
            let found = registry.demos_for(q.id);
            anyhow::ensure!(
                !found.is_empty(),
                "{} has no demos yet (status: {}); `lab show {}` has its page",
                q.id,
                registry.status(q).label(),
                q.id
            );
            demos.extend(found);
        }
    }
    anyhow::ensure!(
        !demos.is_empty(),
        "name what to run: question ids (lab run go-03), demo names, --section go, or --all"
    );
    let mut seen = std::collections::HashSet::new();
    demos.retain(|d| seen.insert(d.name));
    Ok(demos)
}

pub fn run(registry: &Registry, sel: Selection, opts: Options) -> anyhow::Result<ExitCode> {
    let demos = select(registry, &sel)?;
    let env = Env::from_env()?;
    let outcomes = execute(&env, &demos, opts.quiet, opts.json);
    let counts = summarize(&outcomes, opts.json)?;
    if counts.failed > 0 {
        return Ok(ExitCode::from(1));
    }
    if counts.skipped > 0 && (env.ci || !opts.allow_skip) {
        out::err_line(format!(
            "{} demo{} did not run (see above); exit status 3. `--allow-skip` accepts that.",
            counts.skipped,
            if counts.skipped == 1 { "" } else { "s" }
        ));
        return Ok(ExitCode::from(3));
    }
    Ok(ExitCode::SUCCESS)
}

/// The main job: everything that can run here, skips allowed, then what to do next.
pub fn tour(registry: &Registry, verbose: bool) -> anyhow::Result<ExitCode> {
    let env = Env::from_env()?;
    let demos: Vec<&'static Demo> = registry.demos().collect();
    let questions: std::collections::BTreeSet<&str> = demos.iter().map(|d| d.question()).collect();
    out::line(out::bold(&format!(
        "gmr-lab tour: {} demos backing {} of {} questions",
        demos.len(),
        questions.len(),
        catalog::questions().len()
    )));
    for need in [Need::Go, Need::Redis, Need::Mysql] {
        let n = demos.iter().filter(|d| d.needs == need).count();
        if n > 0 {
            out::line(format!(
                "  {} ({n} demos)",
                crate::cmd::show::need_status(&env, need)
            ));
        }
    }
    out::line("");
    let outcomes = execute(&env, &demos, !verbose, false);
    let counts = summarize(&outcomes, false)?;
    if counts.skipped > 0 {
        out::line("");
        out::line(
            "To run the skipped demos: `bash scripts/services.sh up` starts Redis and MariaDB on loopback; `lab doctor` shows what is missing.",
        );
    }
    out::line(
        "Next: `lab list` for all 101 questions, `lab show go-38` for an answer page, `lab bench` for the suites (channels, counters, pool), `lab gpm` to watch the scheduler.",
    );
    Ok(if counts.failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

#[derive(Debug, Default)]
struct Counts {
    passed: usize,
    failed: usize,
    skipped: usize,
}

fn execute(env: &Env, demos: &[&'static Demo], quiet: bool, json: bool) -> Vec<Outcome> {
    let show_bar = demos.len() > 1 && std::io::stderr().is_terminal();
    let bar = if show_bar {
        let pb = ProgressBar::new(demos.len() as u64);
        pb.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} {elapsed} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        pb.enable_steady_tick(Duration::from_millis(200));
        Some(pb)
    } else {
        None
    };
    // Demo output goes to stdout, or to stderr when stdout carries JSON.
    let print = |s: String| match (&bar, json) {
        (Some(pb), _) => pb.println(s),
        (None, true) => out::err_line(s),
        (None, false) => out::line(s),
    };
    let mut outcomes = Vec::with_capacity(demos.len());
    for demo in demos {
        if let Some(pb) = &bar {
            pb.set_message(demo.name);
        }
        // A demo whose Go or server is missing gets only its one-line verdict below.
        let will_run = env.available(demo.needs).is_ok();
        if !quiet && will_run {
            print(out::bold(&format!("▶ {}", demo.name)));
            print(out::dim(&format!("  claim: {}", demo.claim)));
        }
        let started = Instant::now();
        let outcome = run_demo(demo, env, &mut |line| {
            if !quiet {
                print(format!("  {line}"));
            }
        });
        let took = format_duration(started.elapsed());
        let result = match &outcome.verdict {
            Verdict::Passed => format!("{} {} {}", out::green("✔"), demo.name, out::dim(&took)),
            Verdict::Failed(why) => format!("{} {} FAILED: {why}", out::red("✘"), demo.name),
            Verdict::Skipped(why) if will_run => {
                format!("{} {} skipped: {why}", out::yellow("–"), demo.name)
            }
            Verdict::Skipped(_) => {
                format!("{} {} skipped (see below)", out::yellow("–"), demo.name)
            }
        };
        print(result);
        if !quiet && will_run {
            print(String::new());
        }
        if let Some(pb) = &bar {
            pb.inc(1);
        }
        outcomes.push(outcome);
    }
    if let Some(pb) = bar {
        pb.finish_and_clear();
    }
    outcomes
}

fn summarize(outcomes: &[Outcome], json: bool) -> anyhow::Result<Counts> {
    let mut c = Counts::default();
    for o in outcomes {
        match o.verdict {
            Verdict::Passed => c.passed += 1,
            Verdict::Failed(_) => c.failed += 1,
            Verdict::Skipped(_) => c.skipped += 1,
        }
    }
    let say = |s: String| if json { out::err_line(s) } else { out::line(s) };
    let failed: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| matches!(o.verdict, Verdict::Failed(_)))
        .collect();
    // Skips share a handful of reasons ("Redis not reachable ..."): one line per reason.
    let mut skipped: Vec<(&str, Vec<&str>)> = Vec::new();
    for o in outcomes {
        if let Verdict::Skipped(why) = &o.verdict {
            match skipped.iter_mut().find(|(w, _)| *w == why.as_str()) {
                Some((_, demos)) => demos.push(o.demo),
                None => skipped.push((why.as_str(), vec![o.demo])),
            }
        }
    }
    if !failed.is_empty() || !skipped.is_empty() {
        say(out::bold("Not passed:"));
    }
    for o in failed {
        if let Verdict::Failed(why) = &o.verdict {
            say(format!("  {} {}: {why}", out::red("failed "), o.demo));
        }
    }
    for (why, demos) in skipped {
        say(format!(
            "  {} {} demo{}: {why}",
            out::yellow("skipped"),
            demos.len(),
            if demos.len() == 1 { "" } else { "s" }
        ));
        say(out::dim(&format!("          {}", demos.join(", "))));
    }
    // The closing line, in the plain form CI runners read: "demos: N passed, N failed, N skipped".
    say(format!(
        "demos: {} passed, {} failed, {} skipped",
        c.passed, c.failed, c.skipped
    ));
    if json {
        out::line(serde_json::to_string_pretty(outcomes)?);
    }
    Ok(c)
}

fn format_duration(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("({} ms)", d.as_millis())
    } else {
        format!("({:.1} s)", d.as_secs_f64())
    }
}
