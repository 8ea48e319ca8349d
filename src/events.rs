//! The matched-event table: compact, interned rows built by each worker and
//! merged once at the end.
//!
//! Repeated strings (principals, IPs, user agents, secrets, object names) are
//! stored once per worker; nearly unique ones (event and request ids, session
//! ARNs, access keys) go into an arena, which on disk is per chunk. A row
//! costs about 200 bytes. So that memory does not follow the number of
//! matched events either, a worker holding more than
//! [`spill_rows`] rows sorts them into a run in an unnamed temporary file
//! (strings written out in full) and starts afresh; the final sort merges
//! the runs into a table on disk, read back a chunk at a time by
//! [`EventStore::for_each_chunk`]. Memory then holds one chunk, the distinct
//! strings and a 16-byte key per event id (for de-duplication).

mod spill;

use std::fs::File;
use std::hash::BuildHasher;
use std::io::{BufWriter, Seek, SeekFrom, Write};

use rustc_hash::{FxBuildHasher, FxHashSet};

use crate::read::record::Event;
pub use spill::temp_file;
use spill::{encode_bool, read_chunk, write_str, FullRow};

/// Rows a worker keeps in memory before sorting them into a run on disk;
/// `CTSCAN_SPILL_ROWS` overrides it (tests use tiny values).
pub fn spill_rows() -> usize {
    static ROWS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *ROWS.get_or_init(|| {
        std::env::var("CTSCAN_SPILL_ROWS")
            .ok()
            .and_then(|v| v.parse().ok())
            .filter(|&n| n > 0)
            .unwrap_or(16_384)
    })
}

/// Rows per chunk handed to [`EventStore::for_each_chunk`] (and per
/// row group of `events.parquet`).
pub const CHUNK_ROWS: usize = 16_384;

/// The interned string columns of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub enum Col {
    EventSource,
    EventName,
    Principal,
    PrincipalType,
    AccountId,
    Region,
    SourceIp,
    UserAgent,
    Secret,
    ErrorCode,
    Object,
}

const INTERNED: usize = 11;
const NONE: u32 = u32::MAX;

/// The columns kept as text beside each row (in the chunk's arena) rather
/// than interned: values that are nearly unique per event, which would
/// otherwise stay in the table-wide interner, and in memory, for the whole
/// run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub enum Text {
    EventId,
    RequestId,
    BatchRequest,
    SessionArn,
    AccessKeyId,
}

const TEXTS: usize = 5;
/// Every field of a row: the interned columns, then the texts.
pub const FIELDS: usize = INTERNED + TEXTS;

/// A string in the arena.
#[derive(Debug, Clone, Copy, Default)]
struct Span {
    start: usize,
    len: u32,
    present: bool,
}

/// One matched event.
#[derive(Debug, Clone)]
pub struct Row {
    /// `eventTime` in microseconds since the Unix epoch (UTC).
    pub time_us: i64,
    interned: [u32; INTERNED],
    texts: [Span; TEXTS],
    /// `readOnly`, when the record says.
    pub read_only: Option<bool>,
}

impl Row {
    /// An interned column's string id: equal ids are equal strings, within
    /// the store the row came from.
    pub fn id(&self, col: Col) -> Option<u32> {
        Some(self.interned[col as usize]).filter(|&id| id != NONE)
    }
}

/// Strings stored once, addressed by index. The table holds only ids and
/// finds a string by hashing the one its id points at, so each string is
/// kept in memory once, not twice (as a map key and in the list).
#[derive(Default)]
struct Interner {
    ids: hashbrown::HashTable<u32>,
    strings: Vec<Box<str>>,
}

impl std::fmt::Debug for Interner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interner")
            .field("strings", &self.strings.len())
            .finish()
    }
}

impl Interner {
    fn find(&self, s: &str, hash: u64) -> Option<u32> {
        let strings = &self.strings;
        self.ids
            .find(hash, |&id| &*strings[id as usize] == s)
            .copied()
    }

    fn intern(&mut self, s: &str) -> u32 {
        let hash = FxBuildHasher.hash_one(s);
        if let Some(id) = self.find(s, hash) {
            return id;
        }
        let id = self.strings.len() as u32;
        self.strings.push(s.into());
        let strings = &self.strings;
        self.ids.insert_unique(hash, id, |&id| {
            FxBuildHasher.hash_one(&*strings[id as usize])
        });
        id
    }
}

