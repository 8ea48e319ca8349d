//! Conservative byte prefilter derived from a compiled pattern, for scanners
//! that see the raw JSON text of a CloudTrail record before parsing it.
//!
//! Contract (soundness): let `raw` be a record's JSON text in any formatting
//! and `msg` either `raw` itself or its compact re-serialization (§1.8). If
//! the pattern matches `msg`, then [`Prefilter::may_match`]`(raw)` is true.
//! It achieves this by
//! * only requiring literals that lie inside one JSON string, key or
//!   `true`/`false`/`null` token (never across punctuation or whitespace,
//!   and never text made only of number characters, whose spelling
//!   re-serialization may change), and
//! * treating a record that contains a backslash as a candidate, since
//!   escapes (`\uXXXX`, `\/`) make decoded text differ from raw bytes:
//!   for a JSON pattern whose selectors are plain keys, only a backslash in
//!   a string value of one of those keys, or in a key that decodes to one
//!   ([`crate::read::escape`]), because its literals come from those values
//!   alone; for any other pattern, every backslash.
//!
//! Callers that use [`Prefilter::clauses`] directly must apply the
//! backslash rule (any backslash is always safe).

use super::cursor::{Literal, WildStr};
use super::json::{Cond, Expr, Op, Step, Test};
use super::terms::Terms;
use super::{Kind, NullBoolEqMode};
use crate::read::escape::escapes_touch_keys;

/// Required literals in CNF: all clauses must hold; a clause holds when any
/// of its literals occurs. No clauses = no filtering.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Prefilter {
    clauses: Vec<Vec<Vec<u8>>>,
    /// The keys whose strings an escape must be in to matter; `None`: any.
    escape_keys: Option<Vec<String>>,
}

type Cnf = Vec<Vec<Vec<u8>>>;

impl Prefilter {
    /// The clauses, or `None` when the pattern gives nothing to filter on.
    pub fn clauses(&self) -> Option<Vec<Vec<&[u8]>>> {
        if self.clauses.is_empty() {
            return None;
        }
        Some(
            self.clauses
                .iter()
                .map(|c| c.iter().map(Vec::as_slice).collect())
                .collect(),
        )
    }

    /// True when every record is a candidate.
    pub fn is_trivial(&self) -> bool {
        self.clauses.is_empty()
    }

    /// False only if the pattern provably cannot match this record.
    pub fn may_match(&self, raw: &[u8]) -> bool {
        self.clauses.is_empty()
            || self.escapes_matter(raw)
            || self
                .clauses
                .iter()
                .all(|c| c.iter().any(|lit| contains(raw, lit)))
    }
}

impl Prefilter {
    /// The keys whose strings an escape must be in to hide a literal;
    /// `None` when any escape may.
    pub fn escape_keys(&self) -> Option<&[String]> {
        self.escape_keys.as_deref()
    }

    /// Whether a backslash in `raw` could hide one of the literals.
    fn escapes_matter(&self, raw: &[u8]) -> bool {
        if memchr::memchr(b'\\', raw).is_none() {
            return false;
        }
        let Some(keys) = &self.escape_keys else {
            return true;
        };
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        escapes_touch_keys(raw, memchr::memchr_iter(b'\\', raw), &keys)
    }
}

/// Every key a JSON expression's selectors name, when they are all plain
/// keys (a value reached through an index or a wildcard need not sit
/// right after its key).
fn selector_keys(e: &Expr) -> Option<Vec<String>> {
    match e {
        Expr::And(xs) | Expr::Or(xs) => {
            let mut all = Vec::new();
            for x in xs {
                all.extend(selector_keys(x)?);
            }
            Some(all)
        }
        // `$` alone reaches the record itself, which no key precedes.
        Expr::Cond(c) if c.steps.is_empty() => None,
        Expr::Cond(c) => c
            .steps
            .iter()
            .map(|s| match s {
                Step::Key(k) => Some(k.clone()),
                _ => None,
            })
            .collect(),
    }
}

