//! `lab hermitage`: the hermitage isolation tests on the InnoDB model, the real server, or both
//! (crate `mvcc`, mysql-04). All the work is in `mvcc::cli::hermitage`.

use std::process::ExitCode;

pub use mvcc::cli::{HermitageArgs, Which};

pub fn hermitage(args: &HermitageArgs) -> anyhow::Result<ExitCode> {
    let code = mvcc::cli::hermitage(args, &mut std::io::stdout(), &mut std::io::stderr());
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)))
}
