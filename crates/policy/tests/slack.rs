//! Slack notifications against loopback receivers: the messages Slack gets
//! (snapshots, Slack's limits), delivery (429, 5xx, unreachable, the Web
//! API's `ok: false`), and the policy runner's one message per run.

#![allow(clippy::unwrap_used, missing_docs)]

#[path = "slack/support.rs"]
mod support;

#[path = "slack/messages.rs"]
mod messages;

#[path = "slack/delivery.rs"]
mod delivery;

#[path = "slack/runner.rs"]
mod runner;

#[path = "slack/crash.rs"]
mod crash;
