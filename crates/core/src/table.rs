//! The contract between a table and the framework.
//!
//! A table is a [`TableSpec`] plus one function, [`ApiTable::fetch`], that walks
//! the API's pages for one connection and yields one record batch per page.
//! Everything else (fan-out over connections, key pushdown, exact filtering,
//! `LIMIT`, metrics, error mapping) is the framework's job.

use std::collections::HashSet;
use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use datafusion::arrow::array::RecordBatch;
use futures::stream::BoxStream;
use serde::Serialize;

use crate::call::aws_call;
use crate::connection::{AwsConnection, Connections, KubeContext};
use crate::error::{Error, Result};
use crate::keys::KeyValues;
use crate::metrics::ScanMetrics;
use crate::query_memo::QueryMemo;
use crate::rows::rows_to_batch;
use crate::spec::TableSpec;

/// A SQL table backed by a paginated API.
///
/// A table is its [`TableSpec`] plus a `fetch` that yields one batch per API
/// page. This one serves the numbers 1 to 10 in pages of 3, with `parity` as a
/// key its "API" filters on; the framework hands it the values a query names:
///
/// ```
/// use std::sync::LazyLock;
///
/// use datafusion::arrow::array::RecordBatch;
/// use datafusion::arrow::datatypes::DataType;
/// use futures::stream::{self, BoxStream, StreamExt};
/// use skyglue_core::spec::text;
/// use skyglue_core::{
///     ApiTable, ColumnSpec, Connections, Engine, FetchContext, Registry, Result, Scope, TableSpec,
/// };
///
/// static SPEC: LazyLock<TableSpec> = LazyLock::new(|| TableSpec {
///     name: "numbers",
///     description: "The numbers 1 to 10.",
///     scope: Scope::Global,
///     columns: vec![
///         ColumnSpec::new("n", DataType::Int64, "The number."),
///         ColumnSpec::new("parity", text(), "odd or even.").optional_key(),
///     ],
///     // (operation, error code) pairs that mean "no rows", e.g.
///     // ("ecr:DescribeImages", "RepositoryNotFoundException"); this table calls no API.
///     not_found_codes: &[],
///     rate_limits: vec![],
///     operations: &[],
/// });
///
/// #[derive(serde::Serialize)]
/// struct Row {
///     n: i64,
///     parity: &'static str,
/// }
///
/// #[derive(Debug)]
/// struct Numbers;
///
/// impl ApiTable for Numbers {
///     fn spec(&self) -> &TableSpec {
///         &SPEC
///     }
///
///     fn fetch(&self, ctx: FetchContext) -> BoxStream<'static, Result<RecordBatch>> {
///         // A real table sends the key values as API parameters.
///         let wanted = ctx.keys.get("parity").map(<[String]>::to_vec);
///         let rows: Vec<Row> = (1..=10)
///             .map(|n| Row { n, parity: if n % 2 == 0 { "even" } else { "odd" } })
///             .filter(|r| wanted.as_ref().is_none_or(|w| w.iter().any(|p| p == r.parity)))
///             .collect();
///         let pages: Vec<Result<RecordBatch>> = rows
///             .chunks(3)
///             .map(|page| {
///                 ctx.metrics.call();
///                 ctx.batch(page)
///             })
///             .collect();
///         stream::iter(pages).boxed()
///     }
/// }
///
/// # #[tokio::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let engine = Engine::new(Connections::default(), Registry::new().table(Numbers));
/// let ctx = engine.session().await?;
/// let batches = ctx.sql("SELECT n FROM numbers WHERE parity = 'even'").await?.collect().await?;
/// assert_eq!(batches.iter().map(RecordBatch::num_rows).sum::<usize>(), 5);
/// # Ok(())
/// # }
/// ```
pub trait ApiTable: Debug + Send + Sync + 'static {
    /// The table's declaration.
    fn spec(&self) -> &TableSpec;

    /// Streams the rows for one connection (or the one global source), one
    /// batch per API page, in the spec's page schema.
    ///
    /// The stream may ignore `ctx.keys` it cannot use: the framework re-checks
    /// every pushed filter on each batch.
    fn fetch(&self, ctx: FetchContext) -> BoxStream<'static, Result<RecordBatch>>;

    /// Whether every fetch fills every column, whatever `ctx.columns` asks
    /// for (one call answers whole rows): a cached scan of this table then
    /// answers a request for any of its columns. `false` for a table that
    /// skips per-row detail calls when their columns are not read.
    fn fetches_whole_rows(&self) -> bool {
        false
    }

    /// About how many rows one connection's full listing has: a planning hint
    /// that steers joins so the cheaper side is read first and its keys are
    /// pushed into this table (see `join_keys`).
    fn typical_rows(&self) -> usize {
        10_000
    }
}

