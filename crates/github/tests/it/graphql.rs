//! Keyed lookups over GraphQL: 100 per query, partial answers, errors, point
//! budgets, the fallback to REST, and the same rows as REST gives.

use std::time::Duration;

use skyglue_sandbox::demo::demo_sha;
use skyglue_sandbox::{SandboxConfig, World};

use crate::fake::{Answer, Fake};
use crate::support::{Env, big_world, engine, engine_with_token, error, fast_retries, rows};

fn waited(engine: &skyglue_core::Engine) -> u64 {
    engine.connections().counters.snapshot().throttle_wait_nanos
}

/// `SELECT sha FROM github_commit` for the full SHAs of `acme/big`'s commits `range`.
fn big_lookup(world: &World, range: std::ops::Range<usize>) -> String {
    let shas: Vec<String> = world.github[0].commits[range].iter().map(|c| format!("'{}'", c.sha)).collect();
    format!(
        "SELECT sha FROM github_commit WHERE repository_full_name = 'acme/big' AND sha IN ({})",
        shas.join(", ")
    )
}

#[tokio::test]
async fn two_hundred_fifty_keys_are_three_queries_and_a_repeat_is_none() {
    let world = big_world(300);
    let env = Env::start(world.clone(), SandboxConfig::default()).await;
    let sql = big_lookup(&world, 0..250);
    assert_eq!(rows(&env.engine, &sql).await.len(), 250);
    assert_eq!((env.calls("graphql"), env.calls("GetCommit")), (3, 0));
    // The cache is consulted first: the same lookups again make no request.
    assert_eq!(rows(&env.engine, &sql).await.len(), 250);
    assert_eq!(env.calls("graphql"), 3);
}

#[tokio::test]
async fn an_empty_key_set_sends_nothing() {
    let env = Env::demo().await;
    // Neither is a possible SHA, so no lookup remains.
    let none = "SELECT sha FROM github_commit WHERE repository_full_name = 'acme/web' AND sha IN ('main', 'ABC1234')";
    assert!(rows(&env.engine, none).await.is_empty());
    let empty_join = "SELECT c.sha FROM (SELECT 'aaa0001' AS s WHERE false) t \
                      JOIN github_commit c ON c.repository_full_name = 'acme/web' AND c.short_sha = t.s";
    assert!(rows(&env.engine, empty_join).await.is_empty());
    assert!(env.sandbox.calls().keys().all(|k| !k.starts_with("github:")), "{:?}", env.sandbox.calls());
}

#[tokio::test]
async fn a_missing_sha_or_repository_is_no_row_and_the_others_are_rows() {
    let env = Env::demo().await;
    let got = rows(
        &env.engine,
        "SELECT repository_full_name, sha FROM github_commit \
         WHERE repository_full_name IN ('acme/web', 'acme/gone') AND sha IN ('aaa0001', 'dead000', 'bbb0010') \
         ORDER BY sha",
    )
    .await;
    let web = |short: &str| vec!["acme/web".to_string(), demo_sha(short)];
    assert_eq!(got, vec![web("aaa0001"), web("bbb0010")]);
    assert_eq!(env.calls("graphql"), 1, "six lookups over two repositories, one query");
}

#[tokio::test]
async fn other_errors_fail_the_query_naming_the_repository() {
    let answer = serde_json::json!({"data": {"r0": null}, "errors": [{
        "type": "FORBIDDEN", "path": ["r0"], "message": "Resource not accessible by integration",
    }]});
    let fake = Fake::start_graphql(vec![Answer::ok(answer)]).await;
    let cache = tempfile::tempdir().expect("tempdir");
    let engine = engine(fake.url.clone(), cache.path(), fast_retries());
    let msg = error(
        &engine,
        "SELECT sha FROM github_commit WHERE repository_full_name = 'acme/secret' AND sha = 'aaa0001'",
    )
    .await;
    assert!(msg.contains("FORBIDDEN for acme/secret: Resource not accessible by integration"), "{msg}");
    assert!(msg.contains("POST /graphql (1 commit of acme/secret)") && !msg.contains('\n'), "{msg}");
    assert_eq!(fake.hits(), 1, "not retried");
}

