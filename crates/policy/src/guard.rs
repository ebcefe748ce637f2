//! Guardrails checked immediately before acting, whatever the policy's SQL
//! says: re-read what is in use, fresh, across every connection, and skip any
//! target still in use; never delete a manifest that a kept image index
//! references; skip targets that no longer exist.
//!
//! The checks run on [`Engine::fresh_session`], which never reads the scan
//! cache: they see the APIs as they are now.

use std::collections::{HashMap, HashSet};

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::prelude::{SessionContext, col, lit};
use skyglue_aws::manifests;
use skyglue_core::sink::{Outcome, Target};
use skyglue_core::{Engine, Error, Result};

/// The result of checking targets: who may go ahead, who is skipped and why,
/// and the bytes each image target holds.
#[derive(Debug, Default)]
pub struct Checked {
    /// Targets that may be acted on, image indexes first.
    pub proceed: Vec<Target>,
    /// Targets left alone, with reasons.
    pub skipped: Vec<Outcome>,
    /// Size in bytes of each image target, from the fresh listing.
    pub bytes: HashMap<Target, i64>,
}

fn df_err(e: datafusion::error::DataFusionError) -> Error {
    let detail = Error::find(&e).map(ToString::to_string).unwrap_or_else(|| e.to_string());
    Error::Api { operation: "the fresh in-use check".into(), connection: "every connection".into(), detail }
}

/// Text values of one column (NULL, or a missing column, as `None`).
pub(crate) fn strings(batch: &RecordBatch, name: &str) -> Vec<Option<String>> {
    let Some(array) = batch.column_by_name(name) else { return vec![None; batch.num_rows()] };
    let Ok(array) = cast(array, &DataType::Utf8) else { return vec![None; batch.num_rows()] };
    let array = array.as_string::<i32>();
    (0..array.len()).map(|i| (!array.is_null(i)).then(|| array.value(i).to_string())).collect()
}

async fn collect(ctx: &SessionContext, sql: &str) -> Result<Vec<RecordBatch>> {
    ctx.sql(sql).await.map_err(df_err)?.collect().await.map_err(df_err)
}

