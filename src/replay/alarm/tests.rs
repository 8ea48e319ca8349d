//! Alarm tests: the seed scenario (§3.8/§3.9), both §3.4 tables, messages,
//! validation, and a property test against a naive per-minute reference.

use jiff::Timestamp;

use super::*;
use proptest::prelude::*;

fn t(hms: &str) -> Timestamp {
    format!("2024-01-01T{hms}Z").parse().expect("valid time")
}

fn opts(start: &str, end: &str) -> ReplayOptions {
    ReplayOptions {
        start: t(start),
        end: t(end),
        knobs: ReplayKnobs::default(),
    }
}

fn cfg(stat: Statistic) -> AlarmConfig {
    AlarmConfig {
        statistic: stat,
        sns_topic_arn: Some("arn:aws:sns:us-east-1:123456789012:alerts".into()),
        ..AlarmConfig::cis("secret-reads", "secret_reads")
    }
}

fn hist(r: &Replay) -> Vec<(String, AlarmState)> {
    r.history
        .iter()
        .map(|c| (c.time.strftime("%H:%M").to_string(), c.new))
        .collect()
}

/// Background events every minute 10:00–10:30 plus three matching reads.
fn seed_events() -> Vec<EventOutcome> {
    let mut ev: Vec<EventOutcome> = (0..=30)
        .map(|m| EventOutcome {
            timestamp: t(&format!("10:{m:02}:40")),
            matched: false,
            value: None,
        })
        .collect();
    for hms in ["10:02:10", "10:03:20", "10:04:05"] {
        ev.push(EventOutcome {
            timestamp: t(hms),
            matched: true,
            value: None,
        });
    }
    ev
}

#[test]
fn seed_scenario_sum_fires_once_then_ok() {
    let samples = MetricTransform::new(1.0, Some(0.0)).samples(&seed_events());
    assert_eq!(samples.len(), 34);
    let r = replay(
        &samples,
        &cfg(Statistic::Sum),
        &opts("10:00:00", "10:40:00"),
    )
    .expect("valid");
    use AlarmState::*;
    let want: Vec<(String, AlarmState)> = vec![
        ("10:01".into(), Ok),
        ("10:03".into(), Alarm),
        ("10:10".into(), Ok),
    ];
    assert_eq!(hist(&r), want);
    assert_eq!(r.alarm_count(), 1);
    assert_eq!(r.notifications.len(), 1);
    let n = &r.notifications[0];
    assert_eq!(
        n.subject,
        "ALARM: \"secret-reads\" in US East (N. Virginia)"
    );
    assert_eq!(
        r.history[1].reason,
        "Threshold Crossed: 1 datapoint [1.0 (01/01/24 09:58:00)] was greater than or equal to the threshold (1.0)."
    );
    let msg: serde_json::Value = serde_json::from_str(&n.message).expect("json");
    assert_eq!(msg["NewStateValue"], "ALARM");
    assert_eq!(msg["OldStateValue"], "OK");
    assert_eq!(msg["StateChangeTime"], "2024-01-01T10:03:00.000+0000");
    assert_eq!(msg["Trigger"]["Statistic"], "SUM");
    assert_eq!(msg["Trigger"]["Threshold"], 1.0);
    assert_eq!(
        msg["AlarmArn"],
        "arn:aws:cloudwatch:us-east-1:123456789012:alarm:secret-reads"
    );
    let keys: Vec<&str> = msg
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        &keys[..5],
        [
            "AlarmName",
            "AlarmDescription",
            "AWSAccountId",
            "AlarmConfigurationUpdatedTimestamp",
            "NewStateValue"
        ]
    );
    // The last window with all three reads: Sum 3 at the 10:05 evaluation.
    let p = r
        .series
        .iter()
        .find(|p| p.start == t("10:00:00"))
        .expect("point");
    assert_eq!((p.value, p.sample_count), (Some(3.0), 8));
}

#[test]
fn seed_scenario_average_never_fires_and_explain_says_why() {
    let samples = MetricTransform::new(1.0, Some(0.0)).samples(&seed_events());
    let o = opts("10:00:00", "10:40:00");
    let r = replay(&samples, &cfg(Statistic::Average), &o).expect("valid");
    assert_eq!(r.alarm_count(), 0);
    assert_eq!(hist(&r), vec![("10:01".to_string(), AlarmState::Ok)]);
    assert!(r.notifications.is_empty());
    let text = explain(&samples, &cfg(Statistic::Average), &o).expect("valid");
    assert_eq!(
        text,
        "with Average, the largest value in any period was 0.375 < 1; SampleCount would have fired 1 time, Sum would have fired 1 time, Maximum would have fired 1 time"
    );
    let fired = explain(&samples, &cfg(Statistic::Sum), &o).expect("valid");
    assert_eq!(fired, "with Sum, the alarm entered ALARM 1 time");
}

