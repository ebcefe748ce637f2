//! `aws_s3_bucket`: every bucket of every account, once per account (S3 lists
//! all regions' buckets from any of them), with its own region.
//!
//! ```sql
//! SELECT name, region, versioning, lifecycle_rules FROM aws_s3_bucket;
//! ```
//!
//! ListBuckets gives names, regions and creation dates; `versioning` and
//! `lifecycle_rules` take one call per bucket each, made only when read.

use std::sync::LazyLock;

use aws_sdk_s3::types::LifecycleRule;
use datafusion::arrow::array::RecordBatch;
use futures::StreamExt;
use futures::stream::BoxStream;
use serde_json::{Value, json};
use skyglue_core::paging::describe_each;
use skyglue_core::spec::{text, timestamp};
use skyglue_core::table::DEFAULT_CONCURRENCY;
use skyglue_core::{ApiTable, FetchContext, Result, Scope, TableSpec};

use super::s3_common::{BucketInfo, buckets};
use crate::{clients, services};

/// Every call the fetch makes (`TableSpec::operations`).
const OPERATIONS: &[&str] = &[
    "s3:ListBuckets",
    "s3:GetBucketLocation",
    "s3:GetBucketVersioning",
    "s3:GetBucketLifecycleConfiguration",
];

static SPEC: LazyLock<TableSpec> = LazyLock::new(|| TableSpec {
    name: "aws_s3_bucket",
    description: "S3 buckets, once per account, with their own region.",
    scope: Scope::AwsAccount,
    columns: Row::columns(),
    not_found_codes: &[
        ("s3:GetBucketLifecycleConfiguration", "NoSuchLifecycleConfiguration"),
        ("s3:GetBucketVersioning", "NoSuchBucket"),
        ("s3:GetBucketLifecycleConfiguration", "NoSuchBucket"),
        ("s3:GetBucketLocation", "NoSuchBucket"),
    ],
    operations: OPERATIONS,
    rate_limits: services::rate_limits_for(OPERATIONS),
});

skyglue_core::columns! {
    struct Row {
        name: String => (text(), "The bucket's name.").optional_key(),
        arn: String => (text(), "The bucket's ARN."),
        region: String => (text(), "The region the bucket lives in."),
        creation_date: Option<i64> => (timestamp(), "When the bucket was created."),
        versioning: Option<String> => (text(), "Enabled, Suspended, or NULL if never enabled."),
        lifecycle_rules: Option<String> => (text(), "The lifecycle rules as JSON; NULL when there are none."),
    }
}

/// The `aws_s3_bucket` table.
#[derive(Debug)]
pub struct S3Bucket;

impl ApiTable for S3Bucket {
    fn spec(&self) -> &TableSpec {
        &SPEC
    }

    fn typical_rows(&self) -> usize {
        100
    }

    fn fetch(&self, ctx: FetchContext) -> BoxStream<'static, Result<RecordBatch>> {
        futures::stream::once(async move {
            let names = ctx.keys.get("name").map(<[String]>::to_vec);
            let found = buckets(&ctx, names.as_deref()).await?;
            let rows = describe_each(found, DEFAULT_CONCURRENCY, |b| row(&ctx, b)).await?;
            ctx.batch(&rows)
        })
        .boxed()
    }
}

async fn row(ctx: &FetchContext, b: BucketInfo) -> Result<Option<Row>> {
    let s3 = clients::s3(ctx.aws(), &b.region);
    let versioning = match ctx.needs("versioning") {
        true => {
            let req = s3.get_bucket_versioning().bucket(&b.name);
            let out = ctx.call("s3:GetBucketVersioning", || req.clone().send()).await?;
            out.and_then(|o| o.status().map(|s| s.as_str().to_string()))
        }
        false => None,
    };
    let lifecycle_rules = match ctx.needs("lifecycle_rules") {
        true => {
            let req = s3.get_bucket_lifecycle_configuration().bucket(&b.name);
            let out = ctx.call("s3:GetBucketLifecycleConfiguration", || req.clone().send()).await?;
            out.map(|o| Value::Array(o.rules().iter().map(rule_json).collect()).to_string())
        }
        false => None,
    };
    Ok(Some(Row {
        arn: format!("arn:aws:s3:::{}", b.name),
        name: b.name,
        region: b.region,
        creation_date: b.creation_date,
        versioning,
        lifecycle_rules,
    }))
}

/// A lifecycle rule as JSON: what it applies to and what it expires.
#[allow(deprecated)] // rules written before filters existed name their prefix on the rule
fn rule_json(r: &LifecycleRule) -> Value {
    let prefix = r.filter().and_then(|f| f.prefix()).or(r.prefix());
    json!({
        "id": r.id(),
        "status": r.status().as_str(),
        "prefix": prefix,
        "expiration_days": r.expiration().and_then(|e| e.days()),
        "noncurrent_version_expiration_days":
            r.noncurrent_version_expiration().and_then(|e| e.noncurrent_days()),
        "abort_incomplete_multipart_upload_days":
            r.abort_incomplete_multipart_upload().and_then(|a| a.days_after_initiation()),
        "transitions": r.transitions().iter().map(|t| json!({
            "days": t.days(),
            "storage_class": t.storage_class().map(|s| s.as_str()),
        })).collect::<Vec<_>>(),
    })
}
