//! Ctrl-C while a query runs: cancel the query, not the REPL.
//!
//! At the prompt the line editor reads Ctrl-C as a key. While a query runs the
//! terminal delivers SIGINT instead; the listener is installed once when the
//! session starts, so a Ctrl-C never finds the process without a handler
//! (which would kill it).

use std::future::Future;

/// The session's Ctrl-C listener.
pub struct Interrupts {
    #[cfg(unix)]
    signal: Option<tokio::signal::unix::Signal>,
}

/// A future was cancelled by Ctrl-C.
#[derive(Debug, thiserror::Error)]
#[error("cancelled")]
pub struct Cancelled;

impl Interrupts {
    /// Listens for Ctrl-C from now on.
    pub fn install() -> Self {
        #[cfg(unix)]
        {
            let signal = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok();
            Self { signal }
        }
        #[cfg(not(unix))]
        {
            Self {}
        }
    }

    /// Runs `work` until it ends or Ctrl-C is pressed, whichever is first.
    pub async fn race<T>(&mut self, work: impl Future<Output = T>) -> Result<T, Cancelled> {
        self.drain();
        tokio::select! {
            out = work => Ok(out),
            () = self.next() => Err(Cancelled),
        }
    }

    /// Forgets a Ctrl-C pressed while nothing was running.
    fn drain(&mut self) {
        #[cfg(unix)]
        if let Some(signal) = &mut self.signal {
            use futures::FutureExt;
            while let Some(Some(())) = signal.recv().now_or_never() {}
        }
    }

    async fn next(&mut self) {
        #[cfg(unix)]
        match &mut self.signal {
            Some(signal) => {
                if signal.recv().await.is_none() {
                    std::future::pending::<()>().await;
                }
            }
            None => std::future::pending().await,
        }
        #[cfg(not(unix))]
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
