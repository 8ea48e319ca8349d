//! `--shard I/N`: one deterministic share of a SOURCE's objects, so that N
//! workers of an array job (Kubernetes Indexed Job, AWS Batch array job)
//! split a sweep with no coordination and no overlap.
//!
//! The CloudTrail layout `…AWSLogs/[o-…/]ACCOUNT/CloudTrail*/REGION/YYYY/MM/DD/…`
//! is split by region, and a large region further by day:
//! - a region with fewer than [`SMALL_REGION`] keys in the window's range
//!   (what one LIST page returns, so every worker can tell from the same
//!   first page) is one unit, `ACCOUNT/REGION`: one LIST reads it whole;
//! - a larger one is split into day units, `ACCOUNT/REGION/YYYY/MM/DD`, so
//!   an account with 90% of the objects spreads over its regions × days;
//!   a day is a key prefix, listed only by the worker that owns it
//!   (`s3/layout.rs`, `s3/listing.rs`).
//!
//! Each unit goes to the shard its name hashes to; a key outside the layout
//! (or below a region whose whole the SOURCE does not hold) goes by its day
//! unit, or by its path relative to the SOURCE, so a mirror and its bucket
//! split alike on any machine. The hash is XXH3-64 with its default (fixed)
//! seed: stable across processes, machines and releases, unlike std's
//! `RandomState`. This module decides ownership; it never reads the
//! environment (the engine's index comes in as [`ArrayIndex`], read by
//! `config`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64;

use super::select::is_account_id;
use super::Listed;

/// The environment variables that carry a worker's index, in the order read:
/// Kubernetes Indexed Jobs, then AWS Batch array jobs.
pub const ARRAY_INDEX_VARS: [&str; 2] = ["JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX"];

/// The reason counted in `skipped` for a listed object another shard reads.
pub const OTHER_SHARD: &str = "other_shard";

/// A region with fewer keys than this in the window's range is one unit:
/// the keys of one LIST page.
pub const SMALL_REGION: usize = 1000;

/// Shard `index` of `count` (`0 ≤ index < count`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

/// The index an array-job engine gave this process, as the environment has it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArrayIndex {
    /// `(variable, value)` for each of [`ARRAY_INDEX_VARS`] that is set.
    pub set: Vec<(&'static str, String)>,
}

impl ArrayIndex {
    /// Reads [`ARRAY_INDEX_VARS`] through `var` (the environment, or a test's map).
    pub fn read(var: impl Fn(&str) -> Option<String>) -> ArrayIndex {
        let set = ARRAY_INDEX_VARS
            .iter()
            .filter_map(|&name| var(name).map(|v| (name, v)))
            .collect();
        ArrayIndex { set }
    }
}

/// A `--shard` value that names no share.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ShardError {
    #[error("--shard {0:?}: expected I/N or auto/N, e.g. 0/8 or auto/8")]
    Syntax(String),
    #[error("--shard {0:?}: N must be at least 1")]
    NoShards(String),
    #[error(
        "--shard {text:?}: index {index} is not below N = {count} (indices run from 0 to N-1)"
    )]
    OutOfRange {
        text: String,
        index: u64,
        count: u32,
    },
    #[error("--shard auto/{0}: no array index in the environment; set JOB_COMPLETION_INDEX (Kubernetes Indexed Job) or AWS_BATCH_JOB_ARRAY_INDEX (AWS Batch array job), or give the index as I/{0}")]
    NoIndex(u32),
    #[error("--shard auto/{count}: {var}={value:?} is not an index (a whole number from 0 to {max})", max = count - 1)]
    BadIndex {
        count: u32,
        var: &'static str,
        value: String,
    },
    #[error("--shard auto/{count}: JOB_COMPLETION_INDEX={k:?} and AWS_BATCH_JOB_ARRAY_INDEX={b:?} disagree; unset one")]
    Conflict { count: u32, k: String, b: String },
}

