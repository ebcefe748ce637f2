//! A GitHub REST fake: get a repository, get a commit by SHA (or a unique prefix of at
//! least 4 hex digits), and list commits newest first with `per_page`/`page` and a `Link`
//! header. Every answer carries `x-ratelimit-*` headers; once the configured budget is
//! spent, requests get 403 until the window resets. The GraphQL endpoint is in
//! [`graphql`].

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::state::State;
use crate::world::{Commit, GithubRepo};

pub(crate) mod graphql;

/// Rate-limit headers of one answer.
pub(crate) type RateHeaders = Vec<(&'static str, String)>;

/// One request's place in the budget: the `x-ratelimit-*` values of its answer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Budget {
    /// Requests per window.
    pub limit: u64,
    /// Requests left after this one.
    pub remaining: u64,
    /// When the window resets, in epoch seconds.
    pub reset: i64,
    /// Seconds until the reset, for a refused request's `retry-after`.
    pub retry_after: Option<u64>,
}

impl Budget {
    /// The rate-limit headers of an answer from `resource` (`core`, `graphql`).
    pub(crate) fn headers(&self, resource: &str) -> RateHeaders {
        let mut h = headers(self.limit, self.remaining, self.reset);
        if let Some(r) = h.iter_mut().find(|(name, _)| *name == "x-ratelimit-resource") {
            r.1 = resource.to_owned();
        }
        if let Some(after) = self.retry_after {
            h.push(("retry-after", after.to_string()));
        }
        h
    }
}

/// Counts the call of `op` and spends one request of the budget; `Err` once the
/// budget is spent (the call is then counted as throttled too). REST and GraphQL
/// share one budget here (GitHub keeps one per resource), one request per query.
pub(crate) fn spend(state: &State, op: &str) -> Result<Budget, Budget> {
    state.counters.count(op);
    let mut w = state.github.lock().unwrap_or_else(|e| e.into_inner());
    let now = Instant::now();
    if w.resets_at.is_some_and(|r| now >= r) {
        w.used = 0;
        w.resets_at = None;
    }
    let Some(budget) = state.config.github_budget else {
        let reset = Utc::now().timestamp() + 3600;
        return Ok(Budget { limit: 5000, remaining: 5000, reset, retry_after: None });
    };
    let reset_at = *w.resets_at.get_or_insert(now + state.config.github_reset_after);
    let wait = reset_at.saturating_duration_since(now);
    let reset = Utc::now().timestamp() + wait.as_secs_f64().ceil() as i64;
    if w.used >= budget {
        state.counters.throttled(op);
        let retry_after = Some(wait.as_secs_f64().ceil().max(1.0) as u64);
        return Err(Budget { limit: budget, remaining: 0, reset, retry_after });
    }
    w.used += 1;
    Ok(Budget { limit: budget, remaining: budget - w.used, reset, retry_after: None })
}

/// Counts the call and spends one request of the budget; a 403 once it is spent.
fn gate(state: &State, op: &str) -> Result<RateHeaders, Box<Response>> {
    spend(state, op).map(|b| b.headers("core")).map_err(|spent| {
        let body = json!({
            "message": "API rate limit exceeded for user ID 1.",
            "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
        });
        Box::new(with_headers(StatusCode::FORBIDDEN, spent.headers("core"), body))
    })
}

/// `GET /rate_limit`: the budget's state; free, like on GitHub.
pub(crate) async fn rate_limit(AxState(state): AxState<Arc<State>>) -> Response {
    let w = state.github.lock().unwrap_or_else(|e| e.into_inner());
    let now = Instant::now();
    let (limit, used, reset) = match (state.config.github_budget, w.resets_at) {
        (Some(budget), Some(r)) if r > now => {
            let wait = r.saturating_duration_since(now).as_secs_f64().ceil() as i64;
            (budget, w.used.min(budget), Utc::now().timestamp() + wait)
        }
        (Some(budget), _) => (budget, 0, Utc::now().timestamp()),
        (None, _) => (5000, 0, Utc::now().timestamp() + 3600),
    };
    let core = json!({"limit": limit, "remaining": limit - used, "reset": reset, "used": used});
    axum::Json(json!({"resources": {"core": core}, "rate": core})).into_response()
}

