//! The catalog of the lab: the 101 questions, their answer pages, and the registry of what runs.
//!
//! A question is data (`docs/questions.tsv`, the seed's list with its verbatim Chinese titles). An
//! answer page is a Markdown file `docs/<section>/<id>.md`. A demo is a function in a topic crate
//! that asserts one claim and names its question in its own name (`go-03/...`). Nothing here keeps a
//! hand-typed list of what is done: [`Registry::status`] derives it from what exists.
//!
//! ```text
//!   docs/questions.tsv ─┐                     topic crates (gochan, goslice, redistypes, acid, …)
//!   docs/*/<id>.md ─────┤ build.rs                 │ pub fn topic() -> Topic { demos, benches }
//!                       ▼                          ▼
//!              QUESTIONS, PAGES  ──────►  Registry::new(vec![gochan::topic(), …])
//!                                          │ status(q): no page / answered / demo / verified
//!                                          │ run_demo(d, env) -> Outcome
//!                                          ▼
//!                                       the `lab` binary
//! ```
//!
//! A topic crate registers itself by exporting a [`Topic`]; the binary lists the topic crates once.
//! Adding a question to an existing topic means adding its page and its demos, nothing else.

mod bench;
mod demo;
mod env;
pub mod markdown;
mod question;
mod run;
pub mod testing;

pub use bench::{
    BenchCtx, BenchReport, BenchRow, BenchSuite, Machine, Stats, measure, rustc_version,
};
pub use demo::{Ctx, Demo, DemoError, Need, Registry, Topic};
pub use env::{Env, Probe};
pub use question::{
    Page, Question, Section, Status, closest_ids, page, pages, question, questions, resolve_id,
    search,
};
pub use run::{Outcome, Verdict, run_demo};

/// Fails the demo with "the claim did not hold" unless `cond` is true.
///
/// ```ignore
/// check!(sent_before_receiver == 0, "{sent_before_receiver} sends completed with no receiver");
/// ```
#[macro_export]
macro_rules! check {
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            return Err($crate::DemoError::Claim(format!($($fmt)+)));
        }
    };
}

/// Fails the demo unless `actual == expected`, saying what was compared.
#[macro_export]
macro_rules! check_eq {
    ($actual:expr, $expected:expr, $($fmt:tt)+) => {
        match (&$actual, &$expected) {
            (actual, expected) => {
                if actual != expected {
                    return Err($crate::DemoError::Claim(format!(
                        "{}: expected {:?}, got {:?}",
                        format!($($fmt)+),
                        expected,
                        actual
                    )));
                }
            }
        }
    };
}
