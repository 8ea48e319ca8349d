//! Rule packs: the CIS AWS Foundations 4.1–4.15 metric filters as data, a
//! JSON user-rules format, and [`RuleSet`], which compiles every pattern
//! once and evaluates all rules against one record with the byte prefilter
//! and a single shared JSON parse. It owns no alarm logic (`crate::alarm`)
//! and no pattern semantics (`crate::pattern`).
//!
//! User rules file (JSON; either this object or a bare array of rules):
//! ```json
//! {"rules": [{"name": "secret-reads", "pattern": "{ $.eventName = GetSecretValue }",
//!   "metric_value": 1, "default_value": 0,
//!   "alarm": {"statistic": "Sum", "period": 300, "evaluation_periods": 1,
//!             "datapoints_to_alarm": 1, "threshold": 1,
//!             "comparison": "GreaterThanOrEqualToThreshold",
//!             "treat_missing_data": "missing"}}]}
//! ```
//! Every `alarm` field is optional and defaults to the CIS shape
//! (Sum ≥ 1 over 300 s, 1 period, missing).

use serde::Deserialize;

use crate::alarm::{
    AlarmConfig, AlarmError, Comparison, MetricTransform, MetricValue, Statistic, TreatMissing,
};
use crate::pattern::{
    EventCache, FieldPattern, FieldPlan, LogEvent, MetricField, Pattern, PatternError,
};
use crate::structural::Tape;
use crate::window::{parse_event_time, raw_event_time};

/// One metric filter plus the alarm on its metric.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// Short id, e.g. `cis-4.3`.
    pub id: String,
    /// Human title.
    pub title: String,
    /// Filter pattern text.
    pub pattern: String,
    /// Metric name (CIS naming for the pack).
    pub metric_name: String,
    /// metricValue.
    pub metric_value: RuleValue,
    /// defaultValue.
    pub default_value: Option<f64>,
    /// Alarm settings (name/metric filled from the rule).
    pub alarm: AlarmConfig,
}

impl Rule {
    /// The rule's metric transformation with \[INF\] knobs at their defaults.
    pub fn transform(&self) -> MetricTransform {
        match &self.metric_value {
            RuleValue::Number(v) => MetricTransform::new(*v, self.default_value),
            RuleValue::Field(_) => MetricTransform {
                metric_value: MetricValue::Field,
                ..MetricTransform::new(1.0, self.default_value)
            },
        }
    }
}

/// A rule's metricValue: a number, or a field of each matching event.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleValue {
    Number(f64),
    Field(MetricField),
}

impl RuleValue {
    /// Parses a metricValue as CloudWatch takes it: a finite number, or a
    /// field (`$.latency`, `$size`) that `pattern` selects.
    pub fn parse(text: &str, pattern: &str) -> Result<RuleValue, String> {
        if let Ok(v) = text.trim().parse::<f64>() {
            return if v.is_finite() {
                Ok(RuleValue::Number(v))
            } else {
                Err(format!(
                    "{text}: the metric value must be a finite number or a field"
                ))
            };
        }
        let pattern = Pattern::parse(pattern).map_err(|e| e.to_string())?;
        MetricField::parse(text.trim(), &pattern).map(RuleValue::Field)
    }
}

impl std::fmt::Display for RuleValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RuleValue::Number(v) => write!(f, "{v}"),
            RuleValue::Field(field) => f.write_str(field.as_str()),
        }
    }
}

