//! Amazon ECR over AWS JSON 1.1 (`X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.<Op>`):
//! DescribeRepositories, DescribeImages, ListImages, BatchDeleteImage, BatchGetImage and
//! UpdateImageStorageClass, with the documented page sizes and batch limits.
//!
//! The archive storage class (see `ecr_storage`): DescribeImages and ListImages list
//! only ACTIVE images unless `filter.imageStatus` says ARCHIVED, ACTIVATING or ANY (an
//! image named in `imageIds` whose status the filter leaves out is not found);
//! BatchGetImage refuses an archived or restoring image (`ImageInaccessible`: it cannot
//! be pulled); BatchDeleteImage deletes it like any other.
//!
//! The image graph as ECR reports it: DescribeImages gives a referrer's
//! `subjectManifestDigest` and an image's `artifactMediaType` (none for an
//! index), and BatchGetImage serves each manifest: an index lists its
//! children, a referrer names its `subject`. Deleting an image leaves its
//! referrers, as ECR does.
//!
//! `registryId` may name another account of the world: the sandbox behaves as if every
//! repository had a policy allowing cross-account reads and deletes.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::aws::{AwsError, Caller, PageRule, check_batch, epoch, input, page, with_token};
use crate::world::{Image, Repository, World, repository_arn, repository_uri};

const REPOS_PAGE: PageRule = PageRule { default: 100, max: 1000 };
const IMAGES_PAGE: PageRule = PageRule { default: 100, max: 1000 };

/// Answers one ECR operation.
pub(crate) fn handle(
    world: &mut World,
    caller: &Caller,
    op: &str,
    body: &Value,
    restore_delay: Duration,
) -> Result<Value, AwsError> {
    match op {
        "DescribeRepositories" => describe_repositories(world, caller, input(body)?),
        "DescribeImages" => describe_images(world, caller, input(body)?),
        "ListImages" => list_images(world, caller, input(body)?),
        "BatchDeleteImage" => batch_delete_image(world, caller, input(body)?),
        "BatchGetImage" => batch_get_image(world, caller, input(body)?),
        "ListTagsForResource" => list_tags_for_resource(world, caller, input(body)?),
        "UpdateImageStorageClass" => update_image_storage_class(world, caller, input(body)?, restore_delay),
        _ => Err(AwsError::new(
            "UnknownOperationException",
            format!("the sandbox does not implement ECR {op}"),
        )),
    }
}

#[derive(Debug, Deserialize, Default, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
struct ImageId {
    image_digest: Option<String>,
    image_tag: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct TagFilter {
    tag_status: Option<String>,
    image_status: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TagsInput {
    resource_arn: String,
}

/// The tags of the repository `resourceArn` names (in the caller's account and region).
fn list_tags_for_resource(world: &World, caller: &Caller, req: TagsInput) -> Result<Value, AwsError> {
    let name = req.resource_arn.rsplit_once(":repository/").map(|(_, n)| n).unwrap_or_default();
    let repo = repository(world, &caller.account, &caller.region, name)?;
    if repository_arn(&caller.region, &caller.account, &repo.name) != req.resource_arn {
        return Err(not_found(name, &caller.account));
    }
    let tags: Vec<Value> = repo.tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect();
    Ok(json!({ "tags": tags }))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DescribeRepositoriesInput {
    registry_id: Option<String>,
    repository_names: Option<Vec<String>>,
    next_token: Option<String>,
    max_results: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ImagesInput {
    registry_id: Option<String>,
    repository_name: String,
    image_ids: Option<Vec<ImageId>>,
    next_token: Option<String>,
    max_results: Option<i64>,
    #[serde(default)]
    filter: TagFilter,
}

/// The registry (account) a request addresses: `registryId`, else the caller's.
fn registry<'a>(caller: &'a Caller, registry_id: &'a Option<String>) -> &'a str {
    registry_id.as_deref().unwrap_or(&caller.account)
}

fn repositories<'w>(world: &'w World, account: &str, region: &str) -> &'w [Repository] {
    world.region(account, region).map(|r| r.repositories.as_slice()).unwrap_or_default()
}

fn not_found(name: &str, account: &str) -> AwsError {
    AwsError::new(
        "RepositoryNotFoundException",
        format!("The repository with name '{name}' does not exist in the registry with id '{account}'"),
    )
}

fn repository<'w>(
    world: &'w World,
    account: &str,
    region: &str,
    name: &str,
) -> Result<&'w Repository, AwsError> {
    repositories(world, account, region)
        .iter()
        .find(|r| r.name == name)
        .ok_or_else(|| not_found(name, account))
}

