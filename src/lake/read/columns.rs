//! One lake file's columns, read a row group at a time and only for the
//! rows asked for: pages holding no wanted row are skipped undecoded.
//!
//! This is the only part of the reader that knows the Parquet API. It reads
//! values; it does not decide which rows matter.

use std::fs::File;
use std::path::Path;

use anyhow::{bail, Context, Result};
use parquet::column::reader::{ColumnReader, ColumnReaderImpl};
use parquet::data_type::{ByteArray, DataType};
use parquet::file::reader::{FileReader, RowGroupReader};
use parquet::file::serialized_reader::SerializedFileReader;
use parquet::file::statistics::Statistics;

/// An open lake file: its footer, and where each column is.
pub struct LakeFile {
    reader: SerializedFileReader<File>,
    names: Vec<String>,
}

impl LakeFile {
    /// Opens `path` and reads its footer.
    pub fn open(path: &Path) -> Result<LakeFile> {
        let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
        let reader = SerializedFileReader::new(file)
            .with_context(|| format!("reading the Parquet footer of {}", path.display()))?;
        let names = reader
            .metadata()
            .file_metadata()
            .schema_descr()
            .columns()
            .iter()
            .map(|c| c.name().to_string())
            .collect();
        Ok(LakeFile { reader, names })
    }

    /// Number of row groups.
    pub fn row_groups(&self) -> usize {
        self.reader.num_row_groups()
    }

    /// Rows in row group `i`.
    pub fn rows(&self, i: usize) -> usize {
        self.reader.metadata().row_group(i).num_rows().max(0) as usize
    }

    /// The index of column `name`.
    pub fn column(&self, name: &str) -> Result<usize> {
        match self.names.iter().position(|n| n == name) {
            Some(i) => Ok(i),
            None => bail!("lake file has no column {name:?}"),
        }
    }

    /// The smallest and largest value of an integer column in row group
    /// `i`, when the writer recorded them.
    pub fn int_range(&self, i: usize, col: usize) -> Option<(i64, i64)> {
        match self
            .reader
            .metadata()
            .row_group(i)
            .column(col)
            .statistics()?
        {
            Statistics::Int64(s) => Some((*s.min_opt()?, *s.max_opt()?)),
            Statistics::Int32(s) => Some((i64::from(*s.min_opt()?), i64::from(*s.max_opt()?))),
            _ => None,
        }
    }

    /// A reader of row group `i`.
    pub fn row_group(&self, i: usize) -> Result<Box<dyn RowGroupReader + '_>> {
        Ok(self.reader.get_row_group(i)?)
    }
}

/// Which rows of a row group to read: one flag per row.
pub type RowMask = [bool];

/// Runs of equal flags: `(wanted, length)`.
fn runs(mask: &RowMask) -> impl Iterator<Item = (bool, usize)> + '_ {
    let mut at = 0;
    std::iter::from_fn(move || {
        let first = *mask.get(at)?;
        let len = mask[at..].iter().take_while(|&&m| m == first).count();
        at += len;
        Some((first, len))
    })
}

/// Reads a column's values for the rows `mask` selects (`None` for nulls),
/// skipping the rest.
fn read_masked<T: DataType>(
    mut col: ColumnReaderImpl<T>,
    mask: &RowMask,
    out: &mut Vec<Option<T::T>>,
) -> Result<()>
where
    T::T: Clone,
{
    let (mut defs, mut values) = (Vec::new(), Vec::new());
    for (wanted, len) in runs(mask) {
        if !wanted {
            let skipped = col.skip_records(len)?;
            if skipped != len {
                bail!("column ended after {skipped} of {len} rows");
            }
            continue;
        }
        let mut left = len;
        while left > 0 {
            defs.clear();
            values.clear();
            let (rows, _, levels) = col.read_records(left, Some(&mut defs), None, &mut values)?;
            if rows == 0 {
                bail!("column ended {left} rows early");
            }
            if levels == 0 || defs.len() < levels {
                // A required column: one value per row.
                out.extend(values.drain(..).map(Some));
            } else {
                let mut vals = values.drain(..);
                for &d in &defs[..levels] {
                    out.push(if d > 0 { vals.next() } else { None });
                }
            }
            left -= rows;
        }
    }
    Ok(())
}

/// Text values of column `col` for the rows `mask` selects.
pub fn read_bytes(
    rg: &dyn RowGroupReader,
    col: usize,
    mask: &RowMask,
) -> Result<Vec<Option<ByteArray>>> {
    let mut out = Vec::with_capacity(mask.iter().filter(|m| **m).count());
    match rg.get_column_reader(col)? {
        ColumnReader::ByteArrayColumnReader(r) => read_masked(r, mask, &mut out)?,
        _ => bail!("lake column {col} is not text"),
    }
    Ok(out)
}

/// Integer values of column `col` (any integer width) for the rows `mask` selects.
pub fn read_ints(rg: &dyn RowGroupReader, col: usize, mask: &RowMask) -> Result<Vec<Option<i64>>> {
    let mut out = Vec::with_capacity(mask.iter().filter(|m| **m).count());
    match rg.get_column_reader(col)? {
        ColumnReader::Int64ColumnReader(r) => read_masked(r, mask, &mut out)?,
        ColumnReader::Int32ColumnReader(r) => {
            let mut narrow = Vec::with_capacity(out.capacity());
            read_masked(r, mask, &mut narrow)?;
            out.extend(narrow.into_iter().map(|v| v.map(i64::from)));
        }
        _ => bail!("lake column {col} is not an integer"),
    }
    Ok(out)
}

/// Boolean values of column `col` for the rows `mask` selects.
pub fn read_bools(
    rg: &dyn RowGroupReader,
    col: usize,
    mask: &RowMask,
) -> Result<Vec<Option<bool>>> {
    let mut out = Vec::with_capacity(mask.iter().filter(|m| **m).count());
    match rg.get_column_reader(col)? {
        ColumnReader::BoolColumnReader(r) => read_masked(r, mask, &mut out)?,
        _ => bail!("lake column {col} is not a boolean"),
    }
    Ok(out)
}

/// A text value as `&str`; lake text is UTF-8 by construction.
pub fn text(v: &Option<ByteArray>) -> Option<&str> {
    v.as_ref().and_then(|b| std::str::from_utf8(b.data()).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_split_a_mask_into_equal_stretches() {
        let got: Vec<_> = runs(&[true, true, false, true, false, false]).collect();
        assert_eq!(got, vec![(true, 2), (false, 1), (true, 1), (false, 2)]);
        assert_eq!(runs(&[]).count(), 0);
    }
}
