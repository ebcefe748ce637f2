//! Image-to-commit joins fetch only the commits the images name, in every
//! join shape, counted with the sandbox's GitHub call counter. The sandbox
//! engine has a token, so the lookups are GraphQL queries of up to 100 commits.

use skyglue_sandbox::{SandboxConfig, World};

use crate::support::*;

/// Distinct 7-character prefixes of the `web` images' tags that look like SHAs.
const SHA_TAGS: &str = "SELECT DISTINCT left(tag, 7) AS short FROM \
    (SELECT unnest(image_tags) AS tag FROM aws_ecr_image WHERE repository_name = 'web') \
    WHERE regexp_like(tag, '^[0-9a-f]{7,40}$')";

async fn env() -> Env {
    Env::start_with(World::demo(), SandboxConfig::default()).await
}

async fn distinct_sha_tags(env: &Env) -> u64 {
    let n = rows(&env.query(SHA_TAGS).await) as u64;
    env.sandbox.reset_calls();
    n
}

async fn assert_fetches_only_tagged_commits(env: &Env, sql: &str) {
    let tags = distinct_sha_tags(env).await;
    let batches = env.query(sql).await;
    assert!(rows(&batches) > 0, "{sql}\n{}", pretty(&batches));
    let queries = env.calls("github:graphql");
    assert!(queries <= tags.div_ceil(100), "{queries} GraphQL queries for {tags} distinct SHA tags: {sql}");
    assert!(queries > 0, "the commits were fetched");
    assert_eq!(env.calls("github:GetCommit"), 0, "no REST lookups: {sql}");
    assert_eq!(env.calls("github:ListCommits"), 0, "no branch listing: {sql}");
}

#[tokio::test]
async fn inner_join_through_unnest() {
    let env = env().await;
    // dead000 is not on GitHub: the inner join drops it.
    let sql = "SELECT t.tag, c.committed_date FROM \
        (SELECT unnest(image_tags) AS tag FROM aws_ecr_image WHERE repository_name = 'web') t \
        JOIN github_commit c ON c.repository_full_name = 'acme/web' AND c.short_sha = left(t.tag, 7) \
        WHERE starts_with(c.sha, t.tag)";
    assert_fetches_only_tagged_commits(&env, sql).await;
}

#[tokio::test]
async fn left_join_gives_null_for_unknown_commits() {
    let env = env().await;
    let sql = "SELECT t.tag, c.sha FROM \
        (SELECT unnest(image_tags) AS tag FROM aws_ecr_image WHERE repository_name = 'web') t \
        LEFT JOIN github_commit c ON c.repository_full_name = 'acme/web' AND c.short_sha = left(t.tag, 7) \
        WHERE t.tag = 'dead000'";
    let batches = env.query(sql).await;
    assert_eq!(rows(&batches), 1);
    assert!(pretty(&batches).contains("| dead000 |     |"), "{}", pretty(&batches));
}

#[tokio::test]
async fn in_subquery() {
    let env = env().await;
    let tags = distinct_sha_tags(&env).await;
    let sql = format!(
        "SELECT sha, committed_date FROM github_commit \
         WHERE repository_full_name = 'acme/web' AND short_sha IN ({SHA_TAGS})"
    );
    let batches = env.query(&sql).await;
    assert!(rows(&batches) > 0);
    assert!(env.calls("github:graphql") <= tags.div_ceil(100));
    assert_eq!(env.calls("github:GetCommit") + env.calls("github:ListCommits"), 0);
}

#[tokio::test]
async fn cte() {
    let env = env().await;
    let tags = distinct_sha_tags(&env).await;
    let sql = format!(
        "WITH tagged AS ({SHA_TAGS}) \
         SELECT c.sha FROM tagged JOIN github_commit c \
         ON c.repository_full_name = 'acme/web' AND c.short_sha = tagged.short"
    );
    let batches = env.query(&sql).await;
    assert!(rows(&batches) > 0);
    assert!(env.calls("github:graphql") <= tags.div_ceil(100));
    assert_eq!(env.calls("github:GetCommit") + env.calls("github:ListCommits"), 0);
}
