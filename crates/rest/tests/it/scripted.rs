//! A scripted loopback server for the failure paths the paging fake does not
//! have: a function of each request's path and query decides the answer, and
//! every request is recorded with its headers (so a test can say a server
//! never saw a credential). [`silent`] accepts connections and never answers.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

/// An answer: status, headers and body.
pub type Reply = (u16, Vec<(&'static str, String)>, String);

type Script = dyn Fn(&str) -> Reply + Send + Sync;

struct Served {
    script: Box<Script>,
    seen: Mutex<Vec<(String, HeaderMap)>>,
}

/// A running scripted server.
#[derive(Clone)]
pub struct Scripted {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    served: Arc<Served>,
}

impl Scripted {
    /// Answers each request with `script(path_and_query)`.
    pub async fn start(script: impl Fn(&str) -> Reply + Send + Sync + 'static) -> Scripted {
        let served = Arc::new(Served { script: Box::new(script), seen: Mutex::default() });
        let app = Router::new().fallback(answer).with_state(served.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
        Scripted { base, served }
    }

    /// Every request so far, `path?query`.
    pub fn targets(&self) -> Vec<String> {
        self.served.seen.lock().expect("lock").iter().map(|(t, _)| t.clone()).collect()
    }

    /// Every request's headers so far.
    pub fn headers(&self) -> Vec<HeaderMap> {
        self.served.seen.lock().expect("lock").iter().map(|(_, h)| h.clone()).collect()
    }
}

async fn answer(State(served): State<Arc<Served>>, uri: Uri, headers: HeaderMap) -> Response {
    let target = uri.path_and_query().map(|p| p.to_string()).unwrap_or_default();
    served.seen.lock().expect("lock").push((target.clone(), headers));
    let (status, extra, body) = (served.script)(&target);
    let mut h = HeaderMap::new();
    h.insert("content-type", HeaderValue::from_static("application/json"));
    for (name, value) in extra {
        h.insert(HeaderName::from_static(name), HeaderValue::from_str(&value).expect("header value"));
    }
    (StatusCode::from_u16(status).expect("status"), h, body).into_response()
}

/// The value of query parameter `name` in `target`.
pub fn param(target: &str, name: &str) -> Option<String> {
    let query = target.split_once('?').map(|(_, q)| q).unwrap_or_default();
    form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// `http://127.0.0.1:PORT` of a server that accepts connections and never
/// answers; it lives as long as the returned task.
pub async fn silent() -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let task = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            open.push(socket);
        }
    });
    (base, task)
}
