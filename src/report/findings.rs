//! The `findings` report: deterministic anomaly rules over the matched
//! events, each compared with a baseline (the first `--baseline` of the data).
//!
//! Every rule flags the first occurrence of its key once, with the numbers
//! that made it fire in a sentence. The exact definitions are in the README
//! (`## Findings`); the constants below are the ones it quotes. This module
//! reads the event store and an optional country lookup; it writes nothing.

use std::collections::{BTreeSet, HashMap};
use std::fmt;

use jiff::SignedDuration;
use rustc_hash::{FxHashMap, FxHashSet};

use crate::events::{Chunk, Col, EventStore, Row};
use crate::report::{Column, StrColumn, Table};
use crate::window::format_utc;

/// `off-hours` only judges principals with at least this many baseline events.
pub const OFF_HOURS_MIN_BASELINE: usize = 20;
/// `burst` never fires at or below this many events in one hour.
pub const BURST_MIN: u64 = 20;
/// `burst` fires above this multiple of the busiest baseline hour.
pub const BURST_FACTOR: u64 = 2;
/// `denied-then-read`: the longest gap between the failure and the read.
pub const DENIED_WINDOW: SignedDuration = SignedDuration::from_hours(1);

const HOUR_US: i64 = 3_600_000_000;

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Low,
    Medium,
    High,
}

impl Severity {
    /// `low`, `medium` or `high`.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One flagged event. Its names are borrowed from the event table, which
/// outlives it: a sweep can flag tens of thousands of events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding<'s> {
    /// The rule's name, e.g. `new-principal-secret`.
    pub rule: &'static str,
    pub severity: Severity,
    /// The triggering event's time, microseconds since the epoch (UTC).
    pub time_us: i64,
    pub principal: &'s str,
    pub secret: Option<&'s str>,
    pub source_ip: Option<&'s str>,
    /// The event's user agent and account, for allowlists.
    pub user_agent: Option<&'s str>,
    pub account: Option<&'s str>,
    /// A sentence with the numbers that made the rule fire.
    pub evidence: Box<str>,
    pub event_id: Option<Box<str>>,
}

/// Where a `sourceIPAddress` is: GeoIP's answer, for `new-country`.
pub trait Countries {
    /// The country code of a source, when it is a public address that the
    /// databases place.
    fn country(&self, source_ip: &str) -> Option<&str>;
}

/// The events in time order, the baseline and what the rules share.
struct Ctx<'s> {
    /// In time order, as the scan leaves it.
    store: &'s EventStore,
    /// End of the baseline (exclusive), µs.
    end: i64,
    /// `14d baseline (2026-01-01T00:00:00Z..2026-01-15T00:00:00Z)`.
    baseline: String,
}

impl<'s> Ctx<'s> {
    fn principal(&self, r: &Row) -> &'s str {
        self.store.get(r, Col::Principal).unwrap_or("unknown")
    }

    /// The secret a single-secret record names (batch records name none).
    fn secret(&self, r: &Row) -> Option<&'s str> {
        if self.store.get(r, Col::EventName) == Some("BatchGetSecretValue") {
            return None;
        }
        self.store.get(r, Col::Secret)
    }

    fn source(&self, r: &Row) -> Option<&'s str> {
        self.store.get(r, Col::SourceIp)
    }

    fn after(&self, r: &Row) -> bool {
        r.time_us >= self.end
    }

    fn finding(
        &self,
        chunk: &Chunk<'_, '_>,
        rule: &'static str,
        severity: Severity,
        r: &Row,
        evidence: String,
    ) -> Finding<'s> {
        Finding {
            rule,
            severity,
            time_us: r.time_us,
            principal: self.principal(r),
            secret: self.secret(r),
            source_ip: self.source(r),
            user_agent: self.store.get(r, Col::UserAgent),
            account: self.store.get(r, Col::AccountId),
            // Boxed: exactly as long as the text, with no room to grow.
            evidence: evidence.into_boxed_str(),
            event_id: chunk.event_id(r).map(Box::from),
        }
    }

    fn failed_note(&self, r: &Row) -> String {
        match self.store.get(r, Col::ErrorCode) {
            Some(code) => format!(" (failed: {code})"),
            None => String::new(),
        }
    }
}

