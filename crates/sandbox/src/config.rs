//! Behaviour knobs of a running sandbox: latency, throttling, GitHub's request budget,
//! Slack failures and injected faults.

use std::time::Duration;

/// How a [`Sandbox`](crate::Sandbox) behaves. `SandboxConfig::default()` is a fast,
/// faithful cloud: no latency, the published ECS throttling, no ECR or GitHub limits.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Added to every AWS call before it is answered.
    pub latency: Duration,
    /// Whether ECS calls are throttled with `ecs_buckets`.
    pub ecs_throttling: bool,
    /// The ECS token buckets (per account, region and bucket).
    pub ecs_buckets: EcsBuckets,
    /// ECR calls per second (burst equal to the rate), per account and region; `None`
    /// means unlimited (AWS publishes no rate for the metadata APIs).
    pub ecr_rate_per_sec: Option<f64>,
    /// Lambda control-plane calls per second (burst equal to the rate), per account
    /// and region; `None` means unlimited. Over it, Lambda answers 429
    /// `TooManyRequestsException` with `Retry-After`. (AWS's quota is 15 per second
    /// for ListFunctions, ListAliases and ListVersionsByFunction, 100 for GetFunction.)
    pub lambda_rate_per_sec: Option<f64>,
    /// S3 calls per second (burst equal to the rate), per account and the region the
    /// request is signed for; `None` means unlimited. Over it, S3 answers
    /// `503 SlowDown`, counted as throttled.
    pub s3_rate_per_sec: Option<f64>,
    /// Keys DeleteObjects reports as `<Error><Code>AccessDenied</Code>` (in any
    /// bucket) and leaves in place.
    pub s3_denied_keys: Vec<String>,
    /// GitHub requests allowed per rate-limit window; `None` means unlimited.
    pub github_budget: Option<u64>,
    /// How long after the budget is spent it refills.
    pub github_reset_after: Duration,
    /// Whether `POST /graphql` answers; off, it is 404 (a GitHub Enterprise without
    /// GraphQL), so clients fall back to REST.
    pub github_graphql: bool,
    /// Answer every Slack message with this HTTP status instead of accepting it.
    pub slack_fail: Option<u16>,
    /// Answer the first N Slack messages with 429 and `Retry-After: 1`.
    pub slack_rate_limited_first: u32,
    /// Injected failures.
    pub faults: Vec<Fault>,
    /// Items that describe calls report in `failures` instead of describing.
    pub describe_failures: Vec<DescribeFailure>,
    /// How long an ECR restore (UpdateImageStorageClass to STANDARD) stays
    /// ACTIVATING before the image is ACTIVE again (ECR takes up to 20 minutes).
    pub ecr_restore_delay: Duration,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            latency: Duration::ZERO,
            ecs_throttling: true,
            ecs_buckets: EcsBuckets::default(),
            ecr_rate_per_sec: None,
            lambda_rate_per_sec: None,
            s3_rate_per_sec: None,
            s3_denied_keys: Vec::new(),
            github_budget: None,
            github_reset_after: Duration::from_secs(2),
            github_graphql: true,
            slack_fail: None,
            slack_rate_limited_first: 0,
            faults: Vec::new(),
            describe_failures: Vec::new(),
            ecr_restore_delay: Duration::from_secs(1),
        }
    }
}

/// A token bucket: `burst` calls at once, refilled at `per_sec`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BucketSpec {
    /// Capacity.
    pub burst: f64,
    /// Refill per second.
    pub per_sec: f64,
}

impl BucketSpec {
    /// A bucket of `burst` tokens refilled at `per_sec`.
    pub const fn new(burst: f64, per_sec: f64) -> Self {
        BucketSpec { burst, per_sec }
    }
}

/// The ECS throttling buckets, defaulting to the published values
/// (<https://docs.aws.amazon.com/AmazonECS/latest/APIReference/request-throttling.html>).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EcsBuckets {
    /// ListClusters, DescribeClusters: 50 / 20.
    pub cluster_read: BucketSpec,
    /// ListServices, DescribeServices: 100 / 20.
    pub service_read: BucketSpec,
    /// ListTasks, DescribeTasks: 100 / 20.
    pub cluster_resource_read: BucketSpec,
    /// ListTaskDefinitions, ListTaskDefinitionFamilies, DescribeTaskDefinition: 50 / 20.
    pub task_definition_read: BucketSpec,
    /// DeregisterTaskDefinition: 20 / 1.
    pub task_definition_modify: BucketSpec,
    /// DeleteTaskDefinitions: 5 / 1.
    pub task_definition_delete: BucketSpec,
}

