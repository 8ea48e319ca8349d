//! A shard's partial report (`report --shard I/N --out DIR`), as `merge`
//! reads it back: `shard.json` names the shard and the options that shape
//! the tables, `summary.json` holds its accounting, and `events.parquet`
//! every field of every event it kept.
//!
//! A shard keeps the first copy of each `eventID` in the table's total
//! order, so the first copy across shards is the first of the shards'
//! first copies: deduplicating the union again gives exactly the rows of a
//! single run. `shard.json` is written last, so a partial without it is an
//! unfinished one.

use std::fs::File;
use std::path::Path;

use anyhow::{Context, Result};
use polars::prelude::{DataFrame, ParquetReader, SerReader};
use serde::{Deserialize, Serialize};

use crate::events::{EventStore, FIELDS};
use crate::source::shard::Shard;

/// The partial's manifest file name.
pub const MANIFEST: &str = "shard.json";

/// Version of the partial's layout; `merge` refuses any other.
pub const PARTIAL_FORMAT: u32 = 1;

/// `shard.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardManifest {
    pub format: u32,
    pub shard: Shard,
    /// The SOURCEs, as given.
    pub sources: Vec<String>,
    /// The options that shape the tables, as command-line arguments (the
    /// window resolved to absolute times), so `merge` rebuilds them alike.
    pub table_options: Vec<String>,
    /// Options whose results the partial does not hold (`--rules`,
    /// `--geoip`): `merge` refuses such partials and names them.
    pub not_mergeable: Vec<String>,
}

impl ShardManifest {
    /// Reads `DIR/shard.json`.
    pub fn read(dir: &Path) -> Result<ShardManifest> {
        let path = dir.join(MANIFEST);
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "{}: no {MANIFEST}: not a finished `report --shard I/N --out DIR` (an interrupted shard; run it again)",
                dir.display()
            )
        })?;
        let manifest: ShardManifest =
            serde_json::from_str(&text).with_context(|| format!("reading {}", path.display()))?;
        if manifest.format != PARTIAL_FORMAT {
            anyhow::bail!(
                "{}: partial format {} (this ctscan reads {PARTIAL_FORMAT})",
                path.display(),
                manifest.format
            );
        }
        Ok(manifest)
    }
}

/// The columns of `events.parquet` in the order [`EventStore::push_fields`]
/// takes them.
const FIELD_COLUMNS: [&str; FIELDS] = [
    "event_source",
    "event_name",
    "principal",
    "principal_type",
    "account_id",
    "region",
    "source_ip",
    "user_agent",
    "secret",
    "error_code",
    "object",
    "event_id",
    "request_id",
    "batch_request",
    "session_arn",
    "access_key_id",
];

/// Appends every row of `DIR/events.parquet` to `store`, spilling as it goes.
pub fn read_events(dir: &Path, store: &mut EventStore) -> Result<u64> {
    let path = dir.join("events.parquet");
    let mut read = || -> Result<u64> {
        let frame = ParquetReader::new(File::open(&path)?).finish()?;
        push_frame(&frame, store)
    };
    read().with_context(|| format!("reading {}", path.display()))
}

fn push_frame(frame: &DataFrame, store: &mut EventStore) -> Result<u64> {
    let times = frame.column("event_time")?.datetime()?.physical().clone();
    let read_only = frame.column("read_only")?.bool()?.clone();
    let texts = FIELD_COLUMNS
        .iter()
        .map(|name| Ok(frame.column(name)?.str()?.clone()))
        .collect::<Result<Vec<_>>>()?;
    for row in 0..frame.height() {
        let time = times
            .get(row)
            .with_context(|| format!("row {row}: no event_time"))?;
        let mut fields = [None; FIELDS];
        for (field, column) in fields.iter_mut().zip(&texts) {
            *field = column.get(row);
        }
        store.push_fields(time, read_only.get(row), &fields);
        if row % 1024 == 1023 {
            store.spill_if_large();
        }
    }
    store.spill_if_large();
    Ok(frame.height() as u64)
}
