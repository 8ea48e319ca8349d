//! `ctscan alarm`: replays metric filters and their CloudWatch alarms over
//! the logs in one pass, and shows the metric, the state history, the SNS
//! messages the alarm would have sent and CloudTrail's own SNS count.
//!
//! One [`RecordVisitor`] holds the [`RuleSet`] (a single `--pattern` is a
//! one-rule set); `visit` asks [`RuleSet::judge`] which rules a record
//! matches (byte prefilter, then the compiled rules or one JSON parse) and
//! its time, which is needed for non-matching records too when a rule has a
//! default value. A file's records are staged, then folded into per-rule,
//! per-minute tallies once the file is known to be whole; the replay reads
//! those, never the records.

use std::io::Write;

use anyhow::Result;
use jiff::Timestamp;
use serde_json::{json, Value};

use std::collections::BTreeSet;

use crate::cli::{ClockArg, DefaultModeArg};
use crate::commands::events::compact_json;
use crate::commands::scan_sources::{scan_sources_filtered, Scanned};
use crate::config::{AlarmCommandConfig, ScanConfig};
use crate::error::ExitStatus;
use crate::events::{Duplicates, SeenEvents};
use crate::lake::read::filter::RowFilter;
use crate::read::record::Selection;
use crate::read::structural::Tape;
use crate::replay::alarm::{
    explain_series, replay_series, AlarmConfig, AlarmState, MinuteSeries, MissingValueMode, Replay,
    ReplayKnobs, ReplayOptions, SnsNotification, TreatMissing,
};
use crate::replay::rules::{Rule, RuleMatches, RuleSet, RuleValue, Verdict};
use crate::report::export::{write_csv, write_json_atomically, write_parquet};
use crate::report::sanitize::terminal;
use crate::report::terminal::print_table;
use crate::report::{Column, StrColumn, Table};
use crate::scan::both::Both;
use crate::scan::{NoTimeReasons, NoVisitor, RecordCounts, RecordVisitor};
use crate::window::{key_time, TimeWindow};

mod tally;
use tally::{min_some, RuleTally};

/// Records larger than this are never sent to CloudWatch Logs (§1.8).
pub const MAX_CWL_EVENT_BYTES: usize = 256 * 1024;

/// One record a file contributed, held until the file is known to be
/// whole: its sample time and the rules it matched (none for a record kept
/// only for default values).
#[derive(Debug, Clone, PartialEq)]
struct Hit {
    /// Sample timestamp, seconds since the epoch.
    time: i64,
    /// eventTime, seconds (for first/last match).
    event_time: i64,
    rules: RuleMatches,
    /// Field values for matched rules whose metricValue is a field.
    values: Option<Box<[(u32, f64)]>>,
    /// The key of its eventID, when a rule matched.
    event_id: Option<u128>,
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

/// Per-worker results, merged into one at the end.
#[derive(Debug, Default)]
pub struct AlarmHits {
    staged: Vec<Hit>,
    tallies: Vec<RuleTally>,
    /// Minutes holding a record in the window, for per-minute default values.
    active_minutes: BTreeSet<i64>,
    /// Log objects read in the window: CloudTrail's direct SNS messages (§4).
    pub log_files: u64,
    /// Records that matched a rule in the window, and of those the copies
    /// of an event already counted.
    pub matched: u64,
    pub duplicates: u64,
    /// Records that matched a rule but have no usable eventTime, by reason.
    pub no_event_time: NoTimeReasons,
    staged_no_time: NoTimeReasons,
    /// Per keyed hit of the file being folded: whether it is new (scratch).
    new: Vec<bool>,
}

/// Matches every record against the rules.
pub struct AlarmVisitor<'a> {
    pub set: &'a RuleSet,
    pub window: TimeWindow,
    pub clock: ClockArg,
    pub default_mode: DefaultModeArg,
    /// The rules with a default value.
    pub default_rules: Vec<usize>,
    /// Whether a repeated event counts once, and the events counted so far.
    pub duplicates: Duplicates,
    pub seen: SeenEvents,
}

