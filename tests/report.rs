//! `ctscan report` end to end: exact counts on known data, accounting of every
//! file, the time window, and the files it writes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::util::*;

/// Runs `report` into a fresh `--out` and returns (exit, stdout, stderr, out dir).
fn report(sources: &[&Path], extra: &[&str]) -> (i32, String, String, TestDir) {
    let out = TestDir::new();
    let mut args: Vec<String> = sources.iter().map(|p| p.display().to_string()).collect();
    args.extend(["--out".to_string(), out.path().display().to_string()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, stdout, stderr) = outputs(&ctscan(&argv));
    (code, stdout, stderr, out)
}

/// One CSV report as key → row.
fn by_key(out: &Path, name: &str, key: &[&str]) -> BTreeMap<String, BTreeMap<String, String>> {
    Csv::read(&out.join(format!("{name}.csv")))
        .maps()
        .into_iter()
        .map(|m| {
            (
                key.iter()
                    .map(|k| m[*k].clone())
                    .collect::<Vec<_>>()
                    .join("|"),
                m,
            )
        })
        .collect()
}

fn cells<'a>(row: &'a BTreeMap<String, String>, cols: &[&str]) -> Vec<&'a str> {
    cols.iter().map(|c| row[*c].as_str()).collect()
}

// ---------------------------------------------------------------- sample-logs

/// One line of the generator's truth file.
#[derive(serde::Deserialize)]
struct Truth {
    time: i64,
    event_name: String,
    principal: String,
    principal_type: String,
    source_ip: String,
    secret: Option<String>,
    failed: bool,
}

fn truth() -> (serde_json::Value, Vec<Truth>) {
    let text =
        std::fs::read_to_string(root().join("tests/fixtures/sample-logs.truth.jsonl")).unwrap();
    let mut lines = text.lines();
    let head = serde_json::from_str(lines.next().unwrap()).unwrap();
    (
        head,
        lines.map(|l| serde_json::from_str(l).unwrap()).collect(),
    )
}

