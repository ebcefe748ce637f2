//! Sinks: what a policy's rows are fed to. A sink owns two things: the
//! fresh safety check of what it deletes ([`Sink::check`]) and the delete
//! itself ([`Sink::apply`]). The runner calls the check for every sink before
//! anything is acted on, and hands `apply` only the targets the check let
//! through, so a new sink cannot act unchecked: `check` has no default, and a
//! sink that does not write one does not compile.
//!
//! The check resolves each row to exactly one resource (filling in the columns
//! that locate it, such as `account_id` and `region`), skips rows that match
//! nothing or more than one resource, and skips resources still in use, with a
//! reason. `apply` acts on exactly the resolved targets it is given, in the
//! largest batches its API allows, and reports an outcome for every target.
//!
//! Every API call is bracketed by the [`ActionLog`]: intent before, outcome
//! after, so a run killed mid-way leaves a journal that says what was done.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::connection::Connections;
use crate::engine::Engine;
use crate::error::Result;
pub use crate::target_columns::Columns;

mod description;

pub use description::{Column, Description, Form, Group, Noun, Part};

/// One resource to act on, named by the policy row's key columns
/// (`account_id`, `region`, `registry_id`, `repository_name`, `image_digest`,
/// or `task_definition_arn`).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Target {
    /// Column name to value. Shared: a run over 100,000 images hands each
    /// target to its check, its report and its journal, and a clone is a
    /// reference, not another copy of every column ([`Target::set`] writes).
    #[serde(serialize_with = "shared::serialize", deserialize_with = "shared::deserialize")]
    pub columns: Arc<Columns>,
}

/// Serde for the shared columns, as the map they hold (serde's `rc` feature
/// would rebuild every crate that uses serde for this one field).
mod shared {
    use std::sync::Arc;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::Columns;

    pub(super) fn serialize<S: Serializer>(columns: &Arc<Columns>, s: S) -> Result<S::Ok, S::Error> {
        columns.as_ref().serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Arc<Columns>, D::Error> {
        Columns::deserialize(d).map(Arc::new)
    }
}

impl Target {
    /// The value of `column`, if the row had it.
    pub fn get(&self, column: &str) -> Option<&str> {
        self.columns.get(column)
    }

    /// Sets `column` (copying the columns first if another clone shares them).
    pub fn set(&mut self, column: &str, value: impl AsRef<str>) {
        Arc::make_mut(&mut self.columns).insert(column, value.as_ref());
    }

    /// A target from `(column, value)` pairs.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Target { columns: Arc::new(pairs.into_iter().collect()) }
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
    /// Nobody can say: the call's answer was lost (or the run crashed
    /// mid-call) and re-reading the target failed too. Check it by hand.
    Unknown,
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

    /// A target whose fate nobody can tell, and why.
    pub fn unknown(target: Target, reason: impl Into<String>) -> Self {
        Outcome { target, status: Status::Unknown, reason: Some(reason.into()) }
    }

    /// The outcome a re-read ([`Sink::confirm`]) implies for a target whose
    /// call failed or never answered: done when the action took effect,
    /// failed (`still`, e.g. the call's error) when it did not, unknown when
    /// the re-read failed. `why` says why the target was re-read.
    pub fn confirmed(target: Target, presence: &Presence, why: &str, still: &str) -> Self {
        match presence {
            Presence::Gone => {
                Outcome { target, status: Status::Done, reason: Some(format!("{why}; re-read: it is gone")) }
            }
            Presence::Present => Outcome::failed(target, format!("{still}; re-read: it is still there")),
            Presence::Unknown(e) => Outcome::unknown(target, format!("{why}; re-reading it failed: {e}")),
        }
    }
}

/// What a re-read ([`Sink::confirm`]) found about one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presence {
    /// The action took effect: the resource is gone (deleted; for
    /// deregistering, no longer ACTIVE).
    Gone,
    /// The resource is still there, as it was before the action.
    Present,
    /// The re-read failed, and why: nobody can tell.
    Unknown(String),
}

/// What acting on a target does to the bytes [`Checked::bytes`] counts, so
/// reports say "reclaimed" only when storage is freed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Bytes {
    /// Freed: the resource is deleted.
    #[default]
    Reclaimed,
    /// Moved to archive storage (still stored, still restorable).
    Archived,
    /// Moved from archive back to standard storage.
    Restored,
}

/// Where a sink records intents and outcomes around each API call.
#[async_trait]
pub trait ActionLog: Send + Sync {
    /// Before a call: these targets are about to be acted on by `operation`.
    fn intent(&self, operation: &str, targets: &[Target]) -> Result<()>;
    /// After a call: what happened to them.
    fn outcome(&self, operation: &str, outcomes: &[Outcome]) -> Result<()>;
    /// Before each call, ahead of its intent: whether the run may still act
    /// (a policy run checks that its lock is held with time to spare). An
    /// error means no call may be sent: the sink fails the targets it had
    /// left with it. Without a lock to check, always yes.
    async fn may_act(&self) -> Result<()> {
        Ok(())
    }
}

/// What a sink's fresh check decided about the targets it was given.
#[derive(Debug, Default)]
pub struct Checked {
    /// Targets that may be acted on, each resolved to exactly one resource
    /// (its locating columns filled in), in the order they should be acted on.
    pub proceed: Vec<Target>,
    /// Targets left alone, with the reason (in use, gone, ambiguous).
    pub skipped: Vec<Outcome>,
    /// The bytes acting on each `proceed` target frees, where the sink knows.
    pub bytes: HashMap<Target, i64>,
    /// What the check did not look at (sources of "in use" left out of
    /// `[in_use] sources`): every report and message says so, so nobody
    /// assumes an image Kubernetes runs was protected when Kubernetes was
    /// never asked.
    pub not_checked: Vec<String>,
    /// Why the check added a target the query did not select (a referrer
    /// that goes with its image: "referrer of sha256:..."), for every target
    /// it added, going or skipped: the report shows it beside the target and
    /// the runner counts the added targets against `max_deletes`.
    pub notes: HashMap<Target, String>,
}

