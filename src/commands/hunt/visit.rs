//! The scan's visitor for `hunt`: gates each record on its bytes, parses the
//! ones some rule could match, and keeps one [`Finding`] per matching rule.
//! Per-worker state only; workers' findings merge once at the end.

use simd_json::BorrowedValue;

use crate::hunt::finding::{EventFields, Finding};
use crate::hunt::gate::Gate;
use crate::hunt::runs::FindingRuns;
use crate::hunt::sigma::{RuleIndex, SigmaRuleSet};
use crate::read::record::JsonView;
use crate::read::structural::Tape;
use crate::scan::{NoTimeReasons, RecordVisitor};
use crate::window::{parse_event_time, TimeWindow};

/// Runs a rule set over the records a scan reads.
pub struct HuntVisitor<'a> {
    pub rules: &'a SigmaRuleSet,
    pub gate: &'a Gate,
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
    /// Records the gate let through to a full parse.
    pub parsed: u64,
    scratch: Vec<u8>,
}

impl RecordVisitor for HuntVisitor<'_> {
    type State = HuntState;

    fn new_state(&self) -> HuntState {
        HuntState::default()
    }

    fn wants(&self, raw: &[u8]) -> bool {
        self.gate.may_match(raw)
    }

    fn visit(&self, state: &mut HuntState, key: &str, index: usize, raw: &[u8], _: Option<&Tape>) {
        state.parsed += 1;
        state.scratch.clear();
        state.scratch.extend_from_slice(raw);
        let Ok(doc) = simd_json::to_borrowed_value(&mut state.scratch) else {
            return;
        };
        let hits = self.rules.matching(&doc);
        if hits.is_empty() {
            return;
        }
        let text = doc.field("eventTime").and_then(JsonView::text);
        let Some(time) = text.and_then(parse_event_time) else {
            state.staged_no_time.count(text);
            return;
        };
        if !self.window.contains(time) {
            return;
        }
        stage(
            &mut state.staged,
            &doc,
            hits,
            time.as_microsecond(),
            key,
            index,
        );
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

fn stage(
    staged: &mut Vec<Finding>,
    doc: &BorrowedValue<'_>,
    hits: Vec<RuleIndex>,
    time_us: i64,
    key: &str,
    index: usize,
) {
    let event = EventFields::of(doc);
    for rule in hits {
        staged.push(Finding {
            time_us,
            object: key.to_string(),
            index: index as u64,
            rule: rule.0 as u32,
            event: event.clone(),
        });
    }
}
