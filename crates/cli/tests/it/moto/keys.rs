//! Key columns pushed into API parameters return exactly the matching rows,
//! in every account and region, including keys that some connections do not
//! have (which the API answers with "not found").

use std::collections::BTreeSet;

use super::cli::text;
use super::compare::assert_same;
use super::library::rows;
use super::world::{ACCOUNT_B, World, moto};

/// `(account_id, region, id)`.
type Key = (String, String, String);

/// `(account_id, region, id)` of `(place, item)` pairs the predicate keeps.
fn seeded<'w, T: 'w>(
    world: &'w World,
    items: impl Fn(&'w super::world::Place) -> &'w [T],
    keep: impl Fn(&T) -> Option<String>,
) -> BTreeSet<Key> {
    world
        .ecs
        .iter()
        .flat_map(|p| {
            items(p).iter().filter_map(|t| keep(t).map(|id| (p.account_id.clone(), p.region.clone(), id)))
        })
        .collect()
}

async fn listed(sql: &str, id: &str) -> BTreeSet<Key> {
    let cell = |row, c| text(row, c).unwrap_or_default().to_string();
    rows(sql).await.rows.iter().map(|r| (cell(r, "account_id"), cell(r, "region"), cell(r, id))).collect()
}

#[tokio::test]
async fn ecr_keys_return_only_the_named_repositories_and_digests() {
    let world = &moto().world;
    let repo = |name: &str| -> BTreeSet<Key> {
        let r = world.repositories.iter().filter(|r| r.repository_name == name);
        r.map(|r| (r.account_id.clone(), r.region.clone(), r.repository_name.clone())).collect()
    };
    let sql =
        "SELECT account_id, region, repository_name FROM aws_ecr_repository WHERE repository_name = 'base'";
    assert_same(&listed(sql, "repository_name").await, &repo("base"));

    // One digest that exists and one that does not: the known one still comes back.
    let image = world.images.iter().find(|i| i.image_tags.len() > 1).expect("a multi-tag image");
    let unknown = format!("sha256:{}", "0".repeat(64));
    let sql = format!(
        "SELECT account_id, region, image_digest FROM aws_ecr_image \
         WHERE repository_name = '{}' AND image_digest IN ('{}', '{unknown}')",
        image.repository_name, image.image_digest
    );
    let expected =
        BTreeSet::from([(image.account_id.clone(), image.region.clone(), image.image_digest.clone())]);
    assert_same(&listed(&sql, "image_digest").await, &expected);
}

#[tokio::test]
async fn ecs_cluster_arn_returns_only_that_clusters_rows() {
    let world = &moto().world;
    let place = world.ecs.iter().find(|p| p.account_id == ACCOUNT_B).expect("account B");
    let cluster = &place.clusters[0].cluster_arn;
    let sql = format!(
        "SELECT account_id, region, cluster_arn FROM aws_ecs_cluster WHERE cluster_arn = '{cluster}'"
    );
    let expected = seeded(world, |p| &p.clusters, |c| Some(c.cluster_arn.clone()).filter(|a| a == cluster));
    assert_same(&listed(&sql, "cluster_arn").await, &expected);

    let apps = &world.ecs[0].clusters[0].cluster_arn;
    let sql = format!("SELECT account_id, region, arn FROM aws_ecs_service WHERE cluster_arn = '{apps}'");
    let expected = seeded(world, |p| &p.services, |s| Some(s.arn.clone()).filter(|_| &s.cluster_arn == apps));
    assert!(expected.len() > 1, "the cluster has several services");
    assert_same(&listed(&sql, "arn").await, &expected);
}

#[tokio::test]
async fn ecs_desired_status_returns_only_those_tasks() {
    let world = &moto().world;
    let sql = "SELECT account_id, region, task_arn FROM aws_ecs_task WHERE desired_status = 'STOPPED'";
    let expected = seeded(world, |p| &p.tasks, |t| Some(t.task_arn.clone()).filter(|_| t.stopped));
    assert!(!expected.is_empty(), "the world has a stopped task");
    assert_same(&listed(sql, "task_arn").await, &expected);
}

#[tokio::test]
async fn task_definition_status_and_family_return_only_matching_revisions() {
    let world = &moto().world;
    let arn = |td: &super::world::TaskDefinition| td.task_definition_arn.clone();
    let sql = "SELECT account_id, region, task_definition_arn FROM aws_ecs_task_definition WHERE status = 'INACTIVE'";
    let expected =
        seeded(world, |p| &p.task_definitions, |td| Some(arn(td)).filter(|_| td.status == "INACTIVE"));
    assert_same(&listed(sql, "task_definition_arn").await, &expected);

    let sql =
        "SELECT account_id, region, task_definition_arn FROM aws_ecs_task_definition WHERE family = 'web'";
    let expected = seeded(world, |p| &p.task_definitions, |td| Some(arn(td)).filter(|_| td.family == "web"));
    let accounts: BTreeSet<&str> = expected.iter().map(|(a, ..)| a.as_str()).collect();
    assert_eq!(accounts.len(), 2, "family web is in both accounts");
    assert_same(&listed(sql, "task_definition_arn").await, &expected);
}