#[tokio::test]
async fn enterprise_graphql_is_under_api_graphql() {
    let sha = demo_sha("aaa0001");
    let answer = serde_json::json!({"data": {
        "rateLimit": {"cost": 1, "remaining": 4999, "resetAt": "2030-01-01T00:00:00Z"},
        "r0": {"c0": {"oid": sha, "message": "m", "url": null, "author": null, "committer": null}},
    }});
    let answers = vec![Answer::ok(answer)];
    let fake =
        Fake::serve(answers, |r| r.route("/api/graphql", axum::routing::post(crate::fake::answer))).await;
    let cache = tempfile::tempdir().expect("tempdir");
    let engine = engine(format!("{}/api/v3", fake.url), cache.path(), fast_retries());
    let got = rows(
        &engine,
        "SELECT sha FROM github_commit WHERE repository_full_name = 'acme/web' AND sha = 'aaa0001'",
    )
    .await;
    assert_eq!(got, vec![vec![sha]]);
    assert_eq!(fake.hits(), 1);
}

#[tokio::test]
async fn few_points_left_waits_for_the_reset_before_asking() {
    let config = SandboxConfig {
        github_budget: Some(1),
        github_reset_after: Duration::from_secs(1),
        ..SandboxConfig::default()
    };
    let world = big_world(3);
    let env = Env::start(world.clone(), config).await;
    rows(&env.engine, &big_lookup(&world, 0..1)).await;
    assert_eq!(waited(&env.engine), 0);
    // rateLimit said 0 points remain: the next query waits for resetAt instead of being refused.
    assert_eq!(rows(&env.engine, &big_lookup(&world, 1..3)).await.len(), 2);
    assert!(waited(&env.engine) > 0, "the wait is recorded");
    assert_eq!(env.calls("graphql"), 2);
    assert_eq!(env.sandbox.throttled_calls().get("github:graphql"), None);
}

#[tokio::test]
async fn too_few_points_until_a_distant_reset_fail_without_asking() {
    let config = SandboxConfig {
        github_budget: Some(1),
        github_reset_after: Duration::from_secs(3600),
        ..SandboxConfig::default()
    };
    let world = big_world(3);
    let env = Env::start(world.clone(), config).await;
    rows(&env.engine, &big_lookup(&world, 0..1)).await;
    let msg = error(&env.engine, &big_lookup(&world, 1..3)).await;
    assert!(msg.contains("POST /graphql (2 commits of acme/big)"), "{msg}");
    assert!(msg.contains("too few points") && msg.contains("longer than skyglue waits"), "{msg}");
    assert_eq!(env.calls("graphql"), 1, "the refused query was not sent");
}

#[tokio::test]
async fn a_rate_limited_answer_is_waited_out() {
    let config = SandboxConfig {
        github_budget: Some(1),
        github_reset_after: Duration::from_secs(1),
        ..SandboxConfig::default()
    };
    let world = big_world(3);
    let env = Env::start(world.clone(), config).await;
    rows(&env.engine, &big_lookup(&world, 0..1)).await;
    // A new run knows nothing of the spent budget: GitHub answers 200 RATE_LIMITED.
    let next = env.next_run();
    assert_eq!(rows(&next, &big_lookup(&world, 1..3)).await.len(), 2);
    assert!(waited(&next) > 0, "the wait is recorded");
    assert_eq!(env.sandbox.throttled_calls().get("github:graphql"), Some(&1));
}

#[tokio::test]
async fn without_a_token_lookups_use_rest() {
    let env = Env::demo().await;
    let engine = engine_with_token(env.sandbox.github_api_url(), None, env.cache.path(), fast_retries());
    let sql = "SELECT sha FROM github_commit WHERE repository_full_name = 'acme/web' \
               AND sha IN ('aaa0001', 'aaa0002', 'dead000')";
    assert_eq!(rows(&engine, sql).await.len(), 2);
    assert_eq!((env.calls("graphql"), env.calls("GetCommit")), (0, 3));
}

