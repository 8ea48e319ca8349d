//! `ctscan verify` through the binary: real signed digest chains built in a
//! temporary directory (the module's own fixture), tampered one way per test,
//! with the verdict lines, exported rows and exit status asserted exactly.

use std::path::{Path, PathBuf};
use std::process::Command;

#[allow(dead_code)]
#[path = "../src/verify/tests/fixture.rs"]
mod fixture;

use fixture::*;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `ctscan verify ROOT --bucket trail-bucket -q? ARGS`.
fn verify(root: &Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_ctscan"))
        .arg("verify")
        .arg(root)
        .args(["--bucket", BUCKET])
        .args(args)
        .env_remove("CTSCAN_SOURCE")
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap(),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// The text after a verdict label (`level`, `signatures`, …) in stdout.
fn line<'a>(run: &'a Run, label: &str) -> &'a str {
    run.stdout
        .lines()
        .find_map(|l| {
            l.strip_prefix(label)
                .filter(|rest| rest.starts_with(' '))
                .map(str::trim)
        })
        .unwrap_or_else(|| panic!("no {label} line in:\n{}", run.stdout))
}

/// A mirror of four hours with three log files each, plus a keys file.
struct Mirror {
    _dir: tempfile::TempDir,
    root: PathBuf,
    keys: PathBuf,
    built: Vec<BuiltDigest>,
}

impl Mirror {
    fn new() -> Mirror {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("mirror");
        let built = build(
            &root,
            &TrailSpec {
                region: "us-east-1",
                trail: "main_trail",
                hours: vec![Hour::Logs(3); 4],
            },
        );
        let keys = dir.path().join("keys.json");
        std::fs::write(&keys, public_keys_json(FINGERPRINT)).unwrap();
        Mirror {
            _dir: dir,
            root,
            keys,
            built,
        }
    }

    fn run(&self) -> Run {
        verify(&self.root, &["--public-keys", self.keys.to_str().unwrap()])
    }

    fn run_out(&self, out: &Path) -> Run {
        verify(
            &self.root,
            &[
                "--public-keys",
                self.keys.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ],
        )
    }
}

/// Rows of a CSV written by `--out`, as (header → value) maps.
fn csv_rows(path: &Path) -> Vec<std::collections::BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_string)
        .collect();
    lines
        .map(|l| {
            header
                .iter()
                .cloned()
                .zip(split_csv(l))
                .collect::<std::collections::BTreeMap<_, _>>()
        })
        .collect()
}

/// Splits one CSV line (quoted cells may hold commas).
fn split_csv(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(String::new()),
            c => out.last_mut().unwrap().push(c),
        }
    }
    out
}

#[test]
fn clean_chain_is_authentic_and_exits_0() {
    let m = Mirror::new();
    let r = m.run();
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(line(&r, "level"), "authentic (signatures)");
    assert_eq!(line(&r, "signatures"), "4 of 4 valid, 0 failed");
    assert_eq!(line(&r, "digests"), "4 in window, 4 valid");
    assert_eq!(
        line(&r, "log files"),
        "12 listed: 12 valid, 0 modified, 0 deleted, 0 invalid; 0 not listed by any digest (0 inside a digest's period)"
    );
    assert_eq!(line(&r, "chain"), "0 missing digests, 0 restarts");
    assert_eq!(line(&r, "verdict"), "PASS");
    assert_eq!(r.stderr, "");
}

