//! One module per subcommand.

pub mod bench;
pub mod doctor;
pub mod gpm;
pub mod hermitage;
pub mod list;
pub mod run;
pub mod search;
pub mod serve;
pub mod show;
pub mod zset;

use catalog::{Need, Question, Registry};

/// A question id as typed by the user, or a clear error naming the closest ids.
pub fn resolve(id: &str) -> anyhow::Result<&'static Question> {
    catalog::resolve_id(id).ok_or_else(|| unknown_id(id))
}

pub fn unknown_id(id: &str) -> anyhow::Error {
    let near = catalog::closest_ids(id, 3);
    anyhow::anyhow!(
        "unknown question id {id:?}; closest: {} (`lab list` shows all 101, `lab search <words>` finds by title)",
        near.join(", ")
    )
}

/// "2 demos (go, redis) · 1 bench" for tables.
pub fn what_runs(registry: &Registry, q: &Question) -> String {
    let demos = registry.demos_for(q.id);
    let benches = registry.benches_for(q.id);
    let mut parts = Vec::new();
    if !demos.is_empty() {
        let mut needs: Vec<Need> = demos.iter().map(|d| d.needs).collect();
        needs.sort();
        needs.dedup();
        let needs: Vec<&str> = needs.iter().map(|n| n.label()).collect();
        parts.push(format!(
            "{} demo{} ({})",
            demos.len(),
            if demos.len() == 1 { "" } else { "s" },
            needs.join(", ")
        ));
    }
    if !benches.is_empty() {
        let names: Vec<&str> = benches.iter().map(|b| b.name).collect();
        parts.push(format!("bench {}", names.join(", ")));
    }
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join(" · ")
    }
}
