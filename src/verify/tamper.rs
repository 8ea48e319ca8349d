//! Recognises CloudTrail records of calls that blind or weaken the audit
//! trail: stopping or deleting trails, narrowing what they record, opening
//! or expiring their buckets, disabling their KMS keys, deleting Lake stores.
//!
//! Rules (each needs the matching `eventSource`):
//! * cloudtrail `StopLogging`, `DeleteTrail`: critical.
//! * cloudtrail `UpdateTrail`: high; critical when it sets
//!   `enableLogFileValidation: false`; notes other narrowing flags
//!   (`isMultiRegionTrail`/`includeGlobalServiceEvents` false, new bucket).
//! * cloudtrail `PutEventSelectors`: high when it narrows logging, else
//!   medium. Narrowing = a basic selector with `readWriteType` other than
//!   `All`, `includeManagementEvents: false`, or non-empty
//!   `excludeManagementEventSources`; advanced selectors where no selector
//!   keeps `eventCategory = Management`, or any selector filters on
//!   `readOnly` or excludes an `eventSource`; an empty selector list.
//! * cloudtrail `PutInsightSelectors`: medium when it empties the list, else low.
//! * cloudtrail `DeleteEventDataStore`, `StopEventDataStoreIngestion`: high.
//! * s3 `PutBucketPolicy`, `DeleteBucketPolicy`, `PutBucketLifecycle`,
//!   `PutBucketLifecycleConfiguration`, `DeleteBucketLifecycle`: high on a
//!   known trail bucket, medium when no bucket list is given; ignored on
//!   other buckets when a list is given.
//! * kms `DisableKey`, `ScheduleKeyDeletion`: high.
//!
//! A call with `errorCode` is reported as a failed attempt, one severity lower.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::Value;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth a look.
    Low,
    /// Weakens the trail or its storage.
    Medium,
    /// Narrows or endangers logging.
    High,
    /// Logging stopped or the trail is gone.
    Critical,
}

impl Severity {
    fn lower(self) -> Self {
        match self {
            Severity::Critical => Severity::High,
            Severity::High => Severity::Medium,
            Severity::Medium | Severity::Low => Severity::Low,
        }
    }
}

/// One tampering-related call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TamperFinding {
    /// `eventTime` as written.
    pub event_time: String,
    /// `eventName`.
    pub event_name: String,
    /// Who: `userIdentity.arn`, else `principalId`, else `invokedBy`, else `type`.
    pub principal: String,
    /// `recipientAccountId`, else `userIdentity.accountId`.
    pub account: String,
    /// `awsRegion`.
    pub region: String,
    /// What it did, in words.
    pub detail: String,
    /// How bad.
    pub severity: Severity,
    /// The call failed (`errorCode` present): an attempt only.
    pub attempt: bool,
}

/// Limits bucket rules to buckets known to hold trail logs.
#[derive(Debug, Clone, Default)]
pub struct TamperScope {
    /// Trail bucket names; `None` = consider every bucket.
    pub trail_buckets: Option<BTreeSet<String>>,
}

/// [`tamper_finding_in`] with no bucket limit.
pub fn tamper_finding(record: &Value) -> Option<TamperFinding> {
    tamper_finding_in(record, &TamperScope::default())
}

/// Recognises a tampering-related record (see the module docs for the rules).
pub fn tamper_finding_in(record: &Value, scope: &TamperScope) -> Option<TamperFinding> {
    let source = text(record, &["eventSource"])?;
    let name = text(record, &["eventName"])?;
    let params = record.get("requestParameters").unwrap_or(&Value::Null);
    let (severity, detail) = match source {
        "cloudtrail.amazonaws.com" => cloudtrail_rule(name, params)?,
        "s3.amazonaws.com" => s3_rule(name, params, scope)?,
        "kms.amazonaws.com" => kms_rule(name, params)?,
        _ => return None,
    };
    let error = text(record, &["errorCode"]);
    let (severity, detail) = match error {
        Some(code) => (
            severity.lower(),
            format!("attempt failed ({code}): {detail}"),
        ),
        None => (severity, detail),
    };
    Some(TamperFinding {
        event_time: text(record, &["eventTime"]).unwrap_or_default().to_string(),
        event_name: name.to_string(),
        principal: principal(record),
        account: text(record, &["recipientAccountId"])
            .or_else(|| text(record, &["userIdentity", "accountId"]))
            .unwrap_or_default()
            .to_string(),
        region: text(record, &["awsRegion"]).unwrap_or_default().to_string(),
        detail,
        severity,
        attempt: error.is_some(),
    })
}

fn text<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |v, k| v.get(k))?.as_str()
}

fn principal(record: &Value) -> String {
    ["arn", "principalId", "invokedBy", "type"]
        .iter()
        .find_map(|k| text(record, &["userIdentity", k]))
        .unwrap_or("unknown")
        .to_string()
}

fn trail_name(params: &Value) -> &str {
    text(params, &["name"])
        .or_else(|| text(params, &["trailName"]))
        .unwrap_or("?")
}

