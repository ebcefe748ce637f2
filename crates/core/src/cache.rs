//! The scan cache: a repeated scan within the TTL replays the pages it got
//! last time instead of calling the APIs again.
//!
//! An entry is one connection's complete result for one (table, keys,
//! columns) request; a scan cut short by `LIMIT` or an error stores nothing.
//! The REPL turns it on (`\cache` shows and clears it); a policy's guardrail
//! checks run on a session without it, so they always read the APIs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use datafusion::arrow::array::RecordBatch;
use futures::stream::{BoxStream, StreamExt};

use crate::error::Result;

/// What identifies a cached scan.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheKey {
    /// The table.
    pub table: String,
    /// The connection label (`name/region`), empty for global tables.
    pub connection: String,
    /// The pushed keys, as displayed.
    pub keys: String,
    /// The columns the fetch was asked for, sorted.
    pub columns: Vec<String>,
}

/// One stored scan: when it was stored, and its pages.
type Entry = (Instant, Arc<Vec<RecordBatch>>);

/// Cached scans with a time to live.
#[derive(Debug)]
pub struct ScanCache {
    ttl: Duration,
    entries: Mutex<HashMap<CacheKey, Entry>>,
}

/// What `\cache` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheStats {
    /// Live entries.
    pub entries: usize,
    /// Rows held.
    pub rows: usize,
    /// The time to live.
    pub ttl: Duration,
}

impl ScanCache {
    /// A cache whose entries live for `ttl`.
    pub fn new(ttl: Duration) -> Self {
        Self { ttl, entries: Mutex::default() }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<CacheKey, Entry>> {
        match self.entries.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// The pages stored for `key`, if still fresh.
    pub fn get(&self, key: &CacheKey) -> Option<Arc<Vec<RecordBatch>>> {
        let mut entries = self.lock();
        match entries.get(key) {
            Some((at, pages)) if at.elapsed() < self.ttl => Some(pages.clone()),
            Some(_) => {
                entries.remove(key);
                None
            }
            None => None,
        }
    }

    /// Stores a complete result.
    pub fn put(&self, key: CacheKey, pages: Vec<RecordBatch>) {
        self.lock().insert(key, (Instant::now(), Arc::new(pages)));
    }

    /// Drops everything.
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// Entry and row counts of live entries.
    pub fn stats(&self) -> CacheStats {
        let entries = self.lock();
        let live: Vec<_> = entries.values().filter(|(at, _)| at.elapsed() < self.ttl).collect();
        CacheStats {
            entries: live.len(),
            rows: live.iter().flat_map(|(_, p)| p.iter()).map(RecordBatch::num_rows).sum(),
            ttl: self.ttl,
        }
    }

    /// Replays `key` when cached; otherwise runs `fetch`, storing its pages
    /// once it completes.
    pub fn through(
        self: &Arc<Self>,
        key: CacheKey,
        fetch: impl FnOnce() -> BoxStream<'static, Result<RecordBatch>>,
    ) -> BoxStream<'static, Result<RecordBatch>> {
        if let Some(pages) = self.get(&key) {
            return futures::stream::iter(pages.as_ref().clone().into_iter().map(Ok)).boxed();
        }
        let cache = self.clone();
        let mut inner = fetch();
        async_stream::try_stream! {
            let mut seen = Vec::new();
            while let Some(page) = inner.next().await {
                let page = page?;
                seen.push(page.clone());
                yield page;
            }
            cache.put(key, seen);
        }
        .boxed()
    }
}
