//! The `report --html` dashboard: one self-contained HTML page with inline
//! SVG charts, built from the merged event store, the report tables and the
//! run summary.
//!
//! [`render`] is pure: it returns the page as a string and does no I/O. The
//! page loads nothing (no script, no font, no image, no network), carries a
//! Content-Security-Policy that forbids everything but inline styles, and
//! passes every string that came from a log through
//! [`crate::report::sanitize::html`]. Categories are capped and long spans are
//! bucketed by day or week, so a year of logs stays a page of a few hundred
//! kilobytes.

use std::collections::BTreeMap;
use std::fmt::Write;

use rustc_hash::FxHashMap;

mod agg;
mod alarms;
mod geo;
mod principals;
mod summary;
pub mod svg;
mod tables;
#[cfg(test)]
mod tests;
mod time;

use crate::events::{Col, EventStore};
use crate::replay::alarm::{AlarmState, StateChange};
use crate::report::dashboard::svg::{clip, group_digits, nice_ticks, Anchor, Svg};
use crate::report::sanitize::html as esc;
use crate::report::{Column, StrColumn, Table};
use crate::window::format_utc;

use agg::*;
use alarms::*;
pub use alarms::{alarm_bands, Band};
use geo::*;
use principals::*;
use summary::*;
use tables::*;
use time::*;

/// Secrets drawn as their own series in the time chart; the rest are "other".
pub const TOP_SECRETS: usize = 8;
/// Principals in the top-principals chart.
pub const TOP_PRINCIPALS: usize = 15;
/// Rows (principals) of the principal × secret matrix.
pub const MATRIX_PRINCIPALS: usize = 20;
/// Columns (secrets) of the principal × secret matrix.
pub const MATRIX_SECRETS: usize = 12;
/// Countries in the by-country chart.
pub const TOP_COUNTRIES: usize = 20;
/// Rows shown of each table.
pub const TABLE_ROWS: usize = 50;

const HOUR_US: i64 = 3_600_000_000;
const DAY_US: i64 = 24 * HOUR_US;

/// The Content-Security-Policy of the page: nothing but inline styles.
pub const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

/// Series colours (Tableau 10); the last is "other".
const PALETTE: [&str; 9] = [
    "#4e79a7", "#f28e2b", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f",
    "#86bcb6",
];
const OTHER: &str = "#bab0ac";
const FAILED: &str = "#e15759";
const CHART_W: f64 = 1120.0;

/// One alarm's replayed state history over the span it was evaluated.
#[derive(Debug, Clone)]
pub struct AlarmTimeline {
    pub name: String,
    /// Start of the evaluated span, microseconds since the epoch.
    pub start_us: i64,
    /// End of the evaluated span (exclusive).
    pub end_us: i64,
    /// State changes in time order.
    pub history: Vec<StateChange>,
}

/// What the page shows.
pub struct Dashboard<'a> {
    pub title: String,
    /// `summary.json`, as a value.
    pub summary: &'a serde_json::Value,
    pub store: &'a EventStore,
    /// Every report table; `by_country`, `by_asn`, `findings` and the Sigma
    /// tables (`hunt_rules`, and `first_findings`: the first rows of `hunt_findings`) get their
    /// own sections when present, and the others are also shown as tables.
    pub tables: &'a [Table],
    pub alarms: &'a [AlarmTimeline],
}

/// Renders the whole page.
pub fn render(d: &Dashboard<'_>) -> String {
    let agg = Agg::new(d.store);
    let table = |name: &str| d.tables.iter().find(|t| t.name == name);
    let mut page = String::with_capacity(64 * 1024);
    page.push_str(&head(&d.title));
    let _ = write!(
        page,
        "<body><header><h1>{}</h1><p>{}</p></header><main>",
        esc(&d.title),
        esc(&subtitle(d.summary, &agg))
    );
    page.push_str(&summary_section(d.summary, d.store, &agg));
    if let Some(t) = table("findings") {
        page.push_str(&section(
            "findings",
            "Findings",
            &format!(
                "{} findings: first occurrences of unusual access against the baseline.",
                group_digits(t.rows() as u64)
            ),
            &table_html(t, TABLE_ROWS, true),
        ));
    }
    if let Some(rules) = table("hunt_rules") {
        page.push_str(&sigma_section(rules, table("first_findings")));
    }
    page.push_str(&time_section(&agg));
    page.push_str(&failures_section(&agg));
    page.push_str(&principals_section(&agg));
    page.push_str(&matrix_section(&agg));
    page.push_str(&geo_section(table("by_country"), table("by_asn")));
    if !d.alarms.is_empty() {
        page.push_str(&alarm_section(d.alarms));
    }
    page.push_str(&tables_section(d.tables));
    page.push_str(
        "</main><footer>Written by ctscan. Self-contained: no scripts, no network. \
         Log text is escaped.</footer></body></html>\n",
    );
    page
}

