//! [`RuleSet`]: every rule compiled once and judged together against one
//! record, through a shared literal index, a shared field plan over the
//! record's bytes, and at most one shared JSON parse.

use super::{Rule, RuleValue, RulesError};
use crate::events::event_id_key;
use crate::read::escape::touched_keys;
use crate::read::structural::Tape;
use crate::replay::pattern::{EventCache, FieldPattern, FieldPlan, LogEvent, Pattern};
use crate::window::{parse_event_time, raw_event_time};

/// Indices of matching rules, as a bitset: the first 64 inline, so a
/// record's matches cost no allocation in the common case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleMatches {
    low: u64,
    high: Vec<u64>,
}

impl RuleMatches {
    fn set(&mut self, i: usize) {
        if i < 64 {
            self.low |= 1 << i;
            return;
        }
        let w = i / 64 - 1;
        if self.high.len() <= w {
            self.high.resize(w + 1, 0);
        }
        self.high[w] |= 1 << (i % 64);
    }

    /// These matches and rule `i`.
    #[cfg(test)]
    pub fn with(mut self, i: usize) -> RuleMatches {
        self.set(i);
        self
    }

    /// Rules `0..n`.
    pub(super) fn all(n: usize) -> RuleMatches {
        let mut m = RuleMatches::default();
        (0..n).for_each(|i| m.set(i));
        m
    }

    /// Whether rule `i` matched.
    pub fn contains(&self, i: usize) -> bool {
        let word = match i / 64 {
            0 => self.low,
            w => self.high.get(w - 1).copied().unwrap_or(0),
        };
        word & (1 << (i % 64)) != 0
    }

    /// Matching rule indices in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        std::iter::once(self.low)
            .chain(self.high.iter().copied())
            .enumerate()
            .flat_map(|(w, mut bits)| {
                std::iter::from_fn(move || {
                    let i = bits.trailing_zeros() as usize;
                    bits &= bits.checked_sub(1)?;
                    Some(w * 64 + i)
                })
            })
    }

    /// True when no rule matched.
    pub fn is_empty(&self) -> bool {
        self.low == 0 && self.high.iter().all(|w| *w == 0)
    }
}

/// What the rules make of one record.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub rules: RuleMatches,
    /// Its `eventTime`, when readable.
    pub time: Option<jiff::Timestamp>,
    /// Whether it has an `eventTime` string at all (readable or not), to
    /// tell a missing time from an unparseable one.
    pub time_given: bool,
    /// The key of its `eventID` ([`event_id_key`]), when a rule matched:
    /// a re-delivered event is counted once.
    pub event_id: Option<u128>,
    /// Field values for matched rules whose metricValue is a field.
    pub values: Option<Box<[(u32, f64)]>>,
}

/// Every rule compiled to read the record's bytes (see [`FieldPlan`]).
#[derive(Debug, Clone)]
struct FastRules {
    plan: FieldPlan,
    pub(super) patterns: Vec<FieldPattern>,
    /// Per rule, the slot of a field-valued metricValue.
    value_slots: Vec<Option<usize>>,
    time_slot: usize,
    id_slot: usize,
    gates: Vec<SlotGate>,
}

/// The rules (of the first 64) that gate on one string slot (see
/// [`crate::replay::pattern::Gate`]), and for each text the ones it lets
/// through: one lookup per record turns most rules away unevaluated.
#[derive(Debug, Clone)]
struct SlotGate {
    slot: usize,
    gated: u64,
    pass: rustc_hash::FxHashMap<Box<str>, u64>,
}

impl SlotGate {
    /// One gate per slot, from every pattern's gates.
    fn all(patterns: &[FieldPattern]) -> Vec<SlotGate> {
        let mut out: Vec<SlotGate> = Vec::new();
        for (i, p) in patterns.iter().enumerate().take(64) {
            for g in p.gates() {
                let at = match out.iter().position(|o| o.slot == g.slot) {
                    Some(at) => at,
                    None => {
                        out.push(SlotGate {
                            slot: g.slot,
                            gated: 0,
                            pass: Default::default(),
                        });
                        out.len() - 1
                    }
                };
                let gate = &mut out[at];
                // Two gates of one rule on one slot: either's texts pass
                // (weaker than both, still needed).
                gate.gated |= 1 << i;
                for t in g.texts {
                    *gate.pass.entry(t.into()).or_default() |= 1 << i;
                }
            }
        }
        out
    }
}

