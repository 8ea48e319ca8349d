//! The listing of a store sorted into digests and log files, the time
//! window, and the parallel loading of digest files.
//!
//! Owns reading digests (bytes, hash, JSON, metadata); judging them is left
//! to `chain` and `signature`.

use std::collections::{BTreeMap, HashSet};

use jiff::{SignedDuration, Timestamp};
use rayon::prelude::*;

use super::digest::{inflate, sha256_hex, Digest};
use super::naming::{classify, DigestName, LogName, ObjectKind};
use super::store::{ObjectInfo, ObjectStore};

/// Every listed key, sorted by kind.
pub(crate) struct Inventory {
    /// All keys, for existence checks.
    pub objects: HashSet<String>,
    /// Digest keys and their parsed names.
    pub digests: Vec<(String, DigestName)>,
    /// Log keys and their parsed names.
    pub logs: Vec<(String, LogName)>,
    /// Keys in CloudTrail folders whose names do not parse.
    pub unrecognized: Vec<String>,
}

impl Inventory {
    pub fn build(listing: Vec<ObjectInfo>) -> Self {
        let mut inv = Inventory {
            objects: HashSet::with_capacity(listing.len()),
            digests: Vec::new(),
            logs: Vec::new(),
            unrecognized: Vec::new(),
        };
        for info in listing {
            match classify(&info.key) {
                ObjectKind::Digest(name) => inv.digests.push((info.key.clone(), name)),
                ObjectKind::Log(name) => inv.logs.push((info.key.clone(), name)),
                ObjectKind::Unrecognized => inv.unrecognized.push(info.key.clone()),
                ObjectKind::Other => {}
            }
            inv.objects.insert(info.key);
        }
        inv.digests.sort_by(|a, b| a.0.cmp(&b.0));
        inv.logs.sort_by(|a, b| a.0.cmp(&b.0));
        inv.unrecognized.sort();
        inv
    }
}

/// The requested delivery-time window.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Window {
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
}

impl Window {
    /// `since <= t <= until` for the bounds that are set.
    pub fn contains(&self, t: Timestamp) -> bool {
        self.since.is_none_or(|s| t >= s) && self.until.is_none_or(|u| t <= u)
    }

    /// Digests ending in `[since, until + 1h]` (as `validate-logs` lists them);
    /// backfill digests from `since` on, since they arrive late.
    pub fn wants_digest(&self, name: &DigestName) -> bool {
        let after = self.since.is_none_or(|s| name.end >= s);
        let limit = self
            .until
            .and_then(|u| u.checked_add(SignedDuration::from_hours(1)).ok());
        after && (name.backfill || limit.is_none_or(|l| name.end <= l))
    }
}

/// A digest as read from the store.
pub(crate) struct LoadedDigest {
    pub key: String,
    pub name: DigestName,
    /// In the report (otherwise loaded only as a link target).
    pub in_window: bool,
    /// SHA-256 hex of the inflated bytes, or why it could not be read.
    pub hash: Result<String, String>,
    /// The parsed digest, or why it is "invalid format".
    pub doc: Result<Digest, String>,
    /// Object metadata, or why it could not be read.
    pub metadata: Result<Option<BTreeMap<String, String>>, String>,
}

impl LoadedDigest {
    /// `digestStartTime`, or an hour before the name's end if unparsed.
    pub fn start(&self) -> Timestamp {
        match &self.doc {
            Ok(d) => d.start,
            Err(_) => self
                .name
                .end
                .checked_sub(SignedDuration::from_hours(1))
                .unwrap_or(self.name.end),
        }
    }

    /// End time from the name (equal to `digestEndTime` in valid digests).
    pub fn end(&self) -> Timestamp {
        self.name.end
    }
}

fn load_one<S: ObjectStore + ?Sized>(
    store: &S,
    key: &str,
    name: &DigestName,
    in_window: bool,
) -> LoadedDigest {
    let content = store
        .read(key)
        .map_err(|e| format!("unreadable: {e:#}"))
        .and_then(|raw| inflate(&raw).map_err(|e| format!("not gzip: {e}")));
    let (hash, doc) = match content {
        Ok(inflated) => {
            let doc = if inflated.trailing_data {
                Err("unexpected data after end of compressed stream".to_string())
            } else {
                Digest::parse(&inflated.bytes).map_err(|e| e.to_string())
            };
            (Ok(sha256_hex(&inflated.bytes)), doc)
        }
        Err(e) => (Err(e.clone()), Err(e)),
    };
    let metadata = store.metadata(key).map_err(|e| format!("{e:#}"));
    LoadedDigest {
        key: key.to_string(),
        name: name.clone(),
        in_window,
        hash,
        doc,
        metadata,
    }
}

/// Loads the window's digests in parallel, then the digests they link to
/// that lie outside the window (needed for the first hash-chain check).
pub(crate) fn load_digests<S: ObjectStore + ?Sized>(
    store: &S,
    inv: &Inventory,
    window: &Window,
    prefix: &str,
) -> Vec<LoadedDigest> {
    let mut loaded: Vec<LoadedDigest> = inv
        .digests
        .par_iter()
        .filter(|(_, name)| window.wants_digest(name))
        .map(|(key, name)| load_one(store, key, name, true))
        .collect();
    let have: HashSet<&str> = loaded.iter().map(|d| d.key.as_str()).collect();
    let wanted: HashSet<&str> = loaded
        .iter()
        .filter_map(|d| d.doc.as_ref().ok()?.previous_object.as_deref())
        .filter_map(|obj| obj.strip_prefix(prefix))
        .filter(|k| !have.contains(k) && inv.objects.contains(*k))
        .collect();
    let extra: Vec<LoadedDigest> = inv
        .digests
        .par_iter()
        .filter(|(key, _)| wanted.contains(key.as_str()))
        .map(|(key, name)| load_one(store, key, name, false))
        .collect();
    loaded.extend(extra);
    loaded
}
