//! Rule packs: the CIS AWS Foundations 4.1–4.15 metric filters (and 4.1 as intended) as data
//! ([`cis`]), a JSON user-rules format ([`user`]), and [`RuleSet`]
//! ([`set`]), which compiles every pattern once and evaluates all rules
//! against one record with the byte prefilter and a single shared JSON parse.
//! It owns no alarm logic (`crate::replay::alarm`) and no pattern semantics
//! (`crate::replay::pattern`).

pub mod cis;
pub mod set;
#[cfg(test)]
mod tests;
pub mod user;

pub use cis::cis_rules;
pub use set::{RuleMatches, RuleSet, Verdict};
pub use user::{parse_rules_json, RulesError};

use crate::replay::alarm::{AlarmConfig, MetricTransform, MetricValue};
use crate::replay::pattern::{MetricField, Pattern};

/// One metric filter plus the alarm on its metric.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// Short id, e.g. `cis-4.3`.
    pub id: String,
    /// Human title.
    pub title: String,
    /// Filter pattern text.
    pub pattern: String,
    /// Metric name (CIS naming for the pack).
    pub metric_name: String,
    /// metricValue.
    pub metric_value: RuleValue,
    /// defaultValue.
    pub default_value: Option<f64>,
    /// Alarm settings (name/metric filled from the rule).
    pub alarm: AlarmConfig,
    /// What the rule's counts mean when the pattern does not do what its
    /// title says (CIS 4.1); printed as a footnote to the count.
    pub note: Option<String>,
}

impl Rule {
    /// The rule's metric transformation with \[INF\] knobs at their defaults.
    pub fn transform(&self) -> MetricTransform {
        match &self.metric_value {
            RuleValue::Number(v) => MetricTransform::new(*v, self.default_value),
            RuleValue::Field(_) => MetricTransform {
                metric_value: MetricValue::Field,
                ..MetricTransform::new(1.0, self.default_value)
            },
        }
    }
}

/// A rule's metricValue: a number, or a field of each matching event.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleValue {
    Number(f64),
    Field(MetricField),
}

impl RuleValue {
    /// Parses a metricValue as CloudWatch takes it: a finite number, or a
    /// field (`$.latency`, `$size`) that `pattern` selects.
    pub fn parse(text: &str, pattern: &str) -> Result<RuleValue, String> {
        if let Ok(v) = text.trim().parse::<f64>() {
            return if v.is_finite() {
                Ok(RuleValue::Number(v))
            } else {
                Err(format!(
                    "{text}: the metric value must be a finite number or a field"
                ))
            };
        }
        let pattern = Pattern::parse(pattern).map_err(|e| e.to_string())?;
        MetricField::parse(text.trim(), &pattern).map(RuleValue::Field)
    }
}

impl std::fmt::Display for RuleValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RuleValue::Number(v) => write!(f, "{v}"),
            RuleValue::Field(field) => f.write_str(field.as_str()),
        }
    }
}
