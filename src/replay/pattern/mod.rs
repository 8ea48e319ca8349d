//! CloudWatch Logs filter patterns: parsing, matching, TestMetricFilter-style
//! extraction and a byte-level prefilter.
//!
//! This module owns the pattern language of `cloudwatch-semantics.md` §1 and
//! nothing else: it never reads files, never aggregates metrics and never
//! decides alarm states (see `crate::replay::alarm`).
//!
//! Pattern kinds (dispatch on the trimmed text, §1.1): match-all (empty,
//! whitespace, or `" "`), unstructured terms, standalone `%regex%`, JSON
//! `{ … }` and space-delimited `[ … ]`.
//!
//! # Inferred behaviour (\[INF\] knobs)
//!
//! AWS does not document these points; each is a field of [`MatchOptions`]
//! and the default is listed here. Never present them to users as certain.
//!
//! | knob | default | spec |
//! |---|---|---|
//! | `only_exclusions` | `MatchWhenNoneOccur`: `-a -b` matches iff neither occurs | §1.2 `terms.only_exclusions` |
//! | `unquoted_terms` | `Literal`: `us-east-1` / `a*b` unquoted are literal substrings | §1.2 (a), (b) |
//! | `regex_in_terms` | `Reject`: `ERROR %foo%` is an error | §1.2 (c) |
//! | `detached_dash` | `true`: `- "Exiting"` is an exclusion | §1.2 (d) |
//! | `bracket_key_without_dot` | `true`: `$['k']` and `a['k']` accepted like `.['k']` | §1.4.1 |
//! | `unquoted_values` | `Conservative`: bare values are `[A-Za-z0-9_.*:/+-]+` | §1.4.1 |
//! | `json_root` | `ObjectOnly`: JSON patterns never match non-object messages | §1.4.2 |
//! | `ne_matches_missing` | `false`: `{ $.x != "a" }` is false when `x` is absent | §1.4.2 `json.missing_ne` |
//! | `null_bool_eq` | `NeverMatch`: `=`/`!=` on null/bool are false | §1.4.2 |
//! | `not_exists_on_null` | `false`: `NOT EXISTS` is false for a present `null` | §1.4.2 |
//! | `cross_type` | `Text`: number vs string compares source text; relational ops parse strings | §1.4.2 `json.cross_type_eq` |
//! | `star_matches_empty` | `true`: a lone `*` matches the empty string | §1.4.2 |
//! | `wildcard_quantifier` | `Any`: `!=`/relational on `[*]`/`.*` need one candidate | §1.4.2 |
//! | `regex_ne` | `NoMatch`: `!= %re%` is true iff the string has no match | §1.4.2 |
//! | `tab_delimits` | `true`: tab/CR/LF separate delimited fields like space | §1.5 |
//! | `extra_tokens` | `LastFieldAbsorbs`: the last field takes the rest of the line | §1.5 `delim.extra_tokens` |
//! | `ellipsis_may_be_empty` | `true`: `...` may bind zero tokens | §1.5 |
//!
//! Numbers are compared textually (cross-type and `4*` wildcards) using
//! serde_json's rendering of the number, which equals the source text for
//! integers (the CloudTrail case) but not for every float spelling \[INF\].
//! Keywords (`IS`, `NULL`, `TRUE`, `FALSE`, `NOT`, `EXISTS`) are upper case only.

mod cursor;
mod delim;
mod fields;
mod json;
mod pinned;
mod prefilter;
mod regex;
mod terms;
#[cfg(test)]
mod tests;

use std::cell::OnceCell;

use serde_json::Value;

pub use fields::{FieldPattern, FieldPlan, FieldValues, Gate};
pub use pinned::{Pinned, TextWant};
pub use prefilter::Prefilter;

/// Maximum pattern length in characters [DOC S5].
pub const MAX_PATTERN_CHARS: usize = 1024;
/// Maximum regexes inside one JSON or space-delimited pattern \[DOC\].
pub const MAX_REGEXES: usize = 2;
/// Maximum wildcard selectors (`[*]`, `.*`) in one JSON pattern \[DOC\].
pub const MAX_WILDCARD_SELECTORS: usize = 3;

