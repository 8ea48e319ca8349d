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

/// Re-serialises JSON text the way exporters do, inside strings only:
/// every non-ASCII character as `\uXXXX` (surrogate pairs above the BMP,
/// as Python's `json.dumps` writes), `&`, `<` and `>` as Go's encoder does,
/// and `/` as `\/`. Every other occurrence of a selected event name, of
/// Secrets Manager's source and of the `eventName` key is disguised by one
/// escaped letter; existing escapes are kept.
struct Escaper {
    disguised: std::collections::HashMap<&'static str, usize>,
}

/// Strings disguised on every other occurrence, and the letter escaped.
const DISGUISE: [(&str, usize); 5] = [
    ("GetSecretValue", 9),
    ("BatchGetSecretValue", 0),
    ("secretsmanager.amazonaws.com", 14),
    ("eventName", 5),
    ("eventSource", 0),
];

impl Escaper {
    fn new() -> Escaper {
        Escaper {
            disguised: Default::default(),
        }
    }

    fn text(&mut self, json: &str) -> String {
        let mut out = String::with_capacity(json.len() * 2);
        let mut rest = json;
        while let Some(open) = rest.find('"') {
            out.push_str(&rest[..=open]);
            let inner_len = string_len(&rest[open + 1..]);
            self.string(&rest[open + 1..open + 1 + inner_len], &mut out);
            out.push('"');
            rest = &rest[open + 2 + inner_len..];
        }
        out.push_str(rest);
        out
    }

    fn string(&mut self, inner: &str, out: &mut String) {
        if let Some(&(word, at)) = DISGUISE.iter().find(|(w, _)| *w == inner) {
            let n = self.disguised.entry(word).or_default();
            *n += 1;
            if *n % 2 == 1 {
                let letter = inner.as_bytes()[at];
                out.push_str(&format!(
                    "{}\\u{:04x}{}",
                    &inner[..at],
                    letter,
                    &inner[at + 1..]
                ));
                return;
            }
        }
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    out.push(c);
                    out.extend(chars.next());
                }
                '/' => out.push_str("\\/"),
                '&' | '<' | '>' => out.push_str(&format!("\\u{:04x}", c as u32)),
                c if c.is_ascii() => out.push(c),
                c => {
                    let mut units = [0u16; 2];
                    for u in c.encode_utf16(&mut units) {
                        out.push_str(&format!("\\u{u:04x}"));
                    }
                }
            }
        }
    }
}

/// The length of a JSON string's inside, up to its closing quote.
fn string_len(s: &str) -> usize {
    let b = s.as_bytes();
    let mut i = 0;
    while b[i] != b'"' {
        i += if b[i] == b'\\' { 2 } else { 1 };
    }
    i
}

fn inflated_text(path: &Path) -> Option<String> {
    let raw = std::fs::read(path).unwrap();
    if !raw.starts_with(&[0x1f, 0x8b]) {
        return String::from_utf8(raw).ok();
    }
    let mut out = String::new();
    flate2::read::MultiGzDecoder::new(&raw[..])
        .read_to_string(&mut out)
        .ok()?;
    Some(out)
}

/// Every input re-serialised with escapes (as it is, and pretty-printed
/// when it is one JSON value): the fast path still equals the full parse,
/// including records whose names, sources, keys and secret ids are escaped.
#[test]
fn fast_path_equals_full_parse_on_escaped_inputs() {
    let dir = TestDir::new();
    let mut escaper = Escaper::new();
    let mut written = Vec::new();
    for (i, path) in inputs().iter().enumerate() {
        let Some(text) = inflated_text(path) else {
            continue;
        };
        if oracle_records(path).is_none() {
            continue;
        }
        written.push(dir.write(&format!("{i}-escaped.json"), escaper.text(&text).as_bytes()));
        if let Ok(v) = serde_json::from_str::<Value>(&text) {
            let pretty = serde_json::to_string_pretty(&v).unwrap();
            let name = format!("{i}-pretty-escaped.json");
            written.push(dir.write(&name, escaper.text(&pretty).as_bytes()));
        }
    }
    let mut events = 0;
    let mut disguised_names = 0;
    for selection in [Selection::default(), Selection::All] {
        for path in &written {
            let text = std::fs::read_to_string(path).unwrap();
            disguised_names += text.matches(r"GetSecret\u0056alue").count();
            let (read, no_time, mut want) = oracle(path, &selection).unwrap();
            want.sort();
            let got = fast(path, &selection);
            assert_eq!(
                (got.0, got.1),
                (read, no_time),
                "counts of {}",
                path.display()
            );
            assert_eq!(got.2, want, "events of {}", path.display());
            events += want.len();
        }
    }
    assert!(
        events > 4000 && disguised_names > 100,
        "{events} events, {disguised_names} disguised names"
    );
}
