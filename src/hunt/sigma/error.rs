//! Errors and per-file problem reports of rule loading.
//!
//! Owns: the fatal [`LoadError`] (nothing could be read) and the per-file [`Unsupported`]
//! entries (one rule left out, the others still load). Must not: decide what is
//! supported; the loader does that.

use std::fmt;
use std::path::PathBuf;

/// A failure that stops loading altogether.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read rule path {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Why one file did not become a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The rule uses a Sigma feature this engine does not implement.
    Unsupported(String),
    /// The file is not a valid rule (YAML syntax, bad regex, unknown selection…).
    Invalid(String),
    /// A valid rule for another log source.
    Skipped(String),
}

/// One file left out of the rule set, with the reason, printable as one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported {
    pub file: PathBuf,
    pub problem: Problem,
}

impl Unsupported {
    /// The unsupported feature, if that is why the rule was left out.
    pub fn feature(&self) -> Option<&str> {
        match &self.problem {
            Problem::Unsupported(feature) => Some(feature),
            _ => None,
        }
    }
}

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self.file.display();
        match &self.problem {
            Problem::Unsupported(s) => write!(f, "{file}: unsupported feature: {s}"),
            Problem::Invalid(s) => write!(f, "{file}: invalid rule: {s}"),
            Problem::Skipped(s) => write!(f, "{file}: skipped: {s}"),
        }
    }
}

impl std::error::Error for Unsupported {}
