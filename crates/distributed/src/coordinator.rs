//! The coordinating side: which workers there are, and the session settings
//! that make `Engine::session` plan distributed.

use std::sync::Arc;

use datafusion::error::DataFusionError;
use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::SessionConfig;
use datafusion_distributed::{ChannelResolver, DistributedExt, SessionStateBuilderExt, WorkerResolver};
use skyglue_core::{Engine, SessionHook, TARGET_PARTITIONS_VAR};
use url::Url;

use crate::codec::ScanCodec;
use crate::on_workers::ScansOnWorkers;
use crate::split;

/// A fixed list of workers (`--workers`, `[cluster] workers`).
#[derive(Debug, Clone)]
pub struct StaticWorkers {
    urls: Vec<Url>,
}

impl StaticWorkers {
    /// The workers at `urls`.
    pub fn new(urls: Vec<Url>) -> Self {
        Self { urls }
    }
}

impl WorkerResolver for StaticWorkers {
    fn get_urls(&self) -> Result<Vec<Url>, DataFusionError> {
        Ok(self.urls.clone())
    }
}

/// The worker URLs for `HOST:PORT` addresses (`https://` is added with
/// `tls`, else `http://`; a URL is taken as it is, but not an `http://` one
/// with `tls`). The error names the address that is not one.
pub fn worker_urls(addresses: &[String], tls: bool) -> Result<Vec<Url>, String> {
    let scheme = if tls { "https" } else { "http" };
    addresses
        .iter()
        .map(|a| {
            let a = a.trim();
            let text = if a.contains("://") { a.to_string() } else { format!("{scheme}://{a}") };
            match Url::parse(&text) {
                Ok(url) if tls && url.scheme() != "https" => {
                    Err(format!("worker address {a:?} is not https:// although [cluster] tls is set"))
                }
                Ok(url) if url.host().is_some() && url.port_or_known_default().is_some() => Ok(url),
                _ => Err(format!("worker address {a:?} is not HOST:PORT")),
            }
        })
        .collect()
}

/// The hook that makes `engine`'s sessions plan distributed over `workers`,
/// reaching them through `channels`. `engine` is the coordinator's own (its
/// codec decodes what the planner re-reads).
pub fn coordinator_hook(
    engine: &Engine,
    workers: impl WorkerResolver + Clone + 'static,
    channels: impl ChannelResolver + Clone + Send + Sync + 'static,
) -> SessionHook {
    let codec = ScanCodec::new(engine.clone());
    Arc::new(move |builder: SessionStateBuilder| {
        partitions_to_spread(builder)
            .with_distributed_worker_resolver(workers.clone())
            .with_distributed_channel_resolver(channels.clone())
            .with_distributed_user_codec(codec.clone())
            .with_distributed_desired_task_count_handler(split::desired_task_count)
            .with_distributed_scale_up_leaf_node_handler(split::scale_up)
            .with_physical_optimizer_rule(Arc::new(ScansOnWorkers))
            .with_distributed_planner()
            .with_distributed_route_tasks_handler(split::ByTaskIndex(workers.clone()))
    })
}

/// DataFusion's own default partitions (one per core) unless the environment
/// chose: the distributed planner sizes a stage's tasks by its partitions,
/// and skyglue's default of one ([`skyglue_core::session_config`]) would keep
/// every scan on the coordinator.
fn partitions_to_spread(mut builder: SessionStateBuilder) -> SessionStateBuilder {
    if std::env::var_os(TARGET_PARTITIONS_VAR).is_none()
        && let Some(config) = builder.config()
    {
        config.options_mut().execution.target_partitions = SessionConfig::new().target_partitions();
    }
    builder
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_addresses_become_urls_and_a_bad_one_is_named() {
        let urls =
            worker_urls(&["10.0.0.1:50051".into(), "http://w2:7000".into()], false).unwrap_or_default();
        let shown: Vec<String> = urls.iter().map(Url::to_string).collect();
        assert_eq!(shown, ["http://10.0.0.1:50051/", "http://w2:7000/"]);
        let err = worker_urls(&["10.0.0.1:50051".into(), "no port here".into()], false)
            .expect_err("not an address");
        assert_eq!(err, "worker address \"no port here\" is not HOST:PORT");
        let tls = worker_urls(&["10.0.0.1:50051".into()], true).unwrap_or_default();
        assert_eq!(tls.iter().map(Url::to_string).collect::<Vec<_>>(), ["https://10.0.0.1:50051/"]);
        let err = worker_urls(&["http://w2:7000".into()], true).expect_err("clear text with tls");
        assert!(err.contains("https"), "{err}");
    }
}
