//! Two visitors fed by one scan, so a command that asks two kinds of
//! question (`report --rules … --sigma …`) still reads every object once.

use super::RecordVisitor;
use crate::read::structural::Tape;

/// Feeds each record to `A` and `B`, each only when it wants it; their
/// states stay apart.
pub struct Both<'v, A, B>(pub &'v A, pub &'v B);

impl<A: RecordVisitor, B: RecordVisitor> RecordVisitor for Both<'_, A, B> {
    type State = (A::State, B::State);

    fn new_state(&self) -> Self::State {
        (self.0.new_state(), self.1.new_state())
    }

    fn wants(&self, raw: &[u8]) -> bool {
        self.0.wants(raw) || self.1.wants(raw)
    }

    /// The deeper of the two: a tape that reaches further serves a visitor
    /// that needs less.
    fn tape_depth(&self) -> Option<usize> {
        match (self.0.tape_depth(), self.1.tape_depth()) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }

    fn visit(
        &self,
        state: &mut Self::State,
        key: &str,
        index: usize,
        raw: &[u8],
        tape: Option<&Tape>,
    ) {
        // Asked again here: `wants` said yes for at least one of them.
        if self.0.wants(raw) {
            let tape = tape.filter(|_| self.0.tape_depth().is_some());
            self.0.visit(&mut state.0, key, index, raw, tape);
        }
        if self.1.wants(raw) {
            let tape = tape.filter(|_| self.1.tape_depth().is_some());
            self.1.visit(&mut state.1, key, index, raw, tape);
        }
    }

    fn end_object(&self, state: &mut Self::State, key: &str, ok: bool) {
        self.0.end_object(&mut state.0, key, ok);
        self.1.end_object(&mut state.1, key, ok);
    }

    fn merge(&self, a: Self::State, b: Self::State) -> Self::State {
        (self.0.merge(a.0, b.0), self.1.merge(a.1, b.1))
    }
}
