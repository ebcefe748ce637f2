//! The run report: JSON for schedulers (the contract in DESIGN.md), text for
//! people. It is produced for every run that got past validation, failed runs
//! included, so a scheduler can always parse it.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use serde::Serialize;
use skyglue_core::sink::{Description, Outcome, Status, Target};

use crate::rows::Details;

mod text;

/// `dry_run` or `apply`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Nothing is changed.
    DryRun,
    /// The sink acts.
    Apply,
}

/// `ok`, `partial` or `failed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Everything planned was done (or would be, in a dry run).
    Ok,
    /// Some actions failed, others were done.
    Partial,
    /// The run failed, or every action did.
    Failed,
}

/// Counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Targets the policy selected.
    pub planned: usize,
    /// Acted on.
    pub done: usize,
    /// Left alone by a guardrail.
    pub skipped: usize,
    /// Failed.
    pub failed: usize,
    /// Nobody can tell whether the action took effect (its call's answer was
    /// lost, or the run crashed mid-call, and re-reading the target failed):
    /// counted apart from `failed`, and the run is not `ok`.
    pub unknown: usize,
    /// Bytes freed (apply) or that would be freed (dry run), for image deletes.
    pub bytes_reclaimed: i64,
    /// Bytes moved (or that would be) to archive storage: only in the JSON of
    /// runs whose action archives (`archive_ecr_images`), which reclaim nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes_archived: Option<i64>,
    /// Bytes moved (or that would be) from the archive back to standard
    /// storage: only in the JSON of restore runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes_restored: Option<i64>,
}

impl Summary {
    /// What the run did to its bytes and how many, for people: `("reclaimed",
    /// n)`, `("would move to the archive", n)`, `("restored", n)`...
    pub fn bytes_words(&self, mode: Mode) -> (&'static str, i64) {
        let dry = mode == Mode::DryRun;
        match (self.bytes_archived, self.bytes_restored) {
            (Some(n), _) => (if dry { "would move to the archive" } else { "moved to the archive" }, n),
            (_, Some(n)) => {
                (if dry { "would restore from the archive" } else { "restored from the archive" }, n)
            }
            _ => (if dry { "would reclaim" } else { "reclaimed" }, self.bytes_reclaimed),
        }
    }
}

/// One action in the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionReport {
    /// The policy's action.
    pub action: String,
    /// The key columns of the target.
    pub target: Target,
    /// What happened.
    pub status: Status,
    /// Why, when skipped or failed.
    pub reason: Option<String>,
    /// How old the fresh check was (from its start) when the call that
    /// acted on this target was sent: the first check's age, or the age of
    /// the re-check that ran right before its group (`[in_use]
    /// max_age_seconds`). In the JSON as seconds (`check_age_seconds`, to the
    /// millisecond), only for targets a call was sent for.
    #[serde(
        rename = "check_age_seconds",
        serialize_with = "age_seconds",
        skip_serializing_if = "Option::is_none"
    )]
    pub check_age: Option<Duration>,
}

fn age_seconds<S: serde::Serializer>(age: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match age {
        Some(age) => s.serialize_f64(crate::journal::seconds(*age)),
        None => s.serialize_none(),
    }
}

/// The report of one run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Unique per run; also in the journal.
    pub run_id: String,
    /// The policy's name.
    pub policy: String,
    /// Dry run or apply.
    pub mode: Mode,
    /// Overall status.
    pub status: RunStatus,
    /// What failed, when the run failed.
    pub error: Option<String>,
    /// Counts.
    pub summary: Summary,
    /// Every target and what happened to it.
    pub actions: Vec<ActionReport>,
    /// What the run noticed without failing: an earlier run of the policy
    /// that never finished, a journal copy that could not be written.
    /// Absent from the JSON when there is none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Sources of "in use" the check did not read (`[in_use] sources`), so
    /// what they use was not protected. Absent from the JSON when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_checked: Vec<String>,
    /// Accounts and regions the run covered (`account/region`).
    #[serde(skip)]
    pub connections: Vec<String>,
    /// Parameters the run used.
    #[serde(skip)]
    pub params: Vec<(String, serde_json::Value)>,
    /// What the text report shows beside the targets: the policy's other
    /// columns, and the rows it kept and why (not in the JSON).
    #[serde(skip)]
    pub details: Details,
    /// What the targets are ([`Sink::describe`](skyglue_core::sink::Sink::describe)):
    /// how the text report groups them and how the message words them.
    /// The runner sets it from its sink; without one, neutral "targets".
    #[serde(skip)]
    pub description: Description,
}

impl Report {
    /// A report with no actions yet.
    pub fn new(run_id: &str, policy: &str, mode: Mode) -> Self {
        Report {
            run_id: run_id.into(),
            policy: policy.into(),
            mode,
            status: RunStatus::Ok,
            error: None,
            summary: Summary::default(),
            actions: vec![],
            warnings: vec![],
            not_checked: vec![],
            connections: vec![],
            params: vec![],
            details: Details::default(),
            description: Description::default(),
        }
    }

    /// Marks the run failed with `error`.
    pub fn fail(&mut self, error: impl Into<String>) {
        self.status = RunStatus::Failed;
        self.error = Some(error.into());
    }

    /// Records outcomes and recomputes counts and status.
    pub fn set_outcomes(&mut self, action: &str, outcomes: Vec<Outcome>) {
        self.actions = outcomes
            .into_iter()
            .map(|o| ActionReport {
                action: action.into(),
                target: o.target,
                status: o.status,
                reason: o.reason,
                check_age: None,
            })
            .collect();
        let count = |s: Status| self.actions.iter().filter(|a| a.status == s).count();
        self.summary.done = count(Status::Done);
        self.summary.skipped = count(Status::Skipped);
        self.summary.failed = count(Status::Failed);
        self.summary.unknown = count(Status::Unknown);
        if self.error.is_none() {
            self.status = match (self.summary.failed + self.summary.unknown, self.summary.done) {
                (0, _) => RunStatus::Ok,
                (_, 0) if self.mode == Mode::Apply => RunStatus::Failed,
                _ => RunStatus::Partial,
            };
        }
    }

