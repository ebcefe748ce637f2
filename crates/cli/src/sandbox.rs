//! Pointing skyglue at the built-in sandbox cloud: one connection per account
//! and region of its world, each with that account's access key.

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use skyglue_core::connection::{GithubSettings, SlackSettings};
use skyglue_core::{AwsConnection, Connections, Engine};
use skyglue_sandbox::{Sandbox, World};

/// Connections to every account x region of `world`, served by `sandbox`.
pub async fn connections(sandbox: &Sandbox, world: &World) -> skyglue_core::Result<Connections> {
    connections_at(&sandbox.endpoint_url(), &accounts(world)).await
}

/// `(account name, access key id, region)` for every account x region of `world`.
pub fn accounts(world: &World) -> Vec<(String, String, String)> {
    world
        .accounts
        .iter()
        .flat_map(|a| {
            a.regions.iter().map(move |r| (a.name.clone(), a.access_key_id.clone(), r.region.clone()))
        })
        .collect()
}

/// Connections to a sandbox at `endpoint` (possibly in another process) for
/// `(account name, access key id, region)` triples.
pub async fn connections_at(
    endpoint: &str,
    accounts: &[(String, String, String)],
) -> skyglue_core::Result<Connections> {
    let mut aws = Vec::new();
    for (name, key, region) in accounts {
        let creds = Credentials::new(key, "sandbox", None, None, "sandbox");
        let sdk = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region.clone()))
            .endpoint_url(endpoint)
            .credentials_provider(creds)
            .load()
            .await;
        aws.push(AwsConnection::new(name.clone(), sdk)?);
    }
    let mut connections = Connections::from_aws(aws);
    connections.github = GithubSettings {
        api_url: endpoint.to_string(),
        token: Some("sandbox".into()),
        ..GithubSettings::default()
    };
    connections.slack =
        SlackSettings { webhook_url: Some(format!("{endpoint}/slack/webhook")), ..SlackSettings::default() };
    Ok(connections)
}

/// An engine with every shipped table over the sandbox's world. GitHub
/// commits are cached in memory only: the sandbox's commits are not the
/// user's, and its port changes every run.
///
/// ```
/// # #[tokio::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use skyglue_sandbox::{Sandbox, SandboxConfig, World};
///
/// let world = World::demo();
/// let sandbox = Sandbox::start(world.clone(), SandboxConfig::default()).await?;
/// let engine = skyglue::sandbox::engine(&sandbox, &world).await?;
/// let ctx = engine.session().await?;
/// ctx.sql("SELECT repository_name, image_tags FROM aws_ecr_image").await?.show().await?;
/// # Ok(())
/// # }
/// ```
pub async fn engine(sandbox: &Sandbox, world: &World) -> skyglue_core::Result<Engine> {
    Ok(Engine::new(connections(sandbox, world).await?, registry()))
}

/// Every shipped table, with GitHub commits cached in memory only.
pub fn registry() -> skyglue_core::Registry {
    skyglue_aws::registry()
        .merge(
            skyglue_core::Registry::new()
                .table(skyglue_github::GithubCommit::without_disk_cache())
                .table(skyglue_github::GithubRepositoryMap),
        )
        .merge(skyglue_kubernetes::registry())
}
