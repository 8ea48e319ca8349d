//! `ctscan verify`: checks each local mirror against its digest chain
//! ([`crate::verify::verify`]), finds tampering events in one scan of the log
//! files ([`crate::scan::scan_with`] with a [`TamperVisitor`]), then prints a
//! verdict, writes the findings and maps them to an exit status.
//!
//! Exit status: 1 when a log file is modified, deleted or unreadable, a
//! digest is invalid or badly signed, the chain misses a digest, or a log
//! file sits in a digest's period without being listed by it; 2 (which wins)
//! when a mirror cannot be listed or a log file cannot be scanned.

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::time::Instant;

use anyhow::Result;
use memchr::memmem::Finder;
use serde::Serialize;
use serde_json::Value;

use crate::cli::OutputFormat;
use crate::config::{SourceSpec, VerifyConfig};
use crate::error::ExitStatus;
use crate::export::{write_csv, write_json_atomically, write_parquet};
use crate::report::{Column, Table};
use crate::sanitize::terminal;
use crate::scan::{scan_with, Failure, FileCounts, LocalFetch, RecordVisitor, ScanContext};
use crate::source;
use crate::structural::Tape;
use crate::terminal::{print_table, warn};
use crate::verify::signature::NotCheckedReason;
use crate::verify::{
    tamper_finding_in, ChainGapKind, Level, LocalMirror, LogStatus, SignatureStatus, TamperFinding,
    TamperScope, UncoveredContext, VerifyOptions, VerifyReport,
};
use crate::window::{parse_event_time, TimeWindow};

/// Rows of each finding table shown on the terminal.
const SHOWN_ROWS: usize = 20;

/// The event names [`tamper_finding_in`] has rules for.
const TAMPER_EVENTS: [&str; 14] = [
    "StopLogging",
    "DeleteTrail",
    "UpdateTrail",
    "PutEventSelectors",
    "PutInsightSelectors",
    "DeleteEventDataStore",
    "StopEventDataStoreIngestion",
    "PutBucketPolicy",
    "DeleteBucketPolicy",
    "PutBucketLifecycle",
    "PutBucketLifecycleConfiguration",
    "DeleteBucketLifecycle",
    "DisableKey",
    "ScheduleKeyDeletion",
];

/// One tampering event and where it was found.
#[derive(Debug, Clone, Serialize)]
pub struct TamperRow {
    #[serde(flatten)]
    pub finding: TamperFinding,
    pub event_id: Option<String>,
    /// The log file holding it.
    pub object: String,
    #[serde(skip)]
    time_us: Option<i64>,
}

/// Finds tampering events: a byte prefilter on `eventName` values, then a
/// serde_json parse and [`tamper_finding_in`] for the few records that pass.
pub struct TamperVisitor {
    names: HashSet<&'static [u8]>,
    event_name: Finder<'static>,
    escape: Finder<'static>,
    scope: TamperScope,
    window: TimeWindow,
}

/// Per-worker findings: those of the object being read, and those kept.
#[derive(Default)]
pub struct TamperState {
    staged: Vec<TamperRow>,
    done: Vec<TamperRow>,
}

impl TamperVisitor {
    pub fn new(scope: TamperScope, window: TimeWindow) -> Self {
        TamperVisitor {
            names: TAMPER_EVENTS.iter().map(|n| n.as_bytes()).collect(),
            event_name: Finder::new(b"\"eventName\"").into_owned(),
            escape: Finder::new(b"\\u").into_owned(),
            scope,
            window,
        }
    }

    /// The value after one `"eventName"`, if it is a plain string.
    fn value_after(raw: &[u8], at: usize) -> Option<&[u8]> {
        let rest = &raw[at + b"\"eventName\"".len()..];
        let start = rest
            .iter()
            .position(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b':'))?;
        let rest = rest[start..].strip_prefix(b"\"")?;
        let end = memchr::memchr2(b'"', b'\\', rest)?;
        Some(&rest[..end])
    }
}

impl RecordVisitor for TamperVisitor {
    type State = TamperState;

    fn new_state(&self) -> TamperState {
        TamperState::default()
    }

