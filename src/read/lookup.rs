//! CloudTrail LookupEvents attributes (`EventName`, `Username`, …) as filters
//! over raw records: a cheap byte check for the scan's hot loop and an exact
//! check on the parsed record.
//!
//! Matching is exact and case-sensitive, like LookupEvents. Two attributes
//! are derived, as the CloudTrail console's event history derives them:
//! * `Username`: `userIdentity.userName` when present; otherwise the part of
//!   `userIdentity.arn` after its last `/` (the role session name for assumed
//!   roles, the user name for federated users), or after its last `:` when it
//!   has no `/` (`root` for the root user).
//! * `ResourceName`: any `resources[].ARN`, or any string value directly
//!   under `requestParameters` whose key ends in `Name`, `Id`, `Arn` or `ARN`
//!   (`bucketName`, `secretId`, `roleName`, `policyArn`, …), or any string in
//!   an array under such a key.
//!
//! This module does no I/O.

use serde_json::Value;

use crate::read::escape::escapes_touch_keys;
use crate::read::record::JsonView;

/// The lookup attributes a command filters on; `None` = any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LookupFilters {
    pub event_name: Option<String>,
    pub event_source: Option<String>,
    pub username: Option<String>,
    pub access_key_id: Option<String>,
    pub resource_name: Option<String>,
    pub read_only: Option<bool>,
    pub event_id: Option<String>,
}

impl LookupFilters {
    fn texts(&self) -> impl Iterator<Item = &str> {
        [
            &self.event_name,
            &self.event_source,
            &self.username,
            &self.access_key_id,
            &self.resource_name,
            &self.event_id,
        ]
        .into_iter()
        .filter_map(|v| v.as_deref())
    }

    /// False only if the record cannot match: a required value is absent
    /// from its bytes. A record passes when an escape lies in a value an
    /// attribute reads (or in a key that decodes to one), since escapes can
    /// spell a value differently; escapes elsewhere change nothing.
    pub fn may_match(&self, raw: &[u8]) -> bool {
        let mut texts = self.texts().peekable();
        if texts.peek().is_none() || self.escapes_may_matter(raw) {
            return true;
        }
        texts.all(|t| memchr::memmem::find(raw, t.as_bytes()).is_some())
    }

    /// Whether a backslash of `raw` lies in a string the set attributes
    /// read. `ResourceName` reads keys by suffix and arrays, so with it any
    /// backslash counts.
    fn escapes_may_matter(&self, raw: &[u8]) -> bool {
        if memchr::memchr(b'\\', raw).is_none() {
            return false;
        }
        if self.resource_name.is_some() {
            return true;
        }
        let read = [
            (&self.event_name, "eventName"),
            (&self.event_source, "eventSource"),
            (&self.event_id, "eventID"),
            (&self.access_key_id, "accessKeyId"),
            (&self.username, "userName"),
            (&self.username, "arn"),
        ];
        let mut keys = [""; 6];
        let mut n = 0;
        for (_, key) in read.iter().filter(|(v, _)| v.is_some()) {
            keys[n] = key;
            n += 1;
        }
        let escapes = memchr::memchr_iter(b'\\', raw);
        escapes_touch_keys(raw, escapes, &keys[..n])
    }

    /// The exact check on the parsed record.
    pub fn matches(&self, rec: &Value) -> bool {
        let eq = |want: &Option<String>, got: Option<&str>| {
            want.as_deref().is_none_or(|w| got == Some(w))
        };
        let s = |k: &str| rec.get(k).and_then(Value::as_str);
        eq(&self.event_name, s("eventName"))
            && eq(&self.event_source, s("eventSource"))
            && eq(&self.event_id, s("eventID"))
            && eq(
                &self.access_key_id,
                rec.pointer("/userIdentity/accessKeyId")
                    .and_then(Value::as_str),
            )
            && eq(&self.username, username(rec).as_deref())
            && self.read_only.is_none_or(|w| read_only(rec) == Some(w))
            && self
                .resource_name
                .as_deref()
                .is_none_or(|w| resource_names(rec).any(|n| n == w))
    }

    /// Whether no attribute is set.
    pub fn is_empty(&self) -> bool {
        self.texts().next().is_none() && self.read_only.is_none()
    }
}

/// The `Username` attribute (see the module docs).
pub fn username(rec: &Value) -> Option<String> {
    let id = rec.get("userIdentity")?;
    if let Some(u) = id.get("userName").and_then(Value::as_str) {
        return Some(u.to_string());
    }
    let arn = id.get("arn").and_then(Value::as_str)?;
    let tail = match arn.rfind('/') {
        Some(i) => &arn[i + 1..],
        None => arn.rsplit(':').next().unwrap_or(arn),
    };
    (!tail.is_empty()).then(|| tail.to_string())
}

