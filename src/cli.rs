//! The command line, as clap types only: no I/O, no validation beyond syntax.
//! `config` turns these into checked configurations (`crate::config`).

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args as ClapArgs, Parser, Subcommand, ValueEnum};

/// Fast offline analysis of AWS CloudTrail logs: who read which secrets,
/// when, and from where.
#[derive(Debug, Parser)]
#[command(
    name = "ctscan",
    version,
    about,
    propagate_version = true,
    override_usage = "ctscan [COMMAND] [SOURCE]... [OPTIONS]",
    after_help = TOP_LEVEL_HELP
)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

/// Shown after the command list of `ctscan --help`: a first run starts here.
const TOP_LEVEL_HELP: &str = "\
`report` is the default command: `ctscan [SOURCE]... [OPTIONS]` runs `ctscan report`.

Examples:
  ctscan --since 30d                  Secret reads over the last 30 days of $CTSCAN_SOURCE
  ctscan ./mirror --out out/          The same over a local mirror, with Parquet and CSV files
  ctscan verify ./mirror              Check a mirror against its digests, find gaps and tampering
  ctscan alarm ./mirror --rules cis   Replay the CIS CloudWatch alarms over the logs
  ctscan help report                  Every option of `report`";

/// The subcommands; `report` is the default.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Report secret access per principal, hour, source IP and secret (default).
    Report(ReportArgs),
    /// Verify log files against their digests, find coverage gaps and trail tampering.
    Verify(VerifyArgs),
    /// List events (no 90-day limit), filtered by a pattern and lookup attributes.
    Events(EventsArgs),
    /// Replay a metric filter and its CloudWatch alarm (or a rule pack) over the logs.
    Alarm(AlarmArgs),
    /// Show which records of a file a filter pattern matches, like the console's "Test pattern".
    TestPattern(TestPatternArgs),
    /// Download a trail bucket's objects in a window (digests included) into DIR, resumably.
    Mirror(MirrorArgs),
    /// Run Sigma detection rules (the bundled SigmaHQ CloudTrail set, or --sigma) in one pass.
    Hunt(HuntArgs),
    /// Write the events into an event lake (Hive-partitioned Parquet with a manifest), incrementally.
    Ingest(IngestArgs),
    /// Merge the partial reports of `report --shard I/N --out DIR` into the report of the whole.
    Merge(MergeArgs),
    /// Inspect an event lake: `lake status DIR` shows what each shard ingested and which are missing.
    Lake(LakeCommandArgs),
}

/// The topic replayed alarms notify when no rule names one (a placeholder:
/// the region and account in its messages are not the user's).
pub const DEFAULT_SNS_TOPIC_ARN: &str = "arn:aws:sns:us-east-1:123456789012:ctscan-alarm";

/// How to reach S3, following the AWS CLI's options.
#[derive(Debug, Clone, Default, ClapArgs)]
pub struct S3Args {
    /// AWS profile for s3:// SOURCEs (default: the standard credential chain).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Region of the bucket (default: discovered from the bucket).
    #[arg(long, value_name = "REGION")]
    pub bucket_region: Option<String>,
    /// S3-compatible endpoint, e.g. http://127.0.0.1:9000 (path-style addressing).
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Send unsigned requests (public buckets); no credentials are looked up.
    #[arg(long)]
    pub no_sign_request: bool,
    /// Most S3 requests (LISTs and GETs together) in flight; the run adapts below it and backs off when throttled.
    #[arg(long, value_name = "N", default_value_t = 256)]
    pub s3_concurrency: usize,
    /// How long one throttled request (503 SlowDown) keeps being retried before it fails, as a duration (30s, 15m, 1h).
    #[arg(long, value_name = "DURATION", default_value = "15m")]
    pub s3_retry_deadline: String,
    /// Measurement mode for benches/s3.sh: list and count every key, fetch and scan nothing.
    #[arg(long, hide = true)]
    pub s3_list_only: bool,
}

