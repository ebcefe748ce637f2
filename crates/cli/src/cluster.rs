//! Many machines: `skyglue worker`, and the engine `query` and `run` use
//! when there are workers (`--workers`, else `[cluster] workers`).
//!
//! Without workers nothing changes: the engine is the one-process engine.
//! With them, the sessions that run a query or a policy's query plan in this
//! process and execute their scans on the workers; a policy's fresh checks,
//! deletes and notifications stay here (`Engine::fresh_session`, sinks).
//!
//! Both sides read `[cluster]`'s security: the token from
//! `SKYGLUE_CLUSTER_TOKEN` (or `token_env`), which a worker requires and a
//! coordinator sends, and `tls`.

use skyglue_core::{Config, Engine};

/// The engine `config` names, distributed over `flag` (`--workers`), else
/// over `[cluster] workers`, when either names any.
pub async fn engine(config: &Config, flag: &[String]) -> anyhow::Result<Engine> {
    let engine = skyglue::engine(config).await?;
    let workers = if flag.is_empty() { &config.cluster.workers } else { flag };
    if workers.is_empty() {
        return Ok(engine);
    }
    distribute(engine, workers, config)
}

/// A coordinator without a token still sends its queries: the workers refuse
/// them, and the error says authentication failed and names the worker.
#[cfg(feature = "distributed")]
fn distribute(engine: Engine, workers: &[String], config: &Config) -> anyhow::Result<Engine> {
    use skyglue_distributed::{ClusterChannels, NamedChannels, StaticWorkers, coordinator_hook, worker_urls};
    let security = security(config)?;
    let urls = worker_urls(workers, security.uses_tls()).map_err(crate::errors::usage)?;
    let channels = ClusterChannels::new(&security).map_err(|e| crate::errors::usage(e.to_string()))?;
    let hook = coordinator_hook(&engine, StaticWorkers::new(urls), NamedChannels::new(channels));
    Ok(engine.with_session_hook(hook))
}

/// `[cluster]`'s security; what is wrong in it is a usage error (exit 2).
#[cfg(feature = "distributed")]
fn security(config: &Config) -> anyhow::Result<skyglue_distributed::Security> {
    skyglue_distributed::Security::from_config(&config.cluster)
        .map_err(|e| crate::errors::usage(e.to_string()))
}

#[cfg(not(feature = "distributed"))]
fn distribute(_engine: Engine, _workers: &[String], _config: &Config) -> anyhow::Result<Engine> {
    Err(crate::errors::usage(
        "workers are configured, but this skyglue was built without the `distributed` feature",
    ))
}

/// `skyglue worker --listen ADDR`: serves this config's tables to
/// coordinators that present the cluster token, until SIGTERM or Ctrl-C.
/// Without a token it exits 2 naming the variable. Prints `listening on
/// HOST:PORT` once it accepts connections (the real port when ADDR's is 0),
/// and a warning when it serves without TLS on an address other than loopback.
#[cfg(feature = "distributed")]
pub async fn worker(config: Option<&std::path::Path>, listen: &str) -> anyhow::Result<()> {
    use std::io::Write;

    use anyhow::Context;

    let (_, config) = Config::discover(config)?;
    let security = security(&config)?;
    security.require_token().map_err(|e| crate::errors::usage(format!("skyglue worker: {e}")))?;
    let engine = skyglue::engine(&config).await?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("failed to listen on {listen}"))?;
    let address = listener.local_addr().context("failed to read the listening address")?;
    if !security.uses_tls() && !address.ip().is_loopback() {
        eprintln!(
            "skyglue worker: warning: serving on {address} without TLS: the token, the plans and the rows \
             travel in clear text; set [cluster] tls, or keep this port on a private network"
        );
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "skyglue worker: listening on {address}")?;
    out.flush()?;
    drop(out);
    skyglue_distributed::serve(listener, engine, &security, stop_signal())
        .await
        .with_context(|| format!("worker on {address} failed"))?;
    Ok(())
}

#[cfg(not(feature = "distributed"))]
pub async fn worker(_config: Option<&std::path::Path>, _listen: &str) -> anyhow::Result<()> {
    Err(crate::errors::usage("this skyglue was built without the `distributed` feature"))
}

/// Completes on the first SIGTERM or SIGINT.
#[cfg(feature = "distributed")]
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
