//! Scheduled ECS tasks against moto through the real SDK: a revision an
//! EventBridge rule targets and one a Scheduler schedule targets survive the
//! shipped task definition policy with `--apply`, while the other revisions
//! past the newest five go. A moto server of its own, since this test deletes.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::cli::{Skyglue, aws_entry_in, text};
use super::server::MotoServer;
use super::world::python;

const SEED_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/moto/seed_schedules.py");
const POLICY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../queries/ecs_task_definition_cleanup.sql");

#[derive(Debug, Deserialize)]
struct Seeded {
    arns: BTreeMap<String, String>,
}

#[test]
fn revisions_a_rule_and_a_schedule_launch_survive_the_shipped_policy() {
    let server = MotoServer::start().expect("a moto server for the schedules test");
    let out = python(SEED_SCRIPT, &[SEED_SCRIPT, server.endpoint()]).expect("seed");
    let seeded: Seeded = serde_json::from_str(&out).expect("seed output");
    let sk = Skyglue::new(&aws_entry_in("a", None, &["us-east-1"], server.endpoint()));

    let scheduled = sk.json(
        "SELECT source, name, task_definition, task_definition_arn FROM aws_ecs_scheduled_task ORDER BY source",
    );
    assert_eq!(scheduled.len(), 2, "{scheduled:?}");
    assert_eq!(text(&scheduled[0], "source"), Some("events_rule"));
    assert_eq!(text(&scheduled[0], "task_definition_arn"), Some(seeded.arns["2"].as_str()));
    assert_eq!(text(&scheduled[1], "source"), Some("scheduler"));
    assert_eq!(text(&scheduled[1], "task_definition"), Some("nightly:3"));
    assert_eq!(text(&scheduled[1], "task_definition_arn"), Some(seeded.arns["3"].as_str()));

    let state = sk.config_path().with_file_name("state");
    let args = ["run", POLICY, "--apply", "--format", "json", "--state-dir", state.to_str().expect("utf8")];
    let out = sk.run(&args);
    let report: serde_json::Value =
        serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}\n{}", out.stdout, out.stderr));
    assert_eq!(report["status"], "ok", "{report}");
    let mut left: Vec<String> = sk
        .json("SELECT revision FROM aws_ecs_task_definition WHERE family = 'nightly' AND status = 'ACTIVE'")
        .iter()
        .map(|r| r["revision"].to_string())
        .collect();
    left.sort();
    assert_eq!(left, ["2", "3", "4", "5", "6", "7", "8"], "{report}");
}
