//! Delivery coverage per (account, region): log files per hour over the
//! window and the stretches in which nothing at all was delivered.
//!
//! # The gap rule
//!
//! Evidence of delivery is (a) every log file's delivery time (its name
//! timestamp) and (b) every digest's period `[digestStartTime,
//! digestEndTime]`, standard or backfill, whether or not it lists files.
//! CloudTrail writes a digest every hour even when nothing happened, so an
//! hour covered by digests with empty `logFiles` is *no activity*, not a
//! hole. A **gap** is a stretch of the region's window, longer than the
//! threshold (default 2 h), that no evidence touches: neither log files nor
//! digests exist for it. The region's window runs from `since` (else its
//! first evidence) to `until` (else the newest evidence anywhere in the
//! store, so a region that went silent before the others shows a trailing
//! gap). A gap is marked `chain_break` when a digest-chain gap (restart or
//! missing digest) of the same region overlaps it. In a region with no
//! digests at all the rule cannot tell a hole from a quiet region; such
//! gaps are of kind `no_digests`.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};

use super::inventory::{Inventory, LoadedDigest, Window};
use super::report::{ChainGap, CoverageGap, CoverageGapKind, RegionCoverage};

/// Longest hourly histogram kept per region (two years).
const MAX_HOURS: i64 = 2 * 366 * 24;

#[derive(Default)]
struct Evidence {
    logs: Vec<Timestamp>,
    digests: Vec<(Timestamp, Timestamp)>,
}

/// Coverage for every (account, region) seen in the window.
pub(crate) fn compute(
    inv: &Inventory,
    digests: &[LoadedDigest],
    chain_gaps: &[ChainGap],
    window: &Window,
    threshold: SignedDuration,
) -> Vec<RegionCoverage> {
    let mut by_region: BTreeMap<(String, String), Evidence> = BTreeMap::new();
    for (_, name) in inv
        .logs
        .iter()
        .filter(|(_, n)| window.contains(n.delivered))
    {
        let key = (name.account.clone(), name.region.clone());
        by_region.entry(key).or_default().logs.push(name.delivered);
    }
    for d in digests.iter().filter(|d| d.in_window) {
        let key = (d.name.account.clone(), d.name.region.clone());
        by_region
            .entry(key)
            .or_default()
            .digests
            .push((d.start(), d.end()));
    }
    let newest = by_region
        .values()
        .flat_map(|e| e.logs.iter().copied().chain(e.digests.iter().map(|d| d.1)))
        .max();
    let Some(newest) = newest else {
        return Vec::new();
    };
    let end = window.until.unwrap_or(newest);
    by_region
        .into_iter()
        .map(|((account, region), ev)| {
            let related: Vec<&ChainGap> = chain_gaps
                .iter()
                .filter(|g| g.account == account && g.region == region)
                .collect();
            region_coverage(account, region, ev, window.since, end, threshold, &related)
        })
        .collect()
}

fn region_coverage(
    account: String,
    region: String,
    ev: Evidence,
    since: Option<Timestamp>,
    end: Timestamp,
    threshold: SignedDuration,
    chain_gaps: &[&ChainGap],
) -> RegionCoverage {
    let first = ev
        .logs
        .iter()
        .copied()
        .chain(ev.digests.iter().map(|d| d.0))
        .min();
    let start = since.or(first).unwrap_or(end);
    let mut intervals: Vec<(Timestamp, Timestamp)> = ev.logs.iter().map(|&t| (t, t)).collect();
    intervals.extend(ev.digests.iter().copied());
    let kind = if ev.digests.is_empty() {
        CoverageGapKind::NoDigests
    } else {
        CoverageGapKind::Hole
    };
    let gaps = find_gaps(&mut intervals, start, end, threshold)
        .into_iter()
        .map(|(s, e)| {
            let chain_break = chain_gaps
                .iter()
                .any(|g| g.from.unwrap_or(g.to) <= e && g.to >= s);
            make_gap(s, e, kind, chain_break)
        })
        .collect();
    let (first_hour, per_hour) = hourly(&ev.logs, start, end);
    let no_activity_hours = per_hour
        .iter()
        .enumerate()
        .filter(|&(h, &n)| n == 0 && hour_has_digest(first_hour, h, &ev.digests))
        .count();
    RegionCoverage {
        account,
        region,
        window_start: start,
        window_end: end,
        log_files: ev.logs.len(),
        digests: ev.digests.len(),
        first_hour,
        log_files_per_hour: per_hour,
        no_activity_hours,
        gaps,
    }
}

fn make_gap(
    start: Timestamp,
    end: Timestamp,
    kind: CoverageGapKind,
    chain_break: bool,
) -> CoverageGap {
    let secs = end.duration_since(start).as_secs();
    CoverageGap {
        start,
        end,
        length_seconds: secs,
        length: format!("{}h {}m", secs / 3600, secs % 3600 / 60),
        kind,
        chain_break,
    }
}

/// Stretches of `[start, end]` not touched by any interval, longer than
/// `threshold`. Intervals may be points and may overlap.
pub fn find_gaps(
    intervals: &mut [(Timestamp, Timestamp)],
    start: Timestamp,
    end: Timestamp,
    threshold: SignedDuration,
) -> Vec<(Timestamp, Timestamp)> {
    intervals.sort();
    let mut gaps = Vec::new();
    let mut cursor = start;
    for &(s, e) in intervals.iter() {
        if s > end {
            break;
        }
        if s.duration_since(cursor) > threshold {
            gaps.push((cursor, s));
        }
        cursor = cursor.max(e);
    }
    if end.duration_since(cursor) > threshold {
        gaps.push((cursor, end));
    }
    gaps
}

fn floor_hour(t: Timestamp) -> Timestamp {
    let s = t.as_second();
    Timestamp::from_second(s - s.rem_euclid(3600)).unwrap_or(t)
}

/// Log files per hour from the hour of `start` to the hour of `end`.
fn hourly(logs: &[Timestamp], start: Timestamp, end: Timestamp) -> (Timestamp, Vec<u32>) {
    let first = floor_hour(start);
    let hours = end.duration_since(first).as_secs() / 3600 + 1;
    if !(1..=MAX_HOURS).contains(&hours) {
        return (first, Vec::new());
    }
    let mut counts = vec![0u32; usize::try_from(hours).unwrap_or(0)];
    for t in logs {
        let h = t.duration_since(first).as_secs().div_euclid(3600);
        if let Some(c) = usize::try_from(h).ok().and_then(|h| counts.get_mut(h)) {
            *c += 1;
        }
    }
    (first, counts)
}

fn hour_has_digest(first: Timestamp, h: usize, digests: &[(Timestamp, Timestamp)]) -> bool {
    let hs = first.as_second() + 3600 * h as i64;
    let he = hs + 3600;
    digests
        .iter()
        .any(|&(s, e)| s.as_second() < he && e.as_second() > hs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: i64) -> Timestamp {
        Timestamp::from_second(1_767_225_600 + h * 3600).unwrap()
    }

    #[test]
    fn gaps_between_points_and_intervals() {
        let mut iv = vec![(t(0), t(1)), (t(1), t(2)), (t(8), t(9)), (t(3), t(3))];
        let gaps = find_gaps(&mut iv, t(0), t(12), SignedDuration::from_hours(2));
        assert_eq!(gaps, vec![(t(3), t(8)), (t(9), t(12))]);
    }
}
