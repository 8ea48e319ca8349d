//! The fast path (structural split, byte prefilter, simd-json on candidates)
//! against a plain oracle (serde_json parses every file whole), on every test
//! input: same events, same fields, same counts.

use std::io::Read;
use std::path::{Path, PathBuf};

use ctscan::events::Col;
use ctscan::read::record::{select_event, Selection};
use ctscan::scan::{scan, LocalFetch, ScanContext};
use ctscan::source::{local, Listed};
use ctscan::window::TimeWindow;
use serde_json::Value;

use crate::util::*;

/// The fields compared, per event.
type Fields = Vec<Option<String>>;

fn inputs() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in [
        root().join("sample-logs"),
        root().join("tests/fixtures/traps"),
        shared_data("stratus-red-team"),
        shared_data("umccr-orgtrail"),
        shared_data("otrf"),
    ] {
        for entry in local::list(&dir) {
            if let Listed::Object(o) = entry {
                if !o.key.contains("CloudTrail-Digest") && !o.key.contains("CloudTrail-Insight") {
                    files.push(PathBuf::from(o.key));
                }
            }
        }
    }
    assert!(files.len() > 60, "inputs went missing: {}", files.len());
    files
}

/// Decodes a file the simple way: whole-file gzip, whole-file JSON.
fn oracle_records(path: &Path) -> Option<Vec<Value>> {
    let raw = std::fs::read(path).unwrap();
    let text = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .unwrap();
        out
    } else {
        raw
    };
    let values: Vec<Value> = serde_json::Deserializer::from_slice(&text)
        .into_iter::<Value>()
        .collect::<Result<_, _>>()
        .ok()?;
    if values.len() == 1 {
        let v = &values[0];
        if let Some(records) = v.get("Records").and_then(Value::as_array) {
            return Some(records.clone());
        }
        if let Some(arr) = v.as_array() {
            return Some(arr.clone());
        }
        if let Some(events) = v.get("Events").and_then(Value::as_array) {
            return Some(
                events
                    .iter()
                    .map(|e| serde_json::from_str(e["CloudTrailEvent"].as_str().unwrap()).unwrap())
                    .collect(),
            );
        }
    }
    Some(values)
}

fn normalise_json(s: Option<&str>) -> Option<String> {
    s.map(|s| serde_json::from_str::<Value>(s).unwrap().to_string())
}

fn oracle(path: &Path, selection: &Selection) -> Option<(u64, u64, Vec<Fields>)> {
    let records = oracle_records(path)?;
    let mut no_time = 0;
    let mut events = Vec::new();
    for rec in &records {
        let Some(ev) = select_event(rec, selection) else {
            continue;
        };
        let Some(t) = ev.event_time else {
            no_time += 1;
            continue;
        };
        let s = |v: Option<&str>| v.map(str::to_string);
        events.push(vec![
            Some(t.as_microsecond().to_string()),
            s(ev.event_id),
            s(ev.event_source),
            s(ev.event_name),
            Some(ev.principal.clone()),
            Some(ev.principal_type.to_string()),
            ev.secret.clone(),
            s(ev.source_ip),
            s(ev.user_agent),
            s(ev.error_code),
            s(ev.account_id),
            s(ev.region),
            ev.read_only.map(|b| b.to_string()),
            normalise_json(ev.batch_request.as_deref()),
        ]);
    }
    Some((records.len() as u64, no_time, events))
}

fn fast(path: &Path, selection: &Selection) -> (u64, u64, Vec<Fields>) {
    let ctx = ScanContext::new(selection.clone(), TimeWindow::default(), 1 << 30);
    let listing = local::list(path);
    let out = scan(listing, &ctx, &LocalFetch);
    assert_eq!(
        out.stats.files.failed,
        0,
        "{}: {:?}",
        path.display(),
        out.stats.failures
    );
    let st = &out.events;
    let mut events: Vec<Fields> = Vec::new();
    st.for_each_row(|chunk, r| {
        let g = |c: Col| chunk.get(r, c).map(str::to_string);
        events.push(vec![
            Some(r.time_us.to_string()),
            chunk.event_id(r).map(str::to_string),
            g(Col::EventSource),
            g(Col::EventName),
            g(Col::Principal),
            g(Col::PrincipalType),
            g(Col::Secret),
            g(Col::SourceIp),
            g(Col::UserAgent),
            g(Col::ErrorCode),
            g(Col::AccountId),
            g(Col::Region),
            r.read_only.map(|b| b.to_string()),
            normalise_json(chunk.batch_request(r)),
        ]);
    });
    events.sort();
    let r = &out.stats.records;
    assert_eq!(r.read, r.matched + r.not_matched + r.no_event_time);
    (r.read, r.no_event_time, events)
}

#[test]
fn fast_path_equals_full_parse_on_every_input() {
    let mut compared = 0;
    let mut events = 0;
    for selection in [Selection::default(), Selection::All] {
        for path in inputs() {
            let Some((read, no_time, mut want)) = oracle(&path, &selection) else {
                // Not JSON at all (the otrf YAML description): the fast path skips it.
                assert!(
                    path.extension().is_some_and(|e| e == "yaml"),
                    "{}",
                    path.display()
                );
                continue;
            };
            want.sort();
            let got = fast(&path, &selection);
            assert_eq!(got.0, read, "records read in {}", path.display());
            assert_eq!(got.1, no_time, "no_event_time in {}", path.display());
            assert_eq!(got.2, want, "events of {}", path.display());
            compared += 1;
            events += want.len();
        }
    }
    assert!(
        compared > 120 && events > 4000,
        "{compared} files, {events} events compared"
    );
}
