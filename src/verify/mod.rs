//! `ctscan verify`: offline integrity validation of CloudTrail logs against
//! their digest files, in the manner of `aws cloudtrail validate-logs`, plus
//! delivery-coverage gaps and recognition of tampering events.
//!
//! Owns: reading digests and logs through an [`ObjectStore`] (a local
//! [`LocalMirror`] or S3, implemented elsewhere), the digest chain
//! (`chain`), log hashes, signatures ([`signature`]),
//! coverage ([`coverage`]) and the verdict ([`VerifyReport`]). Does not
//! print, fetch public keys or talk to S3 itself.
//!
//! Levels: without signatures (no metadata or no public keys) the result
//! proves the data *consistent (hashes)*: a rewrite of logs and digests
//! together would pass. Only digests whose RSA signature verifies against
//! AWS's public keys make it *authentic (signatures)*. The report says which
//! level was reached ([`Level`]).
//!
//! Flow: list → classify keys → load digests in the window (parallel) →
//! chain checks → signatures → hash listed log files (parallel) → uncovered
//! log files → coverage → report.

mod chain;
pub mod coverage;
pub mod digest;
mod inventory;
mod logs;
pub mod naming;
pub mod report;
pub mod signature;
pub mod store;
pub mod tamper;

#[cfg(test)]
mod tests;

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

pub use report::{
    ChainGap, ChainGapKind, Counts, CoverageGap, CoverageGapKind, DigestFinding, DigestProblem,
    Level, LogFinding, LogStatus, RegionCoverage, UncoveredContext, UncoveredLog, VerifyReport,
};
pub use signature::{PublicKeys, PublicKeysError, SignatureSource, SignatureStatus};
pub use store::{LocalMirror, ObjectInfo, ObjectStore};
pub use tamper::{tamper_finding, tamper_finding_in, Severity, TamperFinding, TamperScope};

use chain::{check_chains, ChainContext};
use inventory::{load_digests, Inventory, LoadedDigest, Window};
use signature::{NotCheckedReason, SignatureInput};

/// What to verify and how.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// Window start (delivery time of log files; digest end time).
    pub since: Option<Timestamp>,
    /// Window end. Digests up to an hour later are read, as they list files
    /// delivered before it.
    pub until: Option<Timestamp>,
    /// AWS public keys; without them signatures are not checked.
    pub public_keys: Option<PublicKeys>,
    /// Coverage gaps longer than this are reported.
    pub gap: Duration,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            since: None,
            until: None,
            public_keys: None,
            gap: Duration::from_secs(2 * 3600),
        }
    }
}

/// Why verification could not run at all (bad files are findings, not errors).
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The store could not be listed.
    #[error("listing objects: {0:#}")]
    List(anyhow::Error),
}

/// Verifies every digest and listed log file in the window.
pub fn verify<S: ObjectStore + ?Sized>(
    store: &S,
    opts: &VerifyOptions,
) -> Result<VerifyReport, VerifyError> {
    let inv = Inventory::build(store.list().map_err(VerifyError::List)?);
    let window = Window {
        since: opts.since,
        until: opts.until,
    };
    let prefix = store.key_prefix();
    let bucket = store.bucket();
    let digests = load_digests(store, &inv, &window, &prefix);
    let ctx = ChainContext {
        objects: &inv.objects,
        prefix: &prefix,
        bucket: bucket.as_deref(),
        since: opts.since,
    };
    let mut chain = check_chains(&digests, &ctx);
    let log_findings = logs::check_listed(store, &digests, &inv, &prefix);
    let uncovered = logs::uncovered(&inv, &digests, &window, &prefix);
    let threshold = SignedDuration::try_from(opts.gap).unwrap_or(SignedDuration::MAX);
    let coverage = coverage::compute(&inv, &digests, &chain.gaps, &window, threshold);
    let mut findings: Vec<DigestFinding> = digests
        .iter()
        .enumerate()
        .filter(|(_, d)| d.in_window)
        .map(|(i, d)| {
            let problems = std::mem::take(&mut chain.problems[i]);
            let next = chain.next_signature[i].as_deref();
            digest_finding(d, problems, next, opts.public_keys.as_ref())
        })
        .collect();
    findings.sort_by(|a, b| {
        let key = |f: &DigestFinding| {
            (
                f.account.clone(),
                f.region.clone(),
                f.trail.clone(),
                f.backfill,
                f.end,
            )
        };
        key(a).cmp(&key(b))
    });
    chain.gaps.sort_by(|a, b| {
        (&a.account, &a.region, &a.trail, a.to).cmp(&(&b.account, &b.region, &b.trail, b.to))
    });
    Ok(assemble(
        opts,
        findings,
        log_findings,
        uncovered,
        chain.gaps,
        coverage,
        inv.unrecognized,
    ))
}