#[test]
fn cis_worked_scenario_3_9() {
    let one = [Sample {
        timestamp: t("10:02:30"),
        value: 1.0,
    }];
    let r = replay(&one, &cfg(Statistic::Sum), &opts("10:00:00", "10:30:00")).expect("valid");
    use AlarmState::*;
    assert_eq!(
        hist(&r),
        vec![
            ("10:03".to_string(), Alarm),
            ("10:18".to_string(), InsufficientData)
        ]
    );
    assert_eq!(
        r.history[1].reason,
        "Insufficient Data: 1 datapoint was unknown."
    );
    assert_eq!(r.notifications.len(), 1);
    // With real zeros after the match the alarm returns to OK at 10:08.
    let mut ev: Vec<EventOutcome> = (0..30)
        .map(|m| EventOutcome {
            timestamp: t(&format!("10:{m:02}:00")),
            matched: false,
            value: None,
        })
        .collect();
    ev.push(EventOutcome {
        timestamp: t("10:02:30"),
        matched: true,
        value: None,
    });
    let s = MetricTransform::new(1.0, Some(0.0)).samples(&ev);
    let mut c = cfg(Statistic::Sum);
    c.notify.ok = true;
    let r = replay(&s, &c, &opts("10:00:00", "10:30:00")).expect("valid");
    assert_eq!(
        hist(&r),
        vec![
            ("10:01".to_string(), Ok),
            ("10:03".to_string(), Alarm),
            ("10:08".to_string(), Ok)
        ]
    );
    assert_eq!(r.notifications.len(), 3);
    assert_eq!(
        r.notifications[2].subject,
        "OK: \"secret-reads\" in US East (N. Virginia)"
    );
}

/// Parse "0 - X - X" (oldest → newest) into newest-first classes.
fn row(s: &str) -> Vec<WindowClass> {
    s.split(' ')
        .rev()
        .map(|c| match c {
            "0" => WindowClass::Ok,
            "X" => WindowClass::Breaching,
            _ => WindowClass::Missing,
        })
        .collect()
}

/// Expected per treatment: missing, ignore, breaching, notBreaching ("keep" = None).
fn check_row(data: &str, m: usize, filled: usize, want: [&str; 4]) {
    let treats = [
        TreatMissing::Missing,
        TreatMissing::Ignore,
        TreatMissing::Breaching,
        TreatMissing::NotBreaching,
    ];
    for (treat, w) in treats.into_iter().zip(want) {
        let d = decide(&row(data), 3, m, treat, true);
        let got = d.state.map_or("keep".to_string(), |s| s.to_string());
        assert_eq!(got, w, "row {data:?} M={m} treat={treat:?}");
        let real = row(data)
            .iter()
            .filter(|c| **c != WindowClass::Missing)
            .count();
        let f = if real >= 3 || row(data)[..3].iter().all(|c| *c != WindowClass::Missing) {
            0
        } else {
            3 - real
        };
        assert_eq!(f, filled, "filled column for {data:?}");
    }
}

#[test]
fn table_n3_m3() {
    check_row("0 - X - X", 3, 0, ["OK", "OK", "OK", "OK"]);
    check_row("0 - - - -", 3, 2, ["OK", "OK", "OK", "OK"]);
    check_row(
        "- - - - -",
        3,
        3,
        ["INSUFFICIENT_DATA", "keep", "ALARM", "OK"],
    );
    check_row("0 X X - X", 3, 0, ["ALARM", "ALARM", "ALARM", "ALARM"]);
    check_row("- - X - -", 3, 2, ["ALARM", "keep", "ALARM", "OK"]);
}

#[test]
fn table_n3_m2() {
    check_row("0 - X - X", 2, 0, ["ALARM", "ALARM", "ALARM", "ALARM"]);
    check_row("0 0 X 0 X", 2, 0, ["ALARM", "ALARM", "ALARM", "ALARM"]);
    check_row("0 - X - -", 2, 1, ["OK", "OK", "ALARM", "OK"]);
    check_row("- - - - 0", 2, 2, ["OK", "OK", "ALARM", "OK"]);
    check_row("- - - X -", 2, 2, ["ALARM", "keep", "ALARM", "OK"]);
}

