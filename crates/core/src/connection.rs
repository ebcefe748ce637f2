//! Connections: one per AWS account x region, built from the config or from the
//! standard AWS chain, plus the GitHub and Slack settings.
//!
//! Clients are cheap to build from an `SdkConfig`, so a connection keeps the
//! config and each table makes the client it needs. The account id is asked of
//! STS once per connection and remembered.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use aws_config::sts::AssumeRoleProvider;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use tokio::sync::OnceCell;

use crate::aws_retry::{RetryPolicy, sdk_retries_off, uncounted_call};
use crate::config::{AwsEntry, Config, InUseSources};
use crate::error::{Error, Result};
use crate::metrics::ApiCounters;
use crate::throttle::Throttle;

/// One AWS account in one region.
#[derive(Debug)]
pub struct AwsConnection {
    /// The `[[aws]]` entry's name, or `default` for the standard chain.
    pub name: String,
    /// The region.
    pub region: String,
    /// SDK settings (credentials, region, endpoint, retries).
    pub sdk_config: SdkConfig,
    account_id: OnceCell<String>,
}

impl AwsConnection {
    /// A connection from a ready SDK config; the account id is looked up on first use.
    pub fn new(name: impl Into<String>, sdk_config: SdkConfig) -> Result<Self> {
        let name = name.into();
        let region = sdk_config
            .region()
            .map(|r| r.to_string())
            .ok_or_else(|| {
                Error::Config(format!(
                    "connection {name} has no region: set AWS_REGION, the profile's region, or regions = [...] in [[aws]]"
                ))
            })?;
        Ok(Self { name, region, sdk_config, account_id: OnceCell::new() })
    }

    /// `name/region`, as error messages show it.
    pub fn label(&self) -> String {
        format!("{}/{}", self.name, self.region)
    }

    /// The account id, from STS `GetCallerIdentity` (asked once).
    pub async fn account_id(&self) -> Result<String> {
        self.account_id
            .get_or_try_init(|| async {
                let sts = aws_sdk_sts::Client::from_conf(
                    aws_sdk_sts::config::Builder::from(&self.sdk_config)
                        .retry_config(sdk_retries_off())
                        .build(),
                );
                let request = || sts.get_caller_identity().send();
                let out = uncounted_call(&self.label(), "sts:GetCallerIdentity", request).await?;
                out.account().map(str::to_string).ok_or_else(|| Error::Api {
                    operation: "sts:GetCallerIdentity".into(),
                    connection: self.label(),
                    detail: "the response has no account".into(),
                })
            })
            .await
            .cloned()
    }
}

/// One Kubernetes context of a `[[kubernetes]]` entry. The kubeconfig is read
/// by the table that uses it (`skyglue-kubernetes`), which also resolves the
/// "current context" default to its name ([`KubeContext::resolved`]).
#[derive(Debug)]
pub struct KubeContext {
    /// The kubeconfig file; `None` for `$KUBECONFIG`, else `~/.kube/config`.
    pub kubeconfig: Option<PathBuf>,
    /// The context; `None` for the kubeconfig's current context.
    pub context: Option<String>,
    resolved: OnceLock<String>,
}

impl KubeContext {
    /// A context of a kubeconfig (`None`s: the defaults).
    pub fn new(kubeconfig: Option<PathBuf>, context: Option<String>) -> Self {
        Self { kubeconfig, context, resolved: OnceLock::new() }
    }

    /// Records the name the "current context" default resolved to.
    pub fn resolved(&self, name: &str) {
        let _ = self.resolved.set(name.to_string());
    }

    /// The context's name (`current` until the default is resolved).
    pub fn name(&self) -> String {
        self.context.clone().or_else(|| self.resolved.get().cloned()).unwrap_or_else(|| "current".into())
    }

    /// `kubernetes/<context>`, as error messages show it.
    pub fn label(&self) -> String {
        format!("kubernetes/{}", self.name())
    }
}

/// Everything skyglue can talk to.
#[derive(Debug, Default)]
pub struct Connections {
    /// AWS account x region pairs.
    pub aws: Vec<Arc<AwsConnection>>,
    /// GitHub API settings.
    pub github: GithubSettings,
    /// Slack settings.
    pub slack: SlackSettings,
    /// Session-wide API counters.
    pub counters: Arc<ApiCounters>,
    /// Client-side rate limits per connection and bucket.
    pub throttle: Arc<Throttle>,
    /// How AWS calls are retried.
    pub retry: RetryPolicy,
    /// Kubernetes contexts, one per context of every `[[kubernetes]]` entry.
    pub kubernetes: Vec<Arc<KubeContext>>,
    /// The sources the "in use" check reads (`[in_use]`).
    pub in_use: InUseSources,
}

