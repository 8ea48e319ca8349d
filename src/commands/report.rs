//! `ctscan report`: scan, build the reports, write them, show them.

use std::io::Write;

use anyhow::Result;
use serde::Serialize;

use crate::cli::OutputFormat;
use crate::commands::scan_sources::{scan_sources, Scanned};
use crate::config::ReportConfig;
use crate::error::ExitStatus;
use crate::export::{write_csv, write_events_parquet, write_json_atomically, write_parquet};
use crate::report::all_reports;
use crate::scan::{Failure, FileCounts, RecordCounts};
use crate::source::s3::ListCounts;
use crate::terminal::{human_bytes, print_table};
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
    pub s3: Option<ListCounts>,
}

/// The window as RFC 3339 strings (null for an open end).
#[derive(Debug, Serialize)]
pub struct WindowJson {
    pub since: Option<String>,
    pub until: Option<String>,
}

/// Runs `report`.
pub fn run(cfg: &ReportConfig) -> Result<ExitStatus> {
    let scanned = scan_sources(&cfg.scan)?;
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
    let reports = all_reports(store);
    if let Some(dir) = &cfg.out {
        for table in &reports {
            write_parquet(table, dir)?;
            write_csv(table, dir)?;
        }
        write_events_parquet(store, dir)?;
        write_json_atomically(&dir.join("summary.json"), &summary)?;
    }
    if let Some(path) = &cfg.html {
        let page = crate::html::render(&crate::html::Dashboard {
            title: "ctscan: secret access report".to_string(),
            summary: &serde_json::to_value(&summary)?,
            store,
            tables: &reports,
            alarms: &[],
        });
        crate::export::write_atomically(path, |out| Ok(out.write_all(page.as_bytes())?))?;
    }
    let mut stdout = std::io::stdout().lock();
    match cfg.format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut stdout, &summary)?;
            writeln!(stdout)?;
        }
        OutputFormat::Table if !cfg.scan.quiet => {
            print_summary(&mut stdout, &scanned, &summary)?;
            for table in &reports {
                print_table(&mut stdout, table, cfg.top)?;
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
    let r = s.records;
    writeln!(
        out,
        "records: {} read, {} matched ({} duplicate eventIDs), {} without eventTime; {} events reported",
        r.read, r.matched, r.duplicates, r.no_event_time, s.events
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
