//! Client-side rate limits, so skyglue stays under the APIs' throttles instead
//! of bouncing off them.
//!
//! Each service declares its limits next to its tables, as a [`RateLimits`]
//! named in their specs ([`crate::TableSpec::rate_limits`]); the [`Engine`]
//! registers every declaration of its tables here. ECS publishes token buckets
//! per account and region shared by groups of operations
//! (../shared/research/api-limits.md, A2); a service that publishes none gets a
//! conservative bucket. A call to a service nobody declared limits for fails
//! (naming the service) rather than running unthrottled. Each (connection,
//! bucket) pair has one limiter; [`Throttle::acquire`] waits for a token and
//! says how long it waited, which the scan metrics record.
//!
//! [`Engine`]: crate::Engine

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use crate::error::{Error, Result};

/// A bucket: capacity (burst) and refill per second.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    /// Name, for display; operations with the same name share a limiter.
    pub name: &'static str,
    /// Burst capacity.
    pub burst: u32,
    /// Sustained requests per second.
    pub per_second: u32,
}

/// A bucket named `name` holding `burst` requests and refilling `per_second`.
pub const fn bucket(name: &'static str, burst: u32, per_second: u32) -> Bucket {
    Bucket { name, burst, per_second }
}

/// One service's client-side limits, declared next to its tables:
///
/// ```
/// use skyglue_core::throttle::{Bucket, RateLimits, bucket};
///
/// fn lambda_bucket(operation: &str) -> Option<Bucket> {
///     Some(match operation {
///         "GetFunction" => bucket("lambda get", 100, 100),
///         _ => bucket("lambda list", 15, 15),
///     })
/// }
///
/// pub static LAMBDA: RateLimits = RateLimits { service: "lambda", bucket: lambda_bucket };
/// assert_eq!(LAMBDA.bucket("ListFunctions").map(|b| b.per_second), Some(15));
/// ```
#[derive(Debug)]
pub struct RateLimits {
    /// The service prefix of its operations (`ecs` in `ecs:ListServices`).
    pub service: &'static str,
    /// The bucket of an operation (without the prefix); `None` only where the
    /// service is deliberately unlimited (an opt-out the user configured).
    pub bucket: fn(&str) -> Option<Bucket>,
}

impl RateLimits {
    /// The bucket of `operation` (without the service prefix).
    pub fn bucket(&self, operation: &str) -> Option<Bucket> {
        (self.bucket)(operation)
    }
}

/// Rate limiters for every connection.
#[derive(Debug, Default)]
pub struct Throttle {
    unlimited: bool,
    services: RwLock<HashMap<&'static str, &'static RateLimits>>,
    overrides: HashMap<&'static str, Bucket>,
    /// Buckets declared at run time (a declared REST table's `rate`), one per service.
    declared: RwLock<HashMap<&'static str, Bucket>>,
    limiters: Mutex<HashMap<(String, &'static str), Arc<DefaultDirectRateLimiter>>>,
}

impl Throttle {
    /// No client-side limits at all (tests of the retry path).
    pub fn unlimited() -> Self {
        Self { unlimited: true, ..Self::default() }
    }

    /// Every operation of `service` shares `bucket`, whatever the service
    /// declares (a test that wants a slow API, say).
    pub fn with_override(mut self, service: &'static str, bucket: Bucket) -> Self {
        self.overrides.insert(service, bucket);
        self
    }

    /// Registers a service's declared limits (the engine does this for each
    /// table's [`crate::TableSpec::rate_limits`]).
    pub fn register(&self, limits: &'static RateLimits) {
        let mut services = self.services.write().unwrap_or_else(|e| e.into_inner());
        services.insert(limits.service, limits);
    }

    /// Every operation of `service` shares `bucket`: for a service whose
    /// limit is known only at run time (a declared REST table's `rate`).
    /// Declaring it again replaces the bucket.
    pub fn declare(&self, service: &'static str, bucket: Bucket) {
        let mut declared = self.declared.write().unwrap_or_else(|e| e.into_inner());
        declared.insert(service, bucket);
    }

    /// Whether limits are declared for `service`.
    pub fn knows(&self, service: &str) -> bool {
        self.unlimited
            || self.overrides.contains_key(service)
            || self.services.read().unwrap_or_else(|e| e.into_inner()).contains_key(service)
            || self.declared.read().unwrap_or_else(|e| e.into_inner()).contains_key(service)
    }

