//! `--shard I/N` and `merge`: the shards of a sweep read every object once,
//! and their merged partials give byte for byte the report of one run over
//! the whole SOURCE; worker processes of an array job (with the variable
//! each engine sets) over the loopback S3 server merge to the same report.

use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::s3_scale::{gen_org, ops, S3lab};
use crate::util::*;

/// `ctscan ARGS` with `vars` set (and no `$CTSCAN_SOURCE`, no engine index).
fn ctscan_with(args: &[&str], vars: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ctscan"));
    cmd.args(args)
        .env_remove("CTSCAN_SOURCE")
        .env_remove("JOB_COMPLETION_INDEX")
        .env_remove("AWS_BATCH_JOB_ARRAY_INDEX")
        .envs(vars.iter().copied());
    outputs(&cmd.output().unwrap())
}

fn run_ok(args: &[&str]) {
    let (code, _, stderr) = ctscan_with(args, &[]);
    assert_eq!(code, 0, "ctscan {args:?}: {stderr}");
}

/// Every CSV of `a` has its twin in `b`, byte for byte.
fn assert_same_csvs(a: &Path, b: &Path) {
    let mut names = Vec::new();
    for e in std::fs::read_dir(a).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".csv") {
            let (x, y) = (
                std::fs::read(a.join(&name)).unwrap(),
                std::fs::read(b.join(&name)).unwrap_or_default(),
            );
            assert!(x == y, "{name} differs:\n{}\n---\n{}", lossy(&x), lossy(&y));
            names.push(name);
        }
    }
    assert!(names.len() >= 5, "only {names:?}");
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The summary's accounting, without what depends on the run (time, threads).
fn accounting(s: &Value) -> Value {
    serde_json::json!({
        "files": s["files"], "failures": s["failures"], "records": s["records"],
        "window": s["window"], "events": s["events"],
        "bytes_read": s["bytes_read"], "bytes_decompressed": s["bytes_decompressed"],
    })
}

fn n(v: &Value) -> u64 {
    v.as_u64().unwrap_or(0)
}

/// Runs the sweep as N shards and merges them; checks the shards split the
/// objects exactly and the merged report equals `single`'s.
fn sweep_and_merge(sources: &[&str], args: &[&str], count: u32, single: &Path) -> Vec<Value> {
    let parts = TestDir::new();
    let mut dirs = Vec::new();
    let mut summaries = Vec::new();
    for i in 0..count {
        let dir = parts.join(&format!("shard-{i}")).display().to_string();
        let shard = format!("{i}/{count}");
        let mut argv = vec!["report"];
        argv.extend(sources);
        argv.extend(["-q", "--shard", &shard, "--out", &dir]);
        argv.extend(args);
        run_ok(&argv);
        let s = summary(Path::new(&dir));
        assert_accounted(&s);
        summaries.push(s);
        dirs.push(dir);
    }
    let whole = summary(single);
    let listed = n(&whole["files"]["listed"]);
    // Each object is read by one shard: the others list and skip it.
    let other: u64 = summaries
        .iter()
        .map(|s| n(&s["files"]["skipped"]["other_shard"]))
        .sum();
    assert_eq!(other, listed * u64::from(count - 1), "N={count}");
    let scanned: u64 = summaries.iter().map(|s| n(&s["files"]["scanned"])).sum();
    assert_eq!(scanned, n(&whole["files"]["scanned"]), "N={count}");
    let merged = TestDir::new();
    let out = merged.path().display().to_string();
    let mut argv = vec!["merge"];
    argv.extend(dirs.iter().map(String::as_str));
    argv.extend(["--out", &out, "-q"]);
    run_ok(&argv);
    assert_same_csvs(single, merged.path());
    let m = summary(merged.path());
    assert_eq!(accounting(&m), accounting(&whole), "N={count}");
    summaries
}