fn digest_finding(
    d: &LoadedDigest,
    problems: Vec<DigestProblem>,
    next_signature: Option<&str>,
    keys: Option<&PublicKeys>,
) -> DigestFinding {
    let signature = match (&d.doc, &d.hash) {
        (Ok(doc), Ok(hash)) => {
            let input = SignatureInput {
                digest: doc,
                inflated_hash: hash,
                metadata: d.metadata.as_ref().map(Option::as_ref).map_err(|_| ()),
                next_signature,
            };
            signature::check(keys, &input)
        }
        _ => SignatureStatus::NotChecked {
            reason: NotCheckedReason::InvalidDigest,
        },
    };
    let doc = d.doc.as_ref().ok();
    DigestFinding {
        key: d.key.clone(),
        account: d.name.account.clone(),
        region: d.name.region.clone(),
        trail: d.name.trail.clone(),
        backfill: d.name.backfill,
        start: doc.map(|doc| doc.start),
        end: d.end(),
        problems,
        signature,
        log_files: doc.map_or(0, |doc| doc.log_files.len()),
    }
}

fn assemble(
    opts: &VerifyOptions,
    digests: Vec<DigestFinding>,
    logs: Vec<LogFinding>,
    uncovered: Vec<UncoveredLog>,
    chain_gaps: Vec<ChainGap>,
    coverage: Vec<RegionCoverage>,
    unrecognized: Vec<String>,
) -> VerifyReport {
    let counts = count(&digests, &logs, &uncovered, &chain_gaps, &coverage);
    let verified = counts.signatures_valid;
    let level = match (counts.digests, verified) {
        (0, _) => Level::Nothing,
        (_, 0) => Level::Consistent,
        (total, v) if v == total => Level::Authentic,
        _ => Level::PartlyAuthentic,
    };
    VerifyReport {
        since: opts.since,
        until: opts.until,
        level,
        level_text: level.describe(verified, counts.digests),
        counts,
        digests,
        logs,
        uncovered,
        chain_gaps,
        coverage,
        unrecognized,
    }
}

fn count(
    digests: &[DigestFinding],
    logs: &[LogFinding],
    uncovered: &[UncoveredLog],
    chain_gaps: &[ChainGap],
    coverage: &[RegionCoverage],
) -> Counts {
    let sig = |f: fn(&SignatureStatus) -> bool| digests.iter().filter(|d| f(&d.signature)).count();
    let log = |f: fn(&LogStatus) -> bool| logs.iter().filter(|l| f(&l.status)).count();
    Counts {
        digests: digests.len(),
        digests_valid: digests.iter().filter(|d| !d.is_failure()).count(),
        signatures_valid: sig(|s| matches!(s, SignatureStatus::Valid { .. })),
        signatures_failed: sig(SignatureStatus::is_failure),
        signatures_unchecked: sig(|s| matches!(s, SignatureStatus::NotChecked { .. })),
        logs: logs.len(),
        logs_valid: log(|s| *s == LogStatus::Valid),
        logs_modified: log(|s| matches!(s, LogStatus::Modified { .. })),
        logs_deleted: log(|s| *s == LogStatus::Deleted),
        logs_invalid: log(|s| {
            matches!(s, LogStatus::InvalidFormat { .. } | LogStatus::TrailingData)
        }),
        logs_uncovered: uncovered.len(),
        chain_gaps: chain_gaps.len(),
        coverage_gaps: coverage.iter().map(|c| c.gaps.len()).sum(),
    }
}
