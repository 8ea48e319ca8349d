//! Routing: which `eventSource` / `eventName` values a rule requires on every match path,
//! and an index from those values to the rules that could match a record.
//!
//! Owns: the soundness argument (a rule can match a record only if the record's values are
//! in the rule's sets) and the index. Must not: evaluate rules.
//!
//! Soundness holds for records whose `eventSource` and `eventName` are strings or absent;
//! a record where either is another JSON type must be tested against every rule.

use std::collections::{BTreeSet, HashMap};

use super::condition::Condition;
use super::detection::{Detection, FieldItem, ItemTest, Selection};
use super::document::{value_text, visit_values, Document};
use super::value::{fold_case, ValueMatcher};

pub const EVENT_SOURCE: &str = "eventSource";
pub const EVENT_NAME: &str = "eventName";

/// Lowercased values a rule requires; `None` where the rule does not pin the field down.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Route {
    pub event_sources: Option<Vec<String>>,
    pub event_names: Option<Vec<String>>,
    /// Every field (dotted path) the rule pins, with its allowed lowercase values, sorted
    /// by path; includes `eventSource` / `eventName` when pinned. A caller can use these
    /// to pre-filter rules that `eventSource` / `eventName` leave unrouted (for example
    /// `userIdentity.type`): a matching record has one of the values at that path (at
    /// some element, where the path crosses an array, as in [`super::visit_values`]).
    pub pins: Vec<(String, Vec<String>)>,
}

impl Route {
    pub fn of(detection: &Detection) -> Route {
        let to_vec = |set: Option<BTreeSet<String>>| set.map(|s| s.into_iter().collect());
        let mut paths: BTreeSet<String> = BTreeSet::new();
        for selection in &detection.selections {
            for item in selection.alternatives.iter().flatten() {
                paths.insert(item.path.join("."));
            }
        }
        let pins = paths
            .into_iter()
            .filter_map(|path| {
                let values = to_vec(required(detection, &detection.condition, &path))?;
                Some((path, values))
            })
            .collect();
        Route {
            event_sources: to_vec(required(detection, &detection.condition, EVENT_SOURCE)),
            event_names: to_vec(required(detection, &detection.condition, EVENT_NAME)),
            pins,
        }
    }
}

impl Route {
    /// Whether every pin holds on `doc`: a cheap pre-check (field look-ups and one
    /// lowercase each) that never rejects a record the rule matches.
    pub fn admits<D: Document + ?Sized>(&self, doc: &D) -> bool {
        self.pins.iter().all(|(path, values)| {
            let segments: Vec<&str> = path.split('.').collect();
            pin_holds(doc, &segments, values)
        })
    }
}

fn pin_holds<D: Document + ?Sized>(doc: &D, path: &[&str], values: &[String]) -> bool {
    visit_values(doc, path, &mut |found| match value_text(found) {
        Some(text) => {
            let folded = fold_case(&text);
            values.binary_search_by(|v| v.as_str().cmp(&folded)).is_ok()
        }
        None => false,
    })
}

type Required = Option<BTreeSet<String>>;

/// Values of `field` that every match path of `condition` requires.
fn required(detection: &Detection, condition: &Condition, field: &str) -> Required {
    match condition {
        Condition::Selection(i) => selection_required(&detection.selections[*i], field),
        // Under `not` nothing is required: the record may lack the field entirely.
        Condition::Not(_) => None,
        Condition::And(parts) => parts
            .iter()
            .map(|p| required(detection, p, field))
            .fold(None, intersect),
        Condition::Or(parts) => {
            let mut all = BTreeSet::new();
            for part in parts {
                all.extend(required(detection, part, field)?);
            }
            Some(all)
        }
    }
}

fn intersect(a: Required, b: Required) -> Required {
    match (a, b) {
        (None, other) | (other, None) => other,
        (Some(a), Some(b)) => Some(a.intersection(&b).cloned().collect()),
    }
}

fn selection_required(selection: &Selection, field: &str) -> Required {
    let mut all = BTreeSet::new();
    for items in &selection.alternatives {
        let map = items
            .iter()
            .map(|item| item_required(item, field))
            .fold(None, intersect);
        all.extend(map?);
    }
    Some(all)
}

/// Plain case-insensitive equality on exactly `field` (dotted) with literal values, any-of.
fn item_required(item: &FieldItem, field: &str) -> Required {
    let mut segments = field.split('.');
    let same_path = item
        .path
        .iter()
        .all(|p| segments.next() == Some(p.as_str()));
    if !same_path || segments.next().is_some() {
        return None;
    }
    let ItemTest::Values { values, all: false } = &item.test else {
        return None;
    };
    let mut set = BTreeSet::new();
    for value in values {
        match value {
            ValueMatcher::Text(text) => set.insert(text.equality_literal()?.to_owned()),
            _ => return None,
        };
    }
    Some(set)
}

/// Position of a rule in its [`super::SigmaRuleSet`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RuleIndex(pub usize);

/// Rules bucketed by the most selective field they pin: each rule sits in exactly one
/// bucket kind, so a lookup yields every candidate once.
#[derive(Debug, Default, Clone)]
pub struct RouteIndex {
    by_name: HashMap<String, Vec<RuleIndex>>,
    by_source: HashMap<String, Vec<RuleIndex>>,
    unrouted: Vec<RuleIndex>,
    routes: Vec<Route>,
}

impl RouteIndex {
    pub fn build(routes: Vec<Route>) -> RouteIndex {
        let mut index = RouteIndex::default();
        for (i, route) in routes.iter().enumerate() {
            let rule = RuleIndex(i);
            if let Some(names) = &route.event_names {
                for name in names {
                    index.by_name.entry(name.clone()).or_default().push(rule);
                }
            } else if let Some(sources) = &route.event_sources {
                for source in sources {
                    index
                        .by_source
                        .entry(source.clone())
                        .or_default()
                        .push(rule);
                }
            } else {
                index.unrouted.push(rule);
            }
        }
        index.routes = routes;
        index
    }

    /// Rules that could match a record with these values (`None`: absent
    /// from the record), into `out` (cleared first), so a caller routing
    /// every record reuses one buffer.
    pub fn candidates_into(
        &self,
        event_source: Option<&str>,
        event_name: Option<&str>,
        out: &mut Vec<RuleIndex>,
    ) {
        out.clear();
        let source = event_source.map(fold_case);
        if let Some(rules) = event_name.and_then(|n| self.by_name.get(fold_case(n).as_ref())) {
            out.extend(rules.iter().copied().filter(|rule| {
                match (&self.routes[rule.0].event_sources, &source) {
                    (None, _) => true,
                    (Some(sources), Some(s)) => {
                        sources.binary_search_by(|v| v.as_str().cmp(s)).is_ok()
                    }
                    (Some(_), None) => false,
                }
            }));
        }
        if let Some(rules) = source.as_deref().and_then(|s| self.by_source.get(s)) {
            out.extend_from_slice(rules);
        }
        out.extend_from_slice(&self.unrouted);
    }
}
