//! Every pagination style, against a fake that pages that way: a full scan
//! reads every page once, `LIMIT` stops paging, a key filter changes the
//! request, and a join hands its keys to the scan.

use crate::fake::{Fake, Paging, params_of};
use crate::support::{Session, declarations, items, rows, shape};

const STYLES: [Paging; 4] = [Paging::Link, Paging::Cursor, Paging::Offset, Paging::Page];

/// 50 items in pages of 10.
async fn session(paging: Paging) -> (Fake, Session) {
    let fake = Fake::start(shape(paging), items(50)).await;
    let session = Session::over(&fake, &declarations(paging, 10)).await;
    (fake, session)
}

#[tokio::test]
async fn a_full_scan_reads_every_page_once() {
    for paging in STYLES {
        let (fake, s) = session(paging).await;
        assert_eq!(rows(&s.query("SELECT id FROM item").await), 50, "{paging:?}");
        // Page numbers have no end marker: a full last page needs one more (empty) request.
        let expected = if paging == Paging::Page { 6 } else { 5 };
        assert_eq!(fake.calls(), expected, "{paging:?}: {:?}", fake.requests());
    }
}

#[tokio::test]
async fn limit_stops_paging() {
    for paging in STYLES {
        let (fake, s) = session(paging).await;
        assert_eq!(rows(&s.query("SELECT id, owner_login FROM item LIMIT 15").await), 15, "{paging:?}");
        assert_eq!(fake.calls(), 2, "{paging:?}: 15 rows are on the first two pages: {:?}", fake.requests());
    }
}

#[tokio::test]
async fn a_key_filter_becomes_a_query_parameter() {
    for paging in STYLES {
        let (fake, s) = session(paging).await;
        let out = s.query("SELECT id, status FROM item WHERE status = 'open'").await;
        assert_eq!(rows(&out), 25, "{paging:?}");
        assert_eq!(fake.calls(), 3, "{paging:?}: 25 open items are 3 pages, not 5: {:?}", fake.requests());
        for request in fake.requests() {
            assert_eq!(params_of(&request)["status"], vec!["open"], "{paging:?}: {request}");
        }
    }
}

#[tokio::test]
async fn an_in_list_asks_once_per_value() {
    let (fake, s) = session(Paging::Offset).await;
    let n = rows(&s.query("SELECT id FROM item WHERE status IN ('open', 'closed') AND id <= 4").await);
    assert_eq!(n, 4);
    let mut asked: Vec<String> = fake.requests().iter().map(|r| params_of(r)["status"][0].clone()).collect();
    asked.sort();
    asked.dedup();
    assert_eq!(asked, vec!["closed", "open"]);
}

#[tokio::test]
async fn a_join_supplies_the_keys() {
    for paging in STYLES {
        let (fake, s) = session(paging).await;
        let sql = "WITH wanted(s) AS (VALUES ('closed')) \
                   SELECT i.id FROM wanted JOIN item i ON i.status = wanted.s";
        assert_eq!(rows(&s.query(sql).await), 25, "{paging:?}");
        for request in fake.requests() {
            assert_eq!(
                params_of(&request).get("status"),
                Some(&vec!["closed".to_string()]),
                "{paging:?}: {request}"
            );
        }
    }
}

#[tokio::test]
async fn a_required_path_parameter_comes_from_a_filter_or_a_join() {
    let (fake, s) = session(Paging::Link).await;
    let n = rows(&s.query("SELECT id FROM repo_item WHERE repository_full_name = 'acme/api'").await);
    assert_eq!(n, 25);
    assert!(fake.requests().iter().all(|r| r.starts_with("/repos/acme/api/items?")), "{:?}", fake.requests());

    let joined = "WITH repos(name) AS (VALUES ('acme/web')) \
                  SELECT r.id FROM repos JOIN repo_item r ON r.repository_full_name = repos.name";
    assert_eq!(rows(&s.query(joined).await), 25);
    assert!(fake.requests().iter().any(|r| r.starts_with("/repos/acme/web/items?")));

    let err = s.try_query("SELECT id FROM repo_item").await.expect_err("required key");
    assert!(err.contains("table repo_item requires a filter on repository_full_name"), "{err}");
}
