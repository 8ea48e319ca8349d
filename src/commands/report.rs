//! `ctscan report`: scan, build the reports, write them, show them.

use std::io::Write;

use anyhow::Result;
use serde::Serialize;

use crate::cli::ClockArg;
use crate::cli::DefaultModeArg;
use crate::cli::OutputFormat;
use crate::commands::alarm::{
    history_table, replay_rule_list, rules_table, scan_for_rules, AlarmHits, ReplayHow, RuleOutcome,
};
use crate::commands::scan_sources::{scan_sources, Scanned};
use crate::config::{ReportConfig, SourceSpec};
use crate::error::ExitStatus;
use crate::events::EventStore;
use crate::report::dashboard::AlarmTimeline;
use crate::report::export::{
    write_csv, write_events_parquet_with, write_json_atomically, write_parquet,
};
use crate::report::findings::{findings_table, findings_with, Countries};
use crate::report::geoip::Annotations;
use crate::report::partial::{ShardManifest, MANIFEST, PARTIAL_FORMAT};
use crate::report::terminal::{human_bytes, print_table};
use crate::report::{all_reports, Table};
use crate::scan::{Failure, FileCounts, RecordCounts};
use crate::source::s3::S3Counts;
use crate::source::shard::Shard;
use crate::window::format_utc;

/// `summary.json`, as `cli.md` specifies, plus a few extras.
#[derive(Debug, Serialize)]
pub struct Summary<'a> {
    pub files: &'a FileCounts,
    pub failures: &'a [Failure],
    pub records: &'a RecordCounts,
    pub window: WindowJson,
    /// Distinct events in the reports (matched minus duplicates).
    pub events: u64,
    pub elapsed_s: f64,
    pub bytes_read: u64,
    pub bytes_decompressed: u64,
    pub threads: usize,
    /// LIST requests and keys listed, when a SOURCE is on S3.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3: Option<S3Counts>,
}

/// The window as RFC 3339 strings (null for an open end).
#[derive(Debug, Serialize)]
pub struct WindowJson {
    pub since: Option<String>,
    pub until: Option<String>,
}

/// Runs `report`.
pub fn run(cfg: &ReportConfig) -> Result<ExitStatus> {
    if let (Some(_), Some(dir)) = (cfg.scan.prune.shard, &cfg.out) {
        // A rerun of a shard (a retry) is unfinished until it is written again.
        remove_if_present(&dir.join(MANIFEST))?;
    }
    let (scanned, hits) = scan(cfg)?;
    let status = write_and_show(cfg, &scanned, &hits)?;
    if let (Some(shard), Some(dir)) = (cfg.scan.prune.shard, &cfg.out) {
        write_shard_manifest(cfg, shard, dir)?;
    }
    Ok(status)
}

/// Builds the reports from a scan's events and accounting, writes them and
/// shows them; `merge` calls it with the union of the shards' partials.
pub fn write_and_show(
    cfg: &ReportConfig,
    scanned: &Scanned,
    hits: &AlarmHits,
) -> Result<ExitStatus> {
    let stats = &scanned.outcome.stats;
    let store = &scanned.outcome.events;
    let summary = Summary {
        files: &stats.files,
        failures: &stats.failures,
        records: &stats.records,
        window: WindowJson {
            since: cfg.scan.window.since.map(format_utc),
            until: cfg.scan.window.until.map(format_utc),
        },
        events: store.len() as u64,
        elapsed_s: scanned.elapsed.as_secs_f64(),
        bytes_read: stats.bytes_read,
        bytes_decompressed: stats.bytes_decompressed,
        threads: scanned.threads,
        s3: scanned.s3,
    };
    let geo = cfg
        .geoip
        .as_deref()
        .map(|g| g.annotate(store))
        .transpose()?;
    let mut reports = all_reports(store);
    reports.extend(extra_reports(store, geo.as_ref(), cfg));
    let how = ReplayHow {
        window: cfg.scan.window,
        default_mode: DefaultModeArg::PerEvent,
        explain: false,
    };
    let outcomes = replay_rule_list(&cfg.rules, &how, hits)?;
    if !outcomes.is_empty() {
        reports.push(rules_table(&outcomes));
        reports.push(history_table(&outcomes));
    }
    if let Some(dir) = &cfg.out {
        for table in &reports {
            write_parquet(table, dir)?;
            write_csv(table, dir)?;
        }
        write_events_parquet_with(store, dir, |chunk| {
            geo.as_ref()
                .map(|g| g.event_columns(chunk))
                .unwrap_or_default()
        })?;
        write_json_atomically(&dir.join("summary.json"), &summary)?;
    }
    if let Some(path) = &cfg.html {
        let page = crate::report::dashboard::render(&crate::report::dashboard::Dashboard {
            title: "ctscan: secret access report".to_string(),
            summary: &serde_json::to_value(&summary)?,
            store,
            tables: &reports,
            alarms: &timelines(&outcomes, store, cfg),
        });
        crate::report::export::write_atomically(path, |out| Ok(out.write_all(page.as_bytes())?))?;
    }
    let mut stdout = std::io::stdout().lock();
    match cfg.format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut stdout, &summary)?;
            writeln!(stdout)?;
        }
        OutputFormat::Table if !cfg.scan.quiet => {
            print_summary(&mut stdout, scanned, &summary)?;
            for table in &reports {
                print_table(&mut stdout, table, cfg.top, cfg.scan.cell_fit)?;
            }
        }
        OutputFormat::Table => {}
    }
    stdout.flush()?;
    Ok(if stats.files.failed > 0 {
        ExitStatus::Error
    } else {
        ExitStatus::Ok
    })
}

