//! `ctscan verify`: checks each local mirror against its digest chain
//! ([`crate::verify::verify`]), finds tampering events in one scan of the log
//! files ([`crate::scan::scan_with`] with a [`TamperVisitor`]), then prints a
//! verdict, writes the findings and maps them to an exit status.
//! The tampering scan is in `tamper_scan.rs`, the finding tables in `tables.rs`.
//!
//! Exit status: 1 when a log file is modified, deleted or unreadable, a
//! digest is invalid or badly signed, the chain misses a digest, or a log
//! file sits in a digest's period without being listed by it; 2 (which wins)
//! when a mirror cannot be listed or a log file cannot be scanned.

mod tables;
mod tamper_scan;

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Instant;

use anyhow::Result;
use serde::Serialize;

use crate::cli::OutputFormat;
use crate::config::{SourceSpec, VerifyConfig};
use crate::error::ExitStatus;
use crate::report::export::{write_csv, write_json_atomically, write_parquet};
use crate::report::sanitize::terminal;
use crate::report::terminal::{print_table, warn, CellFit};
use crate::verify::signature::NotCheckedReason;
use crate::verify::{
    ChainGapKind, Level, LocalMirror, LogStatus, SignatureStatus, UncoveredContext, VerifyOptions,
    VerifyReport,
};

use tables::{
    chain_gaps_table, coverage_gaps_table, digests_table, logs_table, tables, tamper_table,
    uncovered_table,
};
pub use tamper_scan::{scan_tampering, TamperRow, TamperScan, TamperState, TamperVisitor};

/// Rows of each finding table shown on the terminal.
const SHOWN_ROWS: usize = 20;

/// One mirror's outcome.
#[derive(Debug, Serialize)]
pub struct SourceResult {
    pub source: String,
    /// Why the mirror could not be verified at all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<VerifyReport>,
}

/// `verify.json`.
#[derive(Debug, Serialize)]
pub struct VerifyJson<'a> {
    /// `pass`, `fail` or `error`.
    pub verdict: &'static str,
    pub exit_status: u8,
    pub sources: &'a [SourceResult],
    pub tampering: &'a TamperScan,
    pub elapsed_s: f64,
}

/// Runs `verify`.
pub fn run(cfg: &VerifyConfig) -> Result<ExitStatus> {
    let started = Instant::now();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(cfg.scan.threads.unwrap_or(0))
        .build()?;
    let (results, tamper) = pool.install(|| (verify_sources(cfg), scan_tampering(cfg)));
    for f in &tamper.failures {
        warn(&f.object, &f.error);
    }
    let status = exit_status(&results, &tamper);
    let json = VerifyJson {
        verdict: match status {
            ExitStatus::Ok => "pass",
            ExitStatus::Finding => "fail",
            ExitStatus::Error => "error",
        },
        exit_status: status.code(),
        sources: &results,
        tampering: &tamper,
        elapsed_s: started.elapsed().as_secs_f64(),
    };
    if let Some(dir) = &cfg.out {
        for table in tables(&results, &tamper) {
            write_parquet(&table, dir)?;
            write_csv(&table, dir)?;
        }
        write_json_atomically(&dir.join("verify.json"), &json)?;
    }
    let mut stdout = std::io::stdout().lock();
    match cfg.format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut stdout, &json)?;
            writeln!(stdout)?;
        }
        OutputFormat::Table if !cfg.scan.quiet => {
            print_all(&mut stdout, &results, &tamper, status, cfg.scan.cell_fit)?
        }
        OutputFormat::Table => {}
    }
    stdout.flush()?;
    Ok(status)
}

fn verify_sources(cfg: &VerifyConfig) -> Vec<SourceResult> {
    let opts = VerifyOptions {
        since: cfg.scan.window.since,
        until: cfg.scan.window.until,
        public_keys: cfg.public_keys.clone(),
        gap: cfg.gap,
    };
    cfg.scan
        .sources
        .iter()
        .filter_map(|src| match src {
            SourceSpec::Local(path) => Some(path),
            SourceSpec::S3(_) => None,
        })
        .map(|path| {
            let mut mirror = LocalMirror::new(path);
            if let Some(b) = &cfg.bucket {
                mirror = mirror.with_bucket(b.clone());
            }
            if let Some(p) = &cfg.prefix {
                mirror = mirror.with_prefix(p.clone());
            }
            let source = path.display().to_string();
            match crate::verify::verify(&mirror, &opts) {
                Ok(report) => SourceResult {
                    source,
                    error: None,
                    report: Some(report),
                },
                Err(e) => {
                    warn(&source, &e.to_string());
                    SourceResult {
                        source,
                        error: Some(e.to_string()),
                        report: None,
                    }
                }
            }
        })
        .collect()
}

