//! Per-operation call counters (`ecr:DescribeImages`, `github:GetCommit`, ...).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Calls per operation, separately the calls that were throttled, and when
/// each operation was first and last called.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    calls: BTreeMap<String, u64>,
    throttled: BTreeMap<String, u64>,
    first_last: BTreeMap<String, (Instant, Instant)>,
}

impl Counters {
    /// Counts one call of `op` and returns its number (1-based) since the last reset.
    pub(crate) fn count(&self, op: &str) -> u64 {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        inner.first_last.entry(op.to_owned()).and_modify(|(_, last)| *last = now).or_insert((now, now));
        let n = inner.calls.entry(op.to_owned()).or_insert(0);
        *n += 1;
        *n
    }

    /// Per operation, the time from its first call to its last (each call's arrival).
    pub(crate) fn spans(&self) -> BTreeMap<String, Duration> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.first_last.iter().map(|(op, (first, last))| (op.clone(), *last - *first)).collect()
    }

    /// Records that a call of `op` was throttled (it was already counted).
    pub(crate) fn throttled(&self, op: &str) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        *inner.throttled.entry(op.to_owned()).or_insert(0) += 1;
    }

    /// Every call, throttled ones included.
    pub(crate) fn calls(&self) -> BTreeMap<String, u64> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).calls.clone()
    }

    /// The throttled calls only.
    pub(crate) fn throttled_calls(&self) -> BTreeMap<String, u64> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).throttled.clone()
    }

    /// Forgets every count.
    pub(crate) fn reset(&self) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.calls.clear();
        inner.throttled.clear();
        inner.first_last.clear();
    }
}
