//! `ctscan hunt`: Sigma rules over the logs in one pass. The scan feeds a
//! `HuntVisitor` (`visit.rs`); its findings come back sorted, are judged once each
//! (reported, allowlisted, repeated) and streamed to stdout and `--out`.

mod rows;
mod visit;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::{bail, Result};
use serde::Serialize;

use crate::cli::HuntFormat;
use crate::commands::scan_sources::{scan_sources_with, Scanned};
use crate::commands::WindowJson;
use crate::config::HuntConfig;
use crate::error::ExitStatus;
use crate::events::Duplicates;
use crate::hunt::allow::Allowlist;
use crate::hunt::bundled::{RULE_LICENSE_URL, RULE_SET_URL};
use crate::hunt::gate::Gate;
use crate::hunt::project::Projection;
use crate::hunt::runs::{FindingRuns, SortedFindings};
use crate::hunt::sigma::SigmaRuleSet;
use crate::hunt::summary::{Tally, Verdict};
use crate::hunt::SigmaSetup;
use crate::report::export::{
    write_atomically, write_csv, write_json_atomically, write_parquet, ParquetBatches,
};
use crate::report::sanitize::terminal;
use crate::report::terminal::print_table;
use crate::report::Table;
use crate::scan::{Failure, FileCounts, RecordCounts};
use crate::window::format_utc;
use rows::{cells, csv_header, csv_line, findings_batch, json_row, rules_table, FINDING_COLUMNS};
pub use visit::{HuntState, HuntVisitor};

/// Rows per Parquet row group of `hunt_findings`.
const BATCH_ROWS: usize = 16_384;

/// `summary.json` of a hunt, and the `--format json` document.
#[derive(Debug, Serialize)]
struct HuntSummary<'a> {
    files: &'a FileCounts,
    failures: &'a [Failure],
    records: &'a RecordCounts,
    /// Records parsed whole: those the projection could not serve (or, with
    /// no projection, those the byte gate let through).
    records_parsed: u64,
    window: WindowJson,
    rules: RulesJson,
    allowlist: Vec<AllowJson>,
    elapsed_s: f64,
    bytes_read: u64,
    bytes_decompressed: u64,
    threads: usize,
}

#[derive(Debug, Serialize)]
struct RulesJson {
    loaded: usize,
    /// Rule files left out, one line each: file and reason.
    left_out: Vec<String>,
    /// Rules with at least one match or suppressed match.
    matched: Vec<serde_json::Value>,
    source: &'static str,
    license: &'static str,
}

#[derive(Debug, Serialize)]
struct AllowJson {
    name: String,
    suppressed: u64,
    expired: bool,
}

/// Runs `hunt`.
pub fn run(cfg: &HuntConfig) -> Result<ExitStatus> {
    for p in &cfg.problems {
        eprintln!("ctscan: warning: sigma: {}", terminal(&p.to_string()));
    }
    let now_us = cfg.scan.now.as_microsecond();
    if let Some(allow) = &cfg.allow {
        allow.warn_expired(now_us);
    }
    let gate = Gate::for_rules(&cfg.rules);
    let projection = Projection::new(&cfg.rules);
    let visitor = HuntVisitor {
        rules: &cfg.rules,
        gate: &gate,
        projection: projection.as_ref(),
        window: cfg.scan.window,
    };
    let (scanned, state) = scan_sources_with(&cfg.scan, &visitor)?;
    let HuntState {
        findings,
        no_event_time,
        parsed,
        ..
    } = state;
    let sink = Sink {
        rules: &cfg.rules,
        allow: cfg.allow.as_deref(),
        out: cfg.out.as_deref(),
        format: cfg.format,
        duplicates: cfg.scan.duplicates,
        keep: 0,
    };
    let (tally, _) = emit(&sink, findings, now_us)?;
    let counts = RecordCounts::of_visitor(
        scanned.outcome.stats.records.read,
        tally.matched_records,
        no_event_time,
        tally.duplicates,
    );
    let summary = summary(cfg, &scanned, &counts, &tally, parsed, now_us);
    if let Some(dir) = &cfg.out {
        write_json_atomically(&dir.join("summary.json"), &summary)?;
    }
    show(cfg, &scanned, &counts, &tally, &summary)?;
    Ok(if scanned.outcome.stats.files.failed > 0 {
        ExitStatus::Error
    } else {
        ExitStatus::Ok
    })
}

