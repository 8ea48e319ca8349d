//! Matching semantics, one behaviour per test: modifiers, wildcards, conditions, case,
//! absent / null / empty, arrays, JSON types, and serde_json vs simd-json agreement.

use serde_json::{json, Value};

use super::super::{Document, FieldRef, SigmaRule};
use super::support::{bundled_rules, files_under, read_records, rule, shared_data};

/// Which of `records` the rule matches, by index.
fn hits(rule: &SigmaRule, records: &[Value]) -> Vec<usize> {
    (0..records.len())
        .filter(|i| rule.matches(&records[*i]))
        .collect()
}

fn one(detection_item: &str) -> SigmaRule {
    rule(&format!("  sel:\n    {detection_item}\n  condition: sel"))
}

#[test]
fn plain_equality_is_case_insensitive_and_whole_value() {
    let r = one("eventName: 'consolelogin'");
    let recs = [
        json!({"eventName": "ConsoleLogin"}),
        json!({"eventName": "CONSOLELOGIN"}),
        json!({"eventName": "ConsoleLogins"}),
    ];
    assert_eq!(hits(&r, &recs), [0, 1]);
}

#[test]
fn non_ascii_letters_fold_too() {
    let r = one("userName: 'ÄRGER'");
    assert_eq!(
        hits(
            &r,
            &[json!({"userName": "ärger"}), json!({"userName": "arger"})]
        ),
        [0]
    );
}

#[test]
fn contains_startswith_endswith() {
    let recs = [
        json!({"a": "xxABCxx"}),
        json!({"a": "ABCxx"}),
        json!({"a": "xxABC"}),
        json!({"a": "AB"}),
    ];
    assert_eq!(hits(&one("a|contains: abc"), &recs), [0, 1, 2]);
    assert_eq!(hits(&one("a|startswith: abc"), &recs), [1]);
    assert_eq!(hits(&one("a|endswith: abc"), &recs), [2]);
}

#[test]
fn contains_just_short_does_not_match() {
    let r = one("userAgent|contains: 'Jersey/${project.version}'");
    let recs = [
        json!({"userAgent": "Jersey/${project.version} x"}),
        json!({"userAgent": "Jersey/${project.versio}"}),
    ];
    assert_eq!(hits(&r, &recs), [0]);
}

#[test]
fn value_list_is_any_and_all_makes_it_every() {
    let recs = [
        json!({"a": "one two"}),
        json!({"a": "one"}),
        json!({"a": "three"}),
    ];
    assert_eq!(hits(&one("a|contains: [one, two]"), &recs), [0, 1]);
    assert_eq!(hits(&one("a|contains|all: [one, two]"), &recs), [0]);
}

#[test]
fn wildcards_and_escapes() {
    let recs = [
        json!({"a": "GetObject"}),
        json!({"a": "Getbject"}),
        json!({"a": "a*b"}),
        json!({"a": "axb"}),
        json!({"a": "a\\b"}),
    ];
    assert_eq!(hits(&one("a: 'get?bject'"), &recs), [0]);
    assert_eq!(hits(&one("a: 'g*t'"), &recs), [0, 1]);
    assert_eq!(hits(&one("a: 'a\\*b'"), &recs), [2]);
    assert_eq!(hits(&one("a: 'a*b'"), &recs), [2, 3, 4]);
    assert_eq!(hits(&one("a: 'a\\\\b'"), &recs), [4]);
    // A backslash before an ordinary character is itself.
    assert_eq!(hits(&one("a: 'a\\b'"), &recs), [4]);
    assert_eq!(
        hits(
            &one("a|contains: '*'"),
            &[json!({"a": ""}), json!({"b": 1})]
        ),
        [0]
    );
}

#[test]
fn re_is_case_sensitive_unless_i() {
    let recs = [json!({"a": "Boto3"}), json!({"a": "boto3"})];
    assert_eq!(hits(&one("a|re: '^Boto'"), &recs), [0]);
    assert_eq!(hits(&one("a|re|i: '^Boto'"), &recs), [0, 1]);
    // Unanchored search.
    assert_eq!(hits(&one("a|re: 'oto'"), &recs), [0, 1]);
}

#[test]
fn cased_makes_strings_case_sensitive() {
    let recs = [json!({"a": "Boto3"}), json!({"a": "boto3"})];
    assert_eq!(hits(&one("a|cased: Boto3"), &recs), [0]);
    assert_eq!(hits(&one("a|contains|cased: Bot"), &recs), [0]);
}

#[test]
fn cidr_matches_v4_and_v6_and_ignores_non_ips() {
    let recs = [
        json!({"ip": "10.1.2.3"}),
        json!({"ip": "11.0.0.1"}),
        json!({"ip": "AWS Internal"}),
        json!({"ip": "2001:db8::1"}),
    ];
    assert_eq!(hits(&one("ip|cidr: 10.0.0.0/8"), &recs), [0]);
    assert_eq!(
        hits(&one("ip|cidr: ['2001:db8::/32', '10.1.2.0/24']"), &recs),
        [0, 3]
    );
}

