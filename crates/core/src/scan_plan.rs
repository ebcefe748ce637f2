//! [`ScanPlan`]: everything a scan of an API table was planned with, read by
//! the plan ([`crate::exec::ApiScanExec`]) and by the streams that fetch its
//! pages (`scan_pages`).

use std::collections::HashSet;
use std::sync::Arc;

use datafusion::physical_plan::PhysicalExpr;

use crate::cache::ScanCache;
use crate::connection::{AwsConnection, Connections};
use crate::keys::KeyValues;
use crate::spec::TableSpec;
use crate::table::ApiTable;

/// Everything a scan was planned with.
#[derive(Debug, Clone)]
pub struct ScanPlan {
    /// The table.
    pub table: Arc<dyn ApiTable>,
    /// Its spec.
    pub spec: Arc<TableSpec>,
    /// All connections.
    pub connections: Arc<Connections>,
    /// The AWS connections left after pruning on `region`.
    pub targets: Vec<Arc<AwsConnection>>,
    /// Key values pushed into API parameters.
    pub keys: KeyValues,
    /// Pushed filters, evaluated exactly on each full-width page.
    pub filters: Vec<Arc<dyn PhysicalExpr>>,
    /// Output column indices into the full schema.
    pub projection: Option<Vec<usize>>,
    /// Columns read by the projection and the filters.
    pub columns: Arc<HashSet<String>>,
    /// Row limit.
    pub limit: Option<usize>,
    /// A required key the query's own filters do not give; a join must.
    pub missing_required: Option<String>,
    /// Where complete scans are kept for replay, if caching is on.
    pub cache: Option<Arc<ScanCache>>,
    /// Whether another scan of this query reads the same table, so that one
    /// request's pages are read once and replayed to both
    /// ([`crate::shared_scans`]).
    pub shared: bool,
}
