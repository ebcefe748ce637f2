//! What skyglue talks to, and whether it answers: `skyglue connections` and
//! the REPL's `\connections` both print a [`Report`].
//!
//! Each AWS connection is asked for its account id (STS) and tries each read
//! call the tables make (`skyglue_aws::permissions`); delete permissions are
//! never tried, only explained. GitHub is asked for its rate limit and whether
//! GraphQL answers. Slack is only looked at: nothing is posted. Every check is
//! bounded by [`ANSWER_WITHIN`] so a dead endpoint cannot hang the command.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::future::Future;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use serde::Serialize;
use skyglue_aws::permissions::{self, CallCheck};
use skyglue_core::{AwsConnection, Config, Connections, Engine};
use skyglue_github::check::{GithubCheck, GraphqlCheck};

use crate::ReportFormat;

/// How long one connection's checks may take.
const ANSWER_WITHIN: Duration = Duration::from_secs(20);

/// Everything `skyglue connections` found.
#[derive(Debug, Serialize)]
pub struct Report {
    /// One entry per AWS connection (account x region).
    pub aws: Vec<AwsReport>,
    /// The GitHub API.
    pub github: GithubReport,
    /// Slack notifications.
    pub slack: SlackReport,
    /// What to run to check the delete permissions (never tried here).
    pub delete_permissions: String,
}

/// One AWS connection.
#[derive(Debug, Serialize)]
pub struct AwsReport {
    /// The `[[aws]]` entry's name (`default` for the standard chain).
    pub name: String,
    /// The region.
    pub region: String,
    /// The account id, when STS answered.
    pub account_id: Option<String>,
    /// Whether it answered and may make every read call.
    pub ok: bool,
    /// Why it does not answer.
    pub error: Option<String>,
    /// Each read call: `ok`, `denied: <code>` or `failed: <why>`.
    pub calls: BTreeMap<String, String>,
}

/// The GitHub API.
#[derive(Debug, Serialize)]
pub struct GithubReport {
    /// The API URL.
    pub api_url: String,
    /// Whether a token is set.
    pub token: bool,
    /// Requests left and allowed per hour (REST).
    pub rate_limit: Option<RateLimit>,
    /// `ok (N points left)`, `no token`, `not available (REST is used)` or `failed: <why>`.
    pub graphql: String,
    /// Whether it answers.
    pub ok: bool,
    /// Why it does not.
    pub error: Option<String>,
}

/// GitHub's REST budget.
#[derive(Debug, Serialize)]
pub struct RateLimit {
    /// Requests per window.
    pub limit: u64,
    /// Requests left.
    pub remaining: u64,
    /// When it refills (Unix seconds).
    pub reset: i64,
}

/// Slack notifications.
#[derive(Debug, Serialize)]
pub struct SlackReport {
    /// Whether a webhook or a bot token with a channel is configured.
    pub configured: bool,
    /// `webhook`, `bot token`, or none.
    pub via: Option<String>,
    /// The bot's channel.
    pub channel: Option<String>,
}

impl Report {
    /// Whether what skyglue needs is there: at least one AWS connection, all
    /// answering with every read call allowed.
    pub fn healthy(&self) -> bool {
        !self.aws.is_empty() && self.aws.iter().all(|c| c.ok)
    }

    /// The service | connection | account | status rows of the REPL's table.
    pub fn rows(&self) -> Vec<Vec<String>> {
        let mut rows: Vec<Vec<String>> = self.aws.iter().map(aws_row).collect();
        let g = &self.github;
        let token =
            if g.token { "token set" } else { "no token (GITHUB_TOKEN): public data, low rate limit" };
        let mut status = match (&g.rate_limit, &g.error) {
            (Some(r), _) => format!("{token}, {}/{} requests left", r.remaining, r.limit),
            (None, Some(e)) => format!("{token}, failed: {e}"),
            (None, None) => token.to_string(),
        };
        let _ = write!(status, ", GraphQL {}", g.graphql);
        rows.push(vec!["github".into(), g.api_url.clone(), String::new(), status]);
        let s = &self.slack;
        let status = match (s.configured, &s.channel) {
            (true, Some(channel)) => format!("configured, channel {channel}"),
            (true, None) => "configured".to_string(),
            (false, _) if s.via.is_some() => "bot token set, but no channel ([slack] channel)".to_string(),
            (false, _) => "not configured (SLACK_WEBHOOK_URL, or a bot token and a channel)".to_string(),
        };
        rows.push(vec!["slack".into(), s.via.clone().unwrap_or_default(), String::new(), status]);
        rows
    }

