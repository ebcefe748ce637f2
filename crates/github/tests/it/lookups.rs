//! Lookups by SHA: full and short SHAs, unknown ones, dedup, joins, the
//! required key, and the commit cache within and across runs. The engine has
//! a token, so lookups go to GraphQL (see graphql.rs for REST).

use skyglue_sandbox::demo::demo_sha;

use crate::support::{Env, error, rows};

#[tokio::test]
async fn a_full_sha_finds_its_commit() {
    let env = Env::demo().await;
    let full = demo_sha("aaa0002");
    let got = rows(
        &env.engine,
        &format!(
            "SELECT repository_full_name, sha, author_login, author_name, author_email, committer_name, message, url \
             FROM github_commit WHERE repository_full_name = 'acme/web' AND sha = '{full}'"
        ),
    )
    .await;
    let url = format!("https://github.com/acme/web/commit/{full}");
    assert_eq!(
        got,
        vec![vec![
            "acme/web".to_string(),
            full,
            "octo-dev".into(),
            "Octo Dev".into(),
            "dev@acme.example".into(),
            "GitHub".into(),
            "Add health check".into(),
            url,
        ]]
    );
    assert_eq!((env.calls("graphql"), env.calls("GetCommit")), (1, 0));
}

#[tokio::test]
async fn a_short_sha_matches_and_shows_the_full_sha() {
    let env = Env::demo().await;
    let got = rows(
        &env.engine,
        "SELECT sha, message FROM github_commit WHERE repository_full_name = 'acme/web' AND sha = 'aaa0002'",
    )
    .await;
    assert_eq!(got, vec![vec![demo_sha("aaa0002"), "Add health check".to_string()]]);
}

#[tokio::test]
async fn unknown_shas_and_repositories_are_no_rows() {
    let env = Env::demo().await;
    let none = rows(
        &env.engine,
        "SELECT sha FROM github_commit WHERE repository_full_name = 'acme/web' AND sha IN ('dead000', 'bbb0010')",
    )
    .await;
    assert_eq!(none, vec![vec![demo_sha("bbb0010")]]);
    let gone = rows(
        &env.engine,
        "SELECT sha FROM github_commit WHERE repository_full_name = 'acme/gone' AND sha = 'bbb0010'",
    )
    .await;
    assert!(gone.is_empty());
}

#[tokio::test]
async fn a_left_join_on_short_sha_tags_gives_nulls_for_unknown_commits() {
    let env = Env::demo().await;
    // Until join keys reach the scan, the subquery names the SHAs itself.
    let got = rows(
        &env.engine,
        "SELECT t.tag, c.sha, c.message \
         FROM (VALUES ('aaa0001'), ('dead000'), ('bbb0011')) AS t(tag) \
         LEFT JOIN (SELECT * FROM github_commit WHERE repository_full_name = 'acme/web' \
                    AND sha IN ('aaa0001', 'dead000', 'bbb0011')) c \
           ON starts_with(c.sha, t.tag) \
         ORDER BY t.tag",
    )
    .await;
    assert_eq!(
        got,
        vec![
            vec!["aaa0001".to_string(), demo_sha("aaa0001"), "Initial web service".into()],
            vec!["bbb0011".to_string(), demo_sha("bbb0011"), "Faster image resizing".into()],
            vec!["dead000".to_string(), "NULL".into(), "NULL".into()],
        ]
    );
    assert_eq!((env.calls("graphql"), env.calls("GetCommit")), (1, 0), "three lookups, one query");
}

#[tokio::test]
async fn each_distinct_commit_is_fetched_once() {
    let env = Env::demo().await;
    let full = demo_sha("aaa0003");
    // The short SHA is a prefix of the full one asked for: one lookup, one row.
    let got = rows(
        &env.engine,
        &format!(
            "SELECT sha FROM github_commit WHERE repository_full_name = 'acme/web' \
             AND sha IN ('aaa0003', '{full}', 'aaa0004', 'aaa0004')"
        ),
    )
    .await;
    assert_eq!(got.len(), 2);
    assert_eq!(env.calls("graphql"), 1);
}

#[tokio::test]
async fn the_required_key_is_named_when_missing() {
    let env = Env::demo().await;
    let msg = error(&env.engine, "SELECT sha FROM github_commit WHERE sha = 'aaa0001'").await;
    assert!(msg.contains("github_commit") && msg.contains("repository_full_name"), "{msg}");
    assert_eq!(env.calls("GetCommit") + env.calls("ListCommits") + env.calls("graphql"), 0);
}

#[tokio::test]
async fn the_session_cache_answers_repeats_without_requests() {
    let env = Env::demo().await;
    let sql = "SELECT sha FROM github_commit WHERE repository_full_name = 'acme/web' \
               AND sha IN ('aaa0005', 'dead000')";
    let first = rows(&env.engine, sql).await;
    let second = rows(&env.engine, sql).await;
    assert_eq!(first, second);
    // The found commit and the missing one are both remembered: no second query.
    assert_eq!(env.calls("graphql"), 1);
}

#[tokio::test]
async fn the_disk_cache_answers_the_next_run_without_requests() {
    let env = Env::demo().await;
    let sql = "SELECT sha, message, committed_date FROM github_commit \
               WHERE repository_full_name = 'acme/web' AND sha IN ('aaa0006', 'bbb0012')";
    let first = rows(&env.engine, sql).await;
    assert_eq!(first.len(), 2);
    let full = demo_sha("aaa0007");
    let by_full =
        format!("SELECT sha FROM github_commit WHERE repository_full_name = 'acme/web' AND sha = '{full}'");
    rows(&env.engine, &by_full).await;
    env.sandbox.reset_calls();

    let next = env.next_run();
    assert_eq!(rows(&next, sql).await, first);
    assert_eq!(rows(&next, &by_full).await, vec![vec![full]]);
    assert!(env.sandbox.calls().keys().all(|k| !k.starts_with("github:")), "{:?}", env.sandbox.calls());
}