/// A table of matched events.
#[derive(Debug, Default)]
pub struct EventStore {
    strings: Interner,
    arena: String,
    rows: Vec<Row>,
    /// Sorted runs on disk, strings written out in full.
    runs: Vec<File>,
    /// Rows in `runs`.
    spilled: usize,
    /// The merged table on disk, once runs were merged.
    merged: Option<Merged>,
    /// Rows held before a run is written; 0 means [`spill_rows`].
    spill_at: usize,
    /// Makes writing the merged table fail, to test the fallback.
    #[cfg(test)]
    fail_table: bool,
}

/// The sorted table on disk: chunks of rows with their own arenas.
#[derive(Debug)]
struct Merged {
    file: File,
    /// Each chunk's offset.
    chunks: Vec<u64>,
    rows: usize,
    /// The first and last row's times.
    span: Option<(i64, i64)>,
}

/// A slice of the table in order, with the arena its spans point into.
pub struct Chunk<'s, 'c> {
    store: &'s EventStore,
    pub rows: &'c [Row],
    arena: &'c str,
}

impl<'s> Chunk<'s, '_> {
    /// An interned column's value.
    pub fn get(&self, row: &Row, col: Col) -> Option<&'s str> {
        self.store.get(row, col)
    }

    /// A text column's value.
    pub fn text(&self, row: &Row, text: Text) -> Option<&str> {
        span_text(self.arena, row.texts[text as usize])
    }

    /// The row's `eventID`.
    pub fn event_id(&self, row: &Row) -> Option<&str> {
        self.text(row, Text::EventId)
    }

    /// The row's `requestID`.
    pub fn request_id(&self, row: &Row) -> Option<&str> {
        self.text(row, Text::RequestId)
    }

    /// A batch call's id list or filters, as JSON.
    pub fn batch_request(&self, row: &Row) -> Option<&str> {
        self.text(row, Text::BatchRequest)
    }
}

impl EventStore {
    /// Appends an event found in `object`; the event must carry a time.
    pub fn push(&mut self, ev: &Event<'_>, time_us: i64, object: &str) {
        let mut interned = [NONE; INTERNED];
        let mut set = |col: Col, v: Option<&str>| {
            if let Some(v) = v {
                interned[col as usize] = self.strings.intern(v);
            }
        };
        set(Col::EventSource, ev.event_source);
        set(Col::EventName, ev.event_name);
        set(Col::Principal, Some(&ev.principal));
        set(Col::PrincipalType, Some(ev.principal_type));
        set(Col::AccountId, ev.account_id);
        set(Col::Region, ev.region);
        set(Col::SourceIp, ev.source_ip);
        set(Col::UserAgent, ev.user_agent);
        set(Col::Secret, ev.secret.as_deref());
        set(Col::ErrorCode, ev.error_code);
        set(Col::Object, Some(object));
        let mut texts = [Span::default(); TEXTS];
        for (text, value) in [
            (Text::EventId, ev.event_id),
            (Text::RequestId, ev.request_id),
            (Text::BatchRequest, ev.batch_request.as_deref()),
            (Text::SessionArn, ev.session_arn),
            (Text::AccessKeyId, ev.access_key_id),
        ] {
            texts[text as usize] = stash(&mut self.arena, value);
        }
        let row = Row {
            time_us,
            interned,
            texts,
            read_only: ev.read_only,
        };
        self.rows.push(row);
    }

    /// Appends a row read back from a table this store wrote
    /// (`events.parquet`, for `merge`): the interned columns in [`Col`]
    /// order, then the texts in [`Text`] order.
    pub fn push_fields(
        &mut self,
        time_us: i64,
        read_only: Option<bool>,
        fields: &[Option<&str>; FIELDS],
    ) {
        let mut interned = [NONE; INTERNED];
        for (id, value) in interned.iter_mut().zip(&fields[..INTERNED]) {
            if let Some(v) = value {
                *id = self.strings.intern(v);
            }
        }
        let mut texts = [Span::default(); TEXTS];
        for (span, value) in texts.iter_mut().zip(&fields[INTERNED..]) {
            *span = stash(&mut self.arena, *value);
        }
        self.rows.push(Row {
            time_us,
            interned,
            texts,
            read_only,
        });
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        match &self.merged {
            Some(m) => m.rows,
            None => self.spilled + self.rows.len(),
        }
    }

