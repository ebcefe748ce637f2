//! Listings shared by the scans of one query.
//!
//! (The same memo also holds the pages of a table the query reads more than
//! once, [`QueryMemo::pages`]: see [`crate::shared_scans`].)
//!
//! Two scans of one query sometimes need the same listing: `aws_ecs_service`
//! and `aws_ecs_task` both start from ListClusters, and the in-use view reads
//! both. A [`QueryMemo`] makes such a listing once per connection and query:
//! the first scan to ask fetches it, the others wait for that answer.
//!
//! "One query" is one execution of a physical plan. DataFusion hands the same
//! `Arc<TaskContext>` to every operator of an execution and a new one to the
//! next `collect`, so the memo is looked up by that context ([`for_task`]) and
//! lives exactly as long as it: the next query, and a guardrail's fresh
//! session, list again. A failed fetch is not remembered; the next scan to
//! ask tries again (and reports its own error).
//!
//! On many machines a query is cut into stages, and a worker runs each stage
//! it is given with a task context of its own; the services and the tasks of
//! one connection are then two stages on one worker. So a distributed plan's
//! scans carry the query's id, and a worker's scans with one id share one
//! memo ([`shared`]) for as long as any of them is alive.

use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use datafusion::arrow::array::RecordBatch;
use datafusion::execution::TaskContext;
use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use tokio::sync::OnceCell;

use crate::error::Result;

/// A shared answer, typed by the caller.
type Shared = Arc<dyn Any + Send + Sync>;

/// The listings one query has made, by key.
#[derive(Debug, Default)]
pub struct QueryMemo {
    entries: Mutex<HashMap<String, Arc<OnceCell<Shared>>>>,
}

impl QueryMemo {
    /// The answer stored under `key`, fetching it with `fetch` when no scan of
    /// this query has yet. Concurrent callers with the same key wait for the
    /// one fetch. `key` must name everything the answer depends on (the
    /// connection and the operation, for a parameterless listing).
    pub async fn get_or_fetch<T, F, Fut>(&self, key: &str, fetch: F) -> Result<Arc<T>>
    where
        T: Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let cell = lock(&self.entries).entry(key.to_string()).or_default().clone();
        let shared =
            cell.get_or_try_init(|| async { Ok::<Shared, crate::Error>(Arc::new(fetch().await?)) }).await?;
        // A key is only ever filled by one type; a mismatch is a programming error
        // that would show as a fetch per caller, never as a wrong answer.
        match shared.clone().downcast::<T>() {
            Ok(answer) => Ok(answer),
            Err(_) => Err(crate::Error::Config(format!("query memo key {key} holds another type"))),
        }
    }

    /// A scan's pages, read once for every scan of this query that asks with
    /// `key`: the first to ask reads them all through `fetch` (counted in its
    /// own metrics) and every asker then replays them. Only scans of a table
    /// the query reads more than once come here ([`crate::shared_scans`]),
    /// since the pages stay in memory until the query ends.
    pub fn pages(
        self: &Arc<Self>,
        key: String,
        fetch: impl FnOnce() -> BoxStream<'static, Result<RecordBatch>> + Send + 'static,
    ) -> BoxStream<'static, Result<RecordBatch>> {
        let memo = self.clone();
        futures::stream::once(async move {
            let read = memo.get_or_fetch(&key, || fetch().try_collect::<Vec<RecordBatch>>()).await;
            match read {
                Ok(pages) => {
                    futures::stream::iter((0..pages.len()).map(move |i| Ok(pages[i].clone()))).boxed()
                }
                Err(e) => futures::stream::once(async { Err(e) }).boxed(),
            }
        })
        .flatten()
        .boxed()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// Memos of the queries running now, by their task context.
static RUNNING: Mutex<Vec<(Weak<TaskContext>, Arc<QueryMemo>)>> = Mutex::new(Vec::new());

