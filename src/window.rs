//! The time window: parsing `--since`/`--until`, exact event-time checks, and
//! key-based pruning with slack (see [`PruneSlack`]).
//!
//! Owns every conversion from text to UTC instants. It must not read the clock
//! itself: callers pass `now`, so tests are deterministic.

use jiff::{civil, tz::TimeZone, SignedDuration, Timestamp};

/// How far a file's name may sit from the window and still be opened.
///
/// Names carry the *delivery* time, and a file holds events from before it
/// (AWS: "a log file delivered at a specific time can contain records
/// written at any point before that time"). So on the `--since` side only
/// the name's precision matters: names are cut to the minute, and the
/// organization-trail sample in `../shared/data/umccr-orgtrail` names its
/// files by the hour and holds events up to 54 minutes after the name. On
/// the `--until` side a file may be delivered late by an amount AWS does not
/// bound (about 5 minutes on average, "not guaranteed"): a day of slack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PruneSlack {
    /// Files named before `since - this` are not opened.
    pub since: SignedDuration,
    /// Files named at or after `until + this` are not opened.
    pub until: SignedDuration,
}

impl PruneSlack {
    /// The defaults, from the evidence above: one hour before `--since`, one
    /// day after `--until`.
    pub const DEFAULT: PruneSlack = PruneSlack {
        since: SignedDuration::from_hours(1),
        until: SignedDuration::from_hours(24),
    };
}

impl Default for PruneSlack {
    fn default() -> Self {
        PruneSlack::DEFAULT
    }
}

/// An error in a `--since`/`--until` value.
#[derive(Debug, thiserror::Error)]
#[error("invalid time {input:?}: {reason} (use a duration such as 90m, 12h, 30d, 2w, or a date such as 2026-01-01 or 2026-01-01T08:00:00Z)")]
pub struct TimeParseError {
    input: String,
    reason: String,
}

/// A half-open UTC interval `[since, until)`; either end may be open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeWindow {
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
}

impl TimeWindow {
    /// Whether an exact event time falls inside the window.
    pub fn contains(&self, t: Timestamp) -> bool {
        self.since.is_none_or(|s| t >= s) && self.until.is_none_or(|u| t < u)
    }

    /// Whether a file whose key dates it to `[start, end)` may hold events in the
    /// window, allowing `slack` on each side.
    pub fn may_overlap(&self, start: Timestamp, end: Timestamp, slack: &PruneSlack) -> bool {
        let after_since = self
            .since
            .is_none_or(|s| end.checked_add(slack.since).is_ok_and(|e| e > s));
        let before_until = self
            .until
            .is_none_or(|u| start.checked_sub(slack.until).is_ok_and(|b| b < u));
        after_since && before_until
    }

    /// True when neither end is set, so nothing can be pruned.
    pub fn is_unbounded(&self) -> bool {
        self.since.is_none() && self.until.is_none()
    }
}

/// Parses a `--since`/`--until` value relative to `now`: a duration back from now
/// (`90m`, `12h`, `30d`, `2w`, `45s`) or an RFC 3339 date or timestamp.
pub fn parse_time_arg(input: &str, now: Timestamp) -> Result<Timestamp, TimeParseError> {
    let err = |reason: &str| TimeParseError {
        input: input.to_string(),
        reason: reason.to_string(),
    };
    let s = input.trim();
    if s.is_empty() {
        return Err(err("empty"));
    }
    if let Some(seconds) = parse_duration_secs(s) {
        let back = SignedDuration::from_secs(seconds.ok_or_else(|| err("duration too large"))?);
        return now.checked_sub(back).map_err(|_| err("duration too large"));
    }
    if let Ok(ts) = s.parse::<Timestamp>() {
        return Ok(ts);
    }
    if let Ok(date) = s.parse::<civil::Date>() {
        return date
            .to_zoned(TimeZone::UTC)
            .map(|z| z.timestamp())
            .map_err(|e| err(&e.to_string()));
    }
    if let Ok(dt) = s.parse::<civil::DateTime>() {
        return dt
            .to_zoned(TimeZone::UTC)
            .map(|z| z.timestamp())
            .map_err(|e| err(&e.to_string()));
    }
    Err(err("not a duration or an RFC 3339 date/timestamp"))
}

/// Parses a duration such as `90m`, `2h` or `1d` (units s, m, h, d, w).
pub fn parse_duration(input: &str) -> Option<SignedDuration> {
    parse_duration_secs(input.trim())?.map(SignedDuration::from_secs)
}

/// `Some(Some(secs))` for a well-formed duration, `Some(None)` when it overflows,
/// `None` when the text is not a duration at all.
fn parse_duration_secs(s: &str) -> Option<Option<i64>> {
    let unit = s.chars().last()?;
    let digits = &s[..s.len() - unit.len_utf8()];
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let per_unit: i64 = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3_600,
        'd' => 86_400,
        'w' => 604_800,
        _ => return None,
    };
    Some(
        digits
            .parse::<i64>()
            .ok()
            .and_then(|n| n.checked_mul(per_unit)),
    )
}

