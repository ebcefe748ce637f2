//! A lease that expires during a run, in moto's DynamoDB: run A deletes its
//! first batch, stalls past its lease (its lease's expiry written into the
//! past), and run B on another host takes the lock over and finishes. Before
//! A's next batch its lease is checked: gone, so A stops (failed, one Slack
//! message, no further call), and the team journal shows each holder's fence.

use std::sync::{Arc, Mutex, OnceLock};

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use futures::future::BoxFuture;
use skyglue_core::sink::{ActionLog, Checked, Description, Outcome, Sink, Status, Target};
use skyglue_core::{Connections, Engine};
use skyglue_policy::journal::Entry;
use skyglue_policy::{Journal, Locks, Notifier, Report, RunOptions, RunStatus, Runner, TeamTable};

use super::team::team_table;

const POLICY: &str = "-- @name: fenced\n-- @action: fenced_delete\n\
    SELECT column1 AS id FROM (VALUES ('a'), ('b'), ('c'), ('d'))\n";

type Hook = Arc<dyn Fn() -> BoxFuture<'static, ()> + Send + Sync>;

/// Each call that was sent: the host and the ids of its batch.
type Acted = Arc<Mutex<Vec<(String, Vec<String>)>>>;

/// Deletes two targets per call, through the log as every sink does (the
/// lease check, the intent, the outcome); `between` runs before the second call.
struct Batches {
    host: &'static str,
    acted: Acted,
    between: Option<Hook>,
}

#[async_trait]
impl Sink for Batches {
    fn action(&self) -> &str {
        "fenced_delete"
    }

    fn required_columns(&self) -> &[&str] {
        &["id"]
    }

    fn describe(&self) -> Description {
        Description::default()
    }

    async fn check(&self, _: &Engine, targets: Vec<Target>) -> skyglue_core::Result<Checked> {
        Ok(Checked::all(targets))
    }

    async fn apply(&self, _: &Arc<Connections>, targets: Vec<Target>, log: &dyn ActionLog) -> Vec<Outcome> {
        let mut outcomes = Vec::new();
        for (i, batch) in targets.chunks(2).enumerate() {
            if i == 1
                && let Some(between) = &self.between
            {
                between().await;
            }
            let allowed = match log.may_act().await {
                Ok(()) => log.intent("test:Delete", batch),
                Err(e) => Err(e),
            };
            if let Err(e) = allowed {
                outcomes
                    .extend(batch.iter().map(|t| Outcome::failed(t.clone(), format!("not attempted: {e}"))));
                continue;
            }
            let ids = batch.iter().filter_map(|t| t.get("id").map(str::to_string)).collect();
            self.acted.lock().unwrap().push((self.host.to_string(), ids));
            let done: Vec<Outcome> = batch.iter().cloned().map(Outcome::done).collect();
            log.outcome("test:Delete", &done).unwrap();
            outcomes.extend(done);
        }
        outcomes
    }
}

/// Slack, as far as the run can tell.
#[derive(Default)]
struct Messages(Mutex<Vec<(RunStatus, Option<String>)>>);

#[async_trait]
impl Notifier for Messages {
    fn name(&self) -> &str {
        "recorded"
    }

    async fn notify(&self, report: &Report) -> Result<(), String> {
        self.0.lock().unwrap().push((report.status, report.error.clone()));
        Ok(())
    }
}

fn runner(dir: &std::path::Path, team: &TeamTable, sink: Batches, slack: Arc<Messages>) -> Runner {
    let journal = Journal::open(&dir.join("state")).unwrap().with_team(team.clone());
    let engine = Engine::new(Connections::default(), skyglue_core::Registry::new());
    Runner::new(engine, Arc::new(journal), vec![Arc::new(sink)], Some(slack))
        .with_locks(Locks::new(&dir.join("state")).with_team(team.clone()))
}

async fn run(runner: &Runner, dir: &std::path::Path) -> Report {
    let path = dir.join("fenced.sql");
    std::fs::write(&path, POLICY).unwrap();
    let options = RunOptions { apply: true, ..RunOptions::default() };
    let prepared = runner.prepare(&path, &options).await.unwrap();
    runner.run(prepared).await.report
}

