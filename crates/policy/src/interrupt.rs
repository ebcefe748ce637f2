//! [`Interrupt`]: a run's stop flag, shared by whoever may stop it (a signal
//! handler, a lease that was lost) and the run's journal.
//!
//! Once raised, the journal refuses every new intent, so each sink stops
//! before its next API call and fails the targets it had left; the batch in
//! flight finishes and journals its outcome. The runner then ends the run
//! with an `interrupted` journal event and a failed report.
//!
//! [`Interrupt::stop_now`] (a second signal) does not wait for the call in
//! flight: the runner drops it, journals each of its targets as `unknown`,
//! and ends the run as above, lock released, before the process exits.

use std::sync::{Arc, OnceLock};

use tokio::sync::watch;

/// A flag raised at most once, with the reason it was raised.
///
/// ```
/// let stop = skyglue_policy::Interrupt::default();
/// let seen_by_the_run = stop.clone();
/// stop.raise("SIGTERM");
/// assert_eq!(seen_by_the_run.reason(), Some("SIGTERM"));
/// ```
#[derive(Debug, Clone)]
pub struct Interrupt {
    reason: Arc<OnceLock<String>>,
    now: Arc<watch::Sender<Option<String>>>,
}

impl Default for Interrupt {
    fn default() -> Self {
        Interrupt { reason: Arc::default(), now: Arc::new(watch::Sender::new(None)) }
    }
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

    /// Raises the flag and stops the run at once, without waiting for the
    /// call in flight (a second SIGTERM or SIGINT): see [`Interrupt::stopped_now`].
    pub fn stop_now(&self, reason: impl Into<String>) {
        let reason = reason.into();
        self.raise(reason.clone());
        self.now.send_if_modified(|now| {
            let first = now.is_none();
            if first {
                *now = Some(reason);
            }
            first
        });
    }

    /// Resolves once [`Interrupt::stop_now`] was called (at once if it was
    /// already), with its reason.
    pub async fn stopped_now(&self) -> String {
        let mut seen = self.now.subscribe();
        // The guard `wait_for` returns is dropped here, before any other await.
        let reason = seen.wait_for(Option::is_some).await.ok().and_then(|r| r.clone());
        match reason {
            Some(reason) => reason,
            // The sender lives as long as `self`: never reached.
            None => std::future::pending().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stop_now_raises_the_flag_and_wakes_the_waiter() {
        let stop = Interrupt::default();
        let waiter = tokio::spawn({
            let stop = stop.clone();
            async move { stop.stopped_now().await }
        });
        stop.stop_now("SIGTERM again");
        assert_eq!(waiter.await.expect("joined"), "SIGTERM again");
        assert_eq!(stop.reason(), Some("SIGTERM again"));
        assert_eq!(stop.stopped_now().await, "SIGTERM again", "already stopped: at once");
    }
}
