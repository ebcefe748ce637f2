//! The fresh check of `deregister_ecs_task_definitions` and
//! `delete_ecs_task_definitions`, run on a cache-free session immediately
//! before acting (and in a dry run, on what the run's query has just read:
//! `Engine::check_session`):
//!
//! 1. **Resolve.** A row names a revision by full ARN or as `family:revision`
//!    with its `account_id` and `region`; a short name without them is looked
//!    up in every connection and must exist in exactly one, else it is skipped
//!    as ambiguous (or gone). The resolved target carries the full ARN, its
//!    `account_id` and `region`, and the sink acts exactly there.
//! 2. **In use.** A revision is kept when `aws_ecs_task_definition_in_use`
//!    lists it: any deployment of any service (old and new during a rollout,
//!    scaled to zero included), any task set of a `CODE_DEPLOY` or `EXTERNAL`
//!    service, any task not yet STOPPED, and (with `ecs_schedules` in
//!    `[in_use] sources`, the default) any EventBridge rule or Scheduler
//!    schedule that launches it. Revisions are compared as
//!    (account, region, family, revision), so short and full names meet.
//! 3. **Not checked.** Step Functions state machines (never read) and
//!    `ecs_schedules` when left out are reported as "not checked".
//!
//! Any failure to read is an error: the run fails and nothing is deleted.

use std::collections::{BTreeMap, HashMap, HashSet};

use skyglue_core::columns::strings;
use skyglue_core::sink::{Checked, Outcome, Target};
use skyglue_core::{Engine, Result};

use super::common::{Locator, required};
use super::fresh::{collect, df_err, sql_list};
use crate::arn::TaskDefinitionName;
use skyglue_core::config::{InUseSources, STEP_FUNCTIONS};

/// A revision: (account, region, family, revision).
type Revision = (String, String, String, i64);

/// What the task definition check did not look at: `ecs_schedules` when
/// left out (the only other source that pins revisions), and Step
/// Functions, which skyglue never reads.
pub(crate) fn not_checked(sources: &InUseSources) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if !sources.checks(super::SCHEDULES) {
        out.push(super::SCHEDULES.to_string());
    }
    out.push(STEP_FUNCTIONS.to_string());
    out
}

/// Checks task definition targets; see the module doc.
pub(crate) async fn check(engine: &Engine, targets: Vec<Target>) -> Result<Checked> {
    let ctx = engine.check_session().await.map_err(df_err)?;
    let mut checked =
        Checked { not_checked: not_checked(&engine.connections().in_use), ..Checked::default() };

    // Names to resolve: located ones now, short unlocated ones from a listing.
    let mut named: Vec<(Target, TaskDefinitionName)> = Vec::new();
    for target in targets {
        match name_of(&target) {
            Ok(name) => named.push((target, name)),
            Err(reason) => checked.skipped.push(Outcome::skipped(target, reason)),
        }
    }
    let families: Vec<String> = {
        let set: HashSet<&str> =
            named.iter().filter(|(_, n)| n.location.is_none()).map(|(_, n)| n.family.as_str()).collect();
        let mut v: Vec<String> = set.into_iter().map(str::to_string).collect();
        v.sort();
        v
    };
    let existing = if families.is_empty() { BTreeMap::new() } else { revisions_of(&ctx, &families).await? };

    let mut resolved: Vec<(Target, Revision)> = Vec::new();
    for (target, name) in named {
        match resolve(&target, &name, &existing) {
            Ok(revision) => resolved.push((target, revision)),
            Err(reason) => checked.skipped.push(Outcome::skipped(target, reason)),
        }
    }

    let users = in_use(&ctx).await?;
    for (target, revision) in resolved {
        // From here on the row names one revision: reports say which.
        let target = located(target, &revision);
        if let Some(by) = users.get(&revision) {
            checked.skipped.push(Outcome::skipped(target, format!("in use by {by}")));
            continue;
        }
        checked.proceed.push(target);
    }
    Ok(checked)
}

/// The revision a row names, or why it names none.
/// The re-check group of a resolved revision: `account/region/family`.
pub(crate) fn family_group(target: &Target) -> String {
    let arn = target.get("task_definition_arn").unwrap_or_default();
    let family = TaskDefinitionName::parse(arn).map_or_else(|| arn.to_string(), |n| n.family);
    format!("{}/{family}", super::common::group_key(target, &["account_id", "region"]))
}

