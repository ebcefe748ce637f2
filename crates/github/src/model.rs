//! GitHub's commit JSON, reduced to what `github_commit` shows: the REST
//! commit object, and the GraphQL `Commit` fields skyglue asks for, mapped to
//! the same record (the GraphQL query selects exactly [`GRAPHQL_COMMIT_FIELDS`]).
//!
//! GitHub answers with large nested objects (`commit.author.date`, a `files`
//! list, verification details); a commit here is the flat record the table
//! prints and the disk cache stores. Every field but the SHA is optional: a
//! commit whose email maps to no GitHub user has a `null` author, and GitHub
//! Enterprise versions differ in what they send.

use serde::{Deserialize, Serialize};

/// One commit, flattened. Timestamps are microseconds since the epoch (UTC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Commit {
    pub sha: String,
    pub author_login: Option<String>,
    pub author_name: Option<String>,
    pub author_email: Option<String>,
    pub authored_date: Option<i64>,
    pub committer_name: Option<String>,
    pub committed_date: Option<i64>,
    pub message: Option<String>,
    pub url: Option<String>,
}

#[derive(Deserialize)]
struct ApiCommit {
    sha: String,
    html_url: Option<String>,
    author: Option<ApiUser>,
    commit: Option<GitCommit>,
}

#[derive(Deserialize)]
struct ApiUser {
    login: Option<String>,
}

#[derive(Deserialize)]
struct GitCommit {
    author: Option<Signature>,
    committer: Option<Signature>,
    message: Option<String>,
}

#[derive(Deserialize)]
struct Signature {
    name: Option<String>,
    email: Option<String>,
    date: Option<String>,
}

impl From<ApiCommit> for Commit {
    fn from(c: ApiCommit) -> Self {
        let git = c.commit;
        let (author, committer, message) = match git {
            Some(g) => (g.author, g.committer, g.message),
            None => (None, None, None),
        };
        Commit {
            sha: c.sha,
            author_login: c.author.and_then(|a| a.login),
            author_name: author.as_ref().and_then(|a| a.name.clone()),
            author_email: author.as_ref().and_then(|a| a.email.clone()),
            authored_date: author.as_ref().and_then(|a| micros(a.date.as_deref())),
            committer_name: committer.as_ref().and_then(|c| c.name.clone()),
            committed_date: committer.as_ref().and_then(|c| micros(c.date.as_deref())),
            message,
            url: c.html_url,
        }
    }
}

/// The GraphQL selection on an `object(...)` that [`parse_graphql_commit`] reads:
/// every field the REST conversion fills, from the same git data.
pub(crate) const GRAPHQL_COMMIT_FIELDS: &str = "... on Commit { oid message url \
    author { name email date user { login } } committer { name date } }";

#[derive(Deserialize)]
struct GraphqlCommit {
    oid: String,
    url: Option<String>,
    message: Option<String>,
    author: Option<GraphqlActor>,
    committer: Option<GraphqlActor>,
}

/// A `GitActor`: the signature, and the GitHub user its email maps to.
#[derive(Deserialize)]
struct GraphqlActor {
    name: Option<String>,
    email: Option<String>,
    date: Option<String>,
    user: Option<ApiUser>,
}

impl From<GraphqlCommit> for Commit {
    fn from(c: GraphqlCommit) -> Self {
        let (author, committer) = (c.author, c.committer);
        Commit {
            sha: c.oid,
            // REST's top-level `author` is the user the author's email maps to.
            author_login: author.as_ref().and_then(|a| a.user.as_ref()).and_then(|u| u.login.clone()),
            author_name: author.as_ref().and_then(|a| a.name.clone()),
            author_email: author.as_ref().and_then(|a| a.email.clone()),
            authored_date: author.as_ref().and_then(|a| micros(a.date.as_deref())),
            committer_name: committer.as_ref().and_then(|c| c.name.clone()),
            committed_date: committer.as_ref().and_then(|c| micros(c.date.as_deref())),
            message: c.message,
            url: c.url,
        }
    }
}

/// One `object(...)` of a GraphQL answer: `None` when it is not a commit (an
/// expression can name a tree or a blob, which answers `{}`).
pub(crate) fn parse_graphql_commit(object: &serde_json::Value) -> serde_json::Result<Option<Commit>> {
    if object.get("oid").is_none() {
        return Ok(None);
    }
    GraphqlCommit::deserialize(object).map(|c| Some(Commit::from(c)))
}

