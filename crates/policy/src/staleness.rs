//! Bounded staleness: an applying run acts group by group, and no group's
//! calls rely on a check older than `[in_use] max_age_seconds`.
//!
//! The sink's fresh check reads what is in use once, before anything is
//! done; at 90,000 targets the last delete comes minutes later, and a task
//! may have started on an image in between. So the targets the check let
//! through are split by [`Sink::recheck_group`] (an image's repository, a
//! task definition's family, an object's bucket) and acted on a few groups
//! at a time, in the check's order: up to [`GROUPS_AT_ONCE`] groups per
//! call of [`Sink::apply`], which works on them concurrently as before.
//! Right before each such call, when the check its groups would rely on is
//! older than the maximum age (0: always), the sink's check runs again on
//! exactly those groups' targets, on a cache-free session, and the call gets
//! only what the re-check approves *unchanged*: a target it keeps (in use
//! now, changed, gone) is skipped with the re-check's reason, and one it
//! would add or alter is not acted on. A re-check can only take targets
//! away, so `@max_deletes`, counted before anything was checked, still
//! bounds the run. A re-check that fails keeps this group and every later
//! one (skipped, saying why) and fails the run: when unsure, nothing more is
//! deleted.
//!
//! Each call's intents say how old the check was that it relied on
//! (`check_age_seconds`), so the report, the journal and the history page
//! can say it. A sink without groups (`None`) is acted on in one call and
//! never re-checked; a dry run acts on nothing and re-checks nothing.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use skyglue_core::sink::{ActionLog, Checked, Outcome, Sink, Target};
use skyglue_core::table::DEFAULT_CONCURRENCY;
use skyglue_core::{Engine, Error};

use crate::journal::RunLog;

/// How many groups one call of [`Sink::apply`] gets: as many as the sinks
/// work on at once, so a wave of groups starts together right after the
/// check it relies on.
pub const GROUPS_AT_ONCE: usize = DEFAULT_CONCURRENCY;

/// The operation the journal files a re-check's skips under (no API call
/// was made for them: the re-check kept them).
pub const RECHECK: &str = "skyglue:recheck";

pub use crate::journal::{CHECK_AGE, check_age_of, seconds};

/// What acting did: one outcome per target, and an error that fails the run
/// (a re-check that could not read).
#[derive(Debug, Default)]
pub(crate) struct Acted {
    pub(crate) outcomes: Vec<Outcome>,
    pub(crate) error: Option<String>,
}

/// Acts on `targets` (what the check that started at `checked_at` let
/// through) group by group, re-checking a wave of groups first when that
/// check has grown older than `[in_use] max_age_seconds`.
pub(crate) async fn apply(
    engine: &Engine,
    sink: &dyn Sink,
    targets: Vec<Target>,
    checked_at: Instant,
    log: &RunLog,
) -> Acted {
    let max_age = engine.connections().in_use.max_age();
    let mut acted = Acted::default();
    let mut waves = waves(sink, targets).into_iter();
    while let Some(Wave { targets, regrouped }) = waves.next() {
        // A run that may no longer act reads nothing more: the sink fails
        // the targets "not attempted" with the reason, as before.
        let stale = regrouped && checked_at.elapsed() >= max_age && log.may_act().await.is_ok();
        let (targets, relied_on) = if stale {
            let rechecked_at = Instant::now();
            match recheck(engine, sink, targets).await {
                Ok((going, kept)) => {
                    journal_skips(log, &kept);
                    acted.outcomes.extend(kept);
                    (going, rechecked_at)
                }
                Err((e, targets)) => {
                    let reason =
                        format!("not attempted: the re-check before acting on its group failed: {e}");
                    let left: Vec<Outcome> = targets
                        .into_iter()
                        .chain(waves.by_ref().flat_map(|w| w.targets))
                        .map(|t| Outcome::skipped(t, reason.clone()))
                        .collect();
                    journal_skips(log, &left);
                    acted.outcomes.extend(left);
                    acted.error = Some(format!(
                        "the re-check of what is in use before acting failed, so nothing more was done: {e}"
                    ));
                    break;
                }
            }
        } else {
            (targets, checked_at)
        };
        if !targets.is_empty() {
            let log = log.relying_on_check(relied_on);
            acted.outcomes.extend(sink.apply(engine.connections(), targets, &log).await);
        }
    }
    acted
}

/// The targets of one call of [`Sink::apply`]: up to [`GROUPS_AT_ONCE`]
/// groups, or every target of a sink without groups.
#[derive(Debug, PartialEq)]
struct Wave {
    targets: Vec<Target>,
    /// Whether its targets have groups (and so may be re-checked).
    regrouped: bool,
}

/// `targets` split into waves of whole groups, groups in the order of their
/// first target and targets in their order within each group (the check's
/// order: an image index before its children). Targets without a group go
/// last, in one wave that is never re-checked.
fn waves(sink: &dyn Sink, targets: Vec<Target>) -> Vec<Wave> {
    let mut groups: Vec<Vec<Target>> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut ungrouped = Vec::new();
    for target in targets {
        match sink.recheck_group(&target) {
            Some(key) => {
                let g = *index.entry(key).or_insert_with(|| {
                    groups.push(Vec::new());
                    groups.len() - 1
                });
                groups[g].push(target);
            }
            None => ungrouped.push(target),
        }
    }
    let mut waves: Vec<Wave> = Vec::new();
    let mut groups = groups.into_iter().peekable();
    while groups.peek().is_some() {
        let targets = groups.by_ref().take(GROUPS_AT_ONCE).flatten().collect();
        waves.push(Wave { targets, regrouped: true });
    }
    if !ungrouped.is_empty() {
        waves.push(Wave { targets: ungrouped, regrouped: false });
    }
    waves
}