fn cloudtrail_rule(name: &str, params: &Value) -> Option<(Severity, String)> {
    let trail = trail_name(params);
    Some(match name {
        "StopLogging" => (
            Severity::Critical,
            format!("logging stopped for trail {trail}"),
        ),
        "DeleteTrail" => (Severity::Critical, format!("trail {trail} deleted")),
        "UpdateTrail" => update_trail(trail, params),
        "PutEventSelectors" => event_selectors(trail, params),
        "PutInsightSelectors" => {
            let empty = params
                .get("insightSelectors")
                .and_then(Value::as_array)
                .is_some_and(Vec::is_empty);
            if empty {
                (
                    Severity::Medium,
                    format!("Insights disabled on trail {trail}"),
                )
            } else {
                (
                    Severity::Low,
                    format!("Insights selectors changed on trail {trail}"),
                )
            }
        }
        "DeleteEventDataStore" | "StopEventDataStoreIngestion" => {
            let store = text(params, &["eventDataStore"]).unwrap_or("?");
            (
                Severity::High,
                format!("{name} on event data store {store}"),
            )
        }
        _ => return None,
    })
}

fn update_trail(trail: &str, params: &Value) -> (Severity, String) {
    let is_false = |k: &str| params.get(k).and_then(Value::as_bool) == Some(false);
    let mut notes = Vec::new();
    if is_false("enableLogFileValidation") {
        notes.push("log file validation disabled".to_string());
    }
    if is_false("isMultiRegionTrail") {
        notes.push("made single-region".to_string());
    }
    if is_false("includeGlobalServiceEvents") {
        notes.push("global service events excluded".to_string());
    }
    if let Some(bucket) = text(params, &["s3BucketName"]) {
        notes.push(format!("logs redirected to bucket {bucket}"));
    }
    let severity = if is_false("enableLogFileValidation") {
        Severity::Critical
    } else {
        Severity::High
    };
    let what = if notes.is_empty() {
        "changed".to_string()
    } else {
        notes.join(", ")
    };
    (severity, format!("trail {trail} updated: {what}"))
}

fn event_selectors(trail: &str, params: &Value) -> (Severity, String) {
    let notes = narrowing_notes(params);
    if notes.is_empty() {
        let detail = format!("event selectors changed on trail {trail}");
        (Severity::Medium, detail)
    } else {
        let detail = format!(
            "event selectors narrow logging on trail {trail}: {}",
            notes.join(", ")
        );
        (Severity::High, detail)
    }
}

/// Why a `PutEventSelectors` call narrows logging (empty if it does not seem to).
fn narrowing_notes(params: &Value) -> Vec<String> {
    let mut notes = Vec::new();
    let basic = params.get("eventSelectors").and_then(Value::as_array);
    let advanced = params
        .get("advancedEventSelectors")
        .and_then(Value::as_array);
    for sel in basic.into_iter().flatten() {
        if let Some(rw) = text(sel, &["readWriteType"]).filter(|rw| *rw != "All") {
            notes.push(format!("readWriteType {rw}"));
        }
        if sel.get("includeManagementEvents").and_then(Value::as_bool) == Some(false) {
            notes.push("management events excluded".to_string());
        }
        let excluded = sel
            .get("excludeManagementEventSources")
            .and_then(Value::as_array);
        for src in excluded.into_iter().flatten().filter_map(Value::as_str) {
            notes.push(format!("{src} excluded"));
        }
    }
    if let Some(adv) = advanced {
        advanced_notes(adv, &mut notes);
    }
    let total = basic.map_or(0, Vec::len) + advanced.map_or(0, Vec::len);
    if total == 0 {
        notes.push("no selectors: nothing is logged".to_string());
    }
    notes.dedup();
    notes
}

fn advanced_notes(selectors: &[Value], notes: &mut Vec<String>) {
    let mut management = false;
    for sel in selectors {
        let fields = sel.get("fieldSelectors").and_then(Value::as_array);
        for f in fields.into_iter().flatten() {
            let field = text(f, &["field"]).unwrap_or_default();
            let equals: Vec<&str> = f
                .get("equals")
                .and_then(Value::as_array)
                .map(|v| v.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            if field == "eventCategory" && equals.contains(&"Management") {
                management = true;
            }
            if field == "readOnly" {
                notes.push(format!("readOnly limited to {}", equals.join("/")));
            }
            if field == "eventSource" && f.get("notEquals").is_some() {
                notes.push("event sources excluded".to_string());
            }
        }
    }
    if !management && !selectors.is_empty() {
        notes.push("management events excluded".to_string());
    }
}

fn s3_rule(name: &str, params: &Value, scope: &TamperScope) -> Option<(Severity, String)> {
    let what = match name {
        "PutBucketPolicy" => "policy replaced",
        "DeleteBucketPolicy" => "policy deleted",
        "PutBucketLifecycle" | "PutBucketLifecycleConfiguration" => "lifecycle rules set",
        "DeleteBucketLifecycle" => "lifecycle rules deleted",
        _ => return None,
    };
    let bucket = text(params, &["bucketName"]).unwrap_or("?");
    let severity = match &scope.trail_buckets {
        Some(known) if known.contains(bucket) => Severity::High,
        Some(_) => return None,
        None => Severity::Medium,
    };
    Some((severity, format!("bucket {bucket}: {what}")))
}

fn kms_rule(name: &str, params: &Value) -> Option<(Severity, String)> {
    let key = text(params, &["keyId"]).unwrap_or("?");
    match name {
        "DisableKey" => Some((Severity::High, format!("KMS key {key} disabled"))),
        "ScheduleKeyDeletion" => {
            let days = params
                .get("pendingWindowInDays")
                .and_then(Value::as_i64)
                .map_or(String::new(), |d| format!(" in {d} days"));
            Some((
                Severity::High,
                format!("KMS key {key} scheduled for deletion{days}"),
            ))
        }
        _ => None,
    }
}