/// What one fetch needs: the connection, the pushed-down keys, the columns the
/// query reads, and where to record metrics.
#[derive(Debug, Clone)]
pub struct FetchContext {
    /// The table's spec.
    pub spec: Arc<TableSpec>,
    /// The AWS connection; `None` for global and Kubernetes tables.
    pub aws: Option<Arc<AwsConnection>>,
    /// The Kubernetes context of a [`crate::Scope::Kubernetes`] table.
    pub kube: Option<Arc<KubeContext>>,
    /// Every connection (GitHub settings, for instance).
    pub connections: Arc<Connections>,
    /// Key-column values from the query.
    pub keys: KeyValues,
    /// Columns the query reads (projection and filters): a table may skip
    /// per-row detail calls when none of their columns are needed.
    pub columns: Arc<HashSet<String>>,
    /// A hint: the query needs at most this many rows.
    pub limit: Option<usize>,
    /// This scan's metrics.
    pub metrics: ScanMetrics,
    /// Listings shared with the other scans of the same query.
    pub query: Arc<QueryMemo>,
}

impl FetchContext {
    /// The AWS connection of an AWS-scoped table.
    pub fn aws(&self) -> &Arc<AwsConnection> {
        // The framework always sets it for AWS-scoped tables; another table
        // calling this is a programming error caught by the first test.
        match &self.aws {
            Some(c) => c,
            None => panic!("table {} is not AWS-scoped", self.spec.name),
        }
    }

    /// The Kubernetes context of a Kubernetes-scoped table.
    pub fn kube(&self) -> &Arc<KubeContext> {
        match &self.kube {
            Some(c) => c,
            None => panic!("table {} is not Kubernetes-scoped", self.spec.name),
        }
    }

    /// Whether the query reads `column`.
    pub fn needs(&self, column: &str) -> bool {
        self.columns.contains(column)
    }

    /// Whether the query reads any of `columns`.
    pub fn needs_any(&self, columns: &[&str]) -> bool {
        columns.iter().any(|c| self.needs(c))
    }

    /// A listing this connection answers the same to every scan of the
    /// query (ListClusters, say): made once per connection and query, by
    /// whichever scan asks first (see [`crate::query_memo`]).
    pub async fn listed_once<T, F, Fut>(&self, operation: &str, fetch: F) -> Result<Arc<T>>
    where
        T: Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let connection = self.aws.as_ref().map(|c| c.label()).unwrap_or_default();
        self.query.get_or_fetch(&format!("{connection} {operation}"), fetch).await
    }

    /// Converts rows to a batch in the page schema.
    pub fn batch<T: Serialize>(&self, rows: &[T]) -> Result<RecordBatch> {
        rows_to_batch(self.spec.page_schema(), rows)
            .map_err(|source| Error::Convert { table: self.spec.name.to_string(), source })
    }

    /// Sends one AWS call of this scan through [`aws_call`]: within the
    /// connection's client-side rate limit, counted in this scan's metrics,
    /// throttles and transient failures retried. `request` builds and sends
    /// it; it is rebuilt for each retry. An error code the spec lists as "not
    /// found" for `operation` gives `Ok(None)`.
    pub async fn call<T, E, F, Fut>(&self, operation: &'static str, request: F) -> Result<Option<T>>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let label = self.aws.as_ref().map(|c| c.label()).unwrap_or_default();
        if !self.spec.operations.contains(&operation) {
            // The spec's list is what rate limits and permission probes are
            // checked against: a call it does not name is refused.
            return Err(Error::Api {
                operation: operation.to_string(),
                connection: label,
                detail: format!("table {} does not declare this operation in its spec", self.spec.name),
            });
        }
        let not_found = self.spec.not_found_codes_of(operation);
        aws_call(&self.connections, &label, operation, &not_found, Some(&self.metrics), request).await
    }
}

/// How many per-key or per-repository requests one connection runs at once.
pub const DEFAULT_CONCURRENCY: usize = 8;
