//! Join-key pushdown: a scan fetches only the keys the other side of a join
//! produced, in every join shape, counted with the sandbox's call counters.

use skyglue_sandbox::world::task_definition_arn;

use crate::support::*;

/// 200 revisions of `web`; three services use revisions 5, 50 and 150.
async fn env() -> Env {
    let mut r = region("us-east-1");
    r.task_definitions = (1..=200).map(|rev| task_definition("web", rev, "ACTIVE", "nginx")).collect();
    let services = [5, 50, 150]
        .iter()
        .map(|rev| service(&format!("s{rev}"), &task_definition_arn("us-east-1", ACCOUNT, "web", *rev)))
        .collect();
    r.clusters.push(cluster("main", services, vec![]));
    Env::start(world(vec![account(ACCOUNT, vec![r])])).await
}

async fn assert_describes_three(env: &Env, sql: &str) {
    let batches = env.query(sql).await;
    assert_eq!(rows(&batches), 3, "{sql}\n{}", pretty(&batches));
    assert_eq!(env.calls("ecs:ListTaskDefinitions"), 0, "no listing for {sql}");
    assert_eq!(env.answered("ecs:DescribeTaskDefinition"), 3, "only the referenced revisions for {sql}");
}

#[tokio::test]
async fn in_subquery() {
    let env = env().await;
    assert_describes_three(
        &env,
        "SELECT revision, registered_at FROM aws_ecs_task_definition \
         WHERE task_definition_arn IN (SELECT task_definition FROM aws_ecs_service)",
    )
    .await;
}

#[tokio::test]
async fn inner_join() {
    let env = env().await;
    assert_describes_three(
        &env,
        "SELECT s.service_name, td.revision, td.container_definitions FROM aws_ecs_service s \
         JOIN aws_ecs_task_definition td ON td.task_definition_arn = s.task_definition",
    )
    .await;
}

#[tokio::test]
async fn left_join() {
    let env = env().await;
    assert_describes_three(
        &env,
        "SELECT s.service_name, td.registered_at FROM aws_ecs_service s \
         LEFT JOIN aws_ecs_task_definition td ON td.task_definition_arn = s.task_definition",
    )
    .await;
}

#[tokio::test]
async fn cte() {
    let env = env().await;
    assert_describes_three(
        &env,
        "WITH used AS (SELECT DISTINCT task_definition AS arn FROM aws_ecs_service) \
         SELECT td.revision, td.registered_at FROM used JOIN aws_ecs_task_definition td ON td.task_definition_arn = used.arn",
    )
    .await;
}

#[tokio::test]
async fn explain_shows_join_keys() {
    let env = env().await;
    let out = pretty(
        &env.query(
            "EXPLAIN SELECT td.revision FROM aws_ecs_service s \
             JOIN aws_ecs_task_definition td ON td.task_definition_arn = s.task_definition",
        )
        .await,
    );
    assert!(out.contains("join_keys=[task_definition_arn]"), "{out}");
}

#[tokio::test]
async fn image_in_use_describes_only_referenced_task_definitions() {
    let env = env().await;
    let batches = env.query("SELECT used_by, kind, image FROM aws_ecs_image_in_use").await;
    assert_eq!(rows(&batches), 3);
    assert_eq!(env.calls("ecs:ListTaskDefinitions"), 0);
    assert_eq!(env.answered("ecs:DescribeTaskDefinition"), 3);
}
