//! What declared tables get from the framework like built-in ones: metrics
//! in `EXPLAIN ANALYZE`, the scan cache, the rate limit, and the
//! descriptions `\d` shows.

use std::time::Duration;

use crate::fake::{Fake, Paging};
use crate::support::{Session, declarations, items, rows, shape};

#[tokio::test]
async fn explain_analyze_shows_the_calls_and_pushed_keys() {
    let fake = Fake::start(shape(Paging::Offset), items(50)).await;
    let s = Session::over(&fake, &declarations(Paging::Offset, 10)).await;
    let out = s.pretty("EXPLAIN ANALYZE SELECT count(*) FROM item WHERE status = 'open'").await;
    assert!(out.contains("ApiScan: table=item"), "{out}");
    assert!(out.contains("keys=[status IN (open)]"), "{out}");
    assert!(out.contains("api_calls=3"), "{out}");
    assert!(out.contains("pages=3"), "{out}");
}

#[tokio::test]
async fn a_repeated_query_answers_from_the_cache() {
    let fake = Fake::start(shape(Paging::Cursor), items(30)).await;
    let s =
        Session::with(&fake, &declarations(Paging::Cursor, 10), |e| e.with_cache(Duration::from_secs(60)))
            .await;
    assert_eq!(rows(&s.query("SELECT id FROM item").await), 30);
    let calls = fake.calls();
    assert_eq!(rows(&s.query("SELECT id FROM item").await), 30);
    assert_eq!(fake.calls(), calls, "the second scan made no request");
}

#[tokio::test]
async fn the_declared_rate_holds_requests_back() {
    let fake = Fake::start(shape(Paging::Link), items(40)).await;
    let text = declarations(Paging::Link, 10).replacen(
        "rows = \"$.items[*]\"",
        "rows = \"$.items[*]\"\nrate = { per_second = 20, burst = 1 }",
        1,
    );
    let s = Session::over(&fake, &text).await;
    let out = s.pretty("EXPLAIN ANALYZE SELECT count(*) FROM item").await;
    assert!(out.contains("api_calls=4"), "{out}");
    // Four calls with a burst of one: the limiter made some of them wait (how long is not asserted).
    assert!(s.engine.connections().counters.snapshot().throttle_wait_nanos > 0, "{out}");
}

#[tokio::test]
async fn descriptions_reach_the_spec_the_repl_describes() {
    let fake = Fake::start(shape(Paging::Link), items(1)).await;
    let s = Session::over(&fake, &declarations(Paging::Link, 10)).await;
    let spec = s
        .engine
        .registry()
        .tables()
        .iter()
        .map(|t| t.spec())
        .find(|t| t.name == "item")
        .cloned()
        .expect("item");
    assert_eq!(spec.description, "Items of the fake.");
    let id = spec.column("id").expect("id");
    assert_eq!(id.description, "The item's id.");
    assert_eq!(spec.column("owner_login").expect("owner").description, "$.owner.login of each row.");
    assert_eq!(spec.column("status").expect("status").key, skyglue_core::Key::Optional);
    let out = s.pretty("SELECT id, owner_login, created_at FROM item").await;
    assert!(out.contains("| 1  | user1       | 2024-05-02T12:00:00Z |"), "{out}");
}
