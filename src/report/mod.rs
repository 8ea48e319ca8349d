//! The reports of `cli.md` (`by_principal`, `by_hour`, `by_source_ip`,
//! `by_secret`) and the `events` table, built from the merged event store as
//! format-neutral [`Table`]s.
//!
//! This module decides rows, columns and order; it knows nothing of Parquet,
//! CSV or terminals. Its submodules turn the tables into what people and
//! tools read: files ([`export`]), the terminal ([`terminal`], escaped by
//! [`sanitize`]) and the HTML [`dashboard`]; [`geoip`] and [`findings`] add
//! tables of their own.

use rustc_hash::{FxHashMap, FxHashSet};

pub mod dashboard;
#[cfg(feature = "cli")]
pub mod export;
pub mod findings;
pub mod geoip;
#[cfg(feature = "cli")]
pub mod partial;
pub mod sanitize;
pub mod terminal;

use crate::events::{Chunk, Col, EventStore, Row, Text};
use crate::window::hour_floor;

/// The key of a row whose record lacks the value (no `secretId`, no
/// `sourceIPAddress`): a row of its own, so every table sums to its totals.
pub const NO_KEY: &str = "(none)";

/// A typed column of a report.
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    Str(StrColumn),
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

/// Optional strings stored end to end in one buffer. Reports can run to
/// tens of thousands of rows (an address or a finding each), and a heap
/// allocation per value cost more than the text itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StrColumn {
    text: String,
    /// Where each value ends in `text`.
    ends: Vec<usize>,
    /// Whether each value is present (a missing one is empty text).
    present: Vec<bool>,
}

impl StrColumn {
    /// An empty column with room for `values` values of `bytes` in all.
    pub fn with_capacity(values: usize, bytes: usize) -> Self {
        StrColumn {
            text: String::with_capacity(bytes),
            ends: Vec::with_capacity(values),
            present: Vec::with_capacity(values),
        }
    }

    /// Appends a value.
    pub fn push(&mut self, value: Option<&str>) {
        self.text.push_str(value.unwrap_or(""));
        self.ends.push(self.text.len());
        self.present.push(value.is_some());
    }

    /// Value `i`.
    pub fn get(&self, i: usize) -> Option<&str> {
        if !self.present[i] {
            return None;
        }
        let start = i.checked_sub(1).map_or(0, |p| self.ends[p]);
        Some(&self.text[start..self.ends[i]])
    }

    /// Every value, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Option<&str>> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether the column has no values.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
}

impl<S: AsRef<str>> FromIterator<Option<S>> for StrColumn {
    fn from_iter<I: IntoIterator<Item = Option<S>>>(values: I) -> Self {
        let mut column = StrColumn::default();
        for v in values {
            column.push(v.as_ref().map(AsRef::as_ref));
        }
        column
    }
}

impl<const N: usize> From<[Option<&str>; N]> for StrColumn {
    fn from(values: [Option<&str>; N]) -> Self {
        values.into_iter().collect()
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

/// Running totals for one report key. The distinct counts are filled in
/// once every row was seen (see [`group`]).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Tally {
    pub(crate) events: u64,
    pub(crate) reads: u64,
    pub(crate) batch_calls: u64,
    pub(crate) failed: u64,
    pub(crate) first: i64,
    pub(crate) last: i64,
    pub(crate) secrets: u64,
    pub(crate) principals: u64,
    pub(crate) source_ips: u64,
}

impl Tally {
    fn add(&mut self, store: &EventStore, row: &Row) {
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
    }
}

/// Which distinct counts a report shows; only those are collected.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Distinct {
    pub(crate) secrets: bool,
    pub(crate) principals: bool,
    pub(crate) source_ips: bool,
}

impl Distinct {
    /// Distinct principals only.
    pub(crate) const PRINCIPALS: Distinct = Distinct {
        secrets: false,
        principals: true,
        source_ips: false,
    };
}

/// The distinct secrets, principals and source IPs of every key, as one set
/// of (key slot, string id) pairs per column rather than a set per key: a
/// report over tens of thousands of addresses then costs about 10 bytes a
/// pair instead of three small hash sets a key.
struct DistinctPairs {
    wanted: Distinct,
    secrets: FxHashSet<(u32, u32)>,
    principals: FxHashSet<(u32, u32)>,
    source_ips: FxHashSet<(u32, u32)>,
    /// The id a missing principal or source IP counts as: [`NO_KEY`]'s own
    /// id when a record spelled it out, so both count once.
    missing: u32,
}

impl DistinctPairs {
    fn new(store: &EventStore, wanted: Distinct) -> Self {
        DistinctPairs {
            wanted,
            secrets: FxHashSet::default(),
            principals: FxHashSet::default(),
            source_ips: FxHashSet::default(),
            missing: store.id_of(NO_KEY).unwrap_or(u32::MAX),
        }
    }

