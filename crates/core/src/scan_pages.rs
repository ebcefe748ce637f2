//! Where a scan's pages come from: the table's fetch per connection (AWS
//! account x region, account, Kubernetes context, or once), through the scan
//! cache and the query memo, with the connection columns in front; and the
//! stream that filters, projects and limits them for [`crate::exec::ApiScanExec`].

use std::collections::HashSet;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use datafusion::arrow::array::{ArrayRef, BooleanArray, RecordBatch, StringViewArray};
use datafusion::arrow::compute::filter_record_batch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::physical_plan::metrics::BaselineMetrics;
use futures::stream::{BoxStream, Stream, StreamExt};

use crate::cache::{CacheKey, ScanCache};
use crate::connection::{AwsConnection, KubeContext};
use crate::error::{Error, Result};
use crate::keys::KeyValues;
use crate::metrics::ScanMetrics;
use crate::query_memo::QueryMemo;
use crate::scan_plan::ScanPlan;
use crate::spec::Scope;
use crate::table::{ApiTable, FetchContext};

/// Where a scan's pages are kept for replay, and under which key.
type Cached = Option<(Arc<ScanCache>, CacheKey)>;

/// The query's memo and the key a shared scan's pages are kept under in it.
type Shared = Option<(Arc<QueryMemo>, String)>;

/// `fetch`'s pages: replayed from the cache when caching is on and it holds
/// them, else read once for the query's scans when the scan is shared, else
/// fetched.
fn read(
    cached: Cached,
    shared: Shared,
    fetch: impl FnOnce() -> BoxStream<'static, Result<RecordBatch>> + Send + 'static,
) -> BoxStream<'static, Result<RecordBatch>> {
    let fetch = move || match shared {
        Some((memo, key)) => memo.pages(key, fetch),
        None => fetch(),
    };
    match cached {
        Some((cache, key)) => cache.through(key, fetch),
        None => fetch(),
    }
}

/// Full-width pages from every target, merged as they arrive.
pub(crate) fn source_pages(
    plan: &ScanPlan,
    scan: &ScanMetrics,
    memo: Arc<QueryMemo>,
) -> BoxStream<'static, Result<RecordBatch>> {
    let context = |aws: Option<Arc<AwsConnection>>, kube: Option<Arc<KubeContext>>| FetchContext {
        spec: plan.spec.clone(),
        aws,
        kube,
        connections: plan.connections.clone(),
        keys: plan.keys.clone(),
        columns: plan.columns.clone(),
        limit: plan.limit,
        metrics: scan.clone(),
        query: memo.clone(),
    };
    let cache_key = |connection: String, ctx: &FetchContext| {
        let mut columns: Vec<String> = ctx.columns.iter().cloned().collect();
        columns.sort();
        CacheKey {
            table: plan.spec.name.to_string(),
            connection,
            keys: ctx.keys.clone(),
            columns,
            whole_rows: plan.table.fetches_whole_rows(),
        }
    };
    // Where a request's pages are kept: the scan cache when caching is on,
    // and the query's memo when the scan is shared (read once per request
    // and query; the memo's key names the request as the cache's does).
    let stores = |key: CacheKey| -> (Cached, Shared) {
        let shared = plan.shared.then(|| (memo.clone(), key.memo_key()));
        (plan.cache.as_ref().map(|c| (c.clone(), key)), shared)
    };
    let schema = plan.spec.schema();
    match plan.spec.scope {
        Scope::Global => {
            let ctx = context(None, None);
            let table = plan.table.clone();
            let (cached, shared) = stores(cache_key(String::new(), &ctx));
            read(cached, shared, move || fetch_counted(&table, ctx))
        }
        Scope::Aws => {
            let streams = plan.targets.iter().map(|conn| {
                let ctx = context(Some(conn.clone()), None);
                let (cached, shared) = stores(cache_key(conn.label(), &ctx));
                connection_pages(plan.table.clone(), schema.clone(), plan.keys.clone(), ctx, cached, shared)
            });
            futures::stream::select_all(streams).boxed()
        }
        Scope::AwsAccount => {
            // One connection per account: the first configured one.
            let contexts: Vec<(FetchContext, Cached, Shared)> = plan
                .targets
                .iter()
                .map(|conn| {
                    let ctx = context(Some(conn.clone()), None);
                    let (cached, shared) = stores(cache_key(conn.name.clone(), &ctx));
                    (ctx, cached, shared)
                })
                .collect();
            let (table, keys) = (plan.table.clone(), plan.keys.clone());
            futures::stream::once(async move {
                let mut seen = HashSet::new();
                let mut streams = Vec::new();
                for (ctx, key, memo) in contexts {
                    if seen.insert(ctx.aws().account_id().await?) {
                        streams.push(connection_pages(
                            table.clone(),
                            schema.clone(),
                            keys.clone(),
                            ctx,
                            key,
                            memo,
                        ));
                    }
                }
                Ok::<_, Error>(futures::stream::select_all(streams).boxed())
            })
            .map(|r| r.unwrap_or_else(|e| futures::stream::once(async { Err(e) }).boxed()))
            .flatten()
            .boxed()
        }
        Scope::Kubernetes => {
            let streams = plan.connections.kubernetes.iter().map(|kube| {
                let ctx = context(None, Some(kube.clone()));
                let (cached, shared) = stores(cache_key(kube.label(), &ctx));
                let table = plan.table.clone();
                let fetched = read(cached, shared, move || fetch_counted(&table, ctx));
                let (schema, kube) = (schema.clone(), kube.clone());
                fetched.map(move |page| with_columns(&schema, &[&kube.name()], page?)).boxed()
            });
            futures::stream::select_all(streams).boxed()
        }
    }
}