/// Resolved GitHub settings. `Debug` never prints the token.
#[derive(Clone, Default)]
pub struct GithubSettings {
    /// API base URL.
    pub api_url: String,
    /// Token, if any.
    pub token: Option<String>,
    /// `[github] repositories`: ECR repository name to `owner/name`.
    pub repositories: std::collections::BTreeMap<String, String>,
}

/// Resolved Slack settings. `Debug` never prints the webhook URL or the token.
#[derive(Clone, Default)]
pub struct SlackSettings {
    /// Incoming-webhook URL, if any.
    pub webhook_url: Option<String>,
    /// Bot token for `chat.postMessage`, if any.
    pub bot_token: Option<String>,
    /// Channel for `chat.postMessage`.
    pub channel: Option<String>,
}

/// A secret as `Debug` shows it: `<redacted>`.
struct Redacted;

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Whether there is a secret, never what it is: `Some(<redacted>)` or `None`.
fn redacted(secret: &Option<String>) -> Option<Redacted> {
    secret.as_ref().map(|_| Redacted)
}

impl std::fmt::Debug for GithubSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GithubSettings")
            .field("api_url", &self.api_url)
            .field("token", &redacted(&self.token))
            .field("repositories", &self.repositories)
            .finish()
    }
}

impl std::fmt::Debug for SlackSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackSettings")
            .field("webhook_url", &redacted(&self.webhook_url))
            .field("bot_token", &redacted(&self.bot_token))
            .field("channel", &self.channel)
            .finish()
    }
}

impl Connections {
    /// Builds every connection the config names (the standard AWS chain when it names none).
    pub async fn from_config(config: &Config) -> Result<Self> {
        let mut aws = Vec::new();
        if config.aws.is_empty() {
            let sdk =
                aws_config::defaults(BehaviorVersion::latest()).retry_config(sdk_retries_off()).load().await;
            aws.push(Arc::new(AwsConnection::new("default", sdk)?));
        } else {
            for entry in &config.aws {
                for conn in connections_for(entry).await? {
                    aws.push(Arc::new(conn));
                }
            }
        }
        Ok(Self {
            aws,
            github: github_settings(config)?,
            slack: checked_slack_settings(config)?,
            counters: Arc::default(),
            throttle: Arc::default(),
            retry: RetryPolicy::default(),
            kubernetes: kube_contexts(config),
            in_use: config.in_use_sources(),
        })
    }

    /// The AWS connection for `account_id` in `region` (either may be unknown:
    /// then the first connection matching the rest is used).
    pub async fn find_aws(
        &self,
        account_id: Option<&str>,
        region: Option<&str>,
    ) -> Result<Arc<AwsConnection>> {
        for conn in &self.aws {
            if region.is_some_and(|r| r != conn.region) {
                continue;
            }
            match account_id {
                Some(account) if conn.account_id().await? != account => continue,
                _ => return Ok(conn.clone()),
            }
        }
        Err(Error::Config(format!(
            "no configured AWS connection for account {} in region {}: add it to skyglue.toml",
            account_id.unwrap_or("(any)"),
            region.unwrap_or("(any)")
        )))
    }

    /// Connections built by the caller (an embedding program, a test).
    pub fn from_aws(aws: Vec<AwsConnection>) -> Self {
        Self { aws: aws.into_iter().map(Arc::new).collect(), ..Self::default() }
    }
}

