//! `ctscan alarm`: replays metric filters and their CloudWatch alarms over
//! the logs in one pass, and shows the metric, the state history, the SNS
//! messages the alarm would have sent and CloudTrail's own SNS count.
//!
//! One [`RecordVisitor`] holds the [`RuleSet`] (a single `--pattern` is a
//! one-rule set): `wants` runs the rules' byte prefilters, `visit` parses a
//! candidate once and matches every rule against that parse. When a rule has
//! a default value, the times of non-matching records are needed too; they
//! are read from the raw bytes (the first `"eventTime"` key's string value,
//! which CloudTrail writes before any nested object that could hold another)
//! without parsing the record.

use std::io::Write;

use anyhow::Result;
use jiff::Timestamp;
use serde_json::{json, Value};

use crate::alarm::{
    explain, replay, AlarmConfig, AlarmState, DefaultMode, EventOutcome, Replay, ReplayKnobs,
    ReplayOptions, Sample, SnsNotification, TreatMissing,
};
use crate::cli::{ClockArg, DefaultModeArg};
use crate::commands::events::compact_json;
use crate::commands::scan_sources::{scan_sources_with, Scanned};
use crate::config::{AlarmCommandConfig, ScanConfig};
use crate::error::ExitStatus;
use crate::export::{write_csv, write_json_atomically, write_parquet};
use crate::report::{Column, Table};
use crate::rules::{Rule, RuleMatches, RuleSet, Verdict};
use crate::sanitize::terminal;
use crate::scan::RecordVisitor;
use crate::terminal::print_table;
use crate::window::{key_time, TimeWindow};

/// Records larger than this are never sent to CloudWatch Logs (§1.8).
pub const MAX_CWL_EVENT_BYTES: usize = 256 * 1024;

/// One record the replay keeps: its sample time and the rules it matched
/// (empty for a non-matching record kept only for default values).
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// Sample timestamp, seconds since the epoch.
    pub time: i64,
    /// eventTime, seconds (for first/last match).
    pub event_time: i64,
    pub rules: RuleMatches,
    /// Field values for matched rules whose metricValue is a field.
    pub values: Option<Box<[(u32, f64)]>>,
}

impl Hit {
    fn value(&self, rule: usize) -> Option<f64> {
        self.values
            .as_ref()?
            .iter()
            .find(|(r, _)| *r as usize == rule)
            .map(|(_, v)| *v)
    }
}

/// Per-worker results.
#[derive(Debug, Default)]
pub struct AlarmHits {
    pub hits: Vec<Hit>,
    staged: Vec<Hit>,
    /// Log objects read in the window: CloudTrail's direct SNS messages (§4).
    pub log_files: u64,
}

/// Matches every record against the rules.
pub struct AlarmVisitor<'a> {
    pub set: &'a RuleSet,
    pub window: TimeWindow,
    pub clock: ClockArg,
    /// Keep the times of non-matching records (some rule has a default value).
    pub keep_all: bool,
}

impl AlarmVisitor<'_> {
    fn sample_time(&self, key: &str, event_time: i64) -> i64 {
        match self.clock {
            ClockArg::EventTime => event_time,
            ClockArg::Delivery => key_time(key).map_or(event_time, |k| k.start.as_second()),
        }
    }
}

impl RecordVisitor for AlarmVisitor<'_> {
    type State = AlarmHits;

    fn new_state(&self) -> AlarmHits {
        AlarmHits::default()
    }

    /// Every record: [`RuleSet::judge`] runs the prefilter itself, once.
    fn wants(&self, _raw: &[u8]) -> bool {
        true
    }

    fn visit(&self, state: &mut AlarmHits, key: &str, _index: usize, raw: &[u8]) {
        if raw.len() > MAX_CWL_EVENT_BYTES && compact_json(raw).len() > MAX_CWL_EVENT_BYTES {
            return;
        }
        let Verdict {
            rules,
            time,
            values,
        } = self.set.judge(raw, self.keep_all);
        if rules.is_empty() && !self.keep_all {
            return;
        }
        let Some(t) = time.filter(|t| self.window.contains(*t)) else {
            return;
        };
        let event_time = t.as_second();
        state.staged.push(Hit {
            time: self.sample_time(key, event_time),
            event_time,
            rules,
            values,
        });
    }

    fn end_object(&self, state: &mut AlarmHits, key: &str, ok: bool) {
        if ok {
            state.hits.append(&mut state.staged);
            let delivered = key_time(key).is_none_or(|k| self.window.contains(k.start));
            state.log_files += u64::from(delivered);
        }
        state.staged.clear();
    }

    fn merge(&self, mut a: AlarmHits, mut b: AlarmHits) -> AlarmHits {
        a.hits.append(&mut b.hits);
        a.log_files += b.log_files;
        a
    }
}

