use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::demo::{Ctx, Demo, DemoError};
use crate::env::Env;

/// How one demo ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", content = "reason", rename_all = "lowercase")]
pub enum Verdict {
    Passed,
    Failed(String),
    Skipped(String),
}

/// The result of running one demo.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub demo: &'static str,
    pub question: &'static str,
    #[serde(flatten)]
    pub verdict: Verdict,
    #[serde(serialize_with = "as_millis")]
    pub elapsed: Duration,
}

fn as_millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u128(d.as_millis())
}

/// Runs one demo: checks what it needs first (a missing system is a skip, or a failure when
/// `env.ci`), then runs it, turning a panic into a failure rather than a crash of the whole run.
pub fn run_demo(demo: &'static Demo, env: &Env, out: &mut dyn FnMut(&str)) -> Outcome {
    let start = Instant::now();
    let verdict = match env.available(demo.needs) {
        Err(why) => missing(env, why),
        Ok(()) => {
            let mut ctx = Ctx::new(env, demo.question(), out);
            match catch_unwind(AssertUnwindSafe(|| (demo.run)(&mut ctx))) {
                Ok(Ok(())) => Verdict::Passed,
                Ok(Err(DemoError::Unavailable(why))) => missing(env, why),
                Ok(Err(e)) => Verdict::Failed(e.to_string()),
                Err(panic) => {
                    let msg = panic
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "unknown panic".into());
                    Verdict::Failed(format!("panicked: {msg}"))
                }
            }
        }
    };
    Outcome {
        demo: demo.name,
        question: demo.question(),
        verdict,
        elapsed: start.elapsed(),
    }
}

fn missing(env: &Env, why: String) -> Verdict {
    if env.ci {
        Verdict::Failed(format!(
            "{why} (CI=true: a missing real system is a failure)"
        ))
    } else {
        Verdict::Skipped(why)
    }
}
