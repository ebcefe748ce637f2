//! How an AWS call is retried, beneath [`aws_call`](crate::call::aws_call):
//! the policy (attempts at a throttled or transiently failing call, and the
//! backoff), the attempt loop with its counting, and the SDK's own retries
//! turned off. [`Connections`](crate::connection::Connections) holds the
//! policy and makes its STS lookups with [`uncounted_call`].

use std::future::Future;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::aws_error::{Classified, classify};
use crate::error::{Error, Result};
use crate::metrics::{ApiCounters, ScanMetrics};
use crate::throttle::Throttle;

/// Attempts at a call the API keeps throttling, the first included.
pub const THROTTLE_ATTEMPTS: u32 = 8;

/// Attempts at a call that keeps failing transiently (5xx, timeout,
/// unreachable), the first included: few, so a dead endpoint fails in seconds.
pub const TRANSIENT_ATTEMPTS: u32 = 3;

/// How [`aws_call`](crate::call::aws_call) retries: a field of
/// [`Connections`](crate::connection::Connections), so a test can make the backoff short.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts at a throttled call, the first included.
    pub throttle_attempts: u32,
    /// Attempts at a call failing transiently, the first included.
    pub transient_attempts: u32,
    /// The first backoff; it doubles per attempt, up to 32 times this for throttles.
    pub backoff_unit: Duration,
}

impl Default for RetryPolicy {
    /// [`THROTTLE_ATTEMPTS`], [`TRANSIENT_ATTEMPTS`], backoff from 250 ms.
    fn default() -> Self {
        RetryPolicy {
            throttle_attempts: THROTTLE_ATTEMPTS,
            transient_attempts: TRANSIENT_ATTEMPTS,
            backoff_unit: Duration::from_millis(250),
        }
    }
}

/// The SDK retry settings of every client skyglue builds: none, since
/// [`aws_call`](crate::call::aws_call) owns retrying.
pub fn sdk_retries_off() -> RetryConfig {
    RetryConfig::disabled()
}

/// A call made where no [`Connections`](crate::connection::Connections) exists yet (the STS account lookup of
/// a connection): retried like any other, but neither rate-limited (STS has
/// no client-side bucket) nor counted.
pub(crate) async fn uncounted_call<T, E, F, Fut>(connection: &str, operation: &str, request: F) -> Result<T>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let count = Counter { counters: None, metrics: None };
    match attempts(None, &RetryPolicy::default(), &count, connection, operation, &[], request).await? {
        Some(out) => Ok(out),
        // Unreachable with no not-found codes.
        None => Err(Error::Api {
            operation: operation.to_string(),
            connection: connection.to_string(),
            detail: "not found".into(),
        }),
    }
}

/// The attempt loop of [`aws_call`](crate::call::aws_call).
pub(crate) async fn attempts<T, E, F, Fut>(
    throttle: Option<&Throttle>,
    policy: &RetryPolicy,
    count: &Counter<'_>,
    connection: &str,
    operation: &str,
    not_found: &[&str],
    request: F,
) -> Result<Option<T>>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let mut attempt: u32 = 1;
    loop {
        if let Some(throttle) = throttle {
            count.wait(throttle.acquire(connection, operation).await?);
        }
        if attempt == 1 {
            count.call();
        } else {
            count.retry();
        }
        // The API's answer steers the connection's adaptive rate: an answer
        // may grow it, a throttle halves it (see `crate::throttle`).
        let answered = || {
            if let Some(throttle) = throttle {
                throttle.answered(connection, operation);
            }
        };
        let err = match request().await {
            Ok(out) => {
                answered();
                return Ok(Some(out));
            }
            Err(err) => err,
        };
        let server_error = err.raw_response().is_some_and(|r| r.status().is_server_error());
        let failed = match classify(operation, connection, not_found, err) {
            Classified::NotFound => {
                answered();
                return Ok(None);
            }
            Classified::Failed(failed) => failed,
        };
        if let (Error::Throttled { .. }, Some(throttle)) = (&failed, throttle) {
            throttle.throttled(connection, operation);
        }
        let Some(backoff) = retry_after(policy, &failed, server_error, attempt) else {
            return Err(given_up(failed, attempt));
        };
        tokio::time::sleep(backoff).await;
        count.wait(backoff);
        attempt += 1;
    }
}

/// How long to wait before attempt `attempt + 1`, or `None` when the failure
/// is final (not retryable, or out of attempts).
fn retry_after(policy: &RetryPolicy, failed: &Error, server_error: bool, attempt: u32) -> Option<Duration> {
    let unit = policy.backoff_unit;
    let transient = attempt < policy.transient_attempts;
    match failed {
        Error::Throttled { .. } if attempt < policy.throttle_attempts => {
            Some(throttle_backoff(unit, attempt))
        }
        Error::Unreachable { .. } if transient => Some(transient_backoff(unit, attempt)),
        Error::Api { .. } if server_error && transient => Some(transient_backoff(unit, attempt)),
        _ => None,
    }
}

