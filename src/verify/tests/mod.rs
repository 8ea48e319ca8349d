//! End-to-end tests of `verify` on real, signed digest chains built in a
//! temporary directory, plus tamper-rule and robustness tests.

mod fixture;
mod tamper;

use std::path::Path;

use super::*;
use fixture::*;

fn store(root: &Path) -> LocalMirror {
    LocalMirror::new(root).with_bucket(BUCKET)
}

fn keys() -> PublicKeys {
    PublicKeys::from_json(&public_keys_json(FINGERPRINT)).unwrap()
}

fn run(root: &Path, with_keys: bool) -> VerifyReport {
    let opts = VerifyOptions {
        public_keys: with_keys.then(keys),
        ..VerifyOptions::default()
    };
    verify(&store(root), &opts).unwrap()
}

/// Four hours, three log files each, one trail in us-east-1.
fn standard(root: &Path) -> Vec<BuiltDigest> {
    let spec = TrailSpec {
        region: "us-east-1",
        trail: "main_trail",
        hours: vec![Hour::Logs(3); 4],
    };
    build(root, &spec)
}

fn problems_of<'a>(report: &'a VerifyReport, key: &str) -> &'a [DigestProblem] {
    &report
        .digests
        .iter()
        .find(|d| d.key == key)
        .unwrap()
        .problems
}

fn signature_of<'a>(report: &'a VerifyReport, key: &str) -> &'a SignatureStatus {
    &report
        .digests
        .iter()
        .find(|d| d.key == key)
        .unwrap()
        .signature
}

/// Log findings that are not valid, as (key, status).
fn bad_logs(report: &VerifyReport) -> Vec<(String, LogStatus)> {
    report
        .logs
        .iter()
        .filter(|l| l.status != LogStatus::Valid)
        .map(|l| (l.key.clone(), l.status.clone()))
        .collect()
}

/// Digests with problems, as keys.
fn bad_digests(report: &VerifyReport) -> Vec<String> {
    report
        .digests
        .iter()
        .filter(|d| d.is_failure())
        .map(|d| d.key.clone())
        .collect()
}

const METADATA_VALID: SignatureStatus = SignatureStatus::Valid {
    source: SignatureSource::Metadata,
};

#[test]
fn clean_chain_is_authentic_and_passes() {
    let dir = tempfile::tempdir().unwrap();
    let built = standard(dir.path());
    let report = run(dir.path(), true);
    assert!(!report.has_failures());
    assert_eq!(report.level, Level::Authentic);
    assert_eq!(report.level_text, "authentic (signatures)");
    let expected = Counts {
        digests: 4,
        digests_valid: 4,
        signatures_valid: 4,
        logs: 12,
        logs_valid: 12,
        ..Counts::default()
    };
    assert_eq!(report.counts, expected);
    let keys: Vec<&str> = report.digests.iter().map(|d| d.key.as_str()).collect();
    let built_keys: Vec<&str> = built.iter().map(|d| d.key.as_str()).collect();
    assert_eq!(keys, built_keys);
    assert!(report.digests.iter().all(|d| d.signature == METADATA_VALID));
    assert_eq!(report.coverage.len(), 1);
    assert!(report.coverage[0].gaps.is_empty());
    assert_eq!(report.coverage[0].log_files_per_hour, vec![3, 3, 3, 3, 0]);
}

#[test]
fn without_keys_level_is_consistent_only() {
    let dir = tempfile::tempdir().unwrap();
    standard(dir.path());
    let report = run(dir.path(), false);
    assert!(!report.has_failures());
    assert_eq!(report.level, Level::Consistent);
    assert_eq!(report.level_text, "consistent (hashes)");
    assert_eq!(report.counts.signatures_unchecked, 4);
}