    /// Whether the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops rows past `len`: the events of a file that failed part-way.
    /// Runs are only written between files, so `len` is never inside one.
    pub fn truncate(&mut self, len: usize) {
        self.rows.truncate(len.saturating_sub(self.spilled));
    }

    /// Calls `f` with every row in order, [`CHUNK_ROWS`] at a time.
    pub fn for_each_chunk(&self, mut f: impl FnMut(&Chunk<'_, '_>)) {
        let Some(m) = &self.merged else {
            for rows in self.rows.chunks(CHUNK_ROWS) {
                f(&Chunk {
                    store: self,
                    rows,
                    arena: &self.arena,
                });
            }
            return;
        };
        let (mut rows, mut arena, mut buf) = (Vec::new(), String::new(), Vec::new());
        for &offset in &m.chunks {
            read_chunk(&m.file, offset, &mut buf, &mut rows, &mut arena)
                .expect("reading ctscan's temporary event table back");
            f(&Chunk {
                store: self,
                rows: &rows,
                arena: &arena,
            });
        }
    }

    /// A chunk of no rows, for the shape of an empty table.
    pub fn empty_chunk(&self) -> Chunk<'_, '_> {
        Chunk {
            store: self,
            rows: &[],
            arena: "",
        }
    }

    /// Calls `f` with every row in order, and the chunk that holds it.
    pub fn for_each_row(&self, mut f: impl FnMut(&Chunk<'_, '_>, &Row)) {
        self.for_each_chunk(|c| c.rows.iter().for_each(|r| f(c, r)));
    }

    /// The earliest and latest event times.
    pub fn time_span(&self) -> Option<(i64, i64)> {
        if let Some(m) = &self.merged {
            return m.span;
        }
        let mut span: Option<(i64, i64)> = None;
        self.for_each_chunk(|c| {
            for r in c.rows {
                let (lo, hi) = span.get_or_insert((r.time_us, r.time_us));
                (*lo, *hi) = ((*lo).min(r.time_us), (*hi).max(r.time_us));
            }
        });
        span
    }

    /// Sorts this worker's rows into a run on disk once there are many;
    /// called between files. A store that cannot write a run keeps its
    /// rows in memory.
    pub fn spill_if_large(&mut self) {
        let limit = match self.spill_at {
            0 => spill_rows(),
            n => n,
        };
        if self.rows.len() < limit {
            return;
        }
        if let Ok(run) = self.write_run() {
            self.runs.push(run);
            self.spilled += self.rows.len();
            self.rows.clear();
            self.arena.clear();
            self.strings = Interner::default();
        }
    }

    fn write_run(&mut self) -> std::io::Result<File> {
        self.sort();
        let file = temp_file()?;
        let mut out = BufWriter::new(&file);
        for row in &self.rows {
            out.write_all(&row.time_us.to_le_bytes())?;
            out.write_all(&[encode_bool(row.read_only)])?;
            for col in 0..INTERNED {
                write_str(&mut out, self.string(row.interned[col]))?;
            }
            for span in row.texts {
                write_str(&mut out, self.span(span))?;
            }
        }
        out.flush()?;
        drop(out);
        Ok(file)
    }

    /// Sorts the table and drops repeated event ids (see [`Self::sort`] and
    /// [`Self::dedup_event_ids`]), or only counts them when `keep` is set;
    /// returns how many there were. With runs
    /// on disk, merges them into the on-disk table; if that table cannot be
    /// written (the disk filled up, say), the runs are read back and the
    /// table is held in memory instead.
    pub fn sort_and_dedup(&mut self, keep: Duplicates) -> u64 {
        if !self.runs.is_empty() {
            if let Ok(dups) = self.merge_runs(keep) {
                return dups;
            }
            self.load_runs()
                .expect("reading ctscan's temporary event runs back");
        }
        self.sort();
        self.dedup_event_ids(keep)
    }

