//! The JSON user-rules file (`--rules FILE`): its shape, its defaults and
//! its validation into [`Rule`]s.
//!
//! User rules file (JSON; either this object or a bare array of rules):
//! ```json
//! {"rules": [{"name": "secret-reads", "pattern": "{ $.eventName = GetSecretValue }",
//!   "metric_value": 1, "default_value": 0,
//!   "alarm": {"statistic": "Sum", "period": 300, "evaluation_periods": 1,
//!             "datapoints_to_alarm": 1, "threshold": 1,
//!             "comparison": "GreaterThanOrEqualToThreshold",
//!             "treat_missing_data": "missing"}}]}
//! ```
//! Every `alarm` field is optional and defaults to the CIS shape
//! (Sum ≥ 1 over 300 s, 1 period, missing). An optional `"note"` says what
//! the rule's count means when its pattern does not do what its name says;
//! it is printed as a footnote beside the count.

use serde::Deserialize;

use super::{Rule, RuleValue};
use crate::replay::alarm::{AlarmConfig, AlarmError, Comparison, Statistic, TreatMissing};
use crate::replay::pattern::{Pattern, PatternError};

/// A rules file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    /// Not valid JSON or wrong shape.
    #[error("rules file: {0}")]
    Json(#[from] serde_json::Error),
    /// A pattern did not parse.
    #[error("rule {rule:?}: {source}")]
    Pattern {
        /// Rule name.
        rule: String,
        /// The parse error.
        source: PatternError,
    },
    /// Alarm settings are invalid.
    #[error("rule {rule:?}: {source}")]
    Alarm {
        /// Rule name.
        rule: String,
        /// The validation error.
        source: AlarmError,
    },
    /// metricValue is neither a number nor a field the pattern selects.
    #[error("rule {rule:?}: metric_value {message}")]
    MetricValue {
        /// Rule name.
        rule: String,
        /// What is wrong.
        message: String,
    },
    /// Two rules share a name.
    #[error("duplicate rule name {0:?}")]
    Duplicate(String),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum FileShape {
    Wrapped { rules: Vec<RawRule> },
    Bare(Vec<RawRule>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    name: String,
    #[serde(default)]
    title: Option<String>,
    pattern: String,
    #[serde(default = "one")]
    metric_value: RawValue,
    #[serde(default)]
    default_value: Option<f64>,
    #[serde(default)]
    alarm: RawAlarm,
    #[serde(default)]
    note: Option<String>,
}

/// metricValue in a rules file: `1` or `"$.latency"`.
#[derive(Deserialize)]
#[serde(untagged)]
enum RawValue {
    Number(f64),
    Text(String),
}

fn one() -> RawValue {
    RawValue::Number(1.0)
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawAlarm {
    statistic: Option<String>,
    period: Option<u32>,
    evaluation_periods: Option<u32>,
    datapoints_to_alarm: Option<u32>,
    threshold: Option<f64>,
    comparison: Option<String>,
    treat_missing_data: Option<String>,
    sns_topic_arn: Option<String>,
}

/// Parse a JSON user rules file; patterns and alarms are validated.
pub fn parse_rules_json(text: &str) -> Result<Vec<Rule>, RulesError> {
    let raw = match serde_json::from_str::<FileShape>(text)? {
        FileShape::Wrapped { rules } | FileShape::Bare(rules) => rules,
    };
    let mut out: Vec<Rule> = Vec::with_capacity(raw.len());
    for r in raw {
        if out.iter().any(|o| o.id == r.name) {
            return Err(RulesError::Duplicate(r.name));
        }
        Pattern::parse(&r.pattern).map_err(|source| RulesError::Pattern {
            rule: r.name.clone(),
            source,
        })?;
        let alarm = raw_alarm(&r).map_err(|source| RulesError::Alarm {
            rule: r.name.clone(),
            source,
        })?;
        let metric_value = match &r.metric_value {
            // JSON numbers are always finite.
            RawValue::Number(v) => Ok(RuleValue::Number(*v)),
            RawValue::Text(t) => RuleValue::parse(t, &r.pattern),
        }
        .map_err(|e| RulesError::MetricValue {
            rule: r.name.clone(),
            message: e,
        })?;
        out.push(Rule {
            title: r.title.clone().unwrap_or_else(|| r.name.clone()),
            metric_name: r.name.clone(),
            id: r.name,
            pattern: r.pattern,
            metric_value,
            default_value: r.default_value,
            alarm,
            note: r.note,
        });
    }
    Ok(out)
}

fn raw_alarm(r: &RawRule) -> Result<AlarmConfig, AlarmError> {
    let a = &r.alarm;
    let mut c = AlarmConfig::cis(&r.name, &r.name);
    if let Some(s) = &a.statistic {
        c.statistic = s.parse::<Statistic>()?;
    }
    if let Some(s) = &a.comparison {
        c.comparison = s.parse::<Comparison>()?;
    }
    if let Some(s) = &a.treat_missing_data {
        c.treat_missing_data = s.parse::<TreatMissing>()?;
    }
    c.period_secs = a.period.unwrap_or(c.period_secs);
    c.evaluation_periods = a.evaluation_periods.unwrap_or(c.evaluation_periods);
    c.datapoints_to_alarm = a.datapoints_to_alarm;
    c.threshold = a.threshold.unwrap_or(c.threshold);
    c.sns_topic_arn = a.sns_topic_arn.clone();
    c.validate()?;
    Ok(c)
}
