//! `\connections`: what skyglue talks to, and whether it answers.
//!
//! The same checks as `skyglue connections` ([`crate::connections`]), shown
//! as one table row per connection: AWS accounts and the read calls they may
//! make, GitHub's rate limit and GraphQL, Slack's settings (never posting).

use comfy_table::Table;
use skyglue_core::Engine;

use super::fit;

/// The connections table.
pub async fn table(engine: &Engine, width: Option<u16>) -> Table {
    let rows = crate::connections::check(engine).await.rows();
    fit::text_table(&["service", "connection", "account", "status"], rows, width)
}