fn headers(limit: u64, remaining: u64, reset: i64) -> RateHeaders {
    vec![
        ("x-ratelimit-limit", limit.to_string()),
        ("x-ratelimit-remaining", remaining.to_string()),
        ("x-ratelimit-reset", reset.to_string()),
        ("x-ratelimit-used", (limit - remaining).to_string()),
        ("x-ratelimit-resource", "core".to_owned()),
    ]
}

pub(crate) fn with_headers(status: StatusCode, headers: RateHeaders, body: Value) -> Response {
    let mut response = (status, axum::Json(body)).into_response();
    for (name, value) in headers {
        if let Ok(v) = value.parse() {
            response.headers_mut().insert(name, v);
        }
    }
    response
}

fn not_found(h: RateHeaders) -> Response {
    let body = json!({
        "message": "Not Found",
        "documentation_url": "https://docs.github.com/rest",
        "status": "404",
    });
    with_headers(StatusCode::NOT_FOUND, h, body)
}

fn with_repo<F>(state: &State, owner: &str, repo: &str, h: RateHeaders, f: F) -> Response
where
    F: FnOnce(&GithubRepo, RateHeaders) -> Response,
{
    let world = state.world();
    match world.github_repo(&format!("{owner}/{repo}")) {
        Some(r) => f(r, h),
        None => not_found(h),
    }
}

/// `GET /repos/{owner}/{repo}`.
pub(crate) async fn get_repo(
    AxState(state): AxState<Arc<State>>,
    Path((owner, repo)): Path<(String, String)>,
) -> Response {
    let h = match gate(&state, "github:GetRepository") {
        Ok(h) => h,
        Err(r) => return *r,
    };
    with_repo(&state, &owner, &repo, h, |r, h| {
        let name = r.full_name.rsplit('/').next().unwrap_or(&r.full_name);
        let body = json!({
            "id": stable_id(&r.full_name),
            "node_id": format!("R_{}", stable_id(&r.full_name)),
            "name": name,
            "full_name": r.full_name,
            "private": true,
            "default_branch": r.default_branch,
            "html_url": format!("https://github.com/{}", r.full_name),
            "url": format!("{}/repos/{}", state.base_url, r.full_name),
        });
        with_headers(StatusCode::OK, h, body)
    })
}

/// `GET /repos/{owner}/{repo}/commits/{ref}`.
pub(crate) async fn get_commit(
    AxState(state): AxState<Arc<State>>,
    Path((owner, repo, reference)): Path<(String, String, String)>,
) -> Response {
    let h = match gate(&state, "github:GetCommit") {
        Ok(h) => h,
        Err(r) => return *r,
    };
    with_repo(&state, &owner, &repo, h, |r, h| match find_commit(r, &reference) {
        Some(c) => with_headers(StatusCode::OK, h, commit_json(&state.base_url, r, c)),
        None => {
            let body = json!({
                "message": format!("No commit found for SHA: {reference}"),
                "documentation_url": "https://docs.github.com/rest/commits/commits#get-a-commit",
                "status": "422",
            });
            with_headers(StatusCode::UNPROCESSABLE_ENTITY, h, body)
        }
    })
}

/// A commit by full SHA, unique prefix (4+ hex digits) or the default branch's name.
pub(crate) fn find_commit<'r>(repo: &'r GithubRepo, reference: &str) -> Option<&'r Commit> {
    if reference == repo.default_branch || reference == "HEAD" {
        return repo.commits.iter().max_by_key(|c| c.committed_date);
    }
    let reference = reference.to_ascii_lowercase();
    if reference.len() < 4 || !reference.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut matches = repo.commits.iter().filter(|c| c.sha.starts_with(&reference));
    let first = matches.next()?;
    // An ambiguous prefix finds nothing, as on GitHub.
    matches.next().is_none().then_some(first)
}