/// One CloudWatch Logs event as the matcher sees it: for CloudTrail, the
/// record re-serialized as compact JSON in original key order (§1.8).
#[derive(Debug, Clone, Copy)]
pub struct LogEvent<'a> {
    /// The message text.
    pub message: &'a str,
}

/// Named choices for every \[INF\] point; see the module table for defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchOptions {
    /// A term pattern made only of `-` items.
    pub only_exclusions: OnlyExclusionsMode,
    /// Unquoted terms with characters other than `[A-Za-z0-9_]`.
    pub unquoted_terms: UnquotedTermMode,
    /// A `%regex%` item mixed with other terms.
    pub regex_in_terms: RegexInTermsMode,
    /// Accept `- term` (dash, whitespace, term) as an exclusion.
    pub detached_dash: bool,
    /// Accept `$['key']` (no dot before the bracket).
    pub bracket_key_without_dot: bool,
    /// Which characters an unquoted JSON/delimited value may contain.
    pub unquoted_values: UnquotedValueMode,
    /// Which JSON messages a JSON pattern can match at all.
    pub json_root: JsonRootMode,
    /// Result of `!=` when the selected field is absent.
    pub ne_matches_missing: bool,
    /// `=`/`!=` against a JSON `null` or boolean.
    pub null_bool_eq: NullBoolEqMode,
    /// Result of `NOT EXISTS` when the field is present with value `null`.
    pub not_exists_on_null: bool,
    /// Comparisons between JSON numbers and string literals (and vice versa).
    pub cross_type: CrossTypeMode,
    /// Whether a lone `*` value matches the empty string.
    pub star_matches_empty: bool,
    /// How `!=` and relational operators combine wildcard-selector candidates.
    pub wildcard_quantifier: Quantifier,
    /// Meaning of `!= %re%`.
    pub regex_ne: RegexNeMode,
    /// Tab, CR and LF delimit space-delimited fields (space always does).
    pub tab_delimits: bool,
    /// More event tokens than pattern fields (no `...`).
    pub extra_tokens: ExtraTokensMode,
    /// Whether `...` may bind zero tokens.
    pub ellipsis_may_be_empty: bool,
}

impl Default for MatchOptions {
    fn default() -> Self {
        MatchOptions {
            only_exclusions: OnlyExclusionsMode::MatchWhenNoneOccur,
            unquoted_terms: UnquotedTermMode::Literal,
            regex_in_terms: RegexInTermsMode::Reject,
            detached_dash: true,
            bracket_key_without_dot: true,
            unquoted_values: UnquotedValueMode::Conservative,
            json_root: JsonRootMode::ObjectOnly,
            ne_matches_missing: false,
            null_bool_eq: NullBoolEqMode::NeverMatch,
            not_exists_on_null: false,
            cross_type: CrossTypeMode::Text,
            star_matches_empty: true,
            wildcard_quantifier: Quantifier::Any,
            regex_ne: RegexNeMode::NoMatch,
            tab_delimits: true,
            extra_tokens: ExtraTokensMode::LastFieldAbsorbs,
            ellipsis_may_be_empty: true,
        }
    }
}

/// See [`MatchOptions::only_exclusions`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnlyExclusionsMode {
    /// Match iff none of the excluded terms occurs.
    MatchWhenNoneOccur,
    /// Never match.
    NeverMatch,
}

/// See [`MatchOptions::unquoted_terms`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnquotedTermMode {
    /// Treat the whitespace-delimited run as a literal substring.
    Literal,
    /// Reject the pattern (AWS documents that quotes are required).
    Reject,
}

/// See [`MatchOptions::regex_in_terms`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegexInTermsMode {
    /// Reject the pattern.
    Reject,
    /// Treat `%…%` as a literal substring.
    Literal,
}

/// See [`MatchOptions::unquoted_values`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnquotedValueMode {
    /// `[A-Za-z0-9_.*:/+-]+`; anything else must be quoted.
    Conservative,
    /// Any run of characters other than whitespace and `(){}[]",&|!=<>`.
    Permissive,
}

