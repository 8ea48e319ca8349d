//! The `report --html` dashboard: one self-contained HTML page with inline
//! SVG charts, built from the merged event store, the report tables and the
//! run summary.
//!
//! [`render`] is pure: it returns the page as a string and does no I/O. The
//! page loads nothing (no script, no font, no image, no network), carries a
//! Content-Security-Policy that forbids everything but inline styles, and
//! passes every string that came from a log through
//! [`crate::sanitize::html`]. Categories are capped and long spans are
//! bucketed by day or week, so a year of logs stays a page of a few hundred
//! kilobytes.

use std::collections::BTreeMap;
use std::fmt::Write;

use rustc_hash::FxHashMap;

use crate::alarm::{AlarmState, StateChange};
use crate::events::{Col, EventStore};
use crate::report::{Column, StrColumn, Table};
use crate::sanitize::html as esc;
use crate::svg::{clip, group_digits, nice_ticks, Anchor, Svg};
use crate::window::format_utc;

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
    /// Every report table; `by_country`, `by_asn` and `findings` get their
    /// own sections when present, and every table is also shown as a table.
    pub tables: &'a [Table],
    pub alarms: &'a [AlarmTimeline],
}

/// The width of the time buckets of the time charts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BucketKind {
    Hour,
    Day,
    /// Weeks starting on Monday, UTC.
    Week,
}

impl BucketKind {
    /// Hours up to ten days, days up to about 13 months, weeks beyond.
    pub fn for_span(span_us: i64) -> BucketKind {
        if span_us <= 10 * DAY_US {
            BucketKind::Hour
        } else if span_us <= 400 * DAY_US {
            BucketKind::Day
        } else {
            BucketKind::Week
        }
    }

    fn width_us(self) -> i64 {
        match self {
            BucketKind::Hour => HOUR_US,
            BucketKind::Day => DAY_US,
            BucketKind::Week => 7 * DAY_US,
        }
    }

    /// 1970-01-05, the first Monday, starts week 0.
    fn offset_us(self) -> i64 {
        if self == BucketKind::Week {
            4 * DAY_US
        } else {
            0
        }
    }

    /// The bucket holding `t`.
    pub fn index(self, t: i64) -> i64 {
        (t - self.offset_us()).div_euclid(self.width_us())
    }

    /// Start of bucket `idx`.
    pub fn start(self, idx: i64) -> i64 {
        idx * self.width_us() + self.offset_us()
    }

    /// "hour", "day" or "week".
    pub fn noun(self) -> &'static str {
        match self {
            BucketKind::Hour => "hour",
            BucketKind::Day => "day",
            BucketKind::Week => "week",
        }
    }

    fn label_steps(self) -> &'static [i64] {
        match self {
            BucketKind::Hour => &[1, 2, 3, 6, 12, 24, 48, 72, 168],
            BucketKind::Day => &[1, 2, 7, 14, 28, 56, 91, 182, 364],
            BucketKind::Week => &[1, 2, 4, 8, 13, 26, 52, 104, 208],
        }
    }

    fn label(self, idx: i64, step: i64) -> String {
        let fmt = match self {
            BucketKind::Hour if step >= 24 => "%b %d",
            BucketKind::Hour => "%b %d %H:%M",
            _ => "%Y-%m-%d",
        };
        time_text(self.start(idx), fmt)
    }

    fn describe(self, idx: i64) -> String {
        let t = self.start(idx);
        match self {
            BucketKind::Hour => format!("{} UTC", time_text(t, "%Y-%m-%d %H:00")),
            BucketKind::Day => time_text(t, "%Y-%m-%d"),
            BucketKind::Week => format!("week of {}", time_text(t, "%Y-%m-%d")),
        }
    }
}

fn time_text(us: i64, fmt: &str) -> String {
    jiff::Timestamp::from_microsecond(us)
        .map(|t| t.strftime(fmt).to_string())
        .unwrap_or_default()
}

fn rfc3339(us: i64) -> String {
    jiff::Timestamp::from_microsecond(us)
        .map(format_utc)
        .unwrap_or_default()
}

/// One time bucket of the time charts.
#[derive(Debug, Default)]
struct Bucket<'s> {
    /// Events per series: the top secrets, then "other".
    series: Vec<u64>,
    events: u64,
    failed: u64,
    errors: BTreeMap<&'s str, u64>,
}

/// Per-principal totals.
#[derive(Debug, Default)]
struct PrincipalAgg<'s> {
    events: u64,
    failed: u64,
    agents: FxHashMap<&'s str, u64>,
    ips: FxHashMap<&'s str, u64>,
}