/// Which objects are read, from their keys alone.
#[derive(Debug, Clone, Default, ClapArgs)]
pub struct PruneArgs {
    /// Read only this account's logs (12 digits, or a glob such as 1111*); repeatable.
    #[arg(long = "account", value_name = "ID")]
    pub accounts: Vec<String>,
    /// Read only this region's logs (us-east-1, or a glob such as eu-*); repeatable.
    #[arg(long = "region", value_name = "NAME")]
    pub regions: Vec<String>,
    /// Open files named (by delivery time) up to this long before --since.
    #[arg(long, value_name = "DURATION", default_value = "1h")]
    pub since_slack: String,
    /// Open files named (by delivery time) up to this long after --until: deliveries can be late.
    #[arg(long, value_name = "DURATION", default_value = "24h")]
    pub until_slack: String,
    /// Read one deterministic share of the work: I/N (0 ≤ I < N), or auto/N with I from JOB_COMPLETION_INDEX (Kubernetes) or AWS_BATCH_JOB_ARRAY_INDEX (AWS Batch).
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
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
    #[arg(long, value_name = "BYTES", default_value_t = crate::read::inflate::DEFAULT_MAX_DECOMPRESSED)]
    pub max_object_size: u64,
    /// Inflated bytes all workers may hold at once; an object needing more than this fails by name, however many threads run. With s3:// sources an eighth of it holds the bodies being fetched.
    #[arg(long, value_name = "BYTES", default_value_t = crate::read::inflate::DEFAULT_MEMORY_BUDGET)]
    pub memory_budget: u64,
    /// No progress bar and no terminal tables (errors are still printed).
    #[arg(long, short)]
    pub quiet: bool,
    /// Keep every copy of an event whose eventID repeats (a re-delivery, a copied file, overlapping trails). By default each command counts such an event once and reports how many copies it dropped.
    #[arg(long)]
    pub keep_duplicates: bool,
    #[command(flatten)]
    pub prune: PruneArgs,
    #[command(flatten)]
    pub s3: S3Args,
}

/// `--lake DIR`, for the commands that can read an event lake instead of SOURCEs.
#[derive(Debug, Clone, Default, ClapArgs)]
pub struct LakeArgs {
    /// Read this event lake (made by `ctscan ingest`), a DIR or s3://bucket/prefix, instead of SOURCEs.
    #[arg(long = "lake", value_name = "DIR", conflicts_with = "sources")]
    pub lake: Option<PathBuf>,
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
    pub prune: PruneArgs,
    #[command(flatten)]
    pub s3: S3Args,
}
/// `ctscan report`.
#[derive(Debug, Clone, ClapArgs)]
pub struct ReportArgs {
    #[command(flatten)]
    pub scan: ScanArgs,
    #[command(flatten)]
    pub lake: LakeArgs,
    /// Write every report as Parquet and CSV, plus events.parquet and summary.json, into DIR.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// What to print on stdout.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
    /// Rows of each report shown on the terminal.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top: usize,
    /// MaxMind database (GeoLite2/GeoIP2 City, Country or ASN); repeatable. Adds by_country, by_asn and location columns.
    #[arg(long = "geoip", value_name = "FILE")]
    pub geoip: Vec<PathBuf>,
    /// The findings' baseline: the first DURATION of the data (e.g. 14d, 2w).
    #[arg(long, value_name = "DURATION", default_value = "14d")]
    pub baseline: String,
    /// Working hours, UTC, START-END (e.g. 8-18): `off-hours` never fires inside them.
    #[arg(long, value_name = "START-END")]
    pub work_hours: Option<String>,
    /// `off-hours` treats hours within N hours of a baseline hour as usual.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub off_hours_tolerance: usize,
    /// Write a self-contained HTML dashboard (charts and tables, no scripts) to FILE.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Also replay a rule pack's alarms in the same pass: `cis` or a JSON rules file (as `alarm --rules`).
    #[arg(long, value_name = "cis|FILE")]
    pub rules: Option<String>,
    /// Also run Sigma rules in the same pass: a rule file or folder (repeatable), or `bundled` for the SigmaHQ CloudTrail set. Adds hunt_rules and hunt_findings.
    #[arg(long = "sigma", value_name = "PATH|bundled")]
    pub sigma: Vec<PathBuf>,
    /// Allowlist (YAML or JSON) of known-good principals, source IPs/CIDRs, user agents and accounts: silences matching `findings` (and Sigma findings), which are written to findings_suppressed (and suppressed.csv).
    #[arg(long, value_name = "FILE")]
    pub allow: Option<PathBuf>,
}

