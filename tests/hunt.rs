//! `ctscan hunt`: per-rule matches against an independent Sigma
//! implementation (pySigma's SQLite backend, `tests/fixtures/sigma/oracle/`),
//! allowlists, unsupported rules and record accounting, on the real binary.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::util::{assert_accounted, ctscan, outputs, root, shared_data, summary, Csv, TestDir};

/// Rule id → record positions (across the files, in the order given).
type Matches = BTreeMap<String, BTreeSet<usize>>;

fn oracle_dir() -> PathBuf {
    root().join("tests/fixtures/sigma/oracle")
}

fn rules_dir() -> PathBuf {
    root().join("rules/sigma-cloudtrail/rules")
}

fn require_pysigma() {
    let probe = Command::new("python3")
        .args(["-c", "import sigma.backends.sqlite, sigma.collection, yaml"])
        .output();
    assert!(
        probe.is_ok_and(|o| o.status.success()),
        "the oracle needs pySigma: scripts/install-test-deps.sh installs pysigma pysigma-backend-sqlite"
    );
}

/// The oracle's matches, and the pairs it cannot decide (left uncompared).
fn oracle(files: &[PathBuf]) -> (Matches, Matches) {
    require_pysigma();
    let tmp = TestDir::new();
    let undecidable = tmp.join("undecidable.json");
    let out = Command::new("python3")
        .arg(oracle_dir().join("sigma_oracle.py"))
        .arg(rules_dir())
        .args(files)
        .arg("--undecidable")
        .arg(&undecidable)
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let parse = |b: &[u8]| -> Matches { serde_json::from_slice(b).expect("oracle JSON") };
    (
        parse(&out.stdout),
        parse(&std::fs::read(undecidable).unwrap()),
    )
}

/// Records in a file of any shape the samples come in (for positions).
fn record_count(path: &Path) -> usize {
    let raw = std::fs::read(path).unwrap();
    let mut text = String::new();
    if path.to_string_lossy().ends_with(".gz") {
        flate2::read::GzDecoder::new(raw.as_slice())
            .read_to_string(&mut text)
            .unwrap();
    } else {
        text = String::from_utf8(raw).unwrap();
    }
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Array(items)) => items.len(),
        Ok(Value::Object(o)) if o.contains_key("Records") => {
            o["Records"].as_array().map_or(0, Vec::len)
        }
        Ok(_) => 1,
        Err(_) => text.lines().filter(|l| !l.trim().is_empty()).count(),
    }
}

/// `ctscan hunt --format jsonl` over `files`, as rule id → positions.
fn hunt(files: &[PathBuf]) -> Matches {
    let mut offset = BTreeMap::new();
    let mut at = 0;
    for f in files {
        offset.insert(f.to_string_lossy().into_owned(), at);
        at += record_count(f);
    }
    let mut args = vec!["hunt", "--format", "jsonl", "--keep-duplicates", "-q"];
    let names: Vec<String> = files
        .iter()
        .map(|f| f.to_string_lossy().into_owned())
        .collect();
    args.extend(names.iter().map(String::as_str));
    let (code, stdout, stderr) = outputs(&ctscan(&args));
    assert_eq!(code, 0, "{stderr}");
    let mut got = Matches::new();
    for line in stdout.lines() {
        let row: Value = serde_json::from_str(line).unwrap();
        let object = row["object"].as_str().unwrap();
        let index = row["record_index"].as_u64().unwrap() as usize;
        let id = row["rule_id"].as_str().unwrap().to_string();
        assert!(
            row["author"].as_str().is_some_and(|a| !a.is_empty()),
            "{line}"
        );
        got.entry(id).or_default().insert(offset[object] + index);
    }
    got
}

/// Compares per rule, leaving out the pairs the oracle cannot decide.
fn assert_agrees(name: &str, files: &[PathBuf]) -> usize {
    let (expected, undecidable) = oracle(files);
    assert_eq!(expected.len(), 57, "{name}: oracle rule count");
    let got = hunt(files);
    let mut disagree = Vec::new();
    let mut total = 0;
    for (id, want) in &expected {
        let skip = undecidable.get(id).cloned().unwrap_or_default();
        let have = got.get(id).cloned().unwrap_or_default();
        total += have.len();
        let diff: Vec<_> = have
            .symmetric_difference(want)
            .filter(|n| !skip.contains(n))
            .collect();
        if !diff.is_empty() {
            disagree.push(format!("{id}: hunt {have:?}, pySigma {want:?}"));
        }
    }
    assert!(got.keys().all(|id| expected.contains_key(id)));
    assert!(disagree.is_empty(), "{name}:\n{}", disagree.join("\n"));
    total
}

