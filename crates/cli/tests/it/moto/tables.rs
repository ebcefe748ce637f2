//! Every table, in-process, against the seeded world: the columns DESIGN.md
//! lists, and exactly the seeded rows of both accounts and both regions.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::cli::{Row, text};
use super::compare::assert_same;
use super::library::rows;
use super::world::moto;

/// The values of `columns` in each row, each row as a JSON array, sorted.
fn project(rows: &[Row], columns: &[&str]) -> BTreeSet<String> {
    rows.iter()
        .map(|r| {
            Value::from_iter(columns.iter().map(|c| r.get(*c).cloned().unwrap_or(Value::Null))).to_string()
        })
        .collect()
}

/// Expected rows in [`project`]'s form.
fn set<const N: usize>(items: impl IntoIterator<Item = [Value; N]>) -> BTreeSet<String> {
    items.into_iter().map(|values| Value::from_iter(values).to_string()).collect()
}

#[tokio::test]
async fn ecr_repository_lists_the_seeded_repositories() {
    let r = rows("SELECT * FROM aws_ecr_repository").await;
    let columns = [
        "account_id",
        "region",
        "registry_id",
        "repository_name",
        "arn",
        "repository_uri",
        "created_at",
        "image_tag_mutability",
        "tags",
    ];
    assert_eq!(r.columns(), columns);
    let cols = ["account_id", "region", "registry_id", "repository_name", "arn", "repository_uri"];
    let expected = set(moto().world.repositories.iter().map(|repo| {
        [
            json!(repo.account_id),
            json!(repo.region),
            json!(repo.account_id),
            json!(repo.repository_name),
            json!(repo.arn),
            json!(repo.repository_uri),
        ]
    }));
    assert_same(&project(&r.rows, &cols), &expected);
    for row in &r.rows {
        assert!(row.contains_key("created_at"), "{row:?}");
        assert_eq!(text(row, "image_tag_mutability"), Some("MUTABLE"), "{row:?}");
    }
}

#[tokio::test]
async fn ecr_image_lists_every_image_with_its_tags_and_untagged_ones_empty() {
    let r = rows("SELECT * FROM aws_ecr_image").await;
    let columns = [
        "account_id",
        "region",
        "registry_id",
        "repository_name",
        "image_digest",
        "image_tags",
        "image_pushed_at",
        "image_size_in_bytes",
        "last_recorded_pull_time",
        "image_manifest_media_type",
        "artifact_media_type",
        "image_uri",
        "image_status",
        "last_archived_at",
        "last_activated_at",
        "subject_digest",
    ];
    assert_eq!(r.columns(), columns);
    let cols =
        ["account_id", "region", "registry_id", "repository_name", "image_digest", "image_tags", "image_uri"];
    let expected = set(moto().world.images.iter().map(|i| {
        let uri = format!(
            "{}.dkr.ecr.{}.amazonaws.com/{}@{}",
            i.account_id, i.region, i.repository_name, i.image_digest
        );
        [
            json!(i.account_id),
            json!(i.region),
            json!(i.account_id),
            json!(i.repository_name),
            json!(i.image_digest),
            json!(i.image_tags),
            json!(uri),
        ]
    }));
    assert_same(&project(&r.rows, &cols), &expected);
    let untagged = r.rows.iter().filter(|row| row.get("image_tags") == Some(&json!([]))).count();
    assert_eq!(untagged, 1, "exactly the one untagged image has an empty tag list");
    for row in &r.rows {
        assert!(row.contains_key("image_pushed_at"), "{row:?}");
        assert_eq!(
            text(row, "image_manifest_media_type"),
            Some("application/vnd.docker.distribution.manifest.v2+json")
        );
    }
}

#[tokio::test]
async fn ecs_cluster_lists_the_clusters_of_both_accounts_and_regions() {
    let r = rows("SELECT * FROM aws_ecs_cluster").await;
    let columns = [
        "account_id",
        "region",
        "cluster_arn",
        "cluster_name",
        "status",
        "active_services_count",
        "running_tasks_count",
        "pending_tasks_count",
    ];
    assert_eq!(r.columns(), columns);
    let expected = set(moto().world.ecs.iter().flat_map(|p| {
        p.clusters.iter().map(|c| {
            [
                json!(p.account_id),
                json!(p.region),
                json!(c.cluster_arn),
                json!(c.cluster_name),
                json!("ACTIVE"),
            ]
        })
    }));
    assert_same(&project(&r.rows, &columns[..5]), &expected);
    for row in &r.rows {
        for count in &columns[5..] {
            assert!(row.get(*count).is_some_and(Value::is_i64), "{count} in {row:?}");
        }
    }
}

