//! A necessary condition on a row's columns: what a visitor's records must
//! hold for it to do anything with them, so that the `record` column is
//! read only for rows that pass. Never sufficient: passing rows are still
//! judged exactly, on their record.

use std::collections::BTreeSet;

use anyhow::Result;
use parquet::file::reader::RowGroupReader;

use super::columns::{read_bytes, text, LakeFile};
use crate::replay::pattern::{Pattern, Pinned, TextWant};

/// The lake column holding each top-level record field as its exact
/// string (NULL when absent or not a string).
const FIELD_COLUMNS: [(&str, &str); 13] = [
    ("eventName", "event_name"),
    ("eventSource", "event_source"),
    ("errorCode", "error_code"),
    ("errorMessage", "error_message"),
    ("eventType", "event_type"),
    ("awsRegion", "aws_region"),
    ("sourceIPAddress", "source_ip"),
    ("userAgent", "user_agent"),
    ("eventID", "event_id"),
    ("requestID", "request_id"),
    ("recipientAccountId", "recipient_account_id"),
    ("sharedEventID", "shared_event_id"),
    ("vpcEndpointId", "vpc_endpoint_id"),
];

/// Rows must have, in every listed column, a value one of its wants admits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowFilter {
    /// (column, any of these); no entry: every row passes.
    pub columns: Vec<(&'static str, BTreeSet<TextWant>)>,
}

impl RowFilter {
    /// The filter every row passes.
    pub fn all() -> RowFilter {
        RowFilter::default()
    }

    /// Whether the filter lets every row through.
    pub fn is_all(&self) -> bool {
        self.columns.is_empty()
    }

    /// The columns of the fields `pinned` names (fields without a column
    /// are left out, which only lets more rows through).
    pub fn from_pinned(pinned: Pinned) -> RowFilter {
        let columns = pinned
            .into_iter()
            .filter_map(|(key, wants)| {
                let (_, col) = FIELD_COLUMNS.iter().find(|(k, _)| *k == key)?;
                Some((*col, wants))
            })
            .collect();
        RowFilter { columns }
    }

    /// What a record must hold for `pattern` to match it.
    pub fn from_pattern(pattern: Option<&Pattern>) -> RowFilter {
        pattern.map_or_else(RowFilter::all, |p| {
            RowFilter::from_pinned(p.pinned_fields())
        })
    }

    /// What a record must hold for any of `filters` to let it through: the
    /// columns every one of them constrains, with their wants joined.
    pub fn any_of(filters: &[RowFilter]) -> RowFilter {
        let Some(first) = filters.first() else {
            return RowFilter::all();
        };
        let mut columns = Vec::new();
        for (col, _) in &first.columns {
            if columns.iter().any(|(c, _)| c == col) {
                continue;
            }
            let mut union = BTreeSet::new();
            let in_all = filters
                .iter()
                .all(|f| match f.columns.iter().find(|(c, _)| c == col) {
                    Some((_, wants)) => {
                        union.extend(wants.iter().cloned());
                        true
                    }
                    None => false,
                });
            if in_all {
                columns.push((*col, union));
            }
        }
        RowFilter { columns }
    }

    /// Clears the flags of `mask` whose rows fail the filter.
    pub fn narrow(
        &self,
        file: &LakeFile,
        rg: &dyn RowGroupReader,
        mask: &mut [bool],
    ) -> Result<()> {
        for (name, wants) in &self.columns {
            if !mask.iter().any(|m| *m) {
                break;
            }
            let values = read_bytes(rg, file.column(name)?, mask)?;
            let mut values = values.iter();
            for m in mask.iter_mut().filter(|m| **m) {
                let v = values.next().and_then(text);
                *m = v.is_some_and(|v| wants.iter().any(|w| w.admits(v)));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(p: &str) -> RowFilter {
        RowFilter::from_pattern(Some(&Pattern::parse(p).unwrap()))
    }

    fn want(col: &'static str, wants: &[TextWant]) -> RowFilter {
        RowFilter {
            columns: vec![(col, wants.iter().cloned().collect())],
        }
    }

    #[test]
    fn patterns_pin_the_columns_they_need() {
        use TextWant::*;
        let names = filter("{ ($.eventName = CreateTrail) || ($.eventName = \"StopLogging\") }");
        let both = [Exact("CreateTrail".into()), Exact("StopLogging".into())];
        assert_eq!(names, want("event_name", &both));
        let and =
            filter("{ $.eventSource = kms.amazonaws.com && $.errorCode = \"AccessDenied*\" }");
        assert_eq!(and.columns.len(), 2);
        assert_eq!(
            and.columns[1].1,
            BTreeSet::from([Prefix("AccessDenied".into())])
        );
        // Either side may hold without the other's field: nothing pinned.
        assert!(filter("{ $.eventName = A || $.errorCode = B }").is_all());
        assert!(filter("{ $.eventName != A }").is_all());
        assert!(filter("GetSecretValue").is_all());
        // A number or a boolean, compared as text, could match these.
        assert!(filter("{ $.errorCode = 404 }").is_all());
        assert!(filter("{ $.errorCode = \"4*\" }").is_all());
        assert!(filter("{ $.errorCode = \"tr*\" }").is_all());
        // Nested fields have no exact column.
        assert!(filter("{ $.userIdentity.type = Root }").is_all());
    }

    #[test]
    fn any_of_keeps_only_columns_every_filter_constrains() {
        use TextWant::*;
        let a = filter("{ $.eventName = A && $.eventSource = s }");
        let b = filter("{ $.eventName = B }");
        let any = RowFilter::any_of(&[a, b.clone()]);
        assert_eq!(
            any,
            want("event_name", &[Exact("A".into()), Exact("B".into())])
        );
        assert!(RowFilter::any_of(&[b, RowFilter::all()]).is_all());
    }
}
