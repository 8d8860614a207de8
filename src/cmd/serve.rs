//! `lab serve`: the lab's RESP2 server (crate `respd`) in the foreground, for `redis-cli` and
//! `redis-benchmark` (redis-04, and the sorted sets of redis-10/redis-11).

use std::process::ExitCode;

use anyhow::Context;

use crate::out;

pub fn serve(port: u16, mode: respd::Mode) -> anyhow::Result<ExitCode> {
    out::line(out::dim(&format!(
        "lab serve: RESP2 on 127.0.0.1:{port}, mode {} (try `redis-cli -p {port} ping`, \
         `redis-benchmark -p {port} -t set,get -q`); Ctrl-C stops it.",
        mode.name()
    )));
    respd::serve_forever(port, mode).with_context(|| format!("serving on 127.0.0.1:{port}"))?;
    Ok(ExitCode::SUCCESS)
}
