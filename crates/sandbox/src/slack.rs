//! A Slack fake: an incoming webhook (`POST /slack/webhook`, answers `ok`) and
//! `POST /api/chat.postMessage` (answers `{"ok":true}`). Accepted bodies are recorded;
//! the config can make Slack fail or rate-limit the first messages with 429.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::state::State;

/// `POST /slack/webhook`.
pub(crate) async fn webhook(AxState(state): AxState<Arc<State>>, body: Bytes) -> Response {
    receive(&state, "slack:Webhook", &body, false)
}

/// `POST /api/chat.postMessage`.
pub(crate) async fn post_message(AxState(state): AxState<Arc<State>>, body: Bytes) -> Response {
    receive(&state, "slack:PostMessage", &body, true)
}

fn receive(state: &State, op: &str, body: &[u8], web_api: bool) -> Response {
    state.counters.count(op);
    let mut slack = state.slack.lock().unwrap_or_else(|e| e.into_inner());
    slack.attempts += 1;
    if slack.attempts <= state.config.slack_rate_limited_first {
        state.counters.throttled(op);
        return (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "1")], "rate_limited").into_response();
    }
    if let Some(code) = state.config.slack_fail {
        let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return (status, "invalid_token").into_response();
    }
    let Ok(message) = serde_json::from_slice::<Value>(body) else {
        return (StatusCode::BAD_REQUEST, "invalid_payload").into_response();
    };
    if message.get("text").is_none() && message.get("blocks").is_none() {
        return (StatusCode::BAD_REQUEST, "no_text").into_response();
    }
    slack.messages.push(message);
    if web_api {
        axum::Json(json!({"ok": true, "channel": "C0SANDBOX", "ts": "1700000000.000100"})).into_response()
    } else {
        (StatusCode::OK, "ok").into_response()
    }
}
