//! Pattern tests: every §1.10 vector, §1.7 rulings, §1.6 errors, knob
//! defaults, prefilter soundness and no-panic properties.

use super::*;
use proptest::prelude::*;

fn pat(p: &str) -> Pattern {
    Pattern::parse(p).unwrap_or_else(|e| panic!("{p:?} should parse: {e}"))
}

fn m(p: &str, msg: &str) -> bool {
    pat(p).matches(&LogEvent { message: msg })
}

fn mo(p: &str, opts: MatchOptions, msg: &str) -> bool {
    Pattern::parse_with(p, opts)
        .unwrap_or_else(|e| panic!("{p:?} should parse: {e}"))
        .matches(&LogEvent { message: msg })
}

/// Which of `msgs` match, as a 0/1 string for compact assertions.
fn which(p: &str, msgs: &[&str]) -> String {
    let p = pat(p);
    msgs.iter()
        .map(|msg| {
            if p.matches(&LogEvent { message: msg }) {
                '1'
            } else {
                '0'
            }
        })
        .collect()
}

fn err(p: &str) -> PatternError {
    match Pattern::parse(p) {
        Ok(_) => panic!("{p:?} should be rejected"),
        Err(e) => e,
    }
}

const E: [&str; 5] = [
    "[ERROR 400] BAD REQUEST",
    "[ERROR 401] UNAUTHORIZED REQUEST",
    "[ERROR 419] MISSING ARGUMENTS",
    "[ERROR 420] INVALID ARGUMENTS",
    "[ERROR 500] INTERNAL SERVER ERROR",
];

#[test]
fn unstructured_vectors_u1_to_u6() {
    assert_eq!(which("ERROR", &E[..4]), "1111"); // U1
    assert_eq!(which("ERROR ARGUMENTS", &E[..4]), "0011"); // U2
    assert_eq!(which("?ERROR ?ARGUMENTS", &E[..4]), "1111"); // U3
    assert_eq!(which("\"INTERNAL SERVER ERROR\"", &E), "00001"); // U4
    assert_eq!(which("ERROR -ARGUMENTS", &E[..4]), "1100"); // U5
    assert_eq!(which("\" \"", &["", "x", "{}", "no spaces"]), "1111"); // U6
    assert_eq!(pat("\" \"").kind(), PatternKind::MatchAll);
}

#[test]
fn unstructured_vectors_u7_to_u12() {
    let u7 = [
        "[INFO] REQUEST FAILED",
        "[WARN] UNAUTHORIZED REQUEST",
        "[ERROR] 400 BAD REQUEST",
        E[2],
    ];
    assert_eq!(which("?ERROR ?ARGUMENTS REQUEST", &u7), "1110");
    let u8 = [
        "[ERROR 401] UNAUTHORIZED REQUEST",
        "[SUCCESS 200] AUTHORIZED REQUEST",
    ];
    assert_eq!(which("%AUTHORIZED%", &u8), "11");
    let u9 = [
        "[ERROR] A fatal exception has occurred",
        "Exiting with ERRORCODE: -1",
    ];
    assert_eq!(which("ERROR", &u9), "11");
    assert_eq!(which("\"ERROR\" -\"Exiting\"", &u9), "10"); // U10
    let u11 = ["ERROR WARN message", "ERROR message", "WARN message"];
    assert_eq!(which("ERROR", &u11), "110");
    assert_eq!(which("?ERROR ?WARN", &u11), "111");
    assert_eq!(which("ERROR WARN", &u11), "100");
    assert_eq!(which("ERROR -WARN", &u11), "010");
    let p = pat("ERROR");
    let u12 = [
        "[ERROR] 400 BAD REQUEST",
        "[ERROR] 400 BAD REQUEST",
        "[INFO] 200 OK",
    ];
    let got: Vec<_> = u12
        .iter()
        .map(|msg| p.test(&LogEvent { message: msg }))
        .collect();
    assert_eq!(
        got,
        vec![Some(Extracted::default()), Some(Extracted::default()), None]
    );
}

