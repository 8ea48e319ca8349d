//! Args → Config: the only place that reads the environment, the clock and
//! whether stderr is a terminal. Everything fallible about options fails here,
//! before any scanning.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use jiff::Timestamp;

use crate::cli::{
    AlarmArgs, ClockArg, DefaultModeArg, EventsArgs, EventsFormat, LakeArgs, MirrorArgs,
    OutputFormat, PruneArgs, ReportArgs, S3Args, ScanArgs, TestPatternArgs, VerifyArgs,
};
use crate::events::Duplicates;
use crate::read::record::{EventSpec, Selection};
use crate::report::terminal::CellFit;
pub use crate::source::s3::options::{S3Options, S3Url, LIST_BARRIER_ENV};
use crate::source::select::KeySelect;
use crate::source::shard::{ArrayIndex, Shard};
use crate::window::{parse_duration, parse_time_arg, PruneSlack, TimeWindow};

mod lake_s3;
mod sweep;
pub use lake_s3::LakeTarget;
pub use sweep::{LakeConfig, MergeConfig};

/// Environment variable naming the default SOURCE.
pub const SOURCE_ENV: &str = "CTSCAN_SOURCE";

/// A checked SOURCE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceSpec {
    Local(PathBuf),
    S3(S3Url),
}

impl S3Options {
    /// Validates the S3 options.
    pub fn from_args(args: &S3Args, env: &Env) -> Result<S3Options> {
        if args.s3_concurrency == 0 {
            bail!("--s3-concurrency must be at least 1");
        }
        if let Some(url) = &args.endpoint_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                bail!("--endpoint-url {url}: must start with http:// or https://");
            }
        }
        let deadline = duration_arg("--s3-retry-deadline", &args.s3_retry_deadline, "15m")?;
        Ok(S3Options {
            profile: args.profile.clone(),
            bucket_region: args.bucket_region.clone(),
            endpoint_url: args.endpoint_url.clone(),
            no_sign_request: args.no_sign_request,
            concurrency: args.s3_concurrency,
            retry_deadline: deadline.unsigned_abs(),
            list_only: args.s3_list_only,
            list_barrier: env.list_barrier.clone(),
        })
    }
}

/// Which objects are read, judged from keys: `--account`, `--region`, slack.
#[derive(Debug, Clone, Default)]
pub struct Pruning {
    pub select: KeySelect,
    pub slack: PruneSlack,
    /// `--shard`: this worker's share, when the work is split.
    pub shard: Option<Shard>,
}

impl Pruning {
    /// Validates the pruning options.
    pub fn from_args(args: &PruneArgs, env: &Env) -> Result<Pruning> {
        Ok(Pruning {
            shard: (args.shard.as_deref())
                .map(|s| Shard::parse(s, &env.array_index))
                .transpose()?,
            select: KeySelect::new(&args.accounts, &args.regions)?,
            slack: PruneSlack {
                since: duration_arg("--since-slack", &args.since_slack, "1h")?,
                until: duration_arg("--until-slack", &args.until_slack, "24h")?,
            },
        })
    }
}

/// A duration option (`90m`, `24h`); `default` when left empty.
fn duration_arg(flag: &str, value: &str, default: &str) -> Result<jiff::SignedDuration> {
    let value = if value.is_empty() { default } else { value };
    parse_duration(value)
        .with_context(|| format!("{flag} {value:?}: not a duration (use 30s, 90m, 12h, 1d)"))
}

/// Options common to every scanning command, validated.
#[derive(Debug, Clone)]
pub struct ScanConfig {
    pub sources: Vec<SourceSpec>,
    pub window: TimeWindow,
    pub selection: Selection,
    pub threads: Option<usize>,
    pub max_object_size: u64,
    /// Inflated bytes all workers may hold at once.
    pub memory_budget: u64,
    pub quiet: bool,
    /// Whether a repeated eventID is counted once or kept.
    pub duplicates: Duplicates,
    /// Whether to draw a progress bar (stderr is a terminal and not quiet).
    pub progress: bool,
    /// How table cells fit: shortened on a terminal, whole otherwise.
    pub cell_fit: CellFit,
    pub prune: Pruning,
    pub s3: S3Options,
    /// The clock, to bound S3 listings of a window open at its end.
    pub now: Timestamp,
    /// `--lake DIR`: the event lake read instead of SOURCEs.
    pub lake: Option<std::sync::Arc<crate::lake::read::Lake>>,
}

/// What the process was asked to do in the environment it runs in.
#[derive(Debug, Clone)]
pub struct Env {
    pub now: Timestamp,
    pub default_source: Option<String>,
    pub stderr_is_tty: bool,
    /// Whether stdout, where tables go, is a terminal.
    pub stdout_is_tty: bool,
    /// See [`S3Options::list_barrier`].
    pub list_barrier: Option<PathBuf>,
    /// The array-job index, for `--shard auto/N`.
    pub array_index: ArrayIndex,
}