/// Runs the sink's check again on `targets` (resolved ones, all approved by
/// the check before): those it approves unchanged go, the rest are skipped
/// with its reason. On failure, the error and the targets back.
async fn recheck(
    engine: &Engine,
    sink: &dyn Sink,
    targets: Vec<Target>,
) -> Result<(Vec<Target>, Vec<Outcome>), (Error, Vec<Target>)> {
    let checked = match sink.check(engine, targets.clone()).await {
        Ok(checked) => resolved_only(checked, sink),
        Err(e) => return Err((e, targets)),
    };
    let again: HashSet<&Target> = checked.proceed.iter().collect();
    let reasons: HashMap<&Target, &str> =
        checked.skipped.iter().filter_map(|o| Some((&o.target, o.reason.as_deref()?))).collect();
    let (going, kept): (Vec<Target>, Vec<Target>) = targets.into_iter().partition(|t| again.contains(t));
    let kept = kept
        .into_iter()
        .map(|t| {
            let why = reasons.get(&t).copied().unwrap_or("it no longer resolves to what was checked");
            let reason = format!("re-checked right before acting: {why}");
            Outcome::skipped(t, reason)
        })
        .collect();
    Ok((going, kept))
}

/// Journals targets a re-check (or its failure) kept as outcomes without an
/// intent: no call was made. A failed write is remembered by the log and
/// fails the run.
fn journal_skips(log: &RunLog, skipped: &[Outcome]) {
    if !skipped.is_empty() {
        let _ = log.outcome(RECHECK, skipped);
    }
}

/// The check's `proceed` list, minus any target that lost a required column
/// on the way (a sink's check must hand back whole rows; one that does not is
/// a bug, and its targets are skipped rather than acted on half-named).
pub(crate) fn resolved_only(mut checked: Checked, sink: &dyn Sink) -> Checked {
    let (whole, broken): (Vec<Target>, Vec<Target>) = std::mem::take(&mut checked.proceed)
        .into_iter()
        .partition(|t| sink.required_columns().iter().all(|c| t.get(c).is_some()));
    checked.proceed = whole;
    checked.skipped.extend(
        broken
            .into_iter()
            .map(|t| Outcome::skipped(t, "the check returned the target without its key columns")),
    );
    checked
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use async_trait::async_trait;
    use skyglue_core::Connections;
    use skyglue_core::sink::Checked;

    use super::*;

    /// Groups by the `repo` column; `None` for a target without one.
    struct ByRepo;

    #[async_trait]
    impl Sink for ByRepo {
        fn action(&self) -> &str {
            "delete_things"
        }

        fn required_columns(&self) -> &[&str] {
            &["id"]
        }

        fn describe(&self) -> skyglue_core::sink::Description {
            skyglue_core::sink::Description::default()
        }

        fn recheck_group(&self, target: &Target) -> Option<String> {
            target.get("repo").map(str::to_string)
        }

        async fn check(&self, _: &Engine, targets: Vec<Target>) -> skyglue_core::Result<Checked> {
            Ok(Checked::all(targets))
        }

        async fn apply(&self, _: &Arc<Connections>, t: Vec<Target>, _: &dyn ActionLog) -> Vec<Outcome> {
            t.into_iter().map(Outcome::done).collect()
        }
    }

    fn t(repo: &str, id: &str) -> Target {
        if repo.is_empty() {
            Target::from_pairs([("id", id)])
        } else {
            Target::from_pairs([("repo", repo), ("id", id)])
        }
    }

    fn ids(wave: &Wave) -> Vec<&str> {
        wave.targets.iter().filter_map(|t| t.get("id")).collect()
    }

    #[test]
    fn waves_hold_whole_groups_in_the_checks_order_and_ungrouped_targets_last() {
        let mut targets = vec![t("a", "index"), t("b", "b1"), t("", "loose"), t("a", "child")];
        // enough groups for a second wave
        targets.extend((0..GROUPS_AT_ONCE).map(|n| t(&format!("r{n}"), &format!("x{n}"))));
        let waves = waves(&ByRepo, targets);
        assert_eq!(waves.len(), 3);
        assert_eq!(&ids(&waves[0])[..3], ["index", "child", "b1"], "a group's order is kept");
        assert_eq!(waves[0].targets.len(), GROUPS_AT_ONCE + 1, "{GROUPS_AT_ONCE} groups, `a` has two");
        assert_eq!(ids(&waves[1]), [format!("x{}", GROUPS_AT_ONCE - 2), format!("x{}", GROUPS_AT_ONCE - 1)]);
        assert!(waves[0].regrouped && waves[1].regrouped);
        assert_eq!((ids(&waves[2]), waves[2].regrouped), (vec!["loose"], false));
    }
}
