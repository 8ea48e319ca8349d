//! S3 at organization scale, through the real SDK against s3lab (the
//! workspace's loopback S3 server, `tools/s3lab`): virtual org-shaped
//! buckets, injected SlowDown and listing failures, and a request log to
//! check the order and number of requests exactly. Each report is compared
//! with the report of the same bucket written locally by `s3lab gen-org`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::*;

/// The s3lab binary: `$S3LAB`, else the one `scripts/install-test-deps.sh`
/// builds into this target directory (`cargo build -p s3lab`; a release
/// build is taken when there is no debug one). Not built here: `cargo test` holds the
/// target directory's lock while tests run.
pub fn s3lab_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(p) = std::env::var_os("S3LAB") {
            return PathBuf::from(p);
        }
        // tests binary: <target>/<profile>/deps/tests-…
        let exe = std::env::current_exe().unwrap();
        let target = exe.ancestors().nth(3).unwrap();
        ["debug", "release"]
            .iter()
            .map(|p| target.join(p).join("s3lab"))
            .find(|p| p.exists())
            .expect("no s3lab binary: run scripts/install-test-deps.sh (cargo build -p s3lab)")
    })
}

/// An s3lab server on a free loopback port, killed on drop.
pub struct S3lab {
    child: Child,
    port: u16,
    log: PathBuf,
    _dir: TestDir,
}

