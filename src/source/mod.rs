//! Where objects come from: listing a SOURCE into [`ObjectRef`]s.
//!
//! Listing happens before scanning, so every object is counted once and the
//! scan order is deterministic. This module classifies keys (log, digest,
//! insight) but never reads contents.

pub mod local;
#[cfg(feature = "cli")]
pub mod s3;
pub mod select;

use std::path::PathBuf;

/// Directory holding `ctscan mirror`'s per-object metadata; never an input.
pub const META_DIR: &str = ".ctscan-meta";

/// One object to scan.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ObjectRef {
    /// The name shown to users and written to reports: a path or `s3://` URL.
    pub key: String,
    /// How to fetch it.
    pub location: Location,
    /// Size in bytes as listed.
    pub size: u64,
}

/// How an object is fetched.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Location {
    File(PathBuf),
    S3 { bucket: String, key: String },
}

/// An entry of a listing: an object, or something that could not be listed
/// (an unreadable directory, a symlink loop), which still counts as listed.
#[derive(Debug, Clone)]
pub enum Listed {
    Object(ObjectRef),
    Unlistable { object: String, error: String },
}

/// What a key says an object is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    Log,
    Digest,
    Insight,
}

/// Classifies a key by the CloudTrail layout's folder and file names.
pub fn classify_key(key: &str) -> ObjectKind {
    let name = key.rsplit(['/', '\\']).next().unwrap_or(key);
    if key.contains("/CloudTrail-Digest/") || name.contains("_CloudTrail-Digest_") {
        ObjectKind::Digest
    } else if key.contains("/CloudTrail-Insight/") || name.contains("_CloudTrail-Insight_") {
        ObjectKind::Insight
    } else {
        ObjectKind::Log
    }
}

/// Whether a name claims JSON content, so that non-JSON bytes are a failure
/// rather than an unrelated file to skip.
pub fn name_claims_json(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    [
        ".json",
        ".json.gz",
        ".gz",
        ".ndjson",
        ".jsonl",
        ".ndjson.gz",
        ".jsonl.gz",
    ]
    .iter()
    .any(|ext| lower.ends_with(ext))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_classified_by_layout() {
        assert_eq!(
            classify_key("AWSLogs/1/CloudTrail-Digest/us-east-1/2026/01/01/1_CloudTrail-Digest_us-east-1_t_us-east-1_20260101T000000Z.json.gz"),
            ObjectKind::Digest
        );
        assert_eq!(
            classify_key("logs/1_CloudTrail-Digest_us-east-1_t_us-east-1_20260101T000000Z.json.gz"),
            ObjectKind::Digest
        );
        assert_eq!(
            classify_key("AWSLogs/1/CloudTrail-Insight/us-east-1/x.json.gz"),
            ObjectKind::Insight
        );
        assert_eq!(
            classify_key("AWSLogs/1/CloudTrail/us-east-1/x.json.gz"),
            ObjectKind::Log
        );
        assert!(name_claims_json("a/B.JSON.GZ"));
        assert!(!name_claims_json("a/readme.yaml"));
    }
}
