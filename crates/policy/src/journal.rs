//! The journal: a durable, append-only record of every run and every action.
//!
//! One JSON object per line in `journal.jsonl` under the state directory
//! (`--state-dir`, else `$SKYGLUE_STATE_DIR`, else the user's state directory,
//! e.g. `~/.local/state/skyglue`). Each entry is written and synced to disk
//! before the run goes on: the intent before each API call, the outcome after
//! it. A run killed mid-way leaves every intent it acted on, so the next reader
//! can tell what was done; a torn last line is skipped when reading.
//!
//! The journal is queryable as the `skyglue_journal` table:
//!
//! ```sql
//! SELECT ts, event, status, target FROM skyglue_journal WHERE run_id = '...' ORDER BY ts;
//! ```

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::{MemTable, TableType};
use datafusion::error::Result as DfResult;
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;
use serde::{Deserialize, Serialize};
use skyglue_core::sink::{ActionLog, Outcome, Target};
use skyglue_core::spec::{ColumnSpec, Scope, TableSpec, text, timestamp};
use skyglue_core::{Error, Result};

/// One journal line.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// When, RFC 3339 UTC.
    pub ts: String,
    /// The run.
    pub run_id: String,
    /// The policy's name.
    pub policy: String,
    /// `run_started`, `planned`, `intent`, `outcome`, `notified`, `run_finished`.
    pub event: String,
    /// `dry_run` or `apply`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// The action (`delete_ecr_images`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// The API operation an intent or outcome belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// The resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Target>,
    /// `planned`, `done`, `skipped`, `failed`; or a run's status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Anything else (parameters, summary), as JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<serde_json::Value>,
}

/// The journal file.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: Mutex<File>,
}

/// The file name inside the state directory.
pub const FILE_NAME: &str = "journal.jsonl";

impl Journal {
    /// The default state directory.
    pub fn default_dir() -> PathBuf {
        if let Some(dir) = std::env::var_os("SKYGLUE_STATE_DIR").filter(|d| !d.is_empty()) {
            return PathBuf::from(dir);
        }
        dirs::state_dir()
            .or_else(dirs::data_local_dir)
            .unwrap_or_else(|| PathBuf::from(".skyglue"))
            .join("skyglue")
    }

    /// Opens (creating) the journal in `dir`.
    pub fn open(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::Config(format!("failed to create state directory {}: {e}", dir.display())))?;
        let path = dir.join(FILE_NAME);
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| Error::Config(format!("failed to open journal {}: {e}", path.display())))?;
        Ok(Self { path, file: Mutex::new(file) })
    }

    /// The journal's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends entries and syncs them to disk.
    pub fn append(&self, entries: &[Entry]) -> Result<()> {
        let mut text = String::new();
        for e in entries {
            let line = serde_json::to_string(e)
                .map_err(|err| Error::Config(format!("failed to encode a journal entry: {err}")))?;
            text.push_str(&line);
            text.push('\n');
        }
        let mut file = match self.file.lock() {
            Ok(f) => f,
            Err(poisoned) => poisoned.into_inner(),
        };
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_data())
            .map_err(|e| Error::Config(format!("failed to write journal {}: {e}", self.path.display())))
    }

    /// Every readable entry; a torn last line (a crash mid-write) is skipped.
    pub fn read_all(path: &Path) -> Result<Vec<Entry>> {
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
            Err(e) => return Err(Error::Config(format!("failed to read journal {}: {e}", path.display()))),
        };
        let mut out = Vec::new();
        for line in BufReader::new(file).lines() {
            let line =
                line.map_err(|e| Error::Config(format!("failed to read journal {}: {e}", path.display())))?;
            if let Ok(entry) = serde_json::from_str::<Entry>(&line) {
                out.push(entry);
            }
        }
        Ok(out)
    }
}

/// A run's view of the journal: fills in the run id and policy, and
/// implements the sinks' [`ActionLog`].
#[derive(Debug, Clone)]
pub struct RunLog {
    journal: Arc<Journal>,
    run_id: String,
    policy: String,
    action: String,
}

impl RunLog {
    /// A log for one run.
    pub fn new(journal: Arc<Journal>, run_id: &str, policy: &str, action: &str) -> Self {
        Self { journal, run_id: run_id.into(), policy: policy.into(), action: action.into() }
    }

    /// An entry of this run, stamped now.
    pub fn entry(&self, event: &str) -> Entry {
        Entry {
            ts: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            run_id: self.run_id.clone(),
            policy: self.policy.clone(),
            event: event.into(),
            action: Some(self.action.clone()),
            ..Entry::default()
        }
    }

    /// Appends entries.
    pub fn write(&self, entries: &[Entry]) -> Result<()> {
        self.journal.append(entries)
    }
}

