//! `skyglue worker`: serves the datafusion-distributed worker protocol over
//! gRPC with skyglue's tables, functions and scan codec.
//!
//! A worker only executes plan fragments; it never plans, never deletes and
//! never notifies. Its engine holds its own connections, built from its own
//! `skyglue.toml` and credential chain, which the codec looks scans up in.
//!
//! Every call passes, in this order: TLS when `[cluster] tls` is set; the
//! token check ([`RequireToken`](crate::RequireToken)), before the call's
//! body is read; the plan check ([`PlanGate`](crate::PlanGate)), before
//! the plan is decoded; tonic's bound on a message's size.

use std::future::Future;
use std::sync::Arc;

use datafusion::error::DataFusionError;
use datafusion::execution::{FunctionRegistry, SessionState};
use datafusion_distributed::{ChannelResolver, DistributedExt, Worker, WorkerQueryContext};
use skyglue_core::Engine;
use skyglue_core::functions;
use tokio::net::TcpListener;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Server;
use tonic::transport::server::{Router, TcpIncoming};

use crate::channel::NamedChannels;
use crate::codec::ScanCodec;
use crate::connect::ClusterChannels;
use crate::plan_gate::PlanGate;
use crate::security::{Security, SecurityError};

/// Why a worker stopped, or could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Its security settings (no token, unreadable TLS files).
    #[error(transparent)]
    Security(#[from] SecurityError),
    /// The gRPC server.
    #[error("the worker's gRPC server failed: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// A worker over `engine`: its sessions know skyglue's functions and decode
/// API scans over `engine`'s connections; `channels` reaches other workers.
pub fn worker_session(
    engine: Engine,
    channels: impl ChannelResolver + Clone + Send + Sync + 'static,
) -> Worker {
    let codec = ScanCodec::new(engine);
    Worker::from_session_builder(move |ctx: WorkerQueryContext| {
        let (codec, channels) = (codec.clone(), channels.clone());
        async move {
            let mut state = ctx
                .builder
                .with_distributed_user_codec(codec)
                .with_distributed_channel_resolver(channels)
                .build();
            for udf in functions::all() {
                state.register_udf(Arc::new(udf))?;
            }
            Ok::<SessionState, DataFusionError>(state)
        }
    })
}

/// Serves `engine` as a worker on `listener` until `shutdown` completes,
/// to coordinators that present `security`'s token (required). It reaches
/// other workers as a coordinator would, with the same token and TLS.
pub async fn serve(
    listener: TcpListener,
    engine: Engine,
    security: &Security,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ServeError> {
    let worker = worker_session(engine, NamedChannels::new(ClusterChannels::for_worker(security)?));
    let mut server = Server::builder();
    if let Some(tls) = security.server_tls()? {
        server = server.tls_config(tls).map_err(|e| SecurityError::Tls(crate::connect::causes(&e)))?;
    }
    Ok(guarded(&mut server, worker, security)?
        .serve_with_incoming_shutdown(TcpIncoming::from(listener), shutdown)
        .await?)
}

/// `worker`'s gRPC service on `server`, behind the token check and the plan
/// check, with messages bounded by `security`'s `max_plan_bytes`.
pub(crate) fn guarded(
    server: &mut Server,
    worker: Worker,
    security: &Security,
) -> Result<Router, SecurityError> {
    let token = security.require_token()?;
    let max = security.max_plan_bytes();
    let service = PlanGate::new(worker.into_worker_server().max_decoding_message_size(max), max);
    Ok(server.add_service(InterceptedService::new(service, token.interceptor())))
}
