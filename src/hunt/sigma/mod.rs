//! Sigma rules for CloudTrail records: load a rule folder once, route each record to the
//! rules that could match it, evaluate on any [`Document`].
//!
//! Owns: the rule set, its public API and the walk over rule files. Must not: parse record
//! bytes (the caller does, into `serde_json::Value` or `simd_json::BorrowedValue`).

mod condition;
mod detection;
mod document;
mod error;
mod load;
mod modifier;
mod route;
mod value;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

pub use document::{compact_json, visit_values, Document, FieldRef, Number};
pub use error::{LoadError, Problem, Unsupported};
pub use load::RuleMeta;
pub use route::{Route, RuleIndex, EVENT_NAME, EVENT_SOURCE};

use detection::Detection;
use route::RouteIndex;

/// One compiled rule: metadata, routing and the detection to evaluate.
#[derive(Debug, Clone)]
pub struct SigmaRule {
    meta: RuleMeta,
    detection: Detection,
    route: Route,
}

impl SigmaRule {
    /// Compiles one rule from YAML text; `file` is only recorded in the metadata.
    pub fn from_yaml(file: &Path, text: &str) -> Result<SigmaRule, Unsupported> {
        let (meta, detection) = load::compile_rule(file, text).map_err(|problem| Unsupported {
            file: file.to_path_buf(),
            problem,
        })?;
        let route = Route::of(&detection);
        Ok(SigmaRule {
            meta,
            detection,
            route,
        })
    }

    pub fn meta(&self) -> &RuleMeta {
        &self.meta
    }

    /// The `eventSource` / `eventName` values every match requires (lowercase).
    pub fn route(&self) -> &Route {
        &self.route
    }

    pub fn matches<D: Document + ?Sized>(&self, doc: &D) -> bool {
        self.detection.matches(doc)
    }

    /// Every field path the rule reads (dotted keys split), sorted.
    pub fn paths(&self) -> Vec<Vec<String>> {
        self.detection.paths()
    }
}

/// All loaded rules plus the routing index over them.
#[derive(Debug, Clone, Default)]
pub struct SigmaRuleSet {
    rules: Vec<SigmaRule>,
    index: RouteIndex,
}

impl SigmaRuleSet {
    /// Loads rule files and folders (recursively, `*.yml` / `*.yaml`, in sorted order).
    /// Files that fail are returned as [`Unsupported`] entries; only an unreadable path
    /// is fatal.
    pub fn load(paths: &[PathBuf]) -> Result<(SigmaRuleSet, Vec<Unsupported>), LoadError> {
        let mut files = Vec::new();
        for path in paths {
            collect_rule_files(path, &mut files)?;
        }
        files.sort();
        files.dedup();
        let mut rules = Vec::new();
        let mut problems = Vec::new();
        for file in files {
            let text = std::fs::read_to_string(&file).map_err(|source| LoadError::Read {
                path: file.clone(),
                source,
            })?;
            match SigmaRule::from_yaml(&file, &text) {
                Ok(rule) => rules.push(rule),
                Err(problem) => problems.push(problem),
            }
        }
        Ok((SigmaRuleSet::from_rules(rules), problems))
    }

    pub fn from_rules(rules: Vec<SigmaRule>) -> SigmaRuleSet {
        let index = RouteIndex::build(rules.iter().map(|r| r.route.clone()).collect());
        SigmaRuleSet { rules, index }
    }

    pub fn rules(&self) -> &[SigmaRule] {
        &self.rules
    }

    pub fn get(&self, index: RuleIndex) -> &SigmaRule {
        &self.rules[index.0]
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Rules that could match a record with this `eventSource` / `eventName` (`None`:
    /// absent). Each candidate appears once. Values compare case-insensitively.
    pub fn candidates<'a>(
        &'a self,
        event_source: Option<&str>,
        event_name: Option<&str>,
    ) -> impl Iterator<Item = RuleIndex> + 'a {
        let mut out = Vec::new();
        self.index
            .candidates_into(event_source, event_name, &mut out);
        out.into_iter()
    }

    /// Routes `doc` by its own `eventSource` / `eventName` and returns the matching rules.
    /// A record where either field is neither a string nor absent is tested against all.
    pub fn matching<D: Document + ?Sized>(&self, doc: &D) -> Vec<RuleIndex> {
        let mut rules = Vec::new();
        self.route(doc, &mut rules);
        rules.retain(|i| self.get(*i).matches(doc));
        rules
    }

    /// The rules `doc` is routed to, into `out` (cleared first): by its own
    /// `eventSource` / `eventName`, or every rule when either is neither a
    /// string nor absent.
    pub fn route<D: Document + ?Sized>(&self, doc: &D, out: &mut Vec<RuleIndex>) {
        let routing_key = |name: &str| match doc.field(&[name]) {
            FieldRef::String(s) => Ok(Some(s)),
            FieldRef::Absent => Ok(None),
            _ => Err(()),
        };
        match (routing_key(EVENT_SOURCE), routing_key(EVENT_NAME)) {
            (Ok(source), Ok(name)) => self.index.candidates_into(source, name, out),
            _ => {
                out.clear();
                out.extend((0..self.rules.len()).map(RuleIndex));
            }
        }
    }
}

fn collect_rule_files(path: &Path, files: &mut Vec<PathBuf>) -> Result<(), LoadError> {
    let read_error = |source| LoadError::Read {
        path: path.to_path_buf(),
        source,
    };
    let metadata = std::fs::metadata(path).map_err(read_error)?;
    if metadata.is_file() {
        files.push(path.to_path_buf());
        return Ok(());
    }
    for entry in std::fs::read_dir(path).map_err(read_error)? {
        let child = entry.map_err(read_error)?.path();
        if child.is_dir() {
            collect_rule_files(&child, files)?;
        } else if child
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("yml") || e.eq_ignore_ascii_case("yaml"))
        {
            files.push(child);
        }
    }
    Ok(())
}
