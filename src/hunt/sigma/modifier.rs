//! Parses a detection key such as `userIdentity.arn|contains|all` into a field path and
//! the modifiers that change how its values compare.
//!
//! Owns: the list of supported modifiers and the checks on how they combine.
//! Must not: compile values or touch documents; an unknown modifier is reported, never
//! ignored.

use super::value::{RegexFlags, TextOp};

/// How the values of one detection item are interpreted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// Strings compared with `op` (the default, `contains`, `startswith`, `endswith`).
    Text(TextOp),
    Regex(RegexFlags),
    Cidr,
    /// `exists`: the value is a boolean saying whether the field must be present.
    Exists,
    /// `fieldref`: the value names another field whose value is compared with `op`.
    FieldRef(TextOp),
}

/// The parsed key of one detection item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSpec {
    /// The field name split on `.`; empty for a keyword item (`|all` with no field).
    pub path: Vec<String>,
    pub kind: ValueKind,
    /// `all`: every value must match instead of any.
    pub all: bool,
    /// `cased`: compare strings case-sensitively.
    pub cased: bool,
}

/// Why a key could not be parsed; the text names the offending modifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModifierError(pub String);

/// Parses `field|mod|mod…`.
pub fn parse_field_key(key: &str) -> Result<FieldSpec, ModifierError> {
    let mut parts = key.split('|');
    let field = parts.next().unwrap_or_default();
    let path = if field.is_empty() {
        Vec::new()
    } else {
        field.split('.').map(str::to_owned).collect()
    };
    let mut state = ParseState::default();
    for modifier in parts {
        state.apply(modifier)?;
    }
    state.finish(path)
}

#[derive(Default)]
struct ParseState {
    op: Option<TextOp>,
    regex: Option<RegexFlags>,
    cidr: bool,
    exists: bool,
    fieldref: bool,
    all: bool,
    cased: bool,
}

impl ParseState {
    fn apply(&mut self, modifier: &str) -> Result<(), ModifierError> {
        let op = match modifier {
            "contains" => Some(TextOp::Contains),
            "startswith" => Some(TextOp::StartsWith),
            "endswith" => Some(TextOp::EndsWith),
            _ => None,
        };
        if let Some(op) = op {
            if self.op.is_some() {
                return Err(ModifierError(format!(
                    "modifier '{modifier}' after another string modifier"
                )));
            }
            self.op = Some(op);
            return Ok(());
        }
        match (modifier, self.regex.as_mut()) {
            ("re", None) => self.regex = Some(RegexFlags::default()),
            ("i", Some(flags)) => flags.insensitive = true,
            ("m", Some(flags)) => flags.multi_line = true,
            ("s", Some(flags)) => flags.dot_all = true,
            ("cidr", _) => self.cidr = true,
            ("exists", _) => self.exists = true,
            ("fieldref", _) => self.fieldref = true,
            ("all", _) => self.all = true,
            ("cased", _) => self.cased = true,
            _ => return Err(ModifierError(format!("modifier '{modifier}'"))),
        }
        Ok(())
    }

    fn finish(self, path: Vec<String>) -> Result<FieldSpec, ModifierError> {
        let kinds = [self.regex.is_some(), self.cidr, self.exists, self.fieldref];
        if kinds.iter().filter(|k| **k).count() > 1 {
            return Err(ModifierError(
                "combination of re/cidr/exists/fieldref".into(),
            ));
        }
        if self.op.is_some() && (self.regex.is_some() || self.cidr || self.exists) {
            return Err(ModifierError(
                "string modifier combined with re/cidr/exists".into(),
            ));
        }
        let op = self.op.unwrap_or(TextOp::Equals);
        let kind = if let Some(flags) = self.regex {
            ValueKind::Regex(flags)
        } else if self.cidr {
            ValueKind::Cidr
        } else if self.exists {
            ValueKind::Exists
        } else if self.fieldref {
            ValueKind::FieldRef(op)
        } else {
            ValueKind::Text(op)
        };
        if path.is_empty() {
            return Err(ModifierError(
                "keyword search (value without a field name)".into(),
            ));
        }
        Ok(FieldSpec {
            path,
            kind,
            all: self.all,
            cased: self.cased,
        })
    }
}
