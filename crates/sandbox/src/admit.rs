//! Admission: before its handler, every AWS and Kubernetes call is counted,
//! delayed by the configured latency, throttled and checked for an injected
//! fault, in that order ([`admit`]); the routes of `server` and `server_kube`
//! share it.

use std::collections::BTreeMap;

use axum::extract::Query;

use crate::aws::{AwsError, Caller};
use crate::config::BucketSpec;
use crate::ecs;
use crate::state::State;

/// A request's query parameters.
pub(crate) type QueryMap = Query<BTreeMap<String, String>>;

/// Which AWS service a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Service {
    Ecr,
    Ecs,
    Sts,
    Lambda,
    Batch,
    AppRunner,
    Events,
    Scheduler,
    Kubernetes,
    S3,
}

impl Service {
    /// The prefix of its operations' counter keys.
    pub(crate) fn prefix(self) -> &'static str {
        match self {
            Service::Ecr => "ecr",
            Service::Ecs => "ecs",
            Service::Sts => "sts",
            Service::Lambda => "lambda",
            Service::Batch => "batch",
            Service::AppRunner => "apprunner",
            Service::Events => "events",
            Service::Scheduler => "scheduler",
            Service::Kubernetes => "kubernetes",
            Service::S3 => "s3",
        }
    }

    /// The error a throttled call gets.
    fn throttled(self) -> AwsError {
        match self {
            Service::Lambda => {
                AwsError { status: 429, ..AwsError::new("TooManyRequestsException", "Rate exceeded") }
            }
            Service::S3 => {
                AwsError { status: 503, ..AwsError::new("SlowDown", "Please reduce your request rate.") }
            }
            _ => AwsError::throttled(),
        }
    }
}

/// Counts the call, waits the configured latency, then applies throttling and
/// faults; the call's number (1-based) for the faults that apply after it acts.
pub(crate) async fn admit(state: &State, who: &Caller, service: Service, op: &str) -> Result<u64, AwsError> {
    let key = format!("{}:{op}", service.prefix());
    let n = state.counters.count(&key);
    if !state.config.latency.is_zero() {
        tokio::time::sleep(state.config.latency).await;
    }
    let bucket = match service {
        Service::Ecs if state.config.ecs_throttling => ecs::bucket(op, &state.config.ecs_buckets),
        Service::Ecr => {
            state.config.ecr_rate_per_sec.map(|rate| ("ecr", BucketSpec::new(rate.max(1.0), rate)))
        }
        Service::Lambda => {
            state.config.lambda_rate_per_sec.map(|rate| ("lambda", BucketSpec::new(rate.max(1.0), rate)))
        }
        Service::S3 => state.config.s3_rate_per_sec.map(|rate| ("s3", BucketSpec::new(rate.max(1.0), rate))),
        _ => None,
    };
    if let Some((name, spec)) = bucket
        && !state.throttle.take(&who.account, &who.region, name, spec)
    {
        state.counters.throttled(&key);
        return Err(service.throttled());
    }
    if let Some(fault) = state.fault(&key, n) {
        return Err(AwsError {
            status: fault.status,
            code: fault.error_type.clone(),
            message: fault.message.clone(),
        });
    }
    Ok(n)
}
