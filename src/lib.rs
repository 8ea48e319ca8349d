/*!
ctscan: a fast offline analyzer for AWS CloudTrail logs.

The pipeline, one folder per stage, in the order data flows:

1. [`cli`] holds the command line as clap types; [`config`] checks it and
   turns it into one configuration per command ([`error`] names the exit
   statuses).
2. [`source`]: where objects come from. Local mirrors are walked as the
   scan reads them ([`source::local`]); `s3://` sources are listed while they
   are fetched, pruned by the CloudTrail key layout ([`source::s3`]).
3. [`read`]: how bytes become records. [`read::inflate`] inflates gzip,
   [`read::format`] detects the file's shape and splits it into records with
   [`read::structural`], [`read::filter`] and [`read::lookup`] skip records
   that cannot be selected, and [`read::record`] normalises the candidates.
4. [`scan`]: the parallel driver. One worker per thread runs the read steps
   over every object inside one [`scan::budget`], accounts for each one
   ([`scan::stats`]), and fills the [`events`] table.
5. [`report`]: how events become tables and files. The `by_*` tables,
   [`report::findings`] and [`report::geoip`] add tables of their own,
   [`report::export`] writes Parquet and CSV, [`report::terminal`] prints
   (escaped by [`report::sanitize`]), [`report::dashboard`] draws the HTML page.
6. [`replay`]: what CloudWatch would have done. [`replay::pattern`] is the
   metric filter language, [`replay::rules`] the rule packs (CIS),
   [`replay::alarm`] the metric → alarm → SNS evaluation.
7. [`hunt`]: the community's Sigma detections ([`hunt::sigma`]), routed by
   the literal event names each rule requires, with allowlists
   ([`hunt::allow`]) that suppress known-good activity without losing count.
8. [`verify`]: a mirror checked against its digest chain, and the events
   that tamper with a trail.
9. [`lake`]: the event lake `ingest` writes (Hive-partitioned Parquet and a
   manifest), so later questions need not read the raw logs again.

[`commands`] glues a configuration to these stages, one file per subcommand;
[`window`] is the time window every stage shares; [`interrupt`] turns Ctrl-C
into a clean stop. `ARCHITECTURE.md` has the invariants.

The `cli` feature (on by default) adds the command line, the S3 source and
the Parquet/CSV exports; without it the crate is the scanning core alone.
*/

#[cfg(feature = "cli")]
pub mod cli;
#[cfg(feature = "cli")]
pub mod commands;
#[cfg(feature = "cli")]
pub mod config;
pub mod error;
pub mod events;
#[doc(hidden)]
pub mod fuzz_checks;
pub mod hunt;
pub mod interrupt;
#[cfg(feature = "cli")]
pub mod lake;
pub mod read;
pub mod replay;
pub mod report;
pub mod scan;
pub mod source;
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
        Command::Hunt(a) => commands::hunt::run(&config::HuntConfig::from_args(&a, env)?),
        Command::Merge(a) => commands::merge::run(&config::MergeConfig::from_args(&a, env)?),
        Command::Lake(a) => commands::lake::run(&config::LakeConfig::from_args(&a, env)?),
        Command::Ingest(a) => commands::ingest::run(&config::IngestConfig::from_args(&a, env)?),
    }
}
