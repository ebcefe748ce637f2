//! The GitHub client: octocrab for transport (TLS, base URL, token,
//! timeouts), with skyglue's own retry loop on top, for REST `GET`s and (with
//! a token) GraphQL queries.
//!
//! octocrab's retry layer is left out: its default retries server errors at
//! once and ignores rate-limit headers, and even its rate-limit mode hides
//! how long it waited. Here every answer's headers are read, waits are
//! recorded in the scan's `throttle_wait` metric, and a final failure names
//! the request (repository and ref). When an answer says the hourly budget
//! is spent, every request of the session holds off until it refills instead
//! of each spending a request to be told so.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use http::HeaderMap;
use octocrab::Octocrab;
use skyglue_core::connection::GithubSettings;
use skyglue_core::origin::Origin;
use skyglue_core::{Error, FetchContext, Result};

use crate::graphql::{Points, endpoint_path, rate_limited};
use crate::model::error_message;
use skyglue_core::http_client::{Ending, Exchange, Failure, Pause, Retrier, error_chain};
use skyglue_core::http_retry::{RateHeaders, RetryPolicy};

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
    /// out before it refills.
    pause: Pause,
    /// The GraphQL endpoint; `None` without a token (GitHub requires one).
    graphql: Option<Graphql>,
}

/// GraphQL over its own octocrab: on a GitHub Enterprise the endpoint
/// (`/api/graphql`) is outside the REST base path (`/api/v3`), and octocrab
/// puts every relative request under its base path.
#[derive(Debug)]
struct Graphql {
    octocrab: Octocrab,
    path: String,
    /// Set once the endpoint answered 404: REST from then on.
    unavailable: AtomicBool,
    /// The point budget as the last answer left it.
    points: Mutex<Points>,
}