/// Everything the charts need, from one pass over the store (plus one for
/// the buckets once the series are known).
struct Agg<'s> {
    kind: BucketKind,
    /// First and last bucket index with events.
    first: i64,
    last: i64,
    buckets: BTreeMap<i64, Bucket<'s>>,
    /// Secrets by events descending, then name.
    secrets: Vec<(&'s str, u64)>,
    /// Principals by events descending, then name.
    principals: Vec<(&'s str, PrincipalAgg<'s>)>,
    pairs: FxHashMap<(&'s str, &'s str), u64>,
    errors: Vec<(&'s str, u64)>,
    failed: u64,
}

fn sorted_desc<K: Ord + Copy, V>(map: FxHashMap<K, V>, n: impl Fn(&V) -> u64) -> Vec<(K, V)> {
    let mut v: Vec<(K, V)> = map.into_iter().collect();
    v.sort_by(|a, b| n(&b.1).cmp(&n(&a.1)).then_with(|| a.0.cmp(&b.0)));
    v
}

impl<'s> Agg<'s> {
    fn new(store: &'s EventStore) -> Agg<'s> {
        let mut secrets: FxHashMap<&str, u64> = FxHashMap::default();
        let mut principals: FxHashMap<&str, PrincipalAgg> = FxHashMap::default();
        let mut pairs = FxHashMap::default();
        let mut errors: FxHashMap<&str, u64> = FxHashMap::default();
        let (mut lo, mut hi, mut failed) = (i64::MAX, i64::MIN, 0);
        if store.is_empty() {
            (lo, hi) = (0, 0);
        }
        store.for_each_row(|_, row| {
            lo = lo.min(row.time_us);
            hi = hi.max(row.time_us);
            let principal = store.get(row, Col::Principal).unwrap_or("unknown");
            let p = principals.entry(principal).or_default();
            p.events += 1;
            if let Some(code) = store.get(row, Col::ErrorCode) {
                p.failed += 1;
                failed += 1;
                *errors.entry(code).or_default() += 1;
            }
            *p.agents
                .entry(store.get(row, Col::UserAgent).unwrap_or("unknown"))
                .or_default() += 1;
            *p.ips
                .entry(store.get(row, Col::SourceIp).unwrap_or("unknown"))
                .or_default() += 1;
            if let Some(secret) = store.get(row, Col::Secret) {
                *secrets.entry(secret).or_default() += 1;
                *pairs.entry((principal, secret)).or_default() += 1;
            }
        });
        let kind = BucketKind::for_span(hi.saturating_sub(lo).max(0));
        let mut agg = Agg {
            kind,
            first: kind.index(lo),
            last: kind.index(hi),
            buckets: BTreeMap::new(),
            secrets: sorted_desc(secrets, |n| *n),
            principals: sorted_desc(principals, |p| p.events),
            pairs,
            errors: sorted_desc(errors, |n| *n),
            failed,
        };
        agg.fill_buckets(store);
        agg
    }

    fn fill_buckets(&mut self, store: &'s EventStore) {
        let series: FxHashMap<&str, usize> = self
            .secrets
            .iter()
            .take(TOP_SECRETS)
            .enumerate()
            .map(|(i, (s, _))| (*s, i))
            .collect();
        let other = series.len();
        store.for_each_row(|_, row| {
            let b = self
                .buckets
                .entry(self.kind.index(row.time_us))
                .or_default();
            if b.series.is_empty() {
                b.series = vec![0; other + 1];
            }
            let i = store
                .get(row, Col::Secret)
                .and_then(|s| series.get(s).copied())
                .unwrap_or(other);
            b.series[i] += 1;
            b.events += 1;
            if let Some(code) = store.get(row, Col::ErrorCode) {
                b.failed += 1;
                *b.errors.entry(code).or_default() += 1;
            }
        });
    }

    /// Names and colours of the time chart's series.
    fn series(&self) -> Vec<(String, &'static str)> {
        let mut v: Vec<(String, &'static str)> = self
            .secrets
            .iter()
            .take(TOP_SECRETS)
            .enumerate()
            .map(|(i, (s, _))| (s.to_string(), PALETTE[i % PALETTE.len()]))
            .collect();
        let named: u64 = self.secrets.iter().take(TOP_SECRETS).map(|s| s.1).sum();
        let total: u64 = self.buckets.values().map(|b| b.events).sum();
        if total > named || v.is_empty() {
            v.push(("other secrets and batch calls".to_string(), OTHER));
        }
        v
    }
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

/// A number at `path` in the summary, if any.
fn num(v: &serde_json::Value, path: &[&str]) -> Option<u64> {
    path.iter().try_fold(v, |v, k| v.get(k))?.as_u64()
}

fn stat(id: &str, label: &str, value: Option<u64>, bad: bool) -> String {
    let shown = value.map_or_else(|| "–".to_string(), group_digits);
    format!(
        "<div class=\"stat{}\" data-stat=\"{}\" data-n=\"{}\"><div class=\"num\">{}</div><div class=\"lbl\">{}</div></div>",
        if bad && value.unwrap_or(0) > 0 { " bad" } else { "" },
        esc(id),
        value.map(|v| v.to_string()).unwrap_or_default(),
        esc(&shown),
        esc(label)
    )
}

fn summary_section(s: &serde_json::Value, store: &EventStore, agg: &Agg<'_>) -> String {
    let skipped = s["files"]["skipped"].as_object();
    let skipped_total = skipped.map(|m| m.values().filter_map(|v| v.as_u64()).sum());
    let reasons: Vec<String> = skipped
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    let f = |k: &str| num(s, &["files", k]);
    let r = |k: &str| num(s, &["records", k]);
    let mut body = String::from("<div class=\"stats\">");
    for (id, label, v, bad) in [
        ("events", "events reported", Some(store.len() as u64), false),
        (
            "principals",
            "principals",
            Some(agg.principals.len() as u64),
            false,
        ),
        ("secrets", "secrets", Some(agg.secrets.len() as u64), false),
        ("failed-events", "failed calls", Some(agg.failed), true),
        ("files-listed", "files listed", f("listed"), false),
        ("files-scanned", "files scanned", f("scanned"), false),
        (
            "files-pruned",
            "files pruned (outside window)",
            f("pruned"),
            false,
        ),
        ("files-skipped", "files skipped", skipped_total, false),
        ("files-failed", "files failed", f("failed"), true),
        ("records-read", "records read", r("read"), false),
        ("records-matched", "records matched", r("matched"), false),
        (
            "records-duplicates",
            "duplicate eventIDs",
            r("duplicates"),
            false,
        ),
        (
            "records-no-time",
            "records without eventTime",
            r("no_event_time"),
            true,
        ),
    ] {
        body.push_str(&stat(id, label, v, bad));
    }
    body.push_str("</div>");
    let _ = write!(
        body,
        "<p class=\"note\">Skipped: {}. Read {} bytes ({} decompressed) in {:.2} s.</p>",
        esc(&if reasons.is_empty() {
            "none".to_string()
        } else {
            reasons.join(", ")
        }),
        group_digits(num(s, &["bytes_read"]).unwrap_or(0)),
        group_digits(num(s, &["bytes_decompressed"]).unwrap_or(0)),
        s["elapsed_s"].as_f64().unwrap_or(0.0)
    );
    body.push_str(&failures_list(s));
    section(
        "summary",
        "Summary and coverage",
        "Every file given is accounted for: listed = scanned + pruned + skipped + failed.",
        &body,
    )
}

fn failures_list(s: &serde_json::Value) -> String {
    let failures = s["failures"].as_array().map_or(&[][..], Vec::as_slice);
    if failures.is_empty() {
        return "<p class=\"note ok\">No file failed.</p>".to_string();
    }
    let mut out = format!(
        "<h3>Files that failed ({})</h3><div class=\"scroll\"><table data-table=\"failures\"><thead><tr><th>object</th><th>error</th></tr></thead><tbody>",
        failures.len()
    );
    for f in failures.iter().take(TABLE_ROWS) {
        let _ = write!(
            out,
            "<tr><td class=\"mono\">{}</td><td>{}</td></tr>",
            esc(f["object"].as_str().unwrap_or("")),
            esc(f["error"].as_str().unwrap_or(""))
        );
    }
    out.push_str("</tbody></table></div>");
    if failures.len() > TABLE_ROWS {
        let _ = write!(
            out,
            "<p class=\"note\">{} more in summary.json.</p>",
            failures.len() - TABLE_ROWS
        );
    }
    out
}

/// An `<svg>` that says there is nothing to draw.
fn empty_chart(chart: &str, message: &str) -> String {
    let mut svg = Svg::new(chart, CHART_W, 60.0, message);
    svg.text((CHART_W / 2.0, 36.0), Anchor::Middle, "empty", message);
    svg.finish()
}

/// The shared x axis of the time charts.
struct TimeAxis {
    kind: BucketKind,
    first: i64,
    n: i64,
    x0: f64,
    w: f64,
}

impl TimeAxis {
    fn new(agg: &Agg<'_>, x0: f64, w: f64) -> TimeAxis {
        TimeAxis {
            kind: agg.kind,
            first: agg.first,
            n: agg.last - agg.first + 1,
            x0,
            w,
        }
    }

    fn slot(&self) -> f64 {
        self.w / self.n as f64
    }

    /// Left edge and width of the bar for bucket `idx`.
    fn bar(&self, idx: i64) -> (f64, f64) {
        let slot = self.slot();
        let gap = if slot > 4.0 { slot * 0.18 } else { 0.0 };
        (
            self.x0 + (idx - self.first) as f64 * slot + gap / 2.0,
            slot - gap,
        )
    }

    /// Tick marks and date labels under the plot, at most about ten.
    fn draw(&self, svg: &mut Svg, y: f64) {
        let steps = self.kind.label_steps();
        let step = steps
            .iter()
            .copied()
            .find(|s| self.n / s <= 10)
            .unwrap_or(*steps.last().unwrap_or(&1));
        for idx in self.first..self.first + self.n {
            if idx.rem_euclid(step) != 0 {
                continue;
            }
            let x = self.x0 + (idx - self.first) as f64 * self.slot();
            svg.line("mark", (x, y), (x, y + 5.0));
            svg.text(
                (x, y + 18.0),
                Anchor::Middle,
                "tick",
                &self.kind.label(idx, step),
            );
        }
    }
}

fn legend(series: &[(String, &str)]) -> String {
    let mut out = String::from("<ul class=\"legend\">");
    for (name, colour) in series {
        let _ = write!(
            out,
            "<li><span class=\"sw\" style=\"background:{}\"></span><span class=\"mono\">{}</span></li>",
            esc(colour),
            esc(&clip(name, 60))
        );
    }
    out.push_str("</ul>");
    out
}

/// Stacked bars of events per bucket, one series per top secret.
fn time_chart(agg: &Agg<'_>) -> String {
    let (h, top_m, bottom, left) = (320.0, 14.0, 46.0, 64.0);
    let ph = h - top_m - bottom;
    let axis = TimeAxis::new(agg, left, CHART_W - left - 16.0);
    let max = agg.buckets.values().map(|b| b.events).max().unwrap_or(0);
    let (step, top) = nice_ticks(max);
    let noun = agg.kind.noun();
    let mut svg = Svg::new(
        "per-hour",
        CHART_W,
        h,
        &format!("Events per {noun}, stacked by secret"),
    );
    svg.y_axis((left, top_m, axis.w, ph), step, top);
    let series = agg.series();
    for (&idx, b) in &agg.buckets {
        let (x, w) = axis.bar(idx);
        svg.open_group(
            "bar",
            &[
                ("data-t", &rfc3339(agg.kind.start(idx))),
                ("data-n", &b.events.to_string()),
            ],
        );
        let mut lines = vec![format!(
            "{}: {} events",
            agg.kind.describe(idx),
            group_digits(b.events)
        )];
        let segs: Vec<(u64, &str)> = b
            .series
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(i, &n)| {
                let (name, colour) = series.get(i).map_or(("other", OTHER), |s| (&s.0, s.1));
                lines.push(format!("{name}: {n}"));
                (n, colour)
            })
            .collect();
        svg.title(&lines);
        let mut y = top_m + ph;
        for (n, colour) in segs {
            let bh = ph * n as f64 / top as f64;
            y -= bh;
            svg.rect("seg", (x, y, w, bh), colour, &[], &[]);
        }
        svg.close_group();
    }
    finish_time_chart(svg, &axis, (top_m, ph), "events")
}

fn time_section(agg: &Agg<'_>) -> String {
    let noun = agg.kind.noun();
    let body = if agg.buckets.is_empty() {
        empty_chart("per-hour", "No matching events.")
    } else {
        time_chart(agg) + &legend(&agg.series())
    };
    section(
        "per-hour",
        &format!("Accesses per {noun}"),
        &format!(
            "Events per UTC {noun} (failed attempts included), stacked by secret: the top {TOP_SECRETS} secrets, then the rest. Hover a bar for its counts."
        ),
        &body,
    )
}

/// Draws the time axis under a plot `ph` high starting at `top_m`, and the
/// y-axis title beside it, then closes the chart.
fn finish_time_chart(
    mut svg: Svg,
    axis: &TimeAxis,
    (top_m, ph): (f64, f64),
    y_title: &str,
) -> String {
    axis.draw(&mut svg, top_m + ph);
    svg.text_rotated(
        (18.0, top_m + ph / 2.0),
        -90.0,
        Anchor::Middle,
        "axis-title",
        y_title,
    );
    svg.finish()
}

/// Bars of failed calls per bucket, on the same axis as the time chart.
fn failures_chart(agg: &Agg<'_>) -> String {
    let (h, top_m, bottom, left) = (220.0, 14.0, 46.0, 64.0);
    let ph = h - top_m - bottom;
    let axis = TimeAxis::new(agg, left, CHART_W - left - 16.0);
    let max = agg.buckets.values().map(|b| b.failed).max().unwrap_or(0);
    let (step, top) = nice_ticks(max);
    let mut svg = Svg::new(
        "failures",
        CHART_W,
        h,
        &format!("Failed calls per {}", agg.kind.noun()),
    );
    svg.y_axis((left, top_m, axis.w, ph), step, top);
    for (&idx, b) in agg.buckets.iter().filter(|(_, b)| b.failed > 0) {
        let (x, w) = axis.bar(idx);
        let bh = ph * b.failed as f64 / top as f64;
        let mut lines = vec![format!(
            "{}: {} failed of {}",
            agg.kind.describe(idx),
            b.failed,
            b.events
        )];
        lines.extend(b.errors.iter().map(|(code, n)| format!("{code}: {n}")));
        svg.rect(
            "bar",
            (x, top_m + ph - bh, w, bh),
            FAILED,
            &[
                ("data-t", &rfc3339(agg.kind.start(idx))),
                ("data-n", &b.failed.to_string()),
            ],
            &lines,
        );
    }
    finish_time_chart(svg, &axis, (top_m, ph), "failed calls")
}

fn failures_section(agg: &Agg<'_>) -> String {
    let noun = agg.kind.noun();
    let mut body = if agg.buckets.is_empty() {
        empty_chart("failures", "No matching events.")
    } else {
        failures_chart(agg)
    };
    if agg.errors.is_empty() {
        body.push_str("<p class=\"note ok\">No call failed.</p>");
    } else {
        body.push_str("<h3>By error code</h3><table data-table=\"error_codes\"><thead><tr><th>error code</th><th class=\"num\">calls</th></tr></thead><tbody>");
        for (code, n) in agg.errors.iter().take(TABLE_ROWS) {
            let _ = write!(
                body,
                "<tr><td class=\"mono\">{}</td><td class=\"num\">{}</td></tr>",
                esc(code),
                group_digits(*n)
            );
        }
        body.push_str("</tbody></table>");
    }
    section(
        "failures",
        "Failures over time",
        &format!(
            "Calls with an errorCode per UTC {noun}: {} in all.",
            group_digits(agg.failed)
        ),
        &body,
    )
}

/// One horizontal bar: a label, stacked parts, attributes and a tooltip.
struct HBar {
    label: String,
    parts: Vec<(u64, &'static str)>,
    attrs: Vec<(&'static str, String)>,
    title: Vec<String>,
}

/// Horizontal bars, one row each, labels on the left.
fn hbar_chart(chart: &str, aria: &str, bars: &[HBar], label_w: f64) -> String {
    let (row, bar_h, top_m) = (26.0, 17.0, 6.0);
    let h = top_m + row * bars.len() as f64 + 8.0;
    let (x0, w) = (label_w, CHART_W - label_w - 70.0);
    let max = bars
        .iter()
        .map(|b| b.parts.iter().map(|p| p.0).sum::<u64>())
        .max()
        .unwrap_or(0)
        .max(1);
    let mut svg = Svg::new(chart, CHART_W, h, aria);
    svg.line("axis", (x0, top_m - 2.0), (x0, h - 6.0));
    for (i, b) in bars.iter().enumerate() {
        let y = top_m + row * i as f64 + (row - bar_h) / 2.0;
        svg.text(
            (x0 - 8.0, y + bar_h - 4.0),
            Anchor::End,
            "mono",
            &clip(&b.label, 60),
        );
        let attrs: Vec<(&str, &str)> = b.attrs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        svg.open_group("bar", &attrs);
        svg.title(&b.title);
        let mut x = x0;
        for (n, colour) in b.parts.iter().filter(|p| p.0 > 0) {
            let bw = w * *n as f64 / max as f64;
            svg.rect("seg", (x, y, bw, bar_h), colour, &[], &[]);
            x += bw;
        }
        svg.close_group();
        let total: u64 = b.parts.iter().map(|p| p.0).sum();
        svg.text(
            (x + 6.0, y + bar_h - 4.0),
            Anchor::Start,
            "val",
            &group_digits(total),
        );
    }
    svg.finish()
}

fn top_count<'a>(m: &FxHashMap<&'a str, u64>) -> (&'a str, u64) {
    m.iter()
        .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
        .map_or(("", 0), |(k, v)| (*k, *v))
}

fn principals_section(agg: &Agg<'_>) -> String {
    let bars: Vec<HBar> = agg
        .principals
        .iter()
        .take(TOP_PRINCIPALS)
        .map(|(name, p)| {
            let (agent, agent_n) = top_count(&p.agents);
            let (ip, ip_n) = top_count(&p.ips);
            HBar {
                label: name.to_string(),
                parts: vec![(p.events - p.failed, PALETTE[0]), (p.failed, FAILED)],
                attrs: vec![
                    ("data-key", name.to_string()),
                    ("data-n", p.events.to_string()),
                ],
                title: vec![
                    name.to_string(),
                    format!("{} events, {} failed", p.events, p.failed),
                    format!("{} source IPs; most: {ip} ({ip_n})", p.ips.len()),
                    format!("{} user agents; most: {agent} ({agent_n})", p.agents.len()),
                ],
            }
        })
        .collect();
    let body = if bars.is_empty() {
        empty_chart("top-principals", "No matching events.")
    } else {
        hbar_chart("top-principals", "Top principals by events", &bars, 470.0)
            + &legend(&[
                ("succeeded".to_string(), PALETTE[0]),
                ("failed".to_string(), FAILED),
            ])
    };
    section(
        "top-principals",
        "Top principals",
        &format!(
            "The {} principals with the most events, of {}.",
            bars.len(),
            agg.principals.len()
        ),
        &body,
    )
}

/// `#rrggbb` between a pale and a dark blue, by `t` in 0..=1.
fn shade(t: f64) -> String {
    let lerp = |a: f64, b: f64| (a + (b - a) * t.clamp(0.0, 1.0)).round() as u8;
    format!(
        "#{:02x}{:02x}{:02x}",
        lerp(222.0, 23.0),
        lerp(235.0, 63.0),
        lerp(247.0, 120.0)
    )
}

/// The principal × secret grid: cells shaded by events.
fn matrix_chart(agg: &Agg<'_>) -> String {
    let rows: Vec<&str> = agg
        .principals
        .iter()
        .take(MATRIX_PRINCIPALS)
        .map(|p| p.0)
        .collect();
    let cols: Vec<&str> = agg
        .secrets
        .iter()
        .take(MATRIX_SECRETS)
        .map(|s| s.0)
        .collect();
    let (label_w, head_h, cw, ch) = (470.0, 130.0, 58.0, 24.0);
    let w = (label_w + cw * cols.len() as f64 + 170.0).max(760.0);
    let h = head_h + ch * rows.len() as f64 + 6.0;
    let max = rows
        .iter()
        .flat_map(|p| cols.iter().map(move |s| (*p, *s)))
        .filter_map(|k| agg.pairs.get(&k).copied())
        .max()
        .unwrap_or(1);
    let mut svg = Svg::new("matrix", w, h, "Events per principal and secret");
    for (j, s) in cols.iter().enumerate() {
        let x = label_w + cw * j as f64 + cw / 2.0;
        svg.text_rotated(
            (x - 2.0, head_h - 8.0),
            -38.0,
            Anchor::Start,
            "mono",
            &clip(s, 30),
        );
    }
    for (i, p) in rows.iter().enumerate() {
        let y = head_h + ch * i as f64;
        svg.text(
            (label_w - 8.0, y + ch - 8.0),
            Anchor::End,
            "mono",
            &clip(p, 60),
        );
        for (j, s) in cols.iter().enumerate() {
            let x = label_w + cw * j as f64;
            let cell = (x + 1.0, y + 1.0, cw - 2.0, ch - 2.0);
            let Some(&n) = agg.pairs.get(&(*p, *s)) else {
                svg.rect("blank", cell, "#f4f6f9", &[], &[]);
                continue;
            };
            let t = (n as f64 / max as f64).sqrt();
            let n_text = n.to_string();
            svg.open_group("cell", &[("data-p", p), ("data-s", s), ("data-n", &n_text)]);
            svg.title(&[p.to_string(), format!("{s}: {n} events")]);
            svg.rect("cell-bg", cell, &shade(t), &[], &[]);
            let class = if t > 0.5 { "num inv" } else { "num" };
            svg.text(
                (x + cw / 2.0, y + ch - 8.0),
                Anchor::Middle,
                class,
                &group_digits(n),
            );
            svg.close_group();
        }
    }
    svg.finish()
}

fn matrix_section(agg: &Agg<'_>) -> String {
    let body = if agg.pairs.is_empty() {
        empty_chart("matrix", "No event names a secret.")
    } else {
        matrix_chart(agg)
    };
    section(
        "matrix",
        "Principal × secret",
        &format!(
            "Events naming each secret (failed attempts included; batch calls are counted under the GetSecretValue records they log), for the top {MATRIX_PRINCIPALS} principals and top {MATRIX_SECRETS} secrets. Darker is more."
        ),
        &body,
    )
}

/// The first column called `name` of the right kind, else the first of that kind.
fn str_column<'t>(t: &'t Table, name: &str) -> Option<&'t StrColumn> {
    let pick = |c: &'t Column| match c {
        Column::Str(v) => Some(v),
        _ => None,
    };
    t.column(name)
        .and_then(pick)
        .or_else(|| t.columns.iter().find_map(|(_, c)| pick(c)))
}

fn count_column<'t>(t: &'t Table, name: &str) -> Option<&'t Vec<u64>> {
    let pick = |c: &'t Column| match c {
        Column::Count(v) => Some(v),
        _ => None,
    };
    t.column(name)
        .and_then(pick)
        .or_else(|| t.columns.iter().find_map(|(_, c)| pick(c)))
}

