//! The principal charts: top principals as horizontal bars and the
//! principal × secret matrix.

use super::*;

/// One horizontal bar: a label, stacked parts, attributes and a tooltip.
pub(super) struct HBar {
    pub(super) label: String,
    pub(super) parts: Vec<(u64, &'static str)>,
    pub(super) attrs: Vec<(&'static str, String)>,
    pub(super) title: Vec<String>,
}

/// Horizontal bars, one row each, labels on the left.
pub(super) fn hbar_chart(chart: &str, aria: &str, bars: &[HBar], label_w: f64) -> String {
    let (row, bar_h, top_m) = (26.0, 17.0, 6.0);
    let h = top_m + row * bars.len() as f64 + 8.0;
    let (x0, w) = (label_w, CHART_W - label_w - 70.0);
    let max = bars
        .iter()
        .map(|b| b.parts.iter().map(|p| p.0).sum::<u64>())
        .max()
        .unwrap_or(0)
        .max(1);
    let mut svg = Svg::new(chart, CHART_W, h, aria);
    svg.line("axis", (x0, top_m - 2.0), (x0, h - 6.0));
    for (i, b) in bars.iter().enumerate() {
        let y = top_m + row * i as f64 + (row - bar_h) / 2.0;
        svg.text(
            (x0 - 8.0, y + bar_h - 4.0),
            Anchor::End,
            "mono",
            &clip(&b.label, 60),
        );
        let attrs: Vec<(&str, &str)> = b.attrs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        svg.open_group("bar", &attrs);
        svg.title(&b.title);
        let mut x = x0;
        for (n, colour) in b.parts.iter().filter(|p| p.0 > 0) {
            let bw = w * *n as f64 / max as f64;
            svg.rect("seg", (x, y, bw, bar_h), colour, &[], &[]);
            x += bw;
        }
        svg.close_group();
        let total: u64 = b.parts.iter().map(|p| p.0).sum();
        svg.text(
            (x + 6.0, y + bar_h - 4.0),
            Anchor::Start,
            "val",
            &group_digits(total),
        );
    }
    svg.finish()
}

pub(super) fn top_count<'a>(m: &FxHashMap<&'a str, u64>) -> (&'a str, u64) {
    m.iter()
        .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
        .map_or(("", 0), |(k, v)| (*k, *v))
}

pub(super) fn principals_section(agg: &Agg<'_>) -> String {
    let bars: Vec<HBar> = agg
        .principals
        .iter()
        .take(TOP_PRINCIPALS)
        .map(|(name, p)| {
            let (agent, agent_n) = top_count(&p.agents);
            let (ip, ip_n) = top_count(&p.ips);
            HBar {
                label: name.to_string(),
                parts: vec![(p.events - p.failed, PALETTE[0]), (p.failed, FAILED)],
                attrs: vec![
                    ("data-key", name.to_string()),
                    ("data-n", p.events.to_string()),
                ],
                title: vec![
                    name.to_string(),
                    format!("{} events, {} failed", p.events, p.failed),
                    format!("{} source IPs; most: {ip} ({ip_n})", p.ips.len()),
                    format!("{} user agents; most: {agent} ({agent_n})", p.agents.len()),
                ],
            }
        })
        .collect();
    let body = if bars.is_empty() {
        empty_chart("top-principals", "No matching events.")
    } else {
        hbar_chart("top-principals", "Top principals by events", &bars, 470.0)
            + &legend(&[
                ("succeeded".to_string(), PALETTE[0]),
                ("failed".to_string(), FAILED),
            ])
    };
    section(
        "top-principals",
        "Top principals",
        &format!(
            "The {} principals with the most events, of {}.",
            bars.len(),
            agg.principals.len()
        ),
        &body,
    )
}

/// `#rrggbb` between a pale and a dark blue, by `t` in 0..=1.
pub(super) fn shade(t: f64) -> String {
    let lerp = |a: f64, b: f64| (a + (b - a) * t.clamp(0.0, 1.0)).round() as u8;
    format!(
        "#{:02x}{:02x}{:02x}",
        lerp(222.0, 23.0),
        lerp(235.0, 63.0),
        lerp(247.0, 120.0)
    )
}

/// The principal × secret grid: cells shaded by events.
pub(super) fn matrix_chart(agg: &Agg<'_>) -> String {
    let rows: Vec<&str> = agg
        .principals
        .iter()
        .take(MATRIX_PRINCIPALS)
        .map(|p| p.0)
        .collect();
    let cols: Vec<&str> = agg
        .secrets
        .iter()
        .take(MATRIX_SECRETS)
        .map(|s| s.0)
        .collect();
    let (label_w, head_h, cw, ch) = (470.0, 130.0, 58.0, 24.0);
    let w = (label_w + cw * cols.len() as f64 + 170.0).max(760.0);
    let h = head_h + ch * rows.len() as f64 + 6.0;
    let max = rows
        .iter()
        .flat_map(|p| cols.iter().map(move |s| (*p, *s)))
        .filter_map(|k| agg.pairs.get(&k).copied())
        .max()
        .unwrap_or(1);
    let mut svg = Svg::new("matrix", w, h, "Events per principal and secret");
    for (j, s) in cols.iter().enumerate() {
        let x = label_w + cw * j as f64 + cw / 2.0;
        svg.text_rotated(
            (x - 2.0, head_h - 8.0),
            -38.0,
            Anchor::Start,
            "mono",
            &clip(s, 30),
        );
    }
    for (i, p) in rows.iter().enumerate() {
        let y = head_h + ch * i as f64;
        svg.text(
            (label_w - 8.0, y + ch - 8.0),
            Anchor::End,
            "mono",
            &clip(p, 60),
        );
        for (j, s) in cols.iter().enumerate() {
            let x = label_w + cw * j as f64;
            let cell = (x + 1.0, y + 1.0, cw - 2.0, ch - 2.0);
            let Some(&n) = agg.pairs.get(&(*p, *s)) else {
                svg.rect("blank", cell, "#f4f6f9", &[], &[]);
                continue;
            };
            let t = (n as f64 / max as f64).sqrt();
            let n_text = n.to_string();
            svg.open_group("cell", &[("data-p", p), ("data-s", s), ("data-n", &n_text)]);
            svg.title(&[p.to_string(), format!("{s}: {n} events")]);
            svg.rect("cell-bg", cell, &shade(t), &[], &[]);
            let class = if t > 0.5 { "num inv" } else { "num" };
            svg.text(
                (x + cw / 2.0, y + ch - 8.0),
                Anchor::Middle,
                class,
                &group_digits(n),
            );
            svg.close_group();
        }
    }
    svg.finish()
}

pub(super) fn matrix_section(agg: &Agg<'_>) -> String {
    let body = if agg.pairs.is_empty() {
        empty_chart("matrix", "No event names a secret.")
    } else {
        matrix_chart(agg)
    };
    section(
        "matrix",
        "Principal × secret",
        &format!(
            "Events naming each secret (failed attempts included; batch calls are counted under the GetSecretValue records they log), for the top {MATRIX_PRINCIPALS} principals and top {MATRIX_SECRETS} secrets. Darker is more."
        ),
        &body,
    )
}