impl Shard {
    /// Parses `I/N`, or `auto/N` with `I` from the engine's variable.
    pub fn parse(text: &str, env: &ArrayIndex) -> Result<Shard, ShardError> {
        let syntax = || ShardError::Syntax(text.to_string());
        let (index, count) = text.trim().split_once('/').ok_or_else(syntax)?;
        let count: u32 = count.trim().parse().map_err(|_| syntax())?;
        if count == 0 {
            return Err(ShardError::NoShards(text.to_string()));
        }
        let index: u64 = match index.trim() {
            "auto" => auto_index(count, env)?,
            i => i.parse().map_err(|_| syntax())?,
        };
        if index >= u64::from(count) {
            return Err(ShardError::OutOfRange {
                text: text.to_string(),
                index,
                count,
            });
        }
        Ok(Shard {
            index: index as u32,
            count,
        })
    }

    /// Whether the split leaves anything out (`N > 1`).
    pub fn splits(&self) -> bool {
        self.count > 1
    }

    /// Whether this shard reads a key: `key` as listed (a path or a bucket
    /// key), `relative` the same key relative to its SOURCE.
    pub fn owns_key(&self, key: &str, relative: &str) -> bool {
        match layout_day(key) {
            Some(unit) => self.owns_unit(&unit),
            None => self.owns_hash(xxh3_64(relative.as_bytes())),
        }
    }

    /// Whether this shard reads the day `YYYY/MM/DD` of an account's region.
    pub fn owns_day(&self, account: &str, region: &str, day: &str) -> bool {
        self.owns_unit(&format!("{account}/{region}/{day}"))
    }

    /// Whether this shard reads an account's region as one unit (a small
    /// region), or its keys that are not in a day folder (a large one).
    pub fn owns_region(&self, account: &str, region: &str) -> bool {
        self.owns_unit(&format!("{account}/{region}"))
    }

    /// Whether this shard reads a key of a region the SOURCE holds whole,
    /// `small` telling which way the region is split.
    pub fn owns_in_region(&self, key: &RegionKey<'_>, small: bool) -> bool {
        match key.day().filter(|_| !small) {
            Some(day) => self.owns_day(key.account, key.region, day),
            None => self.owns_region(key.account, key.region),
        }
    }

    fn owns_unit(&self, unit: &str) -> bool {
        self.owns_hash(xxh3_64(unit.as_bytes()))
    }

    fn owns_hash(&self, hash: u64) -> bool {
        hash % u64::from(self.count) == u64::from(self.index)
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

fn auto_index(count: u32, env: &ArrayIndex) -> Result<u64, ShardError> {
    let (var, value) = match env.set.as_slice() {
        [] => return Err(ShardError::NoIndex(count)),
        [(_, k), (_, b)] if k.trim() != b.trim() => {
            return Err(ShardError::Conflict {
                count,
                k: k.clone(),
                b: b.clone(),
            })
        }
        [first, ..] => first.clone(),
    };
    value.trim().parse().map_err(|_| ShardError::BadIndex {
        count,
        var,
        value: value.clone(),
    })
}

/// A key of the layout seen from its region's folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegionKey<'a> {
    /// The key up to and including the region's separator.
    pub folder: &'a str,
    pub account: &'a str,
    pub region: &'a str,
    /// The rest of the key, with the separators it has.
    pub rest: &'a str,
}

impl<'a> RegionKey<'a> {
    /// The key's region, when it lies below a region folder of the layout.
    pub fn of(key: &'a str) -> Option<RegionKey<'a>> {
        let mut at = 0;
        let mut segs = Vec::new();
        for seg in key.split(['/', '\\']) {
            segs.push((at, seg));
            at += seg.len() + 1;
        }
        let aws = segs.iter().rposition(|(_, s)| *s == "AWSLogs")?;
        let mut i = aws + 1;
        if segs.get(i).is_some_and(|(_, s)| s.starts_with("o-")) {
            i += 1;
        }
        let (account, trail, region) = (segs.get(i)?.1, segs.get(i + 1)?.1, segs.get(i + 2)?);
        let rest_at = segs.get(i + 3)?.0;
        (is_account_id(account) && trail.starts_with("CloudTrail") && !region.1.is_empty()).then(
            || RegionKey {
                folder: &key[..rest_at],
                account,
                region: region.1,
                rest: &key[rest_at..],
            },
        )
    }

    /// `YYYY/MM/DD` when the key lies in a day folder.
    pub fn day(&self) -> Option<&'a str> {
        let rest = self.rest;
        let b = rest.as_bytes();
        let sep = |i: usize| matches!(b.get(i), Some(b'/' | b'\\'));
        let dated = rest.len() > 11
            && digits(&rest[..4], 4)
            && sep(4)
            && digits(&rest[5..7], 2)
            && sep(7)
            && digits(&rest[8..10], 2)
            && sep(10);
        dated.then(|| &rest[..10])
    }
}

/// The days a region's listing covers, `YYYY/MM/DD`, either end open: a
/// key is in range when it sorts after the first day's folder name and
/// not past the last day's folder (as `s3/layout.rs` lists a region).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DayRange {
    pub first: Option<String>,
    pub last: Option<String>,
}

