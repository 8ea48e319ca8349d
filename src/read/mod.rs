//! How bytes become records: inflate a gzip object, detect its format, split
//! it into records without parsing, skip records that cannot be selected, and
//! normalise the few that can.
//!
//! Every step works on a caller-owned buffer and one record at a time; none
//! of them does I/O, keeps state between objects or knows about threads
//! ([`crate::scan`] drives them).

pub mod error;
pub mod escape;
pub mod filter;
pub mod format;
pub mod inflate;
pub mod lookup;
pub mod record;
pub mod structural;
