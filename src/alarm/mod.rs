//! Metric filter → metric → alarm → SNS replay (`cloudwatch-semantics.md`
//! §2, §3, §4, §6). Owns sample emission, per-period statistics, the
//! minute-by-minute evaluation schedule, the §3.4 state decision, history
//! and SNS message rendering. It never matches patterns (`crate::pattern`)
//! and never reads logs.
//!
//! # Inferred behaviour (\[INF\] knobs) and defaults
//!
//! | knob | default | spec |
//! |---|---|---|
//! | [`MetricTransform::default_mode`] | `PerEvent`: one default sample per non-matching event | §2 `metric.default_mode` |
//! | [`MetricTransform::missing_value`] | `Skip`: a match without a numeric value emits nothing | §2 |
//! | [`ReplayKnobs::evaluation_range`] | `None` = N + 2 most recent periods fetched | §3.2 `alarm.evaluation_range` |
//! | [`ReplayKnobs::premature_requires_all_breaching`] | `true`: the extra clause that reproduces table 2 row 3 | §3.4 |
//! | [`ReplayKnobs::ok_reason_minimum`] | `NMinusMPlusOne`: "minimum N−M+1 datapoints for ALARM -> OK" | §3.7 |
//! | [`ReplayKnobs::sub_minute_periods`] | `AllMissing`: 10/20/30 s periods on 1-minute metrics see no data | §2 |
//!
//! Also inferred and fixed (documented, not configurable): percentiles use
//! exact nearest rank and a window with a negative value has no percentile
//! (treated as missing); `EvaluateLowSampleCountPercentile=ignore` freezes
//! the state when any real window among the N newest has too few samples;
//! the wording for "all N periods missing but treated as (non)breaching";
//! region display names; `SAMPLE_COUNT`/`MINIMUM`/`MAXIMUM` and the
//! `ExtendedStatistic` layout in the SNS `Trigger`. Evaluation uses ideal
//! visibility (a sample is visible as soon as its minute has ended).

mod message;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;

pub use message::{java_double, region_display_name};

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

/// Alarm statistic (§3.1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Statistic {
    /// Number of samples.
    SampleCount,
    /// Sum of values.
    Sum,
    /// Sum / SampleCount.
    Average,
    /// Smallest value.
    Minimum,
    /// Largest value.
    Maximum,
    /// pNN, exact nearest rank; the field is NN (0–100).
    Percentile(f64),
}

impl Statistic {
    /// The five simple statistics, for [`explain`].
    pub const SIMPLE: [Statistic; 5] = [
        Statistic::SampleCount,
        Statistic::Sum,
        Statistic::Average,
        Statistic::Minimum,
        Statistic::Maximum,
    ];
}

impl fmt::Display for Statistic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Statistic::SampleCount => f.write_str("SampleCount"),
            Statistic::Sum => f.write_str("Sum"),
            Statistic::Average => f.write_str("Average"),
            Statistic::Minimum => f.write_str("Minimum"),
            Statistic::Maximum => f.write_str("Maximum"),
            Statistic::Percentile(p) => write!(f, "p{p}"),
        }
    }
}

impl FromStr for Statistic {
    type Err = AlarmError;
    fn from_str(s: &str) -> Result<Self, AlarmError> {
        Ok(match s {
            "SampleCount" => Statistic::SampleCount,
            "Sum" => Statistic::Sum,
            "Average" => Statistic::Average,
            "Minimum" => Statistic::Minimum,
            "Maximum" => Statistic::Maximum,
            _ => match s.strip_prefix('p').and_then(|p| p.parse::<f64>().ok()) {
                Some(p) => Statistic::Percentile(p),
                None => {
                    return Err(AlarmError::Unknown {
                        what: "statistic",
                        value: s.into(),
                    })
                }
            },
        })
    }
}

/// ComparisonOperator; the statistic is the left operand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    /// `>=`
    GreaterThanOrEqualToThreshold,
    /// `>`
    GreaterThanThreshold,
    /// `<`
    LessThanThreshold,
    /// `<=`
    LessThanOrEqualToThreshold,
}