/// The body of `GET /repos/{owner}/{repo}/commits/{ref}`.
pub(crate) fn parse_commit(body: &str) -> serde_json::Result<Commit> {
    serde_json::from_str::<ApiCommit>(body).map(Commit::from)
}

/// The body of `GET /repos/{owner}/{repo}/commits`.
pub(crate) fn parse_commits(body: &str) -> serde_json::Result<Vec<Commit>> {
    serde_json::from_str::<Vec<ApiCommit>>(body).map(|v| v.into_iter().map(Commit::from).collect())
}

/// GitHub's `message` from an error body (REST), or the first of its
/// `errors` (GraphQL), if it has one.
pub(crate) fn error_message(body: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    let message = v["message"].as_str().or_else(|| v["errors"][0]["message"].as_str());
    message.map(str::to_string)
}

fn micros(date: Option<&str>) -> Option<i64> {
    let t = chrono::DateTime::parse_from_rfc3339(date?).ok()?;
    Some(skyglue_core::micros(t.timestamp(), t.timestamp_subsec_nanos()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flattens_a_commit() {
        let body = r#"{
            "sha": "abc1234def", "html_url": "https://github.com/acme/web/commit/abc1234def",
            "author": {"login": "octo"}, "committer": null, "files": [],
            "commit": {
                "author": {"name": "Octo", "email": "o@acme.example", "date": "2024-05-01T12:00:00Z"},
                "committer": {"name": "GitHub", "email": "noreply@github.com", "date": "2024-05-01T12:00:01Z"},
                "message": "Fix it"
            }
        }"#;
        let c = parse_commit(body).expect("parses");
        assert_eq!(c.author_login.as_deref(), Some("octo"));
        assert_eq!(c.authored_date, Some(1_714_564_800_000_000));
        assert_eq!(c.committed_date, Some(1_714_564_801_000_000));
        assert_eq!(c.committer_name.as_deref(), Some("GitHub"));
        assert_eq!(c.url.as_deref(), Some("https://github.com/acme/web/commit/abc1234def"));
    }

    #[test]
    fn graphql_and_rest_give_the_same_commit() {
        let rest = r#"{
            "sha": "abc1234def", "html_url": "https://github.com/acme/web/commit/abc1234def",
            "author": {"login": "octo"},
            "commit": {
                "author": {"name": "Octo", "email": "o@acme.example", "date": "2024-05-01T12:00:00Z"},
                "committer": {"name": "GitHub", "email": "noreply@github.com", "date": "2024-05-01T14:00:01+02:00"},
                "message": "Fix it\n\nBody"
            }
        }"#;
        let graphql = serde_json::json!({
            "oid": "abc1234def", "url": "https://github.com/acme/web/commit/abc1234def",
            "message": "Fix it\n\nBody",
            "author": {"name": "Octo", "email": "o@acme.example", "date": "2024-05-01T12:00:00Z",
                       "user": {"login": "octo"}},
            "committer": {"name": "GitHub", "date": "2024-05-01T12:00:01Z"}
        });
        let from_rest = parse_commit(rest).expect("parses");
        assert_eq!(parse_graphql_commit(&graphql).expect("parses"), Some(from_rest));
        let no_user = serde_json::json!({"oid": "a", "author": {"name": "A", "user": null}});
        assert_eq!(parse_graphql_commit(&no_user).expect("parses").and_then(|c| c.author_login), None);
        assert_eq!(parse_graphql_commit(&serde_json::json!({})).expect("parses"), None);
    }

    #[test]
    fn a_commit_without_a_github_user_has_no_login() {
        let c =
            parse_commit(r#"{"sha": "abc", "author": null, "commit": {"message": "x"}}"#).expect("parses");
        assert_eq!(c.author_login, None);
        assert_eq!(c.authored_date, None);
        let listed = parse_commits(r#"[{"sha": "a", "author": {}}, {"sha": "b"}]"#).expect("parses");
        assert_eq!(listed.len(), 2);
    }

    #[test]
    fn reads_githubs_error_message() {
        assert_eq!(error_message(r#"{"message": "Not Found"}"#).as_deref(), Some("Not Found"));
        assert_eq!(error_message("<html>"), None);
    }
}
