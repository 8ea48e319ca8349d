//! An alarm's configuration as CloudWatch takes it (§3.1): statistic,
//! comparison, missing-data treatment, notification actions, and the
//! \[INF\] knobs that fix what the documentation leaves open.

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;

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
    /// The five simple statistics, for [`explain`](super::explain).
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

    pub(super) fn is_greater(self) -> bool {
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
    pub(super) fn wants(self, s: AlarmState) -> bool {
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