/// What the user can tune in the rules; the defaults are the README's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FindingsSettings {
    /// `off-hours` never fires in these UTC hours of day: `[start, end)`,
    /// wrapping past midnight when `start > end` (`--work-hours 8-18`).
    pub work_hours: Option<(usize, usize)>,
    /// `off-hours` treats an hour within this many hours of a baseline hour
    /// as usual (`--off-hours-tolerance 1`: 08:00 is usual when 09:00 is).
    pub off_hours_tolerance: usize,
}

/// Parses `--work-hours START-END` (UTC hours, `0..=24`, end exclusive).
pub fn parse_work_hours(text: &str) -> Result<(usize, usize), String> {
    let bad = || format!("--work-hours {text}: expected START-END in UTC hours, such as 8-18");
    let (a, b) = text.split_once('-').ok_or_else(bad)?;
    let hour = |s: &str| s.trim().parse::<usize>().ok().filter(|h| *h <= 24);
    match (hour(a), hour(b)) {
        (Some(a), Some(b)) if a != b => Ok((a % 24, b % 24)),
        _ => Err(bad()),
    }
}

/// [`findings_with`] under the default settings.
pub fn findings<'s>(
    store: &'s EventStore,
    baseline: SignedDuration,
    countries: Option<&dyn Countries>,
) -> Vec<Finding<'s>> {
    findings_with(store, baseline, countries, &FindingsSettings::default())
}

/// Runs every rule over the table, which must be in time order (as the
/// scan leaves it); findings sorted by time, then rule, principal, secret.
///
/// The rules share one pass: in time order every baseline event comes
/// before the first event after it, so a rule that compares with the
/// baseline already knows all of it when it first judges.
pub fn findings_with<'s>(
    store: &'s EventStore,
    baseline: SignedDuration,
    countries: Option<&dyn Countries>,
    settings: &FindingsSettings,
) -> Vec<Finding<'s>> {
    let Some((start, _)) = store.time_span() else {
        return Vec::new();
    };
    let end = start.saturating_add(baseline.as_micros().clamp(0, i64::MAX as i128) as i64);
    let ctx = Ctx {
        store,
        end,
        baseline: format!(
            "{} baseline ({}..{})",
            human_duration(baseline),
            utc(start),
            utc(end)
        ),
    };
    let mut out = Vec::new();
    let mut principal_secret = NewPrincipalSecret::default();
    let mut source_ip = NewSourceIp::default();
    let mut country = countries.map(|countries| NewCountry {
        countries,
        seen: HashMap::new(),
    });
    let mut off_hours = OffHours {
        settings: *settings,
        ..OffHours::default()
    };
    let mut burst = Burst::default();
    let mut denied = DeniedThenRead::default();
    store.for_each_row(|chunk, r| {
        principal_secret.row(&ctx, chunk, r, &mut out);
        source_ip.row(&ctx, chunk, r, &mut out);
        if let Some(country) = &mut country {
            country.row(&ctx, chunk, r, &mut out);
        }
        off_hours.row(&ctx, chunk, r, &mut out);
        burst.row(&ctx, chunk, r);
        denied.row(&ctx, chunk, r, &mut out);
    });
    burst.finish(&ctx, &mut out);
    out.sort_by(|a, b| {
        (a.time_us, a.rule, &a.principal, &a.secret, &a.source_ip).cmp(&(
            b.time_us,
            b.rule,
            &b.principal,
            &b.secret,
            &b.source_ip,
        ))
    });
    out
}

/// `new-principal-secret`: the first access to a secret by a principal,
/// when it comes after the baseline.
#[derive(Default)]
struct NewPrincipalSecret<'s> {
    seen: FxHashSet<(&'s str, &'s str)>,
}

