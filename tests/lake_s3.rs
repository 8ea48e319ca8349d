//! The event lake on S3 (`--lake s3://bucket/prefix`), through the real SDK
//! against a real S3-compatible server (moto) on loopback: readers answer
//! as over the raw logs and a local lake, a rerun with nothing new uploads
//! nothing, a killed ingest resumes to a clean ingest's lake without an
//! uncommitted key left, the lock keeps a second ingest out, and three
//! shards at once hold the rows of one ingest.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::lake::{lake_rows, ALL};
use crate::lake_read::assert_same_by;
use crate::s3::{client, ctscan_s3, runtime, Moto};
use crate::s3_scale::{gen_org, ops, S3lab};
use crate::util::{outputs, root, shared_data, TestDir};

/// A moto server logging its requests, a bucket `lake`, and a cache folder.
struct Lab {
    moto: Moto,
    log: TestDir,
    cache: TestDir,
}

impl Lab {
    fn start() -> Lab {
        let log = TestDir::new();
        let file = std::fs::File::create(log.join("requests.log")).unwrap();
        let moto = Moto::start_logging(Stdio::from(file));
        let rt = runtime();
        let c = client(&moto);
        rt.block_on(c.create_bucket().bucket("lake").send())
            .unwrap();
        Lab {
            moto,
            log,
            cache: TestDir::new(),
        }
    }

    /// `ctscan ARGS --endpoint-url …`, with dummy credentials and the cache.
    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = ctscan_s3(args);
        cmd.args(["--endpoint-url", &self.moto.endpoint()])
            .env("CTSCAN_LAKE_CACHE", self.cache.path());
        cmd
    }

    fn run(&self, args: &[&str]) -> (i32, String, String) {
        outputs(&self.cmd(args).output().unwrap())
    }

    /// The requests the server answered so far, as `METHOD path` lines.
    fn requests(&self) -> Vec<String> {
        std::fs::read_to_string(self.log.join("requests.log"))
            .unwrap()
            .lines()
            .filter_map(|l| l.split('"').nth(1))
            .map(|r| r.rsplit_once(' ').map_or(r, |(a, _)| a).to_string())
            .collect()
    }

    /// Every key below `prefix` of the bucket.
    fn keys(&self, prefix: &str) -> BTreeSet<String> {
        let rt = runtime();
        let c = client(&self.moto);
        let mut out = BTreeSet::new();
        let mut token = None;
        loop {
            let page = rt
                .block_on(
                    c.list_objects_v2()
                        .bucket("lake")
                        .prefix(prefix)
                        .set_continuation_token(token)
                        .send(),
                )
                .unwrap();
            out.extend(
                page.contents()
                    .iter()
                    .filter_map(|o| o.key())
                    .map(String::from),
            );
            token = page.next_continuation_token().map(String::from);
            if token.is_none() {
                return out;
            }
        }
    }

    fn put(&self, key: &str, body: &[u8]) {
        let rt = runtime();
        let c = client(&self.moto);
        rt.block_on(
            c.put_object()
                .bucket("lake")
                .key(key)
                .body(body.to_vec().into())
                .send(),
        )
        .unwrap();
    }

    /// The rows of the lake at `url`, from the cache after a query that
    /// reads every partition.
    fn rows(&self, url: &str) -> crate::lake::Rows {
        let out = TestDir::new();
        let o = out.path().to_str().unwrap();
        let (code, _, err) = self.run(&["report", "--lake", url, "--out", o, "-q"]);
        assert_eq!(code, 0, "{err}");
        let prefix = url.strip_prefix("s3://lake/").unwrap();
        let endpoint: String = self
            .moto
            .endpoint()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        lake_rows(&self.cache.join(&format!("{endpoint}/lake/{prefix}")), &ALL)
    }

    /// The part files and fragments the lake's manifest commits, as keys.
    fn committed(&self, prefix: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let rt = runtime();
        let c = client(&self.moto);
        for key in self.keys(&format!("{prefix}/_ctscan/manifest/")) {
            let got = rt
                .block_on(c.get_object().bucket("lake").key(&key).send())
                .unwrap();
            let body = rt.block_on(got.body.collect()).unwrap().into_bytes();
            let f: Value = serde_json::from_slice(&body).unwrap();
            for file in f["files"].as_array().unwrap() {
                out.insert(format!("{prefix}/{}", file["path"].as_str().unwrap()));
            }
            for gone in f["removed"].as_array().into_iter().flatten() {
                out.remove(&format!("{prefix}/{}", gone.as_str().unwrap()));
            }
        }
        out
    }
}

