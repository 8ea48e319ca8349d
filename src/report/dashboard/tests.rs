//! Dashboard tests: buckets, bands, caps and escaping, on constructed stores.

use super::*;
use crate::read::record::Event;

const T0: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z

struct Ev<'a> {
    secs: i64,
    principal: &'a str,
    secret: Option<&'a str>,
    error: Option<&'a str>,
    agent: &'a str,
}

fn ev<'a>(
    secs: i64,
    principal: &'a str,
    secret: Option<&'a str>,
    error: Option<&'a str>,
) -> Ev<'a> {
    Ev {
        secs,
        principal,
        secret,
        error,
        agent: "aws-cli/2",
    }
}

fn store(events: &[Ev<'_>]) -> EventStore {
    let mut store = EventStore::default();
    for e in events {
        let event = Event {
            event_time: None,
            event_time_text: None,
            event_source: Some("secretsmanager.amazonaws.com"),
            event_name: Some("GetSecretValue"),
            principal: e.principal.to_string(),
            principal_type: "IAMUser",
            session_arn: None,
            access_key_id: None,
            account_id: Some("111122223333"),
            region: Some("us-east-1"),
            source_ip: Some("198.51.100.7"),
            user_agent: Some(e.agent),
            secret: e.secret.map(str::to_string),
            error_code: e.error,
            event_id: None,
            request_id: None,
            read_only: Some(true),
            batch_request: None,
        };
        store.push(&event, e.secs * 1_000_000, "obj.json.gz");
    }
    store
}

fn page(store: &EventStore, tables: &[Table], alarms: &[AlarmTimeline]) -> String {
    let summary = serde_json::json!({
        "files": {"listed": 5, "scanned": 3, "pruned": 1, "skipped": {"digest": 1}, "failed": 0},
        "failures": [],
        "records": {"read": 10, "matched": store.len(), "no_event_time": 0, "duplicates": 0},
        "window": {"since": null, "until": null},
    });
    render(&Dashboard {
        title: "test".to_string(),
        summary: &summary,
        store,
        tables,
        alarms,
    })
}

/// The markup of the chart tagged `name`.
fn chart<'p>(page: &'p str, name: &str) -> &'p str {
    let tag = format!("data-chart=\"{name}\"");
    let start = page.find(&tag).unwrap_or_else(|| panic!("no chart {name}"));
    let end = start + page[start..].find("</svg>").unwrap();
    &page[start..end]
}

fn count(s: &str, pat: &str) -> usize {
    s.matches(pat).count()
}

#[test]
fn hostile_log_text_is_escaped_everywhere() {
    let evil_principal = "<script>alert(1)</script>";
    let evil_secret = "\"onmouseover=alert(1) x=\"";
    let evil_agent = "\x1b]52;c;ZXZpbA==\x07<b>";
    let evil_code = "<img src=x onerror=alert(1)>";
    let mut events = vec![ev(T0, evil_principal, Some(evil_secret), Some(evil_code))];
    events[0].agent = evil_agent;
    events.push(ev(T0 + 60, "alice", Some("prod/db"), None));
    let store = store(&events);
    let tables = crate::report::all_reports(&store);
    let summary = serde_json::json!({
        "failures": [{"object": "<script>x</script>", "error": "\"onmouseover=1"}],
        "window": {"since": "<i>", "until": null},
    });
    let out = render(&Dashboard {
        title: "<script>title</script>".to_string(),
        summary: &summary,
        store: &store,
        tables: &tables,
        alarms: &[],
    });
    for raw in [
        "<script",
        "<img",
        "<b>",
        "\"onmouseover",
        "<i>",
        "\x1b",
        "\x07",
    ] {
        assert!(!out.contains(raw), "raw {raw:?} in the page");
    }
    assert!(
        out.chars().all(|c| c == '\n' || !c.is_control()),
        "a control character in the page"
    );
    for escaped in [
        "&lt;script&gt;alert(1)&lt;/script&gt;",
        "&quot;onmouseover=alert(1) x=&quot;",
        "\\x1b]52;c;ZXZpbA==\\x07&lt;b&gt;",
        "&lt;img src=x onerror=alert(1)&gt;",
        "&lt;script&gt;x&lt;/script&gt;",
        "<title>&lt;script&gt;title&lt;/script&gt;</title>",
    ] {
        assert!(out.contains(escaped), "{escaped} missing");
    }
    // The hostile principal is a bar's key attribute, escaped.
    assert!(out.contains("data-key=\"&lt;script&gt;alert(1)&lt;/script&gt;\""));
}