/// What `report --sigma` shows of the Sigma rules it ran in its pass.
pub struct SigmaResults {
    /// `hunt_rules` as shown: the rules that matched.
    pub rules: Table,
    /// The first reported findings, in order (`hunt_findings`' first rows),
    /// as the table `first_findings`.
    pub sample: Table,
    /// Findings reported (not suppressed, not repeats).
    pub reported: u64,
    pub suppressed: u64,
    /// Of those, how many each allowlist entry silenced.
    pub per_entry: Vec<u64>,
    /// Records some rule matched, without a usable eventTime.
    pub no_event_time: u64,
}

/// Ends the Sigma side of `report --sigma`: judges the findings and writes
/// `hunt`'s files into `out` (`hunt_findings`, `suppressed.csv`,
/// `hunt_rules`), and returns the tables the report shows: the rules that
/// matched, and the first `keep` findings.
pub fn finish_for_report(
    setup: &SigmaSetup,
    state: HuntState,
    out: Option<&Path>,
    duplicates: Duplicates,
    now_us: i64,
    keep: usize,
) -> Result<SigmaResults> {
    let sink = Sink {
        rules: &setup.rules,
        allow: setup.allow.as_deref(),
        out,
        format: HuntFormat::Table,
        duplicates,
        keep,
    };
    let (tally, kept) = emit(&sink, state.findings, now_us)?;
    Ok(SigmaResults {
        rules: rules_table(&setup.rules, &tally, true),
        sample: Table {
            name: "first_findings",
            ..findings_batch(&kept)
        },
        reported: tally.rules.iter().map(|r| r.matches).sum(),
        suppressed: tally.per_entry.iter().sum(),
        per_entry: tally.per_entry.clone(),
        no_event_time: state.no_event_time.missing + state.no_event_time.unparseable,
    })
}

/// How a hunt's findings are judged and where they go; shared by `hunt`
/// and `report --sigma`.
pub struct Sink<'a> {
    pub rules: &'a SigmaRuleSet,
    pub allow: Option<&'a Allowlist>,
    /// Writes `hunt_findings` and `suppressed.csv` here.
    pub out: Option<&'a Path>,
    /// What goes to stdout as findings arrive (`table` and `json`: nothing).
    pub format: HuntFormat,
    pub duplicates: Duplicates,
    /// Reported findings kept as rows for the caller, the first in order.
    pub keep: usize,
}

/// A kept finding: time, record index and its text cells.
pub type FindingRow = (i64, u64, [Option<String>; 17]);

/// Sorts a hunt's findings, judges each in order and streams it where it
/// goes: stdout for `jsonl`/`csv`, and with `--out` `hunt_findings`,
/// `suppressed.csv` and then `hunt_rules` (every rule). The one ending of
/// `hunt` and `report --sigma`.
fn emit(sink: &Sink<'_>, findings: FindingRuns, now_us: i64) -> Result<(Tally, Vec<FindingRow>)> {
    if let Some(e) = &findings.spill_error {
        bail!("keeping findings on disk: {e}");
    }
    let (tally, kept) = emit_sorted(sink, &mut findings.into_sorted()?, now_us)?;
    if let Some(dir) = sink.out {
        // Every rule: a rule that ran and found nothing is worth knowing too.
        let table = rules_table(sink.rules, &tally, false);
        write_parquet(&table, dir)?;
        write_csv(&table, dir)?;
    }
    Ok((tally, kept))
}

