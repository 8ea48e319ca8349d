//! `ctscan ingest --lake s3://bucket/prefix`: the ingest of a local lake,
//! staged in a local folder and published to S3 commit by commit (see
//! [`crate::lake::remote`]).
//!
//! Under the lake's lock on S3: copy the lake's records into the staging
//! folder, delete what a killed run uploaded without committing, then hand the
//! staging folder to the local ingest, which publishes every commit.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};

use crate::config::IngestConfig;
use crate::lake::lock::Holder;
use crate::lake::remote::lock::RemoteLock;
use crate::lake::remote::publish::Publisher;
use crate::lake::remote::stage::stage;
use crate::lake::remote::RemoteLake;
use crate::lake::shards::lock_path;
use crate::source::shard::Shard;

/// A lake on S3 staged for an ingest: held while the ingest runs.
pub struct Staged<'a> {
    pub url: &'a str,
    /// The local folder the ingest writes into.
    pub staging: PathBuf,
    pub publisher: Arc<Publisher>,
    _lock: RemoteLock,
    _temp: Option<tempfile::TempDir>,
}

/// Takes the lock of the lake at `url`, and stages it in `staging` or in
/// a new temporary folder.
pub fn prepare<'a>(cfg: &IngestConfig, url: &'a str, staging: Option<&Path>) -> Result<Staged<'a>> {
    let lake = Arc::new(RemoteLake::connect(url, &cfg.scan.s3)?);
    let shard = cfg.scan.prune.shard.filter(Shard::splits);
    let temp = match staging {
        Some(_) => None,
        None => Some(
            tempfile::Builder::new()
                .prefix("ctscan-lake-")
                .tempdir()
                .context("creating the lake's staging folder")?,
        ),
    };
    let staging: PathBuf = match (&temp, staging) {
        (Some(t), _) => t.path().to_path_buf(),
        (None, dir) => dir.unwrap_or(Path::new(".")).to_path_buf(),
    };
    let lock = lock_path(Path::new(""), shard);
    let lock = lock.to_string_lossy().replace('\\', "/");
    let me = Holder::this_process(cfg.scan.now);
    let retry = cfg.engine_index && shard.is_some();
    let lock = RemoteLock::acquire(&lake, &lock, &me, retry)?;
    let removed = stage(&lake, &staging, shard)?;
    if removed > 0 && !cfg.scan.quiet {
        eprintln!(
            "ctscan: warning: {url}: an earlier ingest was interrupted: {removed} uncommitted file(s) removed"
        );
    }
    Ok(Staged {
        url,
        staging,
        publisher: Arc::new(Publisher::new(lake)),
        _lock: lock,
        _temp: temp,
    })
}
