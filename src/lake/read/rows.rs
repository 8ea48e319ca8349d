//! One part file's rows, a row group at a time: the report's events built
//! from the normalised columns, and the records a visitor asks for fed to
//! it from the `record` column, one object at a time.
//!
//! Small columns (time, names, object) are read whole; the wide ones
//! (`record`, the identity columns) only for the rows that passed them, so
//! the pages of rows nobody wants are never decompressed.

use std::collections::HashMap;

use anyhow::{Context, Result};
use jiff::Timestamp;
use parquet::data_type::ByteArray;
use parquet::file::reader::RowGroupReader;

use super::columns::{read_bools, read_bytes, read_ints, text, LakeFile};
use super::{Lake, LakeQuery};
use crate::events::EventStore;
use crate::read::record::Event;
use crate::scan::RecordVisitor;

/// Which objects' records a pass over a file feeds to the visitor.
#[derive(Clone, Copy)]
pub enum ObjectScope<'s> {
    /// Objects whose rows all live in this file (phase one), and the
    /// report's events from every row.
    OwnedBy(usize),
    /// These objects only, whose rows span several files; no events.
    Only(&'s std::collections::HashSet<&'s str>),
}

/// What one pass over files gathered.
pub struct Gathered<S> {
    pub store: EventStore,
    /// Per object, the visitor's state (its records visited in order).
    pub objects: HashMap<String, S>,
    pub matched: u64,
    pub row_groups: u64,
    pub row_groups_pruned: u64,
}

impl<S> Gathered<S> {
    /// Moves another pass's events and counts into this one (its objects'
    /// states must have been ended already).
    pub fn absorb(&mut self, o: Gathered<S>) {
        self.store.merge(o.store);
        self.matched += o.matched;
        self.row_groups += o.row_groups;
        self.row_groups_pruned += o.row_groups_pruned;
    }

    pub fn new() -> Self {
        Gathered {
            store: EventStore::default(),
            objects: HashMap::new(),
            matched: 0,
            row_groups: 0,
            row_groups_pruned: 0,
        }
    }
}

/// The report columns after `event_source` and `event_name`, in the order
/// [`push_events`] reads them.
const EVENT_TEXTS: [&str; 13] = [
    "principal",
    "principal_type",
    "account_id",
    "aws_region",
    "source_ip",
    "user_agent",
    "secret",
    "error_code",
    "event_id",
    "request_id",
    "session_arn",
    "access_key_id",
    "batch_request",
];

/// A pass over one file.
pub struct FilePass<'a, V: RecordVisitor> {
    pub lake: &'a Lake,
    pub query: &'a LakeQuery<'a>,
    pub visitor: Option<&'a V>,
    /// Objects whose rows all live in one file, and that file.
    pub owners: &'a HashMap<&'a str, usize>,
    pub scope: ObjectScope<'a>,
}