/// Substring search anchored on the first byte.
pub(crate) fn contains(hay: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return true;
    };
    let mut i = 0;
    while i + needle.len() <= hay.len() {
        match hay[i..=hay.len() - needle.len()]
            .iter()
            .position(|&b| b == first)
        {
            None => return false,
            Some(p) => {
                i += p;
                if &hay[i + 1..i + needle.len()] == rest {
                    return true;
                }
                i += 1;
            }
        }
    }
    false
}

pub(super) fn build(kind: &Kind, null_bool: NullBoolEqMode) -> Prefilter {
    let mut clauses = match kind {
        Kind::Terms(t) => terms_cnf(t),
        Kind::Json(e) => expr_cnf(e, null_bool),
        Kind::MatchAll | Kind::Regex(_) | Kind::Delimited(_) => Vec::new(),
    };
    for c in &mut clauses {
        c.sort();
        c.dedup();
    }
    clauses.sort();
    clauses.dedup();
    let escape_keys = match kind {
        Kind::Json(e) => selector_keys(e).map(|mut keys| {
            keys.sort();
            keys.dedup();
            keys
        }),
        _ => None,
    };
    Prefilter {
        clauses,
        escape_keys,
    }
}

/// Pieces of `text` that must appear verbatim in raw JSON if `text` is a
/// substring of the compact message.
fn pieces(text: &str) -> Vec<Vec<u8>> {
    text.split(|c: char| c.is_whitespace() || "{}[]:,\"".contains(c))
        .filter(|p| !p.is_empty())
        .filter(|p| !p.chars().all(|c| c.is_ascii_digit() || ".eE+-".contains(c)))
        .filter(|p| !p.contains('\u{FFFD}'))
        .map(|p| p.as_bytes().to_vec())
        .collect()
}

fn terms_cnf(t: &Terms) -> Cnf {
    let mut cnf: Cnf = t
        .required
        .iter()
        .flat_map(|r| pieces(r))
        .map(|p| vec![p])
        .collect();
    if !t.any_of.is_empty() {
        let best: Option<Vec<Vec<u8>>> = t
            .any_of
            .iter()
            .map(|a| pieces(a).into_iter().max_by_key(Vec::len))
            .collect();
        cnf.extend(best);
    }
    cnf
}

fn expr_cnf(e: &Expr, null_bool: NullBoolEqMode) -> Cnf {
    match e {
        Expr::And(xs) => xs.iter().flat_map(|x| expr_cnf(x, null_bool)).collect(),
        Expr::Or(xs) => {
            let mut clause = Vec::new();
            for x in xs {
                let best = expr_cnf(x, null_bool).into_iter().min_by_key(|c| {
                    (
                        c.len(),
                        usize::MAX - c.iter().map(Vec::len).min().unwrap_or(0),
                    )
                });
                match best {
                    Some(c) => clause.extend(c),
                    None => return Vec::new(),
                }
            }
            vec![clause]
        }
        Expr::Cond(c) => cond_literal(c, null_bool)
            .map(|l| vec![vec![l]])
            .unwrap_or_default(),
    }
}

/// The literal a matching value must contribute to raw JSON, if any.
fn cond_literal(c: &Cond, null_bool: NullBoolEqMode) -> Option<Vec<u8>> {
    let keyword = |s: &str| Some(s.as_bytes().to_vec());
    match &c.test {
        Test::IsNull => keyword("null"),
        Test::IsTrue => keyword("true"),
        Test::IsFalse => keyword("false"),
        Test::Cmp(Op::Eq, Literal::Str(w)) => str_literal(w, null_bool),
        _ => None,
    }
}

fn str_literal(w: &WildStr, null_bool: NullBoolEqMode) -> Option<Vec<u8>> {
    let core = &w.core;
    let numeric_only = core
        .chars()
        .all(|c| c.is_ascii_digit() || ".eE+-".contains(c));
    if core.is_empty() || numeric_only || core.contains('\u{FFFD}') {
        return None;
    }
    // With textual null/bool comparison the value may be a bare keyword.
    let quote = null_bool == NullBoolEqMode::NeverMatch
        || !["null", "true", "false"]
            .iter()
            .any(|k| k.contains(core.as_str()));
    let mut out = Vec::new();
    if !w.lead && quote {
        out.push(b'"');
    }
    out.extend_from_slice(core.as_bytes());
    if !w.trail && quote {
        out.push(b'"');
    }
    Some(out)
}
