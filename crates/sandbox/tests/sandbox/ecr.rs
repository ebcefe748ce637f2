//! ECR: pagination, limits, image details, deletions and cross-account registries.

use serde_json::{Value, json};
use skyglue_sandbox::World;
use skyglue_sandbox::demo::{demo_digest, demo_sha};

use crate::client::{STAGING_KEY, aws, aws_as, ok, walk};
use crate::worlds::{sized_world, start};

#[tokio::test]
async fn describe_images_pages_at_the_default_of_100_around_the_boundary() {
    for n in [99, 100, 101] {
        let sb = start(sized_world(n)).await;
        let first = ok(&sb, "ecr:DescribeImages", json!({"repositoryName": "big"})).await;
        assert_eq!(first["imageDetails"].as_array().unwrap().len(), n.min(100), "n={n}");
        assert_eq!(first.get("nextToken").is_some(), n > 100, "n={n}");
        let (items, pages) =
            walk(&sb, "ecr:DescribeImages", json!({"repositoryName": "big"}), "imageDetails").await;
        assert_eq!(items.len(), n);
        assert_eq!(pages, n.div_ceil(100));
        let distinct: std::collections::HashSet<&str> =
            items.iter().map(|i| i["imageDigest"].as_str().unwrap()).collect();
        assert_eq!(distinct.len(), n);
    }
}

#[tokio::test]
async fn explicit_page_sizes_are_honoured_and_range_checked() {
    let sb = start(sized_world(25)).await;
    let (items, pages) =
        walk(&sb, "ecr:ListImages", json!({"repositoryName": "big", "maxResults": 10}), "imageIds").await;
    assert_eq!((items.len(), pages), (25, 3));
    let out = ok(&sb, "ecr:DescribeImages", json!({"repositoryName": "big", "maxResults": 1000})).await;
    assert_eq!(out["imageDetails"].as_array().unwrap().len(), 25);
    for bad in [0, 1001] {
        let r = aws(&sb, "ecr:DescribeImages", json!({"repositoryName": "big", "maxResults": bad})).await;
        assert_eq!((r.status, r.error_type()), (400, "InvalidParameterException".into()), "{bad}");
        assert!(r.json()["message"].as_str().unwrap().contains("maxResults"));
    }
    let r = aws(&sb, "ecr:DescribeRepositories", json!({"maxResults": 1001})).await;
    assert_eq!(r.error_type(), "InvalidParameterException");
    let r = aws(&sb, "ecr:DescribeImages", json!({"repositoryName": "big", "nextToken": "garbage"})).await;
    assert_eq!(r.error_type(), "InvalidParameterException");
}

#[tokio::test]
async fn repositories_page_and_batch_limits() {
    let sb = start(sized_world(101)).await;
    let (repos, pages) = walk(&sb, "ecr:DescribeRepositories", json!({}), "repositories").await;
    assert_eq!((repos.len(), pages), (101, 2));
    let names: Vec<String> = (1..=100).map(|i| format!("r{i}")).collect();
    let out = ok(&sb, "ecr:DescribeRepositories", json!({"repositoryNames": names})).await;
    assert_eq!(out["repositories"].as_array().unwrap().len(), 100);
    let too_many: Vec<String> = (0..101).map(|i| format!("r{i}")).collect();
    let r = aws(&sb, "ecr:DescribeRepositories", json!({"repositoryNames": too_many})).await;
    assert_eq!(r.error_type(), "InvalidParameterException");
    let r = aws(&sb, "ecr:DescribeRepositories", json!({"repositoryNames": ["r1"], "maxResults": 5})).await;
    assert_eq!(r.error_type(), "InvalidParameterException");
    let r = aws(&sb, "ecr:DescribeRepositories", json!({"repositoryNames": ["nope"]})).await;
    assert_eq!((r.status, r.error_type()), (400, "RepositoryNotFoundException".into()));
    assert_eq!(r.header("x-amzn-errortype"), Some("RepositoryNotFoundException"));
}

