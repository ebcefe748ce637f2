//! Posting one JSON message to Slack: HTTP/1.1 over rustls with the system's
//! root certificates (plain `http://` too, for loopback fakes), a timeout per
//! request, and bounded retries.
//!
//! A 429 waits for its `Retry-After` (capped) and tries again; a 5xx or a
//! refused connection backs off briefly and tries again; anything else, or the
//! last attempt, is an error naming the status and a snippet of Slack's answer.
//! A timeout is not retried: the message may have arrived, and a duplicate is
//! worse than a late error. Errors name the endpoint by scheme and host only,
//! since an incoming webhook's path is its secret.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER, USER_AGENT};
use http::{HeaderMap, Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

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

type HttpClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// Posts `body` (JSON) to `endpoint`, with a bearer token when given, retrying
/// as the module doc says. Returns the answer's body on a 2xx.
pub(crate) async fn post_json(
    endpoint: &Endpoint,
    bearer: Option<&str>,
    body: String,
) -> Result<String, SendError> {
    let client = client(endpoint)?;
    let body = Bytes::from(body);
    let mut attempt = 1;
    loop {
        let request = request(endpoint, bearer, body.clone())?;
        let wait = match tokio::time::timeout(TIMEOUT, send(&client, request)).await {
            Err(_) => return Err(SendError::Timeout { target: endpoint.target.clone(), after: TIMEOUT }),
            Ok(Err(e)) if e.is_connect() && attempt < ATTEMPTS => backoff(attempt),
            Ok(Err(e)) => {
                let detail = scrub(&error_chain(&e), endpoint);
                return Err(SendError::Unreachable { target: endpoint.target.clone(), detail });
            }
            Ok(Ok((status, _, text))) if status.is_success() => return Ok(text),
            Ok(Ok((StatusCode::TOO_MANY_REQUESTS, headers, _))) if attempt < ATTEMPTS => {
                retry_after(&headers)
            }
            Ok(Ok((StatusCode::TOO_MANY_REQUESTS, _, _))) => {
                return Err(SendError::RateLimited { target: endpoint.target.clone(), attempts: attempt });
            }
            Ok(Ok((status, _, _))) if status.is_server_error() && attempt < ATTEMPTS => backoff(attempt),
            Ok(Ok((status, _, text))) => {
                return Err(SendError::Status {
                    target: endpoint.target.clone(),
                    status: status.as_u16(),
                    body: snippet(&scrub(&text, endpoint)),
                });
            }
        };
        tokio::time::sleep(wait).await;
        attempt += 1;
    }
}

fn client(endpoint: &Endpoint) -> Result<HttpClient, SendError> {
    let mut roots = rustls::RootCertStore::empty();
    // Plain http:// (a loopback fake) needs no roots, and should not fail for lack of them.
    if endpoint.is_https() {
        let found = rustls_native_certs::load_native_certs();
        let (added, _) = roots.add_parsable_certificates(found.certs);
        if added == 0 {
            let why = found.errors.first().map_or_else(|| "none found".to_string(), ToString::to_string);
            return Err(SendError::Roots(why));
        }
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| SendError::Roots(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_connect_timeout(Some(TIMEOUT));
    let connector =
        HttpsConnectorBuilder::new().with_tls_config(tls).https_or_http().enable_http1().wrap_connector(http);
    Ok(Client::builder(TokioExecutor::new()).build(connector))
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

fn backoff(attempt: u32) -> Duration {
    BACKOFF * 2u32.saturating_pow(attempt.saturating_sub(1))
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
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
