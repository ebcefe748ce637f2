//! The scheduling loop: one task per entry, waiting for its next fire time.
//!
//! The rules, each a sentence a user can rely on:
//! - a slot that fires while the entry's previous run (jitter wait included)
//!   is still going is skipped, and the log says so: never two runs of one
//!   entry at once;
//! - each run waits a random delay in `[0, jitter]` after its slot;
//! - on start, an entry whose latest slot came after the last slot it
//!   accounted for (the scheduler was down) runs once, for that latest slot:
//!   never a burst of catch-up runs;
//! - on stop, no new run starts (a jitter wait ends without running); runs in
//!   progress get a bounded time to finish.
//!
//! The loop knows nothing of policies: a run is a [`RunFn`], so tests drive it
//! with a fake clock and a fake run.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use futures::FutureExt;
use futures::future::BoxFuture;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::clock::Clock;
use super::entry::Entry;
use super::state::StateFile;

/// What a run tells the scheduler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    /// The exit code `skyglue run` would have exited with.
    pub exit_code: u8,
    /// The outcome in one line, e.g. `dry_run ok planned=7 done=0 skipped=2 failed=0`.
    pub summary: String,
}

/// Runs one entry's policy once.
pub type RunFn = Arc<dyn Fn(Arc<Entry>) -> BoxFuture<'static, Finished> + Send + Sync>;

/// Runs `entry` with `run`; a run that panics (a bug the run itself did not
/// catch) is a failed run, exit 1, and the scheduler goes on.
pub async fn run_caught(run: &RunFn, entry: Arc<Entry>) -> Finished {
    match AssertUnwindSafe(run(entry)).catch_unwind().await {
        Ok(finished) => finished,
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".into());
            Finished {
                exit_code: 1,
                summary: format!("error exit=1: internal error (a bug: please report it): {message}"),
            }
        }
    }
}

/// Where log lines go (stderr, or a test's list).
pub type LogFn = Arc<dyn Fn(String) + Send + Sync>;

/// Runs entries on their crons.
pub struct Scheduler<C: Clock> {
    clock: Arc<C>,
    run: RunFn,
    state: Arc<StateFile>,
    log: LogFn,
    rng: Arc<Mutex<SmallRng>>,
    /// How long a stop waits for runs in progress.
    pub grace: Duration,
}

impl<C: Clock> Clone for Scheduler<C> {
    fn clone(&self) -> Self {
        Scheduler {
            clock: self.clock.clone(),
            run: self.run.clone(),
            state: self.state.clone(),
            log: self.log.clone(),
            rng: self.rng.clone(),
            grace: self.grace,
        }
    }
}

/// The log line's time stamp: `2026-11-30T03:00:04Z`.
pub fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A random delay in `[0, max]`, to the second.
pub fn jitter(rng: &mut SmallRng, max: Duration) -> Duration {
    Duration::from_secs(rng.random_range(0..=max.as_secs()))
}

/// Waits until `t`; false when a stop came first.
async fn wait<C: Clock>(clock: &C, t: DateTime<Utc>, stop: &mut watch::Receiver<bool>) -> bool {
    let stopped = async {
        while !*stop.borrow_and_update() {
            if stop.changed().await.is_err() {
                break;
            }
        }
    };
    tokio::select! {
        biased;
        () = stopped => false,
        () = clock.sleep_until(t) => true,
    }
}

impl<C: Clock> Scheduler<C> {
    /// A scheduler; `seed` seeds the jitter.
    pub fn new(clock: Arc<C>, run: RunFn, state: Arc<StateFile>, log: LogFn, seed: u64) -> Self {
        let rng = Arc::new(Mutex::new(SmallRng::seed_from_u64(seed)));
        Scheduler { clock, run, state, log, rng, grace: Duration::from_secs(120) }
    }

