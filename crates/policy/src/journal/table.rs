//! The `skyglue_journal` table: the journal's entries (this host's file and,
//! with a team table, every host's), read at each scan.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::{MemTable, TableType};
use datafusion::error::Result as DfResult;
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;
use serde::Serialize;
use skyglue_core::spec::{ColumnSpec, Scope, TableSpec, text, timestamp};

use super::{Entry, FILE_NAME, Journal, dynamodb, merge};
use crate::error::Result;
use crate::team::TeamTable;

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
                "run_started, planned, intent, outcome, run_finished, notified or interrupted.",
            ),
            ColumnSpec::new("mode", text(), "dry_run or apply (run_started)."),
            ColumnSpec::new("action", text(), "The policy's action."),
            ColumnSpec::new("operation", text(), "The API operation (intent, outcome)."),
            ColumnSpec::new("target", text(), "The resource, as JSON."),
            ColumnSpec::new(
                "status",
                text(),
                "planned, done, skipped, failed or unknown; or the run's status.",
            ),
            ColumnSpec::new("reason", text(), "Why it was skipped or failed."),
            ColumnSpec::new("detail", text(), "Parameters, summary or error, as JSON."),
        ],
        not_found_codes: &[],
        rate_limits: vec![],
        operations: &[],
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

/// The `skyglue_journal` table: reads the journal file (and the team table,
/// when there is one) at each scan.
#[derive(Debug)]
pub struct JournalTable {
    path: PathBuf,
    team: Option<TeamTable>,
    schema: SchemaRef,
}

impl JournalTable {
    /// The table over the journal in `dir`.
    pub fn new(dir: &Path) -> Self {
        Self { path: dir.join(FILE_NAME), team: None, schema: spec().schema() }
    }

    /// Also every host's entries in the team table.
    pub fn with_team(mut self, team: TeamTable) -> Self {
        self.team = Some(team);
        self
    }

    /// The entries a scan shows: local and team, each once, oldest first.
    pub async fn entries(&self) -> Result<Vec<Entry>> {
        let local = Journal::read_all(&self.path)?;
        let team = match &self.team {
            Some(team) => dynamodb::read_all(team).await?,
            None => vec![],
        };
        Ok(merge(local, team))
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
        let entries = self.entries().await.map_err(skyglue_core::Error::from)?;
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
