//! May this connection make the calls skyglue needs? `skyglue connections`
//! asks here.
//!
//! Each read call the tables and the "in use" sources `[in_use]` lists make
//! is tried once, as cheaply as AWS allows (at
//! most one result), through [`aws_call`] so it is rate-limited and counted
//! like a scan's. A call that needs a parent (a repository, a cluster, a
//! service, a task) uses the first one its list call returned, or a name that
//! does not exist: AWS checks permission before existence, so "not found"
//! still means "allowed". Delete calls are never tried: [`DELETE_ACTIONS`]
//! and [`simulate_command`] say how to check them without deleting anything.

use std::fmt;

use skyglue_core::call::aws_call;
use skyglue_core::config::InUseSource;
use skyglue_core::{AwsConnection, Connections, Error};

use crate::clients;
use crate::tables::apprunner_service::APPRUNNER;
use crate::tables::batch_job_definition::BATCH;
use crate::tables::ecr_repository::ECR;
use crate::tables::ecs_common::ECS;
use crate::tables::ecs_scheduled_task::{EVENTS, SCHEDULER};
use crate::tables::lambda_function::LAMBDA;

/// The delete (and archive) actions the shipped sinks need; the check never calls them.
pub const DELETE_ACTIONS: [&str; 4] = [
    "ecr:BatchDeleteImage",
    "ecr:UpdateImageStorageClass",
    "ecs:DeregisterTaskDefinition",
    "ecs:DeleteTaskDefinitions",
];

/// Stands in for a parent when the account has none of that kind.
const ABSENT: &str = "skyglue-connections-check";

/// What one tried call answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallCheck {
    /// Allowed: it answered, or said the thing asked for does not exist.
    Ok,
    /// Refused, with AWS's error code (`AccessDeniedException`).
    Denied(String),
    /// Failed for another reason (unreachable, throttled, ...).
    Failed(String),
}

impl CallCheck {
    /// Whether the call is allowed.
    pub fn is_ok(&self) -> bool {
        matches!(self, CallCheck::Ok)
    }

    fn of<T>(result: &skyglue_core::Result<T>) -> Self {
        match result {
            Ok(_) => CallCheck::Ok,
            Err(Error::AccessDenied { detail, .. }) => CallCheck::Denied(error_code(detail)),
            Err(e) => CallCheck::Failed(e.to_string()),
        }
    }
}

impl fmt::Display for CallCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallCheck::Ok => f.write_str("ok"),
            CallCheck::Denied(code) => write!(f, "denied: {code}"),
            CallCheck::Failed(detail) => write!(f, "failed: {detail}"),
        }
    }
}

/// The code of an access-denied detail (`AccessDeniedException: User ... is
/// not authorized`), or `AccessDenied` when it starts with prose.
fn error_code(detail: &str) -> String {
    let head = detail.split(':').next().unwrap_or_default().trim();
    if head.is_empty() || head.contains(char::is_whitespace) { "AccessDenied".into() } else { head.into() }
}

