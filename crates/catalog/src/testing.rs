//! For topic crates' tests: run every demo of a topic the way `lab run` does.

use crate::env::Env;
use crate::run::{Verdict, run_demo};

/// `CI=true` (or `1`): a missing Go or real server fails the run instead of being skipped.
pub fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// What a test does when a real system it needs (`what`: "real Redis", ...) cannot be had: under
/// [`ci`] it fails, with the reason; elsewhere it prints `SKIPPED` and gets `None`, so `cargo test`
/// still passes on a machine without Go, Redis or MySQL.
pub fn needed<T, E: std::fmt::Display>(what: &str, got: Result<T, E>) -> Option<T> {
    match got {
        Ok(v) => Some(v),
        Err(e) if !ci() => {
            println!("SKIPPED: {what} unavailable ({e}); set CI=true to make this fail");
            None
        }
        Err(e) => panic!("{what} unavailable under CI=true: {e}"),
    }
}

/// Runs every demo of `topic`, printing what each shows. Panics (fails the test) when a demo fails,
/// or when one is skipped under `CI=true`; outside CI a skip is printed and tolerated, so
/// `cargo test` works on a machine without Go, Redis or MySQL.
pub fn run_topic_demos(topic: &crate::Topic) {
    let env = Env::from_env().expect("build the lab's runtime");
    let mut failures = Vec::new();
    for demo in topic.demos {
        println!("── {} ({})", demo.name, demo.needs.label());
        let outcome = run_demo(demo, &env, &mut |line| println!("   {line}"));
        match outcome.verdict {
            Verdict::Passed => println!("   passed"),
            Verdict::Skipped(why) => println!("   SKIPPED: {why}"),
            Verdict::Failed(why) => {
                println!("   FAILED: {why}");
                failures.push(format!("{}: {why}", demo.name));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "demos failed:\n{}",
        failures.join("\n")
    );
}
