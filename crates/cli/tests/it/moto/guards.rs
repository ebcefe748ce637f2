//! The sinks' own checks against moto, with policies that select everything
//! so only the check can save a resource: an image replicated to another
//! region and another account, in use in one place only; task definitions in
//! use by a service and by a running task. A moto server of its own, since
//! these tests delete.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::cli::{Skyglue, text, two_accounts};
use super::server::MotoServer;
use super::world::{ACCOUNT_B, python};

const SEED_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/moto/seed_guards.py");
const ACCOUNT_A: &str = "123456789012";

#[derive(Debug, Deserialize)]
struct Seeded {
    digest: String,
    revisions: BTreeMap<String, String>,
}

fn seeded() -> (MotoServer, Seeded, Skyglue) {
    let server = MotoServer::start().expect("a moto server for the guard tests");
    let out = python(SEED_SCRIPT, &[SEED_SCRIPT, server.endpoint()]).expect("seed");
    let seeded: Seeded = serde_json::from_str(&out).expect("seed output");
    let sk = Skyglue::new(&two_accounts(server.endpoint()));
    (server, seeded, sk)
}

fn run_policy(sk: &Skyglue, name: &str, text: &str) -> serde_json::Value {
    let path = sk.config_path().with_file_name(name);
    std::fs::write(&path, text).expect("write policy");
    let state = sk.config_path().with_file_name("state");
    let out = sk.run(&[
        "run",
        path.to_str().expect("utf8"),
        "--apply",
        "--format",
        "json",
        "--state-dir",
        state.to_str().expect("utf8"),
    ]);
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}\n{}", out.stdout, out.stderr))
}

fn action(report: &serde_json::Value, pred: impl Fn(&serde_json::Value) -> bool) -> Vec<&serde_json::Value> {
    report["actions"]
        .as_array()
        .map(|a| a.iter().filter(|x| pred(&x["target"])).collect())
        .unwrap_or_default()
}

#[test]
fn replicas_resolve_to_one_copy_and_only_unused_ones_go() {
    let (_server, seeded, sk) = seeded();
    let unlocated = run_policy(
        &sk,
        "unlocated.sql",
        "-- @action: delete_ecr_images\n-- @notify: none\nSELECT repository_name, image_digest FROM aws_ecr_image",
    );
    assert_eq!(unlocated["summary"]["skipped"], 1, "{unlocated}");
    assert_eq!(unlocated["actions"][0]["reason"], "ambiguous: in 3 places; select account_id and region");
    assert_eq!(sk.json("SELECT image_digest FROM aws_ecr_image").len(), 3, "nothing was deleted");

    let report = run_policy(
        &sk,
        "every.sql",
        "-- @action: delete_ecr_images\n-- @notify: none\n\
         SELECT account_id, region, registry_id, repository_name, image_digest FROM aws_ecr_image",
    );
    let at = |account: &'static str, region: &'static str| {
        move |t: &serde_json::Value| t["account_id"] == account && t["region"] == region
    };
    let used = action(&report, at(ACCOUNT_A, "us-east-1"));
    assert_eq!(used.len(), 1, "{report}");
    assert_eq!(used[0]["status"], "skipped");
    let reason = used[0]["reason"].as_str().unwrap_or_default();
    assert!(reason.starts_with(&format!("in use by arn:aws:ecs:us-east-1:{ACCOUNT_B}:service/")), "{reason}");
    for (account, region) in [(ACCOUNT_A, "eu-west-1"), (ACCOUNT_B, "us-east-1")] {
        let got = action(&report, at(account, region));
        assert_eq!(got.len(), 1, "{account}/{region}: {report}");
        assert_eq!(got[0]["status"], "done", "{account}/{region}: {report}");
    }
    let left = sk.json("SELECT account_id, region, image_digest FROM aws_ecr_image");
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(
        (text(&left[0], "account_id"), text(&left[0], "region")),
        (Some(ACCOUNT_A), Some("us-east-1"))
    );
    assert_eq!(text(&left[0], "image_digest"), Some(seeded.digest.as_str()));
}

#[test]
fn task_definitions_in_use_survive_a_policy_that_selects_every_revision() {
    let (_server, seeded, sk) = seeded();
    let report = run_policy(
        &sk,
        "every-revision.sql",
        "-- @action: delete_ecs_task_definitions\n-- @notify: none\n\
         SELECT task_definition_arn FROM aws_ecs_task_definition WHERE family = 'app'",
    );
    let status = |rev: &str| {
        let arn = seeded.revisions[rev].clone();
        let got = action(&report, move |t| t["task_definition_arn"] == arn.as_str());
        assert_eq!(got.len(), 1, "app:{rev}: {report}");
        (got[0]["status"].as_str().unwrap_or_default().to_string(), got[0]["reason"].clone())
    };
    for rev in ["1", "2"] {
        let (s, reason) = status(rev);
        assert_eq!(s, "skipped", "app:{rev}: {report}");
        assert!(reason.as_str().is_some_and(|r| r.starts_with("in use by arn:aws:ecs:")), "{reason}");
    }
    for rev in ["3", "4"] {
        assert_eq!(status(rev).0, "done", "app:{rev}: {report}");
    }
}
