//! S3: buckets, objects and object versions (`aws_s3_*`), and the action
//! that deletes objects behind the fresh check of `s3_check` (object lock
//! and last-version guards in `s3_lock`).

pub mod delete_s3_objects;
pub mod s3_bucket;
pub(crate) mod s3_check;
pub(crate) mod s3_common;
mod s3_lock;
pub mod s3_object;
pub mod s3_object_version;

use std::sync::Arc;

use futures::FutureExt;
use skyglue_core::call::aws_call;
use skyglue_core::{AwsConnection, Connections};

// What the moved sink files reach as `super::common`, `super::fresh`, `super::reread`.
use crate::sinks::{common, fresh, reread};

use super::{Checks, Probe, Service, SinkDecl};
use crate::probe::CallCheck;

/// S3.
pub static SERVICE: Service = Service {
    name: "s3",
    rate_limits: &[&s3_common::S3],
    tables: || {
        vec![
            Arc::new(s3_bucket::S3Bucket),
            Arc::new(s3_object::S3Object),
            Arc::new(s3_object_version::S3ObjectVersion),
        ]
    },
    sinks: &[SinkDecl {
        sink: || Arc::new(delete_s3_objects::DeleteS3Objects),
        // DeleteObjects needs s3:DeleteObject, and s3:DeleteObjectVersion
        // for the rows that name a version.
        delete_actions: &["s3:DeleteObject", "s3:DeleteObjectVersion"],
        operations: &[
            "s3:DeleteObjects",
            "s3:HeadObject",
            "s3:GetObjectLockConfiguration",
            "s3:GetObjectRetention",
            "s3:GetObjectLegalHold",
        ],
    }],
    probes: &[Probe {
        needed_by: None,
        operations: &[
            "s3:ListBuckets",
            "s3:GetBucketLocation",
            "s3:GetBucketVersioning",
            "s3:ListObjectsV2",
            "s3:ListObjectVersions",
        ],
        run: |connections, conn| probe(connections, conn).boxed(),
    }],
    in_use: &[],
};

pub use crate::clients::s3 as client;

/// Lists one bucket; then, when the account has one, asks its region and
/// versioning and lists one of its objects and object versions. Without a
/// bucket those reads are not tried: a made-up bucket name may be another
/// account's, which answers "denied" whatever this role may do.
async fn probe(connections: &Connections, conn: &AwsConnection) -> Checks {
    let label = conn.label();
    let s3 = client(conn, &conn.region);
    let mut checks = Vec::new();
    let op = "s3:ListBuckets";
    let buckets =
        aws_call(connections, &label, op, &[], None, || s3.list_buckets().max_buckets(1).send()).await;
    checks.push((op, CallCheck::of(&buckets)));
    let Some(bucket) = buckets.ok().flatten().and_then(|o| o.buckets().first().and_then(|b| b.name.clone()))
    else {
        return checks;
    };
    let not_found = ["NoSuchBucket"];
    let op = "s3:GetBucketLocation";
    let location = aws_call(connections, &label, op, &not_found, None, || {
        s3.get_bucket_location().bucket(&bucket).send()
    })
    .await;
    checks.push((op, CallCheck::of(&location)));
    let constraint =
        location.ok().flatten().and_then(|o| o.location_constraint().map(|c| c.as_str().to_string()));
    let s3 = client(conn, &s3_common::constraint_region(constraint.as_deref()));
    let op = "s3:GetBucketVersioning";
    let versioning = aws_call(connections, &label, op, &not_found, None, || {
        s3.get_bucket_versioning().bucket(&bucket).send()
    })
    .await;
    checks.push((op, CallCheck::of(&versioning)));
    let op = "s3:ListObjectsV2";
    let objects = aws_call(connections, &label, op, &not_found, None, || {
        s3.list_objects_v2().bucket(&bucket).max_keys(1).send()
    })
    .await;
    checks.push((op, CallCheck::of(&objects)));
    let op = "s3:ListObjectVersions";
    let versions = aws_call(connections, &label, op, &not_found, None, || {
        s3.list_object_versions().bucket(&bucket).max_keys(1).send()
    })
    .await;
    checks.push((op, CallCheck::of(&versions)));
    checks
}
