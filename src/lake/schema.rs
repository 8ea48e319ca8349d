//! The lake's contract: its layout, its columns and its row order. The
//! lake reader codes against exactly what this page says; change it only
//! with the reader.
//!
//! # Layout
//!
//! ```text
//! DIR/events/account=A/region=R/date=YYYY-MM-DD/part-<run>-<seq>.parquet
//! DIR/_ctscan/manifest/<commit>.json     one fragment per committed batch
//! DIR/_ctscan/lock                       held while an ingest runs
//! ```
//!
//! `A` is the normalised account (`recipientAccountId`, else
//! `userIdentity.accountId`: [`crate::read::record::Event::account_id`]),
//! `R` is `awsRegion`, and the date is the UTC date of `eventTime`. Values
//! are escaped by [`super::partition::encode_value`]; a missing one is
//! `__HIVE_DEFAULT_PARTITION__`, which Spark, DuckDB and Athena read as NULL.
//! The partition keys are not repeated inside the files under the same
//! names (`account_id` and `aws_region` are the row's own values), since
//! DuckDB and Spark refuse a file column that clashes with a partition key.
//!
//! A part file is written as `.part-<run>-<seq>.parquet.tmp` in its
//! partition's folder (no `*.parquet` glob matches it), then committed by
//! its manifest fragment, then renamed to its final name. Readers trust only
//! files a committed fragment lists: a listed file still under its temporary
//! name (the process died between the commit and the rename) is renamed by
//! the next ingest, and a file no fragment lists is removed by it.
//!
//! # Columns
//!
//! [`COLUMNS`], in that order, in every file. The normalised ones come from
//! [`crate::read::record::select_event`], as in `report`'s `events.parquet`
//! (whose `region` is `aws_region` here); the rest are the record's own
//! fields, as text. Types are Spark-safe: strings, booleans, `Int64`, and
//! timestamps in microseconds, UTC (`TIMESTAMP(MICROS, isAdjustedToUTC)`).
//! JSON columns are compact JSON text, NULL when the field is absent or
//! `null`; `record` is the record's exact text as it was in the object, so
//! any filter pattern, rule or Sigma detection is exact over the lake.
//!
//! # Rows
//!
//! Only records with a usable `eventTime` are rows (the others are counted
//! per object in the manifest, by reason). Within a file, rows are sorted by
//! (`event_time`, `event_id`, `object`, `record_index`). Every copy of a
//! repeated `eventID` is stored; readers apply `report`'s rule (keep the
//! first copy in that order, never merge NULL ids) at query time, so it
//! holds across runs:
//!
//! ```sql
//! SELECT * FROM read_parquet('DIR/events/**/*.parquet', hive_partitioning = true)
//! QUALIFY event_id IS NULL
//!      OR row_number() OVER (PARTITION BY event_id
//!                            ORDER BY event_time, object, record_index) = 1
//! ```

use crate::read::record::{Event, JsonView};

/// A column's Parquet type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// UTF-8 text.
    Text,
    /// A boolean.
    Bool,
    /// A signed 64-bit integer (Spark reads no unsigned type as an integer).
    Int,
    /// Microseconds since the epoch, UTC.
    Time,
}

/// Every column of a part file, in order.
pub const COLUMNS: [(&str, Kind); 32] = [
    ("event_time", Kind::Time),
    ("event_source", Kind::Text),
    ("event_name", Kind::Text),
    ("principal", Kind::Text),
    ("principal_type", Kind::Text),
    ("account_id", Kind::Text),
    ("aws_region", Kind::Text),
    ("source_ip", Kind::Text),
    ("user_agent", Kind::Text),
    ("secret", Kind::Text),
    ("error_code", Kind::Text),
    ("event_id", Kind::Text),
    ("request_id", Kind::Text),
    ("read_only", Kind::Bool),
    ("session_arn", Kind::Text),
    ("access_key_id", Kind::Text),
    ("batch_request", Kind::Text),
    ("event_type", Kind::Text),
    ("error_message", Kind::Text),
    ("recipient_account_id", Kind::Text),
    ("shared_event_id", Kind::Text),
    ("vpc_endpoint_id", Kind::Text),
    ("tls_version", Kind::Text),
    ("request_parameters", Kind::Text),
    ("response_elements", Kind::Text),
    ("additional_event_data", Kind::Text),
    ("user_identity", Kind::Text),
    ("record", Kind::Text),
    ("object", Kind::Text),
    ("object_etag", Kind::Text),
    ("object_size", Kind::Int),
    ("record_index", Kind::Int),
];

/// How many text columns a row carries from its record (every
/// [`Kind::Text`] column before `object`).
pub const RECORD_TEXTS: usize = 26;

/// One stored record, owned: its time, its record's text columns (in
/// [`COLUMNS`] order, `read_only` left out), and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct LakeRow {
    pub time_us: i64,
    pub read_only: Option<bool>,
    /// The [`Kind::Text`] columns from `event_source` to `record`.
    pub texts: [Option<Box<str>>; RECORD_TEXTS],
    /// The object's index in its batch (its key, ETag and size are there).
    pub object: u32,
    pub record_index: u32,
}

