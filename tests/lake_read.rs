//! `--lake DIR`: every reading command over an ingested lake gives the
//! output it gives over the raw logs, byte for byte: `report`'s CSVs and
//! tables, `events` in every format, `alarm --rules cis`'s tables and
//! notifications; with pruning by time, account and region, and with
//! copies of events ingested by two runs.

use std::path::Path;

use serde_json::{json, Value};

use crate::util::*;

const CIS_EVENTS: [(&str, &str); 8] = [
    ("iam.amazonaws.com", "PutRolePolicy"),
    ("cloudtrail.amazonaws.com", "StopLogging"),
    ("kms.amazonaws.com", "ScheduleKeyDeletion"),
    ("s3.amazonaws.com", "PutBucketPolicy"),
    ("ec2.amazonaws.com", "AuthorizeSecurityGroupIngress"),
    ("signin.amazonaws.com", "ConsoleLogin"),
    ("secretsmanager.amazonaws.com", "GetSecretValue"),
    ("secretsmanager.amazonaws.com", "BatchGetSecretValue"),
];

/// A small deterministic pseudo-random sequence.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// One generated record at `t` (seconds since the epoch).
fn record(g: &mut Lcg, account: &str, region: &str, t: i64, id: u64) -> Value {
    let (source, name) = CIS_EVENTS[g.next(CIS_EVENTS.len() as u64) as usize];
    let time = jiff::Timestamp::from_second(t).unwrap();
    let user = ["ann", "bob", "cy"][g.next(3) as usize];
    let mut r = json!({
        "eventVersion": "1.08",
        "eventTime": time.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "eventSource": source,
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": format!("198.51.100.{}", g.next(4)),
        "userAgent": "aws-cli/2",
        "userIdentity": {"type": "IAMUser", "arn": format!("arn:aws:iam::{account}:user/{user}"), "accountId": account},
        "requestParameters": {"secretId": format!("prod/s{}", g.next(3))},
        "eventID": format!("ev-{id}"),
        "recipientAccountId": account,
        "readOnly": name.starts_with("Get"),
    });
    match g.next(6) {
        0 => r["errorCode"] = json!("AccessDenied"),
        1 => r["errorMessage"] = json!("Failed authentication"),
        2 => {
            r["userIdentity"] =
                json!({"type": "Root", "arn": format!("arn:aws:iam::{account}:root")})
        }
        _ => {}
    }
    r
}

/// Writes a corpus of two accounts, two regions and three days: objects
/// delivered every 40 minutes, each with records from the 45 minutes
/// before (so some span midnight), and one object delivered again.
pub fn generated(t: &TestDir) {
    let mut g = Lcg(7);
    let mut id = 0;
    let start = 1_729_123_200; // 2024-10-17T00:00:00Z
    for account in ["111122223333", "444455556666"] {
        for region in ["us-east-1", "eu-west-1"] {
            for k in 1..=(3 * 36) {
                let delivered = start + k * 2400;
                let records: Vec<Value> = (0..g.next(12))
                    .map(|_| {
                        id += 1;
                        let t = delivered - 60 - g.next(2640) as i64;
                        record(&mut g, account, region, t, id)
                    })
                    .collect();
                let when = jiff::Timestamp::from_second(delivered).unwrap();
                let key = format!(
                    "AWSLogs/{account}/CloudTrail/{region}/{}/{account}_CloudTrail_{region}_{}_r{k:04}.json.gz",
                    when.strftime("%Y/%m/%d"),
                    when.strftime("%Y%m%dT%H%MZ")
                );
                let body = json!({ "Records": records }).to_string();
                t.write_gz(&format!("gen/{key}"), &body);
                if k == 40 {
                    t.write_gz(&format!("gen/{}", key.replace("_r0040", "_again")), &body);
                }
            }
        }
    }
}

/// Ingests `sources` into `lake`.
fn ingest(sources: &[&str], lake: &Path) {
    let mut args = vec!["ingest"];
    args.extend(sources);
    let lake = lake.to_str().unwrap();
    args.extend(["--lake", lake, "--quiet"]);
    let (code, _, err) = outputs(&ctscan(&args));
    assert_eq!(code, 0, "ingest {sources:?}: {err}");
}

/// Runs a command, asserting it succeeds; stdout.
fn run(args: &[&str]) -> String {
    let (code, out, err) = outputs(&ctscan(args));
    assert_eq!(code, 0, "{args:?}: {err}");
    out
}

