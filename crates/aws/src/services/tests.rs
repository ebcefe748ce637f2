//! What every service must declare, checked over [`ALL`]: a forgotten probe,
//! delete action or rate limit fails here instead of in an account.

use std::collections::HashSet;

use skyglue_core::config::{DEFAULT_SOURCES, KUBERNETES};

use super::*;

/// The operations every probe of every service tries.
fn probed() -> HashSet<&'static str> {
    ALL.iter().flat_map(|s| s.probes.iter()).flat_map(|p| p.operations.iter().copied()).collect()
}

/// The limits of `operation`'s service, and whether they give it a bucket.
fn limited(operation: &str) -> Option<&'static RateLimits> {
    let (service, op) = operation.split_once(':')?;
    rate_limits().find(|l| l.service == service).filter(|l| l.bucket(op).is_some())
}

#[test]
fn every_table_has_a_permission_probe() {
    let probed = probed();
    for table in tables() {
        let spec = table.spec();
        assert!(!spec.operations.is_empty(), "{} declares no operations", spec.name);
        assert!(
            spec.operations.iter().any(|op| probed.contains(op)),
            "no probe of `skyglue connections` tries any call of {} ({:?})",
            spec.name,
            spec.operations
        );
    }
}

#[test]
fn every_probe_belongs_to_its_service_and_its_source_exists() {
    let sources: Vec<&str> = crate::views::in_use_sources().map(|s| s.source).collect();
    for service in ALL {
        for probe in service.probes {
            for op in probe.operations {
                assert!(op.starts_with(&format!("{}:", service.name)), "{} probes {op}", service.name);
            }
            if let Some(source) = probe.needed_by {
                assert!(sources.contains(&source), "{}'s probe needs unknown source {source}", service.name);
            }
        }
    }
}

#[test]
fn every_sink_declares_its_delete_action() {
    let mut actions = HashSet::new();
    for service in ALL {
        for declared in service.sinks {
            let sink = (declared.sink)();
            assert!(actions.insert(sink.action().to_string()), "{} is declared twice", sink.action());
            assert!(!declared.delete_actions.is_empty(), "{} declares no delete action", sink.action());
            for action in declared.delete_actions {
                assert!(action.starts_with(&format!("{}:", service.name)), "{}: {action}", sink.action());
                assert!(crate::permissions::delete_actions().contains(action), "{action}");
            }
            assert!(!declared.operations.is_empty(), "{} declares no operations", sink.action());
        }
    }
    let all: Vec<String> = crate::sinks::all().iter().map(|s| s.action().to_string()).collect();
    assert_eq!(all.len(), actions.len());
    assert!(crate::permissions::delete_actions().contains(&"s3:DeleteObject"));
}

#[test]
fn every_operation_a_table_or_sink_calls_has_a_rate_limit() {
    for table in tables() {
        let spec = table.spec();
        for op in spec.operations {
            let limits =
                limited(op).unwrap_or_else(|| panic!("{} calls {op}, which has no rate limit", spec.name));
            assert!(
                spec.rate_limits.iter().any(|l| std::ptr::eq(*l, limits)),
                "{} calls {op} but its spec does not declare the {} limits",
                spec.name,
                limits.service
            );
        }
    }
    for declared in sinks() {
        for op in declared.operations {
            assert!(
                limited(op).is_some(),
                "{} calls {op}, which has no rate limit",
                (declared.sink)().action()
            );
        }
    }
    for probe in ALL.iter().flat_map(|s| s.probes.iter()) {
        for op in probe.operations {
            assert!(limited(op).is_some(), "a probe calls {op}, which has no rate limit");
        }
    }
}

#[test]
fn the_default_sources_and_the_registry_know_every_source() {
    let registry = crate::registry();
    let known = registry.in_use_sources();
    assert!(DEFAULT_SOURCES.iter().chain([&KUBERNETES]).all(|s| known.contains(s)), "{known:?}");
    let listed: Vec<&str> = crate::views::in_use_sources().map(|s| s.source).collect();
    assert_eq!(known, listed.as_slice());
}
