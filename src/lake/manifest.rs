//! The lake's manifest: which objects are in it and which part files hold
//! their rows.
//!
//! It is a folder of fragments, `DIR/_ctscan/manifest/<commit>.json`, one
//! per committed batch. Writing a fragment is the commit point: it is
//! written under a temporary name and renamed (one PUT on S3), so it is
//! whole or absent. Nothing ever edits a fragment; [`load_manifest`] merges
//! them all, later commits over earlier ones. Commit ids sort in commit
//! order within a run, and runs by their start time.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::interrupt::TempPath;

/// The manifest's folder, below the lake's root.
pub const MANIFEST_DIR: &str = "_ctscan/manifest";

/// The version of the fragment format this build writes and reads.
pub const FORMAT: u32 = 1;

/// One committed batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fragment {
    pub format: u32,
    /// Its id, also its file name: `<run>-c<seq>`.
    pub commit: String,
    /// The ingest run that wrote it: `<UTC start>-<pid>`.
    pub run: String,
    pub params: Params,
    /// Every object the batch accounts for.
    pub objects: Vec<ObjectEntry>,
    /// The part files it commits, relative to the lake's root.
    pub files: Vec<FileEntry>,
    /// Part files it retires: rewritten without stale rows (their
    /// replacements are in `files`), no longer part of the lake.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<String>,
}

/// What the run that wrote a fragment was asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Params {
    /// `--since`, RFC 3339, or null.
    pub since: Option<String>,
    /// `--until`, RFC 3339, or null.
    pub until: Option<String>,
    /// `all`, or the selected events (`source:Name` or `Name`).
    pub selection: Vec<String>,
}

/// One object ingested, and what became of it, as `report` accounts it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectEntry {
    /// As `events.parquet`'s `object` names it: a path or an `s3://` URL.
    pub key: String,
    pub size: u64,
    /// The S3 ETag, without quotes; null for a local file.
    pub etag: Option<String>,
    /// A local file's modification time, in nanoseconds since the epoch.
    pub mtime_ns: Option<i64>,
    pub outcome: Outcome,
    /// Why it was skipped, or why it failed.
    pub reason: Option<String>,
    pub records_read: u64,
    /// Rows stored: records selected, with a usable time, in the window.
    pub rows: u64,
    /// Selected records without a usable `eventTime`, not stored.
    pub no_event_time: NoTime,
    /// The part files holding its rows, and how many each.
    pub files: Vec<FileEntry>,
}

/// What became of an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Scanned,
    Skipped,
    Failed,
}

/// Why selected records had no usable time (`report`'s `no_event_time_reasons`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoTime {
    pub missing: u64,
    pub unparseable: u64,
}

/// A part file and its row count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Relative to the lake's root, with `/` separators.
    pub path: String,
    pub rows: u64,
}

/// Every fragment merged: the lake's state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Manifest {
    /// Each object's latest entry, by key.
    pub objects: BTreeMap<String, Ingested>,
    /// Every committed part file and its row count, by path.
    pub files: BTreeMap<String, u64>,
    /// Committed files that still hold rows of an earlier ingest of an
    /// object read again since (it changed, or the window or selection
    /// did): path → the keys whose rows there are stale. The next ingest
    /// rewrites them; until then, readers drop those rows.
    pub stale: BTreeMap<String, BTreeSet<String>>,
    /// The commits merged, in order.
    pub commits: Vec<String>,
}

/// An object's latest entry and the commit and parameters it came with.
#[derive(Debug, Clone, PartialEq)]
pub struct Ingested {
    pub entry: ObjectEntry,
    pub commit: String,
    pub params: Params,
}

impl Manifest {
    /// Whether an object of this key, size and version (ETag, or local
    /// modification time) is in the lake already. Failed objects are not,
    /// so a rerun tries them again.
    /// Ingested with other parameters (window, selection), it is not either.
    pub fn has(&self, key: &str, version: &Version<'_>, params: &Params) -> bool {
        self.objects.get(key).is_some_and(|i| {
            let e = &i.entry;
            e.outcome != Outcome::Failed
                && e.size == version.size
                && e.etag.as_deref() == version.etag
                && e.mtime_ns == version.mtime_ns
                && i.params == *params
        })
    }

    /// Rows in every committed file.
    pub fn rows(&self) -> u64 {
        self.files.values().sum()
    }

    fn add(&mut self, f: Fragment) {
        for path in &f.removed {
            self.files.remove(path);
            self.stale.remove(path);
        }
        for file in f.files {
            self.files.insert(file.path, file.rows);
        }
        for o in f.objects {
            let key = o.key.clone();
            let new = Ingested {
                entry: o,
                commit: f.commit.clone(),
                params: f.params.clone(),
            };
            if let Some(old) = self.objects.insert(key.clone(), new) {
                for file in old.entry.files {
                    if self.files.contains_key(&file.path) {
                        self.stale.entry(file.path).or_default().insert(key.clone());
                    }
                }
            }
        }
        self.commits.push(f.commit);
    }
}

