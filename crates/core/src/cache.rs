//! The scan cache: a repeated scan within the TTL replays the pages it got
//! last time instead of calling the APIs again.
//!
//! An entry is one connection's complete result for one (table, keys,
//! columns) request; a scan cut short by `LIMIT` or an error stores nothing.
//! An entry also answers a narrower request: the same key columns with fewer
//! values, fewer columns (or any, for a table whose every call returns whole
//! rows). Its pages then hold rows the request did not ask for, and that is
//! safe: the scan re-checks every pushed filter on each page, and a join
//! re-checks the keys it pushed.
//!
//! The REPL turns it on (`\cache` shows and clears it); so does a dry run,
//! for its own check to reuse what its query read (`Engine::for_dry_run`).
//! An applying run's checks run on a session without it, so they always read
//! the APIs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use datafusion::arrow::array::RecordBatch;
use futures::stream::{BoxStream, StreamExt};

use crate::error::Result;
use crate::keys::KeyValues;

/// What identifies a cached scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheKey {
    /// The table.
    pub table: String,
    /// The connection label (`name/region`), empty for global tables.
    pub connection: String,
    /// The pushed keys.
    pub keys: KeyValues,
    /// The columns the fetch was asked for, sorted.
    pub columns: Vec<String>,
    /// Whether the fetch fills every column whatever it is asked for
    /// ([`crate::ApiTable::fetches_whole_rows`]).
    pub whole_rows: bool,
}

impl CacheKey {
    /// The key of this request's pages in a query's memo
    /// ([`crate::query_memo::QueryMemo::pages`]): the table, connection,
    /// keys and, unless every fetch returns whole rows, the columns.
    pub fn memo_key(&self) -> String {
        let columns = if self.whole_rows { String::new() } else { self.columns.join(",") };
        format!("scan {} {} {:?} {columns}", self.table, self.connection, self.keys)
    }

    /// Whether the scan stored under `self` holds every row and column `request` needs.
    fn covers(&self, request: &CacheKey) -> bool {
        self.table == request.table
            && self.connection == request.connection
            && self.keys.covers(&request.keys)
            && (self.whole_rows || request.columns.iter().all(|c| self.columns.binary_search(c).is_ok()))
    }
}

/// One stored scan: what it was asked, when it was stored, and its pages.
type Entry = (CacheKey, Instant, Arc<Vec<RecordBatch>>);

/// Cached scans with a time to live, by (table, connection).
#[derive(Debug)]
pub struct ScanCache {
    ttl: Duration,
    entries: Mutex<HashMap<(String, String), Vec<Entry>>>,
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

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), Vec<Entry>>> {
        match self.entries.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Pages stored for `key`, or for a request that covers it, if still fresh.
    pub fn get(&self, key: &CacheKey) -> Option<Arc<Vec<RecordBatch>>> {
        let mut entries = self.lock();
        let stored = entries.get_mut(&(key.table.clone(), key.connection.clone()))?;
        stored.retain(|(_, at, _)| at.elapsed() < self.ttl);
        stored.iter().find(|(asked, _, _)| asked.covers(key)).map(|(_, _, pages)| pages.clone())
    }

    /// Stores a complete result (in place of an equal request's).
    pub fn put(&self, key: CacheKey, pages: Vec<RecordBatch>) {
        let mut entries = self.lock();
        let stored = entries.entry((key.table.clone(), key.connection.clone())).or_default();
        stored.retain(|(asked, _, _)| *asked != key);
        stored.push((key, Instant::now(), Arc::new(pages)));
    }

    /// Drops everything.
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// Entry and row counts of live entries.
    pub fn stats(&self) -> CacheStats {
        let entries = self.lock();
        let live: Vec<_> = entries.values().flatten().filter(|(_, at, _)| at.elapsed() < self.ttl).collect();
        CacheStats {
            entries: live.len(),
            rows: live.iter().flat_map(|(_, _, p)| p.iter()).map(RecordBatch::num_rows).sum(),
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

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::{ArrayRef, Int64Array};

    use super::*;

    fn key(repos: &[&str], columns: &[&str], whole_rows: bool) -> CacheKey {
        let mut keys = KeyValues::new();
        keys.insert("repository_name", repos.iter().map(|r| r.to_string()).collect());
        CacheKey {
            table: "aws_ecr_image".into(),
            connection: "prod/us-east-1".into(),
            keys,
            columns: columns.iter().map(|c| c.to_string()).collect(),
            whole_rows,
        }
    }

    fn page() -> Vec<RecordBatch> {
        let column: ArrayRef = Arc::new(Int64Array::from(vec![1, 2]));
        vec![RecordBatch::try_from_iter([("n", column)]).expect("batch")]
    }

    #[test]
    fn a_stored_scan_answers_narrower_requests_only() {
        let cache = ScanCache::new(Duration::from_secs(60));
        cache.put(key(&["a", "b"], &["image_digest", "repository_name"], false), page());
        assert!(cache.get(&key(&["b"], &["image_digest"], false)).is_some(), "fewer keys and columns");
        assert!(cache.get(&key(&["c"], &["image_digest"], false)).is_none(), "another repository");
        assert!(cache.get(&key(&["a"], &["image_tags"], false)).is_none(), "a column it was not asked for");
        cache.put(key(&["a", "b"], &["image_digest"], true), page());
        assert!(cache.get(&key(&["a"], &["image_tags"], false)).is_some(), "whole rows hold every column");
        assert_eq!(cache.stats().entries, 2);
    }
}
