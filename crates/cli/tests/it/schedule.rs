//! `skyglue schedule` as a user runs it, and the Dockerfile's commands.
//!
//! The binary runs as a child process against the sandbox, which serves from
//! this test's runtime (hence the multi-threaded runtime). The scheduler's
//! timing rules are tested beside its code, on a fake clock.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use skyglue_sandbox::{Sandbox, SandboxConfig, World};

use crate::policy_runner::write_policy;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The binary in `cwd`, with the sandbox's environment plus `SKYGLUE_CONFIG`.
fn skyglue(sandbox: &Sandbox, home: &Path, cwd: &Path, config: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_skyglue"));
    cmd.current_dir(cwd).env_clear().env("HOME", home).env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in sandbox.env_vars() {
        cmd.env(k, v);
    }
    cmd.env("SKYGLUE_CONFIG", config).env("SKYGLUE_STATE_DIR", home.join("state"));
    cmd
}

const OLD_WEB_IMAGES: &str = "-- @name: old-web\n-- @action: delete_ecr_images\n-- @param days: 30\n\
    SELECT account_id, region, registry_id, repository_name, image_digest FROM aws_ecr_image \
    WHERE repository_name = 'web' AND image_pushed_at < days_ago($days)";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn once_runs_every_entry_and_exits_with_the_worst_code() {
    let sandbox = Sandbox::start(World::demo(), SandboxConfig::default()).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir(home.path().join("q")).unwrap();
    write_policy(&home.path().join("q"), "old_web.sql", OLD_WEB_IMAGES);
    write_policy(&home.path().join("q"), "broken.sql", "-- @action: nuke\nSELECT 1");
    let config = home.path().join("skyglue.toml");
    std::fs::write(
        &config,
        "[[schedule]]\npolicy = \"q/old_web.sql\"\ncron = \"0 3 * * *\"\nparams = { days = 1 }\nnotify = \"none\"\n\n\
         [[schedule]]\npolicy = \"q/broken.sql\"\ncron = \"0 4 * * *\"\nnotify = \"none\"\n",
    )
    .unwrap();
    let out =
        skyglue(&sandbox, home.path(), home.path(), &config).args(["schedule", "--once"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "the broken policy's exit code is the worst: {stderr}");
    let ok = stderr.lines().find(|l| l.contains(" old-web dry_run ok planned=")).expect(&stderr);
    assert!(ok.starts_with("20") && ok.contains("Z old-web") && ok.contains(" done=0 "), "{ok}");
    assert!(
        stderr.lines().any(|l| l.contains(" broken dry_run error exit=2: ") && l.contains("nuke")),
        "{stderr}"
    );
    assert!(home.path().join("state").join(skyglue_policy::journal::FILE_NAME).exists());
    assert_eq!(sandbox.calls().get("ecr:BatchDeleteImage"), None, "a dry run deletes nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_prints_next_fire_times_and_no_entries_is_a_usage_error() {
    let sandbox = Sandbox::start(World::demo(), SandboxConfig::default()).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("skyglue.toml");
    std::fs::write(
        &config,
        "[[schedule]]\npolicy = \"p.sql\"\ncron = \"0 3 * * *\"\ntimezone = \"Asia/Tokyo\"\n",
    )
    .unwrap();
    let out =
        skyglue(&sandbox, home.path(), home.path(), &config).args(["schedule", "--list"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(stdout.lines().filter(|l| l.trim_start().ends_with("T03:00:00+09:00")).count(), 3, "{stdout}");

    std::fs::write(&config, "[slack]\nwebhook_url_env = \"SLACK_WEBHOOK_URL\"\n").unwrap();
    let out = skyglue(&sandbox, home.path(), home.path(), &config).args(["schedule"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no [[schedule]] entries"));
}

/// The JSON array of a Dockerfile instruction such as `CMD ["schedule"]`.
fn instruction(dockerfile: &str, name: &str) -> Vec<String> {
    let line = dockerfile.lines().rfind(|l| l.starts_with(&format!("{name} "))).expect(name);
    serde_json::from_str(&line[name.len()..]).expect("exec form")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dockerfile_commands_work_as_the_recipes_run_them() {
    let root = workspace();
    let dockerfile = std::fs::read_to_string(root.join("Dockerfile")).unwrap();
    let entrypoint = instruction(&dockerfile, "ENTRYPOINT");
    let cmd = instruction(&dockerfile, "CMD");
    assert_eq!(entrypoint, ["skyglue"], "the binary is /usr/local/bin/skyglue");
    assert!(dockerfile.contains("COPY queries/ /app/queries/") && dockerfile.contains("WORKDIR /app"));

    let sandbox = Sandbox::start(World::demo(), SandboxConfig::default()).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("skyglue.toml");
    let policy = root.join("queries/ecr_cleanup.sql").canonicalize().unwrap();
    std::fs::write(&config, format!("[[schedule]]\npolicy = {:?}\ncron = \"0 3 * * *\"\n", policy.display()))
        .unwrap();

    // The recipes' one-shot command, from the image's WORKDIR (queries/ beside it).
    let recipe = ["run", "queries/ecr_cleanup.sql", "--format", "json"];
    for doc in ["docs/eventbridge-ecs.md", "docs/kubernetes-cronjob.md"] {
        let text = std::fs::read_to_string(root.join(doc)).unwrap();
        assert!(text.contains(r#"["run", "queries/ecr_cleanup.sql", "--format", "json"]"#), "{doc}");
    }
    let out = skyglue(&sandbox, home.path(), &root, &config).args(recipe).output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!((report["policy"].as_str(), report["status"].as_str()), (Some("ecr-cleanup"), Some("ok")));

    // The default command: a long-running scheduler that SIGTERM stops with exit 0.
    let mut child = skyglue(&sandbox, home.path(), &root, &config)
        .args(&cmd)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(first.contains("schedule: 1 entries"), "{first}");
    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{:?}", lines.map_while(Result::ok).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduler_that_cannot_start_tells_slack() {
    let sandbox = Sandbox::start(World::demo(), SandboxConfig::default()).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("skyglue.toml");
    std::fs::write(&config, "[[schedule]]\npolicy = \"q/x.sql\"\ncron = \"0 3 * *\"\n").unwrap();
    let out = skyglue(&sandbox, home.path(), home.path(), &config).args(["schedule"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "a bad cron is a config error: {stderr}");
    let messages = sandbox.slack_messages();
    assert_eq!(messages.len(), 1, "one message: {messages:?}");
    let text = messages[0].to_string();
    assert!(text.contains("skyglue schedule") && text.contains("cron"), "{text}");
}
