//! `report --html` end to end: the dashboard of the bundled sample logs,
//! loaded in headless Chromium, holds every chart with exactly the bars the
//! generator's truth file implies, and the browser logs no error or policy
//! violation while loading it.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::*;

/// Debian's Chromium, which `scripts/install-test-deps.sh` installs.
const CHROMIUM: &str = "/usr/bin/chromium";

/// Top-principal bars and matrix size the page draws (`ctscan::report::dashboard`'s caps).
const TOP_PRINCIPALS: usize = 15;
const MATRIX_PRINCIPALS: usize = 20;
const MATRIX_SECRETS: usize = 12;

/// What Chromium made of a page: the DOM after load and its log on stderr.
struct Loaded {
    dom: String,
    log: String,
}

/// Loads `page` in headless Chromium with a fresh profile and the flags this
/// machine needs (no sandbox as root, no background networking), and dumps
/// the DOM. Fails, never skips, when Chromium is missing.
fn load_in_chromium(page: &Path) -> Loaded {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: the HTML tests need Debian's chromium; run scripts/install-test-deps.sh"
    );
    let tmp = TestDir::new();
    let (out, err) = (tmp.join("stdout"), tmp.join("stderr"));
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            &format!("--user-data-dir={}", tmp.join("profile").display()),
            "--dump-dom",
            &format!("file://{}", page.display()),
        ])
        .stdin(Stdio::null())
        .stdout(File::create(&out).unwrap())
        .stderr(File::create(&err).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {CHROMIUM}: {e}"));
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within 120 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let loaded = Loaded {
        dom: std::fs::read_to_string(&out).unwrap(),
        log: std::fs::read_to_string(&err).unwrap(),
    };
    assert!(status.success(), "chromium failed: {}", loaded.log);
    assert!(loaded.dom.contains("</html>"), "no DOM: {}", loaded.log);
    loaded
}

/// Log lines that report a page error or a blocked load.
fn page_errors(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| {
            ["CONSOLE", "Uncaught", "Refused", "Content Security Policy"]
                .iter()
                .any(|w| l.contains(w))
        })
        .collect()
}

/// Elements the dashboard is made of; anything else in the DOM came from a log.
const OWN_TAGS: &[&str] = &[
    "!doctype", "html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "h3", "p",
    "main", "section", "div", "span", "ul", "li", "svg", "g", "rect", "text", "line", "table",
    "thead", "tbody", "tr", "th", "td", "details", "summary", "footer",
];

/// Checks that every element of the DOM is one the dashboard writes and no
/// element has an event-handler attribute: log text stayed text. Attribute
/// values are dropped first (Chromium serialises `<` in them raw).
fn assert_only_own_markup(dom: &str) {
    let mut bare = String::with_capacity(dom.len());
    let mut rest = dom;
    while let Some(at) = rest.find("=\"") {
        bare.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        rest = &after[after.find('"').map_or(after.len(), |e| e + 1)..];
    }
    bare.push_str(rest);
    for tag in bare.split('<').skip(1) {
        let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
        if tag.starts_with('/') {
            continue;
        }
        let mut words = tag.split_whitespace();
        let name = words.next().unwrap_or("").to_ascii_lowercase();
        assert!(
            OWN_TAGS.contains(&name.as_str()),
            "element <{name}> in the DOM"
        );
        for attr in words {
            let attr = attr.to_ascii_lowercase();
            assert!(!attr.starts_with("on"), "attribute {attr} on <{name}>");
        }
    }
}

/// The markup of the `<svg data-chart="name">` element.
fn chart<'d>(dom: &'d str, name: &str) -> &'d str {
    let tag = format!("<svg data-chart=\"{name}\"");
    let start = dom
        .find(&tag)
        .unwrap_or_else(|| panic!("no {name} chart in the DOM"));
    let end = start + dom[start..].find("</svg>").unwrap();
    &dom[start..end]
}