fn ingest(lab: &Lab, source: &Path, url: &str, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["ingest", source.to_str().unwrap(), "--lake", url];
    args.extend_from_slice(extra);
    lab.run(&args)
}

fn local_lake(source: &Path) -> TestDir {
    let lake = TestDir::new();
    let (code, _, err) = outputs(&crate::util::ctscan(&[
        "ingest",
        source.to_str().unwrap(),
        "--lake",
        lake.path().to_str().unwrap(),
        "-q",
    ]));
    assert_eq!(code, 0, "{err}");
    lake
}

fn puts(requests: &[String]) -> Vec<&String> {
    requests
        .iter()
        .filter(|r| r.starts_with("PUT ") && !r.contains("/_ctscan/lock"))
        .collect()
}

#[test]
fn an_s3_lake_answers_like_the_raw_logs_and_a_local_lake() {
    let lab = Lab::start();
    for (name, set) in [
        ("sample", root().join("sample-logs")),
        ("stratus", shared_data("stratus-red-team")),
    ] {
        let url = format!("s3://lake/{name}");
        let (code, out, err) = ingest(&lab, &set, &url, &[]);
        assert_eq!(code, 0, "{err}");
        assert!(out.contains(&format!("lake {url}: ")), "{out}");
        let runner = |args: &[&str]| {
            let (code, out, err) = lab.run(args);
            assert_eq!(code, 0, "{args:?}: {err}");
            out
        };
        let src = set.to_str().unwrap();
        assert_same_by(&runner, &[src], Path::new(&url), &[]);
        let local = local_lake(&set);
        assert_eq!(lab.rows(&url), lake_rows(local.path(), &ALL), "{name}");
        assert_eq!(lab.keys(&format!("{name}/events/")), lab.committed(name));
    }

    // Nothing new: no part file, no fragment uploaded.
    let sample = root().join("sample-logs");
    let before = lab.requests().len();
    let (code, out, err) = ingest(&lab, &sample, "s3://lake/sample", &[]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("0 rows in 0 files written by this run; 4194 rows in "),
        "{out}"
    );
    let after = lab.requests();
    assert_eq!(puts(&after[before..]), Vec::<&String>::new());
    // The lock was taken (and checked to be conditional) and released.
    let locks: Vec<&String> = after[before..]
        .iter()
        .filter(|r| r.contains("/_ctscan/lock"))
        .collect();
    assert_eq!(locks.len(), 3, "{locks:?}");
    assert!(lab.keys("sample/_ctscan/lock").is_empty());

    // A second query of the same lake GETs no part file.
    let before = lab.requests().len();
    let (code, _, err) = lab.run(&["report", "--lake", "s3://lake/sample", "-q"]);
    assert_eq!(code, 0, "{err}");
    let parts: Vec<String> = lab.requests()[before..]
        .iter()
        .filter(|r| r.starts_with("GET ") && r.contains("/events/"))
        .cloned()
        .collect();
    assert_eq!(parts, Vec::<String>::new());
}

