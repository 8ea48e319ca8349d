//! The verdict of a verification run: [`VerifyReport`] and the finding types
//! it is made of. Plain data, serialisable; no checking logic lives here
//! except the pass/fail rule ([`VerifyReport::has_failures`]).

use std::fmt;

use jiff::Timestamp;
use serde::{Serialize, Serializer};

use super::signature::SignatureStatus;

/// Serialises a timestamp as `YYYY-MM-DDTHH:MM:SSZ`.
pub(crate) fn ser_ts<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(t)
}

/// Serialises an optional timestamp (null when absent).
pub(crate) fn ser_opt_ts<S: Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.collect_str(t),
        None => s.serialize_none(),
    }
}

/// Everything `verify` found.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    /// Requested window start (delivery time), if any.
    #[serde(serialize_with = "ser_opt_ts")]
    pub since: Option<Timestamp>,
    /// Requested window end (delivery time), if any.
    #[serde(serialize_with = "ser_opt_ts")]
    pub until: Option<Timestamp>,
    /// Which level of assurance was reached.
    pub level: Level,
    /// The level in words, e.g. "consistent (hashes)".
    pub level_text: String,
    /// Totals by outcome.
    pub counts: Counts,
    /// One entry per digest in the window, oldest first per trail.
    pub digests: Vec<DigestFinding>,
    /// One entry per (log file, listing digest), sorted by key.
    pub logs: Vec<LogFinding>,
    /// Log files in the window that no digest lists.
    pub uncovered: Vec<UncoveredLog>,
    /// Holes in digest chains (restarts and missing digests).
    pub chain_gaps: Vec<ChainGap>,
    /// Per (account, region) delivery coverage and its gaps.
    pub coverage: Vec<RegionCoverage>,
    /// Keys under `CloudTrail/` or `CloudTrail-Digest/` whose names do not parse.
    pub unrecognized: Vec<String>,
}

impl VerifyReport {
    /// True when anything is modified, deleted, invalid, broken or badly signed.
    /// Uncovered log files, chain restarts and coverage gaps are warnings.
    pub fn has_failures(&self) -> bool {
        self.digests.iter().any(DigestFinding::is_failure)
            || self.logs.iter().any(|l| l.status != LogStatus::Valid)
            || self
                .chain_gaps
                .iter()
                .any(|g| g.kind == ChainGapKind::MissingDigest)
    }
}

/// How far verification could go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// No digest in the window: nothing was proven.
    Nothing,
    /// Hashes and links only: a rewrite of logs and digests together would pass.
    Consistent,
    /// Some digests signature-verified, others hashes only.
    PartlyAuthentic,
    /// Every digest in the window carries a valid AWS signature.
    Authentic,
}

impl Level {
    /// Plain words for the level.
    pub fn describe(self, verified: usize, total: usize) -> String {
        match self {
            Level::Nothing => "nothing verified (no digests in the window)".into(),
            Level::Consistent => "consistent (hashes)".into(),
            Level::PartlyAuthentic => format!(
                "partly authentic (signatures on {verified} of {total} digests, the rest hashes only)"
            ),
            Level::Authentic => "authentic (signatures)".into(),
        }
    }
}

/// Totals by outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Digests in the window.
    pub digests: usize,
    /// Digests with no problem and no bad signature.
    pub digests_valid: usize,
    /// Digests with a valid signature.
    pub signatures_valid: usize,
    /// Digests whose signature failed or whose key was not found.
    pub signatures_failed: usize,
    /// Digests whose signature was not checked.
    pub signatures_unchecked: usize,
    /// Log findings.
    pub logs: usize,
    /// Valid log files.
    pub logs_valid: usize,
    /// Log files whose hash differs.
    pub logs_modified: usize,
    /// Listed log files that are absent.
    pub logs_deleted: usize,
    /// Log files that could not be read or inflated, or had trailing data.
    pub logs_invalid: usize,
    /// Log files no digest lists.
    pub logs_uncovered: usize,
    /// Chain gaps (restarts and missing digests).
    pub chain_gaps: usize,
    /// Coverage gaps over the threshold.
    pub coverage_gaps: usize,
}

