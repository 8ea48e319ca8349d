//! One module per subcommand: glue between a config, the scan and the outputs.

pub mod alarm;
pub mod events;
pub mod hunt;
pub mod ingest;
pub mod ingest_s3;
pub mod lake;
pub mod merge;
pub mod mirror;
pub mod report;
pub mod scan_sources;
pub mod test_pattern;
pub mod verify;

/// A summary's window as RFC 3339 strings (null for an open end), as every
/// command's `summary.json` gives it.
#[derive(Debug, serde::Serialize)]
pub struct WindowJson {
    pub since: Option<String>,
    pub until: Option<String>,
}