impl<'s> NewPrincipalSecret<'s> {
    fn row(&mut self, c: &Ctx<'s>, chunk: &Chunk<'_, '_>, r: &Row, out: &mut Vec<Finding<'s>>) {
        let Some(secret) = c.secret(r) else { return };
        let p = c.principal(r);
        if self.seen.insert((p, secret)) && c.after(r) {
            let evidence = format!(
                "first access to {secret} by {p}{} after the {}",
                c.failed_note(r),
                c.baseline
            );
            out.push(c.finding(chunk, "new-principal-secret", Severity::Medium, r, evidence));
        }
    }
}

/// `new-source-ip`: the first request by a principal from a source address,
/// when it comes after the baseline. Sources that are not addresses
/// (`secretsmanager.amazonaws.com`, `AWS Internal`) are AWS calling on a
/// principal's behalf, not places it calls from: they are left out.
#[derive(Default)]
struct NewSourceIp<'s> {
    seen: FxHashSet<(&'s str, &'s str)>,
    /// Sources per principal in the baseline.
    baseline_sources: FxHashMap<&'s str, usize>,
}

impl<'s> NewSourceIp<'s> {
    fn row(&mut self, c: &Ctx<'s>, chunk: &Chunk<'_, '_>, r: &Row, out: &mut Vec<Finding<'s>>) {
        let Some(ip) = c
            .source(r)
            .filter(|s| s.parse::<std::net::IpAddr>().is_ok())
        else {
            return;
        };
        let p = c.principal(r);
        if !self.seen.insert((p, ip)) {
            return;
        }
        if !c.after(r) {
            *self.baseline_sources.entry(p).or_default() += 1;
            return;
        }
        let n = self.baseline_sources.get(p).copied().unwrap_or(0);
        let evidence = format!(
            "first request by {p} from {ip} after the {}; it had {n} source(s) in the baseline",
            c.baseline
        );
        out.push(c.finding(chunk, "new-source-ip", Severity::Low, r, evidence));
    }
}

/// `new-country`: the first request by a principal from a country (of a
/// public address GeoIP places), when it comes after the baseline.
struct NewCountry<'s, 'g> {
    countries: &'g dyn Countries,
    seen: HashMap<&'s str, BTreeSet<String>>,
}

impl<'s> NewCountry<'s, '_> {
    fn row(&mut self, c: &Ctx<'s>, chunk: &Chunk<'_, '_>, r: &Row, out: &mut Vec<Finding<'s>>) {
        let Some(code) = c.source(r).and_then(|ip| self.countries.country(ip)) else {
            return;
        };
        let p = c.principal(r);
        let known = self.seen.entry(p).or_default();
        if known.contains(code) {
            return;
        }
        if c.after(r) {
            let before: Vec<&str> = known.iter().map(String::as_str).collect();
            let evidence = format!(
                "first request by {p} from {code} ({}) after the {}; countries before: {}",
                c.source(r).unwrap_or(""),
                c.baseline,
                if before.is_empty() {
                    "none".to_string()
                } else {
                    before.join(", ")
                }
            );
            out.push(c.finding(chunk, "new-country", Severity::High, r, evidence));
        }
        known.insert(code.to_string());
    }
}

fn hour_of_day(us: i64) -> usize {
    us.div_euclid(HOUR_US).rem_euclid(24) as usize
}

/// `off-hours`: for a principal with at least [`OFF_HOURS_MIN_BASELINE`]
/// baseline events, the first access after the baseline in each UTC hour of
/// day in which it had no baseline event.
#[derive(Default)]
struct OffHours<'s> {
    /// Baseline events per principal, and the hours of day they fell in.
    hours: FxHashMap<&'s str, (usize, [bool; 24])>,
    flagged: FxHashSet<(&'s str, usize)>,
    settings: FindingsSettings,
}

