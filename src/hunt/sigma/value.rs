//! Compiled matchers for one rule value: string comparisons with Sigma wildcards, regular
//! expressions, CIDR ranges and the null test.
//!
//! Owns: wildcard/escape parsing, case folding, compiling each value once at load time.
//! Must not: walk documents or know about field paths (see `detection.rs`), nor parse
//! modifier names (see `modifier.rs`).

use std::borrow::Cow;
use std::net::IpAddr;

use ipnet::IpNet;
use regex::Regex;

/// Where a literal must sit in the field's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextOp {
    Equals,
    Contains,
    StartsWith,
    EndsWith,
}

/// One piece of a Sigma string value after escapes are resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Literal(String),
    AnyRun,
    AnyChar,
}

/// A string comparison compiled once: a plain (pre-lowercased) literal when the value has
/// no wildcard, else an anchored regex.
#[derive(Debug, Clone)]
pub enum TextMatcher {
    Literal {
        op: TextOp,
        needle: String,
        cased: bool,
    },
    Glob(Regex),
}

impl TextMatcher {
    /// Compiles a Sigma string value for `op`. `*` and `?` are wildcards; `\*`, `\?` and
    /// `\\` are the literal characters; any other backslash is itself.
    pub fn compile(value: &str, op: TextOp, cased: bool) -> Result<Self, regex::Error> {
        let tokens = tokenize(value);
        let has_wildcard = tokens.iter().any(|t| !matches!(t, Token::Literal(_)));
        if !has_wildcard {
            let text: String = tokens
                .into_iter()
                .map(|t| match t {
                    Token::Literal(s) => s,
                    _ => String::new(),
                })
                .collect();
            let needle = if cased { text } else { text.to_lowercase() };
            return Ok(TextMatcher::Literal { op, needle, cased });
        }
        Ok(TextMatcher::Glob(glob_regex(&tokens, op, cased)?))
    }

    /// The lowercase literal of a plain case-insensitive equality, for routing; `None` for
    /// any other comparison (wildcards, `contains`, `cased`…), which cannot pin a value.
    pub fn equality_literal(&self) -> Option<&str> {
        match self {
            TextMatcher::Literal {
                op: TextOp::Equals,
                needle,
                cased: false,
            } => Some(needle),
            _ => None,
        }
    }

    pub fn is_match(&self, text: &str) -> bool {
        match self {
            TextMatcher::Glob(re) => re.is_match(text),
            TextMatcher::Literal { op, needle, cased } if !*cased && text.is_ascii() => {
                // The needle is lowercase already, and an ASCII text folds to
                // its ASCII lowercase: compare without building it.
                let (hay, needle) = (text.as_bytes(), needle.as_bytes());
                let same = |at: usize| hay[at..at + needle.len()].eq_ignore_ascii_case(needle);
                let room = hay.len().checked_sub(needle.len());
                match (op, room) {
                    (_, None) => false,
                    (TextOp::Equals, Some(room)) => room == 0 && same(0),
                    (TextOp::StartsWith, Some(_)) => same(0),
                    (TextOp::EndsWith, Some(room)) => same(room),
                    (TextOp::Contains, Some(room)) => (0..=room).any(same),
                }
            }
            TextMatcher::Literal { op, needle, cased } => {
                let hay = if *cased {
                    Cow::Borrowed(text)
                } else {
                    fold_case(text)
                };
                match op {
                    TextOp::Equals => hay == needle.as_str(),
                    TextOp::Contains => hay.contains(needle.as_str()),
                    TextOp::StartsWith => hay.starts_with(needle.as_str()),
                    TextOp::EndsWith => hay.ends_with(needle.as_str()),
                }
            }
        }
    }
}

/// Lowercases for case-insensitive comparison, borrowing when nothing changes.
pub fn fold_case(text: &str) -> Cow<'_, str> {
    if text.is_ascii() {
        if text.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(text.to_ascii_lowercase())
        } else {
            Cow::Borrowed(text)
        }
    } else {
        Cow::Owned(text.to_lowercase())
    }
}