    fn add(&mut self, slot: u32, row: &Row) {
        let or_missing = |id: Option<u32>| id.unwrap_or(self.missing);
        if let Some(secret) = row.id(Col::Secret).filter(|_| self.wanted.secrets) {
            self.secrets.insert((slot, secret));
        }
        if self.wanted.principals {
            self.principals
                .insert((slot, or_missing(row.id(Col::Principal))));
        }
        if self.wanted.source_ips {
            self.source_ips
                .insert((slot, or_missing(row.id(Col::SourceIp))));
        }
    }

    fn count_into(self, tallies: &mut [Tally]) {
        for (slot, _) in self.secrets {
            tallies[slot as usize].secrets += 1;
        }
        for (slot, _) in self.principals {
            tallies[slot as usize].principals += 1;
        }
        for (slot, _) in self.source_ips {
            tallies[slot as usize].source_ips += 1;
        }
    }
}

pub(crate) type Key<'s> = (&'s str, &'s str);

/// Tallies per key, fed a row at a time, so that several reports share one
/// pass over the table (a pass reads the whole table back from disk).
pub(crate) struct Grouping<'s, K> {
    store: &'s EventStore,
    slots: FxHashMap<K, u32>,
    tallies: Vec<Tally>,
    distinct: DistinctPairs,
}

impl<'s, K: std::hash::Hash + Ord + Copy> Grouping<'s, K> {
    /// A grouping that counts the `distinct` values its report shows.
    pub(crate) fn new(store: &'s EventStore, distinct: Distinct) -> Self {
        Grouping {
            store,
            slots: FxHashMap::default(),
            tallies: Vec::new(),
            distinct: DistinctPairs::new(store, distinct),
        }
    }

    /// Counts `row` under `key`; a row without a key is left out.
    pub(crate) fn add(&mut self, key: Option<K>, row: &Row) {
        let Some(key) = key else {
            return;
        };
        let next = self.tallies.len() as u32;
        let slot = *self.slots.entry(key).or_insert(next);
        if slot == next {
            self.tallies.push(Tally::default());
        }
        self.tallies[slot as usize].add(self.store, row);
        self.distinct.add(slot, row);
    }

    /// The tallies, sorted by events descending, then key.
    pub(crate) fn finish(mut self) -> Vec<(K, Tally)> {
        self.distinct.count_into(&mut self.tallies);
        let mut out: Vec<(K, Tally)> = self
            .slots
            .into_iter()
            .map(|(k, slot)| (k, self.tallies[slot as usize]))
            .collect();
        out.sort_by(|a, b| b.1.events.cmp(&a.1.events).then_with(|| a.0.cmp(&b.0)));
        out
    }
}

/// Groups rows by `key` in a pass of its own (see [`Grouping`]).
pub(crate) fn group<K: std::hash::Hash + Ord + Copy>(
    store: &EventStore,
    distinct: Distinct,
    key: impl Fn(&Row) -> Option<K>,
) -> Vec<(K, Tally)> {
    let mut grouping = Grouping::new(store, distinct);
    store.for_each_row(|_, row| grouping.add(key(row), row));
    grouping.finish()
}

pub(crate) fn strs<'a>(groups: &[(Key<'a>, Tally)], f: impl Fn(&Key<'a>) -> &'a str) -> Column {
    Column::Str(groups.iter().map(|(k, _)| Some(f(k))).collect())
}