#[test]
fn without_metadata_next_digest_signatures_are_used() {
    let dir = tempfile::tempdir().unwrap();
    let built = standard(dir.path());
    std::fs::remove_dir_all(dir.path().join(".ctscan-meta")).unwrap();
    let report = run(dir.path(), true);
    assert!(!report.has_failures());
    assert_eq!(report.level, Level::PartlyAuthentic);
    let via_next = SignatureStatus::Valid {
        source: SignatureSource::NextDigest,
    };
    for d in &built[..3] {
        assert_eq!(signature_of(&report, &d.key), &via_next);
    }
    let tail = SignatureStatus::NotChecked {
        reason: signature::NotCheckedReason::NoMetadata,
    };
    assert_eq!(signature_of(&report, &built[3].key), &tail);
}

#[test]
fn modified_log_file_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let built = standard(dir.path());
    let victim = &built[1].logs[2];
    write(dir.path(), victim, &gzip(br#"{"Records":[]}"#));
    let report = run(dir.path(), true);
    assert!(report.has_failures());
    let bad = bad_logs(&report);
    assert_eq!(bad.len(), 1);
    assert_eq!(&bad[0].0, victim);
    assert!(matches!(bad[0].1, LogStatus::Modified { .. }));
    assert_eq!(report.counts.logs_modified, 1);
    assert!(bad_digests(&report).is_empty());
}

#[test]
fn deleted_log_file_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let built = standard(dir.path());
    let victim = &built[2].logs[0];
    std::fs::remove_file(dir.path().join(victim)).unwrap();
    let report = run(dir.path(), true);
    assert!(report.has_failures());
    assert_eq!(
        bad_logs(&report),
        vec![(victim.clone(), LogStatus::Deleted)]
    );
    let digest = &report
        .logs
        .iter()
        .find(|l| &l.key == victim)
        .unwrap()
        .digest;
    assert_eq!(digest, &built[2].key);
    assert!(bad_digests(&report).is_empty());
    assert!(report.uncovered.is_empty());
}

#[test]
fn deleted_digest_breaks_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let built = standard(dir.path());
    std::fs::remove_file(dir.path().join(&built[2].key)).unwrap();
    let report = run(dir.path(), true);
    assert!(report.has_failures());
    assert_eq!(bad_digests(&report), vec![built[3].key.clone()]);
    let expected = [DigestProblem::PreviousNotFound {
        previous: built[2].key.clone(),
    }];
    assert_eq!(problems_of(&report, &built[3].key), expected);
    assert_eq!(report.chain_gaps.len(), 1);
    let gap = &report.chain_gaps[0];
    assert_eq!(gap.kind, ChainGapKind::MissingDigest);
    assert_eq!((gap.from, gap.to), (Some(built[1].end), built[3].start));
    assert_eq!(gap.missing.as_deref(), Some(built[2].key.as_str()));
    // The deleted digest's log files are now listed by nothing.
    let uncovered: Vec<(&str, UncoveredContext)> = report
        .uncovered
        .iter()
        .map(|u| (u.key.as_str(), u.context))
        .collect();
    let expected: Vec<(&str, UncoveredContext)> = built[2]
        .logs
        .iter()
        .map(|k| (k.as_str(), UncoveredContext::NoDigestPeriod))
        .collect();
    assert_eq!(uncovered, expected);
    assert!(bad_logs(&report).is_empty());
}

#[test]
fn edited_digest_breaks_the_hash_chain() {
    let dir = tempfile::tempdir().unwrap();
    let built = standard(dir.path());
    let raw = std::fs::read(dir.path().join(&built[1].key)).unwrap();
    let mut text = digest::inflate(&raw).unwrap().bytes;
    text.push(b' ');
    write(dir.path(), &built[1].key, &gzip(&text));
    let report = run(dir.path(), true);
    assert!(report.has_failures());
    assert_eq!(
        bad_digests(&report),
        vec![built[1].key.clone(), built[2].key.clone()]
    );
    let edited = problems_of(&report, &built[1].key);
    assert!(
        matches!(edited, [DigestProblem::ContentChanged { recorded_by, .. }] if *recorded_by == built[2].key)
    );
    assert!(matches!(
        signature_of(&report, &built[1].key),
        SignatureStatus::Invalid {
            source: SignatureSource::Metadata,
            ..
        }
    ));
    let next = problems_of(&report, &built[2].key);
    assert!(
        matches!(next, [DigestProblem::PreviousHashMismatch { previous, .. }] if *previous == built[1].key)
    );
    assert_eq!(signature_of(&report, &built[2].key), &METADATA_VALID);
    assert!(bad_logs(&report).is_empty());
    assert!(report.chain_gaps.is_empty());
}

