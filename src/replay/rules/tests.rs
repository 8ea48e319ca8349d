//! Rule pack tests: the CIS pack's patterns, the user-rules format, and the
//! fast path judged against the JSON tree.

use super::set::{project_structural, Projection};
use super::*;
use crate::replay::alarm::{Comparison, Statistic, TreatMissing};
use crate::replay::pattern::LogEvent;
use proptest::prelude::*;

fn serde_projection(raw: &[u8], keys: &[String]) -> Option<serde_json::Value> {
    let mut de = serde_json::Deserializer::from_slice(raw);
    let v = serde::Deserializer::deserialize_map(&mut de, Projection(keys)).ok()?;
    de.end().ok()?;
    Some(v)
}

#[test]
fn structural_projection_equals_serde_projection() {
    let set = RuleSet::new(cis_rules()).unwrap();
    let keys = set.projection.clone().unwrap();
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/traps/records.json"),
    )
    .unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut records: Vec<String> = doc["Records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| serde_json::to_string_pretty(r).unwrap())
        .collect();
    records
        .push(r#" {"eventName" : "A", "userIdentity":{"type":"Root"}, "x":[1,{"y":"}"}]} "#.into());
    records.push(r#"{"eventName":"A","eventName":"B"}"#.into());
    records.push(r#"{"event\u004eame":"ConsoleLogin"}"#.into());
    assert!(records.len() > 10);
    for r in &records {
        let fast = project_structural(r.as_bytes(), &keys);
        assert!(fast.is_some(), "{r}");
        assert_eq!(fast, serde_projection(r.as_bytes(), &keys), "{r}");
    }
    // Malformed wanted members are left to serde.
    for r in [
        r#"{"eventName":tru}"#,
        r#"{"eventName":"A"} x"#,
        r#"["eventName"]"#,
    ] {
        assert_eq!(project_structural(r.as_bytes(), &keys), None, "{r}");
    }
}

/// (rule id, a record it must match, a record of another kind it must not).
const CASES: &[(&str, &str, &str)] = &[
    (
        "cis-4.1",
        r#"{"errorCode":"AccessDenied","eventName":"HeadBucket","sourceIPAddress":"delivery.logs.amazonaws.com"}"#,
        r#"{"eventName":"HeadBucket","sourceIPAddress":"delivery.logs.amazonaws.com"}"#,
    ),
    (
        "cis-4.1-intended",
        r#"{"errorCode":"AccessDenied","eventName":"GetObject","sourceIPAddress":"1.2.3.4"}"#,
        r#"{"eventName":"DescribeInstances","sourceIPAddress":"1.2.3.4"}"#,
    ),
    (
        "cis-4.2",
        r#"{"eventName":"ConsoleLogin","additionalEventData":{"MFAUsed":"No"}}"#,
        r#"{"eventName":"ConsoleLogin","additionalEventData":{"MFAUsed":"Yes"}}"#,
    ),
    (
        "cis-4.3",
        r#"{"userIdentity":{"type":"Root"},"eventType":"AwsApiCall"}"#,
        r#"{"userIdentity":{"type":"Root","invokedBy":"support.amazonaws.com"},"eventType":"AwsApiCall"}"#,
    ),
    (
        "cis-4.4",
        r#"{"eventName":"PutRolePolicy"}"#,
        r#"{"eventName":"GetRolePolicy"}"#,
    ),
    (
        "cis-4.5",
        r#"{"eventName":"StopLogging"}"#,
        r#"{"eventName":"LookupEvents"}"#,
    ),
    (
        "cis-4.6",
        r#"{"eventName":"ConsoleLogin","errorMessage":"Failed authentication"}"#,
        r#"{"eventName":"ConsoleLogin"}"#,
    ),
    (
        "cis-4.7",
        r#"{"eventSource":"kms.amazonaws.com","eventName":"ScheduleKeyDeletion"}"#,
        r#"{"eventSource":"kms.amazonaws.com","eventName":"Decrypt"}"#,
    ),
    (
        "cis-4.8",
        r#"{"eventSource":"s3.amazonaws.com","eventName":"PutBucketPolicy"}"#,
        r#"{"eventSource":"s3.amazonaws.com","eventName":"GetBucketPolicy"}"#,
    ),
    (
        "cis-4.9",
        r#"{"eventSource":"config.amazonaws.com","eventName":"StopConfigurationRecorder"}"#,
        r#"{"eventSource":"config.amazonaws.com","eventName":"DescribeConfigurationRecorders"}"#,
    ),
    (
        "cis-4.10",
        r#"{"eventName":"AuthorizeSecurityGroupIngress"}"#,
        r#"{"eventName":"DescribeSecurityGroups"}"#,
    ),
    (
        "cis-4.11",
        r#"{"eventName":"CreateNetworkAclEntry"}"#,
        r#"{"eventName":"DescribeNetworkAcls"}"#,
    ),
    (
        "cis-4.12",
        r#"{"eventName":"AttachInternetGateway"}"#,
        r#"{"eventName":"DescribeInternetGateways"}"#,
    ),
    (
        "cis-4.13",
        r#"{"eventName":"CreateRoute"}"#,
        r#"{"eventName":"DescribeRouteTables"}"#,
    ),
    (
        "cis-4.14",
        r#"{"eventName":"CreateVpc"}"#,
        r#"{"eventName":"DescribeVpcs"}"#,
    ),
    (
        "cis-4.15",
        r#"{"eventSource":"organizations.amazonaws.com","eventName":"CreateAccount"}"#,
        r#"{"eventSource":"organizations.amazonaws.com","eventName":"ListAccounts"}"#,
    ),
];

fn matches(p: &str, msg: &str) -> bool {
    Pattern::parse(p)
        .expect("CIS pattern parses")
        .matches(&LogEvent { message: msg })
}

#[test]
fn cis_pack_has_15_rules_and_4_1_as_intended_with_cis_alarm_shape() {
    let rules = cis_rules();
    assert_eq!(rules.len(), 16);
    let noted: Vec<&str> = rules
        .iter()
        .filter(|r| r.note.is_some())
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(noted, ["cis-4.1"]);
    for r in &rules {
        assert_eq!(
            (&r.metric_value, r.default_value),
            (&RuleValue::Number(1.0), None)
        );
        assert_eq!(r.alarm.statistic, Statistic::Sum);
        assert_eq!(
            (
                r.alarm.period_secs,
                r.alarm.evaluation_periods,
                r.alarm.threshold
            ),
            (300, 1, 1.0)
        );
        assert_eq!(r.alarm.validate(), Ok(()));
    }
}

#[test]
fn each_cis_pattern_matches_its_record_and_not_another_kind() {
    let rules = cis_rules();
    assert_eq!(CASES.len(), rules.len());
    for (r, (id, yes, no)) in rules.iter().zip(CASES) {
        assert_eq!(&r.id, id);
        assert!(matches(&r.pattern, yes), "{id} should match {yes}");
        assert!(!matches(&r.pattern, no), "{id} should not match {no}");
    }
}

#[test]
fn section_5_cloudtrail_vectors() {
    let p = |id: &str| {
        cis_rules()
            .into_iter()
            .find(|r| r.id == id)
            .expect("rule")
            .pattern
    };
    assert!(matches(
        &p("cis-4.1"),
        r#"{"eventName":"DescribeInstances","sourceIPAddress":"1.2.3.4"}"#
    ));
    // As intended, the exclusions apply to denied calls, and nothing else counts.
    for (record, counted) in [
        (
            r#"{"errorCode":"AccessDenied","eventName":"HeadBucket","sourceIPAddress":"1.2.3.4"}"#,
            false,
        ),
        (
            r#"{"errorCode":"AccessDenied","eventName":"GetObject","sourceIPAddress":"delivery.logs.amazonaws.com"}"#,
            false,
        ),
        (
            r#"{"errorCode":"Client.UnauthorizedOperation","eventName":"RunInstances","sourceIPAddress":"1.2.3.4"}"#,
            true,
        ),
        (
            r#"{"eventName":"DescribeInstances","sourceIPAddress":"1.2.3.4"}"#,
            false,
        ),
    ] {
        assert_eq!(matches(&p("cis-4.1-intended"), record), counted, "{record}");
    }
    assert!(!matches(
        &p("cis-4.3"),
        r#"{"userIdentity":{"type":"Root"},"eventType":"AwsServiceEvent"}"#
    ));
    let v5 = "{ ($.errorCode =*UnauthorizedOperation) || ($.errorCode =AccessDenied*) && ($.sourceIPAddress!=delivery.logs.amazonaws.com) && ($.eventName!=HeadBucket) }";
    assert!(!matches(
        v5,
        r#"{"errorCode":"AccessDenied","eventName":"HeadBucket","sourceIPAddress":"1.2.3.4"}"#
    ));
    assert!(matches(
        v5,
        r#"{"errorCode":"Client.UnauthorizedOperation","eventName":"HeadBucket"}"#
    ));
    let audit = "{($.eventSource = ec2.amazonaws.com) && ($.eventName = CreateRoute) || ($.eventName = CreateRouteTable)}";
    assert!(matches(
        audit,
        r#"{"eventSource":"other","eventName":"CreateRouteTable"}"#
    ));
    let sm1 = r#"{ $.eventName = "GetSecretValue" && $.errorMessage = "*secret because it was marked for deletion*" }"#;
    assert!(matches(
        sm1,
        r#"{"eventName":"GetSecretValue","errorMessage":"You can't perform this operation on the secret because it was marked for deletion."}"#
    ));
}

#[test]
fn rule_set_agrees_with_individual_patterns_and_prefilters() {
    let set = RuleSet::new(cis_rules()).expect("compiles");
    for (i, (_, yes, no)) in CASES.iter().enumerate() {
        let got: Vec<usize> = set.matching_rules(yes.as_bytes()).iter().collect();
        assert!(got.contains(&i), "rule {i} on {yes}: {got:?}");
        for raw in [*yes, *no] {
            let want: Vec<usize> = set
                .patterns
                .iter()
                .enumerate()
                .filter(|(_, p)| p.matches(&LogEvent { message: raw }))
                .map(|(j, _)| j)
                .collect();
            assert_eq!(
                set.matching_rules(raw.as_bytes())
                    .iter()
                    .collect::<Vec<_>>(),
                want
            );
            assert_eq!(
                set.matching_rules_event(&LogEvent { message: raw })
                    .iter()
                    .collect::<Vec<_>>(),
                want
            );
        }
    }
    // Only 4.1 (bug) fires on an unrelated read; the prefilter rejects all others.
    let read = br#"{"eventName": "GetObject", "eventSource": "s3.amazonaws.com"}"#;
    assert_eq!(set.matching_rules(read).iter().collect::<Vec<_>>(), vec![0]);
    let skipped = set
        .patterns
        .iter()
        .filter(|p| !p.prefilter().may_match(read))
        .count();
    assert_eq!(skipped, 15); // all but the unconstrained 4.1 (as intended, it needs an error code)
}

#[test]
fn user_rules_take_an_optional_note() {
    let text = r#"[{"name":"a","pattern":"{ $.x = 1 }","note":"counts retries too"},
                   {"name":"b","pattern":"{ $.x = 2 }"}]"#;
    let notes: Vec<Option<String>> = parse_rules_json(text)
        .expect("valid")
        .into_iter()
        .map(|r| r.note)
        .collect();
    assert_eq!(notes, [Some("counts retries too".to_string()), None]);
}

#[test]
fn user_rules_json() {
    let text = r#"{"rules":[{"name":"secret-reads","pattern":"{ $.eventName = GetSecretValue }","metric_value":1,"default_value":0,
        "alarm":{"statistic":"Average","period":60,"evaluation_periods":3,"datapoints_to_alarm":2,"threshold":0.5,
                 "comparison":"GreaterThanThreshold","treat_missing_data":"notBreaching"}}]}"#;
    let rules = parse_rules_json(text).expect("valid");
    assert_eq!(rules.len(), 1);
    let r = &rules[0];
    assert_eq!(
        (r.id.as_str(), &r.metric_value, r.default_value),
        ("secret-reads", &RuleValue::Number(1.0), Some(0.0))
    );
    assert_eq!(r.alarm.statistic, Statistic::Average);
    assert_eq!(
        (r.alarm.period_secs, r.alarm.evaluation_periods, r.alarm.m()),
        (60, 3, 2)
    );
    assert_eq!(r.alarm.comparison, Comparison::GreaterThanThreshold);
    assert_eq!(r.alarm.treat_missing_data, TreatMissing::NotBreaching);
    let bare = parse_rules_json(r#"[{"name":"a","pattern":"ERROR"}]"#).expect("valid");
    assert_eq!(bare[0].alarm.statistic, Statistic::Sum);
    assert!(matches!(
        parse_rules_json(r#"[{"name":"a","pattern":"{ $.x }"}]"#),
        Err(RulesError::Pattern { .. })
    ));
    assert!(matches!(
        parse_rules_json(r#"[{"name":"a","pattern":"x","alarm":{"period":7}}]"#),
        Err(RulesError::Alarm { .. })
    ));
    assert!(matches!(
        parse_rules_json(r#"[{"name":"a","pattern":"x"},{"name":"a","pattern":"y"}]"#),
        Err(RulesError::Duplicate(_))
    ));
    assert!(matches!(
        parse_rules_json(r#"[{"name":"a","pattern":"x","bogus":1}]"#),
        Err(RulesError::Json(_))
    ));
}

#[test]
fn rules_file_metric_value_may_be_a_field_the_pattern_selects() {
    let rules = parse_rules_json(
        r#"[{"name":"big","pattern":"{ $.bytes > 0 }","metric_value":"$.bytes"}]"#,
    )
    .unwrap();
    assert_eq!(rules[0].metric_value.to_string(), "$.bytes");
    assert_eq!(rules[0].transform().metric_value, MetricValue::Field);
    let set = RuleSet::new(rules).unwrap();
    let raw = br#"{"bytes": 12.5, "other": [1, 2]}"#;
    let matched = set.matching_rules(raw);
    assert_eq!(
        set.field_values(&set.event(raw), &matched).as_deref(),
        Some(&[(0, 12.5)][..])
    );
    assert!(matches!(
        parse_rules_json(r#"[{"name":"a","pattern":"{ $.x = 1 }","metric_value":"$.y"}]"#),
        Err(RulesError::MetricValue { .. })
    ));
}

#[test]
fn one_scan_candidates_equal_per_rule_prefilters() {
    let set = RuleSet::new(cis_rules()).unwrap();
    for (_, yes, no) in CASES {
        let escaped = [
            "{\"eventName\":\"Create\\u0050olicy\"}",
            r#"{"eventName":"CreatePolicy","userAgent":"caf\u00e9","errorCode":"\u0041"}"#,
            r#"{"event\u004eame":"x","userIdentity":{"type":"R\u006fot"}}"#,
        ];
        for raw in [yes, no].into_iter().chain(escaped.iter()) {
            let want: Vec<usize> = (0..set.rules().len())
                .filter(|&i| set.patterns[i].prefilter().may_match(raw.as_bytes()))
                .collect();
            let got: Vec<usize> = set.candidates(raw.as_bytes()).iter().collect();
            assert_eq!(got, want, "{raw}");
        }
    }
}

/// The CIS pack plus rules on numbers, booleans, nulls and a field
/// metricValue: every rule compiles to read raw bytes.
fn compiled_rule_pack() -> RuleSet {
    let extra = parse_rules_json(
        r#"[{"name":"bytes","pattern":"{ $.bytes >= 10 && $.readOnly IS FALSE }","metric_value":"$.bytes"},
            {"name":"nulls","pattern":"{ $.errorCode IS NULL || $.userIdentity.type NOT EXISTS }"},
            {"name":"texts","pattern":"{ $.bytes = 12 || $.eventName = \"*Key\" || $.readOnly != true }"}]"#,
    )
    .expect("valid");
    let set = RuleSet::new(cis_rules().into_iter().chain(extra).collect()).expect("compiles");
    assert!(set.is_compiled());
    set
}

/// The verdict on `raw` as a scan meets it: split from a log file that
/// holds only it, with the tape the split made.
fn judge_as_split(set: &RuleSet, raw: &str, time_always: bool) -> Verdict {
    let file = format!("{{\"Records\":[{raw}]}}");
    let mut tape = crate::read::structural::Tape::new(set.tape_depth().unwrap());
    let mut verdicts = Vec::new();
    crate::read::format::split_records_indexed(file.as_bytes(), Some(&mut tape), |rec, tape| {
        let crate::read::format::RecordText::Range(a, b) = rec else {
            unreachable!("a Records array holds ranges")
        };
        verdicts.push(set.judge(&file.as_bytes()[a..b], tape, time_always));
    })
    .unwrap_or_else(|e| panic!("{raw}: {e}"));
    assert_eq!(verdicts.len(), 1, "{raw}");
    verdicts.remove(0)
}

fn member() -> impl Strategy<Value = String> {
    let scalar = prop_oneof![
        Just("\"ConsoleLogin\"".to_string()),
        Just("\"Console\\u004cogin\"".to_string()),
        Just("\"DisableKey\"".to_string()),
        Just("\"kms.amazonaws.com\"".to_string()),
        Just("\"Root\"".to_string()),
        Just("\"Yes\"".to_string()),
        Just("\"AccessDenied\"".to_string()),
        Just("\"Failed authentication\"".to_string()),
        Just("\"delivery.logs.amazonaws.com\"".to_string()),
        Just("\"HeadBucket\"".to_string()),
        Just("\"AwsServiceEvent\"".to_string()),
        Just("\"2026-01-02T03:04:05Z\"".to_string()),
        Just("\" 12 \"".to_string()),
        Just("null".to_string()),
        Just("true".to_string()),
        Just("false".to_string()),
        Just("12".to_string()),
        Just("1.5e1".to_string()),
        Just("[\"Root\"]".to_string()),
    ];
    let key = prop_oneof![
        Just("eventName"),
        Just("eventSource"),
        Just("errorCode"),
        Just("errorMessage"),
        Just("sourceIPAddress"),
        Just("eventType"),
        Just("eventTime"),
        Just("bytes"),
        Just("readOnly"),
        Just("type"),
        Just("invokedBy"),
        Just("MFAUsed"),
        Just("requestParameters"),
    ];
    let nested_key = prop_oneof![Just("userIdentity"), Just("additionalEventData")];
    let pair = (key.clone(), scalar.clone()).prop_map(|(k, v)| format!("\"{k}\":{v}"));
    let inner =
        proptest::collection::vec(pair.clone(), 0..4).prop_map(|m| format!("{{{}}}", m.join(",")));
    prop_oneof![
        3 => pair,
        1 => (nested_key, inner).prop_map(|(k, v)| format!("\"{k}\":{v}")),
    ]
}

proptest::proptest! {
    #[test]
    fn compiled_rules_judge_every_record_like_the_json_tree(
        members in proptest::collection::vec(member(), 0..12),
        spaced in any::<bool>(),
    ) {
        let set = compiled_rule_pack();
        let raw = if spaced {
            format!("{{ {} }}\n", members.join(" ,\n\t").replace("\":", "\" : "))
        } else {
            format!("{{{}}}", members.join(","))
        };
        let all = RuleMatches::all(set.rules().len());
        let want = set.judge_tree(raw.as_bytes(), &all);
        proptest::prop_assert_eq!(&set.judge(raw.as_bytes(), None, true), &want, "{}", raw);
        // The same record as the scan hands it over: split from a file,
        // with the tape the split made.
        proptest::prop_assert_eq!(judge_as_split(&set, &raw, true), want, "{}", raw);
    }
}

#[test]
fn compiled_rules_read_a_repeated_key_as_its_last_value() {
    let set = compiled_rule_pack();
    let root = set.rules().iter().position(|r| r.id == "cis-4.3").unwrap();
    let judge = |members: &str| {
        let raw = format!(r#"{{"eventType":"AwsApiCall",{members}}}"#);
        set.judge(raw.as_bytes(), None, false).rules.contains(root)
    };
    assert!(judge(
        r#""userIdentity":{"type":"IAMUser"},"userIdentity":{"type":"Root"}"#
    ));
    assert!(!judge(
        r#""userIdentity":{"type":"Root"},"userIdentity":{"type":"IAMUser"}"#
    ));
    assert!(!judge(
        r#""userIdentity":{"type":"Root"},"userIdentity":"Root""#
    ));
    assert!(!judge(
        r#""userIdentity":{"type":"Root","type":"AWSService"}"#
    ));
}

/// Records the tape cannot read exactly (an escaped key, a bad value,
/// a broken member) are judged by the JSON tree, whether the tape came
/// from the split or was made for the record alone.
#[test]
fn records_the_tape_cannot_read_are_judged_like_the_json_tree() {
    let set = compiled_rule_pack();
    let trail = set.rules().iter().position(|r| r.id == "cis-4.5").unwrap();
    let all = RuleMatches::all(set.rules().len());
    let cases = [
        // The key spells eventName with an escape: the tree reads it.
        (r#"{"event\u004eame":"StopLogging"}"#, true),
        // The same, but a later plain key wins.
        (
            r#"{"event\u004eame":"StopLogging","eventName":"GetObject"}"#,
            false,
        ),
        // An escaped value decodes to the name.
        (r#"{"eventName":"Stop\u004cogging"}"#, true),
        // Not JSON: a member without a colon, a value with two strings.
        (r#"{"eventName" "StopLogging"}"#, false),
        (r#"{"eventName":"StopLogging" "x"}"#, false),
        // Whitespace everywhere is still JSON.
        ("{ \"eventName\" :\n\t\"StopLogging\" }", true),
    ];
    for (raw, want) in cases {
        let tree = set.judge_tree(raw.as_bytes(), &all);
        assert_eq!(tree.rules.contains(trail), want, "{raw}");
        assert_eq!(
            set.judge(raw.as_bytes(), None, false).rules,
            tree.rules,
            "{raw}"
        );
        assert_eq!(judge_as_split(&set, raw, false).rules, tree.rules, "{raw}");
    }
}

/// Every CIS rule but 4.1 (both forms) names the event, source or identity
/// type it needs, so most records are judged on two rules only.
#[test]
fn cis_rules_are_gated_by_the_strings_they_need() {
    let set = RuleSet::new(cis_rules()).unwrap();
    let gated = set.gated_rules();
    assert_eq!(gated.len(), 14, "{gated:?}");
    assert!(!gated.contains(&"cis-4.1") && !gated.contains(&"cis-4.1-intended"));
    // A gate only turns rules away: 4.3 still matches on the identity type.
    let root =
        r#"{"userIdentity":{"type":"Root"},"eventName":"GetObject","eventType":"AwsApiCall"}"#;
    let all = RuleMatches::all(set.rules().len());
    let v = set.judge(root.as_bytes(), None, false);
    assert_eq!(v.rules, set.judge_tree(root.as_bytes(), &all).rules);
    let ids: Vec<&str> = v.rules.iter().map(|i| set.rules()[i].id.as_str()).collect();
    assert_eq!(ids, ["cis-4.1", "cis-4.3"]);
}
