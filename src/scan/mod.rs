//! The parallel scan: listed objects in, matched events and exact accounting out.
//!
//! Each thread of the pool owns one worker (buffers and partial results)
//! behind a lock no other thread takes; nothing is shared in the hot loop but
//! the progress bar, touched once per file. Results are
//! merged once at the end. A file either contributes all its events or, when
//! it fails part-way, none of them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use indicatif::ProgressBar;

pub mod both;
pub mod budget;
pub mod stats;
mod visitor;

pub use visitor::{Matched, NoVisitor, ObjectDone, ObjectOutcome, RecordVisitor};

pub use crate::source::Streamed;
pub use stats::{Failure, FileCounts, NoTimeReasons, RecordCounts, ScanStats};

use budget::{MemoryBudget, DEFAULT_MEMORY_BUDGET};
use rayon::prelude::*;

use crate::events::{Duplicates, EventStore};
use crate::read::error::FormatError;
use crate::read::filter::{HitCursor, Hits, Prefilter};
use crate::read::format::{looks_like_json, split_records_indexed, Layout, RecordText};
use crate::read::inflate::{is_gzip, size_hint, DecodeError, Decoder};
use crate::read::record::{select_event, Selection};
use crate::read::structural::Tape;
use crate::report::terminal::human_bytes;
use crate::source::select::KeySelect;
use crate::source::{classify_key, name_claims_json, Listed, ObjectKind, ObjectRef};
use crate::window::{key_time, PruneSlack, TimeWindow};

/// What a scan needs to know, fixed for its whole run.
pub struct ScanContext {
    pub selection: Selection,
    /// Inflated bytes all workers may hold at once.
    pub budget: MemoryBudget,
    /// Whether a repeated `eventID` is counted once or kept.
    pub duplicates: Duplicates,
    pub window: TimeWindow,
    /// How far from the window a key's date may be and still be read.
    pub slack: PruneSlack,
    /// The accounts and regions read (`--account`, `--region`).
    pub keys: KeySelect,
    pub max_object_size: u64,
    pub prefilter: Prefilter,
    pub progress: Option<ProgressBar>,
    /// Objects already read into an event lake, unchanged since: skipped
    /// as `unchanged` instead of being read again (`ingest`).
    pub unchanged: Option<Unchanged>,
    /// Running totals shown on the progress bar, bumped once per file.
    shown: ProgressTotals,
}

/// Whether an object is already read, unchanged (see [`ScanContext::unchanged`]).
pub type Unchanged = std::sync::Arc<dyn Fn(&ObjectRef) -> bool + Send + Sync>;

/// Totals for the progress bar's message; relaxed atomics, touched per file.
#[derive(Default)]
struct ProgressTotals {
    bytes: AtomicU64,
    matched: AtomicU64,
}

impl ScanContext {
    pub fn new(selection: Selection, window: TimeWindow, max_object_size: u64) -> Self {
        let prefilter = Prefilter::new(&selection);
        ScanContext {
            selection,
            budget: MemoryBudget::new(DEFAULT_MEMORY_BUDGET),
            duplicates: Duplicates::CountOnce,
            window,
            slack: PruneSlack::DEFAULT,
            keys: KeySelect::default(),
            max_object_size,
            prefilter,
            progress: None,
            unchanged: None,
            shown: ProgressTotals::default(),
        }
    }
}

/// The result of a scan.
pub struct ScanOutcome {
    pub events: EventStore,
    pub stats: ScanStats,
}

/// Something that turns an object reference into its raw bytes.
pub trait Fetch: Sync {
    /// Reads the object's bytes into `buf` (cleared first).
    fn fetch(&self, obj: &ObjectRef, buf: &mut Vec<u8>) -> anyhow::Result<()>;
}

/// Reads local files.
pub struct LocalFetch;

impl Fetch for LocalFetch {
    fn fetch(&self, obj: &ObjectRef, buf: &mut Vec<u8>) -> anyhow::Result<()> {
        use std::io::Read;
        let crate::source::Location::File(path) = &obj.location else {
            anyhow::bail!("not a local file");
        };
        buf.clear();
        std::fs::File::open(path)?.read_to_end(buf)?;
        Ok(())
    }
}

/// Scans a listing: classifies and prunes by key, then reads the rest in parallel.
pub fn scan<L>(listing: L, ctx: &ScanContext, fetch: &dyn Fetch) -> ScanOutcome
where
    L: IntoIterator<Item = Listed>,
    L::IntoIter: Send,
{
    scan_with(listing, ctx, fetch, &NoVisitor).0
}