impl Env {
    /// Reads the real clock, `$CTSCAN_SOURCE` and stderr.
    pub fn from_process() -> Env {
        Env {
            now: Timestamp::now(),
            default_source: std::env::var(SOURCE_ENV)
                .ok()
                .filter(|s| !s.trim().is_empty()),
            stderr_is_tty: std::io::stderr().is_terminal(),
            stdout_is_tty: std::io::stdout().is_terminal(),
            list_barrier: std::env::var_os(LIST_BARRIER_ENV).map(PathBuf::from),
            array_index: ArrayIndex::read(|name| std::env::var(name).ok()),
        }
    }
}

impl ScanConfig {
    /// Validates the shared scan options.
    pub fn from_args(args: &ScanArgs, env: &Env) -> Result<ScanConfig> {
        let window = parse_window(args.since.as_deref(), args.until.as_deref(), env.now)?;
        let selection = if args.all_events {
            Selection::All
        } else if args.events.is_empty() {
            Selection::default()
        } else {
            let specs: std::result::Result<Vec<_>, _> =
                args.events.iter().map(|e| EventSpec::parse(e)).collect();
            Selection::Events(specs.map_err(anyhow::Error::msg)?)
        };
        if args.threads == Some(0) {
            bail!("--threads must be at least 1");
        }
        if args.memory_budget < 1 << 20 {
            bail!("--memory-budget must be at least 1 MiB (1048576)");
        }
        Ok(ScanConfig {
            sources: resolve_sources(&args.sources, env)?,
            window,
            selection,
            threads: args.threads,
            max_object_size: args.max_object_size,
            memory_budget: args.memory_budget,
            quiet: args.quiet,
            duplicates: if args.keep_duplicates {
                Duplicates::Keep
            } else {
                Duplicates::CountOnce
            },
            progress: env.stderr_is_tty && !args.quiet,
            cell_fit: if env.stdout_is_tty {
                CellFit::Shorten
            } else {
                CellFit::Whole
            },
            prune: Pruning::from_args(&args.prune, env)?,
            s3: S3Options::from_args(&args.s3, env)?,
            now: env.now,
            lake: None,
        })
    }
}

fn parse_window(since: Option<&str>, until: Option<&str>, now: Timestamp) -> Result<TimeWindow> {
    let since = parse_opt(since, now, "--since")?;
    let until = parse_opt(until, now, "--until")?;
    if let (Some(s), Some(u)) = (since, until) {
        if s >= u {
            bail!("--since ({s}) must be before --until ({u})");
        }
    }
    Ok(TimeWindow { since, until })
}

fn parse_opt(v: Option<&str>, now: Timestamp, flag: &str) -> Result<Option<Timestamp>> {
    v.map(|s| parse_time_arg(s, now).with_context(|| flag.to_string()))
        .transpose()
}

fn resolve_sources(given: &[String], env: &Env) -> Result<Vec<SourceSpec>> {
    let names: Vec<String> = if given.is_empty() {
        match &env.default_source {
            Some(s) => s.split_whitespace().map(str::to_string).collect(),
            None => bail!(
                "no SOURCE given: name a directory, a file or s3://bucket/prefix, or set ${SOURCE_ENV}"
            ),
        }
    } else {
        given.to_vec()
    };
    names.iter().map(|n| parse_source(n)).collect()
}

fn parse_source(name: &str) -> Result<SourceSpec> {
    if name.starts_with("s3://") {
        return Ok(SourceSpec::S3(
            S3Url::parse(name).with_context(|| format!("SOURCE {name}"))?,
        ));
    }
    let path = PathBuf::from(name);
    std::fs::metadata(&path).with_context(|| format!("SOURCE {name}"))?;
    Ok(SourceSpec::Local(path))
}

/// The error for a first argument that names neither a command nor an
/// existing SOURCE but is near a command's name (`ctscan repot ./dir`): the
/// user meant the command, and "no such file" would mislead them.
pub fn mistyped_command(argv: &[std::ffi::OsString]) -> Option<String> {
    let word = argv.get(1)?.to_str()?;
    let meant = crate::cli::misspelled_subcommand(word)?;
    if word.starts_with("s3://") || std::fs::symlink_metadata(word).is_ok() {
        return None;
    }
    Some(format!(
        "`{word}` is not a command or an existing SOURCE: did you mean `{meant}`?"
    ))
}

/// `report`'s options, validated.
#[derive(Debug, Clone)]
pub struct ReportConfig {
    pub scan: ScanConfig,
    pub out: Option<PathBuf>,
    pub format: OutputFormat,
    pub top: usize,
    /// The `--geoip` databases, opened; `None` without the option.
    pub geoip: Option<std::sync::Arc<crate::report::geoip::GeoIp>>,
    /// `--baseline`: how much of the data's start the findings learn from.
    pub baseline: jiff::SignedDuration,
    /// `--work-hours`, `--off-hours-tolerance`.
    pub findings: crate::report::findings::FindingsSettings,
    /// `--html FILE`: where to write the dashboard.
    pub html: Option<PathBuf>,
    /// `--rules`: alarms replayed in the same pass (empty without it).
    pub rules: Vec<crate::replay::rules::Rule>,
    /// `--sigma`: Sigma rules run in the same pass.
    pub sigma: Option<std::sync::Arc<crate::hunt::SigmaSetup>>,
    /// `--allow`: known-good subjects, for `findings` and the Sigma findings.
    pub allow: Option<std::sync::Arc<crate::hunt::allow::Allowlist>>,
    /// What a `--shard` partial records for `merge`: the options that
    /// shape the tables, and those whose results it does not hold.
    pub table_options: Vec<String>,
    pub not_mergeable: Vec<String>,
}

