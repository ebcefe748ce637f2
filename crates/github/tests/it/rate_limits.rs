//! Rate limits, retries and final failures. No timing assertions: a test
//! checks that a wait happened and the query then succeeded, not how long.
//! The scripted fake has no `/graphql` (404), so its lookups fall back to REST;
//! GraphQL's own limits are in graphql.rs.

use std::time::Duration;

use skyglue_sandbox::demo::demo_sha;
use skyglue_sandbox::{SandboxConfig, World};

use crate::fake::{Answer, Fake};
use crate::support::{Env, engine, error, fast_retries, rows};

const SIX: &str = "SELECT sha FROM github_commit WHERE repository_full_name = 'acme/web' \
                   AND sha IN ('aaa0001', 'aaa0002', 'aaa0003', 'aaa0004', 'aaa0005', 'aaa0006')";

fn waited(engine: &skyglue_core::Engine) -> u64 {
    engine.connections().counters.snapshot().throttle_wait_nanos
}

#[tokio::test]
async fn a_spent_budget_is_waited_out() {
    let config = SandboxConfig {
        github_budget: Some(3),
        github_reset_after: Duration::from_secs(1),
        // One REST request per commit, so that six of them spend the budget.
        github_graphql: false,
        ..SandboxConfig::default()
    };
    let env = Env::start(World::demo(), config).await;
    let got = rows(&env.engine, SIX).await;
    assert_eq!(got.len(), 6);
    assert!(waited(&env.engine) > 0, "the wait is recorded");
}

#[tokio::test]
async fn retry_after_is_respected() {
    let sha = demo_sha("aaa0001");
    let fake = Fake::start(vec![Answer::status(429).header("retry-after", "1"), Answer::commit(&sha)]).await;
    let cache = tempfile::tempdir().expect("tempdir");
    let engine = engine(fake.url.clone(), cache.path(), fast_retries());
    let got = rows(
        &engine,
        "SELECT sha FROM github_commit WHERE repository_full_name = 'acme/web' AND sha = 'aaa0001'",
    )
    .await;
    assert_eq!(got, vec![vec![sha]]);
    assert_eq!(fake.hits(), 2);
    assert!(waited(&engine) > 0, "the wait is recorded");
}

#[tokio::test]
async fn server_errors_are_retried() {
    let sha = demo_sha("bbb0010");
    let fake = Fake::start(vec![Answer::status(502), Answer::status(503), Answer::commit(&sha)]).await;
    let cache = tempfile::tempdir().expect("tempdir");
    let engine = engine(fake.url.clone(), cache.path(), fast_retries());
    let got = rows(
        &engine,
        "SELECT sha FROM github_commit WHERE repository_full_name = 'acme/web' AND sha = 'bbb0010'",
    )
    .await;
    assert_eq!(got, vec![vec![sha]]);
    assert_eq!(fake.hits(), 3);
    assert_eq!(engine.connections().counters.snapshot().retries, 2);
}

#[tokio::test]
async fn a_final_failure_names_the_repository_and_sha() {
    let fake = Fake::start(vec![Answer::status(500)]).await;
    let cache = tempfile::tempdir().expect("tempdir");
    let engine = engine(fake.url.clone(), cache.path(), fast_retries());
    let msg = error(
        &engine,
        "SELECT sha FROM github_commit WHERE repository_full_name = 'acme/web' AND sha = 'bbb0011'",
    )
    .await;
    assert!(msg.contains("GET /repos/acme/web/commits/bbb0011"), "{msg}");
    assert!(msg.contains("HTTP 500") && msg.contains("after 3 attempts"), "{msg}");
    assert_eq!(fake.hits(), 3);
}

#[tokio::test]
async fn an_unreachable_api_names_the_repository_and_sha() {
    // Nothing listens on a port we just bound and released.
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port").port();
    let cache = tempfile::tempdir().expect("tempdir");
    let engine = engine(format!("http://127.0.0.1:{port}"), cache.path(), fast_retries());
    let msg = error(
        &engine,
        "SELECT sha FROM github_commit WHERE repository_full_name = 'acme/web' AND sha = 'bbb0012'",
    )
    .await;
    // With a token the first request is the GraphQL query, which names the repository.
    assert!(msg.contains("POST /graphql (1 commit of acme/web)") && msg.contains("could not reach"), "{msg}");
}

#[tokio::test]
async fn an_api_that_never_answers_times_out() {
    // A listener that accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            open.push(socket);
        }
    });
    let cache = tempfile::tempdir().expect("tempdir");
    let policy = skyglue_github::RetryPolicy {
        max_attempts: 2,
        request_timeout: Duration::from_millis(200),
        ..fast_retries()
    };
    let engine = engine(format!("http://127.0.0.1:{port}"), cache.path(), policy);
    let msg = error(
        &engine,
        "SELECT sha FROM github_commit WHERE repository_full_name = 'acme/web' AND sha = 'bbb0012'",
    )
    .await;
    held.abort();
    assert!(msg.contains("POST /graphql (1 commit of acme/web)"), "{msg}");
    assert!(msg.contains("no answer within 0.2 s"), "{msg}");
}

#[tokio::test]
async fn a_limit_that_resets_too_late_fails_at_once() {
    let config = SandboxConfig {
        github_budget: Some(0),
        github_reset_after: Duration::from_secs(3600),
        ..SandboxConfig::default()
    };
    let env = Env::start(World::demo(), config).await;
    let msg = error(
        &env.engine,
        "SELECT sha FROM github_commit WHERE repository_full_name = 'acme/web' AND sha = 'aaa0009'",
    )
    .await;
    // GraphQL's spent budget answers 200 with RATE_LIMITED: treated as a 403.
    assert!(msg.contains("POST /graphql (1 commit of acme/web)"), "{msg}");
    assert!(msg.contains("rate limit") && msg.contains("60 min"), "{msg}");
    assert_eq!((env.calls("graphql"), env.calls("GetCommit")), (1, 0));
}