/// [`scan`], also feeding every record a [`RecordVisitor`] wants to it.
///
/// The listing is consumed as the workers go (a walk of a local mirror can
/// be passed as it is made), so no list of objects is held: memory does not
/// follow the number of files. The progress bar's length is the caller's to
/// set (see [`logs_to_read`]).
pub fn scan_with<V, L>(
    listing: L,
    ctx: &ScanContext,
    fetch: &dyn Fetch,
    visitor: &V,
) -> (ScanOutcome, V::State)
where
    V: RecordVisitor,
    L: IntoIterator<Item = Listed>,
    L::IntoIter: Send,
{
    let workers = PerThread::new(ctx, visitor);
    // After Ctrl-C no object is started; the caller sees `interrupt::requested`.
    let _ = listing.into_iter().par_bridge().try_for_each(|entry| {
        crate::interrupt::check()?;
        workers.with(|w| {
            if let Some(obj) = triage_one(&mut w.stats, entry, ctx) {
                w.scan_object(&obj, fetch);
            }
        });
        Ok::<(), crate::interrupt::Interrupted>(())
    });
    finish(ScanStats::default(), workers.into_one(), ctx.duplicates)
}

/// [`scan_with`] for sources that list and fetch as they go (S3): entries
/// arrive in any order, through a bounded channel, while the source is still
/// listing; nothing holds the whole listing. The bytes take the same
/// decode/split/filter path as local files.
pub fn scan_stream<V, I>(entries: I, ctx: &ScanContext, visitor: &V) -> (ScanOutcome, V::State)
where
    V: RecordVisitor,
    I: Iterator<Item = Streamed> + Send,
{
    let workers = PerThread::new(ctx, visitor);
    // After Ctrl-C no object is started; the caller sees `interrupt::requested`.
    let _ = entries.par_bridge().try_for_each(|entry| {
        crate::interrupt::check()?;
        workers.with(|w| match entry {
            Streamed::Listed(entry) => {
                if let Some(obj) = triage_one(&mut w.stats, entry, ctx) {
                    w.scan_object(&obj, &LocalFetch);
                }
            }
            Streamed::Fetched(obj, bytes) => w.scan_fetched(&obj, bytes),
        });
        Ok::<(), crate::interrupt::Interrupted>(())
    });
    finish(ScanStats::default(), workers.into_one(), ctx.duplicates)
}

/// Whether a scan reads the object under `key`: a log, of a selected
/// account and region, dated near enough to the window.
pub fn wants(key: &str, ctx: &ScanContext) -> bool {
    classify_key(key) == ObjectKind::Log
        && ctx.keys.key(key)
        && !is_pruned(key, &ctx.window, &ctx.slack)
}

/// Scans one object's bytes on the calling thread, exactly as a worker
/// would (decode, split, prefilter, parse candidates); for tests and fuzzing.
pub fn scan_object_bytes(key: &str, raw: &[u8], ctx: &ScanContext) -> ScanOutcome {
    let mut worker = Worker::new(ctx, &NoVisitor);
    let obj = ObjectRef {
        etag: None,
        key: key.to_string(),
        location: crate::source::Location::File(key.into()),
        size: raw.len() as u64,
    };
    worker.scan_bytes(&obj, raw);
    finish(ScanStats::default(), worker, ctx.duplicates).0
}

/// How many entries of `listing` a scan would read: the length of its
/// progress bar, counted by a walk of its own when the scan's walk is
/// consumed as it goes.
pub fn logs_to_read(listing: impl Iterator<Item = Listed>, ctx: &ScanContext) -> u64 {
    let to_read = |entry: &Listed| match entry {
        Listed::Object(obj) => wants(&obj.key, ctx),
        Listed::Unlistable { .. } => false,
    };
    listing.filter(to_read).count() as u64
}

/// Counts one listed entry; the object, when it is a log to read.
fn triage_one(stats: &mut ScanStats, entry: Listed, ctx: &ScanContext) -> Option<ObjectRef> {
    stats.files.listed += 1;
    match entry {
        Listed::Unlistable { object, error } => stats.fail(&object, error),
        Listed::Object(obj) => match classify_key(&obj.key) {
            ObjectKind::Digest => stats.skip("digest"),
            ObjectKind::Insight => stats.skip("insight"),
            ObjectKind::OtherService => stats.skip("other_service"),
            ObjectKind::Log if !wants(&obj.key, ctx) => stats.files.pruned += 1,
            ObjectKind::Log if is_unchanged(&obj, ctx) => stats.skip("unchanged"),
            ObjectKind::Log => return Some(obj),
        },
    }
    None
}

