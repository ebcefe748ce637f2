//! `ApiScanExec`: the leaf execution plan every API table shares.
//!
//! It fans out over the scan's connections concurrently, tags each page with
//! `account_id` and `region`, applies the pushed filters exactly (so DataFusion
//! can drop its own filter and push `LIMIT` down), projects, and stops paging as
//! soon as the limit is met: dropping the inner streams cancels their requests.

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::Statistics;
use datafusion::common::config::ConfigOptions;
use datafusion::common::stats::Precision;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::error::Result as DfResult;
use datafusion::execution::TaskContext;
use datafusion::physical_expr::EquivalenceProperties;
use datafusion::physical_expr::expressions::DynamicFilterPhysicalExpr;
use datafusion::physical_plan::StatisticsArgs;
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::filter_pushdown::{
    ChildPushdownResult, FilterPushdownPhase, FilterPushdownPropagation, PushedDown,
};
use datafusion::physical_plan::metrics::{BaselineMetrics, ExecutionPlanMetricsSet, MetricsSet};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PhysicalExpr, PlanProperties,
    ReplaceChildrenOptions, SendableRecordBatchStream,
};
use futures::stream::StreamExt;

use crate::connection::AwsConnection;
use crate::error::{Error, Result};
use crate::join_keys;
use crate::metrics::ScanMetrics;
use crate::query_memo::{self, QueryMemo};
use crate::scan_pages::{ScanStream, source_pages};
pub use crate::scan_plan::ScanPlan;
use crate::spec::{Scope, TableSpec};

/// The leaf plan of an API table scan.
#[derive(Debug, Clone)]
pub struct ApiScanExec {
    plan: ScanPlan,
    schema: SchemaRef,
    props: Arc<PlanProperties>,
    metrics: ExecutionPlanMetricsSet,
    /// Dynamic filters from joins above, read when the scan starts.
    join_filters: Vec<Arc<dyn PhysicalExpr>>,
    /// The distributed query this scan belongs to, and its memo in this
    /// process ([`query_memo::shared`]); `None` in one process, where the
    /// task context tells the query.
    query: Option<(Arc<str>, Arc<QueryMemo>)>,
}

impl ApiScanExec {
    /// A scan producing `schema` (the projected schema).
    pub fn new(plan: ScanPlan, schema: SchemaRef) -> Self {
        let props = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(schema.clone()),
            Partitioning::UnknownPartitioning(1),
            EmissionType::Incremental,
            Boundedness::Bounded,
        ));
        Self {
            plan,
            schema,
            props,
            metrics: ExecutionPlanMetricsSet::new(),
            join_filters: vec![],
            query: None,
        }
    }

    /// Row estimate for join planning: small when keys name the rows, huge
    /// when a required key is still missing (so the join reads the other side
    /// first and hands this scan its keys), else the table's typical size.
    fn estimated_rows(&self) -> usize {
        let keyed: Option<usize> = self
            .plan
            .keys
            .iter()
            // A required key only says where to list (a repository's commits,
            // say); an optional one names the rows themselves.
            .filter(|(col, _)| !matches!(col.as_str(), "account_id" | "region"))
            .filter(|(col, _)| {
                self.plan.spec.column(col).is_some_and(|c| c.key == crate::spec::Key::Optional)
            })
            .map(|(_, values)| values.len())
            .min();
        let connections = self.plan.targets.len().max(1);
        match keyed {
            Some(n) => n.saturating_mul(10).saturating_mul(connections),
            None if self.plan.missing_required.is_some() => usize::MAX / 1024,
            None => self.plan.table.typical_rows().saturating_mul(connections),
        }
    }

    /// The planned scan.
    pub fn scan_plan(&self) -> &ScanPlan {
        &self.plan
    }

    /// The dynamic filters of the joins above, whose keys the scan reads
    /// when it starts.
    pub fn join_filters(&self) -> &[Arc<dyn PhysicalExpr>] {
        &self.join_filters
    }

    /// This scan with `join_filters` (a scan rebuilt in another process).
    pub fn with_join_filters(mut self, join_filters: Vec<Arc<dyn PhysicalExpr>>) -> Self {
        self.join_filters = join_filters;
        self
    }

    /// This scan as part of the distributed query `id`: its listings are
    /// shared with the query's other scans in this process, whichever stage
    /// they run in.
    pub fn in_query(mut self, id: &str) -> Self {
        self.query = Some((Arc::from(id), query_memo::shared(id)));
        self
    }

    /// This scan, its pages shared with the query's other scans that make
    /// the same request ([`crate::shared_scans`]).
    pub fn shared_in_query(mut self) -> Self {
        self.plan.shared = true;
        self
    }

    /// The distributed query this scan belongs to, if any.
    pub fn query_id(&self) -> Option<&str> {
        self.query.as_ref().map(|(id, _)| id.as_ref())
    }

    /// This scan reading only `targets` (one task's share of the connections).
    pub fn with_targets(&self, targets: Vec<Arc<AwsConnection>>) -> Self {
        let mut node = self.clone();
        node.plan.targets = targets;
        node.metrics = ExecutionPlanMetricsSet::new();
        node
    }
}