impl OffHours<'_> {
    /// Whether hour `h` is usual: a baseline hour or one within the
    /// tolerance of one, or inside the working hours.
    fn usual(&self, seen: &[bool; 24], h: usize) -> bool {
        let tol = self.settings.off_hours_tolerance.min(12);
        let near = (0..=2 * tol).any(|d| seen[(h + 24 + d - tol) % 24]);
        let working = self.settings.work_hours.is_some_and(|(a, b)| {
            if a < b {
                (a..b).contains(&h)
            } else {
                h >= a || h < b
            }
        });
        near || working
    }
}

impl<'s> OffHours<'s> {
    fn row(&mut self, c: &Ctx<'s>, chunk: &Chunk<'_, '_>, r: &Row, out: &mut Vec<Finding<'s>>) {
        let p = c.principal(r);
        let h = hour_of_day(r.time_us);
        if !c.after(r) {
            let known = self.hours.entry(p).or_insert((0, [false; 24]));
            known.0 += 1;
            known.1[h] = true;
            return;
        }
        let Some((n, usual)) = self
            .hours
            .get(p)
            .filter(|known| known.0 >= OFF_HOURS_MIN_BASELINE)
        else {
            return;
        };
        let (n, usual) = (*n, *usual);
        if self.usual(&usual, h) || !self.flagged.insert((p, h)) {
            return;
        }
        let list: Vec<String> = (0..24)
            .filter(|&i| usual[i])
            .map(|i| format!("{i:02}"))
            .collect();
        let evidence = format!(
            "{p} made a request at {h:02}:00-{h:02}:59 UTC, an hour with none of its {n} events in the {} (its hours: {})",
            c.baseline,
            list.join(",")
        );
        out.push(c.finding(chunk, "off-hours", Severity::Medium, r, evidence));
    }
}