/// Checks image targets (`delete_ecr_images`).
pub async fn check_images(engine: &Engine, targets: Vec<Target>) -> Result<Checked> {
    let ctx = engine.fresh_session().await.map_err(df_err)?;
    let repos: Vec<String> = {
        let mut r: Vec<String> =
            targets.iter().filter_map(|t| t.get("repository_name").map(str::to_string)).collect();
        r.sort();
        r.dedup();
        r
    };
    let images = ctx
        .table("aws_ecr_image")
        .await
        .map_err(df_err)?
        .filter(col("repository_name").in_list(repos.iter().map(|r| lit(r.as_str())).collect(), false))
        .map_err(df_err)?
        .select_columns(&[
            "account_id",
            "region",
            "registry_id",
            "repository_name",
            "image_digest",
            "image_tags",
            "image_manifest_media_type",
            "image_size_in_bytes",
        ])
        .map_err(df_err)?
        .collect()
        .await
        .map_err(df_err)?;
    let used = collect(
        &ctx,
        "SELECT registry_id, image_region, repository_name, tag, digest, used_by FROM aws_ecs_image_in_use",
    )
    .await?;

    // The fresh state of every image in the target repositories.
    #[derive(Debug, Clone)]
    struct Fresh {
        account: String,
        region: String,
        registry: String,
        tags: Vec<String>,
        index: bool,
        size: i64,
    }
    let mut fresh: HashMap<(String, String), Vec<Fresh>> = HashMap::new();
    for b in &images {
        let (acct, region, registry, repo, digest, media) = (
            strings(b, "account_id"),
            strings(b, "region"),
            strings(b, "registry_id"),
            strings(b, "repository_name"),
            strings(b, "image_digest"),
            strings(b, "image_manifest_media_type"),
        );
        let sizes = b.column_by_name("image_size_in_bytes").and_then(|a| cast(a, &DataType::Int64).ok());
        let tags = b.column_by_name("image_tags").map(|a| a.as_list::<i32>().clone());
        for i in 0..b.num_rows() {
            let (Some(repo), Some(digest)) = (repo[i].clone(), digest[i].clone()) else { continue };
            let tag_list = tags
                .as_ref()
                .filter(|t| !t.is_null(i))
                .map(|t| {
                    let v = t.value(i);
                    cast(&v, &DataType::Utf8)
                        .map(|v| v.as_string::<i32>().iter().flatten().map(str::to_string).collect())
                        .unwrap_or_default()
                })
                .unwrap_or_default();
            let size = sizes
                .as_ref()
                .map(|s| s.as_primitive::<datafusion::arrow::datatypes::Int64Type>())
                .filter(|s| !s.is_null(i))
                .map(|s| s.value(i))
                .unwrap_or(0);
            fresh.entry((repo, digest)).or_default().push(Fresh {
                account: acct[i].clone().unwrap_or_default(),
                region: region[i].clone().unwrap_or_default(),
                registry: registry[i].clone().unwrap_or_default(),
                tags: tag_list,
                index: manifests::is_index(media[i].as_deref()),
                size,
            });
        }
    }

    // Every in-use reference.
    struct Used {
        registry: Option<String>,
        region: Option<String>,
        repo: String,
        tag: Option<String>,
        digest: Option<String>,
        by: String,
    }
    let mut in_use: Vec<Used> = Vec::new();
    for b in &used {
        let (registry, region, repo, tag, digest, by) = (
            strings(b, "registry_id"),
            strings(b, "image_region"),
            strings(b, "repository_name"),
            strings(b, "tag"),
            strings(b, "digest"),
            strings(b, "used_by"),
        );
        for i in 0..b.num_rows() {
            let Some(repo) = repo[i].clone() else { continue };
            in_use.push(Used {
                registry: registry[i].clone(),
                region: region[i].clone(),
                repo,
                tag: tag[i].clone(),
                digest: digest[i].clone(),
                by: by[i].clone().unwrap_or_default(),
            });
        }
    }

    // Scans arrive in any order: name the same user every time.
    in_use.sort_by(|a, b| a.by.cmp(&b.by));

    let mut checked = Checked::default();
    let mut going: Vec<(Target, Fresh, String)> = Vec::new();
    for target in targets {
        let (Some(repo), Some(digest)) = (
            target.get("repository_name").map(str::to_string),
            target.get("image_digest").map(str::to_string),
        ) else {
            checked.skipped.push(Outcome::skipped(target, "the row has no repository_name or image_digest"));
            continue;
        };
        let (repo, digest) = (repo.as_str(), digest.as_str());
        let matching = fresh.get(&(repo.to_string(), digest.to_string())).and_then(|cands| {
            cands.iter().find(|f| {
                target.get("account_id").is_none_or(|a| a == f.account)
                    && target.get("region").is_none_or(|r| r == f.region)
                    && target.get("registry_id").is_none_or(|r| r == f.registry)
            })
        });
        let Some(f) = matching.cloned() else {
            checked.skipped.push(Outcome::skipped(target, "the image no longer exists"));
            continue;
        };
        let user = in_use.iter().find(|u| {
            u.repo == repo
                && u.registry.as_deref().is_none_or(|r| r == f.registry)
                && u.region.as_deref().is_none_or(|r| r == f.region)
                && (u.digest.as_deref() == Some(digest) || u.tag.as_ref().is_some_and(|t| f.tags.contains(t)))
        });
        if let Some(u) = user {
            checked.skipped.push(Outcome::skipped(target, format!("in use by {}", u.by)));
            continue;
        }
        let digest = digest.to_string();
        going.push((target, f, digest));
    }

    // Indexes that stay (not going) protect the manifests they list.
    let going_digests: HashSet<(String, String, String)> = going
        .iter()
        .map(|(t, f, d)| (f.region.clone(), t.get("repository_name").unwrap_or("").to_string(), d.clone()))
        .collect();
    let mut kept_indexes: HashMap<(String, String, String, String), Vec<String>> = HashMap::new();
    for ((repo, digest), cands) in &fresh {
        for f in cands.iter().filter(|f| f.index) {
            if !going_digests.contains(&(f.region.clone(), repo.clone(), digest.clone())) {
                kept_indexes
                    .entry((f.account.clone(), f.region.clone(), f.registry.clone(), repo.clone()))
                    .or_default()
                    .push(digest.clone());
            }
        }
    }
    let mut protected: HashMap<(String, String, String), String> = HashMap::new();
    for ((account, region, registry, repo), digests) in kept_indexes {
        let conn = engine.connections().find_aws(Some(&account), Some(&region)).await?;
        let registry = (!registry.is_empty()).then_some(registry.as_str());
        for (index, children) in manifests::index_children(engine.connections(), &conn, registry, &repo, &digests).await? {
            for child in children {
                protected.insert((region.clone(), repo.clone(), child), index.clone());
            }
        }
    }

    going.sort_by_key(|(_, f, _)| !f.index);
    for (target, f, digest) in going {
        let repo = target.get("repository_name").unwrap_or("").to_string();
        if let Some(index) = protected.get(&(f.region.clone(), repo, digest)) {
            checked.skipped.push(Outcome::skipped(target, format!("referenced by image index {index}")));
            continue;
        }
        checked.bytes.insert(target.clone(), f.size);
        checked.proceed.push(target);
    }
    Ok(checked)
}

/// Checks task definition targets: skip any a service deployment or an
/// unstopped task still uses.
pub async fn check_task_definitions(engine: &Engine, targets: Vec<Target>) -> Result<Checked> {
    let ctx = engine.fresh_session().await.map_err(df_err)?;
    let used = collect(
        &ctx,
        "SELECT d['task_definition'] AS arn, used_by FROM \
           (SELECT arn AS used_by, unnest(deployments) AS d FROM aws_ecs_service) \
         UNION ALL \
         SELECT task_definition_arn AS arn, task_arn AS used_by FROM aws_ecs_task WHERE last_status <> 'STOPPED'",
    )
    .await?;
    let mut users: HashMap<String, String> = HashMap::new();
    for b in &used {
        for (arn, by) in strings(b, "arn").into_iter().zip(strings(b, "used_by")) {
            if let (Some(arn), Some(by)) = (arn, by) {
                let user = users.entry(arn).or_insert_with(|| by.clone());
                if by < *user {
                    *user = by;
                }
            }
        }
    }
    let mut checked = Checked::default();
    for target in targets {
        match target.get("task_definition_arn").map(|a| users.get(a)) {
            None => checked.skipped.push(Outcome::skipped(target, "the row has no task_definition_arn")),
            Some(Some(by)) => {
                let reason = format!("in use by {by}");
                checked.skipped.push(Outcome::skipped(target, reason));
            }
            Some(None) => checked.proceed.push(target),
        }
    }
    Ok(checked)
}
