//! Posting one JSON message to Slack: HTTP/1.1 over rustls with the system's
//! root certificates (plain `http://` too, for loopback fakes), a timeout per
//! request, and bounded retries, on the client and retry loop the HTTP tables
//! share ([`skyglue_core::http_client`]).
//!
//! A 429 waits for its `Retry-After` (capped) and tries again; a 5xx or a
//! refused connection backs off briefly and tries again; anything else, or the
//! last attempt, is an error naming the status and a snippet of Slack's answer.
//! A timeout is not retried: the message may have arrived, and a duplicate is
//! worse than a late error. Errors name the endpoint by scheme and host only,
//! since an incoming webhook's path is its secret.

use std::time::Duration;

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER, USER_AGENT};
use http::{HeaderMap, Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full, Limited};
use skyglue_core::http_client::{
    ClientError, Ending, Exchange, Failure, HttpsClient, Retrier, error_chain, https_client,
};
use skyglue_core::http_retry::{RateHeaders, RetryPolicy};

/// Attempts per message, the first included.
const ATTEMPTS: u32 = 3;
/// How long one request may take, connecting included.
const TIMEOUT: Duration = Duration::from_secs(10);
/// The longest `Retry-After` honoured; Slack asks for a second or two.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);
/// The first backoff after a 5xx or a refused connection; doubled each time.
const BACKOFF: Duration = Duration::from_millis(500);
/// Slack's answers are a word or a small JSON object; more is not read.
const MAX_ANSWER: usize = 64 * 1024;
/// How much of an unexpected answer an error quotes.
const SNIPPET: usize = 200;

/// Why a message could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The configured URL is not an `http(s)://host/...` URL.
    #[error("failed to parse the Slack URL: {0}")]
    InvalidUrl(String),
    /// The bot token cannot be sent as a header (a stray newline, say).
    #[error("failed to post to {target}: the bot token is not a valid HTTP header value")]
    BadToken {
        /// Scheme and host.
        target: String,
    },
    /// HTTPS without any root certificate to check Slack's against.
    #[error("failed to load the system's root certificates: {0}")]
    Roots(String),
    /// No connection, or it broke before an answer.
    #[error("failed to reach {target}: {detail}")]
    Unreachable {
        /// Scheme and host.
        target: String,
        /// The transport's error chain.
        detail: String,
    },
    /// No answer in time.
    #[error("failed to post to {target}: no answer within {} s", .after.as_secs())]
    Timeout {
        /// Scheme and host.
        target: String,
        /// The per-request timeout.
        after: Duration,
    },
    /// Still 429 after every attempt.
    #[error("failed to post to {target}: still rate limited (HTTP 429) after {attempts} attempts")]
    RateLimited {
        /// Scheme and host.
        target: String,
        /// Attempts made.
        attempts: u32,
    },
    /// Any other non-success status (after retries, for a 5xx).
    #[error("failed to post to {target}: HTTP {status}: {body}")]
    Status {
        /// Scheme and host.
        target: String,
        /// The HTTP status.
        status: u16,
        /// The start of Slack's answer.
        body: String,
    },
    /// HTTP 200, but the Web API said `"ok": false` (or something unreadable).
    #[error("failed to post to {target}: Slack answered {error}")]
    Refused {
        /// Scheme and host.
        target: String,
        /// Slack's `error` code, or a snippet of the answer.
        error: String,
    },
}

/// A parsed Slack endpoint and how to show it without its secret.
#[derive(Clone)]
pub(crate) struct Endpoint {
    uri: Uri,
    /// `scheme://host[:port]`, safe to print.
    pub(crate) target: String,
}

