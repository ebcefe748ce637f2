//! The HTTP client skyglue's HTTP APIs share: [`https_client`] builds hyper's
//! HTTP/1.1 client over rustls with the system's root certificates (plain
//! `http://` too, for loopback fakes), and [`Retrier::send`] is the one retry
//! loop: attempts, backoff and rate-limit waits as [`RetryPolicy`] and
//! [`decide`] say, each attempt within the request timeout, a spent budget
//! holding off every request that shares a [`Pause`], and every call, retry
//! and wait counted in the scan's metrics.
//!
//! Declared REST tables and Slack use both; the GitHub tables use the loop
//! over octocrab's transport. Nothing here logs or formats a request, so no
//! header (a token) can leak through it.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::time::Instant;

use crate::http_retry::{RateHeaders, RetryPolicy, Verdict, decide};
use crate::metrics::ScanMetrics;

/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// hyper's client over rustls (or plain TCP for `http://`), sending bodies of type `B`.
pub type HttpsClient<B> = Client<HttpsConnector<HttpConnector>, B>;

/// Why a client could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// HTTPS without any root certificate to check a server's against.
    #[error("failed to load the system's root certificates")]
    NoRoots {
        /// The loader's first error, or `none found`.
        why: String,
    },
    /// rustls refused its configuration.
    #[error("{0}")]
    Tls(String),
}

/// An HTTP/1.1 client, connecting within 10 s. For `https` the system's root
/// certificates are loaded (and their absence is an error); plain `http://`
/// (a loopback fake) needs none and does not fail for lack of them.
pub fn https_client<B>(https: bool) -> Result<HttpsClient<B>, ClientError>
where
    B: http_body::Body + Send + 'static,
    B::Data: Send,
{
    let mut roots = rustls::RootCertStore::empty();
    if https {
        let found = rustls_native_certs::load_native_certs();
        let (added, _) = roots.add_parsable_certificates(found.certs);
        if added == 0 {
            let why = found.errors.first().map_or_else(|| "none found".to_string(), ToString::to_string);
            return Err(ClientError::NoRoots { why });
        }
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ClientError::Tls(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_connect_timeout(Some(CONNECT_TIMEOUT));
    let connector =
        HttpsConnectorBuilder::new().with_tls_config(tls).https_or_http().enable_http1().wrap_connector(http);
    Ok(Client::builder(TokioExecutor::new()).build(connector))
}

/// Why one attempt brought no whole answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// No connection was made: the request did not leave.
    Unsent(String),
    /// The request may have arrived, and its answer broke off or never came.
    Broken(String),
    /// No whole answer within the request timeout.
    Timeout(Duration),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Unsent(detail) | Failure::Broken(detail) => f.write_str(detail),
            Failure::Timeout(after) => write!(f, "no answer within {} s", after.as_secs_f64()),
        }
    }
}

/// What one attempt brought back.
#[derive(Debug)]
pub struct Exchange<T> {
    /// The answer's rate-limit headers (none without an answer).
    pub headers: RateHeaders,
    /// Whether the answer says it hit a secondary rate limit.
    pub secondary: bool,
    /// The answer's status and what the caller read of it, or why there is none.
    pub answer: Result<(u16, T), Failure>,
}

impl<T> Exchange<T> {
    /// An answer with status `status`, rate-limit headers `headers`.
    pub fn answered(status: u16, headers: RateHeaders, value: T) -> Self {
        Exchange { headers, secondary: false, answer: Ok((status, value)) }
    }

    /// No answer.
    pub fn failed(failure: Failure) -> Self {
        Exchange { headers: RateHeaders::default(), secondary: false, answer: Err(failure) }
    }
}

/// How a request ended.
#[derive(Debug)]
pub enum Ending<T> {
    /// The last attempt's answer (a success, or a status no retry fixes), or
    /// its failure, after `attempts` attempts.
    Done {
        /// The last answer.
        answer: Result<(u16, T), Failure>,
        /// Attempts made, the first included.
        attempts: u32,
    },
    /// A rate limit asks for a wait longer than [`RetryPolicy::max_wait`].
    TooLong {
        /// The wait asked for.
        wait: Duration,
        /// The answer that asked.
        answer: Result<(u16, T), Failure>,
    },
}

/// A time before which no request of a client goes out: set when an answer
/// says the budget is spent, so the other requests wait for the refill
/// instead of each spending a request to be told so.
#[derive(Debug, Default)]
pub struct Pause {
    until: Mutex<Option<Instant>>,
}

