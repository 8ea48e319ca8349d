//! Which string a backslash escape lies in, and whether a reader cares.
//!
//! A record's raw bytes stand for its decoded text except inside strings
//! that hold an escape. A byte prefilter that looks for a value's literal
//! spelling is therefore only unsure about escapes in the strings it reads:
//! a key that could decode to one of its keys, or the value of such a key.
//! Exporters escape everywhere else (Python's `json.dumps` every non-ASCII
//! character, Go's encoder `&`, `<` and `>`), and those escapes need not make
//! a record a candidate.
//!
//! The string holding an escape is found by looking backwards: inside a
//! string no quote is unescaped, so the first unescaped quote before the
//! escape opens its string. A quote is escaped when an odd run of
//! backslashes precedes it, the rule the record splitter applies going
//! forwards. What comes before that quote says what the string is: a `:`
//! makes it a value (whose key ends just before), anything else a key or an
//! array element. Whenever the bytes do not read as expected the answer is
//! "it matters", which only costs a parse.

use memchr::{memchr2, memrchr};

/// Whether any escape at `escapes` (sorted offsets of backslashes into
/// `rec`, one structurally valid record) lies in a key that decodes to one
/// of `keys` or in a string value of such a key, at any depth.
pub fn escapes_touch_keys(
    rec: &[u8],
    escapes: impl IntoIterator<Item = usize>,
    keys: &[&str],
) -> bool {
    // An escape after `floor` with no unescaped quote since is in the
    // string of the escape at `floor`, already found not to matter.
    let mut floor = None;
    for at in escapes {
        if at >= rec.len() {
            return true;
        }
        let open = match unescaped_quote_before(rec, floor.unwrap_or(0), at) {
            Some(open) => open,
            None if floor.is_some() => {
                floor = Some(at);
                continue;
            }
            None => return true,
        };
        if string_is_read(rec, open, keys) {
            return true;
        }
        floor = Some(at);
    }
    false
}

/// Whether the string opening at `open` is a key in `keys` or a value of one.
fn string_is_read(rec: &[u8], open: usize, keys: &[&str]) -> bool {
    let Some(before) = last_non_ws(rec, open) else {
        return true;
    };
    if rec[before] != b':' {
        // A key, or an element of an array (read as a key: harmless).
        return match string_end(rec, open) {
            Some(end) => key_in(&rec[open..end], keys),
            None => true,
        };
    }
    let Some(key_close) = last_non_ws(rec, before).filter(|&c| rec[c] == b'"') else {
        return true;
    };
    match unescaped_quote_before(rec, 0, key_close) {
        Some(key_open) => key_in(&rec[key_open..=key_close], keys),
        None => true,
    }
}

/// Whether the quoted JSON string `quoted` decodes to one of `keys`; an
/// undecodable one counts as matching.
fn key_in(quoted: &[u8], keys: &[&str]) -> bool {
    let inner = &quoted[1..quoted.len() - 1];
    if !inner.contains(&b'\\') {
        return keys.iter().any(|k| k.as_bytes() == inner);
    }
    match serde_json::from_slice::<String>(quoted) {
        Ok(decoded) => keys.contains(&decoded.as_str()),
        Err(_) => true,
    }
}

/// The offset of the last unescaped `"` in `rec[floor..before]`.
fn unescaped_quote_before(rec: &[u8], floor: usize, before: usize) -> Option<usize> {
    let mut end = before;
    while let Some(off) = memrchr(b'"', &rec[floor..end]) {
        let q = floor + off;
        let run = rec[..q].iter().rev().take_while(|&&b| b == b'\\').count();
        if run % 2 == 0 {
            return Some(q);
        }
        end = q;
    }
    None
}

/// The offset just past the string whose opening quote is at `open`.
fn string_end(rec: &[u8], open: usize) -> Option<usize> {
    let mut i = open + 1;
    while let Some(off) = memchr2(b'"', b'\\', rec.get(i..)?) {
        let at = i + off;
        if rec[at] == b'"' {
            return Some(at + 1);
        }
        i = at + 2;
    }
    None
}

/// The offset of the last byte before `pos` that is not JSON whitespace.
fn last_non_ws(rec: &[u8], pos: usize) -> Option<usize> {
    rec[..pos]
        .iter()
        .rposition(|b| !matches!(b, b' ' | b'\n' | b'\r' | b'\t'))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every backslash of `rec`, as a scan's escape hits would be.
    fn touches(rec: &str) -> bool {
        let escapes = memchr::memchr_iter(b'\\', rec.as_bytes());
        escapes_touch_keys(rec.as_bytes(), escapes, &["eventName"])
    }

    #[test]
    fn escapes_in_read_values_and_keys_matter() {
        for rec in [
            r#"{"eventName":"GetSecret\u0056alue"}"#,
            r#"{"eventName" : "Get\"Secret"}"#,
            r#"{"event\u004eame":"GetSecretValue"}"#,
            r#"{"a":"x\u00e9","eventName":"\u0047etSecretValue"}"#,
            r#"{"requestParameters":{"eventName":"\u0041"}}"#,
            r#"{"a":["x","event\u004eame"]}"#,
            r#"{"a\\":"\\","eventName":"\u0047"}"#,
            r#"{"a":"\"","ev\"":"x","eventName":"y\u0020"}"#,
            r#"{"eventName":"\ud83d\ude00"}"#,
        ] {
            assert!(touches(rec), "{rec}");
        }
    }

    #[test]
    fn escapes_elsewhere_do_not_matter() {
        for rec in [
            r#"{"eventName":"GetSecretValue","userAgent":"caf\u00e9 \u0026 co"}"#,
            r#"{"eventName":"X","requestParameters":{"secretId":"arn:aws:x\/y"}}"#,
            r#"{"eventName\\":"\\","userAgent":"\u0041"}"#,
            r#"{"a":"\"eventName\":\"\u0041\""}"#,
            r#"{"name\u00e9":"\ud83d\ude00","b":["\u0041",{"c":"{\"}"}]}"#,
            r#"{"eventName":"ListSecrets","x":"\"\\\u0026\\"}"#,
        ] {
            assert!(!touches(rec), "{rec}");
        }
    }

    #[test]
    fn the_string_of_an_escape_is_found_past_escaped_quotes() {
        let rec = br#"{"k":"a\"b\\\"c\u0041","eventName":"z"}"#;
        let at = rec.windows(2).position(|w| w == b"\\u").unwrap();
        assert_eq!(unescaped_quote_before(rec, 0, at), Some(5));
        assert!(!string_is_read(rec, 5, &["eventName"]));
        assert!(string_is_read(rec, 5, &["k"]));
    }
}
