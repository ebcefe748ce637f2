//! `aws_ecr_image`: images in every ECR repository of every connection.
//!
//! ```sql
//! SELECT repository_name, image_digest, image_tags, image_pushed_at
//! FROM aws_ecr_image WHERE repository_name = 'web' ORDER BY image_pushed_at DESC;
//! ```
//!
//! Repositories are walked concurrently; each one's images come 1000 per page,
//! or 100 named digests per call when the query names them. Every storage
//! state is listed (DescribeImages alone lists only ACTIVE images): a filter
//! on `image_status` becomes DescribeImages' status filter, so
//! `WHERE image_status = 'ARCHIVED'` reads only the archive.
//!
//! `subject_digest` is DescribeImages' `subjectManifestDigest`. Where an
//! endpoint reports neither it nor `artifactMediaType` for any image of a page
//! (moto), the page's manifests are read (BatchGetImage, 100 per call). ECR
//! and the sandbox report both, so there no scan costs more calls; the read
//! is not skipped when a query does not read `subject_digest`, since every
//! fetch fills every column (a scan shared by two uses of the table answers
//! both, whatever columns each reads). An archived image's manifest cannot be read: there its
//! `subject_digest` is what DescribeImages said. An image deleted between the
//! listing and the read is left out.

use std::collections::HashMap;
use std::sync::LazyLock;

use aws_sdk_ecr::types::{DescribeImagesFilter, ImageDetail, ImageIdentifier, ImageStatusFilter};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::DataType;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use skyglue_core::paging::fan_out;
use skyglue_core::spec::{text, text_list, timestamp};
use skyglue_core::table::DEFAULT_CONCURRENCY;
use skyglue_core::{ApiTable, FetchContext, Result, Scope, TableSpec};

use super::ecr_repository::{self};
use crate::manifests::{self, Manifest, Missing};
use crate::{clients, services, time};

/// Every call the fetch makes (`TableSpec::operations`); BatchGetImage only
/// where DescribeImages reports no subject or artifact type.
const OPERATIONS: &[&str] = &["ecr:DescribeRepositories", "ecr:DescribeImages", "ecr:BatchGetImage"];

skyglue_core::columns! {
    struct Row<'a> {
        registry_id: Option<&'a str> => (text(), "The registry (account) that holds the image."),
        repository_name: Option<&'a str> => (text(), "The image's repository.").optional_key(),
        image_digest: Option<&'a str> => (text(), "The manifest digest, sha256:...").optional_key(),
        image_tags: &'a [String] => (text_list(), "Tags on the image; empty when untagged."),
        image_pushed_at: Option<i64> => (timestamp(), "When the image was pushed."),
        image_size_in_bytes: Option<i64> => (DataType::Int64, "Compressed size in bytes."),
        last_recorded_pull_time: Option<i64> => (timestamp(), "Last pull ECR recorded (updated about daily)."),
        image_manifest_media_type: Option<&'a str> => (
            text(),
            "Media type of the manifest (an image index for multi-arch images).",
        ),
        artifact_media_type: Option<&'a str> => (text(), "Media type of the artifact's config."),
        image_uri: Option<String> => (text(), "The URI that pulls exactly this image, by digest."),
        image_status: &'a str => (
            text(),
            "ACTIVE, ARCHIVED (in the archive storage class: cannot be pulled) or ACTIVATING (being restored); \
             ACTIVE where the endpoint has no archive.",
        )
        .optional_key(),
        last_archived_at: Option<i64> => (timestamp(), "When the image was last moved to the archive."),
        last_activated_at: Option<i64> => (timestamp(), "When the image was last restored from the archive."),
        subject_digest: Option<&'a str> => (
            text(),
            "For an OCI referrer (an SBOM, attestation or signature): the digest of the image it belongs to.",
        ),
    }
}

static SPEC: LazyLock<TableSpec> = LazyLock::new(|| TableSpec {
    name: "aws_ecr_image",
    description: "Images in ECR repositories, one row per image digest.",
    scope: Scope::Aws,
    columns: Row::columns(),
    not_found_codes: &[
        ("ecr:DescribeImages", "RepositoryNotFoundException"),
        ("ecr:DescribeImages", "ImageNotFoundException"),
    ],
    operations: OPERATIONS,
    rate_limits: services::rate_limits_for(OPERATIONS),
});

/// The storage states DescribeImages can filter on.
const STATUSES: [&str; 3] = ["ACTIVE", "ARCHIVED", "ACTIVATING"];