/// `ctscan ingest`.
#[derive(Debug, Clone, ClapArgs)]
pub struct IngestArgs {
    #[command(flatten)]
    pub scan: ScanArgs,
    /// The lake: a directory, created if missing, or s3://bucket/prefix.
    #[arg(long, value_name = "DIR")]
    pub lake: PathBuf,
    /// With --lake s3://…: the local folder where commits are staged before their upload (default: a new temporary folder).
    #[arg(long, value_name = "DIR")]
    pub lake_staging: Option<PathBuf>,
    /// Store only the events the selection matches (the secret reads, --event or --all-events); by default every event is stored.
    #[arg(long)]
    pub select: bool,
    /// With --select: store the events this CloudWatch Logs filter pattern matches.
    #[arg(
        long,
        value_name = "P",
        allow_hyphen_values = true,
        requires = "select"
    )]
    pub pattern: Option<String>,
    /// With --select: store the events any rule of a pack matches (`cis`, or a JSON rules file as `alarm --rules`); with --pattern, either.
    #[arg(long, value_name = "cis|FILE", requires = "select")]
    pub rules: Option<String>,
    /// Each worker commits after this many objects, so a killed run keeps what it committed.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub commit_objects: usize,
    /// Bytes of rows all workers together buffer before they commit.
    #[arg(long, value_name = "BYTES", default_value_t = 64 << 20)]
    pub lake_buffer: u64,
    /// For the crash tests: end the process abruptly right after the Nth commit point, before its files are renamed.
    #[arg(long, value_name = "N", hide = true)]
    pub crash_after_commits: Option<u64>,
}

/// `ctscan verify`.
#[derive(Debug, Clone, ClapArgs)]
pub struct VerifyArgs {
    /// Local mirrors of a trail bucket (the directory holding `AWSLogs/`); defaults to $CTSCAN_SOURCE.
    #[arg(value_name = "SOURCE")]
    pub sources: Vec<String>,
    /// Start of the window (inclusive, by delivery time), in the forms of `report --since`.
    #[arg(long, value_name = "T")]
    pub since: Option<String>,
    /// End of the window (exclusive), in the same forms as --since.
    #[arg(long, value_name = "T")]
    pub until: Option<String>,
    /// `aws cloudtrail list-public-keys` output; without it signatures are not checked.
    #[arg(long, value_name = "FILE")]
    pub public_keys: Vec<PathBuf>,
    /// Report stretches longer than this with no delivery evidence (90m, 2h, 1d).
    #[arg(long, value_name = "DURATION", default_value = "2h")]
    pub gap: String,
    /// Write every finding as Parquet and CSV, plus verify.json, into DIR.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// What to print on stdout.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
    /// A bucket holding trail logs: bucket policy and lifecycle changes elsewhere are ignored; repeatable.
    #[arg(long = "trail-bucket", value_name = "NAME")]
    pub trail_buckets: Vec<String>,
    /// The bucket the mirror was copied from (enables the bucket half of the "moved" check).
    #[arg(long, value_name = "NAME")]
    pub bucket: Option<String>,
    /// The S3 key prefix the mirror root stands for (`myprefix/`).
    #[arg(long, value_name = "P")]
    pub prefix: Option<String>,
    /// Search the tampering events in this event lake (made by `ctscan ingest`) instead of the mirror's log files.
    #[arg(long, value_name = "DIR")]
    pub lake: Option<PathBuf>,
    /// Worker threads (default: one per core).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// No progress bar and no terminal tables (errors are still printed).
    #[arg(long, short)]
    pub quiet: bool,
}

/// Terminal output of `report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// A summary and the top rows of each report.
    Table,
    /// The summary as JSON.
    Json,
}

const SUBCOMMANDS: [&str; 11] = [
    "report",
    "verify",
    "events",
    "alarm",
    "test-pattern",
    "mirror",
    "hunt",
    "ingest",
    "merge",
    "lake",
    "help",
];

/// The subcommand `word` most likely misspells (`repot` → `report`): one
/// within two edits (a swap of neighbours is one). `None` for a command's
/// own name, and for a word that reads as a path (`./x`, `logs.json`),
/// since SOURCEs take that place.
pub fn misspelled_subcommand(word: &str) -> Option<&'static str> {
    const MAX_EDITS: usize = 2;
    if word.len() < 3 || word.starts_with('-') || word.contains(['/', '.', '\\']) {
        return None;
    }
    SUBCOMMANDS
        .iter()
        .map(|name| (strsim::damerau_levenshtein(word, name), *name))
        .filter(|(edits, name)| (1..=MAX_EDITS).contains(edits) && *edits < name.len() / 2)
        .min()
        .map(|(_, name)| name)
}

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

/// `ctscan test-pattern`.
#[derive(Debug, Clone, ClapArgs)]
pub struct TestPatternArgs {
    /// The CloudWatch Logs filter pattern.
    #[arg(value_name = "PATTERN", allow_hyphen_values = true)]
    pub pattern: String,
    /// A file of CloudTrail records in any format ctscan reads; `-` or nothing for stdin.
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
}