    /// Runs every entry on its cron until `stop` resolves, then waits (up to
    /// [`Scheduler::grace`]) for runs in progress.
    pub async fn run_until(&self, entries: Vec<Arc<Entry>>, stop: impl Future<Output = ()>) {
        let (tx, rx) = watch::channel(false);
        let loops: Vec<_> =
            entries.into_iter().map(|e| tokio::spawn(self.clone().entry_loop(e, rx.clone()))).collect();
        stop.await;
        let _ = tx.send(true);
        let mut in_flight = Vec::new();
        for handle in loops {
            if let Ok(Some(run)) = handle.await {
                in_flight.push(run);
            }
        }
        if in_flight.is_empty() {
            return;
        }
        (self.log)(format!(
            "{} stopping: waiting up to {}s for {} run(s) in progress",
            stamp(self.clock.now()),
            self.grace.as_secs(),
            in_flight.len()
        ));
        let deadline = self.clock.now() + self.grace;
        tokio::select! {
            _ = futures::future::join_all(in_flight) => {}
            () = self.clock.sleep_until(deadline) => {
                (self.log)(format!("{} stopping with runs unfinished", stamp(self.clock.now())));
            }
        }
    }

    /// One entry's loop; returns its run still in progress, if any.
    async fn entry_loop(self, entry: Arc<Entry>, mut stop: watch::Receiver<bool>) -> Option<JoinHandle<()>> {
        let now = self.clock.now();
        let mut running = None;
        match self.state.get(&entry.key).last_slot {
            Some(last) => {
                if let Some(missed) = entry.latest_at_or_before(now).filter(|s| *s > last) {
                    self.say(&entry, format!("catching up the run due at {}", stamp(missed)));
                    running = Some(self.start(&entry, missed, stop.clone()));
                }
            }
            // First start: slots before now were never this scheduler's to run.
            None => self.account(&entry, now),
        }
        let mut cursor = now;
        loop {
            let Some(slot) = entry.next_after(cursor) else {
                self.say(&entry, "no further fire times".into());
                break;
            };
            if !wait(&*self.clock, slot, &mut stop).await {
                break;
            }
            cursor = slot;
            if running.as_ref().is_some_and(|r: &JoinHandle<()>| !r.is_finished()) {
                self.say(&entry, "skipped: previous run still going".into());
                self.account(&entry, slot);
                continue;
            }
            running = Some(self.start(&entry, slot, stop.clone()));
        }
        running.filter(|r| !r.is_finished())
    }

    /// Starts the run of `slot` after its jitter; it logs its own outcome.
    fn start(
        &self,
        entry: &Arc<Entry>,
        slot: DateTime<Utc>,
        mut stop: watch::Receiver<bool>,
    ) -> JoinHandle<()> {
        self.account(entry, slot);
        let delay = {
            let mut rng = self.rng.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            jitter(&mut rng, entry.jitter)
        };
        let me = self.clone();
        let entry = entry.clone();
        tokio::spawn(async move {
            let at = slot.max(me.clock.now()) + delay;
            if !wait(&*me.clock, at, &mut stop).await {
                me.say(&entry, "not started: the scheduler is stopping".into());
                return;
            }
            let finished = run_caught(&me.run, entry.clone()).await;
            let now = me.clock.now();
            if let Err(e) = me.state.update(&entry.key, |s| {
                s.last_finished = Some(now);
                s.last_exit_code = Some(finished.exit_code);
            }) {
                me.say(&entry, format!("warning: {e}"));
            }
            me.say(&entry, finished.summary);
        })
    }

    /// Records `slot` as the entry's latest accounted-for slot.
    fn account(&self, entry: &Entry, slot: DateTime<Utc>) {
        if let Err(e) = self.state.update(&entry.key, |s| s.last_slot = Some(slot)) {
            self.say(entry, format!("warning: {e}"));
        }
    }

    fn say(&self, entry: &Entry, what: String) {
        (self.log)(format!("{} {} {what}", stamp(self.clock.now()), entry.label));
    }
}
