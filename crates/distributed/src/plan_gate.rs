//! Only skyglue's plans: a worker reads the plan a coordinator sends, checks
//! every node of it against an allow-list, and only then lets
//! datafusion-distributed decode it.
//!
//! The check works on the protobuf (`PhysicalPlanNode`), before DataFusion
//! builds anything from it: a node that would read or write a local file (a
//! CSV, JSON, Avro, Arrow or Parquet scan, a sink), explain a plan or call
//! an async function is refused with an error naming it, and bytes that are
//! not a plan are refused as such, so no input reaches a decoder that could
//! panic on it. What passes is DataFusion's relational operators, in-memory
//! rows (values, empty, `generate_series`), and extension nodes: the
//! composed codec of a worker decodes only datafusion-distributed's network
//! nodes (position 0) and skyglue's API scans (position 1, [`ScanCodec`]).
//!
//! [`PlanGate`] applies the check to the first message of each
//! `CoordinatorChannel` call (the `SetPlanRequest` that carries the plan):
//! it holds that message back until it is whole and checked, so a refused
//! plan ends the call with `PermissionDenied` and is never decoded. The
//! message may not exceed `max_plan_bytes` (tonic's own decoding limit says
//! the same for every other message).
//!
//! [`ScanCodec`]: crate::ScanCodec

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use datafusion_proto::protobuf::PhysicalPlanNode;
use datafusion_proto::protobuf::physical_plan_node::PhysicalPlanType;
use http_body::{Body, Frame};
use prost::Message;
use tonic::Status;
use tonic::server::NamedService;
use tower::Service;

/// Why a plan was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanRefused {
    /// A node outside the allow-list, by its protobuf name.
    #[error(
        "the worker refused a plan with a {0} node: a worker runs only skyglue's scans and DataFusion's relational operators"
    )]
    Node(&'static str),
    /// An extension node no worker codec decodes.
    #[error(
        "the worker refused a plan with an extension node of codec {0}: a worker decodes only network nodes and skyglue's scans"
    )]
    Codec(u32),
    /// Bytes that are not a plan.
    #[error("the worker refused a plan it cannot read: {0}")]
    Malformed(String),
    /// A plan above the bound.
    #[error("the worker refused a plan of {size} bytes: [cluster] max_plan_bytes is {max}")]
    TooLarge {
        /// The plan message's size.
        size: usize,
        /// `[cluster] max_plan_bytes`.
        max: usize,
    },
}

/// The first message of a `CoordinatorChannel` call, as far as the gate
/// reads it (`worker.proto`: `CoordinatorToWorkerMsg.set_plan_request = 1`,
/// `SetPlanRequest.plan_proto = 3`; other fields are skipped).
#[derive(Clone, PartialEq, Message)]
struct FirstMessage {
    #[prost(message, optional, tag = "1")]
    set_plan_request: Option<SetPlan>,
}

#[derive(Clone, PartialEq, Message)]
struct SetPlan {
    #[prost(bytes = "vec", tag = "3")]
    plan_proto: Vec<u8>,
}

/// `datafusion-proto`'s composed codec envelope of an extension node.
#[derive(Clone, PartialEq, Message)]
struct CodecEnvelope {
    #[prost(uint32, tag = "1")]
    encoder_position: u32,
}

/// Checks an encoded plan (`SetPlanRequest.plan_proto`): every node on the allow-list.
pub fn check_plan(bytes: &[u8]) -> Result<(), PlanRefused> {
    let plan = PhysicalPlanNode::decode(bytes).map_err(|e| PlanRefused::Malformed(e.to_string()))?;
    check_node(&plan)
}

/// Checks the first message of a `CoordinatorChannel` call; one that holds
/// no plan is left to the worker (which refuses it).
fn check_first_message(bytes: &[u8]) -> Result<(), PlanRefused> {
    let message = FirstMessage::decode(bytes).map_err(|e| PlanRefused::Malformed(e.to_string()))?;
    match message.set_plan_request {
        Some(request) => check_plan(&request.plan_proto),
        None => Ok(()),
    }
}