impl DayRange {
    /// Whether a region key's rest (`/` separators) is in range.
    pub fn contains(&self, rest: &str) -> bool {
        let after_start = self.first.as_deref().is_none_or(|f| rest > f);
        let past = self.last.as_deref().is_some_and(|l| {
            let end = format!("{l}/");
            rest.len() >= end.len() && rest[..end.len()] > *end
        });
        after_start && !past
    }
}

/// The day unit `ACCOUNT/REGION/YYYY/MM/DD` of a key in the CloudTrail
/// layout (a file below a day folder); `None` for any other key.
pub fn layout_day(key: &str) -> Option<String> {
    let segs: Vec<&str> = key.split(['/', '\\']).collect();
    let at = segs.iter().rposition(|s| *s == "AWSLogs")?;
    let mut rest = &segs[at + 1..];
    if rest.first().is_some_and(|o| o.starts_with("o-")) {
        rest = &rest[1..];
    }
    match rest {
        [account, trail, region, y, m, d, _, ..]
            if is_account_id(account)
                && trail.starts_with("CloudTrail")
                && digits(y, 4)
                && digits(m, 2)
                && digits(d, 2) =>
        {
            Some(format!("{account}/{region}/{y}/{m}/{d}"))
        }
        _ => None,
    }
}

fn digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

/// A local walk of `root` cut to `shard`'s share: entries of other shards
/// are counted in `other` (they are listed, and skipped as `other_shard`)
/// and not passed on. An unreadable folder is reported by one shard only.
/// A region folder is counted (files in `range`) the first time one of its
/// keys comes by, to tell a small region from a large one as S3 does.
pub fn local_share<'a, I>(
    root: &'a Path,
    walk: I,
    shard: Option<Shard>,
    range: DayRange,
    other: &'a AtomicU64,
) -> impl Iterator<Item = Listed> + Send + 'a
where
    I: Iterator<Item = Listed> + Send + 'a,
{
    let mut small: HashMap<PathBuf, bool> = HashMap::new();
    walk.filter(move |entry| {
        let Some(shard) = shard.filter(Shard::splits) else {
            return true;
        };
        let key = match entry {
            Listed::Object(o) => o.key.as_str(),
            Listed::Unlistable { object, .. } => object.as_str(),
        };
        let owned = match RegionKey::of(key).filter(|r| Path::new(r.folder).starts_with(root)) {
            Some(r) => {
                let small = *small
                    .entry(PathBuf::from(r.folder))
                    .or_insert_with(|| is_small(Path::new(r.folder), &range));
                shard.owns_in_region(&r, small)
            }
            None => shard.owns_key(key, &relative_key(root, key)),
        };
        if !owned {
            other.fetch_add(1, Ordering::Relaxed);
        }
        owned
    })
}

/// Whether a local region folder is small as S3 would tell from the first
/// page of its listing (keys after the range's start, in order): fewer
/// than [`SMALL_REGION`] keys in range, or no more keys than one page.
fn is_small(folder: &Path, range: &DayRange) -> bool {
    let (mut in_range, mut after_start) = (0usize, 0usize);
    let files = walkdir::WalkDir::new(folder)
        .follow_links(true)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file());
    for e in files {
        let rest = e.path().strip_prefix(folder).unwrap_or(e.path());
        let rest = rest.to_string_lossy().replace('\\', "/");
        if range.first.as_deref().is_none_or(|f| rest.as_str() > f) {
            after_start += 1;
            in_range += usize::from(range.contains(&rest));
        }
        if in_range >= SMALL_REGION && after_start > SMALL_REGION {
            return false;
        }
    }
    true
}

