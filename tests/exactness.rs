//! Exact on the logs people actually have: exported timestamps, records that
//! name no secret or no principal, loose types, re-delivered events, shared
//! log buckets, hostile sizes, and the accounting identities on every public
//! data set.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{json, Value};

use crate::util::*;

const DAY: &str = "AWSLogs/111122223333/CloudTrail/us-east-1/2024/10/17";

/// A `GetSecretValue` record with `extra` fields merged over the defaults.
fn read(id: &str, time: Option<&str>, extra: Value) -> Value {
    let mut r = json!({
        "eventVersion": "1.08",
        "eventSource": "secretsmanager.amazonaws.com",
        "eventName": "GetSecretValue",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.7",
        "userAgent": "aws-cli/2",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/ann", "accountId": "111122223333"},
        "requestParameters": {"secretId": "prod/db"},
        "eventID": id,
        "readOnly": true,
    });
    if let Some(t) = time {
        r["eventTime"] = json!(t);
    }
    for (k, v) in extra.as_object().unwrap() {
        r[k] = v.clone();
    }
    r
}

fn log_file(t: &TestDir, name: &str, records: &[Value]) {
    let body = json!({ "Records": records }).to_string();
    t.write_gz(
        &format!("{DAY}/111122223333_CloudTrail_us-east-1_{name}.json.gz"),
        &body,
    );
}

fn run_ok(args: &[&str]) -> (String, String) {
    let (code, out, err) = outputs(&ctscan(args));
    assert_eq!(code, 0, "ctscan {args:?}\nstdout:\n{out}\nstderr:\n{err}");
    (out, err)
}

fn report_out(src: &Path, extra: &[&str]) -> (tempfile::TempDir, Value) {
    let out = tempfile::tempdir().unwrap();
    let mut args = vec![
        "report",
        src.to_str().unwrap(),
        "--out",
        out.path().to_str().unwrap(),
        "-q",
    ];
    args.extend_from_slice(extra);
    let (code, stdout, err) = outputs(&ctscan(&args));
    assert!(code == 0 || code == 2, "exit {code}\n{stdout}\n{err}");
    let s = summary(out.path());
    assert_accounted(&s);
    (out, s)
}

fn rows(out: &Path, table: &str) -> Vec<BTreeMap<String, String>> {
    Csv::read(&out.join(format!("{table}.csv"))).maps()
}

#[test]
fn exported_event_times_are_read_and_unusable_ones_counted_by_reason() {
    let t = TestDir::new();
    log_file(
        &t,
        "20241017T2200Z_times",
        &[
            read("e1", Some("2024-10-17 21:48:45.000000000"), json!({})),
            read("e2", Some("2024-10-17T21:49:00"), json!({})),
            read("e3", Some("2024-10-17 23:50:00+02:00"), json!({})),
            read("e4", Some("17/10/2024 21:48:45"), json!({})),
            read("e5", Some("2024-10-17"), json!({})),
            read("e6", None, json!({})),
        ],
    );
    let (out, s) = report_out(t.path(), &[]);
    let r = &s["records"];
    assert_eq!(
        (r["read"].as_u64(), r["matched"].as_u64()),
        (Some(6), Some(3))
    );
    assert_eq!(r["no_event_time"], json!(3));
    assert_eq!(
        r["no_event_time_reasons"],
        json!({"missing": 1, "unparseable": 2})
    );
    let p = rows(out.path(), "by_principal");
    assert_eq!(p[0]["first_seen"], "2024-10-17T21:48:45Z");
    assert_eq!(p[0]["last_seen"], "2024-10-17T21:50:00Z");
}

