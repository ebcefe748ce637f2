//! Reading once where once is safe: a listing two scans of one query need is
//! made once per connection, and a dry run's check reuses what the run's own
//! query read, while an applying run's check still reads everything again.
//!
//! The policy below selects every image (so only the check can keep one) and
//! reads the in-use view in its query, so a dry run's check finds everything
//! it needs already read.

use skyglue_core::sink::Status;
use skyglue_policy::{Report, RunStatus};
use skyglue_sandbox::{Fault, SandboxConfig};

use crate::guards::{guard_env, replicated_world};
use crate::support::*;

const EVERY_IMAGE_READING_IN_USE: &str = "-- @name: every-image-reading-in-use\n\
    -- @action: delete_ecr_images\n\
    SELECT i.account_id, i.region, i.registry_id, i.repository_name, i.image_digest\n\
    FROM aws_ecr_image i\n\
    LEFT JOIN (SELECT repository_name, count(used_by) AS users,\n\
                      max(coalesce(tag, digest, registry_id, image_region, source)) AS any_ref\n\
               FROM image_in_use GROUP BY repository_name) u\n\
      ON u.repository_name = i.repository_name\n\
    WHERE u.users IS NULL OR u.any_ref IS NOT NULL OR u.users >= 0";

/// Each action as (target, status, reason), with a dry run's `planned` read
/// as the `done` that applying it would give.
fn decisions(report: &Report) -> Vec<(String, Status, Option<String>)> {
    let mut out: Vec<_> = report
        .actions
        .iter()
        .map(|a| {
            let status = if a.status == Status::Planned { Status::Done } else { a.status };
            (a.target.to_string(), status, a.reason.clone())
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

const IN_USE_READS: [&str; 4] =
    ["ecs:ListServices", "ecs:DescribeServices", "ecs:ListTasks", "lambda:ListFunctions"];

#[tokio::test]
async fn a_dry_run_reads_in_use_once_and_decides_as_apply_does() {
    let dry = guard_env(replicated_world(), SandboxConfig::default()).await;
    let planned = dry.run("every.sql", EVERY_IMAGE_READING_IN_USE, false).await;
    assert_eq!(planned.status, RunStatus::Ok, "{planned:?}");

    let applying = guard_env(replicated_world(), SandboxConfig::default()).await;
    let applied = applying.run("every.sql", EVERY_IMAGE_READING_IN_USE, true).await;
    assert_eq!(applied.status, RunStatus::Ok, "{applied:?}");

    assert_eq!(decisions(&planned), decisions(&applied), "the dry run plans what --apply does");
    assert_eq!(planned.summary.bytes_reclaimed, applied.summary.bytes_reclaimed);
    let kept = decisions(&applied).into_iter().filter(|d| d.1 == Status::Skipped).count();
    assert_eq!(kept, 1, "the copy another account runs is kept: {applied:?}");

    for op in IN_USE_READS {
        let (once, twice) = (dry.calls(op), applying.calls(op));
        assert!(once > 0, "{op}: the dry run's query reads it");
        assert_eq!(twice, 2 * once, "{op}: --apply reads it again for its check, the dry run does not");
    }
}

#[tokio::test]
async fn an_applying_run_re_reads_in_use_fresh_before_deleting() {
    // The second ListServices, the check's re-read, fails for good: an
    // applying run must make it, fail, and delete nothing.
    let failing = Fault::nth_call("ecs:ListServices", 2).times(u64::MAX).error(400, "AccessDeniedException");
    let config = SandboxConfig { faults: vec![failing], ..SandboxConfig::default() };
    let env = guard_env(replicated_world(), config.clone()).await;
    let report = env.run("every.sql", EVERY_IMAGE_READING_IN_USE, true).await;
    assert_eq!(report.status, RunStatus::Failed, "{report:?}");
    assert!(report.error.as_deref().is_some_and(|e| e.contains("ListServices")), "{:?}", report.error);
    assert_eq!(env.calls("ecr:BatchDeleteImage"), 0);
    assert_eq!(env.sandbox.world_snapshot().image_count(), 3);

    // The same world and fault in a dry run: the query's one read serves the check.
    let env = guard_env(replicated_world(), config).await;
    let report = env.run("every.sql", EVERY_IMAGE_READING_IN_USE, false).await;
    assert_eq!(report.status, RunStatus::Ok, "{report:?}");
    assert_eq!(env.calls("ecs:ListServices"), 1);
}

#[tokio::test]
async fn clusters_are_listed_once_per_connection_and_query() {
    let env = Env::start(replicated_world()).await;
    env.query("SELECT * FROM aws_ecs_image_in_use").await;
    // Services and tasks both walk the clusters of each of the three connections.
    assert_eq!(env.calls("ecs:ListClusters"), 3);
    env.query("SELECT * FROM aws_ecs_image_in_use").await;
    assert_eq!(env.calls("ecs:ListClusters"), 6, "the next query lists again");
}

#[tokio::test]
async fn lambda_functions_are_listed_once_per_connection_and_query() {
    let env = Env::start(replicated_world()).await;
    // The in-use view reads both aws_lambda_function and aws_lambda_alias,
    // and both start from ListFunctions.
    env.query("SELECT * FROM image_in_use").await;
    assert_eq!(env.calls("lambda:ListFunctions"), 3, "one listing per connection");
    env.query("SELECT * FROM image_in_use").await;
    assert_eq!(env.calls("lambda:ListFunctions"), 6, "the next query lists again");
}

#[tokio::test]
async fn a_table_a_query_reads_twice_is_read_once() {
    let env = Env::start(replicated_world()).await;
    env.query("SELECT image_digest FROM aws_ecr_image").await;
    let once = env.calls("ecr:DescribeImages");
    assert!(once > 0);
    // Two uses of one CTE are two scans in DataFusion's plan, asking for
    // other columns of the same rows, at the same time.
    env.query(
        "WITH i AS (SELECT * FROM aws_ecr_image) \
         SELECT image_digest FROM i UNION ALL SELECT repository_name FROM i",
    )
    .await;
    assert_eq!(env.calls("ecr:DescribeImages"), 2 * once, "the second query reads the images once");
}
