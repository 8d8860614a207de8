use std::process::ExitCode;

use catalog::{Env, Need, Probe, Registry};

use crate::cmd::resolve;
use crate::out;

pub fn show(registry: &Registry, id: &str) -> anyhow::Result<ExitCode> {
    let q = resolve(id)?;
    let status = registry.status(q);
    out::line(out::bold(&format!("{} · {}", q.id, q.title_zh)));
    out::line(format!(
        "{}  [{} · status: {} · judged by: {}]",
        q.title_en,
        q.section,
        status.label(),
        q.oracle
    ));
    out::line("");
    match catalog::page(q.id) {
        Some(page) => {
            // The page's own first heading repeats the title just printed.
            let body: String = page
                .text
                .lines()
                .skip_while(|l| !l.starts_with("# "))
                .skip(1)
                // ... and its italic subtitle repeats the English title.
                .skip_while(|l| {
                    l.trim().is_empty() || (l.starts_with('*') && l.trim_end().ends_with('*'))
                })
                .collect::<Vec<_>>()
                .join("\n");
            out::line(catalog::markdown::render(&body, out::color()));
            out::line(out::dim(&format!("(page: {})", page.path)));
        }
        None => out::line(format!(
            "No answer page yet (docs/{}/{}.md). How it can be shown: {}. CONTRIBUTING.md says how to add one.",
            q.section, q.id, q.shown_by
        )),
    }

    let demos = registry.demos_for(q.id);
    let benches = registry.benches_for(q.id);
    out::line("");
    out::line(out::bold("Demonstrate it"));
    if demos.is_empty() && benches.is_empty() {
        out::line("  nothing runs for this question yet");
    }
    if !demos.is_empty() {
        out::line(format!("  lab run {}", q.id));
        for d in &demos {
            out::line(format!("    {}  [{}]", d.name, d.needs.label()));
            out::line(out::dim(&format!("      {}", d.claim)));
        }
    }
    for b in &benches {
        out::line(format!("  lab bench {}   ({})", b.name, b.about));
    }

    let mut needs: Vec<Need> = demos
        .iter()
        .map(|d| d.needs)
        .filter(|n| *n != Need::Nothing)
        .collect();
    needs.sort();
    needs.dedup();
    if !needs.is_empty() {
        let env = Env::from_env()?;
        out::line("");
        out::line(out::bold("What it needs"));
        for need in needs {
            out::line(format!("  {}", need_status(&env, need)));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One line: is this real system here, and if not, how to get it.
pub fn need_status(env: &Env, need: Need) -> String {
    match need {
        Need::Nothing => "in-process: always available".into(),
        Need::Go => match env.go() {
            Ok(go) => format!(
                "{} go {} ({})",
                out::green("✔"),
                go.version,
                go.bin.display()
            ),
            Err(e) => format!("{} {e}", out::red("✘")),
        },
        Need::Redis => match env.redis_probe() {
            Probe::Up(i) => format!(
                "{} Redis {} at {}",
                out::green("✔"),
                i.version,
                env.redis_url()
            ),
            Probe::Down(why) => format!("{} {why}", out::red("✘")),
        },
        Need::Mysql => match env.mysql_probe() {
            Probe::Up(i) => format!(
                "{} {} {} at {}",
                out::green("✔"),
                i.flavor,
                i.version,
                env.mysql_url()
            ),
            Probe::Down(why) => format!("{} {why}", out::red("✘")),
        },
    }
}