impl FastRules {
    /// `None` unless every rule and field value compiles.
    fn new(rules: &[Rule], patterns: &[Pattern]) -> Option<FastRules> {
        let mut plan = FieldPlan::default();
        let time_slot = plan.slot(&["eventTime"]);
        let id_slot = plan.slot(&["eventID"]);
        let patterns = patterns
            .iter()
            .map(|p| plan.compile(p))
            .collect::<Option<Vec<_>>>()?;
        let value_slots = rules
            .iter()
            .map(|r| match &r.metric_value {
                RuleValue::Number(_) => Some(None),
                RuleValue::Field(f) => plan.compile_metric_field(f).map(Some),
            })
            .collect::<Option<Vec<_>>>()?;
        Some(FastRules {
            plan,
            gates: SlotGate::all(&patterns),
            patterns,
            value_slots,
            time_slot,
            id_slot,
        })
    }

    /// The verdict on `raw` for `candidates`, or `None` when the record must
    /// be read as a tree.
    fn judge(&self, raw: &[u8], tape: Option<&Tape>, candidates: &RuleMatches) -> Option<Verdict> {
        let values = match tape {
            Some(tape) => self.plan.values_on_tape(raw, tape)?,
            None => self.plan.values(raw)?,
        };
        // Rules a gated slot's string turns away.
        let mut turned_away = 0u64;
        for g in &self.gates {
            if let Some(s) = values.str(g.slot) {
                turned_away |= g.gated & !g.pass.get(s).copied().unwrap_or(0);
            }
        }
        let mut rules = RuleMatches::default();
        for i in candidates.iter() {
            let away = i < 64 && turned_away & (1 << i) != 0;
            if !away && self.patterns[i].matches(&values) {
                rules.set(i);
            }
        }
        let time_text = values.str(self.time_slot);
        let time = time_text.and_then(parse_event_time);
        let event_id = (!rules.is_empty())
            .then(|| values.str(self.id_slot).map(event_id_key))
            .flatten();
        let values = if self.value_slots.iter().all(Option::is_none) {
            None
        } else {
            let emitted: Vec<(u32, f64)> = rules
                .iter()
                .filter_map(|i| Some((i as u32, values.metric_value(self.value_slots[i]?)?)))
                .collect();
            (!emitted.is_empty()).then(|| emitted.into_boxed_slice())
        };
        Some(Verdict {
            rules,
            time,
            time_given: time_text.is_some(),
            event_id,
            values,
        })
    }
}

/// Compiled rules evaluated together.
#[derive(Debug, Clone)]
pub struct RuleSet {
    rules: Vec<Rule>,
    pub(super) patterns: Vec<Pattern>,
    /// Top-level keys every pattern can look at (plus `eventTime`), when
    /// all are JSON patterns without root wildcards.
    pub(super) projection: Option<Vec<String>>,
    literals: LiteralIndex,
    fast: Option<FastRules>,
    /// Every record is evaluated anyway (some rule has no byte prefilter)
    /// and the rules are compiled, so the prefilter scan is skipped.
    skip_prefilter: bool,
}

/// Every rule's prefilter literals indexed by their first two bytes, so a
/// record is scanned once for all rules instead of once per literal.
#[derive(Debug, Clone)]
struct LiteralIndex {
    literals: Vec<Vec<u8>>,
    /// Literal ids by first two bytes (`b0 << 8 | b1`); empty when unused.
    by_prefix: Vec<Vec<usize>>,
    /// Bitmap over the same two-byte prefixes, small enough to stay in cache.
    pairs: Vec<u64>,
    /// Literals shorter than two bytes, checked on their own.
    short: Vec<usize>,
    /// Per rule: `None` = no prefilter; else CNF clauses of literal ids.
    clauses: Vec<Option<Vec<Vec<usize>>>>,
    /// Per rule: the keys an escape must touch to hide a literal (`None`:
    /// any escape may), as [`crate::replay::pattern::Prefilter::escape_keys`].
    escape_keys: Vec<Option<Vec<String>>>,
}