impl AlarmVisitor<'_> {
    /// Non-matching records count too: some rule has a default value.
    fn keeps_all(&self) -> bool {
        !self.default_rules.is_empty()
    }

    /// Adds one record of a whole file to the tallies.
    fn fold(&self, state: &mut AlarmHits, hit: &Hit) {
        let rules = self.set.rules();
        if state.tallies.len() < rules.len() {
            state.tallies.resize_with(rules.len(), RuleTally::default);
        }
        let minute = floor_minute(hit.time);
        let per_event = self.default_mode == DefaultModeArg::PerEvent;
        if !per_event && !self.default_rules.is_empty() {
            state.active_minutes.insert(minute);
        }
        let unmatched_defaults = self
            .default_rules
            .iter()
            .copied()
            .filter(|&i| !hit.rules.contains(i));
        for i in hit.rules.iter().chain(unmatched_defaults) {
            let rule = &rules[i];
            let tally = &mut state.tallies[i];
            let matched = hit.rules.contains(i);
            if matched {
                tally.matches += 1;
                tally.first_match = min_some(tally.first_match, Some(hit.event_time));
                tally.last_match = tally.last_match.max(Some(hit.event_time));
            }
            let count = tally.minutes.entry(minute).or_default();
            count.had_match |= matched;
            match (matched, &rule.metric_value) {
                (true, RuleValue::Number(_)) => count.count(hit.time, false),
                (true, RuleValue::Field(_)) => match hit.value(i) {
                    Some(v) => tally.field_samples.push((hit.time, v)),
                    None if rule.transform().missing_value == MissingValueMode::UseDefault
                        && rule.default_value.is_some() =>
                    {
                        count.count(hit.time, true)
                    }
                    None => {}
                },
                (false, _) if per_event => count.count(hit.time, true),
                (false, _) => {}
            }
        }
    }

    /// The key under which a matched hit is counted once, with its group
    /// in [`SeenEvents`] (its minute): an identical copy (same eventID,
    /// sample time and matched rules) is a repeat. Copies that differ in any
    /// of those are different observations and both count, so the outcome
    /// does not depend on which copy a worker reads first.
    fn repeat_key(hit: &Hit) -> Option<(i64, u128)> {
        let id = hit.event_id.filter(|_| !hit.rules.is_empty())?;
        let mut h = rustc_hash::FxHasher::default();
        std::hash::Hash::hash(&hit.time, &mut h);
        for r in hit.rules.iter() {
            std::hash::Hash::hash(&r, &mut h);
        }
        let mix = u128::from(std::hash::Hasher::finish(&h));
        Some((floor_minute(hit.time), id ^ (mix << 64 | mix)))
    }

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

    fn tape_depth(&self) -> Option<usize> {
        self.set.tape_depth()
    }

    fn visit(
        &self,
        state: &mut AlarmHits,
        key: &str,
        _index: usize,
        raw: &[u8],
        tape: Option<&Tape>,
    ) {
        if raw.len() > MAX_CWL_EVENT_BYTES && compact_json(raw).len() > MAX_CWL_EVENT_BYTES {
            return;
        }
        let Verdict {
            rules,
            time,
            time_given,
            event_id,
            values,
        } = self.set.judge(raw, tape, self.keeps_all());
        if rules.is_empty() && !self.keeps_all() {
            return;
        }
        let Some(t) = time else {
            if !rules.is_empty() {
                state.staged_no_time.count(time_given.then_some(""));
            }
            return;
        };
        if !self.window.contains(t) {
            return;
        }
        let event_time = t.as_second();
        state.staged.push(Hit {
            time: self.sample_time(key, event_time),
            event_time,
            rules,
            values,
            event_id,
        });
    }

    fn end_object(&self, state: &mut AlarmHits, key: &str, ok: bool) {
        if ok {
            let staged = std::mem::take(&mut state.staged);
            // Whether each keyed hit is new, asked for the whole file at once.
            let mut new = std::mem::take(&mut state.new);
            new.clear();
            self.seen
                .first_times(staged.iter().filter_map(Self::repeat_key), |n| new.push(n));
            let mut new_iter = new.iter();
            for hit in &staged {
                if !hit.rules.is_empty() {
                    state.matched += 1;
                    let keyed = hit.event_id.is_some();
                    if keyed && new_iter.next() == Some(&false) {
                        state.duplicates += 1;
                        if self.duplicates == Duplicates::CountOnce {
                            continue;
                        }
                    }
                }
                self.fold(state, hit);
            }
            state.staged = staged;
            state.new = new;
            let delivered = key_time(key).is_none_or(|k| self.window.contains(k.start));
            state.log_files += u64::from(delivered);
            state.no_event_time.add(&state.staged_no_time);
        }
        state.staged.clear();
        state.staged_no_time = NoTimeReasons::default();
    }

    fn merge(&self, mut a: AlarmHits, mut b: AlarmHits) -> AlarmHits {
        if a.tallies.len() < b.tallies.len() {
            std::mem::swap(&mut a.tallies, &mut b.tallies);
        }
        for (t, o) in a.tallies.iter_mut().zip(b.tallies) {
            t.merge(o);
        }
        a.active_minutes.append(&mut b.active_minutes);
        a.log_files += b.log_files;
        a.matched += b.matched;
        a.duplicates += b.duplicates;
        a.no_event_time.add(&b.no_event_time);
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

/// Rule `i`'s metric, folded per minute, from its tally.
fn series_for(
    rule: &Rule,
    tally: &RuleTally,
    hits: &AlarmHits,
    mode: DefaultModeArg,
) -> MinuteSeries {
    let mut series = MinuteSeries::for_alarm(&rule.alarm);
    let default = rule.default_value.unwrap_or(0.0);
    for c in tally.minutes.values() {
        if let RuleValue::Number(v) = rule.metric_value {
            series.add(c.first, c.last, v, c.matched);
        }
        series.add(c.first, c.last, default, c.defaults);
    }
    let mut fields = tally.field_samples.clone();
    fields.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
    for (second, v) in fields {
        series.add(second, second, v, 1);
    }
    if let (DefaultModeArg::PerMinute, Some(d)) = (mode, rule.default_value) {
        for &m in &hits.active_minutes {
            if !tally.minutes.get(&m).is_some_and(|c| c.had_match) {
                series.add(m, m, d, 1);
            }
        }
    }
    series
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
fn replay_range(
    series: &MinuteSeries,
    cfg: &AlarmConfig,
    window: &TimeWindow,
) -> Option<(i64, i64)> {
    let span = series.span();
    let first = span.map(|(f, _)| floor_minute(f));
    let last = span.map(|(_, l)| l + tail_secs(cfg));
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
/// samples longer than `tail_secs` always bring the alarm back to
/// INSUFFICIENT_DATA, so the replay is run per cluster of samples and
/// skips the empty minutes between them; the result is the same.
pub fn replay_segmented(
    series: &MinuteSeries,
    cfg: &AlarmConfig,
    window: &TimeWindow,
) -> Result<Replay> {
    let mut out = Replay {
        series: Vec::new(),
        history: Vec::new(),
        notifications: Vec::new(),
    };
    let Some((start, end)) = replay_range(series, cfg, window) else {
        return Ok(out);
    };
    if cfg.treat_missing_data != TreatMissing::Missing || series.is_empty() {
        return Ok(replay_series(series, cfg, &options(start, end)?)?);
    }
    let tail = tail_secs(cfg);
    for (first, last) in series.clusters(tail) {
        let seg_start = floor_minute(first).max(start);
        let seg_end = (last + tail).min(end);
        if seg_end >= seg_start {
            let part = replay_series(series, cfg, &options(seg_start, seg_end)?)?;
            out.series.extend(part.series);
            out.history.extend(part.history);
            out.notifications.extend(part.notifications);
        }
    }
    Ok(out)
}

/// Replays every rule of the config over the collected hits.
pub fn replay_rules<'r>(
    cfg: &'r AlarmCommandConfig,
    hits: &AlarmHits,
) -> Result<Vec<RuleOutcome<'r>>> {
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

/// Replays `rules` over the scan's tallies.
pub fn replay_rule_list<'r>(
    rules: &'r [Rule],
    how: &ReplayHow,
    hits: &AlarmHits,
) -> Result<Vec<RuleOutcome<'r>>> {
    let none = RuleTally::default();
    rules
        .iter()
        .enumerate()
        .map(|(i, rule)| {
            let tally = hits.tallies.get(i).unwrap_or(&none);
            let series = series_for(rule, tally, hits, how.default_mode);
            let replay = replay_segmented(&series, &rule.alarm, &how.window)?;
            let explanation = match (how.explain, replay_range(&series, &rule.alarm, &how.window)) {
                (true, Some((s, e))) => {
                    Some(explain_series(&series, &rule.alarm, &options(s, e)?)?)
                }
                (true, None) => Some("no event matched, so the metric has no data".to_string()),
                (false, _) => None,
            };
            Ok(RuleOutcome {
                rule,
                matches: tally.matches,
                first_match: tally.first_match,
                last_match: tally.last_match,
                replay,
                explanation,
            })
        })
        .collect()
}