/// What one request asks.
#[derive(Debug, Clone, Copy)]
enum Request<'a> {
    /// `GET` a REST path or URL.
    Get(&'a str),
    /// `POST` a GraphQL query.
    Graphql(&'a serde_json::Value),
}

impl GithubClient {
    /// A client for `settings`.
    pub fn new(settings: &GithubSettings, policy: RetryPolicy) -> Result<Self> {
        let config_error = |detail: String| {
            Error::Config(format!("cannot use GitHub API URL {:?}: {detail}", settings.api_url))
        };
        let build = |base: &str| {
            let mut builder = Octocrab::builder()
                .base_uri(base)
                .map_err(|e| config_error(error_chain(&e)))?
                .set_connect_timeout(Some(Duration::from_secs(10)))
                .set_read_timeout(Some(Duration::from_secs(60)));
            if let Some(token) = &settings.token {
                builder = builder.personal_token(token.clone());
            }
            builder.build().map_err(|e| config_error(error_chain(&e)))
        };
        let octocrab = build(&settings.api_url)?;
        let graphql = match &settings.token {
            Some(_) => {
                let uri: http::Uri = settings.api_url.parse().map_err(|e| config_error(error_chain(&e)))?;
                let origin = match (uri.scheme_str(), uri.authority()) {
                    (Some(scheme), Some(authority)) => format!("{scheme}://{authority}"),
                    _ => return Err(config_error("expected an absolute URL".into())),
                };
                Some(Graphql {
                    octocrab: build(&origin)?,
                    path: endpoint_path(uri.path()),
                    unavailable: AtomicBool::new(false),
                    points: Mutex::default(),
                })
            }
            None => None,
        };
        Ok(Self { octocrab, api_url: settings.api_url.clone(), policy, pause: Pause::default(), graphql })
    }

    /// The retry policy.
    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    /// Whether lookups should go to GraphQL: a token is set and the endpoint
    /// has not answered 404.
    pub fn has_graphql(&self) -> bool {
        self.graphql.as_ref().is_some_and(|g| !g.unavailable.load(Ordering::Relaxed))
    }

    /// Remembers that the GraphQL endpoint answered 404.
    pub fn graphql_unavailable(&self) {
        if let Some(g) = &self.graphql {
            g.unavailable.store(true, Ordering::Relaxed);
        }
    }

    /// The session's GraphQL point budget (`None` without a token).
    pub fn points(&self) -> Option<MutexGuard<'_, Points>> {
        Some(self.graphql.as_ref()?.points.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// `POST` a GraphQL query (`{"query": ...}`), retried as REST requests are.
    /// A 200 that says the point budget is spent counts as a 403 with the
    /// same headers. A 404 (no GraphQL on this server) is returned as a reply.
    pub async fn graphql(
        &self,
        ctx: &FetchContext,
        query: &serde_json::Value,
        operation: &str,
    ) -> Result<Reply> {
        self.send(ctx, Request::Graphql(query), operation).await
    }

    /// `GET target` (a path under the API URL, or a full URL from a `Link`
    /// header), retried as [`RetryPolicy`] says. `operation` names the request
    /// in errors, e.g. `GET /repos/acme/web/commits/abc1234`.
    ///
    /// A full URL must be on the API URL's origin (scheme, host and port):
    /// a `Link` that leaves it is an error, never a request with the token.
    pub async fn get(&self, ctx: &FetchContext, target: &str, operation: &str) -> Result<Reply> {
        let absolute = target.starts_with("http://") || target.starts_with("https://");
        if absolute && Origin::of(&self.api_url).is_none_or(|home| !home.holds(target)) {
            let foreign =
                Origin::of(target).map_or_else(|| "an unreadable URL".to_string(), |o| o.to_string());
            return Err(Error::Github {
                operation: operation.to_string(),
                detail: format!(
                    "the next page is on {foreign}, not on the API URL's host ({}): refusing to send the token there",
                    Origin::of(&self.api_url).map_or_else(|| self.api_url.clone(), |o| o.to_string())
                ),
            });
        }
        self.send(ctx, Request::Get(target), operation).await
    }

    async fn send(&self, ctx: &FetchContext, request: Request<'_>, operation: &str) -> Result<Reply> {
        let fail = |detail: String| Error::Github { operation: operation.to_string(), detail };
        let retrier = Retrier { policy: &self.policy, pause: Some(&self.pause), metrics: Some(&ctx.metrics) };
        // The whole exchange, answer read to the end, runs within the request timeout: octocrab's
        // read timeout is per read, and a server that trickles bytes would hold the scan.
        let fail = &fail;
        let ending = retrier
            .send(move |_| async move {
                let (octocrab, response) = match request {
                    Request::Get(target) => (&self.octocrab, self.octocrab._get(target).await),
                    Request::Graphql(query) => {
                        let Some(g) = &self.graphql else {
                            return Err(fail("GitHub's GraphQL API needs a token (set GITHUB_TOKEN)".into()));
                        };
                        (&g.octocrab, g.octocrab._post(g.path.as_str(), Some(query)).await)
                    }
                };
                let response = match response {
                    Ok(response) => response,
                    Err(e) => return Ok(Exchange::failed(Failure::Broken(error_chain(&e)))),
                };
                let mut status = response.status().as_u16();
                let headers = RateHeaders::read(response.headers());
                let next = next_link(response.headers());
                // A body cut off mid-way is a transport failure like no answer at all.
                let body = match octocrab.body_to_string(response).await {
                    Ok(body) => body,
                    Err(e) => {
                        return Ok(Exchange {
                            headers,
                            ..Exchange::failed(Failure::Broken(error_chain(&e)))
                        });
                    }
                };
                if matches!(request, Request::Graphql(_)) && status == 200 && rate_limited(&body) {
                    status = 403;
                }
                let secondary = body.contains("secondary rate limit");
                Ok(Exchange {
                    secondary,
                    ..Exchange::answered(status, headers, Reply { status, body, next })
                })
            })
            .await?;
        match ending {
            Ending::Done { answer, attempts } => {
                self.finish(answer.map(|(_, reply)| reply), attempts).map_err(fail)
            }
            Ending::TooLong { wait, answer } => {
                let (status, body) = match &answer {
                    Ok((status, reply)) => (Some(*status), reply.body.as_str()),
                    Err(_) => (None, ""),
                };
                Err(fail(format!(
                    "GitHub's rate limit allows the next request in {}, longer than skyglue waits ({}); \
                     try again then, or use a token with a higher limit ({})",
                    minutes(wait),
                    minutes(self.policy.max_wait),
                    describe(status, body),
                )))
            }
        }
    }

    /// The final answer after `attempts` tries: a reply the caller reads, or
    /// what went wrong.
    fn finish(&self, answer: std::result::Result<Reply, Failure>, attempts: u32) -> Result<Reply, String> {
        let reply = answer.map_err(|e| {
            format!(
                "could not reach {} after {attempts} attempts: {e} (check GITHUB_API_URL or [github] api_url)",
                self.api_url,
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
}

fn next_link(headers: &HeaderMap) -> Option<String> {
    parse_next_link(headers.get("link")?.to_str().ok()?)
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