/// Parses a CloudTrail `eventTime`, normalised to UTC: the form CloudTrail
/// writes (`2026-01-01T00:00:00Z`) and the forms exporters write,
/// `YYYY-MM-DD[ T]HH:MM:SS[.f{1,9}][Z|±hh:mm]`, where no offset means UTC
/// (SIEMs and Athena exports write `2024-10-17 21:48:45.000000000`). Other
/// RFC 3339 forms that carry an offset are taken as jiff reads them.
/// `None` when unusable: a date alone, a time with no seconds and no
/// offset, a day-first date, a number.
pub fn parse_event_time(s: &str) -> Option<Timestamp> {
    canonical_event_time(s.as_bytes())
        .or_else(|| exported_event_time(s.trim().as_bytes()))
        .or_else(|| s.trim().parse::<Timestamp>().ok())
}

/// `YYYY-MM-DD[ Tt]HH:MM:SS[.f{1,9}][Zz|±hh:mm]`, no offset meaning UTC.
fn exported_event_time(b: &[u8]) -> Option<Timestamp> {
    let num = |digits: &[u8]| -> Option<i32> {
        digits.iter().try_fold(0i32, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + i32::from(c - b'0'))
        })
    };
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let date = civil::Date::new(
        i16::try_from(num(&b[0..4])?).ok()?,
        i8::try_from(num(&b[5..7])?).ok()?,
        i8::try_from(num(&b[8..10])?).ok()?,
    )
    .ok()?;
    let (h, m, sec) = (num(&b[11..13])?, num(&b[14..16])?, num(&b[17..19])?);
    let mut rest = &b[19..];
    let mut nanos = 0i32;
    if let Some(frac) = rest.strip_prefix(b".") {
        let digits = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if !(1..=9).contains(&digits) {
            return None;
        }
        nanos = num(&frac[..digits])? * 10i32.pow(9 - digits as u32);
        rest = &frac[digits..];
    }
    let offset_secs = match rest {
        [] | [b'Z'] | [b'z'] => 0,
        [sign @ (b'+' | b'-'), h0, h1, b':', m0, m1] => {
            let (oh, om) = (num(&[*h0, *h1])?, num(&[*m0, *m1])?);
            if oh > 23 || om > 59 {
                return None;
            }
            let secs = oh * 3600 + om * 60;
            if *sign == b'-' {
                -secs
            } else {
                secs
            }
        }
        _ => return None,
    };
    let time = civil::Time::new(
        i8::try_from(h).ok()?,
        i8::try_from(m).ok()?,
        i8::try_from(sec).ok()?,
        nanos,
    )
    .ok()?;
    let offset = jiff::tz::Offset::from_seconds(offset_secs).ok()?;
    offset.to_timestamp(date.to_datetime(time)).ok()
}

/// The form CloudTrail writes, `YYYY-MM-DDTHH:MM:SSZ`, read directly; `None`
/// for anything else (or a day past the 28th), which the full parser takes.
fn canonical_event_time(b: &[u8]) -> Option<Timestamp> {
    let [y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1, b'T', h0, h1, b':', n0, n1, b':', s0, s1, b'Z'] =
        *b
    else {
        return None;
    };
    let num = |digits: &[u8]| {
        digits.iter().try_fold(0i64, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
        })
    };
    let (year, month, day) = (num(&[y0, y1, y2, y3])?, num(&[m0, m1])?, num(&[d0, d1])?);
    let (hour, minute, second) = (num(&[h0, h1])?, num(&[n0, n1])?, num(&[s0, s1])?);
    if !(1..=12).contains(&month)
        || !(1..=28).contains(&day)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    // Days from 1970-01-01 to the civil date (proleptic Gregorian).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Timestamp::from_second(days * 86_400 + hour * 3600 + minute * 60 + second).ok()
}

/// The string value of the first `"eventTime"` key in a record's raw text,
/// for records nothing else parses.
pub fn raw_event_time(raw: &[u8]) -> Option<Timestamp> {
    let at = memchr::memmem::find(raw, b"\"eventTime\"")? + 11;
    let rest = &raw[at..];
    let colon = rest.iter().position(|b| !b.is_ascii_whitespace())?;
    if rest[colon] != b':' {
        return None;
    }
    let rest = &rest[colon + 1..];
    let quote = rest.iter().position(|b| !b.is_ascii_whitespace())?;
    if rest[quote] != b'"' {
        return None;
    }
    let rest = &rest[quote + 1..];
    let end = memchr::memchr(b'"', rest)?;
    parse_event_time(std::str::from_utf8(&rest[..end]).ok()?)
}