#[test]
fn wrong_signature_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let built = standard(dir.path());
    // Digest 1 now carries digest 0's signature in its metadata.
    write_sidecar(dir.path(), &built[1].key, &built[0].signature);
    let report = run(dir.path(), true);
    assert!(report.has_failures());
    let status = signature_of(&report, &built[1].key);
    assert_eq!(
        status,
        &SignatureStatus::Invalid {
            source: SignatureSource::Metadata,
            reason: "signature verification failed".into()
        }
    );
    let expected = [DigestProblem::PreviousSignatureMismatch {
        previous: built[1].key.clone(),
    }];
    assert_eq!(problems_of(&report, &built[2].key), expected);
    assert_eq!(report.counts.signatures_failed, 1);
    assert_eq!(report.level, Level::PartlyAuthentic);
    assert!(bad_logs(&report).is_empty());
}

#[test]
fn unknown_fingerprint_is_public_key_not_found() {
    let dir = tempfile::tempdir().unwrap();
    standard(dir.path());
    let other =
        PublicKeys::from_json(&public_keys_json("ffffffffffffffffffffffffffffffff")).unwrap();
    let opts = VerifyOptions {
        public_keys: Some(other),
        ..VerifyOptions::default()
    };
    let report = verify(&store(dir.path()), &opts).unwrap();
    assert!(report.has_failures());
    let not_found = SignatureStatus::PublicKeyNotFound {
        fingerprint: FINGERPRINT.into(),
    };
    assert!(report.digests.iter().all(|d| d.signature == not_found));
}

#[test]
fn extra_log_files_are_uncovered_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let built = standard(dir.path());
    let inside = built[1].start + jiff::SignedDuration::from_mins(20);
    let (injected, _) = write_log(dir.path(), "us-east-1", inside, 900);
    let late = built[3].end + jiff::SignedDuration::from_mins(10);
    let (undigested, _) = write_log(dir.path(), "us-east-1", late, 901);
    let report = run(dir.path(), true);
    assert!(!report.has_failures());
    let got: Vec<(&str, UncoveredContext)> = report
        .uncovered
        .iter()
        .map(|u| (u.key.as_str(), u.context))
        .collect();
    assert_eq!(
        got,
        vec![
            (injected.as_str(), UncoveredContext::WithinDigestPeriod),
            (undigested.as_str(), UncoveredContext::AfterLastDigest),
        ]
    );
    assert_eq!(
        report.uncovered[0].delivered.to_string(),
        "2026-01-02T01:20:00Z"
    );
}

#[test]
fn moved_digest_is_invalid() {
    let dir = tempfile::tempdir().unwrap();
    let built = standard(dir.path());
    let report = verify(
        &LocalMirror::new(dir.path()).with_bucket("elsewhere"),
        &VerifyOptions::default(),
    )
    .unwrap();
    assert!(report.has_failures());
    let first = problems_of(&report, &built[0].key);
    assert!(
        matches!(first, [DigestProblem::Moved { recorded, .. }] if *recorded == format!("{BUCKET}/{}", built[0].key))
    );
    assert_eq!(problems_of(&report, &built[1].key).len(), 2); // moved + previous bucket
}

