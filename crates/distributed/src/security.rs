//! What a worker requires of a coordinator and a coordinator presents to a
//! worker: the cluster token, TLS, and the bound on a plan's size, read from
//! `[cluster]` and the token's environment variable.

use std::path::Path;

use skyglue_core::config::{ClusterSection, ClusterTls, DEFAULT_MAX_PLAN_BYTES, DEFAULT_TOKEN_VAR};
use tonic::transport::{Certificate, ClientTlsConfig, Identity, ServerTlsConfig};

use crate::auth::ClusterToken;
pub use crate::security_error::SecurityError;

/// PEM contents of `[cluster] tls`.
#[derive(Clone)]
struct TlsPem {
    identity: Option<Identity>,
    ca: Option<Certificate>,
}

/// The cluster's security settings for one process.
#[derive(Clone)]
pub struct Security {
    token_var: String,
    token: Option<ClusterToken>,
    tls: Option<TlsPem>,
    max_plan_bytes: usize,
}

impl std::fmt::Debug for Security {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Security")
            .field("token", &self.token)
            .field("tls", &self.tls.is_some())
            .field("max_plan_bytes", &self.max_plan_bytes)
            .finish()
    }
}

impl Security {
    /// `token` alone: no TLS, plans bounded by the default size.
    pub fn with_token(token: Option<ClusterToken>) -> Self {
        let token_var = token.as_ref().map_or(DEFAULT_TOKEN_VAR, ClusterToken::var).to_string();
        Self { token_var, token, tls: None, max_plan_bytes: DEFAULT_MAX_PLAN_BYTES }
    }

    /// The settings of `[cluster]`: the token from its variable (which may
    /// be unset: a worker then refuses to start, a coordinator sends none),
    /// and the TLS files, read now.
    pub fn from_config(cluster: &ClusterSection) -> Result<Self, SecurityError> {
        let token_var = cluster.token_var().to_string();
        Ok(Self {
            token: ClusterToken::from_env(&token_var)?,
            token_var,
            tls: cluster.tls.as_ref().map(read_tls).transpose()?,
            max_plan_bytes: cluster.max_plan_bytes(),
        })
    }

    /// The same settings with plans bounded by `bytes`.
    pub fn with_max_plan_bytes(mut self, bytes: usize) -> Self {
        self.max_plan_bytes = bytes;
        self
    }

    /// The token; a worker's error naming the variable when there is none.
    pub fn require_token(&self) -> Result<&ClusterToken, SecurityError> {
        self.token.as_ref().ok_or_else(|| SecurityError::MissingToken { var: self.token_var.clone() })
    }

    /// The token a coordinator sends, if it has one.
    pub fn token(&self) -> Option<&ClusterToken> {
        self.token.as_ref()
    }

    /// Whether `[cluster] tls` is set: workers are reached over `https://`.
    pub fn uses_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// The largest plan a worker decodes, in bytes.
    pub fn max_plan_bytes(&self) -> usize {
        self.max_plan_bytes
    }

    /// A worker's TLS: its `cert`/`key`, and with `ca`, client certificates required.
    pub(crate) fn server_tls(&self) -> Result<Option<ServerTlsConfig>, SecurityError> {
        let Some(tls) = &self.tls else { return Ok(None) };
        let identity = tls.identity.clone().ok_or(SecurityError::MissingTls {
            what: "cert and key",
            why: "a worker serves TLS with them",
        })?;
        let config = ServerTlsConfig::new().identity(identity);
        Ok(Some(match &tls.ca {
            Some(ca) => config.client_ca_root(ca.clone()),
            None => config,
        }))
    }

    /// A coordinator's TLS: workers checked against `ca`; `cert`/`key` presented.
    pub(crate) fn client_tls(&self) -> Result<Option<ClientTlsConfig>, SecurityError> {
        let Some(tls) = &self.tls else { return Ok(None) };
        let ca = tls.ca.clone().ok_or(SecurityError::MissingTls {
            what: "ca",
            why: "a coordinator checks workers' certificates against it",
        })?;
        let config = ClientTlsConfig::new().ca_certificate(ca);
        Ok(Some(match &tls.identity {
            Some(identity) => config.identity(identity.clone()),
            None => config,
        }))
    }
}

fn read_tls(tls: &ClusterTls) -> Result<TlsPem, SecurityError> {
    let read = |what: &'static str, path: &Path| {
        std::fs::read(path).map_err(|source| SecurityError::ReadTls {
            what,
            path: path.to_path_buf(),
            source,
        })
    };
    let identity = match (&tls.cert, &tls.key) {
        (Some(cert), Some(key)) => Some(Identity::from_pem(read("cert", cert)?, read("key", key)?)),
        (None, None) => None,
        (None, Some(_)) => {
            return Err(SecurityError::MissingTls { what: "cert", why: "the key is of no use without it" });
        }
        (Some(_), None) => {
            return Err(SecurityError::MissingTls { what: "key", why: "the cert is of no use without it" });
        }
    };
    let ca = tls.ca.as_deref().map(|p| read("ca", p)).transpose()?.map(Certificate::from_pem);
    Ok(TlsPem { identity, ca })
}
