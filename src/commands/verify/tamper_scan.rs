//! The tampering scan: one pass over the log files that finds the events
//! which stop, delete or blind a trail ([`crate::verify::tamper_finding_in`]).

use std::collections::HashSet;

use memchr::memmem::Finder;
use serde::Serialize;
use serde_json::Value;

use crate::commands::scan_sources::scan_lake_source;
use crate::config::{SourceSpec, VerifyConfig};
use crate::lake::read::filter::RowFilter;
use crate::lake::read::Lake;
use crate::read::escape::escapes_touch_keys;
use crate::read::structural::Tape;
use crate::replay::pattern::TextWant;
use crate::scan::{scan_with, Failure, FileCounts, LocalFetch, RecordVisitor, ScanContext};
use crate::source;
use crate::verify::{tamper_finding_in, TamperFinding, TamperScope};
use crate::window::{parse_event_time, TimeWindow};

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
    pub(super) time_us: Option<i64>,
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
    /// hides it (or the key) behind a `\u` escape in its `eventName`, which
    /// is parsed too. Escapes elsewhere in the record change nothing.
    fn wants(&self, raw: &[u8]) -> bool {
        self.event_name
            .find_iter(raw)
            .any(|at| Self::value_after(raw, at).is_some_and(|v| self.names.contains(v)))
            || escapes_touch_keys(raw, self.escape.find_iter(raw), &["eventName"])
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

/// Over a lake, the rows worth a look: those naming a tampering event.
fn tamper_rows() -> RowFilter {
    let names = TAMPER_EVENTS.iter().map(|n| TextWant::Exact(n.to_string()));
    RowFilter {
        columns: vec![("event_name", names.collect())],
    }
}

/// A lake that could not be read: one failure naming it, no findings.
fn lake_failed(lake: &Lake, e: &anyhow::Error) -> TamperScan {
    TamperScan {
        files: FileCounts {
            listed: 1,
            failed: 1,
            ..FileCounts::default()
        },
        failures: vec![Failure {
            object: lake.root.display().to_string(),
            error: format!("{e:#}"),
        }],
        findings: Vec::new(),
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
    let (outcome, state) = match &cfg.scan.lake {
        Some(lake) => match scan_lake_source(&cfg.scan, lake, Some(&visitor), tamper_rows()) {
            Ok((scanned, state)) => (scanned.outcome, state.unwrap_or_default()),
            Err(e) => return lake_failed(lake, &e),
        },
        None => scan_with(listing.flatten(), &ctx, &LocalFetch, &visitor),
    };
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