fn repository_json(account: &str, region: &str, repo: &Repository) -> Value {
    json!({
        "repositoryArn": repository_arn(region, account, &repo.name),
        "registryId": account,
        "repositoryName": repo.name,
        "repositoryUri": repository_uri(region, account, &repo.name),
        "createdAt": epoch(&repo.created_at),
        "imageTagMutability": repo.image_tag_mutability,
        "imageScanningConfiguration": {"scanOnPush": false},
        "encryptionConfiguration": {"encryptionType": "AES256"},
    })
}

fn describe_repositories(
    world: &World,
    caller: &Caller,
    req: DescribeRepositoriesInput,
) -> Result<Value, AwsError> {
    let account = registry(caller, &req.registry_id);
    let all = repositories(world, account, &caller.region);
    if let Some(names) = &req.repository_names {
        if req.next_token.is_some() || req.max_results.is_some() {
            return Err(AwsError::invalid("repositoryNames cannot be used with nextToken or maxResults"));
        }
        check_batch("repositoryNames", names.len(), 100)?;
        let found = names
            .iter()
            .map(|name| repository(world, account, &caller.region, name))
            .collect::<Result<Vec<_>, _>>()?;
        let repos: Vec<Value> =
            found.into_iter().map(|r| repository_json(account, &caller.region, r)).collect();
        return Ok(json!({ "repositories": repos }));
    }
    let p = page(all.len(), req.next_token.as_deref(), req.max_results, REPOS_PAGE)?;
    let repos: Vec<Value> =
        all[p.start..p.end].iter().map(|r| repository_json(account, &caller.region, r)).collect();
    Ok(with_token(json!({ "repositories": repos }), &p))
}

fn image_json(account: &str, repo: &str, image: &Image, now: DateTime<Utc>) -> Value {
    let mut detail = json!({
        "registryId": account,
        "repositoryName": repo,
        "imageDigest": image.digest,
        "imageSizeInBytes": image.size_in_bytes,
        "imagePushedAt": epoch(&image.pushed_at),
        "imageManifestMediaType": image.manifest_media_type,
        "imageStatus": image.storage.status(now),
    });
    // Untagged images have no `imageTags` member at all, as in the real API.
    if let Some(obj) = detail.as_object_mut() {
        if !image.tags.is_empty() {
            obj.insert("imageTags".to_owned(), json!(image.tags));
        }
        if let Some(t) = &image.last_recorded_pull_time {
            obj.insert("lastRecordedPullTime".to_owned(), epoch(t));
        }
        if let Some(m) = &image.artifact_media_type {
            obj.insert("artifactMediaType".to_owned(), json!(m));
        }
        if let Some(d) = &image.subject_digest {
            obj.insert("subjectManifestDigest".to_owned(), json!(d));
        }
        if let Some(t) = &image.storage.last_archived_at {
            obj.insert("lastArchivedAt".to_owned(), epoch(t));
        }
        if let Some(t) = &image.storage.activated_at(now) {
            obj.insert("lastActivatedAt".to_owned(), epoch(t));
        }
    }
    detail
}

/// The statuses `filter.imageStatus` lets through (ACTIVE when absent, as in
/// ECR), or InvalidParameterException for a value ECR does not know.
fn status_filter(filter: &TagFilter) -> Result<&'static [&'static str], AwsError> {
    Ok(match filter.image_status.as_deref() {
        None | Some("ACTIVE") => &["ACTIVE"],
        Some("ARCHIVED") => &["ARCHIVED"],
        Some("ACTIVATING") => &["ACTIVATING"],
        Some("ANY") => &["ACTIVE", "ARCHIVED", "ACTIVATING"],
        Some(other) => {
            return Err(AwsError::invalid(format!(
                "Invalid parameter at 'filter.imageStatus' failed to satisfy constraint: \
                 Member must satisfy enum value set: [ACTIVE, ARCHIVED, ACTIVATING, ANY], got {other}"
            )));
        }
    })
}

