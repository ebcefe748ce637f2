//! The image graph against the sandbox, with policies that select everything
//! so only the check can save an image: a kept image keeps its index
//! children, its cosign signature and its SBOM; a deleted image takes its
//! signature and SBOM with it (added by the check, noted beside them, and
//! counted against `max_deletes`); the shipped cleanup leaves no referrer
//! behind. The demo world's `aaa0002` (unused) and `bbb0011` (in use) are
//! each signed (a `sha256-<hex>.sig` tag) and carry an SBOM (OCI `subject`).

use skyglue_core::sink::Status;
use skyglue_policy::report::ActionReport;
use skyglue_policy::{RunOptions, RunStatus};
use skyglue_sandbox::demo::demo_digest;
use skyglue_sandbox::{SandboxConfig, World};

use crate::policy_runner::{PolicyEnv, policy_env, write_policy};
use crate::support::{Env, pretty};

const PROD: &str = "111111111111";

fn options(apply: bool) -> RunOptions {
    RunOptions { apply, params: vec![], notify: Some(false) }
}

/// The demo world, where the in-use `aaa0003` is also an index listing `aaa0009-amd64`.
fn world() -> World {
    let mut world = World::demo();
    let web = world
        .region_mut(PROD, "us-east-1")
        .and_then(|r| r.repositories.iter_mut().find(|r| r.name == "web"))
        .expect("the demo's web repository");
    let image = web.images.iter_mut().find(|i| i.digest == demo_digest("aaa0003")).expect("aaa0003");
    image.manifest_media_type = skyglue_sandbox::world::OCI_IMAGE_INDEX.into();
    image.artifact_media_type = None;
    image.child_digests = vec![demo_digest("aaa0009-amd64")];
    world
}

fn web_digests(env: &PolicyEnv) -> Vec<String> {
    let world = env.sandbox.world_snapshot();
    world
        .region(PROD, "us-east-1")
        .and_then(|r| r.repositories.iter().find(|r| r.name == "web"))
        .map(|r| r.images.iter().map(|i| i.digest.clone()).collect())
        .unwrap_or_default()
}

async fn run(env: &PolicyEnv, name: &str, policy: &str) -> skyglue_policy::Report {
    let path = write_policy(env.dir.path(), name, policy);
    env.runner.run(env.runner.prepare(&path, &options(true)).await.unwrap()).await.report
}

fn action<'a>(report: &'a skyglue_policy::Report, label: &str) -> &'a ActionReport {
    let digest = demo_digest(label);
    report
        .actions
        .iter()
        .find(|a| a.target.get("image_digest") == Some(digest.as_str()))
        .unwrap_or_else(|| panic!("{label} is in the report: {:#?}", report.actions))
}

const EVERY_WEB_IMAGE: &str = "-- @action: delete_ecr_images\n-- @max_deletes: 100\n\
    SELECT account_id, region, registry_id, repository_name, image_digest FROM aws_ecr_image \
    WHERE repository_name = 'web'";

#[tokio::test]
async fn a_kept_image_keeps_its_children_signature_and_sbom() {
    let env = policy_env(world(), SandboxConfig::default()).await;
    let report = run(&env, "every.sql", EVERY_WEB_IMAGE).await;
    let kept = demo_digest("bbb0011");
    for label in ["bbb0011-sig", "bbb0011-sbom"] {
        let a = action(&report, label);
        assert_eq!(a.status, Status::Skipped, "{label}: {a:?}");
        assert_eq!(a.reason.as_deref(), Some(format!("referrer of kept image {kept}").as_str()), "{label}");
    }
    let amd = action(&report, "aaa0009-amd64");
    assert_eq!(amd.status, Status::Skipped, "{amd:?}");
    assert_eq!(amd.reason, Some(format!("referenced by image index {}", demo_digest("aaa0003"))));
    for label in ["aaa0002", "aaa0002-sig", "aaa0002-sbom", "aaa0009", "aaa0009-arm64"] {
        assert_eq!(action(&report, label).status, Status::Done, "{label}");
    }
    let left = web_digests(&env);
    for label in ["bbb0011", "bbb0011-sig", "bbb0011-sbom", "aaa0003", "aaa0009-amd64"] {
        assert!(left.contains(&demo_digest(label)), "{label} stays");
    }
    for label in ["aaa0002", "aaa0002-sig", "aaa0002-sbom"] {
        assert!(!left.contains(&demo_digest(label)), "{label} is gone");
    }
}

