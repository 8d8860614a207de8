use std::process::ExitCode;

use catalog::Registry;

use crate::out;

pub fn search(registry: &Registry, query: &str) -> anyhow::Result<ExitCode> {
    let hits = catalog::search(query);
    if hits.is_empty() {
        out::line(format!(
            "no question matches {query:?} (every word must match an id, a title, or an answer page)"
        ));
        return Ok(ExitCode::from(1));
    }
    let mut table = out::table(vec!["id", "题目", "question", "status"]);
    for q in &hits {
        table.add_row(vec![
            q.id,
            q.title_zh,
            q.title_en,
            registry.status(q).label(),
        ]);
    }
    out::line(table.to_string());
    out::line(format!(
        "{} match{}; `lab show <id>` opens one",
        hits.len(),
        if hits.len() == 1 { "" } else { "es" }
    ));
    Ok(ExitCode::SUCCESS)
}