/// The value of `attr` on every element of class `class` in `svg`, in order.
fn attr_of(svg: &str, class: &str, attr: &str) -> Vec<String> {
    svg.split(&format!("class=\"{class}\""))
        .skip(1)
        .map(|el| {
            let el = &el[..el.find('>').unwrap()];
            let at = el
                .find(&format!(" {attr}=\""))
                .unwrap_or_else(|| panic!("no {attr} in {el}"));
            let v = &el[at + attr.len() + 3..];
            v[..v.find('"').unwrap()].to_string()
        })
        .collect()
}

/// One record of the truth file, as far as the dashboard needs it.
struct Access {
    time: i64,
    principal: String,
    secret: Option<String>,
    failed: bool,
}

/// The truth file's header and records.
fn truth() -> (serde_json::Value, Vec<Access>) {
    let text =
        std::fs::read_to_string(root().join("tests/fixtures/sample-logs.truth.jsonl")).unwrap();
    let mut lines = text.lines().map(|l| serde_json::from_str(l).unwrap());
    let head: serde_json::Value = lines.next().unwrap();
    let rows = lines
        .map(|v: serde_json::Value| Access {
            time: v["time"].as_i64().unwrap(),
            principal: v["principal"].as_str().unwrap().to_string(),
            secret: v["secret"].as_str().map(str::to_string),
            failed: v["failed"].as_bool().unwrap(),
        })
        .collect();
    (head, rows)
}

