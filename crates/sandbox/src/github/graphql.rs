//! GitHub's GraphQL endpoint, `POST /graphql`, for what a client reads about
//! commits: `repository(owner:, name:)` with aliased `object(oid:)` and
//! `object(expression:)` lookups, `... on Commit { ... }` fields, and
//! `rateLimit { cost remaining resetAt ... }`.
//!
//! It answers as GitHub documents: a request without a token is 401; a query
//! that does not parse, or asks for a field the schema lacks, is 200 with
//! `errors` and no `data`; an unknown repository or object is `null` under its
//! alias plus an `errors` entry of type `NOT_FOUND` with the alias's `path`,
//! while the rest of `data` is answered; a spent budget is 200 with an error of
//! type `RATE_LIMITED` and `x-ratelimit-remaining: 0`. Each query costs one
//! point (lookups without connections) and is counted as `github:graphql`.
//! With [`SandboxConfig::github_graphql`](crate::SandboxConfig) off the endpoint
//! is 404, as on a GitHub Enterprise without GraphQL.

mod parse;

use std::sync::Arc;

use axum::extract::State as AxState;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};

use self::parse::{Arg, Field, Selection, parse};
use super::{Budget, date, find_commit, spend, with_headers};
use crate::state::State;
use crate::world::{Commit, GithubRepo, World};

/// The call counter's key for GraphQL queries.
const OP: &str = "github:graphql";

/// `POST /graphql`.
pub(crate) async fn query(AxState(state): AxState<Arc<State>>, headers: HeaderMap, body: String) -> Response {
    if !state.config.github_graphql {
        state.counters.count(OP);
        let body = json!({"message": "Not Found", "documentation_url": "https://docs.github.com/graphql"});
        return with_headers(StatusCode::NOT_FOUND, vec![], body);
    }
    if !headers.contains_key("authorization") {
        state.counters.count(OP);
        let body = json!({
            "message": "This endpoint requires you to be authenticated.",
            "documentation_url": "https://docs.github.com/graphql/guides/forming-calls-with-graphql#authenticating-with-graphql",
        });
        return with_headers(StatusCode::UNAUTHORIZED, vec![], body);
    }
    let budget = match spend(&state, OP) {
        Ok(b) => b,
        Err(spent) => {
            let body = json!({"errors": [{
                "type": "RATE_LIMITED",
                "message": "API rate limit exceeded for user ID 1.",
            }]});
            // GitHub sends no `retry-after` for a spent GraphQL budget: wait for the reset.
            let spent = Budget { retry_after: None, ..spent };
            return with_headers(StatusCode::OK, spent.headers("graphql"), body);
        }
    };
    let request: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let (Some(text), variables) = (request["query"].as_str(), &request["variables"]) else {
        let body = json!({"message": "Problems parsing JSON", "documentation_url": "https://docs.github.com/graphql"});
        return with_headers(StatusCode::BAD_REQUEST, budget.headers("graphql"), body);
    };
    let answer = match parse(text) {
        Ok(selection) => {
            let world = state.world();
            let mut eval = Eval { world: &world, variables, budget, errors: Vec::new() };
            match eval.root(&selection) {
                Ok(data) if eval.errors.is_empty() => json!({"data": data}),
                Ok(data) => json!({"data": data, "errors": eval.errors}),
                Err(invalid) => json!({"errors": [{"message": invalid}]}),
            }
        }
        Err(e) => json!({"errors": [{"message": e, "locations": [{"line": 1, "column": 1}]}]}),
    };
    with_headers(StatusCode::OK, budget.headers("graphql"), answer)
}

/// One query's evaluation: the world it reads and the errors it collects.
struct Eval<'a> {
    world: &'a World,
    variables: &'a Value,
    budget: Budget,
    errors: Vec<Value>,
}

/// A schema error: GitHub refuses the whole query.
fn no_field(field: &Field, on: &str) -> String {
    format!("Field '{}' doesn't exist on type '{on}'", field.name)
}

