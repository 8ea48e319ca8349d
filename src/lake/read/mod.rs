//! `--lake DIR`: every reading command over an event lake instead of raw
//! logs, with the same output.
//!
//! Exactness comes from reusing the raw scan's ends, not from a second
//! implementation: `report`'s events are built from the normalised columns
//! (which ingest took from the same [`crate::read::record::select_event`])
//! into the same [`EventStore`], and every [`RecordVisitor`] (patterns,
//! rules, tampering, Sigma) gets the `record` column's exact text, each
//! object's records in one state and in their order in the object, ended
//! once per object as the raw scan does.
//!
//! Speed comes from reading little: partitions pruned by folder name
//! ([`plan`]), row groups by their `event_time` range, and the wide columns
//! read only for rows the narrow ones let through ([`columns`], [`filter`]).
//! Only files that committed manifest fragments list are read.

pub mod columns;
pub mod filter;
pub mod plan;
mod rows;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;

use crate::events::{Duplicates, EventStore};
use crate::lake::manifest::{load_manifest, manifest_dir, Outcome};
use crate::read::record::Selection;
use crate::scan::{Failure, RecordVisitor, ScanOutcome, ScanStats};
use crate::source::select::KeySelect;
use crate::window::TimeWindow;
use filter::RowFilter;
use plan::{LakeObject, PartFile};
use rows::{FilePass, Gathered, ObjectScope};

/// An event lake, as its committed manifest describes it.
#[derive(Debug)]
pub struct Lake {
    pub root: PathBuf,
    /// As the summary names it: the root, or the `s3://` URL of a lake on
    /// S3 whose cache `root` is.
    pub name: String,
    /// Every committed part file.
    pub files: Vec<PartFile>,
    /// Every object ingested, by key order.
    pub objects: Vec<LakeObject>,
    /// Per file, the objects whose rows there are stale: an earlier read
    /// of an object ingested again since (ingest rewrites them later).
    stale: Vec<FxHashSet<String>>,
    /// How ingest narrowed what the lake holds (`--select`, a window), in words.
    pub limits: BTreeSet<String>,
}

impl Lake {
    /// Opens the lake at `root`: reads and merges its manifest.
    pub fn open(root: &Path) -> Result<Lake> {
        if !manifest_dir(root).is_dir() {
            bail!(
                "--lake {}: not an event lake (no {}); make one with `ctscan ingest SOURCE --lake {}`",
                root.display(),
                manifest_dir(root).display(),
                root.display()
            );
        }
        let manifest = load_manifest(root)?;
        let mut files = Vec::new();
        let mut index = BTreeMap::new();
        for rel in manifest.files.keys() {
            let Some(f) = PartFile::from_relative(root, rel) else {
                bail!(
                    "--lake {}: manifest lists {rel}, which is not in a partition folder",
                    root.display()
                );
            };
            index.insert(rel.as_str(), files.len());
            files.push(f);
        }
        let mut stale = vec![FxHashSet::default(); files.len()];
        for (rel, keys) in &manifest.stale {
            if let Some(&f) = index.get(rel.as_str()) {
                stale[f].extend(keys.iter().cloned());
            }
        }
        let mut objects = Vec::with_capacity(manifest.objects.len());
        let mut limits = BTreeSet::new();
        for (key, ingested) in &manifest.objects {
            let e = &ingested.entry;
            limits.extend(narrowed_by(&ingested.params));
            objects.push(LakeObject {
                key: key.clone(),
                records: e.records_read,
                no_time: crate::scan::NoTimeReasons {
                    missing: e.no_event_time.missing,
                    unparseable: e.no_event_time.unparseable,
                },
                outcome: e.outcome,
                reason: e.reason.clone(),
            });
        }
        Ok(Lake {
            root: root.to_path_buf(),
            name: root.display().to_string(),
            files,
            objects,
            stale,
            limits,
        })
    }

    /// Whether file `file` holds stale rows of any object.
    pub fn has_stale(&self, file: usize) -> bool {
        !self.stale[file].is_empty()
    }

    /// Whether file `file` holds current rows of object `key` (not stale ones).
    pub fn current(&self, file: usize, key: &str) -> bool {
        self.stale[file].is_empty() || !self.stale[file].contains(key)
    }
}

/// What an ingest's parameters left out of the lake, in words.
fn narrowed_by(p: &crate::lake::manifest::Params) -> Vec<String> {
    let mut out = Vec::new();
    if p.selection != ["all"] {
        out.push(format!(
            "only the events {} (ingest --select)",
            p.selection.join(", ")
        ));
    }
    if p.since.is_some() || p.until.is_some() {
        let end = |t: &Option<String>, open: &str| t.clone().unwrap_or_else(|| open.to_string());
        out.push(format!(
            "only events from {} to {} (ingest --since/--until)",
            end(&p.since, "the start"),
            end(&p.until, "the end")
        ));
    }
    out
}

