//! The cluster token: a shared secret every worker requires and every
//! coordinator sends, as `authorization: Bearer <token>` on each gRPC call.
//!
//! The worker checks it in a tonic interceptor, which sees the call's
//! metadata before its body is read: a call without the token is refused
//! before any plan is decoded. The comparison takes the same time whatever
//! the bytes (`subtle`), and the token is never printed: [`ClusterToken`]'s
//! `Debug` shows the variable it came from, not its value.

use std::sync::Arc;

use http::HeaderValue;
use subtle::ConstantTimeEq;
use tonic::service::Interceptor;
use tonic::{Request, Status};

use crate::security_error::SecurityError;

/// The message of every refused call: the coordinator shows it with the
/// worker's address.
pub const AUTHENTICATION_FAILED: &str =
    "authentication failed: the worker refused the cluster token (missing or wrong)";

/// The shared secret, read from an environment variable.
#[derive(Clone)]
pub struct ClusterToken {
    var: String,
    value: Arc<[u8]>,
}

impl std::fmt::Debug for ClusterToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ClusterToken(from {}, redacted)", self.var)
    }
}

impl ClusterToken {
    /// The token in `var`, without surrounding whitespace; `None` when the
    /// variable is unset or blank. A token with a control character inside
    /// (a pasted newline between two secrets) is an error naming `var`.
    pub fn from_env(var: &str) -> Result<Option<Self>, SecurityError> {
        match std::env::var_os(var) {
            None => Ok(None),
            Some(value) => {
                let value = value.into_string().map_err(|_| SecurityError::BadToken { var: var.into() })?;
                Self::new(var, &value)
            }
        }
    }

    /// `value` as the token of `var` (see [`ClusterToken::from_env`]).
    pub fn new(var: &str, value: &str) -> Result<Option<Self>, SecurityError> {
        let value = value.trim();
        if value.is_empty() {
            return Ok(None);
        }
        if value.chars().any(char::is_control) {
            return Err(SecurityError::BadToken { var: var.into() });
        }
        Ok(Some(Self { var: var.into(), value: Arc::from(value.as_bytes()) }))
    }

    /// The variable the token came from.
    pub fn var(&self) -> &str {
        &self.var
    }

    /// The `authorization` header value, marked sensitive (never logged).
    pub(crate) fn header(&self) -> Result<HeaderValue, SecurityError> {
        let mut text = b"Bearer ".to_vec();
        text.extend_from_slice(&self.value);
        let mut value =
            HeaderValue::from_bytes(&text).map_err(|_| SecurityError::BadToken { var: self.var.clone() })?;
        value.set_sensitive(true);
        Ok(value)
    }

    /// The interceptor that refuses every call without this token.
    pub fn interceptor(&self) -> RequireToken {
        let mut expected = b"Bearer ".to_vec();
        expected.extend_from_slice(&self.value);
        RequireToken { expected: Arc::from(expected) }
    }
}

/// A tonic interceptor: calls without `authorization: Bearer <token>` are
/// refused with `Unauthenticated`, before the body is read.
#[derive(Clone)]
pub struct RequireToken {
    expected: Arc<[u8]>,
}

impl RequireToken {
    fn accepts(&self, presented: &[u8]) -> bool {
        // (`ct_eq` of slices of different lengths is false at once: the
        // length of the token is not the secret)
        presented.ct_eq(&self.expected).into()
    }
}

impl Interceptor for RequireToken {
    fn call(&mut self, request: Request<()>) -> Result<Request<()>, Status> {
        match request.metadata().get("authorization") {
            Some(value) if self.accepts(value.as_bytes()) => Ok(request),
            _ => Err(Status::unauthenticated(AUTHENTICATION_FAILED)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(value: &str) -> ClusterToken {
        ClusterToken::new("T", value).ok().flatten().unwrap_or_else(|| unreachable!("a token"))
    }

    #[test]
    fn the_token_is_trimmed_and_a_control_character_inside_is_refused_naming_the_variable() {
        assert_eq!(token("  s3cret\n").value.as_ref(), b"s3cret");
        assert!(matches!(ClusterToken::new("T", " \n"), Ok(None)), "blank is no token");
        let err = ClusterToken::new("TEAM_TOKEN", "abc\ndef").expect_err("interior newline");
        assert!(err.to_string().contains("TEAM_TOKEN"), "{err}");
        assert!(!err.to_string().contains("abc"), "the error shows the token: {err}");
        assert!(!format!("{:?}", token("s3cret")).contains("s3cret"), "Debug shows the token");
    }

    #[test]
    fn only_the_exact_bearer_token_passes() {
        let mut check = token("s3cret").interceptor();
        let with = |value: Option<&str>| {
            let mut request = Request::new(());
            if let Some(v) = value {
                request.metadata_mut().insert("authorization", v.parse().unwrap_or_else(|_| unreachable!()));
            }
            request
        };
        assert!(check.call(with(Some("Bearer s3cret"))).is_ok());
        for refused in
            [None, Some("Bearer s3cre"), Some("Bearer s3cretx"), Some("s3cret"), Some("Bearer S3CRET")]
        {
            let status = check.call(with(refused)).expect_err("refused");
            assert_eq!(status.code(), tonic::Code::Unauthenticated);
            assert!(status.message().contains("authentication failed"), "{status}");
        }
    }
}
