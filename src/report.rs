//! The reports of `cli.md` (`by_principal`, `by_hour`, `by_source_ip`,
//! `by_secret`) and the `events` table, built from the merged event store as
//! format-neutral [`Table`]s.
//!
//! This module decides rows, columns and order; it knows nothing of Parquet,
//! CSV or terminals (see `export` and `terminal`).

use rustc_hash::{FxHashMap, FxHashSet};

use crate::events::{Chunk, Col, EventStore, Row};
use crate::window::hour_floor;

/// A typed column of a report.
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    Str(Vec<Option<String>>),
    Count(Vec<u64>),
    /// Microseconds since the epoch, UTC.
    Time(Vec<Option<i64>>),
    Bool(Vec<Option<bool>>),
    Float(Vec<Option<f64>>),
}

impl Column {
    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            Column::Str(v) => v.len(),
            Column::Count(v) => v.len(),
            Column::Time(v) => v.len(),
            Column::Bool(v) => v.len(),
            Column::Float(v) => v.len(),
        }
    }

    /// Whether the column is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A named table: the unit every exporter writes.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub name: &'static str,
    pub columns: Vec<(&'static str, Column)>,
}

impl Table {
    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.columns.first().map_or(0, |(_, c)| c.len())
    }

    /// The column called `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, c)| c)
    }
}

/// Running totals for one report key.
#[derive(Debug, Default)]
pub(crate) struct Tally<'s> {
    pub(crate) events: u64,
    pub(crate) reads: u64,
    pub(crate) batch_calls: u64,
    pub(crate) failed: u64,
    pub(crate) first: i64,
    pub(crate) last: i64,
    pub(crate) secrets: Distinct<'s>,
    pub(crate) principals: Distinct<'s>,
    pub(crate) source_ips: Distinct<'s>,
}

/// Distinct strings, counted. Most report keys see one or two (an address
/// with its one principal), so a few are kept in a short vector and only a
/// larger set moves to a hash set: tens of thousands of keys then cost a few
/// MiB, not tens.
#[derive(Debug, Default)]
pub(crate) struct Distinct<'s> {
    few: Vec<&'s str>,
    many: FxHashSet<&'s str>,
}

impl<'s> Distinct<'s> {
    const FEW: usize = 8;

    pub(crate) fn insert(&mut self, s: &'s str) {
        if !self.many.is_empty() {
            self.many.insert(s);
        } else if !self.few.contains(&s) {
            if self.few.len() < Self::FEW {
                self.few.push(s);
            } else {
                self.many.extend(self.few.drain(..));
                self.many.insert(s);
            }
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.few.len() + self.many.len()
    }
}

impl<'s> Tally<'s> {
    fn add(&mut self, store: &'s EventStore, row: &Row) {
        if self.events == 0 {
            self.first = row.time_us;
            self.last = row.time_us;
        }
        self.events += 1;
        self.first = self.first.min(row.time_us);
        self.last = self.last.max(row.time_us);
        match store.get(row, Col::EventName) {
            Some("GetSecretValue") => self.reads += 1,
            Some("BatchGetSecretValue") => self.batch_calls += 1,
            _ => {}
        }
        if store.get(row, Col::ErrorCode).is_some() {
            self.failed += 1;
        }
        if let Some(s) = store.get(row, Col::Secret) {
            self.secrets.insert(s);
        }
        self.principals
            .insert(store.get(row, Col::Principal).unwrap_or("unknown"));
        self.source_ips
            .insert(store.get(row, Col::SourceIp).unwrap_or("unknown"));
    }
}

pub(crate) type Key<'s> = (&'s str, &'s str);

/// Groups rows by `key` (rows for which it is `None` are left out), sorted by
/// events descending, then key.
pub(crate) fn group<'s>(
    store: &'s EventStore,
    key: impl Fn(&Row) -> Option<Key<'s>>,
) -> Vec<(Key<'s>, Tally<'s>)> {
    let mut map: FxHashMap<Key<'s>, Tally<'s>> = FxHashMap::default();
    store.for_each_row(|_, row| {
        if let Some(k) = key(row) {
            map.entry(k).or_default().add(store, row);
        }
    });
    let mut out: Vec<_> = map.into_iter().collect();
    out.sort_by(|a, b| b.1.events.cmp(&a.1.events).then_with(|| a.0.cmp(&b.0)));
    out
}

pub(crate) fn strs<'a>(groups: &[(Key<'a>, Tally<'a>)], f: impl Fn(&Key<'a>) -> &'a str) -> Column {
    Column::Str(groups.iter().map(|(k, _)| Some(f(k).to_string())).collect())
}

