//! `github_commit` against loopback fakes: the sandbox's GitHub REST API, and
//! a scripted server for failures the sandbox does not inject.

mod fake;
mod listing;
mod lookups;
mod rate_limits;
mod support;