/// [`emit`] over findings already sorted.
fn emit_sorted(
    sink: &Sink<'_>,
    sorted: &mut SortedFindings,
    now_us: i64,
) -> Result<(Tally, Vec<FindingRow>)> {
    let mut tally = Tally::new(
        sink.rules.len(),
        sink.allow.map_or(0, |a| a.entries.len()),
        sink.duplicates,
    );
    let mut kept = Vec::new();
    let stdout = std::io::stdout();
    let mut stdout = BufWriter::new(stdout.lock());
    if sink.format == HuntFormat::Csv {
        csv_header(&mut stdout, &FINDING_COLUMNS)?;
    }
    let Some(dir) = sink.out else {
        let mut sinks = Sinks {
            stdout: &mut stdout,
            files: None,
            kept: &mut kept,
        };
        drain(sink, sorted, now_us, &mut tally, &mut sinks)?;
        stdout.flush()?;
        return Ok((tally, kept));
    };
    write_atomically(&dir.join("hunt_findings.parquet"), |pq| {
        write_atomically(&dir.join("hunt_findings.csv"), |csv| {
            write_atomically(&dir.join("suppressed.csv"), |sup| {
                let mut files = OutFiles::new(pq, csv, sup)?;
                let mut sinks = Sinks {
                    stdout: &mut stdout,
                    files: Some(&mut files),
                    kept: &mut kept,
                };
                drain(sink, sorted, now_us, &mut tally, &mut sinks)?;
                files.finish()
            })
        })
    })?;
    stdout.flush()?;
    Ok((tally, kept))
}

/// Where judged findings go.
struct Sinks<'a, 'f> {
    stdout: &'a mut dyn Write,
    files: Option<&'a mut OutFiles<'f>>,
    kept: &'a mut Vec<FindingRow>,
}

/// The `--out` files being written.
struct OutFiles<'f> {
    parquet: Option<ParquetBatches<&'f mut BufWriter<File>>>,
    batch: Vec<(i64, u64, [Option<String>; 17])>,
    csv: &'f mut BufWriter<File>,
    suppressed: &'f mut BufWriter<File>,
}

impl<'f> OutFiles<'f> {
    fn new(
        pq: &'f mut BufWriter<File>,
        csv: &'f mut BufWriter<File>,
        suppressed: &'f mut BufWriter<File>,
    ) -> Result<Self> {
        csv_header(csv, &FINDING_COLUMNS)?;
        let mut columns = FINDING_COLUMNS.to_vec();
        columns.push("allow_entry");
        csv_header(suppressed, &columns)?;
        Ok(OutFiles {
            parquet: Some(ParquetBatches::new(pq, &findings_batch(&[]))?),
            batch: Vec::new(),
            csv,
            suppressed,
        })
    }

    fn reported(&mut self, time_us: i64, index: u64, row: [Option<String>; 17]) -> Result<()> {
        csv_line(self.csv, &row)?;
        self.batch.push((time_us, index, row));
        if self.batch.len() >= BATCH_ROWS {
            self.flush_batch()?;
        }
        Ok(())
    }

    fn flush_batch(&mut self) -> Result<()> {
        if let Some(p) = &mut self.parquet {
            p.write(&findings_batch(&self.batch))?;
        }
        self.batch.clear();
        Ok(())
    }

    fn finish(&mut self) -> Result<()> {
        self.flush_batch()?;
        if let Some(p) = self.parquet.take() {
            p.finish()?;
        }
        Ok(())
    }
}

fn drain(
    sink: &Sink<'_>,
    sorted: &mut SortedFindings,
    now_us: i64,
    tally: &mut Tally,
    sinks: &mut Sinks<'_, '_>,
) -> Result<()> {
    while let Some(f) = sorted.next_finding()? {
        let meta = sink.rules.rules()[f.rule as usize].meta();
        match tally.judge(f, &meta.id, sink.allow, now_us) {
            Verdict::Duplicate => {}
            Verdict::Suppressed(entry) => {
                if let (Some(files), Some(allow)) = (&mut sinks.files, sink.allow) {
                    let mut row = cells(f, meta).to_vec();
                    row.push(Some(allow.entries[entry].name.clone()));
                    csv_line(files.suppressed, &row)?;
                }
            }
            Verdict::Reported => {
                if sinks.kept.len() < sink.keep {
                    sinks.kept.push((f.time_us, f.index, cells(f, meta)));
                }
                match sink.format {
                    HuntFormat::Jsonl => writeln!(sinks.stdout, "{}", json_row(f, meta))?,
                    HuntFormat::Csv => csv_line(sinks.stdout, &cells(f, meta))?,
                    HuntFormat::Table | HuntFormat::Json => {}
                }
                if let Some(files) = &mut sinks.files {
                    files.reported(f.time_us, f.index, cells(f, meta))?;
                }
            }
        }
    }
    Ok(())
}

