//! The fresh check of `delete_ecr_images` and `archive_ecr_images` (which
//! also leaves alone what is not ACTIVE: [`check_leaving`]), run immediately before acting on
//! a cache-free session (and in a dry run, so the plan is what `--apply`
//! would do, on what the run's query has just read: `Engine::check_session`):
//!
//! 1. **Resolve.** Every row is matched against a fresh listing of its
//!    repository in every connection. It must name exactly one copy of the
//!    digest: the same digest replicated to another region or account is
//!    another image, and a row that could mean several is skipped
//!    ("ambiguous: in N places; select account_id and region"), never guessed.
//!    The resolved target carries `account_id`, `region` and `registry_id`, and
//!    the sink deletes exactly there.
//! 2. **In use.** A copy is kept when any reference in `image_in_use` (every
//!    source `[in_use]` lists: ECS, Lambda, Batch, App Runner, Kubernetes; any
//!    account or region) names its registry, region and repository and either
//!    its digest or one of its tags. A listed source that cannot be read fails
//!    the check; the sources not listed are reported as "not checked".
//! 3. **The image graph** (`image_graph`): a manifest that a kept image index
//!    lists is kept, a referrer (SBOM, signature, attestation) of a kept image
//!    is kept, and a deleted image's referrers are deleted with it (added to
//!    the run with a note, counted against `max_deletes` by the runner).
//!    Referrers go first, then indexes before their children.
//!
//! The listing is read a batch at a time: of each batch the check keeps only
//! the copies some target names, the image indexes and the referrers (with a
//! hash of every image's place, to know which subjects exist), so its memory
//! follows the targets, not the repositories' size.
//!
//! Any failure to read (a listing, the in-use view, an index document) is an
//! error: the run fails and nothing is deleted.
//!
//! `restore_ecr_images` resolves its rows the same way and keeps only the
//! copies still ARCHIVED ([`check_archived`]); restoring needs no in-use check.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::prelude::SessionContext;
use futures::TryStreamExt;
use skyglue_core::columns::{int64s, string_lists, strings};
use skyglue_core::sink::{Checked, Outcome, Target};
use skyglue_core::{Engine, Result};

use super::fresh::{collect, df_err, sql_list, stream};
use super::image_graph;
use super::listed::{Copies, Copy, Listed, Place, Referrer};
use crate::manifests;

/// One reference to an image that something uses.
#[derive(Debug)]
struct Use {
    registry: Option<String>,
    region: Option<String>,
    repository: String,
    tag: Option<String>,
    digest: Option<String>,
    by: String,
}

impl Use {
    fn names(&self, place: &Place, tags: &[String]) -> bool {
        *self.repository == *place.repository
            && self.registry.as_deref().is_none_or(|r| r == &*place.registry)
            && self.region.as_deref().is_none_or(|r| r == &*place.region)
            && (self.digest.as_deref() == Some(place.digest.as_str())
                || self.tag.as_ref().is_some_and(|t| tags.contains(t)))
    }
}

/// Checks `delete_ecr_images` targets; see the module doc. The referrers
/// of what goes are added to the run.
pub(crate) async fn check(engine: &Engine, targets: Vec<Target>) -> Result<Checked> {
    graph_check(engine, targets, |_| None, true).await
}

/// [`check`] without adding referrers, also skipping every copy whose
/// `image_status` `leave` gives a reason for (`archive_ecr_images`).
pub(crate) async fn check_leaving(
    engine: &Engine,
    targets: Vec<Target>,
    leave: fn(&str) -> Option<String>,
) -> Result<Checked> {
    graph_check(engine, targets, leave, false).await
}

