//! S3 (REST-XML, path-style, routed by the `s3` signature): ListObjectsV2 and
//! ListObjectVersions paging, DeleteObjects semantics and limits, HeadObject,
//! ListBuckets across regions, bucket configuration, region redirects, throttling and
//! faults.

use chrono::{Duration, Utc};
use serde_json::json;
use skyglue_sandbox::world::{Account, RegionWorld, S3Bucket, S3ObjectVersion, access_key_for};
use skyglue_sandbox::{Fault, Sandbox, SandboxConfig, World};

use crate::client::{PROD_KEY, Resp, STAGING_KEY, auth, aws, get, request};
use crate::worlds::{prod_world, start};

const PROD: &str = "111111111111";
const STAGING: &str = "222222222222";

// ---- a minimal S3 client over the hand-written HTTP one ----

/// Sends an S3 request signed for `region` as `key`.
async fn s3_as(sb: &Sandbox, key: &str, region: &str, method: &str, path: &str, body: &str) -> Resp {
    let mut headers = vec![
        ("Authorization", auth(key, region, "s3")),
        ("x-amz-content-sha256", "UNSIGNED-PAYLOAD".to_owned()),
    ];
    if !body.is_empty() {
        headers.push(("Content-Type", "application/xml".to_owned()));
        // What the SDK adds to DeleteObjects; the sandbox does not verify it.
        headers.push(("x-amz-checksum-crc32", "AAAAAA==".to_owned()));
    }
    request(sb.local_addr(), method, path, &headers, body).await
}

/// A GET as prod in us-east-1.
async fn s3_get(sb: &Sandbox, path: &str) -> Resp {
    s3_as(sb, PROD_KEY, "us-east-1", "GET", path, "").await
}

fn ok(r: Resp) -> String {
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("application/xml"));
    assert!(r.header("x-amz-request-id").is_some());
    r.body
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// The texts of every `<tag>` element (exact name), in order.
fn texts(xml: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    xml.split(&open).skip(1).map(|s| unescape(s.split(&close).next().unwrap())).collect()
}

fn text(xml: &str, tag: &str) -> Option<String> {
    texts(xml, tag).into_iter().next()
}

/// The error code of an S3 XML error.
fn code(r: &Resp) -> String {
    text(&r.body, "Code").unwrap_or_default()
}

/// Keys of ListObjectsV2's `<Contents>`.
fn keys(xml: &str) -> Vec<String> {
    texts(xml, "Contents").iter().map(|c| text(c, "Key").unwrap()).collect()
}

fn common_prefixes(xml: &str) -> Vec<String> {
    texts(xml, "CommonPrefixes").iter().map(|c| text(c, "Prefix").unwrap()).collect()
}

/// ListObjectVersions entries in document order: (kind, key, version id, is latest).
fn version_entries(xml: &str) -> Vec<(&'static str, String, String, bool)> {
    let mut out = Vec::new();
    let mut rest = xml;
    loop {
        let v = rest.find("<Version>").map(|i| (i, "Version"));
        let d = rest.find("<DeleteMarker>").map(|i| (i, "DeleteMarker"));
        let Some((i, kind)) = [v, d].into_iter().flatten().min() else { return out };
        let inner = &rest[i..];
        let end = inner.find(&format!("</{kind}>")).unwrap();
        let block = &inner[..end];
        let latest = text(block, "IsLatest").unwrap() == "true";
        out.push((kind, text(block, "Key").unwrap(), text(block, "VersionId").unwrap(), latest));
        rest = &inner[end..];
    }
}

/// Walks ListObjectsV2 with `extra` query parameters; returns the page sizes, the
/// keys and the common prefixes.
async fn walk_v2(sb: &Sandbox, bucket: &str, extra: &str) -> (Vec<usize>, Vec<String>, Vec<String>) {
    let (mut sizes, mut all_keys, mut all_prefixes) = (Vec::new(), Vec::new(), Vec::new());
    let mut token: Option<String> = None;
    loop {
        let mut path = format!("/{bucket}/?list-type=2{extra}");
        if let Some(t) = &token {
            path.push_str(&format!("&continuation-token={t}"));
        }
        let xml = ok(s3_get(sb, &path).await);
        let (k, p) = (keys(&xml), common_prefixes(&xml));
        assert_eq!(text(&xml, "KeyCount").unwrap(), (k.len() + p.len()).to_string());
        sizes.push(k.len() + p.len());
        all_keys.extend(k);
        all_prefixes.extend(p);
        let truncated = text(&xml, "IsTruncated").unwrap() == "true";
        token = text(&xml, "NextContinuationToken");
        assert_eq!(truncated, token.is_some(), "{xml}");
        if token.is_none() {
            return (sizes, all_keys, all_prefixes);
        }
    }
}

fn delete_body(objects: &[(&str, Option<&str>)], quiet: bool) -> String {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">",
    );
    for (key, version) in objects {
        xml.push_str(&format!("<Object><Key>{key}</Key>"));
        if let Some(v) = version {
            xml.push_str(&format!("<VersionId>{v}</VersionId>"));
        }
        xml.push_str("</Object>");
    }
    xml.push_str(&format!("<Quiet>{quiet}</Quiet></Delete>"));
    xml
}