fn name_of(target: &Target) -> std::result::Result<TaskDefinitionName, String> {
    let Some(raw) = target.get("task_definition_arn") else {
        return Err("the row has no task_definition_arn".into());
    };
    let name = TaskDefinitionName::parse(raw)
        .ok_or_else(|| format!("{raw:?} is neither a task definition ARN nor family:revision"))?;
    if let Some((region, account)) = &name.location {
        for (column, from_arn) in [("region", region), ("account_id", account)] {
            if let Some(given) = target.get(column).filter(|given| given != from_arn) {
                return Err(format!("the row's {column} {given} is not the one its ARN names ({from_arn})"));
            }
        }
    }
    Ok(name)
}

/// The one revision a row names: its ARN's place, else the row's
/// `account_id` and `region`, else the one connection where it exists.
fn resolve(
    target: &Target,
    name: &TaskDefinitionName,
    existing: &BTreeMap<(String, i64), Vec<(String, String)>>,
) -> std::result::Result<Revision, String> {
    let revision = |region: &str, account: &str| {
        (account.to_string(), region.to_string(), name.family.clone(), name.revision)
    };
    if let Some((region, account)) = &name.location {
        return Ok(revision(region, account));
    }
    if let (Some(account), Some(region)) = (target.get("account_id"), target.get("region")) {
        return Ok(revision(region, account));
    }
    let places: Vec<&(String, String)> = existing
        .get(&(name.family.clone(), name.revision))
        .map(|all| {
            all.iter()
                .filter(|(account, region)| {
                    target.get("account_id").is_none_or(|a| a == account)
                        && target.get("region").is_none_or(|r| r == region)
                })
                .collect()
        })
        .unwrap_or_default();
    match places.as_slice() {
        [] => Err(format!("task definition {} no longer exists", name.short())),
        [(account, region)] => Ok(revision(region, account)),
        many => Err(format!("ambiguous: in {} places; select account_id and region", many.len())),
    }
}

/// The row with the full ARN, `account_id` and `region` of its revision.
fn located(mut target: Target, (account, region, family, revision): &Revision) -> Target {
    let name = TaskDefinitionName { location: None, family: family.clone(), revision: *revision };
    target.set("task_definition_arn", name.arn_in(region, account));
    target.set("account_id", account.clone());
    target.set("region", region.clone());
    target
}

/// Where each revision of `families` exists: (family, revision) to (account, region) pairs.
async fn revisions_of(
    ctx: &datafusion::prelude::SessionContext,
    families: &[String],
) -> Result<BTreeMap<(String, i64), Vec<(String, String)>>> {
    let sql = format!(
        "SELECT account_id, region, task_definition_arn FROM aws_ecs_task_definition WHERE family IN ({})",
        sql_list(families)
    );
    let mut out: BTreeMap<(String, i64), Vec<(String, String)>> = BTreeMap::new();
    for batch in collect(ctx, &sql).await? {
        let (account, region, arn) = (
            strings(&batch, "account_id"),
            strings(&batch, "region"),
            strings(&batch, "task_definition_arn"),
        );
        for i in 0..batch.num_rows() {
            let (Some(account), Some(region), Some(name)) = (
                account[i].clone(),
                region[i].clone(),
                arn[i].as_deref().and_then(TaskDefinitionName::parse),
            ) else {
                continue;
            };
            out.entry((name.family, name.revision)).or_default().push((account, region));
        }
    }
    Ok(out)
}

/// Every revision in use, with the lowest-sorting user (so reasons are stable).
async fn in_use(ctx: &datafusion::prelude::SessionContext) -> Result<HashMap<Revision, String>> {
    let sql = "SELECT account_id, region, used_by, task_definition_arn FROM aws_ecs_task_definition_in_use";
    let mut users: HashMap<Revision, String> = HashMap::new();
    for batch in collect(ctx, sql).await? {
        let (account, region, by, arn) = (
            strings(&batch, "account_id"),
            strings(&batch, "region"),
            strings(&batch, "used_by"),
            strings(&batch, "task_definition_arn"),
        );
        for i in 0..batch.num_rows() {
            let (Some(arn), Some(by)) = (arn[i].as_deref(), by[i].clone()) else { continue };
            let Some(name) = TaskDefinitionName::parse(arn) else {
                return Err(df_err(datafusion::error::DataFusionError::Plan(format!(
                    "{by} uses task definition {arn:?}, which is not a task definition name: refusing to guess"
                ))));
            };
            // A short name means the user's own account and region.
            let (region, account) = name
                .location
                .clone()
                .or_else(|| Some((region[i].clone()?, account[i].clone()?)))
                .unwrap_or_default();
            let user =
                users.entry((account, region, name.family, name.revision)).or_insert_with(|| by.clone());
            if by < *user {
                *user = by;
            }
        }
    }
    Ok(users)
}

