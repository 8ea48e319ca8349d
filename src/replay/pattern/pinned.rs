//! What a JSON pattern pins: top-level fields whose string value must be
//! one of a few texts for the pattern to match, such as `$.eventName` in
//! `{ $.eventName = A || $.eventName = B }`. A necessary condition, never a
//! sufficient one: readers of columnar copies of the records (the event
//! lake) use it to skip records, then match the rest exactly.

use std::collections::BTreeSet;

use super::cursor::{Literal, WildStr};
use super::json::{Cond, Expr, Op, Step, Test};

/// A text a field's value must be, or begin, end or contain.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum TextWant {
    Exact(String),
    Prefix(String),
    Suffix(String),
    Contains(String),
}

impl TextWant {
    /// Whether a string value satisfies it.
    pub fn admits(&self, v: &str) -> bool {
        match self {
            TextWant::Exact(s) => v == s,
            TextWant::Prefix(s) => v.starts_with(s.as_str()),
            TextWant::Suffix(s) => v.ends_with(s.as_str()),
            TextWant::Contains(s) => v.contains(s.as_str()),
        }
    }
}

/// Necessary conditions: every (top-level key, wants) must hold, with the
/// key's value a string one of the wants admits.
pub type Pinned = Vec<(String, BTreeSet<TextWant>)>;

/// The fields `e` pins.
pub(super) fn pinned(e: &Expr) -> Pinned {
    match e {
        Expr::Cond(c) => cond_pins(c).into_iter().collect(),
        Expr::And(v) => v.iter().flat_map(pinned).collect(),
        Expr::Or(v) => {
            let each: Vec<Pinned> = v.iter().map(pinned).collect();
            let mut out: Pinned = Vec::new();
            let Some(first) = each.first() else {
                return out;
            };
            for (key, _) in first {
                if out.iter().any(|(k, _)| k == key) {
                    continue;
                }
                let mut union = BTreeSet::new();
                let in_all = each
                    .iter()
                    .all(|alt| match alt.iter().find(|(k, _)| k == key) {
                        Some((_, wants)) => {
                            union.extend(wants.iter().cloned());
                            true
                        }
                        None => false,
                    });
                if in_all {
                    out.push((key.clone(), union));
                }
            }
            out
        }
    }
}

/// `$.key = "text"` (edge wildcards allowed), when only a string value can
/// satisfy it: a number's or a null's or boolean's spelling never could.
fn cond_pins(c: &Cond) -> Option<(String, BTreeSet<TextWant>)> {
    let [Step::Key(key)] = &c.steps[..] else {
        return None;
    };
    let Test::Cmp(Op::Eq, Literal::Str(w)) = &c.test else {
        return None;
    };
    if !only_strings_match(w) {
        return None;
    }
    let want = match (w.lead, w.trail) {
        (false, false) => TextWant::Exact(w.core.clone()),
        (false, true) => TextWant::Prefix(w.core.clone()),
        (true, false) => TextWant::Suffix(w.core.clone()),
        (true, true) => TextWant::Contains(w.core.clone()),
    };
    Some((key.clone(), BTreeSet::from([want])))
}

/// Whether no number, null or boolean, compared as text, can match `w`.
fn only_strings_match(w: &WildStr) -> bool {
    let numeric = |c: char| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E');
    !w.core.is_empty()
        && w.core.chars().any(|c| !numeric(c))
        && w.core.parse::<f64>().is_err()
        && ["null", "true", "false"]
            .iter()
            .all(|t| !w.matches(t, true))
}