impl<V: RecordVisitor> FilePass<'_, V> {
    /// Reads file `index` into `out`.
    pub fn run(&self, index: usize, out: &mut Gathered<V::State>) -> Result<()> {
        let path = &self.lake.files[index].path;
        let file = LakeFile::open(path)?;
        for rg in 0..file.row_groups() {
            crate::interrupt::check()?;
            self.row_group(&file, index, rg, out)
                .with_context(|| format!("reading {} (row group {rg})", path.display()))?;
            out.store.spill_if_large();
        }
        Ok(())
    }

    fn row_group(
        &self,
        file: &LakeFile,
        index: usize,
        i: usize,
        out: &mut Gathered<V::State>,
    ) -> Result<()> {
        let q = self.query;
        let time_col = file.column("event_time")?;
        if let Some((lo, hi)) = file.int_range(i, time_col) {
            if !q.window_meets(lo, hi) {
                out.row_groups_pruned += 1;
                return Ok(());
            }
        }
        out.row_groups += 1;
        let rg = file.row_group(i)?;
        let rg = rg.as_ref();
        let all = vec![true; file.rows(i)];
        let times = read_ints(rg, time_col, &all)?;
        // Without a visitor, a key selection or stale rows, only the rows
        // picked need their object.
        let per_row = self.visitor.is_some()
            || q.keys.is_narrowed()
            || self.lake.has_stale(index)
            || matches!(self.scope, ObjectScope::Only(_));
        let objects = match per_row {
            true => read_bytes(rg, file.column("object")?, &all)?,
            false => Vec::new(),
        };
        let mut mask: Vec<bool> = times
            .iter()
            .map(|t| t.is_some_and(|t| q.in_window(t)))
            .collect();
        for (m, o) in mask.iter_mut().zip(&objects) {
            *m &= text(o).is_some_and(|k| q.keys.key(k) && self.lake.current(index, k));
            if let ObjectScope::Only(keys) = self.scope {
                *m &= text(o).is_some_and(|k| keys.contains(k));
            }
        }
        if !mask.iter().any(|m| *m) {
            return Ok(());
        }
        if q.selects_events() && matches!(self.scope, ObjectScope::OwnedBy(_)) {
            self.push_events(file, rg, &mask, &times, &objects, out)?;
        }
        if let Some(v) = self.visitor {
            self.visit_records(v, file, rg, mask, &objects, out)?;
        }
        Ok(())
    }

    /// Files the rows the selection picks as the report's events.
    fn push_events(
        &self,
        file: &LakeFile,
        rg: &dyn RowGroupReader,
        mask: &[bool],
        times: &[Option<i64>],
        objects: &[Option<ByteArray>],
        out: &mut Gathered<V::State>,
    ) -> Result<()> {
        let sources = read_bytes(rg, file.column("event_source")?, mask)?;
        let names = read_bytes(rg, file.column("event_name")?, mask)?;
        let rows: Vec<usize> = (0..mask.len()).filter(|&r| mask[r]).collect();
        let mut picked = vec![false; mask.len()];
        for (k, &r) in rows.iter().enumerate() {
            picked[r] = self
                .query
                .selection
                .selects(text(&sources[k]), text(&names[k]));
        }
        if !picked.iter().any(|p| *p) {
            return Ok(());
        }
        let cols = EVENT_TEXTS
            .iter()
            .map(|name| read_bytes(rg, file.column(name)?, &picked))
            .collect::<Result<Vec<_>>>()?;
        let read_only = read_bools(rg, file.column("read_only")?, &picked)?;
        let picked_objects = match objects.is_empty() {
            true => read_bytes(rg, file.column("object")?, &picked)?,
            false => Vec::new(),
        };
        let mut j = 0;
        for (k, &r) in rows.iter().enumerate() {
            if !picked[r] {
                continue;
            }
            let c = |n: usize| text(&cols[n][j]);
            let event = Event {
                event_time: None,
                event_time_text: None,
                event_source: text(&sources[k]),
                event_name: text(&names[k]),
                principal: c(0).unwrap_or("unknown").to_string(),
                principal_type: c(1).unwrap_or("unknown"),
                account_id: c(2),
                region: c(3),
                source_ip: c(4),
                user_agent: c(5),
                secret: c(6).map(str::to_string),
                error_code: c(7),
                event_id: c(8),
                request_id: c(9),
                session_arn: c(10),
                access_key_id: c(11),
                read_only: read_only[j],
                batch_request: c(12).map(str::to_string),
            };
            let time = times[r].unwrap_or_default();
            let object = objects.get(r).unwrap_or_else(|| &picked_objects[j]);
            out.store.push(&event, time, text(object).unwrap_or(""));
            out.matched += 1;
            j += 1;
        }
        Ok(())
    }

    /// Feeds the wanted records of the scope's objects to the visitor, each
    /// object's in its own state and in the order they were in the object.
    fn visit_records(
        &self,
        v: &V,
        file: &LakeFile,
        rg: &dyn RowGroupReader,
        mut mask: Vec<bool>,
        objects: &[Option<ByteArray>],
        out: &mut Gathered<V::State>,
    ) -> Result<()> {
        if let ObjectScope::OwnedBy(f) = self.scope {
            for (m, o) in mask.iter_mut().zip(objects) {
                *m &= text(o).is_some_and(|k| self.owners.get(k) == Some(&f));
            }
        }
        self.query.rows.narrow(file, rg, &mut mask)?;
        if !mask.iter().any(|m| *m) {
            return Ok(());
        }
        let records = read_bytes(rg, file.column("record")?, &mask)?;
        let index = read_ints(rg, file.column("record_index")?, &mask)?;
        let rows: Vec<usize> = (0..mask.len()).filter(|&r| mask[r]).collect();
        let mut order: Vec<usize> = (0..rows.len()).collect();
        let key_of = |k: usize| text(&objects[rows[k]]).unwrap_or("");
        order.sort_by(|&a, &b| (key_of(a), index[a]).cmp(&(key_of(b), index[b])));
        for k in order {
            let (key, Some(raw)) = (key_of(k), records[k].as_ref()) else {
                continue;
            };
            let raw = raw.data();
            if !v.wants(raw) {
                continue;
            }
            let state = match out.objects.get_mut(key) {
                Some(s) => s,
                None => out.objects.entry(key.to_string()).or_insert(v.new_state()),
            };
            let at = index[k].unwrap_or_default().max(0) as usize;
            visit_one(v, state, key, at, raw);
        }
        Ok(())
    }
}

/// The objects file `index` holds current rows of, among those the query
/// selects, in row groups whose time range meets the window.
pub fn objects_in(lake: &Lake, query: &LakeQuery<'_>, index: usize) -> Result<Vec<String>> {
    let path = &lake.files[index].path;
    let file = LakeFile::open(path)?;
    let (time_col, object_col) = (file.column("event_time")?, file.column("object")?);
    let mut keys = std::collections::BTreeSet::new();
    for i in 0..file.row_groups() {
        if file
            .int_range(i, time_col)
            .is_some_and(|(lo, hi)| !query.window_meets(lo, hi))
        {
            continue;
        }
        let rg = file.row_group(i)?;
        let objects = read_bytes(rg.as_ref(), object_col, &vec![true; file.rows(i)])
            .with_context(|| format!("reading {} (row group {i})", path.display()))?;
        for k in objects.iter().filter_map(text) {
            if !keys.contains(k) && query.keys.key(k) && lake.current(index, k) {
                keys.insert(k.to_string());
            }
        }
    }
    Ok(keys.into_iter().collect())
}

/// Visits one record. Without a tape the visitor finds its fields itself,
/// as it does for records the scan could not index.
fn visit_one<V: RecordVisitor>(v: &V, state: &mut V::State, key: &str, index: usize, raw: &[u8]) {
    v.visit(state, key, index, raw, None);
}

/// Microseconds as a timestamp (out of range: the epoch, never in a window test).
pub fn timestamp(us: i64) -> Timestamp {
    Timestamp::from_microsecond(us).unwrap_or(Timestamp::UNIX_EPOCH)
}
