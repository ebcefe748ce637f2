//! AWS Batch over REST-JSON (signed for service `batch`): DescribeJobDefinitions,
//! `POST /v1/describejobdefinitions`.
//!
//! Pages hold `maxResults` (1..=100) definitions, 100 by default, with an opaque
//! `nextToken`. Without a `status` filter both ACTIVE and INACTIVE revisions are
//! returned. Errors are `ClientException` (400), REST-JSON shaped.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::aws::{AwsError, Caller, PageRule, input, page, with_token};
use crate::world::{BatchContainer, BatchJobDefinition, World, batch_job_definition_arn};

const PAGE: PageRule = PageRule { default: 100, max: 100 };

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DescribeInput {
    job_definitions: Option<Vec<String>>,
    job_definition_name: Option<String>,
    status: Option<String>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

fn client_error(message: impl Into<String>) -> AwsError {
    AwsError::new("ClientException", message)
}

/// `DescribeJobDefinitions`.
pub(crate) fn describe_job_definitions(
    world: &World,
    caller: &Caller,
    body: &Value,
) -> Result<Value, AwsError> {
    let req: DescribeInput = input(body).map_err(|e| client_error(e.message))?;
    let wanted = req.job_definitions.unwrap_or_default();
    if wanted.len() > 100 {
        return Err(client_error("jobDefinitions cannot have more than 100 elements"));
    }
    let selectors: Vec<(String, Option<i32>)> =
        wanted.iter().map(String::as_str).map(selector).collect::<Result<_, _>>()?;
    let definitions: Vec<&BatchJobDefinition> = crate::aws::region(world, caller)
        .batch_job_definitions
        .iter()
        .filter(|d| {
            selectors.is_empty()
                || selectors.iter().any(|(n, r)| *n == d.name && r.is_none_or(|r| r == d.revision))
        })
        .filter(|d| req.job_definition_name.as_ref().is_none_or(|n| *n == d.name))
        .filter(|d| req.status.as_ref().is_none_or(|s| *s == d.status))
        .collect();
    let p = page(definitions.len(), req.next_token.as_deref(), req.max_results, PAGE)
        .map_err(|e| client_error(e.message))?;
    let items: Vec<Value> = definitions[p.start..p.end].iter().map(|d| definition_json(caller, d)).collect();
    Ok(with_token(json!({ "jobDefinitions": items }), &p))
}

/// The (name, revision) an entry of `jobDefinitions` names: an ARN, `name:revision`
/// or a bare name (every revision).
fn selector(entry: &str) -> Result<(String, Option<i32>), AwsError> {
    let tail = match entry.strip_prefix("arn:") {
        Some(_) => entry
            .split_once(":job-definition/")
            .map(|(_, tail)| tail)
            .ok_or_else(|| client_error(format!("Invalid job definition ARN: {entry}")))?,
        None => entry,
    };
    match tail.rsplit_once(':') {
        Some((name, rev)) => {
            let rev = rev.parse().map_err(|_| client_error(format!("Invalid job definition: {entry}")))?;
            Ok((name.to_owned(), Some(rev)))
        }
        None => Ok((tail.to_owned(), None)),
    }
}

fn ecs_container(c: &BatchContainer) -> Value {
    json!({
        "name": c.name,
        "image": c.image,
        "essential": true,
        "command": [],
        "environment": [],
        "mountPoints": [],
        "secrets": [],
        "ulimits": [],
        "resourceRequirements": [
            { "type": "VCPU", "value": "1" },
            { "type": "MEMORY", "value": "2048" },
        ],
    })
}

fn eks_container(c: &BatchContainer) -> Value {
    json!({
        "name": c.name,
        "image": c.image,
        "command": [],
        "args": [],
        "env": [],
        "resources": { "limits": { "cpu": "1", "memory": "2048Mi" } },
        "volumeMounts": [],
    })
}

fn definition_json(caller: &Caller, d: &BatchJobDefinition) -> Value {
    let mut out = json!({
        "jobDefinitionName": d.name,
        "jobDefinitionArn": batch_job_definition_arn(&caller.region, &caller.account, &d.name, d.revision),
        "revision": d.revision,
        "status": d.status,
        "type": d.job_type,
        "parameters": {},
        "retryStrategy": { "attempts": 1, "evaluateOnExit": [] },
        "tags": {},
        "propagateTags": false,
        "containerOrchestrationType": if d.eks_containers.is_empty() { "ECS" } else { "EKS" },
    });
    if let Some(image) = &d.container_image {
        out["platformCapabilities"] = json!(["EC2"]);
        out["containerProperties"] = json!({
            "image": image,
            "vcpus": 1,
            "memory": 512,
            "command": [],
            "volumes": [],
            "environment": [],
            "mountPoints": [],
            "ulimits": [],
            "resourceRequirements": [],
            "secrets": [],
        });
    }
    if !d.ecs_containers.is_empty() {
        out["platformCapabilities"] = json!(["FARGATE"]);
        out["ecsProperties"] = json!({
            "taskProperties": [{
                "containers": d.ecs_containers.iter().map(ecs_container).collect::<Vec<_>>(),
                "platformVersion": "LATEST",
                "networkConfiguration": { "assignPublicIp": "DISABLED" },
                "volumes": [],
            }],
        });
    }
    if !d.eks_containers.is_empty() {
        out["platformCapabilities"] = json!(["EC2"]);
        out["eksProperties"] = json!({
            "podProperties": {
                "hostNetwork": true,
                "dnsPolicy": "ClusterFirstWithHostNet",
                "containers": d.eks_containers.iter().map(eks_container).collect::<Vec<_>>(),
                "initContainers": [],
                "volumes": [],
            },
        });
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn selectors_take_arns_names_and_revisions() {
        let arn = "arn:aws:batch:us-east-1:111111111111:job-definition/nightly:3";
        assert_eq!(selector(arn).unwrap(), ("nightly".to_owned(), Some(3)));
        assert_eq!(selector("nightly:2").unwrap(), ("nightly".to_owned(), Some(2)));
        assert_eq!(selector("nightly").unwrap(), ("nightly".to_owned(), None));
        assert!(selector("nightly:x").is_err());
        assert!(selector("arn:aws:batch:us-east-1:1:job-queue/q").is_err());
    }
}
