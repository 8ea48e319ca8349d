//! Preparing a local staging folder for an ingest into a lake on S3, and
//! clearing what a killed run uploaded but never committed.
//!
//! The staging folder then holds the lake's `_ctscan/` records, so the
//! local ingest reads the manifest, skips unchanged objects and rewrites
//! stale rows exactly as in a local lake (fetching each file it rewrites);
//! every other part file stays on S3 only.

use std::path::Path;

use anyhow::{Context, Result};
use rayon::prelude::*;

use super::{Listed, RemoteLake};
use crate::lake::load_manifest;
use crate::lake::manifest::MANIFEST_DIR;
use crate::lake::partition::EVENTS_DIR;
use crate::lake::shards::{owns_file, SHARDS_DIR};
use crate::source::shard::Shard;

/// Copies the lake's records into `staging` (emptied of any earlier ones;
/// a part file to rewrite is fetched when it is rewritten); deletes the
/// part keys of `shard` that no committed fragment names, and returns how
/// many.
pub fn stage(lake: &RemoteLake, staging: &Path, shard: Option<Shard>) -> Result<u64> {
    for dir in ["_ctscan", EVENTS_DIR] {
        let path = staging.join(dir);
        if path.exists() {
            std::fs::remove_dir_all(&path)
                .with_context(|| format!("emptying {}", path.display()))?;
        }
    }
    std::fs::create_dir_all(staging.join(MANIFEST_DIR))
        .with_context(|| format!("creating {}", staging.display()))?;
    let records = lake_records(lake)?;
    lake.download_all(staging, records.into_iter().map(|l| l.rel).collect())?;
    let manifest = load_manifest(staging)?;
    let orphans: Vec<String> = lake
        .list(&format!("{EVENTS_DIR}/"))?
        .into_iter()
        .map(|l| l.rel)
        .filter(|rel| {
            let name = rel.rsplit('/').next().unwrap_or(rel);
            name.starts_with("part-")
                && name.ends_with(".parquet")
                && owns_file(shard, name)
                && !manifest.files.contains_key(rel)
        })
        .collect();
    orphans.par_iter().try_for_each(|rel| lake.delete(rel))?;
    Ok(orphans.len() as u64)
}

/// The committed fragments and finished shards' records of the lake.
pub fn lake_records(lake: &RemoteLake) -> Result<Vec<Listed>> {
    let mut out = lake.list("_ctscan/")?;
    out.retain(|l| {
        let json = l.rel.ends_with(".json");
        let name = l.rel.rsplit('/').next().unwrap_or(&l.rel);
        json && !name.starts_with('.')
            && (l.rel.starts_with(&format!("{MANIFEST_DIR}/"))
                || l.rel.starts_with(&format!("{SHARDS_DIR}/")))
    });
    Ok(out)
}
