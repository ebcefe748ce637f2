//! Client-side rate limits, so skyglue stays under the APIs' throttles instead
//! of bouncing off them, and speeds up where an API lets it.
//!
//! Each service declares its limits next to its tables, as a [`RateLimits`]
//! named in their specs ([`crate::TableSpec::rate_limits`]); the [`Engine`]
//! registers every declaration of its tables here. ECS publishes token buckets
//! per account and region shared by groups of operations
//! (../shared/research/api-limits.md, A2); a service that publishes none gets a
//! conservative bucket. A call to a service nobody declared limits for fails
//! (naming the service) rather than running unthrottled.
//!
//! Each (connection, bucket) pair has one [`AdaptiveRate`]: a token bucket
//! whose refill rate adapts, as the AWS SDK's adaptive retry mode and TCP's
//! congestion control do. It starts at the bucket's rate, halves when the API
//! throttles a call ([`Throttle::throttled`]) and grows back as calls are
//! answered ([`Throttle::answered`]) while it is what holds callers back. A
//! [`bucket`] is a published limit, so its rate is also its ceiling; an
//! [`unpublished`] one (ECR's reads) starts at its burst and keeps growing
//! until the API throttles. [`Throttle::acquire`] waits for a token and says
//! how long it waited, which the scan metrics record.
//!
//! [`Engine`]: crate::Engine

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex, RwLock};
use std::time::Duration;

use tokio::time::Instant;

use crate::error::{Error, Result};

/// A bucket: capacity (burst) and refill per second.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    /// Name, for display; operations with the same name share a limiter.
    pub name: &'static str,
    /// Burst capacity.
    pub burst: u32,
    /// Sustained requests per second: the ceiling of a published limit, the
    /// starting rate of an unpublished one.
    pub per_second: u32,
    /// Whether the API documents this limit: then skyglue never goes past it
    /// (less [`HEADROOM`]); otherwise the rate grows until the API throttles.
    pub published: bool,
}

/// A published limit: a bucket named `name` holding `burst` requests and
/// refilling `per_second`, which skyglue's rate never exceeds.
pub const fn bucket(name: &'static str, burst: u32, per_second: u32) -> Bucket {
    Bucket { name, burst, per_second, published: true }
}

