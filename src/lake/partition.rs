//! Hive partition values: how an account, a region and a date become a
//! folder name, and back.
//!
//! The writer and the lake reader share these two functions, so a value
//! that needs escaping can never name one folder on the way in and another
//! on the way out. The escaping is Hive's (and Spark's and DuckDB's): bytes
//! outside `[A-Za-z0-9_.-]` are percent-encoded, and a missing value is
//! [`DEFAULT_PARTITION`], which those engines read as NULL.

use std::fmt::Write;

use jiff::Timestamp;

/// The folder of part files, below the lake's root.
pub const EVENTS_DIR: &str = "events";

/// The folder value of a missing partition key; Hive, Spark, DuckDB and
/// Athena read it as NULL.
pub const DEFAULT_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

/// The partition keys, in folder order below `events/`.
pub const KEYS: [&str; 3] = ["account", "region", "date"];

/// Encodes one partition value for a folder name (`account=<this>`).
///
/// `None` and the empty string are [`DEFAULT_PARTITION`]. Bytes outside
/// `[A-Za-z0-9_.-]` become `%XX` (upper-case hex, as Hive writes them);
/// `.` and `..` are encoded whole, so no value names a parent folder, and a
/// literal `__HIVE_DEFAULT_PARTITION__` is encoded so it stays a value.
pub fn encode_value(value: Option<&str>) -> String {
    let Some(v) = value.filter(|v| !v.is_empty()) else {
        return DEFAULT_PARTITION.to_string();
    };
    let whole = v.bytes().all(|b| b == b'.') || v == DEFAULT_PARTITION;
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        let plain = b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-');
        if plain && !whole {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Decodes a folder value written by [`encode_value`]; `None` for
/// [`DEFAULT_PARTITION`]. A `%` not followed by two hex digits is kept as it
/// is, and bytes that do not form UTF-8 are replaced, as engines do.
pub fn decode_value(folder: &str) -> Option<String> {
    if folder == DEFAULT_PARTITION {
        return None;
    }
    let b = folder.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |j: usize| b.get(j).and_then(|c| char::from(*c).to_digit(16));
        match (b[i], hex(i + 1), hex(i + 2)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// The UTC date of an event time, as the `date=` value: `YYYY-MM-DD`.
pub fn date_value(time_us: i64) -> String {
    match Timestamp::from_microsecond(time_us) {
        Ok(t) => t.strftime("%Y-%m-%d").to_string(),
        Err(_) => DEFAULT_PARTITION.to_string(),
    }
}

/// One partition of the lake: the folder below `events/` its files live in.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Partition {
    /// `account=A/region=R/date=D`, each value encoded.
    pub folder: String,
}

impl Partition {
    /// The partition of an event in `account` and `region` at `time_us`.
    pub fn of(account: Option<&str>, region: Option<&str>, time_us: i64) -> Partition {
        Partition {
            folder: format!(
                "account={}/region={}/date={}",
                encode_value(account),
                encode_value(region),
                date_value(time_us)
            ),
        }
    }

    /// The decoded values of a folder `account=A/region=R/date=D`, or `None`
    /// when it is not one.
    pub fn parse(folder: &str) -> Option<[Option<String>; 3]> {
        let mut parts = folder.split('/');
        let mut values: [Option<String>; 3] = Default::default();
        for (slot, key) in values.iter_mut().zip(KEYS) {
            let (k, v) = parts.next()?.split_once('=')?;
            if k != key {
                return None;
            }
            *slot = decode_value(v);
        }
        parts.next().is_none().then_some(values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_and_stay_one_folder() {
        for v in [
            "111122223333",
            "us-east-1",
            "2026-01-02",
            "a/b",
            "..",
            ".",
            "x=y",
            "100%",
            "é",
            "__HIVE_DEFAULT_PARTITION__",
            "sp ace",
        ] {
            let enc = encode_value(Some(v));
            assert!(
                enc.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_.-%".contains(&b)),
                "{enc}"
            );
            assert!(enc != "." && enc != "..", "{v}");
            assert_eq!(decode_value(&enc).as_deref(), Some(v), "{v} -> {enc}");
        }
        assert_eq!(encode_value(Some("a/b")), "a%2Fb");
        assert_eq!(encode_value(Some("..")), "%2E%2E");
        assert_eq!(encode_value(None), DEFAULT_PARTITION);
        assert_eq!(encode_value(Some("")), DEFAULT_PARTITION);
        assert_eq!(decode_value(DEFAULT_PARTITION), None);
        assert_eq!(decode_value("50%").as_deref(), Some("50%"));
    }

    #[test]
    fn partitions_name_account_region_and_utc_date() {
        // 2026-01-02T23:59:59.999999Z
        let t = 1_767_398_399_999_999;
        let p = Partition::of(Some("111122223333"), None, t);
        assert_eq!(
            p.folder,
            "account=111122223333/region=__HIVE_DEFAULT_PARTITION__/date=2026-01-02"
        );
        assert_eq!(
            Partition::parse(&p.folder),
            Some([Some("111122223333".into()), None, Some("2026-01-02".into())])
        );
        assert_eq!(Partition::parse("region=x/account=y/date=z"), None);
    }
}