/// The memo of the query `task` belongs to (a new one for a new query).
pub fn for_task(task: &Arc<TaskContext>) -> Arc<QueryMemo> {
    let mut running = lock(&RUNNING);
    // Finished queries first: their contexts are gone, and a new context may
    // reuse the address of an old one.
    running.retain(|(ctx, _)| ctx.strong_count() > 0);
    let me = Arc::downgrade(task);
    if let Some((_, memo)) = running.iter().find(|(ctx, _)| ctx.ptr_eq(&me)) {
        return memo.clone();
    }
    let memo = Arc::new(QueryMemo::default());
    running.push((me, memo.clone()));
    memo
}

/// Memos shared by query id, alive while a scan holds them.
static SHARED: Mutex<Vec<(String, Weak<QueryMemo>)>> = Mutex::new(Vec::new());

/// The memo of the distributed query `id` in this process: the scans of one
/// query (each stage of it that this process runs) share it, and it is gone
/// once the last of them is dropped.
pub fn shared(id: &str) -> Arc<QueryMemo> {
    let mut shared = lock(&SHARED);
    shared.retain(|(_, memo)| memo.strong_count() > 0);
    if let Some(memo) = shared.iter().find(|(key, _)| key == id).and_then(|(_, memo)| memo.upgrade()) {
        return memo;
    }
    let memo = Arc::new(QueryMemo::default());
    shared.push((id.to_string(), Arc::downgrade(&memo)));
    memo
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn one_fetch_per_key_however_many_ask() {
        let memo = QueryMemo::default();
        let fetches = AtomicUsize::new(0);
        let fetch = || async {
            fetches.fetch_add(1, Ordering::SeqCst);
            tokio::task::yield_now().await;
            Ok(vec!["arn:a".to_string()])
        };
        let (a, b) = tokio::join!(
            memo.get_or_fetch("c1 ListClusters", fetch),
            memo.get_or_fetch("c1 ListClusters", fetch)
        );
        assert_eq!(a.expect("a"), b.expect("b"));
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
        memo.get_or_fetch("c2 ListClusters", fetch).await.expect("c2");
        assert_eq!(fetches.load(Ordering::SeqCst), 2, "another key is another listing");
    }

    #[tokio::test]
    async fn a_failed_fetch_is_tried_again() {
        let memo = QueryMemo::default();
        let failed: Result<Arc<Vec<String>>> =
            memo.get_or_fetch("k", || async { Err(crate::Error::Config("boom".into())) }).await;
        assert!(failed.is_err());
        let again = memo.get_or_fetch("k", || async { Ok(vec!["x".to_string()]) }).await.expect("again");
        assert_eq!(again.as_slice(), ["x".to_string()]);
    }

    #[test]
    fn each_query_has_its_own_memo_and_its_scans_share_it() {
        let first = Arc::new(TaskContext::default());
        let second = Arc::new(TaskContext::default());
        assert!(Arc::ptr_eq(&for_task(&first), &for_task(&first.clone())));
        assert!(!Arc::ptr_eq(&for_task(&first), &for_task(&second)));
    }

    #[tokio::test]
    async fn scans_with_one_query_id_share_a_memo_while_one_holds_it() {
        let fetches = AtomicUsize::new(0);
        let fetch = || async {
            fetches.fetch_add(1, Ordering::SeqCst);
            Ok(1_u8)
        };
        let services = shared("query-1");
        let tasks = shared("query-1");
        services.get_or_fetch("c1 ListClusters", fetch).await.expect("services");
        tasks.get_or_fetch("c1 ListClusters", fetch).await.expect("tasks");
        assert_eq!(fetches.load(Ordering::SeqCst), 1, "two stages of one query list once");
        shared("query-2").get_or_fetch("c1 ListClusters", fetch).await.expect("another query");
        assert_eq!(fetches.load(Ordering::SeqCst), 2, "another query lists again");
        drop((services, tasks));
        shared("query-1").get_or_fetch("c1 ListClusters", fetch).await.expect("after");
        assert_eq!(fetches.load(Ordering::SeqCst), 3, "nothing outlives the query's scans");
    }
}
