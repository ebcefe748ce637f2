//! What every S3 handler shares (`s3` and `s3_list`): the request as S3 sees
//! it, the bucket as the caller may use it (or the redirect or denial S3
//! answers), and the owner a listing shows.

use std::collections::BTreeMap;

use axum::http::{Method, Uri};
use percent_encoding::percent_decode_str;

use crate::aws::Caller;
use crate::s3_xml::{S3Error, XmlWriter};
use crate::world::{S3Bucket, S3ObjectVersion, World, canonical_user_id};

/// A request as S3 sees it: method, bucket, key and decoded query parameters
/// (a parameter without `=` maps to `""`; the first of repeated ones wins).
#[derive(Debug, Clone)]
pub(crate) struct S3Request {
    /// HTTP method.
    pub method: Method,
    /// The bucket (first path segment), if any.
    pub bucket: Option<String>,
    /// The key (the rest of the path), if any.
    pub key: Option<String>,
    /// Query parameters.
    pub query: BTreeMap<String, String>,
}

impl S3Request {
    /// Splits a path-style request.
    pub(crate) fn parse(method: &Method, uri: &Uri) -> Self {
        let path = uri.path().strip_prefix('/').unwrap_or(uri.path());
        let (bucket, key) = match path.split_once('/') {
            Some((b, k)) => (b, Some(k)),
            None => (path, None),
        };
        let mut query = BTreeMap::new();
        for (k, v) in form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes()) {
            query.entry(k.into_owned()).or_insert_with(|| v.into_owned());
        }
        let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
        S3Request {
            method: method.clone(),
            bucket: (!bucket.is_empty()).then(|| decode(bucket)),
            key: key.filter(|k| !k.is_empty()).map(decode),
            query,
        }
    }

    /// The operation's name, as counted (`s3:<name>`).
    pub(crate) fn operation(&self) -> &'static str {
        let has = |k: &str| self.query.contains_key(k);
        match (&self.method, &self.bucket, &self.key) {
            (&Method::GET, None, _) => "ListBuckets",
            (_, None, _) => "Unsupported",
            (&Method::GET, Some(_), None) if has("location") => "GetBucketLocation",
            (&Method::GET, Some(_), None) if has("versioning") => "GetBucketVersioning",
            (&Method::GET, Some(_), None) if has("lifecycle") => "GetBucketLifecycleConfiguration",
            (&Method::GET, Some(_), None) if has("object-lock") => "GetObjectLockConfiguration",
            (&Method::GET, Some(_), None) if has("versions") => "ListObjectVersions",
            (&Method::GET, Some(_), None) if self.query.get("list-type").is_some_and(|t| t == "2") => {
                "ListObjectsV2"
            }
            (&Method::GET, Some(_), None) => "ListObjects",
            (&Method::HEAD, Some(_), None) => "HeadBucket",
            (&Method::POST, Some(_), None) if has("delete") => "DeleteObjects",
            (&Method::PUT, Some(_), None) if self.query.is_empty() => "CreateBucket",
            (&Method::DELETE, Some(_), None) if self.query.is_empty() => "DeleteBucket",
            (&Method::HEAD, Some(_), Some(_)) => "HeadObject",
            (&Method::GET, Some(_), Some(_)) if has("retention") => "GetObjectRetention",
            (&Method::GET, Some(_), Some(_)) if has("legal-hold") => "GetObjectLegalHold",
            (&Method::GET, Some(_), Some(_)) => "GetObject",
            (&Method::PUT, Some(_), Some(_)) => "PutObject",
            (&Method::DELETE, Some(_), Some(_)) => "DeleteObject",
            _ => "Unsupported",
        }
    }

    /// Whether the answer must have no body.
    pub(crate) fn is_head(&self) -> bool {
        self.method == Method::HEAD
    }

    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.query.get(name).map(String::as_str)
    }

    /// A parameter, `None` when absent or empty.
    pub(crate) fn non_empty(&self, name: &str) -> Option<&str> {
        self.param(name).filter(|v| !v.is_empty())
    }
}

/// The bucket `name` as `who` may use it: it exists, is theirs and, when
/// `same_region`, lives in the region the request is signed for.
pub(crate) fn bucket<'w>(
    world: &'w World,
    who: &Caller,
    name: &str,
    same_region: bool,
) -> Result<&'w S3Bucket, S3Error> {
    let b = world.s3_bucket(name).ok_or_else(|| S3Error::no_such_bucket(name))?;
    check_access(b, who, same_region)?;
    Ok(b)
}

fn check_access(b: &S3Bucket, who: &Caller, same_region: bool) -> Result<(), S3Error> {
    if same_region && b.region != who.region {
        return Err(S3Error::new(
            301,
            "PermanentRedirect",
            "The bucket you are attempting to access must be addressed using the specified endpoint. \
             Please send all future requests to this endpoint.",
        )
        .field("Endpoint", format!("s3.{}.amazonaws.com", b.region))
        .field("Bucket", b.name.clone())
        .header("x-amz-bucket-region", b.region.clone()));
    }
    if b.account != who.account {
        return Err(S3Error::access_denied());
    }
    Ok(())
}

/// The owner shown for `version` (the bucket owner unless it names another).
pub(crate) fn owner(world: &World, b: &S3Bucket, version: &S3ObjectVersion) -> (String, String) {
    match &version.owner {
        Some(o) => (o.id.clone(), o.display_name.clone()),
        None => account_owner(world, &b.account),
    }
}

pub(crate) fn account_owner(world: &World, account: &str) -> (String, String) {
    let name = world.accounts.iter().find(|a| a.id == account).map_or(account, |a| a.name.as_str());
    (canonical_user_id(account), name.to_owned())
}

pub(crate) fn write_owner(w: &mut XmlWriter, (id, name): (String, String)) {
    w.open("Owner").el("ID", id).el("DisplayName", name).close("Owner");
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn requests_split_into_bucket_key_and_query() {
        let uri: Uri = "/b/dir%2Fa%20b/c+d?versionId=x%2By&list-type=2&delete".parse().unwrap();
        let r = S3Request::parse(&Method::HEAD, &uri);
        assert_eq!(r.bucket.as_deref(), Some("b"));
        assert_eq!(r.key.as_deref(), Some("dir/a b/c+d"));
        assert_eq!(r.param("versionId"), Some("x+y"));
        assert_eq!(r.param("delete"), Some(""));
        assert_eq!(r.operation(), "HeadObject");
        let list = S3Request::parse(&Method::GET, &"/?x-id=ListBuckets".parse().unwrap());
        assert_eq!((list.bucket.as_deref(), list.operation()), (None, "ListBuckets"));
        let v2 = S3Request::parse(&Method::GET, &"/b?list-type=2&prefix=".parse().unwrap());
        assert_eq!(v2.operation(), "ListObjectsV2");
        let del = S3Request::parse(&Method::POST, &"/b/?delete".parse().unwrap());
        assert_eq!((del.key.as_deref(), del.operation()), (None, "DeleteObjects"));
    }
}