impl ReportConfig {
    /// Validates `report`'s options; creates `--out` and the folder of `--html`
    /// so a bad path fails early.
    pub fn from_args(args: &ReportArgs, env: &Env) -> Result<ReportConfig> {
        let scan = reading_scan(&args.scan, &args.lake, env)?;
        if let Some(dir) = &args.out {
            std::fs::create_dir_all(dir).with_context(|| format!("--out {}", dir.display()))?;
        }
        let baseline = crate::window::parse_duration(&args.baseline)
            .filter(|d| d.is_positive())
            .with_context(|| {
                format!(
                    "--baseline {}: not a duration such as 14d, 2w or 36h",
                    args.baseline
                )
            })?;
        let geoip = match args.geoip.as_slice() {
            [] => None,
            paths => Some(std::sync::Arc::new(crate::report::geoip::GeoIp::open(
                paths,
            )?)),
        };
        if let Some(dir) = args.html.as_ref().and_then(|f| f.parent()) {
            std::fs::create_dir_all(dir).with_context(|| format!("--html {}", dir.display()))?;
        }
        let allow = load_allowlist(args.allow.as_deref())?;
        Ok(ReportConfig {
            table_options: sweep::table_options(args, &scan.window),
            not_mergeable: [
                ("--rules", args.rules.is_some()),
                ("--geoip", !args.geoip.is_empty()),
                ("--sigma", !args.sigma.is_empty()),
                ("--allow", args.allow.is_some()),
            ]
            .iter()
            .filter(|(_, given)| *given)
            .map(|(flag, _)| flag.to_string())
            .collect(),
            scan,
            out: args.out.clone(),
            format: args.format,
            top: args.top,
            geoip,
            baseline,
            findings: crate::report::findings::FindingsSettings {
                work_hours: (args.work_hours.as_deref())
                    .map(crate::report::findings::parse_work_hours)
                    .transpose()
                    .map_err(anyhow::Error::msg)?,
                off_hours_tolerance: args.off_hours_tolerance,
            },
            html: args.html.clone(),
            rules: with_default_topic(
                args.rules
                    .as_deref()
                    .map(load_rules)
                    .transpose()?
                    .unwrap_or_default(),
                crate::cli::DEFAULT_SNS_TOPIC_ARN,
            ),
            sigma: (!args.sigma.is_empty())
                .then(|| crate::hunt::SigmaSetup::load(&args.sigma, false, allow.clone()))
                .transpose()?
                .map(std::sync::Arc::new),
            allow,
        })
    }
}

/// `verify`'s options, validated.
#[derive(Debug, Clone)]
pub struct VerifyConfig {
    /// Mirrors (directories) and window; `selection` selects nothing, since
    /// the scan only feeds the tampering visitor.
    pub scan: ScanConfig,
    /// The keys of every `--public-keys` file, or `None` (signatures unchecked).
    pub public_keys: Option<crate::verify::PublicKeys>,
    pub gap: std::time::Duration,
    pub out: Option<PathBuf>,
    pub format: OutputFormat,
    /// `--trail-bucket` names plus `--bucket`; `None` when neither is given.
    pub trail_buckets: Option<std::collections::BTreeSet<String>>,
    pub bucket: Option<String>,
    pub prefix: Option<String>,
}