impl Comparison {
    /// Whether `value OP threshold` holds.
    pub fn breaches(self, value: f64, threshold: f64) -> bool {
        match self {
            Comparison::GreaterThanOrEqualToThreshold => value >= threshold,
            Comparison::GreaterThanThreshold => value > threshold,
            Comparison::LessThanThreshold => value < threshold,
            Comparison::LessThanOrEqualToThreshold => value <= threshold,
        }
    }

    /// CloudWatch's words for the operator in reason strings.
    pub fn words(self) -> &'static str {
        match self {
            Comparison::GreaterThanOrEqualToThreshold => "greater than or equal to",
            Comparison::GreaterThanThreshold => "greater than",
            Comparison::LessThanThreshold => "less than",
            Comparison::LessThanOrEqualToThreshold => "less than or equal to",
        }
    }

    fn is_greater(self) -> bool {
        matches!(
            self,
            Comparison::GreaterThanOrEqualToThreshold | Comparison::GreaterThanThreshold
        )
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl FromStr for Comparison {
    type Err = AlarmError;
    fn from_str(s: &str) -> Result<Self, AlarmError> {
        Ok(match s {
            "GreaterThanOrEqualToThreshold" => Comparison::GreaterThanOrEqualToThreshold,
            "GreaterThanThreshold" => Comparison::GreaterThanThreshold,
            "LessThanThreshold" => Comparison::LessThanThreshold,
            "LessThanOrEqualToThreshold" => Comparison::LessThanOrEqualToThreshold,
            "LessThanLowerOrGreaterThanUpperThreshold"
            | "LessThanLowerThreshold"
            | "GreaterThanUpperThreshold" => {
                return Err(AlarmError::UnsupportedComparison(s.into()))
            }
            _ => {
                return Err(AlarmError::Unknown {
                    what: "comparison operator",
                    value: s.into(),
                })
            }
        })
    }
}

/// TreatMissingData.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TreatMissing {
    /// `missing` (default).
    Missing,
    /// `notBreaching`.
    NotBreaching,
    /// `breaching`.
    Breaching,
    /// `ignore`.
    Ignore,
}

impl TreatMissing {
    /// The API spelling.
    pub fn api_name(self) -> &'static str {
        match self {
            TreatMissing::Missing => "missing",
            TreatMissing::NotBreaching => "notBreaching",
            TreatMissing::Breaching => "breaching",
            TreatMissing::Ignore => "ignore",
        }
    }
}

impl FromStr for TreatMissing {
    type Err = AlarmError;
    fn from_str(s: &str) -> Result<Self, AlarmError> {
        [
            TreatMissing::Missing,
            TreatMissing::NotBreaching,
            TreatMissing::Breaching,
            TreatMissing::Ignore,
        ]
        .into_iter()
        .find(|t| t.api_name() == s)
        .ok_or_else(|| AlarmError::Unknown {
            what: "treat_missing_data",
            value: s.into(),
        })
    }
}

/// EvaluateLowSampleCountPercentile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LowSampleCount {
    /// Evaluate regardless (default).
    Evaluate,
    /// Keep the state while samples are too few.
    Ignore,
}

/// Alarm states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlarmState {
    /// OK.
    Ok,
    /// ALARM.
    Alarm,
    /// INSUFFICIENT_DATA.
    InsufficientData,
}

impl fmt::Display for AlarmState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AlarmState::Ok => "OK",
            AlarmState::Alarm => "ALARM",
            AlarmState::InsufficientData => "INSUFFICIENT_DATA",
        })
    }
}

/// Which new states send an SNS notification to the alarm's topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotifyOn {
    /// AlarmActions (default true).
    pub alarm: bool,
    /// OKActions (default false).
    pub ok: bool,
    /// InsufficientDataActions (default false).
    pub insufficient_data: bool,
}

impl Default for NotifyOn {
    fn default() -> Self {
        NotifyOn {
            alarm: true,
            ok: false,
            insufficient_data: false,
        }
    }
}

