//! Many machines, on loopback: three `skyglue worker` processes and a
//! coordinating `skyglue query|run --workers` against the sandbox with 200
//! accounts x 2 regions. Every process builds its own connections from the
//! same `skyglue.toml` and a shared credentials file (one profile per
//! account), as real machines would.
//!
//! - every shipped plain query and the in-use view give the rows of one
//!   process, and so does every shipped policy's dry run;
//! - the in-use view makes the AWS calls of one process (its services and
//!   tasks run as two stages, and still list each connection's clusters once);
//! - a killed worker fails the query (exit 1) with an error naming it, and
//!   an `--apply` run then deletes nothing and says so on Slack.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;
use skyglue_sandbox::{Sandbox, SandboxConfig, World};

use crate::distributed::{many_accounts, shipped_policies, shipped_queries};

const ACCOUNTS: usize = 200;

/// The cluster token every process of a site shares.
pub const TOKEN: &str = "loopback-cluster-token";

/// A directory with `skyglue.toml` and the credentials for every account of
/// the world; its processes share the cluster token [`TOKEN`].
pub struct Site {
    pub dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl Site {
    pub fn new(sandbox: &Sandbox, world: &World) -> Site {
        let dir = tempfile::tempdir().unwrap();
        let mut config = String::new();
        let mut credentials = String::new();
        for account in &world.accounts {
            let regions: Vec<String> = account.regions.iter().map(|r| format!("{:?}", r.region)).collect();
            config.push_str(&format!(
                "[[aws]]\nname = {:?}\nprofile = {:?}\nregions = [{}]\nendpoint_url = {:?}\n\n",
                account.name,
                account.name,
                regions.join(", "),
                sandbox.endpoint_url()
            ));
            credentials.push_str(&format!(
                "[{}]\naws_access_key_id = {}\naws_secret_access_key = sandbox\n\n",
                account.name, account.access_key_id
            ));
        }
        // The in-use sources this test was sized for: with ecs_schedules too
        // (three more listings per connection, 1,200 for the 400 here) the
        // one loopback sandbox, serving three workers on a loaded 2-core
        // machine, answered late enough to trip the SDK's stalled-stream
        // protection. Schedules over workers are the same scans as any other.
        config.push_str("[in_use]\nsources = [\"ecs\", \"lambda\", \"batch\"]\n");
        std::fs::write(dir.path().join("skyglue.toml"), config).unwrap();
        std::fs::write(dir.path().join("credentials"), credentials).unwrap();
        std::fs::write(dir.path().join("aws-config"), "").unwrap();
        let path = |name: &str| dir.path().join(name).display().to_string();
        let env = vec![
            ("AWS_SHARED_CREDENTIALS_FILE".to_string(), path("credentials")),
            ("AWS_CONFIG_FILE".to_string(), path("aws-config")),
            ("AWS_EC2_METADATA_DISABLED".to_string(), "true".to_string()),
            ("GITHUB_API_URL".to_string(), sandbox.github_api_url()),
            ("GITHUB_TOKEN".to_string(), "sandbox".to_string()),
            ("SLACK_WEBHOOK_URL".to_string(), sandbox.slack_webhook_url()),
            ("SKYGLUE_STATE_DIR".to_string(), path("state")),
            ("SKYGLUE_CLUSTER_TOKEN".to_string(), TOKEN.to_string()),
        ];
        Site { dir, env }
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_skyglue"));
        cmd.arg("--config")
            .arg(self.dir.path().join("skyglue.toml"))
            .args(args)
            .current_dir(self.dir.path())
            .env_clear()
            .env("HOME", self.dir.path())
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null());
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// `text` (a shipped policy) saved in the site with its `@max_deletes`
    /// raised: 200 accounts hold more targets than a shipped limit allows,
    /// and over the limit a dry run refuses instead of listing them.
    fn unbounded_copy(&self, name: &str, text: &str) -> String {
        let raised: Vec<String> =
            text.lines()
                .map(|l| {
                    if l.starts_with("-- @max_deletes:") {
                        "-- @max_deletes: 1000000".into()
                    } else {
                        l.into()
                    }
                })
                .collect();
        let path = self.dir.path().join(name);
        std::fs::write(&path, raised.join("\n")).unwrap();
        path.display().to_string()
    }

    /// Starts a worker on a free loopback port; its `HOST:PORT`.
    pub fn worker(&self) -> Worker {
        Self::started(self.command(&["worker", "--listen", "127.0.0.1:0"]))
    }

    /// Starts `worker` (a `skyglue worker` command) and waits until it listens.
    pub fn started(mut worker: Command) -> Worker {
        let mut child = worker.stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let address = line
            .trim()
            .strip_prefix("skyglue worker: listening on ")
            .unwrap_or_else(|| panic!("the worker did not say where it listens: {line:?}"))
            .to_string();
        Worker { child, address }
    }
}

pub struct Worker {
    pub child: Child,
    pub address: String,
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn stdout(out: &Output, what: &str) -> String {
    assert!(out.status.success(), "{what} failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn sorted_lines(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines.sort();
    lines
}

/// A dry run's actions (each as JSON text), sorted.
fn actions(report: &str) -> Vec<String> {
    let report: Value = serde_json::from_str(report).unwrap();
    let mut out: Vec<String> = report["actions"].as_array().unwrap().iter().map(Value::to_string).collect();
    out.sort();
    out
}

fn policy_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../queries").join(name)
}

async fn start() -> (World, Sandbox) {
    let world = many_accounts(ACCOUNTS);
    let sandbox = Sandbox::start(world.clone(), SandboxConfig::default()).await.unwrap();
    (world, sandbox)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_worker_processes_give_the_rows_of_one_process() {
    let (world, sandbox) = start().await;
    let site = Site::new(&sandbox, &world);
    let workers = [site.worker(), site.worker(), site.worker()];
    let list = workers.iter().map(|w| w.address.as_str()).collect::<Vec<_>>().join(",");

    for (name, sql) in shipped_queries() {
        // `--` before the SQL: a shipped query starts with a `--` comment.
        sandbox.reset_calls();
        let alone = stdout(&site.run(&["query", "--format", "ndjson", "--", &sql]), &name);
        let calls_alone = sandbox.calls();
        sandbox.reset_calls();
        let spread =
            stdout(&site.run(&["query", "--format", "ndjson", "--workers", &list, "--", &sql]), &name);
        assert!(alone.lines().count() > 0, "{name} has no rows to compare");
        assert_eq!(sorted_lines(&spread), sorted_lines(&alone), "{name}: the workers' rows differ");
        if name == "image_in_use" {
            assert_eq!(sandbox.calls(), calls_alone, "{name}: calls grew with workers");
        }
    }
    let mut compared = 0;
    for (name, text) in shipped_policies() {
        let policy = site.unbounded_copy(&name, &text);
        let args = ["run", policy.as_str(), "--format", "json", "--notify", "none"];
        let alone = stdout(&site.run(&args), &name);
        let mut distributed = args.to_vec();
        distributed.extend(["--workers", list.as_str()]);
        let spread = stdout(&site.run(&distributed), &name);
        compared += actions(&alone).len();
        assert_eq!(actions(&spread), actions(&alone), "{name}: the workers' dry run differs");
    }
    assert!(compared > 0, "no shipped policy selects anything in this world: nothing was compared");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_worker_fails_the_query_naming_it_and_nothing_is_deleted() {
    let (world, sandbox) = start().await;
    let site = Site::new(&sandbox, &world);
    let mut workers = [site.worker(), site.worker(), site.worker()];
    let list = workers.iter().map(|w| w.address.as_str()).collect::<Vec<_>>().join(",");
    let lost = workers[1].address.clone();
    workers[1].child.kill().unwrap();
    workers[1].child.wait().unwrap();

    let out = site.run(&["query", "SELECT repository_name FROM aws_ecr_repository", "--workers", &list]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(stderr.contains(&format!("worker {lost} failed")), "the error does not name {lost}: {stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "not one line: {stderr}");

    sandbox.reset_calls();
    let policy = policy_path("ecr_cleanup.sql").display().to_string();
    let out = site.run(&["run", &policy, "--apply", "--format", "json", "--workers", &list]);
    assert_eq!(out.status.code(), Some(1), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["status"], "failed", "{report}");
    assert!(report["error"].as_str().unwrap_or_default().contains(&lost), "{report}");
    let deletes: u64 = sandbox.calls().iter().filter(|(op, _)| op.contains("Delete")).map(|(_, n)| n).sum();
    assert_eq!(deletes, 0, "a run with a lost worker deleted something: {:?}", sandbox.calls());
    let messages = sandbox.slack_messages();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(
        messages[0].to_string().contains(&lost),
        "the Slack message does not name {lost}: {}",
        messages[0]
    );
}
