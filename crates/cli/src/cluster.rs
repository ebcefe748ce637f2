//! Many machines: `skyglue worker`, and the engine `query` and `run` use
//! when there are workers (`--workers`, else `[cluster] workers`).
//!
//! Without workers nothing changes: the engine is the one-process engine.
//! With them, the sessions that run a query or a policy's query plan in this
//! process and execute their scans on the workers; a policy's fresh checks,
//! deletes and notifications stay here (`Engine::fresh_session`, sinks).

use skyglue_core::{Config, Engine};

/// The engine `config` names, distributed over `flag` (`--workers`), else
/// over `[cluster] workers`, when either names any.
pub async fn engine(config: &Config, flag: &[String]) -> anyhow::Result<Engine> {
    let engine = skyglue::engine(config).await?;
    let workers = if flag.is_empty() { &config.cluster.workers } else { flag };
    if workers.is_empty() {
        return Ok(engine);
    }
    distribute(engine, workers)
}

#[cfg(feature = "distributed")]
fn distribute(engine: Engine, workers: &[String]) -> anyhow::Result<Engine> {
    use skyglue_distributed::{NamedChannels, StaticWorkers, coordinator_hook, worker_urls};
    let urls = worker_urls(workers).map_err(crate::errors::usage)?;
    let hook = coordinator_hook(&engine, StaticWorkers::new(urls), NamedChannels::default());
    Ok(engine.with_session_hook(hook))
}

#[cfg(not(feature = "distributed"))]
fn distribute(_engine: Engine, _workers: &[String]) -> anyhow::Result<Engine> {
    Err(crate::errors::usage(
        "workers are configured, but this skyglue was built without the `distributed` feature",
    ))
}

/// `skyglue worker --listen ADDR`: serves this config's tables to
/// coordinators until SIGTERM or Ctrl-C. Prints `listening on HOST:PORT`
/// once it accepts connections (the real port when ADDR's is 0).
#[cfg(feature = "distributed")]
pub async fn worker(config: Option<&std::path::Path>, listen: &str) -> anyhow::Result<()> {
    use std::io::Write;

    use anyhow::Context;

    let (_, config) = Config::discover(config)?;
    let engine = skyglue::engine(&config).await?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("failed to listen on {listen}"))?;
    let address = listener.local_addr().context("failed to read the listening address")?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "skyglue worker: listening on {address}")?;
    out.flush()?;
    drop(out);
    skyglue_distributed::serve(listener, engine, stop_signal())
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
