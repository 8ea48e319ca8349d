//! Rendering of alarm history and SNS payloads in CloudWatch's wording
//! (§3.7): reason strings, reason data JSON, the SNS alarm message, Java
//! double formatting and region display names. Decides nothing.

use jiff::Timestamp;
use serde_json::{json, Value};

use super::{
    AlarmConfig, AlarmState, Decision, LowSampleCount, OkMinimum, ReplayKnobs, SnsNotification,
    StateChange, Statistic, TreatMissing, WindowClass,
};

/// A fetched window, as needed for messages.
#[derive(Debug, Clone, Copy)]
pub(super) struct WindowView {
    pub start: i64,
    pub value: Option<f64>,
    pub count: u64,
    pub class: WindowClass,
}

/// Format like Java's `Double.toString` (`1.0`, `0.02`, `1.0E7`).
pub fn java_double(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    if x == 0.0 {
        return if x.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    if (1e-3..1e7).contains(&x.abs()) {
        let s = format!("{x:?}");
        return if s.contains('.') { s } else { format!("{s}.0") };
    }
    let s = format!("{x:e}");
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let mant = if mant.contains('.') {
        mant.to_string()
    } else {
        format!("{mant}.0")
    };
    format!("{mant}E{exp}")
}

/// Region display name used in SNS Subject and `Region` [OBS/INF].
pub fn region_display_name(code: &str) -> String {
    const NAMES: &[(&str, &str)] = &[
        ("us-east-1", "US East (N. Virginia)"),
        ("us-east-2", "US East (Ohio)"),
        ("us-west-1", "US West (N. California)"),
        ("us-west-2", "US West (Oregon)"),
        ("ca-central-1", "Canada (Central)"),
        ("sa-east-1", "South America (Sao Paulo)"),
        ("eu-west-1", "EU (Ireland)"),
        ("eu-west-2", "EU (London)"),
        ("eu-west-3", "EU (Paris)"),
        ("eu-central-1", "EU (Frankfurt)"),
        ("eu-north-1", "EU (Stockholm)"),
        ("ap-south-1", "Asia Pacific (Mumbai)"),
        ("ap-northeast-1", "Asia Pacific (Tokyo)"),
        ("ap-northeast-2", "Asia Pacific (Seoul)"),
        ("ap-southeast-1", "Asia Pacific (Singapore)"),
        ("ap-southeast-2", "Asia Pacific (Sydney)"),
    ];
    NAMES
        .iter()
        .find(|(c, _)| *c == code)
        .map_or_else(|| code.to_string(), |(_, n)| n.to_string())
}

/// `2024-07-16T13:14:42.817+0000`.
fn aws_time(t: Timestamp) -> String {
    let ms = t.as_millisecond().rem_euclid(1000);
    format!("{}.{ms:03}+0000", t.strftime("%Y-%m-%dT%H:%M:%S"))
}

fn aws_secs(secs: i64) -> String {
    Timestamp::from_second(secs)
        .map(aws_time)
        .unwrap_or_default()
}

/// `01/10/19 13:46:00` (day/month/2-digit year, UTC).
fn reason_time(secs: i64) -> String {
    Timestamp::from_second(secs)
        .map(|t| t.strftime("%d/%m/%y %H:%M:%S").to_string())
        .unwrap_or_default()
}

fn plural(k: usize, one: &str, many: &str) -> String {
    format!("{k} {}", if k == 1 { one } else { many })
}

/// Build the history item for a transition at evaluation minute `e`.
pub(super) fn state_change(
    cfg: &AlarmConfig,
    knobs: &ReplayKnobs,
    e: i64,
    old: AlarmState,
    new: AlarmState,
    wins: &[WindowView],
    d: &Decision,
) -> Option<StateChange> {
    let n = cfg.evaluation_periods as usize;
    let (reason, listed) = reason(cfg, knobs, new, wins, d);
    let recent: Vec<f64> = wins[..n].iter().rev().filter_map(|w| w.value).collect();
    let evaluated: Vec<Value> = listed
        .iter()
        .map(|&i| {
            let w = wins[i];
            match (new, w.value) {
                (AlarmState::InsufficientData, _) | (_, None) => json!({"timestamp": aws_secs(w.start)}),
                (_, Some(v)) => json!({"timestamp": aws_secs(w.start), "sampleCount": w.count as f64, "value": v}),
            }
        })
        .collect();
    let data = json!({
        "version": "1.0",
        "queryDate": aws_secs(e),
        "startDate": aws_secs(wins[n - 1].start),
        "statistic": cfg.statistic.to_string(),
        "period": cfg.period_secs,
        "recentDatapoints": recent,
        "threshold": cfg.threshold,
        "evaluatedDatapoints": evaluated,
    });
    Some(StateChange {
        time: Timestamp::from_second(e).ok()?,
        old,
        new,
        reason,
        reason_data: data.to_string(),
    })
}

/// The reason text and the window indices it lists (newest first).
fn reason(
    cfg: &AlarmConfig,
    knobs: &ReplayKnobs,
    new: AlarmState,
    wins: &[WindowView],
    d: &Decision,
) -> (String, Vec<usize>) {
    let n = cfg.evaluation_periods as usize;
    let m = cfg.m() as usize;
    let want = match new {
        AlarmState::InsufficientData => {
            let verb = if n == 1 {
                "datapoint was"
            } else {
                "datapoints were"
            };
            return (
                format!("Insufficient Data: {n} {verb} unknown."),
                (0..n).collect(),
            );
        }
        AlarmState::Alarm => WindowClass::Breaching,
        AlarmState::Ok => WindowClass::Ok,
    };
    if d.evaluated.is_empty() {
        let how = if cfg.treat_missing_data == TreatMissing::Breaching {
            "Breaching"
        } else {
            "NonBreaching"
        };
        let verb = if n == 1 { "was" } else { "were" };
        let text = format!(
            "Threshold Crossed: no datapoints were received for {} and {} {verb} treated as [{how}].",
            plural(n, "period", "periods"),
            plural(n, "missing datapoint", "missing datapoints"),
        );
        return (text, Vec::new());
    }
    let qualifying: Vec<usize> = d
        .evaluated
        .iter()
        .copied()
        .filter(|&i| wins[i].class == want)
        .collect();
    let minimum = match (new, knobs.ok_reason_minimum) {
        (AlarmState::Alarm, _) => m,
        (_, OkMinimum::NMinusMPlusOne) => n - m + 1,
        (_, OkMinimum::One) => 1,
    };
    let listed: Vec<usize> = qualifying.iter().copied().take(minimum).collect();
    let filled_same = match (cfg.treat_missing_data, new) {
        (TreatMissing::Breaching, AlarmState::Alarm)
        | (TreatMissing::NotBreaching, AlarmState::Ok) => d.filled,
        _ => 0,
    };
    let k = qualifying.len() + filled_same;
    let points: Vec<String> = listed
        .iter()
        .map(|&i| {
            format!(
                "{} ({})",
                java_double(wins[i].value.unwrap_or(0.0)),
                reason_time(wins[i].start)
            )
        })
        .collect();
    let not = if new == AlarmState::Ok { "not " } else { "" };
    let tail = format!(
        "{not}{} the threshold ({})",
        cfg.comparison.words(),
        java_double(cfg.threshold)
    );
    let text = if cfg.datapoints_to_alarm.is_some() {
        let arrow = if new == AlarmState::Alarm {
            "OK -> ALARM"
        } else {
            "ALARM -> OK"
        };
        format!(
            "Threshold Crossed: {k} out of the last {n} datapoints [{}] {} {tail} (minimum {} for {arrow} transition).",
            points.join(", "),
            if k == 1 { "was" } else { "were" },
            plural(minimum, "datapoint", "datapoints"),
        )
    } else {
        format!(
            "Threshold Crossed: {} [{}] {} {tail}.",
            plural(listed.len(), "datapoint", "datapoints"),
            points.join(", "),
            if listed.len() == 1 { "was" } else { "were" },
        )
    };
    (text, listed)
}

/// The SNS publish for a transition (caller checked that actions apply).
pub(super) fn notification(
    cfg: &AlarmConfig,
    c: &StateChange,
    created: Timestamp,
) -> Option<SnsNotification> {
    let topic = cfg.sns_topic_arn.clone()?;
    let region = region_display_name(&cfg.region);
    let actions = |on: bool| if on { vec![topic.clone()] } else { Vec::new() };
    let msg = json!({
        "AlarmName": cfg.name,
        "AlarmDescription": cfg.description,
        "AWSAccountId": cfg.account_id,
        "AlarmConfigurationUpdatedTimestamp": aws_time(created),
        "NewStateValue": c.new.to_string(),
        "NewStateReason": c.reason,
        "StateChangeTime": aws_time(c.time),
        "Region": region,
        "AlarmArn": format!("arn:aws:cloudwatch:{}:{}:alarm:{}", cfg.region, cfg.account_id, cfg.name),
        "OldStateValue": c.old.to_string(),
        "OKActions": actions(cfg.notify.ok),
        "AlarmActions": actions(cfg.notify.alarm),
        "InsufficientDataActions": actions(cfg.notify.insufficient_data),
        "Trigger": trigger(cfg),
    });
    Some(SnsNotification {
        time: c.time,
        topic_arn: topic,
        subject: format!("{}: \"{}\" in {region}", c.new, cfg.name),
        message: msg.to_string(),
    })
}

/// The `Trigger` object of the SNS alarm message.
fn trigger(cfg: &AlarmConfig) -> Value {
    let (stat_type, stat_key, stat) = match cfg.statistic {
        Statistic::SampleCount => ("Statistic", "Statistic", "SAMPLE_COUNT".to_string()),
        Statistic::Sum => ("Statistic", "Statistic", "SUM".into()),
        Statistic::Average => ("Statistic", "Statistic", "AVERAGE".into()),
        Statistic::Minimum => ("Statistic", "Statistic", "MINIMUM".into()),
        Statistic::Maximum => ("Statistic", "Statistic", "MAXIMUM".into()),
        Statistic::Percentile(_) => (
            "ExtendedStatistic",
            "ExtendedStatistic",
            cfg.statistic.to_string(),
        ),
    };
    let low = match (cfg.statistic, cfg.low_sample_count) {
        (Statistic::Percentile(_), LowSampleCount::Evaluate) => "evaluate",
        (Statistic::Percentile(_), LowSampleCount::Ignore) => "ignore",
        _ => "",
    };
    let mut trigger = serde_json::Map::new();
    trigger.insert("MetricName".into(), json!(cfg.metric_name));
    trigger.insert("Namespace".into(), json!(cfg.namespace));
    trigger.insert("StatisticType".into(), json!(stat_type));
    trigger.insert(stat_key.into(), json!(stat));
    trigger.insert("Unit".into(), Value::Null);
    trigger.insert("Dimensions".into(), json!([]));
    trigger.insert("Period".into(), json!(cfg.period_secs));
    trigger.insert("EvaluationPeriods".into(), json!(cfg.evaluation_periods));
    trigger.insert("DatapointsToAlarm".into(), json!(cfg.m()));
    trigger.insert(
        "ComparisonOperator".into(),
        json!(cfg.comparison.to_string()),
    );
    trigger.insert("Threshold".into(), json!(cfg.threshold));
    trigger.insert(
        "TreatMissingData".into(),
        json!(cfg.treat_missing_data.api_name()),
    );
    trigger.insert("EvaluateLowSampleCountPercentile".into(), json!(low));
    Value::Object(trigger)
}
