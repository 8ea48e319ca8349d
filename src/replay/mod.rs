//! Replay: what CloudWatch would have done with these logs. Metric filter
//! patterns ([`pattern`]), rule packs such as the CIS benchmark's
//! ([`rules`]), and the metric → alarm → SNS evaluation ([`alarm`]).
//!
//! Nothing here reads files or walks sources: records come in, already
//! split, from [`crate::scan`].

pub mod alarm;
pub mod pattern;
pub mod rules;