impl Default for EcsBuckets {
    fn default() -> Self {
        EcsBuckets {
            cluster_read: BucketSpec::new(50.0, 20.0),
            service_read: BucketSpec::new(100.0, 20.0),
            cluster_resource_read: BucketSpec::new(100.0, 20.0),
            task_definition_read: BucketSpec::new(50.0, 20.0),
            task_definition_modify: BucketSpec::new(20.0, 1.0),
            task_definition_delete: BucketSpec::new(5.0, 1.0),
        }
    }
}

impl EcsBuckets {
    /// Every bucket set to the same spec (handy for tests).
    pub const fn uniform(spec: BucketSpec) -> Self {
        EcsBuckets {
            cluster_read: spec,
            service_read: spec,
            cluster_resource_read: spec,
            task_definition_read: spec,
            task_definition_modify: spec,
            task_definition_delete: spec,
        }
    }
}

/// Makes calls of one operation fail: calls `nth ..= nth + times - 1` (1-based, counted
/// since start or the last [`reset_calls`](crate::Sandbox::reset_calls)) of `op`
/// answer `status` with the JSON error `{"__type": error_type, "message": message}`.
///
/// The default is a single `500 ServerException`, which a client that retries
/// server errors (skyglue does, a few times) gets past; use [`Fault::times`] or a
/// 4xx error type to make the failure reach the caller. A throttle is
/// `.error(400, "ThrottlingException")` (Lambda's is `.error(429, "TooManyRequestsException")`).
///
/// Each protocol shapes the error its own way: AWS JSON (ECR, ECS, App Runner), REST-JSON
/// (Lambda, Batch: `x-amzn-ErrorType`, and `Retry-After` on a 429), STS XML, S3 XML
/// (`<Error><Code>error_type</Code>...`, no body for HEAD; S3's own codes are e.g.
/// `InternalError`, `SlowDown` with 503), and a Kubernetes `Status` whose `reason` is
/// `error_type` (`kubernetes:ListPods`).
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    /// Operation key, as in [`Sandbox::calls`](crate::Sandbox::calls), e.g. `ecr:DescribeImages`.
    pub op: String,
    /// First failing call (1-based).
    pub nth: u64,
    /// How many consecutive calls fail.
    pub times: u64,
    /// HTTP status.
    pub status: u16,
    /// AWS error code (`__type`).
    pub error_type: String,
    /// The call takes effect first and only its answer is this error (the
    /// answer was lost after the world changed), instead of failing before
    /// anything happens. Honoured by the AWS JSON services (ECR, ECS).
    pub lost_answer: bool,
    /// Error message.
    pub message: String,
}

impl Fault {
    /// The `nth` call of `op` fails once with `500 ServerException`.
    pub fn nth_call(op: impl Into<String>, nth: u64) -> Self {
        Fault {
            op: op.into(),
            nth,
            times: 1,
            status: 500,
            error_type: "ServerException".to_owned(),
            lost_answer: false,
            message: "Injected fault".to_owned(),
        }
    }

    /// Fails `times` consecutive calls (use `u64::MAX` for "from then on").
    pub fn times(mut self, times: u64) -> Self {
        self.times = times;
        self
    }

    /// Answers with this status and error code instead.
    pub fn error(mut self, status: u16, error_type: impl Into<String>) -> Self {
        self.status = status;
        self.error_type = error_type.into();
        self
    }

    /// The call takes effect, then answers the error (see [`Fault::lost_answer`]).
    pub fn answer_lost(mut self) -> Self {
        self.lost_answer = true;
        self
    }

    /// Whether call number `n` of this fault's operation fails.
    pub(crate) fn hits(&self, n: u64) -> bool {
        n >= self.nth && n - self.nth < self.times
    }
}

/// Makes a describe call (`ecs:DescribeServices`, `ecs:DescribeTasks` or
/// `ecs:DescribeClusters`) report every item whose ARN contains `arn_contains`
/// in its `failures` list, as ECS does for what it could not describe:
/// `{"arn": ..., "reason": reason, "detail": detail}`. The call itself succeeds.
#[derive(Debug, Clone, PartialEq)]
pub struct DescribeFailure {
    /// Operation key, e.g. `ecs:DescribeServices`.
    pub op: String,
    /// A part of the ARN of the items that fail.
    pub arn_contains: String,
    /// ECS's `reason`, e.g. `MISSING` or `AccessDenied`.
    pub reason: String,
    /// ECS's optional `detail`.
    pub detail: Option<String>,
}

impl DescribeFailure {
    /// Items of `op` whose ARN contains `arn_contains` fail with `reason`.
    pub fn new(op: impl Into<String>, arn_contains: impl Into<String>, reason: impl Into<String>) -> Self {
        DescribeFailure {
            op: op.into(),
            arn_contains: arn_contains.into(),
            reason: reason.into(),
            detail: None,
        }
    }

    /// Adds ECS's `detail` text.
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}
