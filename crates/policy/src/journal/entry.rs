//! [`Entry`]: one journal line, as written to the file and the team table,
//! and the names its statuses are written with.

use serde::{Deserialize, Serialize};
use skyglue_core::sink::Target;

/// One journal line.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// When, RFC 3339 UTC.
    pub ts: String,
    /// The run.
    pub run_id: String,
    /// The policy's name.
    pub policy: String,
    /// `run_started`, `planned`, `intent`, `outcome`, `run_finished`,
    /// `notified`; or `interrupted`, the last entry of a run that was stopped.
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
    /// `planned`, `done`, `skipped`, `failed`, `unknown`; or a run's status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Anything else (parameters, summary), as JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<serde_json::Value>,
    /// The fence number of the team-table lease the run held when this was
    /// written (see [`crate::lock::dynamodb`]): a later holder's is higher.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fence: Option<u64>,
}

/// The JSON name of a status.
pub fn status_name(s: skyglue_core::sink::Status) -> &'static str {
    use skyglue_core::sink::Status;
    match s {
        Status::Planned => "planned",
        Status::Done => "done",
        Status::Skipped => "skipped",
        Status::Failed => "failed",
        Status::Unknown => "unknown",
    }
}

/// The key of an intent's `detail` that says how old the check was that its
/// call relied on, in seconds.
pub const CHECK_AGE: &str = "check_age_seconds";

/// How old the check was that an intent's call relied on, when it says.
pub fn check_age_of(entry: &Entry) -> Option<std::time::Duration> {
    let seconds = entry.detail.as_ref()?.get(CHECK_AGE)?.as_f64()?;
    std::time::Duration::try_from_secs_f64(seconds).ok()
}

/// A duration as seconds with millisecond precision, as the journal and the
/// reports write a check's age.
pub fn seconds(age: std::time::Duration) -> f64 {
    (age.as_secs_f64() * 1000.0).round() / 1000.0
}