async fn delete_objects(sb: &Sandbox, bucket: &str, objects: &[(&str, Option<&str>)], quiet: bool) -> Resp {
    let path = format!("/{bucket}/?delete");
    s3_as(sb, PROD_KEY, "us-east-1", "POST", &path, &delete_body(objects, quiet)).await
}

/// Prod (us-east-1 and eu-west-1) and staging (us-east-1), with these buckets.
fn two_accounts(buckets: Vec<S3Bucket>) -> World {
    let account = |id: &str, name: &str| Account {
        id: id.into(),
        name: name.into(),
        access_key_id: access_key_for(id),
        regions: vec![RegionWorld::new("us-east-1"), RegionWorld::new("eu-west-1")],
    };
    World {
        accounts: vec![account(PROD, "prod"), account(STAGING, "staging")],
        s3_buckets: buckets,
        ..World::default()
    }
}

/// Prod's bucket `big` in us-east-1: 2,000 keys `logs/0000.gz`.. and 500 keys
/// `builds/000/app.tar.gz`..
fn big_bucket() -> S3Bucket {
    let t = Utc::now() - Duration::days(3);
    let mut b = S3Bucket::new(PROD, "us-east-1", "big");
    for i in 0..2000 {
        b = b.with_object(&format!("logs/{i:04}.gz"), 100 + i, t);
    }
    for i in 0..500 {
        b = b.with_object(&format!("builds/{i:03}/app.tar.gz"), 5_000_000, t + Duration::minutes(i));
    }
    b
}

// ---- ListObjectsV2 ----

#[tokio::test]
async fn list_objects_v2_pages_2500_objects_by_1000_and_caps_max_keys() {
    let sb = start(prod_world(RegionWorld::new("us-east-1")).with_s3_bucket(big_bucket())).await;
    let (sizes, all, _) = walk_v2(&sb, "big", "").await;
    assert_eq!(sizes, [1000, 1000, 500]);
    let mut sorted = all.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(all, sorted, "UTF-8 binary order, no repeats");
    assert_eq!(all.len(), 2500);
    assert_eq!(all[0], "builds/000/app.tar.gz");
    // More than 1000 is capped at 1000 (the request's value is echoed).
    let xml = ok(s3_get(&sb, "/big/?list-type=2&max-keys=5000").await);
    assert_eq!((keys(&xml).len(), text(&xml, "MaxKeys").unwrap()), (1000, "5000".into()));
    assert_eq!(text(&xml, "IsTruncated").unwrap(), "true");
    let (sizes, _, _) = walk_v2(&sb, "big", "&max-keys=5000").await;
    assert_eq!(sizes, [1000, 1000, 500]);
    let (sizes, _, _) = walk_v2(&sb, "big", "&max-keys=700").await;
    assert_eq!(sizes, [700, 700, 700, 400]);
    // The SDK's path-style form is /big/?...; /big?... is the same.
    let plain = ok(s3_get(&sb, "/big?list-type=2&max-keys=3").await);
    assert_eq!(keys(&plain), ["builds/000/app.tar.gz", "builds/001/app.tar.gz", "builds/002/app.tar.gz"]);
    let first = texts(&plain, "Contents").remove(0);
    assert_eq!(text(&first, "Size").unwrap(), "5000000");
    assert_eq!(text(&first, "StorageClass").unwrap(), "STANDARD");
    let etag = text(&first, "ETag").unwrap();
    assert!(etag.starts_with('"') && etag.ends_with('"') && etag.len() == 34, "{etag}");
    let modified = text(&first, "LastModified").unwrap();
    assert!(modified.ends_with(".000Z") || modified.ends_with('Z'), "{modified}");
    assert_eq!(modified.len(), "2024-05-01T12:00:00.000Z".len(), "{modified}");
    assert!(text(&first, "Owner").is_none(), "Owner only with fetch-owner=true");
    let owned = ok(s3_get(&sb, "/big/?list-type=2&max-keys=1&fetch-owner=true").await);
    let owner = text(&owned, "Owner").unwrap();
    assert_eq!(text(&owner, "ID").unwrap().len(), 64);
    assert_eq!(text(&owner, "DisplayName").unwrap(), "prod");
    assert_eq!(sb.calls().get("s3:ListObjectsV2"), Some(&(3 + 1 + 3 + 4 + 1 + 1)));
}

