//! Args → Config: the only place that reads the environment, the clock and
//! whether stderr is a terminal. Everything fallible about options fails here,
//! before any scanning.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use jiff::Timestamp;

use crate::cli::{MirrorArgs, OutputFormat, ReportArgs, S3Args, ScanArgs};
use crate::record::{EventSpec, Selection};
use crate::window::{parse_time_arg, TimeWindow};

/// Environment variable naming the default SOURCE.
pub const SOURCE_ENV: &str = "CTSCAN_SOURCE";

/// A checked SOURCE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceSpec {
    Local(PathBuf),
    S3(S3Url),
}

/// `s3://bucket[/prefix]`, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Url {
    pub bucket: String,
    /// Empty, or ends with `/`.
    pub prefix: String,
}

impl S3Url {
    /// Parses `s3://bucket[/prefix]`; the prefix is taken as a folder.
    pub fn parse(name: &str) -> Result<S3Url> {
        let Some(rest) = name.strip_prefix("s3://") else {
            bail!("{name}: not an s3://bucket[/prefix] URL");
        };
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() || bucket.contains(|c: char| c.is_whitespace() || c == '?') {
            bail!("{name}: no bucket name");
        }
        let prefix = prefix.trim_matches('/');
        Ok(S3Url {
            bucket: bucket.to_string(),
            prefix: if prefix.is_empty() {
                String::new()
            } else {
                format!("{prefix}/")
            },
        })
    }

    /// The URL of a key of this bucket.
    pub fn url_of(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }
}

impl std::fmt::Display for S3Url {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.prefix)
    }
}

/// How to reach S3, validated.
#[derive(Debug, Clone, Default)]
pub struct S3Options {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    pub no_sign_request: bool,
    pub concurrency: usize,
    /// Test hook (`$CTSCAN_TEST_LIST_BARRIER`): after listing, create this file
    /// and wait until it is removed, so a test can change the bucket in between.
    pub list_barrier: Option<PathBuf>,
}

/// Environment variable of the test hook in [`S3Options::list_barrier`].
pub const LIST_BARRIER_ENV: &str = "CTSCAN_TEST_LIST_BARRIER";

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
        Ok(S3Options {
            profile: args.profile.clone(),
            region: args.region.clone(),
            endpoint_url: args.endpoint_url.clone(),
            no_sign_request: args.no_sign_request,
            concurrency: args.s3_concurrency,
            list_barrier: env.list_barrier.clone(),
        })
    }
}

/// Options common to every scanning command, validated.
#[derive(Debug, Clone)]
pub struct ScanConfig {
    pub sources: Vec<SourceSpec>,
    pub window: TimeWindow,
    pub selection: Selection,
    pub threads: Option<usize>,
    pub max_object_size: u64,
    pub quiet: bool,
    /// Whether to draw a progress bar (stderr is a terminal and not quiet).
    pub progress: bool,
    pub s3: S3Options,
    /// The clock, to bound S3 listings of a window open at its end.
    pub now: Timestamp,
}

/// What the process was asked to do in the environment it runs in.
#[derive(Debug, Clone)]
pub struct Env {
    pub now: Timestamp,
    pub default_source: Option<String>,
    pub stderr_is_tty: bool,
    /// See [`S3Options::list_barrier`].
    pub list_barrier: Option<PathBuf>,
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
            list_barrier: std::env::var_os(LIST_BARRIER_ENV).map(PathBuf::from),
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
        Ok(ScanConfig {
            sources: resolve_sources(&args.sources, env)?,
            window,
            selection,
            threads: args.threads,
            max_object_size: args.max_object_size,
            quiet: args.quiet,
            progress: env.stderr_is_tty && !args.quiet,
            s3: S3Options::from_args(&args.s3, env)?,
            now: env.now,
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

/// `report`'s options, validated.
#[derive(Debug, Clone)]
pub struct ReportConfig {
    pub scan: ScanConfig,
    pub out: Option<PathBuf>,
    pub format: OutputFormat,
    pub top: usize,
}

impl ReportConfig {
    /// Validates `report`'s options; creates `--out` so a bad path fails early.
    pub fn from_args(args: &ReportArgs, env: &Env) -> Result<ReportConfig> {
        let scan = ScanConfig::from_args(&args.scan, env)?;
        if let Some(dir) = &args.out {
            std::fs::create_dir_all(dir).with_context(|| format!("--out {}", dir.display()))?;
        }
        Ok(ReportConfig {
            scan,
            out: args.out.clone(),
            format: args.format,
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
            s3: S3Options::from_args(&args.s3, env)?,
            quiet: args.quiet,
            progress: env.stderr_is_tty && !args.quiet,
            now: env.now,
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
            list_barrier: None,
        }
    }

    fn report(argv: &[&str]) -> Result<ReportConfig> {
        let argv = crate::cli::with_default_command(argv.iter().map(Into::into).collect());
        match Args::try_parse_from(argv)?.command {
            Command::Report(a) => ReportConfig::from_args(&a, &env()),
            Command::Mirror(_) => bail!("not report"),
        }
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
            "--region",
            "eu-west-1",
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
        assert_eq!(c.scan.s3.region.as_deref(), Some("eu-west-1"));
        assert_eq!(c.scan.s3.profile.as_deref(), Some("p"));
        assert!(c.scan.s3.no_sign_request);
        assert_eq!(c.scan.s3.concurrency, 32);
        assert_eq!(S3Url::parse("s3://b").unwrap().prefix, "");
        assert_eq!(S3Url::parse("s3://b/p").unwrap().prefix, "p/");
    }
}