fn country_chart(t: &Table) -> Option<String> {
    let (names, counts) = (str_column(t, "country")?, count_column(t, "events")?);
    let mut rows: Vec<(&str, u64)> = names
        .iter()
        .zip(counts)
        .map(|(n, c)| (n.unwrap_or("unknown"), *c))
        .collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let bars: Vec<HBar> = rows
        .iter()
        .take(TOP_COUNTRIES)
        .map(|(name, n)| HBar {
            label: name.to_string(),
            parts: vec![(*n, PALETTE[2])],
            attrs: vec![("data-key", name.to_string()), ("data-n", n.to_string())],
            title: vec![format!("{name}: {n} events")],
        })
        .collect();
    Some(if bars.is_empty() {
        empty_chart("by-country", "No country known.")
    } else {
        hbar_chart("by-country", "Events by country", &bars, 220.0)
    })
}

fn geo_section(country: Option<&Table>, asn: Option<&Table>) -> String {
    if country.is_none() && asn.is_none() {
        return String::new();
    }
    let mut body = String::new();
    if let Some(chart) = country.and_then(country_chart) {
        body.push_str("<h3>By country</h3>");
        body.push_str(&chart);
    }
    if let Some(t) = asn {
        body.push_str("<h3>By network (ASN)</h3>");
        body.push_str(&table_html(t, TABLE_ROWS, true));
    }
    section(
        "geo",
        "Where calls came from",
        &format!("Source IPs by country (top {TOP_COUNTRIES}) and by network."),
        &body,
    )
}

