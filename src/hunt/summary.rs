//! What hunt's findings add up to: each finding judged once (reported,
//! suppressed by an allowlist entry, or a repeat of an event already seen),
//! and per-rule totals. Fed the findings in sorted order, one at a time, so
//! it holds totals and never the rows.

use rustc_hash::FxHashSet;

use super::allow::{Allowlist, Subject};
use super::finding::Finding;
use crate::events::{event_id_key, Duplicates};

/// What became of one finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Reported,
    /// Silenced by the allowlist entry at this position.
    Suppressed(usize),
    /// Its event repeats an eventID already counted (and copies are counted once).
    Duplicate,
}

/// One rule's totals.
#[derive(Debug, Clone, Default)]
pub struct RuleTally {
    /// Reported matches (not suppressed, not duplicates).
    pub matches: u64,
    pub suppressed: u64,
    pub first_us: Option<i64>,
    pub last_us: Option<i64>,
    principals: FxHashSet<String>,
}

impl RuleTally {
    /// Distinct principals among the reported matches.
    pub fn principals(&self) -> u64 {
        self.principals.len() as u64
    }
}

/// Totals over every finding, in the order [`Finding::sort_key`] gives.
#[derive(Debug)]
pub struct Tally {
    pub rules: Vec<RuleTally>,
    /// Suppressed matches per allowlist entry.
    pub per_entry: Vec<u64>,
    /// Distinct records some rule matched (duplicates included).
    pub matched_records: u64,
    /// Of those, records whose eventID an earlier record has.
    pub duplicates: u64,
    seen: FxHashSet<u128>,
    current: Option<(i64, String, u64)>,
    current_repeats: bool,
    keep: Duplicates,
}

impl Tally {
    pub fn new(rules: usize, entries: usize, keep: Duplicates) -> Tally {
        Tally {
            rules: vec![RuleTally::default(); rules],
            per_entry: vec![0; entries],
            matched_records: 0,
            duplicates: 0,
            seen: FxHashSet::default(),
            current: None,
            current_repeats: false,
            keep,
        }
    }

    /// Judges the next finding; `rule_id` is its rule's id.
    pub fn judge(
        &mut self,
        f: &Finding,
        rule_id: &str,
        allow: Option<&Allowlist>,
        now_us: i64,
    ) -> Verdict {
        self.start_record(f);
        if self.current_repeats && self.keep == Duplicates::CountOnce {
            return Verdict::Duplicate;
        }
        let e = &f.event;
        let subject = Subject {
            rule: rule_id,
            time_us: f.time_us,
            principal: Some(&e.principal),
            source_ip: e.source_ip.as_deref(),
            user_agent: e.user_agent.as_deref(),
            account: e.account_id.as_deref(),
        };
        let rule = &mut self.rules[f.rule as usize];
        if let Some(entry) = allow.and_then(|a| a.allowing(&subject, now_us)) {
            self.per_entry[entry] += 1;
            rule.suppressed += 1;
            return Verdict::Suppressed(entry);
        }
        rule.matches += 1;
        rule.first_us = Some(rule.first_us.map_or(f.time_us, |t| t.min(f.time_us)));
        rule.last_us = Some(rule.last_us.map_or(f.time_us, |t| t.max(f.time_us)));
        if !rule.principals.contains(&e.principal) {
            rule.principals.insert(e.principal.clone());
        }
        Verdict::Reported
    }

    /// Counts a new record when `f` is the first finding of one.
    fn start_record(&mut self, f: &Finding) {
        let same = self
            .current
            .as_ref()
            .is_some_and(|(t, o, i)| *t == f.time_us && *o == f.object && *i == f.index);
        if same {
            return;
        }
        match &mut self.current {
            Some((t, o, i)) => {
                (*t, *i) = (f.time_us, f.index);
                o.clone_from(&f.object);
            }
            None => self.current = Some((f.time_us, f.object.clone(), f.index)),
        }
        self.matched_records += 1;
        self.current_repeats = f
            .event
            .event_id
            .as_deref()
            .is_some_and(|id| !self.seen.insert(event_id_key(id)));
        if self.current_repeats {
            self.duplicates += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hunt::finding::EventFields;

    fn finding(time_us: i64, object: &str, rule: u32, id: &str, principal: &str) -> Finding {
        Finding {
            time_us,
            object: object.into(),
            index: 0,
            rule,
            event: EventFields {
                principal: principal.into(),
                event_id: Some(id.into()),
                ..Default::default()
            },
        }
    }

    #[test]
    fn repeated_event_ids_count_once_unless_kept() {
        let rows = [
            finding(1, "a", 0, "e1", "p"),
            finding(1, "a", 1, "e1", "p"),
            finding(1, "b", 0, "e1", "p"),
            finding(2, "a", 0, "e2", "q"),
        ];
        let mut once = Tally::new(2, 0, Duplicates::CountOnce);
        let verdicts: Vec<_> = rows.iter().map(|f| once.judge(f, "r", None, 0)).collect();
        assert_eq!(verdicts[2], Verdict::Duplicate);
        assert_eq!((once.matched_records, once.duplicates), (3, 1));
        assert_eq!(once.rules[0].matches, 2);
        assert_eq!(once.rules[0].principals(), 2);
        assert_eq!(
            (once.rules[0].first_us, once.rules[0].last_us),
            (Some(1), Some(2))
        );
        let mut keep = Tally::new(2, 0, Duplicates::Keep);
        for f in &rows {
            assert_eq!(keep.judge(f, "r", None, 0), Verdict::Reported);
        }
        assert_eq!((keep.rules[0].matches, keep.duplicates), (3, 1));
    }

    #[test]
    fn allowlisted_matches_are_counted_per_entry() {
        let allow = Allowlist::parse("allow:\n  - principals: ['p']\n    rule: r\n").unwrap();
        let mut t = Tally::new(1, 1, Duplicates::CountOnce);
        let f = finding(1, "a", 0, "e1", "p");
        assert_eq!(t.judge(&f, "r", Some(&allow), 0), Verdict::Suppressed(0));
        let g = finding(2, "a", 0, "e2", "q");
        assert_eq!(t.judge(&g, "r", Some(&allow), 0), Verdict::Reported);
        assert_eq!(
            (t.per_entry[0], t.rules[0].suppressed, t.rules[0].matches),
            (1, 1, 1)
        );
    }
}
