//! A run that panics mid-delete keeps its record: the report has the run id
//! and every target, the calls cut short are re-read and journaled (done when
//! gone, failed when still there), the journal ends with `run_finished`
//! failed and the panic message, and Slack hears of the failure.

use std::sync::Arc;

use async_trait::async_trait;
use skyglue_aws::sinks::DeleteEcrImages;
use skyglue_core::sink::{ActionLog, Checked, Description, Outcome, Presence, Sink, Status, Target};
use skyglue_core::{Connections, Engine};
use skyglue_policy::slack::from_settings;
use skyglue_policy::{Interrupt, Journal, Locks, RunOptions, RunStatus, Runner};
use skyglue_sandbox::{Sandbox, SandboxConfig, World};

use crate::runner::{OLD_WEB_IMAGES, connections};
use crate::support::*;

const PANIC: &str = "injected panic after the intent";

/// `delete_ecr_images` with a bug: it journals its intent for every target,
/// deletes the first `lands` of them, and panics before any outcome.
struct PanicsAfterIntent {
    lands: usize,
}

/// Forgets everything: the deletes that "landed" are not the sink's own journal.
struct Forget;

impl ActionLog for Forget {
    fn intent(&self, _: &str, _: &[Target]) -> skyglue_core::Result<()> {
        Ok(())
    }

    fn outcome(&self, _: &str, _: &[Outcome]) -> skyglue_core::Result<()> {
        Ok(())
    }
}

#[async_trait]
impl Sink for PanicsAfterIntent {
    fn action(&self) -> &str {
        "delete_ecr_images"
    }

    fn required_columns(&self) -> &[&str] {
        DeleteEcrImages.required_columns()
    }

    fn describe(&self) -> Description {
        DeleteEcrImages.describe()
    }

    fn optional_columns(&self) -> &[&str] {
        DeleteEcrImages.optional_columns()
    }

    async fn check(&self, engine: &Engine, targets: Vec<Target>) -> skyglue_core::Result<Checked> {
        DeleteEcrImages.check(engine, targets).await
    }

    async fn apply(
        &self,
        connections: &Arc<Connections>,
        targets: Vec<Target>,
        log: &dyn ActionLog,
    ) -> Vec<Outcome> {
        log.intent("ecr:BatchDeleteImage", &targets).unwrap();
        let landed = targets[..self.lands.min(targets.len())].to_vec();
        DeleteEcrImages.apply(connections, landed, &Forget).await;
        panic!("{PANIC}");
    }

    async fn confirm(&self, connections: &Arc<Connections>, targets: &[Target]) -> Vec<Presence> {
        DeleteEcrImages.confirm(connections, targets).await
    }
}

#[tokio::test]
async fn a_panic_mid_delete_keeps_the_run_id_the_actions_and_the_journal() {
    let world = World::demo();
    let sandbox = Sandbox::start(world.clone(), SandboxConfig::default()).await.unwrap();
    let connections = connections(&sandbox, &world).await;
    let notifier = from_settings(&connections.slack);
    let engine = Engine::new(connections, skyglue_aws::registry());
    let dir = tempfile::tempdir().unwrap();
    let journal = Arc::new(Journal::open(&dir.path().join("state")).unwrap());
    let sink: Arc<dyn Sink> = Arc::new(PanicsAfterIntent { lands: 2 });
    let runner = Runner::new(engine, journal, vec![sink], notifier);
    let policy = dir.path().join("old-web-images.sql");
    std::fs::write(&policy, OLD_WEB_IMAGES).unwrap();
    let options = RunOptions { apply: true, params: vec![], notify: None };
    let prepared = runner.prepare(&policy, &options).await.unwrap();

    let outcome = runner.run(prepared).await;

    let report = &outcome.report;
    assert_eq!(report.status, RunStatus::Failed);
    assert_eq!(outcome.exit_code(), 1);
    let error = report.error.clone().unwrap_or_default();
    assert!(error.contains(PANIC), "{error}");
    let entries: Vec<_> = Journal::read_all(runner.journal().path())
        .unwrap()
        .into_iter()
        .filter(|e| e.run_id == report.run_id)
        .collect();
    assert!(!entries.is_empty(), "the report's run id {} is the journal's", report.run_id);

    // Every planned target is in the report; the two deletes that landed are
    // done, the rest of the batch failed as still there, skips stay skips.
    let planned = entries.iter().filter(|e| e.event == "planned").count();
    assert_eq!(report.actions.len(), planned);
    let intents: Vec<&Target> =
        entries.iter().filter(|e| e.event == "intent").filter_map(|e| e.target.as_ref()).collect();
    assert!(intents.len() > 2, "the demo has more than two old web images: {}", intents.len());
    assert_eq!(report.summary.done, 2, "{:#?}", report.actions);
    assert_eq!(report.summary.failed, intents.len() - 2, "{:#?}", report.actions);
    assert_eq!(report.summary.unknown, 0);
    for a in report.actions.iter().filter(|a| a.status == Status::Failed) {
        assert!(a.reason.as_deref().is_some_and(|r| r.contains("still there")), "{a:?}");
    }
    assert!(report.actions.iter().any(|a| a.status == Status::Skipped), "the demo keeps images in use");

    // The journal: an outcome for every intent, and run_finished failed with the panic.
    for t in &intents {
        let outcomes =
            entries.iter().filter(|e| e.event == "outcome" && e.target.as_ref() == Some(*t)).count();
        assert_eq!(outcomes, 1, "{t}");
    }
    let finished: Vec<_> = entries.iter().filter(|e| e.event == "run_finished").collect();
    assert_eq!(finished.len(), 1);
    assert_eq!(finished[0].status.as_deref(), Some("failed"));
    assert!(finished[0].reason.as_deref().is_some_and(|r| r.contains(PANIC)), "{:?}", finished[0]);

    // Slack heard of it, once.
    let messages = sandbox.slack_messages();
    assert_eq!(messages.len(), 1);
    let texts = block_texts(&messages[0]);
    assert_eq!(texts[0], "❌ old-web-images failed");
    assert!(section(&texts, "*Error*").contains(PANIC), "{texts:#?}");
}

