//! skyglue's real AWS SDK code against moto's server.
//!
//! One moto server per test binary (installed into `<target>/moto-venv` on
//! first use) is seeded by `seed_world.py` with two accounts (A directly, B by
//! assuming a role) in two regions; the tests query it through the `skyglue`
//! binary and in-process, and compare with what the seeding printed.
//!
//! What moto cannot do, the sandbox tests cover: pagination, throttling,
//! rollouts with two deployments, the digest a task runs, and AccessDenied
//! answers the SDK can parse.
#![allow(clippy::unwrap_used)]

mod anywhere;
mod cli;
mod compare;
mod deletes;
mod errors;
mod fence;
mod fidelity;
mod guards;
mod image_graph;
mod in_use;
mod keys;
mod library;
mod mapping;
mod pruning;
mod s3;
mod schedules;
mod server;
mod tables;
mod team;
mod world;
