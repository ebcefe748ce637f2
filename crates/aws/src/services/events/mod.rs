//! EventBridge: the rules (and their ECS targets) `aws_ecs_scheduled_task`
//! reads for the `ecs_schedules` in-use source. No table of its own yet.

use futures::FutureExt;
use skyglue_core::call::aws_call;
use skyglue_core::throttle::{Bucket, RateLimits, bucket};
use skyglue_core::{AwsConnection, Connections};

use super::ecs::SCHEDULES;
use super::{Checks, Probe, Service};
use crate::probe::{ABSENT, CallCheck};

/// EventBridge.
pub static SERVICE: Service = Service {
    name: "events",
    rate_limits: &[&EVENTS],
    tables: Vec::new,
    sinks: &[],
    probes: &[Probe {
        needed_by: Some(SCHEDULES),
        operations: &["events:ListEventBuses", "events:ListRules", "events:ListTargetsByRule"],
        run: |connections, conn| probe(connections, conn).boxed(),
    }],
    in_use: &[],
};

/// EventBridge's control-plane calls: well under its published quotas, which
/// differ by region (the lowest regions' apply everywhere).
pub static EVENTS: RateLimits = RateLimits { service: "events", bucket: events_bucket };

fn events_bucket(_operation: &str) -> Option<Bucket> {
    Some(bucket("eventbridge control plane", 20, 10))
}

pub use crate::clients::events as client;

/// Lists one bus and one rule, then that rule's targets.
async fn probe(connections: &Connections, conn: &AwsConnection) -> Checks {
    let (label, events) = (conn.label(), client(conn));
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
    checks
}
