//! Commit lookups over GitHub's GraphQL API: up to 100 aliased `object(...)`
//! lookups in one query, where REST needs one request per commit.
//!
//! A batch may span repositories: one `rN: repository(owner:, name:)` field per
//! repository, one `cN: object(oid:)` (full SHA) or `object(expression:)`
//! (short SHA) per lookup, `N` its index in the batch (aliases must start with
//! a letter; SHAs often start with a digit). An empty batch is never sent: it
//! would be an invalid query.
//!
//! The answer is read here rather than through octocrab's `graphql()`, which
//! drops `data` whenever `errors` is present: an unknown SHA or repository is
//! `null` under its alias plus a `NOT_FOUND` error, and the commits beside it
//! must still count. Any other error fails the query, naming the repository.
//!
//! Each query also asks `rateLimit { cost remaining resetAt }`; [`Points`]
//! keeps the answer so that the next query waits for the reset when fewer
//! points remain than it costs, instead of spending a request to be refused.

use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use crate::model::{Commit, GRAPHQL_COMMIT_FIELDS, parse_graphql_commit};

/// Lookups per query: GitHub's advice for aliased lookups without connections.
pub(crate) const BATCH: usize = 100;

/// The GraphQL endpoint's path for a REST API URL: `/graphql` on github.com
/// (and beside any other REST root), `/api/graphql` for a GitHub Enterprise
/// Server whose REST API is under `/api/v3`.
pub(crate) fn endpoint_path(rest_path: &str) -> String {
    let path = rest_path.trim_end_matches('/');
    match path.strip_suffix("/api/v3") {
        Some(root) => format!("{root}/api/graphql"),
        None => format!("{path}/graphql"),
    }
}

/// The query for `batch`, (repository, full or short SHA) pairs of valid names
/// and lowercase hex (see `commits::lookups`), so they need no escaping.
pub(crate) fn query(batch: &[(String, String)]) -> String {
    let mut repos: Vec<(&str, Vec<usize>)> = Vec::new();
    for (i, (repo, _)) in batch.iter().enumerate() {
        match repos.iter_mut().find(|(r, _)| r == repo) {
            Some((_, lookups)) => lookups.push(i),
            None => repos.push((repo, vec![i])),
        }
    }
    let mut q = String::from("query { rateLimit { cost remaining resetAt }");
    for (n, (repo, lookups)) in repos.iter().enumerate() {
        let (owner, name) = repo.split_once('/').unwrap_or((repo, ""));
        q.push_str(&format!(" r{n}: repository(owner: \"{owner}\", name: \"{name}\") {{"));
        for &i in lookups {
            let reference = &batch[i].1;
            let how = if reference.len() == 40 { "oid" } else { "expression" };
            q.push_str(&format!(" c{i}: object({how}: \"{reference}\") {{ {GRAPHQL_COMMIT_FIELDS} }}"));
        }
        q.push_str(" }");
    }
    q.push_str(" }");
    q
}

/// What GitHub said about a batch.
#[derive(Debug, PartialEq)]
pub(crate) struct Answer {
    /// One entry per lookup of the batch, in order: `None` when GitHub knows
    /// no such commit or repository.
    pub commits: Vec<Option<Commit>>,
    /// The point budget after this query, when the answer carried it.
    pub rate: Option<RateLimit>,
}

/// `rateLimit { cost remaining resetAt }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RateLimit {
    /// Points this query cost.
    pub cost: u64,
    /// Points left in the window.
    pub remaining: u64,
    /// When the window refills, in epoch seconds.
    pub reset_at: i64,
}

#[derive(Deserialize)]
struct Body {
    data: Option<Value>,
    #[serde(default)]
    errors: Vec<GraphqlError>,
}

#[derive(Deserialize)]
struct GraphqlError {
    #[serde(rename = "type")]
    kind: Option<String>,
    message: Option<String>,
    #[serde(default)]
    path: Vec<Value>,
}

/// Whether a 200 answer is GitHub refusing the query for a rate limit: a
/// spent budget (`RATE_LIMITED`; GraphQL's primary limit answers 200, not 403)
/// or a secondary limit (which may answer 200 or 403).
pub(crate) fn rate_limited(body: &str) -> bool {
    serde_json::from_str::<Body>(body).is_ok_and(|b| {
        b.errors.iter().any(|e| {
            e.kind.as_deref() == Some("RATE_LIMITED")
                || e.message.as_deref().is_some_and(|m| m.contains("secondary rate limit"))
        })
    })
}

