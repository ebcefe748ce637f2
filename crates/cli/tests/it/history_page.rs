//! `skyglue report`: the journal of real runs (dry, applied, partial) on the
//! demo world becomes one HTML page whose embedded figures match the
//! journal, and which a headless Chromium renders without a console error.

use std::path::Path;
use std::process::Command;

use skyglue_policy::history::History;
use skyglue_policy::{Journal, RunOptions, RunStatus};
use skyglue_sandbox::{Fault, SandboxConfig, World};

use crate::policy_runner::{policy_env, write_policy};

const SHIPPED: &str = include_str!("../../../../queries/ecr_cleanup.sql");

/// Runs the shipped policy on a fresh demo world with the journal in `dir`.
async fn run(dir: &Path, apply: bool, config: SandboxConfig) -> skyglue_policy::Report {
    let env = policy_env(World::demo(), config).await;
    let journal = std::sync::Arc::new(Journal::open(dir).unwrap());
    let runner =
        skyglue_policy::Runner::new(env.runner.engine().clone(), journal, skyglue_aws::sinks::all(), None);
    let path = write_policy(env.dir.path(), "ecr_cleanup.sql", SHIPPED);
    let options = RunOptions { apply, params: vec![], notify: Some(false) };
    runner.run(runner.prepare(&path, &options).await.unwrap()).await.report
}

/// `skyglue report --out page.html` over `state`; the page.
fn page(state: &Path) -> String {
    let out = state.join("page.html");
    let result = Command::new(env!("CARGO_BIN_EXE_skyglue"))
        .args(["report", "--state-dir"])
        .arg(state)
        .arg("--out")
        .arg(&out)
        .env_remove("SKYGLUE_CONFIG")
        .current_dir(state)
        .output()
        .unwrap();
    assert!(result.status.success(), "{}", String::from_utf8_lossy(&result.stderr));
    std::fs::read_to_string(out).unwrap()
}

/// The figures the page embeds.
fn embedded(page: &str) -> serde_json::Value {
    let start = r#"<script type="application/json" id="skyglue-history">"#;
    let from = page.find(start).expect("embedded data") + start.len();
    let to = from + page[from..].find("</script>").expect("end of the data");
    serde_json::from_str(&page[from..to].replace("<\\/", "</")).expect("the data is JSON")
}

#[tokio::test]
async fn the_page_shows_what_the_journal_says() {
    let state = tempfile::tempdir().unwrap();
    let dry = run(state.path(), false, SandboxConfig::default()).await;
    let applied = run(state.path(), true, SandboxConfig::default()).await;
    let fault = Fault::nth_call("ecr:BatchDeleteImage", 1).error(400, "InvalidParameterException");
    let failed =
        run(state.path(), true, SandboxConfig { faults: vec![fault], ..SandboxConfig::default() }).await;
    assert_eq!(
        (dry.status, applied.status, failed.status),
        (RunStatus::Ok, RunStatus::Ok, RunStatus::Failed)
    );

    let page = page(state.path());
    let data = embedded(&page);
    let runs = data["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 3);
    let by_id = |id: &str| runs.iter().find(|r| r["run_id"] == id).unwrap().clone();
    let a = by_id(&applied.run_id);
    assert_eq!(a["status"], "ok");
    assert_eq!(a["done"].as_u64(), Some(applied.summary.done as u64));
    assert_eq!(a["bytes_reclaimed"].as_i64(), Some(applied.summary.bytes_reclaimed));
    assert!(applied.summary.bytes_reclaimed > 0);
    // per repository: what the applied run deleted there, with the sizes it planned
    let web = &a["groups"]["111111111111/us-east-1/web"];
    assert_eq!(web["done"].as_u64(), Some(applied.summary.done as u64));
    assert_eq!(web["bytes"].as_i64(), Some(applied.summary.bytes_reclaimed));
    let group = &data["groups"][0];
    assert_eq!(
        (group["group"].as_str(), group["runs"].as_u64()),
        (Some("111111111111/us-east-1/web"), Some(1))
    );
    assert_eq!(by_id(&dry.run_id)["mode"], "dry_run");
    assert_eq!(by_id(&failed.run_id)["status"], "failed");
    // the failures: each failed target with its reason
    let failures = data["failures"].as_array().unwrap();
    assert_eq!(
        failures.iter().filter(|f| f["run_id"] == failed.run_id.as_str()).count(),
        failed.summary.failed
    );
    assert!(
        failures
            .iter()
            .all(|f| f["reason"].as_str().is_some_and(|r| r.contains("InvalidParameterException")))
    );
    // the page says the same in words, and matches History on the journal
    assert!(page.contains("111111111111/us-east-1/web") && page.contains("InvalidParameterException"));
    let journal = Journal::read_all(&state.path().join("journal.jsonl")).unwrap();
    assert_eq!(
        data,
        serde_json::to_value(History::from_entries(&journal, &skyglue_aws::sinks::all())).unwrap()
    );

    chromium_renders(&state.path().join("page.html"));
}

/// Renders the page in headless Chromium (installed from Debian when
/// missing): the script ran to its end and nothing was logged as an error.
fn chromium_renders(page: &Path) {
    let Some(chromium) = chromium() else { return };
    let out = Command::new(&chromium)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0"])
        .args(["--virtual-time-budget=3000", "--dump-dom"])
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(dom.contains("data-rendered=\"yes\""), "the page's script ran to its end:\n{log}");
    let errors: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("CONSOLE") || l.contains("Uncaught") || l.contains("SyntaxError"))
        .collect();
    assert!(errors.is_empty(), "console errors: {errors:#?}");
}

/// The Chromium binary, installing Debian's package when it is missing;
/// `None` (with the reason printed) only where it cannot be installed.
fn chromium() -> Option<String> {
    let found = || {
        ["chromium", "chromium-browser"]
            .into_iter()
            .find(|c| Command::new(c).arg("--version").output().is_ok_and(|o| o.status.success()))
            .map(str::to_string)
    };
    if let Some(c) = found() {
        return Some(c);
    }
    let install = |args: &[&str]| {
        Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let installed = install(&["install", "-y", "--no-install-recommends", "chromium"])
        || (install(&["update"]) && install(&["install", "-y", "--no-install-recommends", "chromium"]));
    let c = found();
    if c.is_none() {
        eprintln!(
            "SKIPPED the Chromium rendering check: chromium is not installed and `apt-get install chromium` {}",
            if installed { "did not provide it" } else { "failed (no root or no package mirror)" }
        );
    }
    c
}
