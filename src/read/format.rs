//! Content-based format detection and record splitting.
//!
//! Owns the structural scan that finds each record's byte range without
//! building a DOM: `{"Records":[…]}`, a bare array, NDJSON (or concatenated
//! objects), and `lookup-events` output. It checks structure (balanced
//! brackets, terminated strings) but not field types: parsing a record is the
//! caller's job, and only for candidates.

use memchr::memchr2;

pub use crate::read::error::FormatError;
use crate::read::structural::{index_container, Tape};

/// The shape of a file, as detected from its first JSON value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// A CloudTrail object, `{"Records":[…]}`.
    RecordsObject,
    /// A bare JSON array of records.
    Array,
    /// One record per top-level object (NDJSON, or concatenated objects).
    Lines,
    /// `aws cloudtrail lookup-events` output; records sit in `CloudTrailEvent` strings.
    LookupEvents,
    /// A CloudTrail digest file (it has `digestEndTime`/`logFiles`), not events.
    Digest,
}

/// Keys that mark a top-level object as one CloudTrail record (NDJSON line).
const RECORD_KEYS: [&[u8]; 5] = [
    b"eventVersion",
    b"eventName",
    b"eventSource",
    b"eventTime",
    b"userIdentity",
];

/// Whether the first non-blank byte makes the file look like JSON at all.
pub fn looks_like_json(buf: &[u8]) -> bool {
    let i = skip_ws(buf, 0);
    matches!(buf.get(i), Some(b'{') | Some(b'['))
}

/// Where one record's JSON text is.
#[derive(Debug, Clone, Copy)]
pub enum RecordText<'d> {
    /// A byte range of the input.
    Range(usize, usize),
    /// Text decoded from a lookup-events `CloudTrailEvent` string.
    Decoded(&'d [u8]),
}