impl NotifyOn {
    fn wants(self, s: AlarmState) -> bool {
        match s {
            AlarmState::Alarm => self.alarm,
            AlarmState::Ok => self.ok,
            AlarmState::InsufficientData => self.insufficient_data,
        }
    }
}

/// PutMetricAlarm parameters that matter for replay and messages.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmConfig {
    /// AlarmName.
    pub name: String,
    /// AlarmDescription.
    pub description: Option<String>,
    /// Region code, e.g. `us-east-1`.
    pub region: String,
    /// AWS account id.
    pub account_id: String,
    /// Topic for all configured actions; `None` = no notifications.
    pub sns_topic_arn: Option<String>,
    /// Metric name.
    pub metric_name: String,
    /// Metric namespace.
    pub namespace: String,
    /// Statistic or percentile.
    pub statistic: Statistic,
    /// Period in seconds.
    pub period_secs: u32,
    /// EvaluationPeriods (N).
    pub evaluation_periods: u32,
    /// DatapointsToAlarm (M); `None` means M = N and short reason strings.
    pub datapoints_to_alarm: Option<u32>,
    /// Threshold.
    pub threshold: f64,
    /// ComparisonOperator.
    pub comparison: Comparison,
    /// TreatMissingData.
    pub treat_missing_data: TreatMissing,
    /// EvaluateLowSampleCountPercentile.
    pub low_sample_count: LowSampleCount,
    /// ActionsEnabled.
    pub actions_enabled: bool,
    /// Which states have actions.
    pub notify: NotifyOn,
}

impl AlarmConfig {
    /// The CIS/Security Hub shape: Sum ≥ 1 over 300 s, 1 period, treat missing.
    pub fn cis(name: &str, metric_name: &str) -> Self {
        AlarmConfig {
            name: name.into(),
            description: None,
            region: "us-east-1".into(),
            account_id: "123456789012".into(),
            sns_topic_arn: None,
            metric_name: metric_name.into(),
            namespace: "CISBenchmark".into(),
            statistic: Statistic::Sum,
            period_secs: 300,
            evaluation_periods: 1,
            datapoints_to_alarm: None,
            threshold: 1.0,
            comparison: Comparison::GreaterThanOrEqualToThreshold,
            treat_missing_data: TreatMissing::Missing,
            low_sample_count: LowSampleCount::Evaluate,
            actions_enabled: true,
            notify: NotifyOn::default(),
        }
    }

    /// M (DatapointsToAlarm, defaulting to N).
    pub fn m(&self) -> u32 {
        self.datapoints_to_alarm.unwrap_or(self.evaluation_periods)
    }

    /// PutMetricAlarm validation (§3.1).
    pub fn validate(&self) -> Result<(), AlarmError> {
        let p = self.period_secs;
        if !(matches!(p, 10 | 20 | 30) || (p > 0 && p.is_multiple_of(60))) {
            return Err(AlarmError::Period(p));
        }
        let n = self.evaluation_periods;
        if n == 0 {
            return Err(AlarmError::EvaluationPeriods);
        }
        if !(1..=n).contains(&self.m()) {
            return Err(AlarmError::DatapointsToAlarm { m: self.m(), n });
        }
        let limit = if p < 3600 { 86_400 } else { 604_800 };
        if u64::from(p) * u64::from(n) > limit {
            return Err(AlarmError::TooLong {
                total: u64::from(p) * u64::from(n),
                limit,
            });
        }
        if let Statistic::Percentile(q) = self.statistic {
            if !(0.0..=100.0).contains(&q) {
                return Err(AlarmError::Percentile(q));
            }
        }
        if !self.threshold.is_finite() {
            return Err(AlarmError::Threshold);
        }
        if self.name.is_empty() {
            return Err(AlarmError::Name);
        }
        Ok(())
    }
}

