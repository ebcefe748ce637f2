//! GitHub REST: commits by SHA or short SHA, listing with Link headers, rate limits.

use std::time::Duration;

use skyglue_sandbox::demo::demo_sha;
use skyglue_sandbox::{Sandbox, SandboxConfig, World};

use crate::client::get;
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
