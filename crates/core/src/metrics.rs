//! Per-scan and per-session API metrics.
//!
//! Every scan counts its API calls, pages, rows and retries in DataFusion's
//! metrics, so `EXPLAIN ANALYZE` shows what a query cost. The same numbers are
//! added to a session-wide [`ApiCounters`] that the REPL's `\timing` reads.
//!
//! Retries are the framework's ([`crate::call::aws_call`]): SDK retries are
//! off in every client skyglue builds. The [`AttemptCounter`] interceptor is a
//! safety net for clients configured elsewhere with SDK retries on: it sees
//! each HTTP attempt and credits it to the scan that is polling it, found
//! through a task-local.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use datafusion::physical_plan::metrics::{Count, ExecutionPlanMetricsSet, MetricBuilder, Time};

/// Session-wide totals, shared by every scan of one engine.
#[derive(Debug, Default)]
pub struct ApiCounters {
    /// API calls made (first attempts).
    pub calls: AtomicU64,
    /// Pages (record batches) received from APIs.
    pub pages: AtomicU64,
    /// Rows received from APIs.
    pub rows: AtomicU64,
    /// Attempts beyond the first.
    pub retries: AtomicU64,
    /// Nanoseconds spent waiting for a client-side rate limiter.
    pub throttle_wait_nanos: AtomicU64,
}

/// A point-in-time copy of [`ApiCounters`].
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ApiCountersSnapshot {
    /// API calls.
    pub calls: u64,
    /// Pages.
    pub pages: u64,
    /// Rows.
    pub rows: u64,
    /// Retries.
    pub retries: u64,
    /// Throttle waits, in nanoseconds.
    pub throttle_wait_nanos: u64,
}

impl ApiCounters {
    /// Records one API call (a first attempt).
    pub fn call(&self) {
        self.calls.fetch_add(1, Ordering::Relaxed);
    }

    /// Records one attempt beyond the first.
    pub fn retry(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }

    /// Records time spent waiting for a rate limiter or a retry's backoff.
    pub fn throttle_wait(&self, waited: std::time::Duration) {
        self.throttle_wait_nanos.fetch_add(waited.as_nanos() as u64, Ordering::Relaxed);
    }

    /// Reads every counter.
    pub fn snapshot(&self) -> ApiCountersSnapshot {
        ApiCountersSnapshot {
            calls: self.calls.load(Ordering::Relaxed),
            pages: self.pages.load(Ordering::Relaxed),
            rows: self.rows.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            throttle_wait_nanos: self.throttle_wait_nanos.load(Ordering::Relaxed),
        }
    }
}

impl ApiCountersSnapshot {
    /// What happened between `earlier` and `self`.
    pub fn since(&self, earlier: &ApiCountersSnapshot) -> ApiCountersSnapshot {
        ApiCountersSnapshot {
            calls: self.calls - earlier.calls,
            pages: self.pages - earlier.pages,
            rows: self.rows - earlier.rows,
            retries: self.retries - earlier.retries,
            throttle_wait_nanos: self.throttle_wait_nanos - earlier.throttle_wait_nanos,
        }
    }
}

/// The metrics of one scan, registered with its execution plan.
#[derive(Debug, Clone)]
pub struct ScanMetrics {
    api_calls: Count,
    pages: Count,
    rows: Count,
    retries: Count,
    throttle_wait: Time,
    session: Arc<ApiCounters>,
}

impl ScanMetrics {
    /// Registers the scan's metrics on `set`.
    pub fn new(set: &ExecutionPlanMetricsSet, session: Arc<ApiCounters>) -> Self {
        Self {
            api_calls: MetricBuilder::new(set).global_counter("api_calls"),
            pages: MetricBuilder::new(set).global_counter("pages"),
            rows: MetricBuilder::new(set).global_counter("api_rows"),
            retries: MetricBuilder::new(set).global_counter("retries"),
            throttle_wait: MetricBuilder::new(set).subset_time("throttle_wait", 0),
            session,
        }
    }

    /// Records one API call.
    pub fn call(&self) {
        self.api_calls.add(1);
        self.session.call();
    }

    /// Records one page of `rows` rows.
    pub fn page(&self, rows: usize) {
        self.pages.add(1);
        self.rows.add(rows);
        self.session.pages.fetch_add(1, Ordering::Relaxed);
        self.session.rows.fetch_add(rows as u64, Ordering::Relaxed);
    }

    /// Records an attempt beyond the first.
    pub fn retry(&self) {
        self.retries.add(1);
        self.session.retry();
    }

    /// Records time spent waiting for a rate limiter.
    pub fn throttle_wait(&self, waited: std::time::Duration) {
        self.throttle_wait.add_duration(waited);
        self.session.throttle_wait(waited);
    }

    /// Runs `f` with this scan as the one that SDK attempts are credited to.
    pub fn scope<R>(&self, f: impl FnOnce() -> R) -> R {
        CURRENT_SCAN.sync_scope(self.clone(), f)
    }
}

tokio::task_local! {
    static CURRENT_SCAN: ScanMetrics;
}

/// An AWS SDK interceptor that credits retries to the scan being polled.
#[derive(Debug, Default, Clone)]
pub struct AttemptCounter;

impl Intercept for AttemptCounter {
    fn name(&self) -> &'static str {
        "skyglue::AttemptCounter"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let attempt = cfg.load::<RequestAttempts>().map(|a| a.attempts()).unwrap_or(1);
        if attempt > 1 {
            let _ = CURRENT_SCAN.try_with(|scan| scan.retry());
        }
        Ok(())
    }
}