/// See [`MatchOptions::json_root`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonRootMode {
    /// The message must be a JSON object.
    ObjectOnly,
    /// Any JSON value (selectors simply resolve to nothing).
    AnyValue,
}

/// See [`MatchOptions::null_bool_eq`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NullBoolEqMode {
    /// Both `=` and `!=` are false.
    NeverMatch,
    /// Compare the text `null`/`true`/`false` with the literal.
    Text,
}

/// See [`MatchOptions::cross_type`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrossTypeMode {
    /// Compare source text for `=`/`!=`; parse strings for relational ops.
    Text,
    /// Mismatched types never compare.
    Never,
}

/// See [`MatchOptions::wildcard_quantifier`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantifier {
    /// True if any candidate satisfies the condition.
    Any,
    /// True if every candidate satisfies it (and there is at least one).
    All,
}

/// See [`MatchOptions::regex_ne`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegexNeMode {
    /// True iff the regex finds no match in a string value.
    NoMatch,
    /// Always false.
    Never,
}

/// See [`MatchOptions::extra_tokens`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtraTokensMode {
    /// The last field binds the remainder of the message.
    LastFieldAbsorbs,
    /// Token count must equal field count.
    NoMatch,
}

/// Why a pattern was rejected, with the 0-based character offset.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("at column {}: {kind}", offset + 1)]
pub struct PatternError {
    /// 0-based character (not byte) offset into the original pattern.
    pub offset: usize,
    /// What went wrong.
    pub kind: PatternErrorKind,
}

/// The kinds of invalid pattern (§1.6).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PatternErrorKind {
    /// Pattern longer than [`MAX_PATTERN_CHARS`].
    #[error("pattern is {0} characters long; the limit is 1024")]
    TooLong(usize),
    /// Something else was expected here.
    #[error("expected {expected}{}", after.as_ref().map(|a| format!(" after {a}")).unwrap_or_default())]
    Expected {
        /// What the parser wanted.
        expected: String,
        /// The construct it follows, if useful.
        after: Option<String>,
    },
    /// Documented as unsupported (`IS NOT`, bare `EXISTS`, …).
    #[error("{0} is not supported")]
    Unsupported(String),
    /// A character outside the regex character set.
    #[error("character {0:?} is not allowed in a regex")]
    RegexChar(char),
    /// The translated regex failed to compile.
    #[error("invalid regex: {0}")]
    InvalidRegex(String),
    /// More than [`MAX_REGEXES`] regexes.
    #[error("at most 2 regexes are allowed in one pattern")]
    TooManyRegexes,
    /// More than one `*` in one selector.
    #[error("at most one wildcard (*) is allowed per selector")]
    TooManyWildcardsInSelector,
    /// More than [`MAX_WILDCARD_SELECTORS`] wildcard selectors.
    #[error("at most 3 wildcard selectors are allowed per pattern")]
    TooManyWildcardSelectors,
    /// A delimited condition naming another field (AWS: "Invalid filter pattern").
    #[error(
        "condition on field {other:?} inside field {field:?}; each field may only test itself"
    )]
    CrossField {
        /// The field being defined.
        field: String,
        /// The field the condition names.
        other: String,
    },
    /// Regex mixed with terms (knob `regex_in_terms`).
    #[error("a regex must be the whole pattern, a JSON value or a delimited field value")]
    RegexNotStandalone,
    /// Unquoted term with special characters (knob `unquoted_terms = Reject`).
    #[error("term {0:?} contains characters other than letters, digits and _; quote it")]
    UnquotedTerm(String),
    /// More than one `...` in a delimited pattern.
    #[error("at most one ... is allowed")]
    MultipleEllipsis,
}

impl PatternError {
    fn new(offset: usize, kind: PatternErrorKind) -> Self {
        PatternError { offset, kind }
    }

    fn expected(offset: usize, expected: &str, after: Option<&str>) -> Self {
        PatternError::new(
            offset,
            PatternErrorKind::Expected {
                expected: expected.to_string(),
                after: after.map(str::to_string),
            },
        )
    }
}

