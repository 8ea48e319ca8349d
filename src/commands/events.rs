//! `ctscan events`: event history without the 90-day limit. A
//! [`RecordVisitor`] picks the records a filter pattern and the LookupEvents
//! attributes select; they are printed sorted by `eventTime`.

use std::io::Write;

use anyhow::Result;
use serde_json::Value;

use crate::cli::EventsFormat;
use crate::commands::scan_sources::scan_sources_filtered;
use crate::config::EventsConfig;
use crate::error::ExitStatus;
use crate::events::{event_id_key, Duplicates};
use crate::lake::read::filter::RowFilter;
use crate::read::lookup::{read_only, username, LookupFilters};
use crate::read::structural::Tape;
use crate::replay::pattern::{EventCache, Pattern};
use crate::report::sanitize::csv_cell;
use crate::report::terminal::print_table;
use crate::report::{Column, Table};
use crate::scan::{NoTimeReasons, RecordCounts, RecordVisitor};
use crate::window::TimeWindow;

/// One selected record.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundEvent {
    /// eventTime, microseconds since the epoch.
    pub time_us: i64,
    /// The object it came from, and its position there.
    pub object: String,
    pub index: usize,
    /// The record's text as found, without insignificant whitespace.
    pub compact: String,
    /// The columns of the table and CSV outputs, in [`COLUMNS`] order.
    pub cells: Vec<Option<String>>,
}

/// Column names of the table and CSV outputs.
pub const COLUMNS: [&str; 11] = [
    "event_time",
    "event_source",
    "event_name",
    "username",
    "access_key_id",
    "source_ip",
    "user_agent",
    "read_only",
    "error_code",
    "event_id",
    "object",
];

/// Per-worker results: records of finished objects, and of the current one.
#[derive(Debug, Default)]
pub struct Found {
    pub done: Vec<FoundEvent>,
    staged: Vec<FoundEvent>,
    /// Selected records without a usable eventTime (not listed), by reason.
    pub no_event_time: NoTimeReasons,
    staged_no_time: NoTimeReasons,
}

/// Selects records by pattern, lookup attributes and time window.
pub struct EventsVisitor<'a> {
    pub pattern: Option<&'a Pattern>,
    pub lookup: &'a LookupFilters,
    pub window: TimeWindow,
}

impl RecordVisitor for EventsVisitor<'_> {
    type State = Found;

    fn new_state(&self) -> Found {
        Found::default()
    }

    fn wants(&self, raw: &[u8]) -> bool {
        self.pattern.is_none_or(|p| p.prefilter().may_match(raw)) && self.lookup.may_match(raw)
    }

    fn visit(&self, state: &mut Found, key: &str, index: usize, raw: &[u8], _: Option<&Tape>) {
        let ev = EventCache::from_raw(raw);
        if self.pattern.is_some_and(|p| !p.matches_cached(&ev)) {
            return;
        }
        let Some(rec) = ev.json() else { return };
        if !self.lookup.matches(rec) {
            return;
        }
        let text = rec.get("eventTime").and_then(Value::as_str);
        let Some(t) = state.staged_no_time.time_in(text, &self.window) else {
            return;
        };
        state.staged.push(FoundEvent {
            time_us: t.as_microsecond(),
            object: key.to_string(),
            index,
            compact: compact_json(raw),
            cells: cells(rec, key),
        });
    }

    fn end_object(&self, state: &mut Found, _key: &str, ok: bool) {
        if ok {
            state.done.append(&mut state.staged);
            state.no_event_time.add(&state.staged_no_time);
        }
        state.staged.clear();
        state.staged_no_time = NoTimeReasons::default();
    }

    fn merge(&self, mut a: Found, mut b: Found) -> Found {
        a.done.append(&mut b.done);
        a.no_event_time.add(&b.no_event_time);
        a
    }
}

fn cells(rec: &Value, key: &str) -> Vec<Option<String>> {
    let s = |p: &str| rec.pointer(p).and_then(Value::as_str).map(str::to_string);
    vec![
        s("/eventTime"),
        s("/eventSource"),
        s("/eventName"),
        username(rec),
        s("/userIdentity/accessKeyId"),
        s("/sourceIPAddress"),
        s("/userAgent"),
        read_only(rec).map(|b| b.to_string()),
        s("/errorCode"),
        s("/eventID"),
        Some(key.to_string()),
    ]
}