fn finish<V: RecordVisitor>(
    mut stats: ScanStats,
    worker: Worker<'_, V>,
    duplicates: Duplicates,
) -> (ScanOutcome, V::State) {
    // Taken apart so that its buffers are freed now: the sort below is the
    // scan's largest moment, and a whole inflated file need not live
    // through it.
    let Worker {
        store: mut events,
        visited,
        stats: counted,
        ..
    } = worker;
    stats.merge(counted);
    stats.failures.sort();
    let dups = events.sort_and_dedup(duplicates);
    stats.records.duplicates = dups;
    (ScanOutcome { events, stats }, visited)
}

/// Whether `obj` is in the lake already, unchanged (see [`ScanContext::unchanged`]).
pub fn is_unchanged(obj: &ObjectRef, ctx: &ScanContext) -> bool {
    ctx.unchanged.as_ref().is_some_and(|f| f(obj))
}

/// Whether a key's date puts it outside the window (with slack).
pub fn is_pruned(key: &str, window: &TimeWindow, slack: &PruneSlack) -> bool {
    if window.is_unbounded() {
        return false;
    }
    key_time(key).is_some_and(|kt| !window.may_overlap(kt.start, kt.end, slack))
}

/// One worker per thread of the pool, each behind a lock only its own thread
/// takes. Rayon's `fold` would make one per split instead, and finished
/// splits wait with their buffers and unspilled rows until their siblings
/// are done: memory then grew with the number of files.
struct PerThread<'c, V: RecordVisitor> {
    slots: Vec<Mutex<Worker<'c, V>>>,
}

impl<'c, V: RecordVisitor> PerThread<'c, V> {
    /// One worker for each thread of the pool the scan runs in.
    fn new(ctx: &'c ScanContext, visitor: &'c V) -> Self {
        let slots = (0..rayon::current_num_threads())
            .map(|_| Mutex::new(Worker::new(ctx, visitor)))
            .collect();
        PerThread { slots }
    }

    /// Runs `f` with the calling thread's worker. Nothing in `f` waits on
    /// other rayon work, so a thread never asks for its own lock twice.
    fn with(&self, f: impl FnOnce(&mut Worker<'c, V>)) {
        let slot = rayon::current_thread_index().unwrap_or(0) % self.slots.len();
        f(&mut self.slots[slot]
            .lock()
            .unwrap_or_else(PoisonError::into_inner));
    }

    /// The workers' results, merged.
    fn into_one(self) -> Worker<'c, V> {
        self.slots
            .into_iter()
            .map(|m| m.into_inner().unwrap_or_else(PoisonError::into_inner))
            .reduce(Worker::merge)
            .expect("a pool has at least one thread")
    }
}

/// One worker's reusable buffers and partial results.
struct Worker<'c, V: RecordVisitor> {
    ctx: &'c ScanContext,
    visitor: &'c V,
    visited: V::State,
    raw: Vec<u8>,
    inflated: Vec<u8>,
    decoder: Decoder,
    parse: ParseScratch,
    store: EventStore,
    stats: ScanStats,
    /// (bytes, matched) already added to the progress bar.
    reported: (u64, u64),
    /// Largest buffer kept warm between objects.
    keep_bytes: usize,
}

/// Buffers for parsing candidate records, reused across records.
struct ParseScratch {
    record: Vec<u8>,
    hits: Hits,
    simd: simd_json::Buffers,
    /// Each record's structure, when the visitor wants it.
    tape: Tape,
}

/// A worker keeps a buffer warm between objects only up to its share of an
/// eighth of the memory budget, so that idle buffers stay a small part of it
/// whatever the thread count; larger ones are freed after use.
fn keep_buffer_bytes(budget: &MemoryBudget) -> usize {
    let threads = rayon::current_num_threads().max(1) as u64;
    usize::try_from((budget.limit() / 8 / threads).max(1 << 20)).unwrap_or(usize::MAX)
}

