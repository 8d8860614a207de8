//! `lab serve`: the lab's RESP server (crate `respd`; RESP2, RESP3 after `HELLO 3`) in the
//! foreground, for `redis-cli` and `redis-benchmark` (redis-04, and the sorted sets of
//! redis-10/redis-11).

use std::process::ExitCode;

use anyhow::Context;

use crate::out;

pub fn serve(port: u16, mode: respd::Mode) -> anyhow::Result<ExitCode> {
    out::line(out::dim(&format!(
        "lab serve: RESP2/RESP3 on 127.0.0.1:{port}, mode {} ({}; try `redis-cli -p {port} ping`, \
         `redis-benchmark -p {port} -t set,get -P 16 -q`); Ctrl-C stops it.",
        mode.name(),
        match mode {
            respd::Mode::Single => "one thread reads, executes and writes for every client",
            respd::Mode::Shared => "connection tasks on one worker per CPU, one lock per batch",
        }
    )));
    respd::serve_forever(port, mode).with_context(|| format!("serving on 127.0.0.1:{port}"))?;
    Ok(ExitCode::SUCCESS)
}
