//! S3's refusals a delete must respect, over the wire: a DeleteObjects entry
//! with an `<ETag>` is conditional on the current object (`PreconditionFailed`
//! after an overwrite, `NoSuchKey` when there is none), a key delete with
//! versioning Suspended replaces the `null` version with a `null` delete
//! marker, and Object Lock (GetObjectLockConfiguration, GetObjectRetention,
//! GetObjectLegalHold) protects versions from deletion by id.

use chrono::{Duration, Utc};
use skyglue_sandbox::Sandbox;
use skyglue_sandbox::world::{NULL_VERSION, RegionWorld, S3Bucket, S3ObjectVersion};

use crate::client::{PROD_KEY, Resp, auth, request};
use crate::worlds::{prod_world, start};

const PROD: &str = "111111111111";

async fn s3(sb: &Sandbox, method: &str, path: &str, body: &str) -> Resp {
    let mut headers = vec![
        ("Authorization", auth(PROD_KEY, "us-east-1", "s3")),
        ("x-amz-content-sha256", "UNSIGNED-PAYLOAD".to_owned()),
    ];
    if !body.is_empty() {
        headers.push(("Content-Type", "application/xml".to_owned()));
    }
    request(sb.local_addr(), method, path, &headers, body).await
}

/// A DeleteObjects body of `(key, version, etag)` entries.
fn delete_body(objects: &[(&str, Option<&str>, Option<&str>)]) -> String {
    let mut xml = String::from("<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
    for (key, version, etag) in objects {
        xml.push_str(&format!("<Object><Key>{key}</Key>"));
        if let Some(v) = version {
            xml.push_str(&format!("<VersionId>{v}</VersionId>"));
        }
        if let Some(e) = etag {
            xml.push_str(&format!("<ETag>{}</ETag>", e.replace('"', "&quot;")));
        }
        xml.push_str("</Object>");
    }
    xml.push_str("<Quiet>false</Quiet></Delete>");
    xml
}

/// `(tag, key, code)` of each `<Deleted>` or `<Error>` entry, in order.
fn entries(xml: &str) -> Vec<(String, String, Option<String>)> {
    let field = |chunk: &str, name: &str| {
        let open = format!("<{name}>");
        chunk.split(&open).nth(1).map(|s| s.split(&format!("</{name}>")).next().unwrap().to_string())
    };
    let mut found = Vec::new();
    for tag in ["Deleted", "Error"] {
        let open = format!("<{tag}>");
        for (at, _) in xml.match_indices(&open) {
            let chunk = &xml[at + open.len()..];
            let chunk = chunk.split(&format!("</{tag}>")).next().unwrap();
            found.push((at, tag.to_string(), field(chunk, "Key").unwrap(), field(chunk, "Code")));
        }
    }
    found.sort();
    found.into_iter().map(|(_, tag, key, code)| (tag, key, code)).collect()
}

#[tokio::test]
async fn an_etag_makes_a_delete_conditional_on_the_current_object() {
    let t = Utc::now() - Duration::days(40);
    let bucket = S3Bucket::new(PROD, "us-east-1", "ci")
        .with_object("same", 10, t)
        .with_object("overwritten", 10, t)
        .with_object("unconditional", 10, t);
    let sb = start(prod_world(RegionWorld::new("us-east-1")).with_s3_bucket(bucket)).await;
    let etag =
        |key: &str| sb.world_snapshot().s3_bucket("ci").unwrap().objects[key].current().unwrap().etag.clone();
    let (same, seen) = (etag("same"), etag("overwritten"));
    // CI uploads a new build after the check read its ETag.
    let new = sb.update_world(|w| w.s3_bucket_mut("ci").unwrap().put_object("overwritten", 20));
    assert_ne!(new, seen, "new content, new ETag");

    let body = delete_body(&[
        ("same", None, Some(same.trim_matches('"'))),
        ("overwritten", None, Some(&seen)),
        ("missing", None, Some(&seen)),
        ("unconditional", None, None),
    ]);
    let r = s3(&sb, "POST", "/ci/?delete", &body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        entries(&r.body),
        vec![
            ("Deleted".into(), "same".into(), None),
            ("Error".into(), "overwritten".into(), Some("PreconditionFailed".into())),
            ("Error".into(), "missing".into(), Some("NoSuchKey".into())),
            ("Deleted".into(), "unconditional".into(), None),
        ],
        "{}",
        r.body
    );
    let world = sb.world_snapshot();
    let ci = world.s3_bucket("ci").unwrap();
    let kept = ci.objects["overwritten"].current().unwrap();
    assert_eq!((kept.etag.as_str(), kept.size), (new.as_str(), 20), "the new upload survives");
    assert!(!ci.objects.contains_key("same") && !ci.objects.contains_key("unconditional"));
}

#[tokio::test]
async fn a_key_delete_with_versioning_suspended_replaces_the_null_version() {
    let t = Utc::now() - Duration::days(40);
    let bucket = S3Bucket::new(PROD, "us-east-1", "s")
        .versioned()
        .with_object("k", 5, t)
        .suspended()
        .with_object("k", 7, t + Duration::days(1));
    let sb = start(prod_world(RegionWorld::new("us-east-1")).with_s3_bucket(bucket)).await;
    let r = s3(&sb, "POST", "/s/?delete", &delete_body(&[("k", None, None)])).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("<DeleteMarkerVersionId>null</DeleteMarkerVersionId>"), "{}", r.body);
    let world = sb.world_snapshot();
    let versions = &world.s3_bucket("s").unwrap().objects["k"].versions;
    assert_eq!(versions.len(), 2, "the versioned write stays, the null one is replaced: {versions:?}");
    assert_eq!(versions[0].size, 5);
    assert!(versions[1].is_delete_marker && versions[1].version_id == NULL_VERSION);
}