/// One rule's replay and what the summary shows of it.
pub struct RuleOutcome<'r> {
    pub rule: &'r Rule,
    pub matches: u64,
    pub first_match: Option<i64>,
    pub last_match: Option<i64>,
    pub replay: Replay,
    pub explanation: Option<String>,
}

impl RuleOutcome<'_> {
    /// How many times the alarm entered ALARM.
    pub fn alarms(&self) -> usize {
        self.replay.alarm_count()
    }
}

/// Samples of rule `i` from the sorted hits.
fn samples_for(rule: &Rule, i: usize, hits: &[Hit], mode: DefaultModeArg) -> Vec<Sample> {
    let mut transform = rule.transform();
    transform.default_mode = match mode {
        DefaultModeArg::PerEvent => DefaultMode::PerEvent,
        DefaultModeArg::PerMinute => DefaultMode::PerMinuteWithoutMatch,
    };
    let outcomes: Vec<EventOutcome> = hits
        .iter()
        .filter(|h| rule.default_value.is_some() || h.rules.contains(i))
        .filter_map(|h| {
            Some(EventOutcome {
                timestamp: Timestamp::from_second(h.time).ok()?,
                matched: h.rules.contains(i),
                value: h.value(i),
            })
        })
        .collect();
    let mut samples = transform.samples(&outcomes);
    samples.sort_by_key(|s| s.timestamp);
    samples
}

/// Seconds after the last sample until every fetched window is empty again.
fn tail_secs(cfg: &AlarmConfig) -> i64 {
    let r = i64::from(cfg.evaluation_periods) + 2;
    (r + 1) * i64::from(cfg.period_secs.max(60)) + 60
}

fn floor_minute(t: i64) -> i64 {
    t.div_euclid(60) * 60
}

/// The replay range: `--since`/`--until` when given, else from the first
/// sample's minute to when the last sample has left every fetched window.
fn replay_range(samples: &[Sample], cfg: &AlarmConfig, window: &TimeWindow) -> Option<(i64, i64)> {
    let first = samples
        .first()
        .map(|s| floor_minute(s.timestamp.as_second()));
    let last = samples
        .last()
        .map(|s| s.timestamp.as_second() + tail_secs(cfg));
    let start = window.since.map(|t| t.as_second()).or(first)?;
    let end = window.until.map(|t| t.as_second() - 1).or(last)?;
    (end >= start).then_some((start, end))
}

fn options(start: i64, end: i64) -> Result<ReplayOptions> {
    Ok(ReplayOptions {
        start: Timestamp::from_second(start)?,
        end: Timestamp::from_second(end)?,
        knobs: ReplayKnobs::default(),
    })
}

/// Replays one alarm. With `treatMissingData = missing`, stretches without
/// samples longer than [`tail_secs`] always bring the alarm back to
/// INSUFFICIENT_DATA, so the replay is run per cluster of samples and
/// skips the empty minutes between them; the result is the same.
pub fn replay_segmented(
    samples: &[Sample],
    cfg: &AlarmConfig,
    window: &TimeWindow,
) -> Result<Replay> {
    let mut out = Replay {
        series: Vec::new(),
        history: Vec::new(),
        notifications: Vec::new(),
    };
    let Some((start, end)) = replay_range(samples, cfg, window) else {
        return Ok(out);
    };
    if cfg.treat_missing_data != TreatMissing::Missing || samples.is_empty() {
        return Ok(replay(samples, cfg, &options(start, end)?)?);
    }
    let tail = tail_secs(cfg);
    let mut from = 0;
    while from < samples.len() {
        let mut to = from + 1;
        while to < samples.len()
            && samples[to].timestamp.as_second() - samples[to - 1].timestamp.as_second() <= tail
        {
            to += 1;
        }
        let seg_start = floor_minute(samples[from].timestamp.as_second()).max(start);
        let seg_end = (samples[to - 1].timestamp.as_second() + tail).min(end);
        if seg_end >= seg_start {
            let part = replay(&samples[from..to], cfg, &options(seg_start, seg_end)?)?;
            out.series.extend(part.series);
            out.history.extend(part.history);
            out.notifications.extend(part.notifications);
        }
        from = to;
    }
    Ok(out)
}

/// Replays every rule of the config over the collected hits.
pub fn replay_rules<'r>(cfg: &'r AlarmCommandConfig, hits: &[Hit]) -> Result<Vec<RuleOutcome<'r>>> {
    let how = ReplayHow {
        window: cfg.scan.window,
        default_mode: cfg.default_mode,
        explain: cfg.explain,
    };
    replay_rule_list(&cfg.rules, &how, hits)
}

