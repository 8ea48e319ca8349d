//! One pass over the event store that gathers everything the charts
//! draw: time buckets, per-secret and per-principal totals, error codes.

use super::*;

/// The width of the time buckets of the time charts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BucketKind {
    Hour,
    Day,
    /// Weeks starting on Monday, UTC.
    Week,
}

impl BucketKind {
    /// Hours up to ten days, days up to about 13 months, weeks beyond.
    pub fn for_span(span_us: i64) -> BucketKind {
        if span_us <= 10 * DAY_US {
            BucketKind::Hour
        } else if span_us <= 400 * DAY_US {
            BucketKind::Day
        } else {
            BucketKind::Week
        }
    }

    pub(super) fn width_us(self) -> i64 {
        match self {
            BucketKind::Hour => HOUR_US,
            BucketKind::Day => DAY_US,
            BucketKind::Week => 7 * DAY_US,
        }
    }

    /// 1970-01-05, the first Monday, starts week 0.
    pub(super) fn offset_us(self) -> i64 {
        if self == BucketKind::Week {
            4 * DAY_US
        } else {
            0
        }
    }

    /// The bucket holding `t`.
    pub fn index(self, t: i64) -> i64 {
        (t - self.offset_us()).div_euclid(self.width_us())
    }

    /// Start of bucket `idx`.
    pub fn start(self, idx: i64) -> i64 {
        idx * self.width_us() + self.offset_us()
    }

    /// "hour", "day" or "week".
    pub fn noun(self) -> &'static str {
        match self {
            BucketKind::Hour => "hour",
            BucketKind::Day => "day",
            BucketKind::Week => "week",
        }
    }

    pub(super) fn label_steps(self) -> &'static [i64] {
        match self {
            BucketKind::Hour => &[1, 2, 3, 6, 12, 24, 48, 72, 168],
            BucketKind::Day => &[1, 2, 7, 14, 28, 56, 91, 182, 364],
            BucketKind::Week => &[1, 2, 4, 8, 13, 26, 52, 104, 208],
        }
    }

    pub(super) fn label(self, idx: i64, step: i64) -> String {
        let fmt = match self {
            BucketKind::Hour if step >= 24 => "%b %d",
            BucketKind::Hour => "%b %d %H:%M",
            _ => "%Y-%m-%d",
        };
        time_text(self.start(idx), fmt)
    }

    pub(super) fn describe(self, idx: i64) -> String {
        let t = self.start(idx);
        match self {
            BucketKind::Hour => format!("{} UTC", time_text(t, "%Y-%m-%d %H:00")),
            BucketKind::Day => time_text(t, "%Y-%m-%d"),
            BucketKind::Week => format!("week of {}", time_text(t, "%Y-%m-%d")),
        }
    }
}

pub(super) fn time_text(us: i64, fmt: &str) -> String {
    jiff::Timestamp::from_microsecond(us)
        .map(|t| t.strftime(fmt).to_string())
        .unwrap_or_default()
}

pub(super) fn rfc3339(us: i64) -> String {
    jiff::Timestamp::from_microsecond(us)
        .map(format_utc)
        .unwrap_or_default()
}

/// One time bucket of the time charts.
#[derive(Debug, Default)]
pub(super) struct Bucket<'s> {
    /// Events per series: the top secrets, then "other".
    pub(super) series: Vec<u64>,
    pub(super) events: u64,
    pub(super) failed: u64,
    pub(super) errors: BTreeMap<&'s str, u64>,
}

/// Per-principal totals.
#[derive(Debug, Default)]
pub(super) struct PrincipalAgg<'s> {
    pub(super) events: u64,
    pub(super) failed: u64,
    pub(super) agents: FxHashMap<&'s str, u64>,
    pub(super) ips: FxHashMap<&'s str, u64>,
}