/// Marks `DIR` as a finished partial of `shard`, last, once every other
/// file is in place (see [`crate::report::partial`]).
fn write_shard_manifest(cfg: &ReportConfig, shard: Shard, dir: &std::path::Path) -> Result<()> {
    let sources = cfg.scan.sources.iter().map(|s| match s {
        SourceSpec::Local(path) => path.display().to_string(),
        SourceSpec::S3(url) => url.to_string(),
    });
    let manifest = ShardManifest {
        format: PARTIAL_FORMAT,
        shard,
        sources: sources.collect(),
        table_options: cfg.table_options.clone(),
        not_mergeable: cfg.not_mergeable.clone(),
    };
    write_json_atomically(&dir.join(MANIFEST), &manifest)
}

fn remove_if_present(path: &std::path::Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(anyhow::Error::new(e).context(format!("removing {}", path.display())))
        }
        _ => Ok(()),
    }
}

/// Scans the SOURCEs; with `--rules`, also collects the rules' hits in the
/// same pass, sorted by sample time.
fn scan(cfg: &ReportConfig) -> Result<(Scanned, AlarmHits)> {
    if cfg.rules.is_empty() {
        return Ok((scan_sources(&cfg.scan)?, AlarmHits::default()));
    }
    scan_for_rules(
        &cfg.scan,
        &cfg.rules,
        ClockArg::EventTime,
        DefaultModeArg::PerEvent,
    )
}

/// One state band per replayed alarm, over the window (or, when it is open,
/// over the span of the events and the evaluations).
fn timelines(
    outcomes: &[RuleOutcome<'_>],
    store: &EventStore,
    cfg: &ReportConfig,
) -> Vec<AlarmTimeline> {
    let (lo, hi) = outcomes
        .iter()
        .flat_map(|o| {
            let series = o.replay.series.iter().map(|p| p.start);
            series.chain(o.replay.history.iter().map(|c| c.time))
        })
        .map(|t| t.as_microsecond())
        .chain(store.time_span().into_iter().flat_map(|(lo, hi)| [lo, hi]))
        .fold((i64::MAX, i64::MIN), |(lo, hi), t| (lo.min(t), hi.max(t)));
    let seen = lo <= hi;
    let window = &cfg.scan.window;
    let start = window
        .since
        .map(|t| t.as_microsecond())
        .or(seen.then_some(lo));
    let end = window
        .until
        .map(|t| t.as_microsecond())
        .or(seen.then_some(hi + 60_000_000));
    let (Some(start_us), Some(end_us)) = (start, end) else {
        return Vec::new();
    };
    outcomes
        .iter()
        .map(|o| AlarmTimeline {
            name: format!("{} {}", o.rule.id, o.rule.title),
            start_us,
            end_us,
            history: o.replay.history.clone(),
        })
        .collect()
}

/// `by_country` and `by_asn` (with `--geoip`), then `findings`.
fn extra_reports(
    store: &EventStore,
    geo: Option<&Annotations<'_>>,
    cfg: &ReportConfig,
) -> Vec<Table> {
    let mut tables = Vec::new();
    if let Some(g) = geo {
        tables.push(g.by_country(store));
        if g.has_asn() {
            tables.push(g.by_asn(store));
        }
    }
    let countries = geo.map(|g| g as &dyn Countries);
    let found = findings_with(store, cfg.baseline, countries, &cfg.findings);
    tables.push(findings_table(found));
    tables
}

fn print_summary(out: &mut impl Write, scanned: &Scanned, s: &Summary<'_>) -> std::io::Result<()> {
    let f = s.files;
    let skipped: u64 = f.skipped.values().sum();
    let reasons: Vec<String> = f.skipped.iter().map(|(k, v)| format!("{k} {v}")).collect();
    writeln!(
        out,
        "files: {} listed, {} scanned, {} pruned, {} skipped{}, {} failed",
        f.listed,
        f.scanned,
        f.pruned,
        skipped,
        if reasons.is_empty() {
            String::new()
        } else {
            format!(" ({})", reasons.join(", "))
        },
        f.failed
    )?;
    writeln!(
        out,
        "{}; {} events reported",
        s.records.describe(),
        s.events
    )?;
    writeln!(
        out,
        "window: {} .. {}; {} read, {} decompressed in {:.2} s on {} threads",
        s.window.since.as_deref().unwrap_or("(start)"),
        s.window.until.as_deref().unwrap_or("(end)"),
        human_bytes(s.bytes_read),
        human_bytes(s.bytes_decompressed),
        scanned.elapsed.as_secs_f64(),
        scanned.threads
    )
}
