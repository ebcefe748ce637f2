//! A worker's guard, through its gRPC service (an in-memory cluster of one
//! worker, served as `skyglue worker` serves): a plan with a file scan is
//! refused naming the node, bytes that are not a plan and plans above
//! `max_plan_bytes` are refused with an error (the worker serves on), and a
//! plan of relational operators is accepted.
#![allow(missing_docs)]

use std::sync::Arc;

use datafusion::execution::TaskContext;
use datafusion::physical_plan::metrics::ExecutionPlanMetricsSet;
use datafusion::prelude::{CsvReadOptions, SessionContext};
use datafusion_distributed::{ChannelResolver, MaybeEncoded, SetPlanRequest, TaskKey, WorkerResolver};
use futures::StreamExt;
use skyglue_core::{Connections, Engine, Registry};
use skyglue_distributed::in_memory::InMemoryCluster;
use skyglue_distributed::{ClusterToken, Security};

const MAX_PLAN_BYTES: usize = 64 * 1024;

fn cluster() -> InMemoryCluster {
    let token = ClusterToken::new("TEST_TOKEN", "guard-test").expect("a token");
    let security = Security::with_token(token).with_max_plan_bytes(MAX_PLAN_BYTES);
    InMemoryCluster::start_with(vec![Engine::new(Connections::default(), Registry::new())], &security)
        .expect("a worker")
}

/// Sends `plan` to the cluster's worker as a coordinator would; the error
/// text, or `None` when the worker took the plan.
async fn send(cluster: &InMemoryCluster, plan: Vec<u8>) -> Option<String> {
    let url = cluster.workers().get_urls().expect("urls").remove(0);
    let mut client = cluster.channels().get_worker_client_for_url(&url).await.expect("a client");
    let request = SetPlanRequest {
        task_key: TaskKey { query_id: uuid::Uuid::new_v4(), stage_id: 1, task_number: 0 },
        task_count: 1,
        plan: MaybeEncoded::Encoded(plan),
        work_unit_feed_declarations: Vec::new(),
        target_worker_url: url,
        query_start_time_ns: 0,
    };
    let task_ctx: Arc<TaskContext> = SessionContext::new().task_ctx();
    let metrics = ExecutionPlanMetricsSet::new();
    let sent = client
        .coordinator_channel(
            http::HeaderMap::new(),
            request,
            futures::stream::empty().boxed(),
            metrics,
            &task_ctx,
        )
        .await;
    match sent {
        Ok(_) => None,
        Err(e) => Some(e.to_string()),
    }
}

async fn encoded(ctx: &SessionContext, sql: &str) -> Vec<u8> {
    let plan = ctx.sql(sql).await.expect("planned").create_physical_plan().await.expect("a physical plan");
    datafusion_proto::bytes::physical_plan_to_bytes(plan).expect("encoded").to_vec()
}

const RELATIONAL: &str = "SELECT a, count(*) FROM (VALUES (1), (2), (2)) AS v(a) GROUP BY a ORDER BY a";

#[tokio::test]
async fn a_plan_with_a_csv_scan_is_refused_naming_the_node() {
    let cluster = cluster();
    assert_eq!(send(&cluster, encoded(&SessionContext::new(), RELATIONAL).await).await, None);

    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("id_rsa.csv");
    std::fs::write(&path, "line\nsecret\n").expect("written");
    let ctx = SessionContext::new();
    ctx.register_csv("f", path.to_string_lossy().as_ref(), CsvReadOptions::new()).await.expect("registered");
    let err = send(&cluster, encoded(&ctx, "SELECT * FROM f").await).await.expect("refused");
    assert!(err.contains("refused a plan with a CsvScan node"), "{err}");
    assert!(err.contains("in-memory-worker-1:50051"), "the error does not name the worker: {err}");
}

#[tokio::test]
async fn bytes_that_are_not_a_plan_and_oversized_plans_give_an_error_and_the_worker_serves_on() {
    let cluster = cluster();
    let valid = encoded(&SessionContext::new(), RELATIONAL).await;
    let mut seed = 0x5eed_u64;
    let mut inputs: Vec<Vec<u8>> =
        vec![valid[..valid.len() / 2].to_vec(), valid[..7].to_vec(), vec![0xff; 40]];
    for len in [1, 10, 100, 1000] {
        inputs.push(
            (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    (seed >> 24) as u8
                })
                .collect(),
        );
    }
    for bytes in inputs {
        let err = send(&cluster, bytes.clone()).await;
        assert!(err.is_some(), "{} bytes of noise were taken as a plan", bytes.len());
    }
    let mut oversized = valid.clone();
    oversized.resize(MAX_PLAN_BYTES + 1, 0);
    let err = send(&cluster, oversized).await.expect("refused");
    assert!(err.contains("max_plan_bytes"), "{err}");
    assert_eq!(send(&cluster, valid).await, None, "the worker no longer serves");
}