impl LakeRow {
    /// The row of a selected record: `event` is its normalisation, `value`
    /// its parsed JSON, `raw` its exact text.
    pub fn new<V: JsonView>(
        event: &Event<'_>,
        value: &V,
        raw: &[u8],
        time_us: i64,
        object: u32,
        record_index: u32,
    ) -> LakeRow {
        let text = |k: &str| value.field(k).and_then(JsonView::text);
        let json = |k: &str| {
            value
                .field(k)
                .filter(|v| !v.is_null())
                .map(JsonView::to_json)
        };
        let tls = value
            .field("tlsDetails")
            .and_then(|t| t.field("tlsVersion"))
            .and_then(JsonView::text);
        let b = |s: Option<&str>| s.map(Box::from);
        let o = |s: Option<String>| s.map(String::into_boxed_str);
        LakeRow {
            time_us,
            read_only: event.read_only,
            texts: [
                b(event.event_source),
                b(event.event_name),
                Some(event.principal.as_str().into()),
                Some(event.principal_type.into()),
                b(event.account_id),
                b(event.region),
                b(event.source_ip),
                b(event.user_agent),
                o(event.secret.clone()),
                b(event.error_code),
                b(event.event_id),
                b(event.request_id),
                b(event.session_arn),
                b(event.access_key_id),
                o(event.batch_request.clone()),
                b(text("eventType")),
                b(text("errorMessage")),
                b(text("recipientAccountId")),
                b(text("sharedEventID")),
                b(text("vpcEndpointId")),
                b(tls),
                o(json("requestParameters")),
                o(json("responseElements")),
                o(json("additionalEventData")),
                o(json("userIdentity")),
                Some(String::from_utf8_lossy(raw).into()),
            ],
            object,
            record_index,
        }
    }

    /// The text column `name` (one of the first [`RECORD_TEXTS`] text columns).
    pub fn text(&self, i: usize) -> Option<&str> {
        self.texts[i].as_deref()
    }

    /// `event_id`.
    pub fn event_id(&self) -> Option<&str> {
        self.text(EVENT_ID)
    }

    /// Bytes this row holds, for the writer's memory budget.
    pub fn heap_bytes(&self) -> usize {
        std::mem::size_of::<Self>() + self.texts.iter().flatten().map(|t| t.len()).sum::<usize>()
    }
}

/// `event_id`'s index in [`LakeRow::texts`].
pub const EVENT_ID: usize = 10;

/// The account and region columns, for the row's partition.
pub const ACCOUNT_ID: usize = 4;
/// See [`ACCOUNT_ID`].
pub const AWS_REGION: usize = 5;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_columns_line_up_with_the_row() {
        let texts: Vec<&str> = COLUMNS
            .iter()
            .filter(|(_, k)| *k == Kind::Text)
            .map(|(n, _)| *n)
            .collect();
        assert_eq!(texts.len(), RECORD_TEXTS + 2);
        assert_eq!(texts[EVENT_ID], "event_id");
        assert_eq!(texts[ACCOUNT_ID], "account_id");
        assert_eq!(texts[AWS_REGION], "aws_region");
        assert_eq!(texts[RECORD_TEXTS - 1], "record");
    }

    #[test]
    fn a_row_keeps_the_record_and_its_json_fields() {
        let raw = br#"{"eventTime":"2026-01-01T00:00:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"eu-west-1","recipientAccountId":"111122223333","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/a"},"responseElements":null,"tlsDetails":{"tlsVersion":"TLSv1.3"},"eventType":"AwsApiCall","readOnly":true}"#;
        let value: serde_json::Value = serde_json::from_slice(raw).unwrap();
        let sel = crate::read::record::Selection::All;
        let event = crate::read::record::select_event(&value, &sel).unwrap();
        let row = LakeRow::new(&event, &value, raw, 1, 0, 7);
        let col = |name: &str| {
            let i = COLUMNS
                .iter()
                .filter(|(_, k)| *k == Kind::Text)
                .position(|(n, _)| *n == name)
                .unwrap();
            row.text(i)
        };
        assert_eq!(col("principal"), Some("arn:aws:iam::1:user/a"));
        assert_eq!(col("aws_region"), Some("eu-west-1"));
        assert_eq!(col("tls_version"), Some("TLSv1.3"));
        assert_eq!(col("event_type"), Some("AwsApiCall"));
        assert_eq!(col("response_elements"), None);
        assert_eq!(
            col("user_identity"),
            Some(r#"{"type":"IAMUser","arn":"arn:aws:iam::1:user/a"}"#)
        );
        assert_eq!(col("record").map(str::as_bytes), Some(&raw[..]));
        assert_eq!(row.read_only, Some(true));
        assert_eq!(row.record_index, 7);
    }
}