/// How rules are replayed, apart from the rules themselves.
#[derive(Debug, Clone, Copy)]
pub struct ReplayHow {
    pub window: TimeWindow,
    pub default_mode: DefaultModeArg,
    pub explain: bool,
}

/// Replays `rules` over the collected hits (sorted by sample time).
pub fn replay_rule_list<'r>(
    rules: &'r [Rule],
    how: &ReplayHow,
    hits: &[Hit],
) -> Result<Vec<RuleOutcome<'r>>> {
    rules
        .iter()
        .enumerate()
        .map(|(i, rule)| {
            let samples = samples_for(rule, i, hits, how.default_mode);
            let matched = hits.iter().filter(|h| h.rules.contains(i));
            let replay = replay_segmented(&samples, &rule.alarm, &how.window)?;
            let explanation = match (
                how.explain,
                replay_range(&samples, &rule.alarm, &how.window),
            ) {
                (true, Some((s, e))) => Some(explain(&samples, &rule.alarm, &options(s, e)?)?),
                (true, None) => Some("no event matched, so the metric has no data".to_string()),
                (false, _) => None,
            };
            Ok(RuleOutcome {
                rule,
                matches: matched.clone().count() as u64,
                first_match: matched.clone().map(|h| h.event_time).min(),
                last_match: matched.map(|h| h.event_time).max(),
                replay,
                explanation,
            })
        })
        .collect()
}

/// Scans the SOURCEs of `scan` (its own selection included) and collects
/// every record the rules match, sorted by sample time.
pub fn scan_for_rules(
    scan: &ScanConfig,
    rules: &[Rule],
    clock: ClockArg,
) -> Result<(Scanned, AlarmHits)> {
    let set = RuleSet::new(rules.to_vec())?;
    let visitor = AlarmVisitor {
        set: &set,
        window: scan.window,
        clock,
        keep_all: rules.iter().any(|r| r.default_value.is_some()),
    };
    let (scanned, mut state) = scan_sources_with(scan, &visitor)?;
    state.hits.sort_by_key(|h| (h.time, h.event_time));
    Ok((scanned, state))
}

/// Runs `alarm`.
pub fn run(cfg: &AlarmCommandConfig) -> Result<ExitStatus> {
    let (scanned, state) = scan_for_rules(&cfg.scan, &cfg.rules, cfg.clock)?;
    let hits = &state.hits;
    let outcomes = replay_rules(cfg, hits)?;
    let tables = [
        rules_table(&outcomes),
        series_table(&outcomes),
        history_table(&outcomes),
    ];
    if let Some(dir) = &cfg.out {
        for t in &tables {
            write_parquet(t, dir)?;
            write_csv(t, dir)?;
        }
        let all: Vec<Value> = outcomes
            .iter()
            .flat_map(|o| o.replay.notifications.iter().map(sns_envelope))
            .collect();
        write_json_atomically(
            &dir.join("notifications.json"),
            &json!({
                "alarm_notifications": all,
                "cloudtrail_notifications": state.log_files,
            }),
        )?;
    }
    let mut out = std::io::stdout().lock();
    if !cfg.scan.quiet {
        print_outcomes(&mut out, cfg, &outcomes, &tables, state.log_files)?;
    }
    out.flush()?;
    let mut status = ExitStatus::Ok;
    if cfg.fail_on_alarm && outcomes.iter().any(|o| o.alarms() > 0) {
        status = status.merge(ExitStatus::Finding);
    }
    if scanned.outcome.stats.files.failed > 0 {
        status = status.merge(ExitStatus::Error);
    }
    Ok(status)
}

