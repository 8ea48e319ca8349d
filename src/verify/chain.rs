//! Digest chain checks: each digest's own location and format, and the
//! link from each digest to the one before it.
//!
//! Digests are grouped per (account, region, trail, home region, backfill)
//! and ordered by end time. For each digest whose `previousDigestS3Object` is
//! set, the named digest must exist (else "previous not found" and a
//! missing-digest chain gap), must be the digest immediately before it, must
//! hash (inflated SHA-256) to `previousDigestHashValue` (else both ends are
//! flagged: the earlier one as content changed), and its metadata signature,
//! when known, must equal `previousDigestSignature`. A null previous after an
//! earlier digest is a chain restart: a gap notice worded as `validate-logs`
//! words it. A link to a digest before `since` that is absent is not
//! reported (the mirror may simply start later).
//!
//! Signatures themselves are checked in `signature`; this module only hands
//! over each digest's successor's `previousDigestSignature`.

use std::collections::{BTreeMap, HashMap, HashSet};

use jiff::Timestamp;

use super::inventory::LoadedDigest;
use super::naming::{classify, ObjectKind};
use super::report::{ChainGap, ChainGapKind, DigestProblem};

/// Where the digests were found.
pub(crate) struct ChainContext<'a> {
    pub objects: &'a HashSet<String>,
    pub prefix: &'a str,
    pub bucket: Option<&'a str>,
    pub since: Option<Timestamp>,
}

/// Per-digest results, indexed like the input slice.
pub(crate) struct ChainOutcome {
    pub problems: Vec<Vec<DigestProblem>>,
    /// The `previousDigestSignature` of the digest that links to this one.
    pub next_signature: Vec<Option<String>>,
    pub gaps: Vec<ChainGap>,
}

type GroupKey<'a> = (&'a str, &'a str, &'a str, &'a str, bool);

/// Checks every in-window digest and the links between them.
pub(crate) fn check_chains(digests: &[LoadedDigest], ctx: &ChainContext<'_>) -> ChainOutcome {
    let mut out = ChainOutcome {
        problems: vec![Vec::new(); digests.len()],
        next_signature: vec![None; digests.len()],
        gaps: Vec::new(),
    };
    let index: HashMap<&str, usize> = digests
        .iter()
        .enumerate()
        .map(|(i, d)| (d.key.as_str(), i))
        .collect();
    let mut groups: BTreeMap<GroupKey<'_>, Vec<usize>> = BTreeMap::new();
    for (i, d) in digests.iter().enumerate().filter(|(_, d)| d.in_window) {
        own_checks(d, ctx, &mut out.problems[i]);
        let n = &d.name;
        let key = (
            &*n.account,
            &*n.region,
            &*n.trail,
            &*n.home_region,
            n.backfill,
        );
        groups.entry(key).or_default().push(i);
    }
    for members in groups.values_mut() {
        members.sort_by(|&a, &b| {
            (digests[a].end(), &digests[a].key).cmp(&(digests[b].end(), &digests[b].key))
        });
        for (pos, &i) in members.iter().enumerate() {
            let prev = pos.checked_sub(1).map(|p| members[p]);
            check_link(digests, &index, ctx, i, prev, &mut out);
        }
    }
    out
}

/// Format and location of one digest.
fn own_checks(d: &LoadedDigest, ctx: &ChainContext<'_>, problems: &mut Vec<DigestProblem>) {
    let doc = match &d.doc {
        Ok(doc) => doc,
        Err(detail) => {
            let detail = detail.clone();
            problems.push(DigestProblem::InvalidFormat { detail });
            return;
        }
    };
    let found_object = format!("{}{}", ctx.prefix, d.key);
    let bucket_moved = ctx.bucket.is_some_and(|b| b != doc.bucket);
    if doc.object != found_object || bucket_moved {
        problems.push(DigestProblem::Moved {
            recorded: format!("{}/{}", doc.bucket, doc.object),
            found: format!("{}/{}", ctx.bucket.unwrap_or("?"), found_object),
        });
    }
    if doc.end != d.name.end {
        let detail = format!(
            "digestEndTime {} does not match the file name time {}",
            doc.end_text, d.name.end
        );
        problems.push(DigestProblem::InvalidFormat { detail });
    }
}