#[test]
fn the_page_is_self_contained_under_a_strict_policy() {
    let out = page(&store(&[ev(T0, "alice", Some("s"), None)]), &[], &[]);
    assert!(out.starts_with("<!DOCTYPE html>"));
    assert!(out.contains("<meta charset=\"utf-8\">"));
    assert!(out.contains(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src &#39;none&#39;; style-src &#39;unsafe-inline&#39;; img-src data:\">"
    ));
    for banned in [
        "<script", "http:", "https:", "<link", "<img", "url(", "@import",
    ] {
        assert!(!out.contains(banned), "{banned} in the page");
    }
}

#[test]
fn one_bar_per_hour_with_events() {
    let h = 3600;
    let events = [
        ev(T0 + 10, "alice", Some("a"), None),
        ev(T0 + 20, "bob", Some("b"), Some("AccessDenied")),
        ev(T0 + h + 5, "alice", Some("a"), None),
        ev(T0 + 5 * h, "carol", None, None),
        ev(T0 + 5 * h + 7, "carol", Some("a"), Some("AccessDenied")),
        ev(T0 + 5 * h + 9, "carol", Some("a"), Some("Throttling")),
    ];
    let out = page(&store(&events), &[], &[]);
    let per_hour = chart(&out, "per-hour");
    assert_eq!(count(per_hour, "class=\"bar\""), 3);
    assert!(per_hour.contains("data-t=\"2026-01-01T00:00:00Z\" data-n=\"2\""));
    assert!(per_hour.contains("data-t=\"2026-01-01T01:00:00Z\" data-n=\"1\""));
    assert!(per_hour.contains("data-t=\"2026-01-01T05:00:00Z\" data-n=\"3\""));
    // Hour 05 stacks "a" (2) and "other" (the record without a secret).
    let five = &per_hour[per_hour.find("T05:00:00Z").unwrap()..];
    assert_eq!(
        count(&five[..five.find("</g>").unwrap()], "class=\"seg\""),
        2
    );
    let failures = chart(&out, "failures");
    assert_eq!(count(failures, "class=\"bar\""), 2);
    assert!(failures.contains("data-t=\"2026-01-01T05:00:00Z\" data-n=\"2\""));
    assert!(failures.contains("AccessDenied: 1\nThrottling: 1"));
    let principals = chart(&out, "top-principals");
    assert_eq!(count(principals, "class=\"bar\""), 3);
    let at = |s: &str| principals.find(s).unwrap();
    assert!(at("data-key=\"carol\" data-n=\"3\"") < at("data-key=\"alice\" data-n=\"2\""));
    // Matrix cells: alice×a, bob×b, carol×a.
    assert_eq!(count(chart(&out, "matrix"), "class=\"cell\""), 3);
    assert!(chart(&out, "matrix").contains("<title>carol\na: 2 events</title>"));
}

#[test]
fn long_spans_are_drawn_per_day_then_per_week() {
    let day = 86_400;
    let days: Vec<Ev> = [0, 1, 1, 4, 9, 20, 29]
        .iter()
        .map(|d| ev(T0 + d * day + 100, "alice", Some("a"), None))
        .collect();
    let out = page(&store(&days), &[], &[]);
    assert!(out.contains("Accesses per day"));
    let per_day = chart(&out, "per-hour");
    assert_eq!(count(per_day, "class=\"bar\""), 6);
    assert!(per_day.contains("data-t=\"2026-01-02T00:00:00Z\" data-n=\"2\""));

    // 2026-01-01 is a Thursday: its week starts Monday 2025-12-29.
    let weeks: Vec<Ev> = [0, 3, 4, 400, 700]
        .iter()
        .map(|d| ev(T0 + d * day, "alice", Some("a"), None))
        .collect();
    let out = page(&store(&weeks), &[], &[]);
    let per_week = chart(&out, "per-hour");
    assert!(out.contains("Accesses per week"));
    assert_eq!(count(per_week, "class=\"bar\""), 4);
    assert!(per_week.contains("data-t=\"2025-12-29T00:00:00Z\" data-n=\"2\""));
    assert!(per_week.contains("data-t=\"2026-01-05T00:00:00Z\" data-n=\"1\""));
}

#[test]
fn a_year_of_busy_data_stays_small() {
    let events: Vec<Ev> = (0..365 * 24)
        .map(|h| {
            let secret = [
                "p/1", "p/2", "p/3", "p/4", "p/5", "p/6", "p/7", "p/8", "p/9", "p/10",
            ][h as usize % 10];
            ev(
                T0 + h * 3600,
                ["alice", "bob", "carol"][h as usize % 3],
                Some(secret),
                None,
            )
        })
        .collect();
    let store = store(&events);
    let out = page(&store, &crate::report::all_reports(&store), &[]);
    assert_eq!(count(chart(&out, "per-hour"), "class=\"bar\""), 365);
    assert!(out.len() < 1_000_000, "{} bytes", out.len());
}

