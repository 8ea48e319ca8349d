//! The 57 bundled SigmaHQ CloudTrail rules: all load, keep their metadata, and route as
//! their conditions say; broken files are reported per file.

use std::collections::BTreeSet;
use std::path::PathBuf;

use super::super::{Problem, SigmaRuleSet};
use super::support::{bundled_rules, rules_dir};

fn route_of(set: &SigmaRuleSet, file: &str) -> (Option<Vec<String>>, Option<Vec<String>>) {
    let rule = set
        .rules()
        .iter()
        .find(|r| r.meta().file.ends_with(file))
        .unwrap_or_else(|| panic!("{file} not loaded"));
    (
        rule.route().event_sources.clone(),
        rule.route().event_names.clone(),
    )
}

fn strings(values: &[&str]) -> Option<Vec<String>> {
    Some(values.iter().map(|s| s.to_string()).collect())
}

#[test]
fn all_57_bundled_rules_load() {
    let (set, problems) = SigmaRuleSet::load(&[rules_dir()]).expect("load");
    let lines: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    assert_eq!(lines, Vec::<String>::new());
    assert_eq!(set.len(), 57);
    let ids: BTreeSet<&str> = set.rules().iter().map(|r| r.meta().id.as_str()).collect();
    assert_eq!(ids.len(), 57, "rule ids are unique");
}

#[test]
fn bundled_rules_keep_metadata() {
    let set = bundled_rules();
    for rule in set.rules() {
        let m = rule.meta();
        let name = m.file.display();
        assert!(!m.id.is_empty() && !m.title.is_empty(), "{name}");
        assert!(
            !m.author.is_empty(),
            "{name}: author is required by the licence"
        );
        assert!(
            ["low", "medium", "high", "critical", "informational"].contains(&m.level.as_str()),
            "{name}"
        );
        assert!(
            m.tags.iter().any(|t| t.starts_with("attack.")),
            "{name}: ATT&CK tags"
        );
        let has_falsepositives = !m.falsepositives.is_empty();
        let expected = !m.file.ends_with("aws_ec2_vm_export_failure.yml");
        assert_eq!(
            has_falsepositives, expected,
            "{name}: falsepositives kept (one rule has none)"
        );
    }
}