/// Calls `on_record` for each record, in file order, and returns the layout.
pub fn split_records(
    buf: &[u8],
    mut on_record: impl FnMut(RecordText<'_>),
) -> Result<Layout, FormatError> {
    split_records_indexed(buf, None, |r, _| on_record(r))
}

/// [`split_records`], filling `tape` with each record's structure in the
/// same pass and handing it over with the record. A record decoded from a
/// lookup-events string comes without one.
pub fn split_records_indexed(
    buf: &[u8],
    tape: Option<&mut Tape>,
    mut on_record: impl FnMut(RecordText<'_>, Option<&Tape>),
) -> Result<Layout, FormatError> {
    let mut split = Splitter { tape };
    let start = skip_ws(buf, 0);
    match buf.get(start) {
        Some(b'[') => {
            let end = split.array(buf, start, &mut on_record)?;
            expect_end(buf, end)?;
            Ok(Layout::Array)
        }
        Some(b'{') => split.top_object(buf, start, &mut on_record),
        Some(&byte) => Err(FormatError::NotJson {
            offset: start,
            byte,
        }),
        None => Err(FormatError::Truncated {
            what: "an empty document",
            offset: 0,
        }),
    }
}

#[derive(Default)]
struct TopKeys {
    records: Option<usize>,
    events: Option<usize>,
    digest: bool,
    record_like: bool,
}

/// Where each record ends, and its tape when one is wanted.
struct Splitter<'t> {
    tape: Option<&'t mut Tape>,
}

/// The callback a [`Splitter`] hands records to.
trait OnRecord: FnMut(RecordText<'_>, Option<&Tape>) {}
impl<F: FnMut(RecordText<'_>, Option<&Tape>)> OnRecord for F {}

impl Splitter<'_> {
    /// The end of the record (or other value) starting at `pos`.
    fn value_end(&mut self, buf: &[u8], pos: usize) -> Result<usize, FormatError> {
        match &mut self.tape {
            Some(tape) if buf[pos] == b'{' => index_container(buf, pos, tape),
            _ => skip_value(buf, pos),
        }
    }

    fn emit(&self, start: usize, end: usize, on_record: &mut impl OnRecord) {
        on_record(RecordText::Range(start, end), self.tape.as_deref());
    }

    /// Handles a file that starts with `{`: a Records object, a lookup-events
    /// object, a digest, or the first of several record objects.
    fn top_object(
        &mut self,
        buf: &[u8],
        start: usize,
        on_record: &mut impl OnRecord,
    ) -> Result<Layout, FormatError> {
        let mut found = TopKeys::default();
        // The Records array is split as the keys are walked, so the file is
        // scanned once. A second Records key fails the file: JSON readers
        // disagree on which copy counts, and a log that reads two ways is not
        // evidence. Other repeated keys mean their last value.
        let end = scan_object_keys(buf, start, |key, value_at| {
            match key {
                b"Records" if found.records.is_some() => return Err(FormatError::RepeatedRecords),
                b"Records" => {
                    found.records = Some(value_at);
                    if buf[value_at] == b'[' {
                        return self.array(buf, value_at, on_record).map(Some);
                    }
                }
                b"Events" => found.events = (buf[value_at] == b'[').then_some(value_at),
                b"digestEndTime" | b"logFiles" => found.digest = true,
                k if RECORD_KEYS.contains(&k) => found.record_like = true,
                _ => {}
            }
            Ok(None)
        })?;
        if let Some(records_at) = found.records {
            if buf[records_at] != b'[' {
                return Err(FormatError::RecordsNotArray {
                    kind: kind_of(buf[records_at]),
                });
            }
            expect_end(buf, end)?;
            return Ok(Layout::RecordsObject);
        }
        if let Some(events_at) = found.events {
            expect_end(buf, end)?;
            split_lookup_events(buf, events_at, on_record)?;
            return Ok(Layout::LookupEvents);
        }
        if found.digest {
            return Ok(Layout::Digest);
        }
        if !found.record_like {
            return Err(FormatError::NoRecords);
        }
        if self.tape.is_some() {
            // The key walk made no tape for this first record.
            self.value_end(buf, start)?;
        }
        self.emit(start, end, on_record);
        self.lines(buf, end, on_record)?;
        Ok(Layout::Lines)
    }

    /// The remaining top-level values of an NDJSON file: each must be an object.
    fn lines(
        &mut self,
        buf: &[u8],
        mut pos: usize,
        on_record: &mut impl OnRecord,
    ) -> Result<(), FormatError> {
        let mut index = 1;
        loop {
            pos = skip_ws(buf, pos);
            let Some(&b) = buf.get(pos) else {
                return Ok(());
            };
            if b != b'{' {
                return Err(FormatError::NotAnObject {
                    index,
                    kind: kind_of(b),
                });
            }
            let end = self.value_end(buf, pos)?;
            self.emit(pos, end, on_record);
            pos = end;
            index += 1;
        }
    }

    /// Splits the array that starts at `open` into its elements, which must be
    /// objects, and returns the offset just past it.
    fn array(
        &mut self,
        buf: &[u8],
        open: usize,
        on_record: &mut impl OnRecord,
    ) -> Result<usize, FormatError> {
        let mut index = 0;
        for_each_element(buf, open, |start| {
            if buf[start] != b'{' {
                // Checked whole first, so a broken element reports its own error.
                skip_value(buf, start)?;
                return Err(FormatError::NotAnObject {
                    index,
                    kind: kind_of(buf[start]),
                });
            }
            let end = self.value_end(buf, start)?;
            self.emit(start, end, on_record);
            index += 1;
            Ok(end)
        })
    }
}

/// Decodes each `CloudTrailEvent` string of a lookup-events array.
fn split_lookup_events(
    buf: &[u8],
    open: usize,
    on_record: &mut impl OnRecord,
) -> Result<(), FormatError> {
    let mut index = 0;
    for_each_element(buf, open, |start| {
        let end = skip_value(buf, start)?;
        // A map, not a struct: serde would take `["…"]` for a struct and
        // reject a repeated key, where JSON readers take the last value.
        let entry: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(&buf[start..end]).map_err(|e| FormatError::Lookup {
                index,
                reason: e.to_string(),
            })?;
        let event = entry
            .get("CloudTrailEvent")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| FormatError::Lookup {
                index,
                reason: "no CloudTrailEvent string".into(),
            })?;
        on_record(RecordText::Decoded(event.as_bytes()), None);
        index += 1;
        Ok(end)
    })
    .map(|_| ())
}

/// Calls `f(start)` for each element of the array opening at `open`; `f`
/// returns the offset just past the element. Returns the offset just past
/// the array.
fn for_each_element(
    buf: &[u8],
    open: usize,
    mut f: impl FnMut(usize) -> Result<usize, FormatError>,
) -> Result<usize, FormatError> {
    let truncated = FormatError::Truncated {
        what: "an array",
        offset: open,
    };
    let mut pos = skip_ws(buf, open + 1);
    if buf.get(pos) == Some(&b']') {
        return Ok(pos + 1);
    }
    loop {
        if pos >= buf.len() {
            return Err(truncated);
        }
        let end = f(pos)?;
        pos = skip_ws(buf, end);
        match buf.get(pos) {
            Some(b',') => pos = skip_ws(buf, pos + 1),
            Some(b']') => return Ok(pos + 1),
            Some(_) => return Err(malformed(pos, "expected ',' or ']' in an array")),
            None => return Err(truncated),
        }
    }
}

/// Walks the keys of the object opening at `open`, calling `f(key, value_offset)`
/// for each, and returns the offset just past the closing brace. `f` may
/// read the value itself and return the offset just past it, which saves
/// skipping it a second time.
pub(crate) fn scan_object_keys(
    buf: &[u8],
    open: usize,
    mut f: impl FnMut(&[u8], usize) -> Result<Option<usize>, FormatError>,
) -> Result<usize, FormatError> {
    let truncated = FormatError::Truncated {
        what: "an object",
        offset: open,
    };
    let mut pos = skip_ws(buf, open + 1);
    if buf.get(pos) == Some(&b'}') {
        return Ok(pos + 1);
    }
    loop {
        match buf.get(pos) {
            Some(b'"') => {}
            Some(_) => return Err(malformed(pos, "expected a key string")),
            None => return Err(truncated),
        }
        let key_end = skip_string(buf, pos)?;
        let colon = skip_ws(buf, key_end);
        if buf.get(colon) != Some(&b':') {
            return Err(if colon >= buf.len() {
                truncated
            } else {
                malformed(colon, "expected ':' after a key")
            });
        }
        let value_at = skip_ws(buf, colon + 1);
        if value_at >= buf.len() {
            return Err(truncated);
        }
        let raw = &buf[pos + 1..key_end - 1];
        // Keys are compared decoded: `"Rec\u006frds"` is `Records`.
        let decoded = raw
            .contains(&b'\\')
            .then(|| serde_json::from_slice::<String>(&buf[pos..key_end]).ok())
            .flatten();
        let value_end = match f(decoded.as_ref().map_or(raw, |k| k.as_bytes()), value_at)? {
            Some(end) => end,
            None => skip_value(buf, value_at)?,
        };
        pos = skip_ws(buf, value_end);
        match buf.get(pos) {
            Some(b',') => pos = skip_ws(buf, pos + 1),
            Some(b'}') => return Ok(pos + 1),
            Some(_) => return Err(malformed(pos, "expected ',' or '}' in an object")),
            None => return Err(truncated),
        }
    }
}

/// Returns the offset just past the JSON value starting at `pos`.
pub fn skip_value(buf: &[u8], pos: usize) -> Result<usize, FormatError> {
    match buf.get(pos) {
        Some(b'"') => skip_string(buf, pos),
        Some(b'{') | Some(b'[') => crate::read::structural::skip_container(buf, pos),
        Some(_) => skip_scalar(buf, pos),
        None => Err(FormatError::Truncated {
            what: "a value",
            offset: pos,
        }),
    }
}

/// Returns the offset just past the string whose opening quote is at `open`.
fn skip_string(buf: &[u8], open: usize) -> Result<usize, FormatError> {
    let mut i = open + 1;
    while let Some(off) = memchr2(b'"', b'\\', &buf[i..]) {
        let at = i + off;
        if buf[at] == b'"' {
            return Ok(at + 1);
        }
        i = at + 2;
        if i > buf.len() {
            break;
        }
    }
    Err(FormatError::Truncated {
        what: "a string",
        offset: open,
    })
}

/// Skips a number or literal up to the next delimiter.
fn skip_scalar(buf: &[u8], pos: usize) -> Result<usize, FormatError> {
    let end = buf[pos..]
        .iter()
        .position(|&b| matches!(b, b',' | b']' | b'}' | b' ' | b'\n' | b'\r' | b'\t'))
        .map_or(buf.len(), |n| pos + n);
    let token = &buf[pos..end];
    let ok = matches!(token, b"true" | b"false" | b"null")
        || (!token.is_empty()
            && token
                .iter()
                .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E')));
    if ok {
        Ok(end)
    } else {
        Err(FormatError::NotJson {
            offset: pos,
            byte: buf[pos],
        })
    }
}

fn expect_end(buf: &[u8], end: usize) -> Result<(), FormatError> {
    let rest = skip_ws(buf, end);
    if rest < buf.len() {
        return Err(malformed(rest, "trailing data after the JSON document"));
    }
    Ok(())
}

/// Skips JSON whitespace and a UTF-8 byte-order mark at the very start.
fn skip_ws(buf: &[u8], mut pos: usize) -> usize {
    if pos == 0 && buf.starts_with(&[0xEF, 0xBB, 0xBF]) {
        pos = 3;
    }
    while pos < buf.len() && matches!(buf[pos], b' ' | b'\n' | b'\r' | b'\t') {
        pos += 1;
    }
    pos
}

fn malformed(offset: usize, what: &'static str) -> FormatError {
    FormatError::Malformed { offset, what }
}

fn kind_of(b: u8) -> &'static str {
    match b {
        b'"' => "a string",
        b'[' => "an array",
        b'{' => "an object",
        b't' | b'f' => "a boolean",
        b'n' => "null",
        _ => "a number",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &str) -> Result<(Layout, Vec<String>), FormatError> {
        let mut out = Vec::new();
        let layout = split_records(s.as_bytes(), |r| match r {
            RecordText::Range(a, b) => out.push(s[a..b].to_string()),
            RecordText::Decoded(t) => out.push(String::from_utf8_lossy(t).into_owned()),
        })?;
        Ok((layout, out))
    }

    #[test]
    fn records_object_with_other_keys_first() {
        let (l, r) =
            split(r#"{"x":{"Records":1},"Records":[{"a":"}"},{"b":[1,{"c":"\""}]}]}"#).unwrap();
        assert_eq!(l, Layout::RecordsObject);
        assert_eq!(r, vec![r#"{"a":"}"}"#, r#"{"b":[1,{"c":"\""}]}"#]);
    }

    #[test]
    fn pretty_array_and_ndjson() {
        let (l, r) = split("[\n  {\"eventName\": \"A\"},\n  {\"eventName\": \"B\"}\n]\n").unwrap();
        assert_eq!((l, r.len()), (Layout::Array, 2));
        let (l, r) =
            split("{\"eventName\":\"A\"}\n{\"eventName\":\"B\"}\n\n{\"eventTime\":1}").unwrap();
        assert_eq!((l, r.len()), (Layout::Lines, 3));
    }

    #[test]
    fn lookup_events_decode_the_inner_string() {
        let (l, r) =
            split(r#"{"Events":[{"EventId":"1","CloudTrailEvent":"{\"eventName\":\"GetSecretValue\"}"}]}"#).unwrap();
        assert_eq!(l, Layout::LookupEvents);
        assert_eq!(r, vec![r#"{"eventName":"GetSecretValue"}"#]);
    }

    #[test]
    fn digests_and_non_cloudtrail_objects_are_told_apart() {
        assert_eq!(
            split(r#"{"digestEndTime":"x","logFiles":[]}"#).unwrap().0,
            Layout::Digest
        );
        assert_eq!(
            split(r#"{"hello":"world"}"#).unwrap_err(),
            FormatError::NoRecords
        );
        assert!(matches!(
            split(r#"{"Records":"oops"}"#).unwrap_err(),
            FormatError::RecordsNotArray { kind: "a string" }
        ));
        assert!(matches!(
            split(r#"{"Records":[{"a":1},"oops"]}"#).unwrap_err(),
            FormatError::NotAnObject { index: 1, .. }
        ));
    }

    #[test]
    fn top_level_keys_read_like_json() {
        // Escaped keys are keys.
        let (l, r) = split(r#"{"Rec\u006frds":[{"a":1}]}"#).unwrap();
        assert_eq!((l, r.len()), (Layout::RecordsObject, 1));
        // Two Records keys make the file ambiguous, in either order.
        for two in [
            r#"{"Records":[{"a":1}],"Records":[{"b":2},{"c":3}]}"#,
            r#"{"Records":[],"Records":1}"#,
            r#"{"Records":1,"Records":[]}"#,
            r#"{"x":0,"Records":[],"y":1,"Rec\u006frds":[]}"#,
        ] {
            assert_eq!(
                split(two).unwrap_err(),
                FormatError::RepeatedRecords,
                "{two}"
            );
        }
        // Other repeated keys mean their last value.
        assert_eq!(
            split(r#"{"Events":[],"Events":1,"logFiles":[]}"#)
                .unwrap()
                .0,
            Layout::Digest
        );
    }

    #[test]
    fn lookup_entries_are_objects_read_like_json() {
        let (_, r) =
            split(r#"{"Events":[{"CloudTrailEvent":"{}","CloudTrailEvent":"[]"}]}"#).unwrap();
        assert_eq!(r, vec!["[]"]);
        assert!(matches!(
            split(r#"{"Events":[["{}"]]}"#).unwrap_err(),
            FormatError::Lookup { index: 0, .. }
        ));
    }

    #[test]
    fn broken_structure_is_an_error() {
        assert!(matches!(
            split(r#"{"Records":[{"a":"b"#).unwrap_err(),
            FormatError::Truncated { .. }
        ));
        assert!(matches!(
            split(r#"{"Records":[{"a":1]}]}"#).unwrap_err(),
            FormatError::Malformed { .. }
        ));
        assert!(matches!(
            split("hello").unwrap_err(),
            FormatError::NotJson { .. }
        ));
        assert!(matches!(
            split(r#"{"Records":[]} {"#).unwrap_err(),
            FormatError::Malformed { .. }
        ));
        assert!(split("").is_err());
    }

    #[test]
    fn garbage_tokens_inside_records_are_caught() {
        assert!(matches!(
            split(r#"{"Records":[{"a":1},{"eventName": nope}]}"#).unwrap_err(),
            FormatError::NotJson { byte: b'o', .. }
        ));
        assert!(split(r#"[{"a":[true,false,null,-1.5e+3,{"b":[]}]}]"#).is_ok());
        assert!(matches!(
            split(r#"[{"a":[1,2}]}]"#).unwrap_err(),
            FormatError::Malformed { .. }
        ));
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let deep = format!("[{}{}]", "{\"a\":".repeat(20_000) + "1", "}".repeat(20_000));
        let (_, r) = split(&deep).unwrap();
        assert_eq!(r.len(), 1);
    }
}
