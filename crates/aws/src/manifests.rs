//! Manifests: what an image index lists, and the image an OCI referrer names.
//!
//! ECR's DescribeImages says an image is an index (by media type) but not
//! which child manifests it lists; BatchGetImage returns the manifest
//! document, up to 100 per call. An OCI 1.1 referrer (an SBOM, an
//! attestation, a Notation signature) names the image it belongs to in its
//! `subject`; ECR reports it as `subjectManifestDigest`, and where an endpoint
//! does not (moto), the manifest says it. The delete guardrail uses this to
//! never delete a manifest that an index it keeps still references, and to
//! delete an image's referrers with it.

use std::collections::HashMap;

use aws_sdk_ecr::operation::batch_get_image::BatchGetImageOutput;
use aws_sdk_ecr::types::ImageIdentifier;
use skyglue_core::call::aws_call;
use skyglue_core::error::one_line;
use skyglue_core::{AwsConnection, Connections, Error, Result, ScanMetrics};

/// Media types of image indexes.
pub const INDEX_MEDIA_TYPES: &[&str] =
    &["application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"];

/// Every manifest media type BatchGetImage is asked to return as stored
/// (indexes first, then image manifests), so ECR converts none of them.
pub const MANIFEST_MEDIA_TYPES: &[&str] = &[
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
];

/// Whether `media_type` is an image index.
pub fn is_index(media_type: Option<&str>) -> bool {
    media_type.is_some_and(|m| INDEX_MEDIA_TYPES.contains(&m))
}

/// What skyglue reads from one manifest document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    /// `manifests[].digest`: the manifests an index lists (empty for an image).
    pub children: Vec<String>,
    /// `subject.digest`: the image an OCI referrer belongs to.
    pub subject: Option<String>,
}

impl Manifest {
    /// Reads a manifest document; one that is not JSON lists nothing.
    pub fn parse(document: &str) -> Self {
        let Ok(doc) = serde_json::from_str::<serde_json::Value>(document) else { return Self::default() };
        let children = doc
            .get("manifests")
            .and_then(|m| m.as_array())
            .map(|list| list.iter().filter_map(|m| m.get("digest")?.as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        let subject = doc.get("subject").and_then(|s| s.get("digest")?.as_str()).map(str::to_string);
        Manifest { children, subject }
    }
}

/// When an image asked for is not in BatchGetImage's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// It is an error naming the image (the guardrail: going on without an
    /// index would lose the protection it gives its children).
    Fails,
    /// `ImageNotFound`: it was deleted since it was listed, and is left out
    /// of the answer (a table listing images drops it). Any other failure is
    /// still an error.
    Gone,
}

/// The manifests of `digests` in one repository (100 per BatchGetImage call,
/// each call limited, counted in `metrics` when given, and retried like any
/// other AWS call), keyed by digest.
pub async fn read(
    connections: &Connections,
    conn: &AwsConnection,
    registry_id: Option<&str>,
    repository: &str,
    digests: &[String],
    metrics: Option<&ScanMetrics>,
    missing: Missing,
) -> Result<HashMap<String, Manifest>> {
    connections.throttle.register(&crate::services::ecr::ecr_repository::ECR);
    let ecr = crate::clients::ecr(conn);
    let label = conn.label();
    let mut out = HashMap::new();
    for chunk in digests.chunks(100) {
        let ids: Vec<ImageIdentifier> =
            chunk.iter().map(|d| ImageIdentifier::builder().image_digest(d).build()).collect();
        let request = MANIFEST_MEDIA_TYPES.iter().fold(
            ecr.batch_get_image()
                .set_registry_id(registry_id.map(str::to_string))
                .repository_name(repository)
                .set_image_ids(Some(ids)),
            |request, media_type| request.accepted_media_types(*media_type),
        );
        let answer =
            aws_call(connections, &label, OPERATION, &[], metrics, || request.clone().send()).await?;
        let Some(answer) = answer else { continue };
        let error = |detail: String| Error::Api {
            operation: OPERATION.into(),
            connection: label.clone(),
            detail: format!("repository {repository}: {detail}"),
        };
        let read = read_answer(&answer, missing).map_err(error)?;
        if missing == Missing::Fails
            && let Some(lost) = chunk.iter().find(|d| !read.contains_key(d.as_str()))
        {
            return Err(error(format!("manifest {lost} is missing from the answer")));
        }
        out.extend(read);
    }
    Ok(out)
}

/// The child manifest digests of each index in `index_digests`, from one
/// repository; fails closed (see [`Missing::Fails`]).
pub async fn index_children(
    connections: &Connections,
    conn: &AwsConnection,
    registry_id: Option<&str>,
    repository: &str,
    index_digests: &[String],
) -> Result<HashMap<String, Vec<String>>> {
    let read = read(connections, conn, registry_id, repository, index_digests, None, Missing::Fails).await?;
    Ok(read.into_iter().map(|(digest, manifest)| (digest, manifest.children)).collect())
}

const OPERATION: &str = "ecr:BatchGetImage";

/// The manifests in one answer, or why the answer cannot be trusted.
fn read_answer(answer: &BatchGetImageOutput, missing: Missing) -> Result<HashMap<String, Manifest>, String> {
    for failure in answer.failures() {
        let code = failure.failure_code().map_or("UnknownFailure", |c| c.as_str());
        if missing == Missing::Gone && code == "ImageNotFound" {
            continue;
        }
        let digest = failure.image_id().and_then(|i| i.image_digest()).unwrap_or("(unknown digest)");
        let reason = failure.failure_reason().unwrap_or_default();
        return Err(one_line(&format!("manifest {digest} could not be read: {code}: {reason}")));
    }
    let mut read = HashMap::new();
    for image in answer.images() {
        let digest = image.image_id().and_then(|i| i.image_digest());
        match (digest, image.image_manifest()) {
            (Some(digest), Some(manifest)) => {
                read.insert(digest.to_string(), Manifest::parse(manifest));
            }
            (Some(digest), None) => return Err(format!("manifest {digest} came back empty")),
            (None, _) => return Err("an image came back without its digest".into()),
        }
    }
    Ok(read)
}

/// The `manifests[].digest` entries of an index document.
pub fn child_digests(manifest: &str) -> Vec<String> {
    Manifest::parse(manifest).children
}

/// The digest a cosign tag names: `sha256-<64 hex>.sig`, `.att` or `.sbom`
/// belongs to `sha256:<hex>` in the same repository.
pub fn cosign_subject(tag: &str) -> Option<String> {
    let rest = tag.strip_prefix("sha256-")?;
    let hex = [".sig", ".att", ".sbom"].iter().find_map(|suffix| rest.strip_suffix(suffix))?;
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then(|| format!("sha256:{hex}"))
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

    #[test]
    fn reads_the_subject_of_a_referrer() {
        let doc = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
            "artifactType":"application/spdx+json","subject":{"digest":"sha256:s","size":1}}"#;
        assert_eq!(Manifest::parse(doc), Manifest { children: vec![], subject: Some("sha256:s".into()) });
    }

    #[test]
    fn cosign_tags_name_their_image() {
        let hex = "ab".repeat(32);
        for suffix in ["sig", "att", "sbom"] {
            assert_eq!(cosign_subject(&format!("sha256-{hex}.{suffix}")), Some(format!("sha256:{hex}")));
        }
        assert_eq!(cosign_subject(&format!("sha256-{hex}.txt")), None);
        assert_eq!(cosign_subject("sha256-abc.sig"), None);
        assert_eq!(cosign_subject("v1.2"), None);
    }
}
