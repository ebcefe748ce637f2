//! The delete sinks against moto's server: the real AWS protocol for
//! BatchDeleteImage, DeregisterTaskDefinition and DeleteTaskDefinitions, on a
//! moto server of its own (the shared one's world must not change).

use super::cli::{Skyglue, two_accounts};
use super::server::MotoServer;
use super::world::{World, seed};

fn policy(sk: &Skyglue, name: &str, text: &str) -> String {
    let path = sk.config_path().with_file_name(name);
    std::fs::write(&path, text).expect("write policy");
    path.display().to_string()
}

#[test]
fn apply_deletes_exactly_the_selected_images_and_task_definitions() {
    let server = MotoServer::start().expect("a moto server for deletes");
    let world: World = serde_json::from_str(&seed(&server, &[]).expect("seed")).expect("world");
    let sk = Skyglue::new(&two_accounts(server.endpoint()));

    // The untagged images: nothing uses them.
    let untagged: Vec<String> =
        world.images.iter().filter(|i| i.image_tags.is_empty()).map(|i| i.image_digest.clone()).collect();
    assert!(!untagged.is_empty(), "the seeded world has an untagged image");
    let images = policy(
        &sk,
        "untagged.sql",
        "-- @action: delete_ecr_images\n-- @notify: none\n\
         SELECT account_id, region, registry_id, repository_name, image_digest FROM aws_ecr_image \
         WHERE cardinality(image_tags) = 0",
    );
    let state = sk.config_path().with_file_name("state");
    let out = sk.run(&[
        "run",
        &images,
        "--apply",
        "--format",
        "json",
        "--state-dir",
        state.to_str().expect("utf8"),
    ]);
    assert_eq!(out.code, Some(0), "stderr: {}\nstdout: {}", out.stderr, out.stdout);
    let report: serde_json::Value = serde_json::from_str(&out.stdout).expect("report");
    assert_eq!(report["summary"]["done"].as_u64(), Some(untagged.len() as u64), "{report}");
    let left = sk.json("SELECT image_digest FROM aws_ecr_image");
    for d in &untagged {
        assert!(!left.iter().any(|r| r["image_digest"] == d.as_str()), "{d} was deleted");
    }
    assert_eq!(left.len(), world.images.len() - untagged.len(), "nothing else was deleted");

    // INACTIVE task definitions that nothing uses: deleted for real.
    let inactive =
        sk.json("SELECT task_definition_arn FROM aws_ecs_task_definition WHERE status = 'INACTIVE'");
    let tds = policy(
        &sk,
        "inactive.sql",
        "-- @action: delete_ecs_task_definitions\n-- @notify: none\n\
         SELECT task_definition_arn FROM aws_ecs_task_definition WHERE status = 'INACTIVE'",
    );
    let out =
        sk.run(&["run", &tds, "--apply", "--format", "json", "--state-dir", state.to_str().expect("utf8")]);
    let report: serde_json::Value = serde_json::from_str(&out.stdout).expect("report");
    let done = report["summary"]["done"].as_u64().unwrap_or(0);
    let skipped = report["summary"]["skipped"].as_u64().unwrap_or(0);
    assert_eq!(done + skipped, inactive.len() as u64, "{report}\n{}", out.stderr);
    assert!(done > 0, "{report}");
    let after = sk.json("SELECT task_definition_arn FROM aws_ecs_task_definition WHERE status = 'INACTIVE'");
    assert_eq!(after.len() as u64, skipped, "only the skipped (in use) ones are left");
}
