//! The fresh check of `delete_ecr_images`, run on a cache-free session
//! immediately before acting (and in a dry run, so the plan is what `--apply`
//! would do):
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
//! 3. **Image indexes.** A manifest that a kept image index lists is kept, and
//!    indexes go before their children.
//!
//! Any failure to read (a listing, the in-use view, an index document) is an
//! error: the run fails and nothing is deleted.

use std::collections::{BTreeMap, HashMap, HashSet};

use datafusion::prelude::SessionContext;
use skyglue_core::columns::{int64s, string_lists, strings};
use skyglue_core::sink::{Checked, Outcome, Target};
use skyglue_core::{Engine, Result};

use super::fresh::{collect, df_err, sql_list};
use crate::manifests;

/// One copy of an image: a digest in one repository of one registry and region.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Place {
    account: String,
    region: String,
    registry: String,
    repository: String,
    digest: String,
}

/// What the fresh listing says about one copy.
#[derive(Debug, Clone)]
struct Copy {
    place: Place,
    tags: Vec<String>,
    index: bool,
    size: i64,
}

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
    fn names(&self, copy: &Copy) -> bool {
        self.repository == copy.place.repository
            && self.registry.as_deref().is_none_or(|r| r == copy.place.registry)
            && self.region.as_deref().is_none_or(|r| r == copy.place.region)
            && (self.digest.as_deref() == Some(copy.place.digest.as_str())
                || self.tag.as_ref().is_some_and(|t| copy.tags.contains(t)))
    }
}

/// Checks `delete_ecr_images` targets; see the module doc.
pub(crate) async fn check(engine: &Engine, targets: Vec<Target>) -> Result<Checked> {
    let ctx = engine.fresh_session().await.map_err(df_err)?;
    let repositories: Vec<String> = {
        let names: HashSet<&str> = targets.iter().filter_map(|t| t.get("repository_name")).collect();
        let mut names: Vec<String> = names.into_iter().map(str::to_string).collect();
        names.sort();
        names
    };
    if repositories.is_empty() {
        return Ok(Checked::default());
    }
    let copies = listing(&ctx, &repositories).await?;
    let uses = in_use(&ctx, &repositories).await?;

    let mut checked = Checked {
        not_checked: engine.connections().in_use.not_checked().iter().map(|s| s.to_string()).collect(),
        ..Checked::default()
    };
    let mut going: Vec<(Target, &Copy)> = Vec::new();
    for target in targets {
        let copy = match resolve(&target, &copies) {
            Ok(copy) => copy,
            Err(reason) => {
                checked.skipped.push(Outcome::skipped(target, reason));
                continue;
            }
        };
        // From here on the row names one copy: reports say which.
        let target = located(target, &copy.place);
        if let Some(user) = uses.iter().find(|u| u.names(copy)) {
            checked.skipped.push(Outcome::skipped(target, format!("in use by {}", user.by)));
            continue;
        }
        going.push((target, copy));
    }

    let going_places: HashSet<&Place> = going.iter().map(|(_, c)| &c.place).collect();
    let protected = protected_children(engine, &copies, &going_places).await?;
    going.sort_by_key(|(_, copy)| !copy.index);
    for (target, copy) in going {
        let key = (
            copy.place.account.clone(),
            copy.place.region.clone(),
            copy.place.repository.clone(),
            copy.place.digest.clone(),
        );
        if let Some(index) = protected.get(&key) {
            checked.skipped.push(Outcome::skipped(target, format!("referenced by image index {index}")));
            continue;
        }
        checked.bytes.insert(target.clone(), copy.size);
        checked.proceed.push(target);
    }
    Ok(checked)
}

/// The one copy a row names, or why it names none.
fn resolve<'a>(
    target: &Target,
    copies: &'a BTreeMap<(String, String), Vec<Copy>>,
) -> std::result::Result<&'a Copy, String> {
    let (Some(repository), Some(digest)) = (target.get("repository_name"), target.get("image_digest")) else {
        return Err("the row has no repository_name or image_digest".into());
    };
    let key = (repository.to_string(), digest.to_string());
    let matching: Vec<&Copy> = copies
        .get(&key)
        .map(|all| {
            all.iter()
                .filter(|c| {
                    target.get("account_id").is_none_or(|a| a == c.place.account)
                        && target.get("region").is_none_or(|r| r == c.place.region)
                        && target.get("registry_id").is_none_or(|r| r == c.place.registry)
                })
                .collect()
        })
        .unwrap_or_default();
    match matching.as_slice() {
        [] => Err("the image no longer exists".into()),
        [one] => Ok(one),
        many => Err(format!("ambiguous: in {} places; select account_id and region", many.len())),
    }
}

