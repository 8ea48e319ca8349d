//! Reading a lake on S3: its committed records and the part files a query
//! needs, copied into a local cache folder that the local reader then
//! reads as a lake of its own.
//!
//! Each query LISTs `_ctscan/` once, GETs the fragments it has not cached
//! yet (a fragment is never rewritten) and the shards' records and locks
//! (small, and rewritten), then GETs the part files that the manifest
//! commits, that the query's partitions need, and that are not cached.
//! A part file's key is never reused for other contents (a rewrite has a
//! new name), so its name is its version: a second query of the same
//! partitions GETs no part file. Files no longer in the lake are removed.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use super::RemoteLake;
use crate::lake::load_manifest;
use crate::lake::manifest::MANIFEST_DIR;
use crate::lake::partition::EVENTS_DIR;
use crate::lake::read::plan::PartFile;
use crate::source::s3::options::{S3Options, S3Url};

/// The cache folder of the lake at `url` below `base` (see
/// `config::lake_s3`), by endpoint (when not AWS's), bucket and prefix.
pub fn cache_dir(base: &Path, url: &S3Url, endpoint: Option<&str>) -> PathBuf {
    let base = match endpoint {
        Some(ep) => base.join(
            ep.chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '.' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect::<String>(),
        ),
        None => base.to_path_buf(),
    };
    base.join(&url.bucket)
        .join(url.prefix.trim_end_matches('/'))
}

/// Brings the cache below `base` of the lake at `url` up to date for a
/// query that reads the partitions `wanted` accepts; returns the lake's
/// cache folder.
///
/// A part file the manifest named can be gone by the time it is fetched:
/// an ingest rewrote it and retired it since. The records are then read
/// again, once, and name its replacement.
pub fn fetch(
    url: &str,
    opts: &S3Options,
    base: &Path,
    wanted: &dyn Fn(&PartFile) -> bool,
) -> Result<PathBuf> {
    let lake = RemoteLake::connect(url, opts)?;
    let dir = cache_dir(base, lake.url(), opts.endpoint_url.as_deref());
    std::fs::create_dir_all(dir.join(MANIFEST_DIR))
        .with_context(|| format!("creating {}", dir.display()))?;
    let mut missing = Vec::new();
    for _ in 0..2 {
        missing = refresh(&lake, &dir, wanted)?;
        if missing.is_empty() {
            return Ok(dir);
        }
    }
    bail!(
        "--lake {url}: {} committed part file(s) are missing from the bucket, e.g. {}",
        missing.len(),
        missing[0]
    )
}

/// One pass of [`fetch`]; the part files it could not find.
fn refresh(
    lake: &RemoteLake,
    dir: &Path,
    wanted: &dyn Fn(&PartFile) -> bool,
) -> Result<Vec<String>> {
    let listed = lake.list("_ctscan/")?;
    let remote: BTreeSet<&str> = listed.iter().map(|l| l.rel.as_str()).collect();
    for local in files_below(dir, "_ctscan")? {
        if !remote.contains(local.as_str()) {
            remove(&dir.join(&local))?;
        }
    }
    let fresh = listed
        .iter()
        .map(|l| l.rel.clone())
        .filter(|rel| !(rel.starts_with(&format!("{MANIFEST_DIR}/")) && dir.join(rel).exists()))
        .collect();
    lake.download_all(dir, fresh)?;
    let manifest = load_manifest(dir)?;
    let needed: Vec<String> = manifest
        .files
        .keys()
        .filter(|rel| {
            !dir.join(rel).exists() && PartFile::from_relative(dir, rel).is_none_or(|p| wanted(&p))
        })
        .cloned()
        .collect();
    lake.download_all(dir, needed.clone())?;
    for local in files_below(dir, EVENTS_DIR)? {
        if !manifest.files.contains_key(&local) {
            remove(&dir.join(&local))?;
        }
    }
    Ok(needed
        .into_iter()
        .filter(|rel| !dir.join(rel).exists())
        .collect())
}

/// Every file below `dir/sub` but dot-files, relative to `dir`.
fn files_below(dir: &Path, sub: &str) -> Result<Vec<String>> {
    let top = dir.join(sub);
    if !top.exists() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for e in walkdir::WalkDir::new(&top) {
        let e = e.with_context(|| format!("walking {}", top.display()))?;
        // Dot-files are downloads in progress, another query's perhaps.
        if e.file_type().is_file() && !e.file_name().to_string_lossy().starts_with('.') {
            if let Ok(rel) = e.path().strip_prefix(dir) {
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    Ok(out)
}

fn remove(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("removing {}", path.display())),
    }
}