/// Scans the SOURCEs of `scan` (its own selection included) and tallies
/// every record the rules match, per rule and minute.
pub fn scan_for_rules(
    scan: &ScanConfig,
    rules: &[Rule],
    clock: ClockArg,
    default_mode: DefaultModeArg,
) -> Result<(Scanned, AlarmHits)> {
    scan_rules_with(
        scan,
        rules,
        clock,
        default_mode,
        &NoVisitor,
        lake_rows(rules),
    )
    .map(|(scanned, hits, ())| (scanned, hits))
}

/// [`scan_for_rules`], feeding `also` in the same pass (over a lake, every
/// row: `also` may want records no rule does).
pub fn scan_for_rules_and<V: RecordVisitor>(
    scan: &ScanConfig,
    rules: &[Rule],
    clock: ClockArg,
    default_mode: DefaultModeArg,
    also: &V,
) -> Result<(Scanned, AlarmHits, V::State)> {
    scan_rules_with(scan, rules, clock, default_mode, also, RowFilter::all())
}

fn scan_rules_with<V: RecordVisitor>(
    scan: &ScanConfig,
    rules: &[Rule],
    clock: ClockArg,
    default_mode: DefaultModeArg,
    also: &V,
    rows: RowFilter,
) -> Result<(Scanned, AlarmHits, V::State)> {
    let set = RuleSet::new(rules.to_vec())?;
    let default_rules: Vec<usize> = (0..rules.len())
        .filter(|&i| rules[i].default_value.is_some())
        .collect();
    let visitor = AlarmVisitor {
        set: &set,
        window: scan.window,
        clock,
        default_mode,
        default_rules,
        duplicates: scan.duplicates,
        seen: SeenEvents::default(),
    };
    let (scanned, (hits, other)) = scan_sources_filtered(scan, &Both(&visitor, also), rows)?;
    Ok((scanned, hits, other))
}

