//! The Sigma condition grammar: `and`, `or`, `not`, parentheses, `1 of X*`, `all of X*`,
//! `1 of them`, `all of them`, and a list of conditions (joined by `or`).
//!
//! Owns: tokenizing and parsing a condition and resolving its names to selection indices.
//! Must not: evaluate selections or know about fields (see `detection.rs`).

use std::fmt;

/// A condition whose names are resolved to indices into the rule's selections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    Selection(usize),
    And(Vec<Condition>),
    Or(Vec<Condition>),
    Not(Box<Condition>),
}

/// Why a condition could not be used: unsupported syntax or a name that matches nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConditionError {
    Unsupported(String),
    Invalid(String),
}

impl fmt::Display for ConditionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConditionError::Unsupported(s) | ConditionError::Invalid(s) => f.write_str(s),
        }
    }
}

/// Parses `text` against the rule's selection names (in definition order).
pub fn parse_condition(text: &str, names: &[String]) -> Result<Condition, ConditionError> {
    if text.contains('|') {
        return Err(ConditionError::Unsupported(
            "aggregation in condition ('|')".into(),
        ));
    }
    let tokens = tokenize(text);
    let mut parser = Parser {
        tokens: &tokens,
        pos: 0,
        names,
    };
    let condition = parser.parse_or()?;
    match parser.peek() {
        None => Ok(condition),
        Some(token) => Err(ConditionError::Invalid(format!(
            "unexpected '{token}' in condition"
        ))),
    }
}

fn tokenize(text: &str) -> Vec<String> {
    let spaced = text.replace('(', " ( ").replace(')', " ) ");
    spaced.split_whitespace().map(str::to_owned).collect()
}

struct Parser<'a> {
    tokens: &'a [String],
    pos: usize,
    names: &'a [String],
}

impl Parser<'_> {
    fn peek(&self) -> Option<&str> {
        self.tokens.get(self.pos).map(String::as_str)
    }

    fn next(&mut self) -> Option<&str> {
        let token = self.tokens.get(self.pos).map(String::as_str);
        self.pos += 1;
        token
    }

    fn peek_keyword(&self, keyword: &str) -> bool {
        self.peek().is_some_and(|t| t.eq_ignore_ascii_case(keyword))
    }

    fn parse_or(&mut self) -> Result<Condition, ConditionError> {
        let mut parts = vec![self.parse_and()?];
        while self.peek_keyword("or") {
            self.pos += 1;
            parts.push(self.parse_and()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Condition::Or(parts)
        })
    }

    fn parse_and(&mut self) -> Result<Condition, ConditionError> {
        let mut parts = vec![self.parse_not()?];
        while self.peek_keyword("and") {
            self.pos += 1;
            parts.push(self.parse_not()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Condition::And(parts)
        })
    }

    fn parse_not(&mut self) -> Result<Condition, ConditionError> {
        if self.peek_keyword("not") {
            self.pos += 1;
            return Ok(Condition::Not(Box::new(self.parse_not()?)));
        }
        self.parse_primary()
    }

    fn parse_primary(&mut self) -> Result<Condition, ConditionError> {
        let names = self.names;
        let token = match self.next() {
            Some(t) => t.to_owned(),
            None => return Err(ConditionError::Invalid("condition ends too early".into())),
        };
        if token == "(" {
            let inner = self.parse_or()?;
            return match self.next() {
                Some(")") => Ok(inner),
                _ => Err(ConditionError::Invalid("missing ')' in condition".into())),
            };
        }
        if self.peek_keyword("of") {
            self.pos += 1;
            let target = self
                .next()
                .ok_or_else(|| ConditionError::Invalid("'of' without a target".into()))?
                .to_owned();
            return quantified(&token, &target, names);
        }
        if is_keyword(&token) || token == ")" {
            return Err(ConditionError::Invalid(format!(
                "unexpected '{token}' in condition"
            )));
        }
        match names.iter().position(|n| *n == token) {
            Some(index) => Ok(Condition::Selection(index)),
            None => Err(ConditionError::Invalid(format!(
                "condition names unknown selection '{token}'"
            ))),
        }
    }
}

fn is_keyword(token: &str) -> bool {
    ["and", "or", "not", "of", "them"]
        .iter()
        .any(|k| token.eq_ignore_ascii_case(k))
}

/// `1 of X`, `any of X`, `all of X` with X a name pattern (`*` wildcards) or `them`.
fn quantified(
    quantifier: &str,
    target: &str,
    names: &[String],
) -> Result<Condition, ConditionError> {
    let indices: Vec<usize> = names
        .iter()
        .enumerate()
        .filter(|(_, name)| {
            if target.eq_ignore_ascii_case("them") {
                !name.starts_with('_')
            } else {
                name_matches(target, name)
            }
        })
        .map(|(i, _)| i)
        .collect();
    if indices.is_empty() {
        return Err(ConditionError::Invalid(format!(
            "'{quantifier} of {target}' matches no selection"
        )));
    }
    let parts = indices.into_iter().map(Condition::Selection).collect();
    if quantifier == "1" || quantifier.eq_ignore_ascii_case("any") {
        Ok(Condition::Or(parts))
    } else if quantifier.eq_ignore_ascii_case("all") {
        Ok(Condition::And(parts))
    } else {
        Err(ConditionError::Unsupported(format!(
            "quantifier '{quantifier} of'"
        )))
    }
}

/// Matches a selection name against a pattern where `*` stands for any run of characters.
fn name_matches(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, tail)) => {
            let Some(rest) = name.strip_prefix(head) else {
                return false;
            };
            (0..=rest.len())
                .filter(|i| rest.is_char_boundary(*i))
                .any(|i| name_matches(tail, &rest[i..]))
        }
    }
}
