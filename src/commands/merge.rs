//! `ctscan merge DIR... --out OUT`: the partial reports of one sweep
//! (`report --shard I/N --out DIR`, I = 0..N-1) made into the report a
//! single run over the whole SOURCE gives, byte for byte.
//!
//! Events are unioned and deduplicated again under the same rule, and every
//! table is rebuilt from them (so distinct counts merge as sets); the
//! accounting adds up. Partials of different sweeps, missing shards or a
//! shard given twice are refused by name before anything is written.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Parser;
use serde::Deserialize;

use crate::cli::{Args, Command};
use crate::commands::alarm::AlarmHits;
use crate::commands::report::write_and_show;
use crate::commands::scan_sources::Scanned;
use crate::config::{MergeConfig, ReportConfig};
use crate::error::ExitStatus;
use crate::events::{Duplicates, EventStore};
use crate::report::partial::{read_events, ShardManifest};
use crate::scan::{Failure, FileCounts, RecordCounts, ScanOutcome, ScanStats};
use crate::source::s3::S3Counts;
use crate::source::shard::OTHER_SHARD;

/// What `merge` reads of a partial's `summary.json`.
#[derive(Debug, Deserialize)]
struct PartialSummary {
    files: FileCounts,
    failures: Vec<Failure>,
    records: RecordCounts,
    elapsed_s: f64,
    bytes_read: u64,
    bytes_decompressed: u64,
    threads: usize,
    #[serde(default)]
    s3: Option<S3Counts>,
}

/// Runs `merge`.
pub fn run(cfg: &MergeConfig) -> Result<ExitStatus> {
    let started = Instant::now();
    let partials = read_partials(&cfg.dirs)?;
    let report = report_config(cfg, &partials[0])?;
    let mut store = EventStore::default();
    let mut total = Totals::default();
    for (dir, _) in &partials {
        let summary = read_summary(dir)?;
        total.add(summary);
        read_events(dir, &mut store)?;
    }
    let again = store.sort_and_dedup(report.scan.duplicates);
    let records = &mut total.stats.records;
    records.duplicates = match report.scan.duplicates {
        // Each shard dropped its own copies; these are the copies across shards.
        Duplicates::CountOnce => records.duplicates + again,
        // Every copy was kept, so the union counts them all, once.
        Duplicates::Keep => again,
    };
    total.stats.failures.sort();
    let scanned = Scanned {
        outcome: ScanOutcome {
            events: store,
            stats: total.stats,
        },
        elapsed: total.elapsed.max(started.elapsed()),
        threads: total.threads,
        s3: total.s3,
        lake: None,
    };
    write_and_show(&report, &scanned, &AlarmHits::default(), None)
}

/// The shards' accounting, added up.
#[derive(Default)]
struct Totals {
    stats: ScanStats,
    /// The longest shard's time: the sweep's wall time.
    elapsed: Duration,
    threads: usize,
    s3: Option<S3Counts>,
}

impl Totals {
    fn add(&mut self, p: PartialSummary) {
        let mut files = p.files;
        // Another shard's objects are that shard's to account for.
        let other = files.skipped.remove(OTHER_SHARD).unwrap_or(0);
        files.listed -= other;
        let f = &mut self.stats.files;
        f.listed += files.listed;
        f.scanned += files.scanned;
        f.pruned += files.pruned;
        f.failed += files.failed;
        for (reason, n) in files.skipped {
            *f.skipped.entry(reason).or_default() += n;
        }
        self.stats.failures.extend(p.failures);
        self.stats.records.add(&p.records);
        self.stats.bytes_read += p.bytes_read;
        self.stats.bytes_decompressed += p.bytes_decompressed;
        self.elapsed = self
            .elapsed
            .max(Duration::from_secs_f64(p.elapsed_s.max(0.0)));
        self.threads += p.threads;
        if let Some(s) = p.s3 {
            let t = self.s3.get_or_insert_with(S3Counts::default);
            t.list_requests += s.list_requests;
            t.get_requests += s.get_requests;
            t.retries += s.retries;
            t.throttled += s.throttled;
            t.bytes += s.bytes;
            t.max_in_flight = t.max_in_flight.max(s.max_in_flight);
            t.keys_listed += s.keys_listed;
            t.unlistable_prefixes += s.unlistable_prefixes;
        }
    }
}

