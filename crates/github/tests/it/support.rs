//! Shared helpers: an engine over a sandbox (or any URL) with a temporary
//! commit cache, and SQL shortcuts.

use std::path::Path;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::util::display::array_value_to_string;
use skyglue_core::connection::GithubSettings;
use skyglue_core::{Connections, Engine, Registry};
use skyglue_github::{GithubCommit, RetryPolicy};
use skyglue_sandbox::world::{Commit, GithubRepo};
use skyglue_sandbox::{Sandbox, SandboxConfig, World};

/// Retries without the production waits, so failure tests finish quickly.
pub fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        first_backoff: Duration::from_millis(10),
        secondary_wait: Duration::from_millis(10),
        max_wait: Duration::from_secs(30),
        ..RetryPolicy::default()
    }
}

/// An engine whose `github_commit` talks to `api_url` with a token (so keyed
/// lookups use GraphQL) and caches under `cache`.
pub fn engine(api_url: String, cache: &Path, policy: RetryPolicy) -> Engine {
    engine_with_token(api_url, Some("t"), cache, policy)
}

/// [`engine`] with `token` (`None`: no token, so REST only).
pub fn engine_with_token(api_url: String, token: Option<&str>, cache: &Path, policy: RetryPolicy) -> Engine {
    let token = token.map(str::to_string);
    let connections = Connections {
        github: GithubSettings { api_url, token, ..GithubSettings::default() },
        ..Connections::default()
    };
    let table = GithubCommit::with_cache_dir(cache).with_retry_policy(policy);
    Engine::new(connections, Registry::new().table(table))
}

/// A sandbox, an engine over it and a temporary cache directory.
pub struct Env {
    pub sandbox: Sandbox,
    pub engine: Engine,
    pub cache: tempfile::TempDir,
}

impl Env {
    pub async fn start(world: World, config: SandboxConfig) -> Env {
        let sandbox = Sandbox::start(world, config).await.expect("sandbox starts");
        let cache = tempfile::tempdir().expect("tempdir");
        let engine = engine(sandbox.github_api_url(), cache.path(), fast_retries());
        Env { sandbox, engine, cache }
    }

    pub async fn demo() -> Env {
        Self::start(World::demo(), SandboxConfig::default()).await
    }

    /// A second engine (a new run) over the same sandbox and cache directory.
    pub fn next_run(&self) -> Engine {
        engine(self.sandbox.github_api_url(), self.cache.path(), fast_retries())
    }

    /// GitHub calls of one operation (`GetCommit`, `ListCommits`, `graphql`) so far.
    pub fn calls(&self, op: &str) -> u64 {
        self.sandbox.calls().get(&format!("github:{op}")).copied().unwrap_or(0)
    }
}

/// Runs `sql` on a new session of `engine`.
pub async fn try_query(engine: &Engine, sql: &str) -> datafusion::error::Result<Vec<RecordBatch>> {
    engine.session().await?.sql(sql).await?.collect().await
}

/// Runs `sql`, returning its rows as text (NULL as `NULL`).
pub async fn rows(engine: &Engine, sql: &str) -> Vec<Vec<String>> {
    let batches = match try_query(engine, sql).await {
        Ok(b) => b,
        Err(e) => panic!("query failed: {sql}\n{e}"),
    };
    let mut out = Vec::new();
    for batch in &batches {
        for row in 0..batch.num_rows() {
            out.push(
                batch
                    .columns()
                    .iter()
                    .map(|c| {
                        if c.is_null(row) {
                            "NULL".to_string()
                        } else {
                            array_value_to_string(c, row).expect("displays")
                        }
                    })
                    .collect(),
            );
        }
    }
    out
}

/// The message of the error `sql` fails with.
pub async fn error(engine: &Engine, sql: &str) -> String {
    match try_query(engine, sql).await {
        Ok(_) => panic!("query should fail: {sql}"),
        Err(e) => e.to_string(),
    }
}

/// A world with one repository `acme/big` of `n` commits, one a day; the
/// oldest is by `Old Timer`, the rest by `Octo Dev`.
pub fn big_world(n: usize) -> World {
    let start = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).single().expect("date");
    let commits = (0..n)
        .map(|i| {
            let at = start + chrono::Duration::days(i as i64);
            Commit {
                sha: format!("{:040x}", 0xc0ff_ee00_0000_u64 + i as u64),
                author_login: Some("octo-dev".into()),
                author_name: if i == 0 { "Old Timer".into() } else { "Octo Dev".into() },
                author_email: "dev@acme.example".into(),
                authored_date: at,
                committer_name: "GitHub".into(),
                committed_date: at,
                message: format!("Change {i}"),
            }
        })
        .collect();
    World {
        accounts: vec![],
        github: vec![GithubRepo { full_name: "acme/big".into(), default_branch: "main".into(), commits }],
        ..World::default()
    }
}