/// Tries each read call skyglue's tables make on `conn`, in order:
/// `(operation, what it answered)`.
pub async fn check_reads(connections: &Connections, conn: &AwsConnection) -> Vec<(&'static str, CallCheck)> {
    for limits in [&ECR, &ECS, &LAMBDA, &BATCH, &APPRUNNER, &EVENTS, &SCHEDULER] {
        connections.throttle.register(limits);
    }
    let label = conn.label();
    let (ecr, ecs) = (clients::ecr(conn), clients::ecs(conn));
    let mut checks = Vec::new();

    let op = "ecr:DescribeRepositories";
    let repos =
        aws_call(connections, &label, op, &[], None, || ecr.describe_repositories().max_results(1).send())
            .await;
    checks.push((op, CallCheck::of(&repos)));
    let first = repos.ok().flatten().and_then(|o| o.repositories().first().cloned());
    let repository = first.and_then(|r| r.repository_name).unwrap_or_else(|| ABSENT.into());

    let op = "ecr:DescribeImages";
    let not_found = ["RepositoryNotFoundException"];
    let images = aws_call(connections, &label, op, &not_found, None, || {
        ecr.describe_images().repository_name(&repository).max_results(1).send()
    })
    .await;
    checks.push((op, CallCheck::of(&images)));

    let op = "ecs:ListClusters";
    let clusters =
        aws_call(connections, &label, op, &[], None, || ecs.list_clusters().max_results(1).send()).await;
    checks.push((op, CallCheck::of(&clusters)));
    let first = clusters.ok().flatten().and_then(|o| o.cluster_arns().first().cloned());
    let cluster = first.unwrap_or_else(|| ABSENT.into());

    // Without a cluster, ECS answers ClusterNotFoundException after the
    // permission check; a made-up service or task is reported in `failures`.
    let not_found = ["ClusterNotFoundException", "ServiceNotFoundException", "InvalidParameterException"];
    let op = "ecs:ListServices";
    let services = aws_call(connections, &label, op, &not_found, None, || {
        ecs.list_services().cluster(&cluster).max_results(1).send()
    })
    .await;
    checks.push((op, CallCheck::of(&services)));
    let first = services.ok().flatten().and_then(|o| o.service_arns().first().cloned());
    let service = first.unwrap_or_else(|| ABSENT.into());

    let op = "ecs:DescribeServices";
    let described = aws_call(connections, &label, op, &not_found, None, || {
        ecs.describe_services().cluster(&cluster).services(&service).send()
    })
    .await;
    checks.push((op, CallCheck::of(&described)));

    let op = "ecs:ListTasks";
    let tasks = aws_call(connections, &label, op, &not_found, None, || {
        ecs.list_tasks().cluster(&cluster).max_results(1).send()
    })
    .await;
    checks.push((op, CallCheck::of(&tasks)));
    let first = tasks.ok().flatten().and_then(|o| o.task_arns().first().cloned());
    let task = first.unwrap_or_else(|| ABSENT.into());

    let op = "ecs:DescribeTasks";
    let described = aws_call(connections, &label, op, &not_found, None, || {
        ecs.describe_tasks().cluster(&cluster).tasks(&task).send()
    })
    .await;
    checks.push((op, CallCheck::of(&described)));

    let op = "ecs:ListTaskDefinitions";
    let families =
        aws_call(connections, &label, op, &[], None, || ecs.list_task_definitions().max_results(1).send())
            .await;
    checks.push((op, CallCheck::of(&families)));
    checks.extend(check_in_use_reads(connections, conn).await);
    checks
}

/// The read calls of the other sources `[in_use]` lists (ECS schedules,
/// Lambda, Batch, App Runner): a source that cannot be read fails every
/// delete's check.
async fn check_in_use_reads(
    connections: &Connections,
    conn: &AwsConnection,
) -> Vec<(&'static str, CallCheck)> {
    let label = conn.label();
    let in_use = &connections.in_use;
    let mut checks = Vec::new();
    if in_use.checks(InUseSource::EcsSchedules) {
        checks.extend(check_schedule_reads(connections, conn).await);
    }
    if in_use.checks(InUseSource::Lambda) {
        let lambda = clients::lambda(conn);
        let op = "lambda:ListFunctions";
        let functions =
            aws_call(connections, &label, op, &[], None, || lambda.list_functions().max_items(1).send())
                .await;
        checks.push((op, CallCheck::of(&functions)));
        let first = functions
            .ok()
            .flatten()
            .and_then(|o| o.functions().first().and_then(|f| f.function_name.clone()));
        let function = first.unwrap_or_else(|| ABSENT.into());
        let not_found = ["ResourceNotFoundException"];
        let op = "lambda:GetFunction";
        let got = aws_call(connections, &label, op, &not_found, None, || {
            lambda.get_function().function_name(&function).send()
        })
        .await;
        checks.push((op, CallCheck::of(&got)));
        let op = "lambda:ListAliases";
        let aliases = aws_call(connections, &label, op, &not_found, None, || {
            lambda.list_aliases().function_name(&function).max_items(1).send()
        })
        .await;
        checks.push((op, CallCheck::of(&aliases)));
        let op = "lambda:ListVersionsByFunction";
        let versions = aws_call(connections, &label, op, &not_found, None, || {
            lambda.list_versions_by_function().function_name(&function).max_items(1).send()
        })
        .await;
        checks.push((op, CallCheck::of(&versions)));
    }
    if in_use.checks(InUseSource::Batch) {
        let batch = clients::batch(conn);
        let op = "batch:DescribeJobDefinitions";
        let result = aws_call(connections, &label, op, &[], None, || {
            batch.describe_job_definitions().max_results(1).send()
        })
        .await;
        checks.push((op, CallCheck::of(&result)));
    }
    if in_use.checks(InUseSource::Apprunner) {
        let apprunner = clients::apprunner(conn);
        let op = "apprunner:ListServices";
        let result =
            aws_call(connections, &label, op, &[], None, || apprunner.list_services().max_results(1).send())
                .await;
        checks.push((op, CallCheck::of(&result)));
    }
    checks
}

