//! [`Interrupt`]: a run's stop flag, shared by whoever may stop it (a signal
//! handler, a lease that was lost) and the run's journal.
//!
//! Once raised, the journal refuses every new intent, so each sink stops
//! before its next API call and fails the targets it had left; the batch in
//! flight finishes and journals its outcome. The runner then ends the run
//! with an `interrupted` journal event and a failed report.

use std::sync::{Arc, OnceLock};

/// A flag raised at most once, with the reason it was raised.
///
/// ```
/// let stop = skyglue_policy::Interrupt::default();
/// let seen_by_the_run = stop.clone();
/// stop.raise("SIGTERM");
/// assert_eq!(seen_by_the_run.reason(), Some("SIGTERM"));
/// ```
#[derive(Debug, Clone, Default)]
pub struct Interrupt {
    reason: Arc<OnceLock<String>>,
}

impl Interrupt {
    /// Raises the flag; the first reason given is kept.
    pub fn raise(&self, reason: impl Into<String>) {
        let _ = self.reason.set(reason.into());
    }

    /// Why the flag was raised, if it was.
    pub fn reason(&self) -> Option<&str> {
        self.reason.get().map(String::as_str)
    }

    /// Whether the flag was raised.
    pub fn is_raised(&self) -> bool {
        self.reason.get().is_some()
    }
}