#[tokio::test]
async fn list_objects_v2_filters_by_prefix_and_rolls_up_common_prefixes() {
    let sb = start(prod_world(RegionWorld::new("us-east-1")).with_s3_bucket(big_bucket())).await;
    let (sizes, builds, _) = walk_v2(&sb, "big", "&prefix=builds/").await;
    assert_eq!((sizes, builds.len()), (vec![500], 500));
    assert!(builds.iter().all(|k| k.starts_with("builds/")));
    let (sizes, logs, _) = walk_v2(&sb, "big", "&prefix=logs%2F").await;
    assert_eq!((sizes, logs.len()), (vec![1000, 1000], 2000));
    let (_, one, _) = walk_v2(&sb, "big", "&prefix=logs/19").await;
    assert_eq!(one.len(), 100);
    let (_, none, _) = walk_v2(&sb, "big", "&prefix=nothing/").await;
    assert!(none.is_empty());
    // Delimiter: the top level is two common prefixes.
    let top = ok(s3_get(&sb, "/big/?list-type=2&delimiter=%2F").await);
    assert_eq!(common_prefixes(&top), ["builds/", "logs/"]);
    assert!(keys(&top).is_empty());
    assert_eq!(text(&top, "KeyCount").unwrap(), "2");
    assert_eq!(text(&top, "Delimiter").unwrap(), "/");
    // 500 build directories, 7 per page: common prefixes page without repeats.
    let (sizes, keys_seen, dirs) = walk_v2(&sb, "big", "&prefix=builds/&delimiter=/&max-keys=7").await;
    assert_eq!(sizes.len(), 72);
    assert!(keys_seen.is_empty());
    assert_eq!(dirs.len(), 500);
    assert_eq!(dirs[0], "builds/000/");
    assert_eq!(dirs.iter().collect::<std::collections::BTreeSet<_>>().len(), 500);
    // start-after, and a garbage token.
    let after = ok(s3_get(&sb, "/big/?list-type=2&prefix=logs/&start-after=logs/1997.gz").await);
    assert_eq!(keys(&after), ["logs/1998.gz", "logs/1999.gz"]);
    assert_eq!(text(&after, "StartAfter").unwrap(), "logs/1997.gz");
    let bad = s3_get(&sb, "/big/?list-type=2&continuation-token=garbage").await;
    assert_eq!((bad.status, code(&bad)), (400, "InvalidArgument".into()));
    let bad = s3_get(&sb, "/big/?list-type=2&max-keys=-1").await;
    assert_eq!((bad.status, code(&bad)), (400, "InvalidArgument".into()));
}

#[tokio::test]
async fn list_objects_v2_uses_binary_order_and_hides_deleted_keys() {
    let t = Utc::now();
    let bucket = S3Bucket::new(PROD, "us-east-1", "mixed")
        .versioned()
        .with_object("a", 1, t)
        .with_object("é", 1, t)
        .with_object("B", 1, t)
        .with_object("Z", 1, t)
        .with_object("gone", 1, t)
        .with_delete_marker("gone", t)
        .with_object("a&b <c>", 1, t);
    let sb = start(prod_world(RegionWorld::new("us-east-1")).with_s3_bucket(bucket)).await;
    let xml = ok(s3_get(&sb, "/mixed/?list-type=2").await);
    assert_eq!(keys(&xml), ["B", "Z", "a", "a&b <c>", "é"]);
    assert!(xml.contains("<Key>a&amp;b &lt;c&gt;</Key>"));
    let encoded = ok(s3_get(&sb, "/mixed/?list-type=2&encoding-type=url").await);
    assert_eq!(keys(&encoded), ["B", "Z", "a", "a%26b+%3Cc%3E", "%C3%A9"]);
    assert_eq!(text(&encoded, "EncodingType").unwrap(), "url");
}

// ---- ListObjectVersions ----

/// A versioned bucket `v`: `j` (1 version), `k` (5 versions then a delete marker),
/// `l` (2 versions) and `m` (1,500 versions).
fn versioned_bucket() -> S3Bucket {
    let t = Utc::now() - Duration::days(10);
    let mut b = S3Bucket::new(PROD, "us-east-1", "v").versioned().with_object("j", 1, t);
    for i in 0..5 {
        b = b.with_object("k", 10 + i, t + Duration::hours(i));
    }
    b = b.with_delete_marker("k", t + Duration::days(1));
    b = b.with_object("l", 1, t).with_object("l", 2, t + Duration::hours(1));
    for i in 0..1500 {
        b = b.with_object("m", i, t + Duration::seconds(i));
    }
    b
}

