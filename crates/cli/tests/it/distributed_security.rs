//! Secure by default, with `skyglue worker` processes on loopback against
//! the sandbox: a worker refuses to start without the cluster token (exit 2
//! naming the variable); a coordinator with a wrong token, or none, fails
//! with "authentication failed" naming the worker (exit 1), and no scan
//! ran; with the right token the query runs on the workers. Two workers:
//! with one, the planner keeps a stage of one task on the coordinator.

use std::io::{BufRead, BufReader, Read};
use std::process::{Output, Stdio};

use skyglue_sandbox::{Sandbox, SandboxConfig, World};

use crate::distributed::many_accounts;
use crate::distributed_loopback::{Site, TOKEN};

const QUERY: &str = "SELECT repository_name FROM aws_ecr_repository ORDER BY repository_name";

async fn site() -> (World, Sandbox, Site) {
    let world = many_accounts(3);
    let sandbox = Sandbox::start(world.clone(), SandboxConfig::default()).await.unwrap();
    let site = Site::new(&sandbox, &world);
    (world, sandbox, site)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The sandbox's AWS calls since the last reset.
fn aws_calls(sandbox: &Sandbox) -> u64 {
    sandbox.calls().values().sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_without_the_token_exits_2_naming_the_variable() {
    let (_world, _sandbox, site) = site().await;
    let out = site
        .command(&["worker", "--listen", "127.0.0.1:0"])
        .env_remove("SKYGLUE_CLUSTER_TOKEN")
        .stdout(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "stderr: {}", stderr(&out));
    assert!(stderr(&out).contains("SKYGLUE_CLUSTER_TOKEN"), "{}", stderr(&out));

    // `[cluster] token_env` names another variable: that one is required.
    let config = site.dir.path().join("skyglue.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("[cluster]\ntoken_env = \"TEAM_SKYGLUE_TOKEN\"\n\n{text}")).unwrap();
    let out = site.command(&["worker", "--listen", "127.0.0.1:0"]).stdout(Stdio::null()).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "stderr: {}", stderr(&out));
    assert!(stderr(&out).contains("TEAM_SKYGLUE_TOKEN"), "{}", stderr(&out));
    assert!(!stderr(&out).contains(TOKEN), "the error shows a token: {}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_or_missing_token_fails_the_query_naming_the_worker_and_no_scan_runs() {
    let (_world, sandbox, site) = site().await;
    let workers = [site.worker(), site.worker()];
    let list = format!("{},{}", workers[0].address, workers[1].address);
    let names_a_worker =
        |text: &str| workers.iter().any(|w| text.contains(&format!("worker {} failed", w.address)));

    sandbox.reset_calls();
    let wrong = site
        .command(&["query", QUERY, "--workers", &list])
        .env("SKYGLUE_CLUSTER_TOKEN", "not-the-token")
        .output()
        .unwrap();
    let text = stderr(&wrong);
    assert_eq!(wrong.status.code(), Some(1), "stderr: {text}");
    assert!(text.contains("authentication failed"), "{text}");
    assert!(names_a_worker(&text), "the error does not name the worker: {text}");
    assert!(!text.contains("not-the-token"), "the error shows the token: {text}");
    assert_eq!(aws_calls(&sandbox), 0, "a scan ran for a wrong token: {:?}", sandbox.calls());

    let missing = site
        .command(&["query", QUERY, "--workers", &list])
        .env_remove("SKYGLUE_CLUSTER_TOKEN")
        .output()
        .unwrap();
    let text = stderr(&missing);
    assert_eq!(missing.status.code(), Some(1), "stderr: {text}");
    assert!(text.contains("authentication failed") && names_a_worker(&text), "{text}");
    assert_eq!(aws_calls(&sandbox), 0, "a scan ran without a token: {:?}", sandbox.calls());

    let alone = site.run(&["query", QUERY, "--format", "ndjson"]);
    let right = site.run(&["query", QUERY, "--format", "ndjson", "--workers", &list]);
    assert!(right.status.success(), "stderr: {}", stderr(&right));
    assert!(!right.stdout.is_empty(), "no rows");
    assert_eq!(right.stdout, alone.stdout, "the workers' rows differ");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_without_tls_beyond_loopback_warns_once_at_start() {
    let (_world, _sandbox, site) = site().await;
    let mut child = site
        .command(&["worker", "--listen", "0.0.0.0:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert!(line.starts_with("skyglue worker: listening on 0.0.0.0:"), "{line:?}");
    child.kill().unwrap();
    let mut warned = String::new();
    child.stderr.take().unwrap().read_to_string(&mut warned).unwrap();
    child.wait().unwrap();
    assert_eq!(warned.matches("without TLS").count(), 1, "{warned}");
    assert!(!warned.contains(TOKEN), "the warning shows the token: {warned}");
}
