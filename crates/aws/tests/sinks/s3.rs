//! `delete_s3_objects` against the sandbox, its check and its deletes as the
//! runner calls them: an overwrite between the check and the delete is refused
//! by S3 (the delete carries the ETag the check saw) and skipped; what a key
//! delete frees and says follows the bucket's versioning; a version row naming
//! the live version is skipped; Object Lock protects versions; and an answer
//! the SDK cannot read fails the check with the SDK's own reason.

use std::io::{Read, Write};

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use chrono::{Duration, Utc};
use skyglue_aws::sinks::DeleteS3Objects;
use skyglue_aws::sinks::delete_s3_objects::{MARKER_ADDED, NULL_VERSION_REMOVED, PERMANENT};
use skyglue_core::sink::{Checked, Outcome, Sink, Status, Target};
use skyglue_core::{AwsConnection, Connections, Engine};
use skyglue_sandbox::world::{RegionWorld, S3Bucket, S3ObjectVersion};
use skyglue_sandbox::{Fault, Sandbox, SandboxConfig, World};

use crate::support::{PROD, REGION, Recorder, calls, connections, world};

struct S3Env {
    sandbox: Sandbox,
    engine: Engine,
    log: Recorder,
}

async fn start(buckets: Vec<S3Bucket>) -> S3Env {
    start_with(buckets, SandboxConfig::default()).await
}

async fn start_with(buckets: Vec<S3Bucket>, config: SandboxConfig) -> S3Env {
    let mut world: World = world(RegionWorld::default(), RegionWorld::default());
    world.s3_buckets = buckets;
    let sandbox = Sandbox::start(world.clone(), config).await.expect("sandbox starts");
    let engine = Engine::new(connections(&sandbox, &world).await, skyglue_aws::registry());
    S3Env { sandbox, engine, log: Recorder::default() }
}

impl S3Env {
    /// A key-delete row for `key`, with the ETag the world has now.
    fn key_row(&self, bucket: &str, key: &str) -> Target {
        let world = self.sandbox.world_snapshot();
        let etag =
            world.s3_bucket(bucket).and_then(|b| b.objects.get(key)?.current().map(|v| v.etag.clone()));
        Target::from_pairs([
            ("bucket_name", bucket),
            ("key", key),
            ("etag", etag.unwrap_or_default().as_str()),
        ])
    }

    /// The id of `key`'s `n`th version (0: the oldest).
    fn version_id(&self, bucket: &str, key: &str, n: usize) -> String {
        let world = self.sandbox.world_snapshot();
        world.s3_bucket(bucket).expect("bucket").objects[key].versions[n].version_id.clone()
    }

    async fn check(&self, targets: Vec<Target>) -> Checked {
        DeleteS3Objects.check(&self.engine, targets).await.expect("the check reads")
    }

    async fn apply(&self, targets: Vec<Target>) -> Vec<Outcome> {
        DeleteS3Objects.apply(self.engine.connections(), targets, &self.log).await
    }
}

fn by_key<'a>(outcomes: &'a [Outcome], key: &str) -> &'a Outcome {
    outcomes.iter().find(|o| o.target.get("key") == Some(key)).expect("an outcome for the key")
}

fn reason(o: &Outcome) -> &str {
    o.reason.as_deref().unwrap_or_default()
}

fn old() -> chrono::DateTime<Utc> {
    Utc::now() - Duration::days(40)
}

#[tokio::test]
async fn an_object_overwritten_between_the_check_and_the_delete_is_skipped_and_the_upload_survives() {
    let ci = S3Bucket::new(PROD, REGION, "ci")
        .with_object("builds/main/latest/app.tar.gz", 100, old())
        .with_object("builds/main/001/app.tar.gz", 50, old());
    let env = start(vec![ci]).await;
    let rows = vec![
        env.key_row("ci", "builds/main/latest/app.tar.gz"),
        env.key_row("ci", "builds/main/001/app.tar.gz"),
    ];
    let checked = env.check(rows).await;
    assert_eq!(checked.proceed.len(), 2, "unchanged when checked: {:?}", checked.skipped);

    // CI re-uploads `latest` after the check, before the batch.
    let upload = env.sandbox.update_world(|w| {
        w.s3_bucket_mut("ci").expect("ci").put_object("builds/main/latest/app.tar.gz", 120)
    });
    let outcomes = env.apply(checked.proceed).await;

    let latest = by_key(&outcomes, "builds/main/latest/app.tar.gz");
    assert_eq!(latest.status, Status::Skipped, "{latest:?}");
    assert!(reason(latest).starts_with("changed since checked"), "{latest:?}");
    assert!(reason(latest).contains("PreconditionFailed"), "{latest:?}");
    let old_build = by_key(&outcomes, "builds/main/001/app.tar.gz");
    assert_eq!((old_build.status, reason(old_build)), (Status::Done, PERMANENT));
    let world = env.sandbox.world_snapshot();
    let kept = world.s3_bucket("ci").expect("ci").objects["builds/main/latest/app.tar.gz"].current().cloned();
    assert_eq!(kept.map(|v| (v.etag, v.size)), Some((upload, 120)), "the new upload is still there");
    assert_eq!(env.log.calls("s3:DeleteObjects").len(), 1, "one journaled call");
}