/// Walks ListObjectVersions with `max-keys`; returns the page sizes and entries.
async fn walk_versions(sb: &Sandbox, max: usize) -> (Vec<usize>, Vec<(&'static str, String, String, bool)>) {
    let (mut sizes, mut all) = (Vec::new(), Vec::new());
    let mut markers: Option<(String, String)> = None;
    loop {
        let mut path = format!("/v/?versions&max-keys={max}");
        if let Some((k, v)) = &markers {
            path.push_str(&format!("&key-marker={k}&version-id-marker={v}"));
        }
        let xml = ok(s3_get(sb, &path).await);
        let entries = version_entries(&xml);
        sizes.push(entries.len());
        let truncated = text(&xml, "IsTruncated").unwrap() == "true";
        if truncated {
            let (_, key, vid, _) = entries.last().unwrap().clone();
            assert_eq!(text(&xml, "NextKeyMarker").unwrap(), key);
            assert_eq!(text(&xml, "NextVersionIdMarker").unwrap(), vid);
            markers = Some((key, vid));
        } else {
            assert!(text(&xml, "NextKeyMarker").is_none());
        }
        all.extend(entries);
        if !truncated {
            return (sizes, all);
        }
    }
}

#[tokio::test]
async fn list_object_versions_pages_across_versions_of_one_key() {
    let bucket = versioned_bucket();
    let expected: Vec<(&str, String, String, bool)> = bucket
        .objects
        .iter()
        .flat_map(|(key, o)| {
            let n = o.versions.len();
            o.versions.iter().rev().enumerate().map(move |(i, v)| {
                let kind = if v.is_delete_marker { "DeleteMarker" } else { "Version" };
                (kind, key.clone(), v.version_id.clone(), i == 0 && n > 0)
            })
        })
        .collect();
    assert_eq!(expected.len(), 1 + 6 + 2 + 1500);
    let sb = start(prod_world(RegionWorld::new("us-east-1")).with_s3_bucket(bucket)).await;
    // Small pages: boundaries fall inside k's versions (j, marker, v5 | v4 v3 v2 | ...).
    let (sizes, all) = walk_versions(&sb, 3).await;
    assert_eq!(all, expected);
    assert_eq!(sizes.len(), 1509usize.div_ceil(3));
    assert_eq!(&all[1], &("DeleteMarker", "k".to_owned(), all[1].2.clone(), true));
    assert!(!all[2].3 && all[2].0 == "Version", "k's newest real version is not the latest");
    // Default and oversized pages hold at most 1000: m's versions span two pages.
    let (sizes, all) = walk_versions(&sb, 5000).await;
    assert_eq!((sizes, all.len()), (vec![1000, 509], 1509));
    assert_eq!(all, expected);
    let first = ok(s3_get(&sb, "/v/?versions").await);
    assert_eq!(text(&first, "MaxKeys").unwrap(), "1000");
    assert_eq!(version_entries(&first).len(), 1000);
    let version = texts(&first, "Version").remove(0);
    assert!(text(&version, "ETag").is_some() && text(&version, "Owner").is_some());
    assert_eq!(text(&version, "StorageClass").unwrap(), "STANDARD");
    // Prefix, and a key marker alone (resumes after all of that key's versions).
    let only_k = ok(s3_get(&sb, "/v/?versions&prefix=k").await);
    assert_eq!(version_entries(&only_k).len(), 6);
    let after_k = ok(s3_get(&sb, "/v/?versions&key-marker=k&max-keys=2").await);
    let entries = version_entries(&after_k);
    assert_eq!((entries[0].1.as_str(), entries[1].1.as_str()), ("l", "l"));
    let bad = s3_get(&sb, "/v/?versions&version-id-marker=abc").await;
    assert_eq!((bad.status, code(&bad)), (400, "InvalidArgument".into()));
    assert_eq!(sb.calls().get("s3:ListObjectVersions"), Some(&(503 + 2 + 1 + 1 + 1 + 1)));
}

// ---- DeleteObjects ----

#[tokio::test]
async fn delete_objects_adds_markers_or_removes_versions_in_a_versioned_bucket() {
    let sb = start(prod_world(RegionWorld::new("us-east-1")).with_s3_bucket(versioned_bucket())).await;
    let before = sb.world_snapshot();
    let l_versions: Vec<String> =
        before.s3_bucket("v").unwrap().objects["l"].versions.iter().map(|v| v.version_id.clone()).collect();
    let k_marker = before.s3_bucket("v").unwrap().objects["k"].versions.last().unwrap().version_id.clone();
    let r = delete_objects(
        &sb,
        "v",
        &[
            ("j", None),
            ("l", Some(&l_versions[0])),
            ("k", Some(&k_marker)),
            ("nope", Some("x")),
            ("new", None),
        ],
        false,
    )
    .await;
    let xml = ok(r);
    let deleted = texts(&xml, "Deleted");
    assert_eq!(deleted.len(), 5);
    // No version: a delete marker with a new version id.
    assert_eq!(text(&deleted[0], "Key").unwrap(), "j");
    assert_eq!(text(&deleted[0], "DeleteMarker").unwrap(), "true");
    let j_marker = text(&deleted[0], "DeleteMarkerVersionId").unwrap();
    assert!(text(&deleted[0], "VersionId").is_none());
    // A version: removed for good.
    assert_eq!(text(&deleted[1], "VersionId").unwrap(), l_versions[0]);
    assert!(text(&deleted[1], "DeleteMarker").is_none());
    // Removing a delete marker reports it as one.
    assert_eq!(text(&deleted[2], "DeleteMarker").unwrap(), "true");
    assert_eq!(text(&deleted[2], "DeleteMarkerVersionId").unwrap(), k_marker);
    // A missing version is still "deleted"; a missing key gets a marker too.
    assert_eq!(text(&deleted[3], "VersionId").unwrap(), "x");
    assert_eq!(text(&deleted[4], "DeleteMarker").unwrap(), "true");
    let after = sb.world_snapshot();
    let v = after.s3_bucket("v").unwrap();
    let j = &v.objects["j"].versions;
    assert_eq!((j.len(), j[1].is_delete_marker, j[1].version_id.clone()), (2, true, j_marker));
    assert_eq!(v.objects["l"].versions.len(), 1);
    assert_eq!(v.objects["l"].versions[0].version_id, l_versions[1]);
    assert_eq!(v.objects["k"].versions.len(), 5, "k is back");
    assert!(v.objects["new"].versions[0].is_delete_marker);
    let listed = keys(&ok(s3_get(&sb, "/v/?list-type=2").await));
    assert_eq!(listed, ["k", "l", "m"]);
}

#[tokio::test]
async fn delete_objects_in_an_unversioned_bucket_removes_keys_and_honours_quiet_and_limits() {
    let sb = start(prod_world(RegionWorld::new("us-east-1")).with_s3_bucket(big_bucket())).await;
    let r = delete_objects(&sb, "big", &[("logs/0000.gz", None), ("logs/0001.gz", None)], false).await;
    let xml = ok(r);
    let deleted = texts(&xml, "Deleted");
    assert_eq!(deleted.len(), 2);
    assert_eq!(deleted[0], "<Key>logs/0000.gz</Key>");
    // Quiet: no Deleted entries.
    let quiet = ok(delete_objects(&sb, "big", &[("logs/0002.gz", None)], true).await);
    assert!(texts(&quiet, "Deleted").is_empty() && texts(&quiet, "Error").is_empty(), "{quiet}");
    assert!(quiet.contains("<DeleteResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"));
    // 1000 objects are fine, 1001 are not (and nothing is deleted).
    let names: Vec<String> = (3..1004).map(|i| format!("logs/{i:04}.gz")).collect();
    let objects: Vec<(&str, Option<&str>)> = names.iter().map(|k| (k.as_str(), None)).collect();
    let r = delete_objects(&sb, "big", &objects, true).await;
    assert_eq!((r.status, code(&r)), (400, "MalformedXML".into()));
    assert_eq!(sb.world_snapshot().s3_bucket("big").unwrap().objects.len(), 2497);
    ok(delete_objects(&sb, "big", &objects[..1000], true).await);
    assert_eq!(sb.world_snapshot().s3_bucket("big").unwrap().objects.len(), 1497);
    // An empty request and garbage are malformed too.
    let r = delete_objects(&sb, "big", &[], false).await;
    assert_eq!((r.status, code(&r)), (400, "MalformedXML".into()));
    let r = s3_as(&sb, PROD_KEY, "us-east-1", "POST", "/big/?delete", "<Delete><Object>").await;
    assert_eq!((r.status, code(&r)), (400, "MalformedXML".into()));
    assert_eq!(sb.calls().get("s3:DeleteObjects"), Some(&6));
    let (_, left, _) = walk_v2(&sb, "big", "&prefix=logs/").await;
    assert_eq!(left.len(), 997);
    assert_eq!(left[0], "logs/1003.gz");
}

#[tokio::test]
async fn denied_keys_fail_alone_and_stay() {
    let config = SandboxConfig {
        s3_denied_keys: vec!["logs/0001.gz".to_owned(), "builds/000/app.tar.gz".to_owned()],
        ..SandboxConfig::default()
    };
    let world = prod_world(RegionWorld::new("us-east-1")).with_s3_bucket(big_bucket());
    let sb = Sandbox::start(world, config).await.unwrap();
    let objects = [("logs/0000.gz", None), ("logs/0001.gz", None), ("builds/000/app.tar.gz", Some("null"))];
    let xml = ok(delete_objects(&sb, "big", &objects, true).await);
    assert!(texts(&xml, "Deleted").is_empty());
    let errors = texts(&xml, "Error");
    assert_eq!(errors.len(), 2);
    assert_eq!(text(&errors[0], "Key").unwrap(), "logs/0001.gz");
    assert_eq!(text(&errors[0], "Code").unwrap(), "AccessDenied");
    assert_eq!(text(&errors[0], "Message").unwrap(), "Access Denied");
    assert_eq!(text(&errors[1], "VersionId").unwrap(), "null");
    let bucket = sb.world_snapshot().s3_bucket("big").unwrap().clone();
    assert!(!bucket.objects.contains_key("logs/0000.gz"));
    assert!(
        bucket.objects.contains_key("logs/0001.gz") && bucket.objects.contains_key("builds/000/app.tar.gz")
    );
}

// ---- HeadObject ----

#[tokio::test]
async fn head_object_answers_headers_only() {
    let t = Utc::now() - Duration::days(2);
    let bucket = S3Bucket::new(PROD, "us-east-1", "h")
        .versioned()
        .with_object("dir/app.tar.gz", 1234, t)
        .with_object("dir/app.tar.gz", 5678, t + Duration::hours(1))
        .with_object("gone", 1, t)
        .with_delete_marker("gone", t + Duration::hours(2))
        .with_object_version(
            "cold",
            S3ObjectVersion::object("v1", 9, t, "cold").with_storage_class("GLACIER"),
        );
    let plain = S3Bucket::new(PROD, "us-east-1", "plain").with_object("a b+c", 7, t);
    let world = prod_world(RegionWorld::new("us-east-1")).with_s3_bucket(bucket).with_s3_bucket(plain);
    let sb = start(world).await;
    let versions = sb.world_snapshot().s3_bucket("h").unwrap().objects["dir/app.tar.gz"].versions.clone();
    let head = |path: String| {
        let sb = &sb;
        async move { s3_as(sb, PROD_KEY, "us-east-1", "HEAD", &path, "").await }
    };
    let r = head("/h/dir/app.tar.gz".into()).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, "");
    assert_eq!(r.header("content-length"), Some("5678"));
    assert_eq!(r.header("etag"), Some(versions[1].etag.as_str()));
    assert_eq!(r.header("x-amz-version-id"), Some(versions[1].version_id.as_str()));
    let modified = r.header("last-modified").unwrap();
    assert!(
        modified.ends_with(" GMT") && modified.len() == "Wed, 01 May 2024 12:00:00 GMT".len(),
        "{modified}"
    );
    assert!(r.header("x-amz-storage-class").is_none(), "S3 leaves it out for STANDARD");
    // An older version by id.
    let r = head(format!("/h/dir/app.tar.gz?versionId={}", versions[0].version_id)).await;
    assert_eq!((r.status, r.header("content-length")), (200, Some("1234")));
    let r = head("/h/cold".into()).await;
    assert_eq!(r.header("x-amz-storage-class"), Some("GLACIER"));
    // Missing: 404 without a body; a current delete marker says so.
    let r = head("/h/nope".into()).await;
    assert_eq!((r.status, r.body.as_str()), (404, ""));
    assert!(r.header("x-amz-delete-marker").is_none());
    let r = head("/h/gone".into()).await;
    assert_eq!((r.status, r.header("x-amz-delete-marker"), r.body.as_str()), (404, Some("true"), ""));
    let r = head("/h/dir/app.tar.gz?versionId=nope".into()).await;
    assert_eq!(r.status, 404);
    // Unversioned buckets have no version header; keys are percent-decoded.
    let r = head("/plain/a%20b%2Bc".into()).await;
    assert_eq!((r.status, r.header("content-length")), (200, Some("7")));
    assert!(r.header("x-amz-version-id").is_none());
    let r = head("/missing-bucket/x".into()).await;
    assert_eq!((r.status, r.body.as_str()), (404, ""));
    assert_eq!(sb.calls().get("s3:HeadObject"), Some(&8));
}