    /// Sound: a tampering record names one of the events in plain text, or
    /// hides it (or the key) behind a `\u` escape, which is parsed too.
    fn wants(&self, raw: &[u8]) -> bool {
        self.event_name
            .find_iter(raw)
            .any(|at| Self::value_after(raw, at).is_some_and(|v| self.names.contains(v)))
            || self.escape.find(raw).is_some()
    }

    fn visit(
        &self,
        state: &mut TamperState,
        key: &str,
        _index: usize,
        raw: &[u8],
        _: Option<&Tape>,
    ) {
        let Ok(record) = serde_json::from_slice::<Value>(raw) else {
            return;
        };
        let Some(finding) = tamper_finding_in(&record, &self.scope) else {
            return;
        };
        let time = parse_event_time(&finding.event_time);
        if time.is_some_and(|t| !self.window.contains(t)) {
            return;
        }
        state.staged.push(TamperRow {
            event_id: record
                .get("eventID")
                .and_then(Value::as_str)
                .map(str::to_string),
            object: key.to_string(),
            time_us: time.map(|t| t.as_microsecond()),
            finding,
        });
    }

    fn end_object(&self, state: &mut TamperState, _key: &str, ok: bool) {
        if ok {
            state.done.append(&mut state.staged);
        } else {
            state.staged.clear();
        }
    }

    fn merge(&self, mut a: TamperState, mut b: TamperState) -> TamperState {
        a.done.append(&mut b.done);
        a
    }
}

/// The tampering pass over every SOURCE.
#[derive(Debug, Serialize)]
pub struct TamperScan {
    pub files: FileCounts,
    pub failures: Vec<Failure>,
    pub findings: Vec<TamperRow>,
}