/// Uncovered log files that contradict a digest (see the module docs).
pub(super) fn is_failing_uncovered(c: UncoveredContext) -> bool {
    c == UncoveredContext::WithinDigestPeriod
}

fn report_fails(r: &VerifyReport) -> bool {
    r.has_failures() || r.uncovered.iter().any(|u| is_failing_uncovered(u.context))
}

fn exit_status(results: &[SourceResult], tamper: &TamperScan) -> ExitStatus {
    let mut status = ExitStatus::Ok;
    for r in results {
        match &r.report {
            None => status = status.merge(ExitStatus::Error),
            Some(rep) if report_fails(rep) => status = status.merge(ExitStatus::Finding),
            Some(_) => {}
        }
    }
    if tamper.files.failed > 0 {
        status = status.merge(ExitStatus::Error);
    }
    status
}

// ---------------------------------------------------------------------------
// Words

pub(super) fn signature_text(s: &SignatureStatus) -> (&'static str, String) {
    match s {
        SignatureStatus::Valid { source } => ("valid", format!("from {}", source_word(*source))),
        SignatureStatus::Invalid { source, reason } => (
            "invalid",
            format!("{reason} (signature from {})", source_word(*source)),
        ),
        SignatureStatus::PublicKeyNotFound { fingerprint } => (
            "public_key_not_found",
            format!("no public key with fingerprint {fingerprint}"),
        ),
        SignatureStatus::KeyUnloadable {
            fingerprint,
            reason,
        } => ("key_unloadable", format!("key {fingerprint}: {reason}")),
        SignatureStatus::NotChecked { reason } => ("not_checked", why_unchecked(*reason).into()),
    }
}

fn source_word(s: crate::verify::SignatureSource) -> &'static str {
    match s {
        crate::verify::SignatureSource::Metadata => "object metadata",
        crate::verify::SignatureSource::NextDigest => "the next digest",
    }
}

fn why_unchecked(r: NotCheckedReason) -> &'static str {
    match r {
        NotCheckedReason::NoPublicKeys => {
            "no --public-keys FILE given (save `aws cloudtrail list-public-keys` output)"
        }
        NotCheckedReason::NoMetadata => {
            "no signature metadata: no .ctscan-meta sidecar (as after `aws s3 sync`) and no later digest repeats the signature"
        }
        NotCheckedReason::MetadataUnreadable => "the .ctscan-meta sidecar could not be read",
        NotCheckedReason::InvalidDigest => "the digest itself is invalid",
    }
}

pub(super) fn log_status_text(s: &LogStatus) -> (&'static str, String) {
    match s {
        LogStatus::Valid => ("valid", String::new()),
        LogStatus::Modified { expected, actual } => (
            "modified",
            format!("hash {actual}, digest recorded {expected}"),
        ),
        LogStatus::Deleted => ("deleted", "listed by the digest but absent".into()),
        LogStatus::InvalidFormat { detail } => ("invalid_format", detail.clone()),
        LogStatus::TrailingData => ("trailing_data", "bytes after the gzip stream".into()),
    }
}

pub(super) fn context_text(c: UncoveredContext) -> &'static str {
    match c {
        UncoveredContext::WithinDigestPeriod => "within_digest_period",
        UncoveredContext::NoDigestPeriod => "no_digest_period",
        UncoveredContext::AfterLastDigest => "after_last_digest",
    }
}

// ---------------------------------------------------------------------------
// Terminal

fn print_all(
    out: &mut impl Write,
    results: &[SourceResult],
    tamper: &TamperScan,
    status: ExitStatus,
    fit: CellFit,
) -> std::io::Result<()> {
    for r in results {
        print_source(out, r, fit)?;
    }
    let mut sev: BTreeMap<_, usize> = BTreeMap::new();
    for f in &tamper.findings {
        *sev.entry(f.finding.severity).or_default() += 1;
    }
    let by_sev: Vec<String> = sev
        .iter()
        .rev()
        .map(|(s, n)| format!("{n} {}", severity_word(*s)))
        .collect();
    let tamper_line = if tamper.findings.is_empty() {
        format!("none found in {} log files", tamper.files.scanned)
    } else {
        format!(
            "{} events ({}) in {} log files",
            tamper.findings.len(),
            by_sev.join(", "),
            tamper.files.scanned
        )
    };
    writeln!(out, "\n{:<12}{}", "tampering", tamper_line)?;
    if tamper.files.failed > 0 {
        writeln!(
            out,
            "{:<12}{} log files could not be scanned (see stderr)",
            "", tamper.files.failed
        )?;
    }
    let verdict = match status {
        ExitStatus::Ok => "PASS",
        ExitStatus::Finding => "FAIL",
        ExitStatus::Error => "ERROR: some inputs could not be read",
    };
    writeln!(out, "{:<12}{}", "verdict", verdict)?;
    if !tamper.findings.is_empty() {
        print_table(out, &tamper_table(&tamper.findings), SHOWN_ROWS, fit)?;
    }
    Ok(())
}

