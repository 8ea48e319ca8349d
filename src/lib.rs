/*!
ctscan: a fast offline analyzer for AWS CloudTrail logs.

The pipeline, one module per step:

1. [`config`] turns command-line [`cli`] arguments into a checked configuration.
2. [`source`] lists every object of every SOURCE before anything is read
   (local walks, or pruned S3 listings of the CloudTrail layout).
3. [`scan`] reads the objects in parallel: [`decode`] inflates gzip, [`format`](mod@format)
   splits records without parsing them, [`filter`] skips records that cannot be
   selected, and only candidates are parsed (simd-json) and normalised by
   [`record`] into the compact [`events`] table.
4. [`report`] groups the events into tables; [`export`] writes them as Parquet
   and CSV; [`terminal`] prints them, escaped by [`sanitize`]; [`html`] draws
   them as one self-contained page of [`svg`] charts.
   [`geoip`] places source addresses (`--geoip`) and [`findings`] flags
   anomalies against a baseline; both add tables of their own.

`verify` ([`verify`]) checks a local mirror against its digest chain and
finds tampering events in one [`scan::scan_with`] pass.

The `cli` feature (on by default) adds the command line, the S3 source and
the Parquet/CSV exports; without it the crate is the scanning core alone.
*/

pub mod alarm;
#[cfg(feature = "cli")]
pub mod cli;
#[cfg(feature = "cli")]
pub mod commands;
#[cfg(feature = "cli")]
pub mod config;
pub mod decode;
pub mod error;
pub mod events;
#[cfg(feature = "cli")]
pub mod export;
pub mod filter;
pub mod findings;
pub mod format;
#[doc(hidden)]
pub mod fuzz_checks;
pub mod geoip;
pub mod html;
pub mod lookup;
pub mod pattern;
pub mod record;
pub mod report;
pub mod rules;
pub mod sanitize;
pub mod scan;
pub mod source;
pub mod structural;
pub mod svg;
pub mod terminal;
pub mod verify;
pub mod window;

#[cfg(feature = "cli")]
use anyhow::Result;

#[cfg(feature = "cli")]
use cli::{Args, Command};
#[cfg(feature = "cli")]
use config::Env;
#[cfg(feature = "cli")]
use error::ExitStatus;

/// Runs one parsed command line.
#[cfg(feature = "cli")]
pub fn run(args: Args, env: &Env) -> Result<ExitStatus> {
    match args.command {
        Command::Report(a) => commands::report::run(&config::ReportConfig::from_args(&a, env)?),
        Command::Verify(a) => commands::verify::run(&config::VerifyConfig::from_args(&a, env)?),
        Command::Events(a) => commands::events::run(&config::EventsConfig::from_args(&a, env)?),
        Command::Alarm(a) => commands::alarm::run(&config::AlarmCommandConfig::from_args(&a, env)?),
        Command::TestPattern(a) => {
            commands::test_pattern::run(&config::TestPatternConfig::from_args(&a)?)
        }
        Command::Mirror(a) => commands::mirror::run(&config::MirrorConfig::from_args(&a, env)?),
    }
}