pub(crate) fn counts(groups: &[(Key<'_>, Tally)], f: impl Fn(&Tally) -> u64) -> Column {
    Column::Count(groups.iter().map(|(_, t)| f(t)).collect())
}

pub(crate) fn times(groups: &[(Key<'_>, Tally)], f: impl Fn(&Tally) -> i64) -> Column {
    Column::Time(groups.iter().map(|(_, t)| Some(f(t))).collect())
}

/// Access counts per principal.
pub fn by_principal(store: &EventStore) -> Table {
    principal_table(&group(store, PRINCIPAL_DISTINCT, |r| {
        principal_key(store, r)
    }))
}

fn principal_key<'s>(store: &'s EventStore, r: &Row) -> Option<Key<'s>> {
    Some((
        store.get(r, Col::Principal).unwrap_or(NO_KEY),
        store.get(r, Col::PrincipalType).unwrap_or("unknown"),
    ))
}

/// The distinct counts [`principal_table`] shows.
const PRINCIPAL_DISTINCT: Distinct = Distinct {
    secrets: true,
    principals: false,
    source_ips: true,
};

fn principal_table(g: &[(Key<'_>, Tally)]) -> Table {
    Table {
        name: "by_principal",
        columns: vec![
            ("principal", strs(g, |k| k.0)),
            ("principal_type", strs(g, |k| k.1)),
            ("events", counts(g, |t| t.events)),
            ("reads", counts(g, |t| t.reads)),
            ("batch_calls", counts(g, |t| t.batch_calls)),
            ("failed", counts(g, |t| t.failed)),
            ("first_seen", times(g, |t| t.first)),
            ("last_seen", times(g, |t| t.last)),
            ("secrets", counts(g, |t| t.secrets)),
            ("source_ips", counts(g, |t| t.source_ips)),
        ],
    }
}

/// Access counts per UTC hour, in time order.
pub fn by_hour(store: &EventStore) -> Table {
    hour_table(group(store, Distinct::PRINCIPALS, hour_key))
}

fn hour_key(row: &Row) -> Option<i64> {
    let t = jiff::Timestamp::from_microsecond(row.time_us).unwrap_or_default();
    Some(hour_floor(t).as_microsecond())
}

fn hour_table(mut g: Vec<(i64, Tally)>) -> Table {
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
                Column::Count(g.iter().map(|(_, t)| t.principals).collect()),
            ),
        ],
    }
}

/// Access counts per source IP (a string: it is not always an address).
pub fn by_source_ip(store: &EventStore) -> Table {
    source_ip_table(&group(store, Distinct::PRINCIPALS, |r| {
        source_ip_key(store, r)
    }))
}

fn source_ip_key<'s>(store: &'s EventStore, r: &Row) -> Option<Key<'s>> {
    Some((store.get(r, Col::SourceIp).unwrap_or(NO_KEY), ""))
}

fn source_ip_table(g: &[(Key<'_>, Tally)]) -> Table {
    keyed_table("by_source_ip", "source_ip", g)
}

/// Access counts per secret; batch records carry no single secret and are
/// left out, since each returned secret is also logged as a `GetSecretValue`.
/// A read that names no secret (a call that failed validation logs none)
/// counts under [`NO_KEY`], so the rows still sum to the reads.
pub fn by_secret(store: &EventStore) -> Table {
    secret_table(&group(store, Distinct::PRINCIPALS, |r| {
        secret_key(store, r)
    }))
}

fn secret_key<'s>(store: &'s EventStore, r: &Row) -> Option<Key<'s>> {
    if store.get(r, Col::EventName) == Some("BatchGetSecretValue") {
        return None;
    }
    Some((store.get(r, Col::Secret).unwrap_or(NO_KEY), ""))
}

