//! The projection (`hunt::project`) judges records exactly as the parsed
//! record does: same routing, same verdict for every rule it holds, same
//! finding fields; on the public samples and fixtures as written,
//! pretty-printed and re-serialised with `\u` escapes, and on hand-made
//! records that stress what a projection can get wrong.

use serde_json::Value;

use super::super::SigmaRuleSet;
use super::support::{bundled_rules, files_under, fixtures_dir, read_records, shared_data};
use crate::hunt::finding::EventFields;
use crate::hunt::project::Projection;
use crate::read::record::JsonView;
use crate::read::structural::{index_container, Tape};

/// What one record's check saw.
#[derive(Debug, Default)]
struct Seen {
    records: usize,
    projected: usize,
    /// Rules judged on a projection.
    judged: usize,
    /// Of those, matches.
    matched: usize,
}

/// Checks one record's text; panics on any disagreement.
fn check(set: &SigmaRuleSet, projection: &Projection, text: &str, seen: &mut Seen) {
    seen.records += 1;
    let bytes = text.as_bytes();
    let Some(open) = bytes.iter().position(|b| !b.is_ascii_whitespace()) else {
        return;
    };
    let mut tape = Tape::new(projection.tape_depth());
    let Ok(end) = index_container(bytes, open, &mut tape) else {
        return;
    };
    let record = &bytes[open..end];
    let Some(p) = projection.project(record, &tape) else {
        return;
    };
    seen.projected += 1;
    let mut scratch = record.to_vec();
    let full = simd_json::to_borrowed_value(&mut scratch).expect("a projected record parses");
    let (mut routed, mut full_routed) = (Vec::new(), Vec::new());
    set.route(p.root(), &mut routed);
    set.route(&full, &mut full_routed);
    assert_eq!(routed, full_routed, "routing differs on {text}");
    for r in routed {
        if !projection.holds_rule(&p, r.0) {
            continue;
        }
        let rule = set.get(r);
        let got = rule.matches(p.root());
        assert_eq!(got, rule.matches(&full), "{} on {text}", rule.meta().title);
        seen.judged += 1;
        seen.matched += usize::from(got);
    }
    assert_eq!(
        EventFields::of(p.root()),
        EventFields::of(&full),
        "finding fields of {text}"
    );
    assert_eq!(
        p.root().field("eventTime").and_then(JsonView::text),
        full.field("eventTime").and_then(JsonView::text),
        "eventTime of {text}"
    );
}