fn read_summary(dir: &Path) -> Result<PartialSummary> {
    let path = dir.join("summary.json");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("reading {}", path.display()))
}

/// Every partial's manifest, in shard order, checked to be one whole sweep:
/// one N, every index once, the same SOURCEs and table options.
fn read_partials(dirs: &[PathBuf]) -> Result<Vec<(PathBuf, ShardManifest)>> {
    let mut by_index: BTreeMap<u32, (PathBuf, ShardManifest)> = BTreeMap::new();
    let mut first: Option<(PathBuf, ShardManifest)> = None;
    for dir in dirs {
        let m = ShardManifest::read(dir)?;
        if let Some(flag) = m.not_mergeable.first() {
            bail!(
                "{}: made with {flag}, whose results a partial does not hold; run the shards without it (`alarm --rules` replays rules on its own)",
                dir.display()
            );
        }
        let (d0, m0) = first.get_or_insert_with(|| (dir.clone(), m.clone()));
        check_same_sweep(d0, m0, dir, &m)?;
        if let Some((other, _)) = by_index.get(&m.shard.index) {
            bail!(
                "shard {} given twice: {} and {}; give each shard once (a retried shard's DIR replaces the failed one's)",
                m.shard,
                other.display(),
                dir.display()
            );
        }
        by_index.insert(m.shard.index, (dir.clone(), m));
    }
    let Some((_, m0)) = first else {
        bail!("no partials given");
    };
    let count = m0.shard.count;
    let missing: Vec<String> = (0..count)
        .filter(|i| !by_index.contains_key(i))
        .map(|i| format!("{i}/{count}"))
        .collect();
    if !missing.is_empty() {
        bail!(
            "missing shard(s) {} of N = {count}: merge needs every index from 0 to {}",
            missing.join(", "),
            count - 1
        );
    }
    Ok(by_index.into_values().collect())
}

fn check_same_sweep(d0: &Path, m0: &ShardManifest, dir: &Path, m: &ShardManifest) -> Result<()> {
    let (a, b) = (d0.display(), dir.display());
    if m.shard.count != m0.shard.count {
        bail!(
            "partials of different sweeps: {a} is shard {} but {b} is shard {}",
            m0.shard,
            m.shard
        );
    }
    if m.sources != m0.sources {
        bail!(
            "partials of different SOURCEs: {a} read {:?} but {b} read {:?}",
            m0.sources,
            m.sources
        );
    }
    if m.table_options != m0.table_options {
        bail!(
            "partials made with different options: {a} with {:?} but {b} with {:?} (give every shard absolute --since/--until)",
            m0.table_options.join(" "),
            m.table_options.join(" ")
        );
    }
    Ok(())
}

/// The `report` configuration of the sweep: the partials' table options and
/// `merge`'s output options, parsed as `report` would parse them. The
/// SOURCE named is a partial's folder, which exists and is never read.
fn report_config(cfg: &MergeConfig, (dir, m): &(PathBuf, ShardManifest)) -> Result<ReportConfig> {
    let mut argv = vec![
        "ctscan".to_string(),
        "report".into(),
        dir.display().to_string(),
    ];
    argv.extend(m.table_options.iter().cloned());
    argv.extend(cfg.output_options.iter().cloned());
    let args = Args::try_parse_from(&argv).context("the partials' options")?;
    let Command::Report(report) = args.command else {
        bail!("the partials' options do not make a report");
    };
    ReportConfig::from_args(&report, &cfg.env)
}