async fn connections_for(entry: &AwsEntry) -> Result<Vec<AwsConnection>> {
    let loader = || {
        let mut l = aws_config::defaults(BehaviorVersion::latest()).retry_config(sdk_retries_off());
        if let Some(p) = &entry.profile {
            l = l.profile_name(p);
        }
        if let Some(u) = &entry.endpoint_url {
            l = l.endpoint_url(u);
        }
        l
    };
    let regions = match &entry.regions {
        Some(r) => r.clone(),
        None => {
            let base = loader().load().await;
            match base.region() {
                Some(r) => vec![r.to_string()],
                None => {
                    return Err(Error::Config(format!(
                        "[[aws]] {:?} has no regions and its profile names no region: add regions = [\"us-east-1\"]",
                        entry.name
                    )));
                }
            }
        }
    };
    let mut out = Vec::new();
    for region in regions {
        let mut sdk = loader().region(Region::new(region.clone())).load().await;
        if let Some(role) = &entry.role_arn {
            let provider =
                AssumeRoleProvider::builder(role).session_name("skyglue").configure(&sdk).build().await;
            sdk = sdk.into_builder().credentials_provider(SharedCredentialsProvider::new(provider)).build();
        }
        out.push(AwsConnection::new(entry.name.clone(), sdk)?);
    }
    Ok(out)
}

fn kube_contexts(config: &Config) -> Vec<Arc<KubeContext>> {
    let mut out = Vec::new();
    for entry in &config.kubernetes {
        match &entry.contexts {
            Some(contexts) => out.extend(
                contexts
                    .iter()
                    .map(|c| Arc::new(KubeContext::new(entry.kubeconfig.clone(), Some(c.clone())))),
            ),
            None => out.push(Arc::new(KubeContext::new(entry.kubeconfig.clone(), None))),
        }
    }
    out
}

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn github_settings(config: &Config) -> Result<GithubSettings> {
    let token_env = config.github.token_env.as_deref().unwrap_or("GITHUB_TOKEN");
    Ok(GithubSettings {
        api_url: config
            .github
            .api_url
            .clone()
            .or_else(|| env_nonempty("GITHUB_API_URL"))
            .unwrap_or_else(|| "https://api.github.com".into()),
        token: crate::secret::from_env(token_env).map_err(Error::Config)?,
        repositories: config.github.repositories.clone(),
    })
}

/// [`slack_settings`], refusing a webhook URL or bot token with a control
/// character inside (the error names the variable, never the value).
fn checked_slack_settings(config: &Config) -> Result<SlackSettings> {
    let (webhook_env, bot_env) = slack_envs(config);
    for name in [webhook_env, bot_env] {
        crate::secret::from_env(name).map_err(Error::Config)?;
    }
    Ok(slack_settings(config))
}

fn slack_envs(config: &Config) -> (&str, &str) {
    (
        config.slack.webhook_url_env.as_deref().unwrap_or("SLACK_WEBHOOK_URL"),
        config.slack.bot_token_env.as_deref().unwrap_or("SLACK_BOT_TOKEN"),
    )
}

/// The Slack settings `config` names, read from the environment: usable
/// without any AWS connection, so a run that fails early can still notify.
///
/// The webhook URL and bot token are trimmed ([`crate::secret`]); one with a
/// control character inside is left out here (building the connections
/// refuses it, naming the variable).
pub fn slack_settings(config: &Config) -> SlackSettings {
    let (webhook_env, bot_env) = slack_envs(config);
    SlackSettings {
        webhook_url: crate::secret::from_env(webhook_env).ok().flatten(),
        bot_token: crate::secret::from_env(bot_env).ok().flatten(),
        channel: config.slack.channel.clone().or_else(|| env_nonempty("SLACK_CHANNEL")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_prints_a_token_or_webhook_url() {
        let connections = Connections {
            github: GithubSettings {
                api_url: "https://api.github.com".into(),
                token: Some("ghp_secret1".into()),
                ..GithubSettings::default()
            },
            slack: SlackSettings {
                webhook_url: Some("https://hooks.slack.com/services/T/B/secret2".into()),
                bot_token: Some("xoxb-secret3".into()),
                channel: Some("#ops".into()),
            },
            ..Connections::default()
        };
        let shown = format!("{connections:?} {:?} {:?}", connections.github, connections.slack);
        for secret in ["secret1", "secret2", "secret3", "hooks.slack.com"] {
            assert!(!shown.contains(secret), "{secret} leaked: {shown}");
        }
        assert!(shown.contains("token: Some(<redacted>)"), "{shown}");
        assert!(shown.contains("webhook_url: Some(<redacted>)"), "{shown}");
        assert!(shown.contains("https://api.github.com") && shown.contains("#ops"), "{shown}");
        let empty = format!("{:?}", SlackSettings::default());
        assert!(empty.contains("webhook_url: None"), "{empty}");
    }
}
