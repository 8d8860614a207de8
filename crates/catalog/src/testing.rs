//! For topic crates' tests: run every demo of a topic the way `lab run` does.

use crate::env::Env;
use crate::run::{Verdict, run_demo};

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
