//! The finding tables of `verify --out`, one per kind of finding.

use crate::report::{Column, Table};
use crate::verify::{ChainGapKind, LogStatus, VerifyReport};

use super::{
    context_text, is_failing_uncovered, log_status_text, severity_word, signature_text,
    SourceResult, TamperRow, TamperScan,
};

// Tables

pub(super) fn s(v: impl Into<String>) -> Option<String> {
    Some(v.into())
}

pub(super) fn us(t: Option<jiff::Timestamp>) -> Option<i64> {
    t.map(|t| t.as_microsecond())
}

pub(super) fn str_col<T>(rows: &[T], f: impl Fn(&T) -> Option<String>) -> Column {
    Column::Str(rows.iter().map(f).collect())
}

pub(super) fn time_col<T>(rows: &[T], f: impl Fn(&T) -> Option<i64>) -> Column {
    Column::Time(rows.iter().map(f).collect())
}

pub(super) fn count_col<T>(rows: &[T], f: impl Fn(&T) -> u64) -> Column {
    Column::Count(rows.iter().map(f).collect())
}

pub(super) fn bool_col<T>(rows: &[T], f: impl Fn(&T) -> bool) -> Column {
    Column::Bool(rows.iter().map(|r| Some(f(r))).collect())
}

/// Pairs each item of each report with its source.
pub(super) fn each<'a, T: 'a>(
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
pub(super) fn tables(results: &[SourceResult], tamper: &TamperScan) -> Vec<Table> {
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

pub(super) fn digests_table(results: &[SourceResult], failing_only: bool) -> Table {
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

pub(super) fn logs_table(results: &[SourceResult], failing_only: bool) -> Table {
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

pub(super) fn uncovered_table(results: &[SourceResult]) -> Table {
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

pub(super) fn chain_gaps_table(results: &[SourceResult]) -> Table {
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

pub(super) fn coverage_table(results: &[SourceResult]) -> Table {
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

pub(super) fn coverage_gaps_table(results: &[SourceResult]) -> Table {
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

pub(super) fn tamper_table(rows: &[TamperRow]) -> Table {
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