/// `burst`: a UTC clock hour after the baseline in which a principal made
/// more than `max(BURST_MIN, BURST_FACTOR × its busiest baseline hour)`
/// requests; flagged at the request that crossed the limit. The hour's
/// total, which the evidence quotes, is known once the pass is over.
#[derive(Default)]
struct Burst<'s> {
    /// Baseline events per (principal, clock hour): the hour the baseline
    /// ends in is split in two.
    base: FxHashMap<(&'s str, i64), u64>,
    /// The busiest baseline hour of each principal.
    busiest: FxHashMap<&'s str, u64>,
    /// Events after the baseline per (principal, clock hour).
    later: FxHashMap<(&'s str, i64), u64>,
    /// Findings waiting for their hour's total, with their limit and the
    /// busiest baseline hour.
    crossed: Vec<(Finding<'s>, i64, u64, u64)>,
}

impl<'s> Burst<'s> {
    fn row(&mut self, c: &Ctx<'s>, chunk: &Chunk<'_, '_>, r: &Row) {
        let (p, hour) = (c.principal(r), r.time_us.div_euclid(HOUR_US));
        if !c.after(r) {
            let n = self.base.entry((p, hour)).or_default();
            *n += 1;
            let max = self.busiest.entry(p).or_default();
            *max = (*max).max(*n);
            return;
        }
        let max = self.busiest.get(p).copied().unwrap_or(0);
        let limit = BURST_MIN.max(BURST_FACTOR * max);
        let n = self.later.entry((p, hour)).or_default();
        *n += 1;
        if *n == limit + 1 {
            let found = c.finding(chunk, "burst", Severity::Medium, r, String::new());
            self.crossed.push((found, hour, limit, max));
        }
    }

    fn finish(self, c: &Ctx<'s>, out: &mut Vec<Finding<'s>>) {
        for (mut found, hour, limit, max) in self.crossed {
            let total = self.later[&(found.principal, hour)];
            found.evidence = format!(
                "{total} requests by {} in the hour from {}, above the limit of {limit} = max({BURST_MIN}, {BURST_FACTOR} x {max} in its busiest hour of the {})",
                found.principal,
                utc(hour * HOUR_US),
                c.baseline
            )
            .into_boxed_str();
            out.push(found);
        }
    }
}

/// `denied-then-read`: a successful read of a secret by a principal within
/// [`DENIED_WINDOW`] after a failed one (any `errorCode`), once per
/// (principal, secret), anywhere in the data.
#[derive(Default)]
struct DeniedThenRead<'s> {
    /// The time and error code of each pair's last failure.
    last_failure: FxHashMap<(&'s str, &'s str), (i64, &'s str)>,
    flagged: FxHashSet<(&'s str, &'s str)>,
}

impl<'s> DeniedThenRead<'s> {
    fn row(&mut self, c: &Ctx<'s>, chunk: &Chunk<'_, '_>, r: &Row, out: &mut Vec<Finding<'s>>) {
        let Some(secret) = c.secret(r) else { return };
        let key = (c.principal(r), secret);
        if let Some(code) = c.store.get(r, Col::ErrorCode) {
            self.last_failure.insert(key, (r.time_us, code));
            return;
        }
        let Some(&(failed_at, code)) = self.last_failure.get(&key) else {
            return;
        };
        let gap = r.time_us - failed_at;
        if gap > DENIED_WINDOW.as_micros() as i64 || !self.flagged.insert(key) {
            return;
        }
        let evidence = format!(
            "{} read {secret} {} after a failed attempt ({code} at {})",
            key.0,
            human_duration(SignedDuration::from_micros(gap)),
            utc(failed_at)
        );
        out.push(c.finding(chunk, "denied-then-read", Severity::High, r, evidence));
    }
}

fn utc(us: i64) -> String {
    jiff::Timestamp::from_microsecond(us)
        .map(format_utc)
        .unwrap_or_else(|_| us.to_string())
}

/// `14d`, `36h`, `90m`, `45s`, or `1h 2m 3s` when no single unit fits.
fn human_duration(d: SignedDuration) -> String {
    let s = d.as_secs();
    match s {
        0 => "0s".to_string(),
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3_600 == 0 => format!("{}h", s / 3_600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s if s < 60 => format!("{s}s"),
        s => format!("{}h {}m {}s", s / 3_600, s % 3_600 / 60, s % 60),
    }
}

/// An empty column with room for `text` of every finding.
fn sized<'f>(
    found: &'f [Finding<'_>],
    text: impl Fn(&'f Finding<'_>) -> Option<&'f str>,
) -> StrColumn {
    let bytes = found.iter().map(|f| text(f).map_or(0, str::len)).sum();
    StrColumn::with_capacity(found.len(), bytes)
}

/// The `findings` table. It takes the findings so that each one's strings
/// are freed as they are copied into the columns: a sweep can flag tens of
/// thousands of first-seen addresses, and holding both would double the
/// report's peak memory.
pub fn findings_table(found: Vec<Finding<'_>>) -> Table {
    // Each column is sized once: growing by doubling would hold a copy.
    let (mut rule, mut severity) = (
        sized(&found, |f| Some(f.rule)),
        sized(&found, |f| Some(f.severity.name())),
    );
    let mut principal = sized(&found, |f| Some(f.principal));
    let (mut secret, mut source_ip) = (sized(&found, |f| f.secret), sized(&found, |f| f.source_ip));
    let mut evidence = sized(&found, |f| Some(&f.evidence));
    let mut event_id = sized(&found, |f| f.event_id.as_deref());
    let mut time = Vec::with_capacity(found.len());
    for f in found {
        rule.push(Some(f.rule));
        severity.push(Some(f.severity.name()));
        time.push(Some(f.time_us));
        principal.push(Some(f.principal));
        secret.push(f.secret);
        source_ip.push(f.source_ip);
        evidence.push(Some(&f.evidence));
        event_id.push(f.event_id.as_deref());
    }
    Table {
        name: "findings",
        columns: vec![
            ("rule", Column::Str(rule)),
            ("severity", Column::Str(severity)),
            ("time", Column::Time(time)),
            ("principal", Column::Str(principal)),
            ("secret", Column::Str(secret)),
            ("source_ip", Column::Str(source_ip)),
            ("evidence", Column::Str(evidence)),
            ("event_id", Column::Str(event_id)),
        ],
    }
}

#[cfg(test)]
mod tests;
