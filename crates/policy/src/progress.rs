//! A run's progress record: every target the run has journaled so far, with
//! its latest status and the call it is in, kept in memory beside the
//! journal by [`crate::journal::RunLog`].
//!
//! The runner builds its report from what `act` returns; when `act` never
//! returns (a panic, or a second signal that stops the run at once), this
//! record is what is left: the runner builds the report's actions from it and
//! finds the targets whose intent was journaled without an outcome (the calls
//! in flight), so it can re-read them ([`skyglue_core::sink::Sink::confirm`])
//! and journal what became of them. It mirrors the journal: it is updated by
//! the same writes, so the two cannot drift apart.

use std::collections::HashMap;
use std::sync::Mutex;

use skyglue_core::sink::{Outcome, Status, Target};

use crate::journal::Entry;

/// One target of the run and what the journal says of it so far.
#[derive(Debug, Clone, PartialEq)]
pub struct Tracked {
    /// The target.
    pub target: Target,
    /// Its latest status: planned (or skipped) when planned, then its outcome.
    pub status: Status,
    /// Why, when skipped, failed or unknown.
    pub reason: Option<String>,
    /// The bytes acting on it frees, when the check said.
    pub bytes: Option<i64>,
    /// The operation of an intent journaled without an outcome yet: the
    /// target is in a call that has not answered.
    pub in_flight: Option<String>,
    /// How old the check was that its latest call relied on (the intent's
    /// `check_age_seconds`).
    pub check_age: Option<std::time::Duration>,
}

/// The targets of one run, in the order they were planned (a target the
/// journal names twice, as two rows naming one image do, is kept twice).
#[derive(Debug, Default)]
pub struct Progress {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    targets: Vec<Tracked>,
    index: HashMap<Target, Vec<usize>>,
}

impl Progress {
    /// Takes in journal entries of the run as they are written: `planned`
    /// adds a target, `intent` marks it in flight, `outcome` settles it.
    pub(crate) fn record(&self, entries: &[Entry]) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        for e in entries {
            let Some(target) = &e.target else { continue };
            match e.event.as_str() {
                "planned" => {
                    let tracked = Tracked {
                        target: target.clone(),
                        status: e.status.as_deref().and_then(status_of).unwrap_or(Status::Planned),
                        reason: e.reason.clone(),
                        bytes: e.detail.as_ref().and_then(|d| d.get("bytes")).and_then(|b| b.as_i64()),
                        in_flight: None,
                        check_age: None,
                    };
                    inner.push(tracked);
                }
                "intent" => {
                    let operation = e.operation.clone().unwrap_or_default();
                    let age = crate::journal::check_age_of(e);
                    inner.each(target, |t| {
                        t.in_flight = Some(operation.clone());
                        if age.is_some() {
                            t.check_age = age;
                        }
                    });
                }
                "outcome" => {
                    let status = e.status.as_deref().and_then(status_of).unwrap_or(Status::Failed);
                    inner.each(target, |t| {
                        t.status = status;
                        t.reason.clone_from(&e.reason);
                        t.in_flight = None;
                    });
                }
                _ => {}
            }
        }
    }

    /// How old the check was that each target's latest call relied on,
    /// for the targets whose intent said so.
    pub fn check_ages(&self) -> std::collections::HashMap<Target, std::time::Duration> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.targets.iter().filter_map(|t| Some((t.target.clone(), t.check_age?))).collect()
    }

    /// Every target so far, in order.
    pub fn snapshot(&self) -> Vec<Tracked> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).targets.clone()
    }
}

impl Inner {
    fn push(&mut self, tracked: Tracked) {
        self.index.entry(tracked.target.clone()).or_default().push(self.targets.len());
        self.targets.push(tracked);
    }

    /// Applies `f` to every copy of `target`, adding it first when it was
    /// never planned (a sink may act on more than it was given).
    fn each(&mut self, target: &Target, mut f: impl FnMut(&mut Tracked)) {
        if !self.index.contains_key(target) {
            self.push(Tracked {
                target: target.clone(),
                status: Status::Planned,
                reason: None,
                bytes: None,
                in_flight: None,
                check_age: None,
            });
        }
        for &i in self.index.get(target).into_iter().flatten() {
            f(&mut self.targets[i]);
        }
    }
}

impl Tracked {
    /// The target as an outcome, as far as the journal knows.
    pub fn outcome(&self) -> Outcome {
        Outcome { target: self.target.clone(), status: self.status, reason: self.reason.clone() }
    }
}

/// The status a journal entry names (see [`crate::journal::status_name`]).
pub fn status_of(name: &str) -> Option<Status> {
    Some(match name {
        "planned" => Status::Planned,
        "done" => Status::Done,
        "skipped" => Status::Skipped,
        "failed" => Status::Failed,
        "unknown" => Status::Unknown,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(event: &str, digest: &str, status: Option<&str>) -> Entry {
        Entry {
            event: event.into(),
            target: Some(Target::from_pairs([("image_digest", digest)])),
            status: status.map(str::to_string),
            operation: Some("ecr:BatchDeleteImage".into()),
            ..Entry::default()
        }
    }

    #[test]
    fn intents_without_an_outcome_are_in_flight() {
        let progress = Progress::default();
        progress.record(&[
            entry("planned", "a", Some("planned")),
            entry("planned", "b", Some("planned")),
            entry("planned", "c", Some("skipped")),
            entry("planned", "a", Some("planned")),
        ]);
        progress.record(&[entry("intent", "a", None), entry("intent", "b", None)]);
        progress.record(&[entry("outcome", "b", Some("done"))]);
        let seen: Vec<(&str, Status, Option<&str>)> = Vec::new();
        let snapshot = progress.snapshot();
        let seen = snapshot.iter().fold(seen, |mut v, t| {
            v.push((t.target.get("image_digest").unwrap_or(""), t.status, t.in_flight.as_deref()));
            v
        });
        assert_eq!(
            seen,
            vec![
                ("a", Status::Planned, Some("ecr:BatchDeleteImage")),
                ("b", Status::Done, None),
                ("c", Status::Skipped, None),
                ("a", Status::Planned, Some("ecr:BatchDeleteImage")),
            ]
        );
    }
}
