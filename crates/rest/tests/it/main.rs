//! skyglue-rest's integration tests: declared tables against loopback fakes
//! of each pagination style, and the shipped `tables/` examples against
//! fakes of GitHub, Slack and PagerDuty.

mod errors;
mod examples;
mod fake;
mod framework;
mod limits;
mod scripted;
mod secrets;
mod styles;
mod support;