#[test]
fn bundled_routes_follow_the_conditions() {
    let set = bundled_rules();
    assert_eq!(
        route_of(set, "aws_cloudtrail_disable_logging.yml"),
        (
            strings(&["cloudtrail.amazonaws.com"]),
            strings(&["deletetrail", "stoplogging", "updatetrail"])
        )
    );
    // `selection and not 1 of filter_main_*` over a regex: nothing pinned.
    assert_eq!(
        route_of(set, "aws_cloudtrail_imds_malicious_usage.yml"),
        (None, None)
    );
    assert_eq!(route_of(set, "aws_root_account_usage.yml"), (None, None));
    // startswith on eventName pins only the source.
    assert_eq!(
        route_of(set, "aws_new_lambda_layer_attached.yml"),
        (strings(&["lambda.amazonaws.com"]), None)
    );
    assert_eq!(
        route_of(set, "aws_cloudtrail_bucket_deleted.yml"),
        (None, strings(&["deletebucket"]))
    );
    // `1 of selection_*`: union over both branches.
    assert_eq!(
        route_of(set, "aws_susp_saml_activity.yml"),
        (
            strings(&["iam.amazonaws.com", "sts.amazonaws.com"]),
            strings(&["assumerolewithsaml", "updatesamlprovider"])
        )
    );
    // The filter under `not` does not weaken the selection's pins.
    assert_eq!(
        route_of(set, "aws_enum_buckets.yml"),
        (strings(&["s3.amazonaws.com"]), strings(&["listbuckets"]))
    );
    let unrouted: Vec<String> = set
        .rules()
        .iter()
        .filter(|r| r.route().event_names.is_none() && r.route().event_sources.is_none())
        .map(|r| {
            r.meta()
                .file
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(
        unrouted,
        [
            "aws_cloudtrail_imds_malicious_usage.yml",
            "aws_cloudtrail_pua_trufflehog.yml",
            "aws_root_account_usage.yml",
            "aws_sts_assumerole_misuse.yml",
        ]
    );
}

#[test]
fn problems_are_reported_per_file_and_the_rest_load() {
    let dir = std::env::temp_dir().join(format!("sigma-problems-{}", std::process::id()));
    let nested = dir.join("nested");
    std::fs::create_dir_all(&nested).unwrap();
    let head = "title: t\nlogsource:\n  product: aws\n  service: cloudtrail\ndetection:\n";
    let files = [
        ("good.yml", format!("{head}  sel:\n    eventName: X\n  condition: sel\n")),
        ("nested/good2.yaml", format!("{head}  sel:\n    eventName: Y\n  condition: sel\n")),
        ("syntax.yml", format!("{head}  sel: [unclosed\n")),
        ("b64.yml", format!("{head}  sel:\n    a|base64offset|contains: x\n  condition: sel\n")),
        ("keywords.yml", format!("{head}  kw:\n    - evil\n  condition: kw\n")),
        ("agg.yml", format!("{head}  sel:\n    a: x\n  condition: sel | count() > 5\n")),
        ("unknown_sel.yml", format!("{head}  sel:\n    a: x\n  condition: sel and other\n")),
        ("bad_re.yml", format!("{head}  sel:\n    a|re: '(['\n  condition: sel\n")),
        (
            "windows.yml",
            "title: t\nlogsource:\n  product: windows\ndetection:\n  sel:\n    a: x\n  condition: sel\n".into(),
        ),
        ("notes.txt", "not a rule".into()),
    ];
    for (name, text) in &files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    let (set, problems) = SigmaRuleSet::load(std::slice::from_ref(&dir)).expect("load");
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(set.len(), 2);
    let summary: Vec<(String, &Problem)> = problems
        .iter()
        .map(|p| {
            (
                p.file.file_name().unwrap().to_string_lossy().into_owned(),
                &p.problem,
            )
        })
        .collect();
    let kind = |name: &str| {
        summary
            .iter()
            .find(|(f, _)| f == name)
            .map(|(_, p)| *p)
            .cloned()
    };
    assert!(
        matches!(kind("syntax.yml"), Some(Problem::Invalid(s)) if s.starts_with("YAML syntax"))
    );
    assert_eq!(
        kind("b64.yml"),
        Some(Problem::Unsupported(
            "modifier 'base64offset' in 'a|base64offset|contains'".into()
        ))
    );
    assert_eq!(
        kind("keywords.yml"),
        Some(Problem::Unsupported(
            "keyword search in selection 'kw'".into()
        ))
    );
    assert_eq!(
        kind("agg.yml"),
        Some(Problem::Unsupported(
            "aggregation in condition ('|')".into()
        ))
    );
    assert!(matches!(kind("unknown_sel.yml"), Some(Problem::Invalid(_))));
    assert!(matches!(kind("bad_re.yml"), Some(Problem::Invalid(_))));
    assert!(matches!(kind("windows.yml"), Some(Problem::Skipped(_))));
    assert_eq!(problems.len(), 7);
    let line = problems
        .iter()
        .find(|p| p.file.ends_with("b64.yml"))
        .unwrap()
        .to_string();
    assert!(
        line.contains("b64.yml: unsupported feature: modifier 'base64offset'"),
        "{line}"
    );
}

#[test]
fn missing_path_is_a_load_error() {
    let err = SigmaRuleSet::load(&[PathBuf::from("/nonexistent/sigma")]).unwrap_err();
    assert!(err.to_string().contains("/nonexistent/sigma"));
}

#[test]
fn pins_cover_three_of_the_four_unrouted_rules() {
    let set = bundled_rules();
    let pins = |file: &str| {
        let rule = set
            .rules()
            .iter()
            .find(|r| r.meta().file.ends_with(file))
            .unwrap();
        rule.route().pins.clone()
    };
    let pin = |path: &str, values: &[&str]| {
        (
            path.to_string(),
            values.iter().map(|v| v.to_string()).collect::<Vec<_>>(),
        )
    };
    assert_eq!(
        pins("aws_cloudtrail_pua_trufflehog.yml"),
        [pin("userAgent", &["trufflehog"])]
    );
    assert_eq!(
        pins("aws_root_account_usage.yml"),
        [pin("userIdentity.type", &["root"])]
    );
    assert_eq!(
        pins("aws_sts_assumerole_misuse.yml"),
        [
            pin("userIdentity.sessionContext.sessionIssuer.type", &["role"]),
            pin("userIdentity.type", &["assumedrole"])
        ]
    );
    assert_eq!(pins("aws_cloudtrail_imds_malicious_usage.yml"), []);
    assert_eq!(
        pins("aws_enum_buckets.yml"),
        [
            pin("eventName", &["listbuckets"]),
            pin("eventSource", &["s3.amazonaws.com"])
        ]
    );
}