impl LiteralIndex {
    fn new(patterns: &[Pattern]) -> LiteralIndex {
        let mut literals: Vec<Vec<u8>> = Vec::new();
        let mut id = |l: &[u8]| match literals.iter().position(|x| x == l) {
            Some(i) => i,
            None => {
                literals.push(l.to_vec());
                literals.len() - 1
            }
        };
        let clauses = patterns
            .iter()
            .map(|p| {
                p.prefilter().clauses().map(|cnf| {
                    cnf.iter()
                        .map(|c| c.iter().map(|l| id(l)).collect())
                        .collect()
                })
            })
            .collect();
        let mut by_prefix = vec![Vec::new(); 1 << 16];
        let mut pairs = vec![0u64; (1 << 16) / 64];
        let mut short = Vec::new();
        for (i, l) in literals.iter().enumerate() {
            match l.as_slice() {
                [a, b, ..] => {
                    let key = usize::from(*a) << 8 | usize::from(*b);
                    by_prefix[key].push(i);
                    pairs[key / 64] |= 1 << (key % 64);
                }
                _ => short.push(i),
            }
        }
        let escape_keys = patterns
            .iter()
            .map(|p| p.prefilter().escape_keys().map(<[String]>::to_vec))
            .collect();
        LiteralIndex {
            literals,
            by_prefix,
            pairs,
            short,
            clauses,
            escape_keys,
        }
    }

    /// Marks every literal occurring in `raw`.
    fn present(&self, raw: &[u8]) -> Vec<bool> {
        let mut present = vec![false; self.literals.len()];
        for &i in &self.short {
            present[i] = self.literals[i]
                .first()
                .is_none_or(|b| memchr::memchr(*b, raw).is_some());
        }
        for (pos, w) in raw.windows(2).enumerate() {
            let key = usize::from(w[0]) << 8 | usize::from(w[1]);
            if self.pairs[key / 64] & (1 << (key % 64)) == 0 {
                continue;
            }
            for &i in &self.by_prefix[key] {
                if !present[i] && raw[pos..].starts_with(&self.literals[i]) {
                    present[i] = true;
                }
            }
        }
        present
    }

    /// Rules whose prefilter passes `raw` (same contract as [`crate::replay::pattern::Prefilter::may_match`]).
    /// The strings holding escapes are placed once, for all rules.
    fn candidates(&self, raw: &[u8]) -> RuleMatches {
        let mut out = RuleMatches::default();
        // `Some(None)`: some escape could not be placed, so it may hide anything.
        let touched =
            memchr::memchr(b'\\', raw).map(|_| touched_keys(raw, memchr::memchr_iter(b'\\', raw)));
        let escaped = |i: usize| match (&touched, &self.escape_keys[i]) {
            (None, _) => false,
            (Some(Some(t)), Some(keys)) => t.iter().any(|k| keys.contains(k)),
            _ => true,
        };
        let present = if self.literals.is_empty() {
            Vec::new()
        } else {
            self.present(raw)
        };
        for (i, c) in self.clauses.iter().enumerate() {
            let pass = match c {
                None => true,
                Some(cnf) => escaped(i) || cnf.iter().all(|cl| cl.iter().any(|&l| present[l])),
            };
            if pass {
                out.set(i);
            }
        }
        out
    }
}

