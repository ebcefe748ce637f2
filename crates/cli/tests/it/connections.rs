//! `skyglue connections` against the sandbox: what a user sees when the setup
//! works, and when one connection is refused a read call and another does not
//! answer at all (text, JSON and the exit code).
//!
//! The CLI runs as a child process while the sandbox serves from this test's
//! runtime, hence the multi-threaded runtime.

use std::process::Command;

use serde_json::Value;
use skyglue_sandbox::{Fault, Sandbox, SandboxConfig, World};

/// Runs `skyglue` with the sandbox's environment in a fresh home; returns the
/// exit code, stdout and stderr.
fn skyglue(sandbox: &Sandbox, home: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_skyglue"));
    cmd.args(args).current_dir(home).env_clear().env("HOME", home);
    cmd.env("PATH", std::env::var("PATH").unwrap_or_default());
    cmd.envs(sandbox.env_vars());
    cmd.env("SKYGLUE_STATE_DIR", home.join("state"));
    let out = cmd.output().unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).to_string();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_working_setup_exits_0_with_every_read_call_allowed() {
    let sandbox = Sandbox::start(World::demo(), SandboxConfig::default()).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let (code, out, err) = skyglue(&sandbox, home.path(), &["connections", "--format", "json"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    let aws = report["aws"].as_array().unwrap();
    assert_eq!(aws.len(), 1, "{out}");
    assert_eq!(aws[0]["account_id"], "111111111111");
    assert_eq!(aws[0]["ok"], true);
    let calls = aws[0]["calls"].as_object().unwrap();
    for call in ["ecr:DescribeRepositories", "ecr:DescribeImages", "ecs:ListClusters", "ecs:ListServices"] {
        assert_eq!(calls[call], "ok", "{call}: {out}");
    }
    // The default in-use sources' reads too (Lambda and Batch; App Runner only when listed).
    for call in
        ["lambda:ListFunctions", "lambda:GetFunction", "lambda:ListAliases", "batch:DescribeJobDefinitions"]
    {
        assert_eq!(calls[call], "ok", "{call}: {out}");
    }
    // ...and ecs_schedules' (EventBridge, Scheduler, the family lookup) and
    // every published Lambda version's.
    for call in
        ["events:ListRules", "events:ListTargetsByRule", "scheduler:ListSchedules", "scheduler:GetSchedule"]
    {
        assert_eq!(calls[call], "ok", "{call}: {out}");
    }
    assert_eq!(calls["lambda:ListVersionsByFunction"], "ok", "{out}");
    // S3's reads (its tables and delete_s3_objects' check) and ECS's cluster describe.
    for call in ["s3:ListBuckets", "s3:GetBucketLocation", "s3:ListObjectsV2", "ecs:DescribeClusters"] {
        assert_eq!(calls[call], "ok", "{call}: {out}");
    }
    assert_eq!(calls.len(), 25, "{out}");
    assert!(report["github"]["rate_limit"]["remaining"].as_u64().is_some(), "{out}");
    assert!(report["github"]["graphql"].as_str().unwrap().starts_with("ok"), "{out}");
    assert_eq!(report["slack"]["configured"], true);
    assert_eq!(report["slack"]["via"], "webhook");
    assert!(sandbox.slack_messages().is_empty(), "the check never posts");
    assert_eq!(sandbox.calls().get("ecr:BatchDeleteImage"), None, "delete calls are never tried");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denied_read_call_and_a_dead_connection_exit_1() {
    let denied = Fault::nth_call("ecr:DescribeImages", 1).times(u64::MAX).error(400, "AccessDeniedException");
    let config = SandboxConfig { faults: vec![denied], ..SandboxConfig::default() };
    let sandbox = Sandbox::start(World::demo(), config).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let toml = format!(
        "[[aws]]\nname = \"prod\"\nregions = [\"us-east-1\"]\nendpoint_url = \"{}\"\n\n\
         [[aws]]\nname = \"dead\"\nregions = [\"us-east-1\"]\nendpoint_url = \"http://127.0.0.1:9\"\n",
        sandbox.endpoint_url()
    );
    std::fs::write(home.path().join("skyglue.toml"), toml).unwrap();

    let (code, out, err) = skyglue(&sandbox, home.path(), &["connections"]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        out.contains(
            "aws prod/us-east-1 (account 111111111111): ecr:DescribeImages denied: AccessDeniedException"
        ),
        "{out}"
    );
    assert!(out.contains("  ecs:ListClusters") && out.contains("aws dead/us-east-1: "), "{out}");
    assert!(out.contains("github ") && out.contains("requests left") && out.contains("GraphQL ok"), "{out}");
    assert!(
        out.contains("aws iam simulate-principal-policy") && out.contains("ecr:BatchDeleteImage"),
        "{out}"
    );

    let (code, out, err) = skyglue(&sandbox, home.path(), &["connections", "--format", "json"]);
    assert_eq!(code, 1, "{out}\n{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    let aws = report["aws"].as_array().unwrap();
    let prod = aws.iter().find(|c| c["name"] == "prod").unwrap();
    assert_eq!(prod["account_id"], "111111111111");
    assert_eq!(prod["ok"], false);
    assert_eq!(prod["error"], Value::Null);
    assert_eq!(prod["calls"]["ecr:DescribeImages"], "denied: AccessDeniedException", "{out}");
    assert_eq!(prod["calls"]["ecr:DescribeRepositories"], "ok", "{out}");
    let dead = aws.iter().find(|c| c["name"] == "dead").unwrap();
    assert_eq!(dead["ok"], false);
    assert_eq!(dead["account_id"], Value::Null);
    assert!(dead["error"].as_str().is_some_and(|e| e.contains("dead/us-east-1")), "{out}");
    assert_eq!(sandbox.calls().get("ecr:BatchDeleteImage"), None, "delete calls are never tried");
}
