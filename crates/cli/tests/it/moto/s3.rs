//! S3 through the real SDK against moto: buckets once per account with their
//! own region and versioning, objects listed by prefix (`key LIKE`), versions,
//! and the shipped `s3_cleanup.sql` applied: the newest builds of each branch
//! stay, the rest go; on a versioned bucket a delete adds a delete marker and
//! reclaims nothing. A moto server of its own, since these tests delete.

use serde::Deserialize;

use super::cli::{Skyglue, aws_entry_in, text};
use super::server::MotoServer;
use super::world::python;

const SEED_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/moto/seed_s3.py");
const CLEANUP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../queries/s3_cleanup.sql");

#[derive(Debug, Deserialize)]
struct Seeded {
    ci: Vec<String>,
    eu_versions: Vec<String>,
}

fn seeded() -> (MotoServer, Seeded, Skyglue) {
    let server = MotoServer::start().expect("a moto server for the S3 tests");
    let out = python(SEED_SCRIPT, &[SEED_SCRIPT, server.endpoint()]).expect("seed");
    let seeded: Seeded = serde_json::from_str(&out).expect("seed output");
    // Two regions of one account: buckets are still listed once.
    let sk = Skyglue::new(&aws_entry_in("a", None, &["us-east-1", "eu-west-1"], server.endpoint()));
    (server, seeded, sk)
}

fn run(sk: &Skyglue, policy: &str, extra: &[&str]) -> serde_json::Value {
    let state = sk.config_path().with_file_name("state");
    let mut args =
        vec!["run", policy, "--apply", "--format", "json", "--state-dir", state.to_str().expect("utf8")];
    args.extend_from_slice(extra);
    let out = sk.run(&args);
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}\n{}", out.stdout, out.stderr))
}

#[test]
fn buckets_objects_and_versions_read_through_the_real_sdk() {
    let (_server, seeded, sk) = seeded();
    let buckets = sk.json("SELECT name, region, versioning, arn FROM aws_s3_bucket ORDER BY name");
    assert_eq!(buckets.len(), 2, "once per account, not per region: {buckets:?}");
    assert_eq!(text(&buckets[0], "name"), Some("skyglue-ci"));
    assert_eq!(text(&buckets[0], "region"), Some("us-east-1"));
    assert_eq!(text(&buckets[1], "region"), Some("eu-west-1"));
    assert_eq!(text(&buckets[1], "versioning"), Some("Enabled"));
    assert_eq!(text(&buckets[1], "arn"), Some("arn:aws:s3:::skyglue-eu"));

    let main = sk.json(
        "SELECT key, size FROM aws_s3_object WHERE bucket_name = 'skyglue-ci' AND key LIKE 'builds/main/%'",
    );
    assert_eq!(main.len(), 5, "{main:?}");
    let all = sk.json("SELECT key FROM aws_s3_object WHERE bucket_name = 'skyglue-ci'");
    assert_eq!(all.len(), seeded.ci.len());

    let versions = sk.json(
        "SELECT version_id, is_latest, size FROM aws_s3_object_version \
         WHERE bucket_name = 'skyglue-eu' AND key = 'report.csv' ORDER BY last_modified, size",
    );
    let ids: Vec<&str> = versions.iter().filter_map(|v| text(v, "version_id")).collect();
    let mut expected: Vec<&str> = seeded.eu_versions.iter().map(String::as_str).collect();
    expected.sort();
    let mut got = ids.clone();
    got.sort();
    assert_eq!(got, expected, "{versions:?}");
}

#[test]
fn the_shipped_policy_keeps_the_newest_builds_and_a_versioned_delete_adds_a_marker() {
    let (_server, _seeded, sk) = seeded();
    let report = run(
        &sk,
        CLEANUP,
        &["--param", "bucket=skyglue-ci", "--param", "keep_per_prefix=2", "--param", "max_age_days=0"],
    );
    assert_eq!(report["status"], "ok", "{report}");
    let mut done: Vec<&str> = report["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .filter(|a| a["status"] == "done")
        .filter_map(|a| a["target"]["key"].as_str())
        .collect();
    done.sort();
    assert_eq!(
        done,
        vec![
            "builds/feature-x/001/app.tar.gz",
            "builds/main/001/app.tar.gz",
            "builds/main/002/app.tar.gz",
            "builds/main/003/app.tar.gz",
        ],
        "{report}"
    );
    assert_eq!(report["summary"]["bytes_reclaimed"], 101 + 101 + 102 + 103);
    let left =
        sk.json("SELECT key FROM aws_s3_object WHERE bucket_name = 'skyglue-ci' AND prefix = 'builds/'");
    assert_eq!(left.len(), 4, "{left:?}");

    // A versioned bucket: deleting the current object adds a delete marker.
    let policy = sk.config_path().with_file_name("eu.sql");
    std::fs::write(
        &policy,
        "-- @name: eu\n-- @action: delete_s3_objects\n\
         SELECT bucket_name, key, etag FROM aws_s3_object WHERE bucket_name = 'skyglue-eu'\n",
    )
    .expect("policy");
    let report = run(&sk, policy.to_str().expect("utf8"), &[]);
    assert_eq!(report["status"], "ok", "{report}");
    assert_eq!(report["actions"][0]["status"], "done", "{report}");
    assert!(
        report["actions"][0]["reason"].as_str().is_some_and(|r| r.starts_with("delete marker added")),
        "{report}"
    );
    assert_eq!(report["summary"]["bytes_reclaimed"], 0);
    let markers = sk.json(
        "SELECT key FROM aws_s3_object_version WHERE bucket_name = 'skyglue-eu' AND is_delete_marker AND is_latest",
    );
    assert_eq!(markers.len(), 1, "{markers:?}");
}