    /// The text `skyglue connections` prints.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        if self.aws.is_empty() {
            out.push_str(
                "aws: no connection (configure [[aws]] in skyglue.toml or the standard AWS chain)\n",
            );
        }
        for c in &self.aws {
            let account = c.account_id.as_deref().map(|a| format!(" (account {a})")).unwrap_or_default();
            let _ = writeln!(out, "aws {}/{}{account}: {}", c.name, c.region, aws_row(c)[3]);
            for (call, status) in &c.calls {
                let _ = writeln!(out, "  {call:<26} {status}");
            }
        }
        for row in self.rows().iter().skip(self.aws.len()) {
            let _ = writeln!(out, "{} {}: {}", row[0], row[1], row[3]);
        }
        let _ =
            writeln!(out, "\nDelete permissions are never tried. To check them without deleting anything:");
        let _ = writeln!(out, "  {}", self.delete_permissions);
        out
    }
}

/// A connection's row; its status is `ok`, or what is wrong.
fn aws_row(c: &AwsReport) -> Vec<String> {
    let denied: Vec<String> =
        c.calls.iter().filter(|(_, s)| *s != "ok").map(|(call, s)| format!("{call} {s}")).collect();
    let status = match (&c.error, denied.is_empty()) {
        (Some(e), _) => e.clone(),
        (None, true) => "ok".to_string(),
        (None, false) => denied.join("; "),
    };
    let label = format!("{}/{}", c.name, c.region);
    vec!["aws".into(), label, c.account_id.clone().unwrap_or_default(), status]
}

/// Checks every connection of `engine`.
pub async fn check(engine: &Engine) -> Report {
    let connections = engine.connections().clone();
    let aws = futures::future::join_all(connections.aws.iter().map(|c| check_aws(&connections, c))).await;
    let github = within(skyglue_github::check::check(connections.clone())).await;
    Report {
        aws,
        github: github_report(&connections, github),
        slack: slack_report(&connections),
        delete_permissions: permissions::simulate_command("arn:aws:iam::ACCOUNT_ID:role/YOUR_ROLE"),
    }
}

async fn within<T>(check: impl Future<Output = T>) -> Result<T, String> {
    tokio::time::timeout(ANSWER_WITHIN, check)
        .await
        .map_err(|_| format!("no answer within {} s", ANSWER_WITHIN.as_secs()))
}

async fn check_aws(connections: &Connections, conn: &AwsConnection) -> AwsReport {
    let mut report = AwsReport {
        name: conn.name.clone(),
        region: conn.region.clone(),
        account_id: None,
        ok: false,
        error: None,
        calls: BTreeMap::new(),
    };
    match within(conn.account_id()).await {
        Ok(Ok(account)) => report.account_id = Some(account),
        Ok(Err(e)) => report.error = Some(e.to_string()),
        Err(e) => report.error = Some(e),
    }
    if report.error.is_some() {
        return report;
    }
    match within(permissions::check_reads(connections, conn)).await {
        Ok(calls) => {
            report.ok = calls.iter().all(|(_, c)| c.is_ok());
            report.calls =
                calls.into_iter().map(|(op, c): (_, CallCheck)| (op.to_string(), c.to_string())).collect();
        }
        Err(e) => report.error = Some(e),
    }
    report
}

fn github_report(connections: &Connections, check: Result<GithubCheck, String>) -> GithubReport {
    let settings = &connections.github;
    let mut report = GithubReport {
        api_url: settings.api_url.clone(),
        token: settings.token.is_some(),
        rate_limit: None,
        graphql: String::new(),
        ok: false,
        error: None,
    };
    let check = match check {
        Ok(check) => check,
        Err(e) => {
            report.graphql = "not asked".into();
            report.error = Some(e);
            return report;
        }
    };
    match check.rate_limit {
        Ok(r) => {
            report.rate_limit = Some(RateLimit { limit: r.limit, remaining: r.remaining, reset: r.reset })
        }
        Err(e) => report.error = Some(e),
    }
    report.graphql = match check.graphql {
        GraphqlCheck::NoToken => "not asked (it needs a token)".into(),
        GraphqlCheck::Answers(points) => format!("ok ({points} points left)"),
        GraphqlCheck::Absent => "not available (REST is used)".into(),
        GraphqlCheck::Failed(e) => format!("failed: {e}"),
    };
    report.ok = report.error.is_none() && !report.graphql.starts_with("failed");
    report
}

fn slack_report(connections: &Connections) -> SlackReport {
    let slack = &connections.slack;
    let via = match (&slack.webhook_url, &slack.bot_token, &slack.channel) {
        (Some(_), _, _) => Some("webhook"),
        (None, Some(_), _) => Some("bot token"),
        (None, None, _) => None,
    };
    let configured = slack.webhook_url.is_some() || (slack.bot_token.is_some() && slack.channel.is_some());
    let channel = if slack.webhook_url.is_none() { slack.channel.clone() } else { None };
    SlackReport { configured, via: via.map(str::to_string), channel }
}

/// `skyglue connections`: prints the report; exit code 1 when something
/// needed is missing or failing.
pub async fn command(config: Option<&Path>, format: ReportFormat) -> anyhow::Result<ExitCode> {
    let (_, config) = Config::discover(config)?;
    let engine = skyglue::engine(&config).await?;
    let report = check(&engine).await;
    match format {
        ReportFormat::Text => print!("{}", report.to_text()),
        ReportFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
    }
    Ok(if report.healthy() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
