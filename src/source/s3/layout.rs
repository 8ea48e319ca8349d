//! The CloudTrail layout as a listing plan: which folders to descend into
//! (only `CloudTrail/` under each selected account, never other services'
//! folders), and which stretch of each region's keys the window needs.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::source::select::{is_account_id, KeySelect};
use crate::source::shard::{DayRange, RegionKey, Shard};
use crate::window::{PruneSlack, TimeWindow};

/// Which folders under an account a listing descends into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListMode {
    /// Log files only (`CloudTrail/`): digests and Insights are not scanned.
    Scan,
    /// Logs, digests and Insights (`mirror`).
    Mirror,
}

/// What a listing job finds below its prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// The SOURCE's prefix, above `AWSLogs/`.
    Root,
    /// `AWSLogs/`: organization folders and accounts.
    AwsLogs,
    /// `AWSLogs/o-…/`: accounts.
    Org,
    /// `…/<account>/`: its trail folders are listed directly, not found.
    Account,
    /// `…/<account>/CloudTrail/`: regions, each listed as one key range.
    Trail,
    /// A region (or anything below it): keys in the window's range. Under
    /// `--shard`, its first page tells whether it is split by day.
    Region,
    /// The rest of a region's range, from a key on, read by one shard.
    Range,
    /// `…/REGION/YYYY/MM/DD/` that this shard owns: every key.
    Day,
    /// Outside the layout: every key, no delimiter.
    Plain,
}

/// What to list and what to leave out.
#[derive(Debug, Clone)]
pub struct Plan {
    pub window: TimeWindow,
    pub slack: PruneSlack,
    /// The clock: the end of a window open at its end.
    pub now: Timestamp,
    pub mode: ListMode,
    pub select: KeySelect,
    /// `--shard`: only this shard's days are listed.
    pub shard: Option<Shard>,
}

impl Plan {
    /// The level of a child folder `name` (without its `/`) of a `parent`
    /// folder; `None` when it is not listed at all.
    pub fn child(&self, parent: Level, name: &str) -> Option<Level> {
        Some(match parent {
            Level::Root if name == "AWSLogs" => Level::AwsLogs,
            Level::Root if self.select.is_narrowed() => return None,
            Level::AwsLogs if name.starts_with("o-") => Level::Org,
            Level::AwsLogs | Level::Org if is_account_id(name) => {
                if !self.select.account(name) {
                    return None;
                }
                Level::Account
            }
            Level::AwsLogs | Level::Org => return None,
            Level::Trail if self.select.region(name) => Level::Region,
            Level::Trail => return None,
            _ => Level::Plain,
        })
    }

    /// The shard, when it leaves anything out.
    pub fn splitting(&self) -> Option<Shard> {
        self.shard.filter(Shard::splits)
    }

    /// Whether a listed key is this shard's to read (`prefix`: the SOURCE's).
    pub fn owns(&self, key: &str, prefix: &str) -> bool {
        self.splitting().is_none_or(|s| {
            let relative = key.strip_prefix(prefix).unwrap_or(key);
            s.owns_key(key, relative.trim_start_matches('/'))
        })
    }

    /// The days a region's listing covers, as [`DayRange`] spells them.
    pub fn day_range_text(&self) -> DayRange {
        let (first, last) = self.day_range();
        let text = |d: Date| d.strftime("%Y/%m/%d").to_string();
        DayRange {
            first: first.map(text),
            last: last.map(text),
        }
    }

    /// The last day a sharded listing enumerates: the window's (with
    /// slack), or, open at its end, the day `now` plus the slack falls on
    /// (no object is delivered later than now).
    fn last_day(&self) -> Option<Date> {
        let (_, last) = self.day_range();
        last.or_else(|| {
            let end = self.now.checked_add(self.slack.until).ok()?;
            Some(end.to_zoned(TimeZone::UTC).date())
        })
    }

