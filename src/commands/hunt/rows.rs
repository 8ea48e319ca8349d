//! Hunt's rows as people and tools read them: one finding with its rule's
//! metadata, as JSON, CSV and table batches, and the per-rule summary table.
//! The rule's `author` is in every row: the rules' licence asks that
//! messages based on a match keep it.

use std::io::Write;

use serde_json::{json, Value};

use crate::hunt::finding::Finding;
use crate::hunt::sigma::{RuleMeta, SigmaRuleSet};
use crate::hunt::summary::Tally;
use crate::report::sanitize::csv_cell;
use crate::report::{Column, StrColumn, Table};
use crate::window::format_utc;

/// Columns of `hunt_findings` (and of `suppressed.csv`, which adds `allow_entry`).
pub const FINDING_COLUMNS: [&str; 17] = [
    "rule_id",
    "rule_title",
    "level",
    "tags",
    "author",
    "event_time",
    "event_source",
    "event_name",
    "principal",
    "account_id",
    "region",
    "source_ip",
    "user_agent",
    "error_code",
    "event_id",
    "object",
    "record_index",
];

const TIME_COLUMN: usize = 5;
const INDEX_COLUMN: usize = 16;

/// ATT&CK tags (and any other tags) as one cell.
fn tags(meta: &RuleMeta) -> String {
    meta.tags.join(" ")
}

fn time_text(us: i64) -> String {
    jiff::Timestamp::from_microsecond(us)
        .map(format_utc)
        .unwrap_or_default()
}

/// The text cells of a finding, in [`FINDING_COLUMNS`] order.
pub fn cells(f: &Finding, meta: &RuleMeta) -> [Option<String>; 17] {
    let e = &f.event;
    [
        Some(meta.id.clone()),
        Some(meta.title.clone()),
        Some(meta.level.clone()),
        Some(tags(meta)),
        Some(meta.author.clone()),
        Some(time_text(f.time_us)),
        e.event_source.clone(),
        e.event_name.clone(),
        Some(e.principal.clone()),
        e.account_id.clone(),
        e.region.clone(),
        e.source_ip.clone(),
        e.user_agent.clone(),
        e.error_code.clone(),
        e.event_id.clone(),
        Some(f.object.clone()),
        Some(f.index.to_string()),
    ]
}

/// One finding as a JSON object (raw values; tags as a list).
pub fn json_row(f: &Finding, meta: &RuleMeta) -> Value {
    let e = &f.event;
    json!({
        "rule_id": meta.id, "rule_title": meta.title, "level": meta.level,
        "tags": meta.tags, "author": meta.author,
        "event_time": time_text(f.time_us), "event_source": e.event_source,
        "event_name": e.event_name, "principal": e.principal, "account_id": e.account_id,
        "region": e.region, "source_ip": e.source_ip, "user_agent": e.user_agent,
        "error_code": e.error_code, "event_id": e.event_id, "object": f.object,
        "record_index": f.index,
    })
}

/// A CSV header line for `columns`.
pub fn csv_header(out: &mut (impl Write + ?Sized), columns: &[&str]) -> std::io::Result<()> {
    writeln!(out, "{}", columns.join(","))
}

/// One CSV line: cells neutralised for spreadsheets, quoted when needed.
pub fn csv_line(out: &mut (impl Write + ?Sized), cells: &[Option<String>]) -> std::io::Result<()> {
    let line: Vec<String> = cells
        .iter()
        .map(|c| {
            let s = csv_cell(c.as_deref().unwrap_or(""));
            if s.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s.into_owned()
            }
        })
        .collect();
    writeln!(out, "{}", line.join(","))
}

/// A batch of findings as a `hunt_findings` table (typed time and index).
pub fn findings_batch(rows: &[(i64, u64, [Option<String>; 17])]) -> Table {
    let columns = FINDING_COLUMNS
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let col = match i {
                TIME_COLUMN => Column::Time(rows.iter().map(|r| Some(r.0)).collect()),
                INDEX_COLUMN => Column::Count(rows.iter().map(|r| r.1).collect()),
                _ => Column::Str(rows.iter().map(|r| r.2[i].as_deref()).collect()),
            };
            (*name, col)
        })
        .collect();
    Table {
        name: "hunt_findings",
        columns,
    }
}

/// `hunt_rules`: one row per rule, most matches first, then by id.
pub fn rules_table(rules: &SigmaRuleSet, tally: &Tally, only_matched: bool) -> Table {
    let mut order: Vec<usize> = (0..rules.len())
        .filter(|&i| !only_matched || tally.rules[i].matches + tally.rules[i].suppressed > 0)
        .collect();
    let meta = |i: usize| rules.rules()[i].meta();
    order.sort_by(|&a, &b| {
        let (ta, tb) = (&tally.rules[a], &tally.rules[b]);
        tb.matches
            .cmp(&ta.matches)
            .then(tb.suppressed.cmp(&ta.suppressed))
            .then(meta(a).id.cmp(&meta(b).id))
    });
    let text = |f: &dyn Fn(&RuleMeta) -> String| -> Column {
        Column::Str(
            order
                .iter()
                .map(|&i| Some(f(meta(i))))
                .collect::<StrColumn>(),
        )
    };
    let count = |f: &dyn Fn(usize) -> u64| Column::Count(order.iter().map(|&i| f(i)).collect());
    let time =
        |f: &dyn Fn(usize) -> Option<i64>| Column::Time(order.iter().map(|&i| f(i)).collect());
    Table {
        name: "hunt_rules",
        columns: vec![
            ("rule_id", text(&|m| m.id.clone())),
            ("title", text(&|m| m.title.clone())),
            ("level", text(&|m| m.level.clone())),
            ("matches", count(&|i| tally.rules[i].matches)),
            ("suppressed", count(&|i| tally.rules[i].suppressed)),
            ("first_seen", time(&|i| tally.rules[i].first_us)),
            ("last_seen", time(&|i| tally.rules[i].last_us)),
            ("principals", count(&|i| tally.rules[i].principals())),
            ("author", text(&|m| m.author.clone())),
            ("tags", text(&tags)),
            ("file", text(&|m| m.file.display().to_string())),
        ],
    }
}
