//! The event lake: CloudTrail events as a Hive-partitioned Parquet dataset
//! that DuckDB, Spark and Athena read, with a manifest that accounts for
//! every object, written once by `ingest` and read many times.
//!
//! [`schema`] is the contract (layout, columns, row order) and
//! [`partition`] its folder names; [`writer`] writes one part file,
//! [`batch`] buffers a worker's rows and commits them ([`pattern`] picks
//! them for `--select --pattern`), [`manifest`] is the
//! commit record, [`recover`] finishes or clears what a killed run left, [`stale`]
//! rewrites files holding rows of objects read again since, [`remote`]
//! keeps a lake on S3 (`--lake s3://…`),
//! [`lock`] keeps a second ingest out, [`shards`] lets the shards of
//! one sweep write at once, and [`read`] reads the lake back for every
//! command's `--lake DIR`.

pub mod batch;
pub mod lock;
pub mod manifest;
pub mod partition;
pub mod pattern;
pub mod read;
pub mod recover;
pub mod remote;
pub mod schema;
pub mod shards;
pub mod stale;
pub mod writer;

pub use manifest::{load_manifest, Manifest};