impl VerifyConfig {
    /// Validates `verify`'s options and loads the public keys, so a bad
    /// option or key file fails before anything is read.
    pub fn from_args(args: &VerifyArgs, env: &Env) -> Result<VerifyConfig> {
        if let Some(s3) = args.sources.iter().find(|s| s.starts_with("s3://")) {
            bail!("SOURCE {s3}: verify reads local mirrors; make one first with `ctscan mirror {s3} DIR`");
        }
        let scan_args = ScanArgs {
            sources: args.sources.clone(),
            since: args.since.clone(),
            until: args.until.clone(),
            events: Vec::new(),
            all_events: false,
            threads: args.threads,
            max_object_size: crate::read::inflate::DEFAULT_MAX_DECOMPRESSED,
            memory_budget: crate::read::inflate::DEFAULT_MEMORY_BUDGET,
            quiet: args.quiet,
            keep_duplicates: false,
            prune: PruneArgs::default(),
            s3: S3Args {
                s3_concurrency: 1,
                ..S3Args::default()
            },
        };
        let mut scan = ScanConfig::from_args(&scan_args, env)?;
        scan.selection = Selection::Events(Vec::new());
        scan.lake = match args.lake.as_deref() {
            Some(l) if crate::lake::remote::is_remote(l) => bail!(
                "--lake {}: verify reads a local lake, beside its mirror",
                l.display()
            ),
            l => crate::lake::read::open_arg(l)?,
        };
        for src in &scan.sources {
            let SourceSpec::Local(path) = src else {
                continue;
            };
            if !path.is_dir() {
                bail!(
                    "SOURCE {}: verify needs the directory a bucket was mirrored into (the one holding AWSLogs/)",
                    path.display()
                );
            }
        }
        let gap = crate::window::parse_duration(&args.gap)
            .filter(|d| d.is_positive())
            .and_then(|d| std::time::Duration::try_from(d).ok())
            .with_context(|| format!("--gap {}: not a duration such as 90m, 2h or 1d", args.gap))?;
        let mut keys: Option<crate::verify::PublicKeys> = None;
        for file in &args.public_keys {
            let bytes =
                std::fs::read(file).with_context(|| format!("--public-keys {}", file.display()))?;
            let parsed = crate::verify::PublicKeys::from_json(&bytes)
                .with_context(|| format!("--public-keys {}", file.display()))?;
            keys.get_or_insert_with(Default::default).merge(parsed);
        }
        if let Some(dir) = &args.out {
            std::fs::create_dir_all(dir).with_context(|| format!("--out {}", dir.display()))?;
        }
        let trail_buckets: std::collections::BTreeSet<String> = args
            .trail_buckets
            .iter()
            .chain(args.bucket.as_ref())
            .cloned()
            .collect();
        Ok(VerifyConfig {
            scan,
            public_keys: keys,
            gap,
            out: args.out.clone(),
            format: args.format,
            trail_buckets: (!trail_buckets.is_empty()).then_some(trail_buckets),
            bucket: args.bucket.clone(),
            prefix: args.prefix.clone(),
        })
    }
}

/// Parses a filter pattern given on the command line.
pub fn parse_pattern(text: &str) -> Result<crate::replay::pattern::Pattern> {
    crate::replay::pattern::Pattern::parse(text).context("invalid pattern")
}

/// The shared scan options of a command that matches records its own way:
/// the report selection (`--event`, `--all-events`) does not apply.
fn visitor_scan(args: &ScanArgs, lake: &LakeArgs, env: &Env) -> Result<ScanConfig> {
    if args.all_events || !args.events.is_empty() {
        bail!("--event and --all-events apply to report; use --pattern or --event-name");
    }
    let mut scan = reading_scan(args, lake, env)?;
    scan.selection = Selection::Events(Vec::new());
    Ok(scan)
}

/// [`ScanConfig::from_args`] for a command that may read `--lake DIR`
/// instead of SOURCEs; a DIR that is no lake fails here.
fn reading_scan(args: &ScanArgs, lake: &LakeArgs, env: &Env) -> Result<ScanConfig> {
    let Some(dir) = &lake.lake else {
        return ScanConfig::from_args(args, env);
    };
    if args.prune.shard.is_some() {
        bail!("--shard splits SOURCEs, not a lake: give each worker `ingest --shard`, then read the whole lake with --lake");
    }
    let remote = crate::lake::remote::is_remote(dir);
    let opened = match remote {
        true => None,
        false => crate::lake::read::open_arg(Some(dir))?,
    };
    let sources = vec![dir.display().to_string()];
    let mut scan = ScanConfig::from_args(
        &ScanArgs {
            sources,
            ..args.clone()
        },
        env,
    )?;
    scan.sources = Vec::new();
    scan.lake = match remote {
        true => Some(lake_s3::open_remote(dir, &scan)?),
        false => opened,
    };
    Ok(scan)
}

/// `test-pattern`'s options, validated.
#[derive(Debug, Clone)]
pub struct TestPatternConfig {
    pub pattern: crate::replay::pattern::Pattern,
    /// `None` reads stdin.
    pub input: Option<PathBuf>,
}

impl TestPatternConfig {
    pub fn from_args(args: &TestPatternArgs) -> Result<TestPatternConfig> {
        Ok(TestPatternConfig {
            pattern: parse_pattern(&args.pattern)?,
            input: args.file.clone().filter(|f| f.as_os_str() != "-"),
        })
    }
}

/// `events`' options, validated.
#[derive(Debug, Clone)]
pub struct EventsConfig {
    pub scan: ScanConfig,
    pub pattern: Option<crate::replay::pattern::Pattern>,
    pub lookup: crate::read::lookup::LookupFilters,
    pub format: EventsFormat,
    pub limit: Option<usize>,
}

impl EventsConfig {
    pub fn from_args(args: &EventsArgs, env: &Env) -> Result<EventsConfig> {
        let pattern = args.pattern.as_deref().map(parse_pattern).transpose()?;
        Ok(EventsConfig {
            scan: visitor_scan(&args.scan, &args.lake, env)?,
            pattern,
            lookup: crate::read::lookup::LookupFilters {
                event_name: args.event_name.clone(),
                event_source: args.event_source.clone(),
                username: args.username.clone(),
                access_key_id: args.access_key_id.clone(),
                resource_name: args.resource_name.clone(),
                read_only: args.read_only,
                event_id: args.event_id.clone(),
            },
            format: args.format,
            limit: args.limit,
        })
    }
}