/// The status filters to list with: one per status the query names (a value
/// that is no status matches no image, so it is not asked for), else `ANY`.
fn status_filters(ctx: &FetchContext) -> Vec<DescribeImagesFilter> {
    let statuses: Vec<ImageStatusFilter> = match ctx.keys.get("image_status") {
        Some(values) => STATUSES
            .iter()
            .filter(|s| values.iter().any(|v| v == *s))
            .map(|s| ImageStatusFilter::from(*s))
            .collect(),
        None => vec![ImageStatusFilter::Any],
    };
    statuses.into_iter().map(|s| DescribeImagesFilter::builder().image_status(s).build()).collect()
}

/// Lookups by digest ask for every status: the framework re-checks the
/// query's `image_status` filter on the rows.
fn any_status() -> DescribeImagesFilter {
    DescribeImagesFilter::builder().image_status(ImageStatusFilter::Any).build()
}

/// The `aws_ecr_image` table.
#[derive(Debug)]
pub struct EcrImage;

impl ApiTable for EcrImage {
    fn spec(&self) -> &TableSpec {
        &SPEC
    }

    fn typical_rows(&self) -> usize {
        100_000
    }

    fn fetches_whole_rows(&self) -> bool {
        // DescribeImages answers every column, and the manifests fill
        // `subject_digest` where the endpoint does not report it.
        true
    }

    fn fetch(&self, ctx: FetchContext) -> BoxStream<'static, Result<RecordBatch>> {
        let wants = Wants { subjects: true, children: false };
        details(ctx, wants).map(|page| page.and_then(|p| to_batch(&p.ctx, &p.images, &p.read))).boxed()
    }
}

/// Which manifests a scan reads (see [`read_manifests`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Wants {
    /// Subjects, where the endpoint does not report them.
    pub(crate) subjects: bool,
    /// Every index's children.
    pub(crate) children: bool,
}

/// One DescribeImages page, with the manifests read for it and the context it was read in.
pub(crate) struct Page {
    pub(crate) ctx: FetchContext,
    pub(crate) images: Vec<ImageDetail>,
    pub(crate) read: Read,
}

/// The image details of every repository the query names (or of all), a
/// DescribeImages page at a time, with the manifests `wants` asks for.
pub(crate) fn details(ctx: FetchContext, wants: Wants) -> BoxStream<'static, Result<Page>> {
    {
        // One named repository is described directly; several (a join's
        // keys, which may name repositories of other connections) or none are
        // found by listing, one call per 1000 repositories.
        let repos: BoxStream<'static, Result<String>> = match ctx.keys.get("repository_name") {
            Some([name]) => futures::stream::iter(vec![Ok(name.clone())]).boxed(),
            _ => ecr_repository::list(&ctx)
                .map_ok(|repos| {
                    let names: Vec<String> =
                        repos.iter().filter_map(|r| r.repository_name().map(str::to_string)).collect();
                    futures::stream::iter(names).map(Ok)
                })
                .try_flatten()
                .boxed(),
        };
        fan_out(repos, DEFAULT_CONCURRENCY, move |repo| repository_pages(ctx.clone(), repo, wants))
    }
}

/// One repository's images, page by page.
fn repository_pages(ctx: FetchContext, repo: String, wants: Wants) -> BoxStream<'static, Result<Page>> {
    let page = move |ctx: FetchContext, images: Option<Vec<ImageDetail>>| async move {
        let images = images.unwrap_or_default();
        let read = read_manifests(&ctx, &images, wants).await?;
        Ok::<_, skyglue_core::Error>(Page { ctx, images, read })
    };
    async_stream::try_stream! {
        let ecr = clients::ecr(ctx.aws());
        if let Some(digests) = ctx.keys.get("image_digest") {
            for chunk in digests.chunks(100) {
                let ids: Vec<ImageIdentifier> = chunk.iter().map(|d| ImageIdentifier::builder().image_digest(d).build()).collect();
                let req = ecr.describe_images().repository_name(&repo).set_image_ids(Some(ids)).filter(any_status());
                match ctx.call("ecr:DescribeImages", || req.clone().send()).await? {
                    Some(out) => yield page(ctx.clone(), out.image_details).await?,
                    // One unknown digest fails the whole call: ask for each alone.
                    None if chunk.len() > 1 => for digest in chunk {
                        let id = ImageIdentifier::builder().image_digest(digest).build();
                        let req = ecr.describe_images().repository_name(&repo).image_ids(id).filter(any_status());
                        if let Some(out) = ctx.call("ecr:DescribeImages", || req.clone().send()).await? {
                            yield page(ctx.clone(), out.image_details).await?;
                        }
                    },
                    None => {}
                }
            }
        } else {
            for filter in status_filters(&ctx) {
                let (ecr, repo) = (ecr.clone(), repo.clone());
                let pages = ctx.paginate(
                    "ecr:DescribeImages",
                    move |token| ecr.describe_images().repository_name(&repo).filter(filter.clone()).max_results(1000).set_next_token(token).send(),
                    |out| out.next_token().map(str::to_string),
                );
                futures::pin_mut!(pages);
                while let Some(out) = pages.next().await {
                    yield page(ctx.clone(), out?.image_details).await?;
                }
            }
        }
    }
    .boxed()
}