impl Endpoint {
    /// Parses `url`; the error shows the redacted form only.
    pub(crate) fn parse(url: &str) -> Result<Self, SendError> {
        let invalid = || SendError::InvalidUrl(redact(url));
        let uri: Uri = url.trim().parse().map_err(|_| invalid())?;
        let scheme = uri.scheme_str().filter(|s| matches!(*s, "http" | "https")).ok_or_else(invalid)?;
        let authority = uri.authority().ok_or_else(invalid)?;
        let port = authority.port().map(|p| format!(":{p}")).unwrap_or_default();
        let target = format!("{scheme}://{}{port}", authority.host());
        Ok(Endpoint { uri, target })
    }

    fn is_https(&self) -> bool {
        self.uri.scheme_str() == Some("https")
    }
}

/// `scheme://host[:port]` of `url`, or a placeholder when it does not parse.
pub(crate) fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.trim().split_once("://") else {
        return "(a URL that does not parse)".into();
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    format!("{scheme}://{host}")
}

type HttpClient = HttpsClient<Full<Bytes>>;

/// Slack's rules for the shared retry loop: [`ATTEMPTS`] attempts, [`BACKOFF`]
/// doubling, each request within [`TIMEOUT`], and a request that may have
/// arrived never sent twice.
fn policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: ATTEMPTS,
        first_backoff: BACKOFF,
        max_wait: MAX_RETRY_AFTER,
        request_timeout: TIMEOUT,
        retry_unanswered: false,
        ..RetryPolicy::default()
    }
}

/// Posts `body` (JSON) to `endpoint`, with a bearer token when given, retrying
/// as the module doc says. Returns the answer's body on a 2xx.
pub(crate) async fn post_json(
    endpoint: &Endpoint,
    bearer: Option<&str>,
    body: String,
) -> Result<String, SendError> {
    let client = client(endpoint)?;
    let body = Bytes::from(body);
    let policy = policy();
    let retrier = Retrier { policy: &policy, pause: None, metrics: None };
    let (client, body) = (&client, &body);
    let ending = retrier
        .send(move |_| async move {
            let request = request(endpoint, bearer, body.clone())?;
            Ok(match send(client, request).await {
                // Only Slack's Retry-After counts (1 s when absent, capped): a 429 always waits.
                Ok((status, headers, text)) => {
                    let rate = RateHeaders {
                        retry_after: (status == StatusCode::TOO_MANY_REQUESTS)
                            .then(|| retry_after(&headers).as_secs()),
                        ..RateHeaders::default()
                    };
                    Exchange::answered(status.as_u16(), rate, text)
                }
                Err(e) if e.is_connect() => Exchange::failed(Failure::Unsent(error_chain(&e))),
                Err(e) => Exchange::failed(Failure::Broken(error_chain(&e))),
            })
        })
        .await?;
    let target = || endpoint.target.clone();
    let (answer, attempts) = match ending {
        Ending::Done { answer, attempts } => (answer, attempts),
        // Waits are capped at MAX_RETRY_AFTER, which the policy accepts: never too long.
        Ending::TooLong { answer, .. } => (answer, ATTEMPTS),
    };
    match answer {
        Ok((status, text)) if StatusCode::from_u16(status).is_ok_and(|s| s.is_success()) => Ok(text),
        Ok((429, _)) => Err(SendError::RateLimited { target: target(), attempts }),
        Ok((status, text)) => {
            Err(SendError::Status { target: target(), status, body: snippet(&scrub(&text, endpoint)) })
        }
        Err(Failure::Timeout(after)) => Err(SendError::Timeout { target: target(), after }),
        Err(Failure::Unsent(detail) | Failure::Broken(detail)) => {
            Err(SendError::Unreachable { target: target(), detail: scrub(&detail, endpoint) })
        }
    }
}

fn client(endpoint: &Endpoint) -> Result<HttpClient, SendError> {
    https_client(endpoint.is_https()).map_err(|e| match e {
        ClientError::NoRoots { why } => SendError::Roots(why),
        ClientError::Tls(e) => SendError::Roots(e),
    })
}

