//! The evaluation: per-period statistics over a minute series, the
//! minute-by-minute schedule, and the §3.4 state decision.

use std::collections::BTreeMap;

use jiff::Timestamp;

use super::*;

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

pub(super) fn minute_of(t: Timestamp) -> i64 {
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

pub(super) fn ts(secs: i64) -> Option<Timestamp> {
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
