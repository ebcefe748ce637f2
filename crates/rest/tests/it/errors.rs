//! Failure paths: a 429 with `Retry-After` is waited out, a response that
//! does not fit names the table and the JSON path, an unset `${VAR}` names
//! the variable, and an error status names the request.

use serde_json::json;

use crate::fake::{Fake, Paging};
use crate::support::{Session, declarations, items, rows, shape};

#[tokio::test]
async fn a_429_with_retry_after_is_waited_out() {
    let fake = Fake::start(shape(Paging::Link), items(20)).await;
    let s = Session::over(&fake, &declarations(Paging::Link, 10)).await;
    fake.throttle_next(1);
    let out = s.pretty("EXPLAIN ANALYZE SELECT count(*) FROM item").await;
    assert!(out.contains("api_calls=2"), "{out}");
    assert!(out.contains("retries=1"), "{out}");
    assert_eq!(fake.calls(), 3, "the throttled request was sent again: {:?}", fake.requests());
    assert_eq!(rows(&s.query("SELECT id FROM item").await), 20);
}

#[tokio::test]
async fn a_value_of_the_wrong_type_names_the_table_and_path() {
    let mut bad = items(12);
    bad[11]["id"] = json!("twelve");
    let fake = Fake::start(shape(Paging::Offset), bad).await;
    let s = Session::over(&fake, &declarations(Paging::Offset, 10)).await;
    let err = s.try_query("SELECT id FROM item").await.expect_err("malformed");
    assert!(err.starts_with("table item: the response of GET http://"), "{err}");
    assert!(err.contains("does not fit $.id (column id): expected an integer, found \"twelve\""), "{err}");
}

#[tokio::test]
async fn a_missing_rows_array_names_the_rows_path() {
    let fake = Fake::start(shape(Paging::Offset), items(3)).await;
    let text = declarations(Paging::Offset, 10).replacen("$.items[*]", "$.data[*]", 1);
    let s = Session::over(&fake, &text).await;
    let err = s.try_query("SELECT id FROM item").await.expect_err("malformed");
    assert!(
        err.contains("table item:") && err.contains("does not fit $.data[*] (rows): no array there"),
        "{err}"
    );
}

#[tokio::test]
async fn an_unset_variable_is_named() {
    let fake = Fake::start(shape(Paging::Offset), items(3)).await;
    let text = declarations(Paging::Offset, 10).replacen("${FAKE_TOKEN}", "${ITEM_API_TOKEN}", 1);
    let s = Session::over(&fake, &text).await;
    let err = s.try_query("SELECT id FROM item").await.expect_err("unset");
    assert!(err.contains("table item: environment variable ITEM_API_TOKEN is not set"), "{err}");
    assert_eq!(fake.calls(), 0);
}

#[tokio::test]
async fn an_error_status_names_the_request() {
    let fake = Fake::start(shape(Paging::Offset), items(3)).await;
    let text =
        declarations(Paging::Offset, 10).replacen("Bearer ${FAKE_TOKEN}", "Bearer ${FAKE_TOKEN}-revoked", 1);
    let s = Session::over(&fake, &text).await;
    let err = s.try_query("SELECT id FROM item").await.expect_err("401");
    assert!(err.starts_with("table item: failed to GET http://"), "{err}");
    assert!(err.ends_with("HTTP 401: {\"message\":\"bad credentials\"}"), "{err}");
}
