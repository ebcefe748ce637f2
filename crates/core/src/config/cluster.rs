//! The `[cluster]` table of `skyglue.toml`: the workers a coordinator
//! spreads scans over, and how coordinator and workers trust each other.
//!
//! ```toml
//! [cluster]
//! workers = ["10.0.0.7:50051", "10.0.0.8:50051"]
//! token_env = "SKYGLUE_CLUSTER_TOKEN"   # the variable holding the shared token (this default)
//! max_plan_bytes = 16777216             # the largest plan a worker decodes (16 MiB, this default)
//! tls = { cert = "tls/node.pem", key = "tls/node.key", ca = "tls/ca.pem" }
//! ```
//!
//! `tls` paths are relative to the config file's directory. A worker serves
//! TLS with `cert`/`key` and, given `ca`, requires coordinators to present a
//! certificate it signed (mutual TLS); a coordinator checks workers against
//! `ca` and presents `cert`/`key` when it has them.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};

/// The variable holding the cluster token when `[cluster] token_env` names none.
pub const DEFAULT_TOKEN_VAR: &str = "SKYGLUE_CLUSTER_TOKEN";

/// The largest plan (gRPC message) a worker decodes when `[cluster]
/// max_plan_bytes` says nothing: 16 MiB.
pub const DEFAULT_MAX_PLAN_BYTES: usize = 16 * 1024 * 1024;

/// The `[cluster]` table.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ClusterSection {
    /// `HOST:PORT` of each `skyglue worker`; `--workers` overrides it.
    #[serde(default)]
    pub workers: Vec<String>,
    /// The environment variable holding the shared token; default
    /// [`DEFAULT_TOKEN_VAR`].
    pub token_env: Option<String>,
    /// The largest plan a worker decodes, in bytes; default
    /// [`DEFAULT_MAX_PLAN_BYTES`].
    pub max_plan_bytes: Option<usize>,
    /// TLS between coordinator and workers.
    pub tls: Option<ClusterTls>,
}

/// `[cluster] tls = { cert = "...", key = "...", ca = "..." }`: PEM files.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ClusterTls {
    /// This process's certificate (chain): a worker's server certificate, a
    /// coordinator's client certificate for mutual TLS.
    pub cert: Option<PathBuf>,
    /// The private key of `cert`.
    pub key: Option<PathBuf>,
    /// The certificate authority peers are checked against: a coordinator
    /// checks workers with it; a worker given it requires client certificates.
    pub ca: Option<PathBuf>,
}

impl ClusterSection {
    /// The variable holding the shared token.
    pub fn token_var(&self) -> &str {
        self.token_env.as_deref().unwrap_or(DEFAULT_TOKEN_VAR)
    }

    /// The largest plan a worker decodes, in bytes.
    pub fn max_plan_bytes(&self) -> usize {
        self.max_plan_bytes.unwrap_or(DEFAULT_MAX_PLAN_BYTES)
    }

    pub(super) fn validate(&self, origin: &str) -> Result<()> {
        if self.token_env.as_deref().is_some_and(|v| v.trim().is_empty()) {
            return Err(Error::Config(format!("{origin}: [cluster] token_env is empty")));
        }
        if self.max_plan_bytes == Some(0) {
            return Err(Error::Config(format!("{origin}: [cluster] max_plan_bytes must be above 0")));
        }
        if let Some(tls) = &self.tls
            && tls.cert.is_some() != tls.key.is_some()
        {
            return Err(Error::Config(format!(
                "{origin}: [cluster] tls needs both cert and key (or neither, on a coordinator that only checks workers against ca)"
            )));
        }
        Ok(())
    }

    /// Makes the `tls` paths relative to `base` (the config file's directory).
    pub(super) fn resolve(&mut self, base: &Path) {
        if let Some(tls) = &mut self.tls {
            for path in [&mut tls.cert, &mut tls.key, &mut tls.ca].into_iter().flatten() {
                if path.is_relative() {
                    *path = base.join(&*path);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;

    #[test]
    fn cluster_security_keys_parse_with_their_defaults() {
        let c = Config::parse("[cluster]\nworkers = [\"w1:50051\"]\n", "f").expect("valid");
        assert_eq!(c.cluster.token_var(), "SKYGLUE_CLUSTER_TOKEN");
        assert_eq!(c.cluster.max_plan_bytes(), 16 * 1024 * 1024);
        let c = Config::parse(
            "[cluster]\ntoken_env = \"TEAM_TOKEN\"\nmax_plan_bytes = 1024\ntls = { cert = \"c.pem\", key = \"k.pem\", ca = \"ca.pem\" }\n",
            "f",
        )
        .expect("valid");
        assert_eq!((c.cluster.token_var(), c.cluster.max_plan_bytes()), ("TEAM_TOKEN", 1024));
        let mut cluster = c.cluster.clone();
        cluster.resolve(Path::new("/etc/skyglue"));
        let tls = cluster.tls.unwrap_or_default();
        assert_eq!(tls.ca.as_deref(), Some(Path::new("/etc/skyglue/ca.pem")));
    }

    #[test]
    fn a_bad_cluster_section_is_named() {
        for (text, expect) in [
            ("[cluster]\ntls = { cert = \"c.pem\" }\n", "cert and key"),
            ("[cluster]\ntoken_env = \" \"\n", "token_env"),
            ("[cluster]\nmax_plan_bytes = 0\n", "max_plan_bytes"),
            ("[cluster]\ntls = { cert = \"c.pem\", key = \"k.pem\", cafile = \"x\" }\n", "cafile"),
        ] {
            let err = Config::parse(text, "skyglue.toml").expect_err(text).to_string();
            assert!(err.contains(expect) && err.contains("skyglue.toml"), "{text}: {err}");
        }
    }
}
