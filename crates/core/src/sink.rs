//! Sinks: what a policy's rows are fed to. A sink acts on exactly the targets
//! it is given, in the largest batches its API allows, and reports an outcome
//! for every target; it never decides what to delete.
//!
//! Every API call is bracketed by the [`ActionLog`]: intent before, outcome
//! after, so a run killed mid-way leaves a journal that says what was done.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::connection::Connections;
use crate::error::Result;

/// One resource to act on, named by the policy row's key columns
/// (`account_id`, `region`, `registry_id`, `repository_name`, `image_digest`,
/// or `task_definition_arn`).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Target {
    /// Column name to value.
    pub columns: BTreeMap<String, String>,
}

impl Target {
    /// The value of `column`, if the row had it.
    pub fn get(&self, column: &str) -> Option<&str> {
        self.columns.get(column).map(String::as_str)
    }

    /// A target from `(column, value)` pairs.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Target { columns: pairs.into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect() }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.columns.iter().map(|(k, v)| format!("{k}={v}")).collect();
        write!(f, "{}", parts.join(" "))
    }
}

/// What happened to one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Would be acted on (dry run).
    Planned,
    /// Acted on.
    Done,
    /// Deliberately left alone (in use, say).
    Skipped,
    /// The API refused or the call failed.
    Failed,
}

/// The outcome for one target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// The target.
    pub target: Target,
    /// What happened.
    pub status: Status,
    /// Why, when skipped or failed.
    pub reason: Option<String>,
}

impl Outcome {
    /// A target acted on.
    pub fn done(target: Target) -> Self {
        Outcome { target, status: Status::Done, reason: None }
    }

    /// A target that failed, and why.
    pub fn failed(target: Target, reason: impl Into<String>) -> Self {
        Outcome { target, status: Status::Failed, reason: Some(reason.into()) }
    }

    /// A target left alone, and why.
    pub fn skipped(target: Target, reason: impl Into<String>) -> Self {
        Outcome { target, status: Status::Skipped, reason: Some(reason.into()) }
    }
}

/// Where a sink records intents and outcomes around each API call.
pub trait ActionLog: Send + Sync {
    /// Before a call: these targets are about to be acted on by `operation`.
    fn intent(&self, operation: &str, targets: &[Target]) -> Result<()>;
    /// After a call: what happened to them.
    fn outcome(&self, operation: &str, outcomes: &[Outcome]) -> Result<()>;
}

/// An action a policy can take on its rows.
///
/// A sink names its action and the columns it needs, and acts on exactly the
/// targets it is given, recording an intent before each call and the outcomes
/// after it. This one only prints:
///
/// ```
/// use std::sync::Arc;
///
/// use skyglue_core::Connections;
/// use skyglue_core::sink::{ActionLog, Outcome, Sink, Target};
///
/// struct PrintImages;
///
/// #[async_trait::async_trait]
/// impl Sink for PrintImages {
///     fn action(&self) -> &str {
///         "print_ecr_images"
///     }
///
///     fn required_columns(&self) -> &[&str] {
///         &["repository_name", "image_digest"]
///     }
///
///     async fn apply(
///         &self,
///         _: &Arc<Connections>,
///         targets: Vec<Target>,
///         log: &dyn ActionLog,
///     ) -> Vec<Outcome> {
///         if let Err(e) = log.intent("print", &targets) {
///             return targets.into_iter().map(|t| Outcome::failed(t, e.to_string())).collect();
///         }
///         let outcomes: Vec<Outcome> =
///             targets.into_iter().inspect(|t| println!("{t}")).map(Outcome::done).collect();
///         let _ = log.outcome("print", &outcomes);
///         outcomes
///     }
/// }
/// ```
#[async_trait]
pub trait Sink: Send + Sync {
    /// The action's name as policies write it (`delete_ecr_images`).
    fn action(&self) -> &str;

    /// Columns every row must have.
    fn required_columns(&self) -> &[&str];

    /// Columns used when present (to pick the connection, say).
    fn optional_columns(&self) -> &[&str] {
        &[]
    }

    /// Acts on `targets`, logging around every call, and returns one outcome
    /// per target. A failure of one batch does not stop the others.
    async fn apply(
        &self,
        connections: &Arc<Connections>,
        targets: Vec<Target>,
        log: &dyn ActionLog,
    ) -> Vec<Outcome>;
}
