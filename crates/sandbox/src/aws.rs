//! What the AWS services share: the caller (account and region from the SigV4
//! `Authorization` header), AWS errors in the JSON 1.0, JSON 1.1 and REST-JSON
//! forms, opaque pagination tokens and timestamps.

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::world::{RegionWorld, World};

/// Who is calling: the account their access key maps to and the region they signed for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Caller {
    /// Account id.
    pub account: String,
    /// Region from the credential scope.
    pub region: String,
}

/// The caller's region, or an empty one when the account has nothing there.
pub(crate) fn region<'w>(world: &'w World, caller: &Caller) -> &'w RegionWorld {
    static EMPTY: RegionWorld = RegionWorld {
        region: String::new(),
        repositories: Vec::new(),
        clusters: Vec::new(),
        task_definitions: Vec::new(),
        lambda_functions: Vec::new(),
        batch_job_definitions: Vec::new(),
        apprunner_services: Vec::new(),
        event_rules: Vec::new(),
        schedules: Vec::new(),
    };
    world.region(&caller.account, &caller.region).unwrap_or(&EMPTY)
}

/// The access key id, region and service from
/// `AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/<service>/aws4_request, ...`.
pub(crate) fn parse_authorization(headers: &HeaderMap) -> Option<(String, String, String)> {
    let value = headers.get("authorization")?.to_str().ok()?;
    let credential = value.split("Credential=").nth(1)?;
    let credential = credential.split([',', ' ']).next()?;
    let mut parts = credential.split('/');
    let key = parts.next()?.to_owned();
    let _date = parts.next()?;
    let region = parts.next()?.to_owned();
    let service = parts.next()?.to_owned();
    Some((key, region, service))
}

/// The caller of a request. Unsigned requests act as the first account in `us-east-1`.
pub(crate) fn caller(world: &World, headers: &HeaderMap) -> Caller {
    let (key, region) = match parse_authorization(headers) {
        Some((key, region, _)) => (key, region),
        None => (String::new(), "us-east-1".to_owned()),
    };
    let account = world.account_for_key(&key).map(|a| a.id.clone()).unwrap_or_default();
    Caller { account, region }
}

/// An AWS error response.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AwsError {
    /// HTTP status.
    pub status: u16,
    /// Error code, e.g. `RepositoryNotFoundException`.
    pub code: String,
    /// Human-readable message.
    pub message: String,
}

impl AwsError {
    /// A 400 error with this code.
    pub(crate) fn new(code: &str, message: impl Into<String>) -> Self {
        AwsError { status: 400, code: code.to_owned(), message: message.into() }
    }

    /// `InvalidParameterException`.
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::new("InvalidParameterException", message)
    }

    /// `ThrottlingException: Rate exceeded`.
    pub(crate) fn throttled() -> Self {
        Self::new("ThrottlingException", "Rate exceeded")
    }

    /// The AWS JSON 1.1 form: `{"__type": ..., "message": ...}` plus `x-amzn-errortype`.
    pub(crate) fn into_json_response(self) -> Response {
        self.into_awsjson_response(JSON_11)
    }

    /// The AWS JSON 1.0 form (App Runner): as 1.1, another content type.
    pub(crate) fn into_json10_response(self) -> Response {
        self.into_awsjson_response(JSON_10)
    }

    fn into_awsjson_response(self, content_type: &'static str) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST);
        let body = json!({"__type": self.code, "message": self.message});
        (status, [("content-type", content_type), ("x-amzn-errortype", self.code.as_str())], body.to_string())
            .into_response()
    }

    /// The REST-JSON form (Lambda, Batch): the code in `x-amzn-ErrorType` (and, for
    /// clients that read the body, `__type`), `{"Type": "User"|"Service", "message": ...}`.
    /// A 429 carries `Retry-After: 1`, and Lambda's `Reason` for a throttle.
    pub(crate) fn into_rest_json_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST);
        let kind = if status.is_server_error() { "Service" } else { "User" };
        let mut body = json!({"Type": kind, "message": self.message, "__type": self.code});
        if self.code == "TooManyRequestsException" {
            body["Reason"] = json!("CallerRateLimitExceeded");
        }
        let mut response = (
            status,
            [("content-type", "application/json"), ("x-amzn-ErrorType", self.code.as_str())],
            body.to_string(),
        )
            .into_response();
        if status == StatusCode::TOO_MANY_REQUESTS {
            response.headers_mut().insert("retry-after", axum::http::HeaderValue::from_static("1"));
        }
        response
    }
}

const JSON_11: &str = "application/x-amz-json-1.1";
const JSON_10: &str = "application/x-amz-json-1.0";

/// A successful AWS JSON 1.1 response.
pub(crate) fn json_response(body: &Value) -> Response {
    ([("content-type", JSON_11)], body.to_string()).into_response()
}