/// A stretch of one alarm's timeline in one state.
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    pub from_us: i64,
    pub to_us: i64,
    pub state: AlarmState,
    /// Why the alarm entered the state (empty for the initial state).
    pub reason: String,
}

/// Cuts an alarm's span into bands of constant state: the state before the
/// first change (its `old`, else INSUFFICIENT_DATA), then one per change
/// inside the span.
pub fn alarm_bands(a: &AlarmTimeline) -> Vec<Band> {
    let mut state = a
        .history
        .first()
        .map_or(AlarmState::InsufficientData, |c| c.old);
    let (mut from, mut reason) = (a.start_us, String::new());
    let mut out = Vec::new();
    for c in &a.history {
        let t = c.time.as_microsecond();
        if t >= a.end_us {
            break;
        }
        if t > from {
            out.push(Band {
                from_us: from,
                to_us: t,
                state,
                reason: std::mem::take(&mut reason),
            });
            from = t;
        }
        state = c.new;
        reason.clone_from(&c.reason);
    }
    if a.end_us > from {
        out.push(Band {
            from_us: from,
            to_us: a.end_us,
            state,
            reason,
        });
    }
    out
}

fn state_colour(s: AlarmState) -> &'static str {
    match s {
        AlarmState::Ok => "#59a14f",
        AlarmState::Alarm => FAILED,
        AlarmState::InsufficientData => OTHER,
    }
}

