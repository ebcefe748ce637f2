//! What the S3 tables share: S3's request rates, and finding an account's
//! buckets with the region each lives in (every object request goes to its
//! bucket's own region).

use aws_sdk_s3::types::Bucket as SdkBucket;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use skyglue_core::paging::describe_each;
use skyglue_core::table::DEFAULT_CONCURRENCY;
use skyglue_core::throttle::{Bucket, RateLimits, bucket};
use skyglue_core::{FetchContext, Result};

use crate::{clients, time};

/// S3's published request rates, per prefix: 5,500 GET/HEAD and 3,500
/// PUT/POST/DELETE per second. skyglue's share per connection stays below
/// them; S3's `503 SlowDown` is retried through the limiter like any throttle.
pub static S3: RateLimits = RateLimits { service: "s3", bucket: s3_bucket };

fn s3_bucket(operation: &str) -> Option<Bucket> {
    Some(match operation {
        "DeleteObjects" | "DeleteObject" => bucket("s3 write", 3500, 3500),
        _ => bucket("s3 read", 5500, 5500),
    })
}

/// One bucket of the account, where it lives.
#[derive(Debug, Clone)]
pub struct BucketInfo {
    /// The bucket's name.
    pub name: String,
    /// The bucket's own region.
    pub region: String,
    /// When it was created (microseconds).
    pub creation_date: Option<i64>,
}

/// The region S3 reports for a `LocationConstraint`: none is us-east-1, and
/// the legacy `EU` is eu-west-1.
pub fn constraint_region(constraint: Option<&str>) -> String {
    match constraint {
        None | Some("") => "us-east-1".into(),
        Some("EU") => "eu-west-1".into(),
        Some(region) => region.into(),
    }
}

/// The account's buckets (only those in `names`, when given), each with its
/// region: ListBuckets (which names the region, or else one
/// GetBucketLocation per bucket).
pub async fn buckets(ctx: &FetchContext, names: Option<&[String]>) -> Result<Vec<BucketInfo>> {
    let conn = ctx.aws();
    let s3 = clients::s3(conn, &conn.region);
    let listed: Vec<Vec<SdkBucket>> = ctx
        .paginate(
            "s3:ListBuckets",
            move |token| s3.list_buckets().max_buckets(1000).set_continuation_token(token).send(),
            |out| out.continuation_token().map(str::to_string),
        )
        .map_ok(|out| out.buckets().to_vec())
        .try_collect()
        .await?;
    let wanted: Vec<SdkBucket> = listed
        .into_iter()
        .flatten()
        .filter(|b| names.is_none_or(|n| b.name().is_some_and(|name| n.iter().any(|x| x == name))))
        .collect();
    let s3 = clients::s3(conn, &conn.region);
    describe_each(wanted, DEFAULT_CONCURRENCY, |b| {
        let s3 = s3.clone();
        async move {
            let Some(name) = b.name().map(str::to_string) else { return Ok(None) };
            let region = match b.bucket_region() {
                Some(region) => region.to_string(),
                None => {
                    let req = s3.get_bucket_location().bucket(&name);
                    let Some(out) = ctx.call("s3:GetBucketLocation", || req.clone().send()).await? else {
                        return Ok(None);
                    };
                    constraint_region(out.location_constraint().map(|c| c.as_str()))
                }
            };
            Ok(Some(BucketInfo { name, region, creation_date: time::micros(b.creation_date()) }))
        }
    })
    .await
}

/// The buckets a query's required `bucket_name` key names that this
/// connection's account owns, one at a time (for `fan_out`).
pub fn named_buckets(ctx: &FetchContext) -> BoxStream<'static, Result<BucketInfo>> {
    let ctx = ctx.clone();
    futures::stream::once(async move {
        let names = ctx.keys.get("bucket_name").unwrap_or_default().to_vec();
        buckets(&ctx, Some(&names)).await
    })
    .map_ok(|found| futures::stream::iter(found).map(Ok))
    .try_flatten()
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_constraints_name_regions() {
        assert_eq!(constraint_region(None), "us-east-1");
        assert_eq!(constraint_region(Some("")), "us-east-1");
        assert_eq!(constraint_region(Some("EU")), "eu-west-1");
        assert_eq!(constraint_region(Some("ap-south-1")), "ap-south-1");
    }
}