fn request(
    endpoint: &Endpoint,
    bearer: Option<&str>,
    body: Bytes,
) -> Result<Request<Full<Bytes>>, SendError> {
    let mut builder = Request::builder()
        .method(Method::POST)
        .uri(endpoint.uri.clone())
        .header(CONTENT_TYPE, "application/json; charset=utf-8")
        .header(USER_AGENT, concat!("skyglue/", env!("CARGO_PKG_VERSION")));
    if let Some(token) = bearer {
        builder = builder.header(AUTHORIZATION, format!("Bearer {token}"));
    }
    // The URI was parsed already: only the token's header value can fail here.
    builder.body(Full::new(body)).map_err(|_| SendError::BadToken { target: endpoint.target.clone() })
}

/// One request: status, headers and (the start of) the body as text.
async fn send(
    client: &HttpClient,
    request: Request<Full<Bytes>>,
) -> Result<(StatusCode, HeaderMap, String), hyper_util::client::legacy::Error> {
    let response = client.request(request).await?;
    let (parts, body) = response.into_parts();
    // A body that breaks off or is too long still leaves the status to go by.
    let text = match Limited::new(body, MAX_ANSWER).collect().await {
        Ok(collected) => String::from_utf8_lossy(&collected.to_bytes()).into_owned(),
        Err(e) => format!("(unreadable answer: {e})"),
    };
    Ok((parts.status, parts.headers, text))
}

/// The wait a 429 asks for: `Retry-After` seconds, 1 s when absent, capped.
pub(crate) fn retry_after(headers: &HeaderMap) -> Duration {
    let secs = headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(1);
    Duration::from_secs(secs).min(MAX_RETRY_AFTER)
}

/// Removes the endpoint's path (a webhook's secret) wherever it shows up.
fn scrub(text: &str, endpoint: &Endpoint) -> String {
    let path = endpoint.uri.path();
    if path.len() > 1 { text.replace(path, "/…") } else { text.to_string() }
}

/// The first line-folded [`SNIPPET`] characters of `text`.
pub(crate) fn snippet(text: &str) -> String {
    let folded = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match folded.char_indices().nth(SNIPPET) {
        Some((cut, _)) => format!("{}…", &folded[..cut]),
        None if folded.is_empty() => "(empty answer)".into(),
        None => folded,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_keeps_scheme_and_host_only() {
        assert_eq!(redact("https://hooks.slack.com/services/T0/B0/secret"), "https://hooks.slack.com");
        assert_eq!(redact("http://user:pw@127.0.0.1:8080/slack/webhook?x=1"), "http://127.0.0.1:8080");
        assert_eq!(redact("not a url"), "(a URL that does not parse)");
        let e = Endpoint::parse("https://hooks.slack.com/services/T0/B0/secret").expect("parses");
        assert_eq!(e.target, "https://hooks.slack.com");
        assert!(!scrub("no_service at /services/T0/B0/secret", &e).contains("secret"));
    }

    #[test]
    fn only_http_urls_are_accepted() {
        for bad in ["ftp://example.com/x", "/slack/webhook", "hooks.slack.com/services/x"] {
            let err = Endpoint::parse(bad).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(err.starts_with("failed to parse the Slack URL"), "{bad}: {err}");
        }
    }

    #[test]
    fn retry_after_is_honoured_and_capped() {
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h), Duration::from_secs(1));
        h.insert(RETRY_AFTER, http::HeaderValue::from_static("3"));
        assert_eq!(retry_after(&h), Duration::from_secs(3));
        h.insert(RETRY_AFTER, http::HeaderValue::from_static("3600"));
        assert_eq!(retry_after(&h), MAX_RETRY_AFTER);
    }

    #[test]
    fn snippets_are_short_and_one_line() {
        assert_eq!(snippet("invalid_token\n"), "invalid_token");
        assert_eq!(snippet(""), "(empty answer)");
        assert_eq!(snippet(&"x".repeat(500)).chars().count(), SNIPPET + 1);
    }
}