#[test]
fn fractional_seconds_survive_in_the_window_and_first_last_seen() {
    let t = TestDir::new();
    log_file(
        &t,
        "20241017T2200Z_frac",
        &[
            read("f1", Some("2024-10-17T21:48:45.25Z"), json!({})),
            read("f2", Some("2024-10-17T21:48:46.125Z"), json!({})),
        ],
    );
    let (out, s) = report_out(
        t.path(),
        &[
            "--since",
            "2024-10-17T21:48:45.2Z",
            "--until",
            "2024-10-17T21:48:46.5Z",
        ],
    );
    assert_eq!(
        s["window"],
        json!({"since": "2024-10-17T21:48:45.2Z", "until": "2024-10-17T21:48:46.5Z"})
    );
    let p = rows(out.path(), "by_principal");
    assert_eq!(p[0]["first_seen"], "2024-10-17T21:48:45.25Z");
    assert_eq!(p[0]["last_seen"], "2024-10-17T21:48:46.125Z");
}

#[test]
fn events_and_alarm_account_for_every_record_they_read() {
    let t = TestDir::new();
    log_file(
        &t,
        "20241017T2200Z_acct",
        &[
            read("a1", Some("2024-10-17T21:00:00Z"), json!({})),
            read("a2", Some("not a time"), json!({})),
            read("a3", None, json!({})),
            read(
                "a4",
                Some("2024-10-17T21:01:00Z"),
                json!({"eventName": "ListSecrets"}),
            ),
        ],
    );
    log_file(
        &t,
        "20241017T2205Z_again",
        &[read("a1", Some("2024-10-17T21:00:00Z"), json!({}))],
    );
    let src = t.path().to_str().unwrap();
    let pattern = "{ $.eventName = GetSecretValue }";
    let expected = "records: 5 read: 2 matched (1 of them duplicate eventIDs, counted once), \
                    1 not matched, 2 without a usable eventTime (1 missing, 1 unparseable)";
    let (out, err) = run_ok(&["events", src, "--pattern", pattern, "--format", "jsonl"]);
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(err.contains(expected), "{err}");
    assert!(
        err.contains("2 matching record(s) have no usable eventTime (1 missing, 1 unparseable)"),
        "{err}"
    );
    let dir = tempfile::tempdir().unwrap();
    let (out, err) = run_ok(&[
        "alarm",
        src,
        "--pattern",
        pattern,
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert!(out.contains(expected), "{out}");
    assert!(
        err.contains("1 record(s) repeat an eventID already seen"),
        "{err}"
    );
    assert!(out.contains("1 events matched"), "{out}");
    let s = summary(dir.path());
    assert_eq!(
        s["records"],
        json!({"read": 5, "matched": 2, "not_matched": 1, "no_event_time": 2,
               "no_event_time_reasons": {"missing": 1, "unparseable": 1}, "duplicates": 1})
    );
}

#[test]
fn duplicates_are_counted_once_everywhere_unless_kept() {
    let t = TestDir::new();
    let r = read("dup-1", Some("2024-10-17T21:00:00Z"), json!({}));
    log_file(
        &t,
        "20241017T2200Z_first",
        &[
            r.clone(),
            read("other", Some("2024-10-17T21:02:00Z"), json!({})),
        ],
    );
    log_file(&t, "20241017T2300Z_redelivered", std::slice::from_ref(&r));
    let src = t.path().to_str().unwrap();
    let ids = |out: &str| out.lines().filter(|l| l.contains("\"dup-1\"")).count();
    let (out, _) = run_ok(&["events", src, "--format", "jsonl"]);
    assert_eq!((out.lines().count(), ids(&out)), (2, 1));
    let (out, err) = run_ok(&["events", src, "--format", "jsonl", "--keep-duplicates"]);
    assert_eq!((out.lines().count(), ids(&out)), (3, 2));
    assert!(!err.contains("counted once (--keep"), "{err}");
    let (_, s) = report_out(t.path(), &[]);
    assert_eq!(
        (
            s["records"]["matched"].as_u64(),
            s["records"]["duplicates"].as_u64()
        ),
        (Some(3), Some(1))
    );
    let (out, _) = report_out(t.path(), &["--keep-duplicates"]);
    let p = rows(out.path(), "by_principal");
    assert_eq!(p[0]["events"], "3");
    let (out, _) = run_ok(&["alarm", src, "--pattern", "{ $.eventID = \"dup-1\" }"]);
    assert!(out.contains("1 events matched"), "{out}");
    let (out, _) = run_ok(&[
        "alarm",
        src,
        "--pattern",
        "{ $.eventID = \"dup-1\" }",
        "--keep-duplicates",
    ]);
    assert!(out.contains("2 events matched"), "{out}");
}

#[test]
fn missing_keys_are_rows_of_their_own_and_anonymous_calls_are_named() {
    let t = TestDir::new();
    log_file(
        &t,
        "20241017T2200Z_keys",
        &[
            read(
                "k1",
                Some("2024-10-17T21:00:00Z"),
                json!({"requestParameters": null, "errorCode": "ValidationException"}),
            ),
            read(
                "k2",
                Some("2024-10-17T21:00:01Z"),
                json!({"sourceIPAddress": null}),
            ),
            read(
                "k3",
                Some("2024-10-17T21:00:02Z"),
                json!({"userIdentity": {"type": "AWSAccount", "principalId": "", "accountId": "ANONYMOUS_PRINCIPAL"}}),
            ),
            read(
                "k4",
                Some("2024-10-17T21:00:03Z"),
                json!({"readOnly": "True"}),
            ),
        ],
    );
    let (out, _) = report_out(t.path(), &[]);
    let secrets: Vec<(String, String)> = rows(out.path(), "by_secret")
        .iter()
        .map(|r| (r["secret"].clone(), r["events"].clone()))
        .collect();
    assert_eq!(
        secrets,
        [
            ("prod/db".to_string(), "3".to_string()),
            ("(none)".to_string(), "1".to_string())
        ]
    );
    let ips: Vec<String> = rows(out.path(), "by_source_ip")
        .iter()
        .map(|r| r["source_ip"].clone())
        .collect();
    assert_eq!(ips, ["198.51.100.7", "(none)"]);
    let principals: Vec<String> = rows(out.path(), "by_principal")
        .iter()
        .map(|r| r["principal"].clone())
        .collect();
    assert_eq!(
        principals,
        ["arn:aws:iam::111122223333:user/ann", "ANONYMOUS_PRINCIPAL"]
    );
    // A boolean written as text by an exporter means the same as the JSON boolean.
    let events = read_parquet(&out.path().join("events.parquet"));
    let read_only: Vec<String> = events
        .values
        .iter()
        .map(|r| r["read_only"].to_string())
        .collect();
    assert_eq!(read_only, ["true", "true", "true", "true"]);
    let (csv, _) = run_ok(&[
        "events",
        t.path().to_str().unwrap(),
        "--read-only",
        "true",
        "--format",
        "csv",
    ]);
    assert_eq!(csv.lines().count(), 5, "{csv}");
}

#[test]
fn other_services_logs_in_a_shared_bucket_are_skipped_not_failed() {
    let t = TestDir::new();
    log_file(
        &t,
        "20241017T2200Z_ct",
        &[read("s1", Some("2024-10-17T21:00:00Z"), json!({}))],
    );
    t.write_gz(
        "AWSLogs/111122223333/Config/us-east-1/2024/10/17/ConfigHistory/111122223333_Config_us-east-1_ConfigHistory_x.json.gz",
        r#"{"fileVersion":"1.0","configurationItems":[]}"#,
    );
    t.write(
        "AWSLogs/o-abcd/111122223333/elasticloadbalancing/us-east-1/2024/10/17/x.log",
        b"http 2024-10-17T21:00:00Z app/x 1.2.3.4:1 - -1 -1 -1 503 - 0 0 \"GET http://x:80/ HTTP/1.1\"\n",
    );
    // Outside the AWS layout, content still decides: not CloudTrail fails.
    t.write_gz("exports/config.json.gz", r#"{"configurationItems":[]}"#);
    let (out, s) = report_out(t.path(), &[]);
    let f = &s["files"];
    assert_eq!(f["skipped"]["other_service"], json!(2), "{f}");
    assert_eq!(
        (f["scanned"].as_u64(), f["failed"].as_u64()),
        (Some(1), Some(1))
    );
    assert!(s["failures"][0]["object"]
        .as_str()
        .unwrap()
        .ends_with("exports/config.json.gz"));
    assert_eq!(rows(out.path(), "by_principal")[0]["events"], "1");
}

/// A gzip member of `n` bytes of JSON whitespace inside a valid document.
fn whitespace_bomb(n: u64) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(b"{\"Records\":[").unwrap();
    let chunk = vec![b' '; 1 << 20];
    let mut left = n;
    while left > 0 {
        let k = left.min(chunk.len() as u64) as usize;
        e.write_all(&chunk[..k]).unwrap();
        left -= k as u64;
    }
    e.write_all(b"]}").unwrap();
    e.finish().unwrap()
}

#[test]
fn gzip_bombs_stay_inside_the_memory_budget_at_any_thread_count() {
    let t = TestDir::new();
    let bomb = whitespace_bomb(1_300 << 20);
    for i in 0..16 {
        t.write(
            &format!("{DAY}/111122223333_CloudTrail_us-east-1_20241017T21{i:02}Z_bomb.json.gz"),
            &bomb,
        );
        log_file(
            &t,
            &format!("20241017T22{i:02}Z_legit"),
            &[read(
                &format!("b{i}"),
                Some("2024-10-17T21:00:00Z"),
                json!({}),
            )],
        );
    }
    let src = t.path().to_str().unwrap();
    for threads in ["2", "16"] {
        let out = tempfile::tempdir().unwrap();
        let (code, rss) = peak_rss_mib(&[
            "report",
            src,
            "--threads",
            threads,
            "--out",
            out.path().to_str().unwrap(),
            "-q",
        ]);
        assert_eq!(code, 2, "the bombs fail the run");
        eprintln!("gzip bombs, --threads {threads}: peak RSS {rss} MiB");
        assert!(rss <= 512, "peak RSS {rss} MiB at --threads {threads}");
        let s = summary(out.path());
        assert_eq!(
            (
                s["files"]["scanned"].as_u64(),
                s["files"]["failed"].as_u64()
            ),
            (Some(16), Some(16))
        );
        assert_eq!(s["records"]["matched"], json!(16));
        let why = s["failures"][0]["error"].as_str().unwrap();
        assert!(why.contains("memory budget"), "{why}");
    }
}

/// The accounting identities of README's "Every number adds up", on one
/// report: each `by_*` table's rows sum to the totals.
fn assert_tables_sum_to_totals(out: &Path, s: &Value, name: &str, default_selection: bool) {
    let sum = |table: &str, col: &str| -> u64 {
        rows(out, table)
            .iter()
            .map(|r| r[col].parse::<u64>().unwrap())
            .sum()
    };
    let events =
        s["records"]["matched"].as_u64().unwrap() - s["records"]["duplicates"].as_u64().unwrap();
    let batch = sum("by_principal", "batch_calls");
    let failed = sum("by_principal", "failed");
    for table in ["by_principal", "by_hour", "by_source_ip"] {
        assert_eq!(sum(table, "events"), events, "{name}: {table} events");
        assert_eq!(sum(table, "failed"), failed, "{name}: {table} failed");
    }
    // by_secret leaves batch calls out: each secret they return is logged again.
    assert_eq!(
        sum("by_secret", "events"),
        events - batch,
        "{name}: by_secret"
    );
    if default_selection {
        assert_eq!(
            sum("by_principal", "reads") + batch,
            events,
            "{name}: reads + batch calls"
        );
        assert_eq!(
            sum("by_secret", "events"),
            sum("by_principal", "reads"),
            "{name}: by_secret = reads"
        );
    }
}

#[test]
fn every_table_sums_to_its_totals_on_every_public_data_set() {
    let sets = [
        shared_data("stratus-red-team"),
        shared_data("umccr-orgtrail"),
        shared_data("otrf"),
        root().join("sample-logs"),
    ];
    for set in sets {
        for extra in [&[][..], &["--all-events"][..]] {
            let (out, s) = report_out(&set, extra);
            assert!(
                s["records"]["read"].as_u64().unwrap() > 0,
                "{}",
                set.display()
            );
            let name = format!("{} {extra:?}", set.display());
            assert_tables_sum_to_totals(out.path(), &s, &name, extra.is_empty());
        }
    }
}
