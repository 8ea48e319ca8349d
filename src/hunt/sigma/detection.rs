//! Evaluation of a compiled detection on one document: field items, selections (maps and
//! lists of maps) and the condition over them.
//!
//! Owns: the meaning of absent / null / empty for each kind of item, `all`, `exists` and
//! `fieldref`. Must not: parse YAML or modifiers, or decide routing.

use super::condition::Condition;
use super::document::{value_text, visit_values, Document, FieldRef};
use super::value::{fold_case, TextMatcher, TextOp, ValueMatcher};

/// One `field|modifiers: values` item, compiled.
#[derive(Debug, Clone)]
pub struct FieldItem {
    pub path: Vec<String>,
    pub test: ItemTest,
}

/// What an item checks on the field's values.
#[derive(Debug, Clone)]
pub enum ItemTest {
    /// Value list: any value matches (or all of them with `all`).
    Values {
        values: Vec<ValueMatcher>,
        all: bool,
    },
    /// `exists: true|false`: the field is present with a non-null value, or not.
    Exists(bool),
    /// `fieldref`: compared with the value(s) of other fields.
    FieldRef {
        others: Vec<Vec<String>>,
        op: TextOp,
        cased: bool,
        all: bool,
    },
}

/// A selection: a list of maps (any of them), each map a list of items (all of them).
#[derive(Debug, Clone)]
pub struct Selection {
    pub name: String,
    pub alternatives: Vec<Vec<FieldItem>>,
}

/// The compiled `detection` block.
#[derive(Debug, Clone)]
pub struct Detection {
    pub selections: Vec<Selection>,
    pub condition: Condition,
}

impl Detection {
    pub fn matches<D: Document + ?Sized>(&self, doc: &D) -> bool {
        self.eval(&self.condition, doc)
    }

    fn eval<D: Document + ?Sized>(&self, condition: &Condition, doc: &D) -> bool {
        match condition {
            Condition::Selection(i) => self.selections[*i].matches(doc),
            Condition::And(parts) => parts.iter().all(|p| self.eval(p, doc)),
            Condition::Or(parts) => parts.iter().any(|p| self.eval(p, doc)),
            Condition::Not(inner) => !self.eval(inner, doc),
        }
    }
}

impl Detection {
    /// Every field path the detection reads, `fieldref` targets included.
    pub fn paths(&self) -> Vec<Vec<String>> {
        let mut paths = Vec::new();
        for item in self
            .selections
            .iter()
            .flat_map(|s| s.alternatives.iter().flatten())
        {
            paths.push(item.path.clone());
            if let ItemTest::FieldRef { others, .. } = &item.test {
                paths.extend(others.iter().cloned());
            }
        }
        paths.sort();
        paths.dedup();
        paths
    }
}

impl Selection {
    pub fn matches<D: Document + ?Sized>(&self, doc: &D) -> bool {
        self.alternatives
            .iter()
            .any(|items| items.iter().all(|item| item.matches(doc)))
    }
}

impl FieldItem {
    pub fn matches<D: Document + ?Sized>(&self, doc: &D) -> bool {
        match &self.test {
            ItemTest::Exists(expected) => has_value(doc, &self.path) == *expected,
            ItemTest::Values { values, all } => {
                let one = |value: &ValueMatcher| self.matches_value(doc, value);
                if *all {
                    values.iter().all(one)
                } else {
                    values.iter().any(one)
                }
            }
            ItemTest::FieldRef {
                others,
                op,
                cased,
                all,
            } => {
                let one =
                    |other: &Vec<String>| fieldref_matches(doc, &self.path, other, *op, *cased);
                if *all {
                    others.iter().all(one)
                } else {
                    others.iter().any(one)
                }
            }
        }
    }

    fn matches_value<D: Document + ?Sized>(&self, doc: &D, value: &ValueMatcher) -> bool {
        if let ValueMatcher::Null = value {
            return !has_value(doc, &self.path);
        }
        visit_values(doc, &self.path, &mut |found| match value_text(found) {
            Some(text) => value.matches_text(&text),
            None => false,
        })
    }
}

/// True when `path` reaches at least one non-null value (an empty array reaches none).
fn has_value<D: Document + ?Sized>(doc: &D, path: &[String]) -> bool {
    visit_values(doc, path, &mut |found| {
        !matches!(found, FieldRef::Null | FieldRef::Absent)
    })
}

/// Any value of `path` compared with any value of `other`; null or absent never matches.
fn fieldref_matches<D: Document + ?Sized>(
    doc: &D,
    path: &[String],
    other: &[String],
    op: TextOp,
    cased: bool,
) -> bool {
    let mut references = Vec::new();
    visit_values(doc, other, &mut |found| {
        if let Some(text) = value_text(found) {
            references.push(if cased {
                text.into_owned()
            } else {
                fold_case(&text).into_owned()
            });
        }
        false
    });
    if references.is_empty() {
        return false;
    }
    visit_values(doc, path, &mut |found| {
        let Some(text) = value_text(found) else {
            return false;
        };
        references.iter().any(|reference| {
            let matcher = TextMatcher::Literal {
                op,
                needle: reference.clone(),
                cased,
            };
            matcher.is_match(&text)
        })
    })
}
