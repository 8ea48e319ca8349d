//! Properties checked on arbitrary bytes, shared by the fuzz targets
//! (`fuzz/fuzz_targets/`) and by the regression tests that replay every input
//! they found (`tests/fuzz_regressions.rs`).
//!
//! Each `check_*` function panics, naming the broken property, and otherwise
//! returns nothing. No I/O and no state. Not a supported API: it exists so the
//! fuzzer and CI check exactly the same thing.

use std::io::Read;

use serde_json::Value;

use crate::events::{Col, EventStore, Text};
use crate::read::filter::Prefilter;
use crate::read::format::{
    looks_like_json, split_records, split_records_indexed, Layout, RecordText,
};
use crate::read::record::{select_event, Selection};
use crate::read::structural::Tape;
use crate::replay::pattern::{
    CrossTypeMode, EventCache, ExtraTokensMode, FieldPlan, JsonRootMode, LogEvent, MatchOptions,
    NullBoolEqMode, OnlyExclusionsMode, Pattern, Quantifier, RegexInTermsMode, RegexNeMode,
    UnquotedTermMode, UnquotedValueMode,
};
use crate::replay::rules::{cis_rules, RuleSet};
use crate::scan::{scan_object_bytes, ScanContext};
use crate::verify::digest::{inflate, sha256_hex, Digest};
use crate::verify::signature::string_to_sign;
use crate::window::TimeWindow;

/// The object name the fast path is given: one that claims JSON, so that
/// bytes which are not JSON are a failure, never a silent skip.
const KEY: &str = "fuzz.json";
const LIMIT: u64 = crate::read::inflate::DEFAULT_MAX_DECOMPRESSED;
const BOM: &[u8] = &[0xEF, 0xBB, 0xBF];

// ---------------------------------------------------------------------------
// The record fast path against serde_json.