fn alarm_chart(alarms: &[AlarmTimeline]) -> String {
    let (label_w, row, band_h, top_m) = (260.0, 30.0, 20.0, 8.0);
    let h = top_m + row * alarms.len() as f64 + 34.0;
    let start = alarms.iter().map(|a| a.start_us).min().unwrap_or(0);
    let end = alarms
        .iter()
        .map(|a| a.end_us)
        .max()
        .unwrap_or(0)
        .max(start + 1);
    let w = CHART_W - label_w - 20.0;
    let x = |t: i64| label_w + w * (t - start) as f64 / (end - start) as f64;
    let mut svg = Svg::new("alarm-timeline", CHART_W, h, "Alarm states over time");
    for (i, a) in alarms.iter().enumerate() {
        let y = top_m + row * i as f64 + (row - band_h) / 2.0;
        svg.text(
            (label_w - 8.0, y + band_h - 5.0),
            Anchor::End,
            "mono",
            &clip(&a.name, 34),
        );
        svg.open_group("alarm", &[("data-alarm", &a.name)]);
        for b in alarm_bands(a) {
            let mut title = vec![
                a.name.clone(),
                format!(
                    "{} from {} to {}",
                    b.state,
                    rfc3339(b.from_us),
                    rfc3339(b.to_us)
                ),
            ];
            if !b.reason.is_empty() {
                title.push(clip(&b.reason, 300));
            }
            let (x1, x2) = (x(b.from_us), x(b.to_us));
            // A five-minute ALARM in a year-long span must still be seen.
            let min_w = if b.state == AlarmState::Alarm {
                3.0
            } else {
                1.0
            };
            svg.rect(
                "band",
                (x1, y, (x2 - x1).max(min_w), band_h),
                state_colour(b.state),
                &[("data-state", &b.state.to_string())],
                &title,
            );
        }
        svg.close_group();
    }
    let axis_y = top_m + row * alarms.len() as f64 + 4.0;
    svg.line("axis", (label_w, axis_y), (label_w + w, axis_y));
    let fmt = if end - start <= 2 * DAY_US {
        "%b %d %H:%M"
    } else {
        "%Y-%m-%d"
    };
    for k in 0..=6 {
        let t = start + (end - start) * k / 6;
        svg.line("mark", (x(t), axis_y), (x(t), axis_y + 5.0));
        svg.text(
            (x(t), axis_y + 18.0),
            match k {
                0 => Anchor::Start,
                6 => Anchor::End,
                _ => Anchor::Middle,
            },
            "tick",
            &time_text(t, fmt),
        );
    }
    svg.finish()
}

