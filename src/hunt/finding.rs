//! One row of hunt's output: a rule that matched an event, with the event's
//! fields a responder reads first. Built from the parsed record; knows
//! nothing of rules beyond their position in the set.

use crate::read::record::{principal, JsonView};

/// The fields of a matched event that every finding of it shares.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFields {
    pub event_source: Option<String>,
    pub event_name: Option<String>,
    /// As `report` names principals (`read::record::principal`).
    pub principal: String,
    pub account_id: Option<String>,
    pub region: Option<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub error_code: Option<String>,
    pub event_id: Option<String>,
}

impl EventFields {
    /// Reads the fields from a parsed (or projected) record.
    pub fn of<V: JsonView>(record: &V) -> EventFields {
        let text = |path: &[&str]| {
            path.iter()
                .try_fold(record, |v, k| v.field(k))
                .and_then(JsonView::text)
                .map(str::to_string)
        };
        EventFields {
            event_source: text(&["eventSource"]),
            event_name: text(&["eventName"]),
            principal: principal(record.field("userIdentity")),
            account_id: text(&["recipientAccountId"])
                .or_else(|| text(&["userIdentity", "accountId"])),
            region: text(&["awsRegion"]),
            source_ip: text(&["sourceIPAddress"]),
            user_agent: text(&["userAgent"]),
            error_code: text(&["errorCode"]),
            event_id: text(&["eventID"]),
        }
    }
}

/// A rule's match on one event; rules are named by their position in the
/// loaded set, metadata is joined at output.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Finding {
    /// eventTime, microseconds since the epoch, UTC.
    pub time_us: i64,
    /// The object the record came from, and its position there.
    pub object: String,
    pub index: u64,
    /// Position of the rule in the loaded set.
    pub rule: u32,
    pub event: EventFields,
}

impl Finding {
    /// The order every output uses: by time, then where the record is, then
    /// rule; the same whatever the thread count or read order.
    pub fn sort_key(&self) -> (i64, &str, u64, u32) {
        (self.time_us, &self.object, self.index, self.rule)
    }
}