#[test]
fn six_hour_hole_is_one_gap_and_quiet_region_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let mut busy_hours = vec![Hour::Logs(2); 12];
    busy_hours[3..9].fill(Hour::Missing);
    let busy = TrailSpec {
        region: "us-east-1",
        trail: "t1",
        hours: busy_hours,
    };
    let quiet = TrailSpec {
        region: "eu-west-1",
        trail: "t1",
        hours: vec![Hour::Quiet; 12],
    };
    let a = build(dir.path(), &busy);
    build(dir.path(), &quiet);
    let opts = VerifyOptions {
        since: Some(t0()),
        until: Some(t0() + hours(12)),
        public_keys: Some(keys()),
        ..VerifyOptions::default()
    };
    let report = verify(&store(dir.path()), &opts).unwrap();
    assert!(!report.has_failures(), "{:#?}", report.digests);
    assert_eq!(report.level, Level::Authentic);
    // The restart after the hole is a chain-gap notice.
    assert_eq!(report.chain_gaps.len(), 1);
    let restart = &report.chain_gaps[0];
    assert_eq!(restart.kind, ChainGapKind::Restart);
    assert_eq!(
        restart.message,
        "No log files were delivered by CloudTrail between 2026-01-02T03:00:31Z and 2026-01-02T09:00:31Z"
    );
    let region = |r: &str| report.coverage.iter().find(|c| c.region == r).unwrap();
    let busy_cov = region("us-east-1");
    assert_eq!(busy_cov.gaps.len(), 1);
    let gap = &busy_cov.gaps[0];
    assert_eq!((gap.start, gap.end), (a[2].end, a[3].start));
    assert_eq!(
        (gap.length_seconds, gap.length.as_str()),
        (6 * 3600, "6h 0m")
    );
    assert_eq!((gap.kind, gap.chain_break), (CoverageGapKind::Hole, true));
    let quiet_cov = region("eu-west-1");
    assert!(quiet_cov.gaps.is_empty());
    assert_eq!(quiet_cov.log_files, 0);
    assert_eq!(quiet_cov.no_activity_hours, 13);
    assert_eq!(report.counts.coverage_gaps, 1);
}

#[test]
fn garbage_digests_do_not_panic() {
    let dir = tempfile::tempdir().unwrap();
    let built = standard(dir.path());
    let raw = std::fs::read(dir.path().join(&built[1].key)).unwrap();
    let text = digest::inflate(&raw).unwrap().bytes;
    let mut variants: Vec<Vec<u8>> = vec![
        raw[..raw.len() / 2].to_vec(),
        b"\x1f\x8b garbage".to_vec(),
        gzip(b"null"),
        gzip(br#"{"logFiles": 5}"#),
        gzip(br#"{"digestStartTime": 1, "digestEndTime": [], "logFiles": [{}]}"#),
    ];
    for i in (0..text.len()).step_by(7) {
        let mut t = text.clone();
        t[i] = b"{}[]\",:0x\\"[i % 10];
        if t != text {
            variants.push(gzip(&t));
        }
        variants.push(gzip(&text[..i]));
    }
    let mut invalid = 0;
    for bytes in &variants {
        // Parsing alone must never panic...
        let _ = digest::Digest::parse(bytes);
        // ...and neither may a full run with the mangled digest in place.
        write(dir.path(), &built[1].key, bytes);
        let report = run(dir.path(), true);
        let d = report
            .digests
            .iter()
            .find(|d| d.key == built[1].key)
            .unwrap();
        invalid += usize::from(
            d.problems
                .iter()
                .any(|p| matches!(p, DigestProblem::InvalidFormat { .. })),
        );
        assert!(report.has_failures());
    }
    assert!(
        invalid > variants.len() / 2,
        "{invalid} of {}",
        variants.len()
    );
}

#[test]
fn public_keys_file_variants() {
    let lower = br#"{"publicKeyList":[{"Fingerprint":"AB","Value":"!!"}]}"#;
    let keys = PublicKeys::from_json(lower).unwrap();
    assert_eq!(keys.len(), 1);
    assert!(matches!(
        PublicKeys::from_json(b"{}"),
        Err(PublicKeysError::NoList)
    ));
    assert!(matches!(
        PublicKeys::from_json(br#"{"PublicKeyList":[{"Value":"x"}]}"#),
        Err(PublicKeysError::NoFingerprint(0))
    ));
}
