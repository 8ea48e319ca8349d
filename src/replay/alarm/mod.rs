//! Metric filter → metric → alarm → SNS replay (`cloudwatch-semantics.md`
//! §2, §3, §4, §6). Owns sample emission, per-period statistics, the
//! minute-by-minute evaluation schedule, the §3.4 state decision, history
//! and SNS message rendering. It never matches patterns (`crate::replay::pattern`)
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

mod config;
mod eval;
mod history;
mod message;
mod metric;
#[cfg(test)]
mod tests;

pub use config::*;
pub use eval::{
    decide, explain, explain_series, replay, replay_series, Decision, MinuteSeries, WindowClass,
};
pub use history::*;
pub use message::{java_double, region_display_name};
pub use metric::*;
