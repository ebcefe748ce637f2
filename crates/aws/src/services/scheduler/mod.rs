//! EventBridge Scheduler: the schedules (and their ECS targets)
//! `aws_ecs_scheduled_task` reads for the `ecs_schedules` in-use source. No
//! table of its own yet.

use futures::FutureExt;
use skyglue_core::call::aws_call;
use skyglue_core::throttle::{Bucket, RateLimits, bucket};
use skyglue_core::{AwsConnection, Connections};

use super::ecs::SCHEDULES;
use super::{Checks, Probe, Service};
use crate::probe::{ABSENT, CallCheck};

/// EventBridge Scheduler.
pub static SERVICE: Service = Service {
    name: "scheduler",
    rate_limits: &[&SCHEDULER],
    tables: Vec::new,
    sinks: &[],
    probes: &[Probe {
        needed_by: Some(SCHEDULES),
        operations: &["scheduler:ListSchedules", "scheduler:GetSchedule"],
        run: |connections, conn| probe(connections, conn).boxed(),
    }],
    in_use: &[],
};

/// EventBridge Scheduler's read calls: well under its published quotas.
pub static SCHEDULER: RateLimits = RateLimits { service: "scheduler", bucket: scheduler_bucket };

fn scheduler_bucket(_operation: &str) -> Option<Bucket> {
    Some(bucket("scheduler read", 50, 25))
}

pub use crate::clients::scheduler as client;

/// Lists one schedule, and gets one that does not exist.
async fn probe(connections: &Connections, conn: &AwsConnection) -> Checks {
    let (label, scheduler) = (conn.label(), client(conn));
    let mut checks = Vec::new();
    let op = "scheduler:ListSchedules";
    let schedules =
        aws_call(connections, &label, op, &[], None, || scheduler.list_schedules().max_results(1).send())
            .await;
    checks.push((op, CallCheck::of(&schedules)));
    let op = "scheduler:GetSchedule";
    let not_found = ["ResourceNotFoundException"];
    let got =
        aws_call(connections, &label, op, &not_found, None, || scheduler.get_schedule().name(ABSENT).send())
            .await;
    checks.push((op, CallCheck::of(&got)));
    checks
}
