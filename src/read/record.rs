//! One CloudTrail record: the event selection and the normalisation rules of
//! `cloudtrail-format.md` (principal, secret, time).
//!
//! The rules are written once, over the small [`JsonView`] trait, so the fast
//! path (simd-json borrowed values) and the oracle (serde_json values) cannot
//! drift apart. This module does no I/O and no splitting.

use jiff::Timestamp;

use crate::window::parse_event_time;

/// Read access to a parsed JSON value, whatever parser built it.
pub trait JsonView {
    /// The member `key` of an object; `None` for a missing key or a non-object.
    fn field(&self, key: &str) -> Option<&Self>;
    /// The value as a string, when it is one.
    fn text(&self) -> Option<&str>;
    /// The value as a boolean: a JSON boolean or the strings `"true"`/`"false"`
    /// in any case, as exporters write them.
    fn boolish(&self) -> Option<bool>;
    /// The value re-serialised as compact JSON (for lists and filters).
    fn to_json(&self) -> String;
    /// Whether it is JSON `null`.
    fn is_null(&self) -> bool;
}

impl JsonView for serde_json::Value {
    fn field(&self, key: &str) -> Option<&Self> {
        self.as_object()?.get(key)
    }
    fn text(&self) -> Option<&str> {
        self.as_str()
    }
    fn boolish(&self) -> Option<bool> {
        match self {
            serde_json::Value::Bool(b) => Some(*b),
            serde_json::Value::String(s) => parse_bool_text(s),
            _ => None,
        }
    }
    fn to_json(&self) -> String {
        self.to_string()
    }
    fn is_null(&self) -> bool {
        self.is_null()
    }
}

impl JsonView for simd_json::BorrowedValue<'_> {
    /// A repeated key means its last value, as with serde_json. simd-json
    /// keeps every copy in objects of up to 32 keys (a vector, where `get`
    /// would find the first) and dedupes larger ones keeping the last.
    fn field(&self, key: &str) -> Option<&Self> {
        use simd_json::prelude::*;
        let obj = self.as_object()?;
        if obj.is_vec() {
            obj.iter().filter(|(k, _)| *k == key).last().map(|(_, v)| v)
        } else {
            obj.get(key)
        }
    }
    fn text(&self) -> Option<&str> {
        use simd_json::prelude::*;
        self.as_str()
    }
    fn boolish(&self) -> Option<bool> {
        use simd_json::prelude::*;
        self.as_bool()
            .or_else(|| self.as_str().and_then(parse_bool_text))
    }
    fn to_json(&self) -> String {
        use simd_json::prelude::Writable;
        self.encode()
    }
    fn is_null(&self) -> bool {
        matches!(
            self,
            simd_json::BorrowedValue::Static(simd_json::StaticNode::Null)
        )
    }
}

/// A boolean that an exporter wrote as text: `true`, `True`, `TRUE`, …
pub(crate) fn parse_bool_text(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// Secrets Manager's service name, as it appears in `eventSource`.
pub const SECRETS_MANAGER: &str = "secretsmanager.amazonaws.com";

/// Which events count as secret access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Every record.
    All,
    /// Records whose (source, name) matches one entry; a `None` source matches any.
    Events(Vec<EventSpec>),
}

/// One `--event` entry: `Name` or `source:Name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventSpec {
    pub source: Option<String>,
    pub name: String,
}

impl EventSpec {
    /// Parses `Name`, `source:Name`, or `source.amazonaws.com:Name`.
    pub fn parse(s: &str) -> Result<EventSpec, String> {
        let (source, name) = match s.rsplit_once(':') {
            Some((src, name)) => {
                let src = if src.contains('.') {
                    src.to_string()
                } else {
                    format!("{src}.amazonaws.com")
                };
                (Some(src), name)
            }
            None => (None, s),
        };
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(format!(
                "invalid event name {s:?}: expected Name or source:Name"
            ));
        }
        Ok(EventSpec {
            source,
            name: name.to_string(),
        })
    }
}

impl Default for Selection {
    /// Secrets Manager's secret reads: `GetSecretValue` and `BatchGetSecretValue`.
    fn default() -> Self {
        let spec = |name: &str| EventSpec {
            source: Some(SECRETS_MANAGER.to_string()),
            name: name.to_string(),
        };
        Selection::Events(vec![spec("GetSecretValue"), spec("BatchGetSecretValue")])
    }
}

