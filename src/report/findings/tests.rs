//! Each rule on a constructed history where it must fire (exact rows) and
//! one where it must not.

use super::*;
use crate::read::record::Event;

const DAY: i64 = 86_400_000_000;
const MIN: i64 = 60_000_000;

/// 2026-01-01T00:00:00Z plus `days` days, `h` hours and `m` minutes, in µs.
fn t(days: i64, h: i64, m: i64) -> i64 {
    let start: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
    start.as_microsecond() + days * DAY + h * HOUR_US + m * MIN
}

/// One event of a history: who read which secret from where, and how it ended.
struct Ev {
    time: i64,
    principal: &'static str,
    secret: &'static str,
    ip: &'static str,
    error: Option<&'static str>,
}

fn ev(time: i64, principal: &'static str, secret: &'static str, ip: &'static str) -> Ev {
    Ev {
        time,
        principal,
        secret,
        ip,
        error: None,
    }
}

fn failed(time: i64, principal: &'static str, secret: &'static str) -> Ev {
    Ev {
        error: Some("AccessDenied"),
        ..ev(time, principal, secret, "1.1.1.1")
    }
}

/// Builds a store through its public API; event ids are `e0`, `e1`, ...
/// An `anchor` event at 2026-01-01T00:00:00Z starts every history, so the
/// baseline is [`RANGE`].
fn store(evs: &[Ev]) -> EventStore {
    let mut store = EventStore::default();
    let anchor = ev(t(0, 0, 0), "anchor", "anchor", "anchor.amazonaws.com");
    for (i, e) in evs.iter().chain([&anchor]).enumerate() {
        let id = format!("e{i}");
        let event = Event {
            event_time: None,
            event_time_text: None,
            event_source: Some("secretsmanager.amazonaws.com"),
            event_name: Some("GetSecretValue"),
            principal: e.principal.to_string(),
            principal_type: "AssumedRole",
            session_arn: None,
            access_key_id: None,
            account_id: Some("111122223333"),
            region: Some("us-east-1"),
            source_ip: Some(e.ip),
            user_agent: None,
            secret: Some(e.secret.to_string()),
            error_code: e.error,
            event_id: Some(&id),
            request_id: None,
            read_only: Some(true),
            batch_request: None,
        };
        store.push(&event, e.time, "test.json");
    }
    store.sort();
    store
}

const BASELINE: SignedDuration = SignedDuration::from_hours(14 * 24);
const RANGE: &str = "14d baseline (2026-01-01T00:00:00Z..2026-01-15T00:00:00Z)";