/// Invalid alarm configuration or replay request.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AlarmError {
    /// Period not 10, 20, 30 or a multiple of 60.
    #[error("period {0} s is invalid: use 10, 20, 30 or a multiple of 60")]
    Period(u32),
    /// N = 0.
    #[error("evaluation periods must be at least 1")]
    EvaluationPeriods,
    /// M outside 1..=N.
    #[error("datapoints to alarm {m} must be between 1 and evaluation periods {n}")]
    DatapointsToAlarm {
        /// M.
        m: u32,
        /// N.
        n: u32,
    },
    /// Period × N over the limit.
    #[error("period × evaluation periods = {total} s exceeds {limit} s")]
    TooLong {
        /// Period × N.
        total: u64,
        /// The applicable limit.
        limit: u64,
    },
    /// Percentile outside 0–100.
    #[error("percentile p{0} is outside p0–p100")]
    Percentile(f64),
    /// NaN or infinite threshold.
    #[error("threshold must be a finite number")]
    Threshold,
    /// Empty alarm name.
    #[error("alarm name must not be empty")]
    Name,
    /// Anomaly-detection operators.
    #[error("comparison operator {0} (anomaly detection) is not supported")]
    UnsupportedComparison(String),
    /// Unknown enum spelling.
    #[error("unknown {what} {value:?}")]
    Unknown {
        /// Which setting.
        what: &'static str,
        /// The rejected text.
        value: String,
    },
    /// Replay end before start.
    #[error("replay end is before its start")]
    Window,
}

/// See [`ReplayKnobs::ok_reason_minimum`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OkMinimum {
    /// N − M + 1.
    NMinusMPlusOne,
    /// Always 1.
    One,
}

/// See [`ReplayKnobs::sub_minute_periods`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubMinuteMode {
    /// Every window is missing (metric filters publish 1-minute data).
    AllMissing,
    /// Evaluate like a 60 s period.
    AsOneMinute,
}

/// \[INF\] replay knobs; see the module table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplayKnobs {
    /// Periods fetched per evaluation (R); `None` = N + 2.
    pub evaluation_range: Option<u32>,
    /// Extra premature-alarm clause (§3.4).
    pub premature_requires_all_breaching: bool,
    /// "minimum" in OK reason strings.
    pub ok_reason_minimum: OkMinimum,
    /// Handling of 10/20/30 s periods.
    pub sub_minute_periods: SubMinuteMode,
}

impl Default for ReplayKnobs {
    fn default() -> Self {
        ReplayKnobs {
            evaluation_range: None,
            premature_requires_all_breaching: true,
            ok_reason_minimum: OkMinimum::NMinusMPlusOne,
            sub_minute_periods: SubMinuteMode::AllMissing,
        }
    }
}

/// Replay window and knobs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReplayOptions {
    /// Alarm creation (state INSUFFICIENT_DATA); first evaluation at the next whole minute.
    pub start: Timestamp,
    /// Last evaluation at or before this instant.
    pub end: Timestamp,
    /// \[INF\] knobs.
    pub knobs: ReplayKnobs,
}

/// The newest window at one evaluation: the metric as the alarm saw it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricPoint {
    /// Period start.
    pub start: Timestamp,
    /// The statistic, `None` when missing.
    pub value: Option<f64>,
    /// Samples in the period.
    pub sample_count: u64,
}

/// One alarm history `StateUpdate`.
#[derive(Debug, Clone, PartialEq)]
pub struct StateChange {
    /// Evaluation instant (StateChangeTime).
    pub time: Timestamp,
    /// Previous state.
    pub old: AlarmState,
    /// New state.
    pub new: AlarmState,
    /// NewStateReason.
    pub reason: String,
    /// NewStateReasonData (JSON text).
    pub reason_data: String,
}

impl StateChange {
    /// HistorySummary text.
    pub fn summary(&self) -> String {
        format!("Alarm updated from {} to {}", self.old, self.new)
    }
}

