//! A progress line on stderr while API scans run, when stderr is a terminal.
//!
//! Nothing of it reaches stdout or a pipe; it is cleared before results print.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::Duration;

use skyglue_core::ApiCounters;

/// A running progress line; [`Progress::finish`] clears it.
pub struct Progress {
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Progress {
    /// Starts showing `counters` every 200 ms, if stderr is a terminal.
    pub fn start(counters: Arc<ApiCounters>) -> Self {
        if !std::io::stderr().is_terminal() {
            return Self { task: None };
        }
        let start = counters.snapshot();
        let task = tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(200)).await;
                let now = counters.snapshot().since(&start);
                let mut err = std::io::stderr().lock();
                let _ = write!(
                    err,
                    "\r\x1b[2K{} API calls, {} pages, {} rows so far",
                    now.calls, now.pages, now.rows
                );
                let _ = err.flush();
            }
        });
        Self { task: Some(task) }
    }

    /// Stops and clears the line.
    pub fn finish(mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
        }
    }
}
