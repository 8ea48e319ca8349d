//! The command line, as clap types only: no I/O, no validation beyond syntax.
//! `config` turns these into a checked [`crate::config::Config`].

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args as ClapArgs, Parser, Subcommand, ValueEnum};

/// Fast offline analysis of AWS CloudTrail logs: who read which secrets,
/// when, and from where.
#[derive(Debug, Parser)]
#[command(name = "ctscan", version, about, propagate_version = true)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands; `report` is the default.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Report secret access per principal, hour, source IP and secret (default).
    Report(ReportArgs),
    /// Download a trail bucket's objects in a window (digests included) into DIR, resumably.
    Mirror(MirrorArgs),
}

/// How to reach S3, following the AWS CLI's options.
#[derive(Debug, Clone, Default, ClapArgs)]
pub struct S3Args {
    /// AWS profile for s3:// SOURCEs (default: the standard credential chain).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Region of the bucket (default: discovered from the bucket).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// S3-compatible endpoint, e.g. http://127.0.0.1:9000 (path-style addressing).
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Send unsigned requests (public buckets); no credentials are looked up.
    #[arg(long)]
    pub no_sign_request: bool,
    /// Concurrent S3 GET requests.
    #[arg(long, value_name = "N", default_value_t = 32)]
    pub s3_concurrency: usize,
}

/// Options shared by every command that scans SOURCEs.
#[derive(Debug, Clone, ClapArgs)]
pub struct ScanArgs {
    /// Local directories or files, or s3://bucket[/prefix]; defaults to $CTSCAN_SOURCE.
    #[arg(value_name = "SOURCE")]
    pub sources: Vec<String>,
    /// Start of the window (inclusive): a duration back from now (90m, 12h, 30d, 2w) or an RFC 3339 date/time.
    #[arg(long, value_name = "T")]
    pub since: Option<String>,
    /// End of the window (exclusive), in the same forms as --since.
    #[arg(long, value_name = "T")]
    pub until: Option<String>,
    /// Select this event instead of the default secret reads (Name or source:Name); repeatable.
    #[arg(long = "event", value_name = "NAME")]
    pub events: Vec<String>,
    /// Select every event.
    #[arg(long, conflicts_with = "events")]
    pub all_events: bool,
    /// Worker threads (default: one per core).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Largest decompressed object accepted, in bytes; larger ones fail (gzip bombs).
    #[arg(long, value_name = "BYTES", default_value_t = crate::decode::DEFAULT_MAX_DECOMPRESSED)]
    pub max_object_size: u64,
    /// No progress bar and no terminal tables (errors are still printed).
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub s3: S3Args,
}

/// `ctscan mirror`.
#[derive(Debug, Clone, ClapArgs)]
pub struct MirrorArgs {
    /// The trail bucket: s3://bucket[/prefix].
    #[arg(value_name = "SOURCE")]
    pub source: String,
    /// Local directory receiving the objects under their keys (relative to the prefix).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Start of the window (inclusive), as for `report`.
    #[arg(long, value_name = "T")]
    pub since: Option<String>,
    /// End of the window (exclusive), as for `report`.
    #[arg(long, value_name = "T")]
    pub until: Option<String>,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub s3: S3Args,
}
/// `ctscan report`.
#[derive(Debug, Clone, ClapArgs)]
pub struct ReportArgs {
    #[command(flatten)]
    pub scan: ScanArgs,
    /// Write every report as Parquet and CSV, plus events.parquet and summary.json, into DIR.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// What to print on stdout.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
    /// Rows of each report shown on the terminal.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top: usize,
}

/// Terminal output of `report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// A summary and the top rows of each report.
    Table,
    /// The summary as JSON.
    Json,
}

const SUBCOMMANDS: [&str; 3] = ["report", "mirror", "help"];

/// Inserts the default `report` subcommand when the first argument names no
/// subcommand, so `ctscan --since 30d` works.
pub fn with_default_command(argv: Vec<OsString>) -> Vec<OsString> {
    let first = argv.get(1).and_then(|a| a.to_str());
    let explicit = match first {
        Some(a) => SUBCOMMANDS.contains(&a) || matches!(a, "-h" | "--help" | "-V" | "--version"),
        None => false,
    };
    if explicit {
        return argv;
    }
    let mut out = Vec::with_capacity(argv.len() + 1);
    let mut it = argv.into_iter();
    out.extend(it.next());
    out.push("report".into());
    out.extend(it);
    out
}
