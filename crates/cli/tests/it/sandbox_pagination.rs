//! Every table pages at the API's maximum page size, at and around each page
//! boundary, and describes in the largest batches the API allows.

use skyglue_sandbox::world::{cluster_arn, task_definition_arn};

use crate::support::*;

fn pages(n: usize, size: usize) -> u64 {
    n.div_ceil(size).max(1) as u64
}

#[tokio::test]
async fn ecr_image_pages_at_1000() {
    for n in [999, 1000, 1001, 2001] {
        let mut r = region("us-east-1");
        r.repositories.push(repository("web", n));
        let env = Env::start(world(vec![account(ACCOUNT, vec![r])])).await;
        let got = env.count("SELECT count(*) FROM aws_ecr_image").await;
        assert_eq!(got, n as i64, "rows for {n} images");
        assert_eq!(env.calls("ecr:DescribeImages"), pages(n, 1000), "DescribeImages calls for {n} images");
        assert_eq!(env.calls("ecr:DescribeRepositories"), 1);
    }
}

#[tokio::test]
async fn ecr_repository_pages_at_1000() {
    for n in [999, 1000, 1001] {
        let mut r = region("us-east-1");
        r.repositories = (0..n).map(|i| repository(&format!("repo-{i}"), 0)).collect();
        let env = Env::start(world(vec![account(ACCOUNT, vec![r])])).await;
        assert_eq!(env.count("SELECT count(*) FROM aws_ecr_repository").await, n as i64);
        assert_eq!(env.calls("ecr:DescribeRepositories"), pages(n, 1000), "for {n} repositories");
    }
}

#[tokio::test]
async fn ecs_cluster_lists_and_describes_100_at_a_time() {
    for n in [99, 100, 101] {
        let mut r = region("us-east-1");
        r.clusters = (0..n).map(|i| cluster(&format!("c{i}"), vec![], vec![])).collect();
        let env = Env::start(world(vec![account(ACCOUNT, vec![r])])).await;
        assert_eq!(env.count("SELECT count(*) FROM aws_ecs_cluster").await, n as i64);
        assert_eq!(env.calls("ecs:ListClusters"), pages(n, 100), "ListClusters for {n}");
        assert_eq!(env.calls("ecs:DescribeClusters"), pages(n, 100), "DescribeClusters for {n}");
    }
}

#[tokio::test]
async fn ecs_service_lists_100_and_describes_10() {
    let td = task_definition_arn("us-east-1", ACCOUNT, "web", 1);
    for n in [9, 10, 11, 99, 100, 101] {
        let mut r = region("us-east-1");
        r.clusters.push(cluster("main", (0..n).map(|i| service(&format!("s{i}"), &td)).collect(), vec![]));
        let env = Env::start(world(vec![account(ACCOUNT, vec![r])])).await;
        assert_eq!(env.count("SELECT count(*) FROM aws_ecs_service").await, n as i64);
        assert_eq!(env.calls("ecs:ListServices"), pages(n, 100), "ListServices for {n}");
        assert_eq!(env.calls("ecs:DescribeServices"), pages(n, 10), "DescribeServices for {n}");
    }
}

#[tokio::test]
async fn ecs_task_lists_and_describes_100_at_a_time() {
    let td = task_definition_arn("us-east-1", ACCOUNT, "web", 1);
    for n in [99, 100, 101] {
        let mut r = region("us-east-1");
        let tasks = (0..n).map(|i| task(&format!("t{i}"), &td, "RUNNING")).collect();
        r.clusters.push(cluster("main", vec![], tasks));
        let env = Env::start(world(vec![account(ACCOUNT, vec![r])])).await;
        assert_eq!(
            env.count("SELECT count(*) FROM aws_ecs_task WHERE desired_status = 'RUNNING'").await,
            n as i64
        );
        assert_eq!(env.calls("ecs:ListTasks"), pages(n, 100), "ListTasks for {n}");
        assert_eq!(env.calls("ecs:DescribeTasks"), pages(n, 100), "DescribeTasks for {n}");
    }
}

#[tokio::test]
async fn ecs_task_definition_lists_100_and_describes_only_when_needed() {
    for n in [99, 100, 101] {
        let mut r = region("us-east-1");
        r.task_definitions =
            (1..=n as i32).map(|rev| task_definition("web", rev, "ACTIVE", "nginx")).collect();
        let env = Env::start(world(vec![account(ACCOUNT, vec![r])])).await;
        // family, revision and status come from the listing alone.
        let got = env.count("SELECT count(*) FROM aws_ecs_task_definition WHERE status = 'ACTIVE'").await;
        assert_eq!(got, n as i64);
        assert_eq!(env.calls("ecs:ListTaskDefinitions"), pages(n, 100), "ListTaskDefinitions for {n}");
        assert_eq!(env.calls("ecs:DescribeTaskDefinition"), 0, "no describe without detail columns");
        env.sandbox.reset_calls();
        let got = env
            .count("SELECT count(*) FROM aws_ecs_task_definition WHERE status = 'ACTIVE' AND registered_at IS NOT NULL")
            .await;
        assert_eq!(got, n as i64);
        assert_eq!(env.answered("ecs:DescribeTaskDefinition"), n as u64, "one describe per revision");
    }
}

#[tokio::test]
async fn ecs_clusters_by_key_are_not_listed() {
    let mut r = region("us-east-1");
    r.clusters = (0..3).map(|i| cluster(&format!("c{i}"), vec![], vec![])).collect();
    let env = Env::start(world(vec![account(ACCOUNT, vec![r])])).await;
    let arn = cluster_arn("us-east-1", ACCOUNT, "c1");
    let batches =
        env.query(&format!("SELECT cluster_name FROM aws_ecs_cluster WHERE cluster_arn = '{arn}'")).await;
    assert_eq!(rows(&batches), 1);
    assert_eq!(env.calls("ecs:ListClusters"), 0);
    assert_eq!(env.calls("ecs:DescribeClusters"), 1);
}
