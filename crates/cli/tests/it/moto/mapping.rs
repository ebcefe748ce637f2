//! The shipped `ecr_cleanup.sql` finds each ECR repository's GitHub
//! repository without any SQL editing, against moto through the real SDK: from
//! the repository's `github_repository` tag, or from `[github] repositories`
//! in skyglue.toml; a repository mapped by neither is never touched. GitHub
//! is the sandbox's loopback fake with the demo's commits of `acme/web`.

use std::collections::BTreeMap;

use serde::Deserialize;
use skyglue_sandbox::demo::demo_sha;
use skyglue_sandbox::{Sandbox, SandboxConfig, World};

use super::cli::{Skyglue, aws_entry_in};
use super::server::MotoServer;
use super::world::python;

const SEED_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/moto/seed_mapping.py");
const POLICY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../queries/ecr_cleanup.sql");

#[derive(Debug, Deserialize)]
struct Seeded {
    digests: BTreeMap<String, String>,
}

#[tokio::test(flavor = "multi_thread")]
async fn repositories_map_to_github_by_tag_or_by_config_and_unmapped_ones_are_left_alone() {
    let github = Sandbox::start(World::demo(), SandboxConfig::default()).await.expect("the GitHub fake");
    let server = MotoServer::start().expect("a moto server for the mapping test");
    // aaa0001 is 200 days old, bbb0012 3 days (the demo's commits)
    let (old, recent) = (demo_sha("aaa0001"), demo_sha("bbb0012"));
    let out = python(SEED_SCRIPT, &[SEED_SCRIPT, server.endpoint(), &old, &recent]).expect("seed");
    let seeded: Seeded = serde_json::from_str(&out).expect("seed output");
    let config = format!(
        "{}[github]\napi_url = {:?}\nrepositories = {{ api = \"acme/web\" }}\n\n[in_use]\nsources = [\"ecs\"]\n",
        aws_entry_in("a", None, &["us-east-1"], server.endpoint()),
        github.github_api_url()
    );
    let sk = Skyglue::new(&config);

    let tags = tokio::task::block_in_place(|| {
        sk.json("SELECT repository_name, tags['github_repository'] AS mapped FROM aws_ecr_repository")
    });
    let tagged: Vec<_> = tags.iter().filter(|r| r.get("mapped").is_some()).collect();
    assert_eq!(tagged.len(), 1, "only web is tagged: {tags:?}");
    assert_eq!(tagged[0]["repository_name"], "web");

    // The run blocks this thread; the GitHub fake answers on the runtime's others.
    let out = tokio::task::block_in_place(|| sk.run(&["run", POLICY, "--format", "json"]));
    let report: serde_json::Value =
        serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}\n{}", out.stdout, out.stderr));
    assert_eq!(report["status"], "ok", "{report}");
    let mut planned: Vec<&str> = report["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .map(|a| a["target"]["image_digest"].as_str().unwrap_or_default())
        .collect();
    planned.sort();
    let mut expected = vec![seeded.digests["web/old"].as_str(), seeded.digests["api/old"].as_str()];
    expected.sort();
    assert_eq!(planned, expected, "the old image of web (by tag) and of api (by config), nothing of other");
}