fn fences(entries: &[Entry], run_id: &str) -> Vec<Option<u64>> {
    let mut fences: Vec<Option<u64>> =
        entries.iter().filter(|e| e.run_id == run_id).map(|e| e.fence).collect();
    fences.dedup();
    fences
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_lost_mid_run_stops_the_run_before_its_next_call_and_fences_tell_the_holders_apart() {
    let team = team_table("skyglue-fence-test").await;
    let (a_dir, b_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let acted = Arc::new(Mutex::new(Vec::new()));
    let (a_slack, b_slack) = (Arc::new(Messages::default()), Arc::new(Messages::default()));
    let b_sink = Batches { host: "B", acted: acted.clone(), between: None };
    let b = Arc::new(runner(b_dir.path(), &team, b_sink, b_slack.clone()));

    // Between A's batches: A stalls past its lease, B takes over and finishes.
    let b_report: Arc<OnceLock<Report>> = Arc::default();
    let between: Hook = {
        let (team, b, b_report, b_dir) =
            (team.clone(), b.clone(), b_report.clone(), b_dir.path().to_path_buf());
        Arc::new(move || {
            let (team, b, b_report, b_dir) = (team.clone(), b.clone(), b_report.clone(), b_dir.clone());
            Box::pin(async move {
                let past = chrono::Utc::now().timestamp_millis() - 1_000;
                team.client()
                    .update_item()
                    .table_name(team.name())
                    .key("pk", AttributeValue::S("lock#fenced".into()))
                    .key("sk", AttributeValue::S("lock".into()))
                    .update_expression("SET expires_at = :past")
                    .expression_attribute_values(":past", AttributeValue::N(past.to_string()))
                    .send()
                    .await
                    .unwrap();
                let _ = b_report.set(run(&b, &b_dir).await);
            })
        })
    };
    let a_sink = Batches { host: "A", acted: acted.clone(), between: Some(between) };
    let a = runner(a_dir.path(), &team, a_sink, a_slack.clone());

    let a_report = run(&a, a_dir.path()).await;

    // B ran whole; A acted on its first batch only.
    let b_report = b_report.get().expect("B ran");
    assert_eq!(b_report.status, RunStatus::Ok, "{:?}", b_report.error);
    let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        *acted.lock().unwrap(),
        vec![
            ("A".to_string(), ids(&["a", "b"])),
            ("B".to_string(), ids(&["a", "b"])),
            ("B".to_string(), ids(&["c", "d"])),
        ],
        "A sent nothing after it lost the lock"
    );
    assert_eq!(a_report.status, RunStatus::Failed);
    let error = a_report.error.clone().unwrap_or_default();
    assert!(error.contains("lost the lock"), "{error}");
    assert_eq!((a_report.summary.done, a_report.summary.failed), (2, 2), "{:?}", a_report.actions);
    let failed: Vec<&str> = a_report
        .actions
        .iter()
        .filter(|x| x.status == Status::Failed)
        .filter_map(|x| x.reason.as_deref())
        .collect();
    assert!(failed.iter().all(|r| r.contains("not attempted") && r.contains("lost the lock")), "{failed:?}");
    let a_messages = a_slack.0.lock().unwrap().clone();
    assert_eq!(a_messages.len(), 1, "one message: {a_messages:?}");
    assert_eq!(a_messages[0].0, RunStatus::Failed);

    // A's journal: batch 1 announced and done, batch 2 never announced, then `interrupted`.
    let a_entries: Vec<Entry> = Journal::read_all(&a_dir.path().join("state").join("journal.jsonl"))
        .unwrap()
        .into_iter()
        .filter(|e| e.run_id == a_report.run_id)
        .collect();
    let intents: Vec<&str> = a_entries
        .iter()
        .filter(|e| e.event == "intent")
        .filter_map(|e| e.target.as_ref().and_then(|t| t.get("id")))
        .collect();
    assert_eq!(intents, vec!["a", "b"], "{a_entries:?}");
    let last = a_entries.last().expect("entries");
    assert_eq!(last.event, "interrupted");
    assert!(last.reason.as_deref().unwrap_or_default().contains("lost the lock"), "{last:?}");

    // The team journal holds both runs, each entry with its holder's fence.
    a.journal().flush_team().await.unwrap();
    let shared = skyglue_policy::journal::dynamodb::read_policy(&team, "fenced").await.unwrap();
    let (a_fence, b_fence) = (fences(&shared, &a_report.run_id), fences(&shared, &b_report.run_id));
    assert_eq!(a_fence.len(), 1, "one fence for all of A's entries: {a_fence:?}");
    assert_eq!(b_fence.len(), 1, "{b_fence:?}");
    let (a_fence, b_fence) = (a_fence[0].expect("A's fence"), b_fence[0].expect("B's fence"));
    assert!(b_fence > a_fence, "the later holder's fence is higher: A {a_fence}, B {b_fence}");
}