/// The link from digest `i` to the previous one; `prev` is the digest before
/// it in its group, if any.
fn check_link(
    digests: &[LoadedDigest],
    index: &HashMap<&str, usize>,
    ctx: &ChainContext<'_>,
    i: usize,
    prev: Option<usize>,
    out: &mut ChainOutcome,
) {
    let d = &digests[i];
    let Ok(doc) = &d.doc else { return };
    let Some(object) = doc.previous_object.as_deref() else {
        if let (Some(p), false) = (prev, d.name.backfill) {
            out.gaps
                .push(gap(&digests[p], d, ChainGapKind::Restart, None));
        }
        return;
    };
    if let (Some(b), Some(pb)) = (ctx.bucket, doc.previous_bucket.as_deref()) {
        if b != pb {
            let (recorded, expected) = (pb.to_string(), b.to_string());
            out.problems[i].push(DigestProblem::PreviousBucketMismatch { recorded, expected });
        }
    }
    let target = object
        .strip_prefix(ctx.prefix)
        .filter(|k| ctx.objects.contains(*k))
        .and_then(|k| index.get(k).copied());
    let Some(t) = target else {
        if !before_since(object, ctx) {
            let previous = object.to_string();
            out.problems[i].push(DigestProblem::PreviousNotFound { previous });
            let kind = ChainGapKind::MissingDigest;
            let g = gap_from(prev.map(|p| &digests[p]), d, kind, Some(object.to_string()));
            out.gaps.push(g);
        }
        return;
    };
    out.next_signature[t] = doc.previous_signature.clone();
    compare_hash(digests, i, t, out);
    compare_signature(digests, i, t, out);
    let same_group_later = digests[t].in_window && prev.is_none();
    if prev.is_some_and(|p| p != t) || same_group_later {
        out.problems[i].push(DigestProblem::PreviousNotAdjacent {
            previous: object.to_string(),
            expected: prev.map(|p| digests[p].key.clone()),
        });
    }
}

/// A missing link whose target's name time is before the window start.
fn before_since(object: &str, ctx: &ChainContext<'_>) -> bool {
    match (classify(object), ctx.since) {
        (ObjectKind::Digest(name), Some(since)) => name.end < since,
        _ => false,
    }
}

fn compare_hash(digests: &[LoadedDigest], i: usize, t: usize, out: &mut ChainOutcome) {
    let Ok(doc) = &digests[i].doc else { return };
    let Ok(actual) = &digests[t].hash else { return };
    let recorded = doc.previous_hash.clone().unwrap_or_default();
    if recorded.eq_ignore_ascii_case(actual) {
        return;
    }
    out.problems[i].push(DigestProblem::PreviousHashMismatch {
        previous: digests[t].key.clone(),
        recorded_hash: recorded.clone(),
        actual_hash: actual.clone(),
    });
    if digests[t].in_window {
        out.problems[t].push(DigestProblem::ContentChanged {
            recorded_by: digests[i].key.clone(),
            recorded_hash: recorded,
            actual_hash: actual.clone(),
        });
    }
}

fn compare_signature(digests: &[LoadedDigest], i: usize, t: usize, out: &mut ChainOutcome) {
    let Ok(doc) = &digests[i].doc else { return };
    let Ok(Some(meta)) = &digests[t].metadata else {
        return;
    };
    let Some(sig) = meta.get("signature") else {
        return;
    };
    let recorded = doc.previous_signature.as_deref().unwrap_or("");
    if !recorded.trim().eq_ignore_ascii_case(sig.trim()) {
        let previous = digests[t].key.clone();
        out.problems[i].push(DigestProblem::PreviousSignatureMismatch { previous });
    }
}

fn gap(
    before: &LoadedDigest,
    after: &LoadedDigest,
    kind: ChainGapKind,
    missing: Option<String>,
) -> ChainGap {
    gap_from(Some(before), after, kind, missing)
}

fn gap_from(
    before: Option<&LoadedDigest>,
    after: &LoadedDigest,
    kind: ChainGapKind,
    missing: Option<String>,
) -> ChainGap {
    let from = before.map(LoadedDigest::end);
    let to = after.start();
    let from_text = from.map_or_else(|| "?".to_string(), |t| t.to_string());
    let message = match (&missing, kind) {
        (Some(m), ChainGapKind::MissingDigest) => {
            format!("digest {m} is missing: the chain is broken between {from_text} and {to}")
        }
        _ => format!("No log files were delivered by CloudTrail between {from_text} and {to}"),
    };
    ChainGap {
        account: after.name.account.clone(),
        region: after.name.region.clone(),
        trail: after.name.trail.clone(),
        kind,
        from,
        to,
        digest: after.key.clone(),
        missing,
        message,
    }
}