/// `hunt`'s options, validated: rules compiled and the allowlist read.
#[derive(Debug)]
pub struct HuntConfig {
    pub scan: ScanConfig,
    pub rules: crate::hunt::sigma::SigmaRuleSet,
    /// Rule files left out (unsupported, invalid, another log source).
    pub problems: Vec<crate::hunt::sigma::Unsupported>,
    pub allow: Option<std::sync::Arc<crate::hunt::allow::Allowlist>>,
    pub out: Option<PathBuf>,
    pub format: crate::cli::HuntFormat,
}

impl HuntConfig {
    pub fn from_args(args: &crate::cli::HuntArgs, env: &Env) -> Result<HuntConfig> {
        let scan = visitor_scan(&args.scan, &args.lake, env)?;
        let crate::hunt::SigmaSetup {
            rules,
            problems,
            allow,
        } = crate::hunt::SigmaSetup::load(
            &args.sigma,
            args.strict,
            load_allowlist(args.allow.as_deref())?,
        )?;
        if let Some(dir) = &args.out {
            std::fs::create_dir_all(dir).with_context(|| format!("--out {}", dir.display()))?;
        }
        Ok(HuntConfig {
            scan,
            rules,
            problems,
            allow,
            out: args.out.clone(),
            format: args.format,
        })
    }
}

/// `--allow FILE`, read and checked.
fn load_allowlist(
    path: Option<&std::path::Path>,
) -> Result<Option<std::sync::Arc<crate::hunt::allow::Allowlist>>> {
    path.map(|p| crate::hunt::allow::Allowlist::load(p).map(std::sync::Arc::new))
        .transpose()
}

/// `ingest --select`'s `--pattern` and `--rules` patterns, and how the
/// manifest names them.
fn ingest_patterns(
    args: &crate::cli::IngestArgs,
) -> Result<(Vec<crate::replay::pattern::Pattern>, Vec<String>)> {
    let (mut patterns, mut names) = (Vec::new(), Vec::new());
    if let Some(p) = &args.pattern {
        patterns.push(parse_pattern(p)?);
        names.push(format!("pattern:{p}"));
    }
    if let Some(spec) = &args.rules {
        for rule in load_rules(spec)? {
            patterns.push(
                parse_pattern(&rule.pattern)
                    .with_context(|| format!("--rules {spec}: rule {}", rule.id))?,
            );
        }
        names.push(format!("rules:{spec}"));
    }
    Ok((patterns, names))
}

/// The rules of `--rules cis|FILE`: the CIS pack or a JSON rules file.
pub fn load_rules(spec: &str) -> Result<Vec<crate::replay::rules::Rule>> {
    if spec == "cis" {
        return Ok(crate::replay::rules::cis_rules());
    }
    let text = std::fs::read_to_string(spec).with_context(|| format!("--rules {spec}"))?;
    crate::replay::rules::parse_rules_json(&text).with_context(|| format!("--rules {spec}"))
}

/// Gives every rule without an SNS topic `topic`, so its alarm notifies.
fn with_default_topic(
    mut rules: Vec<crate::replay::rules::Rule>,
    topic: &str,
) -> Vec<crate::replay::rules::Rule> {
    for r in &mut rules {
        if r.alarm.sns_topic_arn.is_none() {
            r.alarm.sns_topic_arn = Some(topic.to_string());
        }
    }
    rules
}

/// `alarm`'s options, validated: one rule per alarm to replay.
#[derive(Debug, Clone)]
pub struct AlarmCommandConfig {
    pub scan: ScanConfig,
    pub rules: Vec<crate::replay::rules::Rule>,
    /// Whether the rules came from `--rules` (one summary row per rule).
    pub pack: bool,
    pub default_mode: DefaultModeArg,
    pub clock: ClockArg,
    pub explain: bool,
    pub fail_on_alarm: bool,
    pub out: Option<PathBuf>,
    pub top: usize,
}

