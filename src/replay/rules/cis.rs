//! The CIS AWS Foundations Benchmark's metric filters 4.1–4.15, as data.
//! Adding a pack means adding a file like this one beside it.

use super::{Rule, RuleValue};
use crate::replay::alarm::AlarmConfig;

/// CIS v1.4–v3.0 remediation patterns (4.15 from v3.0+), §5.1.
/// 4.1 keeps the published `||`-with-`!=` bug on purpose: ctscan replays
/// what accounts actually deployed. `4.1-intended` is not a CIS control: it
/// is 4.1 as meant, denied calls only, so the table shows both.
const CIS: &[(&str, &str, &str, &str)] = &[
    ("4.1", "Unauthorized API calls", "unauthorized_api_calls_metric",
     r#"{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") || ($.sourceIPAddress!="delivery.logs.amazonaws.com") || ($.eventName!="HeadBucket") }"#),
    ("4.1-intended", "Unauthorized API calls as intended (&& before the != exclusions)", "unauthorized_api_calls_intended_metric",
     r#"{ (($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*")) && ($.sourceIPAddress!="delivery.logs.amazonaws.com") && ($.eventName!="HeadBucket") }"#),
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

/// Said beside 4.1's count: a user reading "37 matches" of "Unauthorized
/// API calls" cannot otherwise know that most were not denied.
const CIS_4_1_NOTE: &str = "the published CIS pattern, replayed as deployed: its || before the != \
     exclusions matches nearly every event, not only denied calls; cis-4.1-intended counts those";

/// The CIS 4.1–4.15 pack, and 4.1 as intended: metricValue 1, no default,
/// Sum ≥ 1 / 300 s / 1 period.
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
            note: (*id == "4.1").then(|| CIS_4_1_NOTE.to_string()),
        })
        .collect()
}
