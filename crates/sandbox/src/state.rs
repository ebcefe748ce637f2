//! The state a running sandbox shares between its request handlers.

use std::sync::{Mutex, MutexGuard};

use serde_json::Value;
use tokio::time::Instant;

use crate::SandboxConfig;
use crate::counters::Counters;
use crate::throttle::Throttle;
use crate::world::World;

/// Shared by every handler through an `Arc`.
#[derive(Debug)]
pub(crate) struct State {
    /// The world, changed by deletions.
    pub world: Mutex<World>,
    /// Behaviour knobs.
    pub config: SandboxConfig,
    /// Calls per operation.
    pub counters: Counters,
    /// Throttling buckets.
    pub throttle: Throttle,
    /// GitHub's rate-limit window.
    pub github: Mutex<GithubWindow>,
    /// Slack messages and the rate-limit mode.
    pub slack: Mutex<SlackState>,
    /// `http://127.0.0.1:<port>`, for absolute URLs in responses.
    pub base_url: String,
}

/// GitHub's primary rate limit: a budget of requests per window.
#[derive(Debug)]
pub(crate) struct GithubWindow {
    /// Requests used in the current window.
    pub used: u64,
    /// When the current window ends (once the budget is spent).
    pub resets_at: Option<Instant>,
}

/// What Slack has received.
#[derive(Debug, Default)]
pub(crate) struct SlackState {
    /// Accepted message bodies, in order.
    pub messages: Vec<Value>,
    /// Messages answered so far (accepted or not), for the rate-limit mode.
    pub attempts: u32,
}

impl State {
    /// A fresh state for `world`.
    pub(crate) fn new(world: World, config: SandboxConfig, base_url: String) -> Self {
        State {
            world: Mutex::new(world),
            config,
            counters: Counters::default(),
            throttle: Throttle::default(),
            github: Mutex::new(GithubWindow { used: 0, resets_at: None }),
            slack: Mutex::new(SlackState::default()),
            base_url,
        }
    }

    /// Locks the world; a panicked handler does not poison it for the others.
    pub(crate) fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The injected fault for call number `n` of `op` that fails it before
    /// it acts, if any.
    pub(crate) fn fault(&self, op: &str, n: u64) -> Option<&crate::Fault> {
        self.config.faults.iter().find(|f| f.op == op && f.hits(n) && !f.lost_answer)
    }

    /// The injected fault that replaces the answer of call number `n` of
    /// `op` after it acted, if any.
    pub(crate) fn lost_answer(&self, op: &str, n: u64) -> Option<&crate::Fault> {
        self.config.faults.iter().find(|f| f.op == op && f.hits(n) && f.lost_answer)
    }
}
