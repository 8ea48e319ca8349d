//! Tamper rules on hand-written records.

use std::collections::BTreeSet;

use serde_json::json;

use crate::verify::tamper::*;

fn record(source: &str, name: &str, params: serde_json::Value) -> serde_json::Value {
    json!({
        "eventTime": "2026-01-02T03:04:05Z",
        "eventSource": source,
        "eventName": name,
        "awsRegion": "us-east-1",
        "recipientAccountId": "111122223333",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/mallory"},
        "requestParameters": params,
    })
}

const CT: &str = "cloudtrail.amazonaws.com";

#[test]
fn stop_logging_is_critical_and_fields_are_filled() {
    let f = tamper_finding(&record(CT, "StopLogging", json!({"name": "main"}))).unwrap();
    let expected = TamperFinding {
        event_time: "2026-01-02T03:04:05Z".into(),
        event_name: "StopLogging".into(),
        principal: "arn:aws:iam::111122223333:user/mallory".into(),
        account: "111122223333".into(),
        region: "us-east-1".into(),
        detail: "logging stopped for trail main".into(),
        severity: Severity::Critical,
        attempt: false,
    };
    assert_eq!(f, expected);
}

#[test]
fn failed_call_is_a_lower_severity_attempt() {
    let mut r = record(CT, "DeleteTrail", json!({"name": "main"}));
    r["errorCode"] = json!("AccessDenied");
    let f = tamper_finding(&r).unwrap();
    assert_eq!((f.severity, f.attempt), (Severity::High, true));
    assert_eq!(
        f.detail,
        "attempt failed (AccessDenied): trail main deleted"
    );
}

#[test]
fn update_trail_disabling_validation_is_critical() {
    let r = record(
        CT,
        "UpdateTrail",
        json!({"name": "main", "enableLogFileValidation": false, "isMultiRegionTrail": false}),
    );
    let f = tamper_finding(&r).unwrap();
    assert_eq!(f.severity, Severity::Critical);
    assert_eq!(
        f.detail,
        "trail main updated: log file validation disabled, made single-region"
    );
}

#[test]
fn event_selectors_narrowing_is_high() {
    let narrow = json!({"trailName": "main", "eventSelectors": [
        {"readWriteType": "WriteOnly", "includeManagementEvents": true, "excludeManagementEventSources": ["kms.amazonaws.com"]}]});
    let f = tamper_finding(&record(CT, "PutEventSelectors", narrow)).unwrap();
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.detail, "event selectors narrow logging on trail main: readWriteType WriteOnly, kms.amazonaws.com excluded");
    let full = json!({"trailName": "main", "eventSelectors": [{"readWriteType": "All", "includeManagementEvents": true}]});
    let f = tamper_finding(&record(CT, "PutEventSelectors", full)).unwrap();
    assert_eq!(
        (f.severity, f.detail.as_str()),
        (Severity::Medium, "event selectors changed on trail main")
    );
    let data_only = json!({"trailName": "main", "advancedEventSelectors": [{"fieldSelectors": [
        {"field": "eventCategory", "equals": ["Data"]}, {"field": "resources.type", "equals": ["AWS::S3::Object"]}]}]});
    let f = tamper_finding(&record(CT, "PutEventSelectors", data_only)).unwrap();
    assert_eq!(
        f.detail,
        "event selectors narrow logging on trail main: management events excluded"
    );
}

#[test]
fn insight_selectors_and_lake() {
    let f = tamper_finding(&record(
        CT,
        "PutInsightSelectors",
        json!({"trailName": "main", "insightSelectors": []}),
    ))
    .unwrap();
    assert_eq!(
        (f.severity, f.detail.as_str()),
        (Severity::Medium, "Insights disabled on trail main")
    );
    let f = tamper_finding(&record(
        CT,
        "DeleteEventDataStore",
        json!({"eventDataStore": "eds1"}),
    ))
    .unwrap();
    assert_eq!(
        (f.severity, f.detail.as_str()),
        (
            Severity::High,
            "DeleteEventDataStore on event data store eds1"
        )
    );
}

#[test]
fn bucket_rules_respect_the_trail_bucket_scope() {
    let r = record(
        "s3.amazonaws.com",
        "DeleteBucketPolicy",
        json!({"bucketName": "logs"}),
    );
    assert_eq!(tamper_finding(&r).unwrap().severity, Severity::Medium);
    let scope = TamperScope {
        trail_buckets: Some(BTreeSet::from(["logs".to_string()])),
    };
    let f = tamper_finding_in(&r, &scope).unwrap();
    assert_eq!(
        (f.severity, f.detail.as_str()),
        (Severity::High, "bucket logs: policy deleted")
    );
    let other = record(
        "s3.amazonaws.com",
        "PutBucketLifecycle",
        json!({"bucketName": "web"}),
    );
    assert_eq!(tamper_finding_in(&other, &scope), None);
    assert_eq!(
        tamper_finding(&other).unwrap().detail,
        "bucket web: lifecycle rules set"
    );
}

#[test]
fn kms_and_unrelated_events() {
    let r = record(
        "kms.amazonaws.com",
        "ScheduleKeyDeletion",
        json!({"keyId": "k1", "pendingWindowInDays": 7}),
    );
    let f = tamper_finding(&r).unwrap();
    assert_eq!(
        (f.severity, f.detail.as_str()),
        (
            Severity::High,
            "KMS key k1 scheduled for deletion in 7 days"
        )
    );
    assert_eq!(
        tamper_finding(&record("kms.amazonaws.com", "Decrypt", json!({}))),
        None
    );
    assert_eq!(
        tamper_finding(&record("iam.amazonaws.com", "StopLogging", json!({}))),
        None
    );
    assert_eq!(tamper_finding(&json!({"eventName": 5})), None);
}
