//! `skyglue worker`: serves the datafusion-distributed worker protocol over
//! gRPC with skyglue's tables, functions and scan codec.
//!
//! A worker only executes plan fragments; it never plans, never deletes and
//! never notifies. Its engine holds its own connections, built from its own
//! `skyglue.toml` and credential chain, which the codec looks scans up in.

use std::future::Future;
use std::sync::Arc;

use datafusion::error::DataFusionError;
use datafusion::execution::{FunctionRegistry, SessionState};
use datafusion_distributed::{ChannelResolver, DistributedExt, Worker, WorkerQueryContext};
use skyglue_core::Engine;
use skyglue_core::functions;
use tokio::net::TcpListener;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;

use crate::channel::NamedChannels;
use crate::codec::ScanCodec;

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

/// Serves `engine` as a worker on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    engine: Engine,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), tonic::transport::Error> {
    let worker = worker_session(engine, NamedChannels::default());
    Server::builder()
        .add_service(worker.into_worker_server())
        .serve_with_incoming_shutdown(TcpIncoming::from(listener), shutdown)
        .await
}