    /// Says, for each action a call was sent for, how old the check was that
    /// the call relied on (see [`ActionReport::check_age`]).
    pub fn set_check_ages(&mut self, ages: &HashMap<Target, Duration>) {
        for action in &mut self.actions {
            action.check_age = ages.get(&action.target).copied();
        }
    }

    /// The oldest check any call of the run relied on.
    pub fn oldest_check(&self) -> Option<Duration> {
        self.actions.iter().filter_map(|a| a.check_age).max()
    }

    /// The process exit code for this report: 0 ok, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        if self.status == RunStatus::Ok { 0 } else { 1 }
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    /// Per group (see [`Description::group_of`]): how many targets, and how
    /// many were (or would be) acted on.
    pub fn per_group(&self) -> BTreeMap<String, (usize, usize)> {
        let mut groups: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        for a in &self.actions {
            let entry = groups.entry(self.description.group_of(&a.target)).or_default();
            entry.0 += 1;
            if matches!(a.status, Status::Done | Status::Planned) {
                entry.1 += 1;
            }
        }
        groups
    }

    /// "not checked: ..." when sources of "in use" were left out, for every
    /// rendering of the report. The task definition check also names what
    /// skyglue never reads (`step_functions`).
    pub fn not_checked_line(&self) -> Option<String> {
        (!self.not_checked.is_empty()).then(|| {
            let why = if self.not_checked.iter().any(|s| s == skyglue_core::config::STEP_FUNCTIONS) {
                "skyglue reads no Step Functions state machines, and the others are not in [in_use] \
                 sources; what only they use was not protected"
            } else {
                "not in [in_use] sources; images only they use were not protected"
            };
            format!("not checked: {} ({why})", self.not_checked.join(", "))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_has_the_documented_shape() {
        let mut r = Report::new("r1", "p", Mode::Apply);
        r.summary.planned = 2;
        r.set_outcomes(
            "delete_ecr_images",
            vec![
                Outcome::done(Target::from_pairs([("image_digest", "sha256:a")])),
                Outcome::failed(Target::from_pairs([("image_digest", "sha256:b")]), "ImageNotFound"),
            ],
        );
        let v: serde_json::Value = serde_json::from_str(&r.to_json()).expect("json");
        assert_eq!(v["mode"], "apply");
        assert_eq!(v["status"], "partial");
        assert_eq!(v["error"], serde_json::Value::Null);
        assert_eq!(v["summary"]["done"], 1);
        assert_eq!(v["summary"]["failed"], 1);
        assert_eq!(v["actions"][1]["target"]["image_digest"], "sha256:b");
        assert_eq!(v["actions"][1]["status"], "failed");
        assert_eq!(v["actions"][1]["reason"], "ImageNotFound");
        let keys: Vec<&String> = v.as_object().expect("object").keys().collect();
        assert_eq!(keys.len(), 7, "{keys:?}");
    }

    #[test]
    fn reports_group_and_count_as_the_sink_describes() {
        use skyglue_core::sink::{Group, Noun, Part};

        const WIDGETS: Description = Description {
            noun: Noun { one: "widget", many: "widgets" },
            group: Group { prefix: "shelf ", parts: &[Part::new("shelf"), Part::or_dash("bin")] },
            ..Description::DEFAULT
        };
        let mut r = Report::new("r1", "p", Mode::DryRun);
        r.description = WIDGETS;
        let widget = |shelf, bin| Target::from_pairs([("shelf", shelf), ("bin", bin), ("id", "w")]);
        r.set_outcomes(
            "drop_widgets",
            vec![
                Outcome { target: widget("a", "1"), status: Status::Planned, reason: None },
                Outcome { target: widget("a", "2"), status: Status::Planned, reason: None },
                Outcome::skipped(widget("b", "1"), "glued"),
            ],
        );
        let text = r.to_text();
        assert!(text.contains("shelf a/1: would drop 1 of 1"), "{text}");
        assert!(text.contains("shelf b/1: would drop 0 of 1, 1 skipped"), "{text}");
        let groups: Vec<(String, (usize, usize))> = r.per_group().into_iter().collect();
        assert_eq!(
            groups,
            [("shelf a/1".into(), (1, 1)), ("shelf a/2".into(), (1, 1)), ("shelf b/1".into(), (1, 0))]
        );
        r.description = Description::default();
        assert_eq!(r.per_group().into_keys().collect::<Vec<_>>(), ["-"], "no description, no guess");
    }

    #[test]
    fn the_text_report_escapes_control_characters() {
        let mut r = Report::new("r1", "p", Mode::Apply);
        let key = "builds/\u{1b}]0;owned\u{7}x";
        r.description = skyglue_aws::descriptions::OBJECTS;
        r.set_outcomes(
            "delete_s3_objects",
            vec![Outcome::failed(Target::from_pairs([("bucket_name", "b"), ("key", key)]), "bad\rreason")],
        );
        r.fail("S3 said \u{1b}[2J");
        let text = r.to_text_styled(true);
        let raw: Vec<&str> = text.split('\u{1b}').skip(1).collect();
        assert!(raw.iter().all(|after| after.starts_with('[')), "only our own colour codes: {text:?}");
        assert!(!text.contains('\r') && !text.contains('\u{7}'), "{text:?}");
        assert!(text.contains("S3 said \\u{1b}[2J"), "{text}");
    }
}
