//! `ApiTableProvider`: the DataFusion `TableProvider` every API table shares.
//!
//! Planning decides three things: which filters become API parameters (key
//! columns), which AWS connections a query can skip (`region` filters; the
//! `account_id` ones are checked when the account is known), and whether a
//! required key is missing, which fails the plan with a message naming the
//! table and column. All filters the framework can evaluate are taken as
//! `Exact`, so DataFusion pushes `LIMIT` into the scan.

use std::collections::HashSet;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::DFSchema;
use datafusion::common::tree_node::TreeNode;
use datafusion::datasource::TableType;
use datafusion::error::Result as DfResult;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::empty::EmptyExec;
use datafusion::scalar::ScalarValue;

use crate::cache::ScanCache;
use crate::connection::Connections;
use crate::exec::{ApiScanExec, ScanPlan};
use crate::keys::{KeyValues, column_values, recheck_filter};
use crate::spec::{Key, Scope, TableSpec};
use crate::table::ApiTable;

/// A DataFusion table over an [`ApiTable`].
#[derive(Debug)]
pub struct ApiTableProvider {
    table: Arc<dyn ApiTable>,
    spec: Arc<TableSpec>,
    schema: SchemaRef,
    connections: Arc<Connections>,
    cache: Option<Arc<ScanCache>>,
}

impl ApiTableProvider {
    /// Wraps `table`, reading from `connections`.
    pub fn new(table: Arc<dyn ApiTable>, connections: Arc<Connections>) -> Self {
        let spec = Arc::new(table.spec().clone());
        let schema = spec.schema();
        Self { table, spec, schema, connections, cache: None }
    }

    /// Replays complete scans from `cache` within its TTL.
    pub fn with_cache(mut self, cache: Option<Arc<ScanCache>>) -> Self {
        self.cache = cache;
        self
    }

    /// The table's spec.
    pub fn spec(&self) -> &TableSpec {
        &self.spec
    }

    fn is_pushable_key(&self, column: &str) -> bool {
        crate::exec::is_key(&self.spec, column)
    }
}

/// Whether the framework can evaluate `expr` itself on each page.
fn evaluable(expr: &Expr) -> bool {
    let mut ok = !expr.is_volatile();
    let _ = expr.apply(|e| {
        if matches!(
            e,
            Expr::ScalarSubquery(_)
                | Expr::Exists(_)
                | Expr::InSubquery(_)
                | Expr::OuterReferenceColumn(..)
                | Expr::Placeholder(_)
                | Expr::AggregateFunction(_)
                | Expr::WindowFunction(_)
        ) {
            ok = false;
        }
        Ok(datafusion::common::tree_node::TreeNodeRecursion::Continue)
    });
    ok
}

#[async_trait]
impl TableProvider for ApiTableProvider {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(&self, filters: &[&Expr]) -> DfResult<Vec<TableProviderFilterPushDown>> {
        Ok(filters
            .iter()
            .map(|f| {
                if evaluable(f) {
                    TableProviderFilterPushDown::Exact
                } else {
                    TableProviderFilterPushDown::Unsupported
                }
            })
            .collect())
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        // A filter the optimizer folded to false (a view's branch that a
        // query rules out, `WHERE false`) selects nothing: no API call at all.
        if filters.iter().any(never_true) {
            let projected = match projection {
                Some(p) => Arc::new(self.schema.project(p)?),
                None => self.schema.clone(),
            };
            return Ok(Arc::new(EmptyExec::new(projected)));
        }
        let mut keys = KeyValues::new();
        for filter in filters {
            if let Some((column, values)) = column_values(filter)
                && self.is_pushable_key(&column)
            {
                keys.insert(&column, values);
            }
            // `key LIKE 'builds/%'` on a column that declares it: the prefix key.
            if let Some((column, prefix)) = crate::keys::like_prefix(filter)
                && let Some(key) = self.spec.column(&column).and_then(|c| c.like_key)
                && self.is_pushable_key(key)
                && !keys.contains(key)
            {
                keys.insert(key, vec![prefix]);
            }
        }
        // A required key the filters lack may still come from a join (see
        // `join_keys`); the scan fails before any API call if it does not.
        let missing_required = self
            .spec
            .columns
            .iter()
            .find(|c| c.key == Key::Required && !keys.contains(c.name))
            .map(|c| c.name.to_string());

        let targets = match self.spec.scope {
            Scope::Global | Scope::Kubernetes => vec![],
            Scope::Aws | Scope::AwsAccount => self
                .connections
                .aws
                .iter()
                .filter(|c| {
                    self.spec.scope != Scope::Aws || keys.get("region").is_none_or(|r| r.contains(&c.region))
                })
                .cloned()
                .collect(),
        };

        let df_schema = DFSchema::try_from(self.schema.as_ref().clone())?;
        let physical = filters
            .iter()
            .map(|f| state.create_physical_expr(recheck_filter(f, &self.spec), &df_schema))
            .collect::<DfResult<Vec<_>>>()?;

        let mut columns: HashSet<String> = HashSet::new();
        match projection {
            Some(p) => columns.extend(p.iter().map(|&i| self.schema.field(i).name().clone())),
            None => columns.extend(self.schema.fields().iter().map(|f| f.name().clone())),
        }
        for filter in filters {
            columns.extend(filter.column_refs().into_iter().map(|c| c.name.clone()));
        }

        let projected = match projection {
            Some(p) => Arc::new(self.schema.project(p)?),
            None => self.schema.clone(),
        };
        let plan = ScanPlan {
            table: self.table.clone(),
            spec: self.spec.clone(),
            connections: self.connections.clone(),
            targets,
            keys,
            filters: physical,
            projection: projection.cloned(),
            columns: Arc::new(columns),
            limit,
            missing_required,
            cache: self.cache.clone(),
            shared: false,
        };
        Ok(Arc::new(ApiScanExec::new(plan, projected)))
    }
}

/// Whether `filter` is a constant that no row can pass (false or NULL).
fn never_true(filter: &Expr) -> bool {
    matches!(
        filter,
        Expr::Literal(ScalarValue::Boolean(Some(false)) | ScalarValue::Boolean(None) | ScalarValue::Null, _)
    )
}
