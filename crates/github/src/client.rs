//! The GitHub REST client: octocrab for transport (TLS, base URL, token,
//! timeouts), with skyglue's own retry loop on top.
//!
//! octocrab's retry layer is left out: its default retries server errors at
//! once and ignores rate-limit headers, and even its rate-limit mode hides
//! how long it waited. Here every answer's headers are read, waits are
//! recorded in the scan's `throttle_wait` metric, and a final failure names
//! the request (repository and ref). When an answer says the hourly budget
//! is spent, every request of the session holds off until it refills instead
//! of each spending a request to be told so.

use std::sync::Mutex;
use std::time::Duration;

use http::HeaderMap;
use octocrab::Octocrab;
use skyglue_core::connection::GithubSettings;
use skyglue_core::{Error, FetchContext, Result};
use tokio::time::Instant;

use crate::model::error_message;
use crate::retry::{RateHeaders, RetryPolicy, Verdict, decide};

/// A finished answer: 2xx, or a status the caller interprets (404, 409, 422).
#[derive(Debug)]
pub(crate) struct Reply {
    /// HTTP status.
    pub status: u16,
    /// The body.
    pub body: String,
    /// The `Link` header's `rel="next"` URL, for paginated lists.
    pub next: Option<String>,
}

impl Reply {
    /// Whether GitHub says the thing asked for does not exist: an unknown
    /// repository (404), an unknown SHA (422), an empty repository (409).
    pub fn is_absent(&self) -> bool {
        matches!(self.status, 404 | 409 | 422)
    }
}

/// One GitHub API endpoint with a token; shared by every scan of a session.
#[derive(Debug)]
pub(crate) struct GithubClient {
    octocrab: Octocrab,
    api_url: String,
    policy: RetryPolicy,
    /// Set when an answer said the primary budget is spent: no request goes
    /// out before this.
    paused_until: Mutex<Option<Instant>>,
}

impl GithubClient {
    /// A client for `settings`.
    pub fn new(settings: &GithubSettings, policy: RetryPolicy) -> Result<Self> {
        let config_error = |detail: String| {
            Error::Config(format!("cannot use GitHub API URL {:?}: {detail}", settings.api_url))
        };
        let mut builder = Octocrab::builder()
            .base_uri(settings.api_url.as_str())
            .map_err(|e| config_error(chain(&e)))?
            .set_connect_timeout(Some(Duration::from_secs(10)))
            .set_read_timeout(Some(Duration::from_secs(60)));
        if let Some(token) = &settings.token {
            builder = builder.personal_token(token.clone());
        }
        let octocrab = builder.build().map_err(|e| config_error(chain(&e)))?;
        Ok(Self { octocrab, api_url: settings.api_url.clone(), policy, paused_until: Mutex::new(None) })
    }

