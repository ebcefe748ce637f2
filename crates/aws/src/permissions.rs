//! May this connection make the calls skyglue needs? `skyglue connections`
//! asks here.
//!
//! Each service declares its probes (`services/<service>/mod.rs`): the read
//! calls its tables and the "in use" sources `[in_use]` lists make, each tried
//! once, as cheaply as AWS allows (at most one result), through
//! [`skyglue_core::call::aws_call`] so it is rate-limited and counted like a
//! scan's. A call that needs a parent (a repository, a cluster, a service, a
//! task) uses the first one its list call returned, or a name that does not
//! exist: AWS checks permission before existence, so "not found" still means
//! "allowed". Delete calls are never tried: [`delete_actions`] and
//! [`simulate_command`] say how to check them without deleting anything.

use skyglue_core::{AwsConnection, Connections};

pub use crate::probe::CallCheck;
use crate::services;

/// The delete (and archive) actions the shipped sinks need, service by
/// service, without repeats; the check never calls them.
pub fn delete_actions() -> Vec<&'static str> {
    let mut actions: Vec<&'static str> = Vec::new();
    for action in services::ALL.iter().flat_map(|s| s.delete_actions()) {
        if !actions.contains(&action) {
            actions.push(action);
        }
    }
    actions
}

/// Tries each read call skyglue's tables make on `conn`, service by
/// service: the probes every run needs, and those of the in-use sources
/// `[in_use]` lists (a source that cannot be read fails every delete's
/// check). `(operation, what it answered)`, in order.
pub async fn check_reads(connections: &Connections, conn: &AwsConnection) -> Vec<(&'static str, CallCheck)> {
    services::declare_limits(connections);
    let mut checks = Vec::new();
    for probe in services::ALL.iter().flat_map(|s| s.probes.iter()) {
        if probe.needed_by.is_none_or(|source| connections.in_use.checks(source)) {
            checks.extend((probe.run)(connections, conn).await);
        }
    }
    checks
}

/// The AWS CLI command that asks IAM whether `principal_arn` may make the
/// [`delete_actions`], without making them.
pub fn simulate_command(principal_arn: &str) -> String {
    format!(
        "aws iam simulate-principal-policy --policy-source-arn {principal_arn} --action-names {} \
         --query 'EvaluationResults[].[EvalActionName,EvalDecision]' --output text",
        delete_actions().join(" ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::error_code;

    #[test]
    fn a_denied_call_shows_its_code() {
        assert_eq!(error_code("AccessDeniedException: User x is not authorized"), "AccessDeniedException");
        assert_eq!(error_code("User x is not authorized: no"), "AccessDenied");
        assert_eq!(
            CallCheck::Denied("AccessDeniedException".into()).to_string(),
            "denied: AccessDeniedException"
        );
    }

    #[test]
    fn the_simulation_names_every_delete_action() {
        let command = simulate_command("arn:aws:iam::111111111111:role/cleanup");
        assert!(delete_actions().iter().all(|a| command.contains(a)), "{command}");
        assert!(command.contains("s3:DeleteObject "), "{command}");
    }
}
