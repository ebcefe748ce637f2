//! `ScansOnWorkers`: puts a network boundary above each splittable API scan.
//!
//! datafusion-distributed cuts a plan into stages only where partitions are
//! gathered or shuffled. An API scan is one partition (its connections are
//! merged inside it), so `SELECT ... FROM aws_ecr_image` alone would run
//! whole on the coordinator. This rule, run last and only in distributed
//! sessions, gathers each scan of two or more connections through a
//! `CoalescePartitionsExec` (a no-op in one process), which the planner
//! turns into a stage of its own, split by connection across the workers.
//!
//! A scan that reads a join's dynamic filter stays in its join's stage: the
//! filter is filled by the join, and only a join in the same stage can fill
//! it on a worker.
//!
//! Every scan of the plan is also stamped with one new query id, so that a
//! worker's scans of one query share their listings (ListClusters for both
//! the services and the tasks of a connection) across the stages it runs.

use std::sync::Arc;

use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::error::Result;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::coalesce_partitions::CoalescePartitionsExec;
use datafusion::physical_plan::{ChildrenPropertiesMode, ExecutionPlan, ReplaceChildrenOptions};
use skyglue_core::exec::ApiScanExec;

use crate::split::units;

/// See the module documentation.
#[derive(Debug, Default)]
pub struct ScansOnWorkers;

fn splittable(plan: &Arc<dyn ExecutionPlan>) -> bool {
    plan.downcast_ref::<ApiScanExec>().is_some_and(|s| s.join_filters().is_empty() && units(s).len() > 1)
}

fn gathered(plan: Arc<dyn ExecutionPlan>) -> Arc<dyn ExecutionPlan> {
    Arc::new(CoalescePartitionsExec::new(plan))
}

impl PhysicalOptimizerRule for ScansOnWorkers {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let plan = plan
            .transform_up(|node| {
                if node.downcast_ref::<CoalescePartitionsExec>().is_some()
                    || !node.children().into_iter().any(splittable)
                {
                    return Ok(Transformed::no(node));
                }
                let children = node
                    .children()
                    .into_iter()
                    .map(|c| if splittable(c) { gathered(c.clone()) } else { c.clone() })
                    .collect();
                let options = ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute);
                Ok(Transformed::yes(node.replace_children(children, options)?))
            })?
            .data;
        let plan = if splittable(&plan) { gathered(plan) } else { plan };
        let query = uuid::Uuid::new_v4().to_string();
        Ok(plan
            .transform_up(|node| match node.downcast_ref::<ApiScanExec>() {
                Some(scan) => {
                    Ok(Transformed::yes(Arc::new(scan.clone().in_query(&query)) as Arc<dyn ExecutionPlan>))
                }
                None => Ok(Transformed::no(node)),
            })?
            .data)
    }

    fn name(&self) -> &str {
        "skyglue_scans_on_workers"
    }

    fn schema_check(&self) -> bool {
        true
    }
}