fn head(title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{}\">\
         <meta name=\"referrer\" content=\"no-referrer\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{}</style></head>\n",
        esc(CSP),
        esc(title),
        STYLE
    )
}

const STYLE: &str = r#"
:root{--fg:#1d2330;--muted:#5b6475;--line:#dde2ea;--bg:#f3f5f8;--card:#fff}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","DejaVu Sans",Arial,sans-serif}
header{background:#1d2330;color:#fff;padding:18px 32px}
header h1{margin:0;font-size:22px;font-weight:600;overflow-wrap:anywhere}
header p{margin:4px 0 0;color:#c5cbd6}
main{max-width:1200px;margin:0 auto;padding:20px 24px 24px}
footer{max-width:1200px;margin:0 auto 32px;padding:0 24px;color:var(--muted);font-size:12px}
section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:16px 20px;margin:0 0 18px}
h2{font-size:17px;margin:0 0 2px}
h3{font-size:14px;margin:14px 0 6px}
p.note{color:var(--muted);margin:0 0 10px;font-size:13px}
.stats{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:10px;margin:10px 0}
.stat{border:1px solid var(--line);border-radius:6px;padding:8px 12px;background:#fafbfc}
.stat .num{font-size:21px;font-weight:600;font-variant-numeric:tabular-nums}
.stat .lbl{color:var(--muted);font-size:12px}
.stat.bad .num{color:#b3261e}
svg{display:block;width:100%;height:auto;max-width:100%}
svg text{font-size:12px;fill:#3a4252;font-family:inherit}
svg text.tick{font-size:11px;fill:#5b6475}
svg text.axis-title{font-size:12px;fill:#5b6475}
svg text.val{font-size:11.5px;fill:#3a4252}
svg text.num{font-size:11px;fill:#1d2330}
svg text.num.inv{fill:#fff}
svg text.empty{font-size:15px;fill:#8a93a3}
svg .grid{stroke:#e8ebf0}
svg .axis{stroke:#9aa3b2}
svg .mark{stroke:#9aa3b2}
svg .bar:hover,svg .cell:hover,svg .band:hover{opacity:.78}
.mono,svg text.mono{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,"DejaVu Sans Mono","Liberation Mono",monospace}
.legend{display:flex;flex-wrap:wrap;gap:6px 18px;margin:8px 0 0;padding:0;list-style:none;font-size:12.5px}
.legend li{display:flex;align-items:center;gap:6px}
.sw{display:inline-block;width:12px;height:12px;border-radius:2px}
table{border-collapse:collapse;width:100%;font-size:12px}
th,td{padding:3px 6px;border-bottom:1px solid #eceff4;text-align:left;vertical-align:top}
th{background:#f5f7fa;font-weight:600;position:sticky;top:0}
td{overflow-wrap:break-word;max-width:560px}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.time{white-space:nowrap;font-variant-numeric:tabular-nums}
.scroll{overflow:auto;max-height:560px;border:1px solid #eceff4;border-radius:6px}
details{margin:0 0 10px}
details>summary{cursor:pointer;font-weight:600;margin:6px 0}
details>summary span{color:var(--muted);font-weight:400}
.sev-critical,.sev-high{color:#b3261e;font-weight:600}.sev-medium{color:#a15c00;font-weight:600}.sev-low,.sev-info{color:#1f4e8c}
.cols{display:grid;grid-template-columns:1fr 1fr;gap:18px}
.ok{color:#2e7d32}
"#;

fn subtitle(s: &serde_json::Value, agg: &Agg<'_>) -> String {
    let window = format!(
        "window {} .. {}",
        s["window"]["since"].as_str().unwrap_or("(start)"),
        s["window"]["until"].as_str().unwrap_or("(end)")
    );
    if agg.buckets.is_empty() {
        return format!("{window}; no matching events");
    }
    format!(
        "{window}; events from {} to {}",
        agg.kind.describe(agg.first),
        agg.kind.describe(agg.last)
    )
}

fn section(id: &str, title: &str, note: &str, body: &str) -> String {
    format!(
        "<section id=\"{}\"><h2>{}</h2><p class=\"note\">{}</p>{}</section>\n",
        esc(id),
        esc(title),
        esc(note),
        body
    )
}
