//! The GitHub part of the world: repositories with their commits
//! ([`World::github`](crate::World)).
//!
//! Re-exported from [`world`](crate::world).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A GitHub repository.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GithubRepo {
    /// `owner/name`.
    pub full_name: String,
    /// Default branch, e.g. `main`.
    #[serde(default = "main_branch")]
    pub default_branch: String,
    /// Commits in any order (served newest first).
    #[serde(default)]
    pub commits: Vec<Commit>,
}

fn main_branch() -> String {
    "main".to_owned()
}

/// A git commit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Commit {
    /// 40-hex SHA.
    pub sha: String,
    /// GitHub login of the author, if the email maps to a user.
    #[serde(default)]
    pub author_login: Option<String>,
    /// Author name.
    pub author_name: String,
    /// Author email.
    pub author_email: String,
    /// Author date.
    pub authored_date: DateTime<Utc>,
    /// Committer name.
    pub committer_name: String,
    /// Committer date.
    pub committed_date: DateTime<Utc>,
    /// Commit message.
    pub message: String,
}
