//! Integration tests of the sandbox over plain HTTP: wire shapes, pagination, limits,
//! throttling, accounts and regions, deletions, Lambda, Batch, App Runner, Kubernetes,
//! S3, GitHub, Slack and the generator.

#![allow(clippy::unwrap_used, missing_docs)]

mod apprunner;
mod batch;
mod client;
mod ecr;
mod ecr_archive;
mod ecs;
mod events;
mod github;
mod knobs;
mod kubernetes;
mod kubernetes_workloads;
mod lambda;
mod s3;
mod s3_conditions;
mod scheduler;
mod slack;
mod sts;
mod worlds;
