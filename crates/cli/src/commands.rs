//! The subcommands: `query` and `demo`.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use datafusion::arrow::array::RecordBatch;
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::DFParser;
use skyglue::output::{self, Format};
use skyglue_core::{Config, Engine};
use skyglue_sandbox::{Sandbox, SandboxConfig, World};

use crate::progress::Progress;

/// `skyglue query SQL`: runs each statement and prints its result.
pub async fn query(
    config: Option<&Path>,
    state_dir: Option<&Path>,
    sql: &str,
    format: Format,
) -> anyhow::Result<()> {
    let (_, config) = Config::discover(config)?;
    let engine = skyglue::engine(&config).await?;
    let ctx = engine.session().await?;
    let dir = state_dir.map(Path::to_path_buf).unwrap_or_else(skyglue_policy::Journal::default_dir);
    skyglue::register_journal(&ctx, &dir)?;
    run_statements(&engine, &ctx, sql, format).await
}

/// Plans and runs each statement of `sql`, printing results to stdout.
async fn run_statements(
    engine: &Engine,
    ctx: &SessionContext,
    sql: &str,
    format: Format,
) -> anyhow::Result<()> {
    let statements = DFParser::parse_sql(sql).map_err(datafusion::error::DataFusionError::from)?;
    if statements.is_empty() {
        return Err(crate::errors::usage("no SQL statement given"));
    }
    for statement in statements {
        let plan = ctx.state().statement_to_plan(statement).await?;
        let df = ctx.execute_logical_plan(plan).await?;
        let schema = df.schema().inner().clone();
        let progress = Progress::start(engine.connections().counters.clone());
        let batches: Result<Vec<RecordBatch>, _> = df.collect().await;
        progress.finish();
        let batches = batches?;
        let mut stdout = std::io::stdout().lock();
        output::write(&mut stdout, format, &schema, &batches)?;
        stdout.flush()?;
    }
    Ok(())
}

const DEMO_QUERY: &str = include_str!("../../../queries/unused_images.sql");

/// `skyglue demo`: the cleanup query against the bundled sandbox world.
pub async fn demo(_state_dir: Option<&Path>, serve: bool) -> anyhow::Result<()> {
    let world = World::demo();
    let sandbox = Sandbox::start(world.clone(), SandboxConfig::default())
        .await
        .context("failed to start the sandbox")?;
    if serve {
        return serve_forever(sandbox, &world).await;
    }
    let engine = skyglue::sandbox::engine(&sandbox, &world).await?;
    let ctx = engine.session().await?;
    println!("skyglue demo: a sandbox cloud with accounts prod (111111111111) and staging (222222222222)");
    println!("in us-east-1 and eu-west-1, and a CI that pushes an image of acme/web per commit.\n");
    println!(
        "Images older than 30 days that no service deployment or task uses, in any account or region:\n"
    );
    let df = ctx.sql(DEMO_QUERY).await?;
    let schema = df.schema().inner().clone();
    let batches = df.collect().await?;
    let mut stdout = std::io::stdout().lock();
    output::write(&mut stdout, Format::Table, &schema, &batches)?;
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let calls: u64 = sandbox.calls().values().sum();
    writeln!(stdout, "\nDry run: {rows} images would be deleted; nothing was changed ({calls} API calls).")?;
    writeln!(stdout, "The query is queries/unused_images.sql; try your own with `skyglue demo --serve`.")?;
    Ok(())
}

async fn serve_forever(sandbox: Sandbox, world: &World) -> anyhow::Result<()> {
    println!("# The sandbox is running. Point skyglue at it with:");
    for (name, value) in sandbox.env_vars() {
        println!("export {name}={value}");
    }
    println!("# Other accounts' access keys (for a skyglue.toml or AWS_ACCESS_KEY_ID):");
    for account in &world.accounts {
        println!("#   {} ({}): {}", account.name, account.id, account.access_key_id);
    }
    println!("# Press Ctrl-C to stop.");
    tokio::signal::ctrl_c().await.context("failed to wait for Ctrl-C")?;
    sandbox.shutdown().await;
    Ok(())
}
