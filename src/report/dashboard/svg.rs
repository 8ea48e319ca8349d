//! A small writer of inline SVG charts for the HTML dashboard: shapes, text,
//! axes and tick steps, with every piece of text and every attribute value
//! escaped by [`crate::report::sanitize::html`].
//!
//! It knows nothing of events or reports; `html` decides what to draw.

use std::fmt::Write;

use crate::report::sanitize::html as esc;

/// An `<svg>` element being written.
pub struct Svg {
    buf: String,
}

/// Which way a text is anchored.
#[derive(Debug, Clone, Copy)]
pub enum Anchor {
    Start,
    Middle,
    End,
}

impl Anchor {
    fn as_str(self) -> &'static str {
        match self {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        }
    }
}

/// Rounds a coordinate to one decimal, which keeps the file small.
fn r(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

impl Svg {
    /// Opens an `<svg>` of `w`×`h` user units that scales to its container,
    /// tagged `data-chart="{chart}"` and labelled `label` for screen readers.
    pub fn new(chart: &str, w: f64, h: f64, label: &str) -> Svg {
        let mut buf = String::with_capacity(4096);
        let _ = write!(
            buf,
            r#"<svg data-chart="{}" viewBox="0 0 {} {}" width="{}" role="img" aria-label="{}">"#,
            esc(chart),
            r(w),
            r(h),
            r(w),
            esc(label)
        );
        Svg { buf }
    }

    /// Writes raw, already escaped markup.
    pub fn raw(&mut self, markup: &str) {
        self.buf.push_str(markup);
    }

    /// Opens a `<g>` with a class and extra attributes (`name`, value) whose
    /// values are escaped here.
    pub fn open_group(&mut self, class: &str, attrs: &[(&str, &str)]) {
        let _ = write!(self.buf, r#"<g class="{}""#, esc(class));
        for (k, v) in attrs {
            let _ = write!(self.buf, r#" {k}="{}""#, esc(v));
        }
        self.buf.push('>');
    }

    /// Closes the innermost `<g>`.
    pub fn close_group(&mut self) {
        self.buf.push_str("</g>");
    }

    /// A `<title>` (the browser's tooltip) for the enclosing element: one
    /// line per entry, each escaped.
    pub fn title(&mut self, lines: &[String]) {
        self.buf.push_str("<title>");
        for (i, line) in lines.iter().enumerate() {
            if i > 0 {
                self.buf.push('\n');
            }
            self.buf.push_str(&esc(line));
        }
        self.buf.push_str("</title>");
    }

    /// A rectangle filled with `fill` (a colour written by the caller, never
    /// log text); `title` lines, when given, become its tooltip.
    #[allow(clippy::too_many_arguments)]
    pub fn rect(
        &mut self,
        class: &str,
        (x, y, w, h): (f64, f64, f64, f64),
        fill: &str,
        attrs: &[(&str, &str)],
        title: &[String],
    ) {
        let _ = write!(
            self.buf,
            r#"<rect class="{}" x="{}" y="{}" width="{}" height="{}" fill="{}""#,
            esc(class),
            r(x),
            r(y),
            r(w.max(0.0)),
            r(h.max(0.0)),
            esc(fill)
        );
        for (k, v) in attrs {
            let _ = write!(self.buf, r#" {k}="{}""#, esc(v));
        }
        if title.is_empty() {
            self.buf.push_str("/>");
        } else {
            self.buf.push('>');
            self.title(title);
            self.buf.push_str("</rect>");
        }
    }

    /// A text label, escaped.
    pub fn text(&mut self, (x, y): (f64, f64), anchor: Anchor, class: &str, s: &str) {
        let _ = write!(
            self.buf,
            r#"<text x="{}" y="{}" text-anchor="{}" class="{}">{}</text>"#,
            r(x),
            r(y),
            anchor.as_str(),
            esc(class),
            esc(s)
        );
    }

    /// A text label rotated by `deg` degrees around its anchor point.
    pub fn text_rotated(
        &mut self,
        (x, y): (f64, f64),
        deg: f64,
        anchor: Anchor,
        class: &str,
        s: &str,
    ) {
        let _ = write!(
            self.buf,
            r#"<text x="{x}" y="{y}" text-anchor="{}" class="{}" transform="rotate({deg} {x} {y})">{}</text>"#,
            anchor.as_str(),
            esc(class),
            esc(s),
            x = r(x),
            y = r(y),
        );
    }

    /// A line segment.
    pub fn line(&mut self, class: &str, (x1, y1): (f64, f64), (x2, y2): (f64, f64)) {
        let _ = write!(
            self.buf,
            r#"<line class="{}" x1="{}" y1="{}" x2="{}" y2="{}"/>"#,
            esc(class),
            r(x1),
            r(y1),
            r(x2),
            r(y2)
        );
    }

    /// Draws horizontal grid lines and their labels for counts `0..=top`
    /// every `step`, over the plot area `(x, y, w, h)` (y grows down).
    pub fn y_axis(&mut self, (x, y, w, h): (f64, f64, f64, f64), step: u64, top: u64) {
        let mut v = 0;
        while v <= top {
            let yy = y + h - h * v as f64 / top.max(1) as f64;
            self.line(if v == 0 { "axis" } else { "grid" }, (x, yy), (x + w, yy));
            self.text((x - 6.0, yy + 4.0), Anchor::End, "tick", &group_digits(v));
            v += step.max(1);
        }
    }

    /// Closes the element and returns the markup.
    pub fn finish(mut self) -> String {
        self.buf.push_str("</svg>");
        self.buf
    }
}

/// A "nice" tick step (1, 2 or 5 times a power of ten) giving about four
/// intervals up to `max`, and the top of the axis (a multiple of the step).
pub fn nice_ticks(max: u64) -> (u64, u64) {
    let max = max.max(1);
    let raw = (max as f64 / 4.0).max(1.0);
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag) as u64;
    let step = step.max(1);
    (step, max.div_ceil(step) * step)
}

/// Formats a count with thin separators between thousands: `12 345`.
pub fn group_digits(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push('\u{2009}');
        }
        out.push(c);
    }
    out
}

/// Cuts `s` to `max` characters, ending with an ellipsis when cut.
pub fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_nice() {
        assert_eq!(nice_ticks(0), (1, 1));
        assert_eq!(nice_ticks(3), (1, 3));
        assert_eq!(nice_ticks(7), (2, 8));
        assert_eq!(nice_ticks(10), (5, 10));
        assert_eq!(nice_ticks(37), (10, 40));
        assert_eq!(nice_ticks(1234), (500, 1500));
    }

    #[test]
    fn digits_are_grouped_and_text_clipped() {
        assert_eq!(group_digits(7), "7");
        assert_eq!(group_digits(1234567), "1\u{2009}234\u{2009}567");
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("abc", 4), "abc");
    }

    #[test]
    fn text_and_attributes_are_escaped() {
        let mut s = Svg::new("x\"y", 10.0, 10.0, "<b>");
        s.text((1.0, 2.0), Anchor::Start, "t", "<script>");
        s.rect(
            "bar",
            (0.0, 0.0, 1.0, 1.0),
            "#000",
            &[("data-k", "\"q")],
            &[],
        );
        let out = s.finish();
        assert!(out.contains(r#"data-chart="x&quot;y""#), "{out}");
        assert!(out.contains("&lt;script&gt;</text>"), "{out}");
        assert!(out.contains(r#"data-k="&quot;q""#), "{out}");
        assert!(!out.contains("<script>"));
    }
}