impl<'c, V: RecordVisitor> Worker<'c, V> {
    fn new(ctx: &'c ScanContext, visitor: &'c V) -> Self {
        Worker {
            ctx,
            visitor,
            visited: visitor.new_state(),
            raw: Vec::new(),
            inflated: Vec::new(),
            decoder: Decoder::default(),
            parse: ParseScratch {
                record: Vec::new(),
                hits: Hits::default(),
                simd: simd_json::Buffers::default(),
                tape: Tape::default(),
            },
            store: EventStore::default(),
            stats: ScanStats::default(),
            reported: (0, 0),
            keep_bytes: keep_buffer_bytes(&ctx.budget),
        }
    }

    fn merge(mut self, other: Worker<'c, V>) -> Worker<'c, V> {
        self.visited = self.visitor.merge(self.visited, other.visited);
        self.store.merge(other.store);
        self.stats.merge(other.stats);
        self.reported = (
            self.reported.0 + other.reported.0,
            self.reported.1 + other.reported.1,
        );
        self
    }

    /// Counts and scans an object a streamed source fetched.
    fn scan_fetched(&mut self, obj: &ObjectRef, bytes: anyhow::Result<Vec<u8>>) {
        self.stats.files.listed += 1;
        match bytes {
            Ok(raw) => self.scan_bytes(obj, &raw),
            Err(e) => self.fail_unread(obj, format!("cannot read: {e:#}")),
        }
        if let Some(bar) = &self.ctx.progress {
            self.show_progress(bar);
        }
    }

    fn scan_object(&mut self, obj: &ObjectRef, fetch: &dyn Fetch) {
        let mut raw = std::mem::take(&mut self.raw);
        let max = self.ctx.max_object_size;
        if obj.size > max {
            // Not even read: its stored bytes alone exceed the limit.
            let error = DecodeError::TooLarge { limit: max };
            self.fail_unread(obj, error.to_string());
        } else {
            match fetch.fetch(obj, &mut raw) {
                Ok(()) => self.scan_bytes(obj, &raw),
                Err(e) => self.fail_unread(obj, format!("cannot read: {e:#}")),
            }
        }
        if raw.capacity() <= self.keep_bytes {
            self.raw = raw;
        }
        if let Some(bar) = &self.ctx.progress {
            self.show_progress(bar);
        }
    }

    /// Adds this worker's news since its last report to the bar: files, bytes
    /// decompressed and events matched (with their rate).
    fn show_progress(&mut self, bar: &ProgressBar) {
        let shown = &self.ctx.shown;
        let bytes = self.stats.bytes_decompressed - self.reported.0;
        let matched = self.stats.records.matched - self.reported.1;
        self.reported = (self.stats.bytes_decompressed, self.stats.records.matched);
        let bytes = shown.bytes.fetch_add(bytes, Ordering::Relaxed) + bytes;
        let matched = shown.matched.fetch_add(matched, Ordering::Relaxed) + matched;
        let secs = bar.elapsed().as_secs_f64().max(1e-3);
        bar.set_message(format!(
            "{} JSON, {matched} events ({:.0} events/s)",
            human_bytes(bytes),
            matched as f64 / secs
        ));
        bar.inc(1);
    }

    /// Counts an object that could not be fetched as failed.
    fn fail_unread(&mut self, obj: &ObjectRef, error: String) {
        let outcome = ObjectOutcome::Failed(&error);
        let done = ObjectDone {
            object: obj,
            size: obj.size,
            outcome,
        };
        self.visitor.object_done(&mut self.visited, &done);
        self.stats.fail(&obj.key, error);
    }

    /// Decodes, splits and filters one object's bytes, and accounts for it.
    fn scan_bytes(&mut self, obj: &ObjectRef, raw: &[u8]) {
        let key = obj.key.as_str();
        self.stats.bytes_read += raw.len() as u64;
        let outcome = self.inflate_and_scan(key, raw);
        let done = ObjectDone {
            object: obj,
            size: raw.len() as u64,
            outcome: match &outcome {
                FileOutcome::Scanned(c) => ObjectOutcome::Scanned(c),
                FileOutcome::Skipped(r) => ObjectOutcome::Skipped(r),
                FileOutcome::Failed(e) => ObjectOutcome::Failed(e),
            },
        };
        self.visitor.object_done(&mut self.visited, &done);
        match outcome {
            FileOutcome::Scanned(counts) => {
                self.stats.files.scanned += 1;
                self.stats.records.add(&counts);
            }
            FileOutcome::Skipped(reason) => self.stats.skip(reason),
            FileOutcome::Failed(error) => self.stats.fail(key, error),
        }
        // Between files, so a failed file's rows are never in a run.
        self.store.spill_if_large();
    }

    /// Inflates and scans one object inside its share of the memory budget:
    /// its text and one candidate record as large (2 × the size it will
    /// have). When only streaming can tell the size (several gzip members,
    /// a trailer that lies), it takes the whole budget, with half of it as
    /// the object's limit.
    fn inflate_and_scan(&mut self, key: &str, raw: &[u8]) -> FileOutcome {
        let max = self.ctx.max_object_size;
        if let Some(n) = size_hint(raw, max).map(|n| n as u64) {
            if n > max {
                return FileOutcome::Failed(DecodeError::TooLarge { limit: max }.to_string());
            }
            // A gzip trailer is believed only up to the size it claims.
            let limit = if is_gzip(raw) { n } else { max };
            if let Some(outcome) = self.inflate_within(key, raw, limit, 2 * n) {
                return outcome;
            }
        }
        let whole = self.ctx.budget.limit();
        let limit = max.min(whole / 2);
        self.inflate_within(key, raw, limit, whole)
            .unwrap_or_else(|| FileOutcome::Failed(self.too_large(limit, max)))
    }

    /// Holds `need` bytes of the budget while inflating up to `limit` bytes
    /// and scanning them; `None` when the text turned out larger than
    /// `limit` (a trailer that lied), for the caller to decide.
    fn inflate_within(
        &mut self,
        key: &str,
        raw: &[u8],
        limit: u64,
        need: u64,
    ) -> Option<FileOutcome> {
        let budget = &self.ctx.budget;
        let Some(_grant) = budget.reserve(need) else {
            return Some(FileOutcome::Failed(format!(
                "needs {} inflated (and as much again for a record that large), more than the memory budget of {} allows (raise it with --memory-budget)",
                human_bytes(need / 2),
                human_bytes(budget.limit())
            )));
        };
        let mut inflated = std::mem::take(&mut self.inflated);
        let outcome = match self.decoder.decode(raw, &mut inflated, limit) {
            Ok(text) => {
                self.stats.bytes_decompressed += text.len() as u64;
                Some(self.scan_text(key, text))
            }
            Err(DecodeError::Empty) if !name_claims_json(key) => {
                Some(FileOutcome::Skipped("empty"))
            }
            Err(DecodeError::TooLarge { .. }) if limit < self.ctx.max_object_size => None,
            Err(e) => Some(FileOutcome::Failed(e.to_string())),
        };
        if inflated.capacity() <= self.keep_bytes {
            self.inflated = inflated;
        }
        if self.parse.record.capacity() > self.keep_bytes {
            self.parse.record = Vec::new();
            self.parse.simd = simd_json::Buffers::default();
        }
        outcome
    }

    /// Why an object whose size only streaming could tell was not read.
    fn too_large(&self, limit: u64, max: u64) -> String {
        if limit < max {
            format!(
                "decompressed size exceeds {} (half the memory budget of {}; raise it with --memory-budget)",
                human_bytes(limit),
                human_bytes(self.ctx.budget.limit())
            )
        } else {
            DecodeError::TooLarge { limit }.to_string()
        }
    }

    fn scan_text(&mut self, key: &str, text: &[u8]) -> FileOutcome {
        if !looks_like_json(text) {
            if name_claims_json(key) {
                return FileOutcome::Failed(describe_non_json(text));
            }
            return FileOutcome::Skipped("not_json");
        }
        if let Err(e) = std::str::from_utf8(text) {
            return FileOutcome::Failed(format!("invalid UTF-8 at offset {}", e.valid_up_to()));
        }
        let rows_before = self.store.len();
        let mut file = FileScan {
            ctx: self.ctx,
            visitor: self.visitor,
            visited: &mut self.visited,
            key,
            text,
            parse: &mut self.parse,
            store: &mut self.store,
            counts: RecordCounts::default(),
            error: None,
            first_no_time: false,
        };
        let result = file.run();
        let counts = std::mem::take(&mut file.counts);
        let first_no_time = file.first_no_time;
        self.visitor.end_object(
            &mut self.visited,
            key,
            matches!(result, Ok(l) if l != Layout::Digest),
        );
        match result {
            Ok(Layout::Digest) => {
                self.store.truncate(rows_before);
                FileOutcome::Skipped("digest")
            }
            Ok(_) => {
                if first_no_time && self.stats.first_no_event_time.is_none() {
                    self.stats.first_no_event_time = Some(key.to_string());
                }
                FileOutcome::Scanned(counts)
            }
            Err(e) => {
                self.store.truncate(rows_before);
                FileOutcome::Failed(e)
            }
        }
    }
}

enum FileOutcome {
    Scanned(RecordCounts),
    Skipped(&'static str),
    Failed(String),
}

fn describe_non_json(text: &[u8]) -> String {
    let head: String = text
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ");
    format!("neither gzip nor JSON (starts with bytes {head})")
}

/// The state of scanning one file's text.
struct FileScan<'a, 'c, V: RecordVisitor> {
    ctx: &'c ScanContext,
    visitor: &'c V,
    visited: &'a mut V::State,
    key: &'a str,
    text: &'a [u8],
    parse: &'a mut ParseScratch,
    store: &'a mut EventStore,
    counts: RecordCounts,
    error: Option<String>,
    first_no_time: bool,
}

impl<V: RecordVisitor> FileScan<'_, '_, V> {
    fn run(&mut self) -> Result<Layout, String> {
        let mut hits = std::mem::take(&mut self.parse.hits);
        self.ctx.prefilter.find_hits(self.text, &mut hits);
        let mut tape = std::mem::take(&mut self.parse.tape);
        let result = self.split_and_select(&hits, &mut tape);
        self.parse.hits = hits;
        self.parse.tape = tape;
        let layout = result.map_err(|e| e.to_string())?;
        match self.error.take() {
            Some(e) => Err(e),
            None => Ok(layout),
        }
    }

