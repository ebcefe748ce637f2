//! `aws_ecr_image_reference`: the image graph of every ECR repository. One
//! row per reference from one manifest to another in the same repository:
//!
//! - kind `child`: `image_digest` is an image index that lists
//!   `referenced_digest` (one platform's manifest);
//! - kind `referrer`: `image_digest` belongs to `referenced_digest`, by its
//!   OCI 1.1 `subject` (an SBOM, an attestation, a Notation signature) or by
//!   a cosign tag `sha256-<hex>.sig`, `.att` or `.sbom` naming it.
//!
//! ```sql
//! SELECT image_digest, kind, referenced_digest
//! FROM aws_ecr_image_reference WHERE repository_name = 'web';
//! ```
//!
//! Each repository is listed as `aws_ecr_image` lists it; every index's
//! manifest is read (BatchGetImage, 100 per call), and every pullable image's
//! where the endpoint reports neither `subjectManifestDigest` nor
//! `artifactMediaType`. A referenced digest need not exist any more: a
//! referrer whose image is gone is still listed, so orphans can be found.

use std::sync::LazyLock;

use datafusion::arrow::array::RecordBatch;
use futures::StreamExt;
use futures::stream::BoxStream;
use serde::Serialize;
use skyglue_core::spec::text;
use skyglue_core::{ApiTable, ColumnSpec, FetchContext, Result, Scope, TableSpec};

use super::ecr_image::{self, Page, Wants};
use crate::manifests::{self, cosign_subject};
use crate::services;

/// Every call the fetch makes (`TableSpec::operations`).
const OPERATIONS: &[&str] = &["ecr:DescribeRepositories", "ecr:DescribeImages", "ecr:BatchGetImage"];

static SPEC: LazyLock<TableSpec> = LazyLock::new(|| TableSpec {
    name: "aws_ecr_image_reference",
    description: "References between ECR images: an index's children, and the referrers (SBOMs, signatures, \
                  attestations) of an image.",
    scope: Scope::Aws,
    columns: vec![
        ColumnSpec::new("registry_id", text(), "The registry (account) that holds both images."),
        ColumnSpec::new("repository_name", text(), "The repository of both images.").optional_key(),
        ColumnSpec::new(
            "image_digest",
            text(),
            "The image whose manifest (or cosign tag) makes the reference.",
        ),
        ColumnSpec::new(
            "referenced_digest",
            text(),
            "The image it names: a child of the index, or the image the referrer belongs to.",
        ),
        ColumnSpec::new(
            "kind",
            text(),
            "child (image_digest is an index listing referenced_digest) or referrer (image_digest belongs to \
             referenced_digest: OCI subject or cosign tag).",
        ),
    ],
    not_found_codes: &[
        ("ecr:DescribeImages", "RepositoryNotFoundException"),
        ("ecr:DescribeImages", "ImageNotFoundException"),
    ],
    operations: OPERATIONS,
    rate_limits: services::rate_limits_for(OPERATIONS),
});

#[derive(Serialize)]
struct Row<'a> {
    registry_id: Option<&'a str>,
    repository_name: Option<&'a str>,
    image_digest: &'a str,
    referenced_digest: String,
    kind: &'static str,
}

/// The `aws_ecr_image_reference` table.
#[derive(Debug)]
pub struct EcrImageReference;

impl ApiTable for EcrImageReference {
    fn spec(&self) -> &TableSpec {
        &SPEC
    }

    fn fetch(&self, ctx: FetchContext) -> BoxStream<'static, Result<RecordBatch>> {
        let wants = Wants { subjects: true, children: true };
        ecr_image::details(ctx, wants).map(|page| page.and_then(|p| to_batch(&p))).boxed()
    }
}

fn to_batch(page: &Page) -> Result<RecordBatch> {
    let mut rows = Vec::new();
    for i in &page.images {
        let Some(digest) = i.image_digest() else { continue };
        if page.read.gone(digest) {
            continue;
        }
        let row = |referenced: String, kind| Row {
            registry_id: i.registry_id(),
            repository_name: i.repository_name(),
            image_digest: digest,
            referenced_digest: referenced,
            kind,
        };
        if manifests::is_index(i.image_manifest_media_type())
            && let Some(manifest) = page.read.manifests.get(digest)
        {
            rows.extend(manifest.children.iter().map(|c| row(c.clone(), "child")));
        }
        let mut subjects: Vec<String> = page.read.subject(i).map(str::to_string).into_iter().collect();
        subjects.extend(i.image_tags().iter().filter_map(|t| cosign_subject(t)));
        subjects.sort();
        subjects.dedup();
        rows.extend(subjects.into_iter().map(|s| row(s, "referrer")));
    }
    page.ctx.batch(&rows)
}
