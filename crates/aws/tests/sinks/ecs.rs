//! `deregister_ecs_task_definitions` and `delete_ecs_task_definitions`.
//!
//! Each test deregisters at most 20 revisions, the modify bucket's burst, so
//! none waits for the 1-per-second refill.

use skyglue_aws::sinks::{DeleteEcsTaskDefinitions, DeregisterEcsTaskDefinitions};
use skyglue_core::sink::{Sink, Status, Target};
use skyglue_sandbox::SandboxConfig;

use crate::support::{
    PROD, REGION, STAGING, STAGING_REGION, assert_one_outcome_each, calls, ecs_world, outcome_of, start,
    task_definition, task_definition_target, task_definitions_left,
};

const DEREGISTER: &str = "ecs:DeregisterTaskDefinition";
const DELETE: &str = "ecs:DeleteTaskDefinitions";

#[tokio::test]
async fn deregister_sends_one_call_per_revision_and_counts_inactive_ones_done() {
    // Revisions 1-12 ACTIVE and 13-14 already INACTIVE in prod; 1-3 ACTIVE in staging.
    let prod = (1..=14).map(|r| task_definition("web", r, r <= 12)).collect();
    let staging = (1..=3).map(|r| task_definition("worker", r, true)).collect();
    let env = start(ecs_world(prod, staging), SandboxConfig::default()).await;
    let mut targets: Vec<Target> = (1..=14).map(|r| task_definition_target(REGION, PROD, "web", r)).collect();
    // Staging's rows name their connection only through the ARN.
    targets.extend((1..=3).map(|r| task_definition_target(STAGING_REGION, STAGING, "worker", r)));

    let outcomes = DeregisterEcsTaskDefinitions.apply(&env.connections, targets.clone(), &env.log).await;

    assert_eq!(calls(&env.sandbox, DEREGISTER), 17);
    assert_eq!(env.log.calls(DEREGISTER).len(), 17);
    assert_one_outcome_each(&targets, &outcomes);
    assert!(outcomes.iter().all(|o| o.status == Status::Done), "{outcomes:?}");
    let left = [
        task_definitions_left(&env.sandbox, PROD, REGION),
        task_definitions_left(&env.sandbox, STAGING, STAGING_REGION),
    ];
    assert_eq!(left.iter().map(Vec::len).sum::<usize>(), 17);
    assert!(left.iter().flatten().all(|(_, _, status)| status == "INACTIVE"), "{left:?}");
}

#[tokio::test]
async fn delete_deregisters_active_revisions_then_deletes_10_per_call() {
    // 1-12 doomed, five of them still ACTIVE; 13 (ACTIVE) and 14 (INACTIVE) kept.
    let active = |r: i32| matches!(r, 1 | 3 | 6 | 9 | 12 | 13);
    let prod = (1..=14).map(|r| task_definition("web", r, active(r))).collect();
    let env = start(ecs_world(prod, Vec::new()), SandboxConfig::default()).await;
    let targets: Vec<Target> = (1..=12).map(|r| task_definition_target(REGION, PROD, "web", r)).collect();

    let outcomes = DeleteEcsTaskDefinitions.apply(&env.connections, targets.clone(), &env.log).await;

    assert_one_outcome_each(&targets, &outcomes);
    assert!(outcomes.iter().all(|o| o.status == Status::Done), "{outcomes:?}");
    // Two calls for the 12, one deregistration per ACTIVE one, one call for those 5 again.
    assert_eq!(calls(&env.sandbox, DEREGISTER), 5);
    assert_eq!(calls(&env.sandbox, DELETE), 3);
    let batches: Vec<usize> = env.log.calls(DELETE).iter().map(|(t, _)| t.len()).collect();
    assert_eq!(batches, vec![10, 2, 5]);
    let left = task_definitions_left(&env.sandbox, PROD, REGION);
    assert_eq!(left, vec![("web".into(), 13, "ACTIVE".into()), ("web".into(), 14, "INACTIVE".into())]);
}

#[tokio::test]
async fn a_revision_ecs_cannot_find_fails_with_its_reason() {
    let env =
        start(ecs_world(vec![task_definition("web", 1, false)], Vec::new()), SandboxConfig::default()).await;
    let targets =
        vec![task_definition_target(REGION, PROD, "web", 1), task_definition_target(REGION, PROD, "web", 99)];

    let outcomes = DeleteEcsTaskDefinitions.apply(&env.connections, targets.clone(), &env.log).await;

    assert_one_outcome_each(&targets, &outcomes);
    assert_eq!(outcome_of(&outcomes, &targets[0]).status, Status::Done);
    let missing = outcome_of(&outcomes, &targets[1]);
    assert_eq!(missing.status, Status::Failed);
    let reason = missing.reason.as_deref().unwrap_or_default();
    assert!(reason.starts_with("Unable to describe task definition."), "{reason}");
    assert!(
        reason.contains("deregistering it failed: failed to call ecs:DeregisterTaskDefinition"),
        "{reason}"
    );
    assert_eq!(calls(&env.sandbox, DELETE), 1);
    assert!(task_definitions_left(&env.sandbox, PROD, REGION).is_empty());
}

#[tokio::test]
async fn a_revision_in_a_region_without_a_connection_fails_with_the_reason() {
    let env =
        start(ecs_world(vec![task_definition("web", 1, true)], Vec::new()), SandboxConfig::default()).await;
    let targets = vec![task_definition_target("ap-south-1", PROD, "web", 1)];

    for sink in skyglue_aws::sinks::all().iter().filter(|s| s.action().ends_with("_task_definitions")) {
        let outcomes = sink.apply(&env.connections, targets.clone(), &env.log).await;

        assert_one_outcome_each(&targets, &outcomes);
        let reason = outcomes[0].reason.as_deref().unwrap_or_default();
        assert_eq!(outcomes[0].status, Status::Failed);
        assert!(
            reason.contains(&format!("no configured AWS connection for account {PROD} in region ap-south-1")),
            "{reason}"
        );
    }
    assert_eq!(calls(&env.sandbox, DEREGISTER) + calls(&env.sandbox, DELETE), 0);
    assert_eq!(task_definitions_left(&env.sandbox, PROD, REGION), vec![("web".into(), 1, "ACTIVE".into())]);
}
