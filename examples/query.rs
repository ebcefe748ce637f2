//! Embedding skyglue: register its tables on your own DataFusion
//! `SessionContext`, join them with your own tables, print a result, and
//! consume another as a stream of record batches.
//!
//! It runs against the built-in sandbox cloud (two accounts, two regions), so
//! it needs no AWS account:
//!
//! ```text
//! cargo run -p skyglue --example query
//! ```
//!
//! To query your real cloud instead, build the engine from the discovered
//! configuration (`skyglue.toml`, `$SKYGLUE_CONFIG`, or the standard AWS
//! chain) in place of the sandbox:
//!
//! ```text
//! let engine = skyglue::engine(&skyglue::Config::discover(None)?.1).await?;
//! ```

use datafusion::prelude::SessionContext;
use futures::StreamExt;
use skyglue_sandbox::{Sandbox, SandboxConfig, World};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let world = World::demo();
    let sandbox = Sandbox::start(world.clone(), SandboxConfig::default()).await?;
    let engine = skyglue::sandbox::engine(&sandbox, &world).await?;

    // Your own context, with skyglue's recommended settings (they let join
    // keys reach the API scans); `SessionContext::new()` works too.
    let ctx = SessionContext::new_with_config(skyglue::session_config());
    engine.register(&ctx).await?;

    // A table of your own, next to skyglue's.
    ctx.sql(
        "CREATE TABLE teams (service_name TEXT, team TEXT) AS VALUES \
         ('web', 'storefront'), ('web-batch', 'data'), ('web-legacy', 'checkout')",
    )
    .await?;

    println!("ECS services and the team that owns them:");
    let services = ctx
        .sql(
            "SELECT s.account_id, s.region, s.service_name, t.team, s.running_count \
             FROM aws_ecs_service s LEFT JOIN teams t ON t.service_name = s.service_name \
             ORDER BY s.account_id, s.region, s.service_name",
        )
        .await?;
    services.show().await?;

    // A large result need not be collected: stream it batch by batch.
    let images =
        ctx.sql("SELECT repository_name, image_digest, image_size_in_bytes FROM aws_ecr_image").await?;
    let mut stream = images.execute_stream().await?;
    let (mut batches, mut rows) = (0, 0);
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        batches += 1;
        rows += batch.num_rows();
        println!("batch {batches}: {} rows", batch.num_rows());
    }
    println!("streamed {rows} images in {batches} batches");

    let calls: u64 = sandbox.calls().values().sum();
    println!("the sandbox answered {calls} API calls");
    Ok(())
}
