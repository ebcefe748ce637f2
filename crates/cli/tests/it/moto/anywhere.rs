//! "In use" beyond ECS against moto through the real SDK: a Lambda alias's
//! version, another function's `$LATEST` and a Batch job definition each
//! keep their image from a policy that selects every image; the image nobody
//! uses goes. A moto server of its own, since this test deletes.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::cli::{Skyglue, aws_entry_in, text};
use super::server::MotoServer;
use super::world::python;

const SEED_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/moto/seed_anywhere.py");

#[derive(Debug, Deserialize)]
struct Seeded {
    digests: BTreeMap<String, String>,
}

const EVERYTHING: &str = "-- @name: everything\n-- @action: delete_ecr_images\n-- @max_deletes: 100\n\
    SELECT account_id, region, registry_id, repository_name, image_digest FROM aws_ecr_image\n";

#[test]
fn lambda_versions_and_batch_job_definitions_keep_their_images() {
    let server = MotoServer::start().expect("a moto server for the in-use-anywhere test");
    let out = python(SEED_SCRIPT, &[SEED_SCRIPT, server.endpoint()]).expect("seed");
    let seeded: Seeded = serde_json::from_str(&out).expect("seed output");
    let sk = Skyglue::new(&aws_entry_in("a", None, &["us-east-1"], server.endpoint()));
    let digest = |name: &str| seeded.digests[name].clone();

    // The tables, through the real SDK.
    let aliases =
        sk.json("SELECT name, function_version, resolved_image_uri, image_uri FROM aws_lambda_alias");
    assert_eq!(aliases.len(), 1, "{aliases:?}");
    assert_eq!(text(&aliases[0], "name"), Some("live"));
    let alias_image = [text(&aliases[0], "image_uri"), text(&aliases[0], "resolved_image_uri")];
    assert!(alias_image.iter().flatten().any(|u| u.ends_with(&digest("alias"))), "{aliases:?}");
    let functions =
        sk.json("SELECT name, package_type, image_uri FROM aws_lambda_function WHERE name = 'worker'");
    assert_eq!(text(&functions[0], "package_type"), Some("Image"), "{functions:?}");
    assert!(
        text(&functions[0], "image_uri").is_some_and(|u| u.ends_with(&digest("latest"))),
        "{functions:?}"
    );
    let jobs =
        sk.json("SELECT name, revision, status, image FROM aws_batch_job_definition WHERE status = 'ACTIVE'");
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert!(text(&jobs[0], "image").is_some_and(|u| u.ends_with(&digest("batch"))), "{jobs:?}");

    // Only the check can save an image from this policy.
    let path = sk.config_path().with_file_name("everything.sql");
    std::fs::write(&path, EVERYTHING).expect("write policy");
    let state = sk.config_path().with_file_name("state");
    let args = ["run", path.to_str().expect("utf8"), "--apply", "--format", "json", "--state-dir"];
    let out = sk.run(&[&args[..], &[state.to_str().expect("utf8")]].concat());
    let report: serde_json::Value =
        serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}\n{}", out.stdout, out.stderr));
    assert_eq!(report["status"], "ok", "{report}");
    let outcome = |name: &str| {
        let d = digest(name);
        let a = report["actions"]
            .as_array()
            .and_then(|a| a.iter().find(|x| x["target"]["image_digest"] == d.as_str()));
        let a = a.unwrap_or_else(|| panic!("{name} not in {report}"));
        (
            a["status"].as_str().unwrap_or_default().to_string(),
            a["reason"].as_str().unwrap_or_default().to_string(),
        )
    };
    let (status, reason) = outcome("alias");
    assert_eq!(status, "skipped");
    // api's $LATEST and its alias run the same image: the reason names the
    // first user (the sandbox test proves an alias alone protects one).
    assert!(reason.starts_with("in use by arn:aws:lambda:us-east-1:"), "{reason}");
    assert!(reason.contains(":function:api") && reason.ends_with(" (lambda)"), "{reason}");
    let (status, reason) = outcome("latest");
    assert_eq!(status, "skipped");
    assert!(reason.ends_with(":function:worker (lambda)"), "{reason}");
    let (status, reason) = outcome("batch");
    assert_eq!(status, "skipped");
    assert!(reason.contains(":job-definition/nightly:1 (batch)"), "{reason}");
    assert_eq!(outcome("unused").0, "done");
    assert_eq!(report["not_checked"], serde_json::json!(["apprunner", "kubernetes"]));
}