#[test]
fn extra_documented_cases_do_not_alarm() {
    for data in ["- - - - X", "- - - X -"] {
        assert_eq!(
            decide(&row(data), 3, 3, TreatMissing::Missing, true).state,
            Some(AlarmState::Ok)
        );
    }
}

#[test]
fn knob_defaults() {
    let k = ReplayKnobs::default();
    assert_eq!(k.evaluation_range, None);
    assert!(k.premature_requires_all_breaching);
    assert_eq!(k.ok_reason_minimum, OkMinimum::NMinusMPlusOne);
    assert_eq!(k.sub_minute_periods, SubMinuteMode::AllMissing);
    // Without the extra clause, table 2 row 3 would alarm.
    assert_eq!(
        decide(&row("0 - X - -"), 3, 2, TreatMissing::Missing, false).state,
        Some(AlarmState::Alarm)
    );
    let mt = MetricTransform::new(1.0, Some(0.0));
    assert_eq!(
        (mt.default_mode, mt.missing_value),
        (DefaultMode::PerEvent, MissingValueMode::Skip)
    );
    let ev = |s: &str, m: bool| EventOutcome {
        timestamp: t(s),
        matched: m,
        value: None,
    };
    let evs = [
        ev("10:00:01", false),
        ev("10:00:02", false),
        ev("10:01:00", true),
        ev("10:01:30", false),
    ];
    assert_eq!(mt.samples(&evs).len(), 4);
    let per_min = MetricTransform {
        default_mode: DefaultMode::PerMinuteWithoutMatch,
        ..mt
    };
    let s = per_min.samples(&evs);
    assert_eq!(
        s,
        vec![
            Sample {
                timestamp: t("10:01:00"),
                value: 1.0
            },
            Sample {
                timestamp: t("10:00:00"),
                value: 0.0
            }
        ]
    );
    let field = MetricTransform {
        metric_value: MetricValue::Field,
        ..mt
    };
    let fe = [EventOutcome {
        timestamp: t("10:00:00"),
        matched: true,
        value: None,
    }];
    assert!(field.samples(&fe).is_empty());
    // Sub-minute periods see nothing by default.
    let mut c = cfg(Statistic::Sum);
    c.period_secs = 10;
    let one = [Sample {
        timestamp: t("10:00:30"),
        value: 5.0,
    }];
    assert_eq!(
        replay(&one, &c, &opts("10:00:00", "10:05:00"))
            .expect("ok")
            .alarm_count(),
        0
    );
    let mut o = opts("10:00:00", "10:05:00");
    o.knobs.sub_minute_periods = SubMinuteMode::AsOneMinute;
    assert_eq!(replay(&one, &c, &o).expect("ok").alarm_count(), 1);
}

#[test]
fn long_form_reason_and_reason_data() {
    let mut c = cfg(Statistic::Sum);
    c.period_secs = 60;
    c.evaluation_periods = 3;
    c.datapoints_to_alarm = Some(2);
    let s: Vec<Sample> = ["10:00:10", "10:01:10", "10:02:10"]
        .iter()
        .map(|h| Sample {
            timestamp: t(h),
            value: 2.5,
        })
        .collect();
    let r = replay(&s, &c, &opts("10:00:00", "10:03:00")).expect("valid");
    // 10:01: one breaching point is younger than M=2 periods -> OK first.
    let want = vec![
        ("10:01".to_string(), AlarmState::Ok),
        ("10:02".to_string(), AlarmState::Alarm),
    ];
    assert_eq!(hist(&r), want);
    assert_eq!(
        r.history[1].reason,
        "Threshold Crossed: 2 out of the last 3 datapoints [2.5 (01/01/24 10:01:00), 2.5 (01/01/24 10:00:00)] were greater than or equal to the threshold (1.0) (minimum 2 datapoints for OK -> ALARM transition)."
    );
    assert_eq!(
        r.history[1].reason_data,
        r#"{"version":"1.0","queryDate":"2024-01-01T10:02:00.000+0000","startDate":"2024-01-01T09:59:00.000+0000","statistic":"Sum","period":60,"recentDatapoints":[2.5,2.5],"threshold":1.0,"evaluatedDatapoints":[{"timestamp":"2024-01-01T10:01:00.000+0000","sampleCount":1.0,"value":2.5},{"timestamp":"2024-01-01T10:00:00.000+0000","sampleCount":1.0,"value":2.5}]}"#
    );
}