impl Pause {
    /// Waits while paused; returns how long it waited.
    pub async fn hold_off(&self) -> Option<Duration> {
        let until = *self.until.lock().unwrap_or_else(|e| e.into_inner());
        let until = until.filter(|u| *u > Instant::now())?;
        let start = Instant::now();
        tokio::time::sleep_until(until).await;
        Some(start.elapsed())
    }

    /// Pauses for `wait` from now, unless already paused for longer.
    pub fn extend(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut paused = self.until.lock().unwrap_or_else(|e| e.into_inner());
        if paused.is_none_or(|p| p < until) {
            *paused = Some(until);
        }
    }
}

/// The retry loop of one client: its policy, the pause its requests share
/// (if any) and the scan's metrics (if counted).
#[derive(Debug, Clone, Copy)]
pub struct Retrier<'a> {
    /// Attempts, waits and the request timeout.
    pub policy: &'a RetryPolicy,
    /// The pause the client's requests share.
    pub pause: Option<&'a Pause>,
    /// Where calls, retries and waits are counted.
    pub metrics: Option<&'a ScanMetrics>,
}

impl Retrier<'_> {
    /// Sends one request as `attempt(n)` (`n` from 1), again while the answer
    /// is worth retrying: an attempt runs within the request timeout (a late
    /// one is a [`Failure::Timeout`]); a server error or a failure waits its
    /// backoff; a rate limit waits as it asks, or ends at once when that is
    /// longer than the policy waits. A failure after the request may have
    /// arrived is retried only when [`RetryPolicy::retry_unanswered`].
    /// An `Err` from `attempt` ends the loop with it.
    pub async fn send<T, E, F, Fut>(&self, attempt: F) -> Result<Ending<T>, E>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<Exchange<T>, E>>,
    {
        self.send_when(|_| std::future::ready(Ok(())), attempt).await
    }

    /// [`send`](Self::send), awaiting `ready(n)` before each attempt, outside
    /// its timeout (a client-side rate limiter, say); an `Err` from either
    /// ends the loop with it.
    pub async fn send_when<T, E, R, RFut, F, Fut>(&self, mut ready: R, mut attempt: F) -> Result<Ending<T>, E>
    where
        R: FnMut(u32) -> RFut,
        RFut: Future<Output = Result<(), E>>,
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<Exchange<T>, E>>,
    {
        let policy = self.policy;
        self.count(ScanMetrics::call);
        let mut n = 1;
        loop {
            if let Some(waited) = match self.pause {
                Some(pause) => pause.hold_off().await,
                None => None,
            } {
                self.count(|m| m.throttle_wait(waited));
            }
            ready(n).await?;
            let exchange = match tokio::time::timeout(policy.request_timeout, attempt(n)).await {
                Ok(exchange) => exchange?,
                Err(_) => Exchange::failed(Failure::Timeout(policy.request_timeout)),
            };
            let now = chrono::Utc::now().timestamp();
            if let Some(pause) = self.pause
                && let Some(refill) = exchange.headers.exhausted_for(now).filter(|w| *w <= policy.max_wait)
            {
                pause.extend(refill);
            }
            let status = exchange.answer.as_ref().ok().map(|(status, _)| *status);
            let verdict = match &exchange.answer {
                Err(Failure::Broken(_) | Failure::Timeout(_)) if !policy.retry_unanswered => Verdict::Done,
                _ => decide(policy, n, status, &exchange.headers, exchange.secondary, now),
            };
            match verdict {
                Verdict::Done => return Ok(Ending::Done { answer: exchange.answer, attempts: n }),
                Verdict::TooLong(wait) => return Ok(Ending::TooLong { wait, answer: exchange.answer }),
                Verdict::Throttled(wait) => {
                    tokio::time::sleep(wait).await;
                    self.count(|m| m.throttle_wait(wait));
                }
                Verdict::Backoff(wait) => tokio::time::sleep(wait).await,
            }
            self.count(ScanMetrics::retry);
            n += 1;
        }
    }

    fn count(&self, f: impl FnOnce(&ScanMetrics)) {
        if let Some(metrics) = self.metrics {
            f(metrics);
        }
    }
}