/// One digest's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DigestFinding {
    /// Store key.
    pub key: String,
    /// Account from the key.
    pub account: String,
    /// Region that delivered the digest.
    pub region: String,
    /// Trail name.
    pub trail: String,
    /// A `_backfill` digest.
    pub backfill: bool,
    /// `digestStartTime`, if the digest parsed.
    #[serde(serialize_with = "ser_opt_ts")]
    pub start: Option<Timestamp>,
    /// End time (from the file name).
    #[serde(serialize_with = "ser_ts")]
    pub end: Timestamp,
    /// Everything wrong with it or its link to the previous digest.
    pub problems: Vec<DigestProblem>,
    /// Signature outcome.
    pub signature: SignatureStatus,
    /// Number of listed log files.
    pub log_files: usize,
}

impl DigestFinding {
    /// A problem or a failed signature.
    pub fn is_failure(&self) -> bool {
        !self.problems.is_empty() || self.signature.is_failure()
    }
}

/// A problem with one digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DigestProblem {
    /// Unreadable, not gzip/JSON, a required key missing, or inconsistent times.
    InvalidFormat {
        /// What is wrong.
        detail: String,
    },
    /// `digestS3Bucket`/`digestS3Object` differ from where it was found.
    Moved {
        /// `bucket/object` as recorded.
        recorded: String,
        /// `bucket/object` where found (bucket `?` when unknown).
        found: String,
    },
    /// The next digest recorded a different hash for this one: it was edited.
    ContentChanged {
        /// The digest that recorded the hash.
        recorded_by: String,
        /// Hash recorded by the next digest.
        recorded_hash: String,
        /// Hash of this digest as found.
        actual_hash: String,
    },
    /// `previousDigestS3Object` names a digest that is absent.
    PreviousNotFound {
        /// Its key as recorded.
        previous: String,
    },
    /// `previousDigestHashValue` differs from the previous digest's hash.
    PreviousHashMismatch {
        /// The previous digest's key.
        previous: String,
        /// Hash recorded here.
        recorded_hash: String,
        /// Hash of the previous digest as found.
        actual_hash: String,
    },
    /// `previousDigestS3Bucket` is not the store's bucket.
    PreviousBucketMismatch {
        /// As recorded.
        recorded: String,
        /// The store's bucket.
        expected: String,
    },
    /// `previousDigestSignature` differs from the previous digest's metadata signature.
    PreviousSignatureMismatch {
        /// The previous digest's key.
        previous: String,
    },
    /// The link skips digests or points elsewhere than the one before it.
    PreviousNotAdjacent {
        /// The key the link names.
        previous: String,
        /// The digest immediately before this one, if any.
        expected: Option<String>,
    },
}

impl fmt::Display for DigestProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidFormat { detail } => write!(f, "invalid format: {detail}"),
            Self::Moved { recorded, found } => write!(
                f,
                "has been moved from its original location ({recorded}, found at {found})"
            ),
            Self::ContentChanged { recorded_by, .. } => {
                write!(
                    f,
                    "modified: hash differs from the one recorded by {recorded_by}"
                )
            }
            Self::PreviousNotFound { previous } => {
                write!(f, "previous digest {previous} not found")
            }
            Self::PreviousHashMismatch { previous, .. } => {
                write!(f, "previousDigestHashValue does not match {previous}")
            }
            Self::PreviousBucketMismatch { recorded, expected } => {
                write!(f, "previous digest bucket {recorded} is not {expected}")
            }
            Self::PreviousSignatureMismatch { previous } => write!(
                f,
                "previousDigestSignature differs from the signature of {previous}"
            ),
            Self::PreviousNotAdjacent { previous, .. } => {
                write!(f, "links to {previous}, not to the digest before it")
            }
        }
    }
}

/// One listed log file's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogFinding {
    /// Store key (or the recorded `s3Object` if outside the store's prefix).
    pub key: String,
    /// The digest that lists it.
    pub digest: String,
    /// Outcome.
    pub status: LogStatus,
}