impl RuleSet {
    /// Compile every pattern once.
    pub fn new(rules: Vec<Rule>) -> Result<RuleSet, RulesError> {
        let patterns = rules
            .iter()
            .map(|r| {
                Pattern::parse(&r.pattern).map_err(|source| RulesError::Pattern {
                    rule: r.id.clone(),
                    source,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let projection = patterns
            .iter()
            .map(Pattern::root_keys)
            .collect::<Option<Vec<_>>>()
            .map(|keys| {
                let mut all: Vec<String> = keys.into_iter().flatten().collect();
                all.push("eventTime".into());
                all.push("eventID".into());
                all.sort();
                all.dedup();
                all
            });
        let literals = LiteralIndex::new(&patterns);
        let fast = FastRules::new(&rules, &patterns);
        let skip_prefilter = fast.is_some() && literals.clauses.iter().any(Option::is_none);
        Ok(RuleSet {
            rules,
            patterns,
            projection,
            literals,
            fast,
            skip_prefilter,
        })
    }

    /// The rules, indexed like [`RuleMatches`].
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Rules matching one raw record (JSON text of one `Records` element).
    /// Rules whose prefilter rejects the bytes are skipped; the record is
    /// parsed at most once, and re-serialized at most once for term rules.
    pub fn matching_rules(&self, raw: &[u8]) -> RuleMatches {
        let candidates = self.candidates(raw);
        if candidates.is_empty() {
            return candidates;
        }
        self.matching_candidates(&self.event(raw), &candidates)
    }

    /// The event the rules see for one raw record: when every rule is a
    /// JSON pattern on known top-level keys, parsed keeping only those keys
    /// (and `eventTime`), which skips allocating the rest of the record.
    pub fn event<'a>(&self, raw: &'a [u8]) -> EventCache<'a> {
        if let Some(keys) = &self.projection {
            if let Some(v) = project_structural(raw, keys) {
                return EventCache::from_projection(raw, v);
            }
            let mut de = serde_json::Deserializer::from_slice(raw);
            if let Ok(v) = serde::Deserializer::deserialize_map(&mut de, Projection(keys)) {
                if de.end().is_ok() {
                    return EventCache::from_projection(raw, v);
                }
            }
        }
        EventCache::from_raw(raw)
    }

    /// What the rules make of one raw record. When some rule has no byte
    /// prefilter every record is evaluated anyway, so with compiled rules the
    /// prefilter scan is skipped; otherwise it picks the candidates. The
    /// time of a record no rule can match is read only if `time_always`.
    /// `tape`, when given, is the record's tape (to [`RuleSet::tape_depth`]),
    /// made by the scan; `raw` is then exactly the record.
    pub fn judge(&self, raw: &[u8], tape: Option<&Tape>, time_always: bool) -> Verdict {
        let candidates = if self.skip_prefilter {
            RuleMatches::all(self.rules.len())
        } else {
            self.candidates(raw)
        };
        if candidates.is_empty() && !time_always {
            return Verdict {
                rules: candidates,
                time: None,
                time_given: false,
                event_id: None,
                values: None,
            };
        }
        if let Some(v) = self
            .fast
            .as_ref()
            .and_then(|f| f.judge(raw, tape, &candidates))
        {
            return v;
        }
        self.judge_tree(raw, &candidates)
    }

    /// How deep a record's [`Tape`] should reach when the scan can make one
    /// for [`RuleSet::judge`]: only when every record is judged and the
    /// rules are compiled (otherwise most records never need one).
    pub fn tape_depth(&self) -> Option<usize> {
        self.fast
            .as_ref()
            .filter(|_| self.skip_prefilter)
            .map(|f| f.plan.depth())
    }

    /// [`RuleSet::judge`] through the parsed JSON tree: the reference the
    /// compiled rules are tested against.
    pub fn judge_tree(&self, raw: &[u8], candidates: &RuleMatches) -> Verdict {
        let ev = self.event(raw);
        let rules = self.matching_candidates(&ev, candidates);
        let text = |key: &str| ev.json()?.get(key)?.as_str();
        let (time, time_given) = match ev.json() {
            Some(_) => (
                text("eventTime").and_then(parse_event_time),
                text("eventTime").is_some(),
            ),
            None => (raw_event_time(raw), false),
        };
        let event_id = (!rules.is_empty())
            .then(|| text("eventID").map(event_id_key))
            .flatten();
        let values = self.field_values(&ev, &rules);
        Verdict {
            rules,
            time,
            time_given: time_given || time.is_some(),
            event_id,
            values,
        }
    }

    /// The ids of the rules a string slot can turn away unevaluated.
    #[cfg(test)]
    pub(super) fn gated_rules(&self) -> Vec<&str> {
        let gates = self.fast.as_ref().map_or(&[][..], |f| &f.gates[..]);
        let mask = gates.iter().fold(0u64, |m, g| m | g.gated);
        self.rules
            .iter()
            .enumerate()
            .filter(|&(i, _)| i < 64 && mask & (1 << i) != 0)
            .map(|(_, r)| r.id.as_str())
            .collect()
    }

    /// Whether every rule reads the record's bytes directly (no JSON tree).
    pub fn is_compiled(&self) -> bool {
        self.fast.is_some()
    }

    /// The rules whose byte prefilter lets this raw record through, found
    /// in one scan of the record for all rules.
    pub fn candidates(&self, raw: &[u8]) -> RuleMatches {
        self.literals.candidates(raw)
    }

    /// The rules among `candidates` that match the event.
    pub fn matching_candidates(&self, ev: &EventCache, candidates: &RuleMatches) -> RuleMatches {
        let mut out = RuleMatches::default();
        for i in candidates.iter() {
            if self.patterns[i].matches_cached(ev) {
                out.set(i);
            }
        }
        out
    }

    /// The field values that matched rules with a field-valued metricValue
    /// emit for this event (`None` when there are none).
    pub fn field_values(
        &self,
        ev: &EventCache,
        matched: &RuleMatches,
    ) -> Option<Box<[(u32, f64)]>> {
        let values: Vec<(u32, f64)> = matched
            .iter()
            .filter_map(|i| match &self.rules[i].metric_value {
                RuleValue::Field(f) => Some((i as u32, f.value(&self.patterns[i], ev)?)),
                RuleValue::Number(_) => None,
            })
            .collect();
        (!values.is_empty()).then(|| values.into_boxed_slice())
    }

    /// Rules matching a CloudWatch message (already compact JSON or text).
    pub fn matching_rules_event(&self, ev: &LogEvent) -> RuleMatches {
        let bytes = ev.message.as_bytes();
        self.eval(&EventCache::new(*ev), |p| p.prefilter().may_match(bytes))
    }

    fn eval(&self, ev: &EventCache, candidate: impl Fn(&Pattern) -> bool) -> RuleMatches {
        let mut out = RuleMatches::default();
        for (i, p) in self.patterns.iter().enumerate() {
            if candidate(p) && p.matches_cached(ev) {
                out.set(i);
            }
        }
        out
    }
}

/// Deserializes a JSON object keeping only the listed keys.
/// The wanted top-level members of a record, found by the structural
/// scanner: unwanted members are skipped, never parsed, and keys are
/// compared decoded. `None` when a key cannot be decoded or a wanted member
/// is malformed, and the caller falls back to serde's [`Projection`]. Skipped members are checked for balanced brackets
/// and strings only, as the record splitter already did, not parsed.
pub(super) fn project_structural(raw: &[u8], keys: &[String]) -> Option<serde_json::Value> {
    let open = raw.iter().position(|b| !b.is_ascii_whitespace())?;
    if raw[open] != b'{' {
        return None;
    }
    let mut out = serde_json::Map::new();
    let mut undecided = false;
    let end = crate::read::format::scan_object_keys(raw, open, |key, at| {
        if key.contains(&b'\\') {
            undecided = true;
        } else if let Some(k) = keys.iter().find(|k| k.as_bytes() == key) {
            let stop = crate::read::format::skip_value(raw, at)?;
            match serde_json::from_slice(&raw[at..stop]) {
                Ok(v) => {
                    out.insert(k.clone(), v);
                }
                Err(_) => undecided = true,
            }
        }
        Ok(None)
    })
    .ok()?;
    if undecided || raw[end..].iter().any(|b| !b.is_ascii_whitespace()) {
        return None;
    }
    Some(serde_json::Value::Object(out))
}

pub(super) struct Projection<'k>(pub(super) &'k [String]);

impl<'de> serde::de::Visitor<'de> for Projection<'_> {
    type Value = serde_json::Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(key) = map.next_key_seed(KeySeed(self.0))? {
            match key {
                Some(k) => {
                    let v = map.next_value::<serde_json::Value>()?;
                    out.insert(k, v);
                }
                None => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok(serde_json::Value::Object(out))
    }
}

/// A map key: `Some(key)` when it is one of the wanted keys.
struct KeySeed<'k>(&'k [String]);

impl<'de> serde::de::DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Option<String>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> serde::de::Visitor<'de> for KeySeed<'_> {
    type Value = Option<String>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E: serde::de::Error>(self, k: &str) -> Result<Self::Value, E> {
        Ok(self.0.iter().any(|w| w == k).then(|| k.to_string()))
    }
}