/// An SNS publish the alarm would have made.
#[derive(Debug, Clone, PartialEq)]
pub struct SnsNotification {
    /// Publish time (= StateChangeTime).
    pub time: Timestamp,
    /// Topic.
    pub topic_arn: String,
    /// Subject, e.g. `ALARM: "name" in US East (N. Virginia)`.
    pub subject: String,
    /// Message: the alarm JSON as text.
    pub message: String,
}

/// Everything a replay produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Replay {
    /// One point per evaluation (its newest window).
    pub series: Vec<MetricPoint>,
    /// State changes in time order (the initial INSUFFICIENT_DATA is implicit).
    pub history: Vec<StateChange>,
    /// Notifications in time order.
    pub notifications: Vec<SnsNotification>,
}

impl Replay {
    /// How many times the alarm entered ALARM.
    pub fn alarm_count(&self) -> usize {
        self.history
            .iter()
            .filter(|c| c.new == AlarmState::Alarm)
            .count()
    }
}

/// Classification of one window (§3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowClass {
    /// No samples.
    Missing,
    /// Real, not breaching.
    Ok,
    /// Real, breaching.
    Breaching,
}

/// One fetched window at an evaluation.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Window {
    start: i64,
    value: Option<f64>,
    count: u64,
    class: WindowClass,
}

/// The outcome of the §3.4 decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// New state, `None` = keep the current one.
    pub state: Option<AlarmState>,
    /// Indices (newest first) of the real windows that were evaluated.
    pub evaluated: Vec<usize>,
    /// How many missing points were filled by treat_missing_data.
    pub filled: usize,
}

/// The §3.4 algorithm; `v` is newest first, `v.len()` = R ≥ N.
pub fn decide(
    v: &[WindowClass],
    n: usize,
    m: usize,
    treat: TreatMissing,
    premature_requires_all_breaching: bool,
) -> Decision {
    use AlarmState::*;
    let breach = |idx: &[usize]| {
        idx.iter()
            .filter(|&&i| v[i] == WindowClass::Breaching)
            .count()
    };
    let verdict = |b: usize| if b >= m { Alarm } else { Ok };
    let real: Vec<usize> = (0..v.len())
        .filter(|&i| v[i] != WindowClass::Missing)
        .collect();
    let newest_n = n.min(v.len());
    if v[..newest_n].iter().all(|c| *c != WindowClass::Missing) && newest_n == n {
        let idx: Vec<usize> = (0..n).collect();
        return Decision {
            state: Some(verdict(breach(&idx))),
            evaluated: idx,
            filled: 0,
        };
    }
    if real.len() >= n {
        let idx = real[..n].to_vec();
        return Decision {
            state: Some(verdict(breach(&idx))),
            evaluated: idx,
            filled: 0,
        };
    }
    let fill = n - real.len();
    let b = breach(&real);
    let state = match treat {
        TreatMissing::Breaching => Some(verdict(b + fill)),
        TreatMissing::NotBreaching => Some(verdict(b)),
        _ if real.is_empty() && treat == TreatMissing::Missing => Some(InsufficientData),
        _ if real.is_empty() => None,
        _ if b >= m => Some(Alarm),
        _ if premature(v, n, m, premature_requires_all_breaching) => {
            (treat == TreatMissing::Missing).then_some(Alarm)
        }
        _ => Some(Ok),
    };
    let filled = if matches!(treat, TreatMissing::Breaching | TreatMissing::NotBreaching) {
        fill
    } else {
        0
    };
    Decision {
        state,
        evaluated: real,
        filled,
    }
}

/// AWS's "avoid premature transitions" rule (§3.4).
fn premature(v: &[WindowClass], n: usize, m: usize, all_breaching: bool) -> bool {
    if all_breaching && v.contains(&WindowClass::Ok) {
        return false;
    }
    let Some(j) = v[..n.min(v.len())]
        .iter()
        .rposition(|c| *c == WindowClass::Breaching)
    else {
        return false;
    };
    j + 1 >= m && v[..j].iter().all(|c| *c != WindowClass::Ok)
}

