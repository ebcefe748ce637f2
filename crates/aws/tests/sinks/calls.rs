//! Every sink call and index lookup goes through `skyglue_core::call::aws_call`:
//! a throttled or failing batch is retried within the client-side limit and
//! counted, one that never recovers fails its targets with a reason naming
//! the operation and connection, and the image-index lookup is counted,
//! limited and fails closed. A throttle halves the connection's adaptive rate.

use std::sync::Arc;
use std::time::Duration;

use skyglue_aws::manifests;
use skyglue_aws::sinks::DeleteEcrImages;
use skyglue_core::call::RetryPolicy;
use skyglue_core::sink::{Sink, Status, Target};
use skyglue_core::throttle::{Throttle, bucket};
use skyglue_sandbox::demo::demo_digest;
use skyglue_sandbox::{Fault, SandboxConfig};

use crate::support::{
    Env, PROD, assert_one_outcome_each, calls, digests_left, ecr_world, image, image_target, index,
    repository, start,
};

const OP: &str = "ecr:BatchDeleteImage";

/// Retries with a 1 ms backoff unit, so a test that exhausts them is quick.
fn fast(mut env: Env) -> Env {
    let connections = Arc::get_mut(&mut env.connections).expect("not shared yet");
    connections.retry = RetryPolicy { backoff_unit: Duration::from_millis(1), ..RetryPolicy::default() };
    env
}

async fn three_images(faults: Vec<Fault>) -> (Env, Vec<Target>) {
    let images = vec![image("a"), image("b"), image("keep")];
    let config = SandboxConfig { faults, ..SandboxConfig::default() };
    let env = fast(start(ecr_world(vec![repository("web", images)]), config).await);
    let targets = vec![image_target("web", "a"), image_target("web", "b")];
    (env, targets)
}

#[tokio::test]
async fn a_throttled_batch_delete_recovers_and_its_retries_are_counted() {
    let throttled = Fault::nth_call(OP, 1).times(2).error(400, "ThrottlingException");
    let (env, targets) = three_images(vec![throttled]).await;

    let outcomes = DeleteEcrImages.apply(&env.connections, targets.clone(), &env.log).await;

    assert_one_outcome_each(&targets, &outcomes);
    assert!(outcomes.iter().all(|o| o.status == Status::Done), "{outcomes:?}");
    assert_eq!(digests_left(&env.sandbox, "web"), vec![demo_digest("keep")]);
    assert_eq!(calls(&env.sandbox, OP), 3, "two throttled attempts, then the one that worked");
    assert_eq!(env.connections.counters.snapshot().retries, 2);
    assert_eq!(env.log.calls(OP).len(), 1, "one intent and one outcome for the whole retried call");
    // The throttles halved the connection's ECR rate (20 a second to start,
    // ECR publishes none) once, since the two came back within one halving
    // gap; the answer after them grew it by a tenth of a request a second.
    let rate = env.connections.throttle.rate("prod/us-east-1", OP);
    assert!(rate.is_some_and(|r| (10.0..=10.2).contains(&r)), "{rate:?}");
}

#[tokio::test]
async fn a_batch_delete_throttled_forever_fails_its_targets_naming_operation_and_connection() {
    let throttled = Fault::nth_call(OP, 1).times(u64::MAX).error(400, "ThrottlingException");
    let (env, targets) = three_images(vec![throttled]).await;

    let outcomes = DeleteEcrImages.apply(&env.connections, targets.clone(), &env.log).await;

    assert_one_outcome_each(&targets, &outcomes);
    for outcome in &outcomes {
        assert_eq!(outcome.status, Status::Failed);
        let reason = outcome.reason.as_deref().unwrap_or_default();
        assert!(reason.contains(OP) && reason.contains("prod/us-east-1"), "{reason}");
        assert!(reason.contains("still throttled after 8 attempts"), "{reason}");
    }
    assert_eq!(calls(&env.sandbox, OP), 8);
    assert_eq!(env.connections.counters.snapshot().retries, 7);
    assert_eq!(digests_left(&env.sandbox, "web").len(), 3, "nothing deleted");
}

#[tokio::test]
async fn a_server_error_is_retried_by_the_framework() {
    // The SDK's own retries are off: without the framework's, this 500 would fail the batch.
    let (env, targets) = three_images(vec![Fault::nth_call(OP, 1)]).await;

    let outcomes = DeleteEcrImages.apply(&env.connections, targets.clone(), &env.log).await;

    assert!(outcomes.iter().all(|o| o.status == Status::Done), "{outcomes:?}");
    assert_eq!(calls(&env.sandbox, OP), 2);
    assert_eq!(env.connections.counters.snapshot().retries, 1);
}

#[tokio::test]
async fn index_lookups_are_counted_and_limited() {
    let images = vec![index("multi", &["amd64", "arm64"]), image("amd64"), image("arm64")];
    let mut env = start(ecr_world(vec![repository("web", images)]), SandboxConfig::default()).await;
    // One ECR call per second (burst 1): the second lookup waits for the limit.
    let slow = Throttle::default().with_override("ecr", bucket("ecr", 1, 1));
    Arc::get_mut(&mut env.connections).expect("not shared yet").throttle = Arc::new(slow);
    let conn = env.connections.find_aws(Some(PROD), None).await.expect("prod is configured");
    let wanted = vec![demo_digest("multi")];

    for _ in 0..2 {
        let children = manifests::index_children(&env.connections, &conn, Some(PROD), "web", &wanted)
            .await
            .expect("read");
        assert_eq!(children[&demo_digest("multi")], vec![demo_digest("amd64"), demo_digest("arm64")]);
    }

    assert_eq!(calls(&env.sandbox, "ecr:BatchGetImage"), 2);
    let counted = env.connections.counters.snapshot();
    assert_eq!(counted.calls, 2, "both lookups counted in the session");
    assert!(counted.throttle_wait_nanos > 0, "the second lookup waited for the client-side limit");
}

#[tokio::test]
async fn an_index_that_cannot_be_read_is_an_error_not_an_empty_answer() {
    let images = vec![index("multi", &["amd64"]), image("amd64")];
    let env = start(ecr_world(vec![repository("web", images)]), SandboxConfig::default()).await;
    let conn = env.connections.find_aws(Some(PROD), None).await.expect("prod is configured");
    let wanted = vec![demo_digest("multi"), demo_digest("gone")];

    let err = manifests::index_children(&env.connections, &conn, Some(PROD), "web", &wanted)
        .await
        .expect_err("an unreadable index fails the lookup");

    let message = err.to_string();
    assert!(message.contains("ecr:BatchGetImage") && message.contains("prod/us-east-1"), "{message}");
    assert!(message.contains(&demo_digest("gone")), "the error names the index: {message}");
}