fn check_node(node: &PhysicalPlanNode) -> Result<(), PlanRefused> {
    use PhysicalPlanType as T;
    let Some(kind) = &node.physical_plan_type else {
        return Err(PlanRefused::Malformed("a plan node of no known kind".into()));
    };
    fn one(input: &Option<Box<PhysicalPlanNode>>) -> Vec<&PhysicalPlanNode> {
        input.as_deref().into_iter().collect()
    }
    fn two<'a>(
        left: &'a Option<Box<PhysicalPlanNode>>,
        right: &'a Option<Box<PhysicalPlanNode>>,
    ) -> Vec<&'a PhysicalPlanNode> {
        left.as_deref().into_iter().chain(right.as_deref()).collect()
    }
    let children: Vec<&PhysicalPlanNode> = match kind {
        T::Projection(n) => one(&n.input),
        T::Filter(n) => one(&n.input),
        T::Aggregate(n) => one(&n.input),
        T::Window(n) => one(&n.input),
        T::Sort(n) => one(&n.input),
        T::SortPreservingMerge(n) => one(&n.input),
        T::GlobalLimit(n) => one(&n.input),
        T::LocalLimit(n) => one(&n.input),
        T::CoalesceBatches(n) => one(&n.input),
        T::Merge(n) => one(&n.input),
        T::Repartition(n) => one(&n.input),
        T::Cooperative(n) => one(&n.input),
        T::Buffer(n) => one(&n.input),
        T::Unnest(n) => one(&n.input),
        T::HashJoin(n) => two(&n.left, &n.right),
        T::CrossJoin(n) => two(&n.left, &n.right),
        T::NestedLoopJoin(n) => two(&n.left, &n.right),
        T::SymmetricHashJoin(n) => two(&n.left, &n.right),
        T::SortMergeJoin(n) => two(&n.left, &n.right),
        T::ScalarSubquery(n) => one(&n.input).into_iter().chain(&n.subqueries).collect(),
        T::Union(n) => n.inputs.iter().collect(),
        T::Interleave(n) => n.inputs.iter().collect(),
        T::Empty(_) | T::PlaceholderRow(_) | T::MemoryScan(_) | T::GenerateSeries(_) => Vec::new(),
        T::Extension(n) => {
            let envelope = CodecEnvelope::decode(n.node.as_slice())
                .map_err(|e| PlanRefused::Malformed(e.to_string()))?;
            // 0: datafusion-distributed's network nodes, 1: skyglue's scans.
            if envelope.encoder_position > 1 {
                return Err(PlanRefused::Codec(envelope.encoder_position));
            }
            n.inputs.iter().collect()
        }
        T::ParquetScan(_) => return Err(PlanRefused::Node("ParquetScan")),
        T::CsvScan(_) => return Err(PlanRefused::Node("CsvScan")),
        T::JsonScan(_) => return Err(PlanRefused::Node("JsonScan")),
        T::AvroScan(_) => return Err(PlanRefused::Node("AvroScan")),
        T::ArrowScan(_) => return Err(PlanRefused::Node("ArrowScan")),
        T::JsonSink(_) => return Err(PlanRefused::Node("JsonSink")),
        T::CsvSink(_) => return Err(PlanRefused::Node("CsvSink")),
        T::ParquetSink(_) => return Err(PlanRefused::Node("ParquetSink")),
        T::Explain(_) => return Err(PlanRefused::Node("Explain")),
        T::Analyze(_) => return Err(PlanRefused::Node("Analyze")),
        T::AsyncFunc(_) => return Err(PlanRefused::Node("AsyncFunc")),
    };
    children.into_iter().try_for_each(check_node)
}

/// Wraps a worker's gRPC service: the plan of each `CoordinatorChannel`
/// call is checked (see the module documentation) before the service reads it.
#[derive(Clone)]
pub struct PlanGate<S> {
    inner: S,
    max_plan_bytes: usize,
}

impl<S: NamedService> PlanGate<S> {
    /// Checks the plans `inner` receives; none above `max_plan_bytes`.
    pub fn new(inner: S, max_plan_bytes: usize) -> Self {
        Self { inner, max_plan_bytes }
    }

    fn carries_a_plan(path: &str) -> bool {
        path.strip_prefix('/')
            .and_then(|p| p.strip_prefix(S::NAME))
            .is_some_and(|method| method == "/CoordinatorChannel")
    }
}

impl<S: NamedService> NamedService for PlanGate<S> {
    const NAME: &'static str = S::NAME;
}

impl<S> Service<http::Request<tonic::body::Body>> for PlanGate<S>
where
    S: Service<http::Request<tonic::body::Body>> + NamedService,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<tonic::body::Body>) -> Self::Future {
        let request = if Self::carries_a_plan(request.uri().path()) {
            let max = self.max_plan_bytes;
            request.map(|body| {
                tonic::body::Body::new(CheckedFirstMessage { inner: body, held: Some(BytesMut::new()), max })
            })
        } else {
            request
        };
        self.inner.call(request)
    }
}

/// A request body whose first gRPC message is held back until it is whole
/// and [`check_first_message`] accepts it; the rest passes as it comes.
struct CheckedFirstMessage {
    inner: tonic::body::Body,
    /// The bytes read so far while the first message is checked; `None` after.
    held: Option<BytesMut>,
    max: usize,
}

/// gRPC's frame header: a compression flag and a big-endian length.
const HEADER: usize = 5;

