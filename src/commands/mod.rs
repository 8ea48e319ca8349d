//! One module per subcommand: glue between a config, the scan and the outputs.

pub mod alarm;
pub mod events;
pub mod hunt;
pub mod ingest;
pub mod lake;
pub mod merge;
pub mod mirror;
pub mod report;
pub mod scan_sources;
pub mod test_pattern;
pub mod verify;