impl S3lab {
    /// Serves the org bucket `org` of `spec`, with extra `serve` options.
    pub fn org(spec: &str, extra: &[&str]) -> S3lab {
        let dir = TestDir::new();
        let (port_file, log) = (dir.join("port"), dir.join("requests.jsonl"));
        let bucket = format!("org={spec}");
        let mut args = vec!["serve", "--org", &bucket, "--max-seconds", "600"];
        let (pf, lf) = (port_file.display().to_string(), log.display().to_string());
        args.extend(["--port-file", &pf, "--request-log", &lf]);
        args.extend_from_slice(extra);
        let child = Command::new(s3lab_bin())
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start s3lab");
        let deadline = Instant::now() + Duration::from_secs(30);
        while !port_file.exists() {
            assert!(Instant::now() < deadline, "s3lab did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        let port = std::fs::read_to_string(&port_file)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        S3lab {
            child,
            port,
            log,
            _dir: dir,
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Every request answered, in arrival order (ctscan's probe included).
    pub fn requests(&self) -> Vec<Value> {
        let mut v: Vec<Value> = std::fs::read_to_string(&self.log)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        v.sort_by_key(|r| r["seq"].as_u64());
        v
    }
}

impl Drop for S3lab {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The same bucket, written locally.
pub fn gen_org(spec: &str) -> TestDir {
    let dir = TestDir::new();
    let out = dir.path().display().to_string();
    let st = Command::new(s3lab_bin())
        .args(["gen-org", spec, "--out", &out])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    dir
}

/// `ctscan report SOURCE --out DIR -q ARGS` with dummy credentials.
fn report(source: &str, args: &[&str]) -> (i32, String, Value, TestDir) {
    let out = TestDir::new();
    let o = out.path().display().to_string();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ctscan"));
    cmd.args([source, "--out", &o, "-q"]).args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") {
            cmd.env_remove(k);
        }
    }
    cmd.env_remove("CTSCAN_SOURCE")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent");
    let (code, _, stderr) = outputs(&cmd.output().unwrap());
    let s = if out.join("summary.json").exists() {
        summary(out.path())
    } else {
        Value::Null
    };
    (code, stderr, s, out)
}

/// The local report of the same bucket and options, and its summary.
fn local_report(dir: &TestDir, args: &[&str]) -> (Value, TestDir) {
    let (code, stderr, s, out) = report(&dir.path().display().to_string(), args);
    assert_eq!(code, 0, "{stderr}");
    (s, out)
}

fn assert_same_reports(a: &Path, b: &Path) {
    for name in ["by_principal", "by_hour", "by_source_ip", "by_secret"] {
        let f = format!("{name}.csv");
        let (x, y) = (
            std::fs::read_to_string(a.join(&f)).unwrap(),
            std::fs::read_to_string(b.join(&f)).unwrap(),
        );
        assert_eq!(x, y, "{f} differs");
        assert!(x.lines().count() > 1, "{f} is empty");
    }
}

/// Requests of one operation in the log.
pub fn ops<'a>(log: &'a [Value], op: &str) -> Vec<&'a Value> {
    log.iter().filter(|r| r["op"] == op).collect()
}

/// Every log key under `dir`, relative, with `/`.
fn keys_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in walkdir::WalkDir::new(dir) {
        let e = e.unwrap();
        if e.file_type().is_file() {
            let rel = e.path().strip_prefix(dir).unwrap();
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
    out.sort();
    out
}

const SMALL: &str = "accounts=4,regions=3,days=3,per_day=4,start=2026-10-01,seed=7";

/// One region holding three pages of keys (2,880 objects), so that its
/// second and third pages can only be asked for after the first is back.
const PAGED: &str = "accounts=1,regions=1,days=10,per_day=288,start=2026-10-01,seed=7";

#[test]
fn the_listing_streams_into_the_gets() {
    let lab = S3lab::org(PAGED, &["--latency-ms", "20"]);
    let (code, stderr, s, out) = report("s3://org", &["--endpoint-url", &lab.endpoint()]);
    assert_eq!(code, 0, "{stderr}");
    assert_accounted(&s);
    let log = lab.requests();
    let (lists, gets) = (ops(&log, "ListObjectsV2"), ops(&log, "GetObject"));
    // probe, the root, AWSLogs/, the org, the CloudTrail/ folder, 3 pages.
    assert_eq!(lists.len(), 1 + 1 + 1 + 1 + 1 + 3);
    assert_eq!(gets.len(), 10 * 288);
    assert_eq!(s["s3"]["list_requests"], lists.len());
    assert_eq!(s["s3"]["get_requests"], gets.len());
    assert_eq!(s["files"]["scanned"], gets.len());
    // The first GET is sent before the last LIST: keys flow as pages come,
    // and the third page cannot be asked for before the second is back.
    let first_get = gets[0]["seq"].as_u64().unwrap();
    let last_list = lists.last().unwrap()["seq"].as_u64().unwrap();
    assert!(
        first_get < last_list,
        "first GET #{first_get}, last LIST #{last_list}"
    );
    // The first GET does not wait for the listing: at most for the LIST
    // queued ahead of it in the shared pool (the next page), one round trip.
    let start = gets[0]["start_us"].as_u64().unwrap();
    let pages_done = lists
        .iter()
        .filter(|l| l["delimiter"].is_null() && l["end_us"].as_u64().unwrap() <= start)
        .count();
    assert!(
        (1..=2).contains(&pages_done),
        "{pages_done} of 3 region pages answered before the first GET"
    );
    let local = gen_org(PAGED);
    let (ls, lout) = local_report(&local, &[]);
    assert_eq!(ls["records"], s["records"]);
    assert_same_reports(lout.path(), out.path());
}

const TEN_DAYS: &str = "accounts=5,regions=4,days=10,per_day=2,start=2026-10-01,seed=3";

#[test]
fn account_region_and_until_prune_the_requests_exactly() {
    let local = gen_org(TEN_DAYS);
    let keys = keys_under(local.path());
    let account = |k: &str| k.split('/').nth(2).unwrap().to_string();
    let region = |k: &str| k.split('/').nth(4).unwrap().to_string();
    let accounts: Vec<String> = keys
        .iter()
        .map(|k| account(k))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let (a1, a3) = (accounts[1].clone(), accounts[3].clone());
    let a3_glob = format!("{}*", &a3[..10]);
    let lab = S3lab::org(TEN_DAYS, &[]);
    let window = [
        "--since",
        "2026-10-03T00:00:00Z",
        "--until",
        "2026-10-05T00:00:00Z",
    ];
    let mut args = vec![
        "--account",
        &a1,
        "--account",
        &a3_glob,
        "--region",
        "us-east-*",
    ];
    args.extend(window);
    let mut s3_args = args.clone();
    let ep = lab.endpoint();
    s3_args.extend(["--endpoint-url", &ep]);
    let (code, stderr, s, out) = report("s3://org", &s3_args);
    assert_eq!(code, 0, "{stderr}");
    assert_accounted(&s);
    let chosen =
        |k: &&String| (account(k) == a1 || account(k) == a3) && region(k).starts_with("us-east-");
    let regions: std::collections::BTreeSet<String> =
        keys.iter().filter(chosen).map(|k| region(k)).collect();
    assert_eq!(regions.len(), 2, "{regions:?}");
    // Listed: the days from 10/02 (since less an hour) to 10/06 (until and a day).
    let days = [
        "/2026/10/02/",
        "/2026/10/03/",
        "/2026/10/04/",
        "/2026/10/05/",
        "/2026/10/06/",
    ];
    let listed: Vec<&String> = keys
        .iter()
        .filter(chosen)
        .filter(|k| days.iter().any(|d| k.contains(d)))
        .collect();
    // Fetched: named after since - 1h and before until + 24h.
    let name_time = |k: &str| k.rsplit('_').nth(1).unwrap().to_string();
    let fetched = listed
        .iter()
        .filter(|k| {
            let t = name_time(k);
            t.as_str() > "20261002T2300Z" && t.as_str() < "20261006T0000Z"
        })
        .count();
    let log = lab.requests();
    let (lists, gets) = (ops(&log, "ListObjectsV2"), ops(&log, "GetObject"));
    // probe, root, AWSLogs/, the org, 2 CloudTrail/ folders, 2x2 regions once each.
    assert_eq!(lists.len(), 1 + 1 + 1 + 1 + 2 + 4, "{lists:#?}");
    assert_eq!(s["s3"]["list_requests"], lists.len());
    assert_eq!(s["s3"]["keys_listed"], listed.len());
    assert_eq!(s["files"]["listed"], listed.len());
    assert_eq!(gets.len(), fetched);
    assert_eq!(s["files"]["scanned"], fetched);
    // Nothing outside the selection is asked for.
    for r in lists.iter().chain(&gets) {
        let what = r["prefix"].as_str().or(r["key"].as_str()).unwrap_or("");
        let parts: Vec<&str> = what.split('/').collect();
        if let Some(acct) = parts.get(2).filter(|p| !p.is_empty()) {
            assert!(*acct == a1 || *acct == a3, "{r}");
        }
        if let Some(reg) = parts.get(4).filter(|p| !p.is_empty()) {
            assert!(reg.starts_with("us-east-"), "{r}");
        }
    }
    let (ls, lout) = local_report(&local, &args);
    assert_eq!(ls["records"], s["records"]);
    assert_eq!(ls["files"]["scanned"], s["files"]["scanned"]);
    assert_same_reports(lout.path(), out.path());
}

#[test]
fn a_fifth_of_requests_throttled_gives_the_exact_report() {
    let spec = "accounts=4,regions=3,days=3,per_day=8,start=2026-10-01,seed=11";
    let lab = S3lab::org(spec, &["--slowdown-rate", "0.2", "--seed", "5"]);
    let (code, stderr, s, out) = report("s3://org", &["--endpoint-url", &lab.endpoint()]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stderr, "");
    assert_accounted(&s);
    let log = lab.requests();
    let status = |r: &&Value| r["status"].as_u64().unwrap();
    let (lists, gets) = (ops(&log, "ListObjectsV2"), ops(&log, "GetObject"));
    let throttled = log.iter().filter(|r| r["status"] == 503).count();
    assert!(throttled > 20, "only {throttled} SlowDowns");
    // Every attempt counted, retries included.
    assert_eq!(s["s3"]["list_requests"], lists.len());
    assert_eq!(s["s3"]["get_requests"], gets.len());
    let heads = ops(&log, "HeadBucket")
        .iter()
        .filter(|r| status(r) == 503)
        .count();
    assert_eq!(
        s["s3"]["throttled"].as_u64().unwrap() as usize,
        throttled - heads
    );
    assert_eq!(s["s3"]["retries"], s["s3"]["throttled"]);
    let got = gets.iter().filter(|r| status(r) == 200).count();
    assert_eq!(got, 4 * 3 * 3 * 8);
    assert_eq!(s["files"]["scanned"], got);
    assert_eq!(s["files"]["failed"], 0);
    let (ls, lout) = local_report(&gen_org(spec), &[]);
    assert_eq!(ls["records"], s["records"]);
    assert_same_reports(lout.path(), out.path());
}

#[test]
fn a_prefix_that_cannot_be_listed_is_a_failure_hiding_an_unknown_number() {
    let local = gen_org(SMALL);
    let keys = keys_under(local.path());
    let region_of = |k: &str| k.split('/').take(5).collect::<Vec<_>>().join("/") + "/";
    let hidden_prefix = region_of(&keys[5]);
    let hidden = keys
        .iter()
        .filter(|k| k.starts_with(&hidden_prefix))
        .count();
    let lab = S3lab::org(SMALL, &["--fail-list", &hidden_prefix]);
    let (code, stderr, s, _out) = report("s3://org", &["--endpoint-url", &lab.endpoint()]);
    assert_eq!(code, 2, "{stderr}");
    assert_accounted(&s);
    let url = format!("s3://org/{hidden_prefix}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(&format!("ctscan: {url}: cannot list: InternalError")),
        "{stderr}"
    );
    assert!(stderr.contains("an unknown number"), "{stderr}");
    assert_eq!(s["failures"][0]["object"], url.as_str());
    assert_eq!(s["files"]["failed"], 1);
    assert_eq!(s["files"]["scanned"], keys.len() - hidden);
    assert_eq!(s["files"]["listed"], keys.len() - hidden + 1);
    assert_eq!(s["s3"]["unlistable_prefixes"], 1);
    // A 500 gets five attempts; the region is asked for nothing else.
    let log = lab.requests();
    let tries = ops(&log, "ListObjectsV2")
        .into_iter()
        .filter(|r| r["prefix"] == hidden_prefix.as_str())
        .count();
    assert_eq!(tries, 5);
    assert_eq!(s["s3"]["retries"], 4);
}

/// The most requests of `log` the server held at once, among those `pick`
/// keeps, each counted when it started.
fn most_at_once(log: &[Value], pick: impl Fn(&Value) -> bool) -> usize {
    let span = |r: &Value| {
        (
            r["start_us"].as_u64().unwrap(),
            r["end_us"].as_u64().unwrap(),
        )
    };
    let picked: Vec<(u64, u64)> = log.iter().filter(|r| pick(r)).map(span).collect();
    picked
        .iter()
        .map(|&(start, _)| {
            picked
                .iter()
                .filter(|&&(s, e)| s <= start && start < e)
                .count()
        })
        .max()
        .unwrap_or(0)
}

/// 136 regions to list, one object each.
const WIDE: &str = "accounts=8,regions=17,days=1,per_day=1,start=2026-10-01,seed=5";

#[test]
fn listed_objects_are_fetched_before_more_regions_are_listed() {
    // A pool of 4 places: every LIST and GET waits for one, so the order in
    // which waiting requests are served decides, not how fast the machine is.
    let lab = S3lab::org(WIDE, &["--latency-ms", "20"]);
    let (code, stderr, s, _out) = report(
        "s3://org",
        &["--endpoint-url", &lab.endpoint(), "--s3-concurrency", "4"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(s["files"]["scanned"], 8 * 17);
    let log = lab.requests();
    let regions: Vec<&Value> = ops(&log, "ListObjectsV2")
        .into_iter()
        .filter(|r| r["delimiter"].is_null() && r["prefix"].as_str() != Some(""))
        .collect();
    assert_eq!(regions.len(), 8 * 17);
    // GETs take a free place before a waiting LIST: the first region's
    // objects are asked for while most regions still wait to be listed (in
    // arrival order, they would wait behind every LIST queued before them).
    let first_get = ops(&log, "GetObject")[0]["start_us"].as_u64().unwrap();
    let listed_before = regions
        .iter()
        .filter(|r| r["start_us"].as_u64().unwrap() < first_get)
        .count();
    assert!(
        listed_before < regions.len() / 2,
        "{listed_before} of {} regions listed before the first GET",
        regions.len()
    );
}

#[test]
fn throttling_slows_the_pool_down_to_a_floor_not_to_a_trickle() {
    let spec = "accounts=4,regions=3,days=6,per_day=8,start=2026-10-01,seed=13";
    let args = [
        "--latency-ms",
        "50",
        "--slowdown-rate",
        "0.2",
        "--seed",
        "9",
    ];
    let lab = S3lab::org(spec, &args);
    let (code, stderr, s, out) = report("s3://org", &["--endpoint-url", &lab.endpoint()]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(s["files"]["scanned"], 4 * 3 * 6 * 8);
    assert_eq!(s["files"]["failed"], 0);
    let log = lab.requests();
    let throttled = log.iter().filter(|r| r["status"] == 503).count();
    assert!(throttled > 50, "only {throttled} SlowDowns");
    // A fifth of all answers refused, at random: halving on each would hold
    // the pool at one or two requests. In the second half of the run, it
    // still has its floor of 16 places (a few may be between attempts).
    let gets = ops(&log, "GetObject");
    let half = gets[gets.len() / 2]["start_us"].as_u64().unwrap();
    let late = |r: &Value| r["start_us"].as_u64().unwrap() >= half;
    let at_once = most_at_once(&log, late);
    assert!(
        at_once >= 12,
        "at most {at_once} requests at once late in the run"
    );
    let (ls, lout) = local_report(&gen_org(spec), &[]);
    assert_eq!(ls["records"], s["records"]);
    assert_same_reports(lout.path(), out.path());
}

#[test]
fn bodies_in_flight_count_against_the_memory_budget() {
    // Objects of about 15 KB; 1 MiB of budget leaves 128 KiB for bodies.
    let spec = "accounts=2,regions=3,days=4,per_day=6,size=20000,start=2026-10-01,seed=17";
    let lab = S3lab::org(spec, &["--latency-ms", "20"]);
    let ep = lab.endpoint();
    let budget = ["--memory-budget", "1048576"];
    let (code, stderr, s, out) = report(
        "s3://org",
        &[&budget[..], &["--endpoint-url", &ep]].concat(),
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(s["files"]["scanned"], 2 * 3 * 4 * 6);
    let log = lab.requests();
    let gets = ops(&log, "GetObject");
    let smallest = gets
        .iter()
        .map(|r| r["bytes"].as_u64().unwrap())
        .min()
        .unwrap();
    assert!(smallest > 8 << 10, "{smallest}");
    let fit = (128 << 10) / (smallest.div_ceil(1024) * 1024) as usize;
    let at_once = most_at_once(&log, |r| r["op"] == "GetObject");
    assert!(at_once <= fit, "{at_once} bodies at once, {fit} fit");
    let (ls, lout) = local_report(&gen_org(spec), &budget);
    assert_eq!(ls["records"], s["records"]);
    assert_same_reports(lout.path(), out.path());
}