/// The JSON text with whitespace outside strings removed; everything else
/// (key order, escapes, number spelling) stays exactly as found.
pub fn compact_json(raw: &[u8]) -> String {
    let mut out = Vec::with_capacity(raw.len());
    let mut in_str = false;
    let mut escaped = false;
    for &b in raw {
        if in_str {
            out.push(b);
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_str = false;
            }
        } else if !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
            in_str = b == b'"';
            out.push(b);
        }
    }
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Runs `events`.
pub fn run(cfg: &EventsConfig) -> Result<ExitStatus> {
    let visitor = EventsVisitor {
        pattern: cfg.pattern.as_ref(),
        lookup: &cfg.lookup,
        window: cfg.scan.window,
    };
    let rows = RowFilter::from_pattern(cfg.pattern.as_ref());
    let (scanned, found) = scan_sources_filtered(&cfg.scan, &visitor, rows)?;
    let mut events = found.done;
    events.sort_by(|a, b| (a.time_us, &a.object, a.index).cmp(&(b.time_us, &b.object, b.index)));
    let matched = events.len() as u64;
    let duplicates = drop_repeated_ids(&mut events, cfg.scan.duplicates);
    let counts = RecordCounts::of_visitor(
        scanned.outcome.stats.records.read,
        matched,
        found.no_event_time,
        duplicates,
    );
    events.truncate(cfg.limit.unwrap_or(usize::MAX));
    let mut out = std::io::stdout().lock();
    match cfg.format {
        EventsFormat::Jsonl => {
            for e in &events {
                writeln!(out, "{}", e.compact)?;
            }
        }
        EventsFormat::Csv => write_csv(&mut out, &events)?,
        EventsFormat::Table => {
            print_table(
                &mut out,
                &events_table(&events),
                usize::MAX,
                cfg.scan.cell_fit,
            )?;
            if !cfg.scan.quiet {
                let s = &scanned.outcome.stats;
                writeln!(
                    out,
                    "\n{} events; {} files scanned, {} failed; {}",
                    events.len(),
                    s.files.scanned,
                    s.files.failed,
                    counts.describe()
                )?;
            }
        }
    }
    out.flush()?;
    if !cfg.scan.quiet {
        if cfg.format != EventsFormat::Table {
            eprintln!("ctscan: {}", counts.describe());
        }
        counts.warn_left_out(cfg.scan.duplicates);
    }
    Ok(if scanned.outcome.stats.files.failed > 0 {
        ExitStatus::Error
    } else {
        ExitStatus::Ok
    })
}

/// Drops every event whose eventID an earlier one (in time, object, index
/// order) already has, unless `rule` keeps them; returns how many repeat.
fn drop_repeated_ids(events: &mut Vec<FoundEvent>, rule: Duplicates) -> u64 {
    const EVENT_ID: usize = 9;
    let mut seen = std::collections::HashSet::new();
    let repeated: Vec<bool> = events
        .iter()
        .map(|e| {
            e.cells[EVENT_ID]
                .as_deref()
                .is_some_and(|id| !seen.insert(event_id_key(id)))
        })
        .collect();
    let count = repeated.iter().filter(|r| **r).count() as u64;
    if rule == Duplicates::CountOnce {
        let mut it = repeated.into_iter();
        events.retain(|_| !it.next().unwrap_or(false));
    }
    count
}

/// The selected events as a [`Table`] named `events`.
pub fn events_table(events: &[FoundEvent]) -> Table {
    Table {
        name: "events",
        columns: COLUMNS
            .iter()
            .enumerate()
            .map(|(i, name)| {
                (
                    *name,
                    Column::Str(events.iter().map(|e| e.cells[i].clone()).collect()),
                )
            })
            .collect(),
    }
}

/// CSV with a header; formula-like cells neutralised, quoted when needed.
pub fn write_csv(out: &mut impl Write, events: &[FoundEvent]) -> std::io::Result<()> {
    writeln!(out, "{}", COLUMNS.join(","))?;
    for e in events {
        let row: Vec<String> = e
            .cells
            .iter()
            .map(|c| csv_quote(&csv_cell(c.as_deref().unwrap_or(""))))
            .collect();
        writeln!(out, "{}", row.join(","))?;
    }
    Ok(())
}

fn csv_quote(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compaction_keeps_strings_and_order() {
        assert_eq!(
            compact_json(b"{ \"b\" : \"x y\\\" z\" ,\n \"a\": [1, 2] }"),
            r#"{"b":"x y\" z","a":[1,2]}"#
        );
    }

    #[test]
    fn csv_cells_are_quoted_and_neutralised() {
        assert_eq!(
            csv_quote(&csv_cell("=cmd|' /C calc'!A0")),
            "'=cmd|' /C calc'!A0"
        );
        assert_eq!(csv_quote("a,\"b\""), "\"a,\"\"b\"\"\"");
    }
}
