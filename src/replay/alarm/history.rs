//! What a replay produces: the metric as the alarm saw it, the state
//! history, and the SNS notifications it would have sent.

use jiff::Timestamp;

use super::*;

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
