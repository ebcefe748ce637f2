//! Amazon S3 over REST-XML, path-style (`/<bucket>/<key>`), for requests signed for
//! service `s3`: ListBuckets, GetBucketLocation, GetBucketVersioning,
//! GetBucketLifecycleConfiguration, GetObjectLockConfiguration, HeadBucket,
//! ListObjectsV2, ListObjectVersions, HeadObject, GetObjectRetention,
//! GetObjectLegalHold and DeleteObjects. Other operations answer `501 NotImplemented`.
//!
//! DeleteObjects is as strict as S3: an `<ETag>` on an object makes its delete
//! conditional on the current version's ETag (`PreconditionFailed` when it
//! differs, `NoSuchKey` when there is no current object), and a version that
//! Object Lock protects (a legal hold, or a retention not yet past) is refused
//! with `AccessDenied`; nothing here honours a bypass.
//!
//! Buckets live on [`World::s3_buckets`]; ListBuckets shows the caller's buckets of
//! every region, and GetBucketLocation answers from any region, but every other
//! bucket operation signed for another region than the bucket's is redirected
//! (`301 PermanentRedirect` with `x-amz-bucket-region`), as S3 does for path-style
//! requests. Listings (in `s3_list`) page at most 1000 entries whatever `max-keys`
//! asks for; the wire details (XML, errors, the `<Delete>` parser) are in `s3_xml`.

use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use chrono::Utc;

use crate::aws::Caller;
use crate::config::SandboxConfig;
use crate::s3_list::{self, bad_token, decode_token, encode_token};
use crate::s3_request::{S3Request, account_owner, bucket, write_owner};
use crate::s3_xml::{S3Error, XmlWriter, http_date, iso8601, parse_delete, xml_response};
use crate::world::{NULL_VERSION, S3Bucket, S3ObjectVersion, World};

/// Most objects one DeleteObjects request may name.
const DELETE_MAX: usize = 1000;
/// ListBuckets' page when `max-buckets` is absent but other paging parameters are set.
const BUCKETS_PAGE: usize = 10_000;

/// Answers operation `op` (already admitted) of `request` as `who`.
pub(crate) fn handle(
    world: &mut World,
    config: &SandboxConfig,
    who: &Caller,
    request: &S3Request,
    op: &str,
    body: &[u8],
) -> Response {
    let bucket = request.bucket.as_deref().unwrap_or_default();
    let result = match op {
        "ListBuckets" => list_buckets(world, who, request),
        "GetBucketLocation" => get_bucket_location(world, who, bucket),
        "GetBucketVersioning" => get_bucket_versioning(world, who, bucket),
        "GetBucketLifecycleConfiguration" => get_bucket_lifecycle(world, who, bucket),
        "HeadBucket" => head_bucket(world, who, bucket),
        "ListObjectsV2" => s3_list::list_objects_v2(world, who, bucket, request),
        "ListObjectVersions" => s3_list::list_object_versions(world, who, bucket, request),
        "HeadObject" => head_object(world, who, bucket, request),
        "GetObjectLockConfiguration" => get_object_lock_configuration(world, who, bucket),
        "GetObjectRetention" | "GetObjectLegalHold" => get_object_lock(world, who, bucket, request, op),
        "DeleteObjects" => delete_objects(world, config, who, bucket, body),
        _ => Err(S3Error::new(
            501,
            "NotImplemented",
            format!(
                "A header you provided implies functionality that is not implemented (the sandbox has no S3 {op})"
            ),
        )),
    };
    result.unwrap_or_else(|e| e.into_response(request.is_head()))
}

