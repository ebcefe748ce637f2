//! The sandbox server's Kubernetes routes: pods (`/k8s/<context>/api/v1/...`)
//! and workloads (`/k8s/<context>/apis/{apps,batch}/v1/...`), each request
//! counted, delayed, throttled and open to faults like an AWS call, then
//! refused without the sandbox's bearer token.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State as AxState};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

use crate::admit::{QueryMap, Service, admit};
use crate::aws::Caller;
use crate::kubernetes::KubeError;
use crate::state::State;
use crate::{kubernetes, kubernetes_workloads};

pub(crate) async fn list_all_workloads(
    AxState(state): AxState<Arc<State>>,
    Path((context, group, version, resource)): Path<(String, String, String, String)>,
    headers: HeaderMap,
    Query(query): QueryMap,
) -> Response {
    workloads(&state, &headers, &context, &format!("{group}/{version}"), &resource, None, &query).await
}

pub(crate) async fn list_workloads(
    AxState(state): AxState<Arc<State>>,
    Path((context, group, version, namespace, resource)): Path<(String, String, String, String, String)>,
    headers: HeaderMap,
    Query(query): QueryMap,
) -> Response {
    let group_version = format!("{group}/{version}");
    workloads(&state, &headers, &context, &group_version, &resource, Some(&namespace), &query).await
}

/// Lists workloads: counted as `kubernetes:List<Kind>s` (and open to faults)
/// before the token is checked, as pods are.
async fn workloads(
    state: &State,
    headers: &HeaderMap,
    context: &str,
    group_version: &str,
    resource: &str,
    namespace: Option<&str>,
    query: &BTreeMap<String, String>,
) -> Response {
    let Some((kind, op)) = kubernetes_workloads::kind_of(group_version, resource) else {
        let message =
            format!("the server could not find the requested resource ({group_version} {resource})");
        return KubeError::new(404, "NotFound", message).into_response();
    };
    let who = Caller { account: String::new(), region: String::new() };
    if let Err(e) = admit(state, &who, Service::Kubernetes, op).await {
        return KubeError { code: e.status, reason: e.code, message: e.message }.into_response();
    }
    if !kubernetes::authorized(headers) {
        return KubeError::unauthorized().into_response();
    }
    let result = kubernetes_workloads::list_workloads(
        &state.world(),
        context,
        group_version,
        kind,
        namespace,
        query.get("limit").map(String::as_str),
        query.get("continue").map(String::as_str),
    );
    match result {
        Ok(list) => axum::Json(list).into_response(),
        Err(e) => e.into_response(),
    }
}

pub(crate) async fn list_all_pods(
    AxState(state): AxState<Arc<State>>,
    Path(context): Path<String>,
    headers: HeaderMap,
    Query(query): QueryMap,
) -> Response {
    pods(&state, &headers, &context, None, &query).await
}

pub(crate) async fn list_pods(
    AxState(state): AxState<Arc<State>>,
    Path((context, namespace)): Path<(String, String)>,
    headers: HeaderMap,
    Query(query): QueryMap,
) -> Response {
    pods(&state, &headers, &context, Some(&namespace), &query).await
}

/// Lists pods: counted as `kubernetes:ListPods` (and open to faults) before the token
/// is checked, so every request counts.
async fn pods(
    state: &State,
    headers: &HeaderMap,
    context: &str,
    namespace: Option<&str>,
    query: &BTreeMap<String, String>,
) -> Response {
    let who = Caller { account: String::new(), region: String::new() };
    if let Err(e) = admit(state, &who, Service::Kubernetes, "ListPods").await {
        return KubeError { code: e.status, reason: e.code, message: e.message }.into_response();
    }
    if !kubernetes::authorized(headers) {
        return KubeError::unauthorized().into_response();
    }
    let result = kubernetes::list_pods(
        &state.world(),
        context,
        namespace,
        query.get("limit").map(String::as_str),
        query.get("continue").map(String::as_str),
    );
    match result {
        Ok(list) => axum::Json(list).into_response(),
        Err(e) => e.into_response(),
    }
}