const J1: &str = r#"{"eventType":"UpdateTrail","sourceIPAddress":"111.111.111.111","arrayKey":["value","another value"],"objectList":[{"name":"a","id":1},{"name":"b","id":2}],"SomeObject":null,"cluster.name":"c","ThisFlag":true}"#;

#[test]
fn json_vectors_j1_to_j12() {
    for p in [
        r#"{ $.eventType = "UpdateTrail" }"#,
        "{ $.sourceIPAddress != 123.123.* }",
        r#"{ $.arrayKey[0] = "value" }"#,
        "{ $.objectList[1].id = 2 }",
        "{ $.SomeObject IS NULL }",
        "{ $.SomeOtherObject NOT EXISTS }",
        "{ $.ThisFlag IS TRUE }",
        "{ $.eventType = %Trail% }",
        "{ $.arrayKey[*] = %val.{2}% }",
        r"{ $.* = %111\.111\.111\.1[0-9]{1,2}% }",
        r#"{ $.['cluster.name'] = "c" }"#,
        r#"{ $.eventType = "*" && $.sourceIPAddress != 123.123.* }"#,
    ] {
        assert!(m(p, J1), "{p} should match J1");
    }
}

#[test]
fn json_vectors_j13_to_j18() {
    assert!(!m(r#"{ $.eventType = "updatetrail" }"#, J1));
    assert!(m("{ $.eventType = Update* }", J1));
    assert!(m("{ $.eventType = *Trail }", J1));
    assert!(!m("{ $.eventType = Up*Trail }", J1));
    assert!(m("{ $.x = Up*Trail }", r#"{"x":"Up*Trail"}"#));
    assert!(!m(r#"{ $.arrayKey = "value" }"#, J1));
    assert!(!m(r#"{ $.arrayKey != "value" }"#, J1));
    assert!(!m("{ $.objectList[1].id = 1 }", J1));
    assert_eq!(
        err("{ $.SomeObject IS NOT NULL }").kind,
        PatternErrorKind::Unsupported("IS NOT".into())
    );
    assert!(matches!(
        err("{ $.eventType EXISTS }").kind,
        PatternErrorKind::Unsupported(_)
    ));
}

const J2: &str = r#"{"user":{"id":1,"email":"John.Stiles@example.com"},"users":[{"id":2,"email":"John.Doe@example.com"},{"id":3,"email":"Jane.Doe@example.com"}],"actions":["GET","PUT","DELETE"],"coordinates":[[0,1,2],[4,5,6],[7,8,9]]}"#;

#[test]
fn json_compound_vectors_c1_to_c4() {
    assert!(m(
        r#"{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }"#,
        J2
    ));
    assert!(m(
        r#"{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch" && $.actions[2] = "nonmatch" }"#,
        J2
    ));
    assert!(!m(
        r#"{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch") && $.actions[2] = "nonmatch" }"#,
        J2
    ));
    assert!(!m(
        r#"{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }"#,
        J2
    ));
    assert!(m("{ $.coordinates[2][0] = 7 }", J2));
}

#[test]
fn json_other_and_numeric_vectors() {
    assert!(!m("{$.users = 1}", r#"{"users":[1,2,3]}"#));
    assert!(!m("{$.users != 1}", r#"{"users":[1,2,3]}"#));
    let foo = [r#"{"foo":"bar"}"#, r#"{"foo":"baz"}"#];
    assert_eq!(which("{$.foo = bar}", &foo), "10");
    assert_eq!(which("{$.foo = baz }", &foo), "01");
    assert_eq!(which("{$.foo = bar || $.foo = baz }", &foo), "11");
    assert!(m("{ $.latency >= 500 }", r#"{"latency":500}"#));
    assert!(!m("{ $.latency >= 500 }", r#"{"latency":499.9}"#));
    assert!(m("{ $.numbers[0] < 10e3 }", r#"{"numbers":[9999]}"#));
    assert!(m("{ $.latency > +1000 }", r#"{"latency":1001}"#));
    assert!(m("{ $.number[0] = 1e-3 }", r#"{"number":[0.001]}"#));
    assert!(m(
        "{ $.latency = * }",
        r#"{"latency":50,"requestType":"GET"}"#
    ));
    assert!(m("{ $.status = 4* }", r#"{"status":404}"#));
    assert!(!m("{ $.status = 4* }", r#"{"status":200}"#));
    assert!(!m("{ $.x = 1 }", "not json"));
}

const D1: &str =
    r#"127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534"#;

fn entries(p: &str, msg: &str) -> Vec<(String, String)> {
    pat(p)
        .test(&LogEvent { message: msg })
        .unwrap_or_else(|| panic!("{p} should match {msg}"))
        .entries
}

fn kv(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn delimited_vectors_s1_s2_s3() {
    let named = kv(&[
        ("$ip", "127.0.0.1"),
        ("$user", "Prod"),
        ("$username", "frank"),
        ("$timestamp", "10/Oct/2000:13:25:15 -0700"),
        ("$request", "GET /index.html HTTP/1.0"),
        ("$status_code", "404"),
        ("$bytes", "1534"),
    ]);
    let s1 = "[ip, user, username, timestamp, request =*.html*, status_code = 4*, bytes]";
    assert_eq!(entries(s1, D1), named);
    let s2 = r"[ip=%127\.0\.0\.[1-9]%, user, username, timestamp, request =*.html*, status_code = 4*, bytes]";
    assert_eq!(entries(s2, D1), named);
    let s3 = "[..., request =*.html*, status_code = 4*, bytes]";
    let mut want = kv(&[
        ("$1", "127.0.0.1"),
        ("$2", "Prod"),
        ("$3", "frank"),
        ("$4", "10/Oct/2000:13:25:15 -0700"),
    ]);
    want.extend(named[4..].iter().cloned());
    assert_eq!(entries(s3, D1), want);
}

#[test]
fn delimited_vectors_s4_to_s7() {
    assert!(m("[ip, user, username, timestamp, request =*.html*, status_code = 404 || status_code = 410, bytes]", D1));
    let s5 = entries(
        "[ip, server, username, timestamp, request, status_code, bytes > 1000]",
        D1,
    );
    assert_eq!(s5[1], ("$server".to_string(), "Prod".to_string()));
    assert!(!m(
        "[ip, user, username, timestamp, request, status_code = 200, bytes]",
        D1
    ));
    let e = err("[ip, user, username, timestamp, request, status_code = 4* && bytes > 1000]");
    assert_eq!(e.offset, 61);
    assert_eq!(
        e.kind,
        PatternErrorKind::CrossField {
            field: "status_code".into(),
            other: "bytes".into()
        }
    );
}

const L: [&str; 4] = [
    "INFO 09/25/2014 12:00:00 GET /service/resource/67 1200",
    "INFO 09/25/2014 12:00:01 POST /service/resource/67/part/111 1310",
    "WARNING 09/25/2014 12:00:02 Invalid user request",
    "ERROR 09/25/2014 12:00:02 Failed to process request",
];

#[test]
fn delimited_vectors_s8_to_s13() {
    assert_eq!(which("[w1=ERROR, w2]", &L), "0001");
    assert_eq!(which("[w1=ERROR || w1=WARNING, w2]", &L), "0011");
    assert_eq!(which("[w1!=ERROR && w1!=WARNING, w2]", &L), "1100");
    assert_eq!(
        which(
            "[logLevel, date, time, method, url=%/service/resource/[0-9]+$%, response_time]",
            &L
        ),
        "1000"
    );
    assert_eq!(which("[logLevel, date, time, method, url=%/service/resource/[0-9]+/part/[0-9]+$%, response_time]", &L), "0100");
    assert_eq!(which("[w1=ERROR || w1=%WARN%, w2]", &L), "0011");
    let w2 = entries("[w1=ERROR, w2]", L[3]);
    assert_eq!(w2[1].1, "09/25/2014 12:00:02 Failed to process request");
}

#[test]
fn delimited_apache_vector() {
    let apache =
        r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 404 2326"#;
    let p = pat("[ip, id, user, timestamp, request, status_code=404, size]");
    let ex = p.test(&LogEvent { message: apache }).expect("match");
    assert_eq!(ex.get("$size"), Some("2326"));
    assert_eq!(ex.get("$7"), Some("2326"));
    assert_eq!(ex.get("$8"), None);
    let p4 = "[ip, id, user, timestamp, request, status_code=4*, size]";
    assert!(m(p4, apache));
    assert!(!m(p4, &apache.replace(" 404 ", " 200 ")));
}

#[test]
fn regex_validity_vectors() {
    assert_eq!(err("%something!%").kind, PatternErrorKind::RegexChar('!'));
    assert_eq!(err("%something!%").offset, 10);
    assert_eq!(err("%(alpha|beta)%").kind, PatternErrorKind::RegexChar('('));
    assert_eq!(err("%café%").kind, PatternErrorKind::RegexChar('é'));
    assert_eq!(which(r"%10\.10\.0\.1%", &["10.10.0.1", "10010,051"]), "10");
    assert_eq!(which("%10.10.0.1%", &["10.10.0.1", "10010,051"]), "11");
    assert_eq!(which("%colou?r%", &["color", "colour", "colr"]), "110");
    assert_eq!(which("%a{3,5}%", &["aa", "aaa"]), "01");
    assert_eq!(which("%^[hc]at%", &["hat", "cat", "that"]), "110");
    assert_eq!(which("%[hc]at$%", &["hat", "chats"]), "10");
    assert_eq!(which("%ab+c%", &["abbc", "ac"]), "10");
    assert_eq!(which(r"%\x3A%", &["a:b", "ab"]), "10");
    assert_eq!(which(r"%\x28%", &["f(x)", "fx"]), "10");
    assert_eq!(which("%a{,2}b$%", &["b", "aab"]), "11");
    assert_eq!(which(r"%^\d+\s\w%", &["12 x", "12x"]), "10");
    assert_eq!(which(r"%[\w-]+@%", &["a-b@", "@"]), "10");
    assert_eq!(
        which(
            "%^starting|^initializing|^shutting down%",
            &["shutting down now", "is starting"]
        ),
        "10"
    );
}

#[test]
fn rulings_1_7() {
    assert!(matches!(
        err(r#"{ "GetSecretValue" }"#).kind,
        PatternErrorKind::Expected { .. }
    ));
    let batch = r#"{"eventName":"BatchGetSecretValue"}"#;
    let get = r#"{"eventName":"GetSecretValue"}"#;
    assert_eq!(which(r#""GetSecretValue""#, &[get, batch]), "11");
    assert_eq!(which("GetSecretValue", &[get, batch]), "11");
    assert_eq!(which("getsecretvalue", &[get, batch]), "00");
    assert_eq!(
        which(r#"{ $.eventName = "GetSecretValue" }"#, &[get, batch]),
        "10"
    );
    assert_eq!(
        which("{ $.eventName = GetSecretValue }", &[get, batch]),
        "10"
    );
    assert!(m("{ $.errorCode = 400 }", r#"{"errorCode":"400"}"#));
    assert!(!m(r#"{ $.x != "a" }"#, r#"{"y":1}"#));
    assert_eq!(which("", &["", "anything"]), "11");
    assert_eq!(which("   ", &["x"]), "1");
    assert_eq!(pat("").kind(), PatternKind::MatchAll);
    let long = format!("\"{}\"", "a".repeat(1023));
    assert_eq!(err(&long).kind, PatternErrorKind::TooLong(1025));
    assert_eq!(err(&long).offset, 1024);
    assert!(Pattern::parse(&"a".repeat(1024)).is_ok());
}

#[test]
fn validation_errors_name_position_and_expectation() {
    let e = err("{ $.eventName ConsoleLogin }");
    assert_eq!(e.offset, 14);
    assert_eq!(
        e.to_string(),
        "at column 15: expected an operator (=, !=, <, >, <=, >=), IS or NOT EXISTS after $.eventName"
    );
    assert_eq!(
        err("{ $.a = 1").to_string(),
        "at column 10: expected } at the end (a pattern that starts with { must end with })"
    );
    assert_eq!(err("[a, b").offset, 5);
    assert_eq!(err(r#"{ $.a = "x }"#).offset, 8);
    assert_eq!(
        err("{ ($.a = 1 }").to_string(),
        "at column 12: expected &&, || or ) to close the ( opened after column 3"
    );
    assert_eq!(
        err("{ $.a > abc }").to_string(),
        "at column 12: expected a number after $.a >"
    );
    assert_eq!(err("{ $ = 1 }").offset, 3);
    assert_eq!(err("{ $.a = 1 $.b = 2 }").offset, 10);
    assert_eq!(err("{ $.a = x@y }").offset, 9);
    assert_eq!(
        err("ERROR %foo%").kind,
        PatternErrorKind::RegexNotStandalone
    );
    assert_eq!(
        err("[..., a, ...]").kind,
        PatternErrorKind::MultipleEllipsis
    );
}

#[test]
fn regex_and_wildcard_limits() {
    assert!(Pattern::parse("{ $.a = %x% && $.b = %y% }").is_ok());
    let e = err("{ $.a = %x% && $.b = %y% && $.c = %z% }");
    assert_eq!((e.offset, e.kind), (34, PatternErrorKind::TooManyRegexes));
    assert_eq!(
        err("[a=%x%, b=%y%, c=%z%]").kind,
        PatternErrorKind::TooManyRegexes
    );
    assert_eq!(
        err("{ $.a[*].* = 1 }").kind,
        PatternErrorKind::TooManyWildcardsInSelector
    );
    assert!(Pattern::parse("{ $.a[*] = 1 || $.b[*] = 1 || $.* = 1 }").is_ok());
    let e = err("{ $.a[*] = 1 || $.b[*] = 1 || $.* = 1 || $.c.* = 1 }");
    assert_eq!(
        (e.offset, e.kind),
        (41, PatternErrorKind::TooManyWildcardSelectors)
    );
}

#[test]
fn knob_terms_defaults_and_alternatives() {
    let d = MatchOptions::default();
    // only_exclusions
    assert_eq!(d.only_exclusions, OnlyExclusionsMode::MatchWhenNoneOccur);
    assert_eq!(which("-ERROR -WARN", &["INFO x", "WARN x"]), "10");
    let never = MatchOptions {
        only_exclusions: OnlyExclusionsMode::NeverMatch,
        ..d.clone()
    };
    assert!(!mo("-ERROR", never, "INFO"));
    // unquoted_terms
    assert_eq!(d.unquoted_terms, UnquotedTermMode::Literal);
    assert_eq!(
        which("us-east-1 a*b", &["in us-east-1 a*b", "us-east-1 ab"]),
        "10"
    );
    let reject = MatchOptions {
        unquoted_terms: UnquotedTermMode::Reject,
        ..d.clone()
    };
    assert!(Pattern::parse_with("us-east-1", reject).is_err());
    // regex_in_terms
    assert_eq!(d.regex_in_terms, RegexInTermsMode::Reject);
    let lit = MatchOptions {
        regex_in_terms: RegexInTermsMode::Literal,
        ..d.clone()
    };
    assert!(mo("ERROR %foo%", lit, "ERROR %foo%"));
    // detached_dash
    assert!(d.detached_dash);
    assert_eq!(
        which("\"ERROR\" - \"Exiting\"", &["ERROR a", "ERROR Exiting"]),
        "10"
    );
    let nodash = MatchOptions {
        detached_dash: false,
        ..d
    };
    assert!(Pattern::parse_with("ERROR - x", nodash).is_err());
}

#[test]
fn knob_json_syntax_defaults_and_alternatives() {
    let d = MatchOptions::default();
    assert!(d.bracket_key_without_dot);
    assert!(m("{ $['cluster.name'] = c }", J1));
    let strict = MatchOptions {
        bracket_key_without_dot: false,
        ..d.clone()
    };
    assert!(Pattern::parse_with("{ $['cluster.name'] = c }", strict).is_err());
    assert_eq!(d.unquoted_values, UnquotedValueMode::Conservative);
    assert!(Pattern::parse("{ $.a = x@y }").is_err());
    let perm = MatchOptions {
        unquoted_values: UnquotedValueMode::Permissive,
        ..d.clone()
    };
    assert!(mo("{ $.a = x@y }", perm, r#"{"a":"x@y"}"#));
    assert_eq!(d.json_root, JsonRootMode::ObjectOnly);
    assert!(!m("{ $[0] = 1 }", "[1]"));
    let any = MatchOptions {
        json_root: JsonRootMode::AnyValue,
        ..d
    };
    assert!(mo("{ $[0] = 1 }", any, "[1]"));
}

#[test]
fn knob_json_missing_null_bool_defaults() {
    let d = MatchOptions::default();
    assert!(!d.ne_matches_missing);
    let ne = MatchOptions {
        ne_matches_missing: true,
        ..d.clone()
    };
    assert!(mo("{ $.x != a }", ne, "{}"));
    assert_eq!(d.null_bool_eq, NullBoolEqMode::NeverMatch);
    assert!(!m("{ $.f = true }", r#"{"f":true}"#));
    assert!(!m("{ $.f != x }", r#"{"f":null}"#));
    let text = MatchOptions {
        null_bool_eq: NullBoolEqMode::Text,
        ..d.clone()
    };
    assert!(mo("{ $.f = true }", text, r#"{"f":true}"#));
    assert!(!d.not_exists_on_null);
    assert!(!m("{ $.SomeObject NOT EXISTS }", J1));
    let nn = MatchOptions {
        not_exists_on_null: true,
        ..d
    };
    assert!(mo("{ $.SomeObject NOT EXISTS }", nn, J1));
}

#[test]
fn knob_json_comparison_defaults() {
    let d = MatchOptions::default();
    assert_eq!(d.cross_type, CrossTypeMode::Text);
    assert!(m(r#"{ $.x = "1.08" }"#, r#"{"x":1.08}"#));
    assert!(m("{ $.x > 5 }", r#"{"x":"10"}"#));
    let never = MatchOptions {
        cross_type: CrossTypeMode::Never,
        ..d.clone()
    };
    assert!(!mo("{ $.x = 400 }", never.clone(), r#"{"x":"400"}"#));
    assert!(!mo("{ $.x > 5 }", never, r#"{"x":"10"}"#));
    assert!(d.star_matches_empty);
    assert!(m("{ $.x = * }", r#"{"x":""}"#));
    let ne = MatchOptions {
        star_matches_empty: false,
        ..d.clone()
    };
    assert!(!mo("{ $.x = * }", ne, r#"{"x":""}"#));
    assert_eq!(d.wildcard_quantifier, Quantifier::Any);
    assert!(m("{ $.a[*] != x }", r#"{"a":["x","y"]}"#));
    let all = MatchOptions {
        wildcard_quantifier: Quantifier::All,
        ..d.clone()
    };
    assert!(!mo("{ $.a[*] != x }", all, r#"{"a":["x","y"]}"#));
    assert_eq!(d.regex_ne, RegexNeMode::NoMatch);
    assert_eq!(
        which("{ $.a != %^x% }", &[r#"{"a":"yx"}"#, r#"{"a":"xy"}"#]),
        "10"
    );
    let rn = MatchOptions {
        regex_ne: RegexNeMode::Never,
        ..d
    };
    assert!(!mo("{ $.a != %^x% }", rn, r#"{"a":"yx"}"#));
}

#[test]
fn knob_delimited_defaults() {
    let d = MatchOptions::default();
    assert!(d.tab_delimits);
    assert!(m("[a, b=x]", "1\tx"));
    let sp = MatchOptions {
        tab_delimits: false,
        ..d.clone()
    };
    assert!(!mo("[a, b=x]", sp, "1\tx"));
    assert_eq!(d.extra_tokens, ExtraTokensMode::LastFieldAbsorbs);
    let nm = MatchOptions {
        extra_tokens: ExtraTokensMode::NoMatch,
        ..d.clone()
    };
    assert!(!mo("[w1=ERROR, w2]", nm, L[3]));
    assert!(d.ellipsis_may_be_empty);
    assert!(m("[a, ..., b=2]", "1 2"));
    let ne = MatchOptions {
        ellipsis_may_be_empty: false,
        ..d
    };
    assert!(!mo("[a, ..., b=2]", ne, "1 2"));
    assert!(!m("[a, b, c]", "1 2"));
}

fn lits(p: &str) -> Option<Vec<Vec<String>>> {
    pat(p).required_literals().map(|cnf| {
        cnf.iter()
            .map(|c| {
                c.iter()
                    .map(|l| String::from_utf8_lossy(l).into_owned())
                    .collect()
            })
            .collect()
    })
}

#[test]
fn prefilter_literals() {
    assert_eq!(
        lits(r#"{ $.eventName = "ConsoleLogin" && $.x = Get* }"#),
        Some(vec![vec!["\"ConsoleLogin\"".into()], vec!["\"Get".into()]])
    );
    assert_eq!(
        lits("{ $.a = x || $.b = *y }"),
        Some(vec![vec!["\"x\"".into(), "y\"".into()]])
    );
    assert_eq!(lits("{ $.a = x || $.b != y }"), None);
    assert_eq!(lits("{ $.a = 404 }"), None);
    assert_eq!(
        lits(r#"ERROR "a b:c" -WARN"#),
        Some(vec![
            vec!["ERROR".into()],
            vec!["a".into()],
            vec!["b".into()],
            vec!["c".into()]
        ])
    );
    assert_eq!(
        lits("?ERROR ?WARN"),
        Some(vec![vec!["ERROR".into(), "WARN".into()]])
    );
    assert_eq!(lits("%x%"), None);
    let p = pat("{ $.eventName = ConsoleLogin }");
    assert!(!p.prefilter().may_match(br#"{"eventName":"Other"}"#));
    assert!(p.prefilter().may_match(br#"{"eventName": "ConsoleLogin"}"#));
    assert!(p
        .prefilter()
        .may_match(br#"{"eventName":"Console\u004cogin"}"#));
    assert!(p.matches(&LogEvent {
        message: r#"{"eventName":"Console\u004cogin"}"#
    }));
    // Escapes elsewhere cannot hide the name; an escaped key can.
    let elsewhere = br#"{"eventName":"Other","userAgent":"caf\u00e9 \u0026"}"#;
    assert!(!p.prefilter().may_match(elsewhere));
    assert!(p
        .prefilter()
        .may_match(br#"{"event\u004eame":"ConsoleLogin"}"#));
    // A pattern not made of plain keys keeps the rule of any backslash.
    for other in ["ConsoleLogin", "{ $.a[0] = ConsoleLogin }"] {
        assert!(pat(other).prefilter().may_match(elsewhere), "{other}");
    }
}

#[test]
fn event_cache_from_raw_reserializes_compactly() {
    let raw = br#"{ "b" : 1, "a" : "x y" }"#;
    let ev = EventCache::from_raw(raw);
    assert_eq!(ev.message(), r#"{"b":1,"a":"x y"}"#);
    assert!(pat(r#""\"b\":1,""#).matches_cached(&ev));
}

/// Patterns exercised by the property tests.
const PROP_PATTERNS: &[&str] = &[
    r#"{ ($.eventName = "ConsoleLogin") && ($.errorMessage = "Failed authentication") }"#,
    r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }"#,
    r#"{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }"#,
    "{ ($.eventSource = kms.amazonaws.com) && (($.eventName=DisableKey)||($.eventName=ScheduleKeyDeletion)) }",
    r#"{ $.a[*] = v* || $.* = "*é" }"#,
    "{ $.n = 1* || $.flag IS TRUE || $.z IS NULL }",
    "{ $.n = *2 }",
    "ConsoleLogin",
    r#""\"eventName\":\"Get" -Batch"#,
    "?Root ?\"é x\"",
    r#""a b" ERROR"#,
];

fn arb_scalar() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    prop_oneof![
        prop::sample::select(vec![
            "ConsoleLogin",
            "Failed authentication",
            "Root",
            "AwsServiceEvent",
            "kms.amazonaws.com",
            "DisableKey",
            "Client.UnauthorizedOperation",
            "AccessDeniedException",
            "v1",
            "é x",
            "a b",
            "ERROR",
            "Get\"x",
            "BatchGetSecretValue",
            "12",
            "",
        ])
        .prop_map(|s| Value::String(s.to_string())),
        "[a-zé\"\\\\ /]{0,6}".prop_map(Value::String),
        any::<i32>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Null),
    ]
}

fn arb_json() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::{Map, Value};
    let key = prop::sample::select(vec![
        "eventName",
        "errorMessage",
        "userIdentity",
        "type",
        "invokedBy",
        "eventType",
        "errorCode",
        "eventSource",
        "a",
        "n",
        "flag",
        "z",
        "x y",
    ]);
    arb_scalar().prop_recursive(3, 24, 5, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..5).prop_map(|kv| {
                Value::Object(
                    kv.into_iter()
                        .map(|(k, v)| (k.to_string(), v))
                        .collect::<Map<_, _>>(),
                )
            }),
        ]
    })
}

/// Re-encode some characters as `\uXXXX` the way other JSON writers may.
fn escape_some(compact: &str, every: usize) -> String {
    let mut out = String::new();
    for (i, c) in compact.chars().enumerate() {
        if every > 0 && i % every == 0 && c.is_ascii_alphabetic() {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

proptest! {
    #[test]
    fn prefilter_is_sound(v in arb_json(), pretty in any::<bool>(), every in 0usize..7) {
        let compact = v.to_string();
        // Escaping inside keys/strings only is not guaranteed by this crude
        // rewriter, so only use it when it still parses to the same value.
        let mut raw = if pretty { serde_json::to_string_pretty(&v).unwrap_or_default() } else { compact };
        let escaped = escape_some(&raw, every);
        if serde_json::from_str::<serde_json::Value>(&escaped).ok().as_ref() == Some(&v) {
            raw = escaped;
        }
        // The message is what CloudWatch would see: raw re-serialized (§1.8).
        let message = EventCache::from_raw(raw.as_bytes()).message().to_string();
        for p in PROP_PATTERNS {
            let p = pat(p);
            if p.matches(&LogEvent { message: &message }) {
                prop_assert!(p.prefilter().may_match(raw.as_bytes()), "{} matched {} but prefilter rejected {}", p.as_str(), message, raw);
            }
        }
    }

    #[test]
    fn parser_never_panics(s in "\\PC{0,80}") {
        let _ = Pattern::parse(&s);
    }

    #[test]
    fn parser_never_panics_on_pattern_alphabet(s in "[{}\\[\\]()$.*'\"%=!<>&| a-z0-9,\\\\-]{0,60}") {
        let _ = Pattern::parse(&s);
    }

    #[test]
    fn matcher_never_panics(v in arb_json(), junk in "\\PC{0,40}") {
        let message = v.to_string();
        for p in PROP_PATTERNS.iter().chain(&["[a, ..., b = 1*]", "%^.a%", "{ $.* = %x% }", "[a, b]"]) {
            let p = pat(p);
            let _ = p.test(&LogEvent { message: &message });
            let _ = p.test(&LogEvent { message: &junk });
        }
    }
}

#[test]
fn metric_field_values_follow_the_spec_vectors() {
    let p = Pattern::parse("{ $.latency = * }").unwrap();
    let f = MetricField::parse("$.latency", &p).unwrap();
    let ev = EventCache::new(LogEvent {
        message: r#"{"latency":50,"requestType":"GET"}"#,
    });
    assert!(p.matches_cached(&ev));
    assert_eq!(f.value(&p, &ev), Some(50.0));
    let apache =
        r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 404 2326"#;
    let p = Pattern::parse("[ip, id, user, timestamp, request, status_code=404, size]").unwrap();
    let ev = EventCache::new(LogEvent { message: apache });
    for field in ["$size", "$7"] {
        let f = MetricField::parse(field, &p).unwrap();
        assert_eq!(f.value(&p, &ev), Some(2326.0), "{field}");
    }
    assert_eq!(
        MetricField::parse("$user", &p).unwrap().value(&p, &ev),
        None
    );
    assert!(MetricField::parse("$.size", &p).is_err());
    assert!(MetricField::parse("$size", &Pattern::parse("ERROR").unwrap()).is_err());
}