/// A limit the API does not publish (ECR's reads): skyglue starts at `burst`
/// requests, refilled at `per_second`, and grows past it while the API
/// answers, halving when it throttles.
pub const fn unpublished(name: &'static str, burst: u32, per_second: u32) -> Bucket {
    Bucket { name, burst, per_second, published: false }
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
    limiters: Mutex<HashMap<(String, &'static str), AdaptiveRate>>,
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
        let now = now();
        let wait = {
            let mut map = self.limiters.lock().unwrap_or_else(|e| e.into_inner());
            map.entry((connection.to_string(), bucket.name))
                .or_insert_with(|| AdaptiveRate::new(bucket, now))
                .reserve(now)
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        Ok(wait)
    }

    /// The API throttled `operation` on `connection`: its bucket's rate halves.
    pub fn throttled(&self, connection: &str, operation: &str) {
        self.with_rate(connection, operation, |rate, now| rate.throttled(now));
    }

    /// The API answered `operation` on `connection` (a result or a "not
    /// found", not a throttle): its bucket's rate may grow.
    pub fn answered(&self, connection: &str, operation: &str) {
        self.with_rate(connection, operation, |rate, now| rate.answered(now));
    }

    /// The current rate (requests per second) of `operation`'s bucket on
    /// `connection`; `None` before its first call, or when it is unlimited.
    pub fn rate(&self, connection: &str, operation: &str) -> Option<f64> {
        let mut out = None;
        self.with_rate(connection, operation, |rate, _| out = Some(rate.rate()));
        out
    }

    fn with_rate(&self, connection: &str, operation: &str, f: impl FnOnce(&mut AdaptiveRate, Duration)) {
        let Ok(Some(bucket)) = self.bucket(operation) else { return };
        let now = now();
        let mut map = self.limiters.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(rate) = map.get_mut(&(connection.to_string(), bucket.name)) {
            f(rate, now);
        }
    }
}

/// Time since the first limiter was made, on tokio's clock (so a test that
/// pauses time pauses the limiters too).
fn now() -> Duration {
    static EPOCH: LazyLock<Instant> = LazyLock::new(Instant::now);
    EPOCH.elapsed()
}

/// The share of a published bucket skyglue allows itself: staying a little
/// under it leaves room for clock drift and for other clients of the same
/// account, so the API's own throttle is not hit and retries are rare.
pub const HEADROOM: f64 = 0.9;

/// The lowest rate halving reaches (the AWS SDK's minimum fill rate).
pub const MIN_RATE: f64 = 0.5;

/// Throttles closer together than this halve the rate once: the calls in
/// flight when the API started throttling all come back throttled, and they
/// are one signal, not several (TCP halves once per round trip).
pub const HALVING_GAP: Duration = Duration::from_secs(1);

/// The rate grows only while it held a caller back within this window: an
/// idle or latency-bound connection does not earn a rate it never used.
pub const GROWTH_WINDOW: Duration = Duration::from_secs(1);

/// The limiter of one (connection, bucket): a token bucket of the bucket's
/// burst whose refill rate adapts (pure logic: every method takes the time).
///
/// - It starts full, refilling at the bucket's rate ([`HEADROOM`] under a
///   published limit; an unpublished one starts at its burst).
/// - A throttle halves the rate (not below [`MIN_RATE`]), empties the bucket
///   and remembers the halved rate as the threshold; further throttles within
///   [`HALVING_GAP`] are the same signal.
/// - An answer grows the rate while the limiter held a caller back within
///   [`GROWTH_WINDOW`]: by one request per second per answer below the
///   threshold (slow start: it doubles each second it is the bottleneck), by
///   `1 / rate` above it (about one request per second each second), never
///   past a published ceiling.
#[derive(Debug, Clone, PartialEq)]
pub struct AdaptiveRate {
    capacity: f64,
    rate: f64,
    ceiling: Option<f64>,
    threshold: Option<f64>,
    tokens: f64,
    refilled_at: Duration,
    halved_at: Option<Duration>,
    limited_at: Option<Duration>,
}

impl AdaptiveRate {
    /// A full limiter for `bucket` at time `now`.
    pub fn new(bucket: Bucket, now: Duration) -> Self {
        let (capacity, rate, ceiling) = if bucket.published {
            let ceiling = (f64::from(bucket.per_second) * HEADROOM).max(0.1);
            let capacity = ((f64::from(bucket.burst) * HEADROOM).floor()).max(1.0);
            (capacity, ceiling, Some(ceiling))
        } else {
            let capacity = f64::from(bucket.burst).max(1.0);
            (capacity, f64::from(bucket.per_second.max(bucket.burst)).max(MIN_RATE), None)
        };
        AdaptiveRate {
            capacity,
            rate,
            ceiling,
            threshold: None,
            tokens: capacity,
            refilled_at: now,
            halved_at: None,
            limited_at: None,
        }
    }

    /// Requests per second now.
    pub fn rate(&self) -> f64 {
        self.rate
    }

    fn refill(&mut self, now: Duration) {
        let elapsed = now.saturating_sub(self.refilled_at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.capacity);
        self.refilled_at = self.refilled_at.max(now);
    }

    /// Takes a token at `now`; how long the caller must wait before sending
    /// (zero when the bucket had one). Callers that find it empty queue up:
    /// each is given the next token the rate makes.
    pub fn reserve(&mut self, now: Duration) -> Duration {
        self.refill(now);
        self.tokens -= 1.0;
        if self.tokens >= 0.0 {
            return Duration::ZERO;
        }
        self.limited_at = Some(now);
        Duration::from_secs_f64(-self.tokens / self.rate)
    }

    /// The API throttled a call at `now`.
    pub fn throttled(&mut self, now: Duration) {
        self.refill(now);
        if self.halved_at.is_some_and(|at| now.saturating_sub(at) < HALVING_GAP) {
            return;
        }
        self.rate = (self.rate / 2.0).max(MIN_RATE);
        self.threshold = Some(self.rate);
        self.tokens = self.tokens.min(0.0);
        self.halved_at = Some(now);
    }

    /// The API answered a call at `now`.
    pub fn answered(&mut self, now: Duration) {
        self.refill(now);
        if self.limited_at.is_none_or(|at| now.saturating_sub(at) > GROWTH_WINDOW) {
            return;
        }
        let step = match self.threshold {
            Some(threshold) if self.rate >= threshold => 1.0 / self.rate,
            _ => 1.0,
        };
        self.rate += step;
        if let Some(ceiling) = self.ceiling {
            self.rate = self.rate.min(ceiling);
        }
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

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    /// Takes every token left at `now`; returns how many were free.
    fn drain(r: &mut AdaptiveRate, now: Duration) -> usize {
        let mut free = 0;
        while r.reserve(now).is_zero() {
            free += 1;
        }
        free
    }

    #[test]
    fn a_published_limit_starts_at_its_rate_under_headroom_with_its_burst() {
        let mut r = AdaptiveRate::new(bucket("ecs service read", 100, 20), secs(0.0));
        assert_eq!(r.rate(), 18.0);
        assert_eq!(drain(&mut r, secs(0.0)), 90);
        // The 91st waited for a token: one more after 1/18 s each.
        assert_eq!(r.reserve(secs(0.0)), secs(2.0 / 18.0));
    }

    #[test]
    fn a_throttle_halves_the_rate_once_per_gap_and_never_below_the_minimum() {
        let mut r = AdaptiveRate::new(bucket("b", 50, 20), secs(0.0));
        r.throttled(secs(0.1));
        assert_eq!(r.rate(), 9.0);
        // The bucket is emptied: the next call waits.
        assert!(!r.reserve(secs(0.1)).is_zero());
        // The other calls of the same burst are the same signal.
        r.throttled(secs(0.5));
        assert_eq!(r.rate(), 9.0);
        r.throttled(secs(1.2));
        assert_eq!(r.rate(), 4.5);
        for k in 0..20 {
            r.throttled(secs(2.5 + f64::from(k) * 1.5));
        }
        assert_eq!(r.rate(), MIN_RATE);
    }

    #[test]
    fn it_grows_back_slowly_while_it_holds_callers_back_and_stops_at_a_published_ceiling() {
        let mut r = AdaptiveRate::new(bucket("b", 50, 20), secs(0.0));
        r.throttled(secs(0.0));
        assert_eq!(r.rate(), 9.0);
        // Answers while nobody waited (idle, or latency-bound): no growth.
        r.answered(secs(0.5));
        assert_eq!(r.rate(), 9.0);
        // Held back: above the threshold the rate grows by 1/rate per answer,
        // about one request per second each second at full rate.
        drain(&mut r, secs(2.0));
        r.answered(secs(2.1));
        assert!((r.rate() - (9.0 + 1.0 / 9.0)).abs() < 1e-9, "{}", r.rate());
        // Long after the last wait, answers earn nothing.
        r.answered(secs(9.0));
        assert!((r.rate() - (9.0 + 1.0 / 9.0)).abs() < 1e-9, "{}", r.rate());
        // It never passes the published rate (less headroom).
        let mut t = 10.0;
        for _ in 0..2_000 {
            drain(&mut r, secs(t));
            r.answered(secs(t));
            t += 0.01;
        }
        assert_eq!(r.rate(), 18.0);
    }

    #[test]
    fn an_unpublished_limit_starts_at_its_burst_and_grows_past_it_until_throttled() {
        let mut r = AdaptiveRate::new(unpublished("ecr", 20, 20), secs(0.0));
        assert_eq!(r.rate(), 20.0);
        assert_eq!(drain(&mut r, secs(0.0)), 20);
        // Slow start: one request per second more per answer while held back.
        for k in 0..30 {
            r.answered(secs(0.02 * f64::from(k)));
        }
        assert_eq!(r.rate(), 50.0);
        // A throttle halves it; from there it grows linearly.
        r.throttled(secs(1.0));
        assert_eq!(r.rate(), 25.0);
        r.reserve(secs(1.0));
        r.answered(secs(1.1));
        assert!((r.rate() - 25.04).abs() < 1e-9, "{}", r.rate());
    }

    #[tokio::test]
    async fn rates_are_per_connection_and_bucket_and_follow_the_apis_answers() {
        let t = Throttle::default();
        t.register(&SLOW);
        assert_eq!(t.rate("c", "slow:Delete"), None);
        t.acquire("c", "slow:Delete").await.expect("declared");
        t.acquire("d", "slow:Delete").await.expect("declared");
        assert_eq!(t.rate("c", "slow:Delete"), Some(0.9));
        t.throttled("c", "slow:Delete");
        assert_eq!(t.rate("c", "slow:Delete"), Some(MIN_RATE));
        assert_eq!(t.rate("d", "slow:Delete"), Some(0.9));
        // Feedback for an operation nobody declared, or before any call, is ignored.
        t.throttled("c", "nobody:Call");
        t.answered("e", "slow:Delete");
        assert_eq!(t.rate("e", "slow:Delete"), None);
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
