//! Writing [`Table`]s as Parquet and CSV through polars, atomically.
//!
//! Every file is written under a temporary name and renamed into place, so an
//! interrupted run never leaves a half-written file under its final name.
//! Parquet keeps raw values and UTC timestamp columns; CSV gets RFC 3339
//! times and spreadsheet-safe string cells.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use polars::prelude::{
    Column as PlColumn, DataFrame, IntoSeries, NamedFrom, NewChunkedArray, ParquetCompression,
    ParquetWriter, SerWriter, Series, StringChunked, TimeUnit, TimeZone,
};

use crate::events::{Chunk, EventStore};
use crate::interrupt::TempPath;
use crate::report::sanitize::csv_cell;
use crate::report::{events_table, Column, Table};
use crate::window::format_utc;

/// Writes `path` atomically: `write` fills a temporary sibling that is then
/// renamed. The sibling is registered with [`crate::interrupt`], so Ctrl-C
/// removes it; after Ctrl-C, nothing is renamed into place.
pub fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> Result<()>,
) -> Result<()> {
    let result: Result<()> = (|| {
        crate::interrupt::check()?;
        let tmp = TempPath::register(temp_sibling(path))?;
        let mut out = BufWriter::new(File::create(tmp.path())?);
        write(&mut out)?;
        out.flush()?;
        out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        crate::interrupt::check()?;
        std::fs::rename(tmp.path(), path)?;
        Ok(())
    })();
    result.with_context(|| format!("writing {}", path.display()))
}

/// Writes `value` as pretty JSON, newline-terminated, atomically.
pub fn write_json_atomically(path: &Path, value: &impl serde::Serialize) -> Result<()> {
    write_atomically(path, |out| {
        serde_json::to_writer_pretty(&mut *out, value)?;
        out.write_all(b"\n")?;
        Ok(())
    })
}

fn temp_sibling(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

/// Builds a polars frame with typed columns: counts as u64, times as
/// microsecond timestamps in UTC.
fn parquet_frame(table: &Table) -> Result<DataFrame> {
    let cols = table
        .columns
        .iter()
        .map(|(name, col)| {
            let name = (*name).into();
            let series = match col {
                Column::Str(v) => StringChunked::from_iter_options(name, v.iter()).into_series(),
                Column::Count(v) => Series::new(name, v),
                Column::Bool(v) => Series::new(name, v),
                Column::Float(v) => Series::new(name, v),
                Column::Time(v) => {
                    Series::new(name, v).into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
                }
            };
            PlColumn::from(series)
        })
        .collect();
    Ok(DataFrame::new(table.rows(), cols)?)
}

/// Builds the CSV view: times as RFC 3339 text, strings neutralised.
fn csv_frame(table: &Table) -> Result<DataFrame> {
    let cols = table
        .columns
        .iter()
        .map(|(name, col)| {
            let name = (*name).into();
            let series = match col {
                Column::Str(v) => {
                    Series::new(name, v.iter().map(|s| s.map(csv_cell)).collect::<Vec<_>>())
                }
                Column::Count(v) => Series::new(name, v),
                Column::Bool(v) => Series::new(name, v),
                Column::Float(v) => Series::new(name, v),
                Column::Time(v) => Series::new(
                    name,
                    v.iter()
                        .map(|t| {
                            t.and_then(|us| jiff::Timestamp::from_microsecond(us).ok())
                                .map(format_utc)
                        })
                        .collect::<Vec<_>>(),
                ),
            };
            PlColumn::from(series)
        })
        .collect();
    Ok(DataFrame::new(table.rows(), cols)?)
}

/// Writes `DIR/NAME.parquet`.
pub fn write_parquet(table: &Table, dir: &Path) -> Result<()> {
    let mut df = parquet_frame(table)?;
    write_atomically(&dir.join(format!("{}.parquet", table.name)), |out| {
        parquet_writer(out).finish(&mut df)?;
        Ok(())
    })
}

fn parquet_writer<W: Write>(out: W) -> ParquetWriter<W> {
    ParquetWriter::new(out).with_compression(ParquetCompression::Zstd(None))
}

/// Writes `DIR/NAME.csv`.
pub fn write_csv(table: &Table, dir: &Path) -> Result<()> {
    let mut df = csv_frame(table)?;
    write_atomically(&dir.join(format!("{}.csv", table.name)), |out| {
        polars::prelude::CsvWriter::new(out)
            .include_header(true)
            .finish(&mut df)?;
        Ok(())
    })
}

/// Writes `DIR/events.parquet` in row groups, so the whole table is never
/// materialised as strings at once.
pub fn write_events_parquet(store: &EventStore, dir: &Path) -> Result<()> {
    write_events_parquet_with(store, dir, |_| Vec::new())
}

/// Like [`write_events_parquet`], with `extra(chunk)` columns appended to
/// each row group (GeoIP's `country`, `city`, `asn`, ...). A row group is
/// one chunk of the table ([`crate::events::CHUNK_ROWS`] rows).
pub fn write_events_parquet_with(
    store: &EventStore,
    dir: &Path,
    extra: impl Fn(&Chunk<'_, '_>) -> Vec<(&'static str, Column)>,
) -> Result<()> {
    let chunk_table = |chunk: &Chunk<'_, '_>| {
        let mut table = events_table(chunk);
        table.columns.extend(extra(chunk));
        parquet_frame(&table)
    };
    write_atomically(&dir.join("events.parquet"), |out| {
        // Every chunk has the empty table's schema: columns are typed.
        let empty = chunk_table(&store.empty_chunk())?;
        let mut writer = parquet_writer(out).batched(empty.schema())?;
        let (mut result, mut wrote) = (Ok(()), false);
        store.for_each_chunk(|chunk| {
            if result.is_ok() {
                result = chunk_table(chunk).and_then(|frame| Ok(writer.write_batch(&frame)?));
                wrote = true;
            }
        });
        result?;
        if !wrote {
            writer.write_batch(&empty)?;
        }
        writer.finish()?;
        Ok(())
    })
}

/// A Parquet file written one [`Table`] batch at a time (every batch with
/// the columns of the empty table given first), so a long table is never
/// held whole.
pub struct ParquetBatches<W: Write> {
    writer: polars::io::parquet::write::BatchedWriter<W>,
    empty: DataFrame,
    wrote: bool,
}

impl<W: Write> ParquetBatches<W> {
    /// Starts the file; `empty` fixes the schema.
    pub fn new(out: W, empty: &Table) -> Result<Self> {
        let empty = parquet_frame(empty)?;
        let writer = parquet_writer(out).batched(empty.schema())?;
        Ok(ParquetBatches {
            writer,
            empty,
            wrote: false,
        })
    }

    /// Appends the rows of `table` as one row group.
    pub fn write(&mut self, table: &Table) -> Result<()> {
        if table.rows() > 0 {
            self.writer.write_batch(&parquet_frame(table)?)?;
            self.wrote = true;
        }
        Ok(())
    }

    /// Ends the file (a file with no rows still has the schema).
    pub fn finish(mut self) -> Result<()> {
        if !self.wrote {
            self.writer.write_batch(&self.empty)?;
        }
        self.writer.finish()?;
        Ok(())
    }
}