/// The row with the columns that locate its one copy filled in.
fn located(mut target: Target, place: &Place) -> Target {
    for (column, value) in
        [("account_id", &place.account), ("region", &place.region), ("registry_id", &place.registry)]
    {
        target.columns.insert(column.to_string(), value.clone());
    }
    target
}

/// Every copy of every image in `repositories`, in every connection, by (repository, digest).
async fn listing(
    ctx: &SessionContext,
    repositories: &[String],
) -> Result<BTreeMap<(String, String), Vec<Copy>>> {
    let sql = format!(
        "SELECT account_id, region, registry_id, repository_name, image_digest, image_tags, \
                image_manifest_media_type, image_size_in_bytes \
         FROM aws_ecr_image WHERE repository_name IN ({})",
        sql_list(repositories)
    );
    let mut copies: BTreeMap<(String, String), Vec<Copy>> = BTreeMap::new();
    for batch in collect(ctx, &sql).await? {
        let account = strings(&batch, "account_id");
        let region = strings(&batch, "region");
        let registry = strings(&batch, "registry_id");
        let repository = strings(&batch, "repository_name");
        let digest = strings(&batch, "image_digest");
        let media = strings(&batch, "image_manifest_media_type");
        let size = int64s(&batch, "image_size_in_bytes");
        let tags = string_lists(&batch, "image_tags");
        for (i, tags) in tags.into_iter().enumerate() {
            let (Some(account), Some(region), Some(repository), Some(digest)) =
                (account[i].clone(), region[i].clone(), repository[i].clone(), digest[i].clone())
            else {
                continue;
            };
            let registry = registry[i].clone().unwrap_or_else(|| account.clone());
            let place = Place { account, region, registry, repository, digest };
            copies.entry((place.repository.clone(), place.digest.clone())).or_default().push(Copy {
                place,
                tags,
                index: manifests::is_index(media[i].as_deref()),
                size: size[i].unwrap_or(0),
            });
        }
    }
    Ok(copies)
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

/// Child manifests of every image index that stays, keyed by
/// (account, region, repository, child digest), with the index that keeps them.
async fn protected_children(
    engine: &Engine,
    copies: &BTreeMap<(String, String), Vec<Copy>>,
    going: &HashSet<&Place>,
) -> Result<HashMap<(String, String, String, String), String>> {
    let mut kept: BTreeMap<(String, String, String, String), Vec<String>> = BTreeMap::new();
    for copy in copies.values().flatten().filter(|c| c.index && !going.contains(&c.place)) {
        let p = &copy.place;
        kept.entry((p.account.clone(), p.region.clone(), p.registry.clone(), p.repository.clone()))
            .or_default()
            .push(p.digest.clone());
    }
    let mut protected = HashMap::new();
    for ((account, region, registry, repository), indexes) in kept {
        let conn = engine.connections().find_aws(Some(&account), Some(&region)).await?;
        let children =
            manifests::index_children(engine.connections(), &conn, Some(&registry), &repository, &indexes)
                .await?;
        for (index, children) in children {
            for child in children {
                protected.insert((account.clone(), region.clone(), repository.clone(), child), index.clone());
            }
        }
    }
    Ok(protected)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copy(account: &str, region: &str) -> Copy {
        Copy {
            place: Place {
                account: account.into(),
                region: region.into(),
                registry: account.into(),
                repository: "web".into(),
                digest: "sha256:a".into(),
            },
            tags: vec!["abc1234".into()],
            index: false,
            size: 1,
        }
    }

    fn copies() -> BTreeMap<(String, String), Vec<Copy>> {
        BTreeMap::from([(
            ("web".into(), "sha256:a".into()),
            vec![copy("1", "us-east-1"), copy("1", "eu-west-1"), copy("2", "us-east-1")],
        )])
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
        assert_eq!(resolve(&exact, &copies()).map(|c| c.place.account.clone()), Ok("2".into()));
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
        let c = copy("1", "us-east-1");
        let by_tag = Use {
            registry: Some("1".into()),
            region: Some("us-east-1".into()),
            repository: "web".into(),
            tag: Some("abc1234".into()),
            digest: None,
            by: "s".into(),
        };
        assert!(by_tag.names(&c));
        let other_region = Use { region: Some("eu-west-1".into()), ..by_tag };
        assert!(!other_region.names(&c));
        let by_digest = Use {
            registry: None,
            region: None,
            repository: "web".into(),
            tag: None,
            digest: Some("sha256:a".into()),
            by: "t".into(),
        };
        assert!(by_digest.names(&c));
    }
}
