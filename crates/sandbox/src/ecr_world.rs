//! The ECR part of the world: repositories and their images (per account and region,
//! [`RegionWorld::repositories`](crate::world::RegionWorld)), the media types images
//! carry, and how a repository's ARN and URI are derived.
//!
//! Re-exported from [`world`](crate::world).

use std::borrow::Cow;
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ecr_storage::Storage;

/// Media type of a single-platform Docker image manifest.
pub const DOCKER_MANIFEST_V2: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Media type of an OCI image index (a multi-architecture image).
pub const OCI_IMAGE_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// Artifact media type of a Docker image config.
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
/// OCI image manifest media type (what referrers are pushed as).
pub const OCI_IMAGE_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// The artifact media type of an SPDX SBOM.
pub const SPDX_SBOM: &str = "application/spdx+json";
/// The artifact media type of a cosign signature (cosign's simple signing config).
pub const COSIGN_SIGNATURE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";

/// An ECR repository.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Repository {
    /// Repository name, e.g. `web`.
    pub name: String,
    /// When the repository was created.
    pub created_at: DateTime<Utc>,
    /// `MUTABLE` or `IMMUTABLE`.
    #[serde(default = "mutable")]
    pub image_tag_mutability: String,
    /// Images in push order.
    #[serde(default)]
    pub images: Vec<Image>,
    /// Resource tags (ListTagsForResource), e.g. `github_repository=acme/web`.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

fn mutable() -> String {
    "MUTABLE".to_owned()
}

/// An ECR image (a manifest, or an image index referencing other manifests).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Image {
    /// `sha256:<64 hex>`.
    pub digest: String,
    /// Tags; empty for an untagged image.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Compressed size in bytes.
    pub size_in_bytes: i64,
    /// When the image was pushed.
    pub pushed_at: DateTime<Utc>,
    /// When the image was last pulled, if ever.
    #[serde(default)]
    pub last_recorded_pull_time: Option<DateTime<Utc>>,
    /// Manifest media type (borrowed for the well-known ones, to keep big worlds small).
    pub manifest_media_type: Cow<'static, str>,
    /// Artifact media type (absent for an image index).
    #[serde(default)]
    pub artifact_media_type: Option<Cow<'static, str>>,
    /// For an image index: the digests of the manifests it references.
    #[serde(default)]
    pub child_digests: Vec<String>,
    /// For an OCI referrer (an SBOM, a signature, an attestation): the digest
    /// of the image its manifest's `subject` names (`subjectManifestDigest`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_digest: Option<String>,
    /// Its storage class: active, archived or being restored.
    #[serde(default, skip_serializing_if = "Storage::is_default")]
    pub storage: Storage,
}

/// `arn:aws:ecr:<region>:<acct>:repository/<name>`.
pub fn repository_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:ecr:{region}:{account}:repository/{name}")
}

/// `<acct>.dkr.ecr.<region>.amazonaws.com/<name>`.
pub fn repository_uri(region: &str, account: &str, name: &str) -> String {
    format!("{account}.dkr.ecr.{region}.amazonaws.com/{name}")
}
