//! The time charts: events per bucket stacked by secret, and failed calls,
//! on one shared time axis.

use super::*;

/// An `<svg>` that says there is nothing to draw.
pub(super) fn empty_chart(chart: &str, message: &str) -> String {
    let mut svg = Svg::new(chart, CHART_W, 60.0, message);
    svg.text((CHART_W / 2.0, 36.0), Anchor::Middle, "empty", message);
    svg.finish()
}

/// The shared x axis of the time charts.
pub(super) struct TimeAxis {
    pub(super) kind: BucketKind,
    pub(super) first: i64,
    pub(super) n: i64,
    x0: f64,
    pub(super) w: f64,
}

impl TimeAxis {
    pub(super) fn new(agg: &Agg<'_>, x0: f64, w: f64) -> TimeAxis {
        TimeAxis {
            kind: agg.kind,
            first: agg.first,
            n: agg.last - agg.first + 1,
            x0,
            w,
        }
    }

    pub(super) fn slot(&self) -> f64 {
        self.w / self.n as f64
    }

    /// Left edge and width of the bar for bucket `idx`.
    pub(super) fn bar(&self, idx: i64) -> (f64, f64) {
        let slot = self.slot();
        let gap = if slot > 4.0 { slot * 0.18 } else { 0.0 };
        (
            self.x0 + (idx - self.first) as f64 * slot + gap / 2.0,
            slot - gap,
        )
    }

    /// Tick marks and date labels under the plot, at most about ten.
    pub(super) fn draw(&self, svg: &mut Svg, y: f64) {
        let steps = self.kind.label_steps();
        let step = steps
            .iter()
            .copied()
            .find(|s| self.n / s <= 10)
            .unwrap_or(*steps.last().unwrap_or(&1));
        for idx in self.first..self.first + self.n {
            if idx.rem_euclid(step) != 0 {
                continue;
            }
            let x = self.x0 + (idx - self.first) as f64 * self.slot();
            svg.line("mark", (x, y), (x, y + 5.0));
            svg.text(
                (x, y + 18.0),
                Anchor::Middle,
                "tick",
                &self.kind.label(idx, step),
            );
        }
    }
}

pub(super) fn legend(series: &[(String, &str)]) -> String {
    let mut out = String::from("<ul class=\"legend\">");
    for (name, colour) in series {
        let _ = write!(
            out,
            "<li><span class=\"sw\" style=\"background:{}\"></span><span class=\"mono\">{}</span></li>",
            esc(colour),
            esc(&clip(name, 60))
        );
    }
    out.push_str("</ul>");
    out
}

/// Stacked bars of events per bucket, one series per top secret.
pub(super) fn time_chart(agg: &Agg<'_>) -> String {
    let (h, top_m, bottom, left) = (320.0, 14.0, 46.0, 64.0);
    let ph = h - top_m - bottom;
    let axis = TimeAxis::new(agg, left, CHART_W - left - 16.0);
    let max = agg.buckets.values().map(|b| b.events).max().unwrap_or(0);
    let (step, top) = nice_ticks(max);
    let noun = agg.kind.noun();
    let mut svg = Svg::new(
        "per-hour",
        CHART_W,
        h,
        &format!("Events per {noun}, stacked by secret"),
    );
    svg.y_axis((left, top_m, axis.w, ph), step, top);
    let series = agg.series();
    for (&idx, b) in &agg.buckets {
        let (x, w) = axis.bar(idx);
        svg.open_group(
            "bar",
            &[
                ("data-t", &rfc3339(agg.kind.start(idx))),
                ("data-n", &b.events.to_string()),
            ],
        );
        let mut lines = vec![format!(
            "{}: {} events",
            agg.kind.describe(idx),
            group_digits(b.events)
        )];
        let segs: Vec<(u64, &str)> = b
            .series
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(i, &n)| {
                let (name, colour) = series.get(i).map_or(("other", OTHER), |s| (&s.0, s.1));
                lines.push(format!("{name}: {n}"));
                (n, colour)
            })
            .collect();
        svg.title(&lines);
        let mut y = top_m + ph;
        for (n, colour) in segs {
            let bh = ph * n as f64 / top as f64;
            y -= bh;
            svg.rect("seg", (x, y, w, bh), colour, &[], &[]);
        }
        svg.close_group();
    }
    finish_time_chart(svg, &axis, (top_m, ph), "events")
}