impl Selection {
    /// Whether a record with this source and name is selected.
    pub fn selects(&self, source: Option<&str>, name: Option<&str>) -> bool {
        match self {
            Selection::All => true,
            Selection::Events(specs) => specs.iter().any(|s| {
                name == Some(s.name.as_str())
                    && s.source.as_deref().is_none_or(|want| source == Some(want))
            }),
        }
    }

    /// Byte strings of which a selected record must contain at least one,
    /// unless it holds a `\u` escape (see [`crate::read::filter`]). `None` = no prefilter.
    pub fn literals(&self) -> Option<Vec<Vec<u8>>> {
        match self {
            Selection::All => None,
            Selection::Events(specs) => {
                let mut lits: Vec<Vec<u8>> = specs
                    .iter()
                    .map(|s| format!("{}\"", s.name).into_bytes())
                    .collect();
                lits.sort();
                lits.dedup();
                Some(lits)
            }
        }
    }
}

/// A selected record, normalised; strings borrow from the parsed value.
#[derive(Debug, Clone, PartialEq)]
pub struct Event<'a> {
    pub event_time: Option<Timestamp>,
    /// `eventTime` as written, to tell a missing time from an unreadable one.
    pub event_time_text: Option<&'a str>,
    pub event_source: Option<&'a str>,
    pub event_name: Option<&'a str>,
    pub principal: String,
    pub principal_type: &'a str,
    pub session_arn: Option<&'a str>,
    pub access_key_id: Option<&'a str>,
    pub account_id: Option<&'a str>,
    pub region: Option<&'a str>,
    pub source_ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub secret: Option<String>,
    pub error_code: Option<&'a str>,
    pub event_id: Option<&'a str>,
    pub request_id: Option<&'a str>,
    pub read_only: Option<bool>,
    /// A batch call's `secretIdList` or `filters`, as compact JSON.
    pub batch_request: Option<String>,
}

/// Normalises a record if the selection picks it; `None` otherwise.
pub fn select_event<'a, V: JsonView>(rec: &'a V, selection: &Selection) -> Option<Event<'a>> {
    let s = |k: &str| rec.field(k).and_then(JsonView::text);
    let (source, name) = (s("eventSource"), s("eventName"));
    if !selection.selects(source, name) {
        return None;
    }
    let identity = rec.field("userIdentity");
    let id_str = |k: &str| identity.and_then(|u| u.field(k)).and_then(JsonView::text);
    let params = rec.field("requestParameters");
    Some(Event {
        event_time: s("eventTime").and_then(parse_event_time),
        event_time_text: s("eventTime"),
        event_source: source,
        event_name: name,
        principal: principal(identity),
        principal_type: id_str("type").unwrap_or("unknown"),
        session_arn: id_str("arn"),
        access_key_id: id_str("accessKeyId"),
        account_id: s("recipientAccountId").or_else(|| id_str("accountId")),
        region: s("awsRegion"),
        source_ip: s("sourceIPAddress"),
        user_agent: s("userAgent"),
        secret: secret_of(rec),
        error_code: s("errorCode"),
        event_id: s("eventID"),
        request_id: s("requestID"),
        read_only: rec.field("readOnly").and_then(JsonView::boolish),
        batch_request: params.and_then(|p| {
            p.field("secretIdList")
                .or_else(|| p.field("filters"))
                .filter(|v| !v.is_null())
                .map(JsonView::to_json)
        }),
    })
}

/// The principal of an anonymous call, as AWS itself names it.
pub const ANONYMOUS_PRINCIPAL: &str = "ANONYMOUS_PRINCIPAL";