/// How one object ended up.
#[derive(Debug)]
enum Outcome {
    Scanned(Counts),
    Skipped(String),
    /// The object is an error; the text says why (shown, not compared).
    Failed(#[allow(dead_code)] String),
}

#[derive(Debug, PartialEq)]
struct Counts {
    read: u64,
    no_event_time: u64,
    /// Selected records with a time, before deduplication by `eventID`.
    matched: u64,
    /// The events kept, in the scan's order (time, then `eventID`).
    events: Vec<Row>,
}

/// One event's compared fields.
#[derive(Debug, PartialEq)]
struct Row {
    fields: Vec<Option<String>>,
    /// A batch call's request, compared as JSON (key order aside).
    batch: Option<Value>,
}

/// What serde_json says about an object.
enum Oracle {
    Says(Outcome),
    /// serde_json rejects the text somewhere.
    Invalid,
    /// Nesting deeper than serde_json's limit of 128: it cannot tell.
    Unknown,
}

/// Runs the scan's fast path (decode, `split_records`, byte prefilter,
/// simd-json on candidates, `select_event`) on `data` as one object, and an
/// oracle that parses the whole object with serde_json, for the default
/// selection and for every event. Panics when they disagree.
///
/// The agreement rule:
/// * When serde_json accepts the object, the fast path must give exactly the
///   oracle's outcome: the same layout decision (scanned, skipped as a digest
///   or failed), the same counts and the same events, field by field.
/// * When serde_json rejects it, the fast path may still accept it: it checks
///   only the structure (balanced brackets, terminated strings, token bytes)
///   of text it does not parse, namely the top-level object outside
///   `Records` and every record the prefilter rules out. It must then agree
///   with a per-record oracle: each record it splits out is parsed with
///   serde_json if it is a candidate (every record under `Selection::All`;
///   otherwise a record holding a selected name followed by `"`, or a `\u`
///   escape in an `eventName` value or in a key that decodes to
///   `eventName`: [`Prefilter::is_candidate`]), and a candidate serde_json
///   rejects must fail the object. A record whose escapes lie elsewhere is
///   not parsed, so an invalid escape there goes unnoticed, as would any
///   other error inside a string of a record that cannot be selected.
///
/// The layout rules the oracle applies are those of `scan.rs` and
/// `format.rs`: the whole text must be UTF-8 (checked before the layout, so
/// even a digest with invalid bytes after it fails); a leading UTF-8
/// byte-order mark is skipped; a top-level object with a `Records`
/// key must hold an array of objects and stand alone; else one whose
/// `Events` is an array is `lookup-events` output, standing alone, each
/// entry an object whose `CloudTrailEvent` string holds one JSON record;
/// else one with `digestEndTime` or `logFiles` is a digest, skipped without
/// reading further; else one with a record key (`eventName`, …) starts
/// NDJSON, every value of which must be an object; a top-level array must
/// stand alone and hold objects; anything else fails.
pub fn check_record_fast_path(data: &[u8]) {
    for selection in [Selection::default(), Selection::All] {
        let fast = fast_path(data, &selection);
        let text = match inflate_bounded(data) {
            Some(text) => text,
            None => {
                assert!(
                    matches!(fast, Outcome::Failed(_)),
                    "{selection:?}: the fast path accepted an object that does not inflate: {fast:?}"
                );
                continue;
            }
        };
        match whole_file_oracle(&text, &selection) {
            Oracle::Says(want) => agree(&fast, &want, &selection, "whole-file"),
            Oracle::Unknown => {}
            Oracle::Invalid => {
                if let Outcome::Failed(_) = fast {
                    continue;
                }
                match per_record_oracle(&text, &selection) {
                    Oracle::Says(want) => agree(&fast, &want, &selection, "per-record"),
                    Oracle::Unknown => {}
                    Oracle::Invalid => unreachable!("the per-record oracle always decides"),
                }
            }
        }
    }
}

fn agree(fast: &Outcome, want: &Outcome, selection: &Selection, oracle: &str) {
    let same = match (fast, want) {
        (Outcome::Scanned(a), Outcome::Scanned(b)) => a == b,
        (Outcome::Skipped(a), Outcome::Skipped(b)) => a == b,
        (Outcome::Failed(_), Outcome::Failed(_)) => true,
        _ => false,
    };
    assert!(
        same,
        "{selection:?}: the fast path and the {oracle} oracle disagree\n fast path: {fast:?}\n    oracle: {want:?}"
    );
}

fn fast_path(data: &[u8], selection: &Selection) -> Outcome {
    let ctx = ScanContext::new(selection.clone(), TimeWindow::default(), LIMIT);
    let out = scan_object_bytes(KEY, data, &ctx);
    let st = &out.stats;
    if let Some(f) = st.failures.first() {
        return Outcome::Failed(f.error.clone());
    }
    if let Some(reason) = st.files.skipped.keys().next() {
        return Outcome::Skipped(reason.clone());
    }
    let r = &st.records;
    assert_eq!(
        r.read,
        r.matched + r.not_matched + r.no_event_time,
        "record accounting: {r:?}"
    );
    assert_eq!(r.matched, out.events.len() as u64 + r.duplicates);
    Outcome::Scanned(Counts {
        read: r.read,
        no_event_time: r.no_event_time,
        matched: r.matched,
        events: store_rows(&out.events),
    })
}

fn store_rows(st: &EventStore) -> Vec<Row> {
    let mut out = Vec::new();
    st.for_each_row(|chunk, r| {
        let g = |c: Col| chunk.get(r, c).map(str::to_string);
        out.push(Row {
            fields: vec![
                Some(r.time_us.to_string()),
                chunk.event_id(r).map(str::to_string),
                g(Col::EventSource),
                g(Col::EventName),
                g(Col::Principal),
                g(Col::PrincipalType),
                chunk.text(r, Text::SessionArn).map(str::to_string),
                chunk.text(r, Text::AccessKeyId).map(str::to_string),
                g(Col::AccountId),
                g(Col::Region),
                g(Col::SourceIp),
                g(Col::UserAgent),
                g(Col::Secret),
                g(Col::ErrorCode),
                chunk.request_id(r).map(str::to_string),
                r.read_only.map(|b| b.to_string()),
            ],
            batch: chunk.batch_request(r).map(batch_value),
        });
    });
    out
}

fn batch_value(json: &str) -> Value {
    serde_json::from_str(json).unwrap_or_else(|e| panic!("batch request {json:?} is not JSON: {e}"))
}

/// The decompressed text, as the oracle reads it: flate2 over every member.
fn inflate_bounded(data: &[u8]) -> Option<Vec<u8>> {
    if !crate::read::inflate::is_gzip(data) {
        return Some(data.to_vec());
    }
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(data)
        .take(LIMIT + 1)
        .read_to_end(&mut out)
        .ok()?;
    (out.len() as u64 <= LIMIT).then_some(out)
}

fn too_deep(e: &serde_json::Error) -> bool {
    e.to_string().starts_with("recursion limit exceeded")
}

fn parse_error(e: &serde_json::Error) -> Oracle {
    if too_deep(e) {
        Oracle::Unknown
    } else {
        Oracle::Invalid
    }
}

fn failed(why: &str) -> Oracle {
    Oracle::Says(Outcome::Failed(why.to_string()))
}

const RECORD_KEYS: [&str; 5] = [
    "eventVersion",
    "eventName",
    "eventSource",
    "eventTime",
    "userIdentity",
];

fn whole_file_oracle(text: &[u8], selection: &Selection) -> Oracle {
    if std::str::from_utf8(text).is_err() {
        return failed("not UTF-8");
    }
    let text = text.strip_prefix(BOM).unwrap_or(text);
    let mut stream = serde_json::Deserializer::from_slice(text).into_iter::<Value>();
    let first = match stream.next() {
        None => return failed("no JSON value"),
        Some(Err(e)) => return parse_error(&e),
        Some(Ok(v)) => v,
    };
    if first.is_object() && records_keys(text) > 1 {
        return failed("two Records keys");
    }
    if let Value::Object(o) = &first {
        let events_array = o.get("Events").is_some_and(Value::is_array);
        if !o.contains_key("Records")
            && !events_array
            && (o.contains_key("digestEndTime") || o.contains_key("logFiles"))
        {
            return Oracle::Says(Outcome::Skipped("digest".into()));
        }
    }
    let mut values = vec![first];
    for v in stream {
        match v {
            Ok(v) => values.push(v),
            Err(e) => return parse_error(&e),
        }
    }
    match records_of(values) {
        Ok(records) => Oracle::Says(Outcome::Scanned(select_all(&records, selection))),
        Err(oracle) => oracle,
    }
}

/// How many `Records` keys the first top-level object has (a parsed
/// `Value` keeps only the last).
fn records_keys(text: &[u8]) -> usize {
    struct Count;
    impl<'de> serde::de::Visitor<'de> for Count {
        type Value = usize;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<usize, A::Error> {
            let mut n = 0;
            while let Some(k) = map.next_key::<String>()? {
                n += usize::from(k == "Records");
                map.next_value::<serde::de::IgnoredAny>()?;
            }
            Ok(n)
        }
    }
    let mut de = serde_json::Deserializer::from_slice(text);
    serde::Deserializer::deserialize_map(&mut de, Count).unwrap_or(0)
}

/// The records of a file's top-level values, by the layout rules.
fn records_of(mut values: Vec<Value>) -> Result<Vec<Value>, Oracle> {
    let alone = values.len() == 1;
    let all_objects = |v: &[Value]| v.iter().all(Value::is_object);
    match &mut values[0] {
        Value::Object(o) if o.contains_key("Records") => match o.remove("Records") {
            Some(Value::Array(recs)) if alone && all_objects(&recs) => Ok(recs),
            _ => Err(failed("bad Records")),
        },
        Value::Object(o) if o.get("Events").is_some_and(Value::is_array) => {
            let Some(Value::Array(entries)) = o.remove("Events") else {
                unreachable!()
            };
            if !alone {
                return Err(failed("data after lookup-events output"));
            }
            entries.iter().map(lookup_record).collect()
        }
        Value::Object(o) if RECORD_KEYS.iter().any(|k| o.contains_key(*k)) => {
            if all_objects(&values) {
                Ok(values)
            } else {
                Err(failed("NDJSON value that is not an object"))
            }
        }
        Value::Array(recs) if alone && all_objects(recs) => Ok(std::mem::take(recs)),
        _ => Err(failed("not CloudTrail")),
    }
}

fn lookup_record(entry: &Value) -> Result<Value, Oracle> {
    let Some(Value::String(event)) = entry.as_object().and_then(|e| e.get("CloudTrailEvent"))
    else {
        return Err(failed(
            "lookup-events entry without a CloudTrailEvent string",
        ));
    };
    serde_json::from_str(event).map_err(|e| {
        if too_deep(&e) {
            Oracle::Unknown
        } else {
            failed("CloudTrailEvent is not JSON")
        }
    })
}

/// Selects and normalises records the way `FileScan::candidate` does, then
/// orders and deduplicates the events the way the scan's `finish` does.
fn select_all(records: &[Value], selection: &Selection) -> Counts {
    let mut counts = Counts {
        read: records.len() as u64,
        no_event_time: 0,
        matched: 0,
        events: Vec::new(),
    };
    let mut keyed = Vec::new();
    for rec in records {
        let Some(ev) = select_event(rec, selection) else {
            continue;
        };
        let Some(t) = ev.event_time else {
            counts.no_event_time += 1;
            continue;
        };
        counts.matched += 1;
        let s = |v: Option<&str>| v.map(str::to_string);
        let row = Row {
            fields: vec![
                Some(t.as_microsecond().to_string()),
                s(ev.event_id),
                s(ev.event_source),
                s(ev.event_name),
                Some(ev.principal.clone()),
                Some(ev.principal_type.to_string()),
                s(ev.session_arn),
                s(ev.access_key_id),
                s(ev.account_id),
                s(ev.region),
                s(ev.source_ip),
                s(ev.user_agent),
                ev.secret.clone(),
                s(ev.error_code),
                s(ev.request_id),
                ev.read_only.map(|b| b.to_string()),
            ],
            batch: ev.batch_request.as_deref().map(batch_value),
        };
        // The table's total order (`EventStore::sort`): time, event id, the
        // object (one here), the other columns, request id, batch request,
        // read-only (none < false < true).
        let order = (
            t.as_microsecond(),
            s(ev.event_id),
            row.fields[2..15].to_vec(),
            ev.batch_request.clone(),
            ev.read_only.map_or(0, |b| 1 + u8::from(b)),
        );
        keyed.push((order, row));
    }
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    let mut seen = std::collections::HashSet::new();
    for ((_, id, ..), row) in keyed {
        if id.is_none_or(|id| seen.insert(id)) {
            counts.events.push(row);
        }
    }
    counts
}

/// The oracle for text serde_json rejects as a whole: the fast path's own
/// split, with serde_json deciding each candidate record.
fn per_record_oracle(text: &[u8], selection: &Selection) -> Oracle {
    if !looks_like_json(text) || std::str::from_utf8(text).is_err() {
        return failed("not JSON text");
    }
    let mut records: Vec<(Vec<u8>, bool)> = Vec::new();
    let layout = split_records(text, |r| match r {
        RecordText::Range(a, b) => records.push((text[a..b].to_vec(), false)),
        RecordText::Decoded(t) => records.push((t.to_vec(), true)),
    });
    match layout {
        Err(_) => return failed("split_records failed"),
        Ok(Layout::Digest) => return Oracle::Says(Outcome::Skipped("digest".into())),
        Ok(_) => {}
    }
    let prefilter = Prefilter::new(selection);
    let mut parsed = Vec::new();
    for (bytes, decoded) in records {
        if !(decoded || prefilter.is_candidate(&bytes)) {
            // Ruled out by the prefilter: read, never parsed, not selected.
            parsed.push(Value::Null);
            continue;
        }
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(v) => parsed.push(v),
            Err(e) if too_deep(&e) => return Oracle::Unknown,
            Err(_) => return failed("a candidate record is not JSON"),
        }
    }
    Oracle::Says(Outcome::Scanned(select_all(&parsed, selection)))
}

