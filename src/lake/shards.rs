//! Shards of one lake: `ingest --shard I/N` workers writing into the same
//! lake at once, each with its own lock, runs, part files and manifest
//! fragments, so none waits for another and no update is lost.
//!
//! A shard's run id carries its tag (`…-shard-I-of-N`), and so do its part
//! files and fragments: a shard recovers and rewrites only what it wrote,
//! never a file another shard is still writing. A finished shard leaves a
//! record in `_ctscan/shards/`, which `lake status` reads beside the
//! manifest to say which shards finished, what each holds and which are
//! missing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::lock::LOCK_FILE;
use super::manifest::{Manifest, Outcome};
use crate::source::shard::Shard;

/// Where finished shards leave their records, below the lake's root.
pub const SHARDS_DIR: &str = "_ctscan/shards";

/// The tag a shard's run ids, part files and fragments carry.
pub fn tag(shard: Shard) -> String {
    format!("shard-{}-of-{}", shard.index, shard.count)
}

/// The shard a run id, part file or fragment name was written by, if any.
pub fn shard_of(name: &str) -> Option<Shard> {
    let at = name.rfind("shard-")?;
    let rest = &name[at + "shard-".len()..];
    let (index, rest) = rest.split_once("-of-")?;
    let count: String = rest.chars().take_while(char::is_ascii_digit).collect();
    Some(Shard {
        index: index.parse().ok()?,
        count: count.parse().ok()?,
    })
}

/// The lock of one shard (the lake's own lock without a shard): shards
/// never wait for one another, and a retried shard finds its own.
pub fn lock_path(root: &Path, shard: Option<Shard>) -> PathBuf {
    match shard {
        Some(s) => root.join(format!("{LOCK_FILE}.{}", tag(s))),
        None => root.join(LOCK_FILE),
    }
}

/// Whether a file name belongs to this run's owner: every file without a
/// shard, or the shard's own files.
pub fn owns_file(shard: Option<Shard>, name: &str) -> bool {
    shard.is_none_or(|s| shard_of(name) == Some(s))
}

/// A finished shard: `_ctscan/shards/shard-I-of-N.json`, rewritten by a
/// retry that finishes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finished {
    pub shard: Shard,
    /// The run that finished it.
    pub run: String,
    /// When it started, RFC 3339, and how long it took.
    pub started: String,
    pub elapsed_s: f64,
    /// Objects the run listed, scanned, and failed (retried by the next run).
    pub listed: u64,
    pub scanned: u64,
    pub failed: u64,
    /// Rows the run stored.
    pub rows: u64,
}

impl Finished {
    /// Writes the record, atomically.
    pub fn write(&self, root: &Path) -> Result<()> {
        let dir = root.join(SHARDS_DIR);
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let path = dir.join(format!("{}.json", tag(self.shard)));
        crate::report::export::write_json_atomically(&path, self)
    }
}

/// What the lake holds of one shard (or of runs without one).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ShardHoldings {
    pub objects: u64,
    pub failed: u64,
    pub records_read: u64,
    pub rows: u64,
    /// Bytes of the objects, as listed.
    pub bytes: u64,
}

/// The shards of the sweeps in a lake, by N.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Status {
    /// Per N: finished shards, shards holding a lock now, missing shards.
    pub sweeps: BTreeMap<u32, Sweep>,
    /// What the manifest holds per shard (`None`: runs without `--shard`).
    #[serde(skip)]
    pub holdings: BTreeMap<Option<Shard>, ShardHoldings>,
}

/// One N's shards.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Sweep {
    pub finished: Vec<Finished>,
    /// Indices whose lock is held (running, or died without cleaning up).
    pub locked: Vec<u32>,
    /// Indices with no finished record.
    pub missing: Vec<u32>,
}

/// Reads the shard records, locks and manifest of the lake at `root`.
pub fn status(root: &Path, manifest: &Manifest) -> Result<Status> {
    let mut st = Status::default();
    for name in names_in(&root.join(SHARDS_DIR))? {
        if !name.ends_with(".json") || name.starts_with('.') {
            continue;
        }
        let path = root.join(SHARDS_DIR).join(&name);
        let text = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let f: Finished =
            serde_json::from_slice(&text).with_context(|| format!("reading {}", path.display()))?;
        st.sweeps.entry(f.shard.count).or_default().finished.push(f);
    }
    let lock_dir = lock_path(root, None);
    let lock_name = lock_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned());
    if let (Some(dir), Some(lock_name)) = (lock_dir.parent(), lock_name) {
        for name in names_in(dir)? {
            if let Some(s) = name.strip_prefix(&lock_name).and_then(shard_of) {
                st.sweeps.entry(s.count).or_default().locked.push(s.index);
            }
        }
    }
    for (count, sweep) in &mut st.sweeps {
        sweep.finished.sort_by_key(|f| f.shard.index);
        sweep.locked.sort();
        let done: Vec<u32> = sweep.finished.iter().map(|f| f.shard.index).collect();
        sweep.missing = (0..*count).filter(|i| !done.contains(i)).collect();
    }
    for ingested in manifest.objects.values() {
        let h = st.holdings.entry(shard_of(&ingested.commit)).or_default();
        let e = &ingested.entry;
        h.objects += 1;
        h.failed += u64::from(e.outcome == Outcome::Failed);
        h.records_read += e.records_read;
        h.rows += e.rows;
        h.bytes += e.size;
    }
    Ok(st)
}

/// File names in `dir`; none when it does not exist.
fn names_in(dir: &Path) -> Result<Vec<String>> {
    match std::fs::read_dir(dir) {
        Ok(entries) => Ok(entries
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e).with_context(|| format!("reading {}", dir.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_their_shard() {
        let s = Shard { index: 3, count: 8 };
        let run = format!("20261202T101010000000Z-77-{}", tag(s));
        assert_eq!(shard_of(&run), Some(s));
        assert_eq!(shard_of(&format!("{run}-c000002")), Some(s));
        assert_eq!(
            shard_of(&format!(".part-{run}-000001.parquet.tmp")),
            Some(s)
        );
        assert_eq!(
            shard_of("part-20261202T101010000000Z-77-000001.parquet"),
            None
        );
        assert!(owns_file(Some(s), &format!("part-{run}-000001.parquet")));
        assert!(!owns_file(Some(Shard { index: 2, count: 8 }), &run));
        assert!(owns_file(None, &run));
        let root = Path::new("/lake");
        assert_eq!(lock_path(root, None), root.join("_ctscan/lock"));
        assert_eq!(
            lock_path(root, Some(s)),
            root.join("_ctscan/lock.shard-3-of-8")
        );
    }
}