/// Over a lake, what a record must hold for some rule to count it: every
/// record when a rule has a default value (non-matching records count too).
fn lake_rows(rules: &[Rule]) -> RowFilter {
    if rules.iter().any(|r| r.default_value.is_some()) {
        return RowFilter::all();
    }
    let each: Vec<RowFilter> = rules
        .iter()
        .map(|r| crate::replay::pattern::Pattern::parse(&r.pattern).ok())
        .map(|p| RowFilter::from_pattern(p.as_ref()))
        .collect();
    RowFilter::any_of(&each)
}

/// Runs `alarm`.
pub fn run(cfg: &AlarmCommandConfig) -> Result<ExitStatus> {
    // alarm shows no event table, so the scan selects no events for one.
    let scan = ScanConfig {
        selection: Selection::Events(Vec::new()),
        ..cfg.scan.clone()
    };
    let (scanned, state) = scan_for_rules(&scan, &cfg.rules, cfg.clock, cfg.default_mode)?;
    let outcomes = replay_rules(cfg, &state)?;
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
    let counts = RecordCounts::of_visitor(
        scanned.outcome.stats.records.read,
        state.matched,
        state.no_event_time,
        state.duplicates,
    );
    if let Some(dir) = &cfg.out {
        write_json_atomically(
            &dir.join("summary.json"),
            &json!({
                "files": scanned.outcome.stats.files,
                "failures": scanned.outcome.stats.failures,
                "records": counts,
            }),
        )?;
    }
    let mut out = std::io::stdout().lock();
    if !cfg.scan.quiet {
        print_outcomes(&mut out, cfg, &outcomes, &tables, state.log_files)?;
        writeln!(out, "{}", counts.describe())?;
    }
    out.flush()?;
    if !cfg.scan.quiet {
        counts.warn_left_out(cfg.scan.duplicates);
    }
    let mut status = ExitStatus::Ok;
    if cfg.fail_on_alarm && outcomes.iter().any(|o| o.alarms() > 0) {
        status = status.merge(ExitStatus::Finding);
    }
    if scanned.outcome.stats.files.failed > 0 {
        status = status.merge(ExitStatus::Error);
    }
    Ok(status)
}