#[test]
fn a_killed_s3_ingest_resumes_to_a_clean_ingests_lake() {
    let lab = Lab::start();
    let src = root().join("sample-logs");
    let url = "s3://lake/k";
    // Dies at its second commit, its part files uploaded, the fragment not.
    let crash = [
        "--threads",
        "1",
        "--commit-objects",
        "4",
        "--crash-after-commits",
        "2",
    ];
    let (code, _, _) = ingest(&lab, &src, url, &crash);
    assert_eq!(code, 137);
    assert_eq!(lab.keys("k/_ctscan/manifest/").len(), 1);
    let uncommitted: Vec<String> = lab
        .keys("k/events/")
        .difference(&lab.committed("k"))
        .cloned()
        .collect();
    assert!(!uncommitted.is_empty());
    assert_eq!(lab.keys("k/_ctscan/lock").len(), 1);

    let (code, out, err) = ingest(&lab, &src, url, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("taking over the lock of process"), "{err}");
    assert!(
        err.contains(&format!(
            "an earlier ingest was interrupted: {} uncommitted file(s) removed",
            uncommitted.len()
        )),
        "{err}"
    );
    assert!(out.contains("objects: 40 listed: 21 scanned"), "{out}");
    assert_eq!(lab.keys("k/events/"), lab.committed("k"));
    assert!(lab.keys("k/_ctscan/lock").is_empty());
    let clean = local_lake(&src);
    assert_eq!(lab.rows(url), lake_rows(clean.path(), &ALL));
}

#[test]
fn a_second_ingest_into_an_s3_lake_is_refused_while_one_holds_the_lock() {
    let lab = Lab::start();
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let holder = serde_json::json!({
        "pid": std::process::id(), "host": host.trim(), "started": "2026-01-01T00:00:00Z"
    });
    lab.put("held/_ctscan/lock", holder.to_string().as_bytes());
    let src = root().join("sample-logs");
    let (code, out, err) = ingest(&lab, &src, "s3://lake/held", &[]);
    assert_eq!(code, 2);
    assert_eq!(out, "");
    let want = format!(
        "s3://lake/held/_ctscan/lock is held by process {} on {}, started 2026-01-01T00:00:00Z",
        std::process::id(),
        host.trim()
    );
    assert!(err.contains(&want), "{err}");
    assert_eq!(
        lab.keys("held/"),
        BTreeSet::from(["held/_ctscan/lock".to_string()])
    );
}