/// The check: `follow` adds the referrers of what goes.
async fn graph_check(
    engine: &Engine,
    targets: Vec<Target>,
    leave: fn(&str) -> Option<String>,
    follow: bool,
) -> Result<Checked> {
    let ctx = engine.check_session().await.map_err(df_err)?;
    let repositories: Vec<String> = {
        let names: HashSet<&str> = targets.iter().filter_map(|t| t.get("repository_name")).collect();
        let mut names: Vec<String> = names.into_iter().map(str::to_string).collect();
        names.sort();
        names
    };
    if repositories.is_empty() {
        return Ok(Checked::default());
    }
    let uses = in_use(&ctx, &repositories).await?;
    let listed = listing(&ctx, &repositories, &targets, &uses, true).await?;

    let mut checked = Checked {
        not_checked: engine.connections().in_use.not_checked_of(engine.registry().in_use_sources()),
        ..Checked::default()
    };
    let mut going: Vec<(Target, &Copy)> = Vec::new();
    for target in targets {
        let copy = match resolve(&target, &listed.copies) {
            Ok(copy) => copy,
            Err(reason) => {
                checked.skipped.push(Outcome::skipped(target, reason));
                continue;
            }
        };
        // From here on the row names one copy: reports say which.
        let target = located(target, &copy.place);
        if let Some(reason) = leave(&copy.status) {
            checked.skipped.push(Outcome::skipped(target, reason));
            continue;
        }
        if let Some(user) = &copy.used_by {
            checked.skipped.push(Outcome::skipped(target, format!("in use by {user}")));
            continue;
        }
        going.push((target, copy));
    }

    let plan = image_graph::plan(engine, going, &listed, follow, leave).await?;
    checked.skipped.extend(plan.skipped);
    checked.notes = plan.notes;
    for (target, copy) in plan.going {
        checked.bytes.insert(target.clone(), copy.size);
        checked.proceed.push(target);
    }
    Ok(checked)
}

/// Resolves `restore_ecr_images` targets: each row's one copy goes when it is
/// still ARCHIVED, and is skipped saying its status otherwise.
pub(crate) async fn check_archived(engine: &Engine, targets: Vec<Target>) -> Result<Checked> {
    let ctx = engine.check_session().await.map_err(df_err)?;
    let mut repositories: Vec<String> =
        targets.iter().filter_map(|t| t.get("repository_name").map(str::to_string)).collect();
    repositories.sort();
    repositories.dedup();
    if repositories.is_empty() {
        return Ok(Checked::default());
    }
    let listed = listing(&ctx, &repositories, &targets, &[], false).await?;
    let mut checked = Checked::default();
    for target in targets {
        let copy = match resolve(&target, &listed.copies) {
            Ok(copy) => copy,
            Err(reason) => {
                checked.skipped.push(Outcome::skipped(target, reason));
                continue;
            }
        };
        let target = located(target, &copy.place);
        match &*copy.status {
            "ARCHIVED" => {
                checked.bytes.insert(target.clone(), copy.size);
                checked.proceed.push(target);
            }
            "ACTIVATING" => {
                checked.skipped.push(Outcome::skipped(target, "already being restored (ACTIVATING)"))
            }
            status => checked.skipped.push(Outcome::skipped(target, format!("not archived ({status})"))),
        }
    }
    Ok(checked)
}

/// The one copy a row names, or why it names none.
fn resolve<'a>(target: &Target, copies: &'a Copies) -> std::result::Result<&'a Copy, String> {
    let (Some(repository), Some(digest)) = (target.get("repository_name"), target.get("image_digest")) else {
        return Err("the row has no repository_name or image_digest".into());
    };
    let matching: Vec<&Copy> =
        copies.of(repository, digest).iter().filter(|c| names_place(target, &c.place)).collect();
    match matching.as_slice() {
        [] => Err("the image no longer exists".into()),
        [one] => Ok(one),
        many => Err(format!("ambiguous: in {} places; select account_id and region", many.len())),
    }
}

/// Whether the row's locating columns (those it has) agree with `place`.
fn names_place(target: &Target, place: &Place) -> bool {
    target.get("account_id").is_none_or(|a| a == &*place.account)
        && target.get("region").is_none_or(|r| r == &*place.region)
        && target.get("registry_id").is_none_or(|r| r == &*place.registry)
}

/// The row with the columns that locate its one copy filled in.
fn located(mut target: Target, place: &Place) -> Target {
    for (column, value) in
        [("account_id", &place.account), ("region", &place.region), ("registry_id", &place.registry)]
    {
        target.set(column, value);
    }
    target
}