/// The report of one run, the reference the merges must equal.
fn single_run(sources: &[&str], args: &[&str]) -> TestDir {
    let out = TestDir::new();
    let o = out.path().display().to_string();
    let mut argv = vec!["report"];
    argv.extend(sources);
    argv.extend(["-q", "--out", &o]);
    argv.extend(args);
    run_ok(&argv);
    out
}

fn check_merges(sources: &[&str], args: &[&str]) {
    let single = single_run(sources, args);
    for count in [1, 3, 8] {
        sweep_and_merge(sources, args, count, single.path());
    }
}

#[test]
fn merged_shards_equal_one_run_on_the_sample_logs() {
    let logs = root().join("sample-logs").display().to_string();
    check_merges(&[&logs], &[]);
}

#[test]
fn merged_shards_equal_one_run_on_the_public_samples() {
    let data: Vec<String> = ["stratus-red-team", "umccr-orgtrail", "otrf"]
        .iter()
        .map(|d| shared_data(d).display().to_string())
        .collect();
    let sources: Vec<&str> = data.iter().map(String::as_str).collect();
    check_merges(&sources, &["--all-events"]);
    check_merges(&sources, &["--all-events", "--keep-duplicates"]);
}

/// An org-shaped corpus with events repeated across objects (and so across
/// shards): duplicates are dropped exactly once after the merge.
#[test]
fn merged_shards_equal_one_run_on_a_generated_organization() {
    let org = gen_org("accounts=6,regions=4,days=5,per_day=3,start=2026-10-01,seed=11");
    let copy = org.join("AWSLogs/copies/replayed.json");
    let first = walkdir::WalkDir::new(org.path())
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .find(|p| p.is_file())
        .unwrap();
    // The same object again outside the layout: every event a duplicate,
    // read by whichever shard its name hashes to.
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    std::fs::copy(&first, copy.with_extension("json.gz")).unwrap();
    let source = org.path().display().to_string();
    let window = [
        "--since",
        "2026-10-02T00:00:00Z",
        "--until",
        "2026-10-05T00:00:00Z",
    ];
    let single = single_run(&[&source], &window);
    assert!(n(&summary(single.path())["records"]["duplicates"]) > 0);
    for count in [1, 3, 8] {
        sweep_and_merge(&[&source], &window, count, single.path());
    }
}

/// One account with 90% of the objects (3,240 in each of its regions, 40
/// in every other): no shard reads more than twice the mean, because large
/// regions split by day and small ones go whole.
#[test]
fn a_skewed_organization_is_split_evenly() {
    let org = gen_org(
        "accounts=10,regions=3,days=10,per_day=4,skew=0.9,size=800,start=2026-10-01,seed=5",
    );
    let source = org.path().display().to_string();
    let single = single_run(&[&source], &[]);
    let count = 8;
    let summaries = sweep_and_merge(&[&source], &[], count, single.path());
    let sizes: Vec<u64> = summaries
        .iter()
        .map(|s| n(&s["files"]["scanned"]))
        .collect();
    let mean = sizes.iter().sum::<u64>() as f64 / f64::from(count);
    let max = *sizes.iter().max().unwrap() as f64;
    assert!(
        max / mean <= 2.0,
        "objects per shard {sizes:?}: max/mean {}",
        max / mean
    );
}

#[test]
fn auto_takes_the_index_from_either_engine() {
    let logs = root().join("sample-logs").display().to_string();
    for var in ["JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX"] {
        let out = TestDir::new();
        let o = out.path().display().to_string();
        let args = ["report", &logs, "-q", "--shard", "auto/3", "--out", &o];
        let (code, _, stderr) = ctscan_with(&args, &[(var, "2")]);
        assert_eq!(code, 0, "{stderr}");
        let m: Value =
            serde_json::from_slice(&std::fs::read(out.join("shard.json")).unwrap()).unwrap();
        assert_eq!(
            m["shard"],
            serde_json::json!({"index": 2, "count": 3}),
            "{var}"
        );
    }
    let (code, _, stderr) = ctscan_with(&["report", &logs, "--shard", "auto/3"], &[]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("JOB_COMPLETION_INDEX") && stderr.contains("AWS_BATCH_JOB_ARRAY_INDEX"),
        "{stderr}"
    );
    let (code, _, stderr) = ctscan_with(
        &["report", &logs, "--shard", "auto/3"],
        &[("JOB_COMPLETION_INDEX", "3")],
    );
    assert_eq!(code, 2);
    assert!(stderr.contains("not below N = 3"), "{stderr}");
}

