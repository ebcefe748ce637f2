//! `github_commit`: commits of GitHub repositories, by SHA or newest first.
//!
//! ```sql
//! SELECT sha, author_login, committed_date, message
//! FROM github_commit
//! WHERE repository_full_name = 'acme/web' AND sha IN ('abc1234', 'def5678');
//! ```
//!
//! With `sha` keys, the commit cache answers first; the rest are looked up
//! with GitHub's GraphQL API, 100 (repository, SHA) pairs per query, or, without
//! a token or where GraphQL is unavailable, one `GET .../commits/{sha}` each, up
//! to 8 at once. A short SHA matches
//! the commit it names, whose `sha` column holds the full SHA; an unknown SHA
//! or repository is no row. Without `sha` keys the default branch is listed
//! newest first, 100 commits per request, and paging stops once `LIMIT` is met.

use std::path::PathBuf;
use std::sync::LazyLock;

use datafusion::arrow::array::RecordBatch;
use futures::StreamExt;
use futures::stream::BoxStream;
use serde::Serialize;
use skyglue_core::spec::{text, timestamp};
use skyglue_core::{ApiTable, ColumnSpec, FetchContext, Result, Scope, TableSpec};

use crate::cache::default_cache_dir;
use crate::commits::{Commits, Session, is_repository, lookups};
use crate::model::Commit;
use skyglue_core::http_retry::RetryPolicy;

static SPEC: LazyLock<TableSpec> = LazyLock::new(|| TableSpec {
    name: "github_commit",
    description: "Commits of GitHub repositories, by SHA or newest first on the default branch.",
    scope: Scope::Global,
    columns: vec![
        ColumnSpec::new("repository_full_name", text(), "The repository, owner/name.").required_key(),
        ColumnSpec::new("sha", text(), "The full 40-character SHA; a filter may give a unique prefix.")
            .prefix_key(),
        ColumnSpec::new(
            "short_sha",
            text(),
            "The first 7 characters of the SHA; join image tags on it (see queries/ecr_cleanup.sql).",
        )
        .optional_key(),
        ColumnSpec::new("author_login", text(), "GitHub login of the author, if the email maps to a user."),
        ColumnSpec::new("author_name", text(), "Author name from the commit."),
        ColumnSpec::new("author_email", text(), "Author email from the commit."),
        ColumnSpec::new("authored_date", timestamp(), "When the change was authored."),
        ColumnSpec::new("committer_name", text(), "Committer name from the commit."),
        ColumnSpec::new("committed_date", timestamp(), "When the commit was made (rebases change this)."),
        ColumnSpec::new("message", text(), "The full commit message."),
        ColumnSpec::new("url", text(), "The commit's page on GitHub."),
    ],
    not_found_codes: &[],
    rate_limits: vec![],
    operations: &[],
});

#[derive(Serialize)]
struct Row<'a> {
    repository_full_name: &'a str,
    sha: &'a str,
    short_sha: &'a str,
    author_login: Option<&'a str>,
    author_name: Option<&'a str>,
    author_email: Option<&'a str>,
    authored_date: Option<i64>,
    committer_name: Option<&'a str>,
    committed_date: Option<i64>,
    message: Option<&'a str>,
    url: Option<&'a str>,
}

/// The `github_commit` table. It keeps the session's commit cache and GitHub
/// client, so register one instance per engine.
#[derive(Debug)]
pub struct GithubCommit {
    session: Session,
}

impl Default for GithubCommit {
    fn default() -> Self {
        Self::new()
    }
}

impl GithubCommit {
    /// The table, caching commits under [`default_cache_dir`] (memory only
    /// when there is none).
    pub fn new() -> Self {
        Self { session: Session::new(default_cache_dir()) }
    }

    /// The table, caching commits under `dir` (tests use a temporary one).
    pub fn with_cache_dir(dir: impl Into<PathBuf>) -> Self {
        Self { session: Session::new(Some(dir.into())) }
    }

    /// The table, caching commits in memory only.
    pub fn without_disk_cache() -> Self {
        Self { session: Session::new(None) }
    }

    /// Retries and rate-limit waits as `policy` says.
    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.session.policy = policy;
        self
    }
}

impl ApiTable for GithubCommit {
    fn spec(&self) -> &TableSpec {
        &SPEC
    }

    fn fetch(&self, ctx: FetchContext) -> BoxStream<'static, Result<RecordBatch>> {
        let commits = match self.session.commits(&ctx.connections.github) {
            Ok(c) => c,
            Err(e) => return futures::stream::once(async { Err(e) }).boxed(),
        };
        let repos: Vec<String> = ctx.keys.get("repository_full_name").unwrap_or_default().to_vec();
        // A short SHA is looked up like a full one: GitHub resolves unique prefixes.
        let refs: Option<Vec<String>> = match (ctx.keys.get("sha"), ctx.keys.get("short_sha")) {
            (None, None) => None,
            (a, b) => Some(a.into_iter().chain(b).flatten().cloned().collect()),
        };
        // A join on (repository, SHA) gives the pairs themselves: look up only those.
        let pairs = ctx
            .keys
            .tuples(&["repository_full_name", "short_sha"])
            .or_else(|| ctx.keys.tuples(&["repository_full_name", "sha"]));
        if let Some(pairs) = pairs {
            let mut by_repo: std::collections::BTreeMap<String, Vec<String>> = Default::default();
            for pair in pairs {
                if let [repo, reference] = pair.as_slice() {
                    by_repo.entry(repo.clone()).or_default().push(reference.clone());
                }
            }
            let jobs = by_repo.into_iter().flat_map(|(repo, refs)| lookups(&[repo], &refs)).collect();
            return by_sha(ctx, commits, jobs);
        }
        match refs {
            Some(refs) => by_sha(ctx, commits, lookups(&repos, &refs)),
            None => history(ctx, commits, repos),
        }
    }
}

/// The commits of the (repository, SHA) lookups, a batch per answer.
fn by_sha(
    ctx: FetchContext,
    commits: Commits,
    lookups: Vec<(String, String)>,
) -> BoxStream<'static, Result<RecordBatch>> {
    commits
        .lookup(ctx.clone(), lookups)
        .map(move |found| to_batch(&ctx, found?.iter().map(|(repo, c)| (repo.as_str(), c.as_ref()))))
        .boxed()
}

/// Each repository's default branch, newest first, a batch per page.
fn history(
    ctx: FetchContext,
    commits: Commits,
    repos: Vec<String>,
) -> BoxStream<'static, Result<RecordBatch>> {
    futures::stream::iter(repos.into_iter().filter(|r| is_repository(r)))
        .map(move |repo| {
            let ctx = ctx.clone();
            commits
                .list(ctx.clone(), repo.clone())
                .map(move |page| to_batch(&ctx, page?.iter().map(|c| (repo.as_str(), c))))
        })
        .flatten()
        .boxed()
}

fn to_batch<'a>(
    ctx: &FetchContext,
    commits: impl Iterator<Item = (&'a str, &'a Commit)>,
) -> Result<RecordBatch> {
    let rows: Vec<Row> = commits
        .map(|(repo, c)| Row {
            repository_full_name: repo,
            sha: &c.sha,
            short_sha: c.sha.get(..7).unwrap_or(&c.sha),
            author_login: c.author_login.as_deref(),
            author_name: c.author_name.as_deref(),
            author_email: c.author_email.as_deref(),
            authored_date: c.authored_date,
            committer_name: c.committer_name.as_deref(),
            committed_date: c.committed_date,
            message: c.message.as_deref(),
            url: c.url.as_deref(),
        })
        .collect();
    ctx.batch(&rows)
}
