//! The byte-level prefilter: which records can possibly be selected, decided
//! without parsing.
//!
//! Soundness contract: every record the full parse would select contains one
//! of the selection's literals (`GetSecretValue"` …), or a `\u` escape inside
//! its `eventName` value (or in a key that decodes to `eventName`), since an
//! event name made of letters and digits can only be disguised that way. The
//! source need not be looked at: a record is selected only if its name is, and
//! a candidate is parsed whole. So a record with neither is skipped without
//! being parsed, whatever escapes it holds elsewhere (see
//! [`crate::read::escape`]); anything else is parsed and decided exactly.

use memchr::memmem::Finder;

use crate::read::escape::escapes_touch_keys;
use crate::read::record::Selection;

/// The keys whose strings an escape must be in to disguise a selected record.
const NAME_KEYS: &[&str] = &["eventName"];

/// Compiled literal searches for one selection.
pub struct Prefilter {
    finders: Vec<Finder<'static>>,
    escape: Finder<'static>,
    /// The selection names no event, so no record is a candidate.
    selects_nothing: bool,
}

/// Where a file's literals and `\u` escapes are, as sorted offsets.
#[derive(Debug, Default)]
pub struct Hits {
    pub literals: Vec<usize>,
    pub escapes: Vec<usize>,
}

impl Prefilter {
    /// Builds the prefilter; `Selection::All` makes every record a candidate.
    pub fn new(selection: &Selection) -> Prefilter {
        let literals = selection.literals();
        let selects_nothing = literals.as_ref().is_some_and(Vec::is_empty);
        let finders = literals
            .unwrap_or_default()
            .into_iter()
            .map(|l| Finder::new(&l).into_owned())
            .collect();
        Prefilter {
            finders,
            escape: Finder::new(b"\\u").into_owned(),
            selects_nothing,
        }
    }

    /// True when every record must be parsed.
    pub fn passes_everything(&self) -> bool {
        self.finders.is_empty() && !self.selects_nothing
    }

    /// Fills `hits` with the sorted start offsets of every literal and every
    /// `\u` in `buf`.
    pub fn find_hits(&self, buf: &[u8], hits: &mut Hits) {
        hits.literals.clear();
        hits.escapes.clear();
        if self.finders.is_empty() {
            return;
        }
        for f in &self.finders {
            hits.literals.extend(f.find_iter(buf));
        }
        if self.finders.len() > 1 {
            hits.literals.sort_unstable();
        }
        hits.escapes.extend(self.escape.find_iter(buf));
    }

    /// Whether the record `rec` (one structurally valid record) is a
    /// candidate, given whether a literal lies in it and where its `\u`
    /// escapes are (offsets into `rec`, sorted).
    pub fn decide(
        &self,
        rec: &[u8],
        literal: bool,
        escapes: impl IntoIterator<Item = usize>,
    ) -> bool {
        self.passes_everything()
            || literal
            || (!self.selects_nothing && escapes_touch_keys(rec, escapes, NAME_KEYS))
    }

    /// [`Prefilter::find_hits`] and [`Prefilter::decide`] on one record.
    pub fn is_candidate(&self, rec: &[u8]) -> bool {
        let mut hits = Hits::default();
        self.find_hits(rec, &mut hits);
        self.decide(rec, !hits.literals.is_empty(), hits.escapes)
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
        !self.within(start, end).is_empty()
    }

    /// The hits inside `[start, end)`; ranges must come in order.
    pub fn within(&mut self, start: usize, end: usize) -> &'h [usize] {
        while self.next < self.hits.len() && self.hits[self.next] < start {
            self.next += 1;
        }
        let n = self.hits[self.next..].partition_point(|&h| h < end);
        &self.hits[self.next..self.next + n]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_selection_of_no_events_makes_no_candidate() {
        let p = Prefilter::new(&Selection::Events(Vec::new()));
        let mut hits = Hits {
            literals: vec![7],
            escapes: vec![7],
        };
        let rec = br#"{"eventName":"Get\u0053ecretValue"}"#;
        p.find_hits(rec, &mut hits);
        assert!(hits.literals.is_empty() && hits.escapes.is_empty());
        assert!(!p.passes_everything() && !p.is_candidate(rec));
        assert!(Prefilter::new(&Selection::All).passes_everything());
    }

    #[test]
    fn hits_include_escapes_and_all_literals() {
        let p = Prefilter::new(&Selection::default());
        let buf =
            br#"{"eventName":"GetSecretValue"} {"x":"\u0041"} {"eventName":"BatchGetSecretValue"}"#;
        let mut hits = Hits::default();
        p.find_hits(buf, &mut hits);
        assert_eq!(hits.literals.len(), 3, "{hits:?}");
        assert_eq!(hits.escapes.len(), 1, "{hits:?}");
        let mut c = HitCursor::new(&hits.literals);
        assert!(c.any_in(0, 30));
        assert!(!c.any_in(31, 46));
        assert_eq!(c.within(47, buf.len()).len(), 2);
        assert!(!c.any_in(buf.len(), buf.len() + 5));
    }

    #[test]
    fn only_escapes_that_could_spell_a_name_make_a_candidate() {
        let p = Prefilter::new(&Selection::default());
        for (rec, want) in [
            (r#"{"eventName":"GetSecret\u0056alue"}"#, true),
            (r#"{"event\u004eame":"x"}"#, true),
            (
                r#"{"eventName":"ListSecrets","userAgent":"caf\u00e9"}"#,
                false,
            ),
            (
                r#"{"eventName":"ListSecrets","eventSource":"x\u002ey"}"#,
                false,
            ),
            (
                r#"{"eventName":"GetSecretValue","userAgent":"\u0026"}"#,
                true,
            ),
            (
                r#"{"eventName":"A","p":{"s":"\ud83d\ude00 \u003c"}}"#,
                false,
            ),
        ] {
            assert_eq!(p.is_candidate(rec.as_bytes()), want, "{rec}");
        }
    }
}
