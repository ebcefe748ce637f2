//! Scans of one table that a query makes more than once read it once.
//!
//! SQL that names a CTE twice reads its tables twice: DataFusion plans each
//! use anew. The cleanup policy does, so that GitHub is asked about each
//! (repository, tag) once instead of once per image (DataFusion hands a
//! join's keys to the scan one value per build row). [`SharedScans`] marks
//! the scans of every table the final plan reads more than once; at run time
//! such a scan's pages are read once per request (table, connection, keys,
//! columns) and query, and replayed to the other scans that make the same
//! request ([`crate::query_memo::QueryMemo::pages`]). Scans of a table read
//! once stream as before: only shared pages are held until the query ends.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::config::ConfigOptions;
use datafusion::error::Result;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::ExecutionPlan;

use crate::exec::ApiScanExec;

/// The rule; see the module doc. It runs last, on the final plan.
#[derive(Debug, Default)]
pub struct SharedScans;

impl PhysicalOptimizerRule for SharedScans {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let mut scans: HashMap<String, usize> = HashMap::new();
        plan.apply(|node| {
            if let Some(scan) = node.downcast_ref::<ApiScanExec>() {
                *scans.entry(scan.scan_plan().spec.name.to_string()).or_default() += 1;
            }
            Ok(TreeNodeRecursion::Continue)
        })?;
        if scans.values().all(|&n| n < 2) {
            return Ok(plan);
        }
        plan.transform_up(|node| {
            let Some(scan) = node.downcast_ref::<ApiScanExec>() else {
                return Ok(Transformed::no(node));
            };
            if scans.get(scan.scan_plan().spec.name).is_some_and(|&n| n > 1) {
                Ok(Transformed::yes(Arc::new(scan.clone().shared_in_query()) as Arc<dyn ExecutionPlan>))
            } else {
                Ok(Transformed::no(node))
            }
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "skyglue_shared_scans"
    }

    fn schema_check(&self) -> bool {
        true
    }
}
