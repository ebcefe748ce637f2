//! `image_ref(...)` and the `aws_ecs_image_in_use` view, through the binary,
//! on the image references the seeding put in task definitions.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::cli::{Skyglue, text, two_accounts};
use super::compare::assert_same;
use super::world::{ImageRef, moto};

#[test]
fn image_ref_parses_the_seeded_uris() {
    let skyglue = Skyglue::new(&two_accounts(moto().endpoint()));
    let rows = skyglue.json(
        "SELECT DISTINCT c['image'] AS image, image_ref(c['image']) AS parts \
         FROM (SELECT unnest(container_definitions) AS c FROM aws_ecs_task_definition)",
    );
    let expected: BTreeSet<(String, ImageRef)> = moto()
        .world
        .ecs
        .iter()
        .flat_map(|p| &p.task_definitions)
        .map(|td| (td.image.clone(), td.image_ref.clone()))
        .collect();
    assert!(
        expected.iter().any(|(_, r)| r.digest.is_some()) && expected.iter().any(|(_, r)| r.tag.is_some())
    );
    let actual: BTreeSet<(String, ImageRef)> = rows
        .iter()
        .map(|row| {
            let parts = serde_json::from_value(row["parts"].clone()).expect("image_ref's struct");
            (text(row, "image").expect("image").to_string(), parts)
        })
        .collect();
    assert_same(&actual, &expected);
}

/// The view's columns, as DESIGN.md lists them.
const COLUMNS: [&str; 10] = [
    "account_id",
    "region",
    "used_by",
    "kind",
    "image",
    "registry_id",
    "image_region",
    "repository_name",
    "tag",
    "digest",
];

/// One row of the view: its [`COLUMNS`] as a JSON array.
type InUse = String;

fn in_use(account_id: &str, region: &str, used_by: &str, kind: &str, image: &str, r: &ImageRef) -> InUse {
    json!([
        account_id,
        region,
        used_by,
        kind,
        image,
        r.registry_id,
        r.region,
        r.repository_name,
        r.tag,
        r.digest
    ])
    .to_string()
}

#[test]
fn image_in_use_has_the_documented_columns() {
    let skyglue = Skyglue::new(&two_accounts(moto().endpoint()));
    let out = skyglue.run(&["query", "SELECT * FROM aws_ecs_image_in_use LIMIT 0", "--format", "csv"]);
    assert_eq!(out.code, Some(0), "stderr: {}", out.stderr);
    assert_eq!(out.stdout.lines().next(), Some(COLUMNS.join(",").as_str()));
}

#[test]
fn image_in_use_lists_every_seeded_reference_and_no_stopped_task() {
    let world = &moto().world;
    let mut expected = BTreeSet::new();
    for place in &world.ecs {
        let (account, region) = (&place.account_id, &place.region);
        // Every service counts, the scaled-to-zero ones too.
        for s in &place.services {
            let td = world.task_definition(&s.task_definition);
            expected.insert(in_use(account, region, &s.arn, "service_deployment", &td.image, &td.image_ref));
        }
        // Moto records no running digest, so a task's digest is its reference's.
        for t in place.tasks.iter().filter(|t| !t.stopped) {
            let td = world.task_definition(&t.task_definition_arn);
            expected.insert(in_use(account, region, &t.task_arn, "task", &td.image, &td.image_ref));
        }
    }
    let scaled_to_zero = world.ecs.iter().flat_map(|p| &p.services).filter(|s| s.desired_count == 0).count();
    assert!(scaled_to_zero > 0, "the world has a service scaled to zero");

    let skyglue = Skyglue::new(&two_accounts(moto().endpoint()));
    let rows = skyglue.json("SELECT * FROM aws_ecs_image_in_use");
    let actual: BTreeSet<InUse> = rows
        .iter()
        .map(|row| Value::from_iter(COLUMNS.map(|c| row.get(c).cloned().unwrap_or(Value::Null))).to_string())
        .collect();
    assert_same(&actual, &expected);

    let stopped: Vec<&str> =
        world.ecs.iter().flat_map(|p| &p.tasks).filter(|t| t.stopped).map(|t| t.task_arn.as_str()).collect();
    assert!(!stopped.is_empty(), "the world has a stopped task");
    assert!(rows.iter().all(|row| !stopped.contains(&text(row, "used_by").unwrap_or_default())));
}