fn tag_status_matches(filter: &TagFilter, image: &Image) -> bool {
    match filter.tag_status.as_deref() {
        Some("TAGGED") => !image.tags.is_empty(),
        Some("UNTAGGED") => image.tags.is_empty(),
        _ => true,
    }
}

fn find_image<'r>(repo: &'r Repository, id: &ImageId) -> Option<&'r Image> {
    repo.images.iter().find(|image| {
        id.image_digest.as_ref().is_none_or(|d| &image.digest == d)
            && id.image_tag.as_ref().is_none_or(|t| image.tags.contains(t))
            && (id.image_digest.is_some() || id.image_tag.is_some())
    })
}

fn describe_images(world: &World, caller: &Caller, req: ImagesInput) -> Result<Value, AwsError> {
    let account = registry(caller, &req.registry_id);
    let repo = repository(world, account, &caller.region, &req.repository_name)?;
    let now = Utc::now();
    let statuses = status_filter(&req.filter)?;
    let shown = |image: &Image| statuses.contains(&image.storage.status(now));
    if let Some(ids) = &req.image_ids {
        if req.next_token.is_some() || req.max_results.is_some() {
            return Err(AwsError::invalid("imageIds cannot be used with nextToken or maxResults"));
        }
        check_batch("imageIds", ids.len(), 100)?;
        // Like ECR (and moto), one missing image fails the whole call.
        let mut details = Vec::with_capacity(ids.len());
        for id in ids {
            let image = find_image(repo, id).filter(|i| shown(i)).ok_or_else(|| {
                AwsError::new(
                    "ImageNotFoundException",
                    format!(
                        "The image with imageId {{imageDigest:'{}', imageTag:'{}'}} does not exist \
                         within the repository with name '{}' in the registry with id '{account}'",
                        id.image_digest.as_deref().unwrap_or("null"),
                        id.image_tag.as_deref().unwrap_or("null"),
                        repo.name
                    ),
                )
            })?;
            if !details.iter().any(|d: &&Image| d.digest == image.digest) {
                details.push(image);
            }
        }
        let details: Vec<Value> =
            details.into_iter().map(|i| image_json(account, &repo.name, i, now)).collect();
        return Ok(json!({ "imageDetails": details }));
    }
    let matching: Vec<&Image> =
        repo.images.iter().filter(|i| tag_status_matches(&req.filter, i) && shown(i)).collect();
    let p = page(matching.len(), req.next_token.as_deref(), req.max_results, IMAGES_PAGE)?;
    let details: Vec<Value> =
        matching[p.start..p.end].iter().map(|i| image_json(account, &repo.name, i, now)).collect();
    Ok(with_token(json!({ "imageDetails": details }), &p))
}