/// `key` relative to the SOURCE `root`, with `/` separators; the key itself
/// when it is the root (a SOURCE that is one file).
fn relative_key(root: &Path, key: &str) -> String {
    let rel = Path::new(key).strip_prefix(root).unwrap_or(Path::new(key));
    let rel = rel.to_string_lossy().replace('\\', "/");
    if rel.is_empty() {
        key.rsplit(['/', '\\']).next().unwrap_or(key).to_string()
    } else {
        rel
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    fn env(vars: &[(&'static str, &str)]) -> ArrayIndex {
        ArrayIndex {
            set: vars.iter().map(|(k, v)| (*k, v.to_string())).collect(),
        }
    }

    #[test]
    fn shards_are_parsed_from_the_flag_or_the_engines_variable() {
        let none = ArrayIndex::default();
        assert_eq!(Shard::parse("2/8", &none), Ok(Shard { index: 2, count: 8 }));
        let k8s = env(&[("JOB_COMPLETION_INDEX", "5")]);
        assert_eq!(
            Shard::parse("auto/8", &k8s),
            Ok(Shard { index: 5, count: 8 })
        );
        let batch = env(&[("AWS_BATCH_JOB_ARRAY_INDEX", "0")]);
        assert_eq!(Shard::parse("auto/3", &batch).unwrap().index, 0);
        assert_eq!(Shard::parse("auto/3", &none), Err(ShardError::NoIndex(3)));
        let e = Shard::parse("auto/3", &none).unwrap_err().to_string();
        assert!(e.contains("JOB_COMPLETION_INDEX") && e.contains("AWS_BATCH_JOB_ARRAY_INDEX"));
        assert!(matches!(
            Shard::parse("auto/4", &env(&[("JOB_COMPLETION_INDEX", "4")])),
            Err(ShardError::OutOfRange { index: 4, .. })
        ));
        assert!(matches!(
            Shard::parse("auto/4", &env(&[("AWS_BATCH_JOB_ARRAY_INDEX", "x")])),
            Err(ShardError::BadIndex { .. })
        ));
        let both = env(&[
            ("JOB_COMPLETION_INDEX", "1"),
            ("AWS_BATCH_JOB_ARRAY_INDEX", "2"),
        ]);
        assert!(matches!(
            Shard::parse("auto/4", &both),
            Err(ShardError::Conflict { .. })
        ));
        for bad in ["3", "1/0", "-1/3", "a/3", "1/x", "8/8"] {
            assert!(Shard::parse(bad, &none).is_err(), "{bad}");
        }
    }

    #[test]
    fn layout_keys_fall_into_day_units() {
        let k = "p/AWSLogs/o-ab12/111122223333/CloudTrail/eu-west-1/2026/01/02/f.json.gz";
        assert_eq!(
            layout_day(k).as_deref(),
            Some("111122223333/eu-west-1/2026/01/02")
        );
        let win = r"m\AWSLogs\111122223333\CloudTrail\us-east-1\2026\01\02\f.json.gz";
        assert_eq!(
            layout_day(win).as_deref(),
            Some("111122223333/us-east-1/2026/01/02")
        );
        for other in [
            "exports/f.json",
            "AWSLogs/111122223333/CloudTrail/us-east-1/2026/01/f.json.gz",
            "AWSLogs/1/CloudTrail/us-east-1/2026/01/02/f.json.gz",
            "AWSLogs/111122223333/CloudTrail/us-east-1/2026/01/02",
        ] {
            assert_eq!(layout_day(other), None, "{other}");
        }
        let s = Shard { index: 0, count: 4 };
        let day = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/01/02/";
        let owned = s.owns_day("111122223333", "us-east-1", "2026/01/02");
        // Every file of a day goes with the day, wherever the SOURCE lies.
        for f in ["a.json.gz", "b.json.gz"] {
            assert_eq!(s.owns_key(&format!("/x/{day}{f}"), f), owned);
            assert_eq!(s.owns_key(&format!("bucket/{day}{f}"), "other"), owned);
        }
    }

    #[test]
    fn region_keys_and_ranges_follow_the_layout() {
        let k = "b/AWSLogs/o-x/111122223333/CloudTrail/us-east-1/2026/01/02/f.json.gz";
        let r = RegionKey::of(k).unwrap();
        assert_eq!(r.folder, "b/AWSLogs/o-x/111122223333/CloudTrail/us-east-1/");
        assert_eq!((r.account, r.region), ("111122223333", "us-east-1"));
        assert_eq!(r.day(), Some("2026/01/02"));
        let odd = RegionKey::of("AWSLogs/111122223333/CloudTrail/us-east-1/notes.txt").unwrap();
        assert_eq!(odd.day(), None);
        assert_eq!(RegionKey::of("AWSLogs/111122223333/Config/x"), None);
        assert_eq!(
            RegionKey::of("AWSLogs/111122223333/CloudTrail/us-east-1"),
            None
        );
        let range = DayRange {
            first: Some("2026/01/02".into()),
            last: Some("2026/01/03".into()),
        };
        assert!(!range.contains("2026/01/01/f"));
        assert!(range.contains("2026/01/02/f") && range.contains("2026/01/03/f"));
        assert!(!range.contains("2026/01/04/f") && !range.contains("notes/readme.txt"));
        assert!(DayRange::default().contains("notes.txt"));
        // A small region goes whole to one shard; a large one by day.
        let count = 5;
        let owners = |small| {
            (0..count)
                .filter(|&index| Shard { index, count }.owns_in_region(&r, small))
                .collect::<Vec<_>>()
        };
        assert_eq!(owners(true).len(), 1);
        assert_eq!(owners(false).len(), 1);
        let region_owner =
            (0..count).find(|&index| Shard { index, count }.owns_region(r.account, r.region));
        assert_eq!(owners(true), vec![region_owner.unwrap()]);
    }

    /// A key of an org-shaped corpus: `big` accounts hold most objects.
    fn key(account: u8, region: u8, day: u8, file: u16) -> String {
        format!(
            "AWSLogs/o-x/{:012}/CloudTrail/r{region}/2026/01/{:02}/{file}.json.gz",
            u64::from(account) + 100_000_000_000,
            day % 28 + 1
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Every key belongs to exactly one shard of N, layout or not.
        #[test]
        fn shards_partition_every_key(
            keys in proptest::collection::vec(
                prop_oneof![
                    (0u8..5, 0u8..3, 0u8..40, 0u16..9).prop_map(|(a, r, d, f)| key(a, r, d, f)),
                    "[a-z/]{1,20}\\.json",
                ],
                1..200,
            ),
            count in 1u32..12,
        ) {
            for k in &keys {
                let owners = (0..count)
                    .filter(|&index| Shard { index, count }.owns_key(k, k))
                    .count();
                prop_assert_eq!(owners, 1, "{}", k);
            }
        }
    }

    /// One account with 90% of the objects, over 17 regions × 30 days: no
    /// shard gets more than twice the mean.
    #[test]
    fn a_skewed_organization_is_balanced() {
        let mut keys = Vec::new();
        for region in 0..17u8 {
            for day in 0..30u8 {
                keys.extend((0..90u16).map(|f| key(0, region, day, f)));
                for account in 1..11u8 {
                    keys.push(key(account, region, day, 0));
                }
            }
        }
        for count in [2u32, 3, 4, 8, 16] {
            let mut sizes = BTreeMap::new();
            for k in &keys {
                let owner = (0..count)
                    .find(|&index| Shard { index, count }.owns_key(k, k))
                    .unwrap();
                *sizes.entry(owner).or_insert(0usize) += 1;
            }
            let max = *sizes.values().max().unwrap() as f64;
            let mean = keys.len() as f64 / f64::from(count);
            assert!(max / mean <= 1.5, "N={count}: max/mean {}", max / mean);
        }
    }
}