impl Checked {
    /// Every target may go, unchanged: for sinks whose resources nothing can
    /// be "using" (a check that has nothing to check says so explicitly).
    pub fn all(targets: Vec<Target>) -> Self {
        Checked { proceed: targets, ..Checked::default() }
    }
}

/// An action a policy can take on its rows.
///
/// A sink names its action and the columns it needs, checks its targets fresh
/// before anything is done ([`Sink::check`]), and acts on exactly the targets
/// the check let through, recording an intent before each call and the
/// outcomes after it. This one only prints, and nothing can use what it
/// "deletes":
///
/// ```
/// use std::sync::Arc;
///
/// use skyglue_core::sink::{ActionLog, Checked, Column, Description, Form, Group, Noun, Outcome, Part, Sink, Target};
/// use skyglue_core::{Connections, Engine};
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
///     fn describe(&self) -> Description {
///         const IMAGES: Description = Description {
///             noun: Noun { one: "image", many: "images" },
///             group: Group { prefix: "", parts: &[Part::new("repository_name")] },
///             columns: &[Column::new("image_digest", "digest", Form::Digest)],
///             ..Description::DEFAULT
///         };
///         IMAGES
///     }
///
///     async fn check(&self, _: &Engine, targets: Vec<Target>) -> skyglue_core::Result<Checked> {
///         Ok(Checked::all(targets))
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
///
/// A sink without its check is refused by the compiler:
///
/// ```compile_fail,E0046
/// use std::sync::Arc;
///
/// use skyglue_core::Connections;
/// use skyglue_core::sink::{ActionLog, Outcome, Sink, Target};
///
/// struct Unchecked;
///
/// #[async_trait::async_trait]
/// impl Sink for Unchecked {
///     fn action(&self) -> &str {
///         "delete_unchecked"
///     }
///
///     fn required_columns(&self) -> &[&str] {
///         &["id"]
///     }
///
///     fn describe(&self) -> skyglue_core::sink::Description {
///         skyglue_core::sink::Description::default()
///     }
///
///     async fn apply(&self, _: &Arc<Connections>, t: Vec<Target>, _: &dyn ActionLog) -> Vec<Outcome> {
///         t.into_iter().map(Outcome::done).collect()
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

    /// What its rows are, for reports and messages: the noun, how targets
    /// group, their columns' order and short forms. Reports name no column
    /// of their own; they show what this says.
    fn describe(&self) -> Description;

    /// What acting does to the bytes its check counts: deletes reclaim them.
    fn bytes(&self) -> Bytes {
        Bytes::Reclaimed
    }

    /// The action that undoes this one (`skyglue restore RUN_ID` runs it on
    /// what a run of this action did), if there is one.
    fn undone_by(&self) -> Option<&str> {
        None
    }

    /// The group a resolved target (as [`Sink::check`] let it through) is
    /// acted on and re-checked with: the repository of an image, the family
    /// of a task definition, the bucket of an object. The runner acts group
    /// by group, and re-runs this sink's check on a group's targets right
    /// before its calls when the check it would rely on is older than
    /// `[in_use] max_age_seconds` (bounded staleness). `None`, the default:
    /// the sink's targets are never re-checked (nothing can start using
    /// them between its check and its calls).
    fn recheck_group(&self, target: &Target) -> Option<String> {
        let _ = target;
        None
    }

    /// The fresh, cache-free safety check, run immediately before acting (and
    /// in a dry run, so the plan shows what `--apply` would do): resolves each
    /// target to exactly one resource, and says which may go, which are kept
    /// and why, and the bytes each frees. It reads through
    /// [`Engine::check_session`]: the APIs, never the scan cache, when acting;
    /// in a dry run, what the run's own query has just read (see
    /// [`Engine::for_dry_run`]). An error (an API that failed, a source that
    /// could not be read) fails the run: when unsure, nothing is deleted.
    async fn check(&self, engine: &Engine, targets: Vec<Target>) -> Result<Checked>;

    /// Acts on `targets` (only ones [`Sink::check`] let through), logging
    /// around every call, and returns one outcome per target. A failure of one
    /// batch does not stop the others.
    async fn apply(
        &self,
        connections: &Arc<Connections>,
        targets: Vec<Target>,
        log: &dyn ActionLog,
    ) -> Vec<Outcome>;

    /// Re-reads `targets` (resolved ones, as [`Sink::apply`] got them) to
    /// learn whether the action took effect, one [`Presence`] per target in
    /// the same order. The runner calls it for every target whose intent was
    /// journaled without an outcome when a run crashed (a panic), so the
    /// journal and report say done, failed or unknown instead of nothing.
    /// Sinks also use their own to judge a call that failed after its retries
    /// (its answer may have been lost after the action took effect).
    ///
    /// Reads the APIs, never a cache. The default knows nothing: every target
    /// is [`Presence::Unknown`]; a sink that can look its resources up should
    /// override it.
    async fn confirm(&self, connections: &Arc<Connections>, targets: &[Target]) -> Vec<Presence> {
        let _ = connections;
        let reason = format!("the {} action cannot re-read its targets", self.action());
        targets.iter().map(|_| Presence::Unknown(reason.clone())).collect()
    }
}
