//! The journal as a history: every run with its status and counts, what each
//! repository (or task definition family, or S3 prefix) reclaimed per run,
//! and the latest failures with their reasons. `skyglue report` renders it as
//! one HTML page ([`History::to_html`]); the same figures are embedded in the
//! page as JSON, so a script or a test can read them back.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::Serialize;
use skyglue_core::sink::{Description, Sink, Target};

use crate::journal::Entry;

mod html;

/// How many failures the history lists, newest first.
pub const FAILURES_SHOWN: usize = 20;

/// Everything the page shows.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct History {
    /// Every run, oldest first.
    pub runs: Vec<RunSummary>,
    /// Per repository (or family, or prefix): what applied runs deleted.
    pub groups: Vec<GroupTotal>,
    /// The latest failures, newest first: failed runs and failed targets.
    pub failures: Vec<Failure>,
}

/// One run.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RunSummary {
    /// The run id.
    pub run_id: String,
    /// The policy's name.
    pub policy: String,
    /// `dry_run` or `apply`.
    pub mode: String,
    /// When it started (RFC 3339).
    pub started: String,
    /// `ok`, `partial`, `failed`, `interrupted`, or `unfinished` (no end in
    /// the journal: still running, or killed).
    pub status: String,
    /// Targets the policy selected.
    pub planned: u64,
    /// Acted on.
    pub done: u64,
    /// Left alone by a guardrail.
    pub skipped: u64,
    /// Failed.
    pub failed: u64,
    /// Bytes freed (applied runs) or that would have been (dry runs).
    pub bytes_reclaimed: i64,
    /// Why the run failed.
    pub error: Option<String>,
    /// The oldest fresh check any of its calls relied on, in seconds (the
    /// intents' `check_age_seconds`); `None` when no call said (a dry run).
    pub oldest_check_seconds: Option<f64>,
    /// What this run deleted, per group.
    pub groups: BTreeMap<String, Reclaimed>,
}

/// Deleted targets and their bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Reclaimed {
    /// Targets done.
    pub done: u64,
    /// Their bytes (when the sink knows sizes: images).
    pub bytes: i64,
}

/// One group over every applied run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GroupTotal {
    /// `account/region/repository`, a family, or `s3://bucket/prefix/`.
    pub group: String,
    /// Runs that deleted something in it.
    pub runs: u64,
    /// Targets deleted.
    pub done: u64,
    /// Bytes reclaimed.
    pub bytes: i64,
}

/// A failed run, or a target that failed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// When (RFC 3339).
    pub ts: String,
    /// The run.
    pub run_id: String,
    /// The policy.
    pub policy: String,
    /// The target, when a target failed (`key=value ...`).
    pub target: Option<String>,
    /// Why.
    pub reason: String,
}

impl History {
    /// The history of `entries` (oldest first, as the journal reads them).
    /// Targets are grouped as the sink of their action describes them
    /// ([`Sink::describe`]); an action none of `sinks` has puts its targets
    /// in group `-`.
    pub fn from_entries(entries: &[Entry], sinks: &[Arc<dyn Sink>]) -> History {
        let described: HashMap<&str, Description> =
            sinks.iter().map(|s| (s.action(), s.describe())).collect();
        let describe =
            |e: &Entry| e.action.as_deref().and_then(|a| described.get(a)).copied().unwrap_or_default();
        let mut runs: Vec<RunSummary> = Vec::new();
        let mut index: HashMap<&str, usize> = HashMap::new();
        let mut sizes: HashMap<(&str, &Target), i64> = HashMap::new();
        let mut failures = Vec::new();
        for e in entries {
            let i = *index.entry(e.run_id.as_str()).or_insert_with(|| {
                runs.push(RunSummary {
                    run_id: e.run_id.clone(),
                    policy: e.policy.clone(),
                    started: e.ts.clone(),
                    status: "unfinished".into(),
                    ..RunSummary::default()
                });
                runs.len() - 1
            });
            let run = &mut runs[i];
            match e.event.as_str() {
                "run_started" => {
                    run.mode = e.mode.clone().unwrap_or_default();
                    run.started.clone_from(&e.ts);
                }
                "intent" => {
                    if let Some(age) = crate::staleness::check_age_of(e) {
                        let age = crate::staleness::seconds(age);
                        run.oldest_check_seconds = Some(run.oldest_check_seconds.map_or(age, |a| a.max(age)));
                    }
                }
                "planned" => {
                    if let (Some(target), Some(bytes)) = (&e.target, bytes_of(e)) {
                        sizes.insert((e.run_id.as_str(), target), bytes);
                    }
                }
                "outcome" => match (e.status.as_deref(), &e.target) {
                    (Some("done"), Some(target)) => {
                        let group = run.groups.entry(describe(e).group_of(target)).or_default();
                        group.done += 1;
                        group.bytes += sizes.get(&(e.run_id.as_str(), target)).copied().unwrap_or(0);
                    }
                    (Some("failed"), target) => failures.push(Failure {
                        ts: e.ts.clone(),
                        run_id: e.run_id.clone(),
                        policy: e.policy.clone(),
                        target: target.as_ref().map(Target::to_string),
                        reason: e.reason.clone().unwrap_or_default(),
                    }),
                    _ => {}
                },
                "run_finished" | "interrupted" => {
                    run.status = match e.event.as_str() {
                        "interrupted" => "interrupted".into(),
                        _ => e.status.clone().unwrap_or_else(|| "unknown".into()),
                    };
                    run.error.clone_from(&e.reason);
                    if let Some(summary) = &e.detail {
                        let n = |k: &str| summary.get(k).and_then(serde_json::Value::as_u64).unwrap_or(0);
                        run.planned = n("planned");
                        run.done = n("done");
                        run.skipped = n("skipped");
                        run.failed = n("failed");
                        run.bytes_reclaimed =
                            summary.get("bytes_reclaimed").and_then(serde_json::Value::as_i64).unwrap_or(0);
                    }
                    if let Some(error) = &e.reason {
                        failures.push(Failure {
                            ts: e.ts.clone(),
                            run_id: e.run_id.clone(),
                            policy: e.policy.clone(),
                            target: None,
                            reason: error.clone(),
                        });
                    }
                }
                _ => {}
            }
        }
        runs.sort_by(|a, b| a.started.cmp(&b.started));
        failures.sort_by(|a, b| b.ts.cmp(&a.ts));
        failures.truncate(FAILURES_SHOWN);
        History { groups: totals(&runs), runs, failures }
    }

