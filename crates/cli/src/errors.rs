//! From any error to one line and an exit code.
//!
//! 2 for what the user can fix in their input (bad SQL, an unknown table or
//! column, a missing required key, a bad config file); 1 for everything that
//! failed while running (credentials, network, an API's refusal).

use std::sync::OnceLock;

use datafusion::error::DataFusionError;
use skyglue_core::config::ByteSize;
use skyglue_core::error::one_line;
use skyglue_core::{Config, Error};

/// The memory limit this process's engine runs under, for the message of a
/// query that does not fit in it.
static MEMORY_LIMIT: OnceLock<ByteSize> = OnceLock::new();

/// `config` with `--memory-limit` (`flag`) in place of `[engine]
/// memory_limit` when given; the limit in effect is remembered for errors.
pub fn with_memory_limit(mut config: Config, flag: Option<ByteSize>) -> Config {
    if flag.is_some() {
        config.engine.memory_limit = flag;
    }
    if let Some(limit) = config.engine.memory_limit {
        let _ = MEMORY_LIMIT.set(limit);
    }
    config
}

/// A usage error with this message (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Usage(pub String);

/// Builds a usage error.
pub fn usage(message: impl Into<String>) -> anyhow::Error {
    Usage(message.into()).into()
}

/// The exit code and the one-line message for `err`.
pub fn describe(err: &anyhow::Error) -> (u8, String) {
    if let Some(u) = err.downcast_ref::<Usage>() {
        return (2, u.0.clone());
    }
    if let Some(e) = err.downcast_ref::<Error>() {
        return (if e.is_usage() { 2 } else { 1 }, e.to_string());
    }
    if let Some(df) = err.downcast_ref::<DataFusionError>() {
        if let Some(e) = Error::find(df) {
            return (if e.is_usage() { 2 } else { 1 }, e.to_string());
        }
        return (datafusion_code(df), one_line(&datafusion_message(df)));
    }
    (1, one_line(&format!("{err:#}")))
}

fn datafusion_code(err: &DataFusionError) -> u8 {
    match err.find_root() {
        DataFusionError::SQL(..)
        | DataFusionError::Plan(_)
        | DataFusionError::SchemaError(..)
        | DataFusionError::NotImplemented(_)
        | DataFusionError::Configuration(_) => 2,
        _ => 1,
    }
}

fn datafusion_message(err: &DataFusionError) -> String {
    let root = err.find_root();
    let text = match root {
        DataFusionError::SQL(e, _) => format!("SQL syntax error: {e}"),
        DataFusionError::Plan(m) => m.clone(),
        DataFusionError::SchemaError(e, _) => e.to_string(),
        DataFusionError::ResourcesExhausted(m) => match MEMORY_LIMIT.get() {
            Some(limit) => format!(
                "the query needs more memory than the memory limit of {limit} allows, even spilling to disk \
                 (raise --memory-limit or [engine] memory_limit): {m}"
            ),
            None => format!("the query ran out of memory: {m}"),
        },
        other => other.to_string(),
    };
    text.replace("datafusion.public.", "")
}