pub(super) fn time_section(agg: &Agg<'_>) -> String {
    let noun = agg.kind.noun();
    let body = if agg.buckets.is_empty() {
        empty_chart("per-hour", "No matching events.")
    } else {
        time_chart(agg) + &legend(&agg.series())
    };
    section(
        "per-hour",
        &format!("Accesses per {noun}"),
        &format!(
            "Events per UTC {noun} (failed attempts included), stacked by secret: the top {TOP_SECRETS} secrets, then the rest. Hover a bar for its counts."
        ),
        &body,
    )
}

/// Draws the time axis under a plot `ph` high starting at `top_m`, and the
/// y-axis title beside it, then closes the chart.
pub(super) fn finish_time_chart(
    mut svg: Svg,
    axis: &TimeAxis,
    (top_m, ph): (f64, f64),
    y_title: &str,
) -> String {
    axis.draw(&mut svg, top_m + ph);
    svg.text_rotated(
        (18.0, top_m + ph / 2.0),
        -90.0,
        Anchor::Middle,
        "axis-title",
        y_title,
    );
    svg.finish()
}

/// Bars of failed calls per bucket, on the same axis as the time chart.
pub(super) fn failures_chart(agg: &Agg<'_>) -> String {
    let (h, top_m, bottom, left) = (220.0, 14.0, 46.0, 64.0);
    let ph = h - top_m - bottom;
    let axis = TimeAxis::new(agg, left, CHART_W - left - 16.0);
    let max = agg.buckets.values().map(|b| b.failed).max().unwrap_or(0);
    let (step, top) = nice_ticks(max);
    let mut svg = Svg::new(
        "failures",
        CHART_W,
        h,
        &format!("Failed calls per {}", agg.kind.noun()),
    );
    svg.y_axis((left, top_m, axis.w, ph), step, top);
    for (&idx, b) in agg.buckets.iter().filter(|(_, b)| b.failed > 0) {
        let (x, w) = axis.bar(idx);
        let bh = ph * b.failed as f64 / top as f64;
        let mut lines = vec![format!(
            "{}: {} failed of {}",
            agg.kind.describe(idx),
            b.failed,
            b.events
        )];
        lines.extend(b.errors.iter().map(|(code, n)| format!("{code}: {n}")));
        svg.rect(
            "bar",
            (x, top_m + ph - bh, w, bh),
            FAILED,
            &[
                ("data-t", &rfc3339(agg.kind.start(idx))),
                ("data-n", &b.failed.to_string()),
            ],
            &lines,
        );
    }
    finish_time_chart(svg, &axis, (top_m, ph), "failed calls")
}

pub(super) fn failures_section(agg: &Agg<'_>) -> String {
    let noun = agg.kind.noun();
    let mut body = if agg.buckets.is_empty() {
        empty_chart("failures", "No matching events.")
    } else {
        failures_chart(agg)
    };
    if agg.errors.is_empty() {
        body.push_str("<p class=\"note ok\">No call failed.</p>");
    } else {
        body.push_str("<h3>By error code</h3><table data-table=\"error_codes\"><thead><tr><th>error code</th><th class=\"num\">calls</th></tr></thead><tbody>");
        for (code, n) in agg.errors.iter().take(TABLE_ROWS) {
            let _ = write!(
                body,
                "<tr><td class=\"mono\">{}</td><td class=\"num\">{}</td></tr>",
                esc(code),
                group_digits(*n)
            );
        }
        body.push_str("</tbody></table>");
    }
    section(
        "failures",
        "Failures over time",
        &format!(
            "Calls with an errorCode per UTC {noun}: {} in all.",
            group_digits(agg.failed)
        ),
        &body,
    )
}
