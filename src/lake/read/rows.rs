//! One part file's rows, a row group at a time: the report's events built
//! from the normalised columns, and the records a visitor asks for fed to
//! it from the `record` column, one object at a time.
//!
//! Small columns (time, names, object) are read whole; the wide ones
//! (`record`, the identity columns) only for the rows that passed them, so
//! the pages of rows nobody wants are never decompressed.

use rustc_hash::FxHashMap;

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
    /// Every object (to find which files hold which objects).
    Any,
}

/// What one pass over files gathered.
pub struct Gathered<S> {
    pub store: EventStore,
    /// Per object, the visitor's state (its records visited in order).
    pub objects: FxHashMap<String, S>,
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
            objects: FxHashMap::default(),
            matched: 0,
            row_groups: 0,
            row_groups_pruned: 0,
        }
    }
}

/// The report columns after `event_source` and `event_name`, in the order
/// `push_events` reads them.
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
    pub owners: &'a FxHashMap<&'a str, usize>,
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
        let mask: Vec<bool> = times
            .iter()
            .map(|t| t.is_some_and(|t| q.in_window(t)))
            .collect();
        if !mask.iter().any(|m| *m) {
            return Ok(());
        }
        if q.selects_events() && matches!(self.scope, ObjectScope::OwnedBy(_)) {
            self.push_events(file, index, rg, &mask, &times, out)?;
        }
        if let Some(v) = self.visitor {
            let (mask, objects) =
                visitor_rows(self.lake, q, self.owners, self.scope, file, index, rg, mask)?;
            if mask.iter().any(|m| *m) {
                self.visit_records(v, file, rg, mask, &objects, out)?;
            }
        }
        Ok(())
    }

    /// Files the rows the selection picks as the report's events.
    fn push_events(
        &self,
        file: &LakeFile,
        index: usize,
        rg: &dyn RowGroupReader,
        mask: &[bool],
        times: &[Option<i64>],
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
        let objects = read_bytes(rg, file.column("object")?, &picked)?;
        let q = self.query;
        let mut j = 0;
        for (k, &r) in rows.iter().enumerate() {
            if !picked[r] {
                continue;
            }
            let c = |n: usize| text(&cols[n][j]);
            let object = text(&objects[j]).unwrap_or("");
            if !(q.keys.key(object) && self.lake.current(index, object)) {
                j += 1;
                continue;
            }
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
            out.store.push(&event, time, object);
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
        mask: Vec<bool>,
        objects: &[Option<ByteArray>],
        out: &mut Gathered<V::State>,
    ) -> Result<()> {
        let records = read_bytes(rg, file.column("record")?, &mask)?;
        let index = read_ints(rg, file.column("record_index")?, &mask)?;
        let rows: Vec<usize> = (0..mask.len()).filter(|&r| mask[r]).collect();
        let key_of = |k: usize| text(&objects[rows[k]]).unwrap_or("");
        // Each object's records in their order there: by (object, index),
        // objects numbered first so the sort compares integers.
        let mut ids: FxHashMap<&str, u32> = FxHashMap::default();
        let mut order: Vec<(u32, i64, usize)> = (0..rows.len())
            .map(|k| {
                let next = ids.len() as u32;
                let id = *ids.entry(key_of(k)).or_insert(next);
                (id, index[k].unwrap_or_default(), k)
            })
            .collect();
        order.sort_unstable();
        let mut tape = v.tape_depth().map(crate::read::structural::Tape::new);
        for (_, _, k) in order {
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
            visit_one(v, state, key, at, raw, tape.as_mut());
        }
        Ok(())
    }
}