impl AlarmCommandConfig {
    pub fn from_args(args: &AlarmArgs, env: &Env) -> Result<AlarmCommandConfig> {
        use crate::replay::rules::{Rule, RuleValue};
        let scan = visitor_scan(&args.scan, &args.lake, env)?;
        let rules = match (&args.rules, &args.pattern) {
            (Some(spec), _) => load_rules(spec)?,
            (None, Some(p)) => {
                parse_pattern(p)?;
                let mut alarm =
                    crate::replay::alarm::AlarmConfig::cis(&args.alarm_name, &args.alarm_name);
                alarm.namespace = "ctscan".into();
                alarm.statistic = args.statistic.parse().context("--statistic")?;
                alarm.comparison = args.comparison.parse().context("--comparison")?;
                alarm.treat_missing_data = args
                    .treat_missing_data
                    .parse()
                    .context("--treat-missing-data")?;
                alarm.period_secs = args.period;
                alarm.evaluation_periods = args.evaluation_periods;
                alarm.datapoints_to_alarm = args.datapoints_to_alarm;
                alarm.threshold = args.threshold;
                alarm.validate().context("alarm")?;
                let metric_value = RuleValue::parse(&args.metric_value, p)
                    .map_err(|e| anyhow::anyhow!("--metric-value {e}"))?;
                vec![Rule {
                    id: args.alarm_name.clone(),
                    title: args.alarm_name.clone(),
                    pattern: p.clone(),
                    metric_name: args.alarm_name.clone(),
                    metric_value,
                    default_value: args.default_value,
                    alarm,
                    note: None,
                }]
            }
            (None, None) => bail!("alarm needs --pattern P or --rules cis|FILE"),
        };
        let rules = with_default_topic(rules, &args.sns_topic_arn);
        if let Some(dir) = &args.out {
            std::fs::create_dir_all(dir).with_context(|| format!("--out {}", dir.display()))?;
        }
        Ok(AlarmCommandConfig {
            scan,
            rules,
            pack: args.rules.is_some(),
            default_mode: args.default_mode,
            clock: args.clock,
            explain: args.explain,
            fail_on_alarm: args.fail_on_alarm,
            out: args.out.clone(),
            top: args.top,
        })
    }
}

/// `mirror`'s options, validated.
#[derive(Debug, Clone)]
pub struct MirrorConfig {
    pub source: S3Url,
    pub dir: PathBuf,
    pub window: TimeWindow,
    pub prune: Pruning,
    pub s3: S3Options,
    pub quiet: bool,
    pub progress: bool,
    pub now: Timestamp,
}

impl MirrorConfig {
    /// Validates `mirror`'s options; creates DIR so a bad path fails early.
    pub fn from_args(args: &MirrorArgs, env: &Env) -> Result<MirrorConfig> {
        let source = S3Url::parse(&args.source).context("mirror SOURCE")?;
        let window = parse_window(args.since.as_deref(), args.until.as_deref(), env.now)?;
        std::fs::create_dir_all(&args.dir)
            .with_context(|| format!("mirror DIR {}", args.dir.display()))?;
        Ok(MirrorConfig {
            source,
            dir: args.dir.clone(),
            window,
            prune: Pruning::from_args(&args.prune, env)?,
            s3: S3Options::from_args(&args.s3, env)?,
            quiet: args.quiet,
            progress: env.stderr_is_tty && !args.quiet,
            now: env.now,
        })
    }
}

/// `ingest`'s options, validated.
#[derive(Debug, Clone)]
pub struct IngestConfig {
    /// The scan; its selection is every event unless `--select`.
    pub scan: ScanConfig,
    pub lake: LakeTarget,
    /// What `--select` chose, for the manifest (`all` without it).
    pub selected: Vec<String>,
    /// `--select --pattern` and `--rules`: a record any of them matches is
    /// stored (the scan's selection then matches nothing).
    pub patterns: Vec<crate::replay::pattern::Pattern>,
    pub commit_objects: usize,
    pub lake_buffer: u64,
    /// See `IngestArgs::crash_after_commits`.
    pub crash_after_commits: Option<u64>,
    /// `--shard auto/N`: the engine runs one worker per index at a time.
    pub engine_index: bool,
}