fn list_buckets(world: &World, who: &Caller, request: &S3Request) -> Result<Response, S3Error> {
    let max = match request.param("max-buckets") {
        None => None,
        Some(raw) => match raw.parse::<i64>() {
            Ok(n) if (1..=BUCKETS_PAGE as i64).contains(&n) => Some(n as usize),
            _ => {
                return Err(S3Error::invalid_argument(
                    "Argument max-buckets must be an integer between 1 and 10000",
                    "max-buckets",
                    raw,
                ));
            }
        },
    };
    let prefix = request.param("prefix").unwrap_or_default();
    let region = request.non_empty("bucket-region");
    let after = match request.non_empty("continuation-token") {
        None => None,
        Some(token) => match decode_token(token) {
            Some(('b', name)) => Some(name),
            _ => return Err(bad_token()),
        },
    };
    let mut buckets: Vec<&S3Bucket> = world
        .s3_buckets
        .iter()
        .filter(|b| world.s3_bucket(&b.name).is_some_and(|first| std::ptr::eq(first, *b)))
        .filter(|b| b.account == who.account && b.name.starts_with(prefix))
        .filter(|b| region.is_none_or(|r| b.region == r))
        .filter(|b| after.as_ref().is_none_or(|a| b.name > *a))
        .collect();
    buckets.sort_by(|a, b| a.name.cmp(&b.name));
    let paged = max.is_some() || after.is_some() || region.is_some() || !prefix.is_empty();
    let size = max.unwrap_or(if paged { BUCKETS_PAGE } else { usize::MAX });
    let truncated = buckets.len() > size;
    buckets.truncate(size);
    let mut w = XmlWriter::new("ListAllMyBucketsResult");
    write_owner(&mut w, account_owner(world, &who.account));
    w.open("Buckets");
    for b in &buckets {
        w.open("Bucket")
            .el("Name", &b.name)
            .el("CreationDate", iso8601(&b.created_at))
            .el("BucketRegion", &b.region)
            .close("Bucket");
    }
    w.close("Buckets");
    if truncated && let Some(last) = buckets.last() {
        w.el("ContinuationToken", encode_token('b', &last.name));
    }
    w.el_opt("Prefix", request.param("prefix"));
    Ok(xml_response(w.finish()))
}

fn get_bucket_location(world: &World, who: &Caller, name: &str) -> Result<Response, S3Error> {
    let b = bucket(world, who, name, false)?;
    let mut w = XmlWriter::new("LocationConstraint");
    if b.region != "us-east-1" {
        w.text(&b.region);
    }
    Ok(xml_response(w.finish()))
}

fn get_bucket_versioning(world: &World, who: &Caller, name: &str) -> Result<Response, S3Error> {
    let b = bucket(world, who, name, true)?;
    let mut w = XmlWriter::new("VersioningConfiguration");
    w.el_opt("Status", b.versioning.as_deref());
    Ok(xml_response(w.finish()))
}

fn get_bucket_lifecycle(world: &World, who: &Caller, name: &str) -> Result<Response, S3Error> {
    let b = bucket(world, who, name, true)?;
    if b.lifecycle_rules.is_empty() {
        return Err(S3Error::new(
            404,
            "NoSuchLifecycleConfiguration",
            "The lifecycle configuration does not exist",
        )
        .field("BucketName", name));
    }
    let mut w = XmlWriter::new("LifecycleConfiguration");
    for rule in &b.lifecycle_rules {
        w.json("Rule", rule);
    }
    Ok(xml_response(w.finish()))
}

fn head_bucket(world: &World, who: &Caller, name: &str) -> Result<Response, S3Error> {
    let b = bucket(world, who, name, true)?;
    let mut response = ().into_response();
    if let Ok(v) = HeaderValue::from_str(&b.region) {
        response.headers_mut().insert("x-amz-bucket-region", v);
    }
    crate::s3_xml::add_request_id(&mut response);
    Ok(response)
}

