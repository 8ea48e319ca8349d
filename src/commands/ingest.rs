//! `ctscan ingest`: the selected events of the SOURCEs, written into an
//! event lake incrementally (see [`crate::lake`]).
//!
//! Under the lake's lock: finish or clear what a killed run left, skip the
//! objects the manifest already holds unchanged, scan the rest with the
//! lake's writer as the visitor, commit the last batches, and account for
//! every object and record as `report` does.

use std::path::Path;
use std::sync::Arc;

use anyhow::Result;

use super::ingest_s3::{prepare, Staged};
use crate::commands::scan_sources::{scan_sources_skipping, Scanned};
use crate::config::{IngestConfig, LakeTarget};
use crate::error::ExitStatus;
use crate::lake::batch::{mtime_ns, BatchLimits, LakeWriter};
use crate::lake::lock::{Holder, LakeLock};
use crate::lake::manifest::{Params, Version};
use crate::lake::pattern::Picker;
use crate::lake::recover::recover_own;
use crate::lake::shards::{self, lock_path, SHARDS_DIR};
use crate::lake::stale::drop_stale;
use crate::lake::{load_manifest, Manifest};
use crate::scan::RecordCounts;
use crate::source::shard::Shard;
use crate::window::format_utc;

/// Runs `ingest`.
pub fn run(cfg: &IngestConfig) -> Result<ExitStatus> {
    match &cfg.lake {
        LakeTarget::Local(root) => run_in(cfg, root, None),
        LakeTarget::S3 { url, staging } => {
            let staged = prepare(cfg, url, staging.as_deref())?;
            run_in(cfg, &staged.staging.clone(), Some(&staged))
        }
    }
}

/// Runs `ingest` into the lake at `root`, or into the lake on S3 it stages.
fn run_in(cfg: &IngestConfig, root: &Path, remote: Option<&Staged<'_>>) -> Result<ExitStatus> {
    let now = cfg.scan.now;
    let shard = cfg.scan.prune.shard.filter(Shard::splits);
    let _lock = LakeLock::acquire(&lock_path(root, shard), &Holder::this_process(now))?;
    let before = load_manifest(root)?;
    let recovered = recover_own(root, &before, shard)?;
    if recovered != Default::default() && !cfg.scan.quiet {
        eprintln!(
            "ctscan: warning: {}: an earlier ingest was interrupted: {} committed file(s) renamed into place, {} uncommitted file(s) removed",
            root.display(),
            recovered.renamed,
            recovered.removed
        );
    }
    let mut run = format!(
        "{}-{}",
        now.strftime("%Y%m%dT%H%M%S%6fZ"),
        std::process::id()
    );
    if let Some(s) = shard {
        run = format!("{run}-{}", shards::tag(s));
    }
    let params = params(cfg);
    let mut writer = LakeWriter::new(root, run.clone(), params.clone(), limits(cfg));
    if let Some(r) = remote {
        writer = writer.with_publisher(r.publisher.clone());
    }
    if !cfg.patterns.is_empty() {
        writer = writer.with_picker(Picker {
            patterns: cfg.patterns.clone(),
            window: cfg.scan.window,
        });
    }
    // Stale rows an earlier run left (it died before rewriting them).
    drop_stale(&writer, &own_stale(&before, shard))?;
    let known = Arc::new(before);
    let unchanged = Arc::new(move |obj: &crate::source::ObjectRef| {
        let version = Version {
            size: obj.size,
            etag: obj.etag.as_deref(),
            mtime_ns: mtime_ns(&obj.location),
        };
        known.has(&obj.key, &version, &params)
    });
    let (scanned, mut batch) = scan_sources_skipping(&cfg.scan, &writer, Some(unchanged))?;
    writer.commit(&mut batch);
    if let Some(e) = writer.take_error() {
        return Err(e);
    }
    drop_stale(&writer, &own_stale(&load_manifest(root)?, shard))?;
    if let Some(shard) = shard.filter(|_| scanned.outcome.stats.files.failed == 0) {
        let files = &scanned.outcome.stats.files;
        let finished = shards::Finished {
            shard,
            run,
            started: format_utc(now),
            elapsed_s: scanned.elapsed.as_secs_f64(),
            listed: files.listed,
            scanned: files.scanned,
            failed: files.failed,
            rows: batch.rows,
        };
        finished.write(root)?;
        if let Some(r) = remote {
            let rel = format!("{SHARDS_DIR}/{}.json", shards::tag(shard));
            r.publisher.upload(root, &rel)?;
        }
    }
    let records = match cfg.patterns.first() {
        Some(_) => RecordCounts::of_visitor(
            scanned.outcome.stats.records.read,
            batch.rows,
            batch.no_time,
            0,
        ),
        None => scanned.outcome.stats.records.clone(),
    };
    if !cfg.scan.quiet {
        let after = load_manifest(root)?;
        let shown = remote
            .as_ref()
            .map_or(root.display().to_string(), |r| r.url.to_string());
        print_summary(
            &shown,
            &scanned,
            &records,
            (batch.rows, batch.files),
            &after,
        );
        records.warn_left_out(cfg.scan.duplicates);
    }
    Ok(if scanned.outcome.stats.files.failed > 0 {
        ExitStatus::Error
    } else {
        ExitStatus::Ok
    })
}

/// The manifest with only the stale files `shard` wrote: another shard's
/// are its own to rewrite.
fn own_stale(manifest: &Manifest, shard: Option<Shard>) -> Manifest {
    let mut own = manifest.clone();
    own.stale.retain(|path, _| {
        let name = path.rsplit('/').next().unwrap_or(path);
        shards::owns_file(shard, name)
    });
    own
}

fn params(cfg: &IngestConfig) -> Params {
    let w = &cfg.scan.window;
    Params {
        since: w.since.map(format_utc),
        until: w.until.map(format_utc),
        selection: cfg.selected.clone(),
    }
}

/// Each worker's share of the row buffer, and the objects per commit.
fn limits(cfg: &IngestConfig) -> BatchLimits {
    let threads = cfg
        .scan
        .threads
        .or_else(|| std::thread::available_parallelism().ok().map(|n| n.get()))
        .unwrap_or(1);
    BatchLimits {
        objects: cfg.commit_objects,
        bytes: usize::try_from(cfg.lake_buffer / threads as u64).unwrap_or(usize::MAX),
        crash_after: cfg.crash_after_commits,
    }
}

/// Every object and record accounted for, and what the lake now holds.
fn print_summary(
    shown: &str,
    scanned: &Scanned,
    r: &RecordCounts,
    (rows, files): (u64, u64),
    after: &Manifest,
) {
    let s = &scanned.outcome.stats;
    let f = &s.files;
    let skipped: u64 = f.skipped.values().sum();
    let reasons: Vec<String> = f.skipped.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    let nt = &r.no_event_time_reasons;
    println!(
        "objects: {} listed: {} scanned, {} pruned, {} skipped ({}), {} failed",
        f.listed,
        f.scanned,
        f.pruned,
        skipped,
        reasons.join(", "),
        f.failed
    );
    println!(
        "records: {} read: {} stored, {} not selected, {} without a usable eventTime ({} missing, {} unparseable); repeated eventIDs are all stored and counted once at query time",
        r.read, r.matched, r.not_matched, r.no_event_time, nt.missing, nt.unparseable
    );
    println!(
        "lake {shown}: {rows} rows in {files} files written by this run; {} rows in {} files, {} objects in all",
        after.rows(),
        after.files.len(),
        after.objects.len()
    );
}