/// `--lake DIR`, opened; `None` without it. Fails before any scanning
/// when DIR is not a lake.
pub fn open_arg(dir: Option<&Path>) -> Result<Option<std::sync::Arc<Lake>>> {
    dir.map(|d| Lake::open(d).map(std::sync::Arc::new))
        .transpose()
}

/// What a command asks of the lake.
pub struct LakeQuery<'a> {
    pub window: TimeWindow,
    /// The report's events; `Events([])` for none.
    pub selection: &'a Selection,
    /// `--account` and `--region`.
    pub keys: &'a KeySelect,
    pub duplicates: Duplicates,
    /// What a record must hold for the visitor to want it.
    pub rows: RowFilter,
}

impl LakeQuery<'_> {
    /// Whether event times `lo..=hi` (µs) can meet the window.
    fn window_meets(&self, lo: i64, hi: i64) -> bool {
        let w = &self.window;
        w.since.is_none_or(|s| hi >= s.as_microsecond())
            && w.until.is_none_or(|u| lo < u.as_microsecond())
    }

    fn in_window(&self, us: i64) -> bool {
        self.window.contains(rows::timestamp(us))
    }

    fn selects_events(&self) -> bool {
        !matches!(self.selection, Selection::Events(v) if v.is_empty())
    }
}

/// What the lake read cost, for the summary.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LakeCounts {
    /// The lake's root.
    pub lake: String,
    /// Part files read, and left out by their partition.
    pub files: u64,
    pub files_pruned: u64,
    /// Row groups read, and left out by their time range.
    pub row_groups: u64,
    pub row_groups_pruned: u64,
}

impl LakeCounts {
    /// One line for people: that the source is a lake, and what was read.
    pub fn describe(&self) -> String {
        format!(
            "source: event lake {} (objects and records accounted from its manifest); \
             {} part files read, {} pruned by partition; {} row groups read, {} pruned by time",
            self.lake, self.files, self.files_pruned, self.row_groups, self.row_groups_pruned
        )
    }
}

/// Reads the lake for `query`: the report's events (sorted and deduplicated
/// as a raw scan leaves them) and, with a visitor, its merged state.
/// Object and record accounting come from the manifest.
pub fn scan_lake<V: RecordVisitor>(
    lake: &Lake,
    query: &LakeQuery<'_>,
    visitor: Option<&V>,
) -> Result<(ScanOutcome, LakeCounts, Option<V::State>)> {
    let chosen: Vec<usize> = (0..lake.files.len())
        .filter(|&f| lake.files[f].selected(query.keys, &query.window))
        .collect();
    let holders = match visitor {
        Some(_) => holders(lake, query, &chosen)?,
        None => BTreeMap::new(),
    };
    let owners: FxHashMap<&str, usize> = holders
        .iter()
        .filter_map(|(k, files)| match files[..] {
            [only] => Some((k.as_str(), only)),
            _ => None,
        })
        .collect();
    let (gathered, state) = chosen
        .par_iter()
        .map(|&f| {
            let mut g = Gathered::new();
            let pass = FilePass {
                lake,
                query,
                visitor,
                owners: &owners,
                scope: ObjectScope::OwnedBy(f),
            };
            pass.run(f, &mut g)?;
            let state = visitor.map(|v| end_objects(v, owned_by(&owners, f), &mut g));
            Ok::<_, anyhow::Error>((g, state))
        })
        .try_reduce(
            || (Gathered::new(), visitor.map(|v| v.new_state())),
            |(mut a, sa), (b, sb)| {
                a.absorb(b);
                Ok((a, merge_states(visitor, sa, sb)))
            },
        )?;
    let mut state = state;
    if let Some(v) = visitor {
        let rest = spanning_objects(v, lake, query, &holders, &owners)?;
        state = merge_states(visitor, state, Some(rest));
    }
    let counts = LakeCounts {
        lake: lake.name.clone(),
        files: chosen.len() as u64,
        files_pruned: (lake.files.len() - chosen.len()) as u64,
        row_groups: gathered.row_groups,
        row_groups_pruned: gathered.row_groups_pruned,
    };
    let outcome = finish(lake, query, gathered.store, gathered.matched);
    Ok((outcome, counts, state))
}