    /// The figures as JSON (what the page embeds).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }
}

/// The size a `planned` entry carries (`detail.bytes`).
fn bytes_of(e: &Entry) -> Option<i64> {
    e.detail.as_ref()?.get("bytes")?.as_i64()
}

/// Per group, over the applied runs: most bytes first, then most targets.
fn totals(runs: &[RunSummary]) -> Vec<GroupTotal> {
    let mut totals: BTreeMap<&str, GroupTotal> = BTreeMap::new();
    for run in runs.iter().filter(|r| r.mode == "apply") {
        for (group, r) in &run.groups {
            let t = totals
                .entry(group)
                .or_insert_with(|| GroupTotal { group: group.clone(), ..GroupTotal::default() });
            t.runs += 1;
            t.done += r.done;
            t.bytes += r.bytes;
        }
    }
    let mut out: Vec<GroupTotal> = totals.into_values().collect();
    out.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(b.done.cmp(&a.done)).then(a.group.cmp(&b.group)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(run: &str, event: &str, ts: &str) -> Entry {
        Entry {
            ts: ts.into(),
            run_id: run.into(),
            policy: "ecr-cleanup".into(),
            event: event.into(),
            mode: Some("apply".into()),
            action: Some("delete_ecr_images".into()),
            ..Entry::default()
        }
    }

    #[test]
    fn outcomes_add_up_per_group_with_the_sizes_planned() {
        let image = Target::from_pairs([
            ("account_id", "1"),
            ("region", "r"),
            ("repository_name", "web"),
            ("image_digest", "sha256:a"),
        ]);
        let entries = vec![
            entry("r1", "run_started", "2026-01-01T00:00:00Z"),
            Entry {
                target: Some(image.clone()),
                status: Some("planned".into()),
                detail: Some(serde_json::json!({ "bytes": 1024 })),
                ..entry("r1", "planned", "2026-01-01T00:00:01Z")
            },
            Entry {
                target: Some(image.clone()),
                detail: Some(serde_json::json!({ "check_age_seconds": 61.5 })),
                ..entry("r1", "intent", "2026-01-01T00:00:02Z")
            },
            Entry {
                target: Some(image),
                status: Some("done".into()),
                ..entry("r1", "outcome", "2026-01-01T00:00:02Z")
            },
            Entry {
                status: Some("ok".into()),
                detail: Some(serde_json::json!({ "planned": 1, "done": 1, "bytes_reclaimed": 1024 })),
                ..entry("r1", "run_finished", "2026-01-01T00:00:03Z")
            },
            entry("r2", "run_started", "2026-01-02T00:00:00Z"),
        ];
        let h = History::from_entries(&entries, &skyglue_aws::sinks::all());
        assert_eq!(h.runs.len(), 2);
        assert_eq!((h.runs[0].status.as_str(), h.runs[0].done, h.runs[0].bytes_reclaimed), ("ok", 1, 1024));
        assert_eq!(h.runs[0].oldest_check_seconds, Some(61.5), "the check its call relied on");
        assert_eq!(h.runs[1].status, "unfinished");
        assert_eq!(h.groups, vec![GroupTotal { group: "1/r/web".into(), runs: 1, done: 1, bytes: 1024 }]);
        let unknown: Vec<Entry> =
            entries.into_iter().map(|e| Entry { action: Some("delete_widgets".into()), ..e }).collect();
        let h = History::from_entries(&unknown, &skyglue_aws::sinks::all());
        assert_eq!(h.groups[0].group, "-", "an action no sink has is not guessed at");
    }
}
