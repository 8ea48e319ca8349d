//! Listing and scanning a command's SOURCEs with a progress bar: the part every
//! scanning command shares.

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::config::{ScanConfig, SourceSpec};
use crate::report::terminal::warn;
use crate::scan::budget::MemoryBudget;
use crate::scan::{
    logs_to_read, scan_stream, scan_with, LocalFetch, NoVisitor, RecordVisitor, ScanContext,
    ScanOutcome,
};
use crate::source::s3::{ListCounts, ListMode, S3Session};
use crate::source::{self, Listed};

/// A finished scan and how long it took.
pub struct Scanned {
    pub outcome: ScanOutcome,
    pub elapsed: Duration,
    pub threads: usize,
    /// What listing S3 cost, when a SOURCE is on S3.
    pub s3: Option<ListCounts>,
}

/// Lists and scans every SOURCE of `cfg`, printing failures on stderr.
///
/// S3 SOURCEs are all connected (and probed) before any listing, so a wrong
/// endpoint or missing credentials fail before anything is scanned.
pub fn scan_sources(cfg: &ScanConfig) -> anyhow::Result<Scanned> {
    scan_sources_with(cfg, &NoVisitor).map(|(s, ())| s)
}

/// [`scan_sources`], also feeding the records `visitor` wants to it.
pub fn scan_sources_with<V: RecordVisitor>(
    cfg: &ScanConfig,
    visitor: &V,
) -> anyhow::Result<(Scanned, V::State)> {
    let started = Instant::now();
    let mut session = None;
    for src in &cfg.sources {
        if let SourceSpec::S3(url) = src {
            let s = match &mut session {
                Some(s) => s,
                None => session.insert(S3Session::new(&cfg.s3)?),
            };
            s.connect(url)?;
        }
    }
    let mut ctx = ScanContext::new(cfg.selection.clone(), cfg.window, cfg.max_object_size);
    ctx.progress = cfg.progress.then(progress_bar);
    ctx.duplicates = cfg.duplicates;
    ctx.budget = MemoryBudget::new(cfg.memory_budget);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(cfg.threads.unwrap_or(0))
        .build()?;
    let threads = pool.current_num_threads();
    let mut counts = session.as_ref().map(S3Session::probe_counts);
    let (outcome, state) = match session {
        // Local mirrors are walked as they are scanned; a bar on a terminal
        // gets its length from a first walk that only counts.
        None => {
            let walks = || {
                cfg.sources.iter().flat_map(|src| match src {
                    SourceSpec::Local(path) => Some(source::local::walk(path)),
                    SourceSpec::S3(_) => None,
                })
            };
            if let Some(bar) = &ctx.progress {
                bar.set_length(logs_to_read(walks().flatten(), &cfg.window));
            }
            pool.install(|| scan_with(walks().flatten(), &ctx, &LocalFetch, visitor))
        }
        Some(s) => {
            let mut listing: Vec<Listed> = Vec::new();
            for src in &cfg.sources {
                match src {
                    SourceSpec::Local(path) => listing.extend(source::local::list(path)),
                    SourceSpec::S3(url) => {
                        let l = s.list(url, &cfg.window, cfg.now, ListMode::Scan);
                        if let Some(c) = &mut counts {
                            c.add(l.counts);
                        }
                        listing.extend(l.into_listed(url));
                    }
                }
            }
            pool.install(|| scan_stream(listing, &ctx, visitor, |todo| s.stream(todo)))
        }
    };
    if let Some(bar) = &ctx.progress {
        bar.finish_and_clear();
    }
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
        s3: counts,
    };
    Ok((scanned, state))
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

fn progress_bar() -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {elapsed_precise} [{bar:30}] {pos}/{len} files, {msg} ({eta} left)",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}
