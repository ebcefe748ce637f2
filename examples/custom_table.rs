//! A table of your own: `widgets`, over a paginated JSON HTTP API, in one spec
//! and one fetch function. The framework does the rest: `WHERE owner = 'x'`
//! reaches the fetch as a key (so the API filters), `LIMIT` stops paging, and
//! every filter is re-checked on the rows.
//!
//! The example serves the API itself on loopback (`GET /widgets?page=N&owner=X`
//! answering `{"items": [...], "next_page": N|null}`) and prints how many
//! requests each query cost:
//!
//! ```text
//! cargo run -p skyglue --example custom_table
//! ```

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use bytes::Bytes;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::DataType;
use datafusion::prelude::SessionContext;
use futures::StreamExt;
use futures::stream::BoxStream;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use skyglue_core::spec::text;
use skyglue_core::{
    ApiTable, ColumnSpec, Connections, Engine, Error, FetchContext, Registry, Result, Scope, TableSpec,
};

// ---- the table: a spec, a row, a fetch ------------------------------------

static SPEC: LazyLock<TableSpec> = LazyLock::new(|| TableSpec {
    name: "widgets",
    description: "Widgets from the widget API.",
    scope: Scope::Global,
    columns: vec![
        ColumnSpec::new("id", DataType::Int64, "The widget's id."),
        ColumnSpec::new("name", text(), "The widget's name."),
        ColumnSpec::new("owner", text(), "Who owns the widget (sent to the API as ?owner=).").optional_key(),
    ],
    not_found_codes: &[],
    // A table calling a rate-limited API names its service's limits here
    // (skyglue_core::throttle::RateLimits); this one paces itself.
    rate_limits: vec![],
    operations: &[],
});

/// One widget: the API's item and the table's row alike.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Widget {
    id: i64,
    name: String,
    owner: String,
}

/// One page of `GET /widgets`.
#[derive(Serialize, Deserialize)]
struct Page {
    items: Vec<Widget>,
    next_page: Option<usize>,
}

/// The `widgets` table over the API at `base_url`.
#[derive(Debug)]
struct Widgets {
    base_url: String,
}

impl ApiTable for Widgets {
    fn spec(&self) -> &TableSpec {
        &SPEC
    }

    fn fetch(&self, ctx: FetchContext) -> BoxStream<'static, Result<RecordBatch>> {
        let base_url = self.base_url.clone();
        async_stream::try_stream! {
            let client = Client::builder(TokioExecutor::new()).build_http();
            // One listing per owner the query names, else one of everything.
            let owners = match ctx.keys.get("owner") {
                Some(owners) => owners.iter().map(|o| Some(o.clone())).collect(),
                None => vec![None],
            };
            for owner in owners {
                let mut page = Some(1);
                while let Some(n) = page {
                    ctx.metrics.call();
                    let body: Page = get_json(&client, &page_url(&base_url, n, owner.as_deref())).await?;
                    yield ctx.batch(&body.items)?;
                    page = body.next_page;
                }
            }
        }
        .boxed()
    }
}

// ---- plain HTTP: one GET, one URL ---------------------------------------

/// `GET url` as JSON; a transport error or a non-2xx status is an [`Error::Api`].
async fn get_json<T: DeserializeOwned>(client: &Client<HttpConnector, Empty<Bytes>>, url: &str) -> Result<T> {
    let failed =
        |detail: String| Error::Api { operation: "GET /widgets".into(), connection: url.into(), detail };
    let response = client.get(url.parse().map_err(|e| failed(format!("{e}")))?).await;
    let response = response.map_err(|e| failed(e.to_string()))?;
    let status = response.status();
    let body = response.into_body().collect().await.map_err(|e| failed(e.to_string()))?.to_bytes();
    if !status.is_success() {
        return Err(failed(format!("{status}: {}", String::from_utf8_lossy(&body))));
    }
    serde_json::from_slice(&body).map_err(|e| failed(e.to_string()))
}

/// `base/widgets?page=N[&owner=X]`, with the owner percent-encoded.
fn page_url(base: &str, page: usize, owner: Option<&str>) -> String {
    let mut url = format!("{base}/widgets?page={page}");
    if let Some(owner) = owner {
        url.push_str("&owner=");
        for b in owner.bytes() {
            let unreserved = b.is_ascii_alphanumeric() || b"-._~".contains(&b);
            url.push_str(&if unreserved { char::from(b).to_string() } else { format!("%{b:02X}") });
        }
    }
    url
}

// ---- the widget API, served on loopback ------------------------------------

const PAGE_SIZE: usize = 3;

#[derive(Clone)]
struct Api {
    widgets: Arc<Vec<Widget>>,
    requests: Arc<AtomicUsize>,
}

#[derive(Deserialize)]
struct ListParams {
    page: Option<usize>,
    owner: Option<String>,
}

async fn list_widgets(State(api): State<Api>, Query(params): Query<ListParams>) -> Json<Page> {
    api.requests.fetch_add(1, Ordering::SeqCst);
    let owned: Vec<&Widget> =
        api.widgets.iter().filter(|w| params.owner.as_ref().is_none_or(|o| *o == w.owner)).collect();
    let page = params.page.unwrap_or(1).max(1);
    let items = owned.iter().skip((page - 1) * PAGE_SIZE).take(PAGE_SIZE).map(|w| (*w).clone()).collect();
    let next_page = (page * PAGE_SIZE < owned.len()).then_some(page + 1);
    Json(Page { items, next_page })
}

/// Serves 20 widgets, 5 per owner, on a free loopback port: the base URL and
/// the request counter.
async fn serve() -> std::io::Result<(String, Arc<AtomicUsize>)> {
    let owners = ["ana", "bo", "cy", "dee"];
    let widgets = (1..=20)
        .map(|id: i64| Widget { id, name: format!("widget-{id}"), owner: owners[id as usize % 4].into() })
        .collect();
    let api = Api { widgets: Arc::new(widgets), requests: Arc::default() };
    let requests = api.requests.clone();
    let app = Router::new().route("/widgets", get(list_widgets)).with_state(api);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base_url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((base_url, requests))
}

// ---- using it ----------------------------------------------------------------

#[tokio::main]
async fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    let (base_url, requests) = serve().await?;
    let engine = Engine::new(Connections::default(), Registry::new().table(Widgets { base_url }));
    let ctx = engine.session().await?;

    // Every page: 20 widgets, 3 per page.
    run(&ctx, &requests, "SELECT count(*) AS widgets FROM widgets").await?;
    // The owner goes to the API: only ana's 2 pages are read.
    run(&ctx, &requests, "SELECT id, name FROM widgets WHERE owner = 'ana' ORDER BY id").await?;
    // The first page holds enough rows: paging stops there.
    run(&ctx, &requests, "SELECT id, owner FROM widgets LIMIT 2").await?;
    Ok(())
}

/// Runs `sql`, prints its result and the API requests it made.
async fn run(
    ctx: &SessionContext,
    requests: &AtomicUsize,
    sql: &str,
) -> std::result::Result<(), Box<dyn std::error::Error>> {
    let before = requests.load(Ordering::SeqCst);
    println!("{sql}");
    ctx.sql(sql).await?.show().await?;
    println!("server requests: {}\n", requests.load(Ordering::SeqCst) - before);
    Ok(())
}