    fn merge_runs(&mut self, keep: Duplicates) -> std::io::Result<u64> {
        if !self.rows.is_empty() {
            let run = self.write_run()?;
            self.runs.push(run);
            self.spilled += self.rows.len();
            self.rows.clear();
            self.arena.clear();
            self.strings = Interner::default();
        }
        #[cfg(test)]
        if self.fail_table {
            return Err(std::io::Error::other("a full disk, for the test"));
        }
        // The store keeps its runs until the table is whole, so a failure
        // can still fall back on them.
        let handles = self
            .runs
            .iter()
            .map(File::try_clone)
            .collect::<std::io::Result<Vec<_>>>()?;
        let mut runs = spill::RunMerge::new(handles)?;
        let mut table = spill::TableWriter::new()?;
        let mut strings = Interner::default();
        let mut seen: FxHashSet<u128> = FxHashSet::default();
        let mut dups = 0;
        while let Some(row) = runs.next_row()? {
            if row
                .field(INTERNED)
                .is_some_and(|id| !seen.insert(event_id_key(id)))
            {
                dups += 1;
                if keep == Duplicates::CountOnce {
                    continue;
                }
            }
            let (rows, arena) = table.buffers();
            rows.push(full_to_row(&mut strings, &row, arena));
            table.pushed(row.time_us)?;
        }
        self.merged = Some(table.finish()?);
        self.strings = strings;
        self.runs.clear();
        self.spilled = 0;
        Ok(dups)
    }

    /// Reads every run back into memory, after the table could not be written.
    fn load_runs(&mut self) -> std::io::Result<()> {
        for mut run in std::mem::take(&mut self.runs) {
            run.seek(SeekFrom::Start(0))?;
            let mut reader = std::io::BufReader::new(run);
            while let Some(full) = spill::read_full_row(&mut reader)? {
                let row = full_to_row(&mut self.strings, &full, &mut self.arena);
                self.rows.push(row);
            }
        }
        self.spilled = 0;
        Ok(())
    }

    /// The id of an interned string, if any row holds it.
    pub fn id_of(&self, s: &str) -> Option<u32> {
        self.strings.find(s, FxBuildHasher.hash_one(s))
    }

    /// An interned column's value.
    pub fn get(&self, row: &Row, col: Col) -> Option<&str> {
        self.string(row.interned[col as usize])
    }

    /// The interned string `id` names (none for [`NONE`]).
    fn string(&self, id: u32) -> Option<&str> {
        (id != NONE).then(|| &*self.strings.strings[id as usize])
    }

    fn span(&self, span: Span) -> Option<&str> {
        span_text(&self.arena, span)
    }

    /// Moves `other`'s rows into `self`, re-interning its strings. The
    /// smaller store is the one copied; row order is settled by [`Self::sort`].
    pub fn merge(&mut self, mut other: EventStore) {
        if other.rows.len() > self.rows.len() {
            std::mem::swap(self, &mut other);
        }
        self.runs.append(&mut other.runs);
        self.spilled += other.spilled;
        let remap: Vec<u32> = other
            .strings
            .strings
            .iter()
            .map(|s| self.strings.intern(s))
            .collect();
        let base = self.arena.len();
        self.arena.push_str(&other.arena);
        self.rows.reserve(other.rows.len());
        for mut row in other.rows {
            for id in row.interned.iter_mut().filter(|id| **id != NONE) {
                *id = remap[*id as usize];
            }
            for span in &mut row.texts {
                span.start += base;
            }
            self.rows.push(row);
        }
    }

    /// Sorts by time, then event id, then object, then every other field,
    /// so the order depends on the rows alone: output is byte-stable
    /// whatever the thread count, and runs merge into the same table.
    pub fn sort(&mut self) {
        let mut rows = std::mem::take(&mut self.rows);
        // Times rarely tie, and the whole key costs sixteen string lookups.
        rows.sort_by(|a, b| {
            a.time_us
                .cmp(&b.time_us)
                .then_with(|| self.order_key(a).cmp(&self.order_key(b)))
        });
        self.rows = rows;
    }

    /// The fields in the table's order (see [`FullRow::key`]).
    fn order_key(&self, r: &Row) -> (i64, [Option<&str>; FIELDS], u8) {
        let mut fields = [None; FIELDS];
        for (slot, field) in fields.iter_mut().zip(spill::KEY_ORDER) {
            *slot = match field.checked_sub(INTERNED) {
                Some(text) => self.span(r.texts[text]),
                None => self.string(r.interned[field]),
            };
        }
        (r.time_us, fields, encode_bool(r.read_only))
    }

    /// Removes every row whose `eventID` was already seen (a re-delivery or a
    /// copied file), keeping the first in the current order, or only counts
    /// them with [`Duplicates::Keep`]. Returns how many.
    pub fn dedup_event_ids(&mut self, rule: Duplicates) -> u64 {
        let mut seen: FxHashSet<&str> = FxHashSet::default();
        let keep: Vec<bool> = self
            .rows
            .iter()
            .map(|r| {
                self.span(r.texts[Text::EventId as usize])
                    .is_none_or(|id| seen.insert(id))
            })
            .collect();
        let dups = keep.iter().filter(|k| !**k).count() as u64;
        if rule == Duplicates::CountOnce {
            let mut it = keep.into_iter();
            self.rows.retain(|_| it.next().unwrap_or(true));
        }
        dups
    }
}

