//! A policy with a sink of your own: `record_ecr_images` writes one JSON line
//! per image to a file instead of deleting it.
//!
//! The runner does what it does for the built-in delete sinks: validates the
//! policy, runs its query, runs the sink's own fresh check right before acting
//! (this sink reuses the ECR delete sink's: each row resolved to one image, an
//! image a service still runs skipped, whatever the SQL said), journals every
//! step, and reports. The example runs on the built-in sandbox cloud:
//!
//! ```text
//! cargo run -p skyglue --example run_policy
//! ```

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use async_trait::async_trait;
use skyglue_aws::sinks::DeleteEcrImages;
use skyglue_core::sink::{ActionLog, Checked, Description, Outcome, Sink, Target};
use skyglue_core::{Connections, Engine};
use skyglue_policy::{Journal, RunOptions, Runner};
use skyglue_sandbox::{Sandbox, SandboxConfig, World};

/// Appends each image it is given to a JSON-lines file.
struct RecordEcrImages {
    path: PathBuf,
}

impl RecordEcrImages {
    /// The "API call": one JSON object per target, appended and synced.
    fn append(&self, targets: &[Target]) -> std::io::Result<()> {
        let mut lines = Vec::new();
        for target in targets {
            serde_json::to_writer(&mut lines, target)?;
            lines.push(b'\n');
        }
        let mut file = std::fs::OpenOptions::new().create(true).append(true).open(&self.path)?;
        file.write_all(&lines)?;
        file.sync_data()
    }
}

#[async_trait]
impl Sink for RecordEcrImages {
    fn action(&self) -> &str {
        "record_ecr_images"
    }

    fn required_columns(&self) -> &[&str] {
        &["repository_name", "image_digest"]
    }

    fn optional_columns(&self) -> &[&str] {
        &["account_id", "region"]
    }

    /// Its rows are images: reports group and show them as the ECR sinks'.
    fn describe(&self) -> Description {
        DeleteEcrImages.describe()
    }

    /// What may be recorded is what may be deleted: the same images, so the
    /// same check.
    async fn check(&self, engine: &Engine, targets: Vec<Target>) -> skyglue_core::Result<Checked> {
        DeleteEcrImages.check(engine, targets).await
    }

    async fn apply(&self, _: &Arc<Connections>, targets: Vec<Target>, log: &dyn ActionLog) -> Vec<Outcome> {
        const OPERATION: &str = "file:append";
        // Nothing may happen that the journal has not been told about first.
        if let Err(e) = log.intent(OPERATION, &targets) {
            let reason = format!("not attempted: failed to record the intent: {e}");
            return targets.into_iter().map(|t| Outcome::failed(t, reason.clone())).collect();
        }
        let outcomes: Vec<Outcome> = match self.append(&targets) {
            Ok(()) => targets.into_iter().map(Outcome::done).collect(),
            Err(e) => targets.into_iter().map(|t| Outcome::failed(t, e.to_string())).collect(),
        };
        // The intent is on disk: if this write fails, the next reader still knows to look.
        let _ = log.outcome(OPERATION, &outcomes);
        outcomes
    }
}

const POLICY: &str = "\
-- @name: record-old-web-images
-- @description: Images of the web repository older than $max_age_days days
-- @action: record_ecr_images
-- @param max_age_days: 30
SELECT account_id, region, repository_name, image_digest
FROM aws_ecr_image
WHERE repository_name = 'web' AND image_pushed_at < days_ago($max_age_days)
";

#[tokio::main]
async fn main() -> Result<ExitCode, Box<dyn std::error::Error>> {
    let world = World::demo();
    let sandbox = Sandbox::start(world.clone(), SandboxConfig::default()).await?;
    let engine = skyglue::sandbox::engine(&sandbox, &world).await?;

    let dir = tempfile::tempdir()?;
    let policy = dir.path().join("record_old_web_images.sql");
    std::fs::write(&policy, POLICY)?;
    let records = dir.path().join("images.jsonl");
    let journal = Arc::new(Journal::open(&dir.path().join("state"))?);

    let sink = Arc::new(RecordEcrImages { path: records.clone() });
    let runner = Runner::new(engine, journal.clone(), vec![sink], None);
    let prepared = runner.prepare(&policy, &RunOptions { apply: true, ..RunOptions::default() }).await?;
    let outcome = runner.run(prepared).await;

    print!("{}", outcome.report.to_text());
    println!("\n{}:", records.display());
    print!("{}", std::fs::read_to_string(&records).unwrap_or_default());
    let entries = Journal::read_all(journal.path())?;
    println!("\njournal: {} entries in {}", entries.len(), journal.path().display());
    Ok(ExitCode::from(outcome.exit_code()))
}
