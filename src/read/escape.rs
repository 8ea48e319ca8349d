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
    any_escaped_string(rec, escapes, |key| key_in(key, keys))
}

/// The keys the escapes of `rec` touch, decoded: for each string holding
/// an escape, the string itself when it is a key (or an array element),
/// else the key it is the value of. `None` when some escape cannot be
/// placed, which must count as touching every key.
pub fn touched_keys(rec: &[u8], escapes: impl IntoIterator<Item = usize>) -> Option<Vec<String>> {
    let mut keys = Vec::new();
    let unsure = any_escaped_string(rec, escapes, |quoted| match decode(quoted) {
        Some(k) => {
            keys.push(k);
            false
        }
        None => true,
    });
    (!unsure).then_some(keys)
}

/// Calls `check` with the quoted key of each string holding one of
/// `escapes` (the string itself when it is a key or an array element) and
/// returns true as soon as it does, or when an escape cannot be placed.
fn any_escaped_string(
    rec: &[u8],
    escapes: impl IntoIterator<Item = usize>,
    mut check: impl FnMut(&[u8]) -> bool,
) -> bool {
    // An escape after `floor` with no unescaped quote since is in the
    // string of the escape at `floor`, already checked.
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
        match key_of_string(rec, open) {
            Some(key) if !check(key) => {}
            _ => return true,
        }
        floor = Some(at);
    }
    false
}

/// The quoted key that names the string opening at `open`: the string
/// itself when a `:` does not precede it (a key, or an array element, read
/// as a key: harmless), else the key before that `:`.
fn key_of_string(rec: &[u8], open: usize) -> Option<&[u8]> {
    let before = last_non_ws(rec, open)?;
    if rec[before] != b':' {
        return Some(&rec[open..string_end(rec, open)?]);
    }
    let key_close = last_non_ws(rec, before).filter(|&c| rec[c] == b'"')?;
    let key_open = unescaped_quote_before(rec, 0, key_close)?;
    Some(&rec[key_open..=key_close])
}

/// A quoted JSON string's text, decoded; `None` when it does not decode.
fn decode(quoted: &[u8]) -> Option<String> {
    let inner = &quoted[1..quoted.len() - 1];
    if !inner.contains(&b'\\') {
        return String::from_utf8(inner.to_vec()).ok();
    }
    serde_json::from_slice::<String>(quoted).ok()
}

/// Whether the quoted JSON string `quoted` decodes to one of `keys`; an
/// undecodable one counts as matching.
fn key_in(quoted: &[u8], keys: &[&str]) -> bool {
    let inner = &quoted[1..quoted.len() - 1];
    if !inner.contains(&b'\\') {
        return std::str::from_utf8(inner).map_or(true, |k| keys.contains(&k));
    }
    decode(quoted).is_none_or(|k| keys.contains(&k.as_str()))
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
        assert_eq!(key_of_string(rec, 5), Some(&br#""k""#[..]));
        let all = memchr::memchr_iter(b'\\', rec);
        assert_eq!(touched_keys(rec, all), Some(vec!["k".to_string()]));
    }
}
