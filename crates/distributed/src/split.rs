//! Splitting one API scan across the tasks of its stage, by connection.
//!
//! The unit of work is one (account, region) connection: each task reads a
//! share of the scan's connections, and a connection is read by one task, so
//! its client-side rate limits hold as in one process. A table read once
//! per account (`Scope::AwsAccount`) is split by `[[aws]]` entry, so an
//! account's regions stay in one task and it is still read once. GitHub and
//! Kubernetes scans are not split (`maximum(1)`).
//!
//! Task `i` of a split scan's stage runs on worker `i` (modulo the workers),
//! not from a random first worker: two scans of the same connections (the
//! services and the tasks of the in-use view) are dealt alike, so each
//! connection's two stages meet on one worker, which then lists its clusters
//! once for both, as one process does. Other stages keep
//! datafusion-distributed's placement.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::error::Result;
use datafusion::physical_plan::ExecutionPlan;
use datafusion_distributed::{
    DesiredTaskCountEvent, DesiredTaskCountEventResponse, DistributedLeafExec, NetworkBoundaryExt,
    RouteTasksEvent, RouteTasksEventResponse, RouteTasksHandler, ScaleUpLeafNodeEvent,
    ScaleUpLeafNodeEventResponse, WorkerResolver,
};
use skyglue_core::exec::ApiScanExec;
use skyglue_core::{AwsConnection, Scope};

/// The scan's units of work: groups of connections one task reads together.
pub fn units(scan: &ApiScanExec) -> Vec<Vec<Arc<AwsConnection>>> {
    let plan = scan.scan_plan();
    match plan.spec.scope {
        Scope::Aws => plan.targets.iter().map(|c| vec![c.clone()]).collect(),
        Scope::AwsAccount => {
            let mut by_entry: BTreeMap<&str, Vec<Arc<AwsConnection>>> = BTreeMap::new();
            for c in &plan.targets {
                by_entry.entry(c.name.as_str()).or_default().push(c.clone());
            }
            by_entry.into_values().collect()
        }
        Scope::Global | Scope::Kubernetes => vec![],
    }
}

/// `units` dealt round-robin into `tasks` shares (some empty when there are
/// fewer units than tasks).
pub fn deal<T>(units: Vec<Vec<T>>, tasks: usize) -> Vec<Vec<T>> {
    let mut shares: Vec<Vec<T>> = (0..tasks.max(1)).map(|_| Vec::new()).collect();
    let n = shares.len();
    for (i, unit) in units.into_iter().enumerate() {
        shares[i % n].extend(unit);
    }
    shares
}

/// As many tasks as the scan has units (the planner caps it at the number
/// of workers); one for scans that are not split.
pub fn desired_task_count(ev: DesiredTaskCountEvent<'_>) -> Option<Result<DesiredTaskCountEventResponse>> {
    let scan = ev.plan.downcast_ref::<ApiScanExec>()?;
    let units = units(scan).len();
    Some(Ok(if units == 0 {
        DesiredTaskCountEventResponse::maximum(1)
    } else {
        DesiredTaskCountEventResponse::desired(units)
    }))
}

/// One variant of the scan per task, each reading its share of the connections.
pub fn scale_up(ev: ScaleUpLeafNodeEvent<'_>) -> Option<Result<ScaleUpLeafNodeEventResponse>> {
    let scan = ev.plan.downcast_ref::<ApiScanExec>()?;
    if ev.task_count <= 1 {
        return None;
    }
    let variants = deal(units(scan), ev.task_count)
        .into_iter()
        .map(|targets| Arc::new(scan.with_targets(targets)) as Arc<dyn ExecutionPlan>);
    Some(
        DistributedLeafExec::try_new(ev.plan.clone(), variants)
            .map(|leaf| ScaleUpLeafNodeEventResponse::new(Arc::new(leaf))),
    )
}

/// Routes task `i` of a stage that reads a split API scan to `workers[i %
/// n]`; every other stage is left to datafusion-distributed (a random first
/// worker, or next to its input).
pub struct ByTaskIndex<W>(pub W);

impl<W: WorkerResolver> RouteTasksHandler for ByTaskIndex<W> {
    fn handle(&self, ev: RouteTasksEvent<'_>) -> Option<Result<RouteTasksEventResponse>> {
        if !reads_split_scan(ev.plan) {
            return None;
        }
        by_task_index(&self.0, ev.task_count)
    }
}

/// Whether this stage (not the stages below its network boundaries) reads
/// an API scan split across its tasks.
fn reads_split_scan(stage: &Arc<dyn ExecutionPlan>) -> bool {
    let mut found = false;
    let _ = stage.apply(|node| {
        if node.as_network_boundary().is_some() {
            return Ok(TreeNodeRecursion::Jump);
        }
        if node
            .downcast_ref::<DistributedLeafExec>()
            .is_some_and(|leaf| leaf.original().downcast_ref::<ApiScanExec>().is_some())
        {
            found = true;
            return Ok(TreeNodeRecursion::Stop);
        }
        Ok(TreeNodeRecursion::Continue)
    });
    found
}

fn by_task_index(workers: &dyn WorkerResolver, tasks: usize) -> Option<Result<RouteTasksEventResponse>> {
    if tasks <= 1 {
        return None;
    }
    let urls = match workers.get_urls() {
        Ok(urls) if urls.is_empty() => return None,
        Ok(urls) => urls,
        Err(e) => return Some(Err(e)),
    };
    Some(Ok(RouteTasksEventResponse::new((0..tasks).map(|i| urls[i % urls.len()].clone()).collect())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_are_dealt_round_robin_and_none_is_lost_or_repeated() {
        let units: Vec<Vec<u32>> = (0..7).map(|i| vec![i]).collect();
        assert_eq!(deal(units, 3), vec![vec![0, 3, 6], vec![1, 4], vec![2, 5]]);
        let grouped = vec![vec![1, 2], vec![3], vec![4, 5]];
        assert_eq!(deal(grouped, 2), vec![vec![1, 2, 4, 5], vec![3]]);
        assert_eq!(deal(vec![vec![1]], 3), vec![vec![1], vec![], vec![]]);
    }

    #[test]
    fn task_i_goes_to_worker_i_and_a_single_task_is_left_to_the_planner() {
        let urls: Vec<url::Url> =
            ["http://a:1", "http://b:1"].iter().map(|u| url::Url::parse(u).expect("url")).collect();
        let workers = crate::coordinator::StaticWorkers::new(urls.clone());
        let routed = by_task_index(&workers, 3).and_then(Result::ok).map(|r| r.urls);
        assert_eq!(routed, Some(vec![urls[0].clone(), urls[1].clone(), urls[0].clone()]));
        assert!(by_task_index(&workers, 1).is_none());
    }
}