fn secret_table(g: &[(Key<'_>, Tally)]) -> Table {
    keyed_table("by_secret", "secret", g)
}

fn keyed_table(name: &'static str, key: &'static str, g: &[(Key<'_>, Tally)]) -> Table {
    Table {
        name,
        columns: vec![
            (key, strs(g, |k| k.0)),
            ("events", counts(g, |t| t.events)),
            ("failed", counts(g, |t| t.failed)),
            ("principals", counts(g, |t| t.principals)),
            ("first_seen", times(g, |t| t.first)),
            ("last_seen", times(g, |t| t.last)),
        ],
    }
}

/// One row per matched event of a chunk, in the table's order.
pub fn events_table(chunk: &Chunk<'_, '_>) -> Table {
    let rows = chunk.rows;
    let col = |c: Col| Column::Str(rows.iter().map(|r| chunk.get(r, c)).collect());
    fn span<'c>(rows: &[Row], f: impl Fn(&Row) -> Option<&'c str>) -> Column {
        Column::Str(rows.iter().map(f).collect())
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
            (
                "session_arn",
                span(rows, |r| chunk.text(r, Text::SessionArn)),
            ),
            (
                "access_key_id",
                span(rows, |r| chunk.text(r, Text::AccessKeyId)),
            ),
            ("batch_request", span(rows, |r| chunk.batch_request(r))),
        ],
    }
}

/// The four aggregate reports, in the order they are shown, from one pass
/// over the table.
pub fn all_reports(store: &EventStore) -> Vec<Table> {
    let mut principals = Grouping::new(store, PRINCIPAL_DISTINCT);
    let mut hours = Grouping::new(store, Distinct::PRINCIPALS);
    let mut source_ips = Grouping::new(store, Distinct::PRINCIPALS);
    let mut secrets = Grouping::new(store, Distinct::PRINCIPALS);
    store.for_each_row(|_, r| {
        principals.add(principal_key(store, r), r);
        hours.add(hour_key(r), r);
        source_ips.add(source_ip_key(store, r), r);
        secrets.add(secret_key(store, r), r);
    });
    vec![
        principal_table(&principals.finish()),
        hour_table(hours.finish()),
        source_ip_table(&source_ips.finish()),
        secret_table(&secrets.finish()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::record::Event;

    /// (principal, source IP, secret, batch call, failed).
    type Spec = (
        &'static str,
        Option<&'static str>,
        Option<&'static str>,
        bool,
        bool,
    );

    fn store(specs: &[Spec]) -> EventStore {
        let mut store = EventStore::default();
        for (i, &(principal, source_ip, secret, batch, failed)) in specs.iter().enumerate() {
            let event_id = format!("id-{i}");
            let event = Event {
                event_time: None,
                event_time_text: None,
                event_source: Some("secretsmanager.amazonaws.com"),
                event_name: Some(if batch {
                    "BatchGetSecretValue"
                } else {
                    "GetSecretValue"
                }),
                principal: principal.to_string(),
                principal_type: "IAMUser",
                session_arn: None,
                access_key_id: None,
                account_id: Some("111122223333"),
                region: Some("us-east-1"),
                source_ip,
                user_agent: None,
                secret: secret.map(str::to_string),
                error_code: failed.then_some("AccessDenied"),
                event_id: Some(&event_id),
                request_id: None,
                read_only: Some(true),
                batch_request: None,
            };
            store.push(&event, i as i64 * 1_000_000, "o.json.gz");
        }
        store.sort_and_dedup(crate::events::Duplicates::CountOnce);
        store
    }

    /// A report's rows as (key, events, failed, then its distinct counts).
    fn rows(t: &Table, key: &str, distinct: &[&str]) -> Vec<(String, Vec<u64>)> {
        let Some(Column::Str(keys)) = t.column(key) else {
            panic!("{} has no {key}", t.name);
        };
        let count = |name: &str, i: usize| match t.column(name) {
            Some(Column::Count(v)) => v[i],
            _ => panic!("{} has no {name}", t.name),
        };
        (0..t.rows())
            .map(|i| {
                let mut n = vec![count("events", i), count("failed", i)];
                n.extend(distinct.iter().map(|d| count(d, i)));
                (keys.get(i).unwrap_or_default().to_string(), n)
            })
            .collect()
    }

    fn row(key: &str, n: &[u64]) -> (String, Vec<u64>) {
        (key.to_string(), n.to_vec())
    }

    #[test]
    fn a_string_column_gives_back_each_value_missing_empty_or_not() {
        let values = [Some("é→"), None, Some(""), Some("10.0.0.1"), None];
        let column = StrColumn::from(values);
        assert_eq!(column.len(), 5);
        assert_eq!(column.iter().collect::<Vec<_>>(), values);
        assert_eq!((column.get(1), column.get(2)), (None, Some("")));
        assert!(StrColumn::default().is_empty());
    }

    #[test]
    fn reports_count_events_failures_and_distinct_values_per_key() {
        let s = store(&[
            ("alice", Some("10.0.0.1"), Some("s1"), false, false),
            ("alice", Some("10.0.0.1"), Some("s2"), false, true),
            ("bob", Some("10.0.0.1"), Some("s1"), false, false),
            ("bob", None, None, true, false),
            ("bob", Some("unknown"), Some("s1"), false, false),
            ("carol", Some("unknown"), Some("s3"), false, false),
            ("dave", None, None, false, false),
        ]);
        // A missing address is a row of its own, apart from one spelled `unknown`.
        assert_eq!(
            rows(&by_source_ip(&s), "source_ip", &["principals"]),
            [
                row("10.0.0.1", &[3, 1, 2]),
                row("(none)", &[2, 0, 2]),
                row("unknown", &[2, 0, 2])
            ]
        );
        assert_eq!(
            rows(
                &by_principal(&s),
                "principal",
                &["reads", "batch_calls", "secrets", "source_ips"]
            ),
            [
                row("bob", &[3, 0, 2, 1, 1, 3]),
                row("alice", &[2, 1, 2, 0, 2, 1]),
                row("carol", &[1, 0, 1, 0, 1, 1]),
                row("dave", &[1, 0, 1, 0, 0, 1]),
            ]
        );
        // The batch call names no single secret and is left out; a read that
        // names none counts under `(none)`, so the rows sum to the reads.
        assert_eq!(
            rows(&by_secret(&s), "secret", &["principals"]),
            [
                row("s1", &[3, 0, 2]),
                row("(none)", &[1, 0, 1]),
                row("s2", &[1, 1, 1]),
                row("s3", &[1, 0, 1])
            ]
        );
        let Some(Column::Count(principals)) = by_hour(&s).column("principals").cloned() else {
            panic!("by_hour has no principals");
        };
        assert_eq!(principals, [4]);
        // One shared pass gives what a pass per report gives.
        assert_eq!(
            all_reports(&s),
            [
                by_principal(&s),
                by_hour(&s),
                by_source_ip(&s),
                by_secret(&s)
            ]
        );
    }
}
