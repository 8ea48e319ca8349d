//! The alarm section: each replayed alarm's state over time, as bands.

use super::*;

/// A stretch of one alarm's timeline in one state.
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    pub from_us: i64,
    pub to_us: i64,
    pub state: AlarmState,
    /// Why the alarm entered the state (empty for the initial state).
    pub reason: String,
}

/// Cuts an alarm's span into bands of constant state: the state before the
/// first change (its `old`, else INSUFFICIENT_DATA), then one per change
/// inside the span.
pub fn alarm_bands(a: &AlarmTimeline) -> Vec<Band> {
    let mut state = a
        .history
        .first()
        .map_or(AlarmState::InsufficientData, |c| c.old);
    let (mut from, mut reason) = (a.start_us, String::new());
    let mut out = Vec::new();
    for c in &a.history {
        let t = c.time.as_microsecond();
        if t >= a.end_us {
            break;
        }
        if t > from {
            out.push(Band {
                from_us: from,
                to_us: t,
                state,
                reason: std::mem::take(&mut reason),
            });
            from = t;
        }
        state = c.new;
        reason.clone_from(&c.reason);
    }
    if a.end_us > from {
        out.push(Band {
            from_us: from,
            to_us: a.end_us,
            state,
            reason,
        });
    }
    out
}

pub(super) fn state_colour(s: AlarmState) -> &'static str {
    match s {
        AlarmState::Ok => "#59a14f",
        AlarmState::Alarm => FAILED,
        AlarmState::InsufficientData => OTHER,
    }
}

pub(super) fn alarm_chart(alarms: &[AlarmTimeline]) -> String {
    let (label_w, row, band_h, top_m) = (260.0, 30.0, 20.0, 8.0);
    let h = top_m + row * alarms.len() as f64 + 34.0;
    let start = alarms.iter().map(|a| a.start_us).min().unwrap_or(0);
    let end = alarms
        .iter()
        .map(|a| a.end_us)
        .max()
        .unwrap_or(0)
        .max(start + 1);
    let w = CHART_W - label_w - 20.0;
    let x = |t: i64| label_w + w * (t - start) as f64 / (end - start) as f64;
    let mut svg = Svg::new("alarm-timeline", CHART_W, h, "Alarm states over time");
    for (i, a) in alarms.iter().enumerate() {
        let y = top_m + row * i as f64 + (row - band_h) / 2.0;
        svg.text(
            (label_w - 8.0, y + band_h - 5.0),
            Anchor::End,
            "mono",
            &clip(&a.name, 34),
        );
        svg.open_group("alarm", &[("data-alarm", &a.name)]);
        for b in alarm_bands(a) {
            let mut title = vec![
                a.name.clone(),
                format!(
                    "{} from {} to {}",
                    b.state,
                    rfc3339(b.from_us),
                    rfc3339(b.to_us)
                ),
            ];
            if !b.reason.is_empty() {
                title.push(clip(&b.reason, 300));
            }
            let (x1, x2) = (x(b.from_us), x(b.to_us));
            // A five-minute ALARM in a year-long span must still be seen.
            let min_w = if b.state == AlarmState::Alarm {
                3.0
            } else {
                1.0
            };
            svg.rect(
                "band",
                (x1, y, (x2 - x1).max(min_w), band_h),
                state_colour(b.state),
                &[("data-state", &b.state.to_string())],
                &title,
            );
        }
        svg.close_group();
    }
    let axis_y = top_m + row * alarms.len() as f64 + 4.0;
    svg.line("axis", (label_w, axis_y), (label_w + w, axis_y));
    let fmt = if end - start <= 2 * DAY_US {
        "%b %d %H:%M"
    } else {
        "%Y-%m-%d"
    };
    for k in 0..=6 {
        let t = start + (end - start) * k / 6;
        svg.line("mark", (x(t), axis_y), (x(t), axis_y + 5.0));
        svg.text(
            (x(t), axis_y + 18.0),
            match k {
                0 => Anchor::Start,
                6 => Anchor::End,
                _ => Anchor::Middle,
            },
            "tick",
            &time_text(t, fmt),
        );
    }
    svg.finish()
}

pub(super) fn alarm_section(alarms: &[AlarmTimeline]) -> String {
    let body = alarm_chart(alarms)
        + &legend(&[
            ("OK".to_string(), state_colour(AlarmState::Ok)),
            ("ALARM".to_string(), state_colour(AlarmState::Alarm)),
            (
                "INSUFFICIENT_DATA".to_string(),
                state_colour(AlarmState::InsufficientData),
            ),
        ]);
    section(
        "alarm-timeline",
        "Alarm states",
        "Each alarm's replayed state over the evaluated span (UTC). Hover a band for its reason.",
        &body,
    )
}
