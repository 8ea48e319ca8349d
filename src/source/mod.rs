//! Where objects come from: listing a SOURCE into [`ObjectRef`]s.
//!
//! Listing happens before scanning, so every object is counted once and the
//! scan order is deterministic. This module classifies keys (log, digest,
//! insight) but never reads contents.

pub mod local;
#[cfg(feature = "cli")]
pub mod s3;
pub mod select;
pub mod shard;

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
    /// The ETag as listed, without quotes (S3 only): with the size, which
    /// version of the object this is.
    pub etag: Option<String>,
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

/// An entry of a source that fetches bytes itself (S3), as it arrives.
pub enum Streamed {
    /// Listed and not fetched by the source: triaged here like a local
    /// entry (pruned, skipped, an unlistable prefix, or a local file read
    /// here). Never an S3 object the scan wants
    /// (`crate::scan::wants`).
    Listed(Listed),
    /// An object the scan wants, with its bytes or why they could not be had.
    Fetched(ObjectRef, anyhow::Result<Vec<u8>>),
}

/// What a key says an object is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    Log,
    Digest,
    Insight,
    /// Another service's log under the same `AWSLogs/` tree (Config, load
    /// balancer, VPC flow logs, …): never read as CloudTrail.
    OtherService,
}

/// Classifies a key by the CloudTrail layout's folder and file names.
pub fn classify_key(key: &str) -> ObjectKind {
    let name = key.rsplit(['/', '\\']).next().unwrap_or(key);
    if service_folder(key).is_some_and(|s| !s.starts_with("CloudTrail")) {
        ObjectKind::OtherService
    } else if key.contains("/CloudTrail-Digest/") || name.contains("_CloudTrail-Digest_") {
        ObjectKind::Digest
    } else if key.contains("/CloudTrail-Insight/") || name.contains("_CloudTrail-Insight_") {
        ObjectKind::Insight
    } else {
        ObjectKind::Log
    }
}

/// The service folder of a key in the AWS log layout,
/// `[prefix/]AWSLogs/[o-org-id/]<12-digit account>/<service>/…`: `CloudTrail`,
/// `CloudTrail-Digest`, `Config`, `elasticloadbalancing`, `vpcflowlogs`, ….
/// `None` for a key outside that layout.
pub fn service_folder(key: &str) -> Option<&str> {
    let mut parts = key
        .split(['/', '\\'])
        .skip_while(|p| *p != "AWSLogs")
        .skip(1);
    let mut account = parts.next()?;
    if account.starts_with("o-") {
        account = parts.next()?;
    }
    let is_account = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
    let service = parts.next()?;
    // The service folder holds more below it; a file directly under the
    // account is not in the layout.
    (is_account && parts.next().is_some()).then_some(service)
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
        for other in [
            "AWSLogs/111122223333/Config/us-east-1/2026/1/1/ConfigHistory/x.json.gz",
            "bucket-prefix/AWSLogs/o-abcd/111122223333/elasticloadbalancing/eu-west-1/x.log.gz",
            "AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/01/01/x.log.gz",
        ] {
            assert_eq!(classify_key(other), ObjectKind::OtherService, "{other}");
        }
        // Outside the layout, content decides; CloudTrail's own folders stay logs.
        for log in [
            "AWSLogs/111122223333/CloudTrail/us-east-1/2026/01/01/x.json.gz",
            "AWSLogs/o-abcd/111122223333/CloudTrail/us-east-1/x.json.gz",
            "exports/Config/x.json",
            "AWSLogs/not-an-account/Config/x.json",
        ] {
            assert_eq!(classify_key(log), ObjectKind::Log, "{log}");
        }
        assert!(name_claims_json("a/B.JSON.GZ"));
        assert!(!name_claims_json("a/readme.yaml"));
    }
}
