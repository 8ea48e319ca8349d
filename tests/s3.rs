//! S3 SOURCEs and `mirror`, through the real SDK against a real S3-compatible
//! server (moto) started on loopback by each test.

use std::collections::BTreeMap;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;

use crate::util::*;

/// A moto server on a free loopback port, killed on drop.
pub struct Moto {
    child: Child,
    port: u16,
}

impl Moto {
    pub fn start() -> Moto {
        Moto::start_logging(Stdio::null())
    }

    /// Starts a server whose request log (werkzeug's, on stderr) goes to `log`.
    pub fn start_logging(log: Stdio) -> Moto {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("python3")
            .args([
                "-m",
                "moto.server",
                "-p",
                &port.to_string(),
                "-H",
                "127.0.0.1",
            ])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("python3 -m moto.server (run scripts/install-test-deps.sh)");
        let mut moto = Moto { child, port };
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = moto.child.try_wait() {
                panic!("moto.server exited ({status}): is moto[server] installed? run scripts/install-test-deps.sh");
            }
            assert!(Instant::now() < deadline, "moto.server did not answer");
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        self.stop();
    }
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// An SDK client for the test server, with dummy credentials.
pub fn client(moto: &Moto) -> Client {
    let creds = aws_sdk_s3::config::Credentials::new("testing", "testing", None, None, "test");
    let conf = aws_sdk_s3::config::Builder::new()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .http_client(ctscan::source::s3::http_client())
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .endpoint_url(moto.endpoint())
        .force_path_style(true)
        .credentials_provider(creds)
        .build();
    Client::from_conf(conf)
}

/// Creates `bucket` and uploads every file under `dir` with its relative path
/// as key (below `prefix`); digests get signature metadata as CloudTrail sets it.
fn upload(rt: &tokio::runtime::Runtime, c: &Client, bucket: &str, prefix: &str, dir: &Path) {
    let files = files_under(dir);
    rt.block_on(async {
        c.create_bucket().bucket(bucket).send().await.unwrap();
        let mut set = tokio::task::JoinSet::new();
        for (rel, path) in files {
            let (c, bucket, key) = (c.clone(), bucket.to_string(), format!("{prefix}{rel}"));
            set.spawn(async move {
                let mut req = c
                    .put_object()
                    .bucket(bucket)
                    .key(&key)
                    .body(ByteStream::from(std::fs::read(path).unwrap()));
                if key.contains("_CloudTrail-Digest_") {
                    req = req
                        .metadata("signature", format!("sig-{}", key.len()))
                        .metadata("signature-algorithm", "SHA256withRSA");
                }
                req.send().await.unwrap();
            });
            if set.len() >= 16 {
                set.join_next().await.unwrap().unwrap();
            }
        }
        while let Some(r) = set.join_next().await {
            r.unwrap();
        }
    });
}

/// Every file under `dir` (not in `.ctscan-meta`) as (relative key, path).
fn files_under(dir: &Path) -> BTreeMap<String, PathBuf> {
    fn walk(root: &Path, d: &Path, out: &mut BTreeMap<String, PathBuf>) {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.file_name().unwrap() == ".ctscan-meta" {
                continue;
            }
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                out.insert(rel, p);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// `ctscan` with dummy credentials and nothing else from the AWS environment.
pub fn ctscan_s3(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ctscan"));
    cmd.args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") {
            cmd.env_remove(k);
        }
    }
    cmd.env_remove("CTSCAN_SOURCE")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent/aws-config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/aws-credentials",
        );
    cmd
}

fn run(cmd: &mut Command) -> (i32, String, String) {
    let o: Output = cmd.output().expect("run ctscan");
    outputs(&o)
}

/// `report SOURCE --out <new dir> ARGS…` (S3 flags included when given).
fn report_to(source: &str, extra: &[&str]) -> (i32, String, String, TestDir) {
    let out = TestDir::new();
    let o = out.path().display().to_string();
    let mut args = vec![source, "--out", &o, "-q"];
    args.extend_from_slice(extra);
    let (code, stdout, stderr) = run(&mut ctscan_s3(&args));
    (code, stdout, stderr, out)
}