#[test]
fn without_public_keys_signatures_are_not_checked_and_it_says_why() {
    let m = Mirror::new();
    let r = verify(&m.root, &[]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(line(&r, "level"), "consistent (hashes)");
    assert_eq!(
        line(&r, "signatures"),
        "0 of 4 valid, 0 failed, 4 not checked: no --public-keys FILE given (save `aws cloudtrail list-public-keys` output) (4)"
    );
    assert!(r
        .stdout
        .contains("hashes prove the mirror consistent, not authentic"));
    assert_eq!(line(&r, "verdict"), "PASS");
}

#[test]
fn modified_log_exits_1_and_is_exported() {
    let m = Mirror::new();
    let victim = &m.built[1].logs[2];
    write(&m.root, victim, &gzip(br#"{"Records":[]}"#));
    let out = tempfile::tempdir().unwrap();
    let r = m.run_out(out.path());
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert_eq!(
        line(&r, "log files"),
        "12 listed: 11 valid, 1 modified, 0 deleted, 0 invalid; 0 not listed by any digest (0 inside a digest's period)"
    );
    assert_eq!(line(&r, "digests"), "4 in window, 4 valid");
    assert_eq!(line(&r, "verdict"), "FAIL");
    let rows = csv_rows(&out.path().join("log_files.csv"));
    let bad: Vec<(&str, &str)> = rows
        .iter()
        .filter(|r| r["status"] != "valid")
        .map(|r| (r["key"].as_str(), r["status"].as_str()))
        .collect();
    assert_eq!(bad, vec![(victim.as_str(), "modified")]);
    assert_eq!(rows.len(), 12);
    for name in ["log_files", "digests", "tampering", "coverage_gaps"] {
        assert!(out.path().join(format!("{name}.parquet")).is_file());
    }
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("verify.json")).unwrap()).unwrap();
    assert_eq!(json["verdict"], "fail");
    assert_eq!(json["exit_status"], 1);
    assert_eq!(json["sources"][0]["report"]["counts"]["logs_modified"], 1);
}

/// Off a terminal nothing is cut: the modified file is named in full.
#[test]
fn modified_log_is_named_in_full_on_stdout() {
    let m = Mirror::new();
    let victim = &m.built[1].logs[2];
    write(&m.root, victim, &gzip(br#"{"Records":[]}"#));
    let r = m.run();
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let rows: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.contains("  modified  "))
        .collect();
    let [row] = rows[..] else {
        panic!("one modified row in:\n{}", r.stdout);
    };
    // source, key, status, detail (two whole hashes), digest: nothing cut.
    let cells: Vec<&str> = row
        .trim_start()
        .split("  ")
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(cells.len(), 5, "{row}");
    assert_eq!(
        (cells[0], cells[1], cells[2], cells[4]),
        (
            m.root.to_str().unwrap(),
            victim.as_str(),
            "modified",
            m.built[1].key.as_str()
        )
    );
    assert_eq!(
        cells[3].len(),
        "hash , digest recorded ".len() + 2 * 64,
        "{row}"
    );
}

#[test]
fn deleted_log_exits_1() {
    let m = Mirror::new();
    std::fs::remove_file(m.root.join(&m.built[2].logs[0])).unwrap();
    let r = m.run();
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert_eq!(
        line(&r, "log files"),
        "12 listed: 11 valid, 0 modified, 1 deleted, 0 invalid; 0 not listed by any digest (0 inside a digest's period)"
    );
    assert_eq!(line(&r, "verdict"), "FAIL");
}

#[test]
fn deleted_digest_exits_1_with_a_missing_link() {
    let m = Mirror::new();
    std::fs::remove_file(m.root.join(&m.built[2].key)).unwrap();
    let r = m.run();
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert_eq!(line(&r, "chain"), "1 missing digests, 0 restarts");
    assert_eq!(line(&r, "digests"), "3 in window, 2 valid");
    // Its three log files are now listed by no digest.
    assert_eq!(
        line(&r, "log files"),
        "9 listed: 9 valid, 0 modified, 0 deleted, 0 invalid; 3 not listed by any digest (0 inside a digest's period)"
    );
    assert_eq!(line(&r, "verdict"), "FAIL");
}

#[test]
fn edited_digest_exits_1() {
    let m = Mirror::new();
    let path = m.root.join(&m.built[1].key);
    let mut text = Vec::new();
    use std::io::Read;
    flate2::read::GzDecoder::new(std::fs::File::open(&path).unwrap())
        .read_to_end(&mut text)
        .unwrap();
    text.push(b' ');
    std::fs::write(&path, gzip(&text)).unwrap();
    let r = m.run();
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    // The edited digest fails its signature and the next digest's hash link.
    assert_eq!(line(&r, "digests"), "4 in window, 2 valid");
    assert_eq!(line(&r, "signatures"), "3 of 4 valid, 1 failed");
    assert_eq!(
        line(&r, "level"),
        "partly authentic (signatures on 3 of 4 digests, the rest hashes only)"
    );
    assert_eq!(line(&r, "verdict"), "FAIL");
}

#[test]
fn wrong_signature_exits_1() {
    let m = Mirror::new();
    write_sidecar(&m.root, &m.built[1].key, &m.built[0].signature);
    let r = m.run();
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert_eq!(line(&r, "signatures"), "3 of 4 valid, 1 failed");
    assert!(
        r.stdout.contains("signature verification failed"),
        "{}",
        r.stdout
    );
    assert_eq!(line(&r, "verdict"), "FAIL");
}

#[test]
fn extra_uncovered_log_exits_1() {
    let m = Mirror::new();
    let inside = m.built[1].start + jiff::SignedDuration::from_mins(20);
    let (injected, _) = write_log(&m.root, "us-east-1", inside, 900);
    let out = tempfile::tempdir().unwrap();
    let r = m.run_out(out.path());
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert_eq!(
        line(&r, "log files"),
        "12 listed: 12 valid, 0 modified, 0 deleted, 0 invalid; 1 not listed by any digest (1 inside a digest's period)"
    );
    let rows = csv_rows(&out.path().join("uncovered_log_files.csv"));
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["key"], injected);
    assert_eq!(rows[0]["context"], "within_digest_period");
    assert_eq!(rows[0]["delivered"], "2026-01-02T01:20:00Z");
}

#[test]
fn undigested_newest_log_is_only_a_warning() {
    let m = Mirror::new();
    let late = m.built[3].end + jiff::SignedDuration::from_mins(10);
    write_log(&m.root, "us-east-1", late, 901);
    let r = m.run();
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(
        line(&r, "log files"),
        "12 listed: 12 valid, 0 modified, 0 deleted, 0 invalid; 1 not listed by any digest (0 inside a digest's period)"
    );
}

#[test]
fn s3_sources_are_rejected_with_one_line() {
    let r = Command::new(env!("CARGO_BIN_EXE_ctscan"))
        .args(["verify", "s3://bucket/prefix"])
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(2));
    assert_eq!(
        String::from_utf8(r.stderr).unwrap(),
        "ctscan: SOURCE s3://bucket/prefix: verify reads local mirrors; make one first with `ctscan mirror s3://bucket/prefix DIR`\n"
    );
    assert!(r.stdout.is_empty());
}

