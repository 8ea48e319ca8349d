//! `ctscan report`: scan, build the reports, write them, show them.

use std::io::Write;

use anyhow::Result;
use serde::Serialize;

use crate::cli::ClockArg;
use crate::cli::DefaultModeArg;
use crate::cli::OutputFormat;
use crate::commands::alarm::{
    history_table, replay_rule_list, rules_table, scan_for_rules, scan_for_rules_and, AlarmHits,
    ReplayHow, RuleOutcome,
};
use crate::commands::hunt::{finish_for_report, HuntState, HuntVisitor, SigmaResults};
use crate::commands::scan_sources::{scan_sources, scan_sources_with, Scanned};
pub use crate::commands::WindowJson;
use crate::config::{ReportConfig, SourceSpec};
use crate::error::ExitStatus;
use crate::events::EventStore;
use crate::hunt::allow::Subject;
use crate::hunt::gate::Gate;
use crate::hunt::project::Projection;
use crate::report::dashboard::{AlarmTimeline, TABLE_ROWS};
use crate::report::export::{
    write_csv, write_events_parquet_with, write_json_atomically, write_parquet,
};
use crate::report::findings::{findings_table, findings_with, Countries};
use crate::report::geoip::Annotations;
use crate::report::partial::{ShardManifest, MANIFEST, PARTIAL_FORMAT};
use crate::report::sanitize::terminal;
use crate::report::terminal::{human_bytes, print_table};
use crate::report::{all_reports, Column, Table};
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
    /// What each `--allow` entry silenced: `findings` rows and Sigma
    /// findings together.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allowlist: Vec<AllowJson>,
    /// What the Sigma rules found, with `--sigma`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sigma: Option<SigmaJson>,
    /// The event lake read instead of SOURCEs: files are its manifest's objects.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lake: Option<crate::lake::read::LakeCounts>,
}

/// One allowlist entry's effect.
#[derive(Debug, Serialize)]
pub struct AllowJson {
    pub name: String,
    /// `findings` rows it silenced (in `findings_suppressed`).
    pub findings: u64,
    /// Sigma findings it silenced (in `suppressed.csv`).
    pub sigma: u64,
    /// Past its expiry: it silenced nothing.
    pub expired: bool,
}

/// Per entry of `--allow`, what it silenced: `silenced[i]` findings rows
/// (from [`extra_reports`]) and the Sigma findings.
fn allowlist_json(
    cfg: &ReportConfig,
    silenced: &[u64],
    sigma: Option<&SigmaResults>,
) -> Vec<AllowJson> {
    let Some(allow) = &cfg.allow else {
        return Vec::new();
    };
    let now_us = cfg.scan.now.as_microsecond();
    allow
        .entries
        .iter()
        .enumerate()
        .map(|(i, e)| AllowJson {
            name: e.name.clone(),
            findings: silenced[i],
            sigma: sigma.map_or(0, |s| s.per_entry[i]),
            expired: e.expired(now_us),
        })
        .collect()
}

/// `summary.json`'s account of `--sigma`.
#[derive(Debug, Serialize)]
pub struct SigmaJson {
    pub rules_loaded: usize,
    pub rules_matched: usize,
    /// Findings reported: one per (rule, event), repeats and suppressed ones apart.
    pub findings: u64,
    /// Findings the allowlist silenced (listed in `suppressed.csv`).
    pub suppressed: u64,
    /// Records a rule matched that have no usable eventTime, so no finding.
    pub no_event_time: u64,
}

/// Runs `report`.
pub fn run(cfg: &ReportConfig) -> Result<ExitStatus> {
    for p in cfg.sigma.iter().flat_map(|s| &s.problems) {
        eprintln!("ctscan: warning: sigma: {}", terminal(&p.to_string()));
    }
    if let Some(allow) = &cfg.allow {
        allow.warn_expired(cfg.scan.now.as_microsecond());
    }
    if let (Some(_), Some(dir)) = (cfg.scan.prune.shard, &cfg.out) {
        // A rerun of a shard (a retry) is unfinished until it is written again.
        remove_if_present(&dir.join(MANIFEST))?;
    }
    let (scanned, hits, hunted) = scan(cfg)?;
    let sigma = match (&cfg.sigma, hunted) {
        (Some(setup), Some(state)) => Some(finish_for_report(
            setup,
            state,
            cfg.out.as_deref(),
            cfg.scan.duplicates,
            cfg.scan.now.as_microsecond(),
            TABLE_ROWS,
        )?),
        _ => None,
    };
    let status = write_and_show(cfg, &scanned, &hits, sigma)?;
    if let (Some(shard), Some(dir)) = (cfg.scan.prune.shard, &cfg.out) {
        write_shard_manifest(cfg, shard, dir)?;
    }
    Ok(status)
}