/// `delete_ecr_images` whose call never answers: it journals its intent,
/// says so, and waits forever.
struct HangsAfterIntent {
    intended: Arc<tokio::sync::Notify>,
}

#[async_trait]
impl Sink for HangsAfterIntent {
    fn action(&self) -> &str {
        "delete_ecr_images"
    }

    fn required_columns(&self) -> &[&str] {
        DeleteEcrImages.required_columns()
    }

    fn describe(&self) -> Description {
        DeleteEcrImages.describe()
    }

    fn optional_columns(&self) -> &[&str] {
        DeleteEcrImages.optional_columns()
    }

    async fn check(&self, engine: &Engine, targets: Vec<Target>) -> skyglue_core::Result<Checked> {
        DeleteEcrImages.check(engine, targets).await
    }

    async fn apply(&self, _: &Arc<Connections>, targets: Vec<Target>, log: &dyn ActionLog) -> Vec<Outcome> {
        log.intent("ecr:BatchDeleteImage", &targets).unwrap();
        self.intended.notify_one();
        std::future::pending().await
    }
}

#[tokio::test]
async fn a_second_signal_journals_the_call_in_flight_unknown_and_releases_the_lock() {
    let world = World::demo();
    let sandbox = Sandbox::start(world.clone(), SandboxConfig::default()).await.unwrap();
    let connections = connections(&sandbox, &world).await;
    let notifier = from_settings(&connections.slack);
    let engine = Engine::new(connections, skyglue_aws::registry());
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let journal = Arc::new(Journal::open(&state).unwrap());
    let intended = Arc::new(tokio::sync::Notify::new());
    let sink: Arc<dyn Sink> = Arc::new(HangsAfterIntent { intended: intended.clone() });
    let stop = Interrupt::default();
    let runner = Runner::new(engine, journal, vec![sink], notifier)
        .with_locks(Locks::new(&state))
        .with_interrupt(stop.clone());
    let policy = dir.path().join("old-web-images.sql");
    std::fs::write(&policy, OLD_WEB_IMAGES).unwrap();
    let options = RunOptions { apply: true, params: vec![], notify: None };
    let prepared = runner.prepare(&policy, &options).await.unwrap();
    tokio::spawn(async move {
        intended.notified().await;
        stop.raise("SIGTERM");
        stop.stop_now("SIGTERM twice");
    });

    // A hang guard, not a timing assertion: without the stop the run never ends.
    let outcome = tokio::time::timeout(std::time::Duration::from_secs(120), runner.run(prepared))
        .await
        .expect("the second signal ends the run");

    let report = &outcome.report;
    assert_eq!(report.status, RunStatus::Failed);
    let error = report.error.clone().unwrap_or_default();
    assert!(error.contains("stopped at once (SIGTERM twice)"), "{error}");
    let entries: Vec<_> = Journal::read_all(runner.journal().path())
        .unwrap()
        .into_iter()
        .filter(|e| e.run_id == report.run_id)
        .collect();
    let intents = entries.iter().filter(|e| e.event == "intent").count();
    assert!(intents > 0);
    let unknown =
        entries.iter().filter(|e| e.event == "outcome" && e.status.as_deref() == Some("unknown")).count();
    assert_eq!(unknown, intents, "every target in flight is journaled unknown");
    assert_eq!(report.summary.unknown, intents);
    assert!(entries.iter().any(|e| e.event == "interrupted"));
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    assert_eq!(json["summary"]["unknown"], intents);
    // The lock is free again.
    let owner = skyglue_policy::lock::Owner::current("next");
    Locks::new(&state).acquire("old-web-images", &owner, &Interrupt::default()).await.expect("released");
    assert_eq!(sandbox.slack_messages().len(), 1, "still one message");
}
