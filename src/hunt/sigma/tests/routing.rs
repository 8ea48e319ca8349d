//! Routing soundness: whenever a rule matches a record, the rule is among the candidates
//! for that record's `eventSource` / `eventName`.

use proptest::prelude::*;
use serde_json::{json, Map, Value};

use super::super::{visit_values, FieldRef, RuleIndex, SigmaRule, SigmaRuleSet};
use super::support::{bundled_rules, files_under, fixtures_dir, read_records, shared_data};

fn routing_value<'a>(record: &'a Value, field: &str) -> Option<&'a str> {
    match super::super::Document::field(record, &[field]) {
        FieldRef::String(s) => Some(s),
        _ => None,
    }
}

/// Every pin of a matching rule holds on the record (pinned values are lowercase).
fn assert_pins_hold(rule: &SigmaRule, record: &Value) {
    for (path, values) in &rule.route().pins {
        let segments: Vec<String> = path.split('.').map(str::to_owned).collect();
        let mut seen = Vec::new();
        let pinned = visit_values(record, &segments, &mut |found| {
            let text = match found {
                FieldRef::String(s) => s.to_lowercase(),
                FieldRef::Bool(b) => b.to_string(),
                FieldRef::Number(n) => n.text(),
                _ => return false,
            };
            seen.push(text.clone());
            values.contains(&text)
        });
        assert!(pinned, "{} matched with {path} = {seen:?}", rule.meta().id);
    }
}

/// Asserts soundness for one record and returns whether any rule matched.
fn assert_sound(set: &SigmaRuleSet, record: &Value) -> bool {
    let source = routing_value(record, "eventSource");
    let name = routing_value(record, "eventName");
    let candidates: Vec<RuleIndex> = set.candidates(source, name).collect();
    let mut sorted = candidates.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), candidates.len(), "a candidate appears twice");
    let mut any = false;
    for (i, rule) in set.rules().iter().enumerate() {
        if rule.matches(record) {
            any = true;
            assert_pins_hold(rule, record);
            assert!(
                candidates.contains(&RuleIndex(i)),
                "{} matches but is not routed: {record}",
                rule.meta().id
            );
        }
    }
    any
}

#[test]
fn routing_is_sound_on_public_samples_and_fixtures() {
    let set = bundled_rules();
    let mut files = files_under(&shared_data(), &[".json", ".json.gz", ".ndjson"]);
    files.push(fixtures_dir().join("generated.ndjson"));
    let (mut records, mut matched) = (0, 0);
    for file in files {
        for record in read_records(&file) {
            records += 1;
            matched += usize::from(assert_sound(set, &record));
        }
    }
    assert!(
        records > 1000 && matched > 100,
        "{records} records, {matched} matched"
    );
}

/// `(eventSource, eventName)` pairs worth drawing: for each rule, every pair its route
/// allows (in original and upper case), plus unrelated and absent values.
fn vocabulary(set: &SigmaRuleSet) -> Vec<(Option<String>, Option<String>)> {
    let other_source = || {
        vec![
            "ec2.amazonaws.com".to_string(),
            "route53domains.amazonaws.com".into(),
        ]
    };
    let other_name = || {
        vec![
            "DescribeInstances".to_string(),
            "UpdateFunctionConfiguration20150331v2".into(),
        ]
    };
    let mut pairs = vec![(None, None), (None, Some("ListBuckets".to_string()))];
    for rule in set.rules() {
        let route = rule.route();
        let sources = route.event_sources.clone().unwrap_or_else(other_source);
        let names = route.event_names.clone().unwrap_or_else(other_name);
        for source in &sources {
            for name in &names {
                pairs.push((Some(source.clone()), Some(name.clone())));
                pairs.push((Some(source.to_uppercase()), Some(name.to_uppercase())));
                pairs.push((Some(source.clone()), None));
            }
        }
    }
    pairs.sort();
    pairs.dedup();
    pairs
}

fn record_strategy(pairs: Vec<(Option<String>, Option<String>)>) -> impl Strategy<Value = Value> {
    let user_types = vec!["Root", "AssumedRole", "IAMUser", "root"];
    let error_codes = vec!["Success", "AccessDenied", ""];
    let agents = vec![
        "TruffleHog",
        "S3 Browser 11",
        "aws-cli",
        "Jersey/${project.version}",
    ];
    (
        prop::sample::select(pairs),
        prop::option::of(prop::sample::select(user_types)),
        prop::option::of(prop::option::of(prop::sample::select(error_codes))),
        prop::option::of(prop::sample::select(agents)),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |((source, name), user_type, error, agent, service_event, assumed)| {
                let mut record = Map::new();
                if let Some(s) = source {
                    record.insert("eventSource".into(), json!(s));
                }
                if let Some(n) = name {
                    record.insert("eventName".into(), json!(n));
                }
                let arn = if assumed {
                    "arn:aws:sts::1:assumed-role/aws:ec2-instance/i-1"
                } else {
                    "arn:aws:iam::1:user/alice"
                };
                let mut identity =
                    json!({"arn": arn, "sessionContext": {"sessionIssuer": {"type": "Role"}}});
                if let Some(t) = user_type {
                    identity["type"] = json!(t);
                }
                record.insert("userIdentity".into(), identity);
                match error {
                    Some(Some(code)) => record.insert("errorCode".into(), json!(code)),
                    Some(None) => record.insert("errorCode".into(), Value::Null),
                    None => None,
                };
                if let Some(a) = agent {
                    record.insert("userAgent".into(), json!(a));
                }
                let event_type = if service_event {
                    "AwsServiceEvent"
                } else {
                    "AwsApiCall"
                };
                record.insert("eventType".into(), json!(event_type));
                record.insert(
                    "requestParameters".into(),
                    json!({"enable": false, "attribute": "userData", "layers": ["x"]}),
                );
                record.insert(
                    "responseElements".into(),
                    json!({"ConsoleLogin": "Success", "publiclyAccessible": true}),
                );
                record.insert("additionalEventData".into(), json!({"MFAUsed": "NO"}));
                Value::Object(record)
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn routing_is_sound_on_generated_records(record in {
        let set = bundled_rules();
        record_strategy(vocabulary(set))
    }) {
        let set = bundled_rules();
        assert_sound(set, &record);
    }
}

/// The generated records do exercise matches (so the property above is not vacuous).
#[test]
fn generated_records_often_match_some_rule() {
    use proptest::strategy::ValueTree;
    let set = bundled_rules();
    let strategy = record_strategy(vocabulary(set));
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let cases = 2000;
    let (mut matched, mut matched_by_name) = (0, 0);
    for _ in 0..cases {
        let record = strategy.new_tree(&mut runner).expect("record").current();
        matched += usize::from(assert_sound(set, &record));
        let routed_by_name = |r: &SigmaRule| r.route().event_names.is_some() && r.matches(&record);
        matched_by_name += usize::from(set.rules().iter().any(routed_by_name));
    }
    eprintln!("of {cases} generated records, {matched} match a rule, {matched_by_name} a rule routed by eventName");
    assert!(
        matched > cases / 4 && matched_by_name > cases / 10,
        "{matched}, {matched_by_name} of {cases}"
    );
}