/// The principal key of `cloudtrail-format.md`: one stable, non-empty string
/// per identity. Empty strings count as absent. An anonymous call (no ARN
/// and an empty `principalId`, or `accountId` spelled `ANONYMOUS_PRINCIPAL`)
/// is [`ANONYMOUS_PRINCIPAL`]; a record with no identity at all is `unknown`.
pub fn principal<V: JsonView>(identity: Option<&V>) -> String {
    let Some(id) = identity else {
        return "unknown".to_string();
    };
    let get = |path: &[&str]| text_at(id, path);
    if let Some(found) = typed_principal(id) {
        return found;
    }
    let anonymous = get(&["accountId"]) == Some(ANONYMOUS_PRINCIPAL)
        || (get(&["arn"]).is_none()
            && id.field("principalId").and_then(JsonView::text) == Some(""));
    get(&["arn"])
        .or_else(|| get(&["principalId"]))
        .or_else(|| anonymous.then_some(ANONYMOUS_PRINCIPAL))
        .or_else(|| get(&["accountId"]))
        .unwrap_or("unknown")
        .to_string()
}

/// The non-empty string at `path` below `id`; an empty one counts as absent.
fn text_at<'v, V: JsonView>(id: &'v V, path: &[&str]) -> Option<&'v str> {
    path.iter()
        .try_fold(id, |v, k| v.field(k))
        .and_then(JsonView::text)
        .filter(|s| !s.is_empty())
}

/// The principal the identity's `type` names it by, when that field is there.
fn typed_principal<V: JsonView>(id: &V) -> Option<String> {
    let get = |path: &[&str]| text_at(id, path);
    let issuer = || get(&["sessionContext", "sessionIssuer", "arn"]);
    let found = match get(&["type"]) {
        Some("AssumedRole") | Some("FederatedUser") => issuer(),
        Some("IAMUser") | Some("Root") => get(&["arn"]),
        Some("AWSService") => get(&["invokedBy"]),
        Some("IdentityCenterUser") => {
            let store = get(&["onBehalfOf", "identityStoreArn"]);
            let user = get(&["onBehalfOf", "userId"]);
            return store.zip(user).map(|(s, u)| format!("{s}/user/{u}"));
        }
        None => get(&["invokedBy"]),
        Some(_) => None,
    };
    found.map(str::to_string)
}

/// The canonical secret name named by a record, if any.
pub fn secret_of<V: JsonView>(rec: &V) -> Option<String> {
    let id = rec
        .field("requestParameters")
        .and_then(|p| p.field("secretId"))
        .and_then(JsonView::text)
        .or_else(|| {
            rec.field("additionalEventData")
                .and_then(|a| a.field("SecretId"))
                .and_then(JsonView::text)
        })?;
    Some(canonical_secret(id))
}