fn change(secs: i64, old: AlarmState, new: AlarmState, reason: &str) -> StateChange {
    StateChange {
        time: jiff::Timestamp::from_second(secs).unwrap(),
        old,
        new,
        reason: reason.to_string(),
        reason_data: String::new(),
    }
}

#[test]
fn alarm_bands_follow_the_history() {
    use AlarmState::*;
    let a = AlarmTimeline {
        name: "root-login <x>".to_string(),
        start_us: T0 * 1_000_000,
        end_us: (T0 + 4000) * 1_000_000,
        history: vec![
            change(T0 + 300, InsufficientData, Ok, "first data"),
            change(T0 + 1200, Ok, Alarm, "Threshold Crossed: 1 datapoint [3.0]"),
            change(T0 + 1800, Alarm, Ok, "back <ok>"),
            change(T0 + 5000, Ok, Alarm, "after the end"),
        ],
    };
    let bands = alarm_bands(&a);
    let got: Vec<(i64, i64, AlarmState)> = bands
        .iter()
        .map(|b| {
            (
                b.from_us / 1_000_000 - T0,
                b.to_us / 1_000_000 - T0,
                b.state,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (0, 300, InsufficientData),
            (300, 1200, Ok),
            (1200, 1800, Alarm),
            (1800, 4000, Ok)
        ]
    );
    assert_eq!(bands[2].reason, "Threshold Crossed: 1 datapoint [3.0]");
    let quiet = AlarmTimeline {
        name: "quiet".to_string(),
        history: Vec::new(),
        ..a.clone()
    };
    assert_eq!(alarm_bands(&quiet).len(), 1);
    assert_eq!(alarm_bands(&quiet)[0].state, InsufficientData);

    let out = page(&store(&[]), &[], &[a, quiet]);
    let timeline = chart(&out, "alarm-timeline");
    assert_eq!(count(timeline, "class=\"band\""), 5);
    let states: Vec<&str> = timeline
        .split("data-state=\"")
        .skip(1)
        .map(|s| &s[..s.find('"').unwrap()])
        .collect();
    assert_eq!(
        states,
        [
            "INSUFFICIENT_DATA",
            "OK",
            "ALARM",
            "OK",
            "INSUFFICIENT_DATA"
        ]
    );
    assert!(timeline.contains("root-login &lt;x&gt;"));
    assert!(timeline.contains("back &lt;ok&gt;"));
    assert!(!page(&store(&[]), &[], &[]).contains("data-chart=\"alarm-timeline\""));
}

#[test]
fn extra_tables_get_their_sections() {
    let by_country = Table {
        name: "by_country",
        columns: vec![
            (
                "country",
                Column::Str([Some("DE"), Some("US"), None].into()),
            ),
            ("events", Column::Count(vec![3, 9, 1])),
        ],
    };
    let by_asn = Table {
        name: "by_asn",
        columns: vec![
            ("asn", Column::Count(vec![64500])),
            ("organization", Column::Str([Some("<Evil> Net")].into())),
            ("events", Column::Count(vec![13])),
        ],
    };
    let findings = Table {
        name: "findings",
        columns: vec![
            ("rule", Column::Str([Some("root-use")].into())),
            ("severity", Column::Str([Some("HIGH")].into())),
            ("time", Column::Time(vec![Some(T0 * 1_000_000)])),
        ],
    };
    let out = page(
        &store(&[ev(T0, "alice", Some("a"), None)]),
        &[by_country, by_asn, findings],
        &[],
    );
    let countries = chart(&out, "by-country");
    assert_eq!(count(countries, "class=\"bar\""), 3);
    let at = |s: &str| countries.find(s).unwrap();
    assert!(at("data-key=\"US\" data-n=\"9\"") < at("data-key=\"DE\" data-n=\"3\""));
    assert!(out.contains("data-table=\"by_asn\""));
    assert!(out.contains("<td class=\"num\">64500</td>"));
    assert!(out.contains("&lt;Evil&gt; Net"));
    assert!(out.contains("<td class=\"sev-high\">HIGH</td>"));
    assert!(out.contains("<td class=\"time\">2026-01-01T00:00:00Z</td>"));
    assert!(out.find("id=\"findings\"").unwrap() < out.find("id=\"per-hour\"").unwrap());
    let plain = page(&store(&[]), &[], &[]);
    assert!(!plain.contains("by-country") && !plain.contains("id=\"findings\""));
}

#[test]
fn an_empty_store_still_draws_every_chart() {
    let out = page(&store(&[]), &[], &[]);
    for name in ["per-hour", "failures", "top-principals", "matrix"] {
        assert_eq!(count(chart(&out, name), "class=\"bar\""), 0);
    }
    assert!(out.contains("data-stat=\"files-listed\" data-n=\"5\""));
}
