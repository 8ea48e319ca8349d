//! A necessary condition on a row's columns: what a visitor's records must
//! hold for it to do anything with them, so that the `record` column is
//! read only for rows that pass. Never sufficient: passing rows are still
//! judged exactly, on their record.

use std::collections::BTreeSet;

use anyhow::Result;
use parquet::file::reader::RowGroupReader;

use super::columns::{read_bytes, text, LakeFile};

/// What one column's value must be.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Want {
    /// Exactly this text.
    Exact(String),
    /// Text starting with this.
    Prefix(String),
    /// Text ending with this.
    Suffix(String),
}

impl Want {
    fn admits(&self, v: &str) -> bool {
        match self {
            Want::Exact(s) => v == s,
            Want::Prefix(s) => v.starts_with(s.as_str()),
            Want::Suffix(s) => v.ends_with(s.as_str()),
        }
    }
}

/// Rows must have, in every listed column, a value one of its wants admits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowFilter {
    /// (column, any of these); no entry: every row passes.
    pub columns: Vec<(&'static str, BTreeSet<Want>)>,
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
