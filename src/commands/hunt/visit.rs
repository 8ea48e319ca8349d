//! The scan's visitor for `hunt`: judges each record on its projection (the
//! fields the rules read, from the record's tape), or, without one, gates it
//! on its bytes and parses it whole; keeps one [`Finding`] per matching
//! rule. Per-worker state only; workers' findings merge once at the end.

use crate::hunt::finding::{EventFields, Finding};
use crate::hunt::gate::Gate;
use crate::hunt::project::Projection;
use crate::hunt::runs::FindingRuns;
use crate::hunt::sigma::{RuleIndex, SigmaRuleSet};
use crate::read::record::JsonView;
use crate::read::structural::Tape;
use crate::scan::{NoTimeReasons, RecordVisitor};
use crate::window::TimeWindow;

/// Runs a rule set over the records a scan reads.
pub struct HuntVisitor<'a> {
    pub rules: &'a SigmaRuleSet,
    pub gate: &'a Gate,
    /// When set, records are judged on their projection, and the gate is
    /// not asked (the projection costs less than the gate's search).
    pub projection: Option<&'a Projection>,
    pub window: TimeWindow,
}

/// One worker's results.
#[derive(Debug, Default)]
pub struct HuntState {
    /// Findings of objects read to the end.
    pub findings: FindingRuns,
    staged: Vec<Finding>,
    /// Records some rule matched but without a usable eventTime, by reason.
    pub no_event_time: NoTimeReasons,
    staged_no_time: NoTimeReasons,
    /// Records parsed whole (the gate let them through, or their
    /// projection could not serve every rule routed to them).
    pub parsed: u64,
    scratch: Vec<u8>,
    routed: Vec<RuleIndex>,
}

impl RecordVisitor for HuntVisitor<'_> {
    type State = HuntState;

    fn new_state(&self) -> HuntState {
        HuntState::default()
    }

    fn wants(&self, raw: &[u8]) -> bool {
        self.projection.is_some() || self.gate.may_match(raw)
    }

    fn tape_depth(&self) -> Option<usize> {
        self.projection.map(Projection::tape_depth)
    }

    fn visit(
        &self,
        state: &mut HuntState,
        key: &str,
        index: usize,
        raw: &[u8],
        tape: Option<&Tape>,
    ) {
        let at = Place { key, index };
        if let (Some(projection), Some(tape)) = (self.projection, tape) {
            if let Some(p) = projection.project(raw, tape) {
                let doc = p.root();
                self.rules.route(doc, &mut state.routed);
                if state.routed.iter().all(|r| projection.holds_rule(&p, r.0)) {
                    let mut routed = std::mem::take(&mut state.routed);
                    routed.retain(|r| self.rules.get(*r).matches(doc));
                    self.keep(state, doc, &routed, at);
                    state.routed = routed;
                    return;
                }
            }
        }
        state.parsed += 1;
        state.scratch.clear();
        state.scratch.extend_from_slice(raw);
        let mut scratch = std::mem::take(&mut state.scratch);
        if let Ok(doc) = simd_json::to_borrowed_value(&mut scratch) {
            let hits = self.rules.matching(&doc);
            self.keep(state, &doc, &hits, at);
        }
        state.scratch = scratch;
    }

    fn end_object(&self, state: &mut HuntState, _key: &str, ok: bool) {
        if ok {
            state.findings.extend(&mut state.staged);
            state.no_event_time.add(&state.staged_no_time);
        }
        state.staged.clear();
        state.staged_no_time = NoTimeReasons::default();
    }

    fn merge(&self, a: HuntState, b: HuntState) -> HuntState {
        HuntState {
            findings: a.findings.merge(b.findings),
            no_event_time: NoTimeReasons {
                missing: a.no_event_time.missing + b.no_event_time.missing,
                unparseable: a.no_event_time.unparseable + b.no_event_time.unparseable,
            },
            parsed: a.parsed + b.parsed,
            ..HuntState::default()
        }
    }
}

/// Where a record is: its object and position there.
#[derive(Clone, Copy)]
struct Place<'k> {
    key: &'k str,
    index: usize,
}

impl HuntVisitor<'_> {
    /// Stages one finding per rule in `hits` for a record inside the window.
    fn keep<V: JsonView>(&self, state: &mut HuntState, doc: &V, hits: &[RuleIndex], at: Place) {
        if hits.is_empty() {
            return;
        }
        let text = doc.field("eventTime").and_then(JsonView::text);
        let Some(time) = state.staged_no_time.time_in(text, &self.window) else {
            return;
        };
        let event = EventFields::of(doc);
        for rule in hits {
            state.staged.push(Finding {
                time_us: time.as_microsecond(),
                object: at.key.to_string(),
                index: at.index as u64,
                rule: rule.0 as u32,
                event: event.clone(),
            });
        }
    }
}