/// Values a space-delimited pattern extracted, as TestMetricFilter reports
/// them: `$name` for named fields, `$N` (1-based position) otherwise.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extracted {
    /// Key/value pairs in token order.
    pub entries: Vec<(String, String)>,
    /// Every bound value by 1-based position, so `$7` also works for named fields.
    positional: Vec<(usize, String)>,
}

impl Extracted {
    /// Look up `$name` or `$N`.
    pub fn get(&self, key: &str) -> Option<&str> {
        if let Some((_, v)) = self.entries.iter().find(|(k, _)| k == key) {
            return Some(v);
        }
        let n: usize = key.strip_prefix('$')?.parse().ok()?;
        self.positional
            .iter()
            .find(|(i, _)| *i == n)
            .map(|(_, v)| v.as_str())
    }

    /// True when nothing was extracted (JSON and term patterns).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// A field-valued metricValue (§2): `$.path` for a JSON pattern, `$name` or
/// `$N` for a space-delimited one. Each matching event emits the field's
/// number; \[INF\] a JSON string that parses as a number counts as one, and
/// anything else emits no sample.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricField {
    text: String,
    steps: Option<Vec<json::Step>>,
}

impl MetricField {
    /// Parses `text` as a field of `pattern`. As in CloudWatch, the field
    /// must be one the pattern selects: a JSON field must appear in the
    /// pattern (`{ $.latency = * }`), a delimited one must be a named or
    /// numbered field.
    pub fn parse(text: &str, pattern: &Pattern) -> Result<MetricField, String> {
        let steps = match (pattern.kind(), text.strip_prefix('$')) {
            (PatternKind::Json, Some(rest)) if rest.starts_with('.') || rest.starts_with('[') => {
                let steps = json::parse_field(text).map_err(|e| format!("{text}: {e}"))?;
                if !pattern.as_str().contains(text) {
                    return Err(format!(
                        "{text}: the pattern must select this field, e.g. {{ {text} = * }}"
                    ));
                }
                Some(steps)
            }
            (PatternKind::Delimited, Some(name))
                if !name.is_empty()
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') =>
            {
                None
            }
            (PatternKind::Json, _) => {
                return Err(format!("{text}: a JSON pattern's field is written $.name"))
            }
            (PatternKind::Delimited, _) => {
                return Err(format!(
                    "{text}: a space-delimited pattern's field is written $name or $N"
                ))
            }
            _ => {
                return Err(format!(
                    "{text}: only JSON and space-delimited patterns extract fields; use a number"
                ))
            }
        };
        Ok(MetricField {
            text: text.to_string(),
            steps,
        })
    }

    /// The field as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The number this event emits, if the field holds one.
    pub fn value(&self, pattern: &Pattern, ev: &EventCache) -> Option<f64> {
        match &self.steps {
            Some(steps) => metric_number(json::Leaf::of(json::field_value(ev.json()?, steps)?)),
            None => pattern
                .test_cached(ev)?
                .get(&self.text)?
                .trim()
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite()),
        }
    }
}

/// The number a JSON field emits as a metric value: a number, or \[INF\] a
/// string that parses as one.
fn metric_number(leaf: json::Leaf) -> Option<f64> {
    match leaf {
        json::Leaf::Num(n) => n.as_f64(),
        json::Leaf::Str(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|v: &f64| v.is_finite())
}

/// An event plus its lazily parsed JSON, shared by several patterns so a
/// record is parsed at most once.
#[derive(Debug)]
pub struct EventCache<'a> {
    source: Source<'a>,
    json: OnceCell<Option<Value>>,
    message: OnceCell<String>,
}