pub(super) fn severity_word(s: crate::verify::Severity) -> &'static str {
    match s {
        crate::verify::Severity::Low => "low",
        crate::verify::Severity::Medium => "medium",
        crate::verify::Severity::High => "high",
        crate::verify::Severity::Critical => "critical",
    }
}

fn print_source(out: &mut impl Write, r: &SourceResult, fit: CellFit) -> std::io::Result<()> {
    writeln!(out, "verify {}", terminal(&r.source))?;
    let Some(rep) = &r.report else {
        let err = r.error.as_deref().unwrap_or("?");
        return writeln!(
            out,
            "{:<12}could not be verified: {}",
            "error",
            terminal(err)
        );
    };
    for (label, text) in verdict_lines(rep) {
        writeln!(out, "{label:<12}{}", terminal(&text))?;
    }
    let single = std::slice::from_ref(r);
    for table in [
        digests_table(single, true),
        logs_table(single, true),
        uncovered_table(single),
        chain_gaps_table(single),
        coverage_gaps_table(single),
    ] {
        if table.rows() > 0 {
            print_table(out, &table, SHOWN_ROWS, fit)?;
        }
    }
    Ok(())
}

/// The verdict as (label, text) lines.
fn verdict_lines(rep: &VerifyReport) -> Vec<(&'static str, String)> {
    let c = &rep.counts;
    let mut lines = vec![("level", rep.level_text.clone())];
    let mut why: BTreeMap<&'static str, usize> = BTreeMap::new();
    for d in &rep.digests {
        if let SignatureStatus::NotChecked { reason } = d.signature {
            *why.entry(why_unchecked(reason)).or_default() += 1;
        }
    }
    let sig = match rep.level {
        Level::Nothing => "none to check".to_string(),
        _ if c.signatures_unchecked == 0 => format!(
            "{} of {} valid, {} failed",
            c.signatures_valid, c.digests, c.signatures_failed
        ),
        _ => format!(
            "{} of {} valid, {} failed, {} not checked: {}",
            c.signatures_valid,
            c.digests,
            c.signatures_failed,
            c.signatures_unchecked,
            why.iter()
                .map(|(w, n)| format!("{w} ({n})"))
                .collect::<Vec<_>>()
                .join("; ")
        ),
    };
    lines.push(("signatures", sig));
    if rep.level == Level::Consistent || rep.level == Level::PartlyAuthentic {
        lines.push((
            "",
            "hashes prove the mirror consistent, not authentic: logs and digests rewritten together would pass".into(),
        ));
    }
    lines.push((
        "digests",
        format!("{} in window, {} valid", c.digests, c.digests_valid),
    ));
    let failing_uncovered = rep
        .uncovered
        .iter()
        .filter(|u| is_failing_uncovered(u.context))
        .count();
    lines.push((
        "log files",
        format!(
            "{} listed: {} valid, {} modified, {} deleted, {} invalid; {} not listed by any digest ({} inside a digest's period)",
            c.logs, c.logs_valid, c.logs_modified, c.logs_deleted, c.logs_invalid,
            c.logs_uncovered, failing_uncovered
        ),
    ));
    let missing = rep
        .chain_gaps
        .iter()
        .filter(|g| g.kind == ChainGapKind::MissingDigest)
        .count();
    lines.push((
        "chain",
        format!(
            "{} missing digests, {} restarts",
            missing,
            c.chain_gaps - missing
        ),
    ));
    lines.push((
        "coverage",
        format!(
            "{} regions, {} gaps with no delivery evidence",
            rep.coverage.len(),
            c.coverage_gaps
        ),
    ));
    if !rep.unrecognized.is_empty() {
        lines.push((
            "unrecognized",
            format!("{} keys whose names do not parse", rep.unrecognized.len()),
        ));
    }
    lines.push((
        "result",
        if report_fails(rep) { "FAIL" } else { "ok" }.into(),
    ));
    lines
}