/// Per-minute aggregates of the samples.
#[derive(Debug, Default, Clone)]
struct Agg {
    count: u64,
    sum: f64,
    min: f64,
    max: f64,
    values: Vec<f64>,
    /// The first and last sample second.
    first: i64,
    last: i64,
}

impl Agg {
    fn add(&mut self, second: i64, v: f64, keep: bool) {
        self.add_repeated(second, second, v, 1, keep);
    }

    /// `n` samples of `v`, the first at `first` and the last at `last`.
    fn add_repeated(&mut self, first: i64, last: i64, v: f64, n: u64, keep: bool) {
        if n == 0 {
            return;
        }
        if self.count == 0 {
            (self.min, self.max, self.first, self.last) = (v, v, first, last);
        } else {
            self.min = self.min.min(v);
            self.max = self.max.max(v);
            self.first = self.first.min(first);
            self.last = self.last.max(last);
        }
        self.count += n;
        self.sum += if n == 1 { v } else { v * n as f64 };
        if keep {
            self.values.extend(std::iter::repeat_n(v, n as usize));
        }
    }

    fn merge(&mut self, o: &Agg, keep: bool) {
        if o.count == 0 {
            return;
        }
        if self.count == 0 {
            (self.min, self.max, self.first, self.last) = (o.min, o.max, o.first, o.last);
        } else {
            self.min = self.min.min(o.min);
            self.max = self.max.max(o.max);
            self.first = self.first.min(o.first);
            self.last = self.last.max(o.last);
        }
        self.count += o.count;
        self.sum += o.sum;
        if keep {
            self.values.extend_from_slice(&o.values);
        }
    }

    fn stat(&mut self, s: Statistic) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        Some(match s {
            Statistic::SampleCount => self.count as f64,
            Statistic::Sum => self.sum,
            Statistic::Average => self.sum / self.count as f64,
            Statistic::Minimum => self.min,
            Statistic::Maximum => self.max,
            Statistic::Percentile(p) => {
                if self.values.is_empty() || self.values.iter().any(|v| *v < 0.0) {
                    return None;
                }
                self.values.sort_by(f64::total_cmp);
                let rank = ((p / 100.0) * self.values.len() as f64).ceil() as usize;
                self.values[rank.clamp(1, self.values.len()) - 1]
            }
        })
    }
}

fn minute_of(t: Timestamp) -> i64 {
    t.as_second().div_euclid(60) * 60
}

/// A metric's samples folded per minute: all a replay reads of them. A
/// replay over a year keeps one entry per minute with data, however many
/// events there were.
#[derive(Debug, Clone, Default)]
pub struct MinuteSeries {
    buckets: BTreeMap<i64, Agg>,
    /// Sample values are kept for percentiles.
    keep_values: bool,
}

impl MinuteSeries {
    /// An empty series for `cfg`'s statistic.
    pub fn for_alarm(cfg: &AlarmConfig) -> Self {
        MinuteSeries {
            buckets: BTreeMap::new(),
            keep_values: matches!(cfg.statistic, Statistic::Percentile(_)),
        }
    }

    /// The samples, folded.
    pub fn from_samples(samples: &[Sample], cfg: &AlarmConfig) -> Self {
        let mut series = MinuteSeries::for_alarm(cfg);
        for s in samples {
            let second = s.timestamp.as_second();
            series
                .buckets
                .entry(second.div_euclid(60) * 60)
                .or_default()
                .add(second, s.value, series.keep_values);
        }
        series
    }

    /// `n` samples of `value` in one minute, the first at second `first` and
    /// the last at `last`.
    pub fn add(&mut self, first: i64, last: i64, value: f64, n: u64) {
        if n == 0 {
            return;
        }
        self.buckets
            .entry(first.div_euclid(60) * 60)
            .or_default()
            .add_repeated(first, last, value, n, self.keep_values);
    }

