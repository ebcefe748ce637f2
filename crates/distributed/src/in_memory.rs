//! A cluster of workers inside this process, joined by in-memory duplex
//! pipes instead of TCP: for tests and for embedding programs that want the
//! distributed plan without a network.
//!
//! Each worker has its own [`Engine`] (so its own connections and API
//! counters, as a real worker would), and its own URL, which only this
//! cluster's channels know. Its workers are guarded as real ones are (the
//! token, the plan check, the size bound); only TLS is left out.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use datafusion::error::{DataFusionError, Result};
use datafusion_distributed::{ChannelResolver, WorkerChannel, grpc};
use hyper_util::rt::TokioIo;
use skyglue_core::Engine;
use tonic::transport::{Endpoint, Server};
use url::Url;

use crate::auth::ClusterToken;
use crate::channel::NamedChannels;
use crate::connect::authorized;
use crate::coordinator::StaticWorkers;
use crate::security::Security;
use crate::worker::{guarded, worker_session};

/// Workers served over in-memory pipes, one per engine.
#[derive(Clone)]
pub struct InMemoryCluster {
    urls: Vec<Url>,
    channels: InMemoryChannels,
}

/// Reaches the workers of an [`InMemoryCluster`] by their URLs.
#[derive(Clone)]
pub struct InMemoryChannels {
    channels: Arc<HashMap<Url, grpc::BoxCloneSyncChannel>>,
}

impl InMemoryCluster {
    /// Starts one worker per engine (on the current tokio runtime), with a
    /// token of their own that only this cluster's channels present.
    pub fn start(engines: Vec<Engine>) -> Result<Self> {
        let token = ClusterToken::new("in-memory cluster", &uuid::Uuid::new_v4().to_string())
            .map_err(|e| DataFusionError::External(Box::new(e)))?;
        Self::start_with(engines, &Security::with_token(token))
    }

    /// Starts one worker per engine, guarded by `security` (its token,
    /// required, and its bound on plans; not TLS).
    pub fn start_with(engines: Vec<Engine>, security: &Security) -> Result<Self> {
        let external = |e: crate::security::SecurityError| DataFusionError::External(Box::new(e));
        let authorization = security.token().map(|t| t.header()).transpose().map_err(external)?;
        let mut channels = HashMap::new();
        let mut servers = Vec::new();
        let mut urls = Vec::new();
        for i in 0..engines.len() {
            let url = Url::parse(&format!("http://in-memory-worker-{}:50051", i + 1))
                .map_err(|e| DataFusionError::Internal(e.to_string()))?;
            let (client, server) = tokio::io::duplex(1024 * 1024);
            let client = Mutex::new(Some(client));
            let channel = Endpoint::from(
                url.as_str()
                    .parse::<http::Uri>()
                    .map_err(|e| DataFusionError::Internal(format!("in-memory worker URL {url}: {e}")))?,
            )
            .connect_with_connector_lazy(tower::service_fn(move |_| {
                let taken = client.lock().ok().and_then(|mut c| c.take());
                async move {
                    taken.map(TokioIo::new).ok_or_else(|| {
                        std::io::Error::new(
                            std::io::ErrorKind::ConnectionRefused,
                            "in-memory pipe already used",
                        )
                    })
                }
            }));
            channels.insert(url.clone(), authorized(channel, authorization.clone()));
            servers.push(server);
            urls.push(url);
        }
        let resolver = InMemoryChannels { channels: Arc::new(channels) };
        for (engine, server) in engines.into_iter().zip(servers) {
            let worker = worker_session(engine, NamedChannels::new(resolver.clone()));
            let router = guarded(&mut Server::builder(), worker, security).map_err(external)?;
            tokio::spawn(router.serve_with_incoming(tokio_stream::once(Ok::<_, std::io::Error>(server))));
        }
        Ok(Self { urls, channels: resolver })
    }

    /// The workers, for the coordinator's planner.
    pub fn workers(&self) -> StaticWorkers {
        StaticWorkers::new(self.urls.clone())
    }

    /// The channels to the workers, for the coordinator.
    pub fn channels(&self) -> NamedChannels<InMemoryChannels> {
        NamedChannels::new(self.channels.clone())
    }
}

#[async_trait]
impl ChannelResolver for InMemoryChannels {
    async fn get_worker_client_for_url(&self, url: &Url) -> Result<Box<dyn WorkerChannel>> {
        let channel = self
            .channels
            .get(url)
            .ok_or_else(|| DataFusionError::Execution(format!("no in-memory worker at {url}")))?;
        Ok(grpc::create_worker_client(channel.clone()))
    }
}
