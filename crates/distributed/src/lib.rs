//! skyglue on many machines, on `datafusion-distributed`.
//!
//! The coordinating process (`skyglue query|run --workers ...`) plans every
//! query itself; [`coordinator_hook`] adds the distributed planner to the
//! sessions its [`Engine`](skyglue_core::Engine) builds, so the stages below
//! the top one run on workers (`skyglue worker --listen ...`, [`serve`]).
//!
//! - [`ScanCodec`] carries an API scan to a worker as its table name,
//!   projection, pushed filters and keys, limit, join-key dynamic filters and
//!   the *names* of its connections; the worker rebuilds it over its own
//!   connections (its own config and credential chain): no credential ever
//!   travels in a plan.
//! - [`ScansOnWorkers`] gives every scan of several connections a stage of
//!   its own, so it runs on the workers even where nothing above it would
//!   cut the plan.
//! - [`split`] divides one scan's (account, region) connections across the
//!   tasks of its stage, so the work spreads over workers while each
//!   connection (and its rate limits) is read by one worker.
//! - [`NamedChannels`] names the worker in every error that comes from it: a
//!   worker lost mid-query fails the query with its address.
//! - [`Security`]: a worker requires the cluster token ([`ClusterToken`],
//!   checked before a call's body is read), decodes only plans whose every
//!   node is on [`PlanGate`]'s allow-list and no larger than
//!   `max_plan_bytes`, and serves TLS when `[cluster] tls` says so;
//!   [`ClusterChannels`] presents the token and checks the worker's TLS.
//!
//! A policy's fresh checks, deletes and notifications never reach this crate:
//! they run on the coordinator (`Engine::fresh_session` takes no hook).

mod auth;
mod channel;
mod codec;
mod connect;
mod coordinator;
pub mod in_memory;
mod on_workers;
mod plan_gate;
mod security;
mod security_error;
pub mod split;
mod worker;

pub use auth::{AUTHENTICATION_FAILED, ClusterToken, RequireToken};
pub use channel::{NamedChannels, WorkerFailed};
pub use codec::ScanCodec;
pub use connect::ClusterChannels;
pub use coordinator::{StaticWorkers, coordinator_hook, worker_urls};
pub use on_workers::ScansOnWorkers;
pub use plan_gate::{PlanGate, PlanRefused, check_plan};
pub use security::{Security, SecurityError};
pub use worker::{ServeError, serve, worker_session};