/// A successful AWS JSON 1.0 response.
pub(crate) fn json10_response(body: &Value) -> Response {
    ([("content-type", JSON_10)], body.to_string()).into_response()
}

/// A successful REST-JSON response.
pub(crate) fn rest_json_response(body: &Value) -> Response {
    ([("content-type", "application/json")], body.to_string()).into_response()
}

/// Parses a request body into an operation's input shape.
pub(crate) fn input<T: DeserializeOwned>(body: &Value) -> Result<T, AwsError> {
    serde_json::from_value(body.clone())
        .map_err(|e| AwsError::new("SerializationException", format!("invalid request: {e}")))
}

/// A timestamp as AWS JSON sends it: epoch seconds, fractional.
pub(crate) fn epoch(t: &DateTime<Utc>) -> Value {
    json!(t.timestamp_millis() as f64 / 1000.0)
}

/// Page size rules of one operation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PageRule {
    /// Page size when `maxResults` is absent.
    pub default: usize,
    /// Largest allowed `maxResults`.
    pub max: usize,
}

/// The slice of a listing one call returns, and the token for the rest.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Page {
    /// First index (inclusive).
    pub start: usize,
    /// Last index (exclusive).
    pub end: usize,
    /// Token for the next page, if more remain.
    pub next_token: Option<String>,
}

const TOKEN_PREFIX: &str = "sbx1.";

/// Computes the page of a listing of `total` items. Tokens are opaque strings that
/// encode an offset; garbage tokens and out-of-range `maxResults` are rejected.
pub(crate) fn page(
    total: usize,
    next_token: Option<&str>,
    max_results: Option<i64>,
    rule: PageRule,
) -> Result<Page, AwsError> {
    let size = match max_results {
        None => rule.default,
        Some(n) if n >= 1 && n as u64 <= rule.max as u64 => n as usize,
        Some(n) => {
            return Err(AwsError::invalid(format!(
                "Invalid parameter at 'maxResults' failed to satisfy constraint: \
                 'Member must have value between 1 and {}' (got {n})",
                rule.max
            )));
        }
    };
    let start = match next_token {
        None => 0,
        Some(token) => decode_token(token)
            .filter(|&offset| offset <= total)
            .ok_or_else(|| AwsError::invalid("Invalid parameter at 'nextToken': invalid token"))?,
    };
    let end = (start + size).min(total);
    let next_token = (end < total).then(|| encode_token(end));
    Ok(Page { start, end, next_token })
}

pub(crate) fn encode_token(offset: usize) -> String {
    format!("{TOKEN_PREFIX}{offset:x}")
}

pub(crate) fn decode_token(token: &str) -> Option<usize> {
    let hex = token.strip_prefix(TOKEN_PREFIX)?;
    usize::from_str_radix(hex, 16).ok()
}

/// Adds `nextToken` to an output object when there is one.
pub(crate) fn with_token(mut out: Value, page: &Page) -> Value {
    if let (Some(token), Some(obj)) = (&page.next_token, out.as_object_mut()) {
        obj.insert("nextToken".to_owned(), json!(token));
    }
    out
}

/// Rejects a batch that is empty or larger than `max`.
pub(crate) fn check_batch(name: &str, len: usize, max: usize) -> Result<(), AwsError> {
    if len == 0 || len > max {
        return Err(AwsError::invalid(format!(
            "Invalid parameter at '{name}' failed to satisfy constraint: \
             'Member must have length between 1 and {max}' (got {len})"
        )));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const RULE: PageRule = PageRule { default: 10, max: 100 };

    #[test]
    fn pages_walk_the_whole_listing() {
        let first = page(25, None, None, RULE).unwrap();
        assert_eq!((first.start, first.end), (0, 10));
        let second = page(25, first.next_token.as_deref(), None, RULE).unwrap();
        assert_eq!((second.start, second.end), (10, 20));
        let third = page(25, second.next_token.as_deref(), None, RULE).unwrap();
        assert_eq!((third.start, third.end, third.next_token), (20, 25, None));
    }

    #[test]
    fn bad_tokens_and_sizes_are_rejected() {
        assert!(page(5, Some("garbage"), None, RULE).is_err());
        assert!(page(5, Some("sbx1.ff"), None, RULE).is_err());
        assert!(page(5, None, Some(0), RULE).is_err());
        assert!(page(5, None, Some(101), RULE).is_err());
    }

    #[test]
    fn authorization_header_gives_key_region_service() {
        let mut headers = HeaderMap::new();
        let value = "AWS4-HMAC-SHA256 Credential=SANDBOX1/20250101/eu-west-1/ecr/aws4_request, \
                     SignedHeaders=host, Signature=abc";
        headers.insert("authorization", value.parse().unwrap());
        let parsed = parse_authorization(&headers).unwrap();
        assert_eq!(parsed, ("SANDBOX1".into(), "eu-west-1".into(), "ecr".into()));
    }
}
