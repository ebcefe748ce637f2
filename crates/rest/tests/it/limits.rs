//! Paging ends: a cursor that leads back to a page already read, an API that
//! never stops handing out next pages (`paginate.max_pages`), empty pages
//! that still name a next one, and a server that never answers each end the
//! scan, with an error naming the table where rows would be missing.

use serde_json::json;

use crate::scripted::{Scripted, param, silent};
use crate::support::{BEARER, Session, fast_retries, item_table, rows};

const CURSOR: &str = "paginate = { style = \"cursor\", cursor_param = \"cursor\", next = \"$.next\" }";

/// A page of one row, `id`, whose next cursor is `next`.
fn cursor_page(id: u64, next: &str) -> (u16, Vec<(&'static str, String)>, String) {
    (200, vec![], json!({"items": [{"id": id}], "next": next}).to_string())
}

#[tokio::test]
async fn a_cursor_cycle_ends_with_an_error_naming_the_table() {
    // No cursor -> "2" -> "1" -> "2" ...: no cursor repeats the one it was given.
    let api = Scripted::start(|target| match param(target, "cursor").as_deref() {
        Some("2") => cursor_page(2, "1"),
        _ => cursor_page(1, "2"),
    })
    .await;
    let s = Session::at(&api.base, &item_table(&format!("{BEARER}\n{CURSOR}")), |e| e).await;
    let err = s.try_query("SELECT id FROM item").await.expect_err("a cycle");
    assert!(err.starts_with("failed to page through table item (GET http://"), "{err}");
    assert!(err.contains("page 3's next page is page 2, already read"), "{err}");
    assert_eq!(api.targets().len(), 3, "{:?}", api.targets());
}

#[tokio::test]
async fn max_pages_ends_an_endless_listing_with_an_error() {
    // Every page names a fresh next page.
    let api = Scripted::start(|target| {
        let n: u64 = param(target, "cursor").and_then(|c| c.parse().ok()).unwrap_or(1);
        cursor_page(n, &(n + 1).to_string())
    })
    .await;
    let text = item_table(&format!("{BEARER}\n{}", CURSOR.replace(" }", ", max_pages = 4 }")));
    let s = Session::at(&api.base, &text, |e| e).await;
    let err = s.try_query("SELECT id FROM item").await.expect_err("past max_pages");
    assert!(err.starts_with("failed to page through table item"), "{err}");
    assert!(err.contains("passed max_pages (4)"), "{err}");
    assert_eq!(api.targets().len(), 4);
    // LIMIT still stops paging before the limit matters.
    assert_eq!(rows(&s.query("SELECT id FROM item LIMIT 2").await), 2);
}

#[tokio::test]
async fn an_empty_page_ends_cursor_and_link_paging() {
    // Page 1 has rows, page 2 none, page 3 rows again: the listing stops at page 2.
    let cursor = Scripted::start(|target| match param(target, "cursor").as_deref() {
        None => cursor_page(1, "2"),
        Some("2") => (200, vec![], json!({"items": [], "next": "3"}).to_string()),
        Some(_) => cursor_page(3, "4"),
    })
    .await;
    let s = Session::at(&cursor.base, &item_table(&format!("{BEARER}\n{CURSOR}")), |e| e).await;
    assert_eq!(rows(&s.query("SELECT id FROM item").await), 1);
    assert_eq!(cursor.targets().len(), 2, "{:?}", cursor.targets());

    let link = Scripted::start(|target| {
        let n: u64 = param(target, "page").and_then(|p| p.parse().ok()).unwrap_or(1);
        let next = format!("</items?page={}>; rel=\"next\"", n + 1);
        let items = if n == 2 { json!([]) } else { json!([{"id": n}]) };
        (200, vec![("link", next)], json!({"items": items}).to_string())
    })
    .await;
    let text = item_table(&format!("{BEARER}\npaginate = {{ style = \"link\" }}"));
    let s = Session::at(&link.base, &text, |e| e).await;
    assert_eq!(rows(&s.query("SELECT id FROM item").await), 1);
    assert_eq!(link.targets().len(), 2, "{:?}", link.targets());

    // An API documented to answer empty pages mid-listing can say so.
    let text = item_table(&format!(
        "{BEARER}\n{}",
        CURSOR.replace(" }", ", stop_on_empty = false, max_pages = 3 }")
    ));
    let s = Session::at(&cursor.base, &text, |e| e).await;
    let err = s.try_query("SELECT id FROM item").await.expect_err("pages on past the empty page");
    assert!(err.contains("passed max_pages (3)"), "{err}");
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let (base, held) = silent().await;
    let text = item_table(&format!("{BEARER}\ntimeout_seconds = 0.2"));
    let s = Session::at(&base, &text, |e| e).await;
    let err = s.try_query("SELECT id FROM item").await.expect_err("a timeout");
    held.abort();
    assert!(err.starts_with("table item: failed to GET http://"), "{err}");
    let attempts = fast_retries().max_attempts;
    assert!(err.ends_with(&format!("no answer within 0.2 s (after {attempts} attempts)")), "{err}");
}

#[test]
fn limits_are_checked_where_they_are_declared() {
    let err = |lines: &str| {
        skyglue_rest::load::from_text("t.toml", &item_table(lines)).expect_err("refused").to_string()
    };
    let zero = err(&CURSOR.replace(" }", ", max_pages = 0 }"));
    assert!(zero.starts_with("t.toml:5: table item: paginate.max_pages must be at least 1"), "{zero}");
    let slow = err("timeout_seconds = 0");
    assert!(slow.contains("timeout_seconds must be more than 0"), "{slow}");
}
