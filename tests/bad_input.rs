//! Hostile and broken inputs: each case has one exact outcome. The rule for
//! all of them: no panic, no hang, the file accounted for in `summary.json`
//! with a reason, a message on stderr naming it, the rest of the scan
//! unaffected, and exit status 2 when anything failed.

use std::path::Path;

use crate::util::*;

fn record(id: &str, extra: &str) -> String {
    format!(
        r#"{{"eventTime":"2026-01-01T00:00:00Z","eventSource":"secretsmanager.amazonaws.com","eventName":"GetSecretValue","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::1:user/u"}},"requestParameters":{{"secretId":"s"}},"eventID":"{id}"{extra}}}"#
    )
}

fn records(recs: &[String]) -> String {
    format!(r#"{{"Records":[{}]}}"#, recs.join(","))
}

/// Scans `dir` next to one good file and returns (exit, stderr, summary).
fn scan_with_good_file(t: &TestDir, extra_args: &[&str]) -> (i32, String, serde_json::Value) {
    t.write("good.json", records(&[record("good", "")]).as_bytes());
    let out = TestDir::new();
    let mut args = vec![
        t.path().to_str().unwrap(),
        "--out",
        out.path().to_str().unwrap(),
        "-q",
    ];
    args.extend_from_slice(extra_args);
    let (code, _, stderr) = outputs(&ctscan(&args));
    let s = summary(out.path());
    assert_accounted(&s);
    (code, stderr, s)
}

/// Asserts that exactly the file `name` failed, with `cause`, and that the good
/// file's event still counts.
fn assert_only_failure(t: &TestDir, name: &str, cause: &str, extra_args: &[&str]) {
    let (code, stderr, s) = scan_with_good_file(t, extra_args);
    assert_eq!(code, 2, "{name}: {stderr}");
    let failures = s["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1, "{name}: {failures:?}");
    let object = failures[0]["object"].as_str().unwrap();
    assert!(Path::new(object).ends_with(name), "{object}");
    let error = failures[0]["error"].as_str().unwrap();
    assert!(error.contains(cause), "{name}: {error}");
    let line = stderr
        .lines()
        .find(|l| l.contains(name))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(line.contains(cause), "{line}");
    assert!(
        s["events"].as_u64().unwrap() >= 1,
        "the good file must still count"
    );
}

#[test]
fn invalid_json_inside_a_record_fails_the_file() {
    let t = TestDir::new();
    t.write(
        "invalid.json",
        format!(
            r#"{{"Records":[{},{{"eventName": nope}}]}}"#,
            record("a", "")
        )
        .as_bytes(),
    );
    assert_only_failure(&t, "invalid.json", "not JSON: unexpected byte 0x6f", &[]);
}

#[test]
fn json_that_is_not_cloudtrail_fails() {
    let t = TestDir::new();
    t.write("hello.json", br#"{"hello":"world"}"#);
    assert_only_failure(&t, "hello.json", "no Records array", &[]);
    let t = TestDir::new();
    t.write("wrong.json", br#"{"Records":"oops"}"#);
    assert_only_failure(
        &t,
        "wrong.json",
        "\"Records\" is a string, not an array",
        &[],
    );
    let t = TestDir::new();
    t.write(
        "wrong-element.json",
        format!(r#"{{"Records":[{},"oops"]}}"#, record("w", "")).as_bytes(),
    );
    assert_only_failure(
        &t,
        "wrong-element.json",
        "record 1 is a string, not an object",
        &[],
    );
}

#[test]
fn invalid_utf8_fails_with_its_offset() {
    let t = TestDir::new();
    let mut bytes = records(&[record("u", "")]).into_bytes();
    let at = bytes.iter().position(|&b| b == b's').unwrap();
    bytes.insert(at, 0xff);
    t.write("latin1.json", &bytes);
    assert_only_failure(&t, "latin1.json", "invalid UTF-8 at offset", &[]);
}

#[test]
fn ten_thousand_levels_deep_fail_cleanly() {
    let t = TestDir::new();
    let deep = format!(
        r#","deep":{}1{}"#,
        r#"{"a":"#.repeat(10_000),
        "}".repeat(10_000)
    );
    t.write("deep.json", records(&[record("d", &deep)]).as_bytes());
    assert_only_failure(&t, "deep.json", "DepthLimitExceeded", &[]);
}

#[test]
fn a_gzip_bomb_stops_at_the_limit() {
    let t = TestDir::new();
    t.write("bomb.json.gz", &gzip(&vec![b' '; 64 << 20]));
    assert_only_failure(
        &t,
        "bomb.json.gz",
        "exceeds the limit of 8388608 bytes",
        &["--max-object-size", "8388608"],
    );
}

#[test]
fn a_100_mb_single_record_is_read() {
    let t = TestDir::new();
    let big = format!(r#","blob":"{}""#, "x".repeat(100 << 20));
    t.write("big.json", records(&[record("big", &big)]).as_bytes());
    let (code, stderr, s) = scan_with_good_file(&t, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(s["events"], 2);
}

/// The README's promise: peak memory stays under 512 MiB at the default
/// memory budget, whatever the files hold (a 100 MB record is still read).
/// Measured by a parent process (`ru_maxrss` of its one child).
#[test]
fn peak_memory_on_hostile_input_stays_within_the_documented_bound() {
    let t = TestDir::new();
    let big = format!(r#","blob":"{}""#, "x".repeat(100 << 20));
    t.write("big.json", records(&[record("big", &big)]).as_bytes());
    t.write("bomb.json.gz", &gzip(&vec![b' '; 400 << 20]));
    let deep = format!(r#","d":{}{}"#, "[".repeat(10_000), "]".repeat(10_000));
    t.write("deep.json", records(&[record("deep", &deep)]).as_bytes());
    t.write("good.json", records(&[record("good", "")]).as_bytes());
    let limit: u64 = 128 << 20;
    let (code, peak) = peak_rss_mib(&[
        t.path().to_str().unwrap(),
        "-q",
        "--threads",
        "2",
        "--max-object-size",
        &limit.to_string(),
    ]);
    assert_eq!(code, 2, "the bomb and the deep record fail the run");
    let peak = peak << 20;
    let bound: u64 = 512 << 20;
    assert!(
        peak < bound,
        "peak {} MiB over the bound {} MiB",
        peak >> 20,
        bound >> 20
    );
}

#[test]
fn symlink_loops_and_dangling_links_are_failures_not_hangs() {
    let t = TestDir::new();
    std::fs::create_dir_all(t.join("sub")).unwrap();
    std::os::unix::fs::symlink(t.path(), t.join("sub/loop")).unwrap();
    let (code, stderr, s) = scan_with_good_file(&t, &[]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("sub/loop") && stderr.contains("symlink loop"),
        "{stderr}"
    );
    assert_eq!(s["files"]["failed"], 1);
    let t = TestDir::new();
    std::os::unix::fs::symlink("/nonexistent/ctscan-test", t.join("gone.json")).unwrap();
    assert_only_failure(&t, "gone.json", "No such file or directory", &[]);
}

#[test]
fn duplicate_event_ids_are_reported_and_counted_once() {
    let t = TestDir::new();
    t.write(
        "a.json",
        records(&[record("dup", ""), record("dup", ""), record("other", "")]).as_bytes(),
    );
    t.write("copy/a.json", records(&[record("dup", "")]).as_bytes());
    let (code, _, s) = scan_with_good_file(&t, &[]);
    assert_eq!(code, 0);
    assert_eq!(
        (
            s["records"]["matched"].as_u64(),
            s["records"]["duplicates"].as_u64()
        ),
        (Some(5), Some(2))
    );
    assert_eq!(s["events"], 3);
}

#[test]
fn totals_do_not_depend_on_the_thread_count() {
    let args = |threads: &str, out: &Path| {
        let o = ctscan(&[
            root().join("sample-logs").to_str().unwrap(),
            "--threads",
            threads,
            "--out",
            out.to_str().unwrap(),
            "-q",
        ]);
        assert_eq!(o.status.code(), Some(0));
    };
    let (one, two) = (TestDir::new(), TestDir::new());
    args("1", one.path());
    args("2", two.path());
    let (a, b) = (summary(one.path()), summary(two.path()));
    assert_eq!(
        (&a["files"], &a["records"], &a["events"]),
        (&b["files"], &b["records"], &b["events"])
    );
    for name in [
        "by_principal.csv",
        "by_hour.csv",
        "by_source_ip.csv",
        "by_secret.csv",
    ] {
        assert_eq!(
            std::fs::read(one.join(name)).unwrap(),
            std::fs::read(two.join(name)).unwrap(),
            "{name}"
        );
    }
}

/// Runs the binary as an unprivileged user when the tests run as root, since
/// permission bits do not stop root.
fn ctscan_unprivileged(t: &TestDir, args: &[&str]) -> (i32, String, String) {
    let euid = std::process::Command::new("id").arg("-u").output().unwrap();
    if String::from_utf8_lossy(&euid.stdout).trim() != "0" {
        return outputs(&ctscan(args));
    }
    // The test binary's own folder may not be reachable by `nobody`.
    let exe = t.join("bin/ctscan");
    std::fs::create_dir_all(exe.parent().unwrap()).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_ctscan"), &exe).unwrap();
    let output = std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(&exe)
        .args(args)
        .env_remove("CTSCAN_SOURCE")
        .output()
        .expect("setpriv (util-linux) runs the binary as nobody");
    outputs(&output)
}

#[test]
fn unreadable_files_and_directories_fail_with_permission_denied() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path, m: u32| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m));
    let t = TestDir::new();
    let logs = t.join("logs");
    t.write("logs/good.json", records(&[record("good", "")]).as_bytes());
    let secret = t.write(
        "logs/secret.json",
        records(&[record("hidden", "")]).as_bytes(),
    );
    t.write(
        "logs/locked/inside.json",
        records(&[record("in", "")]).as_bytes(),
    );
    let out = t.join("out");
    std::fs::create_dir_all(&out).unwrap();
    mode(t.path(), 0o755).unwrap();
    mode(&out, 0o777).unwrap();
    mode(&secret, 0o000).unwrap();
    mode(&t.join("logs/locked"), 0o000).unwrap();
    let (code, _, stderr) = ctscan_unprivileged(
        &t,
        &[logs.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q"],
    );
    mode(&t.join("logs/locked"), 0o755).unwrap();
    assert_eq!(code, 2, "{stderr}");
    let s = summary(&out);
    assert_accounted(&s);
    assert_eq!(s["files"]["listed"], 3, "{s}");
    assert_eq!(s["files"]["scanned"], 1);
    assert_eq!(s["files"]["failed"], 2);
    assert_eq!(s["events"], 1, "the readable file still counts");
    for name in ["secret.json", "locked"] {
        let line = stderr
            .lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("no message for {name}: {stderr}"));
        assert!(line.contains("Permission denied"), "{line}");
    }
}

// ------------------------------------------------------------ nothing lost

mod nothing_lost {
    use std::collections::BTreeMap;

    use ctscan::read::record::Selection;
    use ctscan::scan::{scan, LocalFetch, ScanContext, ScanOutcome};
    use ctscan::source::local;
    use ctscan::window::TimeWindow;
    use proptest::prelude::*;

    use crate::util::*;

    /// One record of a generated file.
    #[derive(Debug, Clone, Copy)]
    enum Rec {
        /// A secret read inside the window.
        Read,
        /// A secret read with no `eventTime`.
        Timeless,
        /// Another event.
        Other,
    }

    /// One generated input file and what must become of it.
    #[derive(Debug, Clone)]
    enum Input {
        Gzip(Vec<Rec>),
        Plain(Vec<Rec>),
        Truncated(Vec<Rec>),
        Junk,
        Empty,
        Digest,
        Text,
        /// Named for a day outside the window.
        OldDay(Vec<Rec>),
    }

    fn recs() -> impl Strategy<Value = Vec<Rec>> {
        prop::collection::vec(
            prop_oneof![Just(Rec::Read), Just(Rec::Timeless), Just(Rec::Other)],
            0..6,
        )
    }

    fn input() -> impl Strategy<Value = Input> {
        prop_oneof![
            3 => recs().prop_map(Input::Gzip),
            2 => recs().prop_map(Input::Plain),
            1 => recs().prop_map(Input::Truncated),
            1 => Just(Input::Junk),
            1 => Just(Input::Empty),
            1 => Just(Input::Digest),
            1 => Just(Input::Text),
            1 => recs().prop_map(Input::OldDay),
        ]
    }

    fn text(recs: &[Rec], file: usize) -> String {
        let body: Vec<String> = recs
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let id = format!("f{file}-r{i}");
                match r {
                    Rec::Read => format!(
                        r#"{{"eventTime":"2026-01-10T10:00:00Z","eventSource":"secretsmanager.amazonaws.com","eventName":"GetSecretValue","eventID":"{id}","requestParameters":{{"secretId":"s"}}}}"#
                    ),
                    Rec::Timeless => format!(
                        r#"{{"eventSource":"secretsmanager.amazonaws.com","eventName":"GetSecretValue","eventID":"{id}"}}"#
                    ),
                    Rec::Other => format!(
                        r#"{{"eventTime":"2026-01-10T10:00:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","eventID":"{id}"}}"#
                    ),
                }
            })
            .collect();
        format!(r#"{{"Records":[{}]}}"#, body.join(","))
    }

    /// listed, scanned, pruned, skipped by reason, failed.
    type FileTotals = (u64, u64, u64, BTreeMap<String, u64>, u64);
    /// read, matched, not_matched, no_event_time.
    type RecordTotals = (u64, u64, u64, u64);

    /// Writes the inputs; returns the expected (listed, scanned, pruned,
    /// skipped by reason, failed) and (read, matched, not_matched, no_event_time).
    fn write(t: &TestDir, inputs: &[Input]) -> (FileTotals, RecordTotals) {
        let day = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/01/10";
        let (mut files, mut recs) = (
            (inputs.len() as u64, 0, 0, BTreeMap::new(), 0),
            (0, 0, 0, 0),
        );
        let mut count = |rs: &[Rec]| {
            for r in rs {
                recs.0 += 1;
                match r {
                    Rec::Read => recs.1 += 1,
                    Rec::Other => recs.2 += 1,
                    Rec::Timeless => recs.3 += 1,
                }
            }
        };
        for (i, input) in inputs.iter().enumerate() {
            let name = format!(
                "{day}/111122223333_CloudTrail_us-east-1_20260110T{:04}Z_f{i}",
                i % 2400
            );
            match input {
                Input::Gzip(rs) => {
                    t.write_gz(&format!("{name}.json.gz"), &text(rs, i));
                    files.1 += 1;
                    count(rs);
                }
                Input::Plain(rs) => {
                    t.write(&format!("{name}.json"), text(rs, i).as_bytes());
                    files.1 += 1;
                    count(rs);
                }
                Input::Truncated(rs) => {
                    let gz = gzip(text(rs, i).as_bytes());
                    t.write(&format!("{name}.json.gz"), &gz[..gz.len() - 9]);
                    files.4 += 1;
                }
                Input::Junk => {
                    t.write(&format!("{name}.json.gz"), b"\x00\x01 junk");
                    files.4 += 1;
                }
                Input::Empty => {
                    t.write(&format!("{name}.json"), b"");
                    files.4 += 1;
                }
                Input::Digest => {
                    t.write_gz(
                        &format!("{day}/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20260110T{:04}00Z.json.gz", i % 2400),
                        r#"{"digestEndTime":"2026-01-10T01:00:00Z","logFiles":[]}"#,
                    );
                    *files.3.entry("digest".to_string()).or_default() += 1;
                }
                Input::Text => {
                    t.write(&format!("{day}/notes-{i}.txt"), b"notes");
                    *files.3.entry("not_json".to_string()).or_default() += 1;
                }
                Input::OldDay(rs) => {
                    t.write_gz(
                        &format!("AWSLogs/111122223333/CloudTrail/us-east-1/2025/06/01/111122223333_CloudTrail_us-east-1_20250601T0000Z_f{i}.json.gz"),
                        &text(rs, i),
                    );
                    files.2 += 1;
                }
            }
        }
        (files, recs)
    }

    fn run(t: &TestDir, threads: usize) -> ScanOutcome {
        let window = TimeWindow {
            since: Some("2026-01-01T00:00:00Z".parse().unwrap()),
            until: None,
        };
        let ctx = ScanContext::new(Selection::default(), window, 1 << 30);
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| scan(local::list(t.path()), &ctx, &LocalFetch))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(16))]

        /// For any mix of good, broken, skipped and pruned files, every file
        /// and every record is accounted for exactly as generated, whatever
        /// the thread count.
        #[test]
        fn every_file_and_record_is_accounted_for(inputs in prop::collection::vec(input(), 0..14)) {
            let t = TestDir::new();
            let (files, recs) = write(&t, &inputs);
            for threads in [1, 2] {
                let out = run(&t, threads);
                let f = &out.stats.files;
                let r = &out.stats.records;
                prop_assert_eq!(
                    (f.listed, f.scanned, f.pruned, f.skipped.clone(), f.failed),
                    files.clone(),
                    "threads {}", threads
                );
                prop_assert_eq!(
                    (r.read, r.matched, r.not_matched, r.no_event_time),
                    recs,
                    "threads {}", threads
                );
                prop_assert_eq!(out.stats.failures.len() as u64, f.failed);
                prop_assert_eq!(out.events.len() as u64, r.matched);
            }
        }
    }
}