/// `GET /repos/{owner}/{repo}/commits?per_page=&page=&sha=&since=&until=`.
pub(crate) async fn list_commits(
    AxState(state): AxState<Arc<State>>,
    Path((owner, repo)): Path<(String, String)>,
    Query(params): Query<BTreeMap<String, String>>,
) -> Response {
    let h = match gate(&state, "github:ListCommits") {
        Ok(h) => h,
        Err(r) => return *r,
    };
    let per_page = params.get("per_page").and_then(|v| v.parse::<usize>().ok()).unwrap_or(30).clamp(1, 100);
    let page_no = params.get("page").and_then(|v| v.parse::<usize>().ok()).unwrap_or(1).max(1);
    let time = |name: &str| {
        params.get(name).and_then(|v| DateTime::parse_from_rfc3339(v).ok()).map(|t| t.with_timezone(&Utc))
    };
    let (since, until) = (time("since"), time("until"));
    with_repo(&state, &owner, &repo, h, |r, h| {
        let head = match params.get("sha") {
            Some(sha) => match find_commit(r, sha) {
                Some(c) => Some(c.committed_date),
                None => return not_found(h),
            },
            None => None,
        };
        let mut commits: Vec<&Commit> = r
            .commits
            .iter()
            .filter(|c| head.is_none_or(|t| c.committed_date <= t))
            .filter(|c| since.is_none_or(|t| c.committed_date >= t))
            .filter(|c| until.is_none_or(|t| c.committed_date <= t))
            .collect();
        commits.sort_by(|a, b| b.committed_date.cmp(&a.committed_date).then(a.sha.cmp(&b.sha)));
        let start = (page_no - 1).saturating_mul(per_page).min(commits.len());
        let end = (start + per_page).min(commits.len());
        let body: Vec<Value> =
            commits[start..end].iter().map(|c| commit_json(&state.base_url, r, c)).collect();
        let mut h = h;
        if end < commits.len() {
            let last = commits.len().div_ceil(per_page);
            let link = |p: usize| {
                let mut query = params.clone();
                query.insert("per_page".to_owned(), per_page.to_string());
                query.insert("page".to_owned(), p.to_string());
                let qs: Vec<String> = query.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect();
                format!("{}/repos/{}/commits?{}", state.base_url, r.full_name, qs.join("&"))
            };
            h.push((
                "link",
                format!("<{}>; rel=\"next\", <{}>; rel=\"last\"", link(page_no + 1), link(last)),
            ));
        }
        with_headers(StatusCode::OK, h, Value::Array(body))
    })
}

fn encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A small stable number for ids GitHub would assign.
fn stable_id(s: &str) -> u64 {
    s.bytes().fold(1469598103934665603u64, |h, b| (h ^ b as u64).wrapping_mul(1099511628211)) % 100_000_000
}

fn user_json(base: &str, login: &str) -> Value {
    let id = stable_id(login);
    let url = format!("{base}/users/{login}");
    json!({
        "login": login, "id": id, "node_id": format!("U_{id}"),
        "avatar_url": format!("https://avatars.githubusercontent.com/u/{id}?v=4"),
        "gravatar_id": "", "url": url, "html_url": format!("https://github.com/{login}"),
        "followers_url": format!("{url}/followers"), "following_url": format!("{url}/following"),
        "gists_url": format!("{url}/gists"), "starred_url": format!("{url}/starred"),
        "subscriptions_url": format!("{url}/subscriptions"),
        "organizations_url": format!("{url}/orgs"), "repos_url": format!("{url}/repos"),
        "events_url": format!("{url}/events"), "received_events_url": format!("{url}/received_events"),
        "type": "User", "site_admin": false,
    })
}

pub(crate) fn date(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A commit shaped like GitHub's `commit` object.
fn commit_json(base: &str, repo: &GithubRepo, c: &Commit) -> Value {
    let api = format!("{base}/repos/{}", repo.full_name);
    let author = c.author_login.as_deref().map(|l| user_json(base, l));
    json!({
        "sha": c.sha,
        "node_id": format!("C_{}", &c.sha),
        "url": format!("{api}/commits/{}", c.sha),
        "html_url": format!("https://github.com/{}/commit/{}", repo.full_name, c.sha),
        "comments_url": format!("{api}/commits/{}/comments", c.sha),
        "commit": {
            "url": format!("{api}/git/commits/{}", c.sha),
            "author": {"name": c.author_name, "email": c.author_email, "date": date(&c.authored_date)},
            "committer": {"name": c.committer_name, "email": c.author_email, "date": date(&c.committed_date)},
            "message": c.message,
            "comment_count": 0,
            "tree": {"sha": c.sha, "url": format!("{api}/git/trees/{}", c.sha)},
            "verification": {"verified": false, "reason": "unsigned", "signature": null, "payload": null},
        },
        "author": author,
        "committer": author,
        "parents": [],
    })
}