/// The table's pages, each counted in the scan metrics as it arrives from
/// the API (pages replayed from the cache are not).
fn fetch_counted(table: &Arc<dyn ApiTable>, ctx: FetchContext) -> BoxStream<'static, Result<RecordBatch>> {
    let metrics = ctx.metrics.clone();
    table
        .fetch(ctx)
        .inspect(move |page| {
            if let Ok(page) = page {
                metrics.page(page.num_rows());
            }
        })
        .boxed()
}

/// `page` with the connection columns' `values` in front, in `schema`.
fn with_columns(schema: &SchemaRef, values: &[&str], page: RecordBatch) -> Result<RecordBatch> {
    let n = page.num_rows();
    let mut columns: Vec<ArrayRef> =
        values.iter().map(|v| Arc::new(StringViewArray::from(vec![*v; n])) as ArrayRef).collect();
    columns.extend(page.columns().iter().cloned());
    RecordBatch::try_new(schema.clone(), columns)
        .map_err(|source| Error::Convert { table: "connection columns".into(), source })
}

/// One AWS connection's pages, with `account_id` (and `region`, for
/// per-region tables) in front.
fn connection_pages(
    table: Arc<dyn ApiTable>,
    schema: SchemaRef,
    keys: KeyValues,
    ctx: FetchContext,
    cache: Cached,
    shared: Shared,
) -> BoxStream<'static, Result<RecordBatch>> {
    let conn = ctx.aws().clone();
    let per_region = ctx.spec.scope == Scope::Aws;
    let accounts = keys.get("account_id").map(<[String]>::to_vec);
    let stream = futures::stream::once(async move {
        let account = conn.account_id().await?;
        if accounts.is_some_and(|a| !a.contains(&account)) {
            return Ok(futures::stream::empty().boxed());
        }
        // ARN keys name their account and region: route each to its connection.
        let region = per_region.then(|| conn.region.clone());
        let mut ctx = ctx;
        let arn_keys: Vec<String> = ctx
            .keys
            .iter()
            .filter(|(_, values)| !values.is_empty() && values.iter().all(|v| v.starts_with("arn:")))
            .map(|(column, _)| column.clone())
            .collect();
        for column in &arn_keys {
            ctx.keys.retain(column, |arn| arn_matches(arn, &account, region.as_deref()));
            if ctx.keys.get(column).is_some_and(<[String]>::is_empty) {
                return Ok(futures::stream::empty().boxed());
            }
        }
        let fetched = read(cache, shared, move || fetch_counted(&table, ctx));
        let pages = fetched.map(move |page| {
            let values: Vec<&str> = std::iter::once(account.as_str()).chain(region.as_deref()).collect();
            with_columns(&schema, &values, page?)
        });
        Ok::<_, Error>(pages.boxed())
    });
    stream
        .map(|r| match r {
            Ok(pages) => pages,
            Err(e) => futures::stream::once(async { Err(e) }).boxed(),
        })
        .flatten()
        .boxed()
}

/// Whether `arn` (`arn:partition:service:region:account:...`) belongs to
/// `account` (in `region`, for per-region tables); an ARN without them
/// matches everywhere.
fn arn_matches(arn: &str, account: &str, region: Option<&str>) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        [_, _, _, r, a, _] => {
            (r.is_empty() || region.is_none_or(|region| *r == region)) && (a.is_empty() || *a == account)
        }
        _ => true,
    }
}

/// Filters, projects and limits the merged pages.
pub(crate) struct ScanStream {
    pages: BoxStream<'static, Result<RecordBatch>>,
    plan: ScanPlan,
    remaining: Option<usize>,
    scan: ScanMetrics,
    baseline: BaselineMetrics,
}

impl ScanStream {
    /// The scan's output: `pages` filtered, projected and limited as `plan` says.
    pub(crate) fn new(
        pages: BoxStream<'static, Result<RecordBatch>>,
        plan: ScanPlan,
        scan: ScanMetrics,
        baseline: BaselineMetrics,
    ) -> Self {
        let remaining = plan.limit;
        Self { pages, plan, remaining, scan, baseline }
    }

    fn finish_page(&mut self, page: RecordBatch) -> DfResult<Option<RecordBatch>> {
        let mut batch = page;
        for filter in &self.plan.filters {
            let mask = filter.evaluate(&batch)?.into_array(batch.num_rows())?;
            let mask = mask
                .as_any()
                .downcast_ref::<BooleanArray>()
                .ok_or_else(|| DataFusionError::Internal("filter did not return booleans".into()))?;
            batch = filter_record_batch(&batch, mask)?;
        }
        if let Some(indices) = &self.plan.projection {
            batch = batch.project(indices)?;
        }
        if let Some(remaining) = self.remaining.as_mut() {
            if batch.num_rows() > *remaining {
                batch = batch.slice(0, *remaining);
            }
            *remaining -= batch.num_rows();
        }
        Ok((batch.num_rows() > 0).then_some(batch))
    }
}

impl Stream for ScanStream {
    type Item = DfResult<RecordBatch>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            if self.remaining == Some(0) {
                return Poll::Ready(None);
            }
            let this = &mut *self;
            let polled = this.scan.scope(|| this.pages.poll_next_unpin(cx));
            let page = match polled {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e.into()))),
                Poll::Ready(Some(Ok(page))) => page,
            };
            match self.finish_page(page) {
                Ok(Some(batch)) => {
                    self.baseline.record_output(batch.num_rows());
                    return Poll::Ready(Some(Ok(batch)));
                }
                Ok(None) => continue,
                Err(e) => return Poll::Ready(Some(Err(e))),
            }
        }
    }
}