    /// The day folders of a large region that `shard` owns, from `from`
    /// (`YYYY/MM/DD`, the day a first page ended in) to the range's last day.
    pub fn owned_days_from(&self, shard: Shard, key: &RegionKey<'_>, from: &str) -> Vec<String> {
        let (Ok(from), Some(last)) = (Date::strptime("%Y/%m/%d", from), self.last_day()) else {
            return Vec::new();
        };
        std::iter::successors(Some(from), |d| d.tomorrow().ok())
            .take_while(|d| *d <= last)
            .map(|d| d.strftime("%Y/%m/%d").to_string())
            .filter(|day| shard.owns_day(key.account, key.region, day))
            .map(|day| format!("{}{day}/", key.folder))
            .collect()
    }

    /// Where the region owner's last listing of a large region starts:
    /// after every key of the last enumerated day, for what sorts later.
    pub fn tail_start(&self, folder: &str) -> Option<String> {
        let last = self.last_day()?;
        Some(format!("{folder}{}\u{10FFFF}", day_folder(last)))
    }

    /// The trail folders listed under an account: no delimiter LIST to find
    /// them, and no other service's folder (`Config/`, …) is ever listed.
    pub fn trail_folders(&self) -> &'static [&'static str] {
        match self.mode {
            ListMode::Scan => &["CloudTrail"],
            ListMode::Mirror => &["CloudTrail", "CloudTrail-Digest", "CloudTrail-Insight"],
        }
    }

    /// The day folders a region's listing covers: from the day of
    /// `since - slack` to the day of `until + slack`, either end open.
    pub fn day_range(&self) -> (Option<Date>, Option<Date>) {
        let day = |t: Timestamp| t.to_zoned(TimeZone::UTC).date();
        let first = self
            .window
            .since
            .and_then(|s| s.checked_sub(self.slack.since).ok())
            .map(day);
        let end = match (self.window.until, self.window.since) {
            (Some(u), _) => Some(u),
            (None, Some(_)) => Some(self.now),
            (None, None) => None,
        };
        let last = end
            .and_then(|u| u.checked_add(self.slack.until).ok())
            .map(day);
        (first, last)
    }

    /// Where a region's range listing starts: after every key of the days
    /// before the range (`REGION/YYYY/MM/DD` sorts just before that day's keys).
    pub fn start_after(&self, region_prefix: &str) -> Option<String> {
        let (first, _) = self.day_range();
        first.map(|d| format!("{region_prefix}{}", d.strftime("%Y/%m/%d")))
    }

    /// Whether a key of a region's range lies past the range's last day, so
    /// the listing can stop (keys are listed in order).
    pub fn past_range(&self, region_prefix: &str, key: &str) -> bool {
        let (_, Some(last)) = self.day_range() else {
            return false;
        };
        let Some(rest) = key.strip_prefix(region_prefix) else {
            return false;
        };
        let end = day_folder(last);
        rest.len() >= end.len() && rest[..end.len()] > *end
    }
}

/// `YYYY/MM/DD/`.
fn day_folder(d: Date) -> String {
    d.strftime("%Y/%m/%d/").to_string()
}

