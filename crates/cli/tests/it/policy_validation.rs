//! The CLI runs as a child process while the sandbox serves from this test's
//! runtime, so these tests use a multi-threaded runtime (a blocking wait on
//! the child must not starve the sandbox).
//!
//! Bad policies stop before anything runs, with exit code 2 and a message
//! naming the file and line or column; good ones report in JSON.

use std::process::Command;

use skyglue_sandbox::{Sandbox, SandboxConfig, World};

use crate::policy_runner::write_policy;

pub(crate) struct Cli {
    pub(crate) sandbox: Sandbox,
    pub(crate) home: tempfile::TempDir,
}

impl Cli {
    pub(crate) async fn start() -> Cli {
        Cli {
            sandbox: Sandbox::start(World::demo(), SandboxConfig::default()).await.unwrap(),
            home: tempfile::tempdir().unwrap(),
        }
    }

    pub(crate) fn run(&self, args: &[&str]) -> (i32, String, String) {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_skyglue"));
        cmd.args(args).current_dir(self.home.path()).env_clear().env("HOME", self.home.path());
        cmd.env("PATH", std::env::var("PATH").unwrap_or_default());
        for (k, v) in self.sandbox.env_vars() {
            if k != "SLACK_WEBHOOK_URL" {
                cmd.env(k, v);
            }
        }
        cmd.env("SKYGLUE_STATE_DIR", self.home.path().join("state"));
        let out = cmd.output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_policies_exit_2_naming_the_culprit() {
    let cli = Cli::start().await;
    let dir = cli.home.path();
    let cases = [
        ("unknown_key.sql", "-- @action: delete_ecr_images\n-- @colour: red\nSELECT 1", "unknown_key.sql:2"),
        ("unknown_action.sql", "-- @action: nuke\nSELECT 1", "unknown action \"nuke\""),
        (
            "missing_column.sql",
            "-- @action: delete_ecr_images\nSELECT repository_name FROM aws_ecr_image",
            "needs a column named image_digest",
        ),
        (
            "wrong_type.sql",
            "-- @action: delete_ecr_images\nSELECT repository_name, image_size_in_bytes AS image_digest FROM aws_ecr_image",
            "image_digest must be text",
        ),
        (
            "bad_sql.sql",
            "-- @action: delete_ecr_images\nSELEC repository_name FROM aws_ecr_image",
            "bad_sql.sql",
        ),
        (
            "unknown_table.sql",
            "-- @action: delete_ecr_images\nSELECT repository_name, image_digest FROM aws_ecr_imagez",
            "aws_ecr_imagez",
        ),
        (
            "missing_param.sql",
            "-- @action: delete_ecr_images\nSELECT repository_name, image_digest FROM aws_ecr_image WHERE image_pushed_at < days_ago($days)",
            "days",
        ),
    ];
    for (file, text, needle) in cases {
        let path = write_policy(dir, file, text);
        let (code, stdout, stderr) = cli.run(&["run", path.to_str().unwrap(), "--apply", "--notify", "none"]);
        assert_eq!(code, 2, "{file}: {stderr}");
        assert!(stderr.contains(needle), "{file}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{file}: one line: {stderr}");
        assert!(stdout.is_empty(), "{file}: no report for an invalid policy: {stdout}");
    }
    assert_eq!(cli.sandbox.calls().get("ecr:BatchDeleteImage"), None, "nothing was deleted");

    let good = write_policy(
        dir,
        "good.sql",
        "-- @action: delete_ecr_images\n-- @param days: 30\nSELECT repository_name, image_digest FROM aws_ecr_image WHERE image_pushed_at < days_ago($days)",
    );
    let (code, _, stderr) =
        cli.run(&["run", good.to_str().unwrap(), "--param", "days=soon", "--notify", "none"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("days=soon") && stderr.contains("whole number"), "{stderr}");
    let (code, _, stderr) =
        cli.run(&["run", good.to_str().unwrap(), "--param", "dayz=3", "--notify", "none"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("dayz"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_report_is_printed_for_dry_runs() {
    let cli = Cli::start().await;
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../queries/ecs_task_definition_cleanup.sql");
    let (code, stdout, stderr) =
        cli.run(&["run", path, "--format", "json", "--notify", "none", "--param", "keep_active=2"]);
    assert_eq!(code, 0, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["mode"], "dry_run");
    assert_eq!(report["status"], "ok");
    assert!(report["summary"]["planned"].as_u64().unwrap() > 0);
    assert_eq!(report["summary"]["done"], 0);
    assert!(
        report["actions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["status"] == "planned" || a["status"] == "skipped")
    );
}
