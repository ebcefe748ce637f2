//! AWS App Runner over AWS JSON 1.0 (`X-Amz-Target: AppRunner.<Op>`, signed for
//! service `apprunner`): ListServices and DescribeService.
//!
//! ListServices pages hold `MaxResults` (1..=20) summaries, 20 by default. A described
//! service carries every member the API model marks required (`SourceConfiguration`,
//! `InstanceConfiguration`, `AutoScalingConfigurationSummary`, `NetworkConfiguration`,
//! the timestamps as epoch seconds), so the SDK's deserialiser takes it as it is.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::aws::{AwsError, Caller, PageRule, epoch, input, page};
use crate::ids::hex_id;
use crate::world::{AppRunnerService, World, apprunner_service_arn};

const PAGE: PageRule = PageRule { default: 20, max: 20 };

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListInput {
    max_results: Option<i64>,
    next_token: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeInput {
    service_arn: Option<String>,
}

/// Answers one App Runner operation.
pub(crate) fn handle(world: &World, caller: &Caller, op: &str, body: &Value) -> Result<Value, AwsError> {
    match op {
        "ListServices" => list_services(world, caller, input(body)?),
        "DescribeService" => describe_service(world, caller, input(body)?),
        _ => Err(AwsError::new("UnknownOperationException", format!("unknown operation AppRunner.{op}"))),
    }
}

fn invalid(message: impl Into<String>) -> AwsError {
    AwsError::new("InvalidRequestException", message)
}

fn services<'w>(world: &'w World, caller: &Caller) -> &'w [AppRunnerService] {
    &crate::aws::region(world, caller).apprunner_services
}

fn list_services(world: &World, caller: &Caller, req: ListInput) -> Result<Value, AwsError> {
    let all = services(world, caller);
    let p =
        page(all.len(), req.next_token.as_deref(), req.max_results, PAGE).map_err(|e| invalid(e.message))?;
    let items: Vec<Value> = all[p.start..p.end].iter().map(|s| summary(caller, s)).collect();
    let mut out = json!({ "ServiceSummaryList": items });
    if let Some(token) = p.next_token {
        out["NextToken"] = json!(token);
    }
    Ok(out)
}

fn describe_service(world: &World, caller: &Caller, req: DescribeInput) -> Result<Value, AwsError> {
    let arn = req.service_arn.ok_or_else(|| invalid("ServiceArn is required"))?;
    let not_found = || {
        AwsError::new(
            "ResourceNotFoundException",
            format!("Resource with ARN {arn} doesn't exist for the specified account and region"),
        )
    };
    let prefix = format!("arn:aws:apprunner:{}:{}:service/", caller.region, caller.account);
    let Some(tail) = arn.strip_prefix(&prefix) else {
        return if arn.starts_with("arn:aws:apprunner:") {
            Err(not_found())
        } else {
            Err(invalid(format!("Invalid ARN: {arn}")))
        };
    };
    let (name, id) = tail.split_once('/').ok_or_else(|| invalid(format!("Invalid service ARN: {arn}")))?;
    let s = services(world, caller).iter().find(|s| s.name == name && s.id == id).ok_or_else(not_found)?;
    Ok(json!({ "Service": service_json(caller, s) }))
}

fn service_url(caller: &Caller, s: &AppRunnerService) -> String {
    format!("{}.{}.awsapprunner.com", hex_id(&format!("apprunner-url:{}", s.id), 10), caller.region)
}

fn summary(caller: &Caller, s: &AppRunnerService) -> Value {
    json!({
        "ServiceName": s.name,
        "ServiceId": s.id,
        "ServiceArn": apprunner_service_arn(&caller.region, &caller.account, &s.name, &s.id),
        "ServiceUrl": service_url(caller, s),
        "CreatedAt": epoch(&s.created_at),
        "UpdatedAt": epoch(&s.updated_at),
        "Status": s.status,
    })
}

fn service_json(caller: &Caller, s: &AppRunnerService) -> Value {
    let (region, account) = (&caller.region, &caller.account);
    let mut source = json!({
        "ImageRepository": {
            "ImageIdentifier": s.image_identifier,
            "ImageConfiguration": { "Port": "8080" },
            "ImageRepositoryType": s.image_repository_type,
        },
        "AutoDeploymentsEnabled": false,
    });
    if s.image_repository_type == "ECR" {
        source["AuthenticationConfiguration"] = json!({ "AccessRoleArn": format!("arn:aws:iam::{account}:role/service-role/AppRunnerECRAccessRole") });
    }
    let mut out = summary(caller, s);
    out["SourceConfiguration"] = source;
    out["InstanceConfiguration"] = json!({ "Cpu": "1024", "Memory": "2048" });
    out["HealthCheckConfiguration"] = json!({
        "Protocol": "TCP",
        "Path": "/",
        "Interval": 10,
        "Timeout": 5,
        "HealthyThreshold": 1,
        "UnhealthyThreshold": 5,
    });
    out["AutoScalingConfigurationSummary"] = json!({
        "AutoScalingConfigurationArn": format!(
            "arn:aws:apprunner:{region}:{account}:autoscalingconfiguration/DefaultConfiguration/1/{}",
            hex_id("apprunner-autoscaling-default", 32)
        ),
        "AutoScalingConfigurationName": "DefaultConfiguration",
        "AutoScalingConfigurationRevision": 1,
        "Status": "ACTIVE",
        "CreatedAt": epoch(&s.created_at),
        "HasAssociatedService": true,
        "IsDefault": true,
    });
    out["NetworkConfiguration"] = json!({
        "EgressConfiguration": { "EgressType": "DEFAULT" },
        "IngressConfiguration": { "IsPubliclyAccessible": true },
        "IpAddressType": "IPV4",
    });
    out["ObservabilityConfiguration"] = json!({ "ObservabilityEnabled": false });
    out
}
