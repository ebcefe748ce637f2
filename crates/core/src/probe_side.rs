//! `KeyedProbeSide`: a physical optimizer rule that puts an API scan on the
//! probe side of a hash join whose keys it can take as API parameters.
//!
//! Join-key pushdown (see `join_keys`) only reaches the probe (right) side of
//! a hash join. DataFusion's own `JoinSelection` orders sides by statistics,
//! but an `IN (SELECT ...)` whose subquery aggregates or unnests has none, so
//! `github_commit ... WHERE short_sha IN (SELECT ...)` would build from the
//! API table and list everything. This rule swaps such joins: when the build
//! side is an API scan joined on one of its key columns and the probe side is
//! not, the scan becomes the probe side and receives the keys. It only swaps
//! inner and semi joins, where the swap cannot change the result, and runs
//! right after `JoinSelection`, before dynamic filters are created.

use std::sync::Arc;

use datafusion::common::JoinType;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::error::Result;
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::joins::{HashJoinExec, PartitionMode};

use crate::exec::{ApiScanExec, is_key};

/// See the module docs.
#[derive(Debug, Default)]
pub struct KeyedProbeSide;

/// The API scan at the bottom of a chain of single-child nodes, if any.
fn api_scan(plan: &Arc<dyn ExecutionPlan>) -> Option<&ApiScanExec> {
    if let Some(scan) = plan.downcast_ref::<ApiScanExec>() {
        return Some(scan);
    }
    match plan.children().as_slice() {
        [child] => api_scan(child),
        _ => None,
    }
}

/// Whether `side`, joined on `columns`, is an API scan that takes one of them as a key.
fn keyed_by(side: &Arc<dyn ExecutionPlan>, columns: &[String]) -> bool {
    api_scan(side).is_some_and(|scan| columns.iter().any(|c| is_key(&scan.scan_plan().spec, c)))
}

impl PhysicalOptimizerRule for KeyedProbeSide {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            let Some(join) = node.downcast_ref::<HashJoinExec>() else {
                return Ok(Transformed::no(node));
            };
            if !matches!(join.join_type(), JoinType::Inner | JoinType::LeftSemi)
                || *join.partition_mode() != PartitionMode::CollectLeft
            {
                return Ok(Transformed::no(node));
            }
            let names = |right: bool| -> Vec<String> {
                join.on()
                    .iter()
                    .filter_map(|(l, r)| {
                        let e = if right { r } else { l };
                        e.downcast_ref::<Column>().map(|c| c.name().to_string())
                    })
                    .collect()
            };
            if keyed_by(join.left(), &names(false)) && !keyed_by(join.right(), &names(true)) {
                return Ok(Transformed::yes(join.swap_inputs(PartitionMode::CollectLeft)?));
            }
            Ok(Transformed::no(node))
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "skyglue_keyed_probe_side"
    }

    fn schema_check(&self) -> bool {
        true
    }
}
