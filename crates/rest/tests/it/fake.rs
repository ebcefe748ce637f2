//! A loopback fake REST API that pages the way real ones do: `Link` headers
//! (GitHub), a cursor in the body (Slack), offset and `more` (PagerDuty), or
//! page numbers. It filters on query parameters and on the repository in a
//! `/repos/OWNER/NAME/...` path, counts requests, and can answer 429 with
//! `Retry-After` first.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// How the fake pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paging {
    /// `?page=N`, `Link: <...page=N+1>; rel="next"` while more remain.
    Link,
    /// `?cursor=C`, next cursor at `$.response_metadata.next_cursor` ("" at the end).
    Cursor,
    /// `?offset=N`, `$.more` says whether more remain.
    Offset,
    /// `?page=N` from 1, no indication: the last page is short (or empty).
    Page,
}

/// What the fake serves and how.
#[derive(Debug, Clone)]
pub struct Shape {
    /// The paging style.
    pub paging: Paging,
    /// The body field holding the rows.
    pub rows: &'static str,
    /// The page-size parameter and its default.
    pub size_param: &'static str,
    /// Page size when the request names none.
    pub default_size: usize,
    /// Query parameter -> row field it filters on (`statuses[]` -> `status`).
    pub filters: &'static [(&'static str, &'static str)],
}

struct Served {
    shape: Shape,
    items: Vec<Value>,
    requests: Mutex<Vec<String>>,
    throttle_next: AtomicU32,
}

/// A running fake.
#[derive(Clone)]
pub struct Fake {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    served: Arc<Served>,
}

impl Fake {
    /// Serves `items` as `shape` says on a free loopback port.
    pub async fn start(shape: Shape, items: Vec<Value>) -> Fake {
        let served =
            Arc::new(Served { shape, items, requests: Mutex::default(), throttle_next: AtomicU32::new(0) });
        let app = Router::new().fallback(answer).with_state(served.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
        Fake { base, served }
    }

    /// Every request so far, `path?query`.
    pub fn requests(&self) -> Vec<String> {
        self.served.requests.lock().expect("lock").clone()
    }

    /// How many requests arrived.
    pub fn calls(&self) -> usize {
        self.requests().len()
    }

    /// The next `n` requests are answered 429 with `Retry-After: 1`.
    pub fn throttle_next(&self, n: u32) {
        self.served.throttle_next.store(n, Ordering::SeqCst);
    }
}

async fn answer(State(served): State<Arc<Served>>, uri: Uri, headers: HeaderMap) -> Response {
    let target = uri.path_and_query().map(|p| p.to_string()).unwrap_or_default();
    served.requests.lock().expect("lock").push(target);
    if served.throttle_next.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("1"));
        return (StatusCode::TOO_MANY_REQUESTS, h, r#"{"message":"slow down"}"#).into_response();
    }
    if !headers.get("authorization").is_some_and(|v| v.to_str().is_ok_and(|v| v.ends_with("test-token"))) {
        return (StatusCode::UNAUTHORIZED, r#"{"message":"bad credentials"}"#).into_response();
    }
    let query: Vec<(String, String)> =
        form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes()).into_owned().collect();
    let param = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let shape = &served.shape;
    let repo = uri
        .path()
        .strip_prefix("/repos/")
        .map(|rest| rest.splitn(3, '/').take(2).collect::<Vec<_>>().join("/"));
    let items: Vec<&Value> = served
        .items
        .iter()
        .filter(|item| repo.as_ref().is_none_or(|r| item["repository"]["full_name"] == r.as_str()))
        .filter(|item| {
            shape.filters.iter().all(|(param_name, field)| {
                let wanted: Vec<&str> =
                    query.iter().filter(|(k, _)| k == param_name).map(|(_, v)| v.as_str()).collect();
                wanted.is_empty() || wanted.iter().any(|w| item[*field] == *w)
            })
        })
        .collect();
    let size: usize = param(shape.size_param).and_then(|s| s.parse().ok()).unwrap_or(shape.default_size);
    let (start, body_extra, link) = match shape.paging {
        Paging::Link | Paging::Page => {
            let page: usize = param("page").and_then(|p| p.parse().ok()).unwrap_or(1);
            let start = (page - 1) * size;
            let link = (shape.paging == Paging::Link && start + size < items.len()).then(|| {
                let mut next = form_urlencoded::Serializer::new(String::new());
                for (k, v) in query.iter().filter(|(k, _)| k != "page") {
                    next.append_pair(k, v);
                }
                next.append_pair("page", &(page + 1).to_string());
                format!("<http://{}{}?{}>; rel=\"next\"", host(&headers), uri.path(), next.finish())
            });
            (start, json!({}), link)
        }
        Paging::Cursor => {
            let start = param("cursor")
                .and_then(|c| c.strip_prefix("c").map(str::to_string))
                .and_then(|c| c.parse().ok())
                .unwrap_or(0);
            let next = if start + size < items.len() { format!("c{}", start + size) } else { String::new() };
            (start, json!({"ok": true, "response_metadata": {"next_cursor": next}}), None)
        }
        Paging::Offset => {
            let start = param("offset").and_then(|o| o.parse().ok()).unwrap_or(0);
            (start, json!({"limit": size, "offset": start, "more": start + size < items.len()}), None)
        }
    };
    let page: Vec<Value> = items.iter().skip(start).take(size).map(|v| (*v).clone()).collect();
    let mut body = body_extra;
    body[shape.rows] = Value::Array(page);
    let mut h = HeaderMap::new();
    h.insert("content-type", HeaderValue::from_static("application/json"));
    if let Some(link) = link.and_then(|l| HeaderValue::from_str(&l).ok()) {
        h.insert("link", link);
    }
    (StatusCode::OK, h, body.to_string()).into_response()
}

fn host(headers: &HeaderMap) -> String {
    headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1").to_string()
}

/// Query parameters of a recorded request.
pub fn params_of(request: &str) -> HashMap<String, Vec<String>> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    let query = request.split_once('?').map(|(_, q)| q).unwrap_or_default();
    for (k, v) in form_urlencoded::parse(query.as_bytes()).into_owned() {
        out.entry(k).or_default().push(v);
    }
    out
}
