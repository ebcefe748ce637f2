//! Image indexes (multi-arch manifest lists) and the manifests they reference.
//!
//! ECR's DescribeImages says an image is an index (by media type) but not
//! which child manifests it lists; BatchGetImage returns the index document,
//! up to 100 per call. The delete guardrail uses this to never delete a
//! manifest that an index it keeps still references.

use std::collections::HashMap;

use aws_sdk_ecr::operation::batch_get_image::BatchGetImageOutput;
use aws_sdk_ecr::types::ImageIdentifier;
use skyglue_core::call::aws_call;
use skyglue_core::error::one_line;
use skyglue_core::{AwsConnection, Connections, Error, Result};

/// Media types of image indexes.
pub const INDEX_MEDIA_TYPES: &[&str] =
    &["application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"];

/// Whether `media_type` is an image index.
pub fn is_index(media_type: Option<&str>) -> bool {
    media_type.is_some_and(|m| INDEX_MEDIA_TYPES.contains(&m))
}

/// The child manifest digests of each index in `index_digests`, from one
/// repository (100 indexes per BatchGetImage call, each call limited, counted
/// and retried like any other AWS call).
///
/// It fails closed: an index ECR reports as a failure, or leaves out of its
/// answer, is an error naming it, since a caller that went on without it
/// would lose the protection the index gives its children.
pub async fn index_children(
    connections: &Connections,
    conn: &AwsConnection,
    registry_id: Option<&str>,
    repository: &str,
    index_digests: &[String],
) -> Result<HashMap<String, Vec<String>>> {
    connections.throttle.register(&crate::tables::ecr_repository::ECR);
    let ecr = crate::clients::ecr(conn);
    let label = conn.label();
    let mut out = HashMap::new();
    for chunk in index_digests.chunks(100) {
        let ids: Vec<ImageIdentifier> =
            chunk.iter().map(|d| ImageIdentifier::builder().image_digest(d).build()).collect();
        let request = ecr
            .batch_get_image()
            .set_registry_id(registry_id.map(str::to_string))
            .repository_name(repository)
            .set_image_ids(Some(ids))
            .accepted_media_types(INDEX_MEDIA_TYPES[0])
            .accepted_media_types(INDEX_MEDIA_TYPES[1]);
        let answer = aws_call(connections, &label, OPERATION, &[], None, || request.clone().send()).await?;
        let Some(answer) = answer else { continue };
        let read = read_indexes(&answer).map_err(|detail| Error::Api {
            operation: OPERATION.into(),
            connection: label.clone(),
            detail: format!("repository {repository}: {detail}"),
        })?;
        if let Some(missing) = chunk.iter().find(|d| !read.contains_key(d.as_str())) {
            return Err(Error::Api {
                operation: OPERATION.into(),
                connection: label,
                detail: format!("repository {repository}: index {missing} is missing from the answer"),
            });
        }
        out.extend(read);
    }
    Ok(out)
}

const OPERATION: &str = "ecr:BatchGetImage";

/// The children of each index in one answer, or why the answer cannot be trusted.
fn read_indexes(answer: &BatchGetImageOutput) -> Result<HashMap<String, Vec<String>>, String> {
    if let Some(failure) = answer.failures().first() {
        let digest = failure.image_id().and_then(|i| i.image_digest()).unwrap_or("(unknown digest)");
        let code = failure.failure_code().map_or("UnknownFailure", |c| c.as_str());
        let reason = failure.failure_reason().unwrap_or_default();
        return Err(one_line(&format!("index {digest} could not be read: {code}: {reason}")));
    }
    let mut read = HashMap::new();
    for image in answer.images() {
        let digest = image.image_id().and_then(|i| i.image_digest());
        match (digest, image.image_manifest()) {
            (Some(digest), Some(manifest)) => {
                read.insert(digest.to_string(), child_digests(manifest));
            }
            (Some(digest), None) => return Err(format!("index {digest} came back without its manifest")),
            (None, _) => return Err("an image came back without its digest".into()),
        }
    }
    Ok(read)
}

/// The `manifests[].digest` entries of an index document.
pub fn child_digests(manifest: &str) -> Vec<String> {
    let Ok(doc) = serde_json::from_str::<serde_json::Value>(manifest) else { return vec![] };
    doc.get("manifests")
        .and_then(|m| m.as_array())
        .map(|list| list.iter().filter_map(|m| m.get("digest")?.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_children_of_an_index() {
        let doc = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",
            "manifests":[{"digest":"sha256:a","platform":{"architecture":"amd64"}},{"digest":"sha256:b"}]}"#;
        assert_eq!(child_digests(doc), vec!["sha256:a", "sha256:b"]);
        assert!(child_digests("not json").is_empty());
        assert!(is_index(Some("application/vnd.oci.image.index.v1+json")));
        assert!(!is_index(Some("application/vnd.docker.distribution.manifest.v2+json")));
    }
}
