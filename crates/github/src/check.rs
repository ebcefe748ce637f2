//! Does GitHub answer, and how much may skyglue ask? `skyglue connections`
//! asks here.
//!
//! Two requests through skyglue's own client (so its retries and error
//! messages apply): `GET /rate_limit`, which GitHub does not count against the
//! budget it reports, and, with a token, the smallest GraphQL query,
//! `{ rateLimit { remaining } }`, which costs one point.

use std::collections::HashSet;
use std::sync::Arc;

use datafusion::physical_plan::metrics::ExecutionPlanMetricsSet;
use serde_json::{Value, json};
use skyglue_core::{ApiTable, Connections, FetchContext, KeyValues, ScanMetrics};

use crate::client::GithubClient;
use crate::{GithubCommit, RetryPolicy};

/// The REST budget, as `GET /rate_limit` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed per window.
    pub limit: u64,
    /// Requests left in this window.
    pub remaining: u64,
    /// When the window refills (Unix seconds).
    pub reset: i64,
}

/// What GraphQL answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GraphqlCheck {
    /// Not asked: GitHub's GraphQL API needs a token.
    NoToken,
    /// It answered, with this many points left.
    Answers(u64),
    /// 404: a GitHub Enterprise without GraphQL (skyglue uses REST there).
    Absent,
    /// It failed.
    Failed(String),
}

/// What GitHub answered to the check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GithubCheck {
    /// The API URL asked.
    pub api_url: String,
    /// Whether a token is set.
    pub token: bool,
    /// The REST budget, or why it could not be read.
    pub rate_limit: Result<RateLimit, String>,
    /// Whether GraphQL answers.
    pub graphql: GraphqlCheck,
}

/// Asks the GitHub API of `connections` for its rate limit and, with a token,
/// whether GraphQL answers.
pub async fn check(connections: Arc<Connections>) -> GithubCheck {
    let settings = connections.github.clone();
    let policy = RetryPolicy { max_attempts: 2, ..RetryPolicy::default() };
    let client = match GithubClient::new(&settings, policy) {
        Ok(client) => client,
        Err(e) => {
            return GithubCheck {
                api_url: settings.api_url,
                token: settings.token.is_some(),
                rate_limit: Err(e.to_string()),
                graphql: GraphqlCheck::Failed(e.to_string()),
            };
        }
    };
    let ctx = FetchContext {
        spec: Arc::new(GithubCommit::new().spec().clone()),
        aws: None,
        kube: None,
        metrics: ScanMetrics::new(&ExecutionPlanMetricsSet::new(), connections.counters.clone()),
        connections,
        keys: KeyValues::default(),
        columns: Arc::new(HashSet::new()),
        limit: None,
        query: Arc::default(),
    };
    let rate_limit = match client.get(&ctx, "/rate_limit", "GET /rate_limit").await {
        Ok(reply) if reply.is_absent() => Err(format!("HTTP {}: no /rate_limit here", reply.status)),
        Ok(reply) => parse_rate_limit(&reply.body),
        Err(e) => Err(e.to_string()),
    };
    let graphql = if settings.token.is_none() {
        GraphqlCheck::NoToken
    } else {
        let query = json!({ "query": "{ rateLimit { remaining } }" });
        match client.graphql(&ctx, &query, "POST /graphql").await {
            Ok(reply) if reply.status == 404 => GraphqlCheck::Absent,
            Ok(reply) => parse_remaining(&reply.body),
            Err(e) => GraphqlCheck::Failed(e.to_string()),
        }
    };
    GithubCheck { api_url: settings.api_url, token: settings.token.is_some(), rate_limit, graphql }
}

/// The `rate` object of a `GET /rate_limit` body.
fn parse_rate_limit(body: &str) -> Result<RateLimit, String> {
    let value: Value =
        serde_json::from_str(body).map_err(|e| format!("unexpected /rate_limit answer: {e}"))?;
    let rate = &value["rate"];
    let field = |name: &str| rate[name].as_u64().ok_or_else(|| format!("/rate_limit has no rate.{name}"));
    let reset = rate["reset"].as_i64().ok_or("/rate_limit has no rate.reset")?;
    Ok(RateLimit { limit: field("limit")?, remaining: field("remaining")?, reset })
}

/// `data.rateLimit.remaining` of a GraphQL answer, or its first error.
fn parse_remaining(body: &str) -> GraphqlCheck {
    let value: Value = match serde_json::from_str(body) {
        Ok(value) => value,
        Err(e) => return GraphqlCheck::Failed(format!("unexpected GraphQL answer: {e}")),
    };
    match value["data"]["rateLimit"]["remaining"].as_u64() {
        Some(remaining) => GraphqlCheck::Answers(remaining),
        None => {
            let message = value["errors"][0]["message"].as_str().unwrap_or("no data.rateLimit in the answer");
            GraphqlCheck::Failed(message.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_reads_the_rate_object() {
        let body = r#"{"resources":{},"rate":{"limit":5000,"remaining":4990,"reset":1700000000,"used":10}}"#;
        assert_eq!(
            parse_rate_limit(body),
            Ok(RateLimit { limit: 5000, remaining: 4990, reset: 1_700_000_000 })
        );
        assert!(parse_rate_limit("{}").is_err());
    }

    #[test]
    fn graphql_answers_or_says_why_not() {
        assert_eq!(
            parse_remaining(r#"{"data":{"rateLimit":{"remaining":4999}}}"#),
            GraphqlCheck::Answers(4999)
        );
        let failed = parse_remaining(r#"{"errors":[{"message":"Bad credentials"}]}"#);
        assert_eq!(failed, GraphqlCheck::Failed("Bad credentials".into()));
    }
}
