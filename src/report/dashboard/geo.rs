//! The GeoIP section: events by country and by network (ASN).

use super::*;

/// The first column called `name` of the right kind, else the first of that kind.
pub(super) fn str_column<'t>(t: &'t Table, name: &str) -> Option<&'t StrColumn> {
    let pick = |c: &'t Column| match c {
        Column::Str(v) => Some(v),
        _ => None,
    };
    t.column(name)
        .and_then(pick)
        .or_else(|| t.columns.iter().find_map(|(_, c)| pick(c)))
}

pub(super) fn count_column<'t>(t: &'t Table, name: &str) -> Option<&'t Vec<u64>> {
    let pick = |c: &'t Column| match c {
        Column::Count(v) => Some(v),
        _ => None,
    };
    t.column(name)
        .and_then(pick)
        .or_else(|| t.columns.iter().find_map(|(_, c)| pick(c)))
}

pub(super) fn country_chart(t: &Table) -> Option<String> {
    let (names, counts) = (str_column(t, "country")?, count_column(t, "events")?);
    let mut rows: Vec<(&str, u64)> = names
        .iter()
        .zip(counts)
        .map(|(n, c)| (n.unwrap_or("unknown"), *c))
        .collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let bars: Vec<HBar> = rows
        .iter()
        .take(TOP_COUNTRIES)
        .map(|(name, n)| HBar {
            label: name.to_string(),
            parts: vec![(*n, PALETTE[2])],
            attrs: vec![("data-key", name.to_string()), ("data-n", n.to_string())],
            title: vec![format!("{name}: {n} events")],
        })
        .collect();
    Some(if bars.is_empty() {
        empty_chart("by-country", "No country known.")
    } else {
        hbar_chart("by-country", "Events by country", &bars, 220.0)
    })
}

pub(super) fn geo_section(country: Option<&Table>, asn: Option<&Table>) -> String {
    if country.is_none() && asn.is_none() {
        return String::new();
    }
    let mut body = String::new();
    if let Some(chart) = country.and_then(country_chart) {
        body.push_str("<h3>By country</h3>");
        body.push_str(&chart);
    }
    if let Some(t) = asn {
        body.push_str("<h3>By network (ASN)</h3>");
        body.push_str(&table_html(t, TABLE_ROWS, true));
    }
    section(
        "geo",
        "Where calls came from",
        &format!("Source IPs by country (top {TOP_COUNTRIES}) and by network."),
        &body,
    )
}
