//! Character cursor and value literals shared by the JSON and delimited
//! parsers. Owns value syntax (quoted, bare, numeric, `%regex%`) and the
//! leading/trailing `*` wildcard rule; knows nothing about selectors or fields.

use super::regex::CwRegex;
use super::{MatchOptions, PatternError, PatternErrorKind, UnquotedValueMode, MAX_REGEXES};

/// A position in the pattern's characters, bounded by `end`.
pub(super) struct Cursor<'a> {
    pub chars: &'a [char],
    pub pos: usize,
    pub end: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(chars: &'a [char], pos: usize, end: usize) -> Self {
        Cursor { chars, pos, end }
    }

    pub fn peek(&self) -> Option<char> {
        self.peek_at(0)
    }

    pub fn peek_at(&self, n: usize) -> Option<char> {
        let i = self.pos + n;
        (i < self.end).then(|| self.chars[i])
    }

    pub fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += 1;
        Some(c)
    }

    pub fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    /// Consume `s` if the input continues with it.
    pub fn eat(&mut self, s: &str) -> bool {
        let n = s.chars().count();
        if self.pos + n > self.end {
            return false;
        }
        if s.chars().zip(&self.chars[self.pos..]).all(|(a, &b)| a == b) {
            self.pos += n;
            true
        } else {
            false
        }
    }

    /// Consume keyword `kw` only if no identifier character follows it.
    pub fn eat_keyword(&mut self, kw: &str) -> bool {
        let save = self.pos;
        if self.eat(kw) && !self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
            return true;
        }
        self.pos = save;
        false
    }

    pub fn text(&self, from: usize, to: usize) -> String {
        self.chars[from..to.min(self.end)].iter().collect()
    }

    pub fn at_end(&self) -> bool {
        self.pos >= self.end
    }
}

/// A literal on the right of a comparison.
#[derive(Debug, Clone)]
pub(super) enum Literal {
    /// Quoted or bare non-numeric text with optional edge wildcards.
    Str(WildStr),
    /// A bare NUMBER_LIT; `text` is its spelling for textual comparisons.
    Num { value: f64, text: String },
    /// `%…%`.
    Regex(CwRegex),
}

/// Text with an optional leading and/or trailing `*` (a middle `*` is literal).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct WildStr {
    pub core: String,
    pub lead: bool,
    pub trail: bool,
}

impl WildStr {
    pub fn new(text: &str) -> Self {
        let (lead, rest) = match text.strip_prefix('*') {
            Some(r) => (true, r),
            None => (false, text),
        };
        let (trail, core) = match rest.strip_suffix('*') {
            Some(c) => (true, c),
            None => (false, rest),
        };
        WildStr {
            core: core.to_string(),
            lead,
            trail,
        }
    }

    pub fn has_wildcard(&self) -> bool {
        self.lead || self.trail
    }

    pub fn matches(&self, s: &str, star_matches_empty: bool) -> bool {
        if self.core.is_empty() && self.has_wildcard() && !star_matches_empty && s.is_empty() {
            return false;
        }
        match (self.lead, self.trail) {
            (false, false) => s == self.core,
            (true, false) => s.ends_with(&self.core),
            (false, true) => s.starts_with(&self.core),
            (true, true) => s.contains(&self.core),
        }
    }
}

/// `[+-]? DIGITS ('.' DIGITS)? ([eE] [+-]? DIGITS)?` (§1.4.1 NUMBER_LIT).
pub(super) fn number_lit(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize| {
        let st = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i > st
    };
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    if !digits(&mut i) {
        return None;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if !digits(&mut i) {
            return None;
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        if !digits(&mut i) {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    s.parse().ok()
}

fn bare_char(c: char, mode: UnquotedValueMode) -> bool {
    match mode {
        UnquotedValueMode::Conservative => c.is_ascii_alphanumeric() || "_.*:/+-".contains(c),
        UnquotedValueMode::Permissive => !c.is_whitespace() && !"(){}[]\",&|!=<>".contains(c),
    }
}

/// Characters that may legally follow a value.
fn value_terminator(c: char) -> bool {
    c.is_whitespace() || ")}],&|".contains(c)
}

/// Parse a value at the cursor; `regexes` counts regexes toward the limit.
pub(super) fn parse_value(
    cur: &mut Cursor,
    opts: &MatchOptions,
    regexes: &mut usize,
    after: &str,
) -> Result<Literal, PatternError> {
    let start = cur.pos;
    match cur.peek() {
        Some('"') => parse_quoted(cur).map(|s| Literal::Str(WildStr::new(&s))),
        Some('%') => {
            cur.bump();
            let body = cur.pos;
            while cur.peek().is_some_and(|c| c != '%') {
                cur.pos += 1;
            }
            if cur.peek() != Some('%') {
                return Err(PatternError::expected(
                    start,
                    "a closing % for the regex",
                    None,
                ));
            }
            *regexes += 1;
            if *regexes > MAX_REGEXES {
                return Err(PatternError::new(start, PatternErrorKind::TooManyRegexes));
            }
            let re = CwRegex::parse(cur.chars, body, cur.pos)?;
            cur.bump();
            Ok(Literal::Regex(re))
        }
        _ => {
            while cur
                .peek()
                .is_some_and(|c| bare_char(c, opts.unquoted_values))
            {
                cur.pos += 1;
            }
            if cur.peek().is_some_and(|c| !value_terminator(c)) {
                let what = if cur.pos == start {
                    "a value (quoted \"text\", number, bare word or %regex%)"
                } else {
                    "a quoted value: unquoted values may only contain letters, digits and _ . * : / + -"
                };
                return Err(PatternError::expected(cur.pos, what, Some(after)));
            }
            if cur.pos == start {
                return Err(PatternError::expected(start, "a value", Some(after)));
            }
            let text = cur.text(start, cur.pos);
            Ok(match number_lit(&text) {
                Some(value) => Literal::Num { value, text },
                None => Literal::Str(WildStr::new(&text)),
            })
        }
    }
}

/// `"…"` with `\"` and `\\` escapes; other backslashes are kept literally.
pub(super) fn parse_quoted(cur: &mut Cursor) -> Result<String, PatternError> {
    let start = cur.pos;
    cur.bump();
    let mut out = String::new();
    loop {
        match cur.bump() {
            None => {
                return Err(PatternError::expected(
                    start,
                    "a closing \" for this string",
                    None,
                ))
            }
            Some('"') => return Ok(out),
            Some('\\') if matches!(cur.peek(), Some('"') | Some('\\')) => {
                out.extend(cur.bump());
            }
            Some(c) => out.push(c),
        }
    }
}