/// What to do with a repeated `eventID` (a re-delivered event, a copied
/// file, overlapping trails): every command counts it once by default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Duplicates {
    /// Keep the first copy, count the rest as duplicates.
    #[default]
    CountOnce,
    /// Keep every copy (`--keep-duplicates`); they are still counted.
    Keep,
}

/// The text of an arena span.
fn span_text(arena: &str, span: Span) -> Option<&str> {
    span.present
        .then(|| &arena[span.start..span.start + span.len as usize])
}

/// A run's row as a table row: strings interned in `strings`, ids stashed
/// in `arena`.
fn full_to_row(strings: &mut Interner, full: &FullRow, arena: &mut String) -> Row {
    let mut interned = [NONE; INTERNED];
    for (col, id) in interned.iter_mut().enumerate() {
        if let Some(s) = full.field(col) {
            *id = strings.intern(s);
        }
    }
    let mut texts = [Span::default(); TEXTS];
    for (i, span) in texts.iter_mut().enumerate() {
        *span = stash(arena, full.field(INTERNED + i));
    }
    Row {
        time_us: full.time_us,
        interned,
        texts,
        read_only: full.read_only,
    }
}

/// Appends `s` to `arena`; the span that finds it again.
fn stash(arena: &mut String, s: Option<&str>) -> Span {
    let Some(s) = s else {
        return Span::default();
    };
    let start = arena.len();
    arena.push_str(s);
    Span {
        start,
        len: s.len() as u32,
        present: true,
    }
}

/// A 128-bit key for an event id (XXH3-128), so two different ids collide
/// with negligible probability. Every command that counts a re-delivered
/// event once tells copies apart by it. Keys live in memory only.
pub fn event_id_key(id: &str) -> u128 {
    xxhash_rust::xxh3::xxh3_128(id.as_bytes())
}

/// Keys of events already counted, shared by the workers of one scan, for
/// commands that fold matches as they go (`alarm`) and so cannot drop a
/// repeated event after sorting, as the event table does.
///
/// Keys are kept in small sets per group (a minute of sample time), since
/// copies of an event share their time: a file's records then touch a few
/// small sets, which stay in cache, rather than one set as large as the
/// scan at random. Groups are split into shards, each behind its own lock,
/// taken once per run of keys in the same shard.
pub struct SeenEvents {
    shards: Vec<std::sync::Mutex<SeenShard>>,
}

type SeenShard = rustc_hash::FxHashMap<i64, FxHashSet<u128>>;

impl Default for SeenEvents {
    fn default() -> Self {
        SeenEvents {
            shards: (0..64).map(|_| Default::default()).collect(),
        }
    }
}