    /// Whether there is no sample.
    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }

    /// The first and last sample seconds.
    pub fn span(&self) -> Option<(i64, i64)> {
        let first = self.buckets.values().next()?.first;
        let last = self.buckets.values().next_back()?.last;
        Some((first, last))
    }

    /// The runs of samples in which no two neighbours are more than `gap`
    /// seconds apart, as their first and last sample seconds.
    pub fn clusters(&self, gap: i64) -> Vec<(i64, i64)> {
        let mut out: Vec<(i64, i64)> = Vec::new();
        for a in self.buckets.values() {
            match out.last_mut() {
                Some(run) if a.first - run.1 <= gap => run.1 = a.last,
                _ => out.push((a.first, a.last)),
            }
        }
        out
    }
}

fn ts(secs: i64) -> Option<Timestamp> {
    Timestamp::from_second(secs).ok()
}

/// Too few samples for a percentile (§3.1 EvaluateLowSampleCountPercentile).
fn too_few(s: Statistic, count: u64) -> bool {
    let Statistic::Percentile(p) = s else {
        return false;
    };
    let q = p / 100.0;
    let need = if (0.5..1.0).contains(&q) {
        10.0 / (1.0 - q)
    } else if q > 0.0 && q < 0.5 {
        10.0 / q
    } else {
        0.0
    };
    (count as f64) < need
}

struct Evaluator<'c> {
    cfg: &'c AlarmConfig,
    buckets: &'c BTreeMap<i64, Agg>,
    r: usize,
    knobs: ReplayKnobs,
}

impl Evaluator<'_> {
    fn window(&self, start: i64, end: i64) -> Window {
        let keep = matches!(self.cfg.statistic, Statistic::Percentile(_));
        let mut agg = Agg::default();
        let sub_minute = self.cfg.period_secs < 60;
        if !(sub_minute && self.knobs.sub_minute_periods == SubMinuteMode::AllMissing) {
            for (_, a) in self.buckets.range(start..end) {
                agg.merge(a, keep);
            }
        }
        let value = agg.stat(self.cfg.statistic);
        let class = match value {
            None => WindowClass::Missing,
            Some(x) if self.cfg.comparison.breaches(x, self.cfg.threshold) => {
                WindowClass::Breaching
            }
            Some(_) => WindowClass::Ok,
        };
        Window {
            start,
            value,
            count: agg.count,
            class,
        }
    }

    /// The R windows for an evaluation whose minute boundary is `e`, newest first.
    fn windows(&self, e: i64) -> Vec<Window> {
        let p = i64::from(self.cfg.period_secs.max(60));
        (1..=self.r as i64)
            .map(|k| self.window(e - k * p, e - (k - 1) * p))
            .collect()
    }
}

/// Replay the alarm over `opts.start..=opts.end`, evaluating every minute.
pub fn replay(
    samples: &[Sample],
    cfg: &AlarmConfig,
    opts: &ReplayOptions,
) -> Result<Replay, AlarmError> {
    replay_series(&MinuteSeries::from_samples(samples, cfg), cfg, opts)
}

/// [`replay`] over samples already folded per minute.
pub fn replay_series(
    series: &MinuteSeries,
    cfg: &AlarmConfig,
    opts: &ReplayOptions,
) -> Result<Replay, AlarmError> {
    cfg.validate()?;
    if opts.end < opts.start {
        return Err(AlarmError::Window);
    }
    let n = cfg.evaluation_periods as usize;
    let r = opts
        .knobs
        .evaluation_range
        .map_or(n + 2, |r| r as usize)
        .max(n);
    let ev = Evaluator {
        cfg,
        buckets: &series.buckets,
        r,
        knobs: opts.knobs,
    };
    let first = (opts.start.as_second() + 59).div_euclid(60) * 60;
    let last = opts.end.as_second();
    let mut out = Replay {
        series: Vec::new(),
        history: Vec::new(),
        notifications: Vec::new(),
    };
    let mut state = AlarmState::InsufficientData;
    let mut e = first;
    while e <= last {
        let wins = ev.windows(e);
        let w0 = wins[0];
        out.series.extend(ts(w0.start).map(|start| MetricPoint {
            start,
            value: w0.value,
            sample_count: w0.count,
        }));
        let frozen = cfg.low_sample_count == LowSampleCount::Ignore
            && wins[..n]
                .iter()
                .any(|w| w.count > 0 && too_few(cfg.statistic, w.count));
        let classes: Vec<WindowClass> = wins.iter().map(|w| w.class).collect();
        let d = decide(
            &classes,
            n,
            cfg.m() as usize,
            cfg.treat_missing_data,
            opts.knobs.premature_requires_all_breaching,
        );
        if let (false, Some(new)) = (frozen, d.state) {
            if new != state {
                let view = wins_view(&wins);
                if let Some(change) =
                    message::state_change(cfg, &opts.knobs, e, state, new, &view, &d)
                {
                    if cfg.actions_enabled && cfg.notify.wants(new) {
                        out.notifications
                            .extend(message::notification(cfg, &change, opts.start));
                    }
                    out.history.push(change);
                }
                state = new;
            }
        }
        e += 60;
    }
    Ok(out)
}

