//! Integration tests of the sandbox over plain HTTP: wire shapes, pagination, limits,
//! throttling, accounts and regions, deletions, GitHub, Slack and the generator.

#![allow(clippy::unwrap_used, missing_docs)]

mod client;
mod ecr;
mod ecs;
mod github;
mod knobs;
mod slack;
mod sts;
mod worlds;
