//! The byte-level prefilter: which records can possibly be selected, decided
//! without parsing.
//!
//! Soundness contract: every record the full parse would select contains one
//! of the selection's literals (`GetSecretValue"` …) or a `\u` escape, since an
//! event name made of letters and digits can only be disguised that way. So a
//! record with neither is skipped without being parsed; anything else is
//! parsed and decided exactly.

use memchr::memmem::Finder;

use crate::read::record::Selection;

/// Compiled literal searches for one selection.
pub struct Prefilter {
    finders: Vec<Finder<'static>>,
    /// The selection names no event, so no record is a candidate.
    selects_nothing: bool,
}

impl Prefilter {
    /// Builds the prefilter; `Selection::All` makes every record a candidate.
    pub fn new(selection: &Selection) -> Prefilter {
        let literals = selection.literals();
        let selects_nothing = literals.as_ref().is_some_and(Vec::is_empty);
        let finders = match literals {
            None => Vec::new(),
            Some(_) if selects_nothing => Vec::new(),
            Some(lits) => lits
                .into_iter()
                .chain(std::iter::once(b"\\u".to_vec()))
                .map(|l| Finder::new(&l).into_owned())
                .collect(),
        };
        Prefilter {
            finders,
            selects_nothing,
        }
    }

    /// True when every record must be parsed.
    pub fn passes_everything(&self) -> bool {
        self.finders.is_empty() && !self.selects_nothing
    }

    /// Fills `hits` with the sorted start offsets of every literal in `buf`.
    pub fn find_hits(&self, buf: &[u8], hits: &mut Vec<usize>) {
        hits.clear();
        for f in &self.finders {
            hits.extend(f.find_iter(buf));
        }
        if self.finders.len() > 1 {
            hits.sort_unstable();
        }
    }
}

/// Walks records in file order and answers "does `[start, end)` hold a hit?"
/// in amortised constant time.
pub struct HitCursor<'h> {
    hits: &'h [usize],
    next: usize,
}

impl<'h> HitCursor<'h> {
    pub fn new(hits: &'h [usize]) -> Self {
        HitCursor { hits, next: 0 }
    }

    /// Whether a hit starts inside `[start, end)`; ranges must come in order.
    pub fn any_in(&mut self, start: usize, end: usize) -> bool {
        while self.next < self.hits.len() && self.hits[self.next] < start {
            self.next += 1;
        }
        self.next < self.hits.len() && self.hits[self.next] < end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_selection_of_no_events_makes_no_candidate() {
        let p = Prefilter::new(&Selection::Events(Vec::new()));
        let mut hits = vec![7];
        p.find_hits(br#"{"eventName":"Get\u0053ecretValue"}"#, &mut hits);
        assert!(hits.is_empty());
        assert!(!p.passes_everything());
        assert!(Prefilter::new(&Selection::All).passes_everything());
    }

    #[test]
    fn hits_include_escapes_and_all_literals() {
        let p = Prefilter::new(&Selection::default());
        let buf =
            br#"{"eventName":"GetSecretValue"} {"x":"\u0041"} {"eventName":"BatchGetSecretValue"}"#;
        let mut hits = Vec::new();
        p.find_hits(buf, &mut hits);
        assert_eq!(hits.len(), 4, "{hits:?}");
        let mut c = HitCursor::new(&hits);
        assert!(c.any_in(0, 30));
        assert!(c.any_in(31, 46));
        assert!(c.any_in(47, buf.len()));
        assert!(!c.any_in(buf.len(), buf.len() + 5));
        assert!(Prefilter::new(&Selection::All).passes_everything());
    }
}