#[tokio::test]
async fn a_key_delete_frees_and_says_what_the_buckets_versioning_makes_of_it() {
    let plain = S3Bucket::new(PROD, REGION, "plain").with_object("k", 100, old());
    let enabled = S3Bucket::new(PROD, REGION, "enabled").versioned().with_object("k", 200, old());
    let suspended = S3Bucket::new(PROD, REGION, "suspended")
        .versioned()
        .with_object("old", 7, old())
        .suspended()
        .with_object("k", 300, old());
    let env = start(vec![plain, enabled, suspended]).await;
    let rows: Vec<Target> = ["plain", "enabled", "suspended"].iter().map(|b| env.key_row(b, "k")).collect();

    let checked = env.check(rows).await;
    let bytes = |bucket: &str| {
        checked.bytes.iter().find(|(t, _)| t.get("bucket_name") == Some(bucket)).map(|(_, b)| *b)
    };
    assert_eq!(bytes("plain"), Some(100), "never versioned: the object goes");
    assert_eq!(bytes("enabled"), Some(0), "Enabled: only a delete marker");
    assert_eq!(bytes("suspended"), Some(300), "Suspended: the null version goes for good");

    let outcomes = env.apply(checked.proceed).await;
    let said = |bucket: &str| {
        let o = outcomes.iter().find(|o| o.target.get("bucket_name") == Some(bucket)).expect("outcome");
        (o.status, o.reason.clone().unwrap_or_default())
    };
    assert_eq!(said("plain"), (Status::Done, PERMANENT.to_string()));
    assert_eq!(said("enabled"), (Status::Done, MARKER_ADDED.to_string()));
    assert_eq!(said("suspended"), (Status::Done, NULL_VERSION_REMOVED.to_string()));
    let world = env.sandbox.world_snapshot();
    assert!(world.s3_bucket("plain").expect("plain").objects.is_empty());
    assert_eq!(world.s3_bucket("enabled").expect("enabled").version_count(), 2, "data and marker");
    let k = &world.s3_bucket("suspended").expect("suspended").objects["k"].versions;
    assert_eq!(k.len(), 1, "only the null delete marker: {k:?}");
    assert!(k[0].is_delete_marker);
}

#[tokio::test]
async fn a_version_row_never_deletes_the_live_version() {
    let v = S3Bucket::new(PROD, REGION, "v")
        .versioned()
        .with_object("k", 10, old())
        .with_object("k", 20, old() + Duration::days(1))
        .with_object("gone", 5, old())
        .with_delete_marker("gone", old() + Duration::days(2))
        .with_delete_marker("only-marker", old());
    let env = start(vec![v]).await;
    let version = |key: &str, n: usize| {
        let id = env.version_id("v", key, n);
        Target::from_pairs([("bucket_name", "v"), ("key", key), ("version_id", id.as_str())])
    };
    let (live, older) = (version("k", 1), version("k", 0));
    let (marker, lone_marker) = (version("gone", 1), version("only-marker", 0));

    let checked = env.check(vec![live.clone(), older.clone(), marker.clone(), lone_marker]).await;

    let skipped = |t: &Target| checked.skipped.iter().find(|o| o.target == *t).map(|o| reason(o).to_string());
    let live_reason = skipped(&live).expect("the live version is skipped");
    assert!(live_reason.contains("is the current version of k"), "{live_reason}");
    assert!(live_reason.contains("a key delete"), "{live_reason}");
    let marker_reason = skipped(&marker).expect("the marker hiding older data is skipped");
    assert!(marker_reason.contains("previous version live again"), "{marker_reason}");
    assert_eq!(
        checked.proceed.len(),
        2,
        "the older version and a marker hiding nothing: {:?}",
        checked.proceed
    );

    let outcomes = env.apply(checked.proceed).await;
    assert!(outcomes.iter().all(|o| o.status == Status::Done), "{outcomes:?}");
    let world = env.sandbox.world_snapshot();
    let k = world.s3_bucket("v").expect("v").objects["k"].current().cloned();
    assert_eq!(k.map(|v| v.size), Some(20), "the live object is untouched");
}

