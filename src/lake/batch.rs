//! The ingest's scan visitor: each worker buffers its selected records by
//! partition and commits them in batches.
//!
//! A batch is whole objects: an object's rows are staged until the scan says
//! how it ended, then join the batch (or are dropped, if it failed). A
//! worker commits when its batch holds [`BatchLimits::objects`] objects or
//! [`BatchLimits::bytes`] bytes of rows: one part file per partition, under
//! temporary names, then the manifest fragment (the commit point), then the
//! renames. Workers commit independently; nothing is shared but two
//! counters for names. A killed run loses at most each worker's open batch.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};

use super::manifest::{self, FileEntry, Fragment, NoTime, ObjectEntry, Outcome, Params};
use super::partition::Partition;
use super::pattern::{Pick, Picker};
use super::remote::publish::Publisher;
use super::schema::{LakeRow, ACCOUNT_ID, AWS_REGION};
use super::writer::{sort_rows, write_part, ObjectInfo};
use crate::read::structural::Tape;
use crate::scan::{Matched, NoTimeReasons, ObjectDone, ObjectOutcome, RecordVisitor};
use crate::source::Location;

pub use super::partition::EVENTS_DIR;

/// When a worker commits its batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchLimits {
    /// Objects accounted for.
    pub objects: usize,
    /// Bytes of buffered rows, per worker.
    pub bytes: usize,
    /// Ends the process right after this many commit points, before their
    /// renames (on S3: right before the fragment's PUT, the part files
    /// uploaded): what a kill at the worst moment leaves, for the tests.
    pub crash_after: Option<u64>,
}

/// What every worker's commits share.
pub struct LakeWriter {
    root: PathBuf,
    run: String,
    params: Params,
    limits: BatchLimits,
    seq: AtomicU64,
    commits: AtomicU64,
    /// The first error any worker met; the scan goes on but commits stop.
    error: Mutex<Option<anyhow::Error>>,
    /// `--pattern`: records are picked here, not by the scan's selection.
    picker: Option<Picker>,
    /// A lake on S3: each commit is uploaded from here, the staging folder.
    publisher: Option<Arc<Publisher>>,
}

/// One worker's open batch.
#[derive(Default)]
pub struct Batch {
    objects: Vec<ObjectInfo>,
    entries: Vec<ObjectEntry>,
    /// The rows of the object being read, until it ends.
    staged: Vec<LakeRow>,
    partitions: HashMap<Partition, Vec<LakeRow>>,
    bytes: usize,
    /// Rows committed by this worker.
    pub rows: u64,
    pub files: u64,
    /// With a pattern: matched records without a usable time, in the
    /// object being read and in all objects read.
    staged_no_time: NoTimeReasons,
    pub no_time: NoTimeReasons,
}

impl LakeWriter {
    /// Writes into the lake at `root` as run `run`.
    pub fn new(root: &Path, run: String, params: Params, limits: BatchLimits) -> LakeWriter {
        LakeWriter {
            root: root.to_path_buf(),
            run,
            params,
            limits,
            seq: AtomicU64::new(0),
            commits: AtomicU64::new(0),
            error: Mutex::new(None),
            picker: None,
            publisher: None,
        }
    }

    /// Stores the records `picker`'s pattern matches (the scan's selection
    /// must then match nothing).
    pub fn with_picker(mut self, picker: Picker) -> LakeWriter {
        self.picker = Some(picker);
        self
    }

    /// Publishes every commit to a lake on S3, `root` being its staging
    /// folder.
    pub fn with_publisher(mut self, publisher: Arc<Publisher>) -> LakeWriter {
        self.publisher = Some(publisher);
        self
    }

    /// The first error a commit met, if any.
    pub fn take_error(&self) -> Option<anyhow::Error> {
        self.error.lock().ok()?.take()
    }

    fn failed(&self) -> bool {
        self.error.lock().map(|e| e.is_some()).unwrap_or(true)
    }

    fn note(&self, e: anyhow::Error) {
        if let Ok(mut slot) = self.error.lock() {
            slot.get_or_insert(e);
        }
    }