impl Eval<'_> {
    fn root(&mut self, selection: &[Selection]) -> Result<Map<String, Value>, String> {
        let mut out = Map::new();
        for f in fields(selection, "Query")? {
            let value = match f.name.as_str() {
                "__typename" => json!("Query"),
                "rateLimit" => self.rate_limit(f)?,
                "repository" => {
                    let owner = self.string(f, "owner")?;
                    let name = self.string(f, "name")?;
                    let full_name = format!("{owner}/{name}");
                    match self.world.github_repo(&full_name) {
                        Some(repo) => Value::Object(self.repository(repo, f)?),
                        None => {
                            let message =
                                format!("Could not resolve to a Repository with the name '{full_name}'.");
                            self.not_found(vec![f.key()], message);
                            Value::Null
                        }
                    }
                }
                _ => return Err(no_field(f, "Query")),
            };
            out.insert(f.key().to_owned(), value);
        }
        Ok(out)
    }

    fn repository(&mut self, repo: &GithubRepo, field: &Field) -> Result<Map<String, Value>, String> {
        let mut out = Map::new();
        for f in fields(&field.selection, "Repository")? {
            let value = match f.name.as_str() {
                "__typename" => json!("Repository"),
                "nameWithOwner" => json!(repo.full_name),
                "object" => self.object(repo, field, f)?,
                _ => return Err(no_field(f, "Repository")),
            };
            out.insert(f.key().to_owned(), value);
        }
        Ok(out)
    }

    /// `object(oid:)` or `object(expression:)` under the repository field `parent`.
    fn object(&mut self, repo: &GithubRepo, parent: &Field, f: &Field) -> Result<Value, String> {
        let (how, reference) = match (f.arg("oid"), f.arg("expression")) {
            (Some(_), None) => ("oid", self.string(f, "oid")?),
            (None, Some(_)) => ("expression", self.string(f, "expression")?),
            _ => return Err("Field 'object' takes exactly one of 'oid' or 'expression'".to_owned()),
        };
        let hex = reference.bytes().all(|b| b.is_ascii_hexdigit());
        if how == "oid" && !(reference.len() == 40 && hex) {
            return Err(format!(
                "Argument 'oid' on Field '{}' has an invalid value ({reference:?})",
                f.key()
            ));
        }
        Ok(match find_commit(repo, &reference) {
            Some(c) => Value::Object(commit(repo, c, &f.selection)?),
            None => {
                let message = format!("Could not resolve to an object with the {how} '{reference}'.");
                self.not_found(vec![parent.key(), f.key()], message);
                Value::Null
            }
        })
    }

    fn rate_limit(&self, field: &Field) -> Result<Value, String> {
        let b = &self.budget;
        let reset = DateTime::<Utc>::from_timestamp(b.reset, 0).unwrap_or_default();
        let mut out = Map::new();
        for f in fields(&field.selection, "RateLimit")? {
            let value = match f.name.as_str() {
                "cost" => json!(1),
                "limit" => json!(b.limit),
                "remaining" => json!(b.remaining),
                "used" => json!(b.limit - b.remaining),
                "resetAt" => json!(reset.to_rfc3339_opts(SecondsFormat::Secs, true)),
                "nodeCount" => json!(0),
                _ => return Err(no_field(f, "RateLimit")),
            };
            out.insert(f.key().to_owned(), value);
        }
        Ok(Value::Object(out))
    }

    fn not_found(&mut self, path: Vec<&str>, message: String) {
        self.errors.push(json!({"type": "NOT_FOUND", "path": path, "locations": [], "message": message}));
    }

    /// A required string argument, literal or `$variable`.
    fn string(&self, field: &Field, name: &str) -> Result<String, String> {
        let value = match field.arg(name) {
            Some(Arg::Str(s)) => Some(s.clone()),
            Some(Arg::Var(v)) => self.variables[v].as_str().map(str::to_owned),
            _ => None,
        };
        value
            .ok_or_else(|| format!("Field '{}' is missing required argument '{name}' (a String)", field.name))
    }
}

/// The fields of a selection on an object of type `on`, inline fragments on it included.
fn fields<'s>(selection: &'s [Selection], on: &str) -> Result<Vec<&'s Field>, String> {
    let mut out = Vec::new();
    for s in selection {
        match s {
            Selection::Field(f) => out.push(f),
            Selection::Fragment { on: t, selection } if t == on => out.extend(fields(selection, on)?),
            // A fragment on another type of the union matches nothing here.
            Selection::Fragment { .. } => {}
        }
    }
    Ok(out)
}

/// A commit's fields (`object` is a `GitObject`; its commit fields come through `... on Commit`).
fn commit(repo: &GithubRepo, c: &Commit, selection: &[Selection]) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    for f in fields(selection, "Commit")? {
        let value = match f.name.as_str() {
            "__typename" => json!("Commit"),
            "oid" => json!(c.sha),
            "abbreviatedOid" => json!(c.sha.get(..7).unwrap_or(&c.sha)),
            "message" => json!(c.message),
            "messageHeadline" => json!(c.message.lines().next().unwrap_or_default()),
            "url" | "commitUrl" => json!(format!("https://github.com/{}/commit/{}", repo.full_name, c.sha)),
            "authoredDate" => json!(date(&c.authored_date)),
            "committedDate" => json!(date(&c.committed_date)),
            "author" => {
                let login = c.author_login.as_deref();
                actor(f, &c.author_name, &c.author_email, &c.authored_date, login)?
            }
            "committer" => {
                // As in the REST answer: the committer maps to the author's user.
                let login = c.author_login.as_deref();
                actor(f, &c.committer_name, &c.author_email, &c.committed_date, login)?
            }
            _ => return Err(no_field(f, "Commit")),
        };
        out.insert(f.key().to_owned(), value);
    }
    Ok(out)
}

/// A `GitActor`: name, email, date, and the GitHub `user` the email maps to.
fn actor(
    field: &Field,
    name: &str,
    email: &str,
    at: &DateTime<Utc>,
    login: Option<&str>,
) -> Result<Value, String> {
    let mut out = Map::new();
    for f in fields(&field.selection, "GitActor")? {
        let value = match f.name.as_str() {
            "name" => json!(name),
            "email" => json!(email),
            "date" => json!(date(at)),
            "user" => match login {
                Some(login) => {
                    let mut user = Map::new();
                    for u in fields(&f.selection, "User")? {
                        match u.name.as_str() {
                            "login" => user.insert(u.key().to_owned(), json!(login)),
                            _ => return Err(no_field(u, "User")),
                        };
                    }
                    Value::Object(user)
                }
                None => Value::Null,
            },
            _ => return Err(no_field(f, "GitActor")),
        };
        out.insert(f.key().to_owned(), value);
    }
    Ok(Value::Object(out))
}