fn files_under(dir: &Path, suffixes: &[&str]) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .filter(|p| suffixes.iter().any(|s| p.to_string_lossy().ends_with(s)))
        .collect();
    out.sort();
    out
}

#[test]
fn hunt_agrees_with_pysigma_on_stratus_red_team() {
    let files = files_under(&shared_data("stratus-red-team"), &[".json"]);
    assert!(assert_agrees("stratus-red-team", &files) > 50);
}

#[test]
fn hunt_agrees_with_pysigma_on_umccr_orgtrail() {
    let files = files_under(&shared_data("umccr-orgtrail"), &[".json", ".json.gz"]);
    assert_agrees("umccr-orgtrail", &files);
}

/// OTRF's records have no eventTime (hunt counts them apart); the rules do
/// not read it, so the same records with `@timestamp` copied into
/// `eventTime` are compared.
#[test]
fn hunt_agrees_with_pysigma_on_otrf_given_event_times() {
    let tmp = TestDir::new();
    let source = shared_data("otrf").join("ec2_proxy_s3_exfiltration.ndjson");
    let mut text = String::new();
    for line in std::fs::read_to_string(&source).unwrap().lines() {
        let mut record: Value = serde_json::from_str(line).unwrap();
        record["eventTime"] = record["@timestamp"].clone();
        text.push_str(&format!("{record}\n"));
    }
    let file = tmp.join("otrf.ndjson");
    std::fs::write(&file, text).unwrap();
    assert!(assert_agrees("otrf", &[file]) > 0);
}

#[test]
fn hunt_agrees_with_pysigma_on_generated_positives_and_near_misses() {
    let file = root().join("tests/fixtures/sigma/generated.ndjson");
    let got = hunt(std::slice::from_ref(&file));
    assert_agrees("generated", std::slice::from_ref(&file));
    // Every rule has a positive fixture, and it fires.
    let mut fired = BTreeSet::new();
    for (n, line) in std::fs::read_to_string(&file).unwrap().lines().enumerate() {
        let record: Value = serde_json::from_str(line).unwrap();
        if record["_fixture"]["case"] == "positive" {
            let id = record["_fixture"]["rule"].as_str().unwrap();
            assert!(
                got.get(id).is_some_and(|m| m.contains(&n)),
                "{id}: positive {n} missed"
            );
            fired.insert(id.to_string());
        }
    }
    assert_eq!(fired.len(), 57);
}

