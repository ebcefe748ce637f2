//! GitHub REST: commits by SHA or short SHA, listing with Link headers, rate limits;
//! GitHub GraphQL: aliased object lookups, NOT_FOUND entries, rateLimit, the 404 knob.

use std::time::Duration;

use skyglue_sandbox::demo::demo_sha;
use skyglue_sandbox::{Sandbox, SandboxConfig, World};

use crate::client::{Resp, get, request};
use crate::worlds::start;

#[tokio::test]
async fn commits_resolve_by_full_or_short_sha() {
    let sb = start(World::demo()).await;
    let full = demo_sha("aaa0001");
    for reference in [full.as_str(), "aaa0001", &full[..10]] {
        let r = get(&sb, &format!("/repos/acme/web/commits/{reference}")).await;
        assert_eq!(r.status, 200, "{reference}: {}", r.body);
        let c = r.json();
        assert_eq!(c["sha"], full.as_str());
        assert_eq!(c["commit"]["message"], "Initial web service");
        assert_eq!(c["author"]["login"], "octo-dev");
        assert!(c["commit"]["committer"]["date"].as_str().unwrap().ends_with('Z'));
        assert!(r.header("x-ratelimit-remaining").is_some());
    }
    let r = get(&sb, "/repos/acme/web/commits/dead000").await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["message"], "No commit found for SHA: dead000");
    assert_eq!(get(&sb, "/repos/acme/web/commits/aaa").await.status, 422);
    let r = get(&sb, "/repos/acme/nope/commits/aaa0001").await;
    assert_eq!((r.status, r.json()["message"].clone()), (404, "Not Found".into()));
    // "aaa000" is a prefix of nine commits: ambiguous, so not found.
    assert_eq!(get(&sb, "/repos/acme/web/commits/aaa000").await.status, 422);
    let repo = get(&sb, "/repos/acme/web").await.json();
    assert_eq!(
        (repo["full_name"].clone(), repo["default_branch"].clone()),
        ("acme/web".into(), "main".into())
    );
}

#[tokio::test]
async fn list_commits_pages_newest_first_with_link_headers() {
    let sb = start(World::demo()).await;
    let first = get(&sb, "/repos/acme/web/commits?per_page=5").await;
    let commits = first.json();
    assert_eq!(commits.as_array().unwrap().len(), 5);
    assert_eq!(commits[0]["sha"], demo_sha("bbb0013"));
    let link = first.header("link").unwrap();
    let next = format!("<{}/repos/acme/web/commits?page=2&per_page=5>; rel=\"next\"", sb.github_api_url());
    assert!(link.contains(&next), "{link}");
    let last = get(&sb, "/repos/acme/web/commits?per_page=5&page=3").await;
    assert_eq!(last.json().as_array().unwrap().len(), 3);
    assert!(last.header("link").is_none());
    let default = get(&sb, "/repos/acme/web/commits").await.json();
    assert_eq!(default.as_array().unwrap().len(), 13, "default page of 30 holds all 13");
    assert_eq!(sb.calls().get("github:ListCommits"), Some(&3));
}

#[tokio::test]
async fn a_spent_budget_answers_403_until_the_window_resets() {
    let config = SandboxConfig {
        github_budget: Some(2),
        github_reset_after: Duration::from_millis(1500),
        ..SandboxConfig::default()
    };
    let sb = Sandbox::start(World::demo(), config).await.unwrap();
    for remaining in ["1", "0"] {
        let r = get(&sb, "/repos/acme/web/commits/aaa0001").await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("x-ratelimit-remaining"), Some(remaining));
    }
    let r = get(&sb, "/repos/acme/web/commits/aaa0001").await;
    assert_eq!(r.status, 403);
    assert_eq!(r.header("x-ratelimit-remaining"), Some("0"));
    assert!(r.header("retry-after").is_some());
    let reset: i64 = r.header("x-ratelimit-reset").unwrap().parse().unwrap();
    assert!(reset >= chrono::Utc::now().timestamp());
    assert_eq!(sb.throttled_calls().get("github:GetCommit"), Some(&1));
    assert_eq!(sb.calls().get("github:GetCommit"), Some(&3));
    let limits = get(&sb, "/rate_limit").await.json();
    assert_eq!(limits["resources"]["core"]["remaining"], 0);
    tokio::time::sleep(Duration::from_millis(1700)).await;
    assert_eq!(get(&sb, "/repos/acme/web/commits/aaa0001").await.status, 200);
}

/// `POST /graphql` with a token, as a GitHub client sends it.
async fn graphql(sb: &Sandbox, query: &str) -> Resp {
    let headers = [("Content-Type", "application/json".to_owned()), ("Authorization", "bearer t".to_owned())];
    let body = serde_json::json!({ "query": query }).to_string();
    request(sb.local_addr(), "POST", "/graphql", &headers, &body).await
}