const REPORTS: [&str; 4] = ["by_principal", "by_hour", "by_source_ip", "by_secret"];

fn assert_same_reports(a: &Path, b: &Path) {
    for name in REPORTS {
        let f = format!("{name}.csv");
        let (x, y) = (
            std::fs::read_to_string(a.join(&f)).unwrap(),
            std::fs::read_to_string(b.join(&f)).unwrap(),
        );
        assert_eq!(x, y, "{f} differs");
        assert!(x.lines().count() > 1, "{f} is empty");
    }
}

fn ct_record(id: usize, time: &str, principal: &str) -> String {
    format!(
        r#"{{"eventVersion":"1.09","eventTime":"{time}","eventSource":"secretsmanager.amazonaws.com","eventName":"GetSecretValue","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/{principal}"}},"requestParameters":{{"secretId":"s{}"}},"sourceIPAddress":"198.51.100.{}","eventID":"gen-{id}"}}"#,
        id % 7,
        id % 200
    )
}

/// sample-logs (several accounts, an organization trail, digests, Insights)
/// plus 1,050 small logs under one day of one account, so that listing that
/// day takes two pages, and a file outside the AWSLogs layout.
fn big_mirror() -> TestDir {
    let t = TestDir::new();
    for (rel, path) in files_under(&root().join("sample-logs")) {
        t.write(&rel, &std::fs::read(path).unwrap());
    }
    let day = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/01/02";
    for i in 0..1050 {
        let (h, m) = (i / 60 % 24, i % 60);
        let time = format!("2026-01-02T{h:02}:{m:02}:00Z");
        let body = format!(
            r#"{{"Records":[{}]}}"#,
            ct_record(i, &time, &format!("u{}", i % 5))
        );
        let name = format!(
            "{day}/111122223333_CloudTrail_us-east-1_20260102T{h:02}{m:02}Z_{i:05}.json.gz"
        );
        t.write_gz(&name, &body);
    }
    t.write_gz(
        "exports/extra.json.gz",
        &format!(
            r#"{{"Records":[{}]}}"#,
            ct_record(9999, "2026-01-02T10:00:00Z", "x")
        ),
    );
    t
}

