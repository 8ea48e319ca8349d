//! `ctscan ingest --lake s3://bucket/prefix`: the ingest of a local lake,
//! staged in a local folder and published to S3 commit by commit (see
//! [`crate::lake::remote`]).
//!
//! Under the lake's lock on S3: copy the lake's records into the staging
//! folder, delete what a killed run uploaded without committing, then run
//! the local ingest with every commit published.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};

use super::ingest::{run_in, Remote};
use crate::config::IngestConfig;
use crate::error::ExitStatus;
use crate::lake::lock::Holder;
use crate::lake::remote::lock::RemoteLock;
use crate::lake::remote::publish::Publisher;
use crate::lake::remote::stage::stage;
use crate::lake::remote::RemoteLake;
use crate::lake::shards::lock_path;
use crate::source::shard::Shard;

/// Runs `ingest` into the lake at `url`, staged in `staging` or in a new
/// temporary folder.
pub fn run(cfg: &IngestConfig, url: &str, staging: Option<&Path>) -> Result<ExitStatus> {
    let lake = Arc::new(RemoteLake::connect(url, &cfg.scan.s3)?);
    let shard = cfg.scan.prune.shard.filter(Shard::splits);
    let temp;
    let staging: PathBuf = match staging {
        Some(dir) => dir.to_path_buf(),
        None => {
            temp = tempfile::Builder::new()
                .prefix("ctscan-lake-")
                .tempdir()
                .context("creating the lake's staging folder")?;
            temp.path().to_path_buf()
        }
    };
    let lock = lock_path(Path::new(""), shard);
    let lock = lock.to_string_lossy().replace('\\', "/");
    let _lock = RemoteLock::acquire(&lake, &lock, &Holder::this_process(cfg.scan.now))?;
    let removed = stage(&lake, &staging, shard)?;
    if removed > 0 && !cfg.scan.quiet {
        eprintln!(
            "ctscan: warning: {url}: an earlier ingest was interrupted: {removed} uncommitted file(s) removed"
        );
    }
    let remote = Remote {
        url,
        publisher: Arc::new(Publisher::new(lake.clone())),
    };
    run_in(cfg, &staging, Some(remote))
}