#[test]
fn exists_means_present_and_not_null() {
    let recs = [
        json!({"e": "X"}),
        json!({"e": ""}),
        json!({"e": null}),
        json!({}),
        json!({"e": []}),
        json!({"e": {}}),
    ];
    assert_eq!(hits(&one("e|exists: true"), &recs), [0, 1, 5]);
    assert_eq!(hits(&one("e|exists: false"), &recs), [2, 3, 4]);
}

#[test]
fn absent_null_and_empty_are_distinct_for_equality() {
    let recs = [
        json!({"e": "X"}),
        json!({"e": ""}),
        json!({"e": null}),
        json!({}),
    ];
    assert_eq!(hits(&one("e: null"), &recs), [2, 3]);
    assert_eq!(hits(&one("e: ''"), &recs), [1]);
    assert_eq!(hits(&one("e: X"), &recs), [0]);
    assert_eq!(hits(&one("e: [null, X]"), &recs), [0, 2, 3]);
    // Under `not`, absent and null fail the inner test, so the negation holds.
    let negated = rule("  sel:\n    e: X\n  condition: not sel");
    assert_eq!(hits(&negated, &recs), [1, 2, 3]);
}

#[test]
fn fieldref_compares_two_fields_case_insensitively() {
    let r = one("userIdentity.userName|fieldref: requestParameters.userName");
    let recs = [
        json!({"userIdentity": {"userName": "Alice"}, "requestParameters": {"userName": "alice"}}),
        json!({"userIdentity": {"userName": "alice"}, "requestParameters": {"userName": "bob"}}),
        json!({"userIdentity": {"userName": "alice"}}),
        json!({"userIdentity": {"userName": null}, "requestParameters": {"userName": null}}),
    ];
    assert_eq!(hits(&r, &recs), [0]);
    let contains = one("userIdentity.arn|fieldref|endswith: requestParameters.userName");
    let rec = json!({"userIdentity": {"arn": "arn:aws:iam::1:user/Alice"}, "requestParameters": {"userName": "alice"}});
    assert_eq!(hits(&contains, &[rec]), [0]);
}

#[test]
fn booleans_and_numbers_compare_as_json_text() {
    let recs = [
        json!({"v": false}),
        json!({"v": "false"}),
        json!({"v": true}),
        json!({"v": 0}),
    ];
    assert_eq!(hits(&one("v: 'false'"), &recs), [0, 1]);
    assert_eq!(hits(&one("v: false"), &recs), [0, 1]);
    let nums = [
        json!({"n": 42}),
        json!({"n": "42"}),
        json!({"n": 42.5}),
        json!({"n": 420}),
    ];
    assert_eq!(hits(&one("n: 42"), &nums), [0, 1]);
    assert_eq!(hits(&one("n: '42.5'"), &nums), [2]);
    assert_eq!(hits(&one("n|startswith: '42'"), &nums), [0, 1, 2, 3]);
}

#[test]
fn json_string_fields_are_matched_as_logged() {
    let policy = r#"{"Statement":[{"Effect":"Allow","Action":"s3:GetObject"}]}"#;
    let rec = json!({"requestParameters": {"policyDocument": policy}});
    assert_eq!(
        hits(
            &one("requestParameters.policyDocument|contains: '\"Effect\":\"Allow\"'"),
            std::slice::from_ref(&rec)
        ),
        [0]
    );
    // On the enclosing object the embedded quotes are escaped in the compact text.
    assert!(hits(
        &one("requestParameters|contains: '\"Effect\":\"Allow\"'"),
        std::slice::from_ref(&rec)
    )
    .is_empty());
    assert_eq!(
        hits(
            &one("requestParameters|contains: 'Effect\\\\\":\\\\\"Allow'"),
            &[rec]
        ),
        [0]
    );
}

#[test]
fn objects_match_by_compact_json_text() {
    let rec = json!({"requestParameters": {"bucketName": "b", "VersioningConfiguration": {"Status": "Suspended"}}});
    assert_eq!(
        hits(
            &one("requestParameters|contains: 'suspended'"),
            std::slice::from_ref(&rec)
        ),
        [0]
    );
    assert_eq!(
        hits(
            &one("requestParameters|contains: '\"Status\":\"Suspended\"'"),
            std::slice::from_ref(&rec)
        ),
        [0]
    );
    assert_eq!(
        hits(
            &one("requestParameters|startswith: '{\"bucketName\"'"),
            &[rec]
        ),
        [0]
    );
}