/// Which version of an object: its size, and its ETag (S3) or modification
/// time (a local file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version<'a> {
    pub size: u64,
    pub etag: Option<&'a str>,
    pub mtime_ns: Option<i64>,
}

/// The manifest folder of the lake at `root`.
pub fn manifest_dir(root: &Path) -> PathBuf {
    root.join(MANIFEST_DIR)
}

/// Reads and merges every committed fragment of the lake at `root`; an
/// empty manifest when there is none yet. Temporary fragments (a commit
/// that did not finish) are not read.
pub fn load_manifest(root: &Path) -> Result<Manifest> {
    let dir = manifest_dir(root);
    let mut names: Vec<String> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".json") && !n.starts_with('.'))
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
    };
    names.sort();
    let mut manifest = Manifest::default();
    for name in names {
        let path = dir.join(&name);
        let text = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        manifest.add(parse_fragment(&text).with_context(|| format!("reading {}", path.display()))?);
    }
    Ok(manifest)
}

/// Parses one fragment, refusing a format this build does not know.
pub fn parse_fragment(text: &[u8]) -> Result<Fragment> {
    let f: Fragment = serde_json::from_slice(text)?;
    anyhow::ensure!(
        f.format == FORMAT,
        "manifest format {} (this ctscan reads {FORMAT}; upgrade ctscan)",
        f.format
    );
    Ok(f)
}

/// Commits `fragment`: writes it under a temporary name, syncs it, and
/// renames it into the manifest folder.
pub fn commit_local(root: &Path, fragment: &Fragment) -> Result<()> {
    let dir = manifest_dir(root);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(format!("{}.json", fragment.commit));
    let tmp = TempPath::register(dir.join(format!(".{}.json.tmp", fragment.commit)))?;
    let result: Result<()> = (|| {
        let mut out = std::fs::File::create(tmp.path())?;
        serde_json::to_writer(&mut out, fragment)?;
        out.write_all(b"\n")?;
        out.sync_all()?;
        crate::interrupt::check()?;
        std::fs::rename(tmp.path(), &path)?;
        Ok(())
    })();
    result.with_context(|| format!("committing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fragment(commit: &str, key: &str, size: u64, files: &[(&str, u64)]) -> Fragment {
        let files: Vec<FileEntry> = files
            .iter()
            .map(|(p, r)| FileEntry {
                path: p.to_string(),
                rows: *r,
            })
            .collect();
        Fragment {
            format: FORMAT,
            commit: commit.into(),
            run: "r".into(),
            params: Params {
                since: None,
                until: None,
                selection: vec!["all".into()],
            },
            objects: vec![ObjectEntry {
                key: key.into(),
                size,
                etag: None,
                mtime_ns: Some(5),
                outcome: Outcome::Scanned,
                reason: None,
                records_read: 3,
                rows: files.iter().map(|f| f.rows).sum(),
                no_event_time: NoTime::default(),
                files: files.clone(),
            }],
            files,
            removed: Vec::new(),
        }
    }

    #[test]
    fn fragments_merge_in_commit_order() {
        let dir = tempfile::tempdir().unwrap();
        commit_local(dir.path(), &fragment("r1-c000002", "a", 20, &[("f2", 2)])).unwrap();
        commit_local(dir.path(), &fragment("r1-c000001", "a", 10, &[("f1", 1)])).unwrap();
        commit_local(dir.path(), &fragment("r1-c000003", "b", 7, &[])).unwrap();
        // An unfinished commit is not read.
        std::fs::write(manifest_dir(dir.path()).join(".r1-c000004.json.tmp"), "{").unwrap();
        let m = load_manifest(dir.path()).unwrap();
        assert_eq!(m.commits, ["r1-c000001", "r1-c000002", "r1-c000003"]);
        assert_eq!(m.objects["a"].entry.size, 20);
        let v = |size, mtime_ns| Version {
            size,
            etag: None,
            mtime_ns: Some(mtime_ns),
        };
        let params = m.objects["a"].params.clone();
        assert!(m.has("a", &v(20, 5), &params));
        assert!(!m.has("a", &v(10, 5), &params));
        assert!(!m.has("a", &v(20, 6), &params));
        let other = Params {
            since: Some("2026-01-01T00:00:00Z".into()),
            ..params
        };
        assert!(!m.has("a", &v(20, 5), &other));
        assert_eq!(m.rows(), 3);
        // `a` was read again: its first rows, in f1, are stale.
        assert_eq!(m.stale["f1"], BTreeSet::from(["a".to_string()]));
        let mut rewrite = fragment("r1-c000005", "c", 1, &[("f1b", 0)]);
        rewrite.objects.clear();
        rewrite.removed = vec!["f1".into()];
        commit_local(dir.path(), &rewrite).unwrap();
        let m = load_manifest(dir.path()).unwrap();
        assert!(m.stale.is_empty());
        assert_eq!(m.files.keys().collect::<Vec<_>>(), ["f1b", "f2"]);
        assert_eq!(
            load_manifest(&dir.path().join("none")).unwrap(),
            Manifest::default()
        );
    }
}