fn list_images(world: &World, caller: &Caller, req: ImagesInput) -> Result<Value, AwsError> {
    let account = registry(caller, &req.registry_id);
    let repo = repository(world, account, &caller.region, &req.repository_name)?;
    let now = Utc::now();
    let statuses = status_filter(&req.filter)?;
    // One entry per tag, or one digest-only entry for an untagged image.
    let ids: Vec<Value> = repo
        .images
        .iter()
        .filter(|i| tag_status_matches(&req.filter, i) && statuses.contains(&i.storage.status(now)))
        .flat_map(|i| {
            if i.tags.is_empty() {
                vec![json!({ "imageDigest": i.digest })]
            } else {
                i.tags.iter().map(|t| json!({ "imageDigest": i.digest, "imageTag": t })).collect()
            }
        })
        .collect();
    let p = page(ids.len(), req.next_token.as_deref(), req.max_results, IMAGES_PAGE)?;
    Ok(with_token(json!({ "imageIds": ids[p.start..p.end] }), &p))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BatchDeleteInput {
    registry_id: Option<String>,
    repository_name: String,
    image_ids: Vec<ImageId>,
}

fn failure(id: &ImageId, code: &str, reason: impl Into<String>) -> Value {
    json!({ "imageId": id_json(id), "failureCode": code, "failureReason": reason.into() })
}

fn id_json(id: &ImageId) -> Value {
    let mut v = json!({});
    if let Some(obj) = v.as_object_mut() {
        if let Some(d) = &id.image_digest {
            obj.insert("imageDigest".to_owned(), json!(d));
        }
        if let Some(t) = &id.image_tag {
            obj.insert("imageTag".to_owned(), json!(t));
        }
    }
    v
}

fn valid_digest(d: &str) -> bool {
    d.strip_prefix("sha256:").is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn batch_delete_image(world: &mut World, caller: &Caller, req: BatchDeleteInput) -> Result<Value, AwsError> {
    let account = registry(caller, &req.registry_id).to_owned();
    check_batch("imageIds", req.image_ids.len(), 100)?;
    repository(world, &account, &caller.region, &req.repository_name)?;
    let repo = world
        .region_mut(&account, &caller.region)
        .and_then(|r| r.repositories.iter_mut().find(|r| r.name == req.repository_name))
        .ok_or_else(|| not_found(&req.repository_name, &account))?;
    let mut deleted = Vec::new();
    let mut failures = Vec::new();
    for id in &req.image_ids {
        match delete_one(repo, id) {
            Ok(ids) => deleted.extend(ids),
            Err(f) => failures.push(f),
        }
    }
    Ok(json!({ "imageIds": deleted, "failures": failures }))
}

/// Deletes by digest (the image and all its tags) or by tag (only the tag, and the
/// image with its last tag); returns the deleted ids or a per-id failure.
fn delete_one(repo: &mut Repository, id: &ImageId) -> Result<Vec<Value>, Value> {
    if let Some(d) = &id.image_digest
        && !valid_digest(d)
    {
        return Err(failure(
            id,
            "InvalidImageDigest",
            "Invalid request parameters: image digest should satisfy the regex 'sha256:[a-f0-9]{64}'",
        ));
    }
    if id.image_digest.is_none() && id.image_tag.is_none() {
        return Err(failure(
            id,
            "MissingDigestAndTag",
            "Invalid request parameters: both tag and digest cannot be null",
        ));
    }
    let Some(pos) = repo.images.iter().position(|image| {
        id.image_digest.as_ref().is_none_or(|d| &image.digest == d)
            && id.image_tag.as_ref().is_none_or(|t| image.tags.contains(t))
    }) else {
        if let (Some(d), Some(_)) = (&id.image_digest, &id.image_tag)
            && repo.images.iter().any(|i| &i.digest == d)
        {
            return Err(failure(
                id,
                "ImageTagDoesNotMatchDigest",
                "Invalid request parameters: given tag does not match the digest",
            ));
        }
        return Err(failure(id, "ImageNotFound", "Requested image not found"));
    };
    let digest = repo.images[pos].digest.clone();
    let parents: Vec<String> =
        repo.images.iter().filter(|i| i.child_digests.contains(&digest)).map(|i| i.digest.clone()).collect();
    let by_tag_only = id.image_digest.is_none();
    let image = &mut repo.images[pos];
    if by_tag_only && image.tags.len() > 1 {
        image.tags.retain(|t| Some(t) != id.image_tag.as_ref());
        return Ok(vec![json!({ "imageDigest": digest, "imageTag": id.image_tag })]);
    }
    if !parents.is_empty() {
        return Err(failure(
            id,
            "ImageReferencedByManifestList",
            format!("Requested image referenced by manifest list: [{}]", parents.join(", ")),
        ));
    }
    let image = repo.images.remove(pos);
    if image.tags.is_empty() {
        return Ok(vec![json!({ "imageDigest": image.digest })]);
    }
    Ok(image.tags.iter().map(|t| json!({ "imageDigest": image.digest, "imageTag": t })).collect())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BatchGetInput {
    registry_id: Option<String>,
    repository_name: String,
    image_ids: Vec<ImageId>,
}

/// The manifest the sandbox serves for an image: an OCI index listing its
/// `child_digests`, or a minimal image manifest whose config has the image's
/// artifact media type, with the `subject` a referrer names.
fn manifest(image: &Image) -> String {
    let mut doc = if image.child_digests.is_empty() {
        let config = image.artifact_media_type.as_deref().unwrap_or(crate::world::DOCKER_CONFIG);
        json!({
            "schemaVersion": 2,
            "mediaType": image.manifest_media_type,
            "config": { "mediaType": config, "digest": format!("sha256:{}", "0".repeat(64)), "size": 2 },
            "layers": [],
        })
    } else {
        let manifests: Vec<Value> = image
            .child_digests
            .iter()
            .map(|d| json!({ "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": d, "size": 1000 }))
            .collect();
        json!({ "schemaVersion": 2, "mediaType": image.manifest_media_type, "manifests": manifests })
    };
    if let (Some(subject), Some(obj)) = (&image.subject_digest, doc.as_object_mut()) {
        obj.insert(
            "subject".to_owned(),
            json!({ "mediaType": crate::world::DOCKER_MANIFEST_V2, "digest": subject, "size": 1000 }),
        );
        if let Some(artifact) = &image.artifact_media_type {
            obj.insert("artifactType".to_owned(), json!(artifact));
        }
    }
    doc.to_string()
}

/// BatchGetImage: manifests of up to 100 images; missing ones are `failures`.
fn batch_get_image(world: &World, caller: &Caller, req: BatchGetInput) -> Result<Value, AwsError> {
    let account = registry(caller, &req.registry_id);
    check_batch("imageIds", req.image_ids.len(), 100)?;
    let repo = repository(world, account, &caller.region, &req.repository_name)?;
    let now = Utc::now();
    let mut images = Vec::new();
    let mut failures = Vec::new();
    for id in &req.image_ids {
        match find_image(repo, id) {
            Some(image) if !image.storage.pullable(now) => failures.push(failure(
                id,
                "ImageInaccessible",
                format!(
                    "The image is {}: restore it to standard storage to pull it",
                    image.storage.status(now)
                ),
            )),
            Some(image) => images.push(json!({
                "registryId": account,
                "repositoryName": repo.name,
                "imageId": { "imageDigest": image.digest },
                "imageManifest": manifest(image),
                "imageManifestMediaType": image.manifest_media_type,
            })),
            None => failures.push(failure(id, "ImageNotFound", "Requested image not found")),
        }
    }
    Ok(json!({ "images": images, "failures": failures }))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StorageClassInput {
    registry_id: Option<String>,
    repository_name: String,
    image_id: ImageId,
    target_storage_class: String,
}

/// UpdateImageStorageClass: one image to ARCHIVE (from ACTIVE) or back to
/// STANDARD (from ARCHIVED: ACTIVATING for `restore_delay`, then ACTIVE). Any
/// other move is `ImageStorageClassUpdateNotSupportedException`.
fn update_image_storage_class(
    world: &mut World,
    caller: &Caller,
    req: StorageClassInput,
    restore_delay: Duration,
) -> Result<Value, AwsError> {
    let account = registry(caller, &req.registry_id).to_owned();
    repository(world, &account, &caller.region, &req.repository_name)?;
    let repo = world
        .region_mut(&account, &caller.region)
        .and_then(|r| r.repositories.iter_mut().find(|r| r.name == req.repository_name))
        .ok_or_else(|| not_found(&req.repository_name, &account))?;
    let id = &req.image_id;
    let image = repo
        .images
        .iter_mut()
        .find(|image| {
            id.image_digest.as_ref().is_none_or(|d| &image.digest == d)
                && id.image_tag.as_ref().is_none_or(|t| image.tags.contains(t))
                && (id.image_digest.is_some() || id.image_tag.is_some())
        })
        .ok_or_else(|| {
            AwsError::new(
                "ImageNotFoundException",
                format!(
                    "The image with imageId {{imageDigest:'{}', imageTag:'{}'}} does not exist within the \
                     repository with name '{}' in the registry with id '{account}'",
                    id.image_digest.as_deref().unwrap_or("null"),
                    id.image_tag.as_deref().unwrap_or("null"),
                    req.repository_name
                ),
            )
        })?;
    let now = Utc::now();
    let moved = match req.target_storage_class.as_str() {
        "ARCHIVE" => image.storage.archive(now),
        "STANDARD" => image.storage.restore(now, restore_delay),
        other => {
            return Err(AwsError::invalid(format!(
                "Invalid parameter at 'targetStorageClass' failed to satisfy constraint: \
                 Member must satisfy enum value set: [STANDARD, ARCHIVE], got {other}"
            )));
        }
    };
    moved.map_err(|reason| AwsError::new("ImageStorageClassUpdateNotSupportedException", reason))?;
    Ok(json!({
        "registryId": account,
        "repositoryName": req.repository_name,
        "imageId": { "imageDigest": image.digest },
        "imageStatus": image.storage.status(now),
    }))
}
