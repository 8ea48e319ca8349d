//! `ingest`: the event lake holds exactly what `report` reads, reruns read
//! only what changed, a killed run resumes to the same lake, one ingest at a
//! time, and DuckDB and Spark read it with `report`'s counts.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{ctscan, outputs, read_parquet, shared_data, Csv, TestDir};

/// The sources every exactness test ingests: the repository's sample logs
/// and the public samples.
fn sources() -> Vec<PathBuf> {
    let mut all = vec![crate::util::root().join("sample-logs")];
    for name in ["umccr-orgtrail", "stratus-red-team", "otrf"] {
        all.push(shared_data(name));
    }
    all
}

/// Runs `ingest SOURCE --lake LAKE EXTRA...`; exit code, stdout, stderr.
fn ingest(source: &Path, lake: &Path, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec![
        "ingest",
        source.to_str().unwrap(),
        "--lake",
        lake.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    outputs(&ctscan(&args))
}

/// Every part file of a lake, relative to it, sorted.
pub fn part_files(lake: &Path) -> Vec<String> {
    let mut files: Vec<String> = walkdir::WalkDir::new(lake.join("events"))
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            e.path()
                .strip_prefix(lake)
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    files.sort();
    files
}

/// One row's identity: time, eventID, principal, object and (in the lake)
/// its index in the object; counted, since copies of an event are kept.
pub type Rows = BTreeMap<Vec<String>, usize>;

fn row_key(row: &BTreeMap<String, parquet::record::Field>, cols: &[&str]) -> Vec<String> {
    cols.iter().map(|c| row[*c].to_string()).collect()
}

/// The lake's rows, read with the `parquet` crate; checks each file's row
/// order on the way.
pub fn lake_rows(lake: &Path, cols: &[&str]) -> Rows {
    let mut rows = Rows::new();
    for f in part_files(lake) {
        assert!(f.ends_with(".parquet"), "{f} is not a committed part file");
        let file = read_parquet(&lake.join(&f));
        let order: Vec<Vec<String>> = file
            .values
            .iter()
            .map(|r| row_key(r, &["event_time", "event_id"]))
            .collect();
        let times: Vec<_> = file
            .values
            .iter()
            .map(|r| match &r["event_time"] {
                parquet::record::Field::TimestampMicros(t) => *t,
                other => panic!("event_time is {other:?}"),
            })
            .collect();
        assert!(
            times.windows(2).all(|w| w[0] <= w[1]),
            "{f}: not sorted by time: {order:?}"
        );
        for r in &file.values {
            *rows.entry(row_key(r, cols)).or_default() += 1;
        }
    }
    rows
}

/// `report --all-events --keep-duplicates`'s events.parquet rows, and its summary.
fn report_rows(source: &Path, cols: &[&str]) -> (Rows, serde_json::Value) {
    let out = TestDir::new();
    let o = ctscan(&[
        "report",
        source.to_str().unwrap(),
        "--all-events",
        "--keep-duplicates",
        "--quiet",
        "--out",
        out.path().to_str().unwrap(),
    ]);
    assert!(matches!(o.status.code(), Some(0 | 2)), "{}", outputs(&o).2);
    let mut rows = Rows::new();
    for r in &read_parquet(&out.join("events.parquet")).values {
        *rows.entry(row_key(r, cols)).or_default() += 1;
    }
    (rows, crate::util::summary(out.path()))
}

/// A number after `label` in the summary ingest prints: `records: 12 read`.
fn count(stdout: &str, label: &str) -> u64 {
    let at = stdout
        .find(label)
        .unwrap_or_else(|| panic!("no {label:?} in {stdout}"));
    stdout[at + label.len()..]
        .split(|c: char| !c.is_ascii_digit())
        .find(|s| !s.is_empty())
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn lake_rows_are_reports_events_on_every_sample() {
    let cols = ["event_time", "event_id", "principal", "object"];
    for source in sources() {
        let lake = TestDir::new();
        let (code, out, err) = ingest(&source, lake.path(), &[]);
        let (want, summary) = report_rows(&source, &cols);
        let failed = summary["files"]["failed"].as_u64().unwrap();
        assert_eq!(
            code,
            if failed > 0 { 2 } else { 0 },
            "{}: {err}",
            source.display()
        );
        let got = lake_rows(lake.path(), &cols);
        assert_eq!(got, want, "{}", source.display());
        let stored: usize = got.values().sum();
        let r = &summary["records"];
        // otrf's records carry no eventTime: all are counted, none stored.
        let no_time = r["no_event_time"].as_u64().unwrap();
        assert!(stored > 0 || no_time > 0, "{}", source.display());
        assert_eq!(count(&out, "records: "), r["read"].as_u64().unwrap());
        assert_eq!(count(&out, "read: "), stored as u64);
        assert_eq!(count(&out, "stored, "), r["not_matched"].as_u64().unwrap());
        assert_eq!(
            count(&out, "not selected, "),
            r["no_event_time"].as_u64().unwrap()
        );
        assert_eq!(
            count(&out, "objects: "),
            summary["files"]["listed"].as_u64().unwrap()
        );
        // The manifest accounts for every object read, and every row.
        let m = ctscan::lake::load_manifest(lake.path()).unwrap();
        let scanned = summary["files"]["scanned"].as_u64().unwrap() as usize;
        let in_manifest = m
            .objects
            .values()
            .filter(|o| o.entry.outcome == ctscan::lake::manifest::Outcome::Scanned)
            .count();
        assert_eq!(in_manifest, scanned, "{}", source.display());
        assert_eq!(m.rows(), stored as u64);
        let manifest_no_time: u64 = m
            .objects
            .values()
            .map(|o| o.entry.no_event_time.missing + o.entry.no_event_time.unparseable)
            .sum();
        assert_eq!(manifest_no_time, no_time);
        let missing: u64 = m
            .objects
            .values()
            .map(|o| o.entry.no_event_time.missing)
            .sum();
        assert_eq!(
            missing,
            r["no_event_time_reasons"]["missing"].as_u64().unwrap()
        );
        assert_eq!(m.files.len(), part_files(lake.path()).len());
    }
}

#[test]
fn part_files_have_spark_safe_types() {
    let lake = TestDir::new();
    let (code, _, err) = ingest(&crate::util::root().join("sample-logs"), lake.path(), &[]);
    assert_eq!(code, 0, "{err}");
    let first = &part_files(lake.path())[0];
    let file = read_parquet(&lake.path().join(first));
    let types: BTreeMap<&str, (&str, &str)> = file
        .columns
        .iter()
        .map(|(n, p, l)| (n.as_str(), (p.as_str(), l.as_str())))
        .collect();
    let names: Vec<&str> = ctscan::lake::schema::COLUMNS.iter().map(|c| c.0).collect();
    assert_eq!(
        file.columns
            .iter()
            .map(|c| c.0.as_str())
            .collect::<Vec<_>>(),
        names
    );
    assert_eq!(types["event_time"].0, "INT64");
    assert!(
        types["event_time"]
            .1
            .contains("is_adjusted_to_u_t_c: true, unit: MICROS"),
        "{:?}",
        types["event_time"]
    );
    for int in ["object_size", "record_index"] {
        assert_eq!(types[int], ("INT64", "None"), "{int}");
    }
    assert_eq!(types["read_only"].0, "BOOLEAN");
    assert_eq!(types["record"], ("BYTE_ARRAY", "Some(String)"));
    for key in ["account", "region", "date"] {
        assert!(!types.contains_key(key), "{key} repeats a partition key");
    }
}

/// A copy of `sample-logs` to change.
pub fn sample_copy() -> TestDir {
    let dir = TestDir::new();
    let from = crate::util::root().join("sample-logs");
    for e in walkdir::WalkDir::new(&from)
        .into_iter()
        .filter_map(Result::ok)
    {
        if e.file_type().is_file() {
            let rel = e.path().strip_prefix(&from).unwrap().to_str().unwrap();
            dir.write(rel, &std::fs::read(e.path()).unwrap());
        }
    }
    dir
}

pub const LOG: &str = "AWSLogs/o-exampleorg1/746345825536/CloudTrail/us-east-1/2026/01/01/746345825536_CloudTrail_us-east-1_20260101T1904Z_VHcaTQzEYlRhHeDe.json.gz";

/// The records of a sample log, parsed.
pub fn records(dir: &Path, rel: &str) -> Vec<serde_json::Value> {
    use std::io::Read;
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(dir.join(rel)).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["Records"].as_array().unwrap().clone()
}

pub fn write_log(dir: &TestDir, rel: &str, records: &[serde_json::Value]) {
    dir.write_gz(rel, &serde_json::json!({ "Records": records }).to_string());
}

pub const ALL: [&str; 5] = [
    "event_time",
    "event_id",
    "principal",
    "object",
    "record_index",
];

#[test]
fn a_rerun_reads_only_new_or_changed_objects() {
    let src = sample_copy();
    let lake = TestDir::new();
    let (code, first, err) = ingest(src.path(), lake.path(), &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(count(&first, "listed: "), 25, "{first}");
    let files = part_files(lake.path());
    let manifest = ctscan::lake::load_manifest(lake.path()).unwrap();

    let (code, again, err) = ingest(src.path(), lake.path(), &[]);
    assert_eq!(code, 0, "{err}");
    assert!(again.starts_with("objects: 40 listed: 0 scanned, 0 pruned, 40 skipped (digest: 14, insight: 1, unchanged: 25), 0 failed"), "{again}");
    assert_eq!(count(&again, "records: "), 0);
    assert_eq!(part_files(lake.path()), files);
    assert_eq!(ctscan::lake::load_manifest(lake.path()).unwrap(), manifest);

    // One object shrinks to its first three records; a new one arrives.
    let recs = records(src.path(), LOG);
    assert!(recs.len() > 3);
    write_log(&src, LOG, &recs[..3]);
    let new = LOG.replace("VHcaTQzEYlRhHeDe", "NewObjectArrived");
    write_log(&src, &new, &recs[3..5]);
    let (code, third, err) = ingest(src.path(), lake.path(), &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(count(&third, "listed: "), 2, "{third}");
    assert_eq!(count(&third, "records: "), 5, "{third}");

    let clean = TestDir::new();
    assert_eq!(ingest(src.path(), clean.path(), &[]).0, 0);
    assert_eq!(lake_rows(lake.path(), &ALL), lake_rows(clean.path(), &ALL));
    let m = ctscan::lake::load_manifest(lake.path()).unwrap();
    assert!(m.stale.is_empty());
    assert_eq!(m.files.len(), part_files(lake.path()).len());
}

#[test]
fn a_killed_ingest_resumes_to_a_clean_ingests_lake() {
    let src = crate::util::root().join("sample-logs");
    let lake = TestDir::new();
    // Dies right after its second commit point, before renaming its files.
    let crash = [
        "--threads",
        "1",
        "--commit-objects",
        "4",
        "--crash-after-commits",
        "2",
    ];
    let (code, _, _) = ingest(&src, lake.path(), &crash);
    assert_eq!(code, 137);
    let m = ctscan::lake::load_manifest(lake.path()).unwrap();
    assert_eq!(m.commits.len(), 2);
    assert!(part_files(lake.path()).iter().any(|f| f.ends_with(".tmp")));
    // What a kill during a batch leaves: a half-written file, a stray one.
    let partition = lake.join("events/account=1/region=x/date=2026-01-01");
    std::fs::create_dir_all(&partition).unwrap();
    std::fs::write(partition.join(".part-r-000009.parquet.tmp"), b"PAR1").unwrap();
    std::fs::write(partition.join("part-r-000010.parquet"), b"PAR1").unwrap();

    let (code, out, err) = ingest(&src, lake.path(), &[]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("taking over the lock of process"), "{err}");
    assert!(err.contains("an earlier ingest was interrupted"), "{err}");
    assert_eq!(count(&out, "listed: "), 25 - 8, "{out}");
    let clean = TestDir::new();
    assert_eq!(ingest(&src, clean.path(), &[]).0, 0);
    assert_eq!(lake_rows(lake.path(), &ALL), lake_rows(clean.path(), &ALL));
    let m = ctscan::lake::load_manifest(lake.path()).unwrap();
    assert_eq!(m.files.len(), part_files(lake.path()).len());
}

#[test]
fn a_second_ingest_is_refused_while_one_holds_the_lock() {
    let lake = TestDir::new();
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let holder = serde_json::json!({
        "pid": std::process::id(), "host": host.trim(), "started": "2026-01-01T00:00:00Z"
    });
    lake.write("_ctscan/lock", holder.to_string().as_bytes());
    let src = crate::util::root().join("sample-logs");
    let (code, out, err) = ingest(&src, lake.path(), &[]);
    assert_eq!(code, 2);
    assert_eq!(out, "");
    let want = format!(
        "{} is held by process {} on {}, started 2026-01-01T00:00:00Z",
        lake.join("_ctscan/lock").display(),
        std::process::id(),
        host.trim()
    );
    assert!(err.contains(&want), "{err}");
    assert!(!lake.join("events").exists());
}

#[test]
fn select_stores_only_the_selection() {
    let src = crate::util::root().join("sample-logs");
    let lake = TestDir::new();
    let (code, out, err) = ingest(&src, lake.path(), &["--select"]);
    assert_eq!(code, 0, "{err}");
    let rows = lake_rows(lake.path(), &["event_name"]);
    assert_eq!(
        rows.keys().map(|k| k[0].as_str()).collect::<Vec<_>>(),
        ["\"BatchGetSecretValue\"", "\"GetSecretValue\""]
    );
    let stored: usize = rows.values().sum();
    assert_eq!(count(&out, "read: "), stored as u64);
    let out_dir = TestDir::new();
    let o = ctscan(&[
        "report",
        src.to_str().unwrap(),
        "--keep-duplicates",
        "-q",
        "--out",
        out_dir.path().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(read_parquet(&out_dir.join("events.parquet")).rows, stored);
    let (code, _, err) = ingest(&src, TestDir::new().path(), &["--event", "GetSecretValue"]);
    assert_eq!(code, 2);
    assert!(err.contains("add --select"), "{err}");
    let (code, _, err) = ingest(&src, TestDir::new().path(), &["--lake-staging", "x"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--lake-staging applies to a lake on S3"),
        "{err}"
    );
    assert!(!Path::new("x").exists());
}

/// Runs a Python script with `args`; its stdout.
fn python(script: &str, args: &[&str]) -> String {
    let o = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python3");
    let (code, out, err) = outputs(&o);
    assert_eq!(code, 0, "{err}");
    out
}

/// `by_principal.csv` of `report --all-events` as `principal,type,events` lines.
fn by_principal(source: &Path) -> Vec<String> {
    let out = TestDir::new();
    let o = ctscan(&[
        "report",
        source.to_str().unwrap(),
        "--all-events",
        "-q",
        "--out",
        out.path().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0));
    let mut lines: Vec<String> = Csv::read(&out.join("by_principal.csv"))
        .maps()
        .iter()
        .map(|r| format!("{},{},{}", r["principal"], r["principal_type"], r["events"]))
        .collect();
    lines.sort();
    lines
}

/// The by-principal query with `report`'s duplicate rule, as the README gives it.
const BY_PRINCIPAL_SQL: &str = "SELECT principal, principal_type, count(*) AS events FROM events \
     WHERE event_id IS NULL OR rn = 1 GROUP BY principal, principal_type";

const DEDUP_SQL: &str = "SELECT *, row_number() OVER (PARTITION BY event_id \
     ORDER BY event_time, object, record_index) AS rn FROM lake";

/// A copy of `sample-logs` with one more record, whose account needs
/// escaping in a folder name and whose region is missing, and a lake of it.
fn engine_lake() -> (TestDir, TestDir) {
    let src = sample_copy();
    let odd = serde_json::json!({
        "eventVersion": "1.08", "eventTime": "2026-01-05T10:00:00Z",
        "eventSource": "s3.amazonaws.com", "eventName": "GetObject",
        "recipientAccountId": "a/b c", "eventID": "odd-1",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::1:user/odd"}
    });
    write_log(&src, "extra/odd.json.gz", &[odd]);
    let lake = TestDir::new();
    let (code, _, err) = ingest(src.path(), lake.path(), &[]);
    assert_eq!(code, 0, "{err}");
    assert!(lake
        .join("events/account=a%2Fb%20c/region=__HIVE_DEFAULT_PARTITION__/date=2026-01-05")
        .is_dir());
    (src, lake)
}

/// What each engine prints after its by-principal rows: the earliest
/// event, the number of accounts, and the odd record's partition values.
const ENGINE_CHECKS: &str = "2026-01-01T00:51:36Z|5|a/b c|None";

#[test]
fn duckdb_reads_the_lake_with_reports_counts() {
    let (src, lake) = engine_lake();
    let src = src.path();
    let script = format!(
        "import duckdb, sys\n\
         c = duckdb.connect()\n\
         c.sql(\"CREATE VIEW lake AS SELECT * FROM read_parquet('\" + sys.argv[1] + \"/events/**/*.parquet', hive_partitioning = true)\")\n\
         c.sql(\"CREATE VIEW events AS {DEDUP_SQL}\")\n\
         for p, t, n in sorted(c.sql(\"{BY_PRINCIPAL_SQL}\").fetchall()):\n    print(f'{{p}},{{t}},{{n}}')\n\
         t, n = c.sql(\"SELECT strftime(min(event_time) AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ'), count(DISTINCT account) FROM lake\").fetchall()[0]\n\
         a, r = c.sql(\"SELECT account, region FROM lake WHERE event_id = 'odd-1'\").fetchall()[0]\n\
         print(f'{{t}}|{{n}}|{{a}}|{{r}}')\n"
    );
    let out = python(&script, &[lake.path().to_str().unwrap()]);
    let mut lines: Vec<String> = out.lines().map(str::to_string).collect();
    let last = lines.pop().unwrap();
    lines.sort();
    assert_eq!(lines, by_principal(src));
    assert_eq!(last, ENGINE_CHECKS);
}

/// Spark in local mode (one process start): the lake's types load, times
/// read as UTC instants, escaped and missing partition values decode.
#[test]
fn spark_reads_the_lake_with_reports_counts() {
    let (src, lake) = engine_lake();
    let script = format!(
        "import sys\n\
         from pyspark.sql import SparkSession\n\
         s = (SparkSession.builder.master('local[1]').appName('ctscan-lake')\n\
              .config('spark.sql.session.timeZone', 'UTC')\n\
              .config('spark.sql.sources.partitionColumnTypeInference.enabled', 'false')\n\
              .config('spark.ui.enabled', 'false').getOrCreate())\n\
         s.sparkContext.setLogLevel('ERROR')\n\
         s.read.parquet(sys.argv[1] + '/events').createOrReplaceTempView('lake')\n\
         s.sql(\"{DEDUP_SQL}\").createOrReplaceTempView('events')\n\
         for p, t, n in sorted(tuple(r) for r in s.sql(\"{BY_PRINCIPAL_SQL}\").collect()):\n    print(f'ROW {{p}},{{t}},{{n}}')\n\
         t, n = s.sql(\"SELECT date_format(min(event_time), 'yyyy-MM-dd HH:mm:ss'), count(DISTINCT account) FROM lake\").collect()[0]\n\
         a, r = s.sql(\"SELECT account, region FROM lake WHERE event_id = 'odd-1'\").collect()[0]\n\
         t = t.replace(' ', 'T') + 'Z'\n\
         print(f'ROW {{t}}|{{n}}|{{a}}|{{r}}')\n\
         s.stop()\n"
    );
    let out = python(&script, &[lake.path().to_str().unwrap()]);
    let mut lines: Vec<String> = out
        .lines()
        .filter_map(|l| l.strip_prefix("ROW "))
        .map(str::to_string)
        .collect();
    let last = lines.pop().unwrap();
    lines.sort();
    assert_eq!(lines, by_principal(src.path()));
    assert_eq!(last, ENGINE_CHECKS);
}

#[test]
fn select_pattern_stores_what_events_finds() {
    let pattern = r#"{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") || ($.eventSource = "secretsmanager.amazonaws.com") }"#;
    for source in [
        crate::util::root().join("sample-logs"),
        shared_data("stratus-red-team"),
    ] {
        let lake = TestDir::new();
        let (code, out, err) = ingest(&source, lake.path(), &["--select", "--pattern", pattern]);
        assert_eq!(code, 0, "{err}");
        let got = lake_rows(lake.path(), &["event_id", "object"]);
        let o = ctscan(&[
            "events",
            source.to_str().unwrap(),
            "--pattern",
            pattern,
            "--keep-duplicates",
            "--format",
            "csv",
        ]);
        let (code, csv, err) = outputs(&o);
        assert_eq!(code, 0, "{err}");
        let mut want = Rows::new();
        let dir = TestDir::new();
        let table = Csv::read(&dir.write("events.csv", csv.as_bytes()));
        for r in table.maps() {
            let key = vec![format!("{:?}", r["event_id"]), format!("{:?}", r["object"])];
            *want.entry(key).or_default() += 1;
        }
        assert_eq!(got, want, "{}", source.display());
        let stored: usize = got.values().sum();
        assert!(stored > 0);
        assert_eq!(count(&out, "read: "), stored as u64, "{out}");
        let m = ctscan::lake::load_manifest(lake.path()).unwrap();
        let params = &m.objects.values().next().unwrap().params;
        assert_eq!(params.selection, [format!("pattern:{pattern}")]);
    }
}

#[test]
fn a_wider_window_reads_objects_again_and_a_narrower_one_does_not() {
    let src = crate::util::root().join("sample-logs");
    let lake = TestDir::new();
    let (code, first, err) = ingest(&src, lake.path(), &["--since", "2026-01-02"]);
    assert_eq!(code, 0, "{err}");
    let scanned = count(&first, "listed: ");
    assert!(scanned > 0 && scanned < 25, "{first}");
    let (code, narrower, err) = ingest(&src, lake.path(), &["--since", "2026-01-03"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(count(&narrower, "listed: "), 0, "{narrower}");
    // Every object again, the earlier rows of those read before rewritten away.
    let (code, wider, err) = ingest(&src, lake.path(), &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(count(&wider, "listed: "), 25, "{wider}");
    let clean = TestDir::new();
    assert_eq!(ingest(&src, clean.path(), &[]).0, 0);
    assert_eq!(lake_rows(lake.path(), &ALL), lake_rows(clean.path(), &ALL));
    let m = ctscan::lake::load_manifest(lake.path()).unwrap();
    assert!(m.stale.is_empty());
    assert_eq!(m.files.len(), part_files(lake.path()).len());
}

#[test]
fn select_rules_cis_stores_what_any_cis_pattern_finds_and_alarm_over_it_is_the_raw_alarm() {
    let source = shared_data("stratus-red-team");
    let lake = TestDir::new();
    let (code, _, err) = ingest(&source, lake.path(), &["--select", "--rules", "cis"]);
    assert_eq!(code, 0, "{err}");
    let got = lake_rows(lake.path(), &["event_id", "object"]);
    // The union of what `events` finds for each rule's pattern: a record
    // counts once however many rules match it.
    let mut want = Rows::new();
    for rule in ctscan::replay::rules::cis_rules() {
        let o = ctscan(&[
            "events",
            source.to_str().unwrap(),
            "--pattern",
            &rule.pattern,
            "--keep-duplicates",
            "--format",
            "csv",
        ]);
        let (code, csv, err) = outputs(&o);
        assert_eq!(code, 0, "{}: {err}", rule.id);
        let dir = TestDir::new();
        let mut found = Rows::new();
        for r in Csv::read(&dir.write("events.csv", csv.as_bytes())).maps() {
            let key = vec![format!("{:?}", r["event_id"]), format!("{:?}", r["object"])];
            *found.entry(key).or_default() += 1;
        }
        for (key, n) in found {
            let e = want.entry(key).or_default();
            *e = (*e).max(n);
        }
    }
    assert_eq!(got, want);
    assert!(!got.is_empty());
    let m = ctscan::lake::load_manifest(lake.path()).unwrap();
    let params = &m.objects.values().next().unwrap().params;
    assert_eq!(params.selection, ["rules:cis"]);
    let (raw, over) = (TestDir::new(), TestDir::new());
    for (args, out) in [
        (vec!["alarm", source.to_str().unwrap()], &raw),
        (
            vec!["alarm", "--lake", lake.path().to_str().unwrap()],
            &over,
        ),
    ] {
        let mut args = args;
        args.extend([
            "--rules",
            "cis",
            "-q",
            "--out",
            out.path().to_str().unwrap(),
        ]);
        let (code, _, err) = outputs(&ctscan(&args));
        assert_eq!(code, 0, "{args:?}: {err}");
    }
    for name in ["rules.csv", "state_history.csv", "notifications.json"] {
        let read = |d: &TestDir| std::fs::read_to_string(d.join(name)).unwrap();
        assert_eq!(read(&raw), read(&over), "{name}");
    }
}