fn hour(t: i64) -> String {
    jiff::Timestamp::from_second(t - t.rem_euclid(3600))
        .unwrap()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// Counts per key, sorted by count descending, then key.
fn ranked(keys: impl Iterator<Item = String>) -> Vec<(String, u64)> {
    let mut m: BTreeMap<String, u64> = BTreeMap::new();
    for k in keys {
        *m.entry(k).or_default() += 1;
    }
    let mut v: Vec<_> = m.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

fn pairs<'a>(keys: &'a [String], values: &'a [String]) -> Vec<(&'a str, &'a str)> {
    keys.iter()
        .map(String::as_str)
        .zip(values.iter().map(String::as_str))
        .collect()
}

#[test]
fn html_dashboard_of_the_sample_logs_in_chromium() {
    let (head, truth) = truth();
    let out = TestDir::new();
    let page = out.join("dashboard.html");
    let (code, _, stderr) = outputs(&ctscan(&[
        &root().join("sample-logs").display().to_string(),
        "-q",
        "--out",
        &out.path().display().to_string(),
        "--html",
        &page.display().to_string(),
    ]));
    assert_eq!(code, 0, "{stderr}");
    let size = std::fs::metadata(&page).unwrap().len();
    assert!(size < 300_000, "dashboard is {size} bytes");
    let loaded = load_in_chromium(&page);
    assert_eq!(page_errors(&loaded.log), Vec::<&str>::new());
    let dom = &loaded.dom;
    assert!(dom.contains("http-equiv=\"Content-Security-Policy\""));
    assert_only_own_markup(dom);

    // Per hour: one bar per hour with events, each with its count.
    let per_hour = chart(dom, "per-hour");
    let want: BTreeMap<String, u64> = ranked(truth.iter().map(|t| hour(t.time)))
        .into_iter()
        .collect();
    let got = attr_of(per_hour, "bar", "data-t");
    let counts = attr_of(per_hour, "bar", "data-n");
    assert_eq!(got.len(), 19);
    let got: BTreeMap<String, u64> = got
        .into_iter()
        .zip(counts.iter().map(|n| n.parse().unwrap()))
        .collect();
    assert_eq!(got, want);
    let by_hour = Csv::read(&out.join("by_hour.csv"));
    assert_eq!(by_hour.rows.len(), want.len());

    // Failures: one bar per hour with a failed call.
    let failures = chart(dom, "failures");
    let want: Vec<(String, u64)> = {
        let mut v = ranked(truth.iter().filter(|t| t.failed).map(|t| hour(t.time)));
        v.sort();
        v
    };
    assert_eq!(want.len(), 4, "5 failed calls in 4 hours");
    let got_t = attr_of(failures, "bar", "data-t");
    let got_n = attr_of(failures, "bar", "data-n");
    let got: Vec<(String, u64)> = got_t
        .into_iter()
        .zip(got_n.iter().map(|n| n.parse().unwrap()))
        .collect();
    assert_eq!(got, want);

    // Top principals, in order, with their counts.
    let principals = ranked(truth.iter().map(|t| t.principal.clone()));
    assert_eq!(principals.len(), 31);
    let top = chart(dom, "top-principals");
    let keys = attr_of(top, "bar", "data-key");
    let counts = attr_of(top, "bar", "data-n");
    let want: Vec<(&str, String)> = principals
        .iter()
        .take(TOP_PRINCIPALS)
        .map(|(p, n)| (p.as_str(), n.to_string()))
        .collect();
    let got: Vec<(&str, String)> = pairs(&keys, &counts)
        .into_iter()
        .map(|(k, n)| (k, n.to_string()))
        .collect();
    assert_eq!(got, want);

    // Matrix: one cell per (top principal, top secret) pair with events.
    let secrets = ranked(truth.iter().filter_map(|t| t.secret.clone()));
    let rows: Vec<&str> = principals
        .iter()
        .take(MATRIX_PRINCIPALS)
        .map(|p| p.0.as_str())
        .collect();
    let cols: Vec<&str> = secrets
        .iter()
        .take(MATRIX_SECRETS)
        .map(|s| s.0.as_str())
        .collect();
    let mut want: BTreeMap<(String, String), u64> = BTreeMap::new();
    for Access {
        principal: p,
        secret,
        ..
    } in &truth
    {
        if let Some(s) = secret {
            if rows.contains(&p.as_str()) && cols.contains(&s.as_str()) {
                *want.entry((p.clone(), s.clone())).or_default() += 1;
            }
        }
    }
    let matrix = chart(dom, "matrix");
    let (ps, ss, ns) = (
        attr_of(matrix, "cell", "data-p"),
        attr_of(matrix, "cell", "data-s"),
        attr_of(matrix, "cell", "data-n"),
    );
    let got: BTreeMap<(String, String), u64> = ps
        .into_iter()
        .zip(ss)
        .zip(ns.iter().map(|n| n.parse().unwrap()))
        .collect();
    assert_eq!(got.len(), want.len());
    assert_eq!(got, want);

    // Summary and coverage, from the generator's header.
    let stat = |id: &str| {
        let tag = format!("data-stat=\"{id}\" data-n=\"");
        let at = dom.find(&tag).unwrap_or_else(|| panic!("no stat {id}")) + tag.len();
        dom[at..at + dom[at..].find('"').unwrap()].to_string()
    };
    assert_eq!(stat("files-listed"), head["objects"].to_string());
    assert_eq!(stat("records-read"), head["records"].to_string());
    assert_eq!(stat("records-matched"), head["selected"].to_string());
    assert_eq!(stat("events"), truth.len().to_string());
    assert_eq!(stat("principals"), "31");
    assert_eq!(stat("failed-events"), "5");
    assert_eq!(stat("files-failed"), "0");

    // The report tables, and no section for data this run does not have.
    for table in ["by_principal", "by_hour", "by_source_ip", "by_secret"] {
        assert!(
            dom.contains(&format!("<table data-table=\"{table}\"")),
            "{table}"
        );
    }
    for absent in ["by-country", "alarm-timeline"] {
        assert!(!dom.contains(absent), "{absent} in the page");
    }
    let findings = Csv::read(&out.join("findings.csv")).rows.len();
    assert!(
        dom.contains(&format!("{findings} findings: first occurrences")),
        "findings section"
    );
}

#[test]
fn html_hostile_log_text_stays_text_in_chromium() {
    let t = TestDir::new();
    let principal = "<script>document.title='pwned'</script>";
    let secret = "\"><svg onload=alert(1)>";
    let agent = "\u{1b}]52;c;ZXZpbA==\u{7}<img src=x onerror=alert(2)>";
    let code = "<iframe src=javascript:alert(3)>";
    let rec = |time: &str, id: &str| {
        serde_json::json!({
            "eventTime": time, "eventSource": "secretsmanager.amazonaws.com", "eventName": "GetSecretValue",
            "userIdentity": {"type": "IAMUser", "arn": principal}, "userAgent": agent,
            "sourceIPAddress": "<b onmouseover=alert(4)>ip</b>", "errorCode": code,
            "requestParameters": {"secretId": secret}, "eventID": id
        })
    };
    let records = [
        rec("2026-02-01T00:00:00Z", "a"),
        rec("2026-02-01T03:00:00Z", "b"),
    ];
    t.write(
        "logs/hostile.json",
        serde_json::json!({ "Records": records })
            .to_string()
            .as_bytes(),
    );
    let page = t.join("dashboard.html");
    let (status, _, stderr) = outputs(&ctscan(&[
        &t.join("logs").display().to_string(),
        "-q",
        "--html",
        &page.display().to_string(),
    ]));
    assert_eq!(status, 0, "{stderr}");
    let loaded = load_in_chromium(&page);
    assert_eq!(page_errors(&loaded.log), Vec::<&str>::new());
    let dom = &loaded.dom;
    assert_only_own_markup(dom);
    assert!(dom.contains("<title>ctscan: secret access report</title>"));
    assert!(!dom.contains('\u{1b}') && !dom.contains('\u{7}'));
    // Shown as text, where it belongs.
    for shown in [
        "&lt;script&gt;document.title='pwned'&lt;/script&gt;",
        "\"&gt;&lt;svg onload=alert(1)&gt;",
        "\\x1b]52;c;ZXZpbA==\\x07&lt;img src=x onerror=alert(2)&gt;",
        "&lt;iframe src=javascript:alert(3)&gt;",
        "&lt;b onmouseover=alert(4)&gt;ip&lt;/b&gt;",
    ] {
        assert!(dom.contains(shown), "{shown} not shown as text");
    }
    assert_eq!(attr_of(chart(dom, "per-hour"), "bar", "data-n"), ["1", "1"]);
    assert_eq!(attr_of(chart(dom, "failures"), "bar", "data-n"), ["1", "1"]);
    assert_eq!(attr_of(chart(dom, "matrix"), "cell", "data-n"), ["2"]);
}

/// The markup check above catches an injected element or handler, and lets
/// through what only looks like one inside an attribute value.
#[test]
fn html_markup_check_catches_injected_elements() {
    let caught = |dom: &str| std::panic::catch_unwind(|| assert_only_own_markup(dom)).is_err();
    assert!(caught("<div><img src=x onerror=alert(1)></div>"));
    assert!(caught("<svg data-chart=\"x\" onload=\"alert(1)\"></svg>"));
    assert!(caught("<td><script>alert(1)</script></td>"));
    assert!(!caught(
        "<g class=\"bar\" data-key=\"<script>x</script>\"><text>&lt;img&gt;</text></g>"
    ));
}

/// The error check above can see a violation: a page whose inline script the
/// policy blocks makes Chromium log one.
#[test]
fn html_chromium_log_shows_a_blocked_script() {
    let dir = TestDir::new();
    let page = dir.write(
        "blocked.html",
        format!(
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><meta http-equiv=\"Content-Security-Policy\" content=\"{}\"></head><body><script>document.title='ran'</script></body></html>",
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
        )
        .as_bytes(),
    );
    let loaded = load_in_chromium(&page);
    assert!(
        !page_errors(&loaded.log).is_empty(),
        "no violation logged: {}",
        loaded.log
    );
    assert!(!loaded.dom.contains("<title>ran</title>"));
}

/// `report --rules cis` replays the alarms in the report's own pass: the same
/// rule table `alarm --rules cis` gives, and one timeline row per rule whose
/// ALARM bands are the state history's ALARM entries.
#[test]
fn html_alarm_timeline_of_the_cis_pack_in_chromium() {
    let logs = shared_data("stratus-red-team");
    let (out, alarm_out) = (TestDir::new(), TestDir::new());
    let page = out.join("dash.html");
    let o = ctscan(&[
        logs.to_str().unwrap(),
        "--rules",
        "cis",
        "--out",
        out.path().to_str().unwrap(),
        "--html",
        page.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = ctscan(&[
        "alarm",
        logs.to_str().unwrap(),
        "--rules",
        "cis",
        "--out",
        alarm_out.path().to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let rules = Csv::read(&out.join("rules.csv"));
    assert_eq!(rules.rows.len(), 16);
    assert_eq!(rules.rows, Csv::read(&alarm_out.join("rules.csv")).rows);
    let history = Csv::read(&out.join("state_history.csv")).maps();
    assert_eq!(
        history,
        Csv::read(&alarm_out.join("state_history.csv")).maps()
    );
    let alarms = history.iter().filter(|h| h["new_state"] == "ALARM").count();
    assert!(
        alarms >= 2,
        "the detonations must raise alarms: {history:?}"
    );

    let loaded = load_in_chromium(&page);
    assert!(page_errors(&loaded.log).is_empty(), "{}", loaded.log);
    let timeline = chart(&loaded.dom, "alarm-timeline");
    let states = attr_of(timeline, "band", "data-state");
    assert_eq!(states.iter().filter(|s| *s == "ALARM").count(), alarms);
    // Every rule has a row; a rule's bands are its changes plus the first.
    assert_eq!(states.len(), 16 + history.len());
}

/// The cells of each body row of the `<table data-table="name">` in `dom`.
fn table_rows(dom: &str, name: &str) -> Vec<Vec<String>> {
    let tag = format!("<table data-table=\"{name}\"");
    let start = dom
        .find(&tag)
        .unwrap_or_else(|| panic!("no {name} table in the DOM"));
    let end = start + dom[start..].find("</table>").unwrap();
    let body = &dom[start..end];
    let body = &body[body.find("<tbody>").map_or(0, |b| b)..];
    body.split("<tr")
        .skip(1)
        .map(|row| {
            row.split("<td")
                .skip(1)
                .map(|cell| {
                    let text = &cell[cell.find('>').unwrap() + 1..];
                    text[..text.find("</td>").unwrap()].to_string()
                })
                .collect()
        })
        .filter(|cells: &Vec<String>| !cells.is_empty())
        .collect()
}

#[test]
fn html_sigma_section_shows_the_rules_that_matched_and_the_first_findings() {
    let logs = shared_data("stratus-red-team");
    let out = TestDir::new();
    let page = out.join("dash.html");
    let (code, _, stderr) = outputs(&ctscan(&[
        logs.to_str().unwrap(),
        "--sigma",
        "bundled",
        "--out",
        out.path().to_str().unwrap(),
        "--html",
        page.to_str().unwrap(),
        "-q",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let matched: Vec<String> = Csv::read(&out.join("hunt_rules.csv"))
        .maps()
        .into_iter()
        .filter(|r| r["matches"] != "0" || r["suppressed"] != "0")
        .map(|r| r["rule_id"].clone())
        .collect();
    let findings: Vec<String> = Csv::read(&out.join("hunt_findings.csv"))
        .maps()
        .into_iter()
        .map(|r| r["event_id"].clone())
        .collect();
    assert!(
        !matched.is_empty() && findings.len() > 50,
        "{}",
        findings.len()
    );

    let loaded = load_in_chromium(&page);
    assert_eq!(page_errors(&loaded.log), Vec::<&str>::new());
    let dom = &loaded.dom;
    assert_only_own_markup(dom);
    let section = &dom[dom.find("<section id=\"sigma\"").expect("a Sigma section")..];
    let section = &section[..section.find("</section>").unwrap()];
    assert!(
        section.contains(&format!(
            "{} findings from {} rules",
            findings.len(),
            matched.len()
        )),
        "{section}"
    );
    let rules = table_rows(section, "hunt_rules");
    let ids: Vec<&str> = rules.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(ids, matched, "matched rules, most matches first");
    let first = table_rows(section, "first_findings");
    assert_eq!(first.len(), 50, "the first rows only");
    let event_ids: Vec<&str> = first.iter().map(|r| r[14].as_str()).collect();
    assert_eq!(
        event_ids,
        findings[..50]
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
    );
}
