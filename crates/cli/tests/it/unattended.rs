//! No silent failure, no overlap, a clean stop: `skyglue run` as a scheduler
//! runs it, against the sandbox and its loopback Slack.
//!
//! - every failure before the report exists sends exactly one Slack message
//!   naming the cause, with the documented exit code;
//! - SIGTERM during an apply finishes the call in flight, journals
//!   `interrupted` last, notifies, and exits 1;
//! - two applying runs of one policy: the second is refused, naming the holder.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use skyglue_policy::Journal;
use skyglue_policy::journal::{Entry, FILE_NAME};
use skyglue_sandbox::{Sandbox, SandboxConfig};

use crate::support::*;

const ALL_IMAGES: &str = "-- @name: all-images\n-- @action: delete_ecr_images\n-- @max_deletes: 1000\n\
    SELECT account_id, region, registry_id, repository_name, image_digest FROM aws_ecr_image";

/// A home with a policy, a state dir, and the sandbox's environment.
struct Home {
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl Home {
    fn new(sandbox: &Sandbox, policy: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("policy.sql"), policy).unwrap();
        let mut env = sandbox.env_vars();
        env.push(("SKYGLUE_STATE_DIR".into(), dir.path().join("state").display().to_string()));
        Home { dir, env }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn set(&mut self, name: &str, value: &str) {
        self.env.retain(|(k, _)| k != name);
        self.env.push((name.into(), value.into()));
    }

    fn unset(&mut self, name: &str) {
        self.env.retain(|(k, _)| k != name);
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_skyglue"));
        cmd.args(args)
            .current_dir(self.dir.path())
            .env_clear()
            .env("HOME", self.dir.path())
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null());
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    fn spawn(&self, args: &[&str]) -> Child {
        self.command(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
    }

    fn journal(&self) -> Vec<Entry> {
        Journal::read_all(&self.path("state").join(FILE_NAME)).unwrap()
    }
}

fn text(message: &Value) -> String {
    message.get("text").and_then(Value::as_str).unwrap_or_default().to_string()
}

/// Waits (bounded: a guard against a hang, not a timing assertion) until `done`.
async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn small_world(images: usize) -> skyglue_sandbox::World {
    let mut r = region("us-east-1");
    r.repositories.push(repository("web", images));
    world(vec![account(ACCOUNT, vec![r])])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_failure_before_the_report_sends_one_message() {
    let sandbox = Sandbox::start(small_world(3), SandboxConfig::default()).await.unwrap();
    let policy = |home: &Home| home.path("policy.sql").display().to_string();
    let mut sent = 0;
    let mut expect = |out: &Output, code: i32, needles: &[&str]| {
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(code), "stderr: {stderr}");
        let messages = sandbox.slack_messages();
        assert_eq!(messages.len(), sent + 1, "exactly one message; stderr: {stderr}");
        sent += 1;
        let last = text(&messages[sent - 1]);
        for needle in needles {
            assert!(last.contains(needle), "the message names {needle:?}: {last}");
        }
        last
    };

    // Policy validation: a column that does not exist (exit 2).
    let home = Home::new(&sandbox, "-- @action: delete_ecr_images\nSELECT nope FROM aws_ecr_image");
    let out = home.run(&["run", &policy(&home), "--apply"]);
    expect(&out, 2, &["policy.sql", "nope", "failed"]);

    // The config file does not parse (exit 2): the environment's Slack still hears.
    let home = Home::new(&sandbox, ALL_IMAGES);
    std::fs::write(home.path("skyglue.toml"), "[[aws]]\nnmae = \"prod\"\n").unwrap();
    let out = home.run(&["run", &policy(&home), "--config", "skyglue.toml"]);
    expect(&out, 2, &["policy.sql", "nmae"]);

    // No AWS credentials at all (exit 1, whenever it is found out).
    let mut home = Home::new(&sandbox, ALL_IMAGES);
    home.unset("AWS_ACCESS_KEY_ID");
    home.unset("AWS_SECRET_ACCESS_KEY");
    let out = home.run(&["run", &policy(&home)]);
    let message = expect(&out, 1, &["all-images"]);
    assert!(message.to_lowercase().contains("credential"), "{message}");

    // An unwritable state directory (a file stands where it should be), exit 1.
    let mut home = Home::new(&sandbox, ALL_IMAGES);
    std::fs::write(home.path("blocker"), "").unwrap();
    let state = home.path("blocker").join("state").display().to_string();
    home.set("SKYGLUE_STATE_DIR", &state);
    let out = home.run(&["run", &policy(&home)]);
    expect(&out, 1, &["policy.sql", "state directory"]);

    // --notify none silences even these.
    let home = Home::new(&sandbox, "-- @action: delete_ecr_images\nSELECT nope FROM aws_ecr_image");
    let out = home.run(&["run", &policy(&home), "--notify", "none"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(sandbox.slack_messages().len(), sent, "silenced");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_the_call_in_flight_and_ends_interrupted() {
    // Slow calls, so the run is still deleting when the signal comes.
    let config = SandboxConfig { latency: Duration::from_millis(300), ..SandboxConfig::default() };
    let sandbox = Sandbox::start(small_world(450), config).await.unwrap();
    let home = Home::new(&sandbox, ALL_IMAGES);
    let child = home.spawn(&["run", home.path("policy.sql").to_str().unwrap(), "--apply"]);

    wait_until("the first batch's outcome", || home.journal().iter().any(|e| e.event == "outcome")).await;
    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(stderr.contains("interrupted (SIGTERM)"), "{stderr}");

    let entries = home.journal();
    assert_eq!(entries.last().map(|e| e.event.as_str()), Some("interrupted"), "the journal ends interrupted");
    assert!(!entries.iter().any(|e| e.event == "run_finished"));
    // Every intent has its outcome: the call in flight finished, no other started.
    let digests = |event: &str| -> Vec<String> {
        entries
            .iter()
            .filter(|e| e.event == event)
            .filter_map(|e| e.target.as_ref().and_then(|t| t.get("image_digest")).map(str::to_string))
            .collect()
    };
    let outcomes = digests("outcome");
    for d in digests("intent") {
        assert!(outcomes.contains(&d), "{d} was attempted and has an outcome");
    }
    let done = entries.iter().filter(|e| e.event == "outcome" && e.status.as_deref() == Some("done")).count();
    assert!(done > 0 && done < 450, "stopped mid-way: {done} done");

    let messages = sandbox.slack_messages();
    assert_eq!(messages.len(), 1);
    assert!(text(&messages[0]).contains("interrupted"), "{}", text(&messages[0]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_apply_of_a_locked_policy_is_refused_naming_the_holder() {
    let config = SandboxConfig { latency: Duration::from_millis(200), ..SandboxConfig::default() };
    let sandbox = Sandbox::start(small_world(250), config).await.unwrap();
    let home = Home::new(&sandbox, ALL_IMAGES);
    let policy = home.path("policy.sql").display().to_string();
    let first = home.spawn(&["run", &policy, "--apply", "--notify", "none"]);
    wait_until("the first run to start", || home.journal().iter().any(|e| e.event == "run_started")).await;

    let second = home.run(&["run", &policy, "--apply", "--notify", "none", "--format", "json"]);
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(1), "stderr: {stderr}");
    assert!(stderr.contains("all-images is locked by run"), "{stderr}");
    assert!(stderr.contains(&format!("pid {}", first.id())), "names the holder: {stderr}");
    let report: Value = serde_json::from_slice(&second.stdout).unwrap();
    assert_eq!(report["status"], "failed");

    // A dry run takes no lock.
    let dry = home.run(&["run", &policy, "--notify", "none"]);
    assert_eq!(dry.status.code(), Some(0), "{}", String::from_utf8_lossy(&dry.stderr));

    let out = first.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    // Only the first acted.
    let second_id = report["run_id"].as_str().unwrap().to_string();
    let entries = home.journal();
    assert!(!entries.iter().any(|e| e.run_id == second_id && e.event == "intent"));
    assert!(entries.iter().any(|e| e.run_id != second_id && e.event == "intent"));
    // Released: the next apply runs.
    let again = home.run(&["run", &policy, "--apply", "--notify", "none"]);
    assert_eq!(again.status.code(), Some(0), "{}", String::from_utf8_lossy(&again.stderr));
}

#[test]
fn a_journal_line_that_does_not_parse_is_an_error_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path: &Path = &dir.path().join(FILE_NAME);
    let good = r#"{"ts":"2026-01-01T00:00:00Z","run_id":"r","policy":"p","event":"run_started"}"#;
    std::fs::write(path, format!("{good}\nnot json\n{good}\n")).unwrap();
    let err = Journal::read_all(path).unwrap_err().to_string();
    assert!(err.contains(&path.display().to_string()) && err.contains("line 2"), "{err}");
    // A torn last line is a crash mid-write: skipped, and cut by the next writer.
    std::fs::write(path, format!("{good}\n{{\"ts\": \"2026")).unwrap();
    assert_eq!(Journal::read_all(path).unwrap().len(), 1);
    drop(Journal::open(dir.path()).unwrap());
    assert_eq!(std::fs::read_to_string(path).unwrap(), format!("{good}\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_says_when_an_earlier_run_never_finished() {
    let sandbox = Sandbox::start(small_world(3), SandboxConfig::default()).await.unwrap();
    let home = Home::new(&sandbox, ALL_IMAGES);
    let state = home.path("state");
    std::fs::create_dir_all(&state).unwrap();
    let crashed = concat!(
        r#"{"ts":"2026-01-01T00:00:00Z","run_id":"crashed-run","policy":"all-images","event":"run_started","mode":"apply"}"#,
        "\n",
        r#"{"ts":"2026-01-01T00:00:01Z","run_id":"crashed-run","policy":"all-images","event":"intent","target":{"image_digest":"sha256:1"}}"#,
        "\n"
    );
    std::fs::write(state.join(FILE_NAME), crashed).unwrap();

    let out = home.run(&["run", home.path("policy.sql").to_str().unwrap(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let warning = report["warnings"][0].as_str().unwrap_or_default();
    assert!(warning.contains("crashed-run") && warning.contains("never finished"), "{report}");
    assert!(warning.contains("1 target(s)"), "{warning}");
    let message = text(&sandbox.slack_messages()[0]);
    assert!(message.contains("crashed-run"), "{message}");
}
