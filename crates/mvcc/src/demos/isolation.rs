//! mysql-04: which anomaly each isolation level allows, on the model and on the server.

use catalog::{Ctx, DemoError, check, check_eq};

use crate::demos::{disagreements, run_model, run_server};
use crate::engine::{Level, Options};
use crate::hermitage::report;
use crate::hermitage::schedule::{self, Schedule};

/// Where along the four levels a phenomenon shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ladder {
    /// Prevented at every level tried.
    Never,
    /// Observed at this level and every weaker one tried, and at none stronger.
    AllowedThrough(Level),
    /// Observed at some level but prevented at a weaker one.
    Irregular,
}

/// The ladder a set of (level, anomaly observed) results forms.
pub fn ladder(observed: &[(Level, bool)]) -> Ladder {
    let mut sorted = observed.to_vec();
    sorted.sort_by_key(|(l, _)| *l);
    let strongest_with = sorted.iter().rev().find(|(_, a)| *a).map(|(l, _)| *l);
    match strongest_with {
        None => Ladder::Never,
        Some(top) if sorted.iter().all(|(l, a)| *a == (*l <= top)) => Ladder::AllowedThrough(top),
        Some(_) => Ladder::Irregular,
    }
}

/// The interview answer's table, as claims: (test, the anomaly's usual name, where it stops).
const CLAIMS: [(&str, &str, Ladder); 6] = [
    ("g0", "dirty write", Ladder::Never),
    (
        "g1a",
        "dirty read",
        Ladder::AllowedThrough(Level::ReadUncommitted),
    ),
    (
        "g-single",
        "non-repeatable read / read skew",
        Ladder::AllowedThrough(Level::ReadCommitted),
    ),
    (
        "pmp",
        "phantom (plain reads)",
        Ladder::AllowedThrough(Level::ReadCommitted),
    ),
    (
        "p4",
        "lost update",
        Ladder::AllowedThrough(Level::RepeatableRead),
    ),
    (
        "g2-item",
        "write skew",
        Ladder::AllowedThrough(Level::RepeatableRead),
    ),
];

fn describe(l: Ladder) -> String {
    match l {
        Ladder::Never => "never allowed".into(),
        Ladder::AllowedThrough(Level::Serializable) => "allowed even at serializable".into(),
        Ladder::AllowedThrough(l) => format!("allowed up to {l}, gone above"),
        Ladder::Irregular => "irregular".into(),
    }
}

pub(crate) fn ladder_in_the_model(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let schedules = schedule::builtin();
    let jobs: Vec<(&Schedule, Level)> = schedules
        .iter()
        .flat_map(|s| Level::ALL.into_iter().map(move |l| (s, l)))
        .collect();
    let cells = run_model(&jobs, Options::default());
    let tests: Vec<String> = schedules.iter().map(|s| s.name.clone()).collect();
    ctx.say("hermitage's 15 tests on the InnoDB model (`lab hermitage` prints the steps):");
    ctx.say(report::table(&tests, &Level::ALL, &cells, None));
    for (test, name, claimed) in CLAIMS {
        let observed: Vec<(Level, bool)> = cells
            .iter()
            .filter(|c| c.test == test)
            .map(|c| (c.level, c.anomaly))
            .collect();
        let got = ladder(&observed);
        ctx.say(format!("{name} ({test}): {}", describe(got)));
        check_eq!(got, claimed, "{name} ({test}) on the model");
    }
    Ok(())
}

pub(crate) fn ladder_on_the_server(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    // Each claim at its boundary: the strongest level that allows it and the next one up (for a
    // phenomenon never allowed, the weakest level alone).
    let mut plan: Vec<(Schedule, Level)> = Vec::new();
    for (test, _, claimed) in CLAIMS {
        let s = schedule::by_name(test)
            .ok_or_else(|| DemoError::Broken(format!("no schedule {test}")))?;
        let levels: Vec<Level> = match claimed {
            Ladder::AllowedThrough(l) => Level::ALL
                .into_iter()
                .filter(|x| *x == l || Some(*x) == next(l))
                .collect(),
            _ => vec![Level::ReadUncommitted],
        };
        for l in levels {
            plan.push((s.clone(), l));
        }
    }
    let jobs: Vec<(&Schedule, Level)> = plan.iter().map(|(s, l)| (s, *l)).collect();
    let server = run_server(ctx, &jobs)?;
    let model = run_model(&jobs, Options::default());
    for c in &server {
        ctx.say(format!(
            "server: {:9} at {:16} -> {:9} ({})",
            c.test,
            c.level.name(),
            if c.anomaly { "anomaly" } else { "prevented" },
            c.why
        ));
    }
    for (test, name, claimed) in CLAIMS {
        let observed: Vec<(Level, bool)> = server
            .iter()
            .filter(|c| c.test == test)
            .map(|c| (c.level, c.anomaly))
            .collect();
        // Only the boundary ran: "anomaly at L, prevented at L+1" reads as AllowedThrough(L).
        let got = ladder(&observed);
        check_eq!(got, claimed, "{name} ({test}) on the server");
    }
    let diffs = disagreements(&model, &server);
    check!(
        diffs.is_empty(),
        "the model differs from the server:\n{}",
        diffs.join("\n")
    );
    ctx.say(format!(
        "the model agrees with the server on all {} cells, step by step",
        server.len()
    ));
    Ok(())
}

fn next(l: Level) -> Option<Level> {
    Level::ALL.into_iter().find(|x| *x > l)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Level::*;

    #[test]
    fn ladders_from_observations() {
        let obs = |a: [bool; 4]| -> Vec<(Level, bool)> { Level::ALL.into_iter().zip(a).collect() };
        assert_eq!(ladder(&obs([false; 4])), Ladder::Never);
        assert_eq!(
            ladder(&obs([true, false, false, false])),
            Ladder::AllowedThrough(ReadUncommitted)
        );
        assert_eq!(
            ladder(&obs([true, true, true, false])),
            Ladder::AllowedThrough(RepeatableRead)
        );
        assert_eq!(
            ladder(&obs([true; 4])),
            Ladder::AllowedThrough(Serializable)
        );
        // Counterexamples: a gap in the ladder is not a ladder.
        assert_eq!(ladder(&obs([false, true, true, false])), Ladder::Irregular);
        assert_eq!(ladder(&obs([true, false, true, false])), Ladder::Irregular);
        // Only the boundary observed: still reads as the ladder.
        assert_eq!(
            ladder(&[(RepeatableRead, true), (Serializable, false)]),
            Ladder::AllowedThrough(RepeatableRead)
        );
    }
}