/// Which of the `chosen` files hold current rows of each object the query
/// selects, by key: an object's records must all reach one visitor state.
fn holders(
    lake: &Lake,
    query: &LakeQuery<'_>,
    chosen: &[usize],
) -> Result<BTreeMap<String, Vec<usize>>> {
    let found = chosen
        .par_iter()
        .map(|&f| Ok((f, rows::objects_in(lake, query, f)?)))
        .collect::<Result<Vec<(usize, Vec<String>)>>>()?;
    let mut holders: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (f, keys) in found {
        for k in keys {
            holders.entry(k).or_default().push(f);
        }
    }
    Ok(holders)
}

/// The objects whose rows all live in file `f`, in key order.
fn owned_by<'k>(owners: &FxHashMap<&'k str, usize>, f: usize) -> Vec<&'k str> {
    let mut keys: Vec<&str> = owners
        .iter()
        .filter(|(_, &o)| o == f)
        .map(|(k, _)| *k)
        .collect();
    keys.sort_unstable();
    keys
}

fn merge_states<V: RecordVisitor>(
    v: Option<&V>,
    a: Option<V::State>,
    b: Option<V::State>,
) -> Option<V::State> {
    match (v, a, b) {
        (Some(v), Some(a), Some(b)) => Some(v.merge(a, b)),
        (_, a, b) => a.or(b),
    }
}

/// Ends each of `keys` (with the records visited for it, if any) once,
/// as a raw scan ends each object it read, and merges their states.
fn end_objects<V: RecordVisitor>(v: &V, keys: Vec<&str>, g: &mut Gathered<V::State>) -> V::State {
    let mut acc = v.new_state();
    for key in keys {
        let mut s = g.objects.remove(key).unwrap_or_else(|| v.new_state());
        v.end_object(&mut s, key, true);
        acc = v.merge(acc, s);
    }
    acc
}

/// Visits the objects phase one did not end: those whose rows span several
/// files (each group of them sharing a set of files read together), and
/// those with no row in a file read (ended with no records, as a raw scan
/// ends an object none of whose records it wanted).
fn spanning_objects<V: RecordVisitor>(
    v: &V,
    lake: &Lake,
    query: &LakeQuery<'_>,
    holders: &BTreeMap<String, Vec<usize>>,
    owners: &FxHashMap<&str, usize>,
) -> Result<V::State> {
    let mut groups: BTreeMap<&[usize], Vec<&str>> = BTreeMap::new();
    for o in &lake.objects {
        let key = o.key.as_str();
        if o.outcome != Outcome::Scanned || !query.keys.key(key) || owners.contains_key(key) {
            continue;
        }
        let files = holders.get(key).map_or(&[][..], Vec::as_slice);
        groups.entry(files).or_default().push(key);
    }
    let groups: Vec<(&[usize], Vec<&str>)> = groups.into_iter().collect();
    let states = groups
        .par_iter()
        .map(|(files, keys)| {
            let wanted: HashSet<&str> = keys.iter().copied().collect();
            let mut g = Gathered::new();
            let pass = FilePass {
                lake,
                query,
                visitor: Some(v),
                owners,
                scope: ObjectScope::Only(&wanted),
            };
            for &f in files.iter() {
                pass.run(f, &mut g)?;
            }
            Ok(end_objects(v, keys.clone(), &mut g))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(states.into_iter().fold(v.new_state(), |a, b| v.merge(a, b)))
}

/// The scan's outcome: the events sorted and deduplicated, and the objects
/// and records accounted for from the manifest.
fn finish(lake: &Lake, query: &LakeQuery<'_>, mut events: EventStore, matched: u64) -> ScanOutcome {
    let mut stats = ScanStats::default();
    for o in &lake.objects {
        stats.files.listed += 1;
        if !query.keys.key(&o.key) {
            stats.files.pruned += 1;
            continue;
        }
        match o.outcome {
            Outcome::Scanned => {
                stats.files.scanned += 1;
                stats.records.read += o.records;
                stats.records.no_event_time += o.no_time.missing + o.no_time.unparseable;
                stats.records.no_event_time_reasons.add(&o.no_time);
            }
            Outcome::Skipped => {
                let reason = o.reason.clone().unwrap_or_else(|| "skipped".to_string());
                *stats.files.skipped.entry(reason).or_default() += 1;
            }
            Outcome::Failed => {
                stats.files.failed += 1;
                stats.failures.push(Failure {
                    object: o.key.clone(),
                    error: o.reason.clone().unwrap_or_default(),
                });
            }
        }
    }
    stats.failures.sort();
    let r = &mut stats.records;
    r.matched = matched;
    r.not_matched = r.read.saturating_sub(matched + r.no_event_time);
    r.duplicates = events.sort_and_dedup(query.duplicates);
    ScanOutcome { events, stats }
}