/// CIS v1.4–v3.0 remediation patterns (4.15 from v3.0+), §5.1.
/// 4.1 keeps the published `||`-with-`!=` bug on purpose: ctscan replays
/// what accounts actually deployed.
const CIS: &[(&str, &str, &str, &str)] = &[
    ("4.1", "Unauthorized API calls", "unauthorized_api_calls_metric",
     r#"{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") || ($.sourceIPAddress!="delivery.logs.amazonaws.com") || ($.eventName!="HeadBucket") }"#),
    ("4.2", "Console sign-in without MFA", "no_mfa_console_signin_metric",
     r#"{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }"#),
    ("4.3", "Root account usage", "root_usage_metric",
     r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }"#),
    ("4.4", "IAM policy changes", "iam_changes_metric",
     "{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)||($.eventName=DeleteUserPolicy)||($.eventName=PutGroupPolicy)||($.eventName=PutRolePolicy)||($.eventName=PutUserPolicy)||($.eventName=CreatePolicy)||($.eventName=DeletePolicy)||($.eventName=CreatePolicyVersion)||($.eventName=DeletePolicyVersion)||($.eventName=AttachRolePolicy)||($.eventName=DetachRolePolicy)||($.eventName=AttachUserPolicy)||($.eventName=DetachUserPolicy)||($.eventName=AttachGroupPolicy)||($.eventName=DetachGroupPolicy)}"),
    ("4.5", "CloudTrail configuration changes", "cloudtrail_cfg_changes_metric",
     "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging) }"),
    ("4.6", "Console authentication failures", "console_signin_failure_metric",
     r#"{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }"#),
    ("4.7", "Disabling or scheduled deletion of CMKs", "disable_or_delete_cmk_changes_metric",
     "{($.eventSource = kms.amazonaws.com) && (($.eventName=DisableKey)||($.eventName=ScheduleKeyDeletion)) }"),
    ("4.8", "S3 bucket policy changes", "s3_bucket_policy_changes_metric",
     "{ ($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketAcl) || ($.eventName = PutBucketPolicy) || ($.eventName = PutBucketCors) || ($.eventName = PutBucketLifecycle) || ($.eventName = PutBucketReplication) || ($.eventName = DeleteBucketPolicy) || ($.eventName = DeleteBucketCors) || ($.eventName = DeleteBucketLifecycle) || ($.eventName = DeleteBucketReplication)) }"),
    ("4.9", "AWS Config configuration changes", "aws_config_changes_metric",
     "{ ($.eventSource = config.amazonaws.com) && (($.eventName=StopConfigurationRecorder)||($.eventName=DeleteDeliveryChannel)||($.eventName=PutDeliveryChannel)||($.eventName=PutConfigurationRecorder)) }"),
    ("4.10", "Security group changes", "security_group_changes_metric",
     "{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress) || ($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) || ($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) }"),
    ("4.11", "NACL changes", "nacl_changes_metric",
     "{ ($.eventName = CreateNetworkAcl) || ($.eventName = CreateNetworkAclEntry) || ($.eventName = DeleteNetworkAcl) || ($.eventName = DeleteNetworkAclEntry) || ($.eventName = ReplaceNetworkAclEntry) || ($.eventName = ReplaceNetworkAclAssociation) }"),
    ("4.12", "Network gateway changes", "network_gw_changes_metric",
     "{ ($.eventName = CreateCustomerGateway) || ($.eventName = DeleteCustomerGateway) || ($.eventName = AttachInternetGateway) || ($.eventName = CreateInternetGateway) || ($.eventName = DeleteInternetGateway) || ($.eventName = DetachInternetGateway) }"),
    ("4.13", "Route table changes", "route_table_changes_metric",
     "{ ($.eventName = CreateRoute) || ($.eventName = CreateRouteTable) || ($.eventName = ReplaceRoute) || ($.eventName = ReplaceRouteTableAssociation) || ($.eventName = DeleteRouteTable) || ($.eventName = DeleteRoute) || ($.eventName = DisassociateRouteTable) }"),
    ("4.14", "VPC changes", "vpc_changes_metric",
     "{ ($.eventName = CreateVpc) || ($.eventName = DeleteVpc) || ($.eventName = ModifyVpcAttribute) || ($.eventName = AcceptVpcPeeringConnection) || ($.eventName = CreateVpcPeeringConnection) || ($.eventName = DeleteVpcPeeringConnection) || ($.eventName = RejectVpcPeeringConnection) || ($.eventName = AttachClassicLinkVpc) || ($.eventName = DetachClassicLinkVpc) || ($.eventName = DisableVpcClassicLink) || ($.eventName = EnableVpcClassicLink) }"),
    ("4.15", "AWS Organizations changes", "organizations_changes",
     r#"{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = "AcceptHandshake") || ($.eventName = "AttachPolicy") || ($.eventName = "CreateAccount") || ($.eventName = "CreateOrganizationalUnit") || ($.eventName = "CreatePolicy") || ($.eventName = "DeclineHandshake") || ($.eventName = "DeleteOrganization") || ($.eventName = "DeleteOrganizationalUnit") || ($.eventName = "DeletePolicy") || ($.eventName = "DetachPolicy") || ($.eventName = "DisablePolicyType") || ($.eventName = "EnablePolicyType") || ($.eventName = "InviteAccountToOrganization") || ($.eventName = "LeaveOrganization") || ($.eventName = "MoveAccount") || ($.eventName = "RemoveAccountFromOrganization") || ($.eventName = "UpdatePolicy") || ($.eventName = "UpdateOrganizationalUnit")) }"#),
];

/// The CIS 4.1–4.15 pack: metricValue 1, no default, Sum ≥ 1 / 300 s / 1 period.
pub fn cis_rules() -> Vec<Rule> {
    CIS.iter()
        .map(|(id, title, metric, pattern)| Rule {
            id: format!("cis-{id}"),
            title: (*title).to_string(),
            pattern: (*pattern).to_string(),
            metric_name: (*metric).to_string(),
            metric_value: RuleValue::Number(1.0),
            default_value: None,
            alarm: AlarmConfig::cis(&format!("cis-{id}"), metric),
        })
        .collect()
}

/// A rules file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    /// Not valid JSON or wrong shape.
    #[error("rules file: {0}")]
    Json(#[from] serde_json::Error),
    /// A pattern did not parse.
    #[error("rule {rule:?}: {source}")]
    Pattern {
        /// Rule name.
        rule: String,
        /// The parse error.
        source: PatternError,
    },
    /// Alarm settings are invalid.
    #[error("rule {rule:?}: {source}")]
    Alarm {
        /// Rule name.
        rule: String,
        /// The validation error.
        source: AlarmError,
    },
    /// metricValue is neither a number nor a field the pattern selects.
    #[error("rule {rule:?}: metric_value {message}")]
    MetricValue {
        /// Rule name.
        rule: String,
        /// What is wrong.
        message: String,
    },
    /// Two rules share a name.
    #[error("duplicate rule name {0:?}")]
    Duplicate(String),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum FileShape {
    Wrapped { rules: Vec<RawRule> },
    Bare(Vec<RawRule>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    name: String,
    #[serde(default)]
    title: Option<String>,
    pattern: String,
    #[serde(default = "one")]
    metric_value: RawValue,
    #[serde(default)]
    default_value: Option<f64>,
    #[serde(default)]
    alarm: RawAlarm,
}

/// metricValue in a rules file: `1` or `"$.latency"`.
#[derive(Deserialize)]
#[serde(untagged)]
enum RawValue {
    Number(f64),
    Text(String),
}

fn one() -> RawValue {
    RawValue::Number(1.0)
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawAlarm {
    statistic: Option<String>,
    period: Option<u32>,
    evaluation_periods: Option<u32>,
    datapoints_to_alarm: Option<u32>,
    threshold: Option<f64>,
    comparison: Option<String>,
    treat_missing_data: Option<String>,
    sns_topic_arn: Option<String>,
}

/// Parse a JSON user rules file; patterns and alarms are validated.
pub fn parse_rules_json(text: &str) -> Result<Vec<Rule>, RulesError> {
    let raw = match serde_json::from_str::<FileShape>(text)? {
        FileShape::Wrapped { rules } | FileShape::Bare(rules) => rules,
    };
    let mut out: Vec<Rule> = Vec::with_capacity(raw.len());
    for r in raw {
        if out.iter().any(|o| o.id == r.name) {
            return Err(RulesError::Duplicate(r.name));
        }
        Pattern::parse(&r.pattern).map_err(|source| RulesError::Pattern {
            rule: r.name.clone(),
            source,
        })?;
        let alarm = raw_alarm(&r).map_err(|source| RulesError::Alarm {
            rule: r.name.clone(),
            source,
        })?;
        let metric_value = match &r.metric_value {
            // JSON numbers are always finite.
            RawValue::Number(v) => Ok(RuleValue::Number(*v)),
            RawValue::Text(t) => RuleValue::parse(t, &r.pattern),
        }
        .map_err(|e| RulesError::MetricValue {
            rule: r.name.clone(),
            message: e,
        })?;
        out.push(Rule {
            title: r.title.clone().unwrap_or_else(|| r.name.clone()),
            metric_name: r.name.clone(),
            id: r.name,
            pattern: r.pattern,
            metric_value,
            default_value: r.default_value,
            alarm,
        });
    }
    Ok(out)
}

fn raw_alarm(r: &RawRule) -> Result<AlarmConfig, AlarmError> {
    let a = &r.alarm;
    let mut c = AlarmConfig::cis(&r.name, &r.name);
    if let Some(s) = &a.statistic {
        c.statistic = s.parse::<Statistic>()?;
    }
    if let Some(s) = &a.comparison {
        c.comparison = s.parse::<Comparison>()?;
    }
    if let Some(s) = &a.treat_missing_data {
        c.treat_missing_data = s.parse::<TreatMissing>()?;
    }
    c.period_secs = a.period.unwrap_or(c.period_secs);
    c.evaluation_periods = a.evaluation_periods.unwrap_or(c.evaluation_periods);
    c.datapoints_to_alarm = a.datapoints_to_alarm;
    c.threshold = a.threshold.unwrap_or(c.threshold);
    c.sns_topic_arn = a.sns_topic_arn.clone();
    c.validate()?;
    Ok(c)
}

/// Indices of matching rules, as a bitset: the first 64 inline, so a
/// record's matches cost no allocation in the common case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleMatches {
    low: u64,
    high: Vec<u64>,
}

impl RuleMatches {
    fn set(&mut self, i: usize) {
        if i < 64 {
            self.low |= 1 << i;
            return;
        }
        let w = i / 64 - 1;
        if self.high.len() <= w {
            self.high.resize(w + 1, 0);
        }
        self.high[w] |= 1 << (i % 64);
    }

    /// These matches and rule `i`.
    #[cfg(test)]
    pub fn with(mut self, i: usize) -> RuleMatches {
        self.set(i);
        self
    }

    /// Rules `0..n`.
    fn all(n: usize) -> RuleMatches {
        let mut m = RuleMatches::default();
        (0..n).for_each(|i| m.set(i));
        m
    }

    /// Whether rule `i` matched.
    pub fn contains(&self, i: usize) -> bool {
        let word = match i / 64 {
            0 => self.low,
            w => self.high.get(w - 1).copied().unwrap_or(0),
        };
        word & (1 << (i % 64)) != 0
    }

    /// Matching rule indices in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        std::iter::once(self.low)
            .chain(self.high.iter().copied())
            .enumerate()
            .flat_map(|(w, mut bits)| {
                std::iter::from_fn(move || {
                    let i = bits.trailing_zeros() as usize;
                    bits &= bits.checked_sub(1)?;
                    Some(w * 64 + i)
                })
            })
    }

    /// True when no rule matched.
    pub fn is_empty(&self) -> bool {
        self.low == 0 && self.high.iter().all(|w| *w == 0)
    }
}

/// What the rules make of one record.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub rules: RuleMatches,
    /// Its `eventTime`, when readable.
    pub time: Option<jiff::Timestamp>,
    /// Field values for matched rules whose metricValue is a field.
    pub values: Option<Box<[(u32, f64)]>>,
}

/// Every rule compiled to read the record's bytes (see [`FieldPlan`]).
#[derive(Debug, Clone)]
struct FastRules {
    plan: FieldPlan,
    patterns: Vec<FieldPattern>,
    /// Per rule, the slot of a field-valued metricValue.
    value_slots: Vec<Option<usize>>,
    time_slot: usize,
}

impl FastRules {
    /// `None` unless every rule and field value compiles.
    fn new(rules: &[Rule], patterns: &[Pattern]) -> Option<FastRules> {
        let mut plan = FieldPlan::default();
        let time_slot = plan.slot(&["eventTime"]);
        let patterns = patterns
            .iter()
            .map(|p| plan.compile(p))
            .collect::<Option<Vec<_>>>()?;
        let value_slots = rules
            .iter()
            .map(|r| match &r.metric_value {
                RuleValue::Number(_) => Some(None),
                RuleValue::Field(f) => plan.compile_metric_field(f).map(Some),
            })
            .collect::<Option<Vec<_>>>()?;
        Some(FastRules {
            plan,
            patterns,
            value_slots,
            time_slot,
        })
    }

    /// The verdict on `raw` for `candidates`, or `None` when the record must
    /// be read as a tree.
    fn judge(&self, raw: &[u8], tape: Option<&Tape>, candidates: &RuleMatches) -> Option<Verdict> {
        let values = match tape {
            Some(tape) => self.plan.values_on_tape(raw, tape)?,
            None => self.plan.values(raw)?,
        };
        let mut rules = RuleMatches::default();
        for i in candidates.iter() {
            if self.patterns[i].matches(&values) {
                rules.set(i);
            }
        }
        let time = values.str(self.time_slot).and_then(parse_event_time);
        let values = if self.value_slots.iter().all(Option::is_none) {
            None
        } else {
            let emitted: Vec<(u32, f64)> = rules
                .iter()
                .filter_map(|i| Some((i as u32, values.metric_value(self.value_slots[i]?)?)))
                .collect();
            (!emitted.is_empty()).then(|| emitted.into_boxed_slice())
        };
        Some(Verdict {
            rules,
            time,
            values,
        })
    }
}

/// Compiled rules evaluated together.
#[derive(Debug, Clone)]
pub struct RuleSet {
    rules: Vec<Rule>,
    patterns: Vec<Pattern>,
    /// Top-level keys every pattern can look at (plus `eventTime`), when
    /// all are JSON patterns without root wildcards.
    projection: Option<Vec<String>>,
    literals: LiteralIndex,
    fast: Option<FastRules>,
    /// Every record is evaluated anyway (some rule has no byte prefilter)
    /// and the rules are compiled, so the prefilter scan is skipped.
    skip_prefilter: bool,
}

/// Every rule's prefilter literals indexed by their first two bytes, so a
/// record is scanned once for all rules instead of once per literal.
#[derive(Debug, Clone)]
struct LiteralIndex {
    literals: Vec<Vec<u8>>,
    /// Literal ids by first two bytes (`b0 << 8 | b1`); empty when unused.
    by_prefix: Vec<Vec<usize>>,
    /// Bitmap over the same two-byte prefixes, small enough to stay in cache.
    pairs: Vec<u64>,
    /// Literals shorter than two bytes, checked on their own.
    short: Vec<usize>,
    /// Per rule: `None` = no prefilter; else CNF clauses of literal ids.
    clauses: Vec<Option<Vec<Vec<usize>>>>,
}

impl LiteralIndex {
    fn new(patterns: &[Pattern]) -> LiteralIndex {
        let mut literals: Vec<Vec<u8>> = Vec::new();
        let mut id = |l: &[u8]| match literals.iter().position(|x| x == l) {
            Some(i) => i,
            None => {
                literals.push(l.to_vec());
                literals.len() - 1
            }
        };
        let clauses = patterns
            .iter()
            .map(|p| {
                p.prefilter().clauses().map(|cnf| {
                    cnf.iter()
                        .map(|c| c.iter().map(|l| id(l)).collect())
                        .collect()
                })
            })
            .collect();
        let mut by_prefix = vec![Vec::new(); 1 << 16];
        let mut pairs = vec![0u64; (1 << 16) / 64];
        let mut short = Vec::new();
        for (i, l) in literals.iter().enumerate() {
            match l.as_slice() {
                [a, b, ..] => {
                    let key = usize::from(*a) << 8 | usize::from(*b);
                    by_prefix[key].push(i);
                    pairs[key / 64] |= 1 << (key % 64);
                }
                _ => short.push(i),
            }
        }
        LiteralIndex {
            literals,
            by_prefix,
            pairs,
            short,
            clauses,
        }
    }

    /// Marks every literal occurring in `raw`.
    fn present(&self, raw: &[u8]) -> Vec<bool> {
        let mut present = vec![false; self.literals.len()];
        for &i in &self.short {
            present[i] = self.literals[i]
                .first()
                .is_none_or(|b| memchr::memchr(*b, raw).is_some());
        }
        for (pos, w) in raw.windows(2).enumerate() {
            let key = usize::from(w[0]) << 8 | usize::from(w[1]);
            if self.pairs[key / 64] & (1 << (key % 64)) == 0 {
                continue;
            }
            for &i in &self.by_prefix[key] {
                if !present[i] && raw[pos..].starts_with(&self.literals[i]) {
                    present[i] = true;
                }
            }
        }
        present
    }

    /// Rules whose prefilter passes `raw` (same contract as [`crate::pattern::Prefilter::may_match`]).
    fn candidates(&self, raw: &[u8]) -> RuleMatches {
        let mut out = RuleMatches::default();
        let all = memchr::memchr(b'\\', raw).is_some();
        let present = if all || self.literals.is_empty() {
            Vec::new()
        } else {
            self.present(raw)
        };
        for (i, c) in self.clauses.iter().enumerate() {
            let pass = match c {
                None => true,
                Some(_) if all => true,
                Some(cnf) => cnf.iter().all(|cl| cl.iter().any(|&l| present[l])),
            };
            if pass {
                out.set(i);
            }
        }
        out
    }
}

impl RuleSet {
    /// Compile every pattern once.
    pub fn new(rules: Vec<Rule>) -> Result<RuleSet, RulesError> {
        let patterns = rules
            .iter()
            .map(|r| {
                Pattern::parse(&r.pattern).map_err(|source| RulesError::Pattern {
                    rule: r.id.clone(),
                    source,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let projection = patterns
            .iter()
            .map(Pattern::root_keys)
            .collect::<Option<Vec<_>>>()
            .map(|keys| {
                let mut all: Vec<String> = keys.into_iter().flatten().collect();
                all.push("eventTime".into());
                all.sort();
                all.dedup();
                all
            });
        let literals = LiteralIndex::new(&patterns);
        let fast = FastRules::new(&rules, &patterns);
        let skip_prefilter = fast.is_some() && literals.clauses.iter().any(Option::is_none);
        Ok(RuleSet {
            rules,
            patterns,
            projection,
            literals,
            fast,
            skip_prefilter,
        })
    }

    /// The rules, indexed like [`RuleMatches`].
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Rules matching one raw record (JSON text of one `Records` element).
    /// Rules whose prefilter rejects the bytes are skipped; the record is
    /// parsed at most once, and re-serialized at most once for term rules.
    pub fn matching_rules(&self, raw: &[u8]) -> RuleMatches {
        let candidates = self.candidates(raw);
        if candidates.is_empty() {
            return candidates;
        }
        self.matching_candidates(&self.event(raw), &candidates)
    }

    /// The event the rules see for one raw record: when every rule is a
    /// JSON pattern on known top-level keys, parsed keeping only those keys
    /// (and `eventTime`), which skips allocating the rest of the record.
    pub fn event<'a>(&self, raw: &'a [u8]) -> EventCache<'a> {
        if let Some(keys) = &self.projection {
            if let Some(v) = project_structural(raw, keys) {
                return EventCache::from_projection(raw, v);
            }
            let mut de = serde_json::Deserializer::from_slice(raw);
            if let Ok(v) = serde::Deserializer::deserialize_map(&mut de, Projection(keys)) {
                if de.end().is_ok() {
                    return EventCache::from_projection(raw, v);
                }
            }
        }
        EventCache::from_raw(raw)
    }

    /// What the rules make of one raw record. When some rule has no byte
    /// prefilter every record is evaluated anyway, so with compiled rules the
    /// prefilter scan is skipped; otherwise it picks the candidates. The
    /// time of a record no rule can match is read only if `time_always`.
    /// `tape`, when given, is the record's tape (to [`RuleSet::tape_depth`]),
    /// made by the scan; `raw` is then exactly the record.
    pub fn judge(&self, raw: &[u8], tape: Option<&Tape>, time_always: bool) -> Verdict {
        let candidates = if self.skip_prefilter {
            RuleMatches::all(self.rules.len())
        } else {
            self.candidates(raw)
        };
        if candidates.is_empty() && !time_always {
            return Verdict {
                rules: candidates,
                time: None,
                values: None,
            };
        }
        if let Some(v) = self
            .fast
            .as_ref()
            .and_then(|f| f.judge(raw, tape, &candidates))
        {
            return v;
        }
        self.judge_tree(raw, &candidates)
    }

    /// How deep a record's [`Tape`] should reach when the scan can make one
    /// for [`RuleSet::judge`]: only when every record is judged and the
    /// rules are compiled (otherwise most records never need one).
    pub fn tape_depth(&self) -> Option<usize> {
        self.fast
            .as_ref()
            .filter(|_| self.skip_prefilter)
            .map(|f| f.plan.depth())
    }

    /// [`RuleSet::judge`] through the parsed JSON tree: the reference the
    /// compiled rules are tested against.
    pub fn judge_tree(&self, raw: &[u8], candidates: &RuleMatches) -> Verdict {
        let ev = self.event(raw);
        let rules = self.matching_candidates(&ev, candidates);
        let time = match ev.json() {
            Some(v) => v
                .get("eventTime")
                .and_then(serde_json::Value::as_str)
                .and_then(parse_event_time),
            None => raw_event_time(raw),
        };
        let values = self.field_values(&ev, &rules);
        Verdict {
            rules,
            time,
            values,
        }
    }

    /// Whether every rule reads the record's bytes directly (no JSON tree).
    pub fn is_compiled(&self) -> bool {
        self.fast.is_some()
    }

    /// The rules whose byte prefilter lets this raw record through, found
    /// in one scan of the record for all rules.
    pub fn candidates(&self, raw: &[u8]) -> RuleMatches {
        self.literals.candidates(raw)
    }

    /// The rules among `candidates` that match the event.
    pub fn matching_candidates(&self, ev: &EventCache, candidates: &RuleMatches) -> RuleMatches {
        let mut out = RuleMatches::default();
        for i in candidates.iter() {
            if self.patterns[i].matches_cached(ev) {
                out.set(i);
            }
        }
        out
    }

    /// The field values that matched rules with a field-valued metricValue
    /// emit for this event (`None` when there are none).
    pub fn field_values(
        &self,
        ev: &EventCache,
        matched: &RuleMatches,
    ) -> Option<Box<[(u32, f64)]>> {
        let values: Vec<(u32, f64)> = matched
            .iter()
            .filter_map(|i| match &self.rules[i].metric_value {
                RuleValue::Field(f) => Some((i as u32, f.value(&self.patterns[i], ev)?)),
                RuleValue::Number(_) => None,
            })
            .collect();
        (!values.is_empty()).then(|| values.into_boxed_slice())
    }

    /// Rules matching a CloudWatch message (already compact JSON or text).
    pub fn matching_rules_event(&self, ev: &LogEvent) -> RuleMatches {
        let bytes = ev.message.as_bytes();
        self.eval(&EventCache::new(*ev), |p| p.prefilter().may_match(bytes))
    }

    fn eval(&self, ev: &EventCache, candidate: impl Fn(&Pattern) -> bool) -> RuleMatches {
        let mut out = RuleMatches::default();
        for (i, p) in self.patterns.iter().enumerate() {
            if candidate(p) && p.matches_cached(ev) {
                out.set(i);
            }
        }
        out
    }
}

/// Deserializes a JSON object keeping only the listed keys.
/// The wanted top-level members of a record, found by the structural
/// scanner: unwanted members are skipped, never parsed, and keys are
/// compared decoded. `None` when a key cannot be decoded or a wanted member
/// is malformed, and the caller falls back to serde's [`Projection`]. Skipped members are checked for balanced brackets
/// and strings only, as the record splitter already did, not parsed.
fn project_structural(raw: &[u8], keys: &[String]) -> Option<serde_json::Value> {
    let open = raw.iter().position(|b| !b.is_ascii_whitespace())?;
    if raw[open] != b'{' {
        return None;
    }
    let mut out = serde_json::Map::new();
    let mut undecided = false;
    let end = crate::format::scan_object_keys(raw, open, |key, at| {
        if key.contains(&b'\\') {
            undecided = true;
        } else if let Some(k) = keys.iter().find(|k| k.as_bytes() == key) {
            let stop = crate::format::skip_value(raw, at)?;
            match serde_json::from_slice(&raw[at..stop]) {
                Ok(v) => {
                    out.insert(k.clone(), v);
                }
                Err(_) => undecided = true,
            }
        }
        Ok(None)
    })
    .ok()?;
    if undecided || raw[end..].iter().any(|b| !b.is_ascii_whitespace()) {
        return None;
    }
    Some(serde_json::Value::Object(out))
}

struct Projection<'k>(&'k [String]);

impl<'de> serde::de::Visitor<'de> for Projection<'_> {
    type Value = serde_json::Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(key) = map.next_key_seed(KeySeed(self.0))? {
            match key {
                Some(k) => {
                    let v = map.next_value::<serde_json::Value>()?;
                    out.insert(k, v);
                }
                None => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok(serde_json::Value::Object(out))
    }
}

/// A map key: `Some(key)` when it is one of the wanted keys.
struct KeySeed<'k>(&'k [String]);

impl<'de> serde::de::DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Option<String>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> serde::de::Visitor<'de> for KeySeed<'_> {
    type Value = Option<String>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E: serde::de::Error>(self, k: &str) -> Result<Self::Value, E> {
        Ok(self.0.iter().any(|w| w == k).then(|| k.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn serde_projection(raw: &[u8], keys: &[String]) -> Option<serde_json::Value> {
        let mut de = serde_json::Deserializer::from_slice(raw);
        let v = serde::Deserializer::deserialize_map(&mut de, Projection(keys)).ok()?;
        de.end().ok()?;
        Some(v)
    }

    #[test]
    fn structural_projection_equals_serde_projection() {
        let set = RuleSet::new(cis_rules()).unwrap();
        let keys = set.projection.clone().unwrap();
        let text = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/traps/records.json"),
        )
        .unwrap();
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        let mut records: Vec<String> = doc["Records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| serde_json::to_string_pretty(r).unwrap())
            .collect();
        records.push(
            r#" {"eventName" : "A", "userIdentity":{"type":"Root"}, "x":[1,{"y":"}"}]} "#.into(),
        );
        records.push(r#"{"eventName":"A","eventName":"B"}"#.into());
        records.push(r#"{"event\u004eame":"ConsoleLogin"}"#.into());
        assert!(records.len() > 10);
        for r in &records {
            let fast = project_structural(r.as_bytes(), &keys);
            assert!(fast.is_some(), "{r}");
            assert_eq!(fast, serde_projection(r.as_bytes(), &keys), "{r}");
        }
        // Malformed wanted members are left to serde.
        for r in [
            r#"{"eventName":tru}"#,
            r#"{"eventName":"A"} x"#,
            r#"["eventName"]"#,
        ] {
            assert_eq!(project_structural(r.as_bytes(), &keys), None, "{r}");
        }
    }

    /// (rule id, a record it must match, a record of another kind it must not).
    const CASES: &[(&str, &str, &str)] = &[
        (
            "cis-4.1",
            r#"{"errorCode":"AccessDenied","eventName":"HeadBucket","sourceIPAddress":"delivery.logs.amazonaws.com"}"#,
            r#"{"eventName":"HeadBucket","sourceIPAddress":"delivery.logs.amazonaws.com"}"#,
        ),
        (
            "cis-4.2",
            r#"{"eventName":"ConsoleLogin","additionalEventData":{"MFAUsed":"No"}}"#,
            r#"{"eventName":"ConsoleLogin","additionalEventData":{"MFAUsed":"Yes"}}"#,
        ),
        (
            "cis-4.3",
            r#"{"userIdentity":{"type":"Root"},"eventType":"AwsApiCall"}"#,
            r#"{"userIdentity":{"type":"Root","invokedBy":"support.amazonaws.com"},"eventType":"AwsApiCall"}"#,
        ),
        (
            "cis-4.4",
            r#"{"eventName":"PutRolePolicy"}"#,
            r#"{"eventName":"GetRolePolicy"}"#,
        ),
        (
            "cis-4.5",
            r#"{"eventName":"StopLogging"}"#,
            r#"{"eventName":"LookupEvents"}"#,
        ),
        (
            "cis-4.6",
            r#"{"eventName":"ConsoleLogin","errorMessage":"Failed authentication"}"#,
            r#"{"eventName":"ConsoleLogin"}"#,
        ),
        (
            "cis-4.7",
            r#"{"eventSource":"kms.amazonaws.com","eventName":"ScheduleKeyDeletion"}"#,
            r#"{"eventSource":"kms.amazonaws.com","eventName":"Decrypt"}"#,
        ),
        (
            "cis-4.8",
            r#"{"eventSource":"s3.amazonaws.com","eventName":"PutBucketPolicy"}"#,
            r#"{"eventSource":"s3.amazonaws.com","eventName":"GetBucketPolicy"}"#,
        ),
        (
            "cis-4.9",
            r#"{"eventSource":"config.amazonaws.com","eventName":"StopConfigurationRecorder"}"#,
            r#"{"eventSource":"config.amazonaws.com","eventName":"DescribeConfigurationRecorders"}"#,
        ),
        (
            "cis-4.10",
            r#"{"eventName":"AuthorizeSecurityGroupIngress"}"#,
            r#"{"eventName":"DescribeSecurityGroups"}"#,
        ),
        (
            "cis-4.11",
            r#"{"eventName":"CreateNetworkAclEntry"}"#,
            r#"{"eventName":"DescribeNetworkAcls"}"#,
        ),
        (
            "cis-4.12",
            r#"{"eventName":"AttachInternetGateway"}"#,
            r#"{"eventName":"DescribeInternetGateways"}"#,
        ),
        (
            "cis-4.13",
            r#"{"eventName":"CreateRoute"}"#,
            r#"{"eventName":"DescribeRouteTables"}"#,
        ),
        (
            "cis-4.14",
            r#"{"eventName":"CreateVpc"}"#,
            r#"{"eventName":"DescribeVpcs"}"#,
        ),
        (
            "cis-4.15",
            r#"{"eventSource":"organizations.amazonaws.com","eventName":"CreateAccount"}"#,
            r#"{"eventSource":"organizations.amazonaws.com","eventName":"ListAccounts"}"#,
        ),
    ];

    fn matches(p: &str, msg: &str) -> bool {
        Pattern::parse(p)
            .expect("CIS pattern parses")
            .matches(&LogEvent { message: msg })
    }

    #[test]
    fn cis_pack_has_15_rules_with_cis_alarm_shape() {
        let rules = cis_rules();
        assert_eq!(rules.len(), 15);
        for r in &rules {
            assert_eq!(
                (&r.metric_value, r.default_value),
                (&RuleValue::Number(1.0), None)
            );
            assert_eq!(r.alarm.statistic, Statistic::Sum);
            assert_eq!(
                (
                    r.alarm.period_secs,
                    r.alarm.evaluation_periods,
                    r.alarm.threshold
                ),
                (300, 1, 1.0)
            );
            assert_eq!(r.alarm.validate(), Ok(()));
        }
    }

    #[test]
    fn each_cis_pattern_matches_its_record_and_not_another_kind() {
        let rules = cis_rules();
        assert_eq!(CASES.len(), rules.len());
        for (r, (id, yes, no)) in rules.iter().zip(CASES) {
            assert_eq!(&r.id, id);
            assert!(matches(&r.pattern, yes), "{id} should match {yes}");
            assert!(!matches(&r.pattern, no), "{id} should not match {no}");
        }
    }

    #[test]
    fn section_5_cloudtrail_vectors() {
        let p = |id: &str| {
            cis_rules()
                .into_iter()
                .find(|r| r.id == id)
                .expect("rule")
                .pattern
        };
        assert!(matches(
            &p("cis-4.1"),
            r#"{"eventName":"DescribeInstances","sourceIPAddress":"1.2.3.4"}"#
        ));
        assert!(!matches(
            &p("cis-4.3"),
            r#"{"userIdentity":{"type":"Root"},"eventType":"AwsServiceEvent"}"#
        ));
        let v5 = "{ ($.errorCode =*UnauthorizedOperation) || ($.errorCode =AccessDenied*) && ($.sourceIPAddress!=delivery.logs.amazonaws.com) && ($.eventName!=HeadBucket) }";
        assert!(!matches(
            v5,
            r#"{"errorCode":"AccessDenied","eventName":"HeadBucket","sourceIPAddress":"1.2.3.4"}"#
        ));
        assert!(matches(
            v5,
            r#"{"errorCode":"Client.UnauthorizedOperation","eventName":"HeadBucket"}"#
        ));
        let audit = "{($.eventSource = ec2.amazonaws.com) && ($.eventName = CreateRoute) || ($.eventName = CreateRouteTable)}";
        assert!(matches(
            audit,
            r#"{"eventSource":"other","eventName":"CreateRouteTable"}"#
        ));
        let sm1 = r#"{ $.eventName = "GetSecretValue" && $.errorMessage = "*secret because it was marked for deletion*" }"#;
        assert!(matches(
            sm1,
            r#"{"eventName":"GetSecretValue","errorMessage":"You can't perform this operation on the secret because it was marked for deletion."}"#
        ));
    }

    #[test]
    fn rule_set_agrees_with_individual_patterns_and_prefilters() {
        let set = RuleSet::new(cis_rules()).expect("compiles");
        for (i, (_, yes, no)) in CASES.iter().enumerate() {
            let got: Vec<usize> = set.matching_rules(yes.as_bytes()).iter().collect();
            assert!(got.contains(&i), "rule {i} on {yes}: {got:?}");
            for raw in [*yes, *no] {
                let want: Vec<usize> = set
                    .patterns
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| p.matches(&LogEvent { message: raw }))
                    .map(|(j, _)| j)
                    .collect();
                assert_eq!(
                    set.matching_rules(raw.as_bytes())
                        .iter()
                        .collect::<Vec<_>>(),
                    want
                );
                assert_eq!(
                    set.matching_rules_event(&LogEvent { message: raw })
                        .iter()
                        .collect::<Vec<_>>(),
                    want
                );
            }
        }
        // Only 4.1 (bug) fires on an unrelated read; the prefilter rejects all others.
        let read = br#"{"eventName": "GetObject", "eventSource": "s3.amazonaws.com"}"#;
        assert_eq!(set.matching_rules(read).iter().collect::<Vec<_>>(), vec![0]);
        let skipped = set
            .patterns
            .iter()
            .filter(|p| !p.prefilter().may_match(read))
            .count();
        assert_eq!(skipped, 14); // all but the unconstrained 4.1
    }

    #[test]
    fn user_rules_json() {
        let text = r#"{"rules":[{"name":"secret-reads","pattern":"{ $.eventName = GetSecretValue }","metric_value":1,"default_value":0,
            "alarm":{"statistic":"Average","period":60,"evaluation_periods":3,"datapoints_to_alarm":2,"threshold":0.5,
                     "comparison":"GreaterThanThreshold","treat_missing_data":"notBreaching"}}]}"#;
        let rules = parse_rules_json(text).expect("valid");
        assert_eq!(rules.len(), 1);
        let r = &rules[0];
        assert_eq!(
            (r.id.as_str(), &r.metric_value, r.default_value),
            ("secret-reads", &RuleValue::Number(1.0), Some(0.0))
        );
        assert_eq!(r.alarm.statistic, Statistic::Average);
        assert_eq!(
            (r.alarm.period_secs, r.alarm.evaluation_periods, r.alarm.m()),
            (60, 3, 2)
        );
        assert_eq!(r.alarm.comparison, Comparison::GreaterThanThreshold);
        assert_eq!(r.alarm.treat_missing_data, TreatMissing::NotBreaching);
        let bare = parse_rules_json(r#"[{"name":"a","pattern":"ERROR"}]"#).expect("valid");
        assert_eq!(bare[0].alarm.statistic, Statistic::Sum);
        assert!(matches!(
            parse_rules_json(r#"[{"name":"a","pattern":"{ $.x }"}]"#),
            Err(RulesError::Pattern { .. })
        ));
        assert!(matches!(
            parse_rules_json(r#"[{"name":"a","pattern":"x","alarm":{"period":7}}]"#),
            Err(RulesError::Alarm { .. })
        ));
        assert!(matches!(
            parse_rules_json(r#"[{"name":"a","pattern":"x"},{"name":"a","pattern":"y"}]"#),
            Err(RulesError::Duplicate(_))
        ));
        assert!(matches!(
            parse_rules_json(r#"[{"name":"a","pattern":"x","bogus":1}]"#),
            Err(RulesError::Json(_))
        ));
    }

    #[test]
    fn rules_file_metric_value_may_be_a_field_the_pattern_selects() {
        let rules = parse_rules_json(
            r#"[{"name":"big","pattern":"{ $.bytes > 0 }","metric_value":"$.bytes"}]"#,
        )
        .unwrap();
        assert_eq!(rules[0].metric_value.to_string(), "$.bytes");
        assert_eq!(rules[0].transform().metric_value, MetricValue::Field);
        let set = RuleSet::new(rules).unwrap();
        let raw = br#"{"bytes": 12.5, "other": [1, 2]}"#;
        let matched = set.matching_rules(raw);
        assert_eq!(
            set.field_values(&set.event(raw), &matched).as_deref(),
            Some(&[(0, 12.5)][..])
        );
        assert!(matches!(
            parse_rules_json(r#"[{"name":"a","pattern":"{ $.x = 1 }","metric_value":"$.y"}]"#),
            Err(RulesError::MetricValue { .. })
        ));
    }

    #[test]
    fn one_scan_candidates_equal_per_rule_prefilters() {
        let set = RuleSet::new(cis_rules()).unwrap();
        for (_, yes, no) in CASES {
            for raw in [yes, no, &"{\"eventName\":\"Create\\u0050olicy\"}"] {
                let want: Vec<usize> = (0..set.rules().len())
                    .filter(|&i| set.patterns[i].prefilter().may_match(raw.as_bytes()))
                    .collect();
                let got: Vec<usize> = set.candidates(raw.as_bytes()).iter().collect();
                assert_eq!(got, want, "{raw}");
            }
        }
    }

    /// The CIS pack plus rules on numbers, booleans, nulls and a field
    /// metricValue: every rule compiles to read raw bytes.
    fn compiled_rule_pack() -> RuleSet {
        let extra = parse_rules_json(
            r#"[{"name":"bytes","pattern":"{ $.bytes >= 10 && $.readOnly IS FALSE }","metric_value":"$.bytes"},
                {"name":"nulls","pattern":"{ $.errorCode IS NULL || $.userIdentity.type NOT EXISTS }"},
                {"name":"texts","pattern":"{ $.bytes = 12 || $.eventName = \"*Key\" || $.readOnly != true }"}]"#,
        )
        .expect("valid");
        let set = RuleSet::new(cis_rules().into_iter().chain(extra).collect()).expect("compiles");
        assert!(set.is_compiled());
        set
    }

    /// The verdict on `raw` as a scan meets it: split from a log file that
    /// holds only it, with the tape the split made.
    fn judge_as_split(set: &RuleSet, raw: &str, time_always: bool) -> Verdict {
        let file = format!("{{\"Records\":[{raw}]}}");
        let mut tape = crate::structural::Tape::new(set.tape_depth().unwrap());
        let mut verdicts = Vec::new();
        crate::format::split_records_indexed(file.as_bytes(), Some(&mut tape), |rec, tape| {
            let crate::format::RecordText::Range(a, b) = rec else {
                unreachable!("a Records array holds ranges")
            };
            verdicts.push(set.judge(&file.as_bytes()[a..b], tape, time_always));
        })
        .unwrap_or_else(|e| panic!("{raw}: {e}"));
        assert_eq!(verdicts.len(), 1, "{raw}");
        verdicts.remove(0)
    }

    fn member() -> impl Strategy<Value = String> {
        let scalar = prop_oneof![
            Just("\"ConsoleLogin\"".to_string()),
            Just("\"Console\\u004cogin\"".to_string()),
            Just("\"DisableKey\"".to_string()),
            Just("\"kms.amazonaws.com\"".to_string()),
            Just("\"Root\"".to_string()),
            Just("\"Yes\"".to_string()),
            Just("\"AccessDenied\"".to_string()),
            Just("\"Failed authentication\"".to_string()),
            Just("\"delivery.logs.amazonaws.com\"".to_string()),
            Just("\"HeadBucket\"".to_string()),
            Just("\"AwsServiceEvent\"".to_string()),
            Just("\"2026-01-02T03:04:05Z\"".to_string()),
            Just("\" 12 \"".to_string()),
            Just("null".to_string()),
            Just("true".to_string()),
            Just("false".to_string()),
            Just("12".to_string()),
            Just("1.5e1".to_string()),
            Just("[\"Root\"]".to_string()),
        ];
        let key = prop_oneof![
            Just("eventName"),
            Just("eventSource"),
            Just("errorCode"),
            Just("errorMessage"),
            Just("sourceIPAddress"),
            Just("eventType"),
            Just("eventTime"),
            Just("bytes"),
            Just("readOnly"),
            Just("type"),
            Just("invokedBy"),
            Just("MFAUsed"),
            Just("requestParameters"),
        ];
        let nested_key = prop_oneof![Just("userIdentity"), Just("additionalEventData")];
        let pair = (key.clone(), scalar.clone()).prop_map(|(k, v)| format!("\"{k}\":{v}"));
        let inner = proptest::collection::vec(pair.clone(), 0..4)
            .prop_map(|m| format!("{{{}}}", m.join(",")));
        prop_oneof![
            3 => pair,
            1 => (nested_key, inner).prop_map(|(k, v)| format!("\"{k}\":{v}")),
        ]
    }

    proptest::proptest! {
        #[test]
        fn compiled_rules_judge_every_record_like_the_json_tree(
            members in proptest::collection::vec(member(), 0..12),
            spaced in any::<bool>(),
        ) {
            let set = compiled_rule_pack();
            let raw = if spaced {
                format!("{{ {} }}\n", members.join(" ,\n\t").replace("\":", "\" : "))
            } else {
                format!("{{{}}}", members.join(","))
            };
            let all = RuleMatches::all(set.rules().len());
            let want = set.judge_tree(raw.as_bytes(), &all);
            proptest::prop_assert_eq!(&set.judge(raw.as_bytes(), None, true), &want, "{}", raw);
            // The same record as the scan hands it over: split from a file,
            // with the tape the split made.
            proptest::prop_assert_eq!(judge_as_split(&set, &raw, true), want, "{}", raw);
        }
    }

    #[test]
    fn compiled_rules_read_a_repeated_key_as_its_last_value() {
        let set = compiled_rule_pack();
        let root = set.rules().iter().position(|r| r.id == "cis-4.3").unwrap();
        let judge = |members: &str| {
            let raw = format!(r#"{{"eventType":"AwsApiCall",{members}}}"#);
            set.judge(raw.as_bytes(), None, false).rules.contains(root)
        };
        assert!(judge(
            r#""userIdentity":{"type":"IAMUser"},"userIdentity":{"type":"Root"}"#
        ));
        assert!(!judge(
            r#""userIdentity":{"type":"Root"},"userIdentity":{"type":"IAMUser"}"#
        ));
        assert!(!judge(
            r#""userIdentity":{"type":"Root"},"userIdentity":"Root""#
        ));
        assert!(!judge(
            r#""userIdentity":{"type":"Root","type":"AWSService"}"#
        ));
    }

    /// Records the tape cannot read exactly (an escaped key, a bad value,
    /// a broken member) are judged by the JSON tree, whether the tape came
    /// from the split or was made for the record alone.
    #[test]
    fn records_the_tape_cannot_read_are_judged_like_the_json_tree() {
        let set = compiled_rule_pack();
        let trail = set.rules().iter().position(|r| r.id == "cis-4.5").unwrap();
        let all = RuleMatches::all(set.rules().len());
        let cases = [
            // The key spells eventName with an escape: the tree reads it.
            (r#"{"event\u004eame":"StopLogging"}"#, true),
            // The same, but a later plain key wins.
            (
                r#"{"event\u004eame":"StopLogging","eventName":"GetObject"}"#,
                false,
            ),
            // An escaped value decodes to the name.
            (r#"{"eventName":"Stop\u004cogging"}"#, true),
            // Not JSON: a member without a colon, a value with two strings.
            (r#"{"eventName" "StopLogging"}"#, false),
            (r#"{"eventName":"StopLogging" "x"}"#, false),
            // Whitespace everywhere is still JSON.
            ("{ \"eventName\" :\n\t\"StopLogging\" }", true),
        ];
        for (raw, want) in cases {
            let tree = set.judge_tree(raw.as_bytes(), &all);
            assert_eq!(tree.rules.contains(trail), want, "{raw}");
            assert_eq!(
                set.judge(raw.as_bytes(), None, false).rules,
                tree.rules,
                "{raw}"
            );
            assert_eq!(judge_as_split(&set, raw, false).rules, tree.rules, "{raw}");
        }
    }
}
