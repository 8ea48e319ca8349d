//! `--request-log FILE`: one JSON line per answered request, written with a
//! single unbuffered append so a reader sees whole lines as soon as the
//! client has its answer.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::request::RequestInfo;

pub struct RequestLog {
    file: Mutex<File>,
}

/// One line of the log.
#[derive(Serialize)]
pub struct LogLine<'a> {
    pub seq: u64,
    pub start_us: u64,
    pub end_us: u64,
    pub op: &'static str,
    pub bucket: Option<&'a str>,
    pub key: Option<&'a str>,
    pub prefix: Option<&'a str>,
    pub delimiter: Option<&'a str>,
    pub start_after: Option<&'a str>,
    pub continuation: bool,
    pub status: u16,
    pub bytes: u64,
    /// `SlowDown` or `FailList` when the answer was injected.
    pub injected: Option<&'static str>,
}

impl<'a> LogLine<'a> {
    pub fn new(seq: u64, info: &'a RequestInfo) -> LogLine<'a> {
        LogLine {
            seq,
            start_us: 0,
            end_us: 0,
            op: info.op().name(),
            bucket: info.bucket.as_deref(),
            key: info.key.as_deref(),
            prefix: info.prefix.as_deref(),
            delimiter: info.delimiter.as_deref(),
            start_after: info.start_after.as_deref(),
            continuation: info.continuation,
            status: 0,
            bytes: 0,
            injected: None,
        }
    }
}

impl RequestLog {
    pub fn open(path: &Path) -> Result<RequestLog> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("opening {}", path.display()))?;
        Ok(RequestLog {
            file: Mutex::new(file),
        })
    }

    pub fn write(&self, line: &LogLine) {
        let mut text = serde_json::to_string(line).expect("log line serialises");
        text.push('\n');
        let mut file = self.file.lock().expect("log lock");
        if let Err(e) = file.write_all(text.as_bytes()) {
            eprintln!("s3lab: request log: {e}");
        }
    }
}
