//! A scripted GitHub: answers `GET /repos/{owner}/{repo}/commits/{ref}` (or,
//! from [`Fake::start_graphql`], `POST /graphql`) with the next answer of a
//! script (the last one repeats), for the failures the sandbox does not inject
//! (server errors, a bare `retry-after`, GraphQL errors other than NOT_FOUND).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

/// One scripted answer.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

impl Answer {
    pub fn status(status: u16) -> Answer {
        Answer { status, headers: vec![], body: r#"{"message": "Server Error"}"#.into() }
    }

    pub fn header(mut self, name: &'static str, value: &str) -> Answer {
        self.headers.push((name, value.to_string()));
        self
    }

    /// A 200 with `body`.
    pub fn ok(body: serde_json::Value) -> Answer {
        Answer { status: 200, headers: vec![], body: body.to_string() }
    }

    /// A commit whose SHA is `sha`.
    pub fn commit(sha: &str) -> Answer {
        let body = serde_json::json!({
            "sha": sha,
            "html_url": format!("https://github.com/acme/web/commit/{sha}"),
            "author": null,
            "commit": {
                "author": {"name": "A", "email": "a@acme.example", "date": "2024-01-01T00:00:00Z"},
                "committer": {"name": "C", "email": "c@acme.example", "date": "2024-01-01T00:00:00Z"},
                "message": "scripted"
            }
        });
        Answer { status: 200, headers: vec![], body: body.to_string() }
    }
}

/// The answers and how many were given.
pub struct Script {
    answers: Vec<Answer>,
    hits: AtomicUsize,
}

/// A running scripted server.
pub struct Fake {
    pub url: String,
    script: Arc<Script>,
}

impl Fake {
    pub async fn start(answers: Vec<Answer>) -> Fake {
        Self::serve(answers, |router| router.route("/repos/{owner}/{repo}/commits/{reference}", get(answer)))
            .await
    }

    /// A fake whose `POST /graphql` answers the script (and nothing else is served).
    pub async fn start_graphql(answers: Vec<Answer>) -> Fake {
        Self::serve(answers, |router| router.route("/graphql", post(answer))).await
    }

    pub async fn serve(
        answers: Vec<Answer>,
        routes: impl FnOnce(Router<Arc<Script>>) -> Router<Arc<Script>>,
    ) -> Fake {
        let script = Arc::new(Script { answers, hits: AtomicUsize::new(0) });
        let app = routes(Router::new()).with_state(script.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("binds");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Fake { url, script }
    }

    /// Requests answered so far.
    pub fn hits(&self) -> usize {
        self.script.hits.load(Ordering::SeqCst)
    }
}

pub async fn answer(State(script): State<Arc<Script>>) -> Response {
    let n = script.hits.fetch_add(1, Ordering::SeqCst);
    let Some(a) = script.answers.get(n.min(script.answers.len().saturating_sub(1))) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut response =
        (StatusCode::from_u16(a.status).unwrap_or(StatusCode::OK), a.body.clone()).into_response();
    for (name, value) in &a.headers {
        if let Ok(v) = value.parse() {
            response.headers_mut().insert(*name, v);
        }
    }
    response
}