#[tokio::test]
async fn image_details_have_the_real_shape() {
    let sb = start(World::demo()).await;
    let ids = json!([{"imageTag": "aaa0001"}, {"imageDigest": demo_digest("untagged-old")}]);
    let out = ok(&sb, "ecr:DescribeImages", json!({"repositoryName": "web", "imageIds": ids})).await;
    let details = out["imageDetails"].as_array().unwrap();
    assert_eq!(details.len(), 2);
    assert_eq!(details[0]["imageTags"], json!(["aaa0001"]));
    assert_eq!(details[0]["registryId"], "111111111111");
    assert!(details[0]["imagePushedAt"].is_number());
    assert!(details[1].get("imageTags").is_none(), "untagged images omit imageTags");
    let repo =
        &ok(&sb, "ecr:DescribeRepositories", json!({"repositoryNames": ["web"]})).await["repositories"][0];
    assert_eq!(repo["repositoryUri"], "111111111111.dkr.ecr.us-east-1.amazonaws.com/web");
    assert_eq!(repo["repositoryArn"], "arn:aws:ecr:us-east-1:111111111111:repository/web");
    let untagged =
        ok(&sb, "ecr:DescribeImages", json!({"repositoryName": "web", "filter": {"tagStatus": "UNTAGGED"}}))
            .await;
    // two platform manifests, two old untagged images, two SBOMs
    assert_eq!(untagged["imageDetails"].as_array().unwrap().len(), 6);
}

#[tokio::test]
async fn referrers_report_their_subject_and_serve_it_in_their_manifest() {
    let sb = start(World::demo()).await;
    let ids = json!([{"imageDigest": demo_digest("bbb0011-sbom")}, {"imageDigest": demo_digest("bbb0011")}]);
    let out = ok(&sb, "ecr:DescribeImages", json!({"repositoryName": "web", "imageIds": ids})).await;
    let details = out["imageDetails"].as_array().unwrap();
    assert_eq!(details[0]["subjectManifestDigest"], demo_digest("bbb0011"));
    assert_eq!(details[0]["artifactMediaType"], "application/spdx+json");
    assert!(details[1].get("subjectManifestDigest").is_none(), "an image names no subject");
    let got = ok(&sb, "ecr:BatchGetImage", json!({"repositoryName": "web", "imageIds": [ids[0]]})).await;
    let manifest: Value = serde_json::from_str(got["images"][0]["imageManifest"].as_str().unwrap()).unwrap();
    assert_eq!(manifest["subject"]["digest"], demo_digest("bbb0011"));
    assert_eq!(manifest["artifactType"], "application/spdx+json");
}

#[tokio::test]
async fn describe_images_by_id_rejects_missing_images_and_bad_combinations() {
    let sb = start(World::demo()).await;
    let ids = json!([{"imageTag": "aaa0001"}, {"imageTag": "nope"}]);
    let r = aws(&sb, "ecr:DescribeImages", json!({"repositoryName": "web", "imageIds": ids})).await;
    assert_eq!(r.error_type(), "ImageNotFoundException");
    let r = aws(
        &sb,
        "ecr:DescribeImages",
        json!({"repositoryName": "web", "imageIds": [{"imageTag": "aaa0001"}], "maxResults": 5}),
    )
    .await;
    assert_eq!(r.error_type(), "InvalidParameterException");
    let many: Vec<Value> = (0..101).map(|_| json!({"imageTag": "aaa0001"})).collect();
    let r = aws(&sb, "ecr:DescribeImages", json!({"repositoryName": "web", "imageIds": many})).await;
    assert_eq!(r.error_type(), "InvalidParameterException");
}