impl CheckedFirstMessage {
    /// `Some(Ok(bytes))` once the held bytes hold a whole, accepted first
    /// message; `Some(Err)` when it is refused; `None` while incomplete.
    fn verdict(held: &BytesMut, max: usize) -> Option<Result<(), Status>> {
        let header = held.get(..HEADER)?;
        if header[0] != 0 {
            return Some(Err(Status::permission_denied(
                "the worker refused a compressed plan: coordinators send plans uncompressed",
            )));
        }
        let size = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
        if size > max {
            return Some(Err(Status::resource_exhausted(PlanRefused::TooLarge { size, max }.to_string())));
        }
        let message = held.get(HEADER..HEADER + size)?;
        Some(check_first_message(message).map_err(|e| match e {
            PlanRefused::Malformed(_) => Status::invalid_argument(e.to_string()),
            _ => Status::permission_denied(e.to_string()),
        }))
    }
}

impl Body for CheckedFirstMessage {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        let this = &mut *self;
        let Some(held) = &mut this.held else {
            return Pin::new(&mut this.inner).poll_frame(cx);
        };
        loop {
            if let Some(verdict) = Self::verdict(held, this.max) {
                let bytes = std::mem::take(held).freeze();
                this.held = None;
                return Poll::Ready(Some(verdict.map(|()| Frame::data(bytes))));
            }
            match std::task::ready!(Pin::new(&mut this.inner).poll_frame(cx)) {
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => held.extend_from_slice(&data),
                    Err(_) => return Poll::Ready(Some(Err(cut_short()))),
                },
                Some(Err(status)) => return Poll::Ready(Some(Err(status))),
                None if held.is_empty() => return Poll::Ready(None),
                None => return Poll::Ready(Some(Err(cut_short()))),
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.held.is_none() && self.inner.is_end_stream()
    }
}

fn cut_short() -> Status {
    Status::invalid_argument("the worker refused a plan it cannot read: the message was cut short")
}

#[cfg(test)]
mod tests {
    use datafusion::prelude::{CsvReadOptions, SessionContext};

    use super::*;

    /// The encoded physical plan of `sql` in `ctx`.
    async fn encoded(ctx: &SessionContext, sql: &str) -> Vec<u8> {
        let df = ctx.sql(sql).await.expect("planned");
        let plan = df.create_physical_plan().await.expect("a physical plan");
        datafusion_proto::bytes::physical_plan_to_bytes(plan).expect("encoded").to_vec()
    }

    async fn csv_plan() -> Vec<u8> {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("secrets.csv");
        std::fs::write(&path, "a,b\n1,2\n").expect("written");
        let ctx = SessionContext::new();
        ctx.register_csv("t", path.to_string_lossy().as_ref(), CsvReadOptions::new())
            .await
            .expect("registered");
        encoded(&ctx, "SELECT a FROM t WHERE b > 1").await
    }

    const RELATIONAL: &str = "SELECT a, count(*) FROM (VALUES (1), (2), (2)) AS v(a) \
         WHERE a > 0 GROUP BY a ORDER BY a LIMIT 5";

    #[tokio::test]
    async fn relational_operators_over_values_pass() {
        let bytes = encoded(&SessionContext::new(), RELATIONAL).await;
        assert_eq!(check_plan(&bytes), Ok(()));
    }

    #[tokio::test]
    async fn a_file_scan_is_refused_by_name() {
        let err = check_plan(&csv_plan().await).expect_err("a CSV scan");
        assert_eq!(err, PlanRefused::Node("CsvScan"));
        assert!(err.to_string().contains("CsvScan"), "{err}");
    }

    /// A small deterministic generator (xorshift): the same bytes every run.
    fn noise(seed: &mut u64, len: usize) -> Vec<u8> {
        (0..len)
            .map(|_| {
                *seed ^= *seed << 13;
                *seed ^= *seed >> 7;
                *seed ^= *seed << 17;
                (*seed >> 24) as u8
            })
            .collect()
    }

    #[tokio::test]
    async fn truncated_flipped_and_random_bytes_give_an_error_not_a_panic() {
        let valid = encoded(&SessionContext::new(), RELATIONAL).await;
        for end in 0..valid.len() {
            // (a cut may leave a shorter valid message: only no panic is asserted)
            let _ = check_plan(&valid[..end]);
            let _ = check_first_message(&valid[..end]);
        }
        let mut seed = 0x5eed_u64;
        for i in 0..valid.len() {
            let mut flipped = valid.clone();
            flipped[i] ^= noise(&mut seed, 1)[0] | 1;
            let _ = check_plan(&flipped);
        }
        let mut refused = 0;
        for len in 0..2000 {
            let bytes = noise(&mut seed, len % 300);
            refused += usize::from(check_plan(&bytes).is_err());
        }
        assert!(refused > 1900, "random bytes passed as plans: {} of 2000", 2000 - refused);
        assert!(matches!(check_plan(b"\xff\xff\xff"), Err(PlanRefused::Malformed(_))));
    }
}