/// Everything the charts need, from one pass over the store (plus one for
/// the buckets once the series are known).
pub(super) struct Agg<'s> {
    pub(super) kind: BucketKind,
    /// First and last bucket index with events.
    pub(super) first: i64,
    pub(super) last: i64,
    pub(super) buckets: BTreeMap<i64, Bucket<'s>>,
    /// Secrets by events descending, then name.
    pub(super) secrets: Vec<(&'s str, u64)>,
    /// Principals by events descending, then name.
    pub(super) principals: Vec<(&'s str, PrincipalAgg<'s>)>,
    pub(super) pairs: FxHashMap<(&'s str, &'s str), u64>,
    pub(super) errors: Vec<(&'s str, u64)>,
    pub(super) failed: u64,
}

pub(super) fn sorted_desc<K: Ord + Copy, V>(
    map: FxHashMap<K, V>,
    n: impl Fn(&V) -> u64,
) -> Vec<(K, V)> {
    let mut v: Vec<(K, V)> = map.into_iter().collect();
    v.sort_by(|a, b| n(&b.1).cmp(&n(&a.1)).then_with(|| a.0.cmp(&b.0)));
    v
}

impl<'s> Agg<'s> {
    pub(super) fn new(store: &'s EventStore) -> Agg<'s> {
        let mut secrets: FxHashMap<&str, u64> = FxHashMap::default();
        let mut principals: FxHashMap<&str, PrincipalAgg> = FxHashMap::default();
        let mut pairs = FxHashMap::default();
        let mut errors: FxHashMap<&str, u64> = FxHashMap::default();
        let (mut lo, mut hi, mut failed) = (i64::MAX, i64::MIN, 0);
        if store.is_empty() {
            (lo, hi) = (0, 0);
        }
        store.for_each_row(|_, row| {
            lo = lo.min(row.time_us);
            hi = hi.max(row.time_us);
            let principal = store.get(row, Col::Principal).unwrap_or("unknown");
            let p = principals.entry(principal).or_default();
            p.events += 1;
            if let Some(code) = store.get(row, Col::ErrorCode) {
                p.failed += 1;
                failed += 1;
                *errors.entry(code).or_default() += 1;
            }
            *p.agents
                .entry(store.get(row, Col::UserAgent).unwrap_or("unknown"))
                .or_default() += 1;
            *p.ips
                .entry(store.get(row, Col::SourceIp).unwrap_or("unknown"))
                .or_default() += 1;
            if let Some(secret) = store.get(row, Col::Secret) {
                *secrets.entry(secret).or_default() += 1;
                *pairs.entry((principal, secret)).or_default() += 1;
            }
        });
        let kind = BucketKind::for_span(hi.saturating_sub(lo).max(0));
        let mut agg = Agg {
            kind,
            first: kind.index(lo),
            last: kind.index(hi),
            buckets: BTreeMap::new(),
            secrets: sorted_desc(secrets, |n| *n),
            principals: sorted_desc(principals, |p| p.events),
            pairs,
            errors: sorted_desc(errors, |n| *n),
            failed,
        };
        agg.fill_buckets(store);
        agg
    }

    pub(super) fn fill_buckets(&mut self, store: &'s EventStore) {
        let series: FxHashMap<&str, usize> = self
            .secrets
            .iter()
            .take(TOP_SECRETS)
            .enumerate()
            .map(|(i, (s, _))| (*s, i))
            .collect();
        let other = series.len();
        store.for_each_row(|_, row| {
            let b = self
                .buckets
                .entry(self.kind.index(row.time_us))
                .or_default();
            if b.series.is_empty() {
                b.series = vec![0; other + 1];
            }
            let i = store
                .get(row, Col::Secret)
                .and_then(|s| series.get(s).copied())
                .unwrap_or(other);
            b.series[i] += 1;
            b.events += 1;
            if let Some(code) = store.get(row, Col::ErrorCode) {
                b.failed += 1;
                *b.errors.entry(code).or_default() += 1;
            }
        });
    }

    /// Names and colours of the time chart's series.
    pub(super) fn series(&self) -> Vec<(String, &'static str)> {
        let mut v: Vec<(String, &'static str)> = self
            .secrets
            .iter()
            .take(TOP_SECRETS)
            .enumerate()
            .map(|(i, (s, _))| (s.to_string(), PALETTE[i % PALETTE.len()]))
            .collect();
        let named: u64 = self.secrets.iter().take(TOP_SECRETS).map(|s| s.1).sum();
        let total: u64 = self.buckets.values().map(|b| b.events).sum();
        if total > named || v.is_empty() {
            v.push(("other secrets and batch calls".to_string(), OTHER));
        }
        v
    }
}