#[tokio::test]
async fn batch_delete_image_changes_the_world_and_reports_failures() {
    let sb = start(World::demo()).await;
    let ids = json!([
        {"imageDigest": demo_digest("aaa0002")},
        {"imageDigest": demo_digest("aaa0009-amd64")},
        {"imageDigest": format!("sha256:{}", "0".repeat(64))},
    ]);
    let out = ok(&sb, "ecr:BatchDeleteImage", json!({"repositoryName": "web", "imageIds": ids})).await;
    assert_eq!(out["imageIds"], json!([{"imageDigest": demo_digest("aaa0002"), "imageTag": "aaa0002"}]));
    let codes: Vec<&str> =
        out["failures"].as_array().unwrap().iter().map(|f| f["failureCode"].as_str().unwrap()).collect();
    assert_eq!(codes, ["ImageReferencedByManifestList", "ImageNotFound"]);
    // Index first, then its children, in one batch.
    let ids = json!([
        {"imageDigest": demo_digest("aaa0009")},
        {"imageDigest": demo_digest("aaa0009-amd64")},
        {"imageDigest": demo_digest("aaa0009-arm64")},
    ]);
    let out = ok(&sb, "ecr:BatchDeleteImage", json!({"repositoryName": "web", "imageIds": ids})).await;
    assert_eq!(out["imageIds"].as_array().unwrap().len(), 3);
    assert_eq!(out["failures"], json!([]));
    let world = sb.world_snapshot();
    let web = &world.region("111111111111", "us-east-1").unwrap().repositories[0];
    let gone = ["aaa0002", "aaa0009", "aaa0009-amd64", "aaa0009-arm64"].map(demo_digest);
    assert!(web.images.iter().all(|i| !gone.contains(&i.digest)));
    assert_eq!(
        web.images.len(),
        World::demo().region("111111111111", "us-east-1").unwrap().repositories[0].images.len() - 4
    );
    let many: Vec<Value> = (0..101).map(|_| json!({"imageTag": "x"})).collect();
    let r = aws(&sb, "ecr:BatchDeleteImage", json!({"repositoryName": "web", "imageIds": many})).await;
    assert_eq!(r.error_type(), "InvalidParameterException");
}

#[tokio::test]
async fn deleting_by_tag_removes_only_that_tag_while_others_remain() {
    let sb = start(World::demo()).await;
    let out = ok(
        &sb,
        "ecr:BatchDeleteImage",
        json!({"repositoryName": "web", "imageIds": [{"imageTag": "latest"}]}),
    )
    .await;
    assert_eq!(out["imageIds"][0]["imageTag"], "latest");
    let d = ok(
        &sb,
        "ecr:DescribeImages",
        json!({"repositoryName": "web", "imageIds": [{"imageTag": "bbb0011"}]}),
    )
    .await;
    assert_eq!(d["imageDetails"][0]["imageTags"], json!(["bbb0011"]));
    let full = demo_sha("aaa0008");
    let d = ok(&sb, "ecr:DescribeImages", json!({"repositoryName": "web", "imageIds": [{"imageTag": full}]}))
        .await;
    assert_eq!(d["imageDetails"][0]["imageDigest"], demo_digest("aaa0008"));
}

#[tokio::test]
async fn accounts_and_regions_are_isolated_by_access_key_and_region() {
    let sb = start(World::demo()).await;
    let names = |v: &Value| -> Vec<String> {
        v["repositories"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["repositoryName"].as_str().unwrap().to_owned())
            .collect()
    };
    let prod = ok(&sb, "ecr:DescribeRepositories", json!({})).await;
    assert_eq!(names(&prod), ["web", "base-images"]);
    let prod_eu =
        aws_as(&sb, "SANDBOX111111111111", "eu-west-1", "ecr:DescribeRepositories", json!({})).await;
    assert!(names(&prod_eu.json()).is_empty());
    let staging = aws_as(&sb, STAGING_KEY, "us-east-1", "ecr:DescribeRepositories", json!({})).await;
    assert!(names(&staging.json()).is_empty());
    let r =
        aws_as(&sb, STAGING_KEY, "us-east-1", "ecr:DescribeImages", json!({"repositoryName": "web"})).await;
    assert_eq!(r.error_type(), "RepositoryNotFoundException");
    // Cross-account reads name the registry explicitly.
    let cross = aws_as(
        &sb,
        STAGING_KEY,
        "us-east-1",
        "ecr:DescribeRepositories",
        json!({"registryId": "111111111111"}),
    )
    .await;
    assert_eq!(names(&cross.json()), ["web", "base-images"]);
    // An unknown key acts as the first account.
    let unknown = aws_as(&sb, "AKIAUNKNOWN", "us-east-1", "ecr:DescribeRepositories", json!({})).await;
    assert_eq!(names(&unknown.json()), ["web", "base-images"]);
}
