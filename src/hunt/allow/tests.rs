use super::*;

const NOW: i64 = 1_800_000_000_000_000; // 2027-01-15

fn subject<'a>(principal: &'a str, ip: &'a str) -> Subject<'a> {
    Subject {
        rule: "r1",
        time_us: 1_767_225_600_000_000, // 2026-01-01T00:00:00Z
        principal: Some(principal),
        source_ip: Some(ip),
        user_agent: Some("aws-cli/2.15"),
        account: Some("111122223333"),
    }
}

#[test]
fn principals_match_exactly_or_by_glob_in_any_case() {
    let list = Allowlist::parse(
        "allow:\n  - principals: ['arn:aws:iam::*:role/BreakGlass*', 'arn:aws:iam::1:user/bob']\n",
    )
    .unwrap();
    let yes = |p| list.allowing(&subject(p, "10.0.0.1"), NOW).is_some();
    assert!(yes("arn:aws:iam::111122223333:role/breakglass-admin"));
    assert!(yes("arn:aws:iam::1:user/bob"));
    assert!(!yes("arn:aws:iam::1:user/bobby"));
    assert!(!yes("arn:aws:iam::1:role/Other"));
}

#[test]
fn source_ips_match_addresses_and_networks_never_service_names() {
    let list =
        Allowlist::parse(r#"{"allow": [{"source_ips": ["203.0.113.0/24", "2001:db8::1"]}]}"#)
            .unwrap();
    let yes = |ip| list.allowing(&subject("p", ip), NOW).is_some();
    assert!(yes("203.0.113.77"));
    assert!(yes("2001:db8::1"));
    assert!(!yes("203.0.114.1"));
    assert!(!yes("AWS Internal"));
}

#[test]
fn every_kind_an_entry_names_must_match() {
    let list = Allowlist::parse(
        "allow:\n  - principals: ['*bob']\n    source_ips: ['10.0.0.0/8']\n    rule: R1\n",
    )
    .unwrap();
    assert!(list.allowing(&subject("bob", "10.1.2.3"), NOW).is_some());
    assert!(list.allowing(&subject("bob", "11.1.2.3"), NOW).is_none());
    let mut other_rule = subject("bob", "10.1.2.3");
    other_rule.rule = "r2";
    assert!(list.allowing(&other_rule, NOW).is_none());
}

#[test]
fn time_windows_bound_the_events_and_expiry_ends_the_entry() {
    let list = Allowlist::parse(
        "allow:\n  - name: window\n    accounts: ['111122223333']\n    from: 2025-12-31\n    until: 2026-01-02\n  - name: old\n    accounts: ['111122223333']\n    expires: 2026-06-30\n",
    )
    .unwrap();
    let s = subject("p", "1.1.1.1");
    assert_eq!(list.allowing(&s, NOW), Some(0));
    let mut later = s;
    later.time_us += 2 * 86_400_000_000;
    // The window no longer covers it and the other entry has expired.
    assert_eq!(list.allowing(&later, NOW), None);
    let before_expiry = 1_767_225_600_000_000;
    assert_eq!(list.allowing(&later, before_expiry), Some(1));
    let expired: Vec<_> = list.expired(NOW).map(|e| e.name.as_str()).collect();
    assert_eq!(expired, ["old"]);
}

#[test]
fn mistakes_are_errors_that_name_the_entry() {
    for (text, needle) in [
        ("allow:\n  - source_ips: ['not-an-ip']\n", "not-an-ip"),
        ("allow:\n  - name: x\n", "names nothing"),
        (
            "allow:\n  - principal: ['typo']\n",
            "unknown key 'principal'",
        ),
        (
            "allow:\n  - accounts: ['1']\n    expires: someday\n",
            "expires",
        ),
        ("nothing: here\n", "no 'allow:'"),
    ] {
        let err = format!("{:#}", Allowlist::parse(text).unwrap_err());
        assert!(err.contains(needle), "{text}: {err}");
    }
}
