//! Engines over declared tables for the tests: a declaration per paging
//! style against a [`Fake`], fast retries, and helpers to run SQL.

use std::sync::Arc;
use std::time::Duration;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::prelude::SessionContext;
use serde_json::{Value, json};
use skyglue_core::http_retry::RetryPolicy;
use skyglue_core::{Connections, Engine, Registry};
use skyglue_rest::{DeclaredTable, Env, load};

use crate::fake::{Fake, Paging, Shape};

/// The environment the declarations read: a token and the fakes' URLs.
pub fn env(vars: &[(&str, &str)]) -> Env {
    let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    Arc::new(move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
}

/// Retries without long waits (a 429's `Retry-After` is still honoured).
pub fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        first_backoff: Duration::from_millis(10),
        secondary_wait: Duration::from_millis(10),
        max_wait: Duration::from_secs(5),
        ..RetryPolicy::default()
    }
}

/// `n` items: `id` 1..=n, `status` alternating open/closed, a nested owner,
/// and a repository acme/web for the first half, acme/api for the rest.
pub fn items(n: usize) -> Vec<Value> {
    (1..=n)
        .map(|i| {
            json!({
                "id": i,
                "status": if i % 2 == 1 { "open" } else { "closed" },
                "owner": {"login": format!("user{}", i % 3)},
                "created_at": format!("2024-05-{:02}T12:00:00Z", 1 + i % 28),
                "repository": {"full_name": if i <= n / 2 { "acme/web" } else { "acme/api" }},
            })
        })
        .collect()
}

/// The fake's shape for `paging`: rows under `items`, page size `limit`,
/// `status` filtered.
pub fn shape(paging: Paging) -> Shape {
    Shape { paging, rows: "items", size_param: "limit", default_size: 10, filters: &[("status", "status")] }
}

/// The `paginate = {...}` matching the fake's `paging`, pages of `size`.
pub fn paginate(paging: Paging, size: u32) -> String {
    let common = format!("page_size = {size}, page_size_param = \"limit\"");
    match paging {
        Paging::Link => format!("{{ style = \"link\", {common} }}"),
        Paging::Cursor => format!(
            "{{ style = \"cursor\", cursor_param = \"cursor\", next = \"$.response_metadata.next_cursor\", {common} }}"
        ),
        Paging::Offset => {
            format!("{{ style = \"offset\", offset_param = \"offset\", more = \"$.more\", {common} }}")
        }
        Paging::Page => format!("{{ style = \"page\", page_param = \"page\", {common} }}"),
    }
}

/// Table `item` over `fake`, paged as it pages, plus `repo_item` whose
/// repository is a required path parameter.
pub fn declarations(paging: Paging, size: u32) -> String {
    let paginate = paginate(paging, size);
    format!(
        r#"
[[table]]
name = "item"
description = "Items of the fake."
url = "{FAKE_HOST}/items"
auth = {{ header = "Authorization", value = "Bearer ${{FAKE_TOKEN}}" }}
rows = "$.items[*]"
paginate = {paginate}

[[table.column]]
name = "id"
type = "integer"
description = "The item's id."

[[table.column]]
name = "status"
key = {{ param = "status" }}

[[table.column]]
name = "owner_login"
path = "$.owner.login"

[[table.column]]
name = "created_at"
type = "timestamp"

[[table]]
name = "repo_item"
url = "{FAKE_HOST}/repos/{{repo}}/items"
auth = {{ header = "Authorization", value = "Bearer ${{FAKE_TOKEN}}" }}
rows = "$.items[*]"
paginate = {paginate}

[[table.column]]
name = "repository_full_name"
path = "$.repository.full_name"
key = {{ param = "repo", required = true }}

[[table.column]]
name = "id"
type = "integer"
"#
    )
}

/// Table `item` over `{FAKE_HOST}/items`, rows `$.items[*]` with an integer
/// `id`, and `lines` (auth, paginate...) as its other keys.
pub fn item_table(lines: &str) -> String {
    format!(
        "[[table]]\nname = \"item\"\nurl = \"{FAKE_HOST}/items\"\nrows = \"$.items[*]\"\n{lines}\n\
         [[table.column]]\nname = \"id\"\ntype = \"integer\"\n"
    )
}

/// The origin test declarations are written with; [`Session::at`] puts the
/// fake's own in its place (a url's origin is never a variable).
pub const FAKE_HOST: &str = "http://fake.invalid";

/// The header auth every test table sends: `Bearer test-token`.
pub const BEARER: &str = "auth = { header = \"Authorization\", value = \"Bearer ${FAKE_TOKEN}\" }";

/// A session over `text`'s tables against `fake`.
pub struct Session {
    /// The engine.
    pub engine: Engine,
    /// Its context.
    pub ctx: SessionContext,
}

impl Session {
    /// Loads `text` with the fake's URL and token in the environment.
    pub async fn over(fake: &Fake, text: &str) -> Session {
        Self::with(fake, text, |engine| engine).await
    }

    /// As [`Session::over`], with `configure` applied to the engine.
    pub async fn with(fake: &Fake, text: &str, configure: impl FnOnce(Engine) -> Engine) -> Session {
        Self::at(&fake.base, text, configure).await
    }

    /// As [`Session::with`], against any server at `base` (in place of
    /// [`FAKE_HOST`]).
    pub async fn at(base: &str, text: &str, configure: impl FnOnce(Engine) -> Engine) -> Session {
        let env = env(&[("FAKE_TOKEN", "test-token")]);
        let text = text.replace(FAKE_HOST, base);
        let registry = load::from_text("test.toml", &text)
            .expect("valid declarations")
            .into_iter()
            .fold(Registry::new(), |r, d| {
                r.table(DeclaredTable::new(d, env.clone()).with_retry_policy(fast_retries()))
            });
        let engine = configure(Engine::new(Connections::default(), registry));
        let ctx = engine.session().await.expect("session");
        Session { engine, ctx }
    }

    /// Runs `sql`.
    pub async fn try_query(&self, sql: &str) -> Result<Vec<RecordBatch>, String> {
        let df = self.ctx.sql(sql).await.map_err(|e| describe(&e))?;
        df.collect().await.map_err(|e| describe(&e))
    }

    /// Runs `sql`, which must succeed.
    pub async fn query(&self, sql: &str) -> Vec<RecordBatch> {
        self.try_query(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// Runs `sql` and prints its result as a table.
    pub async fn pretty(&self, sql: &str) -> String {
        pretty_format_batches(&self.query(sql).await).expect("pretty").to_string()
    }
}

/// The skyglue error in `e` when there is one, else DataFusion's message.
fn describe(e: &datafusion::error::DataFusionError) -> String {
    skyglue_core::Error::find(e).map_or_else(|| e.to_string(), ToString::to_string)
}

/// Rows in `batches`.
pub fn rows(batches: &[RecordBatch]) -> usize {
    batches.iter().map(RecordBatch::num_rows).sum()
}