/// The final error after `attempts` attempts: it says how many were made.
fn given_up(failed: Error, attempts: u32) -> Error {
    match failed {
        Error::Throttled { operation, connection, detail, .. } => {
            Error::Throttled { operation, connection, attempts, detail }
        }
        Error::Unreachable { operation, connection, detail } if attempts > 1 => Error::Unreachable {
            operation,
            connection,
            detail: format!("{detail} (after {attempts} attempts)"),
        },
        Error::Api { operation, connection, detail } if attempts > 1 => {
            Error::Api { operation, connection, detail: format!("{detail} (after {attempts} attempts)") }
        }
        other => other,
    }
}

/// Two units doubling per attempt up to 32 (500 ms to 8 s by default), with
/// jitter so concurrent callers spread out.
fn throttle_backoff(unit: Duration, attempt: u32) -> Duration {
    jittered(unit.saturating_mul(1 << attempt.min(5)))
}

/// One unit, then two, ...: a server error or a dropped connection is usually brief.
fn transient_backoff(unit: Duration, attempt: u32) -> Duration {
    jittered(unit.saturating_mul(1 << (attempt - 1).min(4)))
}

/// Between half of `base` and all of it.
fn jittered(base: Duration) -> Duration {
    let half = base / 2;
    let span = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX).saturating_add(1);
    let jitter = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::from(d.subsec_nanos()) % span)
        .unwrap_or(0);
    half + Duration::from_nanos(jitter)
}

/// Where a call's numbers go: the scan's metrics (which add to the session's
/// counters themselves) or, outside a scan, the session's counters.
pub(crate) struct Counter<'a> {
    pub(crate) counters: Option<&'a ApiCounters>,
    pub(crate) metrics: Option<&'a ScanMetrics>,
}

impl Counter<'_> {
    fn call(&self) {
        match (self.metrics, self.counters) {
            (Some(m), _) => m.call(),
            (None, Some(c)) => c.call(),
            (None, None) => {}
        }
    }

    fn retry(&self) {
        match (self.metrics, self.counters) {
            (Some(m), _) => m.retry(),
            (None, Some(c)) => c.retry(),
            (None, None) => {}
        }
    }

    fn wait(&self, waited: Duration) {
        match (self.metrics, self.counters) {
            _ if waited.is_zero() => {}
            (Some(m), _) => m.throttle_wait(waited),
            (None, Some(c)) => c.throttle_wait(waited),
            (None, None) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(detail: &str) -> Error {
        Error::Api { operation: "ecr:X".into(), connection: "c/r".into(), detail: detail.into() }
    }

    fn throttled() -> Error {
        Error::Throttled {
            operation: "ecr:X".into(),
            connection: "c/r".into(),
            attempts: 1,
            detail: "t".into(),
        }
    }

    #[test]
    fn throttles_and_server_errors_are_retried_a_bounded_number_of_times() {
        assert!(retry_after(&RetryPolicy::default(), &throttled(), false, 1).is_some());
        assert!(retry_after(&RetryPolicy::default(), &throttled(), false, THROTTLE_ATTEMPTS).is_none());
        let once = RetryPolicy { throttle_attempts: 1, ..RetryPolicy::default() };
        assert!(retry_after(&once, &throttled(), false, 1).is_none());
        assert!(retry_after(&RetryPolicy::default(), &api("ServerException"), true, 1).is_some());
        assert!(
            retry_after(&RetryPolicy::default(), &api("ServerException"), true, TRANSIENT_ATTEMPTS).is_none()
        );
    }

    #[test]
    fn client_errors_are_final() {
        assert!(
            retry_after(
                &RetryPolicy::default(),
                &api("ClientException: Unable to describe task definition."),
                false,
                1
            )
            .is_none()
        );
        let denied =
            Error::AccessDenied { operation: "ecr:X".into(), connection: "c/r".into(), detail: "no".into() };
        assert!(retry_after(&RetryPolicy::default(), &denied, false, 1).is_none());
    }

    #[test]
    fn the_final_error_says_how_many_attempts_were_made() {
        let e = given_up(throttled(), THROTTLE_ATTEMPTS);
        assert!(matches!(e, Error::Throttled { attempts: THROTTLE_ATTEMPTS, .. }), "{e:?}");
        let e = given_up(api("ServerException: boom"), 3);
        assert!(e.to_string().ends_with("ServerException: boom (after 3 attempts)"), "{e}");
        assert!(!given_up(api("x"), 1).to_string().contains("attempts"));
    }

    #[test]
    fn backoffs_grow_and_stay_bounded() {
        let unit = RetryPolicy::default().backoff_unit;
        assert!(throttle_backoff(unit, 1) <= Duration::from_millis(500));
        assert!(throttle_backoff(unit, 1) >= Duration::from_millis(250));
        assert!(throttle_backoff(unit, 30) <= Duration::from_secs(8));
        assert!(transient_backoff(unit, 1) <= Duration::from_millis(250));
        assert!(transient_backoff(unit, 2) <= Duration::from_millis(500));
    }
}
