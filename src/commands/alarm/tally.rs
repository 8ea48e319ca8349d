//! What `alarm`'s scan keeps per rule: samples folded per minute, so memory
//! follows the span of time with matches, not the number of records.

use std::collections::BTreeMap;

/// One rule's samples in one minute of sample time.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct MinuteCount {
    /// Samples of the rule's numeric metricValue.
    pub(super) matched: u64,
    /// Samples of its defaultValue.
    pub(super) defaults: u64,
    /// Whether any record matched (per-minute defaults skip such minutes).
    pub(super) had_match: bool,
    /// First and last second of the counted samples.
    pub(super) first: i64,
    pub(super) last: i64,
}

impl MinuteCount {
    /// Widens the first and last seconds to take in `first..=last`.
    pub(super) fn widen(&mut self, first: i64, last: i64) {
        if self.matched + self.defaults == 0 {
            (self.first, self.last) = (first, last);
        } else {
            self.first = self.first.min(first);
            self.last = self.last.max(last);
        }
    }

    pub(super) fn count(&mut self, second: i64, default: bool) {
        self.widen(second, second);
        if default {
            self.defaults += 1;
        } else {
            self.matched += 1;
        }
    }

    pub(super) fn merge(&mut self, o: &MinuteCount) {
        if o.matched + o.defaults > 0 {
            self.widen(o.first, o.last);
        }
        self.matched += o.matched;
        self.defaults += o.defaults;
        self.had_match |= o.had_match;
    }
}

/// What the scan found for one rule, folded per minute: memory follows the
/// span of time with matches, not the number of records.
#[derive(Debug, Clone, Default)]
pub(super) struct RuleTally {
    pub(super) matches: u64,
    pub(super) first_match: Option<i64>,
    pub(super) last_match: Option<i64>,
    pub(super) minutes: BTreeMap<i64, MinuteCount>,
    /// (sample second, value) of a field metricValue; folded in time order
    /// at the end so sums do not depend on how the work was split.
    pub(super) field_samples: Vec<(i64, f64)>,
}

impl RuleTally {
    pub(super) fn merge(&mut self, mut o: RuleTally) {
        self.matches += o.matches;
        self.first_match = min_some(self.first_match, o.first_match);
        self.last_match = self.last_match.max(o.last_match);
        for (m, c) in &o.minutes {
            self.minutes.entry(*m).or_default().merge(c);
        }
        self.field_samples.append(&mut o.field_samples);
    }
}

pub(super) fn min_some(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}
