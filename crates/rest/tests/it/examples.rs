//! The shipped declarations in `tables/`, each against a fake that pages as
//! the real API does: GitHub's workflow runs (`Link`, `per_page`), Slack's
//! conversations.list (`response_metadata.next_cursor`), PagerDuty's
//! incidents (`offset`, `limit`, `more`).

use std::path::Path;

use serde_json::{Value, json};
use skyglue_core::{Connections, Engine, Registry};
use skyglue_rest::{DeclaredTable, load};

use crate::fake::{Fake, Paging, Shape, params_of};
use crate::support::{env, fast_retries, rows};

/// An engine over every file in `tables/`, with `vars` as the environment.
async fn shipped(public: &str, fake: &str, vars: &[(&str, &str)]) -> datafusion::prelude::SessionContext {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tables");
    let env = env(vars);
    let mut registry = Registry::new();
    for entry in std::fs::read_dir(&dir).expect("tables/ reads") {
        let path = entry.expect("an entry").path();
        let text = std::fs::read_to_string(&path).expect("a shipped declaration reads");
        // The shipped url names the public API; the test's fake stands in for it.
        let text = text.replace(public, fake);
        for d in
            load::from_text(&path.display().to_string(), &text).expect("the shipped declarations are valid")
        {
            registry = registry.table(DeclaredTable::new(d, env.clone()).with_retry_policy(fast_retries()));
        }
    }
    Engine::new(Connections::default(), registry).session().await.expect("session")
}

async fn collect(
    ctx: &datafusion::prelude::SessionContext,
    sql: &str,
) -> Vec<datafusion::arrow::array::RecordBatch> {
    ctx.sql(sql).await.expect("plans").collect().await.unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn run(i: usize) -> Value {
    json!({
        "id": 9000 + i, "name": "ci", "run_number": i, "event": if i.is_multiple_of(4) { "schedule" } else { "push" },
        "status": "completed", "conclusion": if i.is_multiple_of(5) { "failure" } else { "success" },
        "head_branch": "main", "head_sha": format!("{i:040x}"), "actor": {"login": "octocat"},
        "created_at": "2024-05-01T12:00:00Z", "updated_at": "2024-05-01T12:10:00Z",
        "html_url": format!("https://github.com/acme/web/actions/runs/{}", 9000 + i),
        "repository": {"full_name": if i <= 150 { "acme/web" } else { "acme/api" }},
    })
}

#[tokio::test]
async fn github_workflow_runs_follow_link_headers() {
    let shape = Shape {
        paging: Paging::Link,
        rows: "workflow_runs",
        size_param: "per_page",
        default_size: 30,
        filters: &[("status", "status"), ("event", "event"), ("branch", "head_branch")],
    };
    let fake = Fake::start(shape, (1..=200).map(run).collect()).await;
    let ctx = shipped("https://api.github.com", &fake.base, &[("GITHUB_TOKEN", "test-token")]).await;
    let sql = "SELECT id, conclusion, created_at FROM github_workflow_run \
               WHERE repository_full_name = 'acme/web' AND event = 'push'";
    assert_eq!(rows(&collect(&ctx, sql).await), 113, "150 runs of acme/web, 37 of them scheduled");
    let requests = fake.requests();
    assert_eq!(requests.len(), 2, "113 runs are two pages of 100: {requests:?}");
    assert!(requests[0].starts_with("/repos/acme/web/actions/runs?"), "{requests:?}");
    assert_eq!(params_of(&requests[0])["per_page"], vec!["100"]);
    assert_eq!(params_of(&requests[1])["page"], vec!["2"], "the Link header's next page");
}

#[tokio::test]
async fn slack_conversations_follow_the_cursor() {
    let shape = Shape {
        paging: Paging::Cursor,
        rows: "channels",
        size_param: "limit",
        default_size: 100,
        filters: &[],
    };
    let channels = (1..=450u32)
        .map(|i| {
            json!({"id": format!("C{i:05}"), "name": format!("team-{i}"), "is_private": false,
            "is_archived": i.is_multiple_of(10), "num_members": i, "topic": {"value": "ops"}, "purpose": {"value": ""},
            "created": 1_714_564_800 + i, "creator": "U1"})
        })
        .collect();
    let fake = Fake::start(shape, channels).await;
    let ctx = shipped("https://slack.com/api", &fake.base, &[("SLACK_BOT_TOKEN", "test-token")]).await;
    let sql = "SELECT name, types, created FROM slack_conversation \
               WHERE types = 'public_channel' AND is_archived = false";
    let out = collect(&ctx, sql).await;
    assert_eq!(rows(&out), 405);
    let requests = fake.requests();
    assert_eq!(requests.len(), 3, "450 channels in pages of 200: {requests:?}");
    assert_eq!(params_of(&requests[0])["types"], vec!["public_channel"]);
    assert_eq!(params_of(&requests[1])["cursor"], vec!["c200"]);
    let shown = datafusion::arrow::util::pretty::pretty_format_batches(&out).expect("pretty").to_string();
    assert!(shown.contains("| team-1   | public_channel | 2024-05-01T12:00:01Z |"), "{shown}");
}

const STATUSES: [&str; 3] = ["triggered", "acknowledged", "resolved"];

#[tokio::test]
async fn pagerduty_incidents_page_by_offset_until_more_is_false() {
    let shape = Shape {
        paging: Paging::Offset,
        rows: "incidents",
        size_param: "limit",
        default_size: 25,
        filters: &[("statuses[]", "status"), ("urgencies[]", "urgency")],
    };
    let incidents = (1..=230)
        .map(|i| json!({"id": format!("P{i:04}"), "incident_number": i, "title": "disk full",
            "status": STATUSES[i % 3], "urgency": "high",
            "service": {"id": "PSVC1", "summary": "web"}, "created_at": "2024-05-01T12:00:00Z",
            "assignments": [{"assignee": {"id": "PUSER1"}}], "html_url": "https://acme.pagerduty.com/incidents/x"}))
        .collect();
    let fake = Fake::start(shape, incidents).await;
    let ctx = shipped("https://api.pagerduty.com", &fake.base, &[("PAGERDUTY_TOKEN", "test-token")]).await;
    assert_eq!(rows(&collect(&ctx, "SELECT id, assignments FROM pagerduty_incident").await), 230);
    assert_eq!(fake.calls(), 3, "230 incidents in pages of 100: {:?}", fake.requests());
    let open = "SELECT id FROM pagerduty_incident WHERE status IN ('triggered', 'acknowledged')";
    assert_eq!(rows(&collect(&ctx, open).await), 153);
    let statuses: Vec<String> = fake.requests()[3..]
        .iter()
        .flat_map(|r| params_of(r).remove("statuses[]").unwrap_or_default())
        .collect();
    assert!(statuses.iter().all(|s| s == "triggered" || s == "acknowledged"), "{statuses:?}");
}
