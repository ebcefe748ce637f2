//! `skyglue-sandbox`: an in-process fake cloud for skyglue's demo, tests and benchmarks.
//!
//! One HTTP server on a free loopback port speaks the wire protocols of Amazon ECR and
//! ECS and EventBridge (AWS JSON 1.1), App Runner (AWS JSON 1.0), Lambda, Batch and
//! EventBridge Scheduler (REST-JSON), STS
//! (awsQuery), S3 (REST-XML, path-style: any request signed for service `s3`, so
//! clients need `force_path_style(true)`), the Kubernetes API (pods and workloads, one path prefix per
//! kubeconfig context; see [`Sandbox::kubeconfig`]), GitHub (REST and GraphQL) and Slack
//! webhooks, so the real AWS SDK, a Kubernetes client, a GitHub client and a Slack
//! notifier can be pointed at it unchanged. Unlike moto it honours the documented page sizes, batch limits and ECS
//! throttling, adds latency on request, injects faults and counts every call.
//!
//! Accounts and regions come from the SigV4 `Authorization` header: the access key id
//! picks the account (`SANDBOX<account id>` by convention; an unknown key acts as the
//! first account) and the credential scope's region picks the region. STS AssumeRole of
//! `arn:aws:iam::<acct>:role/<name>` returns that account's access key.
//!
//! ```no_run
//! # async fn example() -> Result<(), skyglue_sandbox::Error> {
//! use skyglue_sandbox::{Sandbox, SandboxConfig, World};
//!
//! let sandbox = Sandbox::start(World::demo(), SandboxConfig::default()).await?;
//! for (name, value) in sandbox.env_vars() {
//!     println!("export {name}={value}");
//! }
//! println!("{:?}", sandbox.calls());
//! # Ok(())
//! # }
//! ```

mod admit;
mod apprunner;
mod apprunner_world;
mod aws;
mod batch;
mod batch_world;
mod config;
mod counters;
pub mod demo;
mod ecr;
mod ecr_storage;
mod ecr_world;
mod ecs;
mod ecs_taskdef;
mod ecs_world;
mod events;
mod generate;
mod github;
mod github_world;
mod ids;
mod kubernetes;
mod kubernetes_workloads;
mod kubernetes_world;
mod lambda;
mod lambda_world;
mod s3;
mod s3_list;
mod s3_request;
mod s3_world;
mod s3_xml;
mod scheduler;
mod schedules_world;
mod server;
mod server_kube;
mod slack;
mod state;
mod sts;
mod throttle;
mod workloads_world;
pub mod world;

pub use config::{BucketSpec, DescribeFailure, EcsBuckets, Fault, SandboxConfig};
pub use generate::{BENCH_KUBE_CONTEXT, GenerateSpec};
pub use server::Sandbox;
pub use world::World;

/// What can go wrong starting a sandbox or loading a world.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The loopback listener could not be bound.
    #[error("failed to bind the sandbox server on 127.0.0.1: {0}")]
    Bind(#[source] std::io::Error),
    /// A world file could not be read.
    #[error("failed to read world file {path}: {source}")]
    ReadWorld {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A world file is not valid world JSON.
    #[error("failed to parse world file {path}: {source}")]
    ParseWorld {
        /// The file.
        path: String,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
}