#[test]
fn paths_go_through_arrays_any_element() {
    let r = one("requestParameters.containerDefinitions.command|contains: '$AWS_CONTAINER'");
    let recs = [
        json!({"requestParameters": {"containerDefinitions": [{"command": ["sh", "x"]}, {"command": ["sh", "$AWS_CONTAINER_X"]}]}}),
        json!({"requestParameters": {"containerDefinitions": [{"command": ["sh", "$AWS_CONTAINE"]}]}}),
        json!({"requestParameters": {"containerDefinitions": {"command": "$AWS_CONTAINER"}}}),
        json!({"requestParameters": {"containerDefinitions": []}}),
    ];
    assert_eq!(hits(&r, &recs), [0, 2]);
    let eq = one("tags: prod");
    assert_eq!(
        hits(
            &eq,
            &[
                json!({"tags": ["dev", "PROD"]}),
                json!({"tags": [["prod"]]}),
                json!({"tags": []})
            ]
        ),
        [0, 1]
    );
    // Under `not`, "any element" turns into "no element".
    let negated = rule("  sel:\n    tags: prod\n  condition: not sel");
    assert_eq!(
        hits(
            &negated,
            &[json!({"tags": ["dev", "prod"]}), json!({"tags": ["dev"]})]
        ),
        [1]
    );
}

#[test]
fn condition_forms() {
    let sels =
        "  sel_a:\n    a: 1\n  sel_b:\n    b: 1\n  filter_x:\n    x: 1\n  _hidden:\n    h: 1\n";
    let recs = [
        json!({"a": 1}),
        json!({"a": 1, "b": 1}),
        json!({"a": 1, "x": 1}),
        json!({"b": 1}),
        json!({"h": 1}),
        json!({}),
    ];
    let with = |condition: &str| hits(&rule(&format!("{sels}  condition: {condition}")), &recs);
    assert_eq!(with("sel_a and sel_b"), [1]);
    assert_eq!(with("sel_a or sel_b"), [0, 1, 2, 3]);
    assert_eq!(with("not sel_a"), [3, 4, 5]);
    assert_eq!(with("sel_a and not filter_x"), [0, 1]);
    assert_eq!(with("1 of sel_*"), [0, 1, 2, 3]);
    assert_eq!(with("all of sel_*"), [1]);
    assert_eq!(with("1 of sel_* and not 1 of filter*"), [0, 1, 3]);
    assert_eq!(with("1 of them"), [0, 1, 2, 3]);
    assert_eq!(with("all of them"), Vec::<usize>::new());
    assert_eq!(with("not (sel_a or sel_b)"), [4, 5]);
    assert_eq!(
        with("(sel_a or sel_b) and not (filter_x or _hidden)"),
        [0, 1, 3]
    );
    // Precedence: not > and > or.
    assert_eq!(with("sel_b or sel_a and filter_x"), [1, 2, 3]);
    assert_eq!(with("not sel_a and sel_b"), [3]);
    assert_eq!(with("_hidden"), [4]);
}

#[test]
fn condition_list_is_or() {
    let r = rule("  a_sel:\n    a: 1\n  b_sel:\n    b: 1\n  condition:\n    - a_sel\n    - b_sel");
    assert_eq!(
        hits(&r, &[json!({"a": 1}), json!({"b": 1}), json!({})]),
        [0, 1]
    );
}

#[test]
fn list_of_maps_is_or_of_ands() {
    let r = rule("  sel:\n    - a: 1\n      b: 1\n    - c: 1\n  condition: sel");
    assert_eq!(
        hits(
            &r,
            &[json!({"a": 1}), json!({"a": 1, "b": 1}), json!({"c": 1})]
        ),
        [1, 2]
    );
}

#[test]
fn field_access_trait_distinguishes_kinds() {
    let v = json!({"a": {"b": null, "c": [1], "d": "s", "e": true, "f": 1.5}});
    assert!(matches!(v.field(&["a", "b"]), FieldRef::Null));
    assert!(matches!(v.field(&["a", "x"]), FieldRef::Absent));
    assert!(matches!(v.field(&["a", "c"]), FieldRef::Array(items) if items.len() == 1));
    assert!(matches!(v.field(&["a", "d"]), FieldRef::String("s")));
    assert!(matches!(v.field(&["a", "e"]), FieldRef::Bool(true)));
    assert!(matches!(v.field(&["a"]), FieldRef::Object(_)));
    match v.field(&["a", "f"]) {
        FieldRef::Number(n) => assert_eq!(n.text(), "1.5"),
        other => panic!("{other:?}"),
    }
}

/// Every public record, evaluated by every bundled rule, gives the same answer on
/// serde_json values and simd-json borrowed values, and the same compact object text.
#[test]
fn serde_json_and_simd_json_agree_on_public_samples() {
    let set = bundled_rules();
    let mut compared = 0;
    for file in files_under(&shared_data(), &[".json", ".json.gz", ".ndjson"]) {
        for record in read_records(&file) {
            let mut bytes = serde_json::to_vec(&record).unwrap();
            let simd = simd_json::to_borrowed_value(&mut bytes).unwrap();
            for rule in set.rules() {
                assert_eq!(
                    rule.matches(&record),
                    rule.matches(&simd),
                    "{} on {}",
                    rule.meta().id,
                    file.display()
                );
            }
            assert_eq!(
                super::super::compact_json(&record),
                super::super::compact_json(&simd)
            );
            assert_eq!(
                super::super::compact_json(&record),
                serde_json::to_string(&record).unwrap()
            );
            compared += 1;
        }
    }
    assert_eq!(compared, 310 + 185 + 103);
}
