//! The configurations of a sweep split across shards: `merge`, `lake
//! status`, and the `report` options a shard's partial records so that
//! `merge` rebuilds the tables alike.

use std::path::PathBuf;

use anyhow::{bail, Result};

use super::Env;
use crate::cli::{OutputFormat, ReportArgs};
use crate::window::TimeWindow;

/// `merge`'s options: the partials, and the `report` options that say
/// where and how the merged report goes (the rest come from the partials).
#[derive(Debug, Clone)]
pub struct MergeConfig {
    pub dirs: Vec<PathBuf>,
    /// `--out`, `--format`, `--top`, `--quiet`, `--html`, as `report` arguments.
    pub output_options: Vec<String>,
    pub env: Env,
}

impl MergeConfig {
    pub fn from_args(args: &crate::cli::MergeArgs, env: &Env) -> Result<MergeConfig> {
        let format = match args.format {
            OutputFormat::Table => "table",
            OutputFormat::Json => "json",
        };
        let mut output_options = vec!["--out".to_string(), args.out.display().to_string()];
        output_options.extend(["--format".into(), format.into()]);
        output_options.extend(["--top".into(), args.top.to_string()]);
        output_options.extend(args.quiet.then(|| "--quiet".to_string()));
        if let Some(html) = &args.html {
            output_options.extend(["--html".into(), html.display().to_string()]);
        }
        Ok(MergeConfig {
            dirs: args.dirs.clone(),
            output_options,
            env: env.clone(),
        })
    }
}

/// `lake status`'s options, validated.
#[derive(Debug, Clone)]
pub struct LakeConfig {
    /// The lake's folder: a lake on S3's local cache.
    pub lake: PathBuf,
    /// The lake as named on the command line.
    pub name: String,
    pub format: OutputFormat,
}

impl LakeConfig {
    pub fn from_args(args: &crate::cli::LakeCommandArgs, env: &Env) -> Result<LakeConfig> {
        let crate::cli::LakeAction::Status { lake, format, s3 } = &args.action;
        let name = lake.display().to_string();
        if crate::lake::remote::is_remote(lake) {
            let opts = super::S3Options::from_args(s3, env)?;
            // Status reads the records only, no part file.
            let dir = crate::lake::remote::cache::fetch(
                &name,
                &opts,
                &super::lake_s3::cache_base(),
                &|_| false,
            )?;
            return Ok(LakeConfig {
                lake: dir,
                name,
                format: *format,
            });
        }
        if !lake.is_dir() {
            bail!("{}: not a lake (no such directory)", lake.display());
        }
        Ok(LakeConfig {
            lake: lake.clone(),
            name,
            format: *format,
        })
    }
}

/// The options that shape `report`'s tables, as arguments, with the window
/// resolved to absolute times: what a `--shard` partial records, so that
/// `merge` rebuilds the tables alike and refuses shards that disagree.
pub(super) fn table_options(args: &ReportArgs, window: &TimeWindow) -> Vec<String> {
    let (scan, prune) = (&args.scan, &args.scan.prune);
    let mut out: Vec<(&str, String)> = Vec::new();
    out.extend(
        window
            .since
            .map(|t| ("--since", crate::window::format_utc(t))),
    );
    out.extend(
        window
            .until
            .map(|t| ("--until", crate::window::format_utc(t))),
    );
    out.extend(scan.events.iter().map(|e| ("--event", e.clone())));
    out.extend(prune.accounts.iter().map(|a| ("--account", a.clone())));
    out.extend(prune.regions.iter().map(|r| ("--region", r.clone())));
    out.push(("--since-slack", prune.since_slack.clone()));
    out.push(("--until-slack", prune.until_slack.clone()));
    out.push(("--baseline", args.baseline.clone()));
    out.extend(args.work_hours.clone().map(|w| ("--work-hours", w)));
    out.push((
        "--off-hours-tolerance",
        args.off_hours_tolerance.to_string(),
    ));
    let mut argv: Vec<String> = out
        .into_iter()
        .flat_map(|(flag, value)| [flag.to_string(), value])
        .collect();
    for (flag, given) in [
        ("--all-events", scan.all_events),
        ("--keep-duplicates", scan.keep_duplicates),
    ] {
        if given {
            argv.push(flag.to_string());
        }
    }
    argv
}