/// Formats an instant as RFC 3339 UTC, as every output does: whole seconds
/// as CloudTrail writes them, and a fraction only when there is one.
pub fn format_utc(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.fZ").to_string()
}

/// Truncates an instant to the start of its UTC hour.
pub fn hour_floor(t: Timestamp) -> Timestamp {
    let secs = t.as_second();
    Timestamp::from_second(secs - secs.rem_euclid(3_600)).unwrap_or(t)
}

/// What a key says about when its events happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyTime {
    /// Start of the span the key dates.
    pub start: Timestamp,
    /// End of that span (exclusive).
    pub end: Timestamp,
}

/// Dates an object from its key: the delivery timestamp in the file name
/// (`…_20260102T0305Z_…` or `…-20200930T2300.json`), else the `YYYY/MM/DD`
/// folders of the S3 layout. `None` when the key carries no date.
pub fn key_time(key: &str) -> Option<KeyTime> {
    let name = key.rsplit('/').next().unwrap_or(key);
    if let Some(t) = name_timestamp(name) {
        return Some(KeyTime { start: t, end: t });
    }
    folder_date(key).map(|start| KeyTime {
        start,
        end: start + SignedDuration::from_hours(24),
    })
}

/// Finds `YYYYMMDDTHHMM` (optionally `SS`, optionally `Z`) in a file name.
fn name_timestamp(name: &str) -> Option<Timestamp> {
    let b = name.as_bytes();
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    (0..b.len().saturating_sub(12)).find_map(|i| {
        let w = &b[i..];
        let boundary = i == 0 || !b[i - 1].is_ascii_digit();
        if !(boundary && w.len() >= 13 && digits(&w[..8]) && w[8] == b'T' && digits(&w[9..13])) {
            return None;
        }
        let num = |r: std::ops::Range<usize>| std::str::from_utf8(&w[r]).ok()?.parse::<i16>().ok();
        let sec = if w.len() >= 15 && digits(&w[13..15]) {
            num(13..15)?
        } else {
            0
        };
        let dt = civil::DateTime::new(
            num(0..4)?,
            num(4..6)? as i8,
            num(6..8)? as i8,
            num(9..11)? as i8,
            num(11..13)? as i8,
            sec as i8,
            0,
        )
        .ok()?;
        dt.to_zoned(TimeZone::UTC).ok().map(|z| z.timestamp())
    })
}