#[test]
fn s3_report_equals_local_report_and_mirror_round_trips() {
    let moto = Moto::start();
    let rt = runtime();
    let c = client(&moto);
    let local = big_mirror();
    upload(&rt, &c, "trail", "", local.path());
    let ep = moto.endpoint();

    let (code, _, stderr, from_dir) = report_to(&local.path().display().to_string(), &[]);
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr, from_s3) = report_to("s3://trail", &["--endpoint-url", &ep]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stderr, "");
    assert_same_reports(from_dir.path(), from_s3.path());
    let (d, s) = (summary(from_dir.path()), summary(from_s3.path()));
    assert_accounted(&s);
    assert_eq!(d["records"], s["records"]);
    assert_eq!(d["files"]["scanned"], s["files"]["scanned"]);
    // Digests and Insights are not listed on S3 (they would only be skipped).
    let digests = d["files"]["skipped"]["digest"].as_u64().unwrap();
    let insights = d["files"]["skipped"]["insight"].as_u64().unwrap();
    let listed_local = d["files"]["listed"].as_u64().unwrap();
    assert_eq!(
        s["files"]["listed"].as_u64().unwrap(),
        listed_local - digests - insights
    );
    assert_eq!(s["s3"]["keys_listed"], s["files"]["listed"]);
    assert!(s["s3"]["list_requests"].as_u64().unwrap() > 2);
    assert!(d.get("s3").is_none());

    // mirror, then report the mirror: the same reports.
    let m = TestDir::new();
    let dir = m.path().display().to_string();
    let (code, stdout, stderr) = run(&mut ctscan_s3(&[
        "mirror",
        "s3://trail",
        &dir,
        "--endpoint-url",
        &ep,
    ]));
    assert_eq!(code, 0, "{stderr}");
    let total = files_under(local.path()).len();
    assert!(
        stdout.contains(&format!("{total} downloaded"))
            && stdout.contains(" 0 skipped")
            && stdout.contains(" 0 failed"),
        "{stdout}"
    );
    assert_eq!(
        files_under(m.path()).keys().collect::<Vec<_>>(),
        files_under(local.path()).keys().collect::<Vec<_>>()
    );
    let (code, _, stderr, from_mirror) = report_to(&dir, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_same_reports(from_mirror.path(), from_s3.path());

    // Sidecars carry the user metadata set at upload.
    let digest = files_under(m.path())
        .into_keys()
        .find(|k| k.contains("_CloudTrail-Digest_"))
        .unwrap();
    let side: serde_json::Value = serde_json::from_slice(
        &std::fs::read(m.join(&format!(".ctscan-meta/{digest}.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(side["key"], digest.as_str());
    assert_eq!(side["bucket"], "trail");
    assert_eq!(
        side["size"],
        std::fs::metadata(m.join(&digest)).unwrap().len()
    );
    assert_eq!(
        side["metadata"]["signature"],
        format!("sig-{}", digest.len()).as_str()
    );
    assert_eq!(side["metadata"]["signature-algorithm"], "SHA256withRSA");
    assert_eq!(side["etag"].as_str().unwrap().len(), 32, "{side}");
    assert!(
        side["last_modified"].as_str().unwrap().ends_with('Z'),
        "{side}"
    );

    // A second run downloads nothing.
    let (code, stdout, stderr) = run(&mut ctscan_s3(&[
        "mirror",
        "s3://trail",
        &dir,
        "--endpoint-url",
        &ep,
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains(&format!("0 downloaded (0 B), {total} skipped")),
        "{stdout}"
    );
}

#[test]
fn a_window_lists_each_region_once_from_its_first_day() {
    let moto = Moto::start();
    let rt = runtime();
    let c = client(&moto);
    let sample = root().join("sample-logs");
    upload(&rt, &c, "org", "trail/", &sample);
    let ep = moto.endpoint();
    let window = [
        "--since",
        "2026-01-03T12:00:00Z",
        "--until",
        "2026-01-04T00:00:00Z",
    ];
    let mut args = vec!["--endpoint-url", ep.as_str()];
    args.extend(window);
    let (code, _, stderr, out) = report_to("s3://org/trail", &args);
    assert_eq!(code, 0, "{stderr}");
    let s = summary(out.path());
    assert_accounted(&s);
    // Days 01/03..01/05: the window, an hour of slack before (still 01/03)
    // and a day after.
    let days = ["2026/01/03/", "2026/01/04/", "2026/01/05/"];
    let in_days = files_under(&sample)
        .into_keys()
        .filter(|k| k.contains("/CloudTrail/") && days.iter().any(|d| k.contains(d)))
        .count() as u64;
    // probe + trail/ + AWSLogs/ + o-exampleorg1/ + 4 CloudTrail/ folders
    // (listed directly, not found by listing each account) + 7 regions, each
    // listed once from start-after its first day.
    let expected_requests = 1 + 1 + 1 + 1 + 4 + 7;
    assert_eq!(s["s3"]["list_requests"], expected_requests, "{s}");
    assert_eq!(s["s3"]["keys_listed"], in_days, "{s}");
    assert_eq!(s["files"]["listed"], in_days);

    // Same reports as the whole local folder with the same window.
    let (code, _, stderr, local) = report_to(&sample.display().to_string(), &window);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        summary(local.path())["records"]["matched"],
        s["records"]["matched"]
    );
    for name in REPORTS {
        let f = format!("{name}.csv");
        assert_eq!(
            std::fs::read_to_string(local.join(&f)).unwrap(),
            std::fs::read_to_string(out.join(&f)).unwrap(),
        );
    }
}

/// Uploads `n` one-record logs into a fresh bucket `bkt` of a fresh server.
fn small_bucket(n: usize) -> (Moto, tokio::runtime::Runtime, Client, Vec<String>) {
    small_bucket_on(Moto::start(), n)
}

/// [`small_bucket`] on a given server.
fn small_bucket_on(moto: Moto, n: usize) -> (Moto, tokio::runtime::Runtime, Client, Vec<String>) {
    let rt = runtime();
    let c = client(&moto);
    let t = TestDir::new();
    let mut keys = Vec::new();
    for i in 0..n {
        let key = format!(
            "AWSLogs/111122223333/CloudTrail/us-east-1/2026/01/02/111122223333_CloudTrail_us-east-1_20260102T10{:02}Z_x{i}.json.gz",
            i % 60
        );
        t.write_gz(
            &key,
            &format!(
                r#"{{"Records":[{}]}}"#,
                ct_record(i, "2026-01-02T10:00:00Z", "u")
            ),
        );
        keys.push(key);
    }
    upload(&rt, &c, "bkt", "", t.path());
    keys.sort();
    (moto, rt, c, keys)
}

/// `ctscan_s3` set up to run `report s3://bkt --out OUT/out -q EXTRA...`
/// with its output piped.
fn report_command(moto: &Moto, out: &TestDir, extra: &[&str]) -> Command {
    let o = out.path().join("out").display().to_string();
    let mut args = vec!["s3://bkt", "--endpoint-url"];
    let endpoint = moto.endpoint();
    args.extend([endpoint.as_str(), "--out", &o, "-q"]);
    args.extend_from_slice(extra);
    let mut cmd = ctscan_s3(&args);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd
}

/// Starts `report s3://bkt` held after listing by the test hook; returns the
/// child, its barrier file and its --out dir.
fn report_held(moto: &Moto) -> (Child, PathBuf, TestDir) {
    let out = TestDir::new();
    let barrier = out.join("barrier");
    let child = report_command(moto, &out, &[])
        .env("CTSCAN_TEST_LIST_BARRIER", &barrier)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !barrier.exists() {
        assert!(Instant::now() < deadline, "ctscan never finished listing");
        std::thread::sleep(Duration::from_millis(20));
    }
    (child, barrier, out)
}

#[test]
fn an_object_deleted_after_listing_fails_by_name_and_the_scan_goes_on() {
    let (moto, rt, c, keys) = small_bucket(5);
    let (child, barrier, out) = report_held(&moto);
    rt.block_on(c.delete_object().bucket("bkt").key(&keys[2]).send())
        .unwrap();
    std::fs::remove_file(&barrier).unwrap();
    let (code, _, stderr) = outputs(&child.wait_with_output().unwrap());
    assert_eq!(code, 2, "{stderr}");
    let gone = format!("s3://bkt/{}", keys[2]);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(&format!("ctscan: {gone}: cannot read: NoSuchKey")),
        "{stderr}"
    );
    let s = summary(&out.join("out"));
    assert_accounted(&s);
    assert_eq!(s["files"]["listed"], 5);
    assert_eq!(s["files"]["scanned"], 4);
    assert_eq!(s["failures"][0]["object"], gone.as_str());
    assert_eq!(s["records"]["matched"], 4);
}

#[test]
fn a_server_gone_mid_scan_fails_every_unread_object_with_exit_2() {
    let (mut moto, _rt, _c, keys) = small_bucket(30);
    let (child, barrier, out) = report_held(&moto);
    moto.stop();
    std::fs::remove_file(&barrier).unwrap();
    let started = Instant::now();
    let (code, _, stderr) = outputs(&child.wait_with_output().unwrap());
    assert_eq!(code, 2, "{stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "took {:?}",
        started.elapsed()
    );
    let s = summary(&out.join("out"));
    assert_accounted(&s);
    assert_eq!(s["files"]["failed"], keys.len());
    assert_eq!(s["files"]["scanned"], 0);
    for f in s["failures"].as_array().unwrap() {
        let e = f["error"].as_str().unwrap();
        assert!(
            e.contains("onnect") || e.contains("stopped answering"),
            "{e}"
        );
    }
    assert_eq!(stderr.lines().count(), keys.len(), "{stderr}");
}

/// The server dies while objects are being read: what was read counts, every
/// object not read fails by name, and the run exits 2.
#[test]
fn a_server_stopped_mid_read_keeps_what_was_read_and_fails_the_rest() {
    let logs = TestDir::new();
    let log = logs.join("moto.log");
    let moto = Moto::start_logging(Stdio::from(std::fs::File::create(&log).unwrap()));
    let (mut moto, _rt, _c, keys) = small_bucket_on(moto, 80);
    let object_gets = || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("\"GET /bkt/AWSLogs/") && l.contains("\" 200"))
            .count()
    };
    let before = object_gets();
    let out = TestDir::new();
    let child = report_command(&moto, &out, &["--threads", "1", "--s3-concurrency", "1"])
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while object_gets() < before + 6 {
        assert!(Instant::now() < deadline, "ctscan never read 6 objects");
        std::thread::sleep(Duration::from_millis(2));
    }
    moto.stop();
    let (code, _, stderr) = outputs(&child.wait_with_output().unwrap());
    let s = summary(&out.join("out"));
    assert_accounted(&s);
    let (scanned, failed) = (
        s["files"]["scanned"].as_u64().unwrap(),
        s["files"]["failed"].as_u64().unwrap(),
    );
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(s["files"]["listed"], keys.len());
    assert_eq!(scanned + failed, keys.len() as u64);
    // Six answered GETs; at most one body in flight and one being scanned
    // may still be lost with the server.
    assert!(scanned >= 4, "read before the stop: {scanned}");
    assert!(failed >= 1, "the stop came too late to fail anything");
    assert_eq!(
        s["records"]["matched"], scanned,
        "one event per object read"
    );
    assert_eq!(stderr.lines().count() as u64, failed, "{stderr}");
    for line in stderr.lines() {
        assert!(line.starts_with("ctscan: s3://bkt/AWSLogs/"), "{line}");
    }
}

#[test]
fn wrong_endpoint_or_missing_credentials_fail_in_one_line_before_scanning() {
    let free = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = TestDir::new();
    let o = out.join("out").display().to_string();
    let dead = format!("http://127.0.0.1:{free}");
    let (code, stdout, stderr) = run(&mut ctscan_s3(&[
        "s3://bkt",
        "--endpoint-url",
        &dead,
        "--out",
        &o,
    ]));
    assert_eq!(code, 2);
    assert_eq!(stdout, "");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("ctscan: s3://bkt/: cannot list: "),
        "{stderr}"
    );
    assert!(!out.join("out/summary.json").exists());

    let (moto, _rt, _c, keys) = small_bucket(1);
    let ep = moto.endpoint();
    let (code, stdout, stderr) = run(ctscan_s3(&["s3://bkt", "--endpoint-url", &ep, "--out", &o])
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY"));
    assert_eq!(code, 2);
    assert_eq!(stdout, "");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("ctscan: s3://bkt/: cannot list: "),
        "{stderr}"
    );
    assert!(stderr.contains("credentials"), "{stderr}");
    assert!(!out.join("out/summary.json").exists());

    // A public bucket needs no credentials with --no-sign-request.
    _rt.block_on(async {
        use aws_sdk_s3::types::{BucketCannedAcl, ObjectCannedAcl};
        let c = &_c;
        c.put_bucket_acl()
            .bucket("bkt")
            .acl(BucketCannedAcl::PublicRead)
            .send()
            .await
            .unwrap();
        for k in &keys {
            c.put_object_acl()
                .bucket("bkt")
                .key(k)
                .acl(ObjectCannedAcl::PublicRead)
                .send()
                .await
                .unwrap();
        }
    });
    let (code, _, stderr) = run(ctscan_s3(&[
        "s3://bkt",
        "--endpoint-url",
        &ep,
        "--no-sign-request",
        "--out",
        &o,
        "-q",
    ])
    .env_remove("AWS_ACCESS_KEY_ID")
    .env_remove("AWS_SECRET_ACCESS_KEY"));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(summary(&out.join("out"))["records"]["matched"], 1);
}

/// `ingest` from S3: the rows of a local ingest, each object's ETag in the
/// manifest and the rows, and a rerun that fetches nothing until an object
/// is replaced.
#[test]
fn ingest_from_s3_is_incremental_by_etag() {
    let moto = Moto::start();
    let rt = runtime();
    let c = client(&moto);
    let local = crate::util::root().join("sample-logs");
    upload(&rt, &c, "trail", "", &local);
    let ep = moto.endpoint();
    let lake = TestDir::new();
    let lake_arg = lake.path().display().to_string();
    let ingest = || {
        run(&mut ctscan_s3(&[
            "ingest",
            "s3://trail",
            "--lake",
            &lake_arg,
            "--endpoint-url",
            &ep,
        ]))
    };
    let (code, first, stderr) = ingest();
    assert_eq!(code, 0, "{stderr}");
    let reference = TestDir::new();
    let (code, from_dir, _) = run(&mut ctscan_s3(&[
        "ingest",
        local.to_str().unwrap(),
        "--lake",
        reference.path().to_str().unwrap(),
    ]));
    assert_eq!(code, 0);
    let records = |out: &str| out.lines().nth(1).unwrap().to_string();
    assert_eq!(records(&first), records(&from_dir));
    let m = ctscan::lake::load_manifest(lake.path()).unwrap();
    assert_eq!(m.objects.len(), 25);
    let key = "s3://trail/AWSLogs/o-exampleorg1/746345825536/CloudTrail/us-east-1/2026/01/01/746345825536_CloudTrail_us-east-1_20260101T1904Z_VHcaTQzEYlRhHeDe.json.gz";
    let etag = m.objects[key].entry.etag.clone().expect("an ETag");
    assert_eq!(etag.len(), 32, "{etag}");
    assert_eq!(
        m.rows(),
        ctscan::lake::load_manifest(reference.path())
            .unwrap()
            .rows()
    );

    let (code, again, stderr) = ingest();
    assert_eq!(code, 0, "{stderr}");
    assert!(
        again.contains(" 0 scanned, ") && again.contains("unchanged: 25"),
        "{again}"
    );

    // The same key, other content (one record a year earlier): a new version.
    let path = local.join(key.trim_start_matches("s3://trail/"));
    let mut bytes = std::fs::read(&path).unwrap();
    let recs = {
        use std::io::Read;
        let mut text = String::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_string(&mut text)
            .unwrap();
        text
    };
    let first_time = recs.find("\"eventTime\":\"2026").unwrap() + 13;
    let changed = recs.replacen(&recs[first_time..first_time + 4], "2025", 1);
    bytes = gzip(changed.as_bytes());
    let object_key = key.trim_start_matches("s3://trail/").to_string();
    rt.block_on(async {
        c.put_object()
            .bucket("trail")
            .key(object_key)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .unwrap();
    });
    let (code, third, stderr) = ingest();
    assert_eq!(code, 0, "{stderr}");
    assert!(
        third.contains(" 1 scanned, ") && third.contains("unchanged: 24"),
        "{third}"
    );
    let m = ctscan::lake::load_manifest(lake.path()).unwrap();
    assert_ne!(m.objects[key].entry.etag.as_deref(), Some(etag.as_str()));
    assert!(m.stale.is_empty());
    assert_eq!(
        m.rows(),
        ctscan::lake::load_manifest(reference.path())
            .unwrap()
            .rows()
    );
}