fn head_object(world: &World, who: &Caller, name: &str, request: &S3Request) -> Result<Response, S3Error> {
    let b = bucket(world, who, name, true)?;
    let key = request.key.as_deref().unwrap_or_default();
    let versions = b.objects.get(key).map(|o| o.versions.as_slice()).unwrap_or_default();
    let wanted = request.param("versionId");
    let version = match wanted {
        Some(id) => versions.iter().find(|v| v.version_id == id),
        None => versions.last(),
    };
    let Some(v) = version else {
        let code = if wanted.is_some() { "NoSuchVersion" } else { "NoSuchKey" };
        return Err(S3Error::new(404, code, "Not Found"));
    };
    let with_version = b.versioning.is_some() || v.version_id != NULL_VERSION;
    if v.is_delete_marker {
        // The current version is a marker: 404; a marker asked for by id: 405.
        let status = if wanted.is_some() { 405 } else { 404 };
        let mut e = S3Error::new(status, "MethodNotAllowed", "").header("x-amz-delete-marker", "true");
        if with_version {
            e = e.header("x-amz-version-id", v.version_id.clone());
        }
        if wanted.is_some() {
            e = e.header("last-modified", http_date(&v.last_modified));
        }
        return Err(e);
    }
    let mut headers = vec![
        ("accept-ranges", "bytes".to_owned()),
        ("last-modified", http_date(&v.last_modified)),
        ("content-length", v.size.to_string()),
        ("etag", v.etag.clone()),
        ("content-type", "binary/octet-stream".to_owned()),
        ("x-amz-server-side-encryption", "AES256".to_owned()),
    ];
    if with_version {
        headers.push(("x-amz-version-id", v.version_id.clone()));
    }
    if v.storage_class != "STANDARD" {
        headers.push(("x-amz-storage-class", v.storage_class.clone()));
    }
    let mut response = ().into_response();
    for (name, value) in headers {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, value);
        }
    }
    crate::s3_xml::add_request_id(&mut response);
    Ok(response)
}

/// What happened to one object of a DeleteObjects request.
enum Outcome {
    Deleted { key: String, version_id: Option<String>, marker_version: Option<String> },
    Failed { key: String, version_id: Option<String>, code: &'static str, message: &'static str },
}

fn delete_objects(
    world: &mut World,
    config: &SandboxConfig,
    who: &Caller,
    name: &str,
    body: &[u8],
) -> Result<Response, S3Error> {
    let request = std::str::from_utf8(body).ok().and_then(parse_delete).ok_or_else(S3Error::malformed_xml)?;
    if request.objects.is_empty() || request.objects.len() > DELETE_MAX {
        return Err(S3Error::malformed_xml());
    }
    bucket(world, who, name, true)?;
    let b = world.s3_bucket_mut(name).ok_or_else(|| S3Error::no_such_bucket(name))?;
    let outcomes: Vec<Outcome> = request
        .objects
        .into_iter()
        .map(|o| {
            if config.s3_denied_keys.contains(&o.key) {
                return Outcome::Failed {
                    key: o.key,
                    version_id: o.version_id,
                    code: "AccessDenied",
                    message: "Access Denied",
                };
            }
            delete_one(b, o.key, o.version_id, o.etag)
        })
        .collect();
    let mut w = XmlWriter::new("DeleteResult");
    for outcome in outcomes {
        match outcome {
            Outcome::Deleted { .. } if request.quiet => {}
            Outcome::Deleted { key, version_id, marker_version } => {
                w.open("Deleted").el("Key", key).el_opt("VersionId", version_id);
                if let Some(marker) = marker_version {
                    w.el("DeleteMarker", true).el("DeleteMarkerVersionId", marker);
                }
                w.close("Deleted");
            }
            Outcome::Failed { key, version_id, code, message } => {
                w.open("Error")
                    .el("Key", key)
                    .el_opt("VersionId", version_id)
                    .el("Code", code)
                    .el("Message", message)
                    .close("Error");
            }
        }
    }
    Ok(xml_response(w.finish()))
}

