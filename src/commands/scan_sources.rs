//! Listing and scanning a command's SOURCEs with a progress bar: the part every
//! scanning command shares.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::config::{S3Url, ScanConfig, SourceSpec};
use crate::lake::read::filter::RowFilter;
use crate::lake::read::{scan_lake, Lake, LakeQuery};
use crate::report::terminal::warn;
use crate::scan::budget::MemoryBudget;
use crate::scan::{
    is_pruned, logs_to_read, scan_stream, scan_with, FileCounts, LocalFetch, NoVisitor,
    RecordVisitor, ScanContext, ScanOutcome, Streamed, Unchanged,
};
use crate::source::s3::{ListMode, Plan, S3Counts, S3Session, Shared};
use crate::source::shard::{local_share, OTHER_SHARD};
use crate::source::{self, classify_key, ObjectKind};

/// A finished scan and how long it took.
pub struct Scanned {
    pub outcome: ScanOutcome,
    pub elapsed: Duration,
    pub threads: usize,
    /// What S3 cost, when a SOURCE is on S3.
    pub s3: Option<S3Counts>,
    /// What the lake read, with `--lake`.
    pub lake: Option<crate::lake::read::LakeCounts>,
}

/// Lists and scans every SOURCE of `cfg`, printing failures on stderr.
///
/// S3 SOURCEs are all connected (and probed) before any listing, so a wrong
/// endpoint or missing credentials fail before anything is scanned.
pub fn scan_sources(cfg: &ScanConfig) -> anyhow::Result<Scanned> {
    if let Some(lake) = &cfg.lake {
        return Ok(scan_lake_source::<NoVisitor>(cfg, lake, None, RowFilter::all())?.0);
    }
    scan_sources_with(cfg, &NoVisitor).map(|(s, ())| s)
}

/// [`scan_sources`], also feeding the records `visitor` wants to it.
pub fn scan_sources_with<V: RecordVisitor>(
    cfg: &ScanConfig,
    visitor: &V,
) -> anyhow::Result<(Scanned, V::State)> {
    scan_sources_filtered(cfg, visitor, RowFilter::all())
}

/// [`scan_sources_with`]; over a lake, `rows` is what a record must hold
/// for the visitor to want it (a necessary condition on its columns).
pub fn scan_sources_filtered<V: RecordVisitor>(
    cfg: &ScanConfig,
    visitor: &V,
    rows: RowFilter,
) -> anyhow::Result<(Scanned, V::State)> {
    if let Some(lake) = &cfg.lake {
        let (scanned, state) = scan_lake_source(cfg, lake, Some(visitor), rows)?;
        return Ok((scanned, state.unwrap_or_else(|| visitor.new_state())));
    }
    scan_sources_skipping(cfg, visitor, None)
}