    fn bucket(&self, operation: &str) -> Result<Option<Bucket>> {
        let (service, op) = operation.split_once(':').unwrap_or((operation, ""));
        if self.unlimited {
            return Ok(None);
        }
        if let Some(b) = self.overrides.get(service) {
            return Ok(Some(*b));
        }
        if let Some(b) = self.declared.read().unwrap_or_else(|e| e.into_inner()).get(service) {
            return Ok(Some(*b));
        }
        let services = self.services.read().unwrap_or_else(|e| e.into_inner());
        match services.get(service) {
            Some(limits) => Ok(limits.bucket(op)),
            None => Err(Error::Config(format!(
                "no client-side rate limit is declared for {service} (operation {operation}): \
                 declare a RateLimits next to its tables and name it in their specs' rate_limits"
            ))),
        }
    }

    /// Waits until `operation` (`service:Operation`) may be sent on
    /// `connection`; an error when nobody declared limits for the service.
    pub async fn acquire(&self, connection: &str, operation: &str) -> Result<Duration> {
        let Some(bucket) = self.bucket(operation)? else { return Ok(Duration::ZERO) };
        let limiter = {
            let mut map = self.limiters.lock().unwrap_or_else(|e| e.into_inner());
            map.entry((connection.to_string(), bucket.name))
                .or_insert_with(|| Arc::new(RateLimiter::direct(quota(bucket))))
                .clone()
        };
        if limiter.check().is_ok() {
            return Ok(Duration::ZERO);
        }
        let start = Instant::now();
        limiter.until_ready().await;
        Ok(start.elapsed())
    }
}

/// The share of a published bucket skyglue allows itself: staying a little
/// under it leaves room for clock drift and for other clients of the same
/// account, so the API's own throttle is not hit and retries are rare.
const HEADROOM: f64 = 0.9;

fn quota(b: Bucket) -> Quota {
    let rate = (f64::from(b.per_second) * HEADROOM).max(0.1);
    let burst = ((f64::from(b.burst) * HEADROOM) as u32).max(1);
    let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
    match Quota::with_period(Duration::from_secs_f64(1.0 / rate)) {
        Some(q) => q.allow_burst(burst),
        None => Quota::per_second(NonZeroU32::MIN).allow_burst(burst),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slow(_: &str) -> Option<Bucket> {
        Some(bucket("slow", 5, 1))
    }

    static SLOW: RateLimits = RateLimits { service: "slow", bucket: slow };

    #[tokio::test]
    async fn the_burst_is_free_then_requests_wait() {
        let t = Throttle::default();
        t.register(&SLOW);
        // 90% of the burst of 5 is free...
        for _ in 0..4 {
            assert_eq!(t.acquire("c", "slow:Delete").await.ok(), Some(Duration::ZERO));
        }
        // ...the next waits for a refill; assert only that it waited, not how long.
        assert!(t.acquire("c", "slow:Delete").await.ok() > Some(Duration::ZERO));
        // Another connection has its own bucket.
        assert_eq!(t.acquire("d", "slow:Delete").await.ok(), Some(Duration::ZERO));
    }

    #[tokio::test]
    async fn a_service_without_declared_limits_is_refused_not_run_unthrottled() {
        let t = Throttle::default();
        let err = t.acquire("c", "lambda:ListFunctions").await.expect_err("undeclared");
        assert!(err.to_string().contains("no client-side rate limit is declared for lambda"), "{err}");
        assert!(Throttle::unlimited().acquire("c", "lambda:ListFunctions").await.is_ok());
        let t = Throttle::default().with_override("lambda", bucket("x", 1, 1));
        assert!(t.acquire("c", "lambda:ListFunctions").await.is_ok());
    }

    #[tokio::test]
    async fn a_bucket_declared_at_run_time_limits_its_service() {
        let t = Throttle::default();
        assert!(!t.knows("pagerduty_incident"));
        t.declare("pagerduty_incident", bucket("pagerduty_incident", 2, 1));
        assert!(t.knows("pagerduty_incident"));
        assert_eq!(t.acquire("c", "pagerduty_incident:GET").await.ok(), Some(Duration::ZERO));
        assert!(t.acquire("c", "pagerduty_incident:GET").await.ok() > Some(Duration::ZERO));
    }
}