/// The oracle agrees with the specification on hand-written cases (its own
/// known deviations are listed in check_oracle.py).
#[test]
fn sigma_oracle_agrees_with_the_specification() {
    require_pysigma();
    let out = Command::new("python3")
        .arg(oracle_dir().join("check_oracle.py"))
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

const LOGIN: &str = r#"{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/@PRINCIPAL@","accountId":"111122223333"},"eventTime":"@TIME@","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","sourceIPAddress":"@IP@","userAgent":"Mozilla/5.0","responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"MFAUsed":"No"},"eventID":"@ID@","recipientAccountId":"111122223333"}"#;

fn login(principal: &str, ip: &str, time: &str, id: &str) -> String {
    LOGIN
        .replace("@PRINCIPAL@", principal)
        .replace("@IP@", ip)
        .replace("@TIME@", time)
        .replace("@ID@", id)
}

fn write_logins(dir: &TestDir, records: &[String]) {
    let text = format!("{{\"Records\":[{}]}}", records.join(","));
    dir.write_gz("logs/a.json.gz", &text);
}

#[test]
fn allowlisted_matches_are_suppressed_counted_written_and_expired_entries_warn() {
    let dir = TestDir::new();
    write_logins(
        &dir,
        &[
            login("breakglass", "198.51.100.1", "2026-01-01T10:00:00Z", "e1"),
            login("alice", "203.0.113.9", "2026-01-01T11:00:00Z", "e2"),
            login("bob", "192.0.2.1", "2026-01-01T12:00:00Z", "e3"),
            login("carol", "192.0.2.2", "2026-01-01T13:00:00Z", "e4"),
        ],
    );
    let allow = dir.write(
        "allow.yml",
        b"allow:\n  - name: break-glass\n    principals: ['arn:aws:iam::*:user/BreakGlass']\n  - name: office\n    source_ips: ['203.0.113.0/24']\n    rule: 77caf516-34e5-4df9-b4db-20744fea0a60\n  - name: old scanner\n    principals: ['*carol']\n    expires: 2020-01-01\n",
    );
    let out = dir.join("out");
    let (code, stdout, stderr) = outputs(&ctscan(&[
        "hunt",
        dir.join("logs").to_str().unwrap(),
        "--allow",
        allow.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("allowlist entry 'old scanner' expired on 2020-01-01"),
        "{stderr}"
    );
    assert!(
        stdout.contains("allowlist 'break-glass': 1 suppressed"),
        "{stdout}"
    );
    assert!(
        stdout.contains("allowlist 'office': 1 suppressed"),
        "{stdout}"
    );
    let suppressed = Csv::read(&out.join("suppressed.csv")).maps();
    let entries: Vec<_> = suppressed
        .iter()
        .map(|r| r["allow_entry"].as_str())
        .collect();
    assert_eq!(entries, ["break-glass", "office"]);
    let findings = Csv::read(&out.join("hunt_findings.csv")).maps();
    let ids: Vec<_> = findings.iter().map(|r| r["event_id"].as_str()).collect();
    assert_eq!(ids, ["e3", "e4"]);
    assert!(findings
        .iter()
        .all(|r| r["author"] == "Thuya@Hacktilizer, Ivan Saakov"));
    assert_eq!(
        crate::util::read_parquet(&out.join("hunt_findings.parquet")).rows,
        2
    );
    let s = summary(&out);
    assert_accounted(&s);
    assert_eq!(s["records"]["matched"], 4);
    let counts: Vec<_> = s["allowlist"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["suppressed"].clone())
        .collect();
    assert_eq!(counts, [1, 1, 0]);
    let rules = Csv::read(&out.join("hunt_rules.csv")).maps();
    let mfa = rules
        .iter()
        .find(|r| r["rule_id"] == "77caf516-34e5-4df9-b4db-20744fea0a60")
        .unwrap();
    assert_eq!(
        (
            mfa["matches"].as_str(),
            mfa["suppressed"].as_str(),
            mfa["principals"].as_str()
        ),
        ("2", "2", "2")
    );
}

#[test]
fn an_unsupported_rule_is_named_and_the_others_still_run_unless_strict() {
    let dir = TestDir::new();
    write_logins(
        &dir,
        &[login("bob", "192.0.2.1", "2026-01-01T12:00:00Z", "e3")],
    );
    let rules = dir.join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::copy(
        rules_dir().join("aws_cloudtrail_console_login_success_without_mfa.yml"),
        rules.join("good.yml"),
    )
    .unwrap();
    std::fs::write(
        rules.join("odd.yml"),
        "title: odd\nid: x\nlogsource:\n  product: aws\n  service: cloudtrail\ndetection:\n  sel:\n    userAgent|base64offset|contains: abc\n  condition: sel\n",
    )
    .unwrap();
    let logs = dir.join("logs");
    let run = |strict: bool| {
        let mut args = vec![
            "hunt",
            logs.to_str().unwrap(),
            "--sigma",
            rules.to_str().unwrap(),
            "--format",
            "jsonl",
        ];
        if strict {
            args.push("--strict");
        }
        outputs(&ctscan(&args))
    };
    let (code, stdout, stderr) = run(false);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("odd.yml: unsupported feature: modifier 'base64offset'"),
        "{stderr}"
    );
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    let (code, stdout, stderr) = run(true);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("--strict") && stderr.contains("odd.yml"),
        "{stderr}"
    );
    assert!(stdout.is_empty());
}

#[test]
fn a_redelivered_event_counts_once_and_every_record_is_accounted_for() {
    let dir = TestDir::new();
    let same = login("bob", "192.0.2.1", "2026-01-01T12:00:00Z", "e3");
    let mut no_time = login("eve", "192.0.2.1", "x", "e9");
    no_time = no_time.replace("\"eventTime\":\"x\",", "");
    write_logins(
        &dir,
        &[
            same.clone(),
            no_time,
            r#"{"eventName":"Other","eventTime":"2026-01-01T00:00:00Z"}"#.into(),
        ],
    );
    dir.write_gz("logs/b.json.gz", &format!("{{\"Records\":[{same}]}}"));
    let out = dir.join("out");
    let logs = dir.join("logs");
    let (code, _, stderr) = outputs(&ctscan(&[
        "hunt",
        logs.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let s = summary(&out);
    assert_accounted(&s);
    let r = &s["records"];
    assert_eq!(
        (
            r["read"].as_u64(),
            r["matched"].as_u64(),
            r["duplicates"].as_u64(),
            r["no_event_time"].as_u64()
        ),
        (Some(4), Some(2), Some(1), Some(1))
    );
    assert_eq!(Csv::read(&out.join("hunt_findings.csv")).rows.len(), 1);
    let (_, stdout, _) = outputs(&ctscan(&[
        "hunt",
        logs.to_str().unwrap(),
        "--keep-duplicates",
        "--format",
        "jsonl",
        "-q",
    ]));
    assert_eq!(stdout.lines().count(), 2);
}

/// The text of `DIR/NAME`.
fn file(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name))
        .unwrap_or_else(|e| panic!("{}: {e}", dir.join(name).display()))
}

#[test]
fn report_with_sigma_finds_what_hunt_finds_and_leaves_the_report_as_it_was() {
    let logs = shared_data("stratus-red-team");
    let logs = logs.to_str().unwrap();
    let (with, plain, hunted) = (TestDir::new(), TestDir::new(), TestDir::new());
    let run = |args: &[&str]| {
        let (code, stdout, stderr) = outputs(&ctscan(args));
        assert_eq!(code, 0, "{args:?}: {stderr}");
        stdout
    };
    let stdout = run(&[
        "report",
        logs,
        "--rules",
        "cis",
        "--sigma",
        "bundled",
        "--out",
        with.path().to_str().unwrap(),
    ]);
    run(&[
        "report",
        logs,
        "--rules",
        "cis",
        "--out",
        plain.path().to_str().unwrap(),
        "-q",
    ]);
    run(&["hunt", logs, "--out", hunted.path().to_str().unwrap(), "-q"]);

    // The report's own tables and the alarms are untouched by --sigma.
    for name in [
        "by_principal.csv",
        "by_hour.csv",
        "by_source_ip.csv",
        "by_secret.csv",
    ] {
        assert_eq!(file(with.path(), name), file(plain.path(), name), "{name}");
    }
    for name in ["findings.csv", "rules.csv", "state_history.csv"] {
        assert_eq!(file(with.path(), name), file(plain.path(), name), "{name}");
    }
    // The Sigma side equals a hunt over the same logs, row for row.
    for name in ["hunt_findings.csv", "suppressed.csv"] {
        assert_eq!(file(with.path(), name), file(hunted.path(), name), "{name}");
    }
    assert_eq!(
        file(with.path(), "hunt_rules.csv"),
        file(hunted.path(), "hunt_rules.csv")
    );
    let rules = Csv::read(&with.join("hunt_rules.csv"));
    assert_eq!(
        rules.rows.len(),
        57,
        "every rule has a row, as in hunt --out"
    );
    let findings = Csv::read(&with.join("hunt_findings.csv")).rows.len();
    assert!(findings > 0, "the detonations must match some rule");
    let s = summary(with.path());
    assert_accounted(&s);
    assert_eq!(s["sigma"]["findings"], findings);
    assert_eq!(s["sigma"]["rules_loaded"], 57);
    let per_rule: Vec<u64> = rules
        .maps()
        .iter()
        .map(|r| r["matches"].parse::<u64>().unwrap())
        .collect();
    let matched = per_rule.iter().filter(|&&n| n > 0).count();
    assert_eq!(s["sigma"]["rules_matched"], matched);
    let summed: u64 = per_rule.iter().sum();
    assert_eq!(
        summed, findings as u64,
        "per-rule matches sum to the findings"
    );
    assert!(stdout.contains("hunt_rules"), "{stdout}");
}

#[test]
fn report_with_sigma_applies_the_allowlist_as_hunt_does() {
    let dir = TestDir::new();
    write_logins(
        &dir,
        &[
            login("breakglass", "198.51.100.1", "2026-01-01T10:00:00Z", "e1"),
            login("alice", "203.0.113.9", "2026-01-01T11:00:00Z", "e2"),
            login("bob", "192.0.2.1", "2026-01-01T12:00:00Z", "e3"),
        ],
    );
    let allow = dir.write(
        "allow.yml",
        b"allow:\n  - name: break-glass\n    principals: ['arn:aws:iam::*:user/BreakGlass']\n",
    );
    let (logs, allow) = (dir.join("logs"), allow.to_str().unwrap().to_string());
    let (report_out, hunt_out) = (dir.join("report"), dir.join("hunt"));
    let (code, _, stderr) = outputs(&ctscan(&[
        "report",
        logs.to_str().unwrap(),
        "--sigma",
        "bundled",
        "--allow",
        &allow,
        "--out",
        report_out.to_str().unwrap(),
        "-q",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = outputs(&ctscan(&[
        "hunt",
        logs.to_str().unwrap(),
        "--allow",
        &allow,
        "--out",
        hunt_out.to_str().unwrap(),
        "-q",
    ]));
    assert_eq!(code, 0, "{stderr}");
    for name in ["hunt_findings.csv", "suppressed.csv", "hunt_rules.csv"] {
        assert_eq!(file(&report_out, name), file(&hunt_out, name), "{name}");
    }
    let suppressed = Csv::read(&report_out.join("suppressed.csv")).maps();
    let ids: Vec<_> = suppressed.iter().map(|r| r["event_id"].as_str()).collect();
    assert_eq!(ids, ["e1"]);
    let s = summary(&report_out);
    assert_eq!(s["sigma"]["suppressed"], 1);
    assert_eq!(s["sigma"]["findings"], 2);
}

#[test]
fn report_allow_silences_findings_rows_and_writes_them_apart() {
    let dir = TestDir::new();
    let logs = root().join("sample-logs");
    let logs = logs.to_str().unwrap();
    let allow = dir.write(
        "allow.yml",
        b"allow:\n  - name: breakglass\n    principals: ['*:role/admin-breakglass']\n  - name: etl new addresses\n    principals: ['*:role/batch-etl']\n    rule: new-source-ip\n  - name: everyone, once\n    principals: ['*']\n    expires: 2020-01-01\n",
    );
    let (plain, allowed) = (dir.join("plain"), dir.join("allowed"));
    let (code, _, stderr) = outputs(&ctscan(&[
        logs,
        "--baseline",
        "1d",
        "--out",
        plain.to_str().unwrap(),
        "-q",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = outputs(&ctscan(&[
        logs,
        "--baseline",
        "1d",
        "--allow",
        allow.to_str().unwrap(),
        "--out",
        allowed.to_str().unwrap(),
        "-q",
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("allowlist entry 'everyone, once' expired on 2020-01-01"),
        "{stderr}"
    );

    // What each entry should silence, judged from the plain run's rows.
    let everything = Csv::read(&plain.join("findings.csv"));
    let entry_of = |row: &BTreeMap<String, String>| {
        let principal = row["principal"].as_str();
        if principal.ends_with(":role/admin-breakglass") {
            Some("breakglass")
        } else if principal.ends_with(":role/batch-etl") && row["rule"] == "new-source-ip" {
            Some("etl new addresses")
        } else {
            None
        }
    };
    let rows = everything.maps();
    let kept: Vec<_> = rows.iter().filter(|r| entry_of(r).is_none()).collect();
    let silenced: Vec<_> = rows.iter().filter(|r| entry_of(r).is_some()).collect();
    assert!(!kept.is_empty() && !silenced.is_empty());
    let findings = Csv::read(&allowed.join("findings.csv")).maps();
    assert_eq!(findings.iter().collect::<Vec<_>>(), kept);
    let suppressed = Csv::read(&allowed.join("findings_suppressed.csv")).maps();
    assert_eq!(suppressed.len(), silenced.len());
    for (got, want) in suppressed.iter().zip(&silenced) {
        assert_eq!(got["event_id"], want["event_id"]);
        assert_eq!(got["rule"], want["rule"]);
        assert_eq!(Some(got["allow_entry"].as_str()), entry_of(want));
    }
    // The report's own tables do not change.
    for name in [
        "by_principal.csv",
        "by_secret.csv",
        "by_source_ip.csv",
        "by_hour.csv",
    ] {
        assert_eq!(file(&plain, name), file(&allowed, name), "{name}");
    }
    let s = summary(&allowed);
    let counts: Vec<(String, u64, bool)> = s["allowlist"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap().to_string(),
                e["findings"].as_u64().unwrap(),
                e["expired"].as_bool().unwrap(),
            )
        })
        .collect();
    let count = |name: &str| {
        silenced
            .iter()
            .filter(|r| entry_of(r) == Some(name))
            .count() as u64
    };
    assert_eq!(
        counts,
        [
            ("breakglass".to_string(), count("breakglass"), false),
            (
                "etl new addresses".to_string(),
                count("etl new addresses"),
                false
            ),
            ("everyone, once".to_string(), 0, true),
        ]
    );
}
