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

use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;
use http::header::{ACCEPT, USER_AGENT};
use http::{HeaderMap, HeaderName, HeaderValue, Request};
use http_body_util::{BodyExt, Empty, Limited};
use skyglue_core::FetchContext;
use skyglue_core::http_client::{
    Ending, Exchange, Failure, HttpsClient, Pause, Retrier, error_chain, https_client,
};
use skyglue_core::http_retry::{RateHeaders, RetryPolicy};

use crate::error::{Error, Result};
use crate::secret::Target;

/// The largest answer read.
const MAX_ANSWER: usize = 64 * 1024 * 1024;

type HyperClient = HttpsClient<Empty<Bytes>>;

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
    /// The retry policy, its request timeout the table's.
    policy: RetryPolicy,
    client: OnceLock<std::result::Result<HyperClient, String>>,
    pause: Pause,
}

impl Http {
    /// A client for `table`; `rate_limited` when it declared a `rate`; each
    /// request within `timeout`.
    pub fn new(table: &str, rate_limited: bool, policy: RetryPolicy, timeout: Duration) -> Self {
        Self {
            table: table.to_string(),
            operation: format!("{table}:GET"),
            rate_limited,
            policy: RetryPolicy { request_timeout: timeout, ..policy },
            client: OnceLock::new(),
            pause: Pause::default(),
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
        let retrier = Retrier { policy: &self.policy, pause: Some(&self.pause), metrics: Some(&ctx.metrics) };
        let (client, sent, fail) = (&client, sent.as_str(), &fail);
        let ready = move |_| async move {
            if self.rate_limited {
                let waited = ctx
                    .connections
                    .throttle
                    .acquire("rest", &self.operation)
                    .await
                    .map_err(|e| fail(e.to_string()))?;
                ctx.metrics.throttle_wait(waited);
            }
            Ok(())
        };
        let ending = retrier
            .send_when(ready, move |_| async move {
                Ok(match send(client, sent, target.header()).await {
                    Ok((status, headers, body)) => {
                        Exchange::answered(status, RateHeaders::read(&headers), (headers, body))
                    }
                    Err(failure) => Exchange::failed(failure),
                })
            })
            .await?;
        match ending {
            Ending::Done { answer: Ok((status, (headers, body))), .. } if (200..300).contains(&status) => {
                Ok(Answer { headers, body })
            }
            Ending::Done { answer: Ok((status, (_, body))), attempts } => {
                let tries = if attempts > 1 { format!(" after {attempts} attempts") } else { String::new() };
                Err(fail(format!("HTTP {status}{tries}: {}", snippet(&body))))
            }
            Ending::Done { answer: Err(e), attempts } => {
                Err(fail(format!("{e} (after {attempts} attempts)")))
            }
            Ending::TooLong { wait, .. } => Err(fail(format!(
                "the API's rate limit allows the next request in {} s, longer than skyglue waits ({} s)",
                wait.as_secs(),
                self.policy.max_wait.as_secs()
            ))),
        }
    }

    fn client(&self, url: &str) -> std::result::Result<HyperClient, String> {
        self.client
            .get_or_init(|| https_client(url.starts_with("https://")).map_err(|e| e.to_string()))
            .clone()
    }
}

/// One request: status, headers and body.
async fn send(
    client: &HyperClient,
    url: &str,
    auth: Option<(&HeaderName, &HeaderValue)>,
) -> std::result::Result<(u16, HeaderMap, Bytes), Failure> {
    let mut request = Request::get(url)
        .header(ACCEPT, "application/json")
        .header(USER_AGENT, concat!("skyglue/", env!("CARGO_PKG_VERSION")));
    if let Some((name, value)) = auth {
        request = request.header(name, value);
    }
    let request =
        request.body(Empty::new()).map_err(|e| Failure::Broken(format!("not a valid request: {e}")))?;
    let response = client.request(request).await.map_err(|e| match e.is_connect() {
        true => Failure::Unsent(error_chain(&e)),
        false => Failure::Broken(error_chain(&e)),
    })?;
    let (parts, body) = response.into_parts();
    let body = Limited::new(body, MAX_ANSWER)
        .collect()
        .await
        .map_err(|e| Failure::Broken(format!("answer broke off: {e}")))?;
    Ok((parts.status.as_u16(), parts.headers, body.to_bytes()))
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