impl ActionLog for RunLog {
    fn intent(&self, operation: &str, targets: &[Target]) -> Result<()> {
        let entries: Vec<Entry> = targets
            .iter()
            .map(|t| Entry {
                operation: Some(operation.into()),
                target: Some(t.clone()),
                ..self.entry("intent")
            })
            .collect();
        self.write(&entries)
    }

    fn outcome(&self, operation: &str, outcomes: &[Outcome]) -> Result<()> {
        let entries: Vec<Entry> = outcomes
            .iter()
            .map(|o| Entry {
                operation: Some(operation.into()),
                target: Some(o.target.clone()),
                status: Some(status_name(o.status).into()),
                reason: o.reason.clone(),
                ..self.entry("outcome")
            })
            .collect();
        self.write(&entries)
    }
}

/// The JSON name of a status.
pub fn status_name(s: skyglue_core::sink::Status) -> &'static str {
    use skyglue_core::sink::Status;
    match s {
        Status::Planned => "planned",
        Status::Done => "done",
        Status::Skipped => "skipped",
        Status::Failed => "failed",
    }
}

// ---- the skyglue_journal table ------------------------------------------------------------------

fn spec() -> TableSpec {
    TableSpec {
        name: "skyglue_journal",
        description: "Every policy run and action skyglue recorded, oldest first.",
        scope: Scope::Global,
        columns: vec![
            ColumnSpec::new("ts", timestamp(), "When the entry was written."),
            ColumnSpec::new("run_id", text(), "The run."),
            ColumnSpec::new("policy", text(), "The policy's name."),
            ColumnSpec::new(
                "event",
                text(),
                "run_started, planned, intent, outcome, notified or run_finished.",
            ),
            ColumnSpec::new("mode", text(), "dry_run or apply (run_started)."),
            ColumnSpec::new("action", text(), "The policy's action."),
            ColumnSpec::new("operation", text(), "The API operation (intent, outcome)."),
            ColumnSpec::new("target", text(), "The resource, as JSON."),
            ColumnSpec::new("status", text(), "planned, done, skipped or failed; or the run's status."),
            ColumnSpec::new("reason", text(), "Why it was skipped or failed."),
            ColumnSpec::new("detail", text(), "Parameters, summary or error, as JSON."),
        ],
        not_found_codes: &[],
    }
}

#[derive(Serialize)]
struct Row<'a> {
    ts: Option<i64>,
    run_id: &'a str,
    policy: &'a str,
    event: &'a str,
    mode: Option<&'a str>,
    action: Option<&'a str>,
    operation: Option<&'a str>,
    target: Option<String>,
    status: Option<&'a str>,
    reason: Option<&'a str>,
    detail: Option<String>,
}

/// The `skyglue_journal` table: reads the journal file at each scan.
#[derive(Debug)]
pub struct JournalTable {
    path: PathBuf,
    schema: SchemaRef,
}

impl JournalTable {
    /// The table over the journal in `dir`.
    pub fn new(dir: &Path) -> Self {
        Self { path: dir.join(FILE_NAME), schema: spec().schema() }
    }
}

#[async_trait]
impl TableProvider for JournalTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let entries = Journal::read_all(&self.path)?;
        let rows: Vec<Row> = entries
            .iter()
            .map(|e| Row {
                ts: chrono::DateTime::parse_from_rfc3339(&e.ts).ok().map(|t| t.timestamp_micros()),
                run_id: &e.run_id,
                policy: &e.policy,
                event: &e.event,
                mode: e.mode.as_deref(),
                action: e.action.as_deref(),
                operation: e.operation.as_deref(),
                target: e.target.as_ref().and_then(|t| serde_json::to_string(t).ok()),
                status: e.status.as_deref(),
                reason: e.reason.as_deref(),
                detail: e.detail.as_ref().map(|d| d.to_string()),
            })
            .collect();
        let batch = skyglue_core::rows::rows_to_batch(self.schema.clone(), &rows)?;
        let mem = MemTable::try_new(self.schema.clone(), vec![vec![batch]])?;
        mem.scan(state, projection, filters, limit).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_torn_last_line_is_skipped() {
        let dir = tempfile::tempdir().expect("tmp");
        let journal = Journal::open(dir.path()).expect("open");
        let log = RunLog::new(Arc::new(journal), "r1", "p", "delete_ecr_images");
        log.intent("ecr:BatchDeleteImage", &[Target::from_pairs([("image_digest", "sha256:1")])])
            .expect("write");
        let mut f = OpenOptions::new().append(true).open(dir.path().join(FILE_NAME)).expect("open");
        f.write_all(b"{\"ts\": \"2026").expect("torn write");
        let entries = Journal::read_all(&dir.path().join(FILE_NAME)).expect("read");
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].event, "intent");
        assert_eq!(entries[0].target.as_ref().and_then(|t| t.get("image_digest")), Some("sha256:1"));
    }
}
