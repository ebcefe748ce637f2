//! The image graph against moto, which reports neither `subjectManifestDigest`
//! nor `artifactMediaType`, so skyglue reads the manifests (BatchGetImage).
//! A policy selects every image of the repository and runs with `--apply`:
//! only the check can save one. A kept image keeps its index children, its
//! cosign signature and its SBOM; an unused image goes with its signature
//! and its SBOM; referrers count against `max_deletes`. A moto server of its
//! own, since these tests delete.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::cli::{Skyglue, text, two_accounts};
use super::server::MotoServer;
use super::world::python;

const SEED_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/moto/seed_image_graph.py");

#[derive(Debug, Deserialize)]
struct Seeded {
    digests: BTreeMap<String, String>,
}

fn seeded() -> (MotoServer, Seeded, Skyglue) {
    let server = MotoServer::start().expect("a moto server for the image-graph tests");
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

fn left(sk: &Skyglue) -> Vec<String> {
    let rows = sk.json("SELECT image_digest FROM aws_ecr_image WHERE repository_name = 'graph'");
    rows.iter().filter_map(|r| text(r, "image_digest").map(str::to_string)).collect()
}

fn status<'a>(report: &'a serde_json::Value, digest: &str) -> (&'a str, &'a str) {
    let action = report["actions"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["target"]["image_digest"] == digest))
        .unwrap_or_else(|| panic!("{digest} is in the report: {report}"));
    (action["status"].as_str().unwrap_or_default(), action["reason"].as_str().unwrap_or_default())
}

#[test]
fn kept_images_keep_their_graph_and_an_unused_image_takes_its_referrers() {
    let (_server, seeded, sk) = seeded();
    let d = |name: &str| seeded.digests[name].clone();

    let subjects = sk.json(
        "SELECT image_digest, subject_digest FROM aws_ecr_image \
         WHERE repository_name = 'graph' AND subject_digest IS NOT NULL",
    );
    let mut got: Vec<(String, String)> = subjects
        .iter()
        .map(|r| {
            (text(r, "image_digest").unwrap_or("").into(), text(r, "subject_digest").unwrap_or("").into())
        })
        .collect();
    got.sort();
    let mut want = vec![(d("kept-sbom"), d("kept")), (d("old-sbom"), d("old"))];
    want.sort();
    assert_eq!(got, want, "subject_digest comes from the manifests");
    let references = sk.json("SELECT image_digest, kind, referenced_digest FROM aws_ecr_image_reference");
    assert_eq!(references.len(), 6, "2 children, 2 signatures, 2 SBOMs: {references:?}");

    let report = run_policy(
        &sk,
        "every.sql",
        "-- @action: delete_ecr_images\n-- @notify: none\n\
         SELECT account_id, region, registry_id, repository_name, image_digest FROM aws_ecr_image \
         WHERE repository_name = 'graph'",
    );
    for name in ["kept-sig", "kept-sbom"] {
        assert_eq!(
            status(&report, &d(name)),
            ("skipped", format!("referrer of kept image {}", d("kept")).as_str())
        );
    }
    for name in ["amd64", "arm64"] {
        let (s, reason) = status(&report, &d(name));
        assert_eq!((s, reason), ("skipped", format!("referenced by image index {}", d("multi")).as_str()));
    }
    for name in ["old", "old-sig", "old-sbom"] {
        assert_eq!(status(&report, &d(name)).0, "done", "{name}: {report}");
    }
    let mut remaining = left(&sk);
    remaining.sort();
    let mut want: Vec<String> = ["kept", "kept-sig", "kept-sbom", "multi", "amd64", "arm64"].map(d).to_vec();
    want.sort();
    assert_eq!(remaining, want);
}

#[test]
fn referrers_go_with_their_image_and_count_against_max_deletes() {
    let (_server, seeded, sk) = seeded();
    let d = |name: &str| seeded.digests[name].clone();
    let only_old = |max: usize| {
        format!(
            "-- @action: delete_ecr_images\n-- @notify: none\n-- @max_deletes: {max}\n\
             SELECT account_id, region, registry_id, repository_name, image_digest FROM aws_ecr_image \
             WHERE repository_name = 'graph' AND image_digest = '{}'",
            d("old")
        )
    };
    let before = left(&sk).len();
    let over = run_policy(&sk, "over.sql", &only_old(2));
    assert_eq!(over["status"], "failed", "{over}");
    assert_eq!(left(&sk).len(), before, "nothing was deleted: {over}");

    let report = run_policy(&sk, "old.sql", &only_old(3));
    assert_eq!(report["summary"]["done"], 3, "{report}");
    for name in ["old-sig", "old-sbom"] {
        assert_eq!(status(&report, &d(name)), ("done", format!("referrer of {}", d("old")).as_str()));
    }
    let remaining = left(&sk);
    assert_eq!(remaining.len(), before - 3);
    for name in ["old", "old-sig", "old-sbom"] {
        assert!(!remaining.contains(&d(name)), "{name} is gone");
    }
}
