//! [`SecurityError`]: what can go wrong setting up the cluster's security
//! (the token in `auth`, TLS and the rest in `security`).

use std::path::PathBuf;

/// A failure to set up the cluster's security; never shows a secret.
#[derive(Debug, thiserror::Error)]
pub enum SecurityError {
    /// A worker without a token.
    #[error("no cluster token: set {var} to a shared secret, the same on every worker and coordinator")]
    MissingToken {
        /// The variable.
        var: String,
    },
    /// A token that cannot travel in a header.
    #[error(
        "{var} holds a control character (or non-UTF-8 bytes) inside the token: set it to the token alone"
    )]
    BadToken {
        /// The variable.
        var: String,
    },
    /// A TLS file that cannot be read.
    #[error("failed to read [cluster] tls {what} {path}: {source}")]
    ReadTls {
        /// `cert`, `key` or `ca`.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A TLS key this role needs.
    #[error("[cluster] tls has no {what}: {why}")]
    MissingTls {
        /// `cert`, `key` or `ca`.
        what: &'static str,
        /// What it is needed for.
        why: &'static str,
    },
    /// TLS files rustls refused.
    #[error("failed to set up TLS from [cluster] tls: {0}")]
    Tls(String),
}
