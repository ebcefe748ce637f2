//! Listing a repository's history: newest first, paged by `Link` headers,
//! and paging stops once `LIMIT` is met.

use skyglue_sandbox::SandboxConfig;

use crate::support::{Env, big_world, rows};

#[tokio::test]
async fn lists_every_commit_newest_first() {
    let env = Env::start(big_world(250), SandboxConfig::default()).await;
    let got =
        rows(&env.engine, "SELECT message FROM github_commit WHERE repository_full_name = 'acme/big'").await;
    assert_eq!(got.len(), 250);
    assert_eq!(got[0], vec!["Change 249".to_string()]);
    assert_eq!(env.calls("ListCommits"), 3);
}

#[tokio::test]
async fn limit_stops_paging() {
    let env = Env::start(big_world(250), SandboxConfig::default()).await;
    let got =
        rows(&env.engine, "SELECT sha FROM github_commit WHERE repository_full_name = 'acme/big' LIMIT 5")
            .await;
    assert_eq!(got.len(), 5);
    assert_eq!(env.calls("ListCommits"), 1);

    env.sandbox.reset_calls();
    let got =
        rows(&env.engine, "SELECT sha FROM github_commit WHERE repository_full_name = 'acme/big' LIMIT 150")
            .await;
    assert_eq!(got.len(), 150);
    assert_eq!(env.calls("ListCommits"), 2);
}

#[tokio::test]
async fn limit_with_a_filter_pages_until_rows_match() {
    let env = Env::start(big_world(250), SandboxConfig::default()).await;
    // The only match is the oldest commit, on the last page.
    let got = rows(
        &env.engine,
        "SELECT message FROM github_commit \
         WHERE repository_full_name = 'acme/big' AND author_name = 'Old Timer' LIMIT 1",
    )
    .await;
    assert_eq!(got, vec![vec!["Change 0".to_string()]]);
    assert_eq!(env.calls("ListCommits"), 3);
}

#[tokio::test]
async fn an_unknown_repository_lists_nothing() {
    let env = Env::start(big_world(3), SandboxConfig::default()).await;
    let got =
        rows(&env.engine, "SELECT sha FROM github_commit WHERE repository_full_name = 'acme/none'").await;
    assert!(got.is_empty());
}

#[tokio::test]
async fn a_next_link_to_another_host_is_refused_before_any_request() {
    use axum::routing::get;

    use crate::fake::{Answer, Fake};
    use crate::support::{engine, error, fast_retries};

    let elsewhere = Fake::serve(vec![Answer::ok(serde_json::json!([]))], |r| {
        r.route("/repos/{owner}/{repo}/commits", get(crate::fake::answer))
    })
    .await;
    let link = format!("<{}/repos/acme/web/commits?page=2>; rel=\"next\"", elsewhere.url);
    let home = Fake::serve(vec![Answer::ok(serde_json::json!([])).header("link", &link)], |r| {
        r.route("/repos/{owner}/{repo}/commits", get(crate::fake::answer))
    })
    .await;
    let cache = tempfile::tempdir().expect("tempdir");
    let engine = engine(home.url.clone(), cache.path(), fast_retries());
    let msg = error(&engine, "SELECT sha FROM github_commit WHERE repository_full_name = 'acme/web'").await;
    assert!(msg.contains(&format!("the next page is on {}", elsewhere.url)), "{msg}");
    assert!(msg.contains("refusing to send the token there"), "{msg}");
    assert_eq!(home.hits(), 1);
    assert_eq!(elsewhere.hits(), 0, "no request went to the other host");
}