/// The record as Python's `json.dumps` and Go's encoder write it: every
/// non-ASCII character, `/`, `&`, `<` and `>` as an escape.
fn escaped(compact: &str) -> String {
    let mut out = String::with_capacity(compact.len() * 2);
    for c in compact.chars() {
        match c {
            '/' => out.push_str("\\/"),
            '&' | '<' | '>' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if c.is_ascii() => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out
}

fn check_forms(set: &SigmaRuleSet, projection: &Projection, record: &Value, seen: &mut Seen) {
    let compact = serde_json::to_string(record).expect("serialise");
    check(set, projection, &compact, seen);
    let pretty = serde_json::to_string_pretty(record).expect("serialise");
    check(set, projection, &pretty, seen);
    check(set, projection, &escaped(&compact), seen);
}

#[test]
fn projection_judges_like_the_parsed_record_on_samples_and_fixtures() {
    let set = bundled_rules();
    let projection = Projection::new(set).expect("the bundled rules project");
    let mut files = files_under(&shared_data(), &[".json", ".json.gz", ".ndjson"]);
    files.push(fixtures_dir().join("generated.ndjson"));
    let mut seen = Seen::default();
    for file in files {
        for record in read_records(&file) {
            check_forms(set, &projection, &record, &mut seen);
        }
    }
    // Most records project, many rules are judged on projections, and some
    // of those match: the comparison above is not vacuous.
    assert!(seen.records > 3000, "{seen:?}");
    assert!(seen.projected * 10 > seen.records * 6, "{seen:?}");
    assert!(
        seen.matched > 100 && seen.judged > 10 * seen.matched,
        "{seen:?}"
    );
}

#[test]
fn projection_judges_like_the_parsed_record_on_hard_cases() {
    let set = bundled_rules();
    let projection = Projection::new(set).expect("the bundled rules project");
    let login = r#""eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","eventTime":"2024-01-01T00:00:00Z""#;
    let cases = [
        // A repeated key means its last value, for routing and rules alike.
        format!(r#"{{"eventName":"GetSecretValue",{login},"additionalEventData":{{"MFAUsed":"Yes","MFAUsed":"No"}}}}"#),
        format!(r#"{{{login},"eventName":"DeleteTrail","eventSource":"cloudtrail.amazonaws.com"}}"#),
        // Escaped values and keys.
        format!(r#"{{{login},"additionalEventData":{{"MFAUsed":"N\u006f"}},"userIdentity":{{"type":"Root","arn":"arn:aws:iam::1:root"}}}}"#),
        format!(r#"{{{login},"additionalEventData":{{"MFA\u0055sed":"No"}}}}"#),
        r#"{"event\u004eame":"ConsoleLogin","eventSource":"signin.amazonaws.com"}"#.to_string(),
        // Arrays on a path, and objects where a value is read whole.
        format!(r#"{{{login},"additionalEventData":[{{"MFAUsed":"No"}}]}}"#),
        r#"{"eventSource":"ecs.amazonaws.com","eventName":"RegisterTaskDefinition","requestParameters":{"containerDefinitions":[{"command":["curl 169.254.170.2"]}]}}"#.to_string(),
        r#"{"eventSource":"lambda.amazonaws.com","eventName":"UpdateFunctionConfiguration20150331v2","requestParameters":{"layers":["arn:aws:lambda:x:1:layer:evil:1"]}}"#.to_string(),
        r#"{"eventSource":"ec2.amazonaws.com","eventName":"ModifyInstanceAttribute","requestParameters":{"attribute":"userData","x":{"y":[1,2.5e3,{"z":null}]}}}"#.to_string(),
        // Numbers, booleans and nulls where rules compare text.
        r#"{"eventSource":"rds.amazonaws.com","eventName":"ModifyDBInstance","responseElements":{"publiclyAccessible":true,"pendingModifiedValues":{"masterUserPassword":"****"}}}"#.to_string(),
        r#"{"eventSource":"rds.amazonaws.com","eventName":"RestoreDBInstanceFromDBSnapshot","responseElements":{"publiclyAccessible":1.0}}"#.to_string(),
        r#"{"eventSource":"rds.amazonaws.com","eventName":"RestoreDBInstanceFromDBSnapshot","responseElements":{"publiclyAccessible":-0}}"#.to_string(),
        r#"{"eventSource":"guardduty.amazonaws.com","eventName":"CreateIPSet","errorCode":null,"status":18446744073709551615}"#.to_string(),
        // Routing fields of other types.
        r#"{"eventSource":7,"eventName":"ConsoleLogin"}"#.to_string(),
        r#"{"eventSource":{"a":1},"eventName":["ConsoleLogin"]}"#.to_string(),
        // Identities the principal rule reads in several ways.
        r#"{"eventSource":"sts.amazonaws.com","eventName":"AssumeRole","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/aws:ec2-instance/i-1","sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::1:role/r"}}},"sourceIPAddress":"10.0.0.1"}"#.to_string(),
        r#"{"eventSource":"s3.amazonaws.com","eventName":"GetObject","userIdentity":"weird"}"#.to_string(),
        r#"{"eventSource":"sso.amazonaws.com","eventName":"x","userIdentity":{"type":"IdentityCenterUser","onBehalfOf":{"identityStoreArn":"arn:s","userId":"u"}}}"#.to_string(),
        // Not a record the projection can read.
        "[1,2]".to_string(),
        "{}".to_string(),
    ];
    let mut seen = Seen::default();
    for text in &cases {
        check(set, &projection, text, &mut seen);
        if let Ok(value) = serde_json::from_str::<Value>(text) {
            check_forms(set, &projection, &value, &mut seen);
        }
    }
    assert!(seen.projected >= cases.len(), "{seen:?}");
    assert!(seen.matched >= 3, "{seen:?}");
}