fn alarm_section(alarms: &[AlarmTimeline]) -> String {
    let body = alarm_chart(alarms)
        + &legend(&[
            ("OK".to_string(), state_colour(AlarmState::Ok)),
            ("ALARM".to_string(), state_colour(AlarmState::Alarm)),
            (
                "INSUFFICIENT_DATA".to_string(),
                state_colour(AlarmState::InsufficientData),
            ),
        ]);
    section(
        "alarm-timeline",
        "Alarm states",
        "Each alarm's replayed state over the evaluated span (UTC). Hover a band for its reason.",
        &body,
    )
}

fn cell_html(col: &Column, row: usize, name: &str) -> String {
    let (class, text) = match col {
        Column::Str(v) => {
            let s = v.get(row).unwrap_or("");
            let class = if name == "severity" {
                let s = s.to_ascii_lowercase();
                match s.as_str() {
                    "critical" | "high" | "medium" | "low" | "info" => format!("sev-{s}"),
                    _ => String::new(),
                }
            } else {
                String::new()
            };
            (class, clip(s, 200))
        }
        // Numbers that name something (an AS number, an id) are not grouped.
        Column::Count(v) if name == "asn" || name.ends_with("_id") => {
            ("num".to_string(), v[row].to_string())
        }
        Column::Count(v) => ("num".to_string(), group_digits(v[row])),
        Column::Bool(v) => (
            String::new(),
            v[row].map(|b| b.to_string()).unwrap_or_default(),
        ),
        Column::Float(v) => (
            "num".to_string(),
            v[row].map(|x| format!("{x:.3}")).unwrap_or_default(),
        ),
        Column::Time(v) => ("time".to_string(), v[row].map(rfc3339).unwrap_or_default()),
    };
    if class.is_empty() {
        format!("<td>{}</td>", esc(&text))
    } else {
        format!("<td class=\"{}\">{}</td>", esc(&class), esc(&text))
    }
}