/// `readOnly` as a boolean: CloudTrail writes `true`, exporters `"true"` or
/// `"True"`; one rule for all, [`JsonView::boolish`].
pub fn read_only(rec: &Value) -> Option<bool> {
    rec.get("readOnly").and_then(JsonView::boolish)
}

/// Every `ResourceName` candidate of a record (see the module docs).
pub fn resource_names(rec: &Value) -> impl Iterator<Item = &str> {
    let arns = rec
        .get("resources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| r.get("ARN").and_then(Value::as_str));
    let params = rec
        .get("requestParameters")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter(|(k, _)| is_name_key(k))
        .flat_map(|(_, v)| match v {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        });
    arns.chain(params)
}

fn is_name_key(k: &str) -> bool {
    ["Name", "Id", "Arn", "ARN"].iter().any(|s| k.ends_with(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn username_prefers_user_name_then_arn_tail() {
        let r = json!({"userIdentity": {"type": "IAMUser", "userName": "alice", "arn": "arn:aws:iam::1:user/x/alice"}});
        assert_eq!(username(&r).as_deref(), Some("alice"));
        let r = json!({"userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::1:assumed-role/Admin/bob-session"}});
        assert_eq!(username(&r).as_deref(), Some("bob-session"));
        let r = json!({"userIdentity": {"type": "Root", "arn": "arn:aws:iam::1:root"}});
        assert_eq!(username(&r).as_deref(), Some("root"));
        assert_eq!(username(&json!({})), None);
    }

    #[test]
    fn filters_match_exactly_and_prefilter_is_sound() {
        let text = r#"{"eventName":"GetSecretValue","eventSource":"secretsmanager.amazonaws.com","readOnly":true,
            "userIdentity":{"accessKeyId":"AKIA1","arn":"arn:aws:sts::1:assumed-role/R/s1"},
            "requestParameters":{"secretId":"prod/db"},"resources":[{"ARN":"arn:aws:kms:k"}],"eventID":"e1"}"#;
        let rec: Value = serde_json::from_str(text).unwrap();
        let f = LookupFilters {
            event_name: Some("GetSecretValue".into()),
            username: Some("s1".into()),
            resource_name: Some("prod/db".into()),
            access_key_id: Some("AKIA1".into()),
            read_only: Some(true),
            event_id: Some("e1".into()),
            ..Default::default()
        };
        assert!(f.may_match(text.as_bytes()) && f.matches(&rec));
        let f2 = LookupFilters {
            resource_name: Some("arn:aws:kms:k".into()),
            ..Default::default()
        };
        assert!(f2.matches(&rec));
        let f3 = LookupFilters {
            event_name: Some("GetSecret".into()),
            ..Default::default()
        };
        assert!(f3.may_match(text.as_bytes()) && !f3.matches(&rec));
        let f4 = LookupFilters {
            read_only: Some(false),
            ..Default::default()
        };
        assert!(!f4.matches(&rec));
        assert!(!LookupFilters {
            event_name: Some("PutSecretValue".into()),
            ..Default::default()
        }
        .may_match(text.as_bytes()));
    }

    #[test]
    fn only_escapes_in_read_values_let_a_record_through() {
        let name = |n: &str| LookupFilters {
            event_name: Some(n.into()),
            ..Default::default()
        };
        let user = LookupFilters {
            username: Some("jos\u{e9}".into()),
            ..Default::default()
        };
        let elsewhere = br#"{"eventName":"ListSecrets","userAgent":"caf\u00e9 \u0026"}"#;
        assert!(!name("GetSecretValue").may_match(elsewhere));
        let hidden = br#"{"eventName":"GetSecret\u0056alue","userAgent":"x"}"#;
        assert!(name("GetSecretValue").may_match(hidden));
        let hidden_key = br#"{"event\u004eame":"GetSecretValue"}"#;
        assert!(name("GetSecretValue").may_match(hidden_key));
        let arn = br#"{"userIdentity":{"arn":"arn:aws:sts::1:assumed-role\/R\/jos\u00e9"}}"#;
        assert!(user.may_match(arn));
        assert!(!user.may_match(elsewhere));
        let resource = LookupFilters {
            resource_name: Some("x".into()),
            ..Default::default()
        };
        assert!(resource.may_match(elsewhere));
    }
}
