//! What a killed ingest left, finished or cleared before the next one
//! writes: the lake then holds exactly the files its manifest lists.
//!
//! A part file a committed fragment lists but still under its temporary
//! name (the run died between the commit and the rename) is renamed into
//! place; any other temporary part file, and any part file no fragment
//! lists, was never committed and is removed, as are unfinished fragments.
//! Run only under the lake's lock.

use std::path::Path;

use anyhow::{Context, Result};

use super::batch::{temp_name, EVENTS_DIR};
use super::manifest::{manifest_dir, Manifest};
use super::shards::owns_file;
use crate::source::shard::Shard;

/// What [`recover`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Recovered {
    /// Committed files renamed into place.
    pub renamed: u64,
    /// Uncommitted files removed.
    pub removed: u64,
}

/// Brings the lake at `root` in line with `manifest`.
pub fn recover(root: &Path, manifest: &Manifest) -> Result<Recovered> {
    recover_own(root, manifest, None)
}

/// [`recover`] for files `shard` wrote only (every file without one): other
/// shards' temporary files belong to runs that may still be going.
pub fn recover_own(root: &Path, manifest: &Manifest, shard: Option<Shard>) -> Result<Recovered> {
    let mut done = Recovered::default();
    let events = root.join(EVENTS_DIR);
    if events.exists() {
        for entry in walkdir::WalkDir::new(&events) {
            let entry = entry.with_context(|| format!("walking {}", events.display()))?;
            let name = entry.file_name().to_string_lossy();
            if entry.file_type().is_file() && owns_file(shard, &name) {
                settle(root, entry.path(), manifest, &mut done)?;
            }
        }
    }
    if let Ok(entries) = std::fs::read_dir(manifest_dir(root)) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') && name.ends_with(".tmp") && owns_file(shard, &name) {
                remove(&e.path(), &mut done)?;
            }
        }
    }
    Ok(done)
}

/// Keeps, renames or removes one file found under `events/`.
fn settle(root: &Path, path: &Path, manifest: &Manifest, done: &mut Recovered) -> Result<()> {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return Ok(());
    };
    let rel = |p: &Path| {
        p.strip_prefix(root)
            .map(|r| r.to_string_lossy().replace('\\', "/"))
            .unwrap_or_default()
    };
    if let Some(final_name) = name
        .strip_prefix('.')
        .and_then(|n| n.strip_suffix(".tmp"))
        .filter(|n| n.starts_with("part-") && n.ends_with(".parquet"))
    {
        debug_assert_eq!(temp_name(final_name), name);
        let target = path.with_file_name(final_name);
        if manifest.files.contains_key(&rel(&target)) && !target.exists() {
            std::fs::rename(path, &target)
                .with_context(|| format!("renaming {} into place", path.display()))?;
            done.renamed += 1;
            return Ok(());
        }
        return remove(path, done);
    }
    if name.starts_with("part-")
        && name.ends_with(".parquet")
        && !manifest.files.contains_key(&rel(path))
    {
        return remove(path, done);
    }
    Ok(())
}

fn remove(path: &Path, done: &mut Recovered) -> Result<()> {
    std::fs::remove_file(path).with_context(|| format!("removing {}", path.display()))?;
    done.removed += 1;
    Ok(())
}