    /// Commits `batch` and empties it; errors are kept for [`Self::take_error`].
    pub fn commit(&self, batch: &mut Batch) {
        if batch.entries.is_empty() || self.failed() {
            return;
        }
        if let Err(e) = self.try_commit(batch) {
            self.note(e);
        }
        let (rows, files, no_time) = (batch.rows, batch.files, batch.no_time);
        *batch = Batch {
            rows,
            files,
            no_time,
            ..Batch::default()
        };
    }

    fn try_commit(&self, batch: &mut Batch) -> Result<()> {
        let mut parts: Vec<(Partition, Vec<LakeRow>)> = batch.partitions.drain().collect();
        parts.sort_by(|a, b| a.0.cmp(&b.0));
        let mut files = Vec::with_capacity(parts.len());
        let mut renames = Vec::with_capacity(parts.len());
        for (partition, mut rows) in parts {
            let name = self.part_name();
            let folder = format!("{EVENTS_DIR}/{}", partition.folder);
            let dir = self.root.join(&folder);
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            let tmp = dir.join(temp_name(&name));
            sort_rows(&mut rows, &batch.objects);
            write_part(&tmp, &rows, &batch.objects)?;
            let path = format!("{folder}/{name}");
            let mut per_object: HashMap<u32, u64> = HashMap::new();
            for r in &rows {
                *per_object.entry(r.object).or_default() += 1;
            }
            for (o, n) in per_object {
                batch.entries[o as usize].files.push(FileEntry {
                    path: path.clone(),
                    rows: n,
                });
            }
            files.push(FileEntry {
                path,
                rows: rows.len() as u64,
            });
            renames.push((tmp, dir.join(&name)));
        }
        for e in &mut batch.entries {
            e.files.sort_by(|a, b| a.path.cmp(&b.path));
        }
        let objects = std::mem::take(&mut batch.entries);
        let fragment = self.commit_fragment(objects, files, Vec::new())?;
        for (tmp, path) in renames {
            rename(&tmp, &path)?;
        }
        batch.rows += fragment.files.iter().map(|f| f.rows).sum::<u64>();
        batch.files += fragment.files.len() as u64;
        Ok(())
    }

    /// A new part file's name: `part-<run>-<seq>.parquet`.
    pub fn part_name(&self) -> String {
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        format!("part-{}-{seq:06}.parquet", self.run)
    }

    /// Makes sure the committed part file `rel` is below the root: on S3,
    /// GETs it into the staging folder.
    pub fn fetch(&self, rel: &str) -> Result<()> {
        match &self.publisher {
            Some(p) => p.fetch(&self.root, rel),
            None => Ok(()),
        }
    }

    /// The lake's root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Commits one fragment of this run.
    pub fn commit_fragment(
        &self,
        objects: Vec<ObjectEntry>,
        files: Vec<FileEntry>,
        removed: Vec<String>,
    ) -> Result<Fragment> {
        let commit = self.commits.fetch_add(1, Ordering::Relaxed);
        let fragment = Fragment {
            format: manifest::FORMAT,
            commit: format!("{}-c{commit:06}", self.run),
            run: self.run.clone(),
            params: self.params.clone(),
            objects,
            files,
            removed,
        };
        let crash = || {
            if self.limits.crash_after == Some(commit + 1) {
                // SAFETY: _exit(2) ends the process without running anything.
                unsafe { libc::_exit(137) };
            }
        };
        let Some(publisher) = &self.publisher else {
            manifest::commit_local(&self.root, &fragment)?;
            crash();
            return Ok(fragment);
        };
        // On S3 the worst moment is after the parts' PUTs, before the
        // fragment's.
        publisher.upload_parts(&self.root, &fragment.files)?;
        crash();
        manifest::commit_local(&self.root, &fragment)?;
        publisher.commit(&fragment)?;
        Ok(fragment)
    }