/// Reads the fresh listing of `repositories` in every connection a batch at a
/// time (with `subject_digest` when `graph`), keeping only what [`Listed`] says: the other images of a
/// repository, and every image's tags, are dropped with their batch.
async fn listing(
    ctx: &SessionContext,
    repositories: &[String],
    targets: &[Target],
    uses: &[Use],
    graph: bool,
) -> Result<Listed> {
    let wanted: HashSet<(&str, &str)> =
        targets.iter().filter_map(|t| Some((t.get("repository_name")?, t.get("image_digest")?))).collect();
    let sql = format!(
        "SELECT account_id, region, registry_id, repository_name, image_digest, image_tags, \
                image_manifest_media_type, image_size_in_bytes, image_status{} \
         FROM aws_ecr_image WHERE repository_name IN ({})",
        if graph { ", subject_digest" } else { "" },
        sql_list(repositories)
    );
    let mut uses_of: HashMap<&str, Vec<&Use>> = HashMap::new();
    for u in uses {
        uses_of.entry(u.repository.as_str()).or_default().push(u);
    }
    let mut names = Names::default();
    let mut listed = Listed::default();
    let mut batches = stream(ctx, &sql).await?;
    while let Some(batch) = batches.try_next().await.map_err(df_err)? {
        read_batch(&batch, &wanted, &uses_of, &mut names, &mut listed);
    }
    listed.copies.sort();
    Ok(listed)
}

/// Adds one batch of the listing to `listed`.
fn read_batch(
    batch: &RecordBatch,
    wanted: &HashSet<(&str, &str)>,
    uses_of: &HashMap<&str, Vec<&Use>>,
    names: &mut Names,
    listed: &mut Listed,
) {
    let account = strings(batch, "account_id");
    let region = strings(batch, "region");
    let registry = strings(batch, "registry_id");
    let repository = strings(batch, "repository_name");
    let digest = strings(batch, "image_digest");
    let media = strings(batch, "image_manifest_media_type");
    let size = int64s(batch, "image_size_in_bytes");
    let status = strings(batch, "image_status");
    let subject = strings(batch, "subject_digest");
    let tags = string_lists(batch, "image_tags");
    for (i, tags) in tags.into_iter().enumerate() {
        let (Some(account), Some(region), Some(repository), Some(digest)) =
            (&account[i], &region[i], &repository[i], &digest[i])
        else {
            continue;
        };
        let index = manifests::is_index(media[i].as_deref());
        let targeted = wanted.contains(&(repository.as_str(), digest.as_str()));
        let mut subjects: Vec<String> = subject[i].iter().cloned().collect();
        subjects.extend(tags.iter().filter_map(|t| manifests::cosign_subject(t)));
        subjects.sort();
        subjects.dedup();
        subjects.retain(|s| s != digest);
        let registry = registry[i].as_deref().unwrap_or(account);
        let place = Place {
            account: names.get(account),
            region: names.get(region),
            registry: names.get(registry),
            repository: names.get(repository),
            digest: digest.clone(),
        };
        listed.present.insert(&place);
        if !targeted && !index && subjects.is_empty() {
            continue;
        }
        if index {
            listed.indexes.push(place.clone());
        }
        let used_by = uses_of
            .get(repository.as_str())
            .and_then(|uses| uses.iter().find(|u| u.names(&place, &tags)))
            .map(|u| u.by.clone());
        let status = names.get(status[i].as_deref().unwrap_or("ACTIVE"));
        let copy = Copy { place, index, size: size[i].unwrap_or(0), status, used_by };
        if !subjects.is_empty() {
            listed.referrers.push(Referrer { copy: copy.clone(), subjects });
        }
        if targeted {
            listed.copies.push(copy);
        }
    }
}

/// Accounts, regions, registries and repositories, each stored once.
#[derive(Debug, Default)]
struct Names(HashSet<Arc<str>>);

impl Names {
    fn get(&mut self, name: &str) -> Arc<str> {
        if let Some(known) = self.0.get(name) {
            return known.clone();
        }
        let name: Arc<str> = Arc::from(name);
        self.0.insert(name.clone());
        name
    }
}

