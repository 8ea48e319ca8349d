//! The byte gate: which records could match any rule, decided without
//! parsing, from the literal values the rules' routes pin.
//!
//! Soundness contract: a record any rule matches contains, ignoring ASCII
//! case, one of that rule's pinned literals, or a `\u` escape, or the Kelvin
//! sign (the one non-ASCII character whose lowercase is ASCII: `K` → `k`).
//! A rule with no literal that can be searched for safely opens the gate to
//! every record. Never the reverse: the gate may pass a record no rule
//! matches, never drop one a rule matches.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use super::sigma::{Route, EVENT_NAME, EVENT_SOURCE};

/// The compiled literal search over every rule's route.
#[derive(Debug)]
pub struct Gate {
    /// `None`: some rule pins nothing searchable, so every record passes.
    search: Option<AhoCorasick>,
}

impl Gate {
    /// Builds the gate for a set of routes.
    pub fn new<'a>(routes: impl IntoIterator<Item = &'a Route>) -> Gate {
        let mut literals: Vec<Vec<u8>> = vec![b"\\u".to_vec(), "\u{212A}".as_bytes().to_vec()];
        for route in routes {
            match rule_literals(route) {
                Some(lits) => literals.extend(lits),
                None => return Gate { search: None },
            }
        }
        literals.sort();
        literals.dedup();
        let search = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostFirst)
            .build(&literals)
            .ok();
        Gate { search }
    }

    /// The gate for every rule of `rules`.
    pub fn for_rules(rules: &super::sigma::SigmaRuleSet) -> Gate {
        Gate::new(rules.rules().iter().map(|r| r.route()))
    }

    /// Whether `raw` could hold a record some rule matches.
    pub fn may_match(&self, raw: &[u8]) -> bool {
        self.search.as_ref().is_none_or(|s| s.is_match(raw))
    }

    /// Whether every record passes (some rule has nothing to search for).
    pub fn passes_everything(&self) -> bool {
        self.search.is_none()
    }
}

/// The literals one rule's matches always contain: those of `eventName`,
/// else `eventSource`, else the pinned field whose shortest value is
/// longest; `None` when no pin can be searched for safely.
fn rule_literals(route: &Route) -> Option<Vec<Vec<u8>>> {
    let pinned = |field: &str| {
        route
            .pins
            .iter()
            .find(|(path, _)| path == field)
            .map(|(_, v)| v)
    };
    let preferred = [pinned(EVENT_NAME), pinned(EVENT_SOURCE)];
    let searchable = |values: &&Vec<String>| values.iter().all(|v| searchable(v));
    let values = preferred
        .into_iter()
        .flatten()
        .find(searchable)
        .or_else(|| {
            route
                .pins
                .iter()
                .map(|(_, v)| v)
                .filter(searchable)
                .max_by_key(|v| v.iter().map(String::len).min().unwrap_or(0))
        })?;
    Some(values.iter().map(|v| literal(v)).collect())
}

/// A value whose text appears verbatim in any record holding it: printable
/// ASCII that JSON never escapes (no quote, backslash or slash).
fn searchable(value: &str) -> bool {
    !value.is_empty()
        && value
            .bytes()
            .all(|b| (0x20..0x7f).contains(&b) && !matches!(b, b'"' | b'\\' | b'/'))
}

/// The bytes to search for: with the quotes of a JSON string when the value
/// can only be matched by a string (not by a number, boolean or null, which
/// the engine compares by their text).
fn literal(value: &str) -> Vec<u8> {
    let scalar_text = matches!(value, "true" | "false" | "null")
        || serde_json::from_str::<serde_json::Number>(value).is_ok();
    if scalar_text {
        value.as_bytes().to_vec()
    } else {
        format!("\"{value}\"").into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(pins: &[(&str, &[&str])]) -> Route {
        Route {
            event_sources: None,
            event_names: None,
            pins: pins
                .iter()
                .map(|(p, v)| (p.to_string(), v.iter().map(|s| s.to_string()).collect()))
                .collect(),
        }
    }

    #[test]
    fn event_names_are_searched_in_any_ascii_case() {
        let gate = Gate::new([&route(&[("eventName", &["consolelogin"])])]);
        assert!(gate.may_match(br#"{"eventName":"ConsoleLogin"}"#));
        assert!(gate.may_match(br#"{"eventName":"CONSOLELOGIN"}"#));
        assert!(!gate.may_match(br#"{"eventName":"ConsoleLogins"}"#));
        assert!(gate.may_match(br#"{"eventName":"Console\u004cogin"}"#));
        assert!(gate.may_match("{\"eventName\":\"\u{212A}\"}".as_bytes()));
    }

    #[test]
    fn a_rule_without_a_searchable_pin_opens_the_gate() {
        let gate = Gate::new([
            &route(&[("eventName", &["consolelogin"])]),
            &route(&[("requestParameters.x", &["a/b"])]),
        ]);
        assert!(gate.passes_everything());
        assert!(gate.may_match(b"{}"));
    }

    #[test]
    fn other_pins_route_rules_without_an_event_name() {
        let gate = Gate::new([&route(&[
            ("userIdentity.sessionContext.sessionIssuer.type", &["role"]),
            ("userIdentity.type", &["assumedrole"]),
        ])]);
        assert!(!gate.passes_everything());
        assert!(gate.may_match(br#"{"userIdentity":{"type":"AssumedRole"}}"#));
        assert!(!gate.may_match(br#"{"userIdentity":{"type":"IAMUser"}}"#));
    }

    #[test]
    fn values_a_number_or_boolean_could_match_are_searched_unquoted() {
        let gate = Gate::new([&route(&[("readOnly", &["false"])])]);
        assert!(gate.may_match(br#"{"readOnly":false}"#));
        let gate = Gate::new([&route(&[("code", &["42"])])]);
        assert!(gate.may_match(br#"{"code":42}"#));
    }
}
