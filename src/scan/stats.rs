//! What a scan counts: every object listed (scanned, pruned, skipped with a
//! reason, failed with its error) and every record read (matched, not
//! matched, without a usable time, duplicate), and how they are told to
//! people. Plain data; the scan fills it in.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use jiff::Timestamp;

use crate::events::Duplicates;
use crate::window::{parse_event_time, TimeWindow};

/// How every listed object ended up; `listed = scanned + pruned + skipped + failed`.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileCounts {
    pub listed: u64,
    pub scanned: u64,
    pub pruned: u64,
    pub skipped: BTreeMap<String, u64>,
    pub failed: u64,
}

/// A file that could not be read, and why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Failure {
    pub object: String,
    pub error: String,
}

/// Record counts; `read = matched + not_matched + no_event_time`.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordCounts {
    /// Records in the scanned files.
    pub read: u64,
    /// Selected records with a usable `eventTime` inside the window.
    pub matched: u64,
    /// Records not selected, or selected but outside the window.
    pub not_matched: u64,
    /// Selected records whose `eventTime` is missing or unparseable.
    pub no_event_time: u64,
    /// Of `no_event_time`, why.
    pub no_event_time_reasons: NoTimeReasons,
    /// Of `matched`, records whose `eventID` was already seen (counted once in reports).
    pub duplicates: u64,
}

/// Why records had no usable `eventTime`: `missing + unparseable =
/// no_event_time`. Unparseable covers what is ambiguous (a date alone, a
/// day-first date, a time without seconds or offset) and what is no time.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoTimeReasons {
    /// No `eventTime` string at all.
    pub missing: u64,
    /// An `eventTime` that is not a time ctscan reads (see `parse_event_time`).
    pub unparseable: u64,
}

impl NoTimeReasons {
    /// Counts one record whose time text, if any, was `text`.
    pub fn count(&mut self, text: Option<&str>) {
        match text {
            None => self.missing += 1,
            Some(_) => self.unparseable += 1,
        }
    }

    /// The time of a record some visitor matched, from its `eventTime` text,
    /// when it is usable and inside `window`; a record without a usable time
    /// is counted here instead.
    pub fn time_in(&mut self, text: Option<&str>, window: &TimeWindow) -> Option<Timestamp> {
        let Some(time) = text.and_then(parse_event_time) else {
            self.count(text);
            return None;
        };
        window.contains(time).then_some(time)
    }

    /// Adds another tally to this one.
    pub fn add(&mut self, o: &NoTimeReasons) {
        self.missing += o.missing;
        self.unparseable += o.unparseable;
    }
}

impl RecordCounts {
    /// Adds another tally to this one.
    pub fn add(&mut self, o: &RecordCounts) {
        self.read += o.read;
        self.matched += o.matched;
        self.not_matched += o.not_matched;
        self.no_event_time += o.no_event_time;
        self.no_event_time_reasons.add(&o.no_event_time_reasons);
        self.duplicates += o.duplicates;
    }

    /// A command's own tally over the records a scan read: whatever it
    /// neither matched nor found without a time was not matched.
    pub fn of_visitor(read: u64, matched: u64, no_time: NoTimeReasons, duplicates: u64) -> Self {
        let no_event_time = no_time.missing + no_time.unparseable;
        RecordCounts {
            read,
            matched,
            not_matched: read.saturating_sub(matched + no_event_time),
            no_event_time,
            no_event_time_reasons: no_time,
            duplicates,
        }
    }

    /// Says on stderr what the command left out of its output, when it left
    /// anything: matching records without a usable time, repeated events.
    pub fn warn_left_out(&self, duplicates: Duplicates) {
        let r = &self.no_event_time_reasons;
        if self.no_event_time > 0 {
            eprintln!(
                "ctscan: warning: {} matching record(s) have no usable eventTime ({} missing, {} unparseable) and are left out",
                self.no_event_time, r.missing, r.unparseable
            );
        }
        if self.duplicates > 0 && duplicates == Duplicates::CountOnce {
            eprintln!(
                "ctscan: warning: {} record(s) repeat an eventID already seen and are counted once (--keep-duplicates keeps every copy)",
                self.duplicates
            );
        }
    }

    /// One line for people: every record read, accounted for.
    pub fn describe(&self) -> String {
        let r = &self.no_event_time_reasons;
        format!(
            "records: {} read: {} matched ({} of them duplicate eventIDs, counted once), \
             {} not matched, {} without a usable eventTime ({} missing, {} unparseable)",
            self.read,
            self.matched,
            self.duplicates,
            self.not_matched,
            self.no_event_time,
            r.missing,
            r.unparseable
        )
    }
}

/// Everything a scan counted.
#[derive(Debug, Default, Clone, Serialize)]
pub struct ScanStats {
    pub files: FileCounts,
    pub failures: Vec<Failure>,
    pub records: RecordCounts,
    pub bytes_read: u64,
    pub bytes_decompressed: u64,
    /// The first object holding a selected record without a usable time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_no_event_time: Option<String>,
}

impl ScanStats {
    pub(super) fn merge(&mut self, o: ScanStats) {
        let f = &mut self.files;
        f.listed += o.files.listed;
        f.scanned += o.files.scanned;
        f.pruned += o.files.pruned;
        f.failed += o.files.failed;
        for (k, v) in o.files.skipped {
            *f.skipped.entry(k).or_default() += v;
        }
        self.failures.extend(o.failures);
        self.records.add(&o.records);
        self.bytes_read += o.bytes_read;
        self.bytes_decompressed += o.bytes_decompressed;
        self.first_no_event_time = match (self.first_no_event_time.take(), o.first_no_event_time) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }

    pub(super) fn skip(&mut self, reason: &str) {
        *self.files.skipped.entry(reason.to_string()).or_default() += 1;
    }

    pub(super) fn fail(&mut self, object: &str, error: String) {
        self.files.failed += 1;
        self.failures.push(Failure {
            object: object.to_string(),
            error,
        });
    }
}