/// A resolved task definition row's connection: its `account_id` and
/// `region`, which the check filled in from the ARN it resolved. A row
/// without them is not acted on: a guess could pick the wrong account.
pub(crate) fn locate(target: &Target) -> std::result::Result<Locator<()>, String> {
    let arn = required(target, "task_definition_arn")?;
    let not_resolved = |missing: String| {
        format!("not attempted: {missing}, so it does not name one revision (the check resolves rows)")
    };
    let account = required(target, "account_id").map_err(not_resolved)?;
    let region = required(target, "region").map_err(not_resolved)?;
    Ok(Locator { account: Some(account), region: Some(region), scope: (), id: arn })
}

#[cfg(test)]
mod tests {

    #[test]
    fn step_functions_are_never_checked_and_schedules_only_when_listed() {
        use skyglue_core::config::InUseSources;
        let every = InUseSources::new(["ecs", "ecs_schedules", "lambda", "batch", "apprunner", "kubernetes"]);
        assert_eq!(super::not_checked(&every), [STEP_FUNCTIONS]);
        assert_eq!(super::not_checked(&InUseSources::new(["ecs"])), ["ecs_schedules", STEP_FUNCTIONS]);
    }

    use super::*;

    #[test]
    fn only_resolved_rows_are_located() {
        let t = Target::from_pairs([(
            "task_definition_arn",
            "arn:aws:ecs:eu-west-1:222222222222:task-definition/web:7",
        )]);
        assert!(locate(&t).is_err_and(|e| e.contains("account_id")));
        let t = Target::from_pairs([
            ("task_definition_arn", "arn:aws:ecs:eu-west-1:222222222222:task-definition/web:7"),
            ("account_id", "222222222222"),
            ("region", "eu-west-1"),
        ]);
        let loc = locate(&t).ok();
        assert_eq!(loc.as_ref().and_then(|l| l.region.as_deref()), Some("eu-west-1"));
        assert_eq!(loc.as_ref().and_then(|l| l.account.as_deref()), Some("222222222222"));
    }

    fn existing() -> BTreeMap<(String, i64), Vec<(String, String)>> {
        BTreeMap::from([(
            ("web".into(), 7),
            vec![("1".into(), "us-east-1".into()), ("2".into(), "us-east-1".into())],
        )])
    }

    #[test]
    fn short_and_full_names_resolve_to_one_revision() -> std::result::Result<(), String> {
        let full =
            Target::from_pairs([("task_definition_arn", "arn:aws:ecs:us-east-1:1:task-definition/web:7")]);
        let name = name_of(&full)?;
        assert_eq!(resolve(&full, &name, &existing())?, ("1".into(), "us-east-1".into(), "web".into(), 7));
        let short = Target::from_pairs([("task_definition_arn", "web:7"), ("account_id", "2")]);
        let name = name_of(&short)?;
        assert_eq!(resolve(&short, &name, &existing())?, ("2".into(), "us-east-1".into(), "web".into(), 7));
        let located = located(short, &("2".into(), "us-east-1".into(), "web".into(), 7));
        assert_eq!(located.get("task_definition_arn"), Some("arn:aws:ecs:us-east-1:2:task-definition/web:7"));
        Ok(())
    }

    #[test]
    fn an_unlocated_short_name_in_two_places_is_ambiguous() -> std::result::Result<(), String> {
        let t = Target::from_pairs([("task_definition_arn", "web:7")]);
        let name = name_of(&t)?;
        assert_eq!(
            resolve(&t, &name, &existing()).err(),
            Some("ambiguous: in 2 places; select account_id and region".into())
        );
        let gone = Target::from_pairs([("task_definition_arn", "web:8")]);
        let name = name_of(&gone)?;
        assert_eq!(
            resolve(&gone, &name, &existing()).err(),
            Some("task definition web:8 no longer exists".into())
        );
        Ok(())
    }

    #[test]
    fn a_row_that_contradicts_its_arn_is_refused() {
        let t = Target::from_pairs([
            ("task_definition_arn", "arn:aws:ecs:us-east-1:1:task-definition/web:7"),
            ("region", "eu-west-1"),
        ]);
        assert!(name_of(&t).is_err_and(|e| e.contains("region eu-west-1")));
    }
}