// ---- buckets ----

fn regional_buckets() -> World {
    let t = Utc::now() - Duration::days(30);
    two_accounts(vec![
        S3Bucket::new(PROD, "us-east-1", "prod-east")
            .created_at(t)
            .versioned()
            .with_expiration_rule("tmp", "tmp/", 7),
        S3Bucket::new(PROD, "eu-west-1", "prod-eu").suspended(),
        S3Bucket::new(PROD, "us-west-2", "prod-west"),
        S3Bucket::new(STAGING, "us-east-1", "staging-east"),
    ])
}

#[tokio::test]
async fn list_buckets_shows_the_callers_buckets_of_every_region() {
    let sb = start(regional_buckets()).await;
    let r = s3_as(&sb, PROD_KEY, "eu-west-1", "GET", "/?x-id=ListBuckets", "").await;
    let xml = ok(r);
    assert!(xml.contains("<ListAllMyBucketsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"));
    let buckets = texts(&xml, "Bucket");
    let names: Vec<String> = buckets.iter().map(|b| text(b, "Name").unwrap()).collect();
    assert_eq!(names, ["prod-east", "prod-eu", "prod-west"]);
    let regions: Vec<String> = buckets.iter().map(|b| text(b, "BucketRegion").unwrap()).collect();
    assert_eq!(regions, ["us-east-1", "eu-west-1", "us-west-2"]);
    assert_eq!(text(&buckets[0], "CreationDate").unwrap().len(), "2024-05-01T12:00:00.000Z".len());
    assert_eq!(text(&text(&xml, "Owner").unwrap(), "DisplayName").unwrap(), "prod");
    assert!(text(&xml, "ContinuationToken").is_none());
    // Paged with max-buckets.
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..3 {
        let mut path = "/?x-id=ListBuckets&max-buckets=2".to_owned();
        if let Some(t) = &token {
            path.push_str(&format!("&continuation-token={t}"));
        }
        let xml = ok(s3_get(&sb, &path).await);
        names.extend(texts(&xml, "Name"));
        token = text(&xml, "ContinuationToken");
        if token.is_none() {
            break;
        }
    }
    assert_eq!(names, ["prod-east", "prod-eu", "prod-west"]);
    let filtered = ok(s3_get(&sb, "/?prefix=prod-e&bucket-region=eu-west-1").await);
    assert_eq!(texts(&filtered, "Name"), ["prod-eu"]);
    let staging = ok(s3_as(&sb, STAGING_KEY, "us-west-2", "GET", "/", "").await);
    assert_eq!(texts(&staging, "Name"), ["staging-east"]);
    let bad = s3_get(&sb, "/?max-buckets=0").await;
    assert_eq!((bad.status, code(&bad)), (400, "InvalidArgument".into()));
    assert_eq!(sb.calls().get("s3:ListBuckets"), Some(&(1 + 2 + 1 + 1 + 1)));
    // A world without buckets lists none.
    let empty = start(two_accounts(Vec::new())).await;
    let xml = ok(s3_get(&empty, "/").await);
    assert!(xml.contains("<Buckets></Buckets>"), "{xml}");
}