fn print_outcomes(
    out: &mut impl Write,
    cfg: &AlarmCommandConfig,
    outcomes: &[RuleOutcome<'_>],
    tables: &[Table; 3],
    log_files: u64,
) -> std::io::Result<()> {
    if cfg.pack {
        print_table(out, &tables[0], usize::MAX)?;
    } else {
        let o = &outcomes[0];
        writeln!(
            out,
            "{} events matched; alarm entered ALARM {} time(s)",
            o.matches,
            o.alarms()
        )?;
        print_table(out, &tables[1], cfg.top)?;
        writeln!(out, "\nstate_history ({})", o.replay.history.len())?;
        for c in &o.replay.history {
            writeln!(
                out,
                "  {}  {} -> {}  {}",
                crate::window::format_utc(c.time),
                c.old,
                c.new,
                terminal(&c.reason)
            )?;
        }
        writeln!(
            out,
            "\nsns_notifications ({})",
            o.replay.notifications.len()
        )?;
        for n in &o.replay.notifications {
            writeln!(out, "  {}", terminal(&sns_envelope(n).to_string()))?;
        }
    }
    for o in outcomes {
        if let Some(e) = &o.explanation {
            writeln!(out, "\nexplain {}: {}", terminal(&o.rule.id), terminal(e))?;
        }
    }
    writeln!(
        out,
        "\nCloudTrail direct SNS notifications: {log_files} (one per delivered log file in the window)"
    )
}

/// An SNS `Notification` envelope around the alarm message (MessageId and
/// signature fields are omitted: they are not reproducible offline).
pub fn sns_envelope(n: &SnsNotification) -> Value {
    json!({
        "Type": "Notification",
        "TopicArn": n.topic_arn,
        "Subject": n.subject,
        "Message": n.message,
        "Timestamp": n.time.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
    })
}

fn secs_us(t: Option<i64>) -> Option<i64> {
    t.map(|s| s * 1_000_000)
}

/// One row per rule: matches, alarms, transitions, notifications, first and last match.
pub fn rules_table(outcomes: &[RuleOutcome<'_>]) -> Table {
    let s = |f: &dyn Fn(&RuleOutcome) -> String| {
        Column::Str(outcomes.iter().map(|o| Some(f(o))).collect())
    };
    let n = |f: &dyn Fn(&RuleOutcome) -> u64| Column::Count(outcomes.iter().map(f).collect());
    let t = |f: &dyn Fn(&RuleOutcome) -> Option<i64>| {
        Column::Time(outcomes.iter().map(|o| secs_us(f(o))).collect())
    };
    Table {
        name: "rules",
        columns: vec![
            ("rule", s(&|o| o.rule.id.clone())),
            ("title", s(&|o| o.rule.title.clone())),
            ("matches", n(&|o| o.matches)),
            ("alarms", n(&|o| o.alarms() as u64)),
            ("transitions", n(&|o| o.replay.history.len() as u64)),
            ("notifications", n(&|o| o.replay.notifications.len() as u64)),
            ("first_match", t(&|o| o.first_match)),
            ("last_match", t(&|o| o.last_match)),
        ],
    }
}

/// The metric as each evaluation saw it (newest window), periods with data only.
pub fn series_table(outcomes: &[RuleOutcome<'_>]) -> Table {
    let mut rule = Vec::new();
    let mut start = Vec::new();
    let mut value = Vec::new();
    let mut samples = Vec::new();
    for o in outcomes {
        let mut last = None;
        for p in o.replay.series.iter().filter(|p| p.value.is_some()) {
            if last == Some(p.start) {
                continue;
            }
            last = Some(p.start);
            rule.push(Some(o.rule.id.clone()));
            start.push(Some(p.start.as_microsecond()));
            value.push(p.value);
            samples.push(p.sample_count);
        }
    }
    Table {
        name: "metric_series",
        columns: vec![
            ("rule", Column::Str(rule)),
            ("period_start", Column::Time(start)),
            ("value", Column::Float(value)),
            ("samples", Column::Count(samples)),
        ],
    }
}

/// Every state change: time, old → new, reason.
pub fn history_table(outcomes: &[RuleOutcome<'_>]) -> Table {
    let mut cols: [Vec<Option<String>>; 4] = Default::default();
    let mut time = Vec::new();
    for o in outcomes {
        for c in &o.replay.history {
            time.push(Some(c.time.as_microsecond()));
            cols[0].push(Some(o.rule.id.clone()));
            cols[1].push(Some(state_name(c.old)));
            cols[2].push(Some(state_name(c.new)));
            cols[3].push(Some(c.reason.clone()));
        }
    }
    let [rule, old, new, reason] = cols;
    Table {
        name: "state_history",
        columns: vec![
            ("rule", Column::Str(rule)),
            ("time", Column::Time(time)),
            ("old_state", Column::Str(old)),
            ("new_state", Column::Str(new)),
            ("reason", Column::Str(reason)),
        ],
    }
}

fn state_name(s: AlarmState) -> String {
    s.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segmented_replay_equals_full_replay() {
        let cfg = AlarmConfig {
            sns_topic_arn: Some("arn:aws:sns:us-east-1:1:t".into()),
            ..AlarmConfig::cis("a", "m")
        };
        let ts = |s: &str| s.parse::<Timestamp>().unwrap();
        let samples: Vec<Sample> = [
            "2024-01-01T10:02:30Z",
            "2024-01-01T10:03:00Z",
            "2024-01-03T08:00:00Z",
        ]
        .iter()
        .map(|t| Sample {
            timestamp: ts(t),
            value: 1.0,
        })
        .collect();
        let w = TimeWindow {
            since: None,
            until: None,
        };
        let seg = replay_segmented(&samples, &cfg, &w).unwrap();
        let (s, e) = replay_range(&samples, &cfg, &w).unwrap();
        let full = replay(&samples, &cfg, &options(s, e).unwrap()).unwrap();
        assert_eq!(seg.history, full.history);
        assert_eq!(seg.alarm_count(), 2);
    }
}
