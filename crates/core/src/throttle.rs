//! Client-side rate limits, so skyglue stays under the APIs' throttles instead
//! of bouncing off them.
//!
//! ECS publishes token buckets per account and region, shared by groups of
//! operations (../shared/research/api-limits.md, A2); ECR publishes none for
//! the read APIs, so it gets a configurable rate. Each (connection, bucket)
//! pair has one limiter; [`Throttle::acquire`] waits for a token and says how
//! long it waited, which the scan metrics record.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

/// A bucket: capacity (burst) and refill per second.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    /// Name, for display.
    pub name: &'static str,
    /// Burst capacity.
    pub burst: u32,
    /// Sustained requests per second.
    pub per_second: u32,
}

const fn bucket(name: &'static str, burst: u32, per_second: u32) -> Bucket {
    Bucket { name, burst, per_second }
}

/// The published ECS buckets, by operation.
pub fn ecs_bucket(operation: &str) -> Option<Bucket> {
    Some(match operation {
        "ListClusters" | "DescribeClusters" => bucket("ecs cluster read", 50, 20),
        "ListServices" | "DescribeServices" => bucket("ecs service read", 100, 20),
        "ListTasks" | "DescribeTasks" => bucket("ecs cluster resource read", 100, 20),
        "ListTaskDefinitions" | "ListTaskDefinitionFamilies" | "DescribeTaskDefinition" => {
            bucket("ecs task definition read", 50, 20)
        }
        "DeregisterTaskDefinition" | "RegisterTaskDefinition" => bucket("ecs task definition modify", 20, 1),
        "DeleteTaskDefinitions" => bucket("ecs task definition deletion", 5, 1),
        _ => return None,
    })
}

/// Rate limiters for every connection.
#[derive(Debug)]
pub struct Throttle {
    ecr: Option<Bucket>,
    limiters: Mutex<HashMap<(String, &'static str), Arc<DefaultDirectRateLimiter>>>,
}

/// The environment variable that sets the ECR rate (requests per second per
/// connection; `0` turns the ECR limit off). Default 20.
pub const ECR_RATE_ENV: &str = "SKYGLUE_ECR_RPS";

impl Default for Throttle {
    /// ECS at its published buckets; ECR at `$SKYGLUE_ECR_RPS` (default 20/s).
    fn default() -> Self {
        let rate = std::env::var(ECR_RATE_ENV).ok().and_then(|v| v.trim().parse::<u32>().ok()).unwrap_or(20);
        Self::new((rate > 0).then(|| bucket("ecr", rate, rate)))
    }
}

impl Throttle {
    /// Limits with this ECR bucket (`None`: ECR unlimited).
    pub fn new(ecr: Option<Bucket>) -> Self {
        Self { ecr, limiters: Mutex::default() }
    }

    /// No client-side limits at all (tests of the retry path).
    pub fn unlimited() -> Self {
        Self { ecr: None, limiters: Mutex::default() }
    }

    fn bucket(&self, operation: &str) -> Option<Bucket> {
        match operation.split_once(':') {
            Some(("ecs", op)) => ecs_bucket(op),
            Some(("ecr", _)) => self.ecr,
            _ => None,
        }
    }

    /// Waits until `operation` (`service:Operation`) may be sent on `connection`.
    pub async fn acquire(&self, connection: &str, operation: &str) -> Duration {
        let Some(bucket) = self.bucket(operation) else { return Duration::ZERO };
        let limiter = {
            let mut map = match self.limiters.lock() {
                Ok(m) => m,
                Err(poisoned) => poisoned.into_inner(),
            };
            map.entry((connection.to_string(), bucket.name))
                .or_insert_with(|| Arc::new(RateLimiter::direct(quota(bucket))))
                .clone()
        };
        if limiter.check().is_ok() {
            return Duration::ZERO;
        }
        let start = Instant::now();
        limiter.until_ready().await;
        start.elapsed()
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

    #[test]
    fn operations_share_their_published_buckets() {
        assert_eq!(ecs_bucket("DescribeServices"), ecs_bucket("ListServices"));
        assert_eq!(ecs_bucket("DescribeTaskDefinition").map(|b| (b.burst, b.per_second)), Some((50, 20)));
        assert_eq!(ecs_bucket("DeleteTaskDefinitions").map(|b| (b.burst, b.per_second)), Some((5, 1)));
        assert_eq!(ecs_bucket("TagResource"), None);
    }

    #[tokio::test]
    async fn the_burst_is_free_then_requests_wait() {
        let t = Throttle::default();
        // 90% of the published burst of 5 is free...
        for _ in 0..4 {
            assert_eq!(t.acquire("c", "ecs:DeleteTaskDefinitions").await, Duration::ZERO);
        }
        // ...the next waits for a refill; assert only that it waited, not how long.
        assert!(t.acquire("c", "ecs:DeleteTaskDefinitions").await > Duration::ZERO);
        // Another connection has its own bucket.
        assert_eq!(t.acquire("d", "ecs:DeleteTaskDefinitions").await, Duration::ZERO);
    }
}