#[test]
fn six_hour_hole_is_reported_once_and_quiet_region_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let mut busy_hours = vec![Hour::Logs(2); 12];
    busy_hours[3..9].fill(Hour::Missing);
    let a = build(
        dir.path(),
        &TrailSpec {
            region: "us-east-1",
            trail: "t1",
            hours: busy_hours,
        },
    );
    build(
        dir.path(),
        &TrailSpec {
            region: "eu-west-1",
            trail: "t1",
            hours: vec![Hour::Quiet; 12],
        },
    );
    let out = tempfile::tempdir().unwrap();
    let r = verify(
        dir.path(),
        &[
            "--since",
            "2026-01-02T00:00:31Z",
            "--until",
            "2026-01-02T12:00:31Z",
            "--out",
            out.path().to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(
        line(&r, "coverage"),
        "2 regions, 1 gaps with no delivery evidence"
    );
    assert_eq!(line(&r, "chain"), "0 missing digests, 1 restarts");
    let gaps = csv_rows(&out.path().join("coverage_gaps.csv"));
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    let g = &gaps[0];
    assert_eq!(g["region"], "us-east-1");
    assert_eq!(g["start"], a[2].end.to_string());
    assert_eq!(g["end"], a[3].start.to_string());
    assert_eq!(
        (g["start"].as_str(), g["end"].as_str()),
        ("2026-01-02T03:00:31Z", "2026-01-02T09:00:31Z")
    );
    assert_eq!(g["length"], "6h 0m");
    assert_eq!(g["length_seconds"], "21600");
    assert_eq!(g["kind"], "hole");
    let coverage = csv_rows(&out.path().join("coverage.csv"));
    let quiet = coverage
        .iter()
        .find(|c| c["region"] == "eu-west-1")
        .unwrap();
    assert_eq!(
        (quiet["gaps"].as_str(), quiet["log_files"].as_str()),
        ("0", "0")
    );
    assert_eq!(quiet["no_activity_hours"], "13");
}

/// The expectation below was derived from the files themselves, not from
/// ctscan: `jq -c '.[] | select(.eventSource=="cloudtrail.amazonaws.com")
/// | {eventName,eventID,eventTime,arn:.userIdentity.arn}'` over every file,
/// after grepping all of them for each event name the tampering rules know
/// (StopLogging, DeleteTrail, UpdateTrail, PutEventSelectors,
/// PutInsightSelectors, *EventDataStore*, *BucketPolicy, *BucketLifecycle*,
/// DisableKey, ScheduleKeyDeletion): only three records match, one each in
/// the cloudtrail-delete, -event-selectors and -stop scenarios.
#[test]
fn stratus_red_team_tampering_events() {
    let data = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/data/stratus-red-team"
    );
    let out = tempfile::tempdir().unwrap();
    let r = Command::new(env!("CARGO_BIN_EXE_ctscan"))
        .args(["verify", data, "--out", out.path().to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8(r.stdout).unwrap();
    assert_eq!(r.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("nothing verified (no digests in the window)"));
    let rows = csv_rows(&out.path().join("tampering.csv"));
    let got: Vec<[&str; 5]> = rows
        .iter()
        .map(|r| {
            [
                r["event_time"].as_str(),
                r["event_name"].as_str(),
                r["severity"].as_str(),
                r["principal"].as_str(),
                r["event_id"].as_str(),
            ]
        })
        .collect();
    assert_eq!(
        got,
        vec![
            [
                "2024-07-31T12:46:41Z",
                "DeleteTrail",
                "critical",
                "arn:aws:iam::847129010505:user/christophe",
                "ee73c230-44bc-4492-8542-cfb189eae287"
            ],
            [
                "2024-07-31T12:50:02Z",
                "PutEventSelectors",
                "high",
                "arn:aws:iam::958312252124:user/christophe",
                "c2a89408-340a-42f0-8ace-75d9f5769393"
            ],
            [
                "2024-07-31T13:06:24Z",
                "StopLogging",
                "critical",
                "arn:aws:iam::143434273843:user/christophe",
                "10163ed2-2253-469d-a5ee-cbc6651f8934"
            ],
        ]
    );
    assert!(
        rows[1]["detail"].contains("readWriteType ReadOnly"),
        "{rows:?}"
    );
    assert!(rows[1]["detail"].contains("management events excluded"));
    assert!(stdout.contains("3 events (2 critical, 1 high)"), "{stdout}");
}