#[tokio::test]
async fn a_server_without_graphql_falls_back_to_rest_and_remembers() {
    let config = SandboxConfig { github_graphql: false, ..SandboxConfig::default() };
    let env = Env::start(World::demo(), config).await;
    let sql = |shas: &str| {
        format!("SELECT sha FROM github_commit WHERE repository_full_name = 'acme/web' AND sha IN ({shas})")
    };
    assert_eq!(rows(&env.engine, &sql("'aaa0001', 'aaa0002', 'dead000'")).await.len(), 2);
    assert_eq!((env.calls("graphql"), env.calls("GetCommit")), (1, 3));
    assert_eq!(rows(&env.engine, &sql("'aaa0003', 'aaa0004'")).await.len(), 2);
    assert_eq!((env.calls("graphql"), env.calls("GetCommit")), (1, 5), "GraphQL is not asked again");
}

#[tokio::test]
async fn graphql_and_rest_give_identical_rows() {
    let mut world = big_world(4);
    let commits = &mut world.github[0].commits;
    commits[1].author_login = None;
    commits[2].message = "Subject\n\nBody with \"quotes\" and ünïcode".into();
    let env = Env::start(world.clone(), SandboxConfig::default()).await;
    let sql = big_lookup(&world, 0..4).replace("SELECT sha", "SELECT *") + " ORDER BY sha";
    let by_graphql = rows(&env.engine, &sql).await;
    assert_eq!((env.calls("graphql"), env.calls("GetCommit")), (1, 0));

    let rest_cache = tempfile::tempdir().expect("tempdir");
    let rest = engine_with_token(env.sandbox.github_api_url(), None, rest_cache.path(), fast_retries());
    let by_rest = rows(&rest, &sql).await;
    assert_eq!(env.calls("GetCommit"), 4);
    assert_eq!(by_graphql.len(), 4);
    assert_eq!(by_graphql, by_rest);
    assert!(by_graphql[1].contains(&"NULL".to_string()), "no login: {:?}", by_graphql[1]);
}

/// Two repositories of 2,500 commits each, as in the benchmark world, and
/// the SQL that joins all 5,000 (repository, SHA) pairs to `github_commit`.
fn five_thousand() -> (World, String) {
    let mut world = big_world(2500);
    let mut other = world.github[0].clone();
    other.full_name = "acme/other".into();
    for c in &mut other.commits {
        c.sha = c.sha.replacen("00", "ab", 1);
    }
    world.github.push(other);
    let pairs: Vec<String> = world
        .github
        .iter()
        .flat_map(|r| r.commits.iter().map(move |c| format!("('{}', '{}')", r.full_name, c.sha)))
        .collect();
    let sql = format!(
        "SELECT count(*) FROM (VALUES {}) AS t(repo, sha) \
         JOIN github_commit c ON c.repository_full_name = t.repo AND c.sha = t.sha",
        pairs.join(", ")
    );
    (world, sql)
}

#[tokio::test]
async fn five_thousand_commits_through_a_join_are_fifty_queries() {
    let (world, sql) = five_thousand();
    let env = Env::start(world, SandboxConfig::default()).await;
    assert_eq!(rows(&env.engine, &sql).await, vec![vec!["5000".to_string()]]);
    assert_eq!((env.calls("graphql"), env.calls("GetCommit")), (50, 0), "ceil(5000 / 100)");
}

/// The same lookups over REST, for comparison (5,000 requests; slow in a debug
/// build): `cargo test -p skyglue-github --test it -- --ignored five_thousand`.
#[tokio::test]
#[ignore = "5,000 REST requests"]
async fn five_thousand_commits_over_rest_are_five_thousand_requests() {
    let (world, sql) = five_thousand();
    let env = Env::start(world, SandboxConfig::default()).await;
    let rest = engine_with_token(env.sandbox.github_api_url(), None, env.cache.path(), fast_retries());
    assert_eq!(rows(&rest, &sql).await, vec![vec!["5000".to_string()]]);
    assert_eq!((env.calls("graphql"), env.calls("GetCommit")), (0, 5000));
}
