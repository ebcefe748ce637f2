//! The policy runner: validate and plan, query, apply the guardrails, act (or
//! not, in a dry run), journal every step, report, and notify. The query,
//! the guardrails and acting are the act stage ([`crate::act`], with
//! [`crate::staleness`] for acting group by group); this file is the run
//! around them.
//!
//! Validation errors (the file, its parameters, its SQL) stop the run before
//! anything happens and are the caller's exit code 2. Everything after
//! validation ends in a [`Report`], failures included: a panic while querying,
//! checking or acting (or in the notifier) is caught here, and a second
//! signal ([`Interrupt::stop_now`]) cuts acting short; either way the report
//! keeps the run id and every action journaled so far, the calls in flight
//! are settled ([`crate::crash`]), and the run is journaled, notified and its
//! lock released like any other failed run.

use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::dataframe::DataFrame;
use datafusion::logical_expr::LogicalPlan;
use datafusion::sql::parser::DFParser;
use futures::FutureExt;
use skyglue_core::Engine;
use skyglue_core::error::one_line;
use skyglue_core::sink::{Bytes, Sink};

use crate::act::df_message;
use crate::crash::{CutShort, panic_message};
use crate::error::Error as PolicyError;
use crate::header::{NotifyTarget, PolicyFile};
use crate::interrupt::Interrupt;
use crate::journal::{Journal, RunLog};
use crate::lock::{Held, Locks, Owner};
use crate::notify::Notifier;
use crate::params::{self, ParamValue};
use crate::report::{Mode, Report};
use crate::rows::KEEP_REASON;
use crate::stage::{Stage, StageObserver};

/// How to run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Act; without it nothing is changed.
    pub apply: bool,
    /// `--param NAME=VALUE` overrides.
    pub params: Vec<(String, String)>,
    /// `Some(false)` turns notifications off for this run (`--notify none`),
    /// `Some(true)` requires them; `None` follows the header (or, without
    /// `@notify`, notifies when a notifier is configured).
    pub notify: Option<bool>,
}

/// A policy that passed validation, planned and ready to run.
pub struct Prepared {
    /// The parsed file.
    pub policy: PolicyFile,
    /// Parameter values in effect.
    pub params: Vec<(String, ParamValue)>,
    /// The sink for its action.
    pub sink: Arc<dyn Sink>,
    /// The planned query.
    pub query: DataFrame,
    /// The engine the query was planned on and the check reads through: a
    /// dry run's own ([`Engine::for_dry_run`], so its check reuses what the
    /// query read), else the runner's.
    pub engine: Engine,
    /// Dry run or apply.
    pub mode: Mode,
    /// Whether to notify.
    pub notify: bool,
}

impl Prepared {
    /// Whether the run will notify.
    pub fn notifies(&self) -> bool {
        self.notify
    }
}

/// The result of a run.
#[derive(Debug)]
pub struct RunOutcome {
    /// The report.
    pub report: Report,
    /// Set when the notification could not be sent.
    pub notify_error: Option<String>,
}

impl RunOutcome {
    /// 0 when the run and its notification succeeded, else 1.
    pub fn exit_code(&self) -> u8 {
        if self.notify_error.is_some() { 1 } else { self.report.exit_code() }
    }
}

/// Runs policies against one engine.
///
/// ```no_run
/// # async fn example(engine: skyglue_core::Engine) -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::Arc;
///
/// use skyglue_policy::{Journal, RunOptions, Runner};
///
/// let journal = Arc::new(Journal::open(&Journal::default_dir())?);
/// let runner = Runner::new(engine, journal, skyglue_aws::sinks::all(), None);
/// let options = RunOptions { apply: false, ..RunOptions::default() };
/// let prepared = runner.prepare("queries/ecr_cleanup.sql".as_ref(), &options).await?;
/// let outcome = runner.run(prepared).await;
/// println!("{}", outcome.report.to_text());
/// # Ok(())
/// # }
/// ```
pub struct Runner {
    engine: Engine,
    journal: Arc<Journal>,
    sinks: Vec<Arc<dyn Sink>>,
    notifier: Option<Arc<dyn Notifier>>,
    locks: Option<Locks>,
    interrupt: Interrupt,
    observer: Option<StageObserver>,
}