#[tokio::test]
async fn bucket_location_versioning_and_lifecycle() {
    let sb = start(regional_buckets()).await;
    // GetBucketLocation answers from any region; us-east-1 is an empty constraint.
    let east = ok(s3_as(&sb, PROD_KEY, "eu-west-1", "GET", "/prod-east/?location", "").await);
    assert!(east.contains(
        "<LocationConstraint xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"></LocationConstraint>"
    ));
    let eu = ok(s3_get(&sb, "/prod-eu?location").await);
    assert!(eu.contains(">eu-west-1</LocationConstraint>"), "{eu}");
    let v = ok(s3_get(&sb, "/prod-east/?versioning").await);
    assert_eq!(text(&v, "Status").unwrap(), "Enabled");
    let suspended = ok(s3_as(&sb, PROD_KEY, "eu-west-1", "GET", "/prod-eu/?versioning", "").await);
    assert_eq!(text(&suspended, "Status").unwrap(), "Suspended");
    let never = ok(s3_as(&sb, PROD_KEY, "us-west-2", "GET", "/prod-west/?versioning", "").await);
    assert!(text(&never, "Status").is_none());
    assert!(never.contains("<VersioningConfiguration xmlns="));
    let lifecycle = ok(s3_get(&sb, "/prod-east/?lifecycle").await);
    let rule = text(&lifecycle, "Rule").unwrap();
    assert_eq!(text(&rule, "ID").unwrap(), "tmp");
    assert_eq!(text(&rule, "Status").unwrap(), "Enabled");
    assert_eq!(text(&text(&rule, "Filter").unwrap(), "Prefix").unwrap(), "tmp/");
    assert_eq!(text(&text(&rule, "Expiration").unwrap(), "Days").unwrap(), "7");
    let none = s3_as(&sb, PROD_KEY, "us-west-2", "GET", "/prod-west/?lifecycle", "").await;
    assert_eq!((none.status, code(&none)), (404, "NoSuchLifecycleConfiguration".into()));
    assert_eq!(text(&none.body, "BucketName").unwrap(), "prod-west");
    assert!(text(&none.body, "RequestId").is_some());
    let calls = sb.calls();
    assert_eq!(calls.get("s3:GetBucketLocation"), Some(&2));
    assert_eq!(calls.get("s3:GetBucketVersioning"), Some(&3));
    assert_eq!(calls.get("s3:GetBucketLifecycleConfiguration"), Some(&2));
}

