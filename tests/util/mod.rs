//! Shared helpers: running the binary, temporary trees, reading CSV and Parquet
//! back with readers independent of the ones ctscan writes with.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use flate2::{write::GzEncoder, Compression};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A dataset under `../shared/data/` (CI clones the repo with `shared/` beside it).
pub fn shared_data(name: &str) -> PathBuf {
    root().join("../shared/data").join(name)
}

/// Runs `ctscan` with `args`, with no `$CTSCAN_SOURCE` and stderr not a terminal.
pub fn ctscan(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ctscan"))
        .args(args)
        .env_remove("CTSCAN_SOURCE")
        .output()
        .expect("run ctscan")
}

/// The process's exit code, stdout and stderr as text.
pub fn outputs(o: &Output) -> (i32, String, String) {
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// A temporary directory tree that tests write fixtures into.
pub struct TestDir {
    pub dir: tempfile::TempDir,
}

impl TestDir {
    pub fn new() -> TestDir {
        TestDir {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn join(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Writes `bytes` at `rel`, creating folders.
    pub fn write(&self, rel: &str, bytes: &[u8]) -> PathBuf {
        let p = self.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, bytes).unwrap();
        p
    }

    /// Writes `text` gzip-compressed at `rel`.
    pub fn write_gz(&self, rel: &str, text: &str) -> PathBuf {
        self.write(rel, &gzip(text.as_bytes()))
    }
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// A CSV file as a header and rows of cells (RFC 4180 quoting).
pub struct Csv {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Csv {
    pub fn read(path: &Path) -> Csv {
        let text =
            std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut records = parse_csv(&text);
        let header = records.remove(0);
        Csv {
            header,
            rows: records,
        }
    }

    /// Rows as maps from column name to cell.
    pub fn maps(&self) -> Vec<BTreeMap<String, String>> {
        self.rows
            .iter()
            .map(|r| self.header.iter().cloned().zip(r.iter().cloned()).collect())
            .collect()
    }
}

fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let (mut row, mut cell) = (Vec::new(), String::new());
    let (mut quoted, mut chars) = (false, text.chars().peekable());
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\n') => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, '\r') => {}
            (false, c) => cell.push(c),
        }
    }
    if !cell.is_empty() || !row.is_empty() {
        row.push(cell);
        rows.push(row);
    }
    rows
}

/// What the `parquet` crate (not polars) reads back from a file.
pub struct ParquetFile {
    pub rows: usize,
    /// Column name → (physical type, logical type) as debug text.
    pub columns: Vec<(String, String, String)>,
    pub values: Vec<BTreeMap<String, parquet::record::Field>>,
}

pub fn read_parquet(path: &Path) -> ParquetFile {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let reader = SerializedFileReader::new(File::open(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let meta = reader.metadata().file_metadata();
    let columns = meta
        .schema_descr()
        .columns()
        .iter()
        .map(|c| {
            (
                c.name().to_string(),
                format!("{:?}", c.physical_type()),
                format!("{:?}", c.logical_type_ref()),
            )
        })
        .collect();
    let values = reader
        .get_row_iter(None)
        .unwrap()
        .map(|r| {
            r.unwrap()
                .get_column_iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .collect();
    ParquetFile {
        rows: meta.num_rows() as usize,
        columns,
        values,
    }
}

/// Reads `summary.json`.
pub fn summary(out: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap()
}

/// Checks the accounting identities of a summary.
pub fn assert_accounted(s: &serde_json::Value) {
    let f = &s["files"];
    let n = |v: &serde_json::Value| v.as_u64().unwrap();
    let skipped: u64 = f["skipped"].as_object().unwrap().values().map(n).sum();
    assert_eq!(
        n(&f["listed"]),
        n(&f["scanned"]) + n(&f["pruned"]) + skipped + n(&f["failed"]),
        "files not accounted for: {f}"
    );
    let r = &s["records"];
    assert_eq!(
        n(&r["read"]),
        n(&r["matched"]) + n(&r["not_matched"]) + n(&r["no_event_time"]),
        "records not accounted for: {r}"
    );
    if let Some(why) = r.get("no_event_time_reasons") {
        assert_eq!(
            n(&r["no_event_time"]),
            n(&why["missing"]) + n(&why["unparseable"]),
            "records without a time not accounted for: {r}"
        );
    }
    assert_eq!(
        n(&f["failed"]) as usize,
        s["failures"].as_array().unwrap().len()
    );
}

/// Exit status and peak RSS (MiB) of one `ctscan` run. A small Python parent
/// spawns it and reads `ru_maxrss` of its one child: measured from this
/// test process instead, a child could be charged the pages it shared with
/// the (large, multi-threaded) test process before `exec`.
pub fn peak_rss_mib(args: &[&str]) -> (i32, u64) {
    let script = "import resource, subprocess, sys\n\
                  r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n\
                  print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)";
    let o = Command::new("python3")
        .args(["-c", script, env!("CARGO_BIN_EXE_ctscan")])
        .args(args)
        .env_remove("CTSCAN_SOURCE")
        .output()
        .expect("python3 measures the child's peak memory");
    let text = String::from_utf8_lossy(&o.stdout);
    let (code, kib) = text.trim().split_once(' ').expect("exit status and KiB");
    (code.parse().unwrap(), kib.parse::<u64>().unwrap() / 1024)
}