pub(crate) fn counts(groups: &[(Key<'_>, Tally<'_>)], f: impl Fn(&Tally<'_>) -> u64) -> Column {
    Column::Count(groups.iter().map(|(_, t)| f(t)).collect())
}

pub(crate) fn times(groups: &[(Key<'_>, Tally<'_>)], f: impl Fn(&Tally<'_>) -> i64) -> Column {
    Column::Time(groups.iter().map(|(_, t)| Some(f(t))).collect())
}

/// Access counts per principal.
pub fn by_principal(store: &EventStore) -> Table {
    let g = group(store, |r| {
        Some((
            store.get(r, Col::Principal).unwrap_or("unknown"),
            store.get(r, Col::PrincipalType).unwrap_or("unknown"),
        ))
    });
    Table {
        name: "by_principal",
        columns: vec![
            ("principal", strs(&g, |k| k.0)),
            ("principal_type", strs(&g, |k| k.1)),
            ("events", counts(&g, |t| t.events)),
            ("reads", counts(&g, |t| t.reads)),
            ("batch_calls", counts(&g, |t| t.batch_calls)),
            ("failed", counts(&g, |t| t.failed)),
            ("first_seen", times(&g, |t| t.first)),
            ("last_seen", times(&g, |t| t.last)),
            ("secrets", counts(&g, |t| t.secrets.len() as u64)),
            ("source_ips", counts(&g, |t| t.source_ips.len() as u64)),
        ],
    }
}

/// Access counts per UTC hour, in time order.
pub fn by_hour(store: &EventStore) -> Table {
    let mut map: FxHashMap<i64, Tally<'_>> = FxHashMap::default();
    store.for_each_row(|_, row| {
        map.entry(hour_of(row.time_us)).or_default().add(store, row);
    });
    let mut g: Vec<_> = map.into_iter().collect();
    g.sort_by_key(|(h, _)| *h);
    Table {
        name: "by_hour",
        columns: vec![
            (
                "hour",
                Column::Time(g.iter().map(|(h, _)| Some(*h)).collect()),
            ),
            (
                "events",
                Column::Count(g.iter().map(|(_, t)| t.events).collect()),
            ),
            (
                "failed",
                Column::Count(g.iter().map(|(_, t)| t.failed).collect()),
            ),
            (
                "principals",
                Column::Count(g.iter().map(|(_, t)| t.principals.len() as u64).collect()),
            ),
        ],
    }
}

fn hour_of(time_us: i64) -> i64 {
    let t = jiff::Timestamp::from_microsecond(time_us).unwrap_or_default();
    hour_floor(t).as_microsecond()
}

/// Access counts per source IP (a string: it is not always an address).
pub fn by_source_ip(store: &EventStore) -> Table {
    let g = group(store, |r| {
        Some((store.get(r, Col::SourceIp).unwrap_or("unknown"), ""))
    });
    keyed_table("by_source_ip", "source_ip", &g)
}

/// Access counts per secret; batch records carry no single secret and are
/// left out, since each returned secret is also logged as a `GetSecretValue`.
pub fn by_secret(store: &EventStore) -> Table {
    let g = group(store, |r| {
        if store.get(r, Col::EventName) == Some("BatchGetSecretValue") {
            return None;
        }
        store.get(r, Col::Secret).map(|s| (s, ""))
    });
    keyed_table("by_secret", "secret", &g)
}

fn keyed_table(name: &'static str, key: &'static str, g: &[(Key<'_>, Tally<'_>)]) -> Table {
    Table {
        name,
        columns: vec![
            (key, strs(g, |k| k.0)),
            ("events", counts(g, |t| t.events)),
            ("failed", counts(g, |t| t.failed)),
            ("principals", counts(g, |t| t.principals.len() as u64)),
            ("first_seen", times(g, |t| t.first)),
            ("last_seen", times(g, |t| t.last)),
        ],
    }
}

/// One row per matched event of a chunk, in the table's order.
pub fn events_table(chunk: &Chunk<'_, '_>) -> Table {
    let rows = chunk.rows;
    let col = |c: Col| {
        Column::Str(
            rows.iter()
                .map(|r| chunk.get(r, c).map(str::to_string))
                .collect(),
        )
    };
    fn span<'c>(rows: &[Row], f: impl Fn(&Row) -> Option<&'c str>) -> Column {
        Column::Str(rows.iter().map(|r| f(r).map(str::to_string)).collect())
    }
    Table {
        name: "events",
        columns: vec![
            (
                "event_time",
                Column::Time(rows.iter().map(|r| Some(r.time_us)).collect()),
            ),
            ("event_source", col(Col::EventSource)),
            ("event_name", col(Col::EventName)),
            ("principal", col(Col::Principal)),
            ("principal_type", col(Col::PrincipalType)),
            ("account_id", col(Col::AccountId)),
            ("region", col(Col::Region)),
            ("source_ip", col(Col::SourceIp)),
            ("user_agent", col(Col::UserAgent)),
            ("secret", col(Col::Secret)),
            ("error_code", col(Col::ErrorCode)),
            ("event_id", span(rows, |r| chunk.event_id(r))),
            ("request_id", span(rows, |r| chunk.request_id(r))),
            (
                "read_only",
                Column::Bool(rows.iter().map(|r| r.read_only).collect()),
            ),
            ("object", col(Col::Object)),
            ("session_arn", col(Col::SessionArn)),
            ("access_key_id", col(Col::AccessKeyId)),
            ("batch_request", span(rows, |r| chunk.batch_request(r))),
        ],
    }
}

/// The four aggregate reports, in the order they are shown.
pub fn all_reports(store: &EventStore) -> Vec<Table> {
    vec![
        by_principal(store),
        by_hour(store),
        by_source_ip(store),
        by_secret(store),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_counts_each_string_once_below_and_past_the_vector() {
        let names: Vec<String> = (0..20).map(|i| format!("p{i}")).collect();
        let mut d = Distinct::default();
        for round in 0..3 {
            for (i, n) in names.iter().enumerate() {
                d.insert(n);
                if round == 0 {
                    assert_eq!(d.len(), i + 1);
                }
            }
        }
        assert_eq!(d.len(), 20);
        let mut small = Distinct::default();
        ["a", "b", "a", "a"]
            .into_iter()
            .for_each(|s| small.insert(s));
        assert_eq!(small.len(), 2);
    }
}