#[test]
fn validation_rules() {
    let base = cfg(Statistic::Sum);
    let with = |f: &dyn Fn(&mut AlarmConfig)| {
        let mut c = base.clone();
        f(&mut c);
        c.validate()
    };
    assert_eq!(base.validate(), Ok(()));
    assert_eq!(with(&|c| c.period_secs = 90), Err(AlarmError::Period(90)));
    assert_eq!(with(&|c| c.period_secs = 30), Ok(()));
    assert_eq!(
        with(&|c| c.evaluation_periods = 0),
        Err(AlarmError::EvaluationPeriods)
    );
    assert_eq!(
        with(&|c| c.datapoints_to_alarm = Some(2)),
        Err(AlarmError::DatapointsToAlarm { m: 2, n: 1 })
    );
    assert_eq!(
        with(&|c| c.evaluation_periods = 289),
        Err(AlarmError::TooLong {
            total: 86_700,
            limit: 86_400
        })
    );
    assert_eq!(
        with(&|c| {
            c.period_secs = 3600;
            c.evaluation_periods = 168
        }),
        Ok(())
    );
    assert_eq!(
        with(&|c| c.statistic = Statistic::Percentile(101.0)),
        Err(AlarmError::Percentile(101.0))
    );
    assert_eq!(
        with(&|c| c.threshold = f64::NAN),
        Err(AlarmError::Threshold)
    );
    assert_eq!(
        "GreaterThanUpperThreshold".parse::<Comparison>(),
        Err(AlarmError::UnsupportedComparison(
            "GreaterThanUpperThreshold".into()
        ))
    );
    assert_eq!(
        "notBreaching".parse::<TreatMissing>(),
        Ok(TreatMissing::NotBreaching)
    );
    assert_eq!(
        "p99.5".parse::<Statistic>(),
        Ok(Statistic::Percentile(99.5))
    );
    let bad = ReplayOptions {
        start: t("10:00:00"),
        end: t("09:00:00"),
        knobs: ReplayKnobs::default(),
    };
    assert_eq!(replay(&[], &base, &bad), Err(AlarmError::Window));
}

#[test]
fn java_double_and_cloudtrail_counts() {
    assert_eq!(java_double(1.0), "1.0");
    assert_eq!(java_double(0.0), "0.0");
    assert_eq!(java_double(99.50160229693434), "99.50160229693434");
    assert_eq!(java_double(1e7), "1.0E7");
    assert_eq!(java_double(1.5e-5), "1.5E-5");
    assert_eq!(java_double(1051.0), "1051.0");
    assert_eq!(cloudtrail_sns_notification_count(288), 288);
    let mins = [t("10:05:00"), t("10:05:30"), t("10:10:00")];
    assert_eq!(cloudtrail_sns_notification_count_coalesced(&mins), 2);
    assert_eq!(
        region_display_name("ap-northeast-2"),
        "Asia Pacific (Seoul)"
    );
}

#[test]
fn percentile_nearest_rank_and_low_sample_ignore() {
    let mut c = cfg(Statistic::Percentile(50.0));
    c.period_secs = 60;
    c.threshold = 3.0;
    let s: Vec<Sample> = [1.0, 3.0, 5.0, 7.0]
        .iter()
        .map(|v| Sample {
            timestamp: t("10:00:10"),
            value: *v,
        })
        .collect();
    let r = replay(&s, &c, &opts("10:01:00", "10:01:00")).expect("valid");
    assert_eq!(r.series[0].value, Some(3.0));
    assert_eq!(r.alarm_count(), 1);
    c.low_sample_count = LowSampleCount::Ignore; // p50 needs 20 samples
    assert_eq!(
        replay(&s, &c, &opts("10:01:00", "10:01:00"))
            .expect("valid")
            .history
            .len(),
        0
    );
}

/// Deliberately naive reference: scan every sample for every window of every minute.
fn naive(samples: &[(i64, f64)], c: &AlarmConfig, start: i64, end: i64) -> Vec<(i64, AlarmState)> {
    let n = c.evaluation_periods as usize;
    let m = c.m() as usize;
    let p = i64::from(c.period_secs);
    let r = n + 2;
    let mut state = AlarmState::InsufficientData;
    let mut out = Vec::new();
    let mut minute = start;
    while minute <= end {
        let mut v: Vec<Option<bool>> = Vec::new(); // newest first; Some(breaching)
        for k in 1..=r as i64 {
            let (lo, hi) = (minute - k * p, minute - (k - 1) * p);
            let xs: Vec<f64> = samples
                .iter()
                .filter(|(s, _)| *s >= lo && *s < hi)
                .map(|(_, x)| *x)
                .collect();
            let stat = match c.statistic {
                _ if xs.is_empty() => None,
                Statistic::SampleCount => Some(xs.len() as f64),
                Statistic::Sum => Some(xs.iter().sum()),
                Statistic::Average => Some(xs.iter().sum::<f64>() / xs.len() as f64),
                Statistic::Minimum => xs.iter().copied().reduce(f64::min),
                Statistic::Maximum => xs.iter().copied().reduce(f64::max),
                Statistic::Percentile(_) => None,
            };
            v.push(stat.map(|x| c.comparison.breaches(x, c.threshold)));
        }
        let next = naive_decide(&v, n, m, c.treat_missing_data, state);
        if next != state {
            out.push((minute, next));
            state = next;
        }
        minute += 60;
    }
    out
}

