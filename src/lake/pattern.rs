//! `ingest --select --pattern P` (and `--rules`): which records CloudWatch
//! Logs filter patterns store (any of them matching), judged on each
//! record's text as `events --pattern` and `alarm` do.
//!
//! The scan's own selection then matches nothing; the writer's visitor asks
//! [`Picker::wants`] of every record (the pattern's byte prefilter) and
//! [`Picker::pick`] of those it wants.

use crate::read::record::{select_event, Selection};
use crate::replay::pattern::{EventCache, Pattern};
use crate::window::TimeWindow;

use super::schema::LakeRow;

/// Patterns and the window, deciding which records become rows.
pub struct Picker {
    /// A record any of them matches is stored.
    pub patterns: Vec<Pattern>,
    pub window: TimeWindow,
}

/// What became of one record the prefilter let through.
pub enum Pick {
    /// Matched, in the window: its row.
    Row(Box<LakeRow>),
    /// Matched, without a usable time; `missing` when it has no
    /// `eventTime` at all (else the text is unparseable).
    NoTime { missing: bool },
    /// Not matched, or outside the window.
    Not,
}

impl Picker {
    /// Whether the record's bytes may match (cheap; asked of every record).
    pub fn wants(&self, raw: &[u8]) -> bool {
        self.patterns.iter().any(|p| p.prefilter().may_match(raw))
    }

    /// Judges record `index` of its object, whose text is `raw`.
    pub fn pick(&self, raw: &[u8], index: u32) -> Pick {
        let ev = EventCache::from_raw(raw);
        if !self.patterns.iter().any(|p| p.matches_cached(&ev)) {
            return Pick::Not;
        }
        let Some(rec) = ev.json() else {
            return Pick::Not;
        };
        let Some(event) = select_event(rec, &Selection::All) else {
            return Pick::Not;
        };
        let Some(t) = event.event_time else {
            return Pick::NoTime {
                missing: event.event_time_text.is_none(),
            };
        };
        if !self.window.contains(t) {
            return Pick::Not;
        }
        Pick::Row(Box::new(LakeRow::new(
            &event,
            rec,
            raw,
            t.as_microsecond(),
            0,
            index,
        )))
    }
}
