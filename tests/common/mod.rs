//! Running the `lab` binary the way a user does, for the CLI test files.

#![allow(dead_code)] // each test binary uses its own subset

use std::process::{Command, Output};

/// `lab ARGS` with colours off and `CI` unset (a test of its own decides what CI means).
pub fn lab(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_lab"));
    c.args(args).env("NO_COLOR", "1").env_remove("CI");
    c
}

pub fn run(args: &[&str]) -> Output {
    lab(args).output().expect("run lab")
}

/// (stdout, stderr) as text.
pub fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}