impl SeenEvents {
    /// For each `(group, key)` in order, whether `key` is new in `group`,
    /// told to `each`; it is remembered either way.
    pub fn first_times(
        &self,
        keys: impl IntoIterator<Item = (i64, u128)>,
        mut each: impl FnMut(bool),
    ) {
        let mut held: Option<(usize, std::sync::MutexGuard<'_, SeenShard>)> = None;
        for (group, key) in keys {
            let shard = group.rem_euclid(self.shards.len() as i64) as usize;
            if held.as_ref().is_none_or(|(s, _)| *s != shard) {
                // The lock held so far is let go before the next is taken.
                drop(held.take());
                let guard = self.shards[shard]
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                held = Some((shard, guard));
            }
            let Some((_, guard)) = held.as_mut() else {
                unreachable!("a lock was just taken")
            };
            each(guard.entry(group).or_default().insert(key));
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// (time, event id, principal, source, object, read only).
    type Spec = (i64, Option<u8>, u8, Option<u8>, u8, Option<bool>);

    fn push(store: &mut EventStore, spec: &Spec) {
        let (time, id, principal, ip, object, read_only) = *spec;
        let id = id.map(|i| format!("id-{i}"));
        let ip = ip.map(|i| format!("10.0.0.{i}"));
        let event = Event {
            event_time: None,
            event_time_text: None,
            event_source: Some("secretsmanager.amazonaws.com"),
            event_name: Some("GetSecretValue"),
            principal: format!("arn:aws:iam::1:user/u{principal}"),
            principal_type: "IAMUser",
            session_arn: None,
            access_key_id: (principal % 2 == 0).then_some("AKIA"),
            account_id: Some("1"),
            region: Some("us-east-1"),
            source_ip: ip.as_deref(),
            user_agent: None,
            secret: Some(format!("s{}", principal % 3)),
            error_code: (principal == 1).then_some("AccessDenied"),
            event_id: id.as_deref(),
            request_id: Some("req"),
            read_only,
            batch_request: (principal == 2).then(|| "[\"a\"]".to_string()),
        };
        store.push(&event, time, &format!("o{object}.json.gz"));
    }

    /// Every row with every field, through the chunks.
    fn dump(store: &EventStore) -> Vec<String> {
        let mut out = Vec::new();
        store.for_each_row(|c, r| {
            let cols: Vec<Option<&str>> = (0..INTERNED).map(|i| c.get(r, unsafe_col(i))).collect();
            let texts: Vec<Option<&str>> = [
                Text::EventId,
                Text::RequestId,
                Text::BatchRequest,
                Text::SessionArn,
                Text::AccessKeyId,
            ]
            .into_iter()
            .map(|t| c.text(r, t))
            .collect();
            out.push(format!(
                "{} {cols:?} {texts:?} {:?}",
                r.time_us, r.read_only
            ));
        });
        out
    }

    fn unsafe_col(i: usize) -> Col {
        [
            Col::EventSource,
            Col::EventName,
            Col::Principal,
            Col::PrincipalType,
            Col::AccountId,
            Col::Region,
            Col::SourceIp,
            Col::UserAgent,
            Col::Secret,
            Col::ErrorCode,
            Col::Object,
        ][i]
    }

    /// Two workers' stores, merged and sorted; `spill_at` rows per run, and
    /// the on-disk table failing when `fail`.
    fn table(a: &[Spec], b: &[Spec], spill_at: usize, fail: bool) -> (Vec<String>, u64, usize) {
        let build = |specs: &[Spec]| {
            let mut s = EventStore {
                spill_at,
                ..EventStore::default()
            };
            for spec in specs {
                push(&mut s, spec);
                s.spill_if_large();
            }
            s
        };
        let mut store = build(a);
        store.merge(build(b));
        store.fail_table = fail;
        let dups = store.sort_and_dedup(Duplicates::CountOnce);
        (dump(&store), dups, store.len())
    }

    fn spec() -> impl Strategy<Value = Spec> {
        (
            0i64..50,
            proptest::option::weighted(0.9, 0u8..40),
            0u8..5,
            proptest::option::of(0u8..4),
            0u8..3,
            proptest::option::of(any::<bool>()),
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Runs on disk merge into exactly the table memory would hold:
        /// same order, same rows, same duplicates dropped.
        #[test]
        fn spilled_runs_merge_into_the_in_memory_table(
            a in proptest::collection::vec(spec(), 0..120),
            b in proptest::collection::vec(spec(), 0..120),
            spill_at in 1usize..20,
        ) {
            let in_memory = table(&a, &b, usize::MAX, false);
            let spilled = table(&a, &b, spill_at, false);
            prop_assert_eq!(&spilled, &in_memory);
            prop_assert_eq!(spilled.2, spilled.0.len());
            // A table that cannot be written falls back on the runs.
            prop_assert_eq!(&table(&a, &b, spill_at, true), &in_memory);
        }
    }

    #[test]
    fn a_spilled_table_is_read_back_in_chunks() {
        let specs: Vec<Spec> = (0..(CHUNK_ROWS as i64 + 5))
            .map(|i| (i, Some((i % 251) as u8), 0, None, 0, None))
            .collect();
        // Event ids repeat every 251 rows, so all but 251 are duplicates.
        let (rows, dups, len) = table(&specs, &[], 1000, false);
        assert_eq!((rows.len(), len), (251, 251));
        assert_eq!(dups, CHUNK_ROWS as u64 + 5 - 251);
        let unique: Vec<Spec> = (0..(CHUNK_ROWS as i64 + 5))
            .map(|i| (i, None, 0, None, 0, None))
            .collect();
        let (rows, dups, _) = table(&unique, &[], 1000, false);
        assert_eq!((rows.len(), dups), (CHUNK_ROWS + 5, 0));
        assert!(rows[CHUNK_ROWS].starts_with(&format!("{CHUNK_ROWS} ")));
    }
}
