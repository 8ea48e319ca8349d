//! Which part files a query reads: the files committed manifest fragments
//! list, less the partitions `--account`, `--region`, `--since` and
//! `--until` rule out by their folder names alone.

use std::path::{Path, PathBuf};

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::lake::manifest::Outcome;
use crate::lake::partition::Partition;
use crate::scan::NoTimeReasons;
use crate::source::select::KeySelect;
use crate::window::TimeWindow;

/// One committed part file and its partition's values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartFile {
    pub path: PathBuf,
    pub account: Option<String>,
    pub region: Option<String>,
    /// `None` when the folder's date is not a date (never written so).
    pub date: Option<Date>,
}

impl PartFile {
    /// The file at `rel`, a path below the lake's root such as
    /// `events/account=A/region=R/date=D/part-….parquet`; `None` when its
    /// folders are not a partition. A file committed but not yet renamed
    /// (its ingest died in between) is read under its temporary name.
    pub fn from_relative(root: &Path, rel: &str) -> Option<PartFile> {
        let (folder, name) = rel.strip_prefix("events/")?.rsplit_once('/')?;
        let [account, region, date] = Partition::parse(folder)?;
        let mut path = root.join(rel);
        let pending = root
            .join("events")
            .join(folder)
            .join(format!(".{name}.tmp"));
        if !path.exists() && pending.exists() {
            path = pending;
        }
        Some(PartFile {
            path,
            account,
            region,
            date: date.and_then(|d| d.parse().ok()),
        })
    }

    /// Whether the partition can hold a row the query wants.
    pub fn selected(&self, keys: &KeySelect, window: &TimeWindow) -> bool {
        let value = |v: &Option<String>| v.clone().unwrap_or_default();
        keys.account(&value(&self.account))
            && keys.region(&value(&self.region))
            && self.date.is_none_or(|d| date_overlaps(d, window))
    }
}

/// Whether the UTC day `d` overlaps the window.
fn date_overlaps(d: Date, window: &TimeWindow) -> bool {
    let start =
        |d: Date| -> Option<Timestamp> { Some(d.to_zoned(TimeZone::UTC).ok()?.timestamp()) };
    let (Some(lo), hi) = (start(d), d.tomorrow().ok().and_then(start)) else {
        return true;
    };
    window.until.is_none_or(|u| lo < u) && window.since.is_none_or(|s| hi.is_none_or(|h| s < h))
}

/// One ingested object, as the manifest accounts for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LakeObject {
    pub key: String,
    /// Records read from it, with and without a usable time.
    pub records: u64,
    /// Its records that have no usable time (not rows).
    pub no_time: NoTimeReasons,
    /// How the ingest ended for it.
    pub outcome: Outcome,
    /// Why it was skipped or failed.
    pub reason: Option<String>,
}