const COMMIT_FIELDS: &str = "... on Commit { oid abbreviatedOid message url authoredDate committedDate \
                             author { name email date user { login } } committer { name date } }";

#[tokio::test]
async fn graphql_answers_aliased_lookups_and_not_found_entries() {
    let sb = start(World::demo()).await;
    let full = demo_sha("aaa0002");
    let query = format!(
        "query {{ rateLimit {{ cost remaining resetAt }} \
         r0: repository(owner: \"acme\", name: \"web\") {{ \
           c0: object(oid: \"{full}\") {{ {COMMIT_FIELDS} }} \
           c1: object(expression: \"bbb0010\") {{ {COMMIT_FIELDS} }} \
           c2: object(expression: \"dead000\") {{ {COMMIT_FIELDS} }} }} \
         r1: repository(owner: \"acme\", name: \"gone\") {{ c3: object(expression: \"aaa0001\") {{ oid }} }} }}"
    );
    let r = graphql(&sb, &query).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("x-ratelimit-resource"), Some("graphql"));
    let answer = r.json();
    let c0 = &answer["data"]["r0"]["c0"];
    assert_eq!(c0["oid"], full.as_str());
    assert_eq!(c0["abbreviatedOid"], "aaa0002");
    assert_eq!(c0["message"], "Add health check");
    assert_eq!(c0["author"]["user"]["login"], "octo-dev");
    assert_eq!(c0["url"], format!("https://github.com/acme/web/commit/{full}").as_str());
    assert_eq!(answer["data"]["r0"]["c1"]["oid"], demo_sha("bbb0010").as_str());
    assert!(answer["data"]["r0"]["c2"].is_null() && answer["data"]["r1"].is_null());
    let errors = answer["errors"].as_array().expect("errors");
    let paths: Vec<String> = errors.iter().map(|e| e["path"].to_string()).collect();
    assert_eq!(paths, [r#"["r0","c2"]"#, r#"["r1"]"#]);
    assert!(errors.iter().all(|e| e["type"] == "NOT_FOUND"));
    assert_eq!(answer["data"]["rateLimit"]["cost"], 1);
    assert!(answer["data"]["rateLimit"]["resetAt"].as_str().unwrap().ends_with('Z'));
    assert_eq!(sb.calls().get("github:graphql"), Some(&1));
    assert_eq!(sb.calls().get("github:GetCommit"), None);
}

#[tokio::test]
async fn graphql_refuses_what_github_refuses() {
    let sb = start(World::demo()).await;
    let empty = graphql(&sb, "query { }").await;
    assert_eq!(empty.status, 200);
    assert!(empty.json()["errors"][0]["message"].as_str().unwrap().contains("Parse error"));
    assert!(empty.json().get("data").is_none());
    let unknown = graphql(&sb, "{ r0: repository(owner: \"acme\", name: \"web\") { diskUsage } }").await;
    assert_eq!(
        unknown.json()["errors"][0]["message"],
        "Field 'diskUsage' doesn't exist on type 'Repository'"
    );
    let anonymous =
        request(sb.local_addr(), "POST", "/graphql", &[], r#"{"query": "{ rateLimit { cost } }"}"#).await;
    assert_eq!(anonymous.status, 401);
}

#[tokio::test]
async fn graphql_spends_the_budget_one_point_per_query() {
    let config = SandboxConfig {
        github_budget: Some(2),
        github_reset_after: Duration::from_secs(60),
        ..SandboxConfig::default()
    };
    let sb = Sandbox::start(World::demo(), config).await.unwrap();
    for remaining in [1, 0] {
        let r = graphql(&sb, "{ rateLimit { cost remaining limit used } }").await;
        assert_eq!(r.json()["data"]["rateLimit"]["remaining"], remaining);
        assert_eq!(r.header("x-ratelimit-remaining"), Some(remaining.to_string().as_str()));
    }
    let spent = graphql(&sb, "{ rateLimit { remaining } }").await;
    assert_eq!(spent.status, 200, "GitHub answers a spent GraphQL budget with 200");
    assert_eq!(spent.json()["errors"][0]["type"], "RATE_LIMITED");
    assert_eq!(spent.header("x-ratelimit-remaining"), Some("0"));
    assert_eq!(sb.throttled_calls().get("github:graphql"), Some(&1));
}

#[tokio::test]
async fn graphql_can_be_switched_off() {
    let config = SandboxConfig { github_graphql: false, ..SandboxConfig::default() };
    let sb = Sandbox::start(World::demo(), config).await.unwrap();
    assert_eq!(graphql(&sb, "{ rateLimit { cost } }").await.status, 404);
    assert_eq!(sb.calls().get("github:graphql"), Some(&1));
}