#[derive(Debug)]
enum Source<'a> {
    Message(&'a str),
    Raw(&'a [u8]),
    Projected(&'a [u8]),
}

impl<'a> EventCache<'a> {
    /// Wrap a CloudWatch message.
    pub fn new(ev: LogEvent<'a>) -> Self {
        EventCache {
            source: Source::Message(ev.message),
            json: OnceCell::new(),
            message: OnceCell::new(),
        }
    }

    /// Wrap raw record bytes (e.g. one element of a CloudTrail `Records`
    /// array); the message is their compact re-serialization (§1.8).
    pub fn from_raw(raw: &'a [u8]) -> Self {
        EventCache {
            source: Source::Raw(raw),
            json: OnceCell::new(),
            message: OnceCell::new(),
        }
    }

    /// Wrap raw record bytes with a parse that may hold only some of the
    /// top-level keys (see [`Pattern::root_keys`]); the message is still the
    /// compact re-serialization of the whole record.
    pub fn from_projection(raw: &'a [u8], projected: Value) -> Self {
        EventCache {
            source: Source::Projected(raw),
            json: OnceCell::from(Some(projected)),
            message: OnceCell::new(),
        }
    }

    /// The parsed JSON, if the event is valid JSON.
    pub fn json(&self) -> Option<&Value> {
        self.json
            .get_or_init(|| match self.source {
                Source::Message(m) => serde_json::from_str(m).ok(),
                Source::Raw(r) | Source::Projected(r) => serde_json::from_slice(r).ok(),
            })
            .as_ref()
    }

    /// The message text the pattern language sees.
    pub fn message(&self) -> &str {
        match self.source {
            Source::Message(m) => m,
            Source::Raw(r) => self.message.get_or_init(|| match self.json() {
                Some(v) => v.to_string(),
                None => String::from_utf8_lossy(r).into_owned(),
            }),
            Source::Projected(r) => {
                self.message
                    .get_or_init(|| match serde_json::from_slice::<Value>(r) {
                        Ok(v) => v.to_string(),
                        Err(_) => String::from_utf8_lossy(r).into_owned(),
                    })
            }
        }
    }
}

/// A compiled filter pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    text: String,
    kind: Kind,
    opts: MatchOptions,
    prefilter: Prefilter,
}

#[derive(Debug, Clone)]
enum Kind {
    MatchAll,
    Terms(terms::Terms),
    Regex(regex::CwRegex),
    Json(json::Expr),
    Delimited(delim::Delimited),
}

/// Which family a pattern belongs to (§1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatternKind {
    /// Empty, whitespace or `" "`.
    MatchAll,
    /// Unstructured terms.
    Terms,
    /// Standalone `%regex%`.
    Regex,
    /// `{ … }`.
    Json,
    /// `[ … ]`.
    Delimited,
}

impl Pattern {
    /// Parse with default [`MatchOptions`].
    pub fn parse(text: &str) -> Result<Pattern, PatternError> {
        Pattern::parse_with(text, MatchOptions::default())
    }

    /// Parse with explicit options; they also govern matching.
    pub fn parse_with(text: &str, opts: MatchOptions) -> Result<Pattern, PatternError> {
        let chars: Vec<char> = text.chars().collect();
        if chars.len() > MAX_PATTERN_CHARS {
            return Err(PatternError::new(
                MAX_PATTERN_CHARS,
                PatternErrorKind::TooLong(chars.len()),
            ));
        }
        let start = chars
            .iter()
            .position(|c| !c.is_whitespace())
            .unwrap_or(chars.len());
        let end = chars
            .iter()
            .rposition(|c| !c.is_whitespace())
            .map_or(start, |i| i + 1);
        let kind = classify(&chars, start, end, &opts)?;
        let prefilter = prefilter::build(&kind, opts.null_bool_eq);
        Ok(Pattern {
            text: text.to_string(),
            kind,
            opts,
            prefilter,
        })
    }

    /// The original text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The options in effect.
    pub fn options(&self) -> &MatchOptions {
        &self.opts
    }

    /// The pattern family.
    pub fn kind(&self) -> PatternKind {
        match self.kind {
            Kind::MatchAll => PatternKind::MatchAll,
            Kind::Terms(_) => PatternKind::Terms,
            Kind::Regex(_) => PatternKind::Regex,
            Kind::Json(_) => PatternKind::Json,
            Kind::Delimited(_) => PatternKind::Delimited,
        }
    }

