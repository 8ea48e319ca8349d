//! Writing one part file: a partition's rows, sorted, as zstd Parquet.
//!
//! Row groups hold [`ROW_GROUP_ROWS`] rows: CloudTrail rows are 1–3 KB of
//! text, so a group is tens of megabytes before compression, which is large
//! enough for zstd and column statistics to pay, and small enough that the
//! min/max of `event_time` (the sort key) and `event_name` let engines skip
//! most of a large file. A file rarely holds more than one group: the
//! writer's memory budget ends a batch first.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use anyhow::{Context, Result};
use polars::prelude::{
    Column as PlColumn, DataFrame, IntoSeries, NamedFrom, NewChunkedArray, ParquetCompression,
    ParquetReader, ParquetWriter, SerReader, Series, StringChunked, TimeUnit, TimeZone,
};

use super::schema::{Kind, LakeRow, COLUMNS};

/// Rows per Parquet row group.
pub const ROW_GROUP_ROWS: usize = 65_536;

/// Where a row's object came from, for its `object*` columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub key: String,
    pub etag: Option<String>,
    pub size: u64,
}

/// Sorts `rows` by the lake's row order: (`event_time`, `event_id`,
/// `object`, `record_index`).
pub fn sort_rows(rows: &mut [LakeRow], objects: &[ObjectInfo]) {
    rows.sort_by(|a, b| {
        (
            a.time_us,
            a.event_id(),
            &objects[a.object as usize].key,
            a.record_index,
        )
            .cmp(&(
                b.time_us,
                b.event_id(),
                &objects[b.object as usize].key,
                b.record_index,
            ))
    });
}

/// The rows as a frame of the lake's columns, in their order.
fn frame(rows: &[LakeRow], objects: &[ObjectInfo]) -> Result<DataFrame> {
    let object = |r: &LakeRow| &objects[r.object as usize];
    let mut texts = 0;
    let mut cols = Vec::with_capacity(COLUMNS.len());
    for (name, kind) in COLUMNS {
        let n = name.into();
        let series = match (name, kind) {
            (_, Kind::Time) => Series::new(n, rows.iter().map(|r| r.time_us).collect::<Vec<_>>())
                .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC)),
            (_, Kind::Bool) => Series::new(n, rows.iter().map(|r| r.read_only).collect::<Vec<_>>()),
            ("object", _) => {
                StringChunked::from_iter_values(n, rows.iter().map(|r| object(r).key.as_str()))
                    .into_series()
            }
            ("object_etag", _) => {
                StringChunked::from_iter_options(n, rows.iter().map(|r| object(r).etag.as_deref()))
                    .into_series()
            }
            ("object_size", _) => Series::new(
                n,
                rows.iter()
                    .map(|r| i64::try_from(object(r).size).unwrap_or(i64::MAX))
                    .collect::<Vec<_>>(),
            ),
            ("record_index", _) => Series::new(
                n,
                rows.iter()
                    .map(|r| i64::from(r.record_index))
                    .collect::<Vec<_>>(),
            ),
            (_, Kind::Text) => {
                let i = texts;
                texts += 1;
                StringChunked::from_iter_options(n, rows.iter().map(|r| r.text(i))).into_series()
            }
            (_, Kind::Int) => unreachable!("every Int column is named above"),
        };
        cols.push(PlColumn::from(series));
    }
    Ok(DataFrame::new(rows.len(), cols)?)
}

/// Writes `rows` (sorted) to `path` as one part file, synced to disk.
pub fn write_part(path: &Path, rows: &[LakeRow], objects: &[ObjectInfo]) -> Result<()> {
    let mut df = frame(rows, objects).with_context(|| format!("writing {}", path.display()))?;
    write_frame(path, &mut df)
}

/// Reads a part file back whole (to rewrite it without some rows).
pub fn read_part(path: &Path) -> Result<DataFrame> {
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    ParquetReader::new(file)
        .finish()
        .with_context(|| format!("reading {}", path.display()))
}

/// Writes a frame of the lake's columns to `path`, synced to disk.
pub fn write_frame(path: &Path, df: &mut DataFrame) -> Result<()> {
    let result: Result<()> = (|| {
        let file = File::create(path)?;
        let mut out = BufWriter::new(file);
        ParquetWriter::new(&mut out)
            .with_compression(ParquetCompression::Zstd(None))
            .with_row_group_size(Some(ROW_GROUP_ROWS))
            .finish(df)?;
        out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        Ok(())
    })();
    result.with_context(|| format!("writing {}", path.display()))
}
