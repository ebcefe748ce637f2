//! The declared-table scenario: 10,000 PagerDuty-style incidents from a
//! loopback fake that pages by offset (100 per page, `more` until the last)
//! with the benchmark's 20 ms per call, read through a table declared in TOML.
//!
//! The fake runs in the parent beside the sandbox and counts its calls as
//! `rest:GET /incidents`; the child finds it through [`URL_ENV`]. The floor
//! is 100 calls, one after the other (each page's offset follows the last).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, State};
use skyglue_core::Registry;
use skyglue_rest::{DeclaredTable, load};
use skyglue_sandbox::World;

use crate::support::Floor;

/// The scenario's name.
pub const SCENARIO: &str = "scan declared table (10k rows)";
/// The environment variables that hand the fake's URL and a token to the child.
pub const URL_ENV: &str = "SKYGLUE_BENCH_REST_URL";
/// See [`URL_ENV`].
pub const TOKEN_ENV: &str = "SKYGLUE_BENCH_REST_TOKEN";
/// The query the child runs.
pub const SQL: &str = "SELECT * FROM bench_incident";
const ROWS: usize = 10_000;
const PAGE: usize = 100;
const OPERATION: &str = "rest:GET /incidents";

const DECLARATION: &str = r#"
[[table]]
name = "bench_incident"
url = "http://bench.invalid/incidents"
auth = { header = "Authorization", value = "Token token=${SKYGLUE_BENCH_REST_TOKEN}" }
rows = "$.incidents[*]"
paginate = { style = "offset", limit_param = "limit", offset_param = "offset", page_size = 100, more = "$.more" }
[[table.column]]
name = "id"
[[table.column]]
name = "incident_number"
type = "integer"
[[table.column]]
name = "title"
[[table.column]]
name = "status"
key = { param = "statuses[]" }
[[table.column]]
name = "service_id"
path = "$.service.id"
[[table.column]]
name = "created_at"
type = "timestamp"
[[table.column]]
name = "assignments"
type = "json"
"#;

/// The fake API and its call counter.
pub struct RestFake {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    calls: Arc<AtomicU64>,
}

#[derive(serde::Deserialize)]
struct Page {
    offset: Option<usize>,
    limit: Option<usize>,
}

impl RestFake {
    /// Serves the incidents with `latency` per call.
    pub async fn start(latency: Duration) -> RestFake {
        let calls = Arc::new(AtomicU64::new(0));
        let state = (calls.clone(), latency);
        let app = Router::new().route("/incidents", axum::routing::get(incidents)).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
        RestFake { base, calls }
    }

    /// The calls since the last take, by operation.
    pub fn take_calls(&self) -> BTreeMap<String, u64> {
        match self.calls.swap(0, Ordering::SeqCst) {
            0 => BTreeMap::new(),
            n => BTreeMap::from([(OPERATION.to_string(), n)]),
        }
    }
}

const STATUSES: [&str; 3] = ["triggered", "acknowledged", "resolved"];

async fn incidents(
    State((calls, latency)): State<(Arc<AtomicU64>, Duration)>,
    Query(page): Query<Page>,
) -> String {
    calls.fetch_add(1, Ordering::SeqCst);
    tokio::time::sleep(latency).await;
    let (offset, limit) = (page.offset.unwrap_or(0), page.limit.unwrap_or(25).min(PAGE));
    let incidents: Vec<serde_json::Value> = (offset..(offset + limit).min(ROWS))
        .map(|i| {
            serde_json::json!({
                "id": format!("P{i:06}"), "incident_number": i, "title": format!("disk full on host-{}", i % 97),
                "status": STATUSES[i % 3],
                "service": {"id": format!("PSVC{}", i % 12), "summary": "web"},
                "created_at": "2024-05-01T12:00:00Z", "assignments": [{"assignee": {"id": "PUSER1"}}],
            })
        })
        .collect();
    serde_json::json!({"incidents": incidents, "limit": limit, "offset": offset, "more": offset + limit < ROWS}).to_string()
}

/// 100 pages of 100, each waiting for the one before.
pub fn floor(_: &World) -> Floor {
    let pages = ROWS.div_ceil(PAGE) as u64;
    Floor {
        calls: BTreeMap::from([(OPERATION.to_string(), pages)]),
        wall: Duration::from_secs_f64(pages as f64 * crate::support::LATENCY),
    }
}

/// The declared table, reading the fake's URL from [`URL_ENV`].
pub fn registry() -> Registry {
    let env = skyglue_rest::process_env();
    // A url's origin is written out, never a variable: put the fake's in.
    let base = std::env::var(URL_ENV).expect("the benchmark hands the child the fake's URL");
    load::from_text("bench.toml", &DECLARATION.replace("http://bench.invalid", &base))
        .expect("the benchmark's declaration is valid")
        .into_iter()
        .fold(Registry::new(), |r, d| r.table(DeclaredTable::new(d, env.clone())))
}