#[tokio::test]
async fn ecs_service_lists_services_with_their_deployments() {
    let r = rows("SELECT * FROM aws_ecs_service").await;
    let columns = [
        "account_id",
        "region",
        "cluster_arn",
        "service_name",
        "arn",
        "status",
        "task_definition",
        "desired_count",
        "running_count",
        "launch_type",
        "deployments",
        "deployment_controller",
        "task_sets",
    ];
    assert_eq!(r.columns(), columns);
    let deployment =
        ["id", "status", "task_definition", "desired_count", "running_count", "rollout_state", "created_at"];
    assert_eq!(r.struct_fields("deployments"), deployment);
    let task_set = [
        "id",
        "task_set_arn",
        "status",
        "task_definition",
        "launch_type",
        "running_count",
        "computed_desired_count",
        "created_at",
    ];
    assert_eq!(r.struct_fields("task_sets"), task_set);
    let cols =
        ["account_id", "region", "cluster_arn", "service_name", "arn", "task_definition", "desired_count"];
    let expected = set(moto().world.ecs.iter().flat_map(|p| {
        p.services.iter().map(|s| {
            [
                json!(p.account_id),
                json!(p.region),
                json!(s.cluster_arn),
                json!(s.service_name),
                json!(s.arn),
                json!(s.task_definition),
                json!(s.desired_count),
            ]
        })
    }));
    assert_same(&project(&r.rows, &cols), &expected);
    for row in &r.rows {
        assert_eq!(text(row, "status"), Some("ACTIVE"));
        assert_eq!(text(row, "launch_type"), Some("FARGATE"));
        let deployments = row["deployments"].as_array().expect("deployments is a list");
        assert_eq!(deployments.len(), 1, "{row:?}");
        let d = &deployments[0];
        assert_eq!(d["status"], "PRIMARY", "{row:?}");
        assert_eq!(d["task_definition"], row["task_definition"], "{row:?}");
        assert_eq!(d["desired_count"], row["desired_count"], "{row:?}");
        assert!(d["id"].as_str().is_some_and(|id| id.starts_with("ecs-svc/")), "{row:?}");
        assert!(d.get("created_at").is_some(), "{row:?}");
    }
}

#[tokio::test]
async fn ecs_task_lists_running_and_stopped_tasks_with_their_containers() {
    let r = rows("SELECT * FROM aws_ecs_task").await;
    let columns = [
        "account_id",
        "region",
        "cluster_arn",
        "task_arn",
        "task_definition_arn",
        "group",
        "last_status",
        "desired_status",
        "launch_type",
        "started_at",
        "containers",
    ];
    assert_eq!(r.columns(), columns);
    assert_eq!(r.struct_fields("containers"), ["name", "image", "image_digest", "last_status"]);
    let world = &moto().world;
    let expected = set(world.ecs.iter().flat_map(|p| {
        p.tasks.iter().map(|t| {
            let td = world.task_definition(&t.task_definition_arn);
            let status = if t.stopped { "STOPPED" } else { "RUNNING" };
            [
                json!(p.account_id),
                json!(p.region),
                json!(t.cluster_arn),
                json!(t.task_arn),
                json!(t.task_definition_arn),
                json!(format!("family:{}", td.family)),
                json!(status),
                json!(status),
                json!("FARGATE"),
                json!([{ "name": td.family, "image": td.image }]),
            ]
        })
    }));
    let mut actual = r.rows.clone();
    for row in &mut actual {
        // Moto records no digest a container runs, and reports every container PENDING.
        for container in row["containers"].as_array_mut().expect("containers is a list") {
            let container = container.as_object_mut().expect("container is a struct");
            container.retain(|k, _| k == "name" || k == "image");
        }
    }
    let cols: Vec<&str> = columns[..9].iter().copied().chain(["containers"]).collect();
    assert_same(&project(&actual, &cols), &expected);
}

#[tokio::test]
async fn ecs_task_definition_lists_every_revision_including_inactive_ones() {
    let r = rows("SELECT * FROM aws_ecs_task_definition").await;
    let columns = [
        "account_id",
        "region",
        "task_definition_arn",
        "family",
        "revision",
        "status",
        "registered_at",
        "deregistered_at",
        "container_definitions",
    ];
    assert_eq!(r.columns(), columns);
    assert_eq!(r.struct_fields("container_definitions"), ["name", "image", "essential"]);
    let expected = set(moto().world.ecs.iter().flat_map(|p| {
        p.task_definitions.iter().map(|td| {
            [
                json!(p.account_id),
                json!(p.region),
                json!(td.task_definition_arn),
                json!(td.family),
                json!(td.revision),
                json!(td.status),
                json!([{ "name": td.family, "image": td.image, "essential": true }]),
            ]
        })
    }));
    let cols = [
        "account_id",
        "region",
        "task_definition_arn",
        "family",
        "revision",
        "status",
        "container_definitions",
    ];
    assert_same(&project(&r.rows, &cols), &expected);
    assert!(r.rows.iter().any(|row| text(row, "status") == Some("INACTIVE")));
}

#[tokio::test]
async fn task_definition_arn_equality_returns_only_that_revision() {
    let world = &moto().world;
    let inactive =
        world.ecs[0].task_definitions.iter().find(|td| td.status == "INACTIVE").expect("an INACTIVE one");
    let sql = format!(
        "SELECT task_definition_arn, status FROM aws_ecs_task_definition WHERE task_definition_arn = '{}'",
        inactive.task_definition_arn
    );
    let r = rows(&sql).await;
    let expected = set([[json!(inactive.task_definition_arn), json!("INACTIVE")]]);
    assert_same(&project(&r.rows, &["task_definition_arn", "status"]), &expected);
}

#[tokio::test]
async fn task_definition_arn_in_list_returns_only_those_revisions() {
    let world = &moto().world;
    // One revision from account A in us-east-1 and one from account B in eu-west-1.
    let first = &world.ecs.first().expect("places").task_definitions[0];
    let last = world.ecs.last().expect("places").task_definitions.last().expect("a task definition");
    let sql = format!(
        "SELECT account_id, region, task_definition_arn, revision FROM aws_ecs_task_definition \
         WHERE task_definition_arn IN ('{}', '{}')",
        first.task_definition_arn, last.task_definition_arn
    );
    let r = rows(&sql).await;
    let (a, b) = (&world.ecs[0], world.ecs.last().expect("places"));
    let expected = set([
        [json!(a.account_id), json!(a.region), json!(first.task_definition_arn), json!(first.revision)],
        [json!(b.account_id), json!(b.region), json!(last.task_definition_arn), json!(last.revision)],
    ]);
    assert_same(&project(&r.rows, &["account_id", "region", "task_definition_arn", "revision"]), &expected);
}