fn tokenize(value: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut literal = String::new();
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.peek() {
                Some(&next @ ('*' | '?' | '\\')) => {
                    literal.push(next);
                    chars.next();
                }
                _ => literal.push('\\'),
            },
            '*' | '?' => {
                if !literal.is_empty() {
                    tokens.push(Token::Literal(std::mem::take(&mut literal)));
                }
                tokens.push(if c == '*' {
                    Token::AnyRun
                } else {
                    Token::AnyChar
                });
            }
            c => literal.push(c),
        }
    }
    if !literal.is_empty() {
        tokens.push(Token::Literal(literal));
    }
    tokens
}

fn glob_regex(tokens: &[Token], op: TextOp, cased: bool) -> Result<Regex, regex::Error> {
    let mut pattern = String::from(if cased { "(?s)^" } else { "(?si)^" });
    if matches!(op, TextOp::Contains | TextOp::EndsWith) {
        pattern.push_str(".*");
    }
    for token in tokens {
        match token {
            Token::Literal(s) => pattern.push_str(&regex::escape(s)),
            Token::AnyRun => pattern.push_str(".*"),
            Token::AnyChar => pattern.push('.'),
        }
    }
    if matches!(op, TextOp::Contains | TextOp::StartsWith) {
        pattern.push_str(".*");
    }
    pattern.push('$');
    Regex::new(&pattern)
}

/// Flags of the `re` modifier's sub-modifiers (`re|i`, `re|m`, `re|s`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RegexFlags {
    pub insensitive: bool,
    pub multi_line: bool,
    pub dot_all: bool,
}

/// Compiles a `re` value: unanchored search, case-sensitive unless `re|i`.
pub fn compile_regex(value: &str, flags: RegexFlags) -> Result<Regex, regex::Error> {
    regex::RegexBuilder::new(value)
        .case_insensitive(flags.insensitive)
        .multi_line(flags.multi_line)
        .dot_matches_new_line(flags.dot_all)
        .build()
}

/// A compiled rule value, tested against one non-null field value's text.
#[derive(Debug, Clone)]
pub enum ValueMatcher {
    /// `field: null`: matches when the field is absent or JSON null (handled by the caller).
    Null,
    Text(TextMatcher),
    Regex(Regex),
    Cidr(IpNet),
}

impl ValueMatcher {
    /// Tests the text of a present, non-null value. `Null` never matches a present value.
    pub fn matches_text(&self, text: &str) -> bool {
        match self {
            ValueMatcher::Null => false,
            ValueMatcher::Text(m) => m.is_match(text),
            ValueMatcher::Regex(re) => re.is_match(text),
            ValueMatcher::Cidr(net) => text
                .trim()
                .parse::<IpAddr>()
                .is_ok_and(|ip| net.contains(&ip)),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The comparison by folding both sides, as the engine defines it.
    fn reference(op: TextOp, needle: &str, text: &str) -> bool {
        let (hay, needle) = (fold_case(text), needle.to_lowercase());
        match op {
            TextOp::Equals => hay == needle,
            TextOp::Contains => hay.contains(&needle),
            TextOp::StartsWith => hay.starts_with(&needle),
            TextOp::EndsWith => hay.ends_with(&needle),
        }
    }

    proptest! {
        #[test]
        fn ascii_comparisons_fold_case_like_the_reference(
            needle in "[aAbB\u{212A}kK.]{0,4}",
            text in "[aAbBkK.]{0,6}",
            op in prop_oneof![
                Just(TextOp::Equals),
                Just(TextOp::Contains),
                Just(TextOp::StartsWith),
                Just(TextOp::EndsWith),
            ],
        ) {
            let matcher = TextMatcher::compile(&needle, op, false).unwrap();
            prop_assert_eq!(matcher.is_match(&text), reference(op, &needle, &text));
        }
    }
}
