//! The error a table of an "in use" source gives when AWS denies it: what
//! to grant, or how to run without the source.

use skyglue_core::Error;

/// An access-denied error of a table that an "in use" source reads, saying
/// how to go on: grant the call, or leave `source` out of `[in_use] sources`
/// (then reported as "not checked"). Other errors pass unchanged.
pub(crate) fn in_use_denied_hint(error: Error, source: &str) -> Error {
    match error {
        Error::AccessDenied { operation, connection, detail } => Error::AccessDenied {
            detail: format!(
                "{detail} (allow {operation}, or leave \"{source}\" out of [in_use] sources to run without it)"
            ),
            operation,
            connection,
        },
        other => other,
    }
}
