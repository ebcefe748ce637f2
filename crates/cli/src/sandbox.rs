//! Pointing skyglue at the built-in sandbox cloud: one connection per account
//! and region of its world, each with that account's access key.

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use skyglue_core::connection::{GithubSettings, SlackSettings};
use skyglue_core::{AwsConnection, Connections, Engine};
use skyglue_sandbox::{Sandbox, World};

/// Connections to every account x region of `world`, served by `sandbox`.
pub async fn connections(sandbox: &Sandbox, world: &World) -> skyglue_core::Result<Connections> {
    let mut aws = Vec::new();
    for account in &world.accounts {
        for region in &account.regions {
            let creds = Credentials::new(&account.access_key_id, "sandbox", None, None, "sandbox");
            let sdk = aws_config::defaults(BehaviorVersion::latest())
                .region(Region::new(region.region.clone()))
                .endpoint_url(sandbox.endpoint_url())
                .credentials_provider(creds)
                .load()
                .await;
            aws.push(AwsConnection::new(account.name.clone(), sdk)?);
        }
    }
    let mut connections = Connections::from_aws(aws);
    connections.github = GithubSettings { api_url: sandbox.github_api_url(), token: Some("sandbox".into()) };
    connections.slack =
        SlackSettings { webhook_url: Some(sandbox.slack_webhook_url()), ..SlackSettings::default() };
    Ok(connections)
}

/// An engine with every shipped table over the sandbox's world. GitHub
/// commits are cached in memory only: the sandbox's commits are not the
/// user's, and its port changes every run.
pub async fn engine(sandbox: &Sandbox, world: &World) -> skyglue_core::Result<Engine> {
    let registry = skyglue_aws::registry()
        .merge(skyglue_core::Registry::new().table(skyglue_github::GithubCommit::without_disk_cache()));
    Ok(Engine::new(connections(sandbox, world).await?, registry))
}