/// Every in-use reference to `repositories`, ordered by user so the reason
/// names the same user every time.
async fn in_use(ctx: &SessionContext, repositories: &[String]) -> Result<Vec<Use>> {
    let sql = format!(
        "SELECT registry_id, image_region, repository_name, tag, digest, used_by, source \
         FROM image_in_use WHERE repository_name IN ({})",
        sql_list(repositories)
    );
    let mut uses = Vec::new();
    for batch in collect(ctx, &sql).await? {
        let (registry, region, repository, tag, digest, by) = (
            strings(&batch, "registry_id"),
            strings(&batch, "image_region"),
            strings(&batch, "repository_name"),
            strings(&batch, "tag"),
            strings(&batch, "digest"),
            strings(&batch, "used_by"),
        );
        let source = strings(&batch, "source");
        for i in 0..batch.num_rows() {
            let Some(repository) = repository[i].clone() else { continue };
            uses.push(Use {
                registry: registry[i].clone(),
                region: region[i].clone(),
                repository,
                tag: tag[i].clone(),
                digest: digest[i].clone(),
                by: format!(
                    "{} ({})",
                    by[i].as_deref().unwrap_or_default(),
                    source[i].as_deref().unwrap_or("unknown source")
                ),
            });
        }
    }
    uses.sort_by(|a, b| a.by.cmp(&b.by));
    Ok(uses)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(account: &str, region: &str) -> Place {
        Place {
            account: account.into(),
            region: region.into(),
            registry: account.into(),
            repository: "web".into(),
            digest: "sha256:a".into(),
        }
    }

    fn copy(account: &str, region: &str) -> Copy {
        Copy { place: place(account, region), index: false, size: 1, status: "ACTIVE".into(), used_by: None }
    }

    fn copies() -> Copies {
        let mut other = copy("1", "us-east-1");
        other.place.digest = "sha256:b".into();
        let mut copies =
            Copies(vec![copy("1", "us-east-1"), other, copy("1", "eu-west-1"), copy("2", "us-east-1")]);
        copies.sort();
        copies
    }

    #[test]
    fn a_row_must_name_exactly_one_copy() {
        let bare = Target::from_pairs([("repository_name", "web"), ("image_digest", "sha256:a")]);
        assert_eq!(
            resolve(&bare, &copies()).err(),
            Some("ambiguous: in 3 places; select account_id and region".into())
        );
        let region_only = Target::from_pairs([
            ("repository_name", "web"),
            ("image_digest", "sha256:a"),
            ("region", "us-east-1"),
        ]);
        assert!(resolve(&region_only, &copies()).is_err());
        let exact = Target::from_pairs([
            ("account_id", "2"),
            ("region", "us-east-1"),
            ("repository_name", "web"),
            ("image_digest", "sha256:a"),
        ]);
        assert_eq!(resolve(&exact, &copies()).map(|c| c.place.account.to_string()), Ok("2".into()));
        let gone = Target::from_pairs([
            ("account_id", "3"),
            ("region", "us-east-1"),
            ("repository_name", "web"),
            ("image_digest", "sha256:a"),
        ]);
        assert_eq!(resolve(&gone, &copies()).err(), Some("the image no longer exists".into()));
    }

    #[test]
    fn a_use_names_a_copy_by_place_and_digest_or_tag() {
        let p = place("1", "us-east-1");
        let tags = vec!["abc1234".to_string()];
        let by_tag = Use {
            registry: Some("1".into()),
            region: Some("us-east-1".into()),
            repository: "web".into(),
            tag: Some("abc1234".into()),
            digest: None,
            by: "s".into(),
        };
        assert!(by_tag.names(&p, &tags));
        assert!(!by_tag.names(&p, &[]), "an untagged copy is not used by tag");
        let other_region = Use { region: Some("eu-west-1".into()), ..by_tag };
        assert!(!other_region.names(&p, &tags));
        let by_digest = Use {
            registry: None,
            region: None,
            repository: "web".into(),
            tag: None,
            digest: Some("sha256:a".into()),
            by: "t".into(),
        };
        assert!(by_digest.names(&p, &[]));
    }

    #[test]
    fn names_are_stored_once() {
        let mut names = Names::default();
        let (a, b) = (names.get("us-east-1"), names.get("us-east-1"));
        assert!(Arc::ptr_eq(&a, &b));
    }
}
