use std::process::ExitCode;

use catalog::{Registry, Section, Status};
use serde::Serialize;

use crate::cmd::what_runs;
use crate::out;

#[derive(Serialize)]
struct Row<'a> {
    id: &'a str,
    section: Section,
    title_zh: &'a str,
    title_en: &'a str,
    status: Status,
    oracle: &'a str,
    page: Option<&'a str>,
    demos: Vec<&'a str>,
    benches: Vec<&'a str>,
}

pub fn list(registry: &Registry, section: Option<Section>, json: bool) -> anyhow::Result<ExitCode> {
    let questions: Vec<_> = catalog::questions()
        .iter()
        .filter(|q| section.is_none_or(|s| q.section == s))
        .collect();
    if json {
        let rows: Vec<Row<'_>> = questions
            .iter()
            .map(|q| Row {
                id: q.id,
                section: q.section,
                title_zh: q.title_zh,
                title_en: q.title_en,
                status: registry.status(q),
                oracle: q.oracle,
                page: catalog::page(q.id).map(|p| p.path),
                demos: registry.demos_for(q.id).iter().map(|d| d.name).collect(),
                benches: registry.benches_for(q.id).iter().map(|b| b.name).collect(),
            })
            .collect();
        out::line(serde_json::to_string_pretty(&rows)?);
        return Ok(ExitCode::SUCCESS);
    }
    let mut table = out::table(vec!["id", "题目", "question", "status", "runs"]);
    let mut counts = [0usize; 4];
    for q in &questions {
        let status = registry.status(q);
        counts[status as usize] += 1;
        let label = match status {
            Status::Verified => out::green(status.label()),
            Status::Demo => out::yellow(status.label()),
            _ => status.label().to_string(),
        };
        table.add_row(vec![
            q.id.to_string(),
            q.title_zh.to_string(),
            q.title_en.to_string(),
            label,
            what_runs(registry, q),
        ]);
    }
    out::line(table.to_string());
    out::line(format!(
        "{} questions: {} verified against the real system, {} with a demo, {} answered, {} without a page yet",
        questions.len(),
        counts[Status::Verified as usize],
        counts[Status::Demo as usize],
        counts[Status::Answered as usize],
        counts[Status::NoPage as usize],
    ));
    Ok(ExitCode::SUCCESS)
}