/// The reads of `ecs_schedules`: EventBridge buses, rules and targets,
/// Scheduler schedules, and the family lookup of a family-only target.
async fn check_schedule_reads(
    connections: &Connections,
    conn: &AwsConnection,
) -> Vec<(&'static str, CallCheck)> {
    let label = conn.label();
    let (events, scheduler, ecs) = (clients::events(conn), clients::scheduler(conn), clients::ecs(conn));
    let not_found = ["ResourceNotFoundException"];
    let mut checks = Vec::new();
    let op = "events:ListEventBuses";
    let buses =
        aws_call(connections, &label, op, &[], None, || events.list_event_buses().limit(1).send()).await;
    checks.push((op, CallCheck::of(&buses)));
    let op = "events:ListRules";
    let rules = aws_call(connections, &label, op, &[], None, || events.list_rules().limit(1).send()).await;
    checks.push((op, CallCheck::of(&rules)));
    let first = rules.ok().flatten().and_then(|o| o.rules().first().and_then(|r| r.name.clone()));
    let rule = first.unwrap_or_else(|| ABSENT.into());
    let op = "events:ListTargetsByRule";
    let targets = aws_call(connections, &label, op, &not_found, None, || {
        events.list_targets_by_rule().rule(&rule).limit(1).send()
    })
    .await;
    checks.push((op, CallCheck::of(&targets)));
    let op = "scheduler:ListSchedules";
    let schedules =
        aws_call(connections, &label, op, &[], None, || scheduler.list_schedules().max_results(1).send())
            .await;
    checks.push((op, CallCheck::of(&schedules)));
    let op = "scheduler:GetSchedule";
    let got =
        aws_call(connections, &label, op, &not_found, None, || scheduler.get_schedule().name(ABSENT).send())
            .await;
    checks.push((op, CallCheck::of(&got)));
    let op = "ecs:DescribeTaskDefinition";
    let described = aws_call(connections, &label, op, &["ClientException"], None, || {
        ecs.describe_task_definition().task_definition(ABSENT).send()
    })
    .await;
    checks.push((op, CallCheck::of(&described)));
    checks
}

/// The AWS CLI command that asks IAM whether `principal_arn` may make the
/// [`DELETE_ACTIONS`], without making them.
pub fn simulate_command(principal_arn: &str) -> String {
    format!(
        "aws iam simulate-principal-policy --policy-source-arn {principal_arn} --action-names {} \
         --query 'EvaluationResults[].[EvalActionName,EvalDecision]' --output text",
        DELETE_ACTIONS.join(" ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_denied_call_shows_its_code() {
        assert_eq!(error_code("AccessDeniedException: User x is not authorized"), "AccessDeniedException");
        assert_eq!(error_code("User x is not authorized: no"), "AccessDenied");
        assert_eq!(
            CallCheck::Denied("AccessDeniedException".into()).to_string(),
            "denied: AccessDeniedException"
        );
    }

    #[test]
    fn the_simulation_names_every_delete_action() {
        let command = simulate_command("arn:aws:iam::111111111111:role/cleanup");
        assert!(DELETE_ACTIONS.iter().all(|a| command.contains(a)), "{command}");
    }
}
