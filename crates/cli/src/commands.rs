//! The subcommands: `query` and `demo`.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use datafusion::arrow::array::RecordBatch;
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::DFParser;
use skyglue::output::{self, Format};
use skyglue_core::config::ByteSize;
use skyglue_core::{Config, Engine};
use skyglue_sandbox::{Sandbox, SandboxConfig, World};

use crate::progress::Progress;

/// `skyglue query SQL`: runs each statement and prints its result.
pub async fn query(
    config: Option<&Path>,
    state_dir: Option<&Path>,
    sql: &str,
    format: Format,
    workers: &[String],
    memory_limit: Option<ByteSize>,
) -> anyhow::Result<()> {
    let (_, config) = Config::discover(config)?;
    let config = crate::errors::with_memory_limit(config, memory_limit);
    let engine = crate::cluster::engine(&config, workers).await?;
    let ctx = engine.session().await?;
    let dir = crate::run::state_dir(state_dir, &config);
    let team = crate::run::team_table(&config, &engine)?;
    skyglue::register_team_journal(&ctx, &dir, team)?;
    run_statements(&engine, &ctx, sql, format).await
}

/// Plans and runs each statement of `sql`, printing results to stdout.
async fn run_statements(
    engine: &Engine,
    ctx: &SessionContext,
    sql: &str,
    format: Format,
) -> anyhow::Result<()> {
    let statements = DFParser::parse_sql(sql)?;
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

const DEMO_POLICY: &str = include_str!("../../../queries/ecr_cleanup.sql");

/// `skyglue demo`: the shipped cleanup policy, in dry run, against the bundled
/// sandbox world; shows what it would delete and the Slack message it sends.
pub async fn demo(state_dir: Option<&Path>, serve: bool) -> anyhow::Result<()> {
    let world = World::demo();
    let sandbox = Sandbox::start(world.clone(), SandboxConfig::default())
        .await
        .context("failed to start the sandbox")?;
    if serve {
        return serve_forever(sandbox, &world).await;
    }
    let engine = skyglue::sandbox::engine(&sandbox, &world).await?;
    let notifier = skyglue::notifier(engine.connections());
    // The demo's journal is not the user's: keep it apart unless asked.
    let dir = state_dir
        .map(Path::to_path_buf)
        .unwrap_or_else(|| std::env::temp_dir().join(format!("skyglue-demo-{}", std::process::id())));
    let journal = std::sync::Arc::new(skyglue_policy::Journal::open(&dir)?);
    let runner = skyglue_policy::Runner::new(engine, journal, skyglue_aws::sinks::all(), notifier);
    let policy = skyglue_policy::PolicyFile::parse(DEMO_POLICY, "queries/ecr_cleanup.sql", "ecr_cleanup")
        .map_err(|e| anyhow::anyhow!("the shipped policy is invalid: {e}"))?;
    let prepared = runner
        .prepare_parsed(policy, "queries/ecr_cleanup.sql", &skyglue_policy::RunOptions::default())
        .await
        .map_err(|e| anyhow::anyhow!(e))?;

    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "skyglue demo: a sandbox cloud with accounts prod (111111111111) and staging (222222222222)"
    )?;
    writeln!(
        out,
        "in us-east-1 and eu-west-1, a CI that pushed an image of github.com/acme/web per commit,"
    )?;
    writeln!(out, "and services and tasks that still use some of those images.\n")?;
    writeln!(out, "Running queries/ecr_cleanup.sql as a dry run: images of commits older than 30 days, and")?;
    writeln!(out, "untagged images older than 14 days, that nothing in any account or region uses or")?;
    writeln!(out, "pulled in the last 14 days. Below, what it would delete, then what it keeps and why.\n")?;
    drop(out);

    let outcome = runner.run(prepared).await;
    let mut out = std::io::stdout().lock();
    write!(out, "{}", outcome.report.to_text_styled(skyglue::output::stdout_colour()))?;
    let calls: u64 = sandbox.calls().iter().filter(|(k, _)| !k.starts_with("slack")).map(|(_, v)| v).sum();
    writeln!(out, "({calls} API calls; journal: {})", runner.journal().path().display())?;
    match sandbox
        .slack_messages()
        .first()
        .and_then(|m| m.get("text").and_then(|t| t.as_str()).map(str::to_string))
    {
        Some(text) => writeln!(out, "\nThe Slack message it sent (plain-text fallback):\n\n{text}")?,
        None => writeln!(out, "\nNo Slack message was sent.")?,
    }
    if let Some(e) = &outcome.notify_error {
        writeln!(out, "Slack failed: {e}")?;
    }
    drop(out);
    let s3_exit = if outcome.exit_code() == 0 { crate::demo_s3::show(&runner).await? } else { 0 };
    let mut out = std::io::stdout().lock();
    if outcome.exit_code() != 0 {
        drop(out);
        let error =
            outcome.notify_error.as_deref().or(outcome.report.error.as_deref()).unwrap_or("see the report");
        anyhow::bail!("the demo's run did not succeed ({:?}): {error}", outcome.report.status);
    }
    if s3_exit != 0 {
        drop(out);
        anyhow::bail!("the demo's S3 run did not succeed (exit {s3_exit}): see its report above");
    }
    writeln!(out, "\nNothing was deleted. {TRY_NEXT}")?;
    Ok(())
}

/// What the demo suggests next.
const TRY_NEXT: &str = "Try next:

  1. Keep this world running, then query it from another shell:
       skyglue demo --serve          # prints the exports that point skyglue at the sandbox
       skyglue query \"SELECT repository_name, image_tags, image_pushed_at FROM aws_ecr_image ORDER BY image_pushed_at\"
  2. Explore it interactively (\\d lists the tables, \\d aws_ecr_image its columns):
       skyglue repl
  3. Delete for real, in the sandbox only (with the exports of step 1 set):
       skyglue run queries/ecr_cleanup.sql --apply --notify none
     Safer first step: queries/ecr_archive.sql archives the same images instead, and skyglue restore RUN_ID undoes it.";

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