fn summary<'a>(
    cfg: &HuntConfig,
    scanned: &'a Scanned,
    counts: &'a RecordCounts,
    tally: &Tally,
    parsed: u64,
    now_us: i64,
) -> HuntSummary<'a> {
    let stats = &scanned.outcome.stats;
    let matched = table_json(&rules_table(&cfg.rules, tally, true));
    let allowlist = cfg.allow.iter().flat_map(|a| {
        a.entries
            .iter()
            .zip(&tally.per_entry)
            .map(|(e, n)| AllowJson {
                name: e.name.clone(),
                suppressed: *n,
                expired: e.expired(now_us),
            })
    });
    HuntSummary {
        files: &stats.files,
        failures: &stats.failures,
        records: counts,
        records_parsed: parsed,
        window: WindowJson {
            since: cfg.scan.window.since.map(format_utc),
            until: cfg.scan.window.until.map(format_utc),
        },
        rules: RulesJson {
            loaded: cfg.rules.len(),
            left_out: cfg.problems.iter().map(ToString::to_string).collect(),
            matched,
            source: RULE_SET_URL,
            license: RULE_LICENSE_URL,
        },
        allowlist: allowlist.collect(),
        elapsed_s: scanned.elapsed.as_secs_f64(),
        bytes_read: stats.bytes_read,
        bytes_decompressed: stats.bytes_decompressed,
        threads: scanned.threads,
    }
}

/// A table's rows as JSON objects (times as RFC 3339 text).
fn table_json(table: &crate::report::Table) -> Vec<serde_json::Value> {
    use crate::report::Column;
    (0..table.rows())
        .map(|i| {
            let row = table.columns.iter().map(|(name, col)| {
                let v = match col {
                    Column::Str(c) => serde_json::json!(c.get(i)),
                    Column::Count(c) => serde_json::json!(c[i]),
                    Column::Time(c) => serde_json::json!(c[i]
                        .and_then(|us| jiff::Timestamp::from_microsecond(us).ok())
                        .map(format_utc)),
                    Column::Bool(c) => serde_json::json!(c[i]),
                    Column::Float(c) => serde_json::json!(c[i]),
                };
                (name.to_string(), v)
            });
            serde_json::Value::Object(row.collect())
        })
        .collect()
}

/// Prints what the format asks for, and the accounting on stderr.
fn show(
    cfg: &HuntConfig,
    scanned: &Scanned,
    counts: &RecordCounts,
    tally: &Tally,
    summary: &HuntSummary<'_>,
) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match cfg.format {
        HuntFormat::Json => {
            serde_json::to_writer_pretty(&mut out, summary)?;
            writeln!(out)?;
        }
        HuntFormat::Table if !cfg.scan.quiet => {
            let table = rules_table(&cfg.rules, tally, true);
            print_table(&mut out, &table, usize::MAX, cfg.scan.cell_fit)?;
            let s = &scanned.outcome.stats;
            writeln!(
                out,
                "\n{} of {} rules matched; {} findings, {} suppressed; {} files scanned, {} failed\n{}\n{} records parsed whole (the others were judged on the fields the rules read)\nRules: SigmaHQ ({RULE_SET_URL}), Detection Rule License 1.1; authors as above.",
                table.rows(),
                cfg.rules.len(),
                tally.rules.iter().map(|r| r.matches).sum::<u64>(),
                tally.per_entry.iter().sum::<u64>(),
                s.files.scanned,
                s.files.failed,
                counts.describe(),
                summary.records_parsed,
            )?;
            show_allowlist(&mut out, summary)?;
        }
        _ => {}
    }
    out.flush()?;
    if !cfg.scan.quiet {
        if cfg.format != HuntFormat::Table {
            eprintln!("ctscan: {}", counts.describe());
        }
        counts.warn_left_out(cfg.scan.duplicates);
    }
    Ok(())
}

fn show_allowlist(out: &mut impl Write, summary: &HuntSummary<'_>) -> Result<()> {
    for e in &summary.allowlist {
        let expired = if e.expired {
            " (expired, not applied)"
        } else {
            ""
        };
        writeln!(
            out,
            "allowlist '{}': {} suppressed{expired}",
            terminal(&e.name),
            e.suppressed
        )?;
    }
    Ok(())
}
