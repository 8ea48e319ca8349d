//! Every report table as an HTML table, its first rows shown.

use super::*;

pub(super) fn cell_html(col: &Column, row: usize, name: &str) -> String {
    let (class, text) = match col {
        Column::Str(v) => {
            let s = v.get(row).unwrap_or("");
            let class = if name == "severity" || name == "level" {
                let s = s.to_ascii_lowercase();
                match s.as_str() {
                    "critical" | "high" | "medium" | "low" | "info" => format!("sev-{s}"),
                    _ => String::new(),
                }
            } else {
                String::new()
            };
            (class, clip(s, 200))
        }
        // Numbers that name something (an AS number, an id) are not grouped.
        Column::Count(v) if name == "asn" || name.ends_with("_id") => {
            ("num".to_string(), v[row].to_string())
        }
        Column::Count(v) => ("num".to_string(), group_digits(v[row])),
        Column::Bool(v) => (
            String::new(),
            v[row].map(|b| b.to_string()).unwrap_or_default(),
        ),
        Column::Float(v) => (
            "num".to_string(),
            v[row].map(|x| format!("{x:.3}")).unwrap_or_default(),
        ),
        Column::Time(v) => ("time".to_string(), v[row].map(rfc3339).unwrap_or_default()),
    };
    if class.is_empty() {
        format!("<td>{}</td>", esc(&text))
    } else {
        format!("<td class=\"{}\">{}</td>", esc(&class), esc(&text))
    }
}

/// A table in a `<details>` element, its first `cap` rows shown.
pub(super) fn table_html(t: &Table, cap: usize, open: bool) -> String {
    let n = t.rows().min(cap);
    let mut out = format!(
        "<details{}><summary>{} <span>({} rows{})</span></summary><div class=\"scroll\"><table data-table=\"{}\"><thead><tr>",
        if open { " open" } else { "" },
        esc(t.name),
        group_digits(t.rows() as u64),
        if n < t.rows() { format!(", first {n} shown") } else { String::new() },
        esc(t.name)
    );
    for (name, col) in &t.columns {
        let num = matches!(col, Column::Count(_) | Column::Float(_));
        let _ = write!(
            out,
            "<th{}>{}</th>",
            if num { " class=\"num\"" } else { "" },
            esc(name)
        );
    }
    out.push_str("</tr></thead><tbody>");
    for row in 0..n {
        out.push_str("<tr>");
        for (name, col) in &t.columns {
            out.push_str(&cell_html(col, row, name));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div></details>");
    out
}

pub(super) fn tables_section(tables: &[Table]) -> String {
    let shown: Vec<&Table> = tables
        .iter()
        .filter(|t| {
            !matches!(
                t.name,
                "findings" | "by_asn" | "hunt_rules" | "first_findings"
            )
        })
        .collect();
    if shown.is_empty() {
        return String::new();
    }
    let body: String = shown
        .iter()
        .map(|t| table_html(t, TABLE_ROWS, t.name != "by_hour"))
        .collect();
    section(
        "tables",
        "Reports",
        &format!("The first {TABLE_ROWS} rows of each report; --out writes them whole as CSV and Parquet."),
        &body,
    )
}

/// The Sigma rules that matched, most matches first, and the first
/// findings; the full list is `hunt_findings` in `--out`.
pub(super) fn sigma_section(rules: &Table, findings: Option<&Table>) -> String {
    let total = |name: &str| match rules.columns.iter().find(|(n, _)| *n == name) {
        Some((_, Column::Count(v))) => v.iter().sum::<u64>(),
        _ => 0,
    };
    let (reported, suppressed) = (total("matches"), total("suppressed"));
    let mut body = table_html(rules, TABLE_ROWS, true);
    if let Some(f) = findings.filter(|f| f.rows() > 0) {
        body.push_str(&table_html(f, TABLE_ROWS, false));
    }
    section(
        "sigma",
        "Sigma detections",
        &format!(
            "{} findings from {} rules ({} suppressed by the allowlist). \
             One finding per rule and event; the full list is hunt_findings in --out.",
            group_digits(reported),
            group_digits(rules.rows() as u64),
            group_digits(suppressed)
        ),
        &body,
    )
}