/// Reads the answer to [`query`]`(batch)`. `Err` is a one-line reason naming
/// the repository: an error other than `NOT_FOUND`, or an unreadable answer.
pub(crate) fn parse(body: &str, batch: &[(String, String)]) -> Result<Answer, String> {
    let body: Body = serde_json::from_str(body).map_err(|e| format!("unexpected answer: {e}"))?;
    // Repository `rN` is the Nth distinct repository of the batch, as in [`query`].
    let mut repos: Vec<&str> = Vec::new();
    for (repo, _) in batch {
        if !repos.contains(&repo.as_str()) {
            repos.push(repo);
        }
    }
    if let Some(e) = body.errors.iter().find(|e| e.kind.as_deref() != Some("NOT_FOUND")) {
        let index = |prefix: char| -> Option<usize> {
            e.path.iter().filter_map(Value::as_str).rev().find_map(|a| a.strip_prefix(prefix)?.parse().ok())
        };
        let named = match (index('c'), index('r')) {
            (Some(i), _) => batch.get(i).map_or_else(|| repos.join(", "), |(r, _)| r.clone()),
            (None, Some(n)) => repos.get(n).map_or_else(|| repos.join(", "), |r| r.to_string()),
            (None, None) => repos.join(", "),
        };
        let kind = e.kind.as_deref().unwrap_or("error");
        let message = e.message.as_deref().unwrap_or("no message").replace('\n', " ");
        return Err(format!("{kind} for {named}: {message}"));
    }
    let data = body.data.unwrap_or(Value::Null);
    let commits = batch
        .iter()
        .enumerate()
        .map(|(i, (repo, _))| {
            let n = repos.iter().position(|r| r == repo).unwrap_or_default();
            parse_graphql_commit(&data[format!("r{n}")][format!("c{i}")])
                .map_err(|e| format!("unexpected answer for {repo}: {e}"))
        })
        .collect::<Result<_, _>>()?;
    Ok(Answer { commits, rate: RateLimit::read(&data["rateLimit"]) })
}

impl RateLimit {
    fn read(v: &Value) -> Option<RateLimit> {
        let reset = chrono::DateTime::parse_from_rfc3339(v["resetAt"].as_str()?).ok()?;
        Some(RateLimit {
            cost: v["cost"].as_u64()?,
            remaining: v["remaining"].as_u64()?,
            reset_at: reset.timestamp(),
        })
    }
}

/// The point budget as the last answer left it, shared by the queries of a
/// session. Queries reserve their cost before they go out, so concurrent ones
/// do not all spend the last points.
#[derive(Debug, Default)]
pub(crate) struct Points {
    remaining: Option<u64>,
    reset_at: i64,
    cost: u64,
}

impl Points {
    /// Reserves the next query's cost (the last query's, at least 1), or says
    /// how long to wait for the reset first. After a wait, call [`Points::refilled`].
    pub fn reserve(&mut self, now_epoch: i64) -> Option<Duration> {
        let cost = self.cost.max(1);
        match self.remaining {
            Some(left) if left < cost && self.reset_at > now_epoch => {
                Some(Duration::from_secs(u64::try_from(self.reset_at - now_epoch).unwrap_or(1)))
            }
            Some(left) if left >= cost => {
                self.remaining = Some(left - cost);
                None
            }
            // Nothing known, or the reset has passed: the window is full again.
            _ => {
                self.remaining = None;
                None
            }
        }
    }

    /// The window has reset: nothing is known until the next answer.
    pub fn refilled(&mut self) {
        self.remaining = None;
    }

    /// Takes in what an answer said.
    pub fn update(&mut self, rate: RateLimit) {
        *self = Points { remaining: Some(rate.remaining), reset_at: rate.reset_at, cost: rate.cost };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter().map(|(r, s)| (r.to_string(), s.to_string())).collect()
    }

    const FULL: &str = "0123456789abcdef0123456789abcdef01234567";