/// Printed under the rules table: what each of its numbers counts.
const RULES_LEGEND: &str = "matches: records the rule's filter pattern matched; \
     alarms: times its alarm entered ALARM; transitions: alarm state changes; \
     notifications: SNS messages the alarm's actions sent";

fn print_outcomes(
    out: &mut impl Write,
    cfg: &AlarmCommandConfig,
    outcomes: &[RuleOutcome<'_>],
    tables: &[Table; 3],
    log_files: u64,
) -> std::io::Result<()> {
    if cfg.pack {
        print_table(out, &tables[0], usize::MAX, cfg.scan.cell_fit)?;
        writeln!(out, "  {RULES_LEGEND}")?;
    } else {
        let o = &outcomes[0];
        writeln!(
            out,
            "{} events matched; alarm entered ALARM {} time(s)",
            o.matches,
            o.alarms()
        )?;
        print_table(out, &tables[1], cfg.top, cfg.scan.cell_fit)?;
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
            if let Some(note) = &o.rule.note {
                writeln!(out, "  note: {} matches: {}", o.matches, terminal(note))?;
            }
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
            (
                "note",
                Column::Str(outcomes.iter().map(|o| o.rule.note.as_deref()).collect()),
            ),
        ],
    }
}

/// The metric as each evaluation saw it (newest window), periods with data only.
pub fn series_table(outcomes: &[RuleOutcome<'_>]) -> Table {
    let mut rule = StrColumn::default();
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
            rule.push(Some(&o.rule.id));
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
    let mut cols: [StrColumn; 4] = Default::default();
    let mut time = Vec::new();
    for o in outcomes {
        for c in &o.replay.history {
            time.push(Some(c.time.as_microsecond()));
            cols[0].push(Some(&o.rule.id));
            cols[1].push(Some(&state_name(c.old)));
            cols[2].push(Some(&state_name(c.new)));
            cols[3].push(Some(&c.reason));
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
    use proptest::prelude::*;

    use super::*;
    use crate::replay::alarm::{replay, DefaultMode, EventOutcome, Sample};
    use crate::replay::rules::parse_rules_json;

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
        let series = MinuteSeries::from_samples(&samples, &cfg);
        let seg = replay_segmented(&series, &cfg, &w).unwrap();
        let (s, e) = replay_range(&series, &cfg, &w).unwrap();
        let full = replay(&samples, &cfg, &options(s, e).unwrap()).unwrap();
        assert_eq!(seg.history, full.history);
        assert_eq!(seg.alarm_count(), 2);
    }

    /// Three rules: a count with a default, a field value with a default
    /// and an Average alarm, and a plain count with `treatMissingData = breaching`.
    fn tally_rules() -> Vec<Rule> {
        parse_rules_json(
            r#"[{"name":"reads","pattern":"{ $.eventName = GetSecretValue }","default_value":0},
                {"name":"bytes","pattern":"{ $.bytes = * }","metric_value":"$.bytes","default_value":0.5,
                 "alarm":{"statistic":"Average","period":120,"evaluation_periods":2,"threshold":0.75}},
                {"name":"denied","pattern":"{ $.errorCode = AccessDenied }",
                 "alarm":{"statistic":"Maximum","period":60,"threshold":1,"treat_missing_data":"breaching"}}]"#,
        )
        .expect("valid rules")
    }

    /// The replay of each rule the way samples were built before tallies:
    /// every hit kept, sorted, turned into samples by [`MetricTransform`].
    fn replay_from_hits(
        rule: &Rule,
        i: usize,
        hits: &[Hit],
        mode: DefaultModeArg,
        window: &TimeWindow,
    ) -> Replay {
        let mut transform = rule.transform();
        transform.default_mode = match mode {
            DefaultModeArg::PerEvent => DefaultMode::PerEvent,
            DefaultModeArg::PerMinute => DefaultMode::PerMinuteWithoutMatch,
        };
        let mut sorted = hits.to_vec();
        sorted.sort_by_key(|h| (h.time, h.event_time));
        let outcomes: Vec<EventOutcome> = sorted
            .iter()
            .filter(|h| rule.default_value.is_some() || h.rules.contains(i))
            .map(|h| EventOutcome {
                timestamp: Timestamp::from_second(h.time).unwrap(),
                matched: h.rules.contains(i),
                value: h.value(i),
            })
            .collect();
        let mut samples = transform.samples(&outcomes);
        samples.sort_by_key(|s| s.timestamp);
        let series = MinuteSeries::from_samples(&samples, &rule.alarm);
        replay_segmented(&series, &rule.alarm, window).unwrap()
    }

    fn hit() -> impl Strategy<Value = Hit> {
        (0i64..4 * 3600, 0u64..8, 0u8..12).prop_map(|(t, mask, v)| {
            let time = 1_767_225_600 + t;
            let mut rules = RuleMatches::default();
            let mut values = Vec::new();
            for i in 0..3 {
                if mask & (1 << i) != 0 {
                    rules = RuleMatches::with(rules, i);
                    // Some matched field records carry no number. Quarters
                    // add exactly in any order, so sums compare bit for bit.
                    if i == 1 && v < 10 {
                        values.push((1, f64::from(v) * 0.25));
                    }
                }
            }
            Hit {
                time,
                event_time: time - 5,
                rules,
                values: (!values.is_empty()).then(|| values.into_boxed_slice()),
                event_id: None,
            }
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Folding hits per minute on two workers and merging replays every
        /// alarm exactly as keeping every hit did.
        #[test]
        fn tallies_replay_like_the_kept_hits(
            hits in proptest::collection::vec(hit(), 0..300),
            split in 0usize..300,
            per_minute in any::<bool>(),
        ) {
            let rules = tally_rules();
            let set = RuleSet::new(rules.clone()).unwrap();
            let mode = if per_minute { DefaultModeArg::PerMinute } else { DefaultModeArg::PerEvent };
            let window = TimeWindow { since: None, until: None };
            let visitor = AlarmVisitor {
                set: &set,
                window,
                clock: ClockArg::EventTime,
                default_mode: mode,
                default_rules: vec![0, 1],
                duplicates: Duplicates::CountOnce,
                seen: SeenEvents::default(),
            };
            let split = split.min(hits.len());
            let mut a = AlarmHits::default();
            let mut b = AlarmHits::default();
            hits[..split].iter().for_each(|h| visitor.fold(&mut a, h));
            hits[split..].iter().for_each(|h| visitor.fold(&mut b, h));
            let merged = visitor.merge(b, a);
            let how = ReplayHow { window, default_mode: mode, explain: false };
            let outcomes = replay_rule_list(&rules, &how, &merged).unwrap();
            for (i, o) in outcomes.iter().enumerate() {
                let want = replay_from_hits(&rules[i], i, &hits, mode, &window);
                prop_assert_eq!(&o.replay.history, &want.history, "rule {}", i);
                prop_assert_eq!(&o.replay.series, &want.series, "rule {}", i);
                prop_assert_eq!(o.matches, hits.iter().filter(|h| h.rules.contains(i)).count() as u64);
            }
        }
    }
}