    /// `GET target` (a path under the API URL, or a full URL from a `Link`
    /// header), retried as [`RetryPolicy`] says. `operation` names the request
    /// in errors, e.g. `GET /repos/acme/web/commits/abc1234`.
    pub async fn get(&self, ctx: &FetchContext, target: &str, operation: &str) -> Result<Reply> {
        let fail = |detail: String| Error::Github { operation: operation.to_string(), detail };
        ctx.metrics.call();
        let mut attempt = 1;
        loop {
            self.hold_off(ctx).await;
            let (headers, answer) = match self.octocrab._get(target).await {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let headers = rate_headers(response.headers());
                    let next = next_link(response.headers());
                    let body = self.octocrab.body_to_string(response).await;
                    (headers, body.map(|body| Reply { status, body, next }))
                }
                Err(e) => (RateHeaders::default(), Err(e)),
            };
            // A body cut off mid-way is a transport failure like no answer at all.
            let status = answer.as_ref().ok().map(|r| r.status);
            let now = chrono::Utc::now().timestamp();
            if let Some(refill) = headers.exhausted_for(now).filter(|w| *w <= self.policy.max_wait) {
                self.pause(refill);
            }
            let body = answer.as_ref().map(|r| r.body.as_str()).unwrap_or_default();
            let secondary = body.contains("secondary rate limit");
            match decide(&self.policy, attempt, status, &headers, secondary, now) {
                Verdict::Done => {}
                Verdict::Throttled(wait) => {
                    tokio::time::sleep(wait).await;
                    ctx.metrics.throttle_wait(wait);
                    ctx.metrics.retry();
                    attempt += 1;
                    continue;
                }
                Verdict::Backoff(wait) => {
                    tokio::time::sleep(wait).await;
                    ctx.metrics.retry();
                    attempt += 1;
                    continue;
                }
                Verdict::TooLong(wait) => {
                    return Err(fail(format!(
                        "GitHub's rate limit allows the next request in {}, longer than skyglue waits ({}); \
                         try again then, or use a token with a higher limit ({})",
                        minutes(wait),
                        minutes(self.policy.max_wait),
                        describe(status, body),
                    )));
                }
            }
            return self.finish(answer, attempt).map_err(fail);
        }
    }

    /// The final answer after `attempts` tries: a reply the caller reads, or
    /// what went wrong.
    fn finish(&self, answer: octocrab::Result<Reply>, attempts: u32) -> Result<Reply, String> {
        let reply = answer.map_err(|e| {
            format!(
                "could not reach {} after {attempts} attempts: {} (check GITHUB_API_URL or [github] api_url)",
                self.api_url,
                chain(&e)
            )
        })?;
        let status = Some(reply.status);
        match reply.status {
            200..=299 => Ok(reply),
            _ if reply.is_absent() => Ok(reply),
            401 => Err(format!("{} (check GITHUB_TOKEN)", describe(status, &reply.body))),
            s if s >= 500 => Err(format!("{} after {attempts} attempts", describe(status, &reply.body))),
            _ => Err(describe(status, &reply.body)),
        }
    }

    /// Waits while the session is paused for a spent budget.
    async fn hold_off(&self, ctx: &FetchContext) {
        let until = *self.paused_until.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(until) = until.filter(|u| *u > Instant::now()) {
            let start = Instant::now();
            tokio::time::sleep_until(until).await;
            ctx.metrics.throttle_wait(start.elapsed());
        }
    }

    fn pause(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut paused = self.paused_until.lock().unwrap_or_else(|e| e.into_inner());
        if paused.is_none_or(|p| p < until) {
            *paused = Some(until);
        }
    }
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name)?.to_str().ok().map(str::to_string)
}

fn rate_headers(headers: &HeaderMap) -> RateHeaders {
    let number = |name| header(headers, name).and_then(|v| v.trim().parse().ok());
    RateHeaders {
        retry_after: number("retry-after"),
        remaining: number("x-ratelimit-remaining"),
        reset: header(headers, "x-ratelimit-reset").and_then(|v| v.trim().parse().ok()),
    }
}

fn next_link(headers: &HeaderMap) -> Option<String> {
    parse_next_link(&header(headers, "link")?)
}

/// The `rel="next"` URL of a `Link` header.
pub(crate) fn parse_next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        let is_next = params.split(';').any(|p| p.trim().replace(' ', "") == "rel=\"next\"");
        is_next.then(|| url.trim().trim_start_matches('<').trim_end_matches('>').to_string())
    })
}

/// `HTTP 403: API rate limit exceeded ...`.
fn describe(status: Option<u16>, body: &str) -> String {
    let message = error_message(body).unwrap_or_else(|| body.chars().take(200).collect());
    match status {
        Some(s) => format!("HTTP {s}: {message}"),
        None => message,
    }
}

fn minutes(d: Duration) -> String {
    match d.as_secs() {
        s if s < 120 => format!("{s} s"),
        s => format!("{} min", s.div_ceil(60)),
    }
}

/// An error and its sources, `outer: inner: ...`.
fn chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.last().is_some_and(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_next_page() {
        let link = r#"<https://api.github.com/repos/a/b/commits?page=2>; rel="next", <https://api.github.com/repos/a/b/commits?page=9>; rel="last""#;
        assert_eq!(parse_next_link(link).as_deref(), Some("https://api.github.com/repos/a/b/commits?page=2"));
        let last = r#"<https://api.github.com/repos/a/b/commits?page=1>; rel="prev""#;
        assert_eq!(parse_next_link(last), None);
    }

    #[test]
    fn describes_failures_with_githubs_message() {
        assert_eq!(describe(Some(401), r#"{"message":"Bad credentials"}"#), "HTTP 401: Bad credentials");
        assert_eq!(minutes(Duration::from_secs(3600)), "60 min");
        assert_eq!(minutes(Duration::from_secs(30)), "30 s");
    }
}
