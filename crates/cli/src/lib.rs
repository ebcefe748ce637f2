//! skyglue: SQL over cloud APIs, as a library.
//!
//! An embedding program builds an [`Engine`] from a [`Config`] (or from
//! connections it makes itself) and registers skyglue's tables, views and
//! functions on its own DataFusion `SessionContext`:
//!
//! ```no_run
//! use datafusion::prelude::SessionContext;
//!
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! // skyglue.toml, $SKYGLUE_CONFIG, or the standard AWS chain.
//! let (_, config) = skyglue::Config::discover(None)?;
//! let engine = skyglue::engine(&config).await?;
//!
//! let ctx = SessionContext::new();
//! engine.register(&ctx).await?;
//! ctx.sql("SELECT account_id, region, service_name FROM aws_ecs_service")
//!     .await?
//!     .show()
//!     .await?;
//! # Ok(())
//! # }
//! ```
//!
//! Your own tables ([`ApiTable`]: one [`TableSpec`] and one fetch), policy
//! actions (`skyglue_core::sink::Sink`) and notifiers
//! (`skyglue_policy::Notifier`) plug in beside the shipped ones: the
//! repository's `examples/` shows each, runnable against [`sandbox`].

pub mod output;
pub mod reference;
pub mod sandbox;

pub use skyglue_core::{
    ApiTable, ColumnSpec, Config, Connections, Engine, Error, FetchContext, Key, Registry, Scope, TableSpec,
    View, new_context, session_config,
};

/// Every table and view skyglue ships.
pub fn registry() -> Registry {
    skyglue_aws::registry().merge(skyglue_github::registry()).merge(skyglue_kubernetes::registry())
}

/// The notifier the connections configure (Slack), if any.
pub fn notifier(
    connections: &skyglue_core::Connections,
) -> Option<std::sync::Arc<dyn skyglue_policy::Notifier>> {
    skyglue_policy::slack::from_settings(&connections.slack)
}

/// Registers the `skyglue_journal` table (the journal in `state_dir`) on `ctx`.
pub fn register_journal(
    ctx: &datafusion::prelude::SessionContext,
    state_dir: &std::path::Path,
) -> datafusion::error::Result<()> {
    register_team_journal(ctx, state_dir, None)
}

/// Registers `skyglue_journal` over the journal in `state_dir` and, when
/// given, every host's entries in the team table (`[state] dynamodb_table`).
pub fn register_team_journal(
    ctx: &datafusion::prelude::SessionContext,
    state_dir: &std::path::Path,
    team: Option<skyglue_policy::TeamTable>,
) -> datafusion::error::Result<()> {
    let mut table = skyglue_policy::JournalTable::new(state_dir);
    if let Some(team) = team {
        table = table.with_team(team);
    }
    ctx.register_table("skyglue_journal", std::sync::Arc::new(table))?;
    Ok(())
}

/// An engine with every shipped table and every table `config` declares
/// (`[[table]]`, `tables_dir`), over the connections `config` names.
pub async fn engine(config: &Config) -> skyglue_core::Result<Engine> {
    Engine::from_config(config, registry_with_declared(config)?).await
}

/// The shipped tables plus the ones `config` declares; a declared name
/// that clashes with a shipped table is refused.
pub fn registry_with_declared(config: &Config) -> skyglue_core::Result<Registry> {
    let builtin = registry();
    let declared = skyglue_rest::registry(config, &builtin, skyglue_rest::process_env())?;
    Ok(builtin.merge(declared))
}