fn naive_decide(
    v: &[Option<bool>],
    n: usize,
    m: usize,
    treat: TreatMissing,
    cur: AlarmState,
) -> AlarmState {
    let count = |bs: &[bool]| {
        if bs.iter().filter(|b| **b).count() >= m {
            AlarmState::Alarm
        } else {
            AlarmState::Ok
        }
    };
    let reals: Vec<bool> = v.iter().flatten().copied().collect();
    if v[..n].iter().all(Option::is_some) || reals.len() >= n {
        return count(&reals[..n]);
    }
    let b = reals.iter().filter(|x| **x).count();
    match treat {
        TreatMissing::Breaching => count(&[reals.clone(), vec![true; n - reals.len()]].concat()),
        TreatMissing::NotBreaching => count(&reals),
        _ if reals.is_empty() => {
            if treat == TreatMissing::Missing {
                AlarmState::InsufficientData
            } else {
                cur
            }
        }
        _ if b >= m => AlarmState::Alarm,
        _ => {
            let all_breach = reals.iter().all(|x| *x);
            let oldest = v[..n].iter().rposition(|x| *x == Some(true));
            let prem = all_breach && oldest.is_some_and(|j| j + 1 >= m);
            match (prem, treat) {
                (true, TreatMissing::Missing) => AlarmState::Alarm,
                (true, _) => cur,
                _ => AlarmState::Ok,
            }
        }
    }
}

proptest! {
    #[test]
    fn replay_matches_naive_reference(
        raw in prop::collection::vec((0i64..90, 0i64..60, prop::sample::select(vec![0.0, 1.0, 2.0, 5.0])), 0..12),
        period in prop::sample::select(vec![60u32, 120, 300]),
        n in 1u32..5,
        m_off in 0u32..4,
        treat in prop::sample::select(vec![TreatMissing::Missing, TreatMissing::NotBreaching, TreatMissing::Breaching, TreatMissing::Ignore]),
        stat in prop::sample::select(Statistic::SIMPLE.to_vec()),
        threshold in prop::sample::select(vec![1.0, 2.0]),
        cmp in prop::sample::select(vec![Comparison::GreaterThanOrEqualToThreshold, Comparison::GreaterThanThreshold, Comparison::LessThanThreshold, Comparison::LessThanOrEqualToThreshold]),
    ) {
        let base = t("10:00:00").as_second();
        let samples: Vec<Sample> = raw.iter().map(|(mi, s, v)| Sample {
            timestamp: Timestamp::from_second(base + mi * 60 + s).expect("in range"), value: *v,
        }).collect();
        let mut c = cfg(stat);
        c.period_secs = period;
        c.evaluation_periods = n;
        c.datapoints_to_alarm = Some(n - m_off.min(n - 1));
        c.treat_missing_data = treat;
        c.threshold = threshold;
        c.comparison = cmp;
        let o = opts("10:00:00", "12:00:00");
        let got: Vec<(i64, AlarmState)> = replay(&samples, &c, &o).expect("valid").history.iter()
            .map(|h| (h.time.as_second(), h.new)).collect();
        let pairs: Vec<(i64, f64)> = samples.iter().map(|s| (s.timestamp.as_second(), s.value)).collect();
        prop_assert_eq!(got, naive(&pairs, &c, base, base + 7200));
    }

    #[test]
    fn replay_never_panics(vals in prop::collection::vec((-1000i64..100_000, -1e9f64..1e9), 0..30), p in 0.0f64..100.0) {
        let samples: Vec<Sample> = vals.iter().filter_map(|(s, v)| Timestamp::from_second(t("10:00:00").as_second() + s).ok().map(|timestamp| Sample { timestamp, value: *v })).collect();
        let c = cfg(Statistic::Percentile(p));
        let _ = replay(&samples, &c, &opts("09:00:00", "11:00:00"));
        let _ = explain(&samples, &cfg(Statistic::Average), &opts("09:00:00", "11:00:00"));
    }
}
