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

use crate::aws_error::{Classified, classify};
use crate::connection::{AwsConnection, Connections};
use crate::error::{Error, Result};
use crate::keys::KeyValues;
use crate::metrics::ScanMetrics;
use crate::rows::rows_to_batch;
use crate::spec::TableSpec;

/// A SQL table backed by a paginated API.
pub trait ApiTable: Debug + Send + Sync + 'static {
    /// The table's declaration.
    fn spec(&self) -> &TableSpec;

    /// Streams the rows for one connection (or the one global source), one
    /// batch per API page, in the spec's page schema.
    ///
    /// The stream may ignore `ctx.keys` it cannot use: the framework re-checks
    /// every pushed filter on each batch.
    fn fetch(&self, ctx: FetchContext) -> BoxStream<'static, Result<RecordBatch>>;

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
    /// The AWS connection; `None` for global tables.
    pub aws: Option<Arc<AwsConnection>>,
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
}

impl FetchContext {
    /// The AWS connection of an AWS-scoped table.
    pub fn aws(&self) -> &Arc<AwsConnection> {
        // The framework always sets it for Scope::Aws tables; a global table
        // calling this is a programming error caught by the first test.
        match &self.aws {
            Some(c) => c,
            None => panic!("table {} is not AWS-scoped", self.spec.name),
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

    /// Converts rows to a batch in the page schema.
    pub fn batch<T: Serialize>(&self, rows: &[T]) -> Result<RecordBatch> {
        rows_to_batch(self.spec.page_schema(), rows)
            .map_err(|source| Error::Convert { table: self.spec.name.to_string(), source })
    }

    /// Sends one AWS call, counting it; a "not found" code from the spec gives `Ok(None)`.
    pub async fn call<T, E, F>(&self, operation: &'static str, request: F) -> Result<Option<T>>
    where
        F: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let label = self.aws.as_ref().map(|c| c.label()).unwrap_or_default();
        let waited = self.connections.throttle.acquire(&label, operation).await;
        if !waited.is_zero() {
            self.metrics.throttle_wait(waited);
        }
        self.metrics.call();
        match request.await {
            Ok(v) => Ok(Some(v)),
            Err(e) => match classify(operation, &label, self.spec.not_found_codes, e) {
                Classified::NotFound => Ok(None),
                Classified::Failed(err) => Err(err),
            },
        }
    }
}

/// How many per-key or per-repository requests one connection runs at once.
pub const DEFAULT_CONCURRENCY: usize = 8;