impl Runner {
    /// A runner with these sinks, journal and notifier.
    pub fn new(
        engine: Engine,
        journal: Arc<Journal>,
        sinks: Vec<Arc<dyn Sink>>,
        notifier: Option<Arc<dyn Notifier>>,
    ) -> Self {
        Self {
            engine,
            journal,
            sinks,
            notifier,
            locks: None,
            interrupt: Interrupt::default(),
            observer: None,
        }
    }

    /// Applying runs take their policy's lock here first (see [`crate::lock`]).
    pub fn with_locks(mut self, locks: Locks) -> Self {
        self.locks = Some(locks);
        self
    }

    /// Stops the runs when raised (SIGTERM, a lost lease): no new API call
    /// starts, the one in flight finishes, the run ends `interrupted`.
    pub fn with_interrupt(mut self, interrupt: Interrupt) -> Self {
        self.interrupt = interrupt;
        self
    }

    /// Tells `observer` as each stage of a run begins (see [`Stage`]).
    pub fn with_stage_observer(mut self, observer: StageObserver) -> Self {
        self.observer = Some(observer);
        self
    }

    pub(crate) fn stage(&self, stage: Stage) {
        if let Some(observer) = &self.observer {
            observer(stage);
        }
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The journal.
    pub fn journal(&self) -> &Arc<Journal> {
        &self.journal
    }

    /// Reads, validates and plans the policy at `path`. An error names the
    /// file (and line or column): the policy cannot run as written (exit code 2).
    pub async fn prepare(&self, path: &Path, options: &RunOptions) -> Result<Prepared, PolicyError> {
        let policy = PolicyFile::read(path)?;
        let origin = path.display().to_string();
        self.prepare_parsed(policy, &origin, options).await
    }

    /// Validates and plans an already parsed policy.
    pub async fn prepare_parsed(
        &self,
        policy: PolicyFile,
        origin: &str,
        options: &RunOptions,
    ) -> Result<Prepared, PolicyError> {
        let Some(sink) = self.sinks.iter().find(|s| s.action() == policy.action).cloned() else {
            let known: Vec<&str> = self.sinks.iter().map(|s| s.action()).collect();
            return Err(PolicyError::UnknownAction {
                origin: origin.to_string(),
                line: policy.action_line,
                action: policy.action.clone(),
                known: known.join(", "),
            });
        };
        let params = params::resolve(&policy.params, &options.params)
            .map_err(|detail| PolicyError::Params { origin: origin.to_string(), detail })?;
        let engine = if options.apply { self.engine.clone() } else { self.engine.for_dry_run() };
        let query = self.plan(&engine, &policy, &params, origin).await?;
        check_columns(&query, sink.as_ref(), origin)?;
        let notify = self.notifies(options, &policy, origin)?;
        let mode = if options.apply { Mode::Apply } else { Mode::DryRun };
        Ok(Prepared { policy, params, sink, query, engine, mode, notify })
    }

    /// Whether a run notifies: `--notify`, else the header, else whether a
    /// notifier is configured; an error when it must and none is.
    fn notifies(&self, options: &RunOptions, policy: &PolicyFile, origin: &str) -> Result<bool, PolicyError> {
        let notify = match (options.notify, policy.notify) {
            (Some(false), _) | (None, Some(NotifyTarget::None)) => false,
            (Some(true), _) | (None, Some(NotifyTarget::Slack)) => true,
            (None, None) => self.notifier.is_some(),
        };
        if notify && self.notifier.is_none() {
            return Err(PolicyError::NoSlack { origin: origin.to_string() });
        }
        Ok(notify)
    }

    /// Prepares `skyglue restore RUN_ID`: a run of the action that undoes run
    /// `run_id`'s, on the targets the journal says it acted on (see
    /// [`crate::restore`]). An unknown run, or one whose action cannot be
    /// undone, is an error naming it (exit code 2).
    pub async fn prepare_restore(&self, run_id: &str, options: &RunOptions) -> Result<Prepared, PolicyError> {
        let acted = crate::restore::acted_on(&self.journal, run_id).await?;
        let undo = self
            .sinks
            .iter()
            .find(|s| s.action() == acted.action)
            .and_then(|s| s.undone_by().map(str::to_string))
            .and_then(|undo| self.sinks.iter().find(|s| s.action() == undo).cloned());
        let Some(sink) = undo else {
            return Err(PolicyError::CannotUndo { run_id: run_id.to_string(), action: acted.action });
        };
        let origin = format!("restore {run_id}");
        let policy = PolicyFile {
            name: format!("{}: restore of {run_id}", acted.policy),
            description: Some(format!("Undo what run {run_id} of {} did ({})", acted.policy, acted.action)),
            action: sink.action().to_string(),
            action_line: 0,
            notify: None,
            // it undoes a run that max_deletes already bounded
            max_deletes: usize::MAX,
            params: vec![],
            query: String::new(),
        };
        let engine = if options.apply { self.engine.clone() } else { self.engine.for_dry_run() };
        let columns: Vec<&str> =
            sink.required_columns().iter().chain(sink.optional_columns()).copied().collect();
        let ctx = engine
            .session()
            .await
            .map_err(|e| PolicyError::Query { origin: origin.clone(), detail: one_line(&e.to_string()) })?;
        let query = crate::restore::targets_frame(&ctx, &columns, &acted.targets)
            .map_err(|detail| PolicyError::Query { origin: origin.clone(), detail })?;
        let notify = self.notifies(options, &policy, &origin)?;
        let mode = if options.apply { Mode::Apply } else { Mode::DryRun };
        let params = vec![("run_id".to_string(), ParamValue::Text(run_id.to_string()))];
        Ok(Prepared { policy, params, sink, query, engine, mode, notify })
    }

    async fn plan(
        &self,
        engine: &Engine,
        policy: &PolicyFile,
        params: &[(String, ParamValue)],
        origin: &str,
    ) -> Result<DataFrame, PolicyError> {
        let query_error = |detail: String| PolicyError::Query { origin: origin.to_string(), detail };
        let sql_error = |e: &dyn std::fmt::Display| query_error(one_line(&e.to_string()));
        let mut statements = DFParser::parse_sql(&policy.query).map_err(|e| sql_error(&e))?;
        if statements.len() != 1 {
            return Err(query_error(format!(
                "a policy holds exactly one query, found {} statements",
                statements.len()
            )));
        }
        let Some(statement) = statements.pop_front() else {
            return Err(query_error("the policy has no query".into()));
        };
        let ctx = engine.session().await.map_err(|e| sql_error(&e))?;
        let plan = ctx.state().statement_to_plan(statement).await.map_err(|e| sql_error(&df_message(&e)))?;
        if matches!(
            plan,
            LogicalPlan::Ddl(_) | LogicalPlan::Dml(_) | LogicalPlan::Copy(_) | LogicalPlan::Statement(_)
        ) {
            return Err(query_error(format!("a policy's query must be a SELECT; it is {}", plan.display())));
        }
        let plan =
            plan.with_param_values(params::param_values(params)).map_err(|e| sql_error(&df_message(&e)))?;
        let df = ctx.execute_logical_plan(plan).await.map_err(|e| sql_error(&df_message(&e)))?;
        df.clone().create_physical_plan().await.map_err(|e| sql_error(&df_message(&e)))?;
        Ok(df)
    }

    /// Runs a prepared policy to the end, whatever happens.
    pub async fn run(&self, prepared: Prepared) -> RunOutcome {
        let Prepared { policy, params, sink, query, engine, mode, notify } = prepared;
        let run_id = new_run_id();
        let mut report = Report::new(&run_id, &policy.name, mode);
        report.description = sink.describe();
        match sink.bytes() {
            Bytes::Reclaimed => {}
            Bytes::Archived => report.summary.bytes_archived = Some(0),
            Bytes::Restored => report.summary.bytes_restored = Some(0),
        }
        report.params = params.iter().map(|(n, v)| (n.clone(), v.json())).collect();
        report.connections = self.engine.connections().aws.iter().map(|c| c.label()).collect();

        let lock = self.lock(&policy.name, &run_id, mode, &mut report).await;
        // Every call checks the lease first, and every entry carries its fence.
        let log = RunLog::new(self.journal.clone(), &run_id, &policy.name, sink.action())
            .with_interrupt(self.interrupt.clone())
            .with_lease(lock.as_ref().and_then(Held::lease_guard));
        let mode_name = if mode == Mode::Apply { "apply" } else { "dry_run" };
        let started = crate::journal::Entry {
            mode: Some(mode_name.into()),
            detail: Some(serde_json::json!({ "params": serde_json::Map::from_iter(report.params.clone()) })),
            ..log.entry("run_started")
        };
        let since = started.ts.clone();
        let mut stopped_now = false;
        if let Err(e) = log.write(&[started]) {
            report.fail(e.to_string());
        } else if report.error.is_none() {
            // A panic in the query, the check or the sink, or a second signal,
            // ends `act` early: what it journaled so far is the report.
            let acting = AssertUnwindSafe(async {
                self.warn_unfinished(&policy.name, &since, &mut report).await;
                crate::act::act(&|s| self.stage(s), &engine, &policy, sink.as_ref(), query, &log, &mut report)
                    .await
            })
            .catch_unwind();
            let cut_short = tokio::select! {
                acted = acting => match acted {
                    Ok(Ok(())) => None,
                    Ok(Err(e)) => {
                        report.fail(e.to_string());
                        None
                    }
                    Err(panic) => Some(CutShort::Panic(panic_message(panic.as_ref()))),
                },
                reason = self.interrupt.stopped_now() => Some(CutShort::StoppedNow(reason)),
            };
            if let Some(cause) = cut_short {
                stopped_now = matches!(cause, CutShort::StoppedNow(_));
                crate::crash::settle(sink.as_ref(), engine.connections(), &log, &mut report, &cause).await;
            }
            self.stage(Stage::Finish);
            if let Some(e) = log.write_error() {
                report.fail(format!("{e} (the journal no longer says what was done; check the targets)"));
            }
        }
        let interrupted = self.interrupt.reason().map(str::to_string);
        if let Some(reason) = interrupted.as_ref().filter(|_| !stopped_now) {
            report.fail(format!(
                "interrupted ({reason}): the call in flight finished, no other was started; \
                 run the policy again to finish"
            ));
        }

        let finished = crate::journal::Entry {
            status: Some(
                serde_json::to_value(report.status)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
            ),
            reason: report.error.clone(),
            detail: serde_json::to_value(&report.summary).ok(),
            ..log.entry(if interrupted.is_some() { "interrupted" } else { "run_finished" })
        };
        // An interrupted run's journal ends with `interrupted`, after its message.
        let (finished, mut journal_error) = match interrupted {
            Some(_) => (Some(finished), None),
            None => (None, log.write(&[finished]).err().map(|e| e.to_string())),
        };
        if let Err(e) = self.journal.flush_team().await {
            report.warnings.push(e.to_string());
        }

        let mut notify_error = None;
        if notify && let Some(notifier) = &self.notifier {
            let result = AssertUnwindSafe(notifier.notify(&report))
                .catch_unwind()
                .await
                .unwrap_or_else(|panic| Err(format!("it panicked: {}", panic_message(panic.as_ref()))));
            let entry = crate::journal::Entry {
                status: Some(if result.is_ok() { "done" } else { "failed" }.into()),
                reason: result.as_ref().err().cloned(),
                detail: Some(serde_json::json!({ "notifier": notifier.name() })),
                ..log.entry("notified")
            };
            if let Err(e) = log.write(&[entry]) {
                journal_error.get_or_insert(e.to_string());
            }
            notify_error = result.err().map(|e| format!("failed to notify {}: {e}", notifier.name()));
        }
        if let Some(finished) = finished
            && let Err(e) = log.write(&[finished])
        {
            journal_error.get_or_insert(e.to_string());
        }
        if let Err(e) = self.journal.flush_team().await {
            report.warnings.push(e.to_string());
        }
        if let Some(lock) = lock
            && let Err(e) = lock.release().await
        {
            report.warnings.push(format!("failed to release the lock: {e}"));
        }
        if let Some(e) = journal_error {
            report.fail(e);
        }
        RunOutcome { report, notify_error }
    }

    /// Takes the policy's lock for an applying run (a dry run takes none);
    /// when it cannot, fails the report with who holds it.
    async fn lock(&self, policy: &str, run_id: &str, mode: Mode, report: &mut Report) -> Option<Held> {
        let locks = self.locks.as_ref().filter(|_| mode == Mode::Apply)?;
        match locks.acquire(policy, &Owner::current(run_id), &self.interrupt).await {
            Ok(held) => Some(held),
            Err(e) => {
                report.fail(e.to_string());
                None
            }
        }
    }

    /// Says in the report when an earlier applying run of the policy never
    /// finished (in the local journal, or any host's in the team table).
    async fn warn_unfinished(&self, policy: &str, since: &str, report: &mut Report) {
        let entries = match self.journal.policy_entries(policy).await {
            Ok(entries) => entries,
            Err(e) => {
                report.warnings.push(format!("could not check earlier runs: {e}"));
                return;
            }
        };
        for run in crate::journal::unfinished_runs(&entries, since) {
            report.warnings.push(format!(
                "an earlier run of this policy, {} (started {}), never finished: it crashed, was killed, \
                 or is still running elsewhere; {} target(s) were attempted without a recorded outcome \
                 (see skyglue_journal WHERE run_id = '{}')",
                run.run_id, run.started, run.unknown, run.run_id
            ));
        }
    }
}

/// Required columns present and text-typed, or a message naming the column.
fn check_columns(query: &DataFrame, sink: &dyn Sink, origin: &str) -> Result<(), PolicyError> {
    let error = |detail: String| PolicyError::Columns { origin: origin.to_string(), detail };
    let schema = query.schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    for column in sink.required_columns() {
        let Some(field) = schema.fields().iter().find(|f| f.name() == column) else {
            return Err(error(format!(
                "action {} needs a column named {column}; the query returns: {}",
                sink.action(),
                names.join(", ")
            )));
        };
        if !matches!(field.data_type(), DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8) {
            return Err(error(format!(
                "column {column} must be text for action {}, but the query returns {}",
                sink.action(),
                field.data_type()
            )));
        }
    }
    if let Some(field) = schema.fields().iter().find(|f| f.name() == KEEP_REASON)
        && !matches!(
            field.data_type(),
            DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8 | DataType::Null
        )
    {
        return Err(error(format!(
            "column {KEEP_REASON} (a kept row's reason; NULL for a target) must be text, \
             but the query returns {}",
            field.data_type()
        )));
    }
    Ok(())
}

/// A run id: UTC time plus randomness from the clock and process.
fn new_run_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let now = chrono::Utc::now();
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(now.timestamp_nanos_opt().unwrap_or_default() as u128);
    h.write_u32(std::process::id());
    format!("{}-{:06x}", now.format("%Y%m%dT%H%M%SZ"), h.finish() & 0xff_ffff)
}