/// A shard that failed before finishing (no `shard.json`) is refused by
/// name; run again with the same index, it merges without a row twice.
#[test]
fn a_retried_shard_merges_once() {
    let logs = root().join("sample-logs").display().to_string();
    let single = single_run(&[&logs], &[]);
    let parts = TestDir::new();
    let dir = |i: u32| parts.join(&format!("shard-{i}")).display().to_string();
    let shard = |i: u32| {
        let (d, s) = (dir(i), format!("{i}/3"));
        run_ok(&["report", &logs, "-q", "--shard", &s, "--out", &d]);
    };
    (0..3).for_each(shard);
    std::fs::remove_file(Path::new(&dir(1)).join("shard.json")).unwrap();
    let out = TestDir::new();
    let o = out.path().display().to_string();
    let merge = |extra: &[&str]| {
        let (d0, d1, d2) = (dir(0), dir(1), dir(2));
        let mut argv = vec!["merge", &d0, &d1, &d2];
        argv.extend(extra);
        argv.extend(["--out", &o, "-q"]);
        ctscan_with(&argv, &[])
    };
    let (code, _, stderr) = merge(&[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("shard-1: no shard.json"), "{stderr}");
    shard(1);
    shard(1);
    let (code, _, stderr) = merge(&[]);
    assert_eq!(code, 0, "{stderr}");
    assert_same_csvs(single.path(), out.path());
    let (code, _, stderr) = merge(&[&dir(1)]);
    assert_eq!(code, 2);
    assert!(stderr.contains("shard 1/3 given twice"), "{stderr}");
}

#[test]
fn merge_refuses_an_incomplete_or_mixed_sweep() {
    let logs = root().join("sample-logs").display().to_string();
    let parts = TestDir::new();
    let dir = |name: &str| parts.join(name).display().to_string();
    run_ok(&["report", &logs, "-q", "--shard", "0/3", "--out", &dir("a")]);
    run_ok(&["report", &logs, "-q", "--shard", "2/3", "--out", &dir("b")]);
    run_ok(&["report", &logs, "-q", "--shard", "1/2", "--out", &dir("c")]);
    let args = ["report", &logs, "-q", "--shard", "1/3", "--baseline", "3d"];
    run_ok(&[&args[..], &["--out", &dir("d")]].concat());
    let out = dir("out");
    let merge = |dirs: &[&str]| {
        let mut argv = vec!["merge"];
        argv.extend(dirs);
        argv.extend(["--out", &out]);
        let (code, _, stderr) = ctscan_with(&argv, &[]);
        assert_eq!(code, 2, "{stderr}");
        stderr
    };
    let e = merge(&[&dir("a"), &dir("b")]);
    assert!(e.contains("missing shard(s) 1/3 of N = 3"), "{e}");
    let e = merge(&[&dir("a"), &dir("c")]);
    assert!(e.contains("different sweeps") && e.contains("1/2"), "{e}");
    let e = merge(&[&dir("a"), &dir("b"), &dir("d")]);
    assert!(
        e.contains("different options") && e.contains("--baseline 3d"),
        "{e}"
    );
    assert!(!Path::new(&out).join("by_principal.csv").exists());
}

/// An array job in miniature: N worker processes, each with only the
/// variable its engine sets, sweep an org bucket on the loopback S3 server
/// (with latency) at once; together they list and fetch each object once,
/// and their merged partials equal one run over a local copy.
#[test]
fn an_array_job_over_s3_merges_to_one_run() {
    // Small regions, read whole by one shard each; then regions of 1,200
    // keys, split by day after a first page every shard lists.
    const SMALL: &str = "accounts=5,regions=3,days=4,per_day=3,start=2026-10-01,seed=9";
    const LARGE: &str = "accounts=1,regions=2,days=4,per_day=300,size=800,start=2026-10-01,seed=9";
    let window = [
        "--since",
        "2026-10-02T00:00:00Z",
        "--until",
        "2026-10-04T00:00:00Z",
    ];
    let runs: [(&str, &str, u32, &[&str]); 4] = [
        (SMALL, "JOB_COMPLETION_INDEX", 3, &[]),
        (SMALL, "AWS_BATCH_JOB_ARRAY_INDEX", 4, &[]),
        (LARGE, "JOB_COMPLETION_INDEX", 3, &[]),
        (LARGE, "AWS_BATCH_JOB_ARRAY_INDEX", 4, &window),
    ];
    for (spec, var, count, args) in runs {
        array_job(spec, var, count, args);
    }
}

/// Runs `count` workers at once over s3lab serving `spec` (5 ms per
/// request) and checks their merge against one run over the local copy,
/// and each worker against the same shard of the local copy.
fn array_job(spec: &str, var: &str, count: u32, args: &[&str]) {
    let local = gen_org(spec);
    let mirror = local.path().display().to_string();
    let single = single_run(&[&mirror], args);
    let objects = n(&summary(single.path())["files"]["scanned"]);
    let lab = S3lab::org(spec, &["--latency-ms", "5"]);
    let parts = TestDir::new();
    let shard = format!("auto/{count}");
    let endpoint = lab.endpoint();
    let workers: Vec<_> = (0..count)
        .map(|i| {
            let dir = parts.join(&format!("worker-{i}")).display().to_string();
            let mut argv = vec!["report", "s3://org", "-q", "--shard", &shard, "--out", &dir];
            argv.extend(["--endpoint-url", &endpoint]);
            argv.extend(args);
            let child = s3_worker(&argv, var, &i.to_string()).spawn().unwrap();
            (dir, child)
        })
        .collect();
    let mut dirs = Vec::new();
    for (i, (dir, child)) in workers.into_iter().enumerate() {
        let o = child.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", lossy(&o.stderr));
        // The same share as this shard of the local copy.
        let mine = TestDir::new();
        let (out, s) = (mine.path().display().to_string(), format!("{i}/{count}"));
        let mut argv = vec!["report", &mirror, "-q", "--shard", &s, "--out", &out];
        argv.extend(args);
        run_ok(&argv);
        let scanned = |d: &Path| summary(d)["files"]["scanned"].clone();
        assert_eq!(scanned(Path::new(&dir)), scanned(mine.path()), "{spec} {s}");
        dirs.push(dir);
    }
    let gets = ops(&lab.requests(), "GetObject").len() as u64;
    assert_eq!(gets, objects, "{spec} {var}: every object fetched once");
    let merged = TestDir::new();
    let out = merged.path().display().to_string();
    let mut argv = vec!["merge"];
    argv.extend(dirs.iter().map(String::as_str));
    argv.extend(["--out", &out, "-q"]);
    run_ok(&argv);
    assert_same_csvs(single.path(), merged.path());
    let m = summary(merged.path());
    assert_eq!(
        m["records"],
        summary(single.path())["records"],
        "{spec} {var}"
    );
    assert_eq!(n(&m["files"]["scanned"]), objects);
    assert_eq!(n(&m["s3"]["get_requests"]), objects);
}

/// A worker as its engine starts it: dummy credentials, its index in `var`.
fn s3_worker(args: &[&str], var: &str, index: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ctscan"));
    cmd.args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") || k == "JOB_COMPLETION_INDEX" {
            cmd.env_remove(k);
        }
    }
    cmd.env_remove("CTSCAN_SOURCE")
        .env(var, index)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}
