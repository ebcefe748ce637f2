//! `delete_ecr_images`: batches of 100 digests, per-image failures, failed calls.

use skyglue_aws::sinks::{self, DeleteEcrImages};
use skyglue_core::sink::{Presence, Sink, Status, Target};
use skyglue_sandbox::demo::demo_digest;
use skyglue_sandbox::{Fault, SandboxConfig};

use crate::support::{
    PROD, assert_one_outcome_each, calls, digests_left, ecr_world, image, image_target, index, outcome_of,
    repository, start,
};

const OP: &str = "ecr:BatchDeleteImage";

fn labels(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

#[tokio::test]
async fn batch_delete_image_sends_at_most_100_digests_per_call() {
    let doomed = labels("old", 250);
    let kept = labels("new", 5);
    let images = doomed.iter().chain(&kept).map(|l| image(l)).collect();
    let env = start(ecr_world(vec![repository("web", images)]), SandboxConfig::default()).await;
    let targets: Vec<Target> = doomed.iter().map(|l| image_target("web", l)).collect();

    let outcomes = DeleteEcrImages.apply(&env.connections, targets.clone(), &env.log).await;

    assert_eq!(calls(&env.sandbox, OP), 3);
    let sizes: Vec<usize> = env.log.calls(OP).iter().map(|(t, _)| t.len()).collect();
    assert_eq!(sizes, vec![100, 100, 50]);
    assert_one_outcome_each(&targets, &outcomes);
    assert!(outcomes.iter().all(|o| o.status == Status::Done), "{outcomes:?}");
    let want: Vec<String> = kept.iter().map(|l| demo_digest(l)).collect();
    assert_eq!(digests_left(&env.sandbox, "web"), want);
}

#[tokio::test]
async fn a_child_of_a_kept_index_fails_and_the_rest_are_done() {
    let images =
        vec![index("multi", &["amd64", "arm64"]), image("amd64"), image("arm64"), image("a"), image("b")];
    let env = start(ecr_world(vec![repository("web", images)]), SandboxConfig::default()).await;
    let targets = vec![image_target("web", "amd64"), image_target("web", "a"), image_target("web", "b")];

    let outcomes = DeleteEcrImages.apply(&env.connections, targets.clone(), &env.log).await;

    assert_one_outcome_each(&targets, &outcomes);
    let child = outcome_of(&outcomes, &targets[0]);
    assert_eq!(child.status, Status::Failed);
    let reason = child.reason.as_deref().unwrap_or_default();
    assert!(reason.starts_with("ImageReferencedByManifestList: "), "{reason}");
    assert!(reason.contains(&demo_digest("multi")), "the reason names the index: {reason}");
    for done in &targets[1..] {
        assert_eq!(outcome_of(&outcomes, done).status, Status::Done);
    }
    let left = digests_left(&env.sandbox, "web");
    assert_eq!(left, ["multi", "amd64", "arm64"].map(demo_digest).to_vec());
}

#[tokio::test]
async fn an_index_deleted_before_its_children_frees_them() {
    // With 99 other images first, the index ends one batch and its children start the next.
    for (others, want_calls) in [(0, 1), (99, 2)] {
        let mut labels = labels("other", others);
        labels.extend(["multi", "amd64", "arm64"].map(String::from));
        let mut images: Vec<_> = labels.iter().map(|l| image(l)).collect();
        images[others] = index("multi", &["amd64", "arm64"]);
        let env = start(ecr_world(vec![repository("web", images)]), SandboxConfig::default()).await;
        let targets: Vec<Target> = labels.iter().map(|l| image_target("web", l)).collect();

        let outcomes = DeleteEcrImages.apply(&env.connections, targets.clone(), &env.log).await;

        assert_one_outcome_each(&targets, &outcomes);
        assert!(outcomes.iter().all(|o| o.status == Status::Done), "{outcomes:?}");
        assert_eq!(calls(&env.sandbox, OP), want_calls);
        assert!(digests_left(&env.sandbox, "web").is_empty());
    }
}

#[tokio::test]
async fn a_failed_call_fails_only_its_own_batch() {
    let labels = labels("img", 250);
    let images = labels.iter().map(|l| image(l)).collect();
    let fault = Fault::nth_call(OP, 2).error(400, "InvalidParameterException");
    let config = SandboxConfig { faults: vec![fault], ..SandboxConfig::default() };
    let env = start(ecr_world(vec![repository("web", images)]), config).await;
    let targets: Vec<Target> = labels.iter().map(|l| image_target("web", l)).collect();

    let outcomes = DeleteEcrImages.apply(&env.connections, targets.clone(), &env.log).await;

    assert_eq!(calls(&env.sandbox, OP), 3);
    assert_one_outcome_each(&targets, &outcomes);
    for (i, target) in targets.iter().enumerate() {
        let outcome = outcome_of(&outcomes, target);
        if (100..200).contains(&i) {
            assert_eq!(outcome.status, Status::Failed, "target {i}");
            let reason = outcome.reason.as_deref().unwrap_or_default();
            assert!(reason.contains("InvalidParameterException: Injected fault"), "{reason}");
            assert!(!reason.contains('\n'));
        } else {
            assert_eq!(outcome.status, Status::Done, "target {i}");
        }
    }
    let want: Vec<String> = labels[100..200].iter().map(|l| demo_digest(l)).collect();
    assert_eq!(digests_left(&env.sandbox, "web"), want);
}

#[tokio::test]
async fn every_call_is_bracketed_and_every_target_has_one_outcome() {
    let web = repository("web", vec![image("w1"), image("w2")]);
    let api = repository("api", vec![image("a1")]);
    let env = start(ecr_world(vec![web, api]), SandboxConfig::default()).await;
    // w1 twice: once resolved (as the check hands rows over), once by registry,
    // repository and digest alone, which the sink refuses to guess a place for.
    let w1_again = Target::from_pairs([
        ("registry_id", PROD),
        ("repository_name", "web"),
        ("image_digest", &demo_digest("w1")),
    ]);
    let mut nowhere = image_target("web", "w2");
    nowhere.set("account_id", "999999999999");
    let targets = vec![
        image_target("web", "w1"),
        image_target("api", "a1"),
        w1_again,
        image_target("web", "w2"),
        nowhere,
        image_target("api", "missing"),
    ];

    let outcomes = DeleteEcrImages.apply(&env.connections, targets.clone(), &env.log).await;

    assert_one_outcome_each(&targets, &outcomes);
    let logged = env.log.calls(OP);
    assert_eq!(logged.len() as u64, calls(&env.sandbox, OP));
    assert_eq!(logged.len(), 2, "one call per repository, w1 sent once");
    let mut journal = env.log.outcomes();
    assert_one_outcome_each(&targets, &journal);
    let mut returned = outcomes.clone();
    journal.sort_by(|a, b| a.target.cmp(&b.target));
    returned.sort_by(|a, b| a.target.cmp(&b.target));
    assert_eq!(journal, returned, "the log holds the outcomes returned");
    let status = |i: usize| outcome_of(&outcomes, &targets[i]).status;
    assert_eq!([0, 1, 3].map(status), [Status::Done; 3]);
    let unresolved = outcome_of(&outcomes, &targets[2]);
    assert_eq!(unresolved.status, Status::Failed);
    assert!(
        unresolved.reason.as_deref().is_some_and(|r| r.contains("does not name one image")),
        "{unresolved:?}"
    );
    assert_eq!(status(4), Status::Failed);
    let missing = outcome_of(&outcomes, &targets[5]);
    assert_eq!(missing.reason.as_deref(), Some("ImageNotFound: Requested image not found"));
}

#[tokio::test]
async fn a_row_whose_account_or_region_has_no_connection_fails_with_the_reason() {
    let env = start(ecr_world(vec![repository("web", vec![image("w1")])]), SandboxConfig::default()).await;
    let mut other_account = image_target("web", "w1");
    other_account.set("account_id", "999999999999");
    let mut other_region = image_target("web", "w1");
    other_region.set("region", "ap-south-1");
    let targets = vec![other_account, other_region];

    let outcomes = sinks::by_action("delete_ecr_images")
        .expect("registered")
        .apply(&env.connections, targets.clone(), &env.log)
        .await;

    assert_one_outcome_each(&targets, &outcomes);
    let reason = |i: usize| outcome_of(&outcomes, &targets[i]).reason.clone().unwrap_or_default();
    assert!(
        reason(0).contains("no configured AWS connection for account 999999999999 in region us-east-1"),
        "{}",
        reason(0)
    );
    assert!(
        reason(1).contains(&format!("no configured AWS connection for account {PROD} in region ap-south-1")),
        "{}",
        reason(1)
    );
    assert!(outcomes.iter().all(|o| o.status == Status::Failed));
    assert_eq!(calls(&env.sandbox, OP), 0);
    assert!(env.log.calls(OP).is_empty());
    assert_eq!(digests_left(&env.sandbox, "web"), vec![demo_digest("w1")]);
}

#[tokio::test]
async fn a_call_that_failed_after_deleting_is_done_after_a_re_read() {
    // Every BatchDeleteImage deletes, then its answer is lost: the call fails
    // after its retries, and only the re-read can tell the images are gone.
    let fault = Fault::nth_call(OP, 1).times(u64::MAX).answer_lost();
    let config = SandboxConfig { faults: vec![fault], ..SandboxConfig::default() };
    let env = start(ecr_world(vec![repository("web", vec![image("a"), image("b")])]), config).await;
    let targets = vec![image_target("web", "a"), image_target("web", "b")];

    let outcomes = DeleteEcrImages.apply(&env.connections, targets.clone(), &env.log).await;

    assert!(digests_left(&env.sandbox, "web").is_empty(), "the sandbox deleted them");
    assert_one_outcome_each(&targets, &outcomes);
    for o in &outcomes {
        assert_eq!(o.status, Status::Done, "{o:?}");
        let reason = o.reason.as_deref().unwrap_or_default();
        assert!(reason.contains("it had taken effect") && reason.contains("it is gone"), "{reason}");
    }
    assert_eq!(env.log.outcomes().len(), 2, "the journal has the re-read outcomes");
    assert!(calls(&env.sandbox, "ecr:BatchGetImage") >= 1);
}

#[tokio::test]
async fn a_call_that_failed_without_deleting_stays_failed_after_a_re_read() {
    let fault = Fault::nth_call(OP, 1).times(u64::MAX).error(400, "InvalidParameterException");
    let config = SandboxConfig { faults: vec![fault], ..SandboxConfig::default() };
    let env = start(ecr_world(vec![repository("web", vec![image("a")])]), config).await;
    let targets = vec![image_target("web", "a")];

    let outcomes = DeleteEcrImages.apply(&env.connections, targets.clone(), &env.log).await;

    assert_eq!(outcomes[0].status, Status::Failed, "{outcomes:?}");
    let reason = outcomes[0].reason.as_deref().unwrap_or_default();
    assert!(reason.contains("InvalidParameterException") && reason.contains("still there"), "{reason}");
}

#[tokio::test]
async fn image_not_found_on_a_retried_call_is_done() {
    // The first attempt deletes and loses its answer (a retried 500); the
    // retry hears ImageNotFound: the first attempt did it.
    let fault = Fault::nth_call(OP, 1).answer_lost();
    let config = SandboxConfig { faults: vec![fault], ..SandboxConfig::default() };
    let env = start(ecr_world(vec![repository("web", vec![image("a")])]), config).await;
    let targets = vec![image_target("web", "a")];

    let outcomes = DeleteEcrImages.apply(&env.connections, targets.clone(), &env.log).await;

    assert_eq!(calls(&env.sandbox, OP), 2, "retried once");
    assert_eq!(outcomes[0].status, Status::Done, "{outcomes:?}");
    let reason = outcomes[0].reason.as_deref().unwrap_or_default();
    assert!(reason.contains("ImageNotFound to a retried call"), "{reason}");
}

#[tokio::test]
async fn confirm_says_which_images_are_gone() {
    let env = start(ecr_world(vec![repository("web", vec![image("here")])]), SandboxConfig::default()).await;
    let mut elsewhere = image_target("web", "here");
    elsewhere.set("account_id", "999999999999");
    let targets = vec![image_target("web", "here"), image_target("web", "gone"), elsewhere];

    let presence = DeleteEcrImages.confirm(&env.connections, &targets).await;

    assert_eq!(presence[0], Presence::Present);
    assert_eq!(presence[1], Presence::Gone);
    assert!(matches!(&presence[2], Presence::Unknown(r) if r.contains("999999999999")), "{presence:?}");
}
