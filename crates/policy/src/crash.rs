//! A run cut short: a panic while querying, checking or acting, or a second
//! signal that stops it at once ([`crate::Interrupt::stop_now`]).
//!
//! The runner's `act` never returned its outcomes, so the report is rebuilt
//! from the run's progress record ([`crate::progress`]), which mirrors what
//! the journal says of every target so far. The targets whose intent was
//! journaled without an outcome were in a call that never answered:
//! - after a panic, each is re-read ([`Sink::confirm`]) and journaled done
//!   (it is gone), failed (it is still there) or unknown (the re-read failed);
//! - after a second signal, there is no time to re-read: each is journaled
//!   unknown, for a person (or the next run) to check.
//!
//! Targets never attempted are failed "not attempted" in an applying run (a
//! dry run's stay planned). The report fails with the cause, and the runner
//! then ends the run as any failed one: `run_finished` (or `interrupted`)
//! with the message, the notification, the lock released.

use std::any::Any;
use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt;
use skyglue_core::Connections;
use skyglue_core::sink::{ActionLog, Outcome, Presence, Sink, Status, Target};

use crate::journal::RunLog;
use crate::report::{Mode, Report};

/// Why `act` did not return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CutShort {
    /// It panicked, with this message.
    Panic(String),
    /// A second signal stopped the run at once, for this reason.
    StoppedNow(String),
}

/// Rebuilds `report` from what `log` journaled, settles the calls in flight
/// (journaling their outcomes) and fails the report with the cause.
pub(crate) async fn settle(
    sink: &dyn Sink,
    connections: &Arc<Connections>,
    log: &RunLog,
    report: &mut Report,
    cause: &CutShort,
) {
    let tracked = log.progress().snapshot();
    let in_flight: Vec<Target> =
        tracked.iter().filter(|t| t.in_flight.is_some()).map(|t| t.target.clone()).collect();
    let settled = match cause {
        CutShort::Panic(_) => confirm(sink, connections, &in_flight).await,
        CutShort::StoppedNow(reason) => {
            let why = format!("stopped at once ({reason}) during its call, which never answered: check it");
            in_flight.iter().map(|t| Outcome::unknown(t.clone(), why.clone())).collect()
        }
    };
    // One outcome entry per target in flight, under the operation of its intent.
    let mut by_operation: BTreeMap<&str, Vec<Outcome>> = BTreeMap::new();
    let mut settled_of = std::collections::HashMap::new();
    for (t, outcome) in tracked.iter().filter(|t| t.in_flight.is_some()).zip(&settled) {
        let operation = t.in_flight.as_deref().unwrap_or_default();
        if settled_of.insert(t.target.clone(), outcome.clone()).is_none() {
            by_operation.entry(operation).or_default().push(outcome.clone());
        }
    }
    for (operation, outcomes) in &by_operation {
        if let Err(e) = log.outcome(operation, outcomes) {
            report.warnings.push(format!("could not journal the outcome of the calls in flight: {e}"));
        }
    }

    let not_attempted = match cause {
        CutShort::Panic(_) => "not attempted: the run crashed before acting on it",
        CutShort::StoppedNow(_) => "not attempted: the run was stopped before acting on it",
    };
    let mut bytes = 0;
    let outcomes: Vec<Outcome> = tracked
        .iter()
        .map(|t| {
            let outcome = match settled_of.get(&t.target) {
                Some(settled) if t.in_flight.is_some() => settled.clone(),
                _ if t.status == Status::Planned && report.mode == Mode::Apply => {
                    Outcome::failed(t.target.clone(), not_attempted)
                }
                _ => t.outcome(),
            };
            if matches!(outcome.status, Status::Done | Status::Planned) {
                bytes += t.bytes.unwrap_or(0);
            }
            outcome
        })
        .collect();
    if !outcomes.is_empty() {
        report.summary.planned = report.summary.planned.max(outcomes.len());
        report.summary.bytes_reclaimed = bytes;
        report.set_outcomes(sink.action(), outcomes);
        report.set_check_ages(&log.progress().check_ages());
    }
    report.fail(match cause {
        CutShort::Panic(message) => format!(
            "internal error in the policy runner (a bug: please report it): {message}; \
             every target journaled before it is in this report, and those in a call that never \
             answered were re-read"
        ),
        CutShort::StoppedNow(reason) => format!(
            "stopped at once ({reason}): the call in flight was abandoned and its targets are \
             unknown; run the policy again to finish"
        ),
    });
}

/// Re-reads the targets of calls cut short by a panic: done, failed or unknown.
async fn confirm(sink: &dyn Sink, connections: &Arc<Connections>, targets: &[Target]) -> Vec<Outcome> {
    if targets.is_empty() {
        return vec![];
    }
    let why = "the run crashed during its call";
    let presence = AssertUnwindSafe(sink.confirm(connections, targets)).catch_unwind().await;
    let presence = match presence {
        Ok(p) if p.len() == targets.len() => p,
        Ok(p) => {
            let e = format!("the re-read answered for {} of {} targets", p.len(), targets.len());
            vec![Presence::Unknown(e); targets.len()]
        }
        Err(panic) => {
            let e = format!("the re-read panicked too: {}", panic_message(panic.as_ref()));
            vec![Presence::Unknown(e); targets.len()]
        }
    };
    targets.iter().zip(&presence).map(|(t, p)| Outcome::confirmed(t.clone(), p, why, why)).collect()
}

/// The message a panic was raised with.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}
