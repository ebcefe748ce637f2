//! ECR's archive storage class: UpdateImageStorageClass, the image status
//! filter of DescribeImages and ListImages (ACTIVE only by default), pulls
//! refused while an image is archived or restoring, and restores that pass
//! through ACTIVATING to ACTIVE after the configured delay.

use std::time::Duration;

use serde_json::{Value, json};
use skyglue_sandbox::{Sandbox, SandboxConfig};

use crate::client::{aws, ok};
use crate::worlds::sized_world;

const REPO: &str = "big";

fn digest(i: usize) -> String {
    format!("sha256:{i:064x}")
}

async fn start(restore_delay: Duration) -> Sandbox {
    let config = SandboxConfig { ecr_restore_delay: restore_delay, ..SandboxConfig::default() };
    Sandbox::start(sized_world(3), config).await.unwrap()
}

async fn move_to(sb: &Sandbox, i: usize, class: &str) -> Value {
    let body =
        json!({"repositoryName": REPO, "imageId": {"imageDigest": digest(i)}, "targetStorageClass": class});
    ok(sb, "ecr:UpdateImageStorageClass", body).await
}

async fn listed(sb: &Sandbox, status: Option<&str>) -> Vec<Value> {
    let mut body = json!({"repositoryName": REPO});
    if let Some(status) = status {
        body["filter"] = json!({"imageStatus": status});
    }
    ok(sb, "ecr:DescribeImages", body).await["imageDetails"].as_array().unwrap().clone()
}

#[tokio::test]
async fn an_archived_image_is_listed_only_when_the_filter_asks_and_cannot_be_pulled() {
    let sb = start(Duration::from_secs(3600)).await;
    let out = move_to(&sb, 0, "ARCHIVE").await;
    assert_eq!(out["imageStatus"], "ARCHIVED");

    assert_eq!(listed(&sb, None).await.len(), 2, "DescribeImages lists only ACTIVE images by default");
    let archived = listed(&sb, Some("ARCHIVED")).await;
    assert_eq!(archived.len(), 1);
    assert_eq!(
        (archived[0]["imageDigest"].as_str(), archived[0]["imageStatus"].as_str()),
        (Some(&*digest(0)), Some("ARCHIVED"))
    );
    assert!(archived[0]["lastArchivedAt"].is_number());
    assert_eq!(listed(&sb, Some("ANY")).await.len(), 3);
    let ids = ok(&sb, "ecr:ListImages", json!({"repositoryName": REPO})).await;
    assert_eq!(ids["imageIds"].as_array().unwrap().len(), 2);

    let by_id = json!({"repositoryName": REPO, "imageIds": [{"imageDigest": digest(0)}]});
    assert_eq!(aws(&sb, "ecr:DescribeImages", by_id.clone()).await.error_type(), "ImageNotFoundException");
    let mut any = by_id.clone();
    any["filter"] = json!({"imageStatus": "ANY"});
    assert_eq!(ok(&sb, "ecr:DescribeImages", any).await["imageDetails"][0]["imageStatus"], "ARCHIVED");

    let pulled = ok(&sb, "ecr:BatchGetImage", by_id).await;
    assert!(pulled["images"].as_array().unwrap().is_empty());
    assert_eq!(pulled["failures"][0]["failureCode"], "ImageInaccessible");

    let again = json!({"repositoryName": REPO, "imageId": {"imageDigest": digest(0)}, "targetStorageClass": "ARCHIVE"});
    let r = aws(&sb, "ecr:UpdateImageStorageClass", again).await;
    assert_eq!(r.error_type(), "ImageStorageClassUpdateNotSupportedException");
    let bad = json!({"repositoryName": REPO, "filter": {"imageStatus": "archived"}});
    assert_eq!(aws(&sb, "ecr:DescribeImages", bad).await.error_type(), "InvalidParameterException");
}

#[tokio::test]
async fn a_restore_is_activating_until_its_delay_has_passed() {
    let slow = start(Duration::from_secs(3600)).await;
    move_to(&slow, 1, "ARCHIVE").await;
    assert_eq!(move_to(&slow, 1, "STANDARD").await["imageStatus"], "ACTIVATING");
    assert_eq!(listed(&slow, Some("ACTIVATING")).await.len(), 1);
    assert_eq!(listed(&slow, None).await.len(), 2, "not ACTIVE yet");
    let pull = json!({"repositoryName": REPO, "imageIds": [{"imageDigest": digest(1)}]});
    assert_eq!(ok(&slow, "ecr:BatchGetImage", pull).await["failures"][0]["failureCode"], "ImageInaccessible");
    let restore_again = json!({"repositoryName": REPO, "imageId": {"imageDigest": digest(1)}, "targetStorageClass": "STANDARD"});
    let r = aws(&slow, "ecr:UpdateImageStorageClass", restore_again.clone()).await;
    assert_eq!(r.error_type(), "ImageStorageClassUpdateNotSupportedException");

    let fast = start(Duration::ZERO).await;
    move_to(&fast, 1, "ARCHIVE").await;
    move_to(&fast, 1, "STANDARD").await;
    let all = listed(&fast, None).await;
    let restored = all.iter().find(|i| i["imageDigest"] == digest(1)).expect("ACTIVE again");
    assert_eq!(restored["imageStatus"], "ACTIVE");
    assert!(restored["lastActivatedAt"].is_number() && restored["lastArchivedAt"].is_number());
    let pull = json!({"repositoryName": REPO, "imageIds": [{"imageDigest": digest(1)}]});
    assert_eq!(ok(&fast, "ecr:BatchGetImage", pull).await["images"].as_array().unwrap().len(), 1);
    let r = aws(&fast, "ecr:UpdateImageStorageClass", restore_again).await;
    assert_eq!(
        r.error_type(),
        "ImageStorageClassUpdateNotSupportedException",
        "an ACTIVE image is not restored"
    );
}

#[tokio::test]
async fn an_archived_image_can_be_deleted() {
    let sb = start(Duration::ZERO).await;
    move_to(&sb, 2, "ARCHIVE").await;
    let out = ok(
        &sb,
        "ecr:BatchDeleteImage",
        json!({"repositoryName": REPO, "imageIds": [{"imageDigest": digest(2)}]}),
    )
    .await;
    assert_eq!(out["imageIds"].as_array().unwrap().len(), 1, "{out}");
    assert_eq!(listed(&sb, Some("ANY")).await.len(), 2);
}
