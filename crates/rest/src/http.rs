//! `GET` for declared tables: HTTP/1.1 over rustls (plain `http://` too, for
//! loopback fakes), only to the table's url's origin (with its credential as
//! [`Target`] says), each request within a timeout, within the table's
//! client-side rate limit, retried as the
//! shared HTTP rules say ([`skyglue_core::http_retry`]: `429`/`403` with
//! `Retry-After` or a spent `x-ratelimit-remaining`, server errors, dropped
//! connections), every call, retry and wait counted in the scan's metrics.
//!
//! When any answer says the budget is spent (`x-ratelimit-remaining: 0`),
//! the table's requests hold off until `x-ratelimit-reset` instead of each
//! spending a request to be told so.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http::header::{ACCEPT, USER_AGENT};
use http::{HeaderMap, HeaderName, HeaderValue, Request};
use http_body_util::{BodyExt, Empty, Limited};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use skyglue_core::FetchContext;
use skyglue_core::http_retry::{RateHeaders, RetryPolicy, Verdict, decide};
use tokio::time::Instant;

use crate::error::{Error, Result};
use crate::secret::Target;

/// The largest answer read.
const MAX_ANSWER: usize = 64 * 1024 * 1024;

type HyperClient = Client<HttpsConnector<HttpConnector>, Empty<Bytes>>;

/// A successful answer.
#[derive(Debug)]
pub struct Answer {
    /// The response headers (`Link`, rate-limit headers).
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

/// One table's HTTP client, shared by its scans.
#[derive(Debug)]
pub struct Http {
    table: String,
    /// `table:GET`, the operation the throttle knows the table's bucket by.
    operation: String,
    rate_limited: bool,
    policy: RetryPolicy,
    /// How long one request may take, its answer read to the end.
    timeout: Duration,
    client: OnceLock<std::result::Result<HyperClient, String>>,
    paused_until: Mutex<Option<Instant>>,
}

impl Http {
    /// A client for `table`; `rate_limited` when it declared a `rate`; each
    /// request within `timeout`.
    pub fn new(table: &str, rate_limited: bool, policy: RetryPolicy, timeout: Duration) -> Self {
        Self {
            table: table.to_string(),
            operation: format!("{table}:GET"),
            rate_limited,
            policy,
            timeout,
            client: OnceLock::new(),
            paused_until: Mutex::new(None),
        }
    }

    /// `GET url` with `target`'s credential, as the module doc says: a `url`
    /// off the target's origin is an error before anything is sent. Errors
    /// show the URL as [`Target::shown`] does.
    pub async fn get(&self, ctx: &FetchContext, url: &str, target: &Target) -> Result<Answer> {
        let fail = |detail: String| Error::Http { table: self.table.clone(), url: target.shown(url), detail };
        target.check(url)?;
        let sent = target.sent(url);
        let client = self.client(url).map_err(fail)?;
        let mut attempt = 1;
        loop {
            self.hold_off(ctx).await;
            if self.rate_limited {
                let waited = ctx
                    .connections
                    .throttle
                    .acquire("rest", &self.operation)
                    .await
                    .map_err(|e| fail(e.to_string()))?;
                ctx.metrics.throttle_wait(waited);
            }
            if attempt == 1 {
                ctx.metrics.call()
            } else {
                ctx.metrics.retry()
            }
            let answer = tokio::time::timeout(self.timeout, send(&client, &sent, target.header())).await;
            let answer = match answer {
                Ok(answer) => answer,
                Err(_) => Err(format!("no answer within {} s", self.timeout.as_secs_f64())),
            };
            let (status, headers) = match &answer {
                Ok((status, headers, _)) => (Some(*status), RateHeaders::read(headers)),
                Err(_) => (None, RateHeaders::default()),
            };
            let now = chrono::Utc::now().timestamp();
            if let Some(refill) = headers.exhausted_for(now).filter(|w| *w <= self.policy.max_wait) {
                self.pause(refill);
            }
            match decide(&self.policy, attempt, status, &headers, false, now) {
                Verdict::Done => {}
                Verdict::Throttled(wait) => {
                    tokio::time::sleep(wait).await;
                    ctx.metrics.throttle_wait(wait);
                    attempt += 1;
                    continue;
                }
                Verdict::Backoff(wait) => {
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                    continue;
                }
                Verdict::TooLong(wait) => {
                    return Err(fail(format!(
                        "the API's rate limit allows the next request in {} s, longer than skyglue waits ({} s)",
                        wait.as_secs(),
                        self.policy.max_wait.as_secs()
                    )));
                }
            }
            return match answer {
                Ok((status, headers, body)) if (200..300).contains(&status) => Ok(Answer { headers, body }),
                Ok((status, _, body)) => {
                    let tries =
                        if attempt > 1 { format!(" after {attempt} attempts") } else { String::new() };
                    Err(fail(format!("HTTP {status}{tries}: {}", snippet(&body))))
                }
                Err(e) => Err(fail(format!("{e} (after {attempt} attempts)"))),
            };
        }
    }

    fn client(&self, url: &str) -> std::result::Result<HyperClient, String> {
        self.client.get_or_init(|| build_client(url.starts_with("https://"))).clone()
    }

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

/// One request: status, headers and body.
async fn send(
    client: &HyperClient,
    url: &str,
    auth: Option<(&HeaderName, &HeaderValue)>,
) -> std::result::Result<(u16, HeaderMap, Bytes), String> {
    let mut request = Request::get(url)
        .header(ACCEPT, "application/json")
        .header(USER_AGENT, concat!("skyglue/", env!("CARGO_PKG_VERSION")));
    if let Some((name, value)) = auth {
        request = request.header(name, value);
    }
    let request = request.body(Empty::new()).map_err(|e| format!("not a valid request: {e}"))?;
    let response = client.request(request).await.map_err(|e| chain(&e))?;
    let (parts, body) = response.into_parts();
    let body =
        Limited::new(body, MAX_ANSWER).collect().await.map_err(|e| format!("answer broke off: {e}"))?;
    Ok((parts.status.as_u16(), parts.headers, body.to_bytes()))
}

fn build_client(https: bool) -> std::result::Result<HyperClient, String> {
    let mut roots = rustls::RootCertStore::empty();
    // Plain http:// (a loopback fake) needs no roots, and should not fail for lack of them.
    if https {
        let found = rustls_native_certs::load_native_certs();
        let (added, _) = roots.add_parsable_certificates(found.certs);
        if added == 0 {
            return Err("failed to load the system's root certificates".into());
        }
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_connect_timeout(Some(Duration::from_secs(10)));
    let connector =
        HttpsConnectorBuilder::new().with_tls_config(tls).https_or_http().enable_http1().wrap_connector(http);
    Ok(Client::builder(TokioExecutor::new()).build(connector))
}

/// The first 200 characters of an answer, on one line.
fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let folded = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match folded.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &folded[..cut]),
        None if folded.is_empty() => "(empty answer)".into(),
        None => folded,
    }
}

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
