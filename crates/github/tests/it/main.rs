//! `github_commit` against loopback fakes: the sandbox's GitHub REST and GraphQL APIs, and
//! a scripted server for failures the sandbox does not inject.

mod fake;
mod graphql;
mod listing;
mod lookups;
mod rate_limits;
mod support;
