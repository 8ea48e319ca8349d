//! `ingest --shard I/N` into one lake: shards write at once without waiting
//! for one another or losing a commit, the lake then holds exactly the rows
//! of one unsharded ingest, a killed shard retried with its index finishes
//! without a row twice, and `lake status` says which shards are done.

use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::lake::{lake_rows, part_files, ALL};
use crate::s3_scale::gen_org;
use crate::util::{ctscan, outputs, TestDir};

const ORG: &str = "accounts=5,regions=3,days=4,per_day=3,start=2026-10-01,seed=21";

fn ingest_cmd(source: &Path, lake: &Path, extra: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ctscan"));
    cmd.args([
        "ingest",
        source.to_str().unwrap(),
        "--lake",
        lake.to_str().unwrap(),
        "-q",
    ])
    .args(extra)
    .env_remove("CTSCAN_SOURCE")
    .env_remove("JOB_COMPLETION_INDEX")
    .env_remove("AWS_BATCH_JOB_ARRAY_INDEX")
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    cmd
}

fn status(lake: &Path) -> (i32, Value) {
    let o = ctscan(&["lake", "status", lake.to_str().unwrap(), "--format", "json"]);
    let (code, out, err) = outputs(&o);
    (
        code,
        serde_json::from_str(&out).unwrap_or_else(|_| panic!("{out}{err}")),
    )
}

#[test]
fn shards_ingest_one_lake_at_once_and_a_killed_one_is_retried() {
    let org = gen_org(ORG);
    // One object outside the layout, which goes to the shard its name hashes to.
    let first = walkdir::WalkDir::new(org.path())
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .find(|p| p.is_file())
        .unwrap();
    std::fs::copy(&first, org.join("exports-copy.json.gz")).unwrap();
    let clean = TestDir::new();
    let o = ingest_cmd(org.path(), clean.path(), &[]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let expected = lake_rows(clean.path(), &ALL);

    // Three shards at once, committing every 2 objects: many commits interleave.
    let lake = TestDir::new();
    let small = ["--commit-objects", "2", "--threads", "1"];
    let children: Vec<_> = (0..3)
        .map(|i| {
            let shard = format!("{i}/3");
            let mut args = vec!["--shard", &shard];
            args.extend(small);
            ingest_cmd(org.path(), lake.path(), &args).spawn().unwrap()
        })
        .collect();
    for c in children {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    assert_eq!(lake_rows(lake.path(), &ALL), expected);
    assert!(part_files(lake.path())
        .iter()
        .all(|f| f.ends_with(".parquet")));
    let (code, st) = status(lake.path());
    assert_eq!(code, 0, "{st}");
    assert_eq!(st["sweeps"]["3"]["missing"], serde_json::json!([]));
    assert_eq!(st["sweeps"]["3"]["finished"].as_array().unwrap().len(), 3);
    let held: Vec<&Value> = st["holdings"].as_array().unwrap().iter().collect();
    assert_eq!(held.len(), 3, "{st}");
    let rows: u64 = held
        .iter()
        .map(|h| h["holds"]["rows"].as_u64().unwrap())
        .sum();
    let expected_rows: usize = expected.values().sum();
    assert_eq!(rows as usize, expected_rows);

    // Shard 1 of a fresh sweep dies after its first commit; shards 0 and 2
    // finish meanwhile. The lake says which is missing, and that it died
    // holding its lock.
    let lake = TestDir::new();
    let crash = [
        "--shard",
        "1/3",
        "--commit-objects",
        "2",
        "--threads",
        "1",
        "--crash-after-commits",
        "1",
    ];
    let o = ingest_cmd(org.path(), lake.path(), &crash)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(137));
    for i in [0, 2] {
        let shard = format!("{i}/3");
        let o = ingest_cmd(org.path(), lake.path(), &["--shard", &shard])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let (code, st) = status(lake.path());
    assert_eq!(code, 0, "{st}");
    assert_eq!(st["sweeps"]["3"]["missing"], serde_json::json!([1]));
    assert_eq!(st["sweeps"]["3"]["locked"], serde_json::json!([1]));
    // The engine retries index 1, twice even: no row twice.
    for _ in 0..2 {
        let o = ingest_cmd(org.path(), lake.path(), &["--shard", "1/3"])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    assert_eq!(lake_rows(lake.path(), &ALL), expected);
    let (code, st) = status(lake.path());
    assert_eq!(code, 0, "{st}");
    assert_eq!(st["sweeps"]["3"]["locked"], serde_json::json!([]));
}

/// Ingests `source` into a fresh lake as `n` shards, one after another.
fn sharded_lake(source: &Path, n: usize) -> TestDir {
    let lake = TestDir::new();
    for i in 0..n {
        let shard = format!("{i}/{n}");
        let o = ingest_cmd(source, lake.path(), &["--shard", &shard])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let (code, st) = status(lake.path());
    assert_eq!(code, 0, "{st}");
    if n > 1 {
        // One shard of one is an unsharded ingest: no sweep to report.
        assert_eq!(
            st["sweeps"][n.to_string()]["missing"],
            serde_json::json!([])
        );
    }
    lake
}

#[test]
fn a_lake_written_by_1_3_or_8_shards_answers_like_the_raw_logs() {
    let org = gen_org(ORG);
    let generated = TestDir::new();
    crate::lake_read::generated(&generated);
    let (sample, umccr) = (
        crate::util::root().join("sample-logs"),
        crate::util::shared_data("umccr-orgtrail"),
    );
    for source in [org.path(), generated.path(), &sample, &umccr] {
        for n in [1, 3, 8] {
            let lake = sharded_lake(source, n);
            crate::lake_read::assert_same(&[source.to_str().unwrap()], lake.path(), &[]);
        }
    }
}
