//! Reading commits: one commit by SHA over REST (through the cache), or a
//! repository's default-branch history page by page, with the session state
//! they share. Batched keyed lookups are in `lookup.rs`.
//!
//! Also decides which lookups a query needs: repository names and SHAs that
//! cannot exist on GitHub are answered with no row and no request, and a SHA
//! that is a prefix of another asked for in the same repository is not asked
//! separately (whatever it resolves to, the longer one's commit matches it too).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use futures::stream::BoxStream;
use skyglue_core::connection::GithubSettings;
use skyglue_core::paging::pages;
use skyglue_core::{Error, FetchContext, Result};

use crate::cache::{Cached, CommitCache};
use crate::client::GithubClient;
use crate::model::{Commit, parse_commit, parse_commits};
use skyglue_core::http_retry::RetryPolicy;

/// GitHub's page size limit for commit listings.
const PAGE_SIZE: usize = 100;

/// What a table keeps for its engine's session: the commit cache, and the
/// client for the GitHub settings last used (one client, reused by every scan).
#[derive(Debug)]
pub(crate) struct Session {
    pub policy: RetryPolicy,
    cache: Arc<CommitCache>,
    client: Mutex<Option<ClientFor>>,
}

/// A client and the (API URL, token) it was built for.
type ClientFor = ((String, Option<String>), Arc<GithubClient>);

impl Session {
    /// A session caching under `cache_dir` (`None`: memory only).
    pub fn new(cache_dir: Option<PathBuf>) -> Self {
        Self {
            policy: RetryPolicy::default(),
            cache: Arc::new(CommitCache::new(cache_dir)),
            client: Mutex::default(),
        }
    }

    /// Commit reads over `settings`, reusing the client when they are unchanged.
    pub fn commits(&self, settings: &GithubSettings) -> Result<Commits> {
        let key = (settings.api_url.clone(), settings.token.clone());
        let mut slot = self.client.lock().unwrap_or_else(|e| e.into_inner());
        let client = match slot.as_ref() {
            Some((k, client)) if *k == key => client.clone(),
            _ => {
                let client = Arc::new(GithubClient::new(settings, self.policy.clone())?);
                *slot = Some((key, client.clone()));
                client
            }
        };
        Ok(Commits { client, cache: self.cache.clone(), api_url: settings.api_url.clone() })
    }
}

/// Commit reads against one API, with the session's cache.
#[derive(Debug, Clone)]
pub(crate) struct Commits {
    pub(crate) client: Arc<GithubClient>,
    pub(crate) cache: Arc<CommitCache>,
    pub(crate) api_url: String,
}

impl Commits {
    /// The commit `reference` (a full or unique short SHA) names in `repo`;
    /// `None` when GitHub knows no such repository or commit.
    pub async fn get(&self, ctx: &FetchContext, repo: &str, reference: &str) -> Result<Option<Arc<Commit>>> {
        match self.cache.get(&self.api_url, repo, reference) {
            Cached::Hit(commit) => return Ok(Some(commit)),
            Cached::Missing => return Ok(None),
            Cached::Unknown => {}
        }
        let path = format!("/repos/{repo}/commits/{reference}");
        let operation = format!("GET {path}");
        let reply = self.client.get(ctx, &path, &operation).await?;
        if reply.is_absent() {
            self.cache.put_missing(&self.api_url, repo, reference);
            return Ok(None);
        }
        let commit = parse_commit(&reply.body).map_err(|e| unexpected(&operation, &e))?;
        self.cache.put(&self.api_url, repo, reference, &commit);
        Ok(Some(Arc::new(commit)))
    }

    /// `repo`'s default branch, newest first, one page of up to 100 commits at
    /// a time. The stream is lazy: a page is requested only when the scan asks
    /// for more rows, so `LIMIT` stops the paging.
    pub fn list(&self, ctx: FetchContext, repo: String) -> BoxStream<'static, Result<Vec<Commit>>> {
        let client = self.client.clone();
        let first = format!("/repos/{repo}/commits?per_page={PAGE_SIZE}");
        let mut page = 0;
        // The token is the next page's URL from the `Link` header.
        pages(format!("GET /repos/{repo}/commits"), move |next: Option<String>| {
            page += 1;
            let (client, ctx) = (client.clone(), ctx.clone());
            let target = next.unwrap_or_else(|| first.clone());
            let operation = format!("GET /repos/{repo}/commits (page {page})");
            async move {
                let reply = client.get(&ctx, &target, &operation).await?;
                if reply.is_absent() {
                    return Ok(None);
                }
                let commits = parse_commits(&reply.body).map_err(|e| unexpected(&operation, &e))?;
                Ok(Some((commits, reply.next)))
            }
        })
    }
}

fn unexpected(operation: &str, e: &serde_json::Error) -> Error {
    Error::Github { operation: operation.to_string(), detail: format!("unexpected answer: {e}") }
}

/// The (repository, SHA) lookups for the keys of a query, each once.
pub(crate) fn lookups(repos: &[String], refs: &[String]) -> Vec<(String, String)> {
    let refs: Vec<&String> = refs.iter().filter(|r| is_sha_prefix(r)).collect();
    let needed: Vec<&String> = refs
        .iter()
        .copied()
        .filter(|r| !refs.iter().any(|o| o.len() > r.len() && o.starts_with(r.as_str())))
        .collect();
    repos
        .iter()
        .filter(|r| is_repository(r))
        .flat_map(|repo| needed.iter().map(move |r| (repo.clone(), (*r).clone())))
        .collect()
}

/// Whether `name` can be a GitHub `owner/name`.
pub(crate) fn is_repository(name: &str) -> bool {
    let ok = |part: &str| {
        !part.is_empty()
            && part != "."
            && part != ".."
            && part.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    name.split_once('/').is_some_and(|(owner, repo)| ok(owner) && ok(repo))
}

/// Whether `r` can name a commit by SHA: 4 to 40 lowercase hex digits, as
/// the `sha` column holds them (an upper-case SHA matches no row).
fn is_sha_prefix(r: &str) -> bool {
    (4..=40).contains(&r.len()) && r.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_prefix_of_another_ref_is_not_looked_up() {
        let full = "abc1234".to_string() + &"0".repeat(33);
        let got = lookups(&strings(&["acme/web"]), &strings(&["abc1234", &full, "def5678"]));
        assert_eq!(got, vec![("acme/web".into(), full), ("acme/web".into(), "def5678".into())]);
    }

    #[test]
    fn impossible_names_and_refs_make_no_request() {
        let got = lookups(
            &strings(&["acme/web", "acme", "../etc", "a/b c"]),
            &strings(&["main", "ABC1234", "abc", "abcd"]),
        );
        assert_eq!(got, vec![("acme/web".into(), "abcd".into())]);
        assert!(is_repository("my-org/my.repo_2"));
        assert!(!is_repository("acme/.."));
    }
}
