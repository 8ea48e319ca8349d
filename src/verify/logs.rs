//! Log files against digests: hashing every log file that a digest in the
//! window lists (in parallel, each file once), and finding log files in the
//! window that no digest lists.
//!
//! Log files of invalid-format digests cannot be checked (their lists are
//! unknown); those of digests that fail other checks are still hashed.

use std::collections::{BTreeMap, HashMap, HashSet};

use jiff::{SignedDuration, Timestamp};
use rayon::prelude::*;

use super::digest::{inflate, sha256_hex};
use super::inventory::{Inventory, LoadedDigest, Window};
use super::report::{LogFinding, LogStatus, UncoveredContext, UncoveredLog};
use super::store::ObjectStore;

/// What reading one log file gave.
enum Read {
    Missing,
    Failed(String),
    Trailing,
    Hash(String),
}

/// Maps a recorded `s3Object` to a store key.
fn store_key<'a>(object: &'a str, prefix: &str) -> &'a str {
    object.strip_prefix(prefix).unwrap_or(object)
}

/// Hashes each log file listed by an in-window digest and compares it with
/// every listing of it.
pub(crate) fn check_listed<S: ObjectStore + ?Sized>(
    store: &S,
    digests: &[LoadedDigest],
    inv: &Inventory,
    prefix: &str,
) -> Vec<LogFinding> {
    let mut listings: BTreeMap<&str, Vec<(&str, &str)>> = BTreeMap::new();
    for d in digests.iter().filter(|d| d.in_window) {
        let Ok(doc) = &d.doc else { continue };
        for entry in &doc.log_files {
            let key = store_key(&entry.object, prefix);
            listings
                .entry(key)
                .or_default()
                .push((d.key.as_str(), entry.hash.as_str()));
        }
    }
    let keys: Vec<&str> = listings.keys().copied().collect();
    let results: Vec<Read> = keys
        .par_iter()
        .map(|key| read_hash(store, inv, key))
        .collect();
    let mut out = Vec::new();
    for (key, read) in keys.iter().zip(results) {
        for (digest, expected) in &listings[key] {
            out.push(LogFinding {
                key: key.to_string(),
                digest: digest.to_string(),
                status: status(&read, expected),
            });
        }
    }
    out
}

fn read_hash<S: ObjectStore + ?Sized>(store: &S, inv: &Inventory, key: &str) -> Read {
    if !inv.objects.contains(key) {
        return Read::Missing;
    }
    let raw = match store.read(key) {
        Ok(raw) => raw,
        Err(e) => return Read::Failed(format!("unreadable: {e:#}")),
    };
    match inflate(&raw) {
        Ok(inflated) if inflated.trailing_data => Read::Trailing,
        Ok(inflated) => Read::Hash(sha256_hex(&inflated.bytes)),
        Err(e) => Read::Failed(format!("not gzip: {e}")),
    }
}

fn status(read: &Read, expected: &str) -> LogStatus {
    match read {
        Read::Missing => LogStatus::Deleted,
        Read::Failed(detail) => LogStatus::InvalidFormat {
            detail: detail.clone(),
        },
        Read::Trailing => LogStatus::TrailingData,
        Read::Hash(actual) if actual.eq_ignore_ascii_case(expected) => LogStatus::Valid,
        Read::Hash(actual) => LogStatus::Modified {
            expected: expected.to_string(),
            actual: actual.clone(),
        },
    }
}

/// Log files delivered in the window that no loaded digest lists.
pub(crate) fn uncovered(
    inv: &Inventory,
    digests: &[LoadedDigest],
    window: &Window,
    prefix: &str,
) -> Vec<UncoveredLog> {
    let listed: HashSet<&str> = digests
        .iter()
        .filter_map(|d| d.doc.as_ref().ok())
        .flat_map(|doc| doc.log_files.iter())
        .map(|e| store_key(&e.object, prefix))
        .collect();
    let mut periods: HashMap<(&str, &str), Vec<(Timestamp, Timestamp)>> = HashMap::new();
    for d in digests {
        let key = (d.name.account.as_str(), d.name.region.as_str());
        periods.entry(key).or_default().push((d.start(), d.end()));
    }
    inv.logs
        .iter()
        .filter(|(key, name)| window.contains(name.delivered) && !listed.contains(key.as_str()))
        .map(|(key, name)| {
            let region_periods = periods.get(&(name.account.as_str(), name.region.as_str()));
            UncoveredLog {
                key: key.clone(),
                account: name.account.clone(),
                region: name.region.clone(),
                delivered: name.delivered,
                context: context(name.delivered, region_periods.map_or(&[], Vec::as_slice)),
            }
        })
        .collect()
}

/// Log names have minute precision, so a period's start gets a minute of slack.
fn context(t: Timestamp, periods: &[(Timestamp, Timestamp)]) -> UncoveredContext {
    let slack = SignedDuration::from_mins(1);
    let covered = periods
        .iter()
        .any(|&(s, e)| s.checked_sub(slack).unwrap_or(s) <= t && t <= e);
    let last_end = periods.iter().map(|p| p.1).max();
    match last_end {
        _ if covered => UncoveredContext::WithinDigestPeriod,
        Some(e) if t > e => UncoveredContext::AfterLastDigest,
        _ => UncoveredContext::NoDigestPeriod,
    }
}