/// (time, principal, secret, source_ip, event_id) of the findings of `rule`.
fn rows(found: &[Finding], rule: &str) -> Vec<(i64, String, String, String, String)> {
    found
        .iter()
        .filter(|f| f.rule == rule)
        .map(|f| {
            (
                f.time_us,
                f.principal.to_string(),
                f.secret.unwrap_or_default().to_string(),
                f.source_ip.unwrap_or_default().to_string(),
                f.event_id.as_deref().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn row(time: i64, p: &str, s: &str, ip: &str, id: &str) -> (i64, String, String, String, String) {
    (time, p.into(), s.into(), ip.into(), id.into())
}

/// The findings of `evs`; the table they borrow from lives for the test.
fn run(evs: &[Ev]) -> Vec<Finding<'static>> {
    findings(Box::leak(Box::new(store(evs))), BASELINE, None)
}

#[test]
fn new_principal_secret_fires_once_per_pair_after_the_baseline() {
    let found = run(&[
        ev(t(0, 9, 0), "alice", "prod/db", "1.1.1.1"),
        ev(t(3, 9, 0), "bob", "prod/api", "1.1.1.1"),
        ev(t(20, 9, 0), "alice", "prod/db", "1.1.1.1"),
        ev(t(20, 10, 0), "alice", "prod/api", "1.1.1.1"),
        ev(t(20, 11, 0), "bob", "prod/db", "1.1.1.1"),
        ev(t(20, 12, 0), "bob", "prod/db", "1.1.1.1"),
    ]);
    assert_eq!(
        rows(&found, "new-principal-secret"),
        vec![
            row(t(20, 10, 0), "alice", "prod/api", "1.1.1.1", "e3"),
            row(t(20, 11, 0), "bob", "prod/db", "1.1.1.1", "e4"),
        ]
    );
    let f = found
        .iter()
        .find(|f| f.rule == "new-principal-secret")
        .unwrap();
    assert_eq!(f.severity, Severity::Medium);
    assert_eq!(
        &*f.evidence,
        format!("first access to prod/api by alice after the {RANGE}")
    );
}

#[test]
fn new_principal_secret_is_quiet_when_every_pair_is_known() {
    let found = run(&[
        ev(t(0, 9, 0), "alice", "prod/db", "1.1.1.1"),
        ev(t(13, 9, 0), "bob", "prod/api", "1.1.1.1"),
        ev(t(20, 9, 0), "alice", "prod/db", "1.1.1.1"),
        ev(t(21, 9, 0), "bob", "prod/api", "1.1.1.1"),
    ]);
    assert_eq!(rows(&found, "new-principal-secret"), vec![]);
    // A baseline longer than the data flags nothing at all.
    let found = run(&[
        ev(t(0, 9, 0), "alice", "prod/db", "1.1.1.1"),
        ev(t(5, 9, 0), "carol", "prod/x", "9.9.9.9"),
    ]);
    assert_eq!(found, vec![]);
}

#[test]
fn new_source_ip_fires_once_per_principal_and_source() {
    let found = run(&[
        ev(t(0, 9, 0), "alice", "prod/db", "1.1.1.1"),
        ev(
            t(1, 9, 0),
            "alice",
            "prod/db",
            "secretsmanager.amazonaws.com",
        ),
        ev(t(15, 9, 0), "alice", "prod/db", "2.2.2.2"),
        ev(t(16, 9, 0), "alice", "prod/db", "2.2.2.2"),
        ev(t(16, 10, 0), "alice", "prod/db", "1.1.1.1"),
    ]);
    assert_eq!(
        rows(&found, "new-source-ip"),
        vec![row(t(15, 9, 0), "alice", "prod/db", "2.2.2.2", "e2")]
    );
    assert_eq!(
        &*found[0].evidence,
        format!("first request by alice from 2.2.2.2 after the {RANGE}; it had 1 source(s) in the baseline")
    );
    assert_eq!(found[0].severity, Severity::Low);
}

#[test]
fn new_source_ip_is_quiet_for_service_names_that_are_not_addresses() {
    let found = run(&[
        ev(t(0, 9, 0), "alice", "prod/db", "1.1.1.1"),
        ev(
            t(15, 9, 0),
            "alice",
            "prod/db",
            "secretsmanager.amazonaws.com",
        ),
        ev(t(15, 10, 0), "alice", "prod/db", "AWS Internal"),
    ]);
    assert_eq!(rows(&found, "new-source-ip"), vec![]);
}

#[test]
fn new_source_ip_is_quiet_for_known_sources() {
    let found = run(&[
        ev(t(0, 9, 0), "alice", "prod/db", "1.1.1.1"),
        ev(t(2, 9, 0), "bob", "prod/db", "2.2.2.2"),
        ev(t(15, 9, 0), "alice", "prod/db", "1.1.1.1"),
        ev(t(15, 9, 0), "bob", "prod/db", "2.2.2.2"),
    ]);
    assert_eq!(rows(&found, "new-source-ip"), vec![]);
}

/// A fixed GeoIP answer.
struct Fixed;

impl Countries for Fixed {
    fn country(&self, ip: &str) -> Option<&str> {
        match ip {
            "8.8.8.8" | "8.8.4.4" => Some("US"),
            "1.1.1.1" => Some("AU"),
            "81.2.69.142" => Some("GB"),
            _ => None,
        }
    }
}

#[test]
fn new_country_fires_for_a_country_first_seen_after_the_baseline() {
    let evs = [
        ev(t(0, 9, 0), "alice", "prod/db", "8.8.8.8"),
        ev(t(1, 9, 0), "alice", "prod/db", "10.0.0.1"),
        ev(t(15, 9, 0), "alice", "prod/db", "8.8.4.4"),
        ev(t(15, 10, 0), "alice", "prod/db", "1.1.1.1"),
        ev(t(15, 11, 0), "alice", "prod/db", "1.1.1.1"),
        ev(t(16, 9, 0), "alice", "prod/db", "81.2.69.142"),
    ];
    let table = store(&evs);
    let found = findings(&table, BASELINE, Some(&Fixed));
    assert_eq!(
        rows(&found, "new-country"),
        vec![
            row(t(15, 10, 0), "alice", "prod/db", "1.1.1.1", "e3"),
            row(t(16, 9, 0), "alice", "prod/db", "81.2.69.142", "e5"),
        ]
    );
    let last = found.iter().rfind(|f| f.rule == "new-country").unwrap();
    assert_eq!(last.severity, Severity::High);
    assert_eq!(
        &*last.evidence,
        format!("first request by alice from GB (81.2.69.142) after the {RANGE}; countries before: AU, US")
    );
}

#[test]
fn new_country_is_quiet_without_geoip_or_for_known_countries() {
    let evs = [
        ev(t(0, 9, 0), "alice", "prod/db", "8.8.8.8"),
        ev(t(15, 9, 0), "alice", "prod/db", "8.8.4.4"),
        ev(t(15, 10, 0), "alice", "prod/db", "1.1.1.1"),
    ];
    assert_eq!(rows(&run(&evs), "new-country"), vec![]);
    let known = [
        ev(t(0, 9, 0), "alice", "prod/db", "8.8.8.8"),
        ev(t(15, 9, 0), "alice", "prod/db", "8.8.4.4"),
        ev(t(15, 10, 0), "alice", "prod/db", "192.168.0.1"),
    ];
    let table = store(&known);
    let found = findings(&table, BASELINE, Some(&Fixed));
    assert_eq!(rows(&found, "new-country"), vec![]);
}

/// `n` baseline events at 09:00 and 10:00 UTC on successive days.
fn office_hours(principal: &'static str, n: usize) -> Vec<Ev> {
    (0..n)
        .map(|i| {
            let i = i as i64;
            ev(t(i / 2, 9 + i % 2, 5), principal, "prod/db", "1.1.1.1")
        })
        .collect()
}

#[test]
fn off_hours_fires_once_per_unusual_hour_of_a_regular_principal() {
    let mut evs = office_hours("alice", 20);
    evs.extend([
        ev(t(20, 3, 15), "alice", "prod/db", "1.1.1.1"),
        ev(t(20, 3, 45), "alice", "prod/db", "1.1.1.1"),
        ev(t(20, 9, 30), "alice", "prod/db", "1.1.1.1"),
        ev(t(21, 3, 10), "alice", "prod/db", "1.1.1.1"),
        ev(t(21, 23, 59), "alice", "prod/db", "1.1.1.1"),
    ]);
    let found = run(&evs);
    assert_eq!(
        rows(&found, "off-hours"),
        vec![
            row(t(20, 3, 15), "alice", "prod/db", "1.1.1.1", "e20"),
            row(t(21, 23, 59), "alice", "prod/db", "1.1.1.1", "e24"),
        ]
    );
    let f = found.iter().find(|f| f.rule == "off-hours").unwrap();
    assert_eq!(
        &*f.evidence,
        format!("alice made a request at 03:00-03:59 UTC, an hour with none of its 20 events in the {RANGE} (its hours: 09,10)")
    );
}

#[test]
fn off_hours_is_quiet_for_usual_hours_and_thin_baselines() {
    let mut evs = office_hours("alice", 20);
    evs.extend(office_hours("bob", 19));
    evs.extend([
        ev(t(20, 10, 59), "alice", "prod/db", "1.1.1.1"),
        ev(t(20, 3, 0), "bob", "prod/db", "1.1.1.1"),
    ]);
    assert_eq!(rows(&run(&evs), "off-hours"), vec![]);
}

#[test]
fn off_hours_respects_working_hours_and_tolerance() {
    let mut evs = office_hours("alice", 20);
    evs.extend([
        ev(t(20, 8, 0), "alice", "prod/db", "1.1.1.1"),
        ev(t(20, 14, 0), "alice", "prod/db", "1.1.1.1"),
        ev(t(20, 3, 0), "alice", "prod/db", "1.1.1.1"),
    ]);
    let table = Box::leak(Box::new(store(&evs)));
    let with = |settings: FindingsSettings| {
        let found = findings_with(table, BASELINE, None, &settings);
        let hours: Vec<i64> = found
            .iter()
            .filter(|f| f.rule == "off-hours")
            .map(|f| f.time_us.div_euclid(HOUR_US).rem_euclid(24))
            .collect();
        hours
    };
    assert_eq!(with(FindingsSettings::default()), [3, 8, 14]);
    let tolerant = FindingsSettings {
        off_hours_tolerance: 1,
        ..Default::default()
    };
    assert_eq!(with(tolerant), [3, 14]);
    let working = FindingsSettings {
        work_hours: Some((8, 18)),
        ..Default::default()
    };
    assert_eq!(with(working), [3]);
    let night_shift = FindingsSettings {
        work_hours: Some((22, 4)),
        ..Default::default()
    };
    assert_eq!(with(night_shift), [8, 14]);
    assert_eq!(parse_work_hours("8-18"), Ok((8, 18)));
    assert!(parse_work_hours("8").is_err() && parse_work_hours("8-25").is_err());
}

/// `n` requests by `principal` from minute `start` of the hour `t(day, h, 0)`,
/// one a minute (wrapping within the hour at 60).
fn hourful(principal: &'static str, day: i64, h: i64, n: usize) -> Vec<Ev> {
    (0..n as i64)
        .map(|i| ev(t(day, h, 0) + i * MIN / 2, principal, "prod/db", "1.1.1.1"))
        .collect()
}

#[test]
fn burst_fires_at_the_request_that_crosses_the_limit() {
    let mut evs = hourful("alice", 0, 9, 15);
    evs.extend(hourful("alice", 15, 9, 31));
    evs.extend(hourful("bob", 16, 9, 21));
    let found = run(&evs);
    assert_eq!(
        rows(&found, "burst"),
        vec![
            row(t(15, 9, 15), "alice", "prod/db", "1.1.1.1", "e45"),
            row(t(16, 9, 10), "bob", "prod/db", "1.1.1.1", "e66"),
        ]
    );
    let f = found.iter().find(|f| f.rule == "burst").unwrap();
    assert_eq!(
        &*f.evidence,
        format!("31 requests by alice in the hour from 2026-01-16T09:00:00Z, above the limit of 30 = max(20, 2 x 15 in its busiest hour of the {RANGE})")
    );
}

#[test]
fn burst_is_quiet_at_the_limit() {
    let mut evs = hourful("alice", 0, 9, 15);
    evs.extend(hourful("alice", 15, 9, 30));
    evs.extend(hourful("bob", 16, 9, 20));
    assert_eq!(rows(&run(&evs), "burst"), vec![]);
}

#[test]
fn denied_then_read_fires_once_within_the_hour() {
    let found = run(&[
        failed(t(1, 10, 0), "alice", "prod/db"),
        ev(t(1, 10, 30), "alice", "prod/db", "1.1.1.1"),
        failed(t(2, 10, 0), "alice", "prod/db"),
        ev(t(2, 10, 5), "alice", "prod/db", "1.1.1.1"),
        failed(t(3, 10, 0), "bob", "prod/db"),
        failed(t(3, 10, 20), "bob", "prod/db"),
        ev(t(3, 11, 20), "bob", "prod/db", "1.1.1.1"),
    ]);
    assert_eq!(
        rows(&found, "denied-then-read"),
        vec![
            row(t(1, 10, 30), "alice", "prod/db", "1.1.1.1", "e1"),
            row(t(3, 11, 20), "bob", "prod/db", "1.1.1.1", "e6"),
        ]
    );
    let f = found.iter().find(|f| f.rule == "denied-then-read").unwrap();
    assert_eq!(f.severity, Severity::High);
    assert_eq!(
        &*f.evidence,
        "alice read prod/db 30m after a failed attempt (AccessDenied at 2026-01-02T10:00:00Z)"
    );
}

#[test]
fn denied_then_read_is_quiet_after_the_window_or_for_others() {
    let found = run(&[
        failed(t(1, 10, 0), "alice", "prod/db"),
        ev(t(1, 11, 1), "alice", "prod/db", "1.1.1.1"),
        ev(t(1, 10, 10), "bob", "prod/db", "1.1.1.1"),
        ev(t(1, 10, 20), "alice", "prod/api", "1.1.1.1"),
    ]);
    assert_eq!(rows(&found, "denied-then-read"), vec![]);
}

#[test]
fn findings_are_sorted_by_time_and_tabled() {
    let found = run(&[
        failed(t(0, 10, 0), "alice", "prod/db"),
        ev(t(0, 10, 30), "alice", "prod/db", "1.1.1.1"),
        ev(t(15, 9, 0), "bob", "prod/db", "2.2.2.2"),
    ]);
    let order: Vec<(&str, i64)> = found.iter().map(|f| (f.rule, f.time_us)).collect();
    let principals: StrColumn = found.iter().map(|f| Some(&f.principal)).collect();
    assert_eq!(
        order,
        vec![
            ("denied-then-read", t(0, 10, 30)),
            ("new-principal-secret", t(15, 9, 0)),
            ("new-source-ip", t(15, 9, 0)),
        ]
    );
    let table = findings_table(found);
    assert_eq!(table.name, "findings");
    let names: Vec<&str> = table.columns.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names,
        [
            "rule",
            "severity",
            "time",
            "principal",
            "secret",
            "source_ip",
            "evidence",
            "event_id"
        ]
    );
    assert_eq!(table.rows(), 3);
    assert_eq!(
        table.column("severity"),
        Some(&Column::Str(
            [Some("high"), Some("medium"), Some("low")].into()
        ))
    );
    assert_eq!(table.column("principal"), Some(&Column::Str(principals)));
}
