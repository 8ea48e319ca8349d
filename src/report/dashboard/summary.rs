//! The summary section: headline numbers and the failed objects.

use super::*;

/// A number at `path` in the summary, if any.
pub(super) fn num(v: &serde_json::Value, path: &[&str]) -> Option<u64> {
    path.iter().try_fold(v, |v, k| v.get(k))?.as_u64()
}

pub(super) fn stat(id: &str, label: &str, value: Option<u64>, bad: bool) -> String {
    let shown = value.map_or_else(|| "–".to_string(), group_digits);
    format!(
        "<div class=\"stat{}\" data-stat=\"{}\" data-n=\"{}\"><div class=\"num\">{}</div><div class=\"lbl\">{}</div></div>",
        if bad && value.unwrap_or(0) > 0 { " bad" } else { "" },
        esc(id),
        value.map(|v| v.to_string()).unwrap_or_default(),
        esc(&shown),
        esc(label)
    )
}

pub(super) fn summary_section(s: &serde_json::Value, store: &EventStore, agg: &Agg<'_>) -> String {
    let skipped = s["files"]["skipped"].as_object();
    let skipped_total = skipped.map(|m| m.values().filter_map(|v| v.as_u64()).sum());
    let reasons: Vec<String> = skipped
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    let f = |k: &str| num(s, &["files", k]);
    let r = |k: &str| num(s, &["records", k]);
    let mut body = String::from("<div class=\"stats\">");
    for (id, label, v, bad) in [
        ("events", "events reported", Some(store.len() as u64), false),
        (
            "principals",
            "principals",
            Some(agg.principals.len() as u64),
            false,
        ),
        ("secrets", "secrets", Some(agg.secrets.len() as u64), false),
        ("failed-events", "failed calls", Some(agg.failed), true),
        ("files-listed", "files listed", f("listed"), false),
        ("files-scanned", "files scanned", f("scanned"), false),
        (
            "files-pruned",
            "files pruned (outside window)",
            f("pruned"),
            false,
        ),
        ("files-skipped", "files skipped", skipped_total, false),
        ("files-failed", "files failed", f("failed"), true),
        ("records-read", "records read", r("read"), false),
        ("records-matched", "records matched", r("matched"), false),
        (
            "records-duplicates",
            "duplicate eventIDs",
            r("duplicates"),
            false,
        ),
        (
            "records-no-time",
            "records without eventTime",
            r("no_event_time"),
            true,
        ),
    ] {
        body.push_str(&stat(id, label, v, bad));
    }
    body.push_str("</div>");
    let _ = write!(
        body,
        "<p class=\"note\">Skipped: {}. Read {} bytes ({} decompressed) in {:.2} s.</p>",
        esc(&if reasons.is_empty() {
            "none".to_string()
        } else {
            reasons.join(", ")
        }),
        group_digits(num(s, &["bytes_read"]).unwrap_or(0)),
        group_digits(num(s, &["bytes_decompressed"]).unwrap_or(0)),
        s["elapsed_s"].as_f64().unwrap_or(0.0)
    );
    body.push_str(&failures_list(s));
    section(
        "summary",
        "Summary and coverage",
        "Every file given is accounted for: listed = scanned + pruned + skipped + failed.",
        &body,
    )
}

pub(super) fn failures_list(s: &serde_json::Value) -> String {
    let failures = s["failures"].as_array().map_or(&[][..], Vec::as_slice);
    if failures.is_empty() {
        return "<p class=\"note ok\">No file failed.</p>".to_string();
    }
    let mut out = format!(
        "<h3>Files that failed ({})</h3><div class=\"scroll\"><table data-table=\"failures\"><thead><tr><th>object</th><th>error</th></tr></thead><tbody>",
        failures.len()
    );
    for f in failures.iter().take(TABLE_ROWS) {
        let _ = write!(
            out,
            "<tr><td class=\"mono\">{}</td><td>{}</td></tr>",
            esc(f["object"].as_str().unwrap_or("")),
            esc(f["error"].as_str().unwrap_or(""))
        );
    }
    out.push_str("</tbody></table></div>");
    if failures.len() > TABLE_ROWS {
        let _ = write!(
            out,
            "<p class=\"note\">{} more in summary.json.</p>",
            failures.len() - TABLE_ROWS
        );
    }
    out
}
