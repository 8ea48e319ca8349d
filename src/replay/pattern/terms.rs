//! Unstructured term patterns (§1.2): `ERROR`, `"a b"`, `-x`, `?a ?b`.
//! Owns term syntax and substring semantics only.

use super::cursor::{parse_quoted, Cursor};
use super::{
    MatchOptions, OnlyExclusionsMode, PatternError, PatternErrorKind, RegexInTermsMode,
    UnquotedTermMode,
};

/// A parsed term pattern, already normalised per the `?`-mixing rule.
#[derive(Debug, Clone)]
pub(super) struct Terms {
    /// Terms that must all occur.
    pub required: Vec<String>,
    /// Terms that must not occur.
    pub excluded: Vec<String>,
    /// `?` terms (only kept when every item is a `?` item).
    pub any_of: Vec<String>,
}

#[derive(Clone, Copy, PartialEq)]
enum Prefix {
    Plain,
    Optional,
    Exclude,
}

impl Terms {
    pub fn matches(&self, msg: &str, opts: &MatchOptions) -> bool {
        if self.excluded.iter().any(|t| msg.contains(t.as_str())) {
            return false;
        }
        if !self.any_of.is_empty() {
            return self.any_of.iter().any(|t| msg.contains(t.as_str()));
        }
        if self.required.is_empty() {
            return opts.only_exclusions == OnlyExclusionsMode::MatchWhenNoneOccur;
        }
        self.required.iter().all(|t| msg.contains(t.as_str()))
    }
}

pub(super) fn parse(
    chars: &[char],
    start: usize,
    end: usize,
    opts: &MatchOptions,
) -> Result<Terms, PatternError> {
    let mut cur = Cursor::new(chars, start, end);
    let mut items: Vec<(Prefix, String)> = Vec::new();
    loop {
        cur.skip_ws();
        if cur.at_end() {
            break;
        }
        let prefix = match cur.peek() {
            Some('?') => Prefix::Optional,
            Some('-') => Prefix::Exclude,
            _ => Prefix::Plain,
        };
        if prefix != Prefix::Plain {
            cur.bump();
            if prefix == Prefix::Exclude && opts.detached_dash {
                cur.skip_ws();
            }
            if cur.at_end() || cur.peek().is_some_and(char::is_whitespace) {
                return Err(PatternError::expected(cur.pos, "a term", None));
            }
        }
        items.push((prefix, parse_term(&mut cur, opts)?));
    }
    Ok(normalise(items))
}

fn parse_term(cur: &mut Cursor, opts: &MatchOptions) -> Result<String, PatternError> {
    if cur.peek() == Some('"') {
        let t = parse_quoted(cur)?;
        if cur.peek().is_some_and(|c| !c.is_whitespace()) {
            return Err(PatternError::expected(
                cur.pos,
                "whitespace after the quoted term",
                None,
            ));
        }
        return Ok(t);
    }
    let start = cur.pos;
    while cur.peek().is_some_and(|c| !c.is_whitespace()) {
        cur.pos += 1;
    }
    let t = cur.text(start, cur.pos);
    if t.starts_with('%') && opts.regex_in_terms == RegexInTermsMode::Reject {
        return Err(PatternError::new(
            start,
            PatternErrorKind::RegexNotStandalone,
        ));
    }
    let plain = t.chars().all(|c| c.is_alphanumeric() || c == '_');
    if !plain && opts.unquoted_terms == UnquotedTermMode::Reject {
        return Err(PatternError::new(start, PatternErrorKind::UnquotedTerm(t)));
    }
    Ok(t)
}

/// Apply "mixing `?` with other items ignores the `?` items" [DOC S1].
fn normalise(items: Vec<(Prefix, String)>) -> Terms {
    let all_optional = items.iter().all(|(p, _)| *p == Prefix::Optional);
    let mut t = Terms {
        required: Vec::new(),
        excluded: Vec::new(),
        any_of: Vec::new(),
    };
    for (p, s) in items {
        match p {
            Prefix::Plain => t.required.push(s),
            Prefix::Exclude => t.excluded.push(s),
            Prefix::Optional if all_optional => t.any_of.push(s),
            Prefix::Optional => {}
        }
    }
    t
}