    /// Splits the text into records, parses those the prefilter's `hits`
    /// leave possible, and hands each record the visitor wants to it.
    fn split_and_select(&mut self, hits: &Hits, tape: &mut Tape) -> Result<Layout, FormatError> {
        let text = self.text;
        let mut literals = HitCursor::new(&hits.literals);
        let mut escapes = HitCursor::new(&hits.escapes);
        let mut index = 0usize;
        let depth = self.visitor.tape_depth();
        if let Some(d) = depth {
            tape.set_depth(d);
        }
        split_records_indexed(text, depth.map(|_| tape), |rec, rec_tape| {
            if self.error.is_some() {
                return;
            }
            self.counts.read += 1;
            let raw = match rec {
                RecordText::Range(a, b) => {
                    let literal = literals.any_in(a, b);
                    let escs = escapes.within(a, b).iter().map(|&e| e - a);
                    if self.ctx.prefilter.decide(&text[a..b], literal, escs) {
                        self.candidate(&text[a..b], index);
                    } else {
                        self.counts.not_matched += 1;
                    }
                    &text[a..b]
                }
                RecordText::Decoded(t) => {
                    self.candidate(t, index);
                    t
                }
            };
            if self.visitor.wants(raw) {
                self.visitor
                    .visit(self.visited, self.key, index, raw, rec_tape);
            }
            index += 1;
        })
    }