#[tokio::test]
async fn wrong_region_redirects_and_other_accounts_are_denied() {
    let sb = start(regional_buckets()).await;
    let r = s3_get(&sb, "/prod-eu/?list-type=2").await;
    assert_eq!((r.status, code(&r)), (301, "PermanentRedirect".into()));
    assert_eq!(r.header("x-amz-bucket-region"), Some("eu-west-1"));
    assert_eq!(text(&r.body, "Bucket").unwrap(), "prod-eu");
    let r = s3_as(&sb, PROD_KEY, "us-east-1", "HEAD", "/prod-west/k", "").await;
    assert_eq!((r.status, r.header("x-amz-bucket-region"), r.body.as_str()), (301, Some("us-west-2"), ""));
    let r = s3_as(&sb, PROD_KEY, "us-east-1", "HEAD", "/prod-west", "").await;
    assert_eq!((r.status, r.header("x-amz-bucket-region")), (301, Some("us-west-2")));
    let r = s3_as(&sb, PROD_KEY, "us-west-2", "HEAD", "/prod-west", "").await;
    assert_eq!((r.status, r.header("x-amz-bucket-region")), (200, Some("us-west-2")));
    let r = delete_objects(&sb, "prod-eu", &[("k", None)], false).await;
    assert_eq!((r.status, code(&r)), (301, "PermanentRedirect".into()));
    // Another account's bucket, and one that does not exist.
    let r = s3_get(&sb, "/staging-east/?list-type=2").await;
    assert_eq!((r.status, code(&r)), (403, "AccessDenied".into()));
    let r = s3_get(&sb, "/staging-east/?location").await;
    assert_eq!((r.status, code(&r)), (403, "AccessDenied".into()));
    let r = s3_get(&sb, "/nope/?versions").await;
    assert_eq!((r.status, code(&r)), (404, "NoSuchBucket".into()));
    assert_eq!(text(&r.body, "BucketName").unwrap(), "nope");
    // Unimplemented operations say so.
    let r = s3_get(&sb, "/prod-east/some/key").await;
    assert_eq!((r.status, code(&r)), (501, "NotImplemented".into()));
    assert_eq!(sb.calls().get("s3:GetObject"), Some(&1));
}

// ---- routing, throttling and faults ----

