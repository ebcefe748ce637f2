//! What one tried call says about a permission ([`CallCheck`]): the leaf
//! that every service's probes (`services/<service>/mod.rs`) and
//! `skyglue connections` (`permissions.rs`) share.

use std::fmt;

use skyglue_core::Error;

/// Stands in for a parent when the account has none of that kind.
pub(crate) const ABSENT: &str = "skyglue-connections-check";

/// What one tried call answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallCheck {
    /// Allowed: it answered, or said the thing asked for does not exist.
    Ok,
    /// Refused, with AWS's error code (`AccessDeniedException`).
    Denied(String),
    /// Failed for another reason (unreachable, throttled, ...).
    Failed(String),
}

impl CallCheck {
    /// Whether the call is allowed.
    pub fn is_ok(&self) -> bool {
        matches!(self, CallCheck::Ok)
    }

    /// What `result`, a tried call's, says about its permission.
    pub(crate) fn of<T>(result: &skyglue_core::Result<T>) -> Self {
        match result {
            Ok(_) => CallCheck::Ok,
            Err(Error::AccessDenied { detail, .. }) => CallCheck::Denied(error_code(detail)),
            Err(e) => CallCheck::Failed(e.to_string()),
        }
    }
}

impl fmt::Display for CallCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallCheck::Ok => f.write_str("ok"),
            CallCheck::Denied(code) => write!(f, "denied: {code}"),
            CallCheck::Failed(detail) => write!(f, "failed: {detail}"),
        }
    }
}

/// The code of an access-denied detail (`AccessDeniedException: User ... is
/// not authorized`), or `AccessDenied` when it starts with prose.
pub(crate) fn error_code(detail: &str) -> String {
    let head = detail.split(':').next().unwrap_or_default().trim();
    if head.is_empty() || head.contains(char::is_whitespace) { "AccessDenied".into() } else { head.into() }
}
