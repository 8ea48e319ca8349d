//! The input abstraction of verification ([`ObjectStore`]) and its local
//! implementation, [`LocalMirror`].
//!
//! # Local mirror layout
//!
//! A mirror is a directory whose files are the bucket's objects at their keys
//! relative to the trail's S3 key prefix (`<root>/AWSLogs/...`). S3 user
//! metadata, which `aws s3 sync` loses and which holds the digest signatures,
//! is kept by `ctscan mirror` in one sidecar per object:
//!
//! ```text
//! <root>/.ctscan-meta/<KEY>.json
//! {"key": "<full S3 key>", "bucket": "...", "etag": "...", "size": N,
//!  "last_modified": "...",
//!  "metadata": {"signature": "<hex>", "signature-algorithm": "SHA256withRSA"}}
//! ```
//!
//! Only `metadata` is read here (keys without the `x-amz-meta-` prefix).
//! Files under `.ctscan-meta/` are not objects. An object without a sidecar
//! has unknown metadata (`None`); a sidecar without `metadata` means the object
//! had none (`Some(empty)`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

/// Directory (under the mirror root) holding the metadata sidecars.
pub const META_DIR: &str = ".ctscan-meta";

/// One listed object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    /// Path relative to the source root, '/'-separated.
    pub key: String,
    /// Size in bytes as stored.
    pub size: u64,
}

/// Where verification reads objects from: a local mirror or S3.
pub trait ObjectStore: Sync {
    /// Every object (logs and digests), any order.
    fn list(&self) -> anyhow::Result<Vec<ObjectInfo>>;
    /// Raw bytes as stored (usually gzip).
    fn read(&self, key: &str) -> anyhow::Result<Vec<u8>>;
    /// S3 user metadata without `x-amz-meta-`, `None` if unknown.
    fn metadata(&self, key: &str) -> anyhow::Result<Option<BTreeMap<String, String>>>;
    /// Bucket name, if known.
    fn bucket(&self) -> Option<String>;
    /// S3 key prefix of the root (`""` or `"myprefix/"`): full key = prefix + key.
    fn key_prefix(&self) -> String;
}

/// A directory holding a copy of the bucket (see the module docs).
#[derive(Debug, Clone)]
pub struct LocalMirror {
    root: PathBuf,
    bucket: Option<String>,
    prefix: String,
}

impl LocalMirror {
    /// A mirror rooted at `root`, bucket unknown, empty key prefix.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        LocalMirror {
            root: root.into(),
            bucket: None,
            prefix: String::new(),
        }
    }

    /// Sets the bucket name, which enables the bucket half of the "moved" check.
    pub fn with_bucket(mut self, bucket: impl Into<String>) -> Self {
        self.bucket = Some(bucket.into());
        self
    }

    /// Sets the S3 key prefix the root stands for (`"myprefix/"`).
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Maps a key to a path, refusing keys that could escape the root.
    fn path_of(&self, base: &Path, key: &str) -> anyhow::Result<PathBuf> {
        let bad = key.is_empty()
            || key.starts_with('/')
            || key.contains('\\')
            || key
                .split('/')
                .any(|s| s.is_empty() || s == "." || s == "..");
        if bad {
            bail!("refusing unsafe object key {key:?}");
        }
        Ok(base.join(key))
    }

    fn walk(&self, dir: &Path, rel: &str, out: &mut Vec<ObjectInfo>) -> anyhow::Result<()> {
        let entries =
            std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))?;
        for entry in entries {
            let entry = entry.with_context(|| format!("listing {}", dir.display()))?;
            let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                continue;
            };
            if rel.is_empty() && name == META_DIR {
                continue;
            }
            let key = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            let kind = entry.file_type()?;
            if kind.is_dir() {
                self.walk(&entry.path(), &key, out)?;
            } else if kind.is_file() {
                let size = entry.metadata()?.len();
                out.push(ObjectInfo { key, size });
            }
        }
        Ok(())
    }
}

impl ObjectStore for LocalMirror {
    fn list(&self) -> anyhow::Result<Vec<ObjectInfo>> {
        let mut out = Vec::new();
        self.walk(&self.root, "", &mut out)?;
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    fn read(&self, key: &str) -> anyhow::Result<Vec<u8>> {
        let path = self.path_of(&self.root, key)?;
        std::fs::read(&path).with_context(|| format!("reading {}", path.display()))
    }

    fn metadata(&self, key: &str) -> anyhow::Result<Option<BTreeMap<String, String>>> {
        let path = self.path_of(&self.root.join(META_DIR), &format!("{key}.json"))?;
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        let sidecar: serde_json::Value = serde_json::from_slice(&bytes)
            .with_context(|| format!("parsing {}", path.display()))?;
        let mut out = BTreeMap::new();
        if let Some(map) = sidecar.get("metadata").and_then(|m| m.as_object()) {
            for (k, v) in map {
                if let Some(s) = v.as_str() {
                    out.insert(k.to_ascii_lowercase(), s.to_string());
                }
            }
        }
        Ok(Some(out))
    }

    fn bucket(&self) -> Option<String> {
        self.bucket.clone()
    }

    fn key_prefix(&self) -> String {
        self.prefix.clone()
    }
}
