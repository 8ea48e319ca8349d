//! The `--fs BUCKET=DIR` backend: the files under a directory, read once at
//! start-up into a sorted key index (small corpora), bodies read on GET.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use bytes::Bytes;
use md5::{Digest, Md5};
use time::OffsetDateTime;

use crate::bucket::{Bucket, KeyCursor, ObjectMeta};

/// Keys with their metadata, sorted byte-wise as S3 sorts them.
pub struct SortedKeys {
    entries: Vec<(String, ObjectMeta)>,
}

impl SortedKeys {
    pub fn new(mut entries: Vec<(String, ObjectMeta)>) -> SortedKeys {
        entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        SortedKeys { entries }
    }

    /// Keys with placeholder metadata, for tests of listing logic.
    #[cfg(test)]
    pub fn from_keys(keys: impl Iterator<Item = String>) -> SortedKeys {
        let meta = ObjectMeta {
            size: 0,
            etag: String::new(),
            last_modified: OffsetDateTime::UNIX_EPOCH,
        };
        SortedKeys::new(keys.map(|k| (k, meta.clone())).collect())
    }

    fn find(&self, key: &str) -> Option<&ObjectMeta> {
        let i = self.position(key.as_bytes());
        self.entries.get(i).filter(|e| e.0 == key).map(|e| &e.1)
    }

    fn position(&self, bound: &[u8]) -> usize {
        self.entries.partition_point(|e| e.0.as_bytes() < bound)
    }
}

struct SliceCursor<'a> {
    entries: &'a [(String, ObjectMeta)],
    at: usize,
}

impl KeyCursor for SliceCursor<'_> {
    fn key(&self) -> Option<&str> {
        self.entries.get(self.at).map(|e| e.0.as_str())
    }
    fn meta(&self) -> ObjectMeta {
        self.entries[self.at].1.clone()
    }
    fn advance(&mut self) {
        self.at += 1;
    }
}

impl Bucket for SortedKeys {
    fn name(&self) -> &str {
        "sorted-keys"
    }
    fn created(&self) -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH
    }
    fn cursor_at<'a>(&'a self, bound: &[u8]) -> Box<dyn KeyCursor + 'a> {
        Box::new(SliceCursor {
            entries: &self.entries,
            at: self.position(bound),
        })
    }
    fn meta(&self, key: &str) -> Option<ObjectMeta> {
        self.find(key).cloned()
    }
    fn body(&self, _key: &str) -> Option<Bytes> {
        None
    }
}

/// A directory served as a bucket: key = path relative to the directory.
pub struct FsBucket {
    name: String,
    root: PathBuf,
    keys: SortedKeys,
    created: OffsetDateTime,
}

impl FsBucket {
    /// Indexes every regular file under `root` (ETag = MD5 of its bytes).
    pub fn load(name: &str, root: &Path) -> Result<FsBucket> {
        let mut entries = Vec::new();
        collect(root, root, &mut entries).with_context(|| format!("reading {}", root.display()))?;
        Ok(FsBucket {
            name: name.to_string(),
            root: root.to_path_buf(),
            keys: SortedKeys::new(entries),
            created: OffsetDateTime::now_utc(),
        })
    }
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, ObjectMeta)>) -> Result<()> {
    for item in fs::read_dir(dir)? {
        let path = item?.path();
        let info = fs::metadata(&path)?;
        if info.is_dir() {
            collect(root, &path, out)?;
            continue;
        }
        let rel = path.strip_prefix(root)?;
        let Some(key) = rel
            .to_str()
            .map(|k| k.replace(std::path::MAIN_SEPARATOR, "/"))
        else {
            continue;
        };
        let bytes = fs::read(&path)?;
        let meta = ObjectMeta {
            size: bytes.len() as u64,
            etag: crate::hash::to_hex(&Md5::digest(&bytes)),
            last_modified: info
                .modified()
                .map(OffsetDateTime::from)
                .unwrap_or(OffsetDateTime::UNIX_EPOCH),
        };
        out.push((key, meta));
    }
    Ok(())
}

impl Bucket for FsBucket {
    fn name(&self) -> &str {
        &self.name
    }
    fn created(&self) -> OffsetDateTime {
        self.created
    }
    fn cursor_at<'a>(&'a self, bound: &[u8]) -> Box<dyn KeyCursor + 'a> {
        self.keys.cursor_at(bound)
    }
    fn meta(&self, key: &str) -> Option<ObjectMeta> {
        self.keys.meta(key)
    }
    /// Small files from the page cache: a blocking read costs microseconds.
    fn body(&self, key: &str) -> Option<Bytes> {
        self.keys.find(key)?;
        fs::read(self.root.join(key)).ok().map(Bytes::from)
    }
}
