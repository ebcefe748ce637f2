//! The scheduler's sense of time, behind a trait so tests drive it.
//!
//! The scheduler asks only two things of a clock: what time it is, and to
//! wake it at a given wall-clock time. Tests use a clock over tokio's paused
//! time, so a day of schedule passes in milliseconds and nothing sleeps.

use std::future::Future;

use chrono::{DateTime, Utc};

/// Wall-clock time and waiting for it.
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;

    /// Resolves once [`Clock::now`] has reached `deadline` (at once if it has).
    fn sleep_until(&self, deadline: DateTime<Utc>) -> impl Future<Output = ()> + Send;
}

/// The system clock.
///
/// It sleeps in slices of at most a minute and looks at the wall clock again
/// after each, so a suspended laptop or a clock stepped by NTP wakes the
/// scheduler at the right wall-clock time rather than after a stale duration.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

const MAX_SLICE: std::time::Duration = std::time::Duration::from_secs(60);

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    async fn sleep_until(&self, deadline: DateTime<Utc>) {
        loop {
            let Ok(left) = (deadline - Utc::now()).to_std() else { return };
            if left.is_zero() {
                return;
            }
            tokio::time::sleep(left.min(MAX_SLICE)).await;
        }
    }
}
