//! ECS: clusters, services, tasks, task definitions and the tasks EventBridge
//! rules and Scheduler schedules launch (`aws_ecs_*`); the actions on task
//! definitions (deregister, delete) behind `task_definition_check`; the
//! in-use sources `ecs` and `ecs_schedules`.

pub mod delete_ecs_task_definitions;
pub mod deregister_ecs_task_definitions;
pub mod ecs_cluster;
pub(crate) mod ecs_common;
pub mod ecs_scheduled_task;
pub(crate) mod ecs_scheduled_task_read;
pub mod ecs_service;
pub mod ecs_task;
pub mod ecs_task_definition;
pub(crate) mod task_definition_check;

use std::sync::Arc;

use futures::FutureExt;
use skyglue_core::call::aws_call;
use skyglue_core::{AwsConnection, Connections};

// What the moved sink files reach as `super::common`, `super::fresh`, `super::reread`.
use crate::sinks::{common, fresh, reread};

use super::{Checks, InUse, Probe, Service, SinkDecl};
use crate::probe::{ABSENT, CallCheck};

/// The in-use source of the tasks schedules launch.
pub const SCHEDULES: &str = "ecs_schedules";

/// ECS.
pub static SERVICE: Service = Service {
    name: "ecs",
    rate_limits: &[&ecs_common::ECS],
    tables: || {
        vec![
            Arc::new(ecs_cluster::EcsCluster),
            Arc::new(ecs_service::EcsService),
            Arc::new(ecs_task::EcsTask),
            Arc::new(ecs_task_definition::EcsTaskDefinition),
            Arc::new(ecs_scheduled_task::EcsScheduledTask),
        ]
    },
    sinks: &[
        SinkDecl {
            sink: || Arc::new(deregister_ecs_task_definitions::DeregisterEcsTaskDefinitions),
            delete_actions: &["ecs:DeregisterTaskDefinition"],
            operations: &["ecs:DeregisterTaskDefinition", "ecs:DescribeTaskDefinition"],
        },
        SinkDecl {
            sink: || Arc::new(delete_ecs_task_definitions::DeleteEcsTaskDefinitions),
            delete_actions: &["ecs:DeregisterTaskDefinition", "ecs:DeleteTaskDefinitions"],
            operations: &[
                "ecs:DeregisterTaskDefinition",
                "ecs:DeleteTaskDefinitions",
                "ecs:DescribeTaskDefinition",
            ],
        },
    ],
    probes: &[Probe {
        needed_by: None,
        operations: &[
            "ecs:ListClusters",
            "ecs:DescribeClusters",
            "ecs:ListServices",
            "ecs:DescribeServices",
            "ecs:ListTasks",
            "ecs:DescribeTasks",
            "ecs:ListTaskDefinitions",
            "ecs:DescribeTaskDefinition",
        ],
        run: |connections, conn| probe(connections, conn).boxed(),
    }],
    in_use: &[
        InUse { source: "ecs", sql: include_str!("in_use.sql") },
        InUse { source: SCHEDULES, sql: include_str!("in_use_schedules.sql") },
    ],
};

pub use crate::clients::ecs as client;

/// Lists one cluster, then one of its services and tasks; one task
/// definition family, and describes a revision.
async fn probe(connections: &Connections, conn: &AwsConnection) -> Checks {
    let (label, ecs) = (conn.label(), client(conn));
    let mut checks = Vec::new();
    let op = "ecs:ListClusters";
    let clusters =
        aws_call(connections, &label, op, &[], None, || ecs.list_clusters().max_results(1).send()).await;
    checks.push((op, CallCheck::of(&clusters)));
    let first = clusters.ok().flatten().and_then(|o| o.cluster_arns().first().cloned());
    let cluster = first.unwrap_or_else(|| ABSENT.into());

    // A made-up cluster is reported in `failures`, not as an error.
    let op = "ecs:DescribeClusters";
    let described =
        aws_call(connections, &label, op, &[], None, || ecs.describe_clusters().clusters(&cluster).send())
            .await;
    checks.push((op, CallCheck::of(&described)));

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

    // A made-up revision: ECS answers ClientException after the permission check.
    let op = "ecs:DescribeTaskDefinition";
    let described = aws_call(connections, &label, op, &["ClientException"], None, || {
        ecs.describe_task_definition().task_definition(ABSENT).send()
    })
    .await;
    checks.push((op, CallCheck::of(&described)));
    checks
}