fn rfc3339(t: i64) -> String {
    jiff::Timestamp::from_second(t)
        .unwrap()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// Expected report rows computed from the generator's own record of what it wrote.
#[derive(Default)]
struct Expect {
    events: u64,
    reads: u64,
    batch: u64,
    failed: u64,
    first: i64,
    last: i64,
    secrets: BTreeSet<String>,
    principals: BTreeSet<String>,
    ips: BTreeSet<String>,
}

impl Expect {
    fn add(&mut self, t: &Truth) {
        if self.events == 0 || t.time < self.first {
            self.first = t.time;
        }
        self.last = self.last.max(t.time);
        self.events += 1;
        self.reads += u64::from(t.event_name == "GetSecretValue");
        self.batch += u64::from(t.event_name == "BatchGetSecretValue");
        self.failed += u64::from(t.failed);
        self.secrets.extend(t.secret.clone());
        self.principals.insert(t.principal.clone());
        self.ips.insert(t.source_ip.clone());
    }
}

fn expect_by(truth: &[Truth], key: impl Fn(&Truth) -> Option<String>) -> BTreeMap<String, Expect> {
    let mut m: BTreeMap<String, Expect> = BTreeMap::new();
    for t in truth {
        if let Some(k) = key(t) {
            m.entry(k).or_default().add(t);
        }
    }
    m
}

#[test]
fn sample_logs_match_the_generators_record_exactly() {
    let (head, truth) = truth();
    let (code, stdout, stderr, out) = report(&[&root().join("sample-logs")], &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("by_principal (top 10 of"), "{stdout}");
    let s = summary(out.path());
    assert_accounted(&s);
    assert_eq!(s["files"]["listed"], head["objects"]);
    assert_eq!(s["files"]["skipped"]["digest"], head["digests"]);
    assert_eq!(s["files"]["skipped"]["insight"], head["insights"]);
    assert_eq!(s["files"]["failed"], 0);
    assert_eq!(s["records"]["read"], head["records"]);
    assert_eq!(s["records"]["matched"], head["selected"]);
    assert_eq!(s["events"].as_u64().unwrap(), truth.len() as u64);

    let principals = by_key(out.path(), "by_principal", &["principal", "principal_type"]);
    let want = expect_by(&truth, |t| {
        Some(format!("{}|{}", t.principal, t.principal_type))
    });
    assert_eq!(principals.len(), want.len());
    for (k, e) in &want {
        let row = &principals[k];
        let got = cells(
            row,
            &[
                "events",
                "reads",
                "batch_calls",
                "failed",
                "secrets",
                "source_ips",
                "first_seen",
                "last_seen",
            ],
        );
        let expected = [
            e.events.to_string(),
            e.reads.to_string(),
            e.batch.to_string(),
            e.failed.to_string(),
            e.secrets.len().to_string(),
            e.ips.len().to_string(),
            rfc3339(e.first),
            rfc3339(e.last),
        ];
        assert_eq!(
            got,
            expected.iter().map(String::as_str).collect::<Vec<_>>(),
            "principal {k}"
        );
    }

    let hours = by_key(out.path(), "by_hour", &["hour"]);
    let want = expect_by(&truth, |t| Some(rfc3339(t.time - t.time.rem_euclid(3600))));
    assert_eq!(hours.len(), want.len());
    for (k, e) in &want {
        let got = cells(&hours[k], &["events", "failed", "principals"]);
        assert_eq!(
            got,
            [
                e.events.to_string(),
                e.failed.to_string(),
                e.principals.len().to_string()
            ],
            "hour {k}"
        );
    }

    let ips = by_key(out.path(), "by_source_ip", &["source_ip"]);
    let want = expect_by(&truth, |t| Some(t.source_ip.clone()));
    assert_eq!(ips.len(), want.len());
    for (k, e) in &want {
        let got = cells(
            &ips[k],
            &["events", "failed", "principals", "first_seen", "last_seen"],
        );
        let expected = [
            e.events.to_string(),
            e.failed.to_string(),
            e.principals.len().to_string(),
            rfc3339(e.first),
            rfc3339(e.last),
        ];
        assert_eq!(
            got,
            expected.iter().map(String::as_str).collect::<Vec<_>>(),
            "ip {k}"
        );
    }

    let secrets = by_key(out.path(), "by_secret", &["secret"]);
    let want = expect_by(&truth, |t| {
        (t.event_name == "GetSecretValue")
            .then(|| t.secret.clone())
            .flatten()
    });
    assert_eq!(secrets.len(), want.len());
    for (k, e) in &want {
        let got = cells(&secrets[k], &["events", "failed", "principals"]);
        assert_eq!(
            got,
            [
                e.events.to_string(),
                e.failed.to_string(),
                e.principals.len().to_string()
            ],
            "secret {k}"
        );
    }
}

#[test]
fn reports_are_sorted_by_events_then_key() {
    let (_, _, _, out) = report(&[&root().join("sample-logs")], &["-q"]);
    for (name, key) in [
        ("by_principal", "principal"),
        ("by_source_ip", "source_ip"),
        ("by_secret", "secret"),
    ] {
        let rows = Csv::read(&out.join(&format!("{name}.csv"))).maps();
        let order: Vec<(i64, String)> = rows
            .iter()
            .map(|r| (-r["events"].parse::<i64>().unwrap(), r[key].clone()))
            .collect();
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(order, sorted, "{name}");
    }
}

// ------------------------------------------------------------- shared datasets

#[test]
fn stratus_red_team_has_twenty_reads_and_five_batch_calls() {
    // Counted by hand with jq over the folder: 20 GetSecretValue records from
    // user/christophe in account 903144391865 (20 distinct secrets, one IP), and
    // 5 BatchGetSecretValue records with tag filters from account 165109126369.
    let (code, _, stderr, out) = report(&[&shared_data("stratus-red-team")], &[]);
    assert_eq!(code, 0, "{stderr}");
    let s = summary(out.path());
    assert_accounted(&s);
    assert_eq!(
        (
            s["files"]["listed"].as_u64(),
            s["files"]["scanned"].as_u64()
        ),
        (Some(35), Some(35))
    );
    assert_eq!(s["records"]["read"], 310);
    assert_eq!(s["records"]["matched"], 25);
    let p = by_key(out.path(), "by_principal", &["principal"]);
    assert_eq!(
        cells(
            &p["arn:aws:iam::903144391865:user/christophe"],
            &[
                "events",
                "reads",
                "batch_calls",
                "failed",
                "secrets",
                "source_ips"
            ]
        ),
        ["20", "20", "0", "0", "20", "1"]
    );
    assert_eq!(
        cells(
            &p["arn:aws:iam::165109126369:user/christophe"],
            &["events", "reads", "batch_calls", "secrets"]
        ),
        ["5", "0", "5", "0"]
    );
    let secrets = by_key(out.path(), "by_secret", &["secret"]);
    assert_eq!(secrets.len(), 20);
    assert_eq!(
        secrets["stratus-red-team-retrieve-secret-18"]["events"],
        "1"
    );
    let events = read_parquet(&out.join("events.parquet"));
    assert_eq!(events.rows, 25);
    let batch = events
        .values
        .iter()
        .filter(|r| r["event_name"].to_string().contains("BatchGetSecretValue"))
        .map(|r| r["batch_request"].to_string())
        .collect::<Vec<_>>();
    assert_eq!(batch.len(), 5);
    assert!(batch.iter().all(|b| b.contains("tag-key")), "{batch:?}");
}

#[test]
fn umccr_org_trail_is_read_whole() {
    // Five objects (plain and gzip, one with empty Records), 185 records; the only
    // Secrets Manager calls are ListSecrets and GetRandomPassword by user/Level6,
    // both AccessDenied.
    let dir = shared_data("umccr-orgtrail");
    let (code, _, stderr, out) = report(&[&dir], &[]);
    assert_eq!(code, 0, "{stderr}");
    let s = summary(out.path());
    assert_eq!(
        (
            s["files"]["scanned"].as_u64(),
            s["records"]["read"].as_u64(),
            s["records"]["matched"].as_u64()
        ),
        (Some(5), Some(185), Some(0))
    );
    let (code, _, _, out) = report(
        &[&dir],
        &[
            "--event",
            "secretsmanager:ListSecrets",
            "--event",
            "GetRandomPassword",
        ],
    );
    assert_eq!(code, 0);
    let p = by_key(out.path(), "by_principal", &["principal"]);
    assert_eq!(
        cells(
            &p["arn:aws:iam::811596193553:user/Level6"],
            &["events", "failed", "source_ips"]
        ),
        ["2", "2", "1"]
    );
}

#[test]
fn otrf_records_without_event_time_are_counted_not_dropped() {
    // 103 NDJSON records shipped through Logstash: @timestamp, no eventTime. The
    // folder also holds the dataset's YAML description, which is not a log.
    let dir = shared_data("otrf");
    let (code, _, _, out) = report(&[&dir], &[]);
    assert_eq!(code, 0);
    let s = summary(out.path());
    assert_eq!(s["files"]["skipped"]["not_json"], 1);
    assert_eq!(
        (
            s["records"]["read"].as_u64(),
            s["records"]["matched"].as_u64()
        ),
        (Some(103), Some(0))
    );
    let (code, _, stderr, out) = report(&[&dir], &["--all-events"]);
    assert_eq!(code, 0);
    let s = summary(out.path());
    assert_accounted(&s);
    assert_eq!(
        (
            s["records"]["no_event_time"].as_u64(),
            s["records"]["matched"].as_u64()
        ),
        (Some(103), Some(0))
    );
    // The first such file is named, with the count over every file.
    assert_eq!(
        stderr,
        format!(
            "ctscan: {}: the first file with a selected record that has no usable eventTime; \
             103 such records in all, counted as no_event_time\n",
            dir.join("ec2_proxy_s3_exfiltration.ndjson").display()
        )
    );
    assert_eq!(read_parquet(&out.join("events.parquet")).rows, 0);
}

// ----------------------------------------------------------------------- traps

#[test]
fn traps_are_not_counted_and_every_shape_is_read() {
    // Hand-checked: see tests/fixtures/traps. Selected with a usable time: the batch
    // call, its two children, the shuffled failed read, the \u0047-escaped name
    // (records.json); one read each from the pretty array, the NDJSON export and the
    // lookup-events output. Two reads have no usable eventTime. Not selected: the
    // IAM policy, the nested EventBridge eventName, kms GetSecretValue and
    // GetSecretValueExtra.
    let (code, _, stderr, out) = report(&[&root().join("tests/fixtures/traps")], &[]);
    assert_eq!(code, 0, "{stderr}");
    let s = summary(out.path());
    assert_accounted(&s);
    let r = &s["records"];
    assert_eq!(
        [
            &r["read"],
            &r["matched"],
            &r["no_event_time"],
            &r["not_matched"]
        ],
        [17, 8, 2, 7]
    );
    let p = by_key(out.path(), "by_principal", &["principal", "principal_type"]);
    let cols = [
        "events",
        "reads",
        "batch_calls",
        "failed",
        "secrets",
        "source_ips",
    ];
    assert_eq!(
        cells(&p["arn:aws:iam::111122223333:role/app|AssumedRole"], &cols),
        ["3", "2", "1", "0", "2", "1"]
    );
    assert_eq!(
        cells(&p["arn:aws:iam::111122223333:user/bob|IAMUser"], &cols),
        ["2", "2", "0", "1", "2", "1"]
    );
    assert_eq!(
        cells(&p["lambda.amazonaws.com|AWSService"], &cols),
        ["1", "1", "0", "0", "1", "1"]
    );
    assert_eq!(p.len(), 5);
    let secrets = Csv::read(&out.join("by_secret.csv")).maps();
    let got: Vec<(String, String, String)> = secrets
        .iter()
        .map(|r| {
            (
                r["secret"].clone(),
                r["events"].clone(),
                r["principals"].clone(),
            )
        })
        .collect();
    let want = [
        ("prod/a", "3", "3"),
        ("prod/b", "2", "2"),
        ("ci/token", "1", "1"),
        ("prod/c", "1", "1"),
    ];
    assert_eq!(
        got,
        want.map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    );
    let bob_escaped = Csv::read(&out.join("by_hour.csv")).maps();
    assert!(
        bob_escaped
            .iter()
            .any(|r| r["hour"] == "2026-03-01T10:00:00Z" && r["events"] == "4"),
        "{:?}",
        bob_escaped
            .iter()
            .map(|r| (&r["hour"], &r["events"]))
            .collect::<Vec<_>>()
    );
}

// ------------------------------------------------------------------ accounting

fn ct_record(id: &str, time: &str) -> String {
    format!(
        r#"{{"eventVersion":"1.09","eventTime":"{time}","eventSource":"secretsmanager.amazonaws.com","eventName":"GetSecretValue","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/u"}},"requestParameters":{{"secretId":"s"}},"sourceIPAddress":"198.51.100.1","eventID":"{id}"}}"#
    )
}

fn ct_file(records: &[String]) -> String {
    format!(r#"{{"Records":[{}]}}"#, records.join(","))
}

#[test]
fn every_listed_file_is_accounted_for_and_failures_are_named() {
    let t = TestDir::new();
    let day = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/01/10";
    t.write_gz(
        &format!("{day}/111122223333_CloudTrail_us-east-1_20260110T0100Z_good.json.gz"),
        &ct_file(&[ct_record("a", "2026-01-10T00:58:00Z")]),
    );
    let good = gzip(ct_file(&[ct_record("b", "2026-01-10T01:00:00Z")]).as_bytes());
    t.write(
        &format!("{day}/111122223333_CloudTrail_us-east-1_20260110T0105Z_trunc.json.gz"),
        &good[..good.len() / 2],
    );
    t.write(
        &format!("{day}/111122223333_CloudTrail_us-east-1_20260110T0110Z_notgz.json.gz"),
        b"\x00\x01binary junk",
    );
    t.write(
        &format!("{day}/111122223333_CloudTrail_us-east-1_20260110T0115Z_empty.json"),
        b"",
    );
    t.write_gz(&format!("{day}/111122223333_CloudTrail-Digest_us-east-1_trail_us-east-1_20260110T010000Z.json.gz"), r#"{"digestEndTime":"2026-01-10T01:00:00Z","logFiles":[]}"#);
    t.write_gz(
        &format!("{day}/renamed-digest.json.gz"),
        r#"{"awsAccountId":"1","digestEndTime":"2026-01-10T01:00:00Z","logFiles":[]}"#,
    );
    t.write(&format!("{day}/README.txt"), b"notes from the responder");
    let (code, _, stderr, out) = report(&[t.path()], &[]);
    assert_eq!(code, 2, "a failed input must exit 2: {stderr}");
    let s = summary(out.path());
    assert_accounted(&s);
    assert_eq!(s["files"]["listed"], 7);
    assert_eq!(s["files"]["scanned"], 1);
    assert_eq!(
        s["files"]["skipped"],
        serde_json::json!({"digest": 2, "not_json": 1})
    );
    assert_eq!(s["files"]["failed"], 3);
    assert_eq!(s["records"]["matched"], 1);
    for name in ["_trunc.json.gz", "_notgz.json.gz", "_empty.json"] {
        let line = stderr
            .lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("no message for {name}: {stderr}"));
        assert!(line.starts_with("ctscan: "), "{line}");
        assert!(s["failures"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["object"].as_str().unwrap().ends_with(name)));
    }
    assert!(
        stderr.contains("invalid gzip data")
            && stderr.contains("neither gzip nor JSON")
            && stderr.contains("empty file"),
        "{stderr}"
    );
    // The reports are still written.
    assert_eq!(Csv::read(&out.join("by_secret.csv")).rows.len(), 1);
}

#[test]
fn no_source_and_bad_options_fail_with_one_line_before_scanning() {
    let (code, stdout, stderr) = outputs(&ctscan(&[]));
    assert_eq!(code, 2);
    assert!(stdout.is_empty());
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("no SOURCE given") && stderr.contains("CTSCAN_SOURCE"),
        "{stderr}"
    );
    let (code, _, stderr) = outputs(&ctscan(&["/definitely/not/here"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("/definitely/not/here"), "{stderr}");
    let (code, _, stderr) = outputs(&ctscan(&[".", "--since", "sometime"]));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("--since") && stderr.contains("sometime"),
        "{stderr}"
    );
}

// ----------------------------------------------------------------- time window

#[test]
fn window_boundaries_are_exact_and_pruning_keeps_a_day_of_slack() {
    let t = TestDir::new();
    let base = "AWSLogs/111122223333/CloudTrail/eu-west-1";
    // Delivered on the 10th: one event on each side of midnight.
    t.write_gz(
        &format!("{base}/2026/01/10/111122223333_CloudTrail_eu-west-1_20260110T0005Z_a.json.gz"),
        &ct_file(&[
            ct_record("before", "2026-01-09T23:59:59Z"),
            ct_record("at", "2026-01-10T00:00:00Z"),
        ]),
    );
    // Delivered late, after the window's end, but holding an event inside it.
    t.write_gz(
        &format!("{base}/2026/01/11/111122223333_CloudTrail_eu-west-1_20260111T0310Z_b.json.gz"),
        &ct_file(&[ct_record("late", "2026-01-10T23:58:00Z")]),
    );
    // Far outside: pruned by name, never opened (its content is not even gzip).
    t.write(
        &format!("{base}/2026/01/20/111122223333_CloudTrail_eu-west-1_20260120T0000Z_c.json.gz"),
        b"never read",
    );
    t.write(
        &format!("{base}/2026/01/02/111122223333_CloudTrail_eu-west-1_20260102T0000Z_d.json.gz"),
        b"never read",
    );

    let ids = |out: &Path| -> Vec<String> {
        read_parquet(&out.join("events.parquet"))
            .values
            .iter()
            .map(|r| r["event_id"].to_string().trim_matches('"').to_string())
            .collect()
    };
    let (code, _, stderr, out) = report(
        &[t.path()],
        &["--since", "2026-01-10", "--until", "2026-01-11"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(ids(out.path()), ["at", "late"]);
    let s = summary(out.path());
    assert_accounted(&s);
    assert_eq!(
        (
            s["files"]["pruned"].as_u64(),
            s["files"]["scanned"].as_u64()
        ),
        (Some(2), Some(2))
    );
    assert_eq!(s["window"]["since"], "2026-01-10T00:00:00Z");

    let (_, _, _, out) = report(
        &[t.path()],
        &[
            "--since",
            "2026-01-09T12:00:00Z",
            "--until",
            "2026-01-10T00:00:00Z",
        ],
    );
    assert_eq!(ids(out.path()), ["before"]);
    let (_, _, _, out) = report(
        &[t.path()],
        &[
            "--since",
            "2026-01-10T23:58:00Z",
            "--until",
            "2026-01-10T23:58:01Z",
        ],
    );
    assert_eq!(ids(out.path()), ["late"]);
}

#[test]
fn since_as_a_duration_counts_back_from_now() {
    let t = TestDir::new();
    let now = jiff::Timestamp::now();
    let recent = (now - jiff::SignedDuration::from_hours(24 * 3))
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let old = (now - jiff::SignedDuration::from_hours(24 * 45))
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    t.write_gz(
        "dump/events.json.gz",
        &ct_file(&[ct_record("recent", &recent), ct_record("old", &old)]),
    );
    let (code, _, _, out) = report(&[t.path()], &["--since", "30d"]);
    assert_eq!(code, 0);
    assert_eq!(summary(out.path())["events"], 1);
    // `report` is the default command and $CTSCAN_SOURCE the default source.
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_ctscan"))
        .args(["--since", "30d", "--format", "json"])
        .env("CTSCAN_SOURCE", t.path())
        .output()
        .unwrap();
    let (code, stdout, _) = outputs(&o);
    assert_eq!(code, 0);
    let s: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        (s["records"]["read"].as_u64(), s["events"].as_u64()),
        (Some(2), Some(1))
    );
}

// --------------------------------------------------------------- output files

#[test]
fn parquet_files_read_back_with_an_independent_reader() {
    let (_, _, _, out) = report(&[&root().join("sample-logs")], &["-q"]);
    let mut seen = 0;
    for name in ["by_principal", "by_hour", "by_source_ip", "by_secret"] {
        let pq = read_parquet(&out.join(&format!("{name}.parquet")));
        let csv = Csv::read(&out.join(&format!("{name}.csv")));
        assert_eq!(pq.rows, csv.rows.len(), "{name}");
        let names: Vec<&str> = pq.columns.iter().map(|c| c.0.as_str()).collect();
        assert_eq!(
            names,
            csv.header.iter().map(String::as_str).collect::<Vec<_>>(),
            "{name}"
        );
        for (col, physical, logical) in &pq.columns {
            if ["first_seen", "last_seen", "hour"].contains(&col.as_str()) {
                assert_eq!(physical, "INT64");
                assert!(
                    logical.contains("Timestamp")
                        && logical.contains("is_adjusted_to_u_t_c: true")
                        && logical.contains("MICROS"),
                    "{col}: {logical}"
                );
                seen += 1;
            }
        }
    }
    assert_eq!(seen, 1 + 2 + 2 + 2);
    let events = read_parquet(&out.join("events.parquet"));
    let want = [
        "event_time",
        "event_source",
        "event_name",
        "principal",
        "principal_type",
        "account_id",
        "region",
        "source_ip",
        "user_agent",
        "secret",
        "error_code",
        "event_id",
        "request_id",
        "read_only",
        "object",
    ];
    let names: Vec<&str> = events.columns.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(&names[..want.len()], want);
    assert_eq!(
        events.rows as u64,
        summary(out.path())["events"].as_u64().unwrap()
    );
    assert!(events.columns[0].2.contains("is_adjusted_to_u_t_c: true"));
}

#[test]
fn hostile_log_text_is_neutralised_in_terminal_csv_and_html_but_kept_raw_in_parquet() {
    let t = TestDir::new();
    let ua = "\u{1b}]52;c;ZXZpbA==\u{7}=cmd|' /C calc'!A0<script>";
    let principal = "=HYPERLINK(\"http://x\")";
    let rec = |arn: &str, id: &str| {
        serde_json::json!({
            "eventTime": "2026-02-01T00:00:00Z", "eventSource": "secretsmanager.amazonaws.com", "eventName": "GetSecretValue",
            "userIdentity": {"type": "IAMUser", "arn": arn}, "userAgent": ua, "sourceIPAddress": "@evil",
            "requestParameters": {"secretId": "-2+3\u{1b}[31m"}, "eventID": id
        })
    };
    // The second principal is the user agent's payload itself.
    t.write(
        "hostile.json",
        serde_json::json!({"Records": [rec(principal, "x"), rec(ua, "y")]})
            .to_string()
            .as_bytes(),
    );
    let html = t.join("report.html");
    let (code, stdout, stderr, out) = report(&[t.path()], &["--html", html.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        !stdout.contains('\u{1b}') && !stdout.contains('\u{7}'),
        "raw escape reached the terminal"
    );
    assert!(
        stdout.contains("\\x1b[31m") && stdout.contains("\\x1b]52;c;ZXZpbA==\\x07"),
        "{stdout}"
    );
    let p = Csv::read(&out.join("by_principal.csv")).maps();
    assert!(
        p.iter().any(|r| r["principal"] == format!("'{principal}")),
        "{p:?}"
    );
    let s = Csv::read(&out.join("by_secret.csv")).maps();
    assert_eq!(s[0]["secret"], "'-2+3\u{1b}[31m");
    let ip = Csv::read(&out.join("by_source_ip.csv")).maps();
    assert_eq!(ip[0]["source_ip"], "'@evil");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        !page.contains('\u{1b}') && !page.contains('\u{7}'),
        "raw escape in the page"
    );
    assert!(
        !page.contains("<script"),
        "markup from the logs reached the page"
    );
    assert!(
        page.contains("\\x1b]52;c;ZXZpbA==\\x07=cmd|&#39;"),
        "payload not shown escaped"
    );
    assert!(page.contains("&lt;script&gt;"));
    assert!(page.contains("=HYPERLINK(&quot;http://x&quot;)"));
    let events = read_parquet(&out.join("events.parquet"));
    for row in &events.values {
        match &row["user_agent"] {
            parquet::record::Field::Str(s) => assert_eq!(s, ua),
            other => panic!("{other:?}"),
        }
    }
}

// ------------------------------------------------------------ events on disk

/// Matched events held in runs on disk (a run every 7 rows, merged at the
/// end) give byte-identical outputs to events held in memory, duplicates
/// dropped the same way.
#[test]
fn events_spilled_to_disk_give_the_same_outputs_as_events_in_memory() {
    let logs = TestDir::new();
    let mut copied = 0;
    for entry in walk(&root().join("sample-logs")) {
        let rel = entry.strip_prefix(root().join("sample-logs")).unwrap();
        let bytes = std::fs::read(&entry).unwrap();
        logs.write(rel.to_str().unwrap(), &bytes);
        // A second copy of some logs under other names: their events repeat.
        if copied < 3 && rel.to_str().unwrap().ends_with(".json.gz") {
            let name = rel.to_str().unwrap().replace(".json.gz", "_copy.json.gz");
            logs.write(&name, &bytes);
            copied += 1;
        }
    }
    let run = |spill: Option<&str>| {
        let out = TestDir::new();
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_ctscan"));
        command
            .args(["report", "-q", "--out"])
            .arg(out.path())
            .arg(logs.path())
            .env_remove("CTSCAN_SOURCE");
        if let Some(rows) = spill {
            command.env("CTSCAN_SPILL_ROWS", rows);
        }
        let status = command.status().unwrap();
        assert!(status.success(), "{status}");
        out
    };
    let memory = run(None);
    let disk = run(Some("7"));
    let (a, b) = (summary(memory.path()), summary(disk.path()));
    assert!(a["records"]["duplicates"].as_u64().unwrap() > 0);
    assert_eq!(a["records"], b["records"]);
    assert_eq!(a["events"], b["events"]);
    let mut files = 0;
    for entry in std::fs::read_dir(memory.path()).unwrap() {
        let name = entry.unwrap().file_name();
        if name == "summary.json" {
            continue;
        }
        let left = std::fs::read(memory.path().join(&name)).unwrap();
        let right = std::fs::read(disk.path().join(&name)).unwrap();
        assert!(left == right, "{name:?} differs");
        files += 1;
    }
    assert_eq!(files, 11);
    assert_eq!(
        read_parquet(&disk.path().join("events.parquet")).rows as u64,
        a["events"].as_u64().unwrap()
    );
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

// ----------------------------------------------------------------- interrupts

/// A mirror big enough that a run takes a while: 20,000 reads by 500 users.
fn big_mirror() -> TestDir {
    let t = TestDir::new();
    let records: Vec<String> = (0..20_000)
        .map(|i| {
            ct_record(&format!("id-{i}"), "2026-01-10T00:58:00Z")
                .replace("user/u", &format!("user/u{}", i % 500))
        })
        .collect();
    t.write_gz("big.json.gz", &ct_file(&records));
    t
}

/// How an interrupted run ended.
struct Interrupted {
    /// The exit code; `None` if a signal killed the process.
    code: Option<i32>,
    /// From the last Ctrl-C to the process's end.
    after_last_press: std::time::Duration,
    stderr: String,
}

/// Runs `report SOURCE --out OUT` with its temporary directory in `tmp`
/// (spilled runs go there), and sends SIGINT `presses` times, 2 ms apart,
/// `delay_ms` after the start.
fn interrupt_report(
    source: &Path,
    out: &Path,
    tmp: &Path,
    delay_ms: u64,
    presses: usize,
) -> Interrupted {
    use std::time::{Duration, Instant};
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_ctscan"));
    command
        .args([
            source.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "-q",
        ])
        .env_remove("CTSCAN_SOURCE")
        .env("TMPDIR", tmp)
        .env("CTSCAN_SPILL_ROWS", "1000")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    // A suite started in the background inherits an ignored SIGINT;
    // the run under test must take Ctrl-C as a terminal would deliver it.
    // SAFETY: only async-signal-safe `signal` runs between fork and exec.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut command, || {
            libc::signal(libc::SIGINT, libc::SIG_DFL);
            Ok(())
        });
    }
    let child = command.spawn().unwrap();
    std::thread::sleep(Duration::from_millis(delay_ms));
    let mut last = Instant::now();
    for press in 0..presses {
        if press > 0 {
            std::thread::sleep(Duration::from_millis(2));
        }
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
        last = Instant::now();
    }
    let output = child.wait_with_output().unwrap();
    Interrupted {
        code: output.status.code(),
        after_last_press: last.elapsed(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Temporary files (`.NAME.PID.tmp`, `.ctscan-PID-N.tmp`) left under `dir`.
fn leftover_temp_files(dir: &Path) -> Vec<String> {
    walk(dir)
        .iter()
        .map(|p| p.file_name().unwrap().to_str().unwrap().to_string())
        .filter(|n| n.starts_with('.') && n.ends_with(".tmp"))
        .collect()
}

/// Every output that exists under its final name is whole.
fn assert_outputs_whole(out: &Path) {
    for path in walk(out) {
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        match path.extension().and_then(|e| e.to_str()) {
            Some("parquet") if name == "events.parquet" => {
                assert_eq!(read_parquet(&path).rows, 20_000, "{name}")
            }
            // A cut Parquet file has no footer and does not open.
            Some("parquet") => _ = read_parquet(&path),
            Some("csv") => {
                let text = std::fs::read_to_string(&path).unwrap();
                assert!(text.ends_with('\n'), "{name}");
            }
            Some("json") => assert_eq!(summary(out)["events"], 20_000, "{name}"),
            _ => panic!("unexpected output {name}"),
        }
    }
}

/// What every interrupted run must leave: no temporary file beside the
/// outputs or in the temporary directory, and every output whole.
fn assert_clean_after_interrupt(out: &Path, tmp: &Path, delay_ms: u64) {
    let none: &[String] = &[];
    assert_eq!(leftover_temp_files(out), none, "after {delay_ms} ms");
    assert_eq!(leftover_temp_files(tmp), none, "after {delay_ms} ms");
    assert_outputs_whole(out);
}

/// Ctrl-C at any moment stops the run with status 130 (or lets a finished
/// run end with 0), leaves every output whole or absent, and leaves no
/// temporary file: neither `.NAME.PID.tmp` beside the outputs nor a
/// spilled run in the temporary directory.
#[test]
fn ctrl_c_at_any_moment_leaves_no_half_written_output() {
    let t = big_mirror();
    let mut interrupted = 0;
    let mut delay_ms = 20;
    loop {
        let (out, tmp) = (TestDir::new(), TestDir::new());
        let run = interrupt_report(t.path(), out.path(), tmp.path(), delay_ms, 1);
        assert_clean_after_interrupt(out.path(), tmp.path(), delay_ms);
        eprintln!(
            "after {delay_ms} ms: {:?}, {} outputs",
            run.code,
            walk(out.path()).len()
        );
        match run.code {
            Some(0) => break,
            None if walk(out.path()).is_empty() => {} // still starting up
            code => {
                assert_eq!(
                    (code, run.stderr.as_str()),
                    (Some(130), "ctscan: interrupted\n"),
                    "after {delay_ms} ms"
                );
                interrupted += 1;
            }
        }
        delay_ms = delay_ms * 4 / 3;
    }
    assert!(interrupted > 0, "no run was interrupted");
}

/// A second Ctrl-C ends the run at once, with status 130, and still leaves
/// no temporary file behind.
#[test]
fn a_second_ctrl_c_exits_at_once_and_leaves_no_temporary_file() {
    let t = big_mirror();
    let mut interrupted = 0;
    for delay_ms in [10, 40, 80, 160, 320, 480, 640] {
        let (out, tmp) = (TestDir::new(), TestDir::new());
        let run = interrupt_report(t.path(), out.path(), tmp.path(), delay_ms, 2);
        assert_clean_after_interrupt(out.path(), tmp.path(), delay_ms);
        match run.code {
            Some(0) => continue, // done before the first press
            // Still starting up: nothing was written, nothing to clean.
            None if walk(out.path()).is_empty() => continue,
            _ => {}
        }
        assert_eq!(run.code, Some(130), "after {delay_ms} ms: {}", run.stderr);
        assert!(
            run.stderr.ends_with("ctscan: interrupted\n"),
            "{}",
            run.stderr
        );
        assert!(
            // Well under the 3 s after which even one press gives up
            // waiting, so only the second press can explain it.
            run.after_last_press < std::time::Duration::from_millis(2500),
            "after {delay_ms} ms, took {:?}",
            run.after_last_press
        );
        interrupted += 1;
    }
    assert!(interrupted > 0, "no run was interrupted");
}

/// The progress bar's length, counted by a walk of its own before the scan,
/// is exactly the number of objects the scan then reads: digests, insights
/// and keys outside the window are left out of both.
#[test]
fn the_progress_bar_counts_exactly_the_objects_the_scan_reads() {
    use ctscan::read::record::Selection;
    use ctscan::scan::{logs_to_read, scan, LocalFetch, ScanContext};
    use ctscan::source::local::walk;
    use ctscan::window::TimeWindow;

    let mirror = root().join("sample-logs");
    let window = TimeWindow {
        since: Some("2026-01-02T12:00:00Z".parse().unwrap()),
        until: None,
    };
    let ctx = ScanContext::new(Selection::default(), window, 1 << 30);
    let files = scan(walk(&mirror), &ctx, &LocalFetch).stats.files;
    let read = files.scanned
        + files.failed
        + files
            .skipped
            .iter()
            .filter(|(reason, _)| !["digest", "insight"].contains(&reason.as_str()))
            .map(|(_, n)| n)
            .sum::<u64>();
    assert!(files.pruned > 0 && files.skipped["digest"] > 0, "{files:?}");
    assert_eq!(logs_to_read(walk(&mirror), &ctx), read);
}
