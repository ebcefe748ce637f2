//! Turning AWS SDK errors into one clear line that names the operation and the
//! connection, and telling "no rows" apart from failure. A failure keeps what
//! the SDK knows: AWS's code and message, or, when there is no code (an answer
//! the SDK could not read), the whole chain of its causes, never a bare
//! "Unknown".

use std::error::Error as StdError;

use aws_credential_types::provider::error::CredentialsError;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::error::{Error, one_line};

/// The outcome of classifying a failed call.
#[derive(Debug)]
pub enum Classified {
    /// The error code is one the table treats as "no rows".
    NotFound,
    /// A real failure.
    Failed(Error),
}

const ACCESS_DENIED: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
];

/// Throttle codes, S3's `503 SlowDown` among them.
const THROTTLED: &[&str] =
    &["ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded", "SlowDown"];

/// Classifies an SDK error from `operation` (`service:Operation`) on `connection`.
pub fn classify<E>(
    operation: &str,
    connection: &str,
    not_found: &[&str],
    err: SdkError<E, HttpResponse>,
) -> Classified
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    let operation = operation.to_string();
    let connection = connection.to_string();
    if let SdkError::ServiceError(service) = &err {
        let e = service.err();
        let Some(code) = e.code() else {
            // No error code: the SDK could not read the answer (an XML root it
            // did not expect, a body that is not XML...). Its reason is in the
            // error's sources; a bare "Unknown" would hide it.
            let status = service.raw().status().as_u16();
            let detail = format!("the answer (HTTP {status}) could not be read: {}", chain_message(&err));
            return Classified::Failed(Error::Api { operation, connection, detail });
        };
        let message = e.message().unwrap_or("").to_string();
        if not_found.contains(&code) {
            return Classified::NotFound;
        }
        let detail = if message.is_empty() { code.to_string() } else { format!("{code}: {message}") };
        let failed = if ACCESS_DENIED.contains(&code) {
            Error::AccessDenied { operation, connection, detail }
        } else if THROTTLED.contains(&code) {
            Error::Throttled { operation, connection, attempts: 1, detail }
        } else {
            Error::Api { operation, connection, detail }
        };
        return Classified::Failed(failed);
    }
    if let Some(cred) = find_source::<CredentialsError>(&err) {
        let detail = chain_message(cred);
        if ACCESS_DENIED.iter().any(|code| detail.contains(code)) {
            return Classified::Failed(Error::AccessDenied {
                operation: "sts:AssumeRole (for credentials)".into(),
                connection,
                detail,
            });
        }
        return Classified::Failed(Error::Credentials { connection, detail });
    }
    let status = err.raw_response().map(|r| r.status().as_u16());
    let detail = chain_message(&err);
    if status == Some(403) {
        return Classified::Failed(Error::AccessDenied {
            operation,
            connection,
            detail: format!("HTTP 403: {detail}"),
        });
    }
    match err {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => {
            Classified::Failed(Error::Unreachable { operation, connection, detail })
        }
        _ => Classified::Failed(Error::Api { operation, connection, detail }),
    }
}

/// The error for a failed call whose "not found" is a failure like any other.
pub fn failure<E>(operation: &str, connection: &str, err: SdkError<E, HttpResponse>) -> Error
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    match classify(operation, connection, &[], err) {
        Classified::Failed(e) => e,
        // Unreachable with no not-found codes; kept as a plain API error.
        Classified::NotFound => Error::Api {
            operation: operation.to_string(),
            connection: connection.to_string(),
            detail: "not found".into(),
        },
    }
}

fn find_source<'a, T: StdError + 'static>(err: &'a (dyn StdError + 'static)) -> Option<&'a T> {
    let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(t) = e.downcast_ref::<T>() {
            return Some(t);
        }
        cur = e.source();
    }
    None
}

/// The Display messages of an error and its sources, joined, without the
/// SDK's Debug dumps, on one line and at most a few hundred characters.
fn chain_message(err: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = cur {
        let text = one_line(&e.to_string());
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = e.source();
    }
    let mut message = parts.join(": ");
    if message.len() > 400 {
        let cut = (0..=400).rev().find(|i| message.is_char_boundary(*i)).unwrap_or(0);
        message.truncate(cut);
        message.push('…');
    }
    message
}
