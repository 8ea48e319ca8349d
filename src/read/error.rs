//! The errors of reading a file's structure, shared by the format detector
//! ([`super::format`]) and the structural scan beneath it
//! ([`super::structural`]), so that neither depends on the other for them.

/// Why a file's structure could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    #[error("not JSON: unexpected byte 0x{byte:02x} at offset {offset}")]
    NotJson { offset: usize, byte: u8 },
    #[error("truncated JSON: input ends inside {what} opened at offset {offset}")]
    Truncated { what: &'static str, offset: usize },
    #[error("malformed JSON at offset {offset}: {what}")]
    Malformed { offset: usize, what: &'static str },
    #[error("not CloudTrail: record {index} is {kind}, not an object")]
    NotAnObject { index: usize, kind: &'static str },
    #[error("not CloudTrail: the top-level object has no Records array")]
    NoRecords,
    #[error("not CloudTrail: \"Records\" is {kind}, not an array")]
    RecordsNotArray { kind: &'static str },
    #[error("ambiguous: the top-level object has more than one \"Records\" key")]
    RepeatedRecords,
    #[error("invalid lookup-events entry {index}: {reason}")]
    Lookup { index: usize, reason: String },
}