    /// Parses one candidate record and, if selected, files its event.
    fn candidate(&mut self, bytes: &[u8], index: usize) {
        self.parse.record.clear();
        self.parse.record.extend_from_slice(bytes);
        let value = match simd_json::to_borrowed_value_with_buffers(
            &mut self.parse.record,
            &mut self.parse.simd,
        ) {
            Ok(v) => v,
            Err(e) => {
                self.error = Some(format!("invalid JSON in record {index}: {e}"));
                return;
            }
        };
        let Some(event) = select_event(&value, &self.ctx.selection) else {
            self.counts.not_matched += 1;
            return;
        };
        let Some(t) = event.event_time else {
            self.counts.no_event_time += 1;
            self.counts
                .no_event_time_reasons
                .count(event.event_time_text);
            self.first_no_time = true;
            return;
        };
        if !self.ctx.window.contains(t) {
            self.counts.not_matched += 1;
            return;
        }
        self.counts.matched += 1;
        if self.visitor.takes_matched() {
            let record = Matched {
                key: self.key,
                index,
                raw: bytes,
                event: &event,
                value: &value,
                time_us: t.as_microsecond(),
            };
            self.visitor.matched(self.visited, &record);
        } else {
            self.store.push(&event, t.as_microsecond(), self.key);
        }
    }
}