/// The objects file `index` holds current rows of that a visitor may
/// want (see [`visitor_rows`]), in row groups whose time range meets the window.
pub fn objects_in(lake: &Lake, query: &LakeQuery<'_>, index: usize) -> Result<Vec<String>> {
    let path = &lake.files[index].path;
    let file = LakeFile::open(path)?;
    let time_col = file.column("event_time")?;
    let owners = FxHashMap::default();
    let mut keys = std::collections::BTreeSet::new();
    for i in 0..file.row_groups() {
        if file
            .int_range(i, time_col)
            .is_some_and(|(lo, hi)| !query.window_meets(lo, hi))
        {
            continue;
        }
        let rg = file.row_group(i)?;
        let rg = rg.as_ref();
        let read = || -> Result<_> {
            let times = read_ints(rg, time_col, &vec![true; file.rows(i)])?;
            let mask = times
                .iter()
                .map(|t| t.is_some_and(|t| query.in_window(t)))
                .collect();
            visitor_rows(
                lake,
                query,
                &owners,
                ObjectScope::Any,
                &file,
                index,
                rg,
                mask,
            )
        };
        let (mask, objects) =
            read().with_context(|| format!("reading {} (row group {i})", path.display()))?;
        let mut last: Option<&str> = None;
        for k in objects
            .iter()
            .zip(&mask)
            .filter(|(_, m)| **m)
            .filter_map(|(o, _)| text(o))
        {
            if last != Some(k) && !keys.contains(k) {
                keys.insert(k.to_string());
            }
            last = Some(k);
        }
    }
    Ok(keys.into_iter().collect())
}

/// Visits one record, with its tape when the visitor reads one (made as
/// the raw scan makes it, from the record's first byte).
fn visit_one<V: RecordVisitor>(
    v: &V,
    state: &mut V::State,
    key: &str,
    index: usize,
    raw: &[u8],
    tape: Option<&mut crate::read::structural::Tape>,
) {
    let indexed = match tape {
        Some(t) => crate::read::structural::index_container(raw, 0, t)
            .is_ok()
            .then_some(&*t),
        None => None,
    };
    v.visit(state, key, index, raw, indexed);
}

/// The rows a visitor may want among `mask`'s: those the query's row
/// filter lets through, of selected objects' current rows in `scope`; and
/// each row's object (for those rows).
#[allow(clippy::too_many_arguments)]
pub fn visitor_rows(
    lake: &Lake,
    q: &LakeQuery<'_>,
    owners: &FxHashMap<&str, usize>,
    scope: ObjectScope<'_>,
    file: &LakeFile,
    index: usize,
    rg: &dyn RowGroupReader,
    mut mask: Vec<bool>,
) -> Result<(Vec<bool>, Vec<Option<ByteArray>>)> {
    q.rows.narrow(file, rg, &mut mask)?;
    if !mask.iter().any(|m| *m) {
        return Ok((mask, Vec::new()));
    }
    let read = read_bytes(rg, file.column("object")?, &mask)?;
    let mut read = read.into_iter();
    let objects: Vec<Option<ByteArray>> = mask
        .iter()
        .map(|&m| if m { read.next().flatten() } else { None })
        .collect();
    // Rows of one object come in runs; judge each run once.
    let mut last: Option<(&[u8], bool)> = None;
    for (m, o) in mask.iter_mut().zip(&objects) {
        if !*m {
            continue;
        }
        let Some(o) = o else {
            *m = false;
            continue;
        };
        if let Some((bytes, ok)) = last {
            if bytes == o.data() {
                *m = ok;
                continue;
            }
        }
        let ok = std::str::from_utf8(o.data()).is_ok_and(|k| {
            q.keys.key(k)
                && lake.current(index, k)
                && match scope {
                    ObjectScope::OwnedBy(f) => owners.get(k) == Some(&f),
                    ObjectScope::Only(keys) => keys.contains(k),
                    ObjectScope::Any => true,
                }
        });
        last = Some((o.data(), ok));
        *m = ok;
    }
    Ok((mask, objects))
}

/// Microseconds as a timestamp (out of range: the epoch, never in a window test).
pub fn timestamp(us: i64) -> Timestamp {
    Timestamp::from_microsecond(us).unwrap_or(Timestamp::UNIX_EPOCH)
}