/// `ctscan events`.
#[derive(Debug, Clone, ClapArgs)]
pub struct EventsArgs {
    #[command(flatten)]
    pub scan: ScanArgs,
    #[command(flatten)]
    pub lake: LakeArgs,
    /// Only events this CloudWatch Logs filter pattern matches.
    #[arg(long, value_name = "P", allow_hyphen_values = true)]
    pub pattern: Option<String>,
    /// LookupEvents attribute EventName (exact).
    #[arg(long, value_name = "N")]
    pub event_name: Option<String>,
    /// LookupEvents attribute EventSource (exact, e.g. iam.amazonaws.com).
    #[arg(long, value_name = "S")]
    pub event_source: Option<String>,
    /// LookupEvents attribute Username: userIdentity.userName, else the tail of userIdentity.arn.
    #[arg(long, value_name = "U")]
    pub username: Option<String>,
    /// LookupEvents attribute AccessKeyId (userIdentity.accessKeyId).
    #[arg(long, value_name = "K")]
    pub access_key_id: Option<String>,
    /// LookupEvents attribute ResourceName: a resources[].ARN or a requestParameters name/id/ARN value.
    #[arg(long, value_name = "R")]
    pub resource_name: Option<String>,
    /// LookupEvents attribute ReadOnly.
    #[arg(long, value_name = "BOOL")]
    pub read_only: Option<bool>,
    /// LookupEvents attribute EventId (eventID).
    #[arg(long, value_name = "ID")]
    pub event_id: Option<String>,
    /// What to print on stdout.
    #[arg(long, value_enum, default_value_t = EventsFormat::Table)]
    pub format: EventsFormat,
    /// Print at most N events (the earliest N).
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
}

/// Output of `events`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EventsFormat {
    /// An aligned table, escaped for the terminal.
    Table,
    /// The original records, compacted, one per line.
    Jsonl,
    /// CSV with formula-like cells neutralised.
    Csv,
}

/// `ctscan alarm`.
#[derive(Debug, Clone, ClapArgs)]
pub struct AlarmArgs {
    #[command(flatten)]
    pub scan: ScanArgs,
    #[command(flatten)]
    pub lake: LakeArgs,
    /// The metric filter pattern (required unless --rules is given).
    #[arg(
        long,
        value_name = "P",
        allow_hyphen_values = true,
        required_unless_present = "rules"
    )]
    pub pattern: Option<String>,
    /// Replay a rule pack instead: `cis` (CIS 4.1-4.15, and 4.1 as intended) or a JSON rules file.
    #[arg(long, value_name = "cis|FILE", conflicts_with = "pattern")]
    pub rules: Option<String>,
    /// metricValue: the number each matching event emits, or its field ($.latency, $size, $7).
    #[arg(
        long,
        value_name = "V",
        default_value = "1",
        allow_hyphen_values = true
    )]
    pub metric_value: String,
    /// defaultValue: the number each non-matching event emits.
    #[arg(long, value_name = "D", allow_hyphen_values = true)]
    pub default_value: Option<f64>,
    /// \[INF\] defaultValue granularity: one sample per non-matching event, or per minute without a match.
    #[arg(long, value_enum, default_value_t = DefaultModeArg::PerEvent)]
    pub default_mode: DefaultModeArg,
    /// Sum, Average, SampleCount, Minimum, Maximum or pNN.
    #[arg(long, value_name = "STAT", default_value = "Sum")]
    pub statistic: String,
    /// Period in seconds (10, 20, 30 or a multiple of 60).
    #[arg(long, value_name = "S", default_value_t = 300)]
    pub period: u32,
    /// EvaluationPeriods (N).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub evaluation_periods: u32,
    /// DatapointsToAlarm (M, default N).
    #[arg(long, value_name = "M")]
    pub datapoints_to_alarm: Option<u32>,
    /// Threshold.
    #[arg(
        long,
        value_name = "X",
        default_value_t = 1.0,
        allow_hyphen_values = true
    )]
    pub threshold: f64,
    /// ComparisonOperator (GreaterThanOrEqualToThreshold, GreaterThanThreshold, LessThanThreshold, LessThanOrEqualToThreshold).
    #[arg(
        long,
        value_name = "OP",
        default_value = "GreaterThanOrEqualToThreshold"
    )]
    pub comparison: String,
    /// TreatMissingData: missing, notBreaching, breaching or ignore.
    #[arg(long, value_name = "HOW", default_value = "missing")]
    pub treat_missing_data: String,
    /// \[INF\] Timestamp of each metric sample: the record's eventTime, or the delivery minute in its object key.
    #[arg(long, value_enum, default_value_t = ClockArg::EventTime)]
    pub clock: ClockArg,
    /// Alarm name used in history and SNS messages.
    #[arg(long, value_name = "NAME", default_value = "ctscan-alarm")]
    pub alarm_name: String,
    /// Topic the alarm's actions publish to (appears in SNS messages).
    #[arg(
        long,
        value_name = "ARN",
        default_value = DEFAULT_SNS_TOPIC_ARN
    )]
    pub sns_topic_arn: String,
    /// Say why the alarm fired or never did, and what other statistics would have done.
    #[arg(long)]
    pub explain: bool,
    /// Exit 1 when any alarm reached ALARM.
    #[arg(long)]
    pub fail_on_alarm: bool,
    /// Write metric series, state history and rule rows as Parquet and CSV, and notifications as JSON, into DIR.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Rows of each table shown on the terminal.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub top: usize,
}