#[tokio::test]
async fn versions_object_lock_protects_are_skipped_with_the_protection() {
    let until = Utc::now() + Duration::days(365);
    let version = |id: &str, seed: &str| S3ObjectVersion::object(id, 10, old(), seed);
    let locked = S3Bucket::new(PROD, REGION, "locked")
        .with_object_lock()
        .with_object_version("held", version("h1", "held").with_legal_hold())
        .with_object_version("held", version("h2", "held"))
        .with_object_version("kept", version("r1", "kept").with_retention("COMPLIANCE", until))
        .with_object_version("kept", version("r2", "kept"))
        .with_object_version("free", version("f1", "free").with_retention("GOVERNANCE", old()))
        .with_object_version("free", version("f2", "free"));
    let env = start(vec![locked]).await;
    let row = |key: &str, id: &str| {
        Target::from_pairs([("bucket_name", "locked"), ("key", key), ("version_id", id)])
    };

    let checked = env.check(vec![row("held", "h1"), row("kept", "r1"), row("free", "f1")]).await;

    let skipped = |key: &str| {
        checked.skipped.iter().find(|o| o.target.get("key") == Some(key)).map(|o| reason(o).to_string())
    };
    let held = skipped("held").expect("a legal hold protects h1");
    assert!(held.contains("legal hold") && held.contains("no bypass"), "{held}");
    let kept = skipped("kept").expect("a retention protects r1");
    assert!(kept.contains("COMPLIANCE retention until"), "{kept}");
    assert_eq!(checked.proceed.len(), 1, "a retention that has passed protects nothing");
    assert_eq!(calls(&env.sandbox, "s3:GetObjectLockConfiguration"), 1);

    let outcomes = env.apply(checked.proceed).await;
    assert_eq!(outcomes.len(), 1);
    assert_eq!(outcomes[0].status, Status::Done, "{outcomes:?}");
    let world = env.sandbox.world_snapshot();
    assert_eq!(world.s3_bucket("locked").expect("locked").version_count(), 5);
}

/// A loopback S3 that answers STS and ListBuckets as AWS does, and
/// GetBucketVersioning with an XML root the SDK does not expect (as moto
/// 5.2.5 does: `<GetBucketVersioningResponse>`).
fn odd_endpoint() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = vec![0u8; 64 * 1024];
            let mut got = Vec::new();
            // The head, then as much body as Content-Length says.
            let complete = |got: &[u8]| {
                let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") else { return false };
                let head = String::from_utf8_lossy(&got[..end]).to_ascii_lowercase();
                let length = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                got.len() >= end + 4 + length
            };
            while !complete(&got) {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
            }
            let head = String::from_utf8_lossy(&got).to_string();
            let line = head.lines().next().unwrap_or_default().to_string();
            let body = if line.starts_with("POST") {
                "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
                 <GetCallerIdentityResult><Arn>arn:aws:iam::111111111111:root</Arn><UserId>x</UserId>\
                 <Account>111111111111</Account></GetCallerIdentityResult>\
                 <ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetCallerIdentityResponse>"
            } else if line.contains("versioning") {
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
                 <GetBucketVersioningResponse xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
                 <Status>Enabled</Status></GetBucketVersioningResponse>"
            } else {
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
                 <ListAllMyBucketsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
                 <Owner><ID>o</ID><DisplayName>o</DisplayName></Owner><Buckets><Bucket><Name>odd</Name>\
                 <CreationDate>2026-01-01T00:00:00.000Z</CreationDate><BucketRegion>us-east-1</BucketRegion>\
                 </Bucket></Buckets></ListAllMyBucketsResult>"
            };
            let response = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes());
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn an_answer_the_sdk_cannot_read_fails_the_check_with_the_sdks_reason() {
    let sdk = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(odd_endpoint())
        .credentials_provider(Credentials::new("k", "s", None, None, "test"))
        .load()
        .await;
    let connections = Connections::from_aws(vec![AwsConnection::new("a", sdk).expect("a region")]);
    let engine = Engine::new(connections, skyglue_aws::registry());
    let row = Target::from_pairs([("bucket_name", "odd"), ("key", "k"), ("etag", "\"e\"")]);

    let err = DeleteS3Objects.check(&engine, vec![row]).await.expect_err("fails closed");

    let message = err.to_string();
    assert!(message.contains("s3:GetBucketVersioning") && message.contains("a/us-east-1"), "{message}");
    assert!(message.contains("invalid XML root"), "the SDK's reason: {message}");
    assert!(message.contains("VersioningConfiguration"), "{message}");
    assert!(!message.contains("Unknown"), "{message}");
}

#[tokio::test]
async fn a_batch_whose_answer_is_lost_after_it_deleted_is_done_after_a_re_read() {
    // Every DeleteObjects deletes, then its answer is lost: the call fails
    // after its retries, and only the re-read (HeadObject) can tell.
    let ci = S3Bucket::new(PROD, REGION, "ci").with_object("a", 10, old()).with_object("b", 20, old());
    let fault =
        Fault::nth_call("s3:DeleteObjects", 1).times(u64::MAX).error(500, "InternalError").answer_lost();
    let env = start_with(vec![ci], SandboxConfig { faults: vec![fault], ..SandboxConfig::default() }).await;
    let rows = vec![env.key_row("ci", "a"), env.key_row("ci", "b")];
    let checked = env.check(rows).await;

    let outcomes = env.apply(checked.proceed).await;

    let world = env.sandbox.world_snapshot();
    let bucket = world.s3_bucket("ci").expect("ci");
    for key in ["a", "b"] {
        assert!(bucket.objects.get(key).and_then(|o| o.current()).is_none(), "{key} was deleted");
        let o = by_key(&outcomes, key);
        assert_eq!(o.status, Status::Done, "{o:?}");
        assert!(reason(o).contains("it had taken effect"), "{o:?}");
    }
    assert!(calls(&env.sandbox, "s3:HeadObject") >= 2, "each target was re-read");
}
