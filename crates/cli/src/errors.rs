//! From any error to one line and an exit code.
//!
//! 2 for what the user can fix in their input (bad SQL, an unknown table or
//! column, a missing required key, a bad config file); 1 for everything that
//! failed while running (credentials, network, an API's refusal).

use datafusion::error::DataFusionError;
use skyglue_core::Error;
use skyglue_core::error::one_line;

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
        other => other.to_string(),
    };
    text.replace("datafusion.public.", "")
}