    #[test]
    fn finds_the_endpoint_beside_the_rest_api() {
        assert_eq!(endpoint_path(""), "/graphql");
        assert_eq!(endpoint_path("/"), "/graphql");
        assert_eq!(endpoint_path("/api/v3"), "/api/graphql");
        assert_eq!(endpoint_path("/api/v3/"), "/api/graphql");
    }

    #[test]
    fn aliases_start_with_a_letter_and_repositories_share_a_field() {
        let batch = pairs(&[("acme/web", FULL), ("acme/api", "abc1234"), ("acme/web", "def5678")]);
        let q = query(&batch);
        assert!(q.contains(r#"r0: repository(owner: "acme", name: "web") { c0: object(oid: ""#), "{q}");
        assert!(q.contains(r#"c2: object(expression: "def5678")"#), "{q}");
        assert!(
            q.contains(r#"r1: repository(owner: "acme", name: "api") { c1: object(expression: "abc1234")"#)
        );
        assert!(q.contains("rateLimit { cost remaining resetAt }"));
        assert_eq!(q.matches("repository(").count(), 2);
    }

    #[test]
    fn a_missing_commit_is_none_and_the_others_are_kept() {
        let batch = pairs(&[("acme/web", FULL), ("acme/web", "dead000"), ("acme/gone", "abc1234")]);
        let body = serde_json::json!({
            "data": {
                "rateLimit": {"cost": 1, "remaining": 4999, "resetAt": "2024-05-01T13:00:00Z"},
                "r0": {"c0": {"oid": FULL, "message": "m", "author": null, "committer": null}, "c1": null},
                "r1": null
            },
            "errors": [
                {"type": "NOT_FOUND", "path": ["r0", "c1"], "message": "Could not resolve"},
                {"type": "NOT_FOUND", "path": ["r1"], "message": "Could not resolve to a Repository"}
            ]
        });
        let answer = parse(&body.to_string(), &batch).expect("parses");
        let shas: Vec<Option<&str>> =
            answer.commits.iter().map(|c| c.as_ref().map(|c| c.sha.as_str())).collect();
        assert_eq!(shas, [Some(FULL), None, None]);
        assert_eq!(answer.rate, Some(RateLimit { cost: 1, remaining: 4999, reset_at: 1_714_568_400 }));
    }

    #[test]
    fn other_errors_name_the_repository() {
        let batch = pairs(&[("acme/web", FULL), ("acme/secret", "abc1234")]);
        let body = r#"{"data": {"r0": null, "r1": null}, "errors": [
            {"type": "FORBIDDEN", "path": ["r1", "c1"], "message": "Resource not accessible\nby integration"}]}"#;
        assert_eq!(
            parse(body, &batch),
            Err("FORBIDDEN for acme/secret: Resource not accessible by integration".into())
        );
        let whole = r#"{"errors": [{"message": "Something went wrong"}]}"#;
        assert_eq!(parse(whole, &batch), Err("error for acme/web, acme/secret: Something went wrong".into()));
        assert!(parse("<html>", &batch).is_err());
    }

    #[test]
    fn a_spent_budget_is_recognised() {
        assert!(rate_limited(
            r#"{"errors": [{"type": "RATE_LIMITED", "message": "API rate limit exceeded"}]}"#
        ));
        let secondary = r#"{"errors": [{"message": "You have exceeded a secondary rate limit."}]}"#;
        assert!(rate_limited(secondary));
        assert!(!rate_limited(r#"{"data": {}, "errors": [{"type": "NOT_FOUND"}]}"#));
    }

    #[test]
    fn points_wait_for_the_reset_only_when_too_few_remain() {
        let now = 1_700_000_000;
        let mut points = Points::default();
        assert_eq!(points.reserve(now), None, "nothing known: go");
        points.update(RateLimit { cost: 2, remaining: 3, reset_at: now + 30 });
        assert_eq!(points.reserve(now), None, "3 left, 2 reserved");
        assert_eq!(points.reserve(now), Some(Duration::from_secs(30)), "1 left, fewer than the cost");
        points.refilled();
        assert_eq!(points.reserve(now + 31), None);
        points.update(RateLimit { cost: 1, remaining: 0, reset_at: now - 1 });
        assert_eq!(points.reserve(now), None, "the reset has passed");
    }
}