    /// Whether the event matches.
    pub fn matches(&self, ev: &LogEvent) -> bool {
        self.test_cached(&EventCache::new(*ev)).is_some()
    }

    /// TestMetricFilter emulation: `Some(extracted values)` on a match
    /// (empty for non-delimited patterns, §1.4.3), `None` otherwise.
    pub fn test(&self, ev: &LogEvent) -> Option<Extracted> {
        self.test_cached(&EventCache::new(*ev))
    }

    /// Like [`Pattern::matches`] but reusing a shared parse.
    pub fn matches_cached(&self, ev: &EventCache) -> bool {
        self.test_cached(ev).is_some()
    }

    /// Like [`Pattern::test`] but reusing a shared parse.
    pub fn test_cached(&self, ev: &EventCache) -> Option<Extracted> {
        let ok = match &self.kind {
            Kind::MatchAll => true,
            Kind::Terms(t) => t.matches(ev.message(), &self.opts),
            Kind::Regex(r) => r.is_match(ev.message()),
            Kind::Json(e) => match ev.json() {
                Some(v @ Value::Object(_)) => e.eval(v, &self.opts),
                Some(v) if self.opts.json_root == JsonRootMode::AnyValue => e.eval(v, &self.opts),
                _ => false,
            },
            Kind::Delimited(d) => return d.test(ev.message(), &self.opts),
        };
        ok.then(Extracted::default)
    }

    /// The byte prefilter (see [`Prefilter`] for the soundness contract).
    pub fn prefilter(&self) -> &Prefilter {
        &self.prefilter
    }

    /// The top-level keys of the event a JSON pattern can look at, or `None`
    /// when it may need the whole event (non-JSON pattern, root wildcard).
    /// Evaluating on an object holding only these keys gives the same result.
    pub fn root_keys(&self) -> Option<Vec<String>> {
        let Kind::Json(e) = &self.kind else {
            return None;
        };
        let mut keys = Vec::new();
        e.root_keys(&mut keys).then_some(keys)
    }

    /// Top-level fields the pattern needs to be one of a few strings (see
    /// [`TextWant`]); empty when it pins none, as any non-JSON pattern.
    pub fn pinned_fields(&self) -> Pinned {
        match &self.kind {
            Kind::Json(e) => pinned::pinned(e),
            _ => Vec::new(),
        }
    }

    /// Required literals in conjunctive normal form: every inner list is an
    /// any-of clause, and all clauses must hold. `None` means no useful
    /// filter. Callers scanning raw JSON must also treat any record that
    /// contains a backslash as a candidate; [`Prefilter::may_match`] does.
    pub fn required_literals(&self) -> Option<Vec<Vec<&[u8]>>> {
        self.prefilter.clauses()
    }
}

/// Dispatch on the trimmed pattern (§1.1).
fn classify(
    chars: &[char],
    start: usize,
    end: usize,
    opts: &MatchOptions,
) -> Result<Kind, PatternError> {
    let body = &chars[start..end];
    let is_blank_quote = body.len() >= 3
        && body[0] == '"'
        && body[body.len() - 1] == '"'
        && body[1..body.len() - 1].iter().all(|c| c.is_whitespace());
    if body.is_empty() || is_blank_quote {
        return Ok(Kind::MatchAll);
    }
    match body[0] {
        '{' => json::parse(chars, start, end, opts).map(Kind::Json),
        '[' => delim::parse(chars, start, end, opts).map(Kind::Delimited),
        '%' if is_standalone_regex(body) => {
            regex::CwRegex::parse(chars, start + 1, end - 1).map(Kind::Regex)
        }
        _ => terms::parse(chars, start, end, opts).map(Kind::Terms),
    }
}

/// `%…%` with the closing `%` at the very end and no other `%` between.
fn is_standalone_regex(body: &[char]) -> bool {
    body.len() >= 2
        && body[body.len() - 1] == '%'
        && body[1..].iter().position(|&c| c == '%') == Some(body.len() - 2)
}
