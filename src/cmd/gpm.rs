//! `lab gpm`: watch the lab's GPM scheduler (crate `gpm`) run go-13's small traced workload.

use std::process::ExitCode;

use crate::out;

pub fn gpm() -> anyhow::Result<ExitCode> {
    out::line(out::dim(
        "go-13's small run on the lab's GPM scheduler (crate gpm): 2 Ps, a root G spawning tiny Gs and one that calls Gosched.",
    ));
    for line in gpm::workloads::watch().lines() {
        out::line(line);
    }
    out::line(out::dim(
        "`lab run go-13` asserts what this trace shows; `lab show go-13` explains it.",
    ));
    Ok(ExitCode::SUCCESS)
}