/// Outcome for one log file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum LogStatus {
    /// Present, hash matches.
    Valid,
    /// Present, hash differs.
    Modified {
        /// Hash in the digest.
        expected: String,
        /// Hash found.
        actual: String,
    },
    /// Listed but absent.
    Deleted,
    /// Unreadable or not inflatable.
    InvalidFormat {
        /// What failed.
        detail: String,
    },
    /// Bytes after the gzip stream (the CLI fails these).
    TrailingData,
}

/// A log file no digest lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UncoveredLog {
    /// Store key.
    pub key: String,
    /// Account.
    pub account: String,
    /// Region.
    pub region: String,
    /// Delivery time from the file name.
    #[serde(serialize_with = "ser_ts")]
    pub delivered: Timestamp,
    /// What digests say about that time.
    pub context: UncoveredContext,
}

/// Where an uncovered log file falls relative to the region's digests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UncoveredContext {
    /// A digest of that region covers its delivery time but does not list it:
    /// injected, or written by another trail.
    WithinDigestPeriod,
    /// No digest covers its delivery time (validation off, or digest deleted).
    NoDigestPeriod,
    /// After the region's newest digest: perhaps not digested yet.
    AfterLastDigest,
}

/// A hole in one trail's digest chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainGap {
    /// Account.
    pub account: String,
    /// Region that delivered the digests.
    pub region: String,
    /// Trail.
    pub trail: String,
    /// Restart or missing digest.
    pub kind: ChainGapKind,
    /// End of the last digest before the hole, if known.
    #[serde(serialize_with = "ser_opt_ts")]
    pub from: Option<Timestamp>,
    /// Start of the digest after the hole.
    #[serde(serialize_with = "ser_ts")]
    pub to: Timestamp,
    /// The digest after the hole.
    pub digest: String,
    /// The missing digest's key (missing-digest gaps only).
    pub missing: Option<String>,
    /// Human-readable wording (the CLI's for restarts).
    pub message: String,
}

/// Why a chain has a hole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChainGapKind {
    /// A new chain started (null previous) after an earlier digest: logging or
    /// validation was off. A notice, not a failure, as in `validate-logs`.
    Restart,
    /// A link names a digest that is absent: a failure.
    MissingDigest,
}

/// Coverage of one (account, region).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegionCoverage {
    /// Account.
    pub account: String,
    /// Region.
    pub region: String,
    /// Start of the window considered.
    #[serde(serialize_with = "ser_ts")]
    pub window_start: Timestamp,
    /// End of the window considered.
    #[serde(serialize_with = "ser_ts")]
    pub window_end: Timestamp,
    /// Log files delivered in the window.
    pub log_files: usize,
    /// Digests in the window.
    pub digests: usize,
    /// The hour `log_files_per_hour[0]` counts.
    #[serde(serialize_with = "ser_ts")]
    pub first_hour: Timestamp,
    /// Log files delivered in each hour from `first_hour` (empty past two years).
    pub log_files_per_hour: Vec<u32>,
    /// Hours without log files that a digest covers: no activity, not holes.
    pub no_activity_hours: usize,
    /// Stretches with no evidence longer than the threshold.
    pub gaps: Vec<CoverageGap>,
}

/// A stretch with neither log files nor digests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CoverageGap {
    /// Last evidence before it (or the window start).
    #[serde(serialize_with = "ser_ts")]
    pub start: Timestamp,
    /// First evidence after it (or the window end).
    #[serde(serialize_with = "ser_ts")]
    pub end: Timestamp,
    /// Length in seconds.
    pub length_seconds: i64,
    /// Length as `6h 0m`.
    pub length: String,
    /// Hole, or undecidable because the region has no digests.
    pub kind: CoverageGapKind,
    /// A digest-chain gap of the same region overlaps it.
    pub chain_break: bool,
}

/// What a coverage gap means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CoverageGapKind {
    /// The region has digests elsewhere, yet none here: a real hole.
    Hole,
    /// The region has no digests at all: a hole or just a quiet region.
    NoDigests,
}