// ---------------------------------------------------------------------------
// Filter patterns.

/// Every \[INF\] knob away from its default, so the fuzzer reaches both sides.
fn alternative_options() -> MatchOptions {
    MatchOptions {
        only_exclusions: OnlyExclusionsMode::NeverMatch,
        unquoted_terms: UnquotedTermMode::Reject,
        regex_in_terms: RegexInTermsMode::Literal,
        detached_dash: false,
        bracket_key_without_dot: false,
        unquoted_values: UnquotedValueMode::Permissive,
        json_root: JsonRootMode::AnyValue,
        ne_matches_missing: true,
        null_bool_eq: NullBoolEqMode::Text,
        not_exists_on_null: true,
        cross_type: CrossTypeMode::Never,
        star_matches_empty: false,
        wildcard_quantifier: Quantifier::All,
        regex_ne: RegexNeMode::Never,
        tab_delimits: false,
        extra_tokens: ExtraTokensMode::NoMatch,
        ellipsis_may_be_empty: false,
    }
}

/// `data` is a pattern, a newline, and an event. Parsing (with the default
/// options and with every knob flipped) must not panic; a parsed pattern
/// keeps its text, and matching the event as a message and as a raw record
/// must not panic. When the event is JSON: the byte prefilter passes it
/// whenever the pattern matches it (its soundness contract), evaluating on
/// the `root_keys` projection gives the same answer as on the whole record,
/// so does the compiled [`FieldPlan`] reading the bytes, and a one-rule
/// [`RuleSet`] agrees with the pattern.
pub fn check_pattern(data: &[u8]) {
    let (pattern, event) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let Ok(pattern) = std::str::from_utf8(pattern) else {
        return;
    };
    let message = String::from_utf8_lossy(event);
    let json = serde_json::from_slice::<Value>(event).ok();
    for opts in [MatchOptions::default(), alternative_options()] {
        let default = opts == MatchOptions::default();
        let Ok(p) = Pattern::parse_with(pattern, opts) else {
            continue;
        };
        assert_eq!(p.as_str(), pattern);
        let on_message = p.test(&LogEvent { message: &message });
        assert_eq!(
            on_message.is_some(),
            p.matches(&LogEvent { message: &message })
        );
        let on_record = p.test_cached(&EventCache::from_raw(event));
        let Some(v) = &json else {
            continue;
        };
        for (how, matched) in [("as is", &on_message), ("re-serialised", &on_record)] {
            assert!(
                matched.is_none() || p.prefilter().may_match(event),
                "{pattern:?} matches the event {how} but its prefilter rejects it"
            );
        }
        if let (Some(keys), Value::Object(o)) = (p.root_keys(), v) {
            let projected = o
                .iter()
                .filter(|(k, _)| keys.contains(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let on_projection = p.matches_cached(&EventCache::from_projection(
                event,
                Value::Object(projected),
            ));
            assert_eq!(
                on_projection,
                on_record.is_some(),
                "{pattern:?}: the projection on {keys:?} changes the answer"
            );
        }
        let mut plan = FieldPlan::default();
        let compiled = plan.compile(&p);
        if let (Some(compiled), Some(values)) = (&compiled, plan.values(event)) {
            assert_eq!(
                compiled.matches(&values),
                on_record.is_some(),
                "{pattern:?}: reading the record's bytes and the JSON tree disagree"
            );
        }
        if let (Some(compiled), Value::Object(_)) = (&compiled, v) {
            // The same record as a scan meets it: split from a log file,
            // with the tape the split made.
            let file = [&b"{\"Records\":["[..], event, b"]}"].concat();
            let mut tape = Tape::new(plan.depth());
            let split = split_records_indexed(&file, Some(&mut tape), |rec, tape| {
                let (RecordText::Range(a, b), Some(tape)) = (rec, tape) else {
                    panic!("{pattern:?}: a record split without its tape");
                };
                if let Some(values) = plan.values_on_tape(&file[a..b], tape) {
                    assert_eq!(
                        compiled.matches(&values),
                        on_record.is_some(),
                        "{pattern:?}: the split's tape and the JSON tree disagree"
                    );
                }
            });
            assert!(split.is_ok(), "a JSON object did not split: {split:?}");
        }
        if default {
            check_rule_set(pattern, event, on_record.is_some());
        }
    }
}

/// A one-rule [`RuleSet`] (its literal index, its projection) answers like
/// the pattern on the raw record.
fn check_rule_set(pattern: &str, event: &[u8], want: bool) {
    let mut rule = cis_rules().swap_remove(0);
    rule.pattern = pattern.to_string();
    let set = RuleSet::new(vec![rule]).expect("the pattern parsed alone");
    assert_eq!(
        set.matching_rules(event).contains(0),
        want,
        "{pattern:?}: the rule set and the pattern disagree"
    );
    assert_eq!(
        set.judge(event, None, false).rules.contains(0),
        want,
        "{pattern:?}: the rule set's verdict and the pattern disagree"
    );
}

// ---------------------------------------------------------------------------
// Digests.

/// `data` is a digest file, gzip or not. Reading it must not panic; a digest
/// that parses holds exactly the JSON's values, and the report scan (which
/// sees digests mixed with logs) must recognise it as a digest and skip it.
pub fn check_digest(data: &[u8]) {
    let Ok(inflated) = inflate(data) else {
        return;
    };
    let bytes = inflated.bytes;
    let Ok(d) = Digest::parse(&bytes) else {
        return;
    };
    let v: Value = serde_json::from_slice(&bytes).expect("a parsed digest is JSON");
    let text = |k: &str| v.get(k).and_then(Value::as_str);
    assert_eq!(text("digestStartTime"), Some(d.start_text.as_str()));
    assert_eq!(text("digestEndTime"), Some(d.end_text.as_str()));
    assert_eq!(text("digestS3Bucket"), Some(d.bucket.as_str()));
    assert_eq!(text("digestS3Object"), Some(d.object.as_str()));
    assert_eq!(
        text("previousDigestSignature"),
        d.previous_signature.as_deref()
    );
    assert_eq!(d.start_text.parse().ok(), Some(d.start));
    assert_eq!(d.end_text.parse().ok(), Some(d.end));
    let files = v["logFiles"].as_array().expect("logFiles is an array");
    assert_eq!(files.len(), d.log_files.len());
    let signed = string_to_sign(&d, &sha256_hex(&bytes));
    assert!(signed.starts_with(&format!("{}\n{}/{}\n", d.end_text, d.bucket, d.object)));
    let o = v.as_object().expect("a digest is an object");
    if !o.contains_key("Records") && !o.get("Events").is_some_and(Value::is_array) {
        assert_eq!(
            split_records(&bytes, |_| {}),
            Ok(Layout::Digest),
            "the report scan does not recognise a valid digest"
        );
    }
}
