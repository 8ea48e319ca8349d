//! `--shard I/N`: one deterministic share of a SOURCE's objects, so that N
//! workers of an array job (Kubernetes Indexed Job, AWS Batch array job)
//! split a sweep with no coordination and no overlap.
//!
//! The unit of work is one day of one account's region: a key of the
//! CloudTrail layout `…AWSLogs/[o-…/]ACCOUNT/CloudTrail*/REGION/YYYY/MM/DD/…`
//! belongs to the shard that the unit `ACCOUNT/REGION/YYYY/MM/DD` hashes to.
//! Day units keep a skewed organization balanced (an account with 90% of
//! the objects spreads over its regions × days) and are prefixes, so an S3
//! worker lists only its own days (`s3/layout.rs`). A key outside the layout
//! belongs to the shard its path relative to the SOURCE hashes to, so a
//! mirror and its bucket split the same way on any machine.
//!
//! The hash is XXH3-64 with its default (fixed) seed: stable across
//! processes, machines and releases, unlike std's `RandomState`.
//! This module decides ownership; it never reads the environment (the
//! engine's index comes in as [`ArrayIndex`], read by `config`).

use std::path::Path;
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
pub fn local_share<'a, I>(
    root: &'a Path,
    walk: I,
    shard: Option<Shard>,
    other: &'a AtomicU64,
) -> impl Iterator<Item = Listed> + Send + 'a
where
    I: Iterator<Item = Listed> + Send + 'a,
{
    walk.filter(move |entry| {
        let Some(shard) = shard.filter(Shard::splits) else {
            return true;
        };
        let key = match entry {
            Listed::Object(o) => o.key.as_str(),
            Listed::Unlistable { object, .. } => object.as_str(),
        };
        let owned = shard.owns_key(key, &relative_key(root, key));
        if !owned {
            other.fetch_add(1, Ordering::Relaxed);
        }
        owned
    })
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