/// stdout without the lines that name the source or count files, bytes
/// and records (object-level accounting, which comes from the manifest).
fn tables(stdout: &str) -> String {
    let said = ["source: ", "files: ", "window: ", "records: "];
    stdout
        .lines()
        .filter(|l| !said.iter().any(|s| l.starts_with(s)) && !l.contains("files scanned"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Asserts that every CSV and JSON file of `raw` is in `lake`, byte for byte.
fn same_files(raw: &Path, lake: &Path, what: &str) {
    let mut compared = 0;
    for entry in std::fs::read_dir(raw).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        if !(name.ends_with(".csv") || name == "notifications.json") {
            continue;
        }
        let want = std::fs::read_to_string(&path).unwrap();
        let got = std::fs::read_to_string(lake.join(&name)).unwrap();
        assert!(
            want == got,
            "{what}: {name} differs\n--- raw\n{want}\n--- lake\n{got}"
        );
        compared += 1;
    }
    assert!(compared > 0, "{what}: no CSV written");
}

/// Runs `report`, `events --pattern` (three formats) and `alarm --rules
/// cis` over `sources` and over `lake` with `extra` options, and asserts
/// the same outputs.
pub fn assert_same(sources: &[&str], lake: &Path, extra: &[&str]) {
    assert_same_by(&run, sources, lake, extra)
}

/// [`assert_same`], each command run by `run`.
pub fn assert_same_by(
    run: &dyn Fn(&[&str]) -> String,
    sources: &[&str],
    lake: &Path,
    extra: &[&str],
) {
    let out = TestDir::new();
    let lake_arg = lake.to_str().unwrap();
    let both = |cmd: &[&str], out_dir: Option<&str>| {
        let mut raw: Vec<String> = cmd.iter().map(|s| s.to_string()).collect();
        raw.extend(sources.iter().map(|s| s.to_string()));
        let mut lk: Vec<String> = cmd.iter().map(|s| s.to_string()).collect();
        lk.extend(["--lake".to_string(), lake_arg.to_string()]);
        for (args, side) in [(&mut raw, "raw"), (&mut lk, "lake")] {
            args.extend(extra.iter().map(|s| s.to_string()));
            if let Some(d) = out_dir {
                args.extend([
                    "--out".to_string(),
                    out.join(&format!("{d}-{side}")).display().to_string(),
                ]);
            }
        }
        let r: Vec<&str> = raw.iter().map(String::as_str).collect();
        let l: Vec<&str> = lk.iter().map(String::as_str).collect();
        (run(&r), run(&l))
    };
    let (raw, lk) = both(&["report"], Some("report"));
    assert_eq!(tables(&raw), tables(&lk), "report tables, {extra:?}");
    same_files(&out.join("report-raw"), &out.join("report-lake"), "report");
    let s = summary(&out.join("report-lake"));
    assert_accounted(&s);
    assert!(
        s["lake"]["lake"].is_string(),
        "the summary names the lake: {s}"
    );
    for pattern in [
        r#"{ $.eventSource = "s3.amazonaws.com" || $.errorCode = "AccessDenied*" }"#,
        r#"{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }"#,
        "GetSecretValue",
    ] {
        for format in ["csv", "jsonl", "table"] {
            let (raw, lk) = both(&["events", "--pattern", pattern, "--format", format], None);
            assert_eq!(
                tables(&raw),
                tables(&lk),
                "events {pattern} {format} {extra:?}"
            );
        }
    }
    let (raw, lk) = both(&["alarm", "--rules", "cis"], Some("alarm"));
    assert_eq!(tables(&raw), tables(&lk), "alarm tables, {extra:?}");
    same_files(&out.join("alarm-raw"), &out.join("alarm-lake"), "alarm");
    // The report's table and the rules' replay, from one pass.
    let (raw, lk) = both(&["report", "--rules", "cis"], Some("report-cis"));
    assert_eq!(
        tables(&raw),
        tables(&lk),
        "report --rules cis tables, {extra:?}"
    );
    same_files(
        &out.join("report-cis-raw"),
        &out.join("report-cis-lake"),
        "report --rules",
    );
}

#[test]
fn a_lake_answers_like_the_raw_logs_on_every_data_set() {
    let sample = root().join("sample-logs");
    let sets = [
        sample,
        shared_data("stratus-red-team"),
        shared_data("umccr-orgtrail"),
        shared_data("otrf"),
    ];
    for set in &sets {
        let t = TestDir::new();
        let src = set.to_str().unwrap();
        ingest(&[src], &t.join("lake"));
        assert_same(&[src], &t.join("lake"), &[]);
    }
}

#[test]
fn a_generated_lake_answers_alike_and_prunes_by_time_account_and_region() {
    let t = TestDir::new();
    generated(&t);
    let src = t.join("gen");
    let src = src.to_str().unwrap();
    ingest(&[src], &t.join("lake"));
    assert_same(&[src], &t.join("lake"), &[]);
    let window = [
        "--since",
        "2024-10-17T23:00:00Z",
        "--until",
        "2024-10-18T06:30:00Z",
    ];
    assert_same(&[src], &t.join("lake"), &window);
    assert_same(
        &[src],
        &t.join("lake"),
        &["--account", "4444*", "--region", "eu-*"],
    );
    let lk = t.join("lake");
    let args = [
        "report",
        "--lake",
        lk.to_str().unwrap(),
        "--since",
        "2024-10-18",
        "--until",
        "2024-10-19",
    ];
    let (code, _, err) = outputs(&ctscan(&args));
    assert_eq!(code, 0, "{err}");
    let line = err
        .lines()
        .find(|l| l.contains("source: event lake"))
        .unwrap();
    // Three days in four partitions: the other two days' files are not opened.
    assert!(
        line.contains("part files read") && !line.contains(", 0 pruned by partition"),
        "{line}"
    );
}

#[test]
fn copies_of_events_ingested_by_two_runs_count_once_as_over_both_sources() {
    let t = TestDir::new();
    generated(&t);
    // The second run's objects repeat the first's events under other keys.
    let first = t.join("gen/AWSLogs/111122223333");
    let again = t.join("again/AWSLogs/111122223333");
    std::fs::create_dir_all(again.parent().unwrap()).unwrap();
    std::process::Command::new("cp")
        .args(["-r", first.to_str().unwrap(), again.to_str().unwrap()])
        .status()
        .unwrap();
    let (a, b) = (t.join("gen"), t.join("again"));
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    ingest(&[a], &t.join("lake"));
    ingest(&[b], &t.join("lake"));
    assert_same(&[a, b], &t.join("lake"), &[]);
    let out = t.join("out");
    let lk = t.join("lake");
    run(&[
        "report",
        "--lake",
        lk.to_str().unwrap(),
        "--all-events",
        "--out",
        out.to_str().unwrap(),
    ]);
    let s = summary(&out);
    assert_accounted(&s);
    assert!(s["records"]["duplicates"].as_u64().unwrap() > 0, "{s}");
}

#[test]
fn a_folder_that_is_no_lake_is_refused_before_anything_is_read() {
    let t = TestDir::new();
    let dir = t.join("nothing");
    std::fs::create_dir_all(&dir).unwrap();
    let (code, out, err) = outputs(&ctscan(&["report", "--lake", dir.to_str().unwrap()]));
    assert_eq!((code, out.as_str()), (2, ""));
    assert!(
        err.contains("not an event lake") && err.contains("ctscan ingest"),
        "{err}"
    );
    let (code, _, err) = outputs(&ctscan(&[
        "events",
        "sample-logs",
        "--lake",
        dir.to_str().unwrap(),
    ]));
    assert_eq!(code, 2);
    assert!(err.contains("cannot be used with"), "{err}");
}

#[test]
fn verify_finds_the_same_tampering_events_in_a_lake() {
    let t = TestDir::new();
    let data = shared_data("stratus-red-team");
    let src = data.to_str().unwrap();
    ingest(&[src], &t.join("lake"));
    let lake = t.join("lake");
    let (raw_out, lake_out) = (t.join("raw-out"), t.join("lake-out"));
    let raw = run(&["verify", src, "--out", raw_out.to_str().unwrap()]);
    let lk = run(&[
        "verify",
        src,
        "--lake",
        lake.to_str().unwrap(),
        "--out",
        lake_out.to_str().unwrap(),
    ]);
    assert_eq!(raw, lk);
    let tampering = std::fs::read_to_string(lake_out.join("tampering.csv")).unwrap();
    assert!(tampering.lines().count() > 1, "{tampering}");
    same_files(&raw_out, &lake_out, "verify");
}

#[test]
fn an_object_changed_since_its_first_ingest_is_read_in_its_new_version_only() {
    let t = TestDir::new();
    generated(&t);
    let src = t.join("gen");
    let src = src.to_str().unwrap();
    ingest(&[src], &t.join("lake"));
    // Rewrite one object with other records; its first rows are now stale.
    let key = walkdir::WalkDir::new(src)
        .into_iter()
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy().ends_with("_r0050.json.gz"))
        .unwrap()
        .into_path();
    let mut g = Lcg(99);
    let records: Vec<Value> = (0..5)
        .map(|i| {
            record(
                &mut g,
                "111122223333",
                "us-east-1",
                1_729_240_000 + i,
                900_000 + i as u64,
            )
        })
        .collect();
    std::fs::write(
        &key,
        gzip(json!({ "Records": records }).to_string().as_bytes()),
    )
    .unwrap();
    ingest(&[src], &t.join("lake"));
    assert_same(&[src], &t.join("lake"), &[]);
}

#[test]
fn hunt_finds_the_same_sigma_matches_in_a_lake() {
    let t = TestDir::new();
    let data = shared_data("stratus-red-team");
    let src = data.to_str().unwrap();
    ingest(&[src], &t.join("lake"));
    let lake = t.join("lake");
    let (raw_out, lake_out) = (t.join("raw-out"), t.join("lake-out"));
    let raw = run(&["hunt", src, "--out", raw_out.to_str().unwrap()]);
    let lk = run(&[
        "hunt",
        "--lake",
        lake.to_str().unwrap(),
        "--out",
        lake_out.to_str().unwrap(),
    ]);
    assert_eq!(tables(&raw), tables(&lk));
    same_files(&raw_out, &lake_out, "hunt");
}