impl DisplayAs for ApiScanExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "ApiScan: table={}", self.plan.spec.name)?;
        match self.plan.spec.scope {
            Scope::Aws | Scope::AwsAccount => write!(f, ", connections={}", self.plan.targets.len())?,
            Scope::Kubernetes => write!(f, ", contexts={}", self.plan.connections.kubernetes.len())?,
            Scope::Global => {}
        }
        if !self.plan.keys.is_empty() {
            write!(f, ", keys=[{}]", self.plan.keys)?;
        }
        if !self.plan.filters.is_empty() {
            let exprs: Vec<String> = self.plan.filters.iter().map(|e| e.to_string()).collect();
            write!(f, ", filters=[{}]", exprs.join(", "))?;
        }
        if let Some(limit) = self.plan.limit {
            write!(f, ", limit={limit}")?;
        }
        if !self.join_filters.is_empty() {
            write!(f, ", join_keys=[{}]", self.join_key_columns().join(", "))?;
        }
        Ok(())
    }
}

impl ExecutionPlan for ApiScanExec {
    fn name(&self) -> &str {
        "ApiScanExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.props
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> DfResult<TreeNodeRecursion>,
    ) -> DfResult<TreeNodeRecursion> {
        // Reporting the join filters is what makes the hash join fill them in.
        datafusion::physical_plan::apply_expression_roots(
            self.plan.filters.iter().chain(self.join_filters.iter()),
            f,
        )
    }

    fn handle_child_pushdown_result(
        &self,
        _phase: FilterPushdownPhase,
        child_pushdown_result: ChildPushdownResult,
        _config: &ConfigOptions,
    ) -> DfResult<FilterPushdownPropagation<Arc<dyn ExecutionPlan>>> {
        let filters: Vec<Arc<dyn PhysicalExpr>> =
            child_pushdown_result.parent_filters.iter().map(|f| f.filter.clone()).collect();
        // The join still checks every row, so each filter is reported as not
        // pushed down; keeping the dynamic ones only narrows what is fetched.
        let verdicts = vec![PushedDown::No; filters.len()];
        let mut kept: Vec<Arc<dyn PhysicalExpr>> = filters
            .into_iter()
            .filter(|f| f.downcast_ref::<DynamicFilterPhysicalExpr>().is_some())
            .filter(|f| !self.join_filters.iter().any(|k| Arc::ptr_eq(k, f)))
            .collect();
        if kept.is_empty() {
            return Ok(FilterPushdownPropagation { filters: verdicts, updated_node: None });
        }
        let mut node = self.clone();
        node.join_filters.append(&mut kept);
        node.metrics = ExecutionPlanMetricsSet::new();
        Ok(FilterPushdownPropagation { filters: verdicts, updated_node: Some(Arc::new(node)) })
    }

