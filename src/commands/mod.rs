//! One module per subcommand: glue between a config, the scan and the outputs.

pub mod mirror;
pub mod report;
pub mod scan_sources;
