//! [`RunLog`]: one run's view of the journal, and the sinks'
//! [`ActionLog`]: the intent before each call, the outcome after it, the
//! run's progress record kept in step, and no new intent once the run is
//! interrupted or its lease is lost.

use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use skyglue_core::sink::{ActionLog, Outcome, Target};

use super::{Entry, Journal, status_name};
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::lock::dynamodb::LeaseGuard;
use crate::progress::Progress;

/// A run's view of the journal: fills in the run id and policy, and
/// implements the sinks' [`ActionLog`].
///
/// It remembers the first failed write of an intent or outcome
/// ([`RunLog::write_error`]): a sink cannot act on that failure, the runner
/// fails the run with it. Once its [`Interrupt`] is raised it refuses every
/// new intent, so each sink stops before its next call.
#[derive(Debug, Clone)]
pub struct RunLog {
    journal: Arc<Journal>,
    run_id: String,
    policy: String,
    action: String,
    interrupt: Interrupt,
    lease: Option<LeaseGuard>,
    write_error: Arc<OnceLock<String>>,
    progress: Arc<Progress>,
    checked_at: Option<std::time::Instant>,
}

impl RunLog {
    /// A log for one run.
    pub fn new(journal: Arc<Journal>, run_id: &str, policy: &str, action: &str) -> Self {
        Self {
            journal,
            run_id: run_id.into(),
            policy: policy.into(),
            action: action.into(),
            interrupt: Interrupt::default(),
            lease: None,
            write_error: Arc::default(),
            progress: Arc::default(),
            checked_at: None,
        }
    }

    /// The same log, for calls that rely on a check that started at
    /// `checked_at`: each intent says how old that check was when it was
    /// written (`detail.check_age_seconds`; see [`crate::journal::check_age_of`]).
    pub fn relying_on_check(&self, checked_at: std::time::Instant) -> Self {
        Self { checked_at: Some(checked_at), ..self.clone() }
    }

    /// Checks `lease` before each call ([`ActionLog::may_act`]) and stamps
    /// every entry with its fence number. A lease that no longer holds with
    /// time to spare raises the interrupt: no call is sent after it.
    pub fn with_lease(mut self, lease: Option<LeaseGuard>) -> Self {
        self.lease = lease;
        self
    }

    /// What this log has journaled of the run's targets so far (see
    /// [`crate::progress`]): what is left to report from when the run is
    /// cut short.
    pub fn progress(&self) -> &Progress {
        &self.progress
    }

    /// Refuses new intents once `interrupt` is raised.
    pub fn with_interrupt(mut self, interrupt: Interrupt) -> Self {
        self.interrupt = interrupt;
        self
    }

    /// The first intent or outcome that could not be written, if any: the
    /// journal no longer says what happened, so the run must fail with it.
    pub fn write_error(&self) -> Option<&str> {
        self.write_error.get().map(String::as_str)
    }

    /// Writes and remembers the first failure.
    fn write_remembered(&self, entries: &[Entry]) -> Result<()> {
        self.write(entries).inspect_err(|e| {
            let _ = self.write_error.set(e.to_string());
        })
    }

    /// An entry of this run, stamped now.
    pub fn entry(&self, event: &str) -> Entry {
        Entry {
            ts: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            run_id: self.run_id.clone(),
            policy: self.policy.clone(),
            event: event.into(),
            action: Some(self.action.clone()),
            fence: self.lease.as_ref().map(LeaseGuard::fence),
            ..Entry::default()
        }
    }

    /// Appends entries, and keeps the run's progress record in step: an
    /// intent that could not be written is not in flight (the sink does not
    /// call without it); anything else counts even when unwritten.
    pub fn write(&self, entries: &[Entry]) -> Result<()> {
        let written = self.journal.append(entries);
        if written.is_ok() {
            self.progress.record(entries);
        } else {
            let kept: Vec<Entry> = entries.iter().filter(|e| e.event != "intent").cloned().collect();
            self.progress.record(&kept);
        }
        written
    }
}

#[async_trait]
impl ActionLog for RunLog {
    async fn may_act(&self) -> skyglue_core::Result<()> {
        if let Some(reason) = self.interrupt.reason() {
            return Err(Error::Interrupted(reason.into()).into());
        }
        if let Some(lease) = &self.lease
            && let Err(reason) = lease.verify().await
        {
            self.interrupt.raise(reason.clone());
            return Err(Error::Interrupted(reason).into());
        }
        Ok(())
    }

    fn intent(&self, operation: &str, targets: &[Target]) -> skyglue_core::Result<()> {
        if let Some(reason) = self.interrupt.reason() {
            return Err(Error::Interrupted(reason.into()).into());
        }
        let age = self.checked_at.map(|at| at.elapsed());
        let entries: Vec<Entry> = targets
            .iter()
            .map(|t| Entry {
                operation: Some(operation.into()),
                target: Some(t.clone()),
                detail: age.map(
                    |age| serde_json::json!({ crate::journal::CHECK_AGE: crate::journal::seconds(age) }),
                ),
                ..self.entry("intent")
            })
            .collect();
        Ok(self.write_remembered(&entries)?)
    }

    fn outcome(&self, operation: &str, outcomes: &[Outcome]) -> skyglue_core::Result<()> {
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
        Ok(self.write_remembered(&entries)?)
    }
}
