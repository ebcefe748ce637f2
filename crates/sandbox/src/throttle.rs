//! Token buckets for the throttled APIs, keyed by (account, region, bucket name).

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::time::Instant;

use crate::config::BucketSpec;

/// One token bucket.
#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// All buckets of a sandbox. Uses tokio's clock so tests may pause time.
#[derive(Debug, Default)]
pub(crate) struct Throttle {
    buckets: Mutex<HashMap<(String, String, &'static str), Bucket>>,
}

impl Throttle {
    /// Takes one token from the bucket `name` of (account, region); false when empty.
    pub(crate) fn take(&self, account: &str, region: &str, name: &'static str, spec: BucketSpec) -> bool {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let bucket = buckets
            .entry((account.to_owned(), region.to_owned(), name))
            .or_insert(Bucket { tokens: spec.burst, last: now });
        let elapsed = now.duration_since(bucket.last).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * spec.per_sec).min(spec.burst);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}