/// The level of the SOURCE's own prefix, from its folders.
pub fn level_of_prefix(prefix: &str) -> Level {
    let segs: Vec<&str> = prefix.split('/').filter(|s| !s.is_empty()).collect();
    let Some(i) = segs.iter().rposition(|s| *s == "AWSLogs") else {
        return Level::Root;
    };
    match &segs[i + 1..] {
        [] => Level::AwsLogs,
        [o] if o.starts_with("o-") => Level::Org,
        [a] | [_, a] if is_account_id(a) => Level::Account,
        [.., a, t] if is_account_id(a) && t.starts_with("CloudTrail") => Level::Trail,
        [.., a, t, _] if is_account_id(a) && t.starts_with("CloudTrail") => Level::Region,
        _ => Level::Plain,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(since: Option<&str>, until: Option<&str>) -> Plan {
        Plan {
            window: TimeWindow {
                since: since.map(|s| s.parse().unwrap()),
                until: until.map(|s| s.parse().unwrap()),
            },
            slack: PruneSlack::DEFAULT,
            now: "2026-03-10T12:00:00Z".parse().unwrap(),
            mode: ListMode::Scan,
            select: KeySelect::default(),
            shard: None,
        }
    }

    #[test]
    fn prefixes_are_placed_in_the_layout() {
        assert_eq!(level_of_prefix(""), Level::Root);
        assert_eq!(level_of_prefix("trail/"), Level::Root);
        assert_eq!(level_of_prefix("AWSLogs/"), Level::AwsLogs);
        assert_eq!(level_of_prefix("x/AWSLogs/o-abc123/"), Level::Org);
        assert_eq!(level_of_prefix("AWSLogs/123456789012/"), Level::Account);
        assert_eq!(level_of_prefix("AWSLogs/o-a/123456789012/"), Level::Account);
        let trail = "AWSLogs/123456789012/CloudTrail/";
        assert_eq!(level_of_prefix(trail), Level::Trail);
        assert_eq!(
            level_of_prefix(&format!("{trail}us-east-1/")),
            Level::Region
        );
        assert_eq!(
            level_of_prefix(&format!("{trail}us-east-1/2026/")),
            Level::Plain
        );
        let p = plan(None, None);
        assert_eq!(p.child(Level::AwsLogs, "Config"), None);
        assert_eq!(
            p.child(Level::AwsLogs, "123456789012"),
            Some(Level::Account)
        );
        assert_eq!(p.child(Level::Root, "other"), Some(Level::Plain));
        assert_eq!(p.trail_folders(), ["CloudTrail"]);
    }

    #[test]
    fn a_region_is_listed_from_the_first_day_to_the_last() {
        assert_eq!(plan(None, None).day_range(), (None, None));
        let p = plan(Some("2026-01-02T00:30:00Z"), Some("2026-01-03T00:00:00Z"));
        let r = "AWSLogs/1/CloudTrail/us-east-1/";
        assert_eq!(p.start_after(r).unwrap(), format!("{r}2026/01/01"));
        assert!(!p.past_range(r, &format!("{r}2026/01/04/x.json.gz")));
        assert!(p.past_range(r, &format!("{r}2026/01/05/x.json.gz")));
        let p = plan(Some("2026-01-02T05:00:00Z"), None);
        assert_eq!(p.start_after(r).unwrap(), format!("{r}2026/01/02"));
        assert!(!p.past_range(r, &format!("{r}2026/03/11/x")));
        assert!(p.past_range(r, &format!("{r}2026/03/12/x")));
        let p = plan(None, Some("2026-01-03T00:00:00Z"));
        assert_eq!(p.start_after(r), None);
        assert!(p.past_range(r, &format!("{r}2026/01/05/x")));
    }

    #[test]
    fn a_large_region_is_listed_on_its_own_days() {
        let r = "t/AWSLogs/o-a/111122223333/CloudTrail/us-east-1/";
        let w = plan(Some("2026-01-02T00:30:00Z"), Some("2026-01-09T00:00:00Z"));
        let range = w.day_range_text();
        assert_eq!(range.first.as_deref(), Some("2026/01/01"));
        assert_eq!(range.last.as_deref(), Some("2026/01/10"));
        let key = RegionKey::of(r).unwrap_or(RegionKey {
            folder: r,
            account: "111122223333",
            region: "us-east-1",
            rest: "",
        });
        // From the day a first page ended in: together the shards list each
        // remaining day of the range once.
        let mut all: Vec<String> = (0..3)
            .flat_map(|index| w.owned_days_from(Shard { index, count: 3 }, &key, "2026/01/04"))
            .collect();
        all.sort();
        let expected: Vec<String> = (4..=10).map(|d| format!("{r}2026/01/{d:02}/")).collect();
        assert_eq!(all, expected);
        assert_eq!(
            w.tail_start(r).unwrap(),
            format!("{r}2026/01/10/\u{10FFFF}")
        );
        // Open at its end, the range ends the day after now.
        let open = plan(None, None);
        let days = open.owned_days_from(Shard { index: 0, count: 1 }, &key, "2026/03/09");
        assert_eq!(days.len(), 3, "{days:?}");
    }
}
