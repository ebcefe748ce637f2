//! skyglue's integration tests: one binary, one module per concern.
//!
//! `sandbox_*` modules run the real AWS SDK against the in-process sandbox
//! (pagination, limits, throttling, faults, call counts); `moto` runs it
//! against moto's server (the real protocol, two accounts via AssumeRole).
#![allow(clippy::unwrap_used, missing_docs)]

mod archive;
mod connections;
mod datafusion_settings;
mod declared;
#[cfg(feature = "distributed")]
mod distributed;
#[cfg(feature = "distributed")]
mod distributed_loopback;
#[cfg(feature = "distributed")]
mod distributed_security;
#[cfg(feature = "distributed")]
mod distributed_tls;
mod docs;
mod examples;
mod github_joins;
mod guards;
mod history_page;
mod image_graph;
mod in_use_anywhere;
mod in_use_completely;
mod layout;
mod memory_limit;
mod moto;
mod policy_crash;
mod policy_runner;
mod policy_validation;
mod read_once;
mod repl;
mod sandbox_errors;
mod sandbox_framework;
mod sandbox_in_use;
mod sandbox_joins;
mod sandbox_pagination;
mod sandbox_s3;
mod schedule;
mod shell;
mod stale_check;
mod support;
mod text_report;
mod unattended;