/// The manifests read for one page: by digest, and which were asked for.
#[derive(Debug, Default)]
pub(crate) struct Read {
    /// What each manifest read says.
    pub(crate) manifests: HashMap<String, Manifest>,
    /// The digests whose manifests were asked for (one missing from
    /// `manifests` was deleted since it was listed).
    pub(crate) asked: Vec<String>,
}

impl Read {
    /// Whether the image with `digest` was deleted since it was listed.
    pub(crate) fn gone(&self, digest: &str) -> bool {
        !self.manifests.contains_key(digest) && self.asked.iter().any(|d| d == digest)
    }

    /// The subject of the image `i`: as DescribeImages reported it, else as its manifest says.
    pub(crate) fn subject<'a>(&'a self, i: &'a ImageDetail) -> Option<&'a str> {
        i.subject_manifest_digest().or_else(|| self.manifests.get(i.image_digest()?)?.subject.as_deref())
    }
}

/// Reads the manifests one page needs: every pullable image's when
/// `wants.subjects` and the endpoint reports neither `subjectManifestDigest` nor
/// `artifactMediaType` for any image of the page, and every index's when
/// `wants.children`.
pub(crate) async fn read_manifests(ctx: &FetchContext, images: &[ImageDetail], wants: Wants) -> Result<Read> {
    let unreported = wants.subjects
        && images.iter().all(|i| i.subject_manifest_digest().is_none() && i.artifact_media_type().is_none());
    let asked: Vec<String> = images
        .iter()
        .filter(|i| i.image_status().is_none_or(|s| s.as_str() == "ACTIVE"))
        .filter(|i| unreported || (wants.children && manifests::is_index(i.image_manifest_media_type())))
        .filter_map(|i| i.image_digest().map(str::to_string))
        .collect();
    let (Some(first), false) = (images.first(), asked.is_empty()) else { return Ok(Read::default()) };
    let Some(repository) = first.repository_name() else { return Ok(Read::default()) };
    let manifests = manifests::read(
        &ctx.connections,
        ctx.aws(),
        first.registry_id(),
        repository,
        &asked,
        Some(&ctx.metrics),
        Missing::Gone,
    )
    .await?;
    Ok(Read { manifests, asked })
}

fn to_batch(ctx: &FetchContext, images: &[ImageDetail], read: &Read) -> Result<RecordBatch> {
    let region = &ctx.aws().region;
    let rows: Vec<Row> = images
        .iter()
        .filter(|i| !i.image_digest().is_some_and(|d| read.gone(d)))
        .map(|i| Row {
            registry_id: i.registry_id(),
            repository_name: i.repository_name(),
            image_digest: i.image_digest(),
            image_tags: i.image_tags(),
            image_pushed_at: time::micros(i.image_pushed_at()),
            image_size_in_bytes: i.image_size_in_bytes(),
            last_recorded_pull_time: time::micros(i.last_recorded_pull_time()),
            image_manifest_media_type: i.image_manifest_media_type(),
            artifact_media_type: i.artifact_media_type(),
            image_uri: match (i.registry_id(), i.repository_name(), i.image_digest()) {
                (Some(id), Some(repo), Some(digest)) => {
                    Some(format!("{id}.dkr.ecr.{region}.amazonaws.com/{repo}@{digest}"))
                }
                _ => None,
            },
            image_status: i.image_status().map_or("ACTIVE", |s| s.as_str()),
            last_archived_at: time::micros(i.last_archived_at()),
            last_activated_at: time::micros(i.last_activated_at()),
            subject_digest: read.subject(i),
        })
        .collect();
    ctx.batch(&rows)
}