#[test]
fn three_shards_at_once_into_an_s3_lake_hold_one_ingests_rows() {
    let lab = Lab::start();
    let org = gen_org("accounts=4,regions=2,days=3,per_day=2,start=2026-10-01,seed=7");
    let url = "s3://lake/org";
    let children: Vec<_> = (0..3)
        .map(|i| {
            let shard = format!("{i}/3");
            let mut cmd = lab.cmd(&[
                "ingest",
                org.path().to_str().unwrap(),
                "--lake",
                url,
                "--shard",
                &shard,
                "--commit-objects",
                "2",
                "--threads",
                "1",
                "-q",
            ]);
            cmd.env_remove("JOB_COMPLETION_INDEX")
                .env_remove("AWS_BATCH_JOB_ARRAY_INDEX")
                .stdout(Stdio::null())
                .stderr(Stdio::piped());
            cmd.spawn().unwrap()
        })
        .collect();
    for c in children {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let clean = local_lake(org.path());
    assert_eq!(lab.rows(url), lake_rows(clean.path(), &ALL));
    assert_eq!(lab.keys("org/events/"), lab.committed("org"));
    let (code, out, err) = lab.run(&["lake", "status", url, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let st: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(st["lake"], url);
    assert_eq!(st["sweeps"]["3"]["missing"], serde_json::json!([]));
    assert_eq!(st["sweeps"]["3"]["locked"], serde_json::json!([]));
    let finished = st["sweeps"]["3"]["finished"].as_array().unwrap();
    assert_eq!(finished.len(), 3, "{st}");
    let rows: u64 = finished.iter().map(|f| f["rows"].as_u64().unwrap()).sum();
    let expected: usize = lake_rows(clean.path(), &ALL).values().sum();
    assert_eq!(rows as usize, expected);

    // A query with a fresh cache GETs only the part files of the
    // partitions its --account, --region and --since keep.
    let fresh = Lab {
        cache: TestDir::new(),
        ..lab
    };
    let committed = fresh.committed("org");
    let account = committed
        .iter()
        .find_map(|k| k.split('/').find_map(|p| p.strip_prefix("account=")))
        .unwrap()
        .to_string();
    let wanted: BTreeSet<String> = committed
        .iter()
        .filter(|k| k.contains(&format!("/account={account}/")) && k.contains("/region=us-east-1/"))
        .filter(|k| !k.contains("/date=2026-10-01/"))
        .map(|k| format!("GET /lake/{k}"))
        .collect();
    assert!(!wanted.is_empty());
    let before = fresh.requests().len();
    let args = [
        "report",
        "--lake",
        url,
        "--account",
        &account,
        "--region",
        "us-east-1",
        "--since",
        "2026-10-02T00:00:00Z",
        "-q",
    ];
    let (code, _, err) = fresh.run(&args);
    assert_eq!(code, 0, "{err}");
    let got: BTreeSet<String> = fresh.requests()[before..]
        .iter()
        .filter(|r| r.starts_with("GET ") && r.contains("/events/"))
        .map(|r| r.split('?').next().unwrap().to_string())
        .collect();
    assert_eq!(got, wanted);
}

#[test]
fn a_changed_object_is_read_again_and_its_old_rows_rewritten_on_s3() {
    use crate::lake::{records, sample_copy, write_log, LOG};
    let lab = Lab::start();
    let src = sample_copy();
    let url = "s3://lake/c";
    assert_eq!(ingest(&lab, src.path(), url, &[]).0, 0);
    // One object shrinks to its first three records; a new one arrives.
    let recs = records(src.path(), LOG);
    write_log(&src, LOG, &recs[..3]);
    let new = LOG.replace("VHcaTQzEYlRhHeDe", "NewObjectArrived");
    write_log(&src, &new, &recs[3..5]);
    let before = lab.keys("c/events/");
    // Staged in a folder that holds another lake's leftovers: emptied first.
    let staging = TestDir::new();
    staging.write("_ctscan/manifest/zzz-c000000.json", b"{");
    staging.write(
        "events/account=1/region=x/date=2026-01-01/part-x.parquet",
        b"PAR1",
    );
    let st = staging.path().to_str().unwrap();
    let (code, out, err) = ingest(&lab, src.path(), url, &["--lake-staging", st]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("objects: 41 listed: 2 scanned"), "{out}");
    let after = lab.keys("c/events/");
    assert_eq!(after, lab.committed("c"));
    // The files that held the old rows are retired: deleted, not edited.
    assert!(!before.is_subset(&after));
    let clean = local_lake(src.path());
    assert_eq!(lab.rows(url), lake_rows(clean.path(), &ALL));
    assert!(!staging.join("_ctscan/manifest/zzz-c000000.json").exists());
}

/// `ctscan ARGS` against s3lab's endpoint, with its own cache.
fn on_s3lab(lab: &S3lab, cache: &TestDir, args: &[&str]) -> (i32, String, String) {
    let mut cmd = ctscan_s3(args);
    cmd.args(["--endpoint-url", &lab.endpoint()])
        .env("CTSCAN_LAKE_CACHE", cache.path());
    outputs(&cmd.output().unwrap())
}

#[test]
fn on_s3lab_a_rerun_puts_nothing_and_a_server_ignoring_conditions_is_refused() {
    let lab = S3lab::org(
        "accounts=1,regions=1,days=1,per_day=1,start=2026-10-01,seed=1",
        &["--mem", "lake", "--mem-unconditional", "loose"],
    );
    let cache = TestDir::new();
    let src = root().join("sample-logs");
    let src = src.to_str().unwrap();
    let ingest = |lake: &str| on_s3lab(&lab, &cache, &["ingest", src, "--lake", lake, "-q"]);
    let (code, _, err) = ingest("s3://lake/l");
    assert_eq!(code, 0, "{err}");
    let first = lab.requests();
    let is_lock = |r: &&Value| r["key"].as_str().unwrap_or("").ends_with("_ctscan/lock");
    let put_keys = |log: &[Value]| -> Vec<String> {
        ops(log, "PutObject")
            .into_iter()
            .filter(|r| !is_lock(r))
            .map(|r| r["key"].as_str().unwrap().to_string())
            .collect()
    };
    let parts = put_keys(&first)
        .iter()
        .filter(|k| k.ends_with(".parquet"))
        .count();
    let fragments = put_keys(&first)
        .iter()
        .filter(|k| k.contains("/_ctscan/manifest/"))
        .count();
    assert!(parts > 0 && fragments > 0);
    assert_eq!(put_keys(&first).len(), parts + fragments);

    // Nothing new: the lock's two PUTs and its DELETE, no other write.
    let (code, _, err) = ingest("s3://lake/l");
    assert_eq!(code, 0, "{err}");
    let all = lab.requests();
    let again = &all[first.len()..];
    assert_eq!(put_keys(again), Vec::<String>::new());
    assert_eq!(ops(again, "PutObject").len(), 2);
    assert_eq!(ops(again, "DeleteObject").len(), 1);

    // The same answers as over the raw logs.
    let (code, lake, err) = on_s3lab(
        &lab,
        &cache,
        &[
            "events",
            "--pattern",
            "GetSecretValue",
            "--lake",
            "s3://lake/l",
            "--format",
            "csv",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let (code, raw, err) = outputs(&crate::util::ctscan(&[
        "events",
        "--pattern",
        "GetSecretValue",
        src,
        "--format",
        "csv",
    ]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(lake, raw);

    // A server that ignores If-None-Match cannot hold the lock: refused,
    // nothing written, the probe's key deleted.
    let before = lab.requests().len();
    let (code, out, err) = ingest("s3://loose/l");
    assert_eq!(code, 2);
    assert_eq!(out, "");
    assert!(
        err.contains("--lake s3://loose/l/: the server ignores conditional writes"),
        "{err}"
    );
    let log = lab.requests();
    let writes: Vec<&str> = log[before..]
        .iter()
        .filter(|r| r["op"] == "PutObject" || r["op"] == "DeleteObject")
        .map(|r| r["op"].as_str().unwrap())
        .collect();
    assert_eq!(writes, ["PutObject", "PutObject", "DeleteObject"]);
}

#[test]
fn an_engines_retry_of_a_shard_takes_over_the_lock_its_failed_worker_left() {
    let lab = Lab::start();
    let holder = serde_json::json!({
        "pid": 1, "host": "pod-of-the-failed-try", "started": "2026-01-01T00:00:00Z"
    });
    lab.put("r/_ctscan/lock.shard-1-of-3", holder.to_string().as_bytes());
    let src = root().join("sample-logs");
    let src = src.to_str().unwrap();
    // An index given by hand: the holder may be running elsewhere.
    let (code, _, err) = lab.run(&["ingest", src, "--lake", "s3://lake/r", "--shard", "1/3"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("is held by process 1 on pod-of-the-failed-try"),
        "{err}"
    );
    // The engine's retry of index 1: its failed worker has ended.
    let mut cmd = lab.cmd(&[
        "ingest",
        src,
        "--lake",
        "s3://lake/r",
        "--shard",
        "auto/3",
        "-q",
    ]);
    cmd.env("JOB_COMPLETION_INDEX", "1")
        .env_remove("AWS_BATCH_JOB_ARRAY_INDEX");
    let (code, _, err) = outputs(&cmd.output().unwrap());
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("taking over the lock of process 1 on pod-of-the-failed-try"),
        "{err}"
    );
    assert!(lab.keys("r/_ctscan/lock").is_empty());
    assert_eq!(lab.keys("r/_ctscan/shards/").len(), 1);
}

#[test]
fn a_committed_part_file_missing_from_the_bucket_fails_the_query_by_name() {
    let lab = Lab::start();
    let src = root().join("sample-logs");
    assert_eq!(ingest(&lab, &src, "s3://lake/m", &[]).0, 0);
    let committed = lab.committed("m");
    let gone = committed.iter().next().unwrap();
    let rt = runtime();
    let c = client(&lab.moto);
    rt.block_on(c.delete_object().bucket("lake").key(gone).send())
        .unwrap();
    let (code, out, err) = lab.run(&["report", "--lake", "s3://lake/m", "-q"]);
    assert_eq!(code, 2);
    assert_eq!(out, "");
    let want = format!(
        "--lake s3://lake/m: 1 committed part file(s) are missing from the bucket, e.g. {}",
        gone.strip_prefix("m/").unwrap()
    );
    assert!(err.contains(&want), "{err}");
}