#[tokio::test]
async fn object_lock_is_readable_and_protects_versions_from_deletes_by_id() {
    let t = Utc::now() - Duration::days(40);
    let until = Utc::now() + Duration::days(365);
    let bucket = S3Bucket::new(PROD, "us-east-1", "locked")
        .with_object_lock()
        .with_object_version("held", S3ObjectVersion::object("h1", 1, t, "held").with_legal_hold())
        .with_object_version(
            "kept",
            S3ObjectVersion::object("r1", 1, t, "kept").with_retention("COMPLIANCE", until),
        )
        .with_object_version(
            "expired",
            S3ObjectVersion::object("e1", 1, t, "expired")
                .with_retention("GOVERNANCE", t + Duration::days(1)),
        )
        .with_object_version("free", S3ObjectVersion::object("f1", 1, t, "free"));
    let plain = S3Bucket::new(PROD, "us-east-1", "plain").with_object("k", 1, t);
    let world = prod_world(RegionWorld::new("us-east-1")).with_s3_bucket(bucket).with_s3_bucket(plain);
    let sb = start(world).await;

    let config = s3(&sb, "GET", "/locked?object-lock", "").await;
    assert!(config.body.contains("<ObjectLockEnabled>Enabled</ObjectLockEnabled>"), "{}", config.body);
    let none = s3(&sb, "GET", "/plain?object-lock", "").await;
    assert_eq!(none.status, 404);
    assert!(none.body.contains("ObjectLockConfigurationNotFoundError"), "{}", none.body);
    let hold = s3(&sb, "GET", "/locked/held?legal-hold&versionId=h1", "").await;
    assert!(hold.body.contains("<Status>ON</Status>"), "{}", hold.body);
    let retention = s3(&sb, "GET", "/locked/kept?retention&versionId=r1", "").await;
    assert!(retention.body.contains("<Mode>COMPLIANCE</Mode>"), "{}", retention.body);
    let no_retention = s3(&sb, "GET", "/locked/free?retention&versionId=f1", "").await;
    assert_eq!(no_retention.status, 404);
    assert!(no_retention.body.contains("NoSuchObjectLockConfiguration"), "{}", no_retention.body);
    assert_eq!(sb.calls().get("s3:GetObjectRetention"), Some(&2));

    let body = delete_body(&[
        ("held", Some("h1"), None),
        ("kept", Some("r1"), None),
        ("expired", Some("e1"), None),
        ("free", Some("f1"), None),
    ]);
    let r = s3(&sb, "POST", "/locked/?delete", &body).await;
    assert_eq!(
        entries(&r.body),
        vec![
            ("Error".into(), "held".into(), Some("AccessDenied".into())),
            ("Error".into(), "kept".into(), Some("AccessDenied".into())),
            ("Deleted".into(), "expired".into(), None),
            ("Deleted".into(), "free".into(), None),
        ],
        "{}",
        r.body
    );
    let world = sb.world_snapshot();
    let locked = world.s3_bucket("locked").unwrap();
    assert!(locked.objects.contains_key("held") && locked.objects.contains_key("kept"));
}
