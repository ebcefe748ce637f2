//! `ScanCodec`: an API scan, encoded on the coordinator and rebuilt on a worker.
//!
//! What travels is what the scan was planned with (table name, projection,
//! pushed filters and keys, limit, the join-key dynamic filters) and the
//! names of the connections it reads, `[[aws]]` entry name and region. The
//! worker looks each name up among its own connections, built from its own
//! config and credential chain: an SDK config or a credential never leaves
//! the process that made it. A worker that lacks a connection fails the
//! query with an error naming it, rather than reading another account.

use std::collections::HashSet;
use std::sync::Arc;

use datafusion::arrow::datatypes::Schema;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::physical_plan::{ExecutionPlan, PhysicalExpr};
use datafusion_proto::physical_plan::{
    PhysicalExtensionCodec, PhysicalPlanDecodeContext, PhysicalProtoConverterExtension,
};
use datafusion_proto::protobuf::PhysicalExprNode;
use prost::Message;
use serde::{Deserialize, Serialize};
use skyglue_core::exec::{ApiScanExec, ScanPlan};
use skyglue_core::{AwsConnection, Engine, KeyValues};

/// Encodes and decodes [`ApiScanExec`] against an engine's tables and
/// connections (the coordinator's when encoding, the worker's when decoding).
#[derive(Debug, Clone)]
pub struct ScanCodec {
    engine: Engine,
}

impl ScanCodec {
    /// A codec over `engine`'s tables and connections.
    pub fn new(engine: Engine) -> Self {
        Self { engine }
    }
}

/// An [`ApiScanExec`] as it travels.
#[derive(Debug, Serialize, Deserialize)]
struct ScanMessage {
    table: String,
    /// `(entry name, region)` of each connection the scan reads.
    targets: Vec<(String, String)>,
    keys: Vec<(String, Vec<String>)>,
    key_tuples: Option<(Vec<String>, Vec<Vec<String>>)>,
    /// Protobuf `PhysicalExprNode`s over the table's full schema.
    filters: Vec<Vec<u8>>,
    /// Protobuf `PhysicalExprNode`s over the scan's output schema.
    join_filters: Vec<Vec<u8>>,
    projection: Option<Vec<usize>>,
    columns: Vec<String>,
    limit: Option<usize>,
    missing_required: Option<String>,
    /// The distributed query the scan belongs to (its listings are shared
    /// with the query's other scans in the worker).
    #[serde(default)]
    query: Option<String>,
}

fn codec_error(what: impl std::fmt::Display) -> DataFusionError {
    DataFusionError::Internal(format!("skyglue scan codec: {what}"))
}

impl PhysicalExtensionCodec for ScanCodec {
    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<()> {
        let Some(scan) = node.downcast_ref::<ApiScanExec>() else {
            return Err(codec_error(format!("cannot encode {}", node.name())));
        };
        let plan = scan.scan_plan();
        let expr = |e: &Arc<dyn PhysicalExpr>| -> Result<Vec<u8>> {
            Ok(converter.physical_expr_to_proto(e, self)?.encode_to_vec())
        };
        let mut columns: Vec<String> = plan.columns.iter().cloned().collect();
        columns.sort();
        let message = ScanMessage {
            table: plan.spec.name.to_string(),
            targets: plan.targets.iter().map(|c| (c.name.clone(), c.region.clone())).collect(),
            keys: plan.keys.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            key_tuples: plan.keys.all_tuples().cloned(),
            filters: plan.filters.iter().map(expr).collect::<Result<_>>()?,
            join_filters: scan.join_filters().iter().map(expr).collect::<Result<_>>()?,
            projection: plan.projection.clone(),
            columns,
            limit: plan.limit,
            missing_required: plan.missing_required.clone(),
            query: scan.query_id().map(str::to_string),
        };
        serde_json::to_writer(buf, &message).map_err(codec_error)
    }

    fn try_decode(
        &self,
        buf: &[u8],
        _inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let message: ScanMessage = serde_json::from_slice(buf).map_err(codec_error)?;
        let table = self
            .engine
            .registry()
            .tables()
            .iter()
            .find(|t| t.spec().name == message.table)
            .cloned()
            .ok_or_else(|| codec_error(format!("this process has no table {}", message.table)))?;
        let spec = Arc::new(table.spec().clone());
        let full = spec.schema();
        let projected = match &message.projection {
            Some(p) => Arc::new(full.project(p)?),
            None => full.clone(),
        };
        let decode_ctx = PhysicalPlanDecodeContext::new(ctx, self);
        let expr = |bytes: &Vec<u8>, schema: &Schema| -> Result<Arc<dyn PhysicalExpr>> {
            let node = PhysicalExprNode::decode(bytes.as_slice()).map_err(codec_error)?;
            converter.proto_to_physical_expr(&node, schema, &decode_ctx)
        };
        let filters = message.filters.iter().map(|f| expr(f, &full)).collect::<Result<Vec<_>>>()?;
        let join_filters =
            message.join_filters.iter().map(|f| expr(f, &projected)).collect::<Result<Vec<_>>>()?;
        let mut keys = KeyValues::new();
        for (column, values) in message.keys {
            keys.insert(&column, values);
        }
        if let Some((columns, rows)) = message.key_tuples {
            keys.set_tuples(columns, rows).map_err(codec_error)?;
        }
        let plan = ScanPlan {
            table,
            spec,
            connections: self.engine.connections().clone(),
            targets: self.targets(&message.targets)?,
            keys,
            filters,
            projection: message.projection,
            columns: Arc::new(message.columns.into_iter().collect::<HashSet<_>>()),
            limit: message.limit,
            missing_required: message.missing_required,
            cache: None,
            // (a worker's scans of one table each read: the flag stays with the coordinator)
            shared: false,
        };
        let scan = ApiScanExec::new(plan, projected).with_join_filters(join_filters);
        Ok(Arc::new(match &message.query {
            Some(id) => scan.in_query(id),
            None => scan,
        }))
    }
}

impl ScanCodec {
    /// This process's connections with these names, in order.
    fn targets(&self, names: &[(String, String)]) -> Result<Vec<Arc<AwsConnection>>> {
        let aws = &self.engine.connections().aws;
        names
            .iter()
            .map(|(name, region)| {
                aws.iter().find(|c| c.name == *name && c.region == *region).cloned().ok_or_else(|| {
                    DataFusionError::Plan(format!(
                        "this worker has no AWS connection {name}/{region}: give every worker the coordinator's [[aws]] entries"
                    ))
                })
            })
            .collect()
    }
}