/// See [`AlarmArgs::default_mode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DefaultModeArg {
    /// One default sample per non-matching event.
    PerEvent,
    /// One default sample per minute that had events but no match.
    PerMinute,
}

/// See [`AlarmArgs::clock`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ClockArg {
    /// The record's eventTime.
    EventTime,
    /// The delivery minute in the object key (…_20260102T0305Z_…).
    Delivery,
}

/// `ctscan hunt`.
#[derive(Debug, Clone, ClapArgs)]
pub struct HuntArgs {
    #[command(flatten)]
    pub scan: ScanArgs,
    #[command(flatten)]
    pub lake: LakeArgs,
    /// Sigma rule file or folder (recursive); repeatable. Default: the bundled SigmaHQ CloudTrail rules.
    #[arg(long = "sigma", value_name = "PATH")]
    pub sigma: Vec<PathBuf>,
    /// Allowlist (YAML or JSON) of known-good principals, source IPs/CIDRs, user agents and accounts.
    #[arg(long, value_name = "FILE")]
    pub allow: Option<PathBuf>,
    /// Write hunt_findings and hunt_rules as Parquet and CSV, suppressed.csv and summary.json into DIR.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// What to print on stdout.
    #[arg(long, value_enum, default_value_t = HuntFormat::Table)]
    pub format: HuntFormat,
    /// Fail when a rule cannot be loaded, instead of running the others.
    #[arg(long)]
    pub strict: bool,
}

/// Output of `hunt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HuntFormat {
    /// The per-rule summary, escaped for the terminal (never every finding).
    Table,
    /// The per-rule summary and the record accounting as one JSON document.
    Json,
    /// One finding per line.
    Jsonl,
    /// The findings as CSV, formula-like cells neutralised.
    Csv,
}

#[cfg(test)]
mod tests {
    use super::misspelled_subcommand;

    #[test]
    fn near_misses_name_the_subcommand_and_paths_never_do() {
        let cases = [
            ("repot", Some("report")),
            ("Report", Some("report")),
            ("verfy", Some("verify")),
            ("evnets", Some("events")),
            ("alarms", Some("alarm")),
            ("test-patern", Some("test-pattern")),
            ("mirorr", Some("mirror")),
            ("hlep", Some("help")),
            ("report", None),
            ("alarm", None),
            ("logs", None),
            ("mirror.d", None),
            ("./repot", None),
            ("-repot", None),
            ("ab", None),
        ];
        for (word, meant) in cases {
            assert_eq!(misspelled_subcommand(word), meant, "{word}");
        }
    }
}

/// `ctscan merge`.
#[derive(Debug, Clone, ClapArgs)]
pub struct MergeArgs {
    /// The partials of one sweep: every `report --shard I/N --out DIR`, I = 0..N-1.
    #[arg(value_name = "DIR", required = true)]
    pub dirs: Vec<PathBuf>,
    /// Write the merged report (the files of `report --out`) into OUT.
    #[arg(long, value_name = "OUT")]
    pub out: PathBuf,
    /// What to print on stdout.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
    /// Rows of each report shown on the terminal.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top: usize,
    /// No terminal tables.
    #[arg(long, short)]
    pub quiet: bool,
    /// Write the merged HTML dashboard to FILE.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

/// `ctscan lake`.
#[derive(Debug, Clone, ClapArgs)]
pub struct LakeCommandArgs {
    #[command(subcommand)]
    pub action: LakeAction,
}

/// What `ctscan lake` does.
#[derive(Debug, Clone, Subcommand)]
pub enum LakeAction {
    /// What the lake holds, per shard of each sweep (`ingest --shard I/N`): finished, running, missing.
    Status {
        /// The lake: a directory or s3://bucket/prefix.
        #[arg(value_name = "DIR")]
        lake: PathBuf,
        /// What to print on stdout.
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        format: OutputFormat,
        #[command(flatten)]
        s3: S3Args,
    },
}