fn wins_view(w: &[Window]) -> Vec<message::WindowView> {
    w.iter()
        .map(|w| message::WindowView {
            start: w.start,
            value: w.value,
            count: w.count,
            class: w.class,
        })
        .collect()
}

/// Say why the alarm never fired (or how often it did), re-running the
/// replay with the other simple statistics.
pub fn explain(
    samples: &[Sample],
    cfg: &AlarmConfig,
    opts: &ReplayOptions,
) -> Result<String, AlarmError> {
    explain_series(&MinuteSeries::from_samples(samples, cfg), cfg, opts)
}

/// [`explain`] over samples already folded per minute.
pub fn explain_series(
    series: &MinuteSeries,
    cfg: &AlarmConfig,
    opts: &ReplayOptions,
) -> Result<String, AlarmError> {
    let run = replay_series(series, cfg, opts)?;
    let fired = run.alarm_count();
    if fired > 0 {
        return Ok(format!(
            "with {}, the alarm entered ALARM {}",
            cfg.statistic,
            times(fired)
        ));
    }
    let greater = cfg.comparison.is_greater();
    let values = run.series.iter().filter_map(|p| p.value);
    let extreme = if greater {
        values.reduce(f64::max)
    } else {
        values.reduce(f64::min)
    };
    let mut text =
        match extreme {
            None => format!("with {}, no period had any data points", cfg.statistic),
            Some(x) if cfg.comparison.breaches(x, cfg.threshold) => format!(
            "with {}, a period reached {} but never {} of {} evaluated periods breached together",
            cfg.statistic, short(x), cfg.m(), cfg.evaluation_periods
        ),
            Some(x) => {
                let (word, rel) = match cfg.comparison {
                    Comparison::GreaterThanOrEqualToThreshold => ("largest", "<"),
                    Comparison::GreaterThanThreshold => ("largest", "<="),
                    Comparison::LessThanThreshold => ("smallest", ">="),
                    Comparison::LessThanOrEqualToThreshold => ("smallest", ">"),
                };
                format!(
                    "with {}, the {word} value in any period was {} {rel} {}",
                    cfg.statistic,
                    short(x),
                    short(cfg.threshold)
                )
            }
        };
    let mut others = Vec::new();
    for s in Statistic::SIMPLE
        .into_iter()
        .filter(|s| *s != cfg.statistic)
    {
        let alt = AlarmConfig {
            statistic: s,
            ..cfg.clone()
        };
        let k = replay_series(series, &alt, opts)?.alarm_count();
        if k > 0 {
            others.push(format!("{s} would have fired {}", times(k)));
        }
    }
    if others.is_empty() {
        text.push_str("; no other statistic would have fired either");
    } else {
        text.push_str("; ");
        text.push_str(&others.join(", "));
    }
    Ok(text)
}

fn times(k: usize) -> String {
    if k == 1 {
        "1 time".into()
    } else {
        format!("{k} times")
    }
}

/// Human number: up to 4 decimals, trailing zeros trimmed.
fn short(x: f64) -> String {
    let s = format!("{x:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}
