//! skyglue's GitHub tables: `github_commit`, over the GitHub REST and GraphQL
//! APIs (or a GitHub Enterprise), with rate-limit handling and a persistent
//! commit cache; and `github_repository_map`, `[github] repositories` from the
//! config.
//!
//! The API URL and token come from the `[github]` settings of the engine's
//! connections (`GITHUB_API_URL`, `GITHUB_TOKEN`). Each table is one file under
//! `tables/`, registered in [`registry`].

mod cache;
pub mod check;
mod client;
mod commits;
mod graphql;
mod lookup;
mod model;
pub mod tables;

use skyglue_core::Registry;

pub use cache::{CACHE_DIR_ENV, default_cache_dir};
pub use skyglue_core::http_retry::RetryPolicy;
pub use tables::commit::GithubCommit;
pub use tables::repository_map::GithubRepositoryMap;

/// Every GitHub table. Adding a table is one line here.
pub fn registry() -> Registry {
    Registry::new().table(GithubCommit::new()).table(GithubRepositoryMap)
}
