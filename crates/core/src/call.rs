//! The one way skyglue calls AWS: scans, deletes and index lookups alike.
//!
//! [`aws_call`] sends a request within the connection's client-side rate limit
//! ([`crate::throttle`]), counts it (in the scan's metrics when there is a
//! scan, else in the session counters), and retries it when AWS throttles it or
//! fails transiently (HTTP 5xx, a timeout, a connection that could not be made).
//! Every retry goes through the rate limit again, after a backoff, so retries
//! never add to the pressure that caused them; a throttle also halves the
//! connection's adaptive rate for that operation's bucket, and answers let it
//! grow back. The SDK's own retries are off
//! in every client skyglue builds ([`sdk_retries_off`]): a retry inside the SDK
//! would bypass the limit and go uncounted.

use std::future::Future;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::aws_retry::{Counter, attempts};
pub use crate::aws_retry::{RetryPolicy, THROTTLE_ATTEMPTS, TRANSIENT_ATTEMPTS, sdk_retries_off};
use crate::connection::Connections;
use crate::error::Result;
use crate::metrics::ScanMetrics;

/// Sends one AWS call and returns its output; `Ok(None)` when the API answers
/// with one of `not_found` (error codes that mean "no such thing" for this
/// operation).
///
/// `request` builds and sends the request; it is called again for each retry.
/// `connection` is the connection's label (`name/region`) and `operation`
/// is `service:Operation`: together they pick the rate-limit bucket and name
/// the call in errors. `metrics` is the scan's, when a scan makes the call.
pub async fn aws_call<T, E, F, Fut>(
    connections: &Connections,
    connection: &str,
    operation: &str,
    not_found: &[&str],
    metrics: Option<&ScanMetrics>,
    request: F,
) -> Result<Option<T>>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let count = Counter { counters: Some(&connections.counters), metrics };
    let policy = &connections.retry;
    attempts(Some(&connections.throttle), policy, &count, connection, operation, not_found, request).await
}
