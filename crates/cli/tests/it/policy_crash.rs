//! A run killed between batches leaves a journal that matches the world:
//! every target with a `done` outcome is gone, every target never announced
//! by an intent is still there.

use std::collections::HashSet;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use skyglue_policy::Journal;
use skyglue_sandbox::{Sandbox, SandboxConfig};

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_run_leaves_a_journal_that_matches_the_world() {
    let mut r = region("us-east-1");
    r.repositories.push(repository("web", 450));
    let w = world(vec![account(ACCOUNT, vec![r])]);
    // Slow calls, so the run is still going when it is killed.
    let config = SandboxConfig { latency: Duration::from_millis(300), ..SandboxConfig::default() };
    let sandbox = Sandbox::start(w, config).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let state = home.path().join("state");
    let policy = home.path().join("all.sql");
    std::fs::write(
        &policy,
        "-- @action: delete_ecr_images\n-- @notify: none\n-- @max_deletes: 1000\n\
         SELECT repository_name, image_digest FROM aws_ecr_image",
    )
    .unwrap();

    let mut cmd = Command::new(env!("CARGO_BIN_EXE_skyglue"));
    cmd.args(["run", policy.to_str().unwrap(), "--apply"])
        .current_dir(home.path())
        .env_clear()
        .env("HOME", home.path())
        .env("SKYGLUE_STATE_DIR", &state)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in sandbox.env_vars() {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();

    // Wait for the first batch's outcome, then kill the run mid-way.
    let journal_path = state.join(skyglue_policy::journal::FILE_NAME);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let entries = Journal::read_all(&journal_path).unwrap();
        if entries.iter().any(|e| e.event == "outcome") {
            break;
        }
        assert!(Instant::now() < deadline, "the run never finished a batch");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    // A call already sent may still land on the server: let it.
    tokio::time::sleep(Duration::from_millis(700)).await;

    let entries = Journal::read_all(&journal_path).unwrap();
    let digests = |event: &str, status: Option<&str>| -> HashSet<String> {
        entries
            .iter()
            .filter(|e| e.event == event && (status.is_none() || e.status.as_deref() == status))
            .filter_map(|e| e.target.as_ref().and_then(|t| t.get("image_digest")).map(str::to_string))
            .collect()
    };
    let done = digests("outcome", Some("done"));
    let intended = digests("intent", None);
    assert!(!done.is_empty() && done.len() < 450, "killed mid-way: {} done", done.len());
    assert!(!entries.iter().any(|e| e.event == "run_finished"), "the run did not finish");

    let world = sandbox.world_snapshot();
    let left: HashSet<String> = world.region(ACCOUNT, "us-east-1").unwrap().repositories[0]
        .images
        .iter()
        .map(|i| i.digest.clone())
        .collect();
    for d in &done {
        assert!(!left.contains(d), "journal says {d} was deleted, and it is gone");
    }
    let all: HashSet<String> = (0..450).map(|i| digest(i + "web".len() * 100_000)).collect();
    for d in all.difference(&intended) {
        assert!(left.contains(d), "{d} was never attempted, and it is still there");
    }
    // Whatever is gone was announced by an intent first.
    for d in all.difference(&left) {
        assert!(intended.contains(d), "{d} is gone, and the journal announced it");
    }
}