/// Scans every log file of every SOURCE once for tampering events.
pub fn scan_tampering(cfg: &VerifyConfig) -> TamperScan {
    let listing = cfg.scan.sources.iter().flat_map(|src| match src {
        SourceSpec::Local(path) => Some(source::local::walk(path)),
        SourceSpec::S3(_) => None,
    });
    let ctx = ScanContext::new(
        cfg.scan.selection.clone(),
        cfg.scan.window,
        cfg.scan.max_object_size,
    );
    let scope = TamperScope {
        trail_buckets: cfg.trail_buckets.clone(),
    };
    let visitor = TamperVisitor::new(scope, cfg.scan.window);
    let (outcome, state) = scan_with(listing.flatten(), &ctx, &LocalFetch, &visitor);
    let mut findings = state.done;
    findings.sort_by(|a, b| {
        (a.time_us, &a.finding.event_time, &a.event_id, &a.object).cmp(&(
            b.time_us,
            &b.finding.event_time,
            &b.event_id,
            &b.object,
        ))
    });
    let mut seen = HashSet::new();
    findings.retain(|f| f.event_id.as_ref().is_none_or(|id| seen.insert(id.clone())));
    TamperScan {
        files: outcome.stats.files,
        failures: outcome.stats.failures,
        findings,
    }
}

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
            print_all(&mut stdout, &results, &tamper, status)?
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
fn is_failing_uncovered(c: UncoveredContext) -> bool {
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

fn signature_text(s: &SignatureStatus) -> (&'static str, String) {
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

fn log_status_text(s: &LogStatus) -> (&'static str, String) {
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

fn context_text(c: UncoveredContext) -> &'static str {
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
) -> std::io::Result<()> {
    for r in results {
        print_source(out, r)?;
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
        print_table(out, &tamper_table(&tamper.findings), SHOWN_ROWS)?;
    }
    Ok(())
}

fn severity_word(s: crate::verify::Severity) -> &'static str {
    match s {
        crate::verify::Severity::Low => "low",
        crate::verify::Severity::Medium => "medium",
        crate::verify::Severity::High => "high",
        crate::verify::Severity::Critical => "critical",
    }
}

fn print_source(out: &mut impl Write, r: &SourceResult) -> std::io::Result<()> {
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
            print_table(out, &table, SHOWN_ROWS)?;
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

// ---------------------------------------------------------------------------
// Tables

fn s(v: impl Into<String>) -> Option<String> {
    Some(v.into())
}

fn us(t: Option<jiff::Timestamp>) -> Option<i64> {
    t.map(|t| t.as_microsecond())
}

fn str_col<T>(rows: &[T], f: impl Fn(&T) -> Option<String>) -> Column {
    Column::Str(rows.iter().map(f).collect())
}

fn time_col<T>(rows: &[T], f: impl Fn(&T) -> Option<i64>) -> Column {
    Column::Time(rows.iter().map(f).collect())
}

fn count_col<T>(rows: &[T], f: impl Fn(&T) -> u64) -> Column {
    Column::Count(rows.iter().map(f).collect())
}

fn bool_col<T>(rows: &[T], f: impl Fn(&T) -> bool) -> Column {
    Column::Bool(rows.iter().map(|r| Some(f(r))).collect())
}

/// Pairs each item of each report with its source.
fn each<'a, T: 'a>(
    results: &'a [SourceResult],
    items: impl Fn(&'a VerifyReport) -> &'a [T],
) -> Vec<(&'a str, &'a T)> {
    results
        .iter()
        .filter_map(|r| r.report.as_ref().map(|rep| (r.source.as_str(), rep)))
        .flat_map(|(src, rep)| items(rep).iter().map(move |x| (src, x)))
        .collect()
}

/// Every table written by `--out`.
fn tables(results: &[SourceResult], tamper: &TamperScan) -> Vec<Table> {
    vec![
        digests_table(results, false),
        logs_table(results, false),
        uncovered_table(results),
        chain_gaps_table(results),
        coverage_table(results),
        coverage_gaps_table(results),
        tamper_table(&tamper.findings),
    ]
}

fn digests_table(results: &[SourceResult], failing_only: bool) -> Table {
    let mut rows = each(results, |r| &r.digests);
    if failing_only {
        rows.retain(|(_, d)| d.is_failure());
    }
    Table {
        name: "digests",
        columns: vec![
            ("source", str_col(&rows, |r| s(r.0))),
            ("key", str_col(&rows, |r| s(&r.1.key))),
            ("account", str_col(&rows, |r| s(&r.1.account))),
            ("region", str_col(&rows, |r| s(&r.1.region))),
            ("trail", str_col(&rows, |r| s(&r.1.trail))),
            ("backfill", bool_col(&rows, |r| r.1.backfill)),
            ("start", time_col(&rows, |r| us(r.1.start))),
            ("end", time_col(&rows, |r| us(Some(r.1.end)))),
            ("valid", bool_col(&rows, |r| !r.1.is_failure())),
            (
                "problems",
                str_col(&rows, |r| {
                    let p: Vec<String> = r.1.problems.iter().map(|p| p.to_string()).collect();
                    s(p.join("; "))
                }),
            ),
            (
                "signature",
                str_col(&rows, |r| s(signature_text(&r.1.signature).0)),
            ),
            (
                "signature_detail",
                str_col(&rows, |r| s(signature_text(&r.1.signature).1)),
            ),
            ("log_files", count_col(&rows, |r| r.1.log_files as u64)),
        ],
    }
}

fn logs_table(results: &[SourceResult], failing_only: bool) -> Table {
    let mut rows = each(results, |r| &r.logs);
    if failing_only {
        rows.retain(|(_, l)| l.status != LogStatus::Valid);
    }
    Table {
        name: "log_files",
        columns: vec![
            ("source", str_col(&rows, |r| s(r.0))),
            ("key", str_col(&rows, |r| s(&r.1.key))),
            (
                "status",
                str_col(&rows, |r| s(log_status_text(&r.1.status).0)),
            ),
            (
                "detail",
                str_col(&rows, |r| s(log_status_text(&r.1.status).1)),
            ),
            ("digest", str_col(&rows, |r| s(&r.1.digest))),
        ],
    }
}

fn uncovered_table(results: &[SourceResult]) -> Table {
    let rows = each(results, |r| &r.uncovered);
    Table {
        name: "uncovered_log_files",
        columns: vec![
            ("source", str_col(&rows, |r| s(r.0))),
            ("key", str_col(&rows, |r| s(&r.1.key))),
            ("account", str_col(&rows, |r| s(&r.1.account))),
            ("region", str_col(&rows, |r| s(&r.1.region))),
            ("delivered", time_col(&rows, |r| us(Some(r.1.delivered)))),
            ("context", str_col(&rows, |r| s(context_text(r.1.context)))),
            (
                "fails",
                bool_col(&rows, |r| is_failing_uncovered(r.1.context)),
            ),
        ],
    }
}

fn chain_gaps_table(results: &[SourceResult]) -> Table {
    let rows = each(results, |r| &r.chain_gaps);
    Table {
        name: "chain_gaps",
        columns: vec![
            ("source", str_col(&rows, |r| s(r.0))),
            ("account", str_col(&rows, |r| s(&r.1.account))),
            ("region", str_col(&rows, |r| s(&r.1.region))),
            ("trail", str_col(&rows, |r| s(&r.1.trail))),
            (
                "kind",
                str_col(&rows, |r| {
                    s(match r.1.kind {
                        ChainGapKind::Restart => "restart",
                        ChainGapKind::MissingDigest => "missing_digest",
                    })
                }),
            ),
            ("from", time_col(&rows, |r| us(r.1.from))),
            ("to", time_col(&rows, |r| us(Some(r.1.to)))),
            ("digest", str_col(&rows, |r| s(&r.1.digest))),
            ("missing", str_col(&rows, |r| r.1.missing.clone())),
            ("message", str_col(&rows, |r| s(&r.1.message))),
        ],
    }
}

fn coverage_table(results: &[SourceResult]) -> Table {
    let rows = each(results, |r| &r.coverage);
    Table {
        name: "coverage",
        columns: vec![
            ("source", str_col(&rows, |r| s(r.0))),
            ("account", str_col(&rows, |r| s(&r.1.account))),
            ("region", str_col(&rows, |r| s(&r.1.region))),
            (
                "window_start",
                time_col(&rows, |r| us(Some(r.1.window_start))),
            ),
            ("window_end", time_col(&rows, |r| us(Some(r.1.window_end)))),
            ("log_files", count_col(&rows, |r| r.1.log_files as u64)),
            ("digests", count_col(&rows, |r| r.1.digests as u64)),
            (
                "no_activity_hours",
                count_col(&rows, |r| r.1.no_activity_hours as u64),
            ),
            ("gaps", count_col(&rows, |r| r.1.gaps.len() as u64)),
        ],
    }
}

fn coverage_gaps_table(results: &[SourceResult]) -> Table {
    let regions = each(results, |r| &r.coverage);
    let rows: Vec<_> = regions
        .iter()
        .flat_map(|(src, c)| c.gaps.iter().map(move |g| (*src, *c, g)))
        .collect();
    Table {
        name: "coverage_gaps",
        columns: vec![
            ("source", str_col(&rows, |r| s(r.0))),
            ("account", str_col(&rows, |r| s(&r.1.account))),
            ("region", str_col(&rows, |r| s(&r.1.region))),
            ("start", time_col(&rows, |r| us(Some(r.2.start)))),
            ("end", time_col(&rows, |r| us(Some(r.2.end)))),
            ("length", str_col(&rows, |r| s(&r.2.length))),
            (
                "length_seconds",
                count_col(&rows, |r| r.2.length_seconds.max(0) as u64),
            ),
            (
                "kind",
                str_col(&rows, |r| {
                    s(match r.2.kind {
                        crate::verify::CoverageGapKind::Hole => "hole",
                        crate::verify::CoverageGapKind::NoDigests => "no_digests",
                    })
                }),
            ),
            ("chain_break", bool_col(&rows, |r| r.2.chain_break)),
        ],
    }
}

fn tamper_table(rows: &[TamperRow]) -> Table {
    Table {
        name: "tampering",
        columns: vec![
            ("event_time", time_col(rows, |r| r.time_us)),
            ("event_name", str_col(rows, |r| s(&r.finding.event_name))),
            (
                "severity",
                str_col(rows, |r| s(severity_word(r.finding.severity))),
            ),
            ("attempt", bool_col(rows, |r| r.finding.attempt)),
            ("principal", str_col(rows, |r| s(&r.finding.principal))),
            ("account", str_col(rows, |r| s(&r.finding.account))),
            ("region", str_col(rows, |r| s(&r.finding.region))),
            ("detail", str_col(rows, |r| s(&r.finding.detail))),
            ("event_id", str_col(rows, |r| r.event_id.clone())),
            ("object", str_col(rows, |r| s(&r.object))),
        ],
    }
}