/// [`scan_sources_with`], skipping the objects `unchanged` names.
pub fn scan_sources_skipping<V: RecordVisitor>(
    cfg: &ScanConfig,
    visitor: &V,
    unchanged: Option<Unchanged>,
) -> anyhow::Result<(Scanned, V::State)> {
    let started = Instant::now();
    let session = connect_all(cfg)?;
    let mut ctx = ScanContext::new(cfg.selection.clone(), cfg.window, cfg.max_object_size);
    ctx.unchanged = unchanged;
    ctx.progress = cfg.progress.then(progress_bar);
    ctx.duplicates = cfg.duplicates;
    ctx.budget = MemoryBudget::new(match &session {
        Some(_) => cfg.memory_budget - body_budget(cfg.memory_budget),
        None => cfg.memory_budget,
    });
    ctx.slack = cfg.prune.slack;
    ctx.keys = cfg.prune.select.clone();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(cfg.threads.unwrap_or(0))
        .build()?;
    let threads = pool.current_num_threads();
    // Local objects of other shards are listed, then skipped as such.
    let other_shard = AtomicU64::new(0);
    let uncounted = AtomicU64::new(0);
    let locals = |other| local_walks(cfg, other);
    let mut shared = None;
    let (outcome, state) = match session {
        // Local mirrors are walked as they are scanned; a bar on a terminal
        // gets its length from a first walk that only counts.
        None => {
            if let Some(bar) = &ctx.progress {
                bar.set_length(logs_to_read(locals(&uncounted), &ctx));
            }
            pool.install(|| scan_with(locals(&other_shard), &ctx, &LocalFetch, visitor))
        }
        Some(s) => {
            let s3 = s.shared();
            shared = Some(s3.clone());
            let ticker = ctx.progress.clone().map(|bar| S3Ticker::start(bar, s3));
            let stream = open_stream(s, cfg, &ctx);
            let entries = locals(&other_shard).map(Streamed::Listed).chain(stream);
            let scanned = pool.install(|| scan_stream(entries, &ctx, visitor));
            drop(ticker);
            scanned
        }
    };
    if let Some(bar) = &ctx.progress {
        bar.finish_and_clear();
    }
    let mut outcome = outcome;
    count_other_shard(&mut outcome.stats.files, other_shard.into_inner());
    // A scan cut short by Ctrl-C reports nothing: its counts are partial.
    crate::interrupt::check()?;
    for f in &outcome.stats.failures {
        warn(&f.object, &f.error);
    }
    if let Some(first) = &outcome.stats.first_no_event_time {
        warn(
            first,
            &no_event_time_note(outcome.stats.records.no_event_time),
        );
    }
    let scanned = Scanned {
        outcome,
        elapsed: started.elapsed(),
        threads,
        s3: shared.map(|s| s.counts()),
        lake: None,
    };
    Ok((scanned, state))
}

/// Reads `lake` for `cfg`'s window, accounts and regions and selection;
/// with a visitor, feeds it the records `rows` lets through.
pub fn scan_lake_source<V: RecordVisitor>(
    cfg: &ScanConfig,
    lake: &Lake,
    visitor: Option<&V>,
    rows: RowFilter,
) -> anyhow::Result<(Scanned, Option<V::State>)> {
    let started = Instant::now();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(cfg.threads.unwrap_or(0))
        .build()?;
    let threads = pool.current_num_threads();
    let query = LakeQuery {
        window: cfg.window,
        selection: &cfg.selection,
        keys: &cfg.prune.select,
        duplicates: cfg.duplicates,
        rows,
    };
    let (outcome, counts, state) = pool.install(|| scan_lake(lake, &query, visitor))?;
    crate::interrupt::check()?;
    if !cfg.quiet {
        eprintln!("ctscan: {}", counts.describe());
    }
    for limit in &lake.limits {
        eprintln!("ctscan: warning: the lake holds {limit}: results over it leave the rest out");
    }
    for f in &outcome.stats.failures {
        warn(&f.object, &format!("failed when ingested: {}", f.error));
    }
    let scanned = Scanned {
        outcome,
        elapsed: started.elapsed(),
        threads,
        s3: None,
        lake: Some(counts),
    };
    Ok((scanned, state))
}

/// The local SOURCEs, walked as they are scanned, cut to this shard's share
/// (other shards' objects are counted in `other`).
fn local_walks<'a>(
    cfg: &'a ScanConfig,
    other: &'a AtomicU64,
) -> impl Iterator<Item = source::Listed> + Send + 'a {
    let (shard, range) = (cfg.prune.shard, listing_plan(cfg).day_range_text());
    cfg.sources
        .iter()
        .flat_map(move |src| match src {
            SourceSpec::Local(path) => {
                let walk = source::local::walk(path);
                Some(local_share(path, walk, shard, range.clone(), other))
            }
            SourceSpec::S3(_) => None,
        })
        .flatten()
}

/// Accounts for the local objects left to other shards: listed, and
/// skipped as `other_shard`, so `listed = scanned + pruned + skipped + failed`.
fn count_other_shard(files: &mut FileCounts, n: u64) {
    if n > 0 {
        files.listed += n;
        *files.skipped.entry(OTHER_SHARD.to_string()).or_default() += n;
    }
}

