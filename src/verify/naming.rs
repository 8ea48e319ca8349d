//! Classifies object keys into CloudTrail log files and digest files and
//! parses what their names tell (account, region, trail, delivery time).
//!
//! Only key *strings* are looked at here: no I/O, no JSON. Classification is
//! by folder (`/CloudTrail/`, `/CloudTrail-Digest/`) as the format reference
//! advises, then by file name; anything else is [`ObjectKind::Other`].

use jiff::Timestamp;

/// What a key names, as far as verification cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectKind {
    /// A log file under `CloudTrail/`.
    Log(LogName),
    /// A digest file under `CloudTrail-Digest/`.
    Digest(DigestName),
    /// A key under `CloudTrail/` or `CloudTrail-Digest/` whose name does not parse.
    Unrecognized,
    /// Anything else (Insights, aggregated events, unrelated objects).
    Other,
}

/// The parts of a log file key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogName {
    /// 12-digit account id.
    pub account: String,
    /// Region the events were recorded in.
    pub region: String,
    /// Delivery time from the file name (minute precision).
    pub delivered: Timestamp,
}

/// The parts of a digest file key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestName {
    /// 12-digit account id.
    pub account: String,
    /// Region that delivered the digest (the CLI's "source region").
    pub region: String,
    /// Trail name (may itself contain `_`).
    pub trail: String,
    /// The trail's home region.
    pub home_region: String,
    /// The digest's end time, from the file name.
    pub end: Timestamp,
    /// `_backfill.json.gz` digest.
    pub backfill: bool,
}

/// Classifies `key` (relative to the store root, '/'-separated).
pub fn classify(key: &str) -> ObjectKind {
    let segs: Vec<&str> = key.split('/').collect();
    let Some(pos) = segs.iter().position(|s| *s == "AWSLogs") else {
        return ObjectKind::Other;
    };
    let mut rest = &segs[pos + 1..];
    if rest.first().is_some_and(|s| s.starts_with("o-")) {
        rest = &rest[1..];
    }
    let [account, folder, region, _y, _m, _d, name] = rest else {
        return ObjectKind::Other;
    };
    let parsed = match *folder {
        "CloudTrail" => parse_log_name(name, account, region).map(ObjectKind::Log),
        "CloudTrail-Digest" => parse_digest_name(name, account, region).map(ObjectKind::Digest),
        _ => return ObjectKind::Other,
    };
    parsed.unwrap_or(ObjectKind::Unrecognized)
}

/// `ACCT_CloudTrail_REGION_YYYYMMDDTHHmmZ[_]UNIQUE.json[.gz]`.
fn parse_log_name(name: &str, account: &str, region: &str) -> Option<LogName> {
    let rest = name.strip_prefix(account)?.strip_prefix("_CloudTrail_")?;
    let rest = rest.strip_prefix(region)?.strip_prefix('_')?;
    let delivered = compact_time(rest.get(..14)?)?;
    if !(name.ends_with(".json.gz") || name.ends_with(".json")) {
        return None;
    }
    Some(LogName {
        account: account.to_string(),
        region: region.to_string(),
        delivered,
    })
}

/// `ACCT_CloudTrail-Digest_SRC_TRAIL_HOME_YYYYMMDDTHHMMSSZ[_backfill].json.gz`,
/// parsed from both ends because trail names may contain `_`.
fn parse_digest_name(name: &str, account: &str, region: &str) -> Option<DigestName> {
    let stem = name.strip_suffix(".json.gz")?;
    let (stem, backfill) = match stem.strip_suffix("_backfill") {
        Some(s) => (s, true),
        None => (stem, false),
    };
    let split = stem.len().checked_sub(17)?;
    let (left, ts) = (stem.get(..split)?, stem.get(split..)?);
    let end = compact_time(ts.strip_prefix('_')?)?;
    let rest = left
        .strip_prefix(account)?
        .strip_prefix("_CloudTrail-Digest_")?;
    let rest = rest.strip_prefix(region)?.strip_prefix('_')?;
    let (trail, home) = rest.rsplit_once('_')?;
    if trail.is_empty() || home.is_empty() {
        return None;
    }
    Some(DigestName {
        account: account.to_string(),
        region: region.to_string(),
        trail: trail.to_string(),
        home_region: home.to_string(),
        end,
        backfill,
    })
}

/// Parses `YYYYMMDDTHHmmZ` or `YYYYMMDDTHHMMSSZ` as UTC.
pub fn compact_time(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    if !(b.len() == 14 || b.len() == 16) || b[8] != b'T' || b[b.len() - 1] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i16> {
        let part = s.get(r)?;
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let second = if b.len() == 16 { num(13..15)? } else { 0 };
    let dt = jiff::civil::DateTime::new(
        num(0..4)?,
        i8::try_from(num(4..6)?).ok()?,
        i8::try_from(num(6..8)?).ok()?,
        i8::try_from(num(9..11)?).ok()?,
        i8::try_from(num(11..13)?).ok()?,
        i8::try_from(second).ok()?,
        0,
    )
    .ok()?;
    jiff::tz::Offset::UTC.to_timestamp(dt).ok()
}

/// Parses an RFC 3339 time such as `2026-01-02T01:00:00Z`.
pub fn iso_time(s: &str) -> Option<Timestamp> {
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_name_with_underscore_trail_and_org() {
        let key = "p/x/AWSLogs/o-abc123/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/\
                   111122223333_CloudTrail-Digest_us-east-2_my_trail_us-east-1_20150817T150131Z_backfill.json.gz";
        let ObjectKind::Digest(d) = classify(key) else {
            panic!("not a digest")
        };
        assert_eq!(d.trail, "my_trail");
        assert_eq!(d.home_region, "us-east-1");
        assert_eq!(d.region, "us-east-2");
        assert!(d.backfill);
        assert_eq!(d.end.to_string(), "2015-08-17T15:01:31Z");
    }

    #[test]
    fn log_names_and_others() {
        let key = "AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/01/\
                   111122223333_CloudTrail_us-east-2_20150801T0210Z_Mu0KsOhtH1ar15ZZ.json.gz";
        let ObjectKind::Log(l) = classify(key) else {
            panic!("not a log")
        };
        assert_eq!(l.delivered.to_string(), "2015-08-01T02:10:00Z");
        let insight = "AWSLogs/1/CloudTrail-Insight/r/2020/09/23/1_CloudTrail-Insight_r_20200923T0516Z_K.json.gz";
        assert_eq!(classify(insight), ObjectKind::Other);
        let bad = "AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/01/garbage.json.gz";
        assert_eq!(classify(bad), ObjectKind::Unrecognized);
        assert_eq!(compact_time("20151301T0210Z"), None);
        assert_eq!(compact_time("2015+101T0210Z"), None);
    }
}