/// Finds `…/YYYY/MM/DD/…` folders in a key.
fn folder_date(key: &str) -> Option<Timestamp> {
    let parts: Vec<&str> = key.split('/').collect();
    parts.windows(3).rev().find_map(|w| {
        let ok = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
        if !(ok(w[0], 4) && ok(w[1], 2) && ok(w[2], 2)) {
            return None;
        }
        let date =
            civil::Date::new(w[0].parse().ok()?, w[1].parse().ok()?, w[2].parse().ok()?).ok()?;
        date.to_zoned(TimeZone::UTC).ok().map(|z| z.timestamp())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    proptest::proptest! {
        /// The direct reading of CloudTrail's form equals the full parser's.
        #[test]
        fn canonical_event_times_parse_like_jiff(
            y in 0u32..10_000, m in 0u32..14, d in 0u32..33, h in 0u32..25, n in 0u32..61, s in 0u32..61,
        ) {
            let text = format!("{y:04}-{m:02}-{d:02}T{h:02}:{n:02}:{s:02}Z");
            proptest::prop_assert_eq!(parse_event_time(&text), text.parse::<Timestamp>().ok(), "{}", text);
        }
    }

    #[test]
    fn event_times_as_exporters_write_them() {
        let at = |s: &str| parse_event_time(s).map(format_utc);
        let same = Some("2024-10-17T21:48:45Z".to_string());
        // SIEM and Athena exports: a space, nanoseconds, no offset (UTC).
        assert_eq!(at("2024-10-17 21:48:45.000000000"), same);
        assert_eq!(at("2024-10-17 21:48:45"), same);
        assert_eq!(at("2024-10-17T21:48:45"), same);
        assert_eq!(at(" 2024-10-17 21:48:45Z "), same);
        assert_eq!(at("2024-10-17 23:48:45+02:00"), same);
        assert_eq!(at("2024-10-17t21:48:45z"), same);
        // Fractions survive, to the nanosecond.
        assert_eq!(
            at("2024-10-17 21:48:45.5"),
            Some("2024-10-17T21:48:45.5Z".to_string())
        );
        assert_eq!(
            at("2024-10-17 21:48:45.123456789-00:30"),
            Some("2024-10-17T22:18:45.123456789Z".to_string())
        );
        // Still rejected: what is ambiguous or not a time at all.
        for bad in [
            "2024-10-17",
            "2024-10-17 21:48",
            "17/10/2024 21:48:45",
            "10/17/2024 21:48:45",
            "2024-10-17 21:48:45.",
            "2024-10-17 21:48:45.1234567890",
            "2024-10-17 21:48:45+2",
            "2024-02-30 21:48:45",
            "2024-10-17 24:00:00",
            "1729201725",
        ] {
            assert_eq!(at(bad), None, "{bad}");
        }
    }

    #[test]
    fn event_time_from_raw_bytes() {
        let t = raw_event_time(
            br#"{"eventVersion":"1.08", "eventTime" : "2024-07-31T13:06:24Z","x":1}"#,
        );
        assert_eq!(t, Some("2024-07-31T13:06:24Z".parse().unwrap()));
        assert_eq!(raw_event_time(br#"{"eventTime":5}"#), None);
        assert_eq!(raw_event_time(b"{}"), None);
    }

    #[test]
    fn durations_count_back_from_now() {
        let now = ts("2026-11-23T12:00:00Z");
        assert_eq!(
            parse_time_arg("30d", now).unwrap(),
            ts("2026-10-24T12:00:00Z")
        );
        assert_eq!(
            parse_time_arg("90m", now).unwrap(),
            ts("2026-11-23T10:30:00Z")
        );
        assert_eq!(
            parse_time_arg("2w", now).unwrap(),
            ts("2026-11-09T12:00:00Z")
        );
        assert_eq!(
            parse_time_arg("12h", now).unwrap(),
            ts("2026-11-23T00:00:00Z")
        );
    }

    #[test]
    fn dates_and_timestamps_are_utc() {
        let now = ts("2026-11-23T12:00:00Z");
        assert_eq!(
            parse_time_arg("2026-01-01", now).unwrap(),
            ts("2026-01-01T00:00:00Z")
        );
        assert_eq!(
            parse_time_arg("2026-01-01T08:00:00+02:00", now).unwrap(),
            ts("2026-01-01T06:00:00Z")
        );
        assert!(parse_time_arg("yesterday", now).is_err());
        assert!(parse_time_arg("30x", now).is_err());
        assert!(parse_time_arg("99999999999999999d", now).is_err());
    }

    #[test]
    fn event_times_accept_fractions_and_offsets() {
        assert_eq!(
            parse_event_time("2026-01-01T00:00:01.250Z")
                .unwrap()
                .as_second(),
            1767225601
        );
        assert_eq!(
            parse_event_time("2026-01-01T02:00:00+02:00").unwrap(),
            ts("2026-01-01T00:00:00Z")
        );
        assert!(parse_event_time("").is_none());
        assert!(parse_event_time("2026-13-01T00:00:00Z").is_none());
    }

    #[test]
    fn keys_are_dated_by_name_then_folders() {
        let k = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/01/02/111122223333_CloudTrail_us-east-1_20260102T0305Z_abcdEFGH12345678.json.gz";
        assert_eq!(key_time(k).unwrap().start, ts("2026-01-02T03:05:00Z"));
        let umccr = "AWSLogs/o-abcd/811596193553/CloudTrail/us-east-1/2020/09/30/811596193553_CloudTrail_us-east-1-20200930T2300.json";
        assert_eq!(key_time(umccr).unwrap().start, ts("2020-09-30T23:00:00Z"));
        let folder = "x/2026/02/03/events.json";
        let kt = key_time(folder).unwrap();
        assert_eq!(
            (kt.start, kt.end),
            (ts("2026-02-03T00:00:00Z"), ts("2026-02-04T00:00:00Z"))
        );
        assert!(key_time("dump/events.json").is_none());
    }

    #[test]
    fn pruning_keeps_an_hour_before_and_a_day_after() {
        let w = TimeWindow {
            since: Some(ts("2026-01-10T00:00:00Z")),
            until: Some(ts("2026-01-11T00:00:00Z")),
        };
        let at = |s: &str| w.may_overlap(ts(s), ts(s), &PruneSlack::DEFAULT);
        assert!(at("2026-01-09T23:00:01Z"));
        assert!(!at("2026-01-09T23:00:00Z"));
        assert!(at("2026-01-11T23:59:59Z"));
        assert!(!at("2026-01-12T00:00:00Z"));
        let none = PruneSlack {
            since: SignedDuration::ZERO,
            until: SignedDuration::ZERO,
        };
        assert!(!w.may_overlap(
            ts("2026-01-10T00:00:00Z"),
            ts("2026-01-10T00:00:00Z"),
            &none
        ));
        assert!(w.may_overlap(
            ts("2026-01-10T00:00:01Z"),
            ts("2026-01-10T00:00:01Z"),
            &none
        ));
        assert!(w.contains(ts("2026-01-10T00:00:00Z")));
        assert!(!w.contains(ts("2026-01-11T00:00:00Z")));
    }
}
