//! Exit statuses, as `cli.md` defines them.

/// What the process reports to its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExitStatus {
    /// Done, every input read, nothing to flag.
    Ok = 0,
    /// A finding the user asked to fail on.
    Finding = 1,
    /// Some inputs failed, or a fatal error.
    Error = 2,
}

impl ExitStatus {
    /// Combines two statuses: errors win over findings, findings over success.
    pub fn merge(self, other: ExitStatus) -> ExitStatus {
        self.max(other)
    }

    /// The numeric code.
    pub fn code(self) -> u8 {
        self as u8
    }
}