/// Builds the reports from a scan's events and accounting (and what
/// `--sigma` found, its files already written), writes them and shows
/// them; `merge` calls it with the union of the shards' partials.
pub fn write_and_show(
    cfg: &ReportConfig,
    scanned: &Scanned,
    hits: &AlarmHits,
    sigma: Option<SigmaResults>,
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
        sigma: None,
        allowlist: Vec::new(),
        lake: scanned.lake.clone(),
    };
    let geo = cfg
        .geoip
        .as_deref()
        .map(|g| g.annotate(store))
        .transpose()?;
    let mut reports = all_reports(store);
    let (extra, silenced) = extra_reports(store, geo.as_ref(), cfg);
    reports.extend(extra);
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
    let summary = Summary {
        allowlist: allowlist_json(cfg, &silenced, sigma.as_ref()),
        sigma: sigma.as_ref().map(|s| SigmaJson {
            rules_loaded: cfg.sigma.as_ref().map_or(0, |c| c.rules.len()),
            rules_matched: s.rules.rows(),
            findings: s.reported,
            suppressed: s.suppressed,
            no_event_time: s.no_event_time,
        }),
        ..summary
    };
    // Shown, not written: `finish_for_report` wrote the Sigma files.
    let sigma_tables: Vec<Table> = sigma.map(|s| vec![s.rules, s.sample]).unwrap_or_default();
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
            tables: &[&reports[..], &sigma_tables[..]].concat(),
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
            for table in reports.iter().chain(sigma_tables.first()) {
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
/// With `--sigma`, also runs the Sigma rules in that pass.
fn scan(cfg: &ReportConfig) -> Result<(Scanned, AlarmHits, Option<HuntState>)> {
    let Some(setup) = &cfg.sigma else {
        if cfg.rules.is_empty() {
            return Ok((scan_sources(&cfg.scan)?, AlarmHits::default(), None));
        }
        let (scanned, hits) = scan_for_rules(
            &cfg.scan,
            &cfg.rules,
            ClockArg::EventTime,
            DefaultModeArg::PerEvent,
        )?;
        return Ok((scanned, hits, None));
    };
    let gate = Gate::for_rules(&setup.rules);
    let projection = Projection::new(&setup.rules);
    let hunt = HuntVisitor {
        rules: &setup.rules,
        gate: &gate,
        projection: projection.as_ref(),
        window: cfg.scan.window,
    };
    if cfg.rules.is_empty() {
        let (scanned, state) = scan_sources_with(&cfg.scan, &hunt)?;
        return Ok((scanned, AlarmHits::default(), Some(state)));
    }
    let (scanned, hits, state) = scan_for_rules_and(
        &cfg.scan,
        &cfg.rules,
        ClockArg::EventTime,
        DefaultModeArg::PerEvent,
        &hunt,
    )?;
    Ok((scanned, hits, Some(state)))
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

/// `by_country` and `by_asn` (with `--geoip`), then `findings`; with
/// `--allow`, the findings it silences go to `findings_suppressed`, with
/// the entry that silenced each, and how many each entry silenced.
fn extra_reports(
    store: &EventStore,
    geo: Option<&Annotations<'_>>,
    cfg: &ReportConfig,
) -> (Vec<Table>, Vec<u64>) {
    let mut tables = Vec::new();
    if let Some(g) = geo {
        tables.push(g.by_country(store));
        if g.has_asn() {
            tables.push(g.by_asn(store));
        }
    }
    let countries = geo.map(|g| g as &dyn Countries);
    let found = findings_with(store, cfg.baseline, countries, &cfg.findings);
    let Some(allow) = &cfg.allow else {
        tables.push(findings_table(found));
        return (tables, Vec::new());
    };
    let now_us = cfg.scan.now.as_microsecond();
    let (mut kept, mut silenced, mut entries) = (Vec::new(), Vec::new(), Vec::new());
    let mut per_entry = vec![0; allow.entries.len()];
    for f in found {
        let subject = Subject {
            rule: f.rule,
            time_us: f.time_us,
            principal: Some(f.principal),
            source_ip: f.source_ip,
            user_agent: f.user_agent,
            account: f.account,
        };
        match allow.allowing(&subject, now_us) {
            Some(entry) => {
                per_entry[entry] += 1;
                entries.push(Some(allow.entries[entry].name.as_str()));
                silenced.push(f);
            }
            None => kept.push(f),
        }
    }
    tables.push(findings_table(kept));
    let mut suppressed = findings_table(silenced);
    suppressed.name = "findings_suppressed";
    suppressed
        .columns
        .push(("allow_entry", Column::Str(entries.into_iter().collect())));
    tables.push(suppressed);
    (tables, per_entry)
}

fn print_summary(out: &mut impl Write, scanned: &Scanned, s: &Summary<'_>) -> std::io::Result<()> {
    if let Some(lake) = &s.lake {
        writeln!(out, "{}", lake.describe())?;
    }
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