/// Deletes one object as S3 does: a named version goes for good (reported as a
/// marker if it was one) unless Object Lock protects it; without a version, an
/// `etag` must match the current object's first, then an unversioned bucket
/// drops the key and a versioned one gets a delete marker (`null` while
/// versioning is suspended, which replaces the `null` version).
fn delete_one(b: &mut S3Bucket, key: String, version_id: Option<String>, etag: Option<String>) -> Outcome {
    match version_id {
        Some(id) => {
            let now = Utc::now();
            let version = b.objects.get(&key).and_then(|o| o.versions.iter().find(|v| v.version_id == id));
            if b.object_lock && version.is_some_and(|v| v.locked(now)) {
                return Outcome::Failed {
                    key,
                    version_id: Some(id),
                    code: "AccessDenied",
                    message: "Access Denied because object protected by object lock.",
                };
            }
            let mut was_marker = false;
            if let Some(object) = b.objects.get_mut(&key) {
                if let Some(i) = object.versions.iter().position(|v| v.version_id == id) {
                    was_marker = object.versions.remove(i).is_delete_marker;
                }
                if object.versions.is_empty() {
                    b.objects.remove(&key);
                }
            }
            let marker_version = was_marker.then(|| id.clone());
            Outcome::Deleted { key, version_id: Some(id), marker_version }
        }
        None => {
            if let Some(wanted) = etag {
                let current = b.objects.get(&key).and_then(|o| o.current());
                let Some(current) = current else {
                    return Outcome::Failed {
                        key,
                        version_id: None,
                        code: "NoSuchKey",
                        message: "The specified key does not exist.",
                    };
                };
                if unquoted(&current.etag) != unquoted(&wanted) {
                    return Outcome::Failed {
                        key,
                        version_id: None,
                        code: "PreconditionFailed",
                        message: "At least one of the pre-conditions you specified did not hold",
                    };
                }
            }
            match b.versioning.as_deref() {
                None => {
                    b.objects.remove(&key);
                    Outcome::Deleted { key, version_id: None, marker_version: None }
                }
                Some(status) => {
                    let id = if status == "Enabled" {
                        b.runtime_version_id(&key)
                    } else {
                        NULL_VERSION.to_owned()
                    };
                    b.put_version(&key, S3ObjectVersion::delete_marker(&id, Utc::now()));
                    Outcome::Deleted { key, version_id: None, marker_version: Some(id) }
                }
            }
        }
    }
}

/// An ETag without its quotes (S3 accepts either form in a condition).
fn unquoted(etag: &str) -> &str {
    etag.trim().trim_matches('"')
}

fn get_object_lock_configuration(world: &World, who: &Caller, name: &str) -> Result<Response, S3Error> {
    let b = bucket(world, who, name, true)?;
    if !b.object_lock {
        return Err(S3Error::new(
            404,
            "ObjectLockConfigurationNotFoundError",
            "Object Lock configuration does not exist for this bucket",
        )
        .field("BucketName", name));
    }
    let mut w = XmlWriter::new("ObjectLockConfiguration");
    w.el("ObjectLockEnabled", "Enabled");
    Ok(xml_response(w.finish()))
}

/// GetObjectRetention or GetObjectLegalHold of a version (the current one
/// when none is named).
fn get_object_lock(
    world: &World,
    who: &Caller,
    name: &str,
    request: &S3Request,
    op: &str,
) -> Result<Response, S3Error> {
    let b = bucket(world, who, name, true)?;
    if !b.object_lock {
        return Err(S3Error::new(400, "InvalidRequest", "Bucket is missing Object Lock Configuration"));
    }
    let key = request.key.as_deref().unwrap_or_default();
    let versions = b.objects.get(key).map(|o| o.versions.as_slice()).unwrap_or_default();
    let wanted = request.param("versionId");
    let version = match wanted {
        Some(id) => versions.iter().find(|v| v.version_id == id),
        None => versions.last(),
    };
    let Some(v) = version else {
        let (code, message) = match wanted {
            Some(_) => ("NoSuchVersion", "The specified version does not exist."),
            None => ("NoSuchKey", "The specified key does not exist."),
        };
        return Err(S3Error::new(404, code, message));
    };
    let none = || {
        S3Error::new(
            404,
            "NoSuchObjectLockConfiguration",
            "The specified object does not have a ObjectLock configuration",
        )
    };
    if op == "GetObjectLegalHold" {
        if !v.legal_hold {
            return Err(none());
        }
        let mut w = XmlWriter::new("LegalHold");
        w.el("Status", "ON");
        return Ok(xml_response(w.finish()));
    }
    let Some(retention) = &v.retention else { return Err(none()) };
    let mut w = XmlWriter::new("Retention");
    w.el("Mode", &retention.mode).el("RetainUntilDate", iso8601(&retention.until));
    Ok(xml_response(w.finish()))
}