/// Reduces a secret id (name, partial ARN or full ARN) to the secret's name.
/// The random `-XXXXXX` suffix is stripped only from an ARN, since a plain
/// name may legitimately end that way.
pub fn canonical_secret(id: &str) -> String {
    let Some((_, name)) = id
        .strip_prefix("arn:")
        .and_then(|rest| rest.split_once(":secret:"))
    else {
        return id.to_string();
    };
    let b = name.as_bytes();
    let has_suffix = b.len() > 7
        && b[b.len() - 7] == b'-'
        && b[b.len() - 6..].iter().all(u8::is_ascii_alphanumeric);
    if has_suffix {
        name[..name.len() - 7].to_string()
    } else {
        name.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn principal_rules_follow_the_table() {
        let cases = [
            (
                json!({"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/web/i-1","sessionContext":{"sessionIssuer":{"arn":"arn:aws:iam::1:role/web"}}}),
                "arn:aws:iam::1:role/web",
            ),
            (
                json!({"type":"IAMUser","arn":"arn:aws:iam::1:user/bob"}),
                "arn:aws:iam::1:user/bob",
            ),
            (
                json!({"type":"Root","arn":"arn:aws:iam::1:root"}),
                "arn:aws:iam::1:root",
            ),
            (
                json!({"type":"FederatedUser","arn":"arn:aws:sts::1:federated-user/x"}),
                "arn:aws:sts::1:federated-user/x",
            ),
            (
                json!({"type":"AWSService","invokedBy":"lambda.amazonaws.com"}),
                "lambda.amazonaws.com",
            ),
            (
                json!({"type":"IdentityCenterUser","onBehalfOf":{"userId":"u-1","identityStoreArn":"arn:aws:identitystore::1:identitystore/d-1"}}),
                "arn:aws:identitystore::1:identitystore/d-1/user/u-1",
            ),
            (
                json!({"invokedBy":"secretsmanager.amazonaws.com"}),
                "secretsmanager.amazonaws.com",
            ),
            (json!({"type":"WebIdentityUser","principalId":"p:1"}), "p:1"),
            (json!({"type":"AWSAccount","accountId":"999"}), "999"),
            (json!({"type":"SAMLUser"}), "unknown"),
            // Anonymous calls: AWS's own spelling, or no ARN and an empty principalId.
            (
                json!({"type":"AWSAccount","principalId":"","accountId":"ANONYMOUS_PRINCIPAL"}),
                "ANONYMOUS_PRINCIPAL",
            ),
            (
                json!({"type":"AWSAccount","principalId":"","accountId":"111122223333"}),
                "ANONYMOUS_PRINCIPAL",
            ),
            // Empty strings are absent: the next rule of the table decides.
            (
                json!({"type":"IAMUser","arn":"","principalId":"AIDA1"}),
                "AIDA1",
            ),
            (
                json!({"type":"AWSService","invokedBy":"","accountId":"7"}),
                "7",
            ),
            (json!({}), "unknown"),
        ];
        for (id, want) in cases {
            assert_eq!(principal(Some(&id)), want, "{id}");
        }
        assert_eq!(principal::<serde_json::Value>(None), "unknown");
    }

    #[test]
    fn secrets_are_reduced_to_their_names() {
        let arn = "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db/password-AbCdEf";
        assert_eq!(canonical_secret(arn), "prod/db/password");
        assert_eq!(
            canonical_secret("arn:aws:secretsmanager:us-east-1:1:secret:prod/db"),
            "prod/db"
        );
        assert_eq!(
            canonical_secret("prod/db/password-AbCdEf"),
            "prod/db/password-AbCdEf"
        );
        assert_eq!(
            canonical_secret("arn:aws:secretsmanager:us-east-1:1:secret:x-Ab_dEf"),
            "x-Ab_dEf"
        );
        let svc = json!({"additionalEventData":{"SecretId":arn}});
        assert_eq!(secret_of(&svc).as_deref(), Some("prod/db/password"));
    }

    #[test]
    fn default_selection_is_exact() {
        let sel = Selection::default();
        assert!(sel.selects(Some(SECRETS_MANAGER), Some("GetSecretValue")));
        assert!(sel.selects(Some(SECRETS_MANAGER), Some("BatchGetSecretValue")));
        assert!(!sel.selects(Some("iam.amazonaws.com"), Some("GetSecretValue")));
        assert!(!sel.selects(Some(SECRETS_MANAGER), Some("ListSecrets")));
        let spec = EventSpec::parse("ssm:GetParameter").unwrap();
        assert_eq!(spec.source.as_deref(), Some("ssm.amazonaws.com"));
        assert!(EventSpec::parse("bad name").is_err());
    }

    #[test]
    fn a_repeated_key_means_its_last_value_in_both_parsers() {
        let text = r#"{"eventName":"ListSecrets","eventName":"GetSecretValue"}"#;
        let serde: serde_json::Value = serde_json::from_str(text).unwrap();
        let mut bytes = text.as_bytes().to_vec();
        let simd = simd_json::to_borrowed_value(&mut bytes).unwrap();
        assert_eq!(
            serde.field("eventName").and_then(JsonView::text),
            Some("GetSecretValue")
        );
        assert_eq!(
            simd.field("eventName").and_then(JsonView::text),
            Some("GetSecretValue")
        );
    }

    #[test]
    fn booleans_arrive_as_strings_too() {
        assert_eq!(json!("true").boolish(), Some(true));
        assert_eq!(json!(false).boolish(), Some(false));
        assert_eq!(json!("yes").boolish(), None);
        // Exporters stringify booleans in any case; all mean the same value.
        for (text, value) in [
            ("True", true),
            ("TRUE", true),
            ("False", false),
            ("false", false),
        ] {
            assert_eq!(json!(text).boolish(), Some(value), "{text}");
            let mut raw = format!("\"{text}\"").into_bytes();
            let simd = simd_json::to_borrowed_value(&mut raw).unwrap();
            assert_eq!(simd.boolish(), Some(value), "{text} (simd-json)");
        }
    }
}
