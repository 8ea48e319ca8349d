//! The `ctscan` binary: parse, configure, run, map the result to an exit status.

use std::process::ExitCode;

use clap::Parser;

use ctscan::cli::{with_default_command, Args};
use ctscan::config::Env;
use ctscan::error::ExitStatus;

fn main() -> ExitCode {
    let argv = with_default_command(std::env::args_os().collect());
    let args = Args::parse_from(argv);
    match ctscan::run(args, &Env::from_process()) {
        Ok(status) => ExitCode::from(status.code()),
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!(
                "ctscan: {}",
                ctscan::sanitize::terminal(&format!("{err:#}"))
            );
            ExitCode::from(ExitStatus::Error.code())
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