/// What follows the first file's name when selected records have no usable
/// eventTime: that it is the first such file, and how many records in all.
fn no_event_time_note(records: u64) -> String {
    let records = match records {
        1 => "1 such record".to_string(),
        n => format!("{n} such records"),
    };
    format!(
        "the first file with a selected record that has no usable eventTime; \
         {records} in all, counted as no_event_time"
    )
}

/// One session for every S3 SOURCE, each bucket probed; `None` without any.
fn connect_all(cfg: &ScanConfig) -> anyhow::Result<Option<S3Session>> {
    let mut session = None;
    for url in s3_urls(cfg) {
        let s = match &mut session {
            Some(s) => s,
            None => session.insert(S3Session::new(&cfg.s3)?),
        };
        s.connect(&url)?;
    }
    Ok(session)
}

fn s3_urls(cfg: &ScanConfig) -> Vec<S3Url> {
    cfg.sources
        .iter()
        .filter_map(|src| match src {
            SourceSpec::S3(url) => Some(url.clone()),
            SourceSpec::Local(_) => None,
        })
        .collect()
}

/// What a scan lists: the window's days, the accounts and regions, the shard.
fn listing_plan(cfg: &ScanConfig) -> Plan {
    Plan {
        window: cfg.window,
        slack: cfg.prune.slack,
        now: cfg.now,
        mode: ListMode::Scan,
        select: cfg.prune.select.clone(),
        shard: cfg.prune.shard,
    }
}

/// The share of `--memory-budget` that S3 bodies fetched and not yet taken
/// by a worker may hold; the rest is the scan's, for inflated text.
/// Compressed bodies are a tenth of their text or less.
pub fn body_budget(memory_budget: u64) -> u64 {
    memory_budget / 8
}

/// Lists the S3 SOURCEs and fetches, as the listing goes, the keys the scan wants.
fn open_stream(
    session: S3Session,
    cfg: &ScanConfig,
    ctx: &ScanContext,
) -> crate::source::s3::ObjectStream {
    let plan = listing_plan(cfg);
    let (window, slack, keys) = (ctx.window, ctx.slack, ctx.keys.clone());
    let unchanged = ctx.unchanged.clone();
    // Objects a lake holds unchanged are not fetched: triaged as listed.
    let wants = move |obj: &crate::source::ObjectRef| {
        let key = obj.key.as_str();
        classify_key(key) == ObjectKind::Log
            && keys.key(key)
            && !is_pruned(key, &window, &slack)
            && !unchanged.as_ref().is_some_and(|f| f(obj))
    };
    session.stream(&s3_urls(cfg), &plan, wants, body_budget(cfg.memory_budget))
}

/// Shows the S3 side on the bar: objects listed and fetched, requests in
/// flight, retries and throttles; and grows the bar as keys are listed.
struct S3Ticker {
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl S3Ticker {
    fn start(bar: ProgressBar, s3: Arc<Shared>) -> S3Ticker {
        use std::sync::atomic::{AtomicBool, Ordering};
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                let c = s3.counts();
                let fetched = s3.counters.fetched.load(Ordering::Relaxed);
                let wanted = s3.counters.wanted.load(Ordering::Relaxed);
                bar.set_length(wanted.max(bar.position()));
                bar.set_prefix(format!(
                    "S3: {} listed, {fetched} fetched, {} in flight (≤{}), {} retries, {} throttled |",
                    c.keys_listed,
                    s3.limiter.in_flight(),
                    s3.limiter.limit(),
                    c.retries,
                    c.throttled
                ));
                std::thread::sleep(Duration::from_millis(200));
            }
        });
        S3Ticker {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for S3Ticker {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn progress_bar() -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {elapsed_precise} {prefix} [{bar:30}] {pos}/{len} files scanned, {msg} ({eta} left)",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}
