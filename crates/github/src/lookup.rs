//! Keyed commit lookups, the fewest requests first: the commit cache, then
//! GraphQL queries of up to 100 lookups each (with a token), else REST, one
//! request per commit.
//!
//! GraphQL is skipped without a token (GitHub requires one) and, for the rest
//! of the session, once the endpoint answers 404 (a GitHub Enterprise without
//! it): the batch that found out is then looked up over REST. Every commit
//! found, and every "no such commit", goes into the cache as a REST answer would.

use std::sync::Arc;
use std::time::Duration;

use futures::stream::{self, BoxStream};
use futures::{StreamExt, TryStreamExt};
use skyglue_core::table::DEFAULT_CONCURRENCY;
use skyglue_core::{Error, FetchContext, Result};

use crate::cache::Cached;
use crate::commits::Commits;
use crate::graphql::{self, BATCH};
use crate::model::Commit;

/// GraphQL queries in flight at once. GitHub asks for few concurrent requests
/// (secondary limits); 100 lookups a query make a handful plenty.
const GRAPHQL_CONCURRENCY: usize = 2;

/// A commit found for a repository.
pub(crate) type Found = (String, Arc<Commit>);

impl Commits {
    /// The commits `lookups` ((repository, full or short SHA) pairs) name, in
    /// batches of rows: cached ones first, then as each request answers. A
    /// lookup GitHub has no commit for yields nothing.
    pub fn lookup(
        &self,
        ctx: FetchContext,
        lookups: Vec<(String, String)>,
    ) -> BoxStream<'static, Result<Vec<Found>>> {
        let mut hits = Vec::new();
        let mut unknown = Vec::new();
        // A join hands over one pair per row of its other side: many images
        // share a commit, and each commit is looked up (and yielded) once.
        let mut seen = std::collections::HashSet::new();
        for (repo, reference) in lookups {
            if !seen.insert((repo.clone(), reference.clone())) {
                continue;
            }
            match self.cache.get(&self.api_url, &repo, &reference) {
                Cached::Hit(commit) => hits.push((repo, commit)),
                Cached::Missing => {}
                Cached::Unknown => unknown.push((repo, reference)),
            }
        }
        let cached = stream::iter((!hits.is_empty()).then_some(Ok(hits)));
        if unknown.is_empty() {
            return cached.boxed();
        }
        if !self.client.has_graphql() {
            return cached.chain(self.rest(ctx, unknown)).boxed();
        }
        let batches: Vec<Vec<(String, String)>> = unknown.chunks(BATCH).map(<[_]>::to_vec).collect();
        let this = self.clone();
        let queried = stream::iter(batches)
            .map(move |batch| {
                let (this, ctx) = (this.clone(), ctx.clone());
                async move { this.graphql_batch(ctx, batch).await }
            })
            .buffer_unordered(GRAPHQL_CONCURRENCY);
        cached.chain(queried).boxed()
    }

    /// One GraphQL query for `batch`, or REST when GraphQL turns out to be unavailable.
    async fn graphql_batch(&self, ctx: FetchContext, batch: Vec<(String, String)>) -> Result<Vec<Found>> {
        if !self.client.has_graphql() {
            return self.rest(ctx, batch).try_concat().await;
        }
        let operation = operation(&batch);
        self.wait_for_points(&ctx, &operation).await?;
        let body = serde_json::json!({ "query": graphql::query(&batch) });
        let reply = self.client.graphql(&ctx, &body, &operation).await?;
        if reply.status == 404 {
            self.client.graphql_unavailable();
            return self.rest(ctx, batch).try_concat().await;
        }
        let fail = |detail: String| Error::Github { operation: operation.clone(), detail };
        if reply.is_absent() {
            return Err(fail(format!(
                "HTTP {}: {}",
                reply.status,
                reply.body.chars().take(200).collect::<String>()
            )));
        }
        let answer = graphql::parse(&reply.body, &batch).map_err(fail)?;
        if let Some(rate) = answer.rate
            && let Some(mut points) = self.client.points()
        {
            points.update(rate);
        }
        let mut found = Vec::new();
        for ((repo, reference), commit) in batch.into_iter().zip(answer.commits) {
            match commit {
                Some(commit) => {
                    self.cache.put(&self.api_url, &repo, &reference, &commit);
                    found.push((repo, Arc::new(commit)));
                }
                None => self.cache.put_missing(&self.api_url, &repo, &reference),
            }
        }
        Ok(found)
    }

    /// Holds the query back while the last answer left fewer points than it
    /// costs, up to the retry policy's longest wait.
    async fn wait_for_points(&self, ctx: &FetchContext, operation: &str) -> Result<()> {
        let max_wait = self.client.policy().max_wait;
        let now = || chrono::Utc::now().timestamp();
        while let Some(wait) = self.client.points().and_then(|mut p| p.reserve(now())) {
            if wait > max_wait {
                let detail = format!(
                    "GitHub's GraphQL rate limit has too few points left for the next query and resets in {} s, \
                     longer than skyglue waits ({} s); try again then, or use a token with a higher limit",
                    wait.as_secs(),
                    max_wait.as_secs()
                );
                return Err(Error::Github { operation: operation.to_string(), detail });
            }
            // resetAt has whole seconds: wake just after it.
            let wait = wait + Duration::from_millis(100);
            tokio::time::sleep(wait).await;
            ctx.metrics.throttle_wait(wait);
            if let Some(mut points) = self.client.points() {
                points.refilled();
            }
        }
        Ok(())
    }

    /// One REST request per lookup, up to 8 at once; a batch of whatever is ready.
    fn rest(
        &self,
        ctx: FetchContext,
        lookups: Vec<(String, String)>,
    ) -> BoxStream<'static, Result<Vec<Found>>> {
        let this = self.clone();
        stream::iter(lookups)
            .map(move |(repo, reference)| {
                let (this, ctx) = (this.clone(), ctx.clone());
                async move { Ok(this.get(&ctx, &repo, &reference).await?.map(|c| (repo, c))) }
            })
            .buffer_unordered(DEFAULT_CONCURRENCY)
            .ready_chunks(100)
            .map(|chunk| chunk.into_iter().filter_map(Result::transpose).collect())
            .boxed()
    }
}

/// `POST /graphql (3 commits of acme/web, acme/api)`: names the repositories in errors.
fn operation(batch: &[(String, String)]) -> String {
    let mut repos: Vec<&str> = batch.iter().map(|(r, _)| r.as_str()).collect();
    repos.sort_unstable();
    repos.dedup();
    let commits = if batch.len() == 1 { "commit" } else { "commits" };
    format!("POST /graphql ({} {commits} of {})", batch.len(), repos.join(", "))
}