impl IngestConfig {
    /// Validates `ingest`'s options; creates the lake's folder so a bad path fails early.
    pub fn from_args(args: &crate::cli::IngestArgs, env: &Env) -> Result<IngestConfig> {
        let mut scan = ScanConfig::from_args(&args.scan, env)?;
        if !args.select {
            if !args.scan.events.is_empty() || args.scan.all_events {
                bail!("--event and --all-events choose what `ingest --select` stores; add --select, or drop them to store every event");
            }
            scan.selection = Selection::All;
        }
        let (patterns, chosen) = ingest_patterns(args)?;
        if !patterns.is_empty() {
            if !args.scan.events.is_empty() || args.scan.all_events {
                bail!("--pattern and --rules choose what `ingest --select` stores; drop --event and --all-events");
            }
            scan.selection = Selection::Events(Vec::new());
        }
        let selected = match &scan.selection {
            _ if !patterns.is_empty() => chosen,
            Selection::All => vec!["all".to_string()],
            Selection::Events(specs) => specs
                .iter()
                .map(|s| match &s.source {
                    Some(src) => format!("{src}:{}", s.name),
                    None => s.name.clone(),
                })
                .collect(),
        };
        if args.commit_objects == 0 {
            bail!("--commit-objects must be at least 1");
        }
        Ok(IngestConfig {
            scan,
            lake: LakeTarget::from_args(&args.lake, args.lake_staging.as_deref())?,
            selected,
            patterns,
            commit_objects: args.commit_objects,
            lake_buffer: args.lake_buffer,
            crash_after_commits: args.crash_after_commits,
            engine_index: (args.scan.prune.shard.as_deref())
                .is_some_and(|s| s.starts_with("auto/")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Args, Command};
    use clap::Parser;

    fn env() -> Env {
        Env {
            now: "2026-11-23T12:00:00Z".parse().unwrap(),
            default_source: Some(".".into()),
            stderr_is_tty: true,
            stdout_is_tty: true,
            list_barrier: None,
            array_index: ArrayIndex::default(),
        }
    }

    #[test]
    fn shard_is_taken_from_the_flag_or_the_array_index() {
        let c = report(&["ctscan", ".", "--shard", "1/3"]).unwrap();
        assert_eq!(c.scan.prune.shard, Some(Shard { index: 1, count: 3 }));
        assert_eq!(report(&["ctscan", "."]).unwrap().scan.prune.shard, None);
        let err = report(&["ctscan", ".", "--shard", "auto/3"]).unwrap_err();
        assert!(format!("{err:#}").contains("JOB_COMPLETION_INDEX"));
        let argv = crate::cli::with_default_command(
            ["ctscan", ".", "--shard", "auto/3"]
                .map(Into::into)
                .to_vec(),
        );
        let Command::Report(a) = Args::try_parse_from(argv).unwrap().command else {
            panic!("not report");
        };
        let batch = Env {
            array_index: ArrayIndex::read(|v| {
                (v == "AWS_BATCH_JOB_ARRAY_INDEX").then(|| "2".into())
            }),
            ..env()
        };
        let c = ReportConfig::from_args(&a, &batch).unwrap();
        assert_eq!(c.scan.prune.shard, Some(Shard { index: 2, count: 3 }));
    }

    #[test]
    fn cells_are_shortened_on_a_terminal_and_whole_off_one() {
        let on_tty = report(&["ctscan", "."]).unwrap();
        assert_eq!(on_tty.scan.cell_fit, CellFit::Shorten);
        let argv = crate::cli::with_default_command(vec!["ctscan".into(), ".".into()]);
        let Command::Report(a) = Args::try_parse_from(argv).unwrap().command else {
            panic!("not report");
        };
        let piped = Env {
            stdout_is_tty: false,
            ..env()
        };
        let c = ReportConfig::from_args(&a, &piped).unwrap();
        assert_eq!(c.scan.cell_fit, CellFit::Whole);
    }

    fn report(argv: &[&str]) -> Result<ReportConfig> {
        let argv = crate::cli::with_default_command(argv.iter().map(Into::into).collect());
        let Command::Report(a) = Args::try_parse_from(argv)?.command else {
            anyhow::bail!("not report");
        };
        ReportConfig::from_args(&a, &env())
    }

    #[test]
    fn since_defaults_to_report_and_env_source() {
        let c = report(&["ctscan", "--since", "30d"]).unwrap();
        assert_eq!(
            c.scan.window.since,
            Some("2026-10-24T12:00:00Z".parse().unwrap())
        );
        assert_eq!(c.scan.sources, vec![SourceSpec::Local(".".into())]);
        assert_eq!(c.scan.selection, Selection::default());
        assert!(c.scan.progress);
    }

    #[test]
    fn quiet_hides_progress_and_events_select() {
        let c = report(&["ctscan", "report", ".", "-q", "--event", "ssm:GetParameter"]).unwrap();
        assert!(!c.scan.progress);
        assert!(matches!(c.scan.selection, Selection::Events(ref v) if v.len() == 1));
        let c = report(&["ctscan", ".", "--all-events"]).unwrap();
        assert_eq!(c.scan.selection, Selection::All);
    }

    #[test]
    fn bad_options_fail_before_scanning() {
        assert!(report(&[
            "ctscan",
            ".",
            "--since",
            "2026-02-01",
            "--until",
            "2026-01-01"
        ])
        .is_err());
        assert!(report(&["ctscan", "/no/such/dir"]).is_err());
        assert!(report(&["ctscan", ".", "--threads", "0"]).is_err());
        assert!(report(&["ctscan", ".", "--since", "soon"]).is_err());
        assert!(report(&["ctscan", "s3://"]).is_err());
        assert!(report(&["ctscan", "s3://b", "--s3-concurrency", "0"]).is_err());
        assert!(report(&["ctscan", "s3://b", "--endpoint-url", "localhost:9"]).is_err());
    }

    #[test]
    fn baseline_defaults_to_14_days_and_geoip_is_off() {
        let c = report(&["ctscan", "."]).unwrap();
        assert_eq!(c.baseline, jiff::SignedDuration::from_hours(14 * 24));
        assert!(c.geoip.is_none());
        let c = report(&["ctscan", ".", "--baseline", "2w"]).unwrap();
        assert_eq!(c.baseline, jiff::SignedDuration::from_hours(14 * 24));
        let c = report(&["ctscan", ".", "--baseline", "36h"]).unwrap();
        assert_eq!(c.baseline, jiff::SignedDuration::from_hours(36));
        for bad in ["soon", "0d", "2026-01-01", ""] {
            let err = report(&["ctscan", ".", "--baseline", bad]).unwrap_err();
            assert!(format!("{err:#}").contains("--baseline"), "{bad}: {err:#}");
        }
    }

    #[test]
    fn geoip_opens_every_file_before_scanning() {
        let err = report(&["ctscan", ".", "--geoip", "/no/such/GeoLite2-City.mmdb"]).unwrap_err();
        assert!(
            format!("{err:#}").contains("--geoip /no/such/GeoLite2-City.mmdb"),
            "{err:#}"
        );
    }

    #[test]
    fn html_names_the_dashboard_file() {
        let c = report(&["ctscan", ".", "--html", "dash.html"]).unwrap();
        assert_eq!(c.html, Some(PathBuf::from("dash.html")));
        assert_eq!(report(&["ctscan", "."]).unwrap().html, None);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("new/dash.html");
        let c = report(&["ctscan", ".", "--html", &file.display().to_string()]).unwrap();
        assert_eq!(c.html, Some(file));
        assert!(dir.path().join("new").is_dir());
    }

    #[test]
    fn mirror_takes_an_s3_url_a_dir_and_a_window() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("m").display().to_string();
        let argv = crate::cli::with_default_command(
            [
                "ctscan",
                "mirror",
                "s3://t/p",
                &d,
                "--since",
                "2026-01-01",
                "-q",
            ]
            .iter()
            .map(Into::into)
            .collect(),
        );
        let Command::Mirror(a) = Args::try_parse_from(argv).unwrap().command else {
            panic!("not mirror");
        };
        let c = MirrorConfig::from_args(&a, &env()).unwrap();
        assert_eq!(c.source.prefix, "p/");
        assert!(c.window.since.is_some() && !c.progress);
        assert!(std::path::Path::new(&d).is_dir());
        let bad = Args::try_parse_from(["ctscan", "mirror", "./local", &d]).unwrap();
        let Command::Mirror(a) = bad.command else {
            panic!("not mirror");
        };
        assert!(MirrorConfig::from_args(&a, &env()).is_err());
    }

    #[test]
    fn s3_sources_and_options() {
        let c = report(&[
            "ctscan",
            "s3://trail/logs/x/",
            "--bucket-region",
            "eu-west-1",
            "--region",
            "eu-*",
            "--region",
            "us-east-1",
            "--account",
            "1111*",
            "--since-slack",
            "10m",
            "--endpoint-url",
            "http://127.0.0.1:9",
            "--no-sign-request",
            "--profile",
            "p",
        ])
        .unwrap();
        let url = S3Url {
            bucket: "trail".into(),
            prefix: "logs/x/".into(),
        };
        assert_eq!(c.scan.sources, vec![SourceSpec::S3(url)]);
        assert_eq!(c.scan.s3.bucket_region.as_deref(), Some("eu-west-1"));
        assert_eq!(c.scan.s3.profile.as_deref(), Some("p"));
        assert!(c.scan.s3.no_sign_request);
        assert_eq!(c.scan.s3.concurrency, 256);
        assert_eq!(c.scan.s3.retry_deadline.as_secs(), 900);
        let sel = &c.scan.prune.select;
        assert!(sel.region("eu-west-3") && sel.region("us-east-1") && !sel.region("us-west-2"));
        assert!(sel.account("111122223333") && !sel.account("222233334444"));
        let slack = c.scan.prune.slack;
        assert_eq!(
            (slack.since.as_secs(), slack.until.as_secs()),
            (600, 86_400)
        );
        assert!(report(&["ctscan", "s3://b", "--until-slack", "soon"]).is_err());
        assert!(report(&["ctscan", "s3://b", "--account", "[1"]).is_err());
        assert_eq!(S3Url::parse("s3://b").unwrap().prefix, "");
        assert_eq!(S3Url::parse("s3://b/p").unwrap().prefix, "p/");
    }

    fn verify(argv: &[&str]) -> Result<VerifyConfig> {
        let argv = crate::cli::with_default_command(argv.iter().map(Into::into).collect());
        let Command::Verify(a) = Args::try_parse_from(argv)?.command else {
            panic!("not verify");
        };
        VerifyConfig::from_args(&a, &env())
    }

    #[test]
    fn verify_options() {
        let c = verify(&["ctscan", "verify", ".", "--gap", "90m", "--bucket", "b"]).unwrap();
        assert_eq!(c.gap, std::time::Duration::from_secs(5400));
        assert_eq!(c.scan.selection, Selection::Events(Vec::new()));
        assert_eq!(c.trail_buckets, Some(["b".to_string()].into()));
        assert!(c.public_keys.is_none());
        let c = verify(&["ctscan", "verify"]).unwrap();
        assert_eq!(c.gap, std::time::Duration::from_secs(7200));
        assert_eq!(c.trail_buckets, None);
        assert!(verify(&["ctscan", "verify", ".", "--gap", "2026-01-01"]).is_err());
        assert!(verify(&["ctscan", "verify", ".", "--gap", "0h"]).is_err());
        assert!(verify(&["ctscan", "verify", "Cargo.toml"]).is_err());
        assert!(verify(&["ctscan", "verify", "s3://bucket/x"]).is_err());
        assert!(verify(&["ctscan", "verify", ".", "--public-keys", "/no/such"]).is_err());
    }
}