#[tokio::test]
async fn a_deleted_image_takes_its_signature_and_sbom() {
    let env = policy_env(world(), SandboxConfig::default()).await;
    let policy = format!(
        "-- @action: delete_ecr_images\n-- @max_deletes: 3\n\
         SELECT account_id, region, registry_id, repository_name, image_digest FROM aws_ecr_image \
         WHERE repository_name = 'web' AND image_digest = '{}'",
        demo_digest("aaa0002")
    );
    let report = run(&env, "one.sql", &policy).await;
    assert_eq!(report.status, RunStatus::Ok, "{:#?}", report.actions);
    assert_eq!(report.actions.len(), 3, "{:#?}", report.actions);
    assert_eq!(report.summary.planned, 3, "the referrers are planned too");
    let subject = demo_digest("aaa0002");
    for label in ["aaa0002-sig", "aaa0002-sbom"] {
        let a = action(&report, label);
        assert_eq!(a.status, Status::Done, "{label}: {a:?}");
        assert_eq!(a.reason, Some(format!("referrer of {subject}")), "{label}: noted beside its image");
    }
    let text = report.to_text();
    assert!(text.contains(&format!("referrer of {subject}")), "{text}");
    let left = web_digests(&env);
    for label in ["aaa0002", "aaa0002-sig", "aaa0002-sbom"] {
        assert!(!left.contains(&demo_digest(label)), "{label} is gone");
    }
}

#[tokio::test]
async fn referrers_count_against_max_deletes() {
    let env = policy_env(world(), SandboxConfig::default()).await;
    let before = env.sandbox.world_snapshot();
    let policy = format!(
        "-- @action: delete_ecr_images\n-- @max_deletes: 2\n\
         SELECT account_id, region, registry_id, repository_name, image_digest FROM aws_ecr_image \
         WHERE repository_name = 'web' AND image_digest = '{}'",
        demo_digest("aaa0002")
    );
    let report = run(&env, "over.sql", &policy).await;
    assert_eq!(report.status, RunStatus::Failed, "{:#?}", report.actions);
    assert!(report.error.as_deref().is_some_and(|e| e.contains("@max_deletes 2")), "{:?}", report.error);
    assert!(report.actions.iter().all(|a| a.status == Status::Skipped), "{:#?}", report.actions);
    assert_eq!(env.sandbox.calls().get("ecr:BatchDeleteImage").copied().unwrap_or(0), 0);
    assert_eq!(env.sandbox.world_snapshot(), before, "nothing was deleted");
}

#[tokio::test]
async fn the_shipped_cleanup_leaves_no_referrer_behind() {
    let env = policy_env(World::demo(), SandboxConfig::default()).await;
    let report = run(&env, "ecr_cleanup.sql", include_str!("../../../../queries/ecr_cleanup.sql")).await;
    assert_eq!(report.status, RunStatus::Ok, "{:#?}", report.actions);
    for label in ["aaa0002-sig", "aaa0002-sbom"] {
        assert_eq!(action(&report, label).status, Status::Done, "{label}");
    }
    let left = web_digests(&env);
    for label in ["bbb0011-sig", "bbb0011-sbom"] {
        assert!(left.contains(&demo_digest(label)), "{label} stays with its image");
    }
    for label in ["aaa0002", "aaa0002-sig", "aaa0002-sbom"] {
        assert!(!left.contains(&demo_digest(label)), "{label} is gone");
    }
}

#[tokio::test]
async fn the_reference_table_lists_children_and_referrers() {
    let env = Env::start(World::demo()).await;
    let batches = env
        .query(
            "SELECT image_digest, kind, referenced_digest FROM aws_ecr_image_reference \
             WHERE repository_name = 'web' AND account_id = '111111111111' AND region = 'us-east-1' \
             ORDER BY kind, referenced_digest, image_digest",
        )
        .await;
    let text = pretty(&batches);
    let row = |image: &str, kind: &str, referenced: &str| {
        format!("| {} | {kind} | {} |", demo_digest(image), demo_digest(referenced))
    };
    for (image, kind, referenced) in [
        ("aaa0009", "child", "aaa0009-amd64"),
        ("aaa0009", "child", "aaa0009-arm64"),
        ("aaa0002-sig", "referrer", "aaa0002"),
        ("aaa0002-sbom", "referrer", "aaa0002"),
        ("bbb0011-sig", "referrer", "bbb0011"),
        ("bbb0011-sbom", "referrer", "bbb0011"),
    ] {
        let want = row(image, kind, referenced);
        assert!(text.lines().any(|l| l.replace(' ', "").contains(&want.replace(' ', ""))), "{want}\n{text}");
    }
    assert_eq!(crate::support::rows(&batches), 6, "{text}");
    let subjects = env
        .count(&format!(
            "SELECT count(*) FROM aws_ecr_image WHERE repository_name = 'web' AND subject_digest = '{}'",
            demo_digest("bbb0011")
        ))
        .await;
    assert_eq!(subjects, 1, "the SBOM names its image; the cosign signature has no subject");
}
