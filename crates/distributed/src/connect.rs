//! `ClusterChannels`: how a coordinator (and a worker, for the stages it
//! reads from other workers) reaches a worker: over TLS when `[cluster] tls`
//! is set, with the cluster token on every call.
//!
//! One channel per worker URL, kept for the life of the resolver (tonic
//! reconnects a channel whose connection dropped). With TLS, a worker URL
//! must be `https://`: a plain `http://` one is refused rather than sent the
//! token in clear text.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use datafusion::error::{DataFusionError, Result};
use datafusion_distributed::{ChannelResolver, WorkerChannel, grpc};
use http::HeaderValue;
use http::header::AUTHORIZATION;
use tonic::transport::{Channel, ClientTlsConfig, Endpoint};
use tower::ServiceExt;
use url::Url;

use crate::security::{Security, SecurityError};

/// A [`ChannelResolver`] over gRPC with the cluster's token and TLS.
#[derive(Clone)]
pub struct ClusterChannels {
    authorization: Option<HeaderValue>,
    /// `Err`: TLS is on but this process cannot check workers (a worker
    /// without `ca`), so it reaches none.
    tls: std::result::Result<Option<ClientTlsConfig>, Arc<str>>,
    channels: Arc<Mutex<HashMap<Url, grpc::BoxCloneSyncChannel>>>,
}

impl std::fmt::Debug for ClusterChannels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterChannels")
            .field("tls", &self.tls.as_ref().map(Option::is_some))
            .finish_non_exhaustive()
    }
}

impl ClusterChannels {
    /// Channels that present `security`'s token (if any) and TLS settings:
    /// a coordinator's, which must be able to check workers.
    pub fn new(security: &Security) -> Result<Self, SecurityError> {
        Ok(Self {
            authorization: security.token().map(|t| t.header()).transpose()?,
            tls: Ok(security.client_tls()?),
            channels: Arc::default(),
        })
    }

    /// A worker's channels to other workers: as [`ClusterChannels::new`],
    /// but a worker whose TLS has no `ca` still serves, and fails only a
    /// stage that reads from another worker, saying why.
    pub(crate) fn for_worker(security: &Security) -> Result<Self, SecurityError> {
        Ok(Self {
            authorization: security.token().map(|t| t.header()).transpose()?,
            tls: security.client_tls().map_err(|e| Arc::from(e.to_string())),
            channels: Arc::default(),
        })
    }

    async fn channel(&self, url: &Url) -> Result<grpc::BoxCloneSyncChannel> {
        if let Some(channel) = self.channels.lock().ok().and_then(|c| c.get(url).cloned()) {
            return Ok(channel);
        }
        let mut endpoint = Endpoint::from_shared(url.to_string())
            .map_err(|e| DataFusionError::Configuration(format!("worker URL {url}: {e}")))?;
        let tls = self
            .tls
            .as_ref()
            .map_err(|e| DataFusionError::Configuration(format!("cannot reach {url}: {e}")))?;
        if let Some(tls) = tls {
            if url.scheme() != "https" {
                return Err(DataFusionError::Configuration(format!(
                    "worker URL {url} is not https:// although [cluster] tls is set"
                )));
            }
            endpoint = endpoint.tls_config(tls.clone()).map_err(|e| transport("set up TLS for", url, &e))?;
        }
        let channel = endpoint.connect().await.map_err(|e| transport("connect to", url, &e))?;
        let channel = authorized(channel, self.authorization.clone());
        if let Ok(mut channels) = self.channels.lock() {
            channels.insert(url.clone(), channel.clone());
        }
        Ok(channel)
    }
}

/// `channel` with `authorization` on every request.
pub(crate) fn authorized(channel: Channel, authorization: Option<HeaderValue>) -> grpc::BoxCloneSyncChannel {
    grpc::BoxCloneSyncChannel::new(channel.map_request(
        move |mut request: http::Request<tonic::body::Body>| {
            if let Some(value) = &authorization {
                request.headers_mut().insert(AUTHORIZATION, value.clone());
            }
            request
        },
    ))
}

/// A transport error with its causes (tonic's own text is "transport error").
fn transport(what: &str, url: &Url, error: &(dyn std::error::Error + 'static)) -> DataFusionError {
    DataFusionError::Execution(format!("failed to {what} {url}: {}", causes(error)))
}

/// `error` and its causes on one line.
pub(crate) fn causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        text.push_str(&format!(": {e}"));
        cause = e.source();
    }
    text
}

#[async_trait]
impl ChannelResolver for ClusterChannels {
    async fn get_worker_client_for_url(&self, url: &Url) -> Result<Box<dyn WorkerChannel>> {
        Ok(grpc::create_worker_client(self.channel(url).await?))
    }
}