    fn statistics_from_inputs(
        &self,
        _input_stats: &[Arc<Statistics>],
        _args: &StatisticsArgs,
    ) -> DfResult<Arc<Statistics>> {
        let stats =
            Statistics::new_unknown(&self.schema).with_num_rows(Precision::Inexact(self.estimated_rows()));
        Ok(Arc::new(stats))
    }

    fn replace_children(
        self: Arc<Self>,
        _children: Vec<Arc<dyn ExecutionPlan>>,
        _options: ReplaceChildrenOptions,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }

    fn with_new_children(
        self: Arc<Self>,
        _children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }

    fn execute(&self, partition: usize, task: Arc<TaskContext>) -> DfResult<SendableRecordBatchStream> {
        let scan = ScanMetrics::new(&self.metrics, self.plan.connections.counters.clone());
        let memo = match &self.query {
            Some((_, memo)) => memo.clone(),
            None => query_memo::for_task(&task),
        };
        let baseline = BaselineMetrics::new(&self.metrics, partition);
        let plan = self.plan.clone();
        // Join keys exist only once the join's build side is done, which is
        // before the join first polls this stream: so read them lazily.
        let pages = {
            let (plan, scan) = (plan.clone(), scan.clone());
            let join_filters = self.join_filters.clone();
            let schema = self.schema.clone();
            futures::stream::once(async move {
                match with_join_keys(plan, &join_filters, &schema) {
                    Ok(Some(plan)) => source_pages(&plan, &scan, memo),
                    Ok(None) => futures::stream::empty().boxed(),
                    Err(e) => futures::stream::once(async { Err(e) }).boxed(),
                }
            })
            .flatten()
            .boxed()
        };
        let stream = ScanStream::new(pages, plan, scan, baseline);
        Ok(Box::pin(RecordBatchStreamAdapter::new(self.schema.clone(), stream)))
    }
}

impl ApiScanExec {
    /// The key columns the join filters could constrain.
    fn join_key_columns(&self) -> Vec<String> {
        let mut cols: Vec<String> = self
            .join_filters
            .iter()
            .flat_map(|f| {
                let mut names = vec![];
                let _ = f.apply(|e| {
                    if let Some(c) = e.downcast_ref::<datafusion::physical_expr::expressions::Column>() {
                        names.push(c.name().to_string());
                    }
                    Ok(TreeNodeRecursion::Continue)
                });
                names
            })
            .collect();
        cols.sort();
        cols.dedup();
        cols
    }
}

/// Adds the keys the join filters carry to the plan; `None` when the join's
/// build side was empty, so nothing can match and nothing is fetched.
fn with_join_keys(
    mut plan: ScanPlan,
    join_filters: &[Arc<dyn PhysicalExpr>],
    schema: &SchemaRef,
) -> Result<Option<ScanPlan>> {
    for filter in join_filters {
        if let Some((columns, rows)) = join_keys::key_tuples(filter, schema)
            && columns.iter().all(|c| is_key(&plan.spec, c))
        {
            plan.keys.set_tuples(columns, rows).map_err(|e| Error::Other(Box::new(e)))?;
        }
        match join_keys::constraint(filter, schema) {
            join_keys::Constraint::Nothing => return Ok(None),
            join_keys::Constraint::Keys(keys) => {
                for (column, values) in keys {
                    if is_key(&plan.spec, &column) {
                        plan.keys.insert(&column, values.into_iter().collect());
                    }
                }
            }
        }
    }
    if let Some(regions) =
        plan.keys.get("region").filter(|_| plan.spec.scope == Scope::Aws).map(<[String]>::to_vec)
    {
        plan.targets.retain(|c| regions.contains(&c.region));
    }
    if let Some(column) = &plan.missing_required
        && !plan.keys.contains(column)
    {
        return Err(Error::MissingKey { table: plan.spec.name.to_string(), column: column.clone() });
    }
    Ok(Some(plan))
}

/// Whether `column` can be handed to the table's fetch as a key.
pub fn is_key(spec: &TableSpec, column: &str) -> bool {
    spec.scope.is_connection_column(column)
        || spec.column(column).is_some_and(|c| c.key != crate::spec::Key::No)
}