#[tokio::test]
async fn s3_is_recognised_by_its_signature_not_its_path() {
    let t = Utc::now();
    let world = World::demo()
        .with_s3_bucket(S3Bucket::new(PROD, "us-east-1", "repos").with_object("acme/web/commits", 1, t))
        .with_s3_bucket(S3Bucket::new(PROD, "us-east-1", "graphql").with_object("q", 1, t));
    let sb = start(world).await;
    let xml = ok(s3_get(&sb, "/repos/?list-type=2&prefix=acme/").await);
    assert_eq!(keys(&xml), ["acme/web/commits"]);
    let r = s3_as(&sb, PROD_KEY, "us-east-1", "HEAD", "/repos/acme/web/commits", "").await;
    assert_eq!(r.status, 200);
    let r = s3_as(&sb, PROD_KEY, "us-east-1", "POST", "/graphql?delete", &delete_body(&[("q", None)], false))
        .await;
    assert_eq!(texts(&ok(r), "Key"), ["q"]);
    // The other services still answer on the same paths.
    let gh = get(&sb, "/repos/acme/web").await;
    assert_eq!((gh.status, gh.json()["full_name"].clone()), (200, json!("acme/web")));
    assert_eq!(aws(&sb, "ecr:DescribeRepositories", json!({})).await.status, 200);
    let calls = sb.calls();
    assert_eq!(calls.get("ecr:DescribeRepositories"), Some(&1));
    assert_eq!(calls.keys().filter(|k| k.starts_with("s3:")).count(), 3);
}

#[tokio::test]
async fn s3_rate_limit_answers_slow_down() {
    let config = SandboxConfig { s3_rate_per_sec: Some(2.0), ..SandboxConfig::default() };
    let sb = Sandbox::start(regional_buckets(), config).await.unwrap();
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(s3_get(&sb, "/prod-east/?list-type=2").await);
    }
    assert_eq!(statuses.iter().map(|r| r.status).collect::<Vec<_>>(), [200, 200, 503]);
    assert_eq!(code(&statuses[2]), "SlowDown");
    assert_eq!(text(&statuses[2].body, "Message").unwrap(), "Please reduce your request rate.");
    // HEAD gets the status without a body; another account has its own budget.
    let r = s3_as(&sb, PROD_KEY, "us-east-1", "HEAD", "/prod-east/k", "").await;
    assert_eq!((r.status, r.body.as_str()), (503, ""));
    assert_eq!(s3_as(&sb, STAGING_KEY, "us-east-1", "GET", "/", "").await.status, 200);
    assert_eq!(sb.throttled_calls().get("s3:ListObjectsV2"), Some(&1));
    assert_eq!(sb.throttled_calls().get("s3:HeadObject"), Some(&1));
    assert_eq!(sb.calls().get("s3:ListObjectsV2"), Some(&3));
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert_eq!(s3_get(&sb, "/prod-east/?list-type=2").await.status, 200);
}

#[tokio::test]
async fn faults_hit_s3_operations_by_name() {
    let config = SandboxConfig {
        faults: vec![
            Fault::nth_call("s3:ListObjectsV2", 2).error(500, "InternalError"),
            Fault::nth_call("s3:DeleteObjects", 1).times(u64::MAX).error(403, "AccessDenied"),
        ],
        ..SandboxConfig::default()
    };
    let sb = Sandbox::start(regional_buckets(), config).await.unwrap();
    assert_eq!(s3_get(&sb, "/prod-east/?list-type=2").await.status, 200);
    let r = s3_get(&sb, "/prod-east/?list-type=2").await;
    assert_eq!((r.status, code(&r)), (500, "InternalError".into()));
    assert_eq!(text(&r.body, "Message").unwrap(), "Injected fault");
    assert_eq!(s3_get(&sb, "/prod-east/?list-type=2").await.status, 200);
    let r = delete_objects(&sb, "prod-east", &[("k", None)], false).await;
    assert_eq!((r.status, code(&r)), (403, "AccessDenied".into()));
    assert_eq!(sb.calls().get("s3:ListObjectsV2"), Some(&3));
}

#[tokio::test]
async fn the_demo_has_a_ci_artifacts_bucket() {
    let world = World::demo();
    let bucket = world.s3_bucket(skyglue_sandbox::demo::CI_ARTIFACTS_BUCKET).unwrap();
    assert_eq!((bucket.account.as_str(), bucket.region.as_str()), (PROD, "us-east-1"));
    assert_eq!((bucket.objects.len(), bucket.live_object_count(), bucket.version_count()), (76, 75, 79));
    let now = Utc::now();
    let ages: Vec<i64> = bucket
        .objects
        .values()
        .filter_map(|o| o.current())
        .map(|v| (now - v.last_modified).num_days())
        .collect();
    assert!(ages.iter().any(|&d| d <= 3) && ages.iter().any(|&d| d >= 110), "{ages:?}");
    assert!(bucket.objects.keys().all(|k| k.starts_with("builds/") && k.ends_with("/app.tar.gz")));
    let again = World::demo();
    let ids = |w: &World| {
        w.s3_buckets[0]
            .objects
            .values()
            .flat_map(|o| &o.versions)
            .map(|v| v.version_id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&world), ids(&again), "deterministic");
    let sb = start(world).await;
    let (sizes, listed, _) = walk_v2(&sb, "acme-ci-artifacts", "").await;
    assert_eq!((sizes, listed.len()), (vec![75], 75));
    let dirs = ok(s3_get(&sb, "/acme-ci-artifacts/?list-type=2&prefix=builds/&delimiter=/").await);
    assert_eq!(
        common_prefixes(&dirs),
        ["builds/dark-mode/", "builds/fix-footer/", "builds/main/", "builds/release-1.4/"]
    );
}