/// A table in a `<details>` element, its first `cap` rows shown.
fn table_html(t: &Table, cap: usize, open: bool) -> String {
    let n = t.rows().min(cap);
    let mut out = format!(
        "<details{}><summary>{} <span>({} rows{})</span></summary><div class=\"scroll\"><table data-table=\"{}\"><thead><tr>",
        if open { " open" } else { "" },
        esc(t.name),
        group_digits(t.rows() as u64),
        if n < t.rows() { format!(", first {n} shown") } else { String::new() },
        esc(t.name)
    );
    for (name, col) in &t.columns {
        let num = matches!(col, Column::Count(_) | Column::Float(_));
        let _ = write!(
            out,
            "<th{}>{}</th>",
            if num { " class=\"num\"" } else { "" },
            esc(name)
        );
    }
    out.push_str("</tr></thead><tbody>");
    for row in 0..n {
        out.push_str("<tr>");
        for (name, col) in &t.columns {
            out.push_str(&cell_html(col, row, name));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div></details>");
    out
}

fn tables_section(tables: &[Table]) -> String {
    let shown: Vec<&Table> = tables
        .iter()
        .filter(|t| !matches!(t.name, "findings" | "by_asn"))
        .collect();
    if shown.is_empty() {
        return String::new();
    }
    let body: String = shown
        .iter()
        .map(|t| table_html(t, TABLE_ROWS, t.name != "by_hour"))
        .collect();
    section(
        "tables",
        "Reports",
        &format!("The first {TABLE_ROWS} rows of each report; --out writes them whole as CSV and Parquet."),
        &body,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Event;

    const T0: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z

    struct Ev<'a> {
        secs: i64,
        principal: &'a str,
        secret: Option<&'a str>,
        error: Option<&'a str>,
        agent: &'a str,
    }

    fn ev<'a>(
        secs: i64,
        principal: &'a str,
        secret: Option<&'a str>,
        error: Option<&'a str>,
    ) -> Ev<'a> {
        Ev {
            secs,
            principal,
            secret,
            error,
            agent: "aws-cli/2",
        }
    }

    fn store(events: &[Ev<'_>]) -> EventStore {
        let mut store = EventStore::default();
        for e in events {
            let event = Event {
                event_time: None,
                event_source: Some("secretsmanager.amazonaws.com"),
                event_name: Some("GetSecretValue"),
                principal: e.principal.to_string(),
                principal_type: "IAMUser",
                session_arn: None,
                access_key_id: None,
                account_id: Some("111122223333"),
                region: Some("us-east-1"),
                source_ip: Some("198.51.100.7"),
                user_agent: Some(e.agent),
                secret: e.secret.map(str::to_string),
                error_code: e.error,
                event_id: None,
                request_id: None,
                read_only: Some(true),
                batch_request: None,
            };
            store.push(&event, e.secs * 1_000_000, "obj.json.gz");
        }
        store
    }

    fn page(store: &EventStore, tables: &[Table], alarms: &[AlarmTimeline]) -> String {
        let summary = serde_json::json!({
            "files": {"listed": 5, "scanned": 3, "pruned": 1, "skipped": {"digest": 1}, "failed": 0},
            "failures": [],
            "records": {"read": 10, "matched": store.len(), "no_event_time": 0, "duplicates": 0},
            "window": {"since": null, "until": null},
        });
        render(&Dashboard {
            title: "test".to_string(),
            summary: &summary,
            store,
            tables,
            alarms,
        })
    }

    /// The markup of the chart tagged `name`.
    fn chart<'p>(page: &'p str, name: &str) -> &'p str {
        let tag = format!("data-chart=\"{name}\"");
        let start = page.find(&tag).unwrap_or_else(|| panic!("no chart {name}"));
        let end = start + page[start..].find("</svg>").unwrap();
        &page[start..end]
    }

    fn count(s: &str, pat: &str) -> usize {
        s.matches(pat).count()
    }

    #[test]
    fn hostile_log_text_is_escaped_everywhere() {
        let evil_principal = "<script>alert(1)</script>";
        let evil_secret = "\"onmouseover=alert(1) x=\"";
        let evil_agent = "\x1b]52;c;ZXZpbA==\x07<b>";
        let evil_code = "<img src=x onerror=alert(1)>";
        let mut events = vec![ev(T0, evil_principal, Some(evil_secret), Some(evil_code))];
        events[0].agent = evil_agent;
        events.push(ev(T0 + 60, "alice", Some("prod/db"), None));
        let store = store(&events);
        let tables = crate::report::all_reports(&store);
        let summary = serde_json::json!({
            "failures": [{"object": "<script>x</script>", "error": "\"onmouseover=1"}],
            "window": {"since": "<i>", "until": null},
        });
        let out = render(&Dashboard {
            title: "<script>title</script>".to_string(),
            summary: &summary,
            store: &store,
            tables: &tables,
            alarms: &[],
        });
        for raw in [
            "<script",
            "<img",
            "<b>",
            "\"onmouseover",
            "<i>",
            "\x1b",
            "\x07",
        ] {
            assert!(!out.contains(raw), "raw {raw:?} in the page");
        }
        assert!(
            out.chars().all(|c| c == '\n' || !c.is_control()),
            "a control character in the page"
        );
        for escaped in [
            "&lt;script&gt;alert(1)&lt;/script&gt;",
            "&quot;onmouseover=alert(1) x=&quot;",
            "\\x1b]52;c;ZXZpbA==\\x07&lt;b&gt;",
            "&lt;img src=x onerror=alert(1)&gt;",
            "&lt;script&gt;x&lt;/script&gt;",
            "<title>&lt;script&gt;title&lt;/script&gt;</title>",
        ] {
            assert!(out.contains(escaped), "{escaped} missing");
        }
        // The hostile principal is a bar's key attribute, escaped.
        assert!(out.contains("data-key=\"&lt;script&gt;alert(1)&lt;/script&gt;\""));
    }

    #[test]
    fn the_page_is_self_contained_under_a_strict_policy() {
        let out = page(&store(&[ev(T0, "alice", Some("s"), None)]), &[], &[]);
        assert!(out.starts_with("<!DOCTYPE html>"));
        assert!(out.contains("<meta charset=\"utf-8\">"));
        assert!(out.contains(
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src &#39;none&#39;; style-src &#39;unsafe-inline&#39;; img-src data:\">"
        ));
        for banned in [
            "<script", "http:", "https:", "<link", "<img", "url(", "@import",
        ] {
            assert!(!out.contains(banned), "{banned} in the page");
        }
    }

    #[test]
    fn one_bar_per_hour_with_events() {
        let h = 3600;
        let events = [
            ev(T0 + 10, "alice", Some("a"), None),
            ev(T0 + 20, "bob", Some("b"), Some("AccessDenied")),
            ev(T0 + h + 5, "alice", Some("a"), None),
            ev(T0 + 5 * h, "carol", None, None),
            ev(T0 + 5 * h + 7, "carol", Some("a"), Some("AccessDenied")),
            ev(T0 + 5 * h + 9, "carol", Some("a"), Some("Throttling")),
        ];
        let out = page(&store(&events), &[], &[]);
        let per_hour = chart(&out, "per-hour");
        assert_eq!(count(per_hour, "class=\"bar\""), 3);
        assert!(per_hour.contains("data-t=\"2026-01-01T00:00:00Z\" data-n=\"2\""));
        assert!(per_hour.contains("data-t=\"2026-01-01T01:00:00Z\" data-n=\"1\""));
        assert!(per_hour.contains("data-t=\"2026-01-01T05:00:00Z\" data-n=\"3\""));
        // Hour 05 stacks "a" (2) and "other" (the record without a secret).
        let five = &per_hour[per_hour.find("T05:00:00Z").unwrap()..];
        assert_eq!(
            count(&five[..five.find("</g>").unwrap()], "class=\"seg\""),
            2
        );
        let failures = chart(&out, "failures");
        assert_eq!(count(failures, "class=\"bar\""), 2);
        assert!(failures.contains("data-t=\"2026-01-01T05:00:00Z\" data-n=\"2\""));
        assert!(failures.contains("AccessDenied: 1\nThrottling: 1"));
        let principals = chart(&out, "top-principals");
        assert_eq!(count(principals, "class=\"bar\""), 3);
        let at = |s: &str| principals.find(s).unwrap();
        assert!(at("data-key=\"carol\" data-n=\"3\"") < at("data-key=\"alice\" data-n=\"2\""));
        // Matrix cells: alice×a, bob×b, carol×a.
        assert_eq!(count(chart(&out, "matrix"), "class=\"cell\""), 3);
        assert!(chart(&out, "matrix").contains("<title>carol\na: 2 events</title>"));
    }

    #[test]
    fn long_spans_are_drawn_per_day_then_per_week() {
        let day = 86_400;
        let days: Vec<Ev> = [0, 1, 1, 4, 9, 20, 29]
            .iter()
            .map(|d| ev(T0 + d * day + 100, "alice", Some("a"), None))
            .collect();
        let out = page(&store(&days), &[], &[]);
        assert!(out.contains("Accesses per day"));
        let per_day = chart(&out, "per-hour");
        assert_eq!(count(per_day, "class=\"bar\""), 6);
        assert!(per_day.contains("data-t=\"2026-01-02T00:00:00Z\" data-n=\"2\""));

        // 2026-01-01 is a Thursday: its week starts Monday 2025-12-29.
        let weeks: Vec<Ev> = [0, 3, 4, 400, 700]
            .iter()
            .map(|d| ev(T0 + d * day, "alice", Some("a"), None))
            .collect();
        let out = page(&store(&weeks), &[], &[]);
        let per_week = chart(&out, "per-hour");
        assert!(out.contains("Accesses per week"));
        assert_eq!(count(per_week, "class=\"bar\""), 4);
        assert!(per_week.contains("data-t=\"2025-12-29T00:00:00Z\" data-n=\"2\""));
        assert!(per_week.contains("data-t=\"2026-01-05T00:00:00Z\" data-n=\"1\""));
    }

    #[test]
    fn a_year_of_busy_data_stays_small() {
        let events: Vec<Ev> = (0..365 * 24)
            .map(|h| {
                let secret = [
                    "p/1", "p/2", "p/3", "p/4", "p/5", "p/6", "p/7", "p/8", "p/9", "p/10",
                ][h as usize % 10];
                ev(
                    T0 + h * 3600,
                    ["alice", "bob", "carol"][h as usize % 3],
                    Some(secret),
                    None,
                )
            })
            .collect();
        let store = store(&events);
        let out = page(&store, &crate::report::all_reports(&store), &[]);
        assert_eq!(count(chart(&out, "per-hour"), "class=\"bar\""), 365);
        assert!(out.len() < 1_000_000, "{} bytes", out.len());
    }

    fn change(secs: i64, old: AlarmState, new: AlarmState, reason: &str) -> StateChange {
        StateChange {
            time: jiff::Timestamp::from_second(secs).unwrap(),
            old,
            new,
            reason: reason.to_string(),
            reason_data: String::new(),
        }
    }

    #[test]
    fn alarm_bands_follow_the_history() {
        use AlarmState::*;
        let a = AlarmTimeline {
            name: "root-login <x>".to_string(),
            start_us: T0 * 1_000_000,
            end_us: (T0 + 4000) * 1_000_000,
            history: vec![
                change(T0 + 300, InsufficientData, Ok, "first data"),
                change(T0 + 1200, Ok, Alarm, "Threshold Crossed: 1 datapoint [3.0]"),
                change(T0 + 1800, Alarm, Ok, "back <ok>"),
                change(T0 + 5000, Ok, Alarm, "after the end"),
            ],
        };
        let bands = alarm_bands(&a);
        let got: Vec<(i64, i64, AlarmState)> = bands
            .iter()
            .map(|b| {
                (
                    b.from_us / 1_000_000 - T0,
                    b.to_us / 1_000_000 - T0,
                    b.state,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (0, 300, InsufficientData),
                (300, 1200, Ok),
                (1200, 1800, Alarm),
                (1800, 4000, Ok)
            ]
        );
        assert_eq!(bands[2].reason, "Threshold Crossed: 1 datapoint [3.0]");
        let quiet = AlarmTimeline {
            name: "quiet".to_string(),
            history: Vec::new(),
            ..a.clone()
        };
        assert_eq!(alarm_bands(&quiet).len(), 1);
        assert_eq!(alarm_bands(&quiet)[0].state, InsufficientData);

        let out = page(&store(&[]), &[], &[a, quiet]);
        let timeline = chart(&out, "alarm-timeline");
        assert_eq!(count(timeline, "class=\"band\""), 5);
        let states: Vec<&str> = timeline
            .split("data-state=\"")
            .skip(1)
            .map(|s| &s[..s.find('"').unwrap()])
            .collect();
        assert_eq!(
            states,
            [
                "INSUFFICIENT_DATA",
                "OK",
                "ALARM",
                "OK",
                "INSUFFICIENT_DATA"
            ]
        );
        assert!(timeline.contains("root-login &lt;x&gt;"));
        assert!(timeline.contains("back &lt;ok&gt;"));
        assert!(!page(&store(&[]), &[], &[]).contains("data-chart=\"alarm-timeline\""));
    }

    #[test]
    fn extra_tables_get_their_sections() {
        let by_country = Table {
            name: "by_country",
            columns: vec![
                (
                    "country",
                    Column::Str([Some("DE"), Some("US"), None].into()),
                ),
                ("events", Column::Count(vec![3, 9, 1])),
            ],
        };
        let by_asn = Table {
            name: "by_asn",
            columns: vec![
                ("asn", Column::Count(vec![64500])),
                ("organization", Column::Str([Some("<Evil> Net")].into())),
                ("events", Column::Count(vec![13])),
            ],
        };
        let findings = Table {
            name: "findings",
            columns: vec![
                ("rule", Column::Str([Some("root-use")].into())),
                ("severity", Column::Str([Some("HIGH")].into())),
                ("time", Column::Time(vec![Some(T0 * 1_000_000)])),
            ],
        };
        let out = page(
            &store(&[ev(T0, "alice", Some("a"), None)]),
            &[by_country, by_asn, findings],
            &[],
        );
        let countries = chart(&out, "by-country");
        assert_eq!(count(countries, "class=\"bar\""), 3);
        let at = |s: &str| countries.find(s).unwrap();
        assert!(at("data-key=\"US\" data-n=\"9\"") < at("data-key=\"DE\" data-n=\"3\""));
        assert!(out.contains("data-table=\"by_asn\""));
        assert!(out.contains("<td class=\"num\">64500</td>"));
        assert!(out.contains("&lt;Evil&gt; Net"));
        assert!(out.contains("<td class=\"sev-high\">HIGH</td>"));
        assert!(out.contains("<td class=\"time\">2026-01-01T00:00:00Z</td>"));
        assert!(out.find("id=\"findings\"").unwrap() < out.find("id=\"per-hour\"").unwrap());
        let plain = page(&store(&[]), &[], &[]);
        assert!(!plain.contains("by-country") && !plain.contains("id=\"findings\""));
    }

    #[test]
    fn an_empty_store_still_draws_every_chart() {
        let out = page(&store(&[]), &[], &[]);
        for name in ["per-hour", "failures", "top-principals", "matrix"] {
            assert_eq!(count(chart(&out, name), "class=\"bar\""), 0);
        }
        assert!(out.contains("data-stat=\"files-listed\" data-n=\"5\""));
    }
}
