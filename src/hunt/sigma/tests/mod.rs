//! Tests of the engine; they move with the module. Data paths are found by
//! [`support::shared_data`] and [`support::fixtures_dir`].

mod bundled;
mod oracle;
mod projection;
mod routing;
mod semantics;
mod support;
