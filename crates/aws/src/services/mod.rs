//! One folder per AWS service, each exporting one [`Service`] value: its name,
//! client constructor (`client` in the folder), rate limits, tables, sinks,
//! permission probes, delete actions and in-use SQL.
//!
//! Everything that lists tables, limits, probes, delete actions or in-use
//! sources iterates [`ALL`]: the registry ([`crate::registry`]), the sinks
//! ([`crate::sinks::all`]), the limits the sinks and `skyglue connections`
//! declare, the probes (`crate::permissions`) and `image_in_use`
//! (`crate::views`). Adding a service is one folder and one line in [`ALL`].

use std::hash::Hash;
use std::sync::Arc;

use futures::future::BoxFuture;
use skyglue_core::sink::{ActionLog, Outcome, Sink, Target};
use skyglue_core::throttle::RateLimits;
use skyglue_core::{ApiTable, AwsConnection, Connections};

use crate::probe::CallCheck;
use crate::sinks::common::{Group, Locator};

pub mod apprunner;
pub mod batch;
pub(crate) mod denied;
pub mod ecr;
pub mod ecs;
pub mod events;
pub mod lambda;
pub mod s3;
pub mod scheduler;

/// Every AWS service skyglue reads or acts on, in the order `skyglue
/// connections` probes them and reports list their in-use sources.
pub static ALL: [&Service; 8] = [
    &ecr::SERVICE,
    &ecs::SERVICE,
    &events::SERVICE,
    &scheduler::SERVICE,
    &lambda::SERVICE,
    &batch::SERVICE,
    &apprunner::SERVICE,
    &s3::SERVICE,
];

/// One AWS service, described once.
pub struct Service {
    /// The service prefix of its operations and IAM actions (`ecr`).
    pub name: &'static str,
    /// Its client-side rate limits (one per service prefix it answers).
    pub rate_limits: &'static [&'static RateLimits],
    /// Its tables, in the order `skyglue tables` lists them.
    pub tables: fn() -> Vec<Arc<dyn ApiTable>>,
    /// Its policy actions.
    pub sinks: &'static [SinkDecl],
    /// The read calls `skyglue connections` tries.
    pub probes: &'static [Probe],
    /// Its sources of "in use" (`[in_use] sources` names).
    pub in_use: &'static [InUse],
}

impl Service {
    /// The IAM actions its sinks need, without repeats.
    pub fn delete_actions(&self) -> Vec<&'static str> {
        let mut actions: Vec<&'static str> = Vec::new();
        for action in self.sinks.iter().flat_map(|s| s.delete_actions) {
            if !actions.contains(action) {
                actions.push(action);
            }
        }
        actions
    }
}

/// A policy action and what it calls.
pub struct SinkDecl {
    /// The sink.
    pub sink: fn() -> Arc<dyn Sink>,
    /// The IAM actions it needs to act (never tried by `skyglue
    /// connections`; printed as an `aws iam simulate-principal-policy` line).
    pub delete_actions: &'static [&'static str],
    /// The API operations it calls itself (`ecr:BatchDeleteImage`), its
    /// re-reads included; its check's reads are its tables'.
    pub operations: &'static [&'static str],
}

/// What one probe reported: `(operation, what it answered)`.
pub type Checks = Vec<(&'static str, CallCheck)>;

/// Read calls `skyglue connections` tries on one connection.
pub struct Probe {
    /// The in-use source that needs these reads; `None`: always tried.
    pub needed_by: Option<&'static str>,
    /// The operations it tries, in order.
    pub operations: &'static [&'static str],
    /// Tries them.
    pub run: for<'a> fn(&'a Connections, &'a AwsConnection) -> BoxFuture<'a, Checks>,
}

/// A source of "in use": a config name and the query it adds to `image_in_use`.
pub struct InUse {
    /// The `[in_use] sources` name.
    pub source: &'static str,
    /// Its part of `image_in_use` (`source`, `image`, ... columns).
    pub sql: &'static str,
}

/// Every service's rate limits.
pub fn rate_limits() -> impl Iterator<Item = &'static RateLimits> {
    ALL.iter().flat_map(|s| s.rate_limits.iter().copied())
}

/// The rate limits of the services `operations` (`ecr:DescribeImages`) call,
/// for a table's spec; an operation of no known service gets none (and the
/// throttle refuses the call).
pub fn rate_limits_for(operations: &[&str]) -> Vec<&'static RateLimits> {
    let mut limits: Vec<&'static RateLimits> = Vec::new();
    for limit in rate_limits() {
        if operations.iter().any(|op| op.split(':').next() == Some(limit.service)) {
            limits.push(limit);
        }
    }
    limits
}

/// How every AWS sink's `apply` opens: the services' limits declared, the
/// targets planned into groups by connection and scope
/// ([`crate::sinks::common::plan`]), and the targets no connection can take
/// journaled as failed under `operation`. Returns the groups and the
/// outcomes so far (those failures), for the sink's own call loop.
pub(crate) async fn open_apply<K, I, F>(
    connections: &Connections,
    targets: Vec<Target>,
    operation: &str,
    log: &dyn ActionLog,
    locate: F,
) -> (Vec<Group<K, I>>, Vec<Outcome>)
where
    K: Clone + Eq + Hash,
    I: Clone + Eq + Hash,
    F: Fn(&Target) -> Result<Locator<K, I>, String>,
{
    declare_limits(connections);
    let plan = crate::sinks::common::plan(connections, targets, locate).await;
    crate::sinks::common::log_unreachable(log, operation, &plan.unreachable);
    (plan.groups, plan.unreachable)
}

/// Declares every service's limits on `connections`, so a sink or a probe is
/// rate-limited whether or not its engine registered the tables.
pub fn declare_limits(connections: &Connections) {
    for limits in rate_limits() {
        connections.throttle.register(limits);
    }
}

/// Every table of every service.
pub fn tables() -> Vec<Arc<dyn ApiTable>> {
    ALL.iter().flat_map(|s| (s.tables)()).collect()
}

/// Every sink declaration of every service.
pub fn sinks() -> impl Iterator<Item = &'static SinkDecl> {
    ALL.iter().flat_map(|s| s.sinks.iter())
}

#[cfg(test)]
mod tests;