    /// Ends an object: its staged rows join the batch if it was scanned.
    fn end(&self, batch: &mut Batch, done: &ObjectDone<'_>) {
        let obj = done.object;
        let index = batch.objects.len() as u32;
        let mut staged = std::mem::take(&mut batch.staged);
        let picked_no_time = std::mem::take(&mut batch.staged_no_time);
        let (outcome, reason, read, no_time) = match &done.outcome {
            ObjectOutcome::Scanned(c) => {
                let r = match self.picker {
                    Some(_) => &picked_no_time,
                    None => &c.no_event_time_reasons,
                };
                batch.no_time.add(&picked_no_time);
                let no_time = NoTime {
                    missing: r.missing,
                    unparseable: r.unparseable,
                };
                (Outcome::Scanned, None, c.read, no_time)
            }
            ObjectOutcome::Skipped(why) => (
                Outcome::Skipped,
                Some(why.to_string()),
                0,
                NoTime::default(),
            ),
            ObjectOutcome::Failed(why) => {
                (Outcome::Failed, Some(why.to_string()), 0, NoTime::default())
            }
        };
        if outcome != Outcome::Scanned {
            staged.clear();
        }
        batch.entries.push(ObjectEntry {
            key: obj.key.clone(),
            size: done.size,
            etag: obj.etag.clone(),
            mtime_ns: mtime_ns(&obj.location),
            outcome,
            reason,
            records_read: read,
            rows: staged.len() as u64,
            no_event_time: no_time,
            files: Vec::new(),
        });
        batch.objects.push(ObjectInfo {
            key: obj.key.clone(),
            etag: obj.etag.clone(),
            size: done.size,
        });
        for mut row in staged {
            row.object = index;
            let part = Partition::of(row.text(ACCOUNT_ID), row.text(AWS_REGION), row.time_us);
            batch.bytes += row.heap_bytes();
            batch.partitions.entry(part).or_default().push(row);
        }
        if batch.entries.len() >= self.limits.objects || batch.bytes >= self.limits.bytes {
            self.commit(batch);
        }
    }
}

/// Renames a committed part file from its temporary name into place.
pub fn rename(tmp: &Path, path: &Path) -> Result<()> {
    std::fs::rename(tmp, path).with_context(|| format!("renaming {} into place", tmp.display()))
}

/// The temporary name of part file `name` (no `*.parquet` glob matches it).
pub fn temp_name(name: &str) -> String {
    format!(".{name}.tmp")
}

/// A local file's modification time, in nanoseconds since the epoch.
pub fn mtime_ns(location: &Location) -> Option<i64> {
    let Location::File(path) = location else {
        return None;
    };
    let t = std::fs::metadata(path).ok()?.modified().ok()?;
    let d = t.duration_since(std::time::UNIX_EPOCH).ok()?;
    i64::try_from(d.as_nanos()).ok()
}

impl RecordVisitor for LakeWriter {
    type State = Batch;

    fn new_state(&self) -> Batch {
        Batch::default()
    }

    fn wants(&self, raw: &[u8]) -> bool {
        self.picker.as_ref().is_some_and(|p| p.wants(raw))
    }

    fn visit(&self, batch: &mut Batch, _: &str, index: usize, raw: &[u8], _: Option<&Tape>) {
        let Some(picker) = &self.picker else { return };
        match picker.pick(raw, u32::try_from(index).unwrap_or(u32::MAX)) {
            Pick::Row(row) => batch.staged.push(*row),
            Pick::NoTime { missing: true } => batch.staged_no_time.missing += 1,
            Pick::NoTime { missing: false } => batch.staged_no_time.unparseable += 1,
            Pick::Not => {}
        }
    }

    fn end_object(&self, _: &mut Batch, _: &str, _: bool) {}

    fn merge(&self, mut a: Batch, mut b: Batch) -> Batch {
        self.commit(&mut b);
        a.rows += b.rows;
        a.files += b.files;
        a.no_time.add(&b.no_time);
        a
    }

    fn takes_matched(&self) -> bool {
        true
    }

    fn matched(&self, batch: &mut Batch, m: &Matched<'_, '_>) {
        let index = u32::try_from(m.index).unwrap_or(u32::MAX);
        batch
            .staged
            .push(LakeRow::new(m.event, m.value, m.raw, m.time_us, 0, index));
    }

    fn object_done(&self, batch: &mut Batch, done: &ObjectDone<'_>) {
        self.end(batch, done);
    }
}
