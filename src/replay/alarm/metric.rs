//! Metric filter → metric: the samples a matching or non-matching event
//! emits (`cloudwatch-semantics.md` §2), and CloudTrail's own SNS count.

use std::collections::BTreeMap;

use jiff::Timestamp;

use super::eval::{minute_of, ts};

/// One metric datapoint emitted by a metric filter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// The log event timestamp.
    pub timestamp: Timestamp,
    /// The emitted value.
    pub value: f64,
}

/// What the pattern said about one ingested log event.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EventOutcome {
    /// The log event timestamp.
    pub timestamp: Timestamp,
    /// Whether the filter pattern matched.
    pub matched: bool,
    /// The extracted value for a field-valued metricValue (`$.latency`, `$size`).
    pub value: Option<f64>,
}

/// The metricValue of a MetricTransformation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MetricValue {
    /// A number such as `1`.
    Literal(f64),
    /// A field reference; the value comes from [`EventOutcome::value`].
    Field,
}

/// When defaultValue samples are emitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultMode {
    /// One sample per non-matching event.
    PerEvent,
    /// One sample per minute that had events but no match.
    PerMinuteWithoutMatch,
}

/// A matched event whose field value is absent or non-numeric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissingValueMode {
    /// Emit nothing.
    Skip,
    /// Emit the default value, if any.
    UseDefault,
}

/// A metric filter's transformation (§2).
#[derive(Debug, Clone, PartialEq)]
pub struct MetricTransform {
    /// metricValue.
    pub metric_value: MetricValue,
    /// defaultValue.
    pub default_value: Option<f64>,
    /// \[INF\] default emission granularity.
    pub default_mode: DefaultMode,
    /// \[INF\] matched event without a usable value.
    pub missing_value: MissingValueMode,
}

impl MetricTransform {
    /// metricValue `value`, optional default, \[INF\] knobs at their defaults.
    pub fn new(value: f64, default_value: Option<f64>) -> Self {
        MetricTransform {
            metric_value: MetricValue::Literal(value),
            default_value,
            default_mode: DefaultMode::PerEvent,
            missing_value: MissingValueMode::Skip,
        }
    }

    /// Samples for the events, in input order (per-minute defaults at minute start).
    pub fn samples(&self, events: &[EventOutcome]) -> Vec<Sample> {
        let mut out = Vec::new();
        let mut minutes: BTreeMap<i64, bool> = BTreeMap::new();
        for ev in events {
            let value =
                match (ev.matched, self.metric_value) {
                    (true, MetricValue::Literal(v)) => Some(v),
                    (true, MetricValue::Field) => ev.value.filter(|v| v.is_finite()).or(match self
                        .missing_value
                    {
                        MissingValueMode::Skip => None,
                        MissingValueMode::UseDefault => self.default_value,
                    }),
                    (false, _) if self.default_mode == DefaultMode::PerEvent => self.default_value,
                    (false, _) => None,
                };
            *minutes.entry(minute_of(ev.timestamp)).or_default() |= ev.matched;
            if let Some(value) = value {
                out.push(Sample {
                    timestamp: ev.timestamp,
                    value,
                });
            }
        }
        if let (DefaultMode::PerMinuteWithoutMatch, Some(d)) =
            (self.default_mode, self.default_value)
        {
            for (&m, _) in minutes.iter().filter(|(_, &matched)| !matched) {
                out.extend(ts(m).map(|timestamp| Sample {
                    timestamp,
                    value: d,
                }));
            }
        }
        out
    }
}

/// CloudTrail's own SNS notifications: one per delivered log file (§4).
/// A trail with 288 files a day sends 288 messages, whatever the alarms do.
pub fn cloudtrail_sns_notification_count(log_files: usize) -> usize {
    log_files
}

/// \[INF\] `ct_sns.coalesce_same_minute`: files sharing a delivery minute
/// (the `YYYYMMDDTHHmmZ` of the key) counted as one message.
pub fn cloudtrail_sns_notification_count_coalesced(delivery_minutes: &[Timestamp]) -> usize {
    let mut m: Vec<i64> = delivery_minutes.iter().map(|t| minute_of(*t)).collect();
    m.sort_unstable();
    m.dedup();
    m.len()
}