/// An error and its sources, `outer: inner: ...`, a source already quoted
/// by the one before it left out.
pub fn error_chain(e: &dyn std::error::Error) -> String {
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
    use std::cell::Cell;
    use std::convert::Infallible;

    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy { max_attempts: 3, ..RetryPolicy::default() }
    }

    /// Runs the loop over `script` (one exchange per attempt, the last repeated);
    /// returns the ending and the attempts made.
    async fn run(
        policy: &RetryPolicy,
        pause: Option<&Pause>,
        script: &[Exchange<&'static str>],
    ) -> (Ending<&'static str>, u32) {
        let made = Cell::new(0);
        let retrier = Retrier { policy, pause, metrics: None };
        let ending = retrier
            .send(|n| {
                made.set(n);
                let i = (n as usize - 1).min(script.len() - 1);
                let e = &script[i];
                let copy = Exchange { headers: e.headers, secondary: e.secondary, answer: e.answer.clone() };
                async move { Ok::<_, Infallible>(copy) }
            })
            .await
            .unwrap_or_else(|never| match never {});
        (ending, made.get())
    }

    fn status(s: u16) -> Exchange<&'static str> {
        Exchange::answered(s, RateHeaders::default(), "body")
    }

    #[tokio::test(start_paused = true)]
    async fn server_errors_and_failures_are_retried_until_an_answer() {
        let script = [status(502), Exchange::failed(Failure::Broken("reset".into())), status(200)];
        let (ending, made) = run(&policy(), None, &script).await;
        assert_eq!(made, 3);
        assert!(matches!(ending, Ending::Done { answer: Ok((200, "body")), attempts: 3 }), "{ending:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn the_last_attempt_ends_with_its_answer() {
        let (ending, made) = run(&policy(), None, &[status(503)]).await;
        assert_eq!(made, 3);
        assert!(matches!(ending, Ending::Done { answer: Ok((503, _)), attempts: 3 }), "{ending:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn an_answer_that_may_have_arrived_is_not_resent_for_a_message() {
        let once = RetryPolicy { retry_unanswered: false, ..policy() };
        for failure in [Failure::Broken("reset".into()), Failure::Timeout(Duration::from_secs(10))] {
            let (ending, made) = run(&once, None, &[Exchange::failed(failure.clone())]).await;
            assert_eq!(made, 1, "{failure:?}");
            assert!(matches!(ending, Ending::Done { answer: Err(f), attempts: 1 } if f == failure));
        }
        // A request that never connected did not arrive: it is sent again.
        let script = [Exchange::failed(Failure::Unsent("refused".into())), status(200)];
        let (ending, made) = run(&once, None, &script).await;
        assert_eq!(made, 2);
        assert!(matches!(ending, Ending::Done { answer: Ok((200, _)), .. }), "{ending:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_late_answer_is_a_timeout() {
        let quick = RetryPolicy { max_attempts: 1, request_timeout: Duration::from_secs(1), ..policy() };
        let retrier = Retrier { policy: &quick, pause: None, metrics: None };
        let ending = retrier
            .send(|_| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                Ok::<_, Infallible>(status(200))
            })
            .await;
        let timed_out = Failure::Timeout(Duration::from_secs(1));
        assert!(matches!(ending, Ok(Ending::Done { answer: Err(f), .. }) if f == timed_out));
        assert_eq!(timed_out.to_string(), "no answer within 1 s");
    }

    #[tokio::test(start_paused = true)]
    async fn a_wait_longer_than_the_policy_ends_at_once() {
        let spent = RateHeaders { retry_after: Some(3600), ..RateHeaders::default() };
        let (ending, made) = run(&policy(), None, &[Exchange::answered(429, spent, "slow down")]).await;
        assert_eq!(made, 1);
        assert!(matches!(ending, Ending::TooLong { answer: Ok((429, "slow down")), .. }), "{ending:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_spent_budget_pauses_every_request_of_the_client() {
        let pause = Pause::default();
        let reset = chrono::Utc::now().timestamp() + 40;
        let spent = RateHeaders { remaining: Some(0), reset: Some(reset), ..RateHeaders::default() };
        // A success that spent the budget: done, and the next request waits for the refill.
        let (ending, _) = run(&policy(), Some(&pause), &[Exchange::answered(200, spent, "last")]).await;
        assert!(matches!(ending, Ending::Done { answer: Ok((200, "last")), attempts: 1 }), "{ending:?}");
        let waited = pause.hold_off().await.unwrap_or_default();
        assert!(waited >= Duration::from_secs(30), "{waited:?}");
        assert_eq!(Pause::default().hold_off().await, None);
    }

    #[tokio::test(start_paused = true)]
    async fn an_error_before_an_attempt_ends_the_loop() {
        let retrier = Retrier { policy: &policy(), pause: None, metrics: None };
        let tried = Cell::new(false);
        let ending = retrier
            .send_when(
                |_| async { Err::<(), _>("no token for the limiter") },
                |_| {
                    tried.set(true);
                    async { Ok(status(200)) }
                },
            )
            .await;
        assert!(matches!(ending, Err("no token for the limiter")));
        assert!(!tried.get());
    }
}
