//! The stages of a run, for whoever watches one: the benchmark splits a
//! run's calls, wall time and memory by them.

use std::sync::Arc;

/// A stage of [`crate::Runner::run`], reported as it begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The policy's query runs (GitHub lookups included).
    Query,
    /// The sink's check decides what may go.
    Guardrail,
    /// The sink acts (in a dry run, nothing is sent).
    Act,
    /// Acting is over: the journal's last entries, the notification.
    Finish,
}

/// Called at the start of each stage, on the run's task: keep it quick.
pub type StageObserver = Arc<dyn Fn(Stage) + Send + Sync>;
