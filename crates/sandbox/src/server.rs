//! The HTTP server: one loopback port answers AWS (`POST /`, routed by `X-Amz-Target`
//! for ECR, ECS, EventBridge and App Runner, by the form's `Action` for STS; Lambda's
//! REST paths `/2015-03-31/functions...`, Batch's `/v1/describejobdefinitions` and
//! Scheduler's `/schedules...`), S3 (any request signed for service `s3`, whatever
//! its path, answered before the other routes), Kubernetes (`/k8s/<context>/api/v1/...`
//! and `/k8s/<context>/apis/{apps,batch}/v1/...`), GitHub (`/repos/...`), Slack
//! and the sandbox's own `/_sandbox/...` endpoints.
//!
//! Every AWS and Kubernetes call is counted, delayed by the configured latency,
//! throttled and checked for an injected fault, in that order, before it reaches its
//! handler.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State as AxState};
use axum::http::HeaderMap;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::admit::{QueryMap, Service, admit};
use crate::aws::{
    AwsError, Caller, caller, json_response, json10_response, parse_authorization, rest_json_response,
};
use crate::config::SandboxConfig;
use crate::s3_request::S3Request;
use crate::s3_xml::S3Error;
use crate::state::State;
use crate::world::World;
use crate::{
    Error, apprunner, batch, ecr, ecs, events, github, kubernetes, lambda, s3, scheduler, server_kube, slack,
    sts,
};

/// A running sandbox. The server stops on [`Sandbox::shutdown`] or when this is dropped.
#[derive(Debug)]
pub struct Sandbox {
    state: Arc<State>,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Sandbox {
    /// Serves `world` on a free port of 127.0.0.1, on the current tokio runtime.
    pub async fn start(world: World, config: SandboxConfig) -> Result<Sandbox, Error> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(Error::Bind)?;
        let addr = listener.local_addr().map_err(Error::Bind)?;
        let state = Arc::new(State::new(world, config, format!("http://{addr}")));
        let (stop, stopped) = oneshot::channel::<()>();
        let app = router(state.clone());
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
                let _ = stopped.await;
            });
            // Errors here only mean the listener died; nothing can be done about it.
            let _ = serve.await;
        });
        Ok(Sandbox { state, addr, stop: Some(stop), task: Some(task) })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`: the AWS endpoint URL for every AWS service.
    pub fn endpoint_url(&self) -> String {
        self.state.base_url.clone()
    }

    /// The GitHub API base URL (the same server).
    pub fn github_api_url(&self) -> String {
        self.state.base_url.clone()
    }

    /// The Slack incoming-webhook URL.
    pub fn slack_webhook_url(&self) -> String {
        format!("{}/slack/webhook", self.state.base_url)
    }

    /// Calls per operation since start or the last reset (throttled calls included),
    /// keyed like `ecr:DescribeImages`, `ecs:DescribeServices`, `sts:AssumeRole`,
    /// `lambda:ListFunctions`, `lambda:GetFunction`, `lambda:ListAliases`,
    /// `lambda:ListVersionsByFunction`, `batch:DescribeJobDefinitions`,
    /// `apprunner:ListServices`, `apprunner:DescribeService`, `events:ListEventBuses`,
    /// `events:ListRules`, `events:ListTargetsByRule`, `scheduler:ListSchedules`,
    /// `scheduler:GetSchedule`, `kubernetes:ListPods`, `kubernetes:ListDeployments`
    /// (and `ListStatefulSets`, `ListDaemonSets`, `ListReplicaSets`, `ListJobs`,
    /// `ListCronJobs`),
    /// `s3:ListBuckets`, `s3:GetBucketLocation`, `s3:GetBucketVersioning`,
    /// `s3:GetBucketLifecycleConfiguration`, `s3:HeadBucket`, `s3:ListObjectsV2`,
    /// `s3:ListObjectVersions`, `s3:HeadObject`, `s3:DeleteObjects` (an S3 operation the
    /// sandbox lacks counts under its name too, e.g. `s3:GetObject`),
    /// `github:GetCommit`, `github:ListCommits`, `github:graphql`, `slack:Webhook`.
    pub fn calls(&self) -> BTreeMap<String, u64> {
        self.state.counters.calls()
    }

    /// The calls that were throttled (ThrottlingException, 429, S3's 503 SlowDown,
    /// GitHub's 403), per operation.
    pub fn throttled_calls(&self) -> BTreeMap<String, u64> {
        self.state.counters.throttled_calls()
    }

    /// Per operation, the time from its first call to the arrival of its
    /// last, since start or the last reset: how long a phase of work that
    /// only one kind of call makes (GitHub's, say) kept the API busy.
    pub fn call_spans(&self) -> BTreeMap<String, Duration> {
        self.state.counters.spans()
    }

    /// Forgets all call counts (injected faults count from here again).
    pub fn reset_calls(&self) {
        self.state.counters.reset();
    }

    /// A copy of the world as it is now, deletions included.
    pub fn world_snapshot(&self) -> World {
        self.state.world().clone()
    }

    /// Changes the running world, as another client of the cloud would (an
    /// upload between a run's check and its delete, say); returns what `change`
    /// returns.
    pub fn update_world<T>(&self, change: impl FnOnce(&mut World) -> T) -> T {
        change(&mut self.state.world())
    }

    /// The Slack messages accepted so far, in order.
    pub fn slack_messages(&self) -> Vec<Value> {
        self.state.slack.lock().unwrap_or_else(|e| e.into_inner()).messages.clone()
    }

    /// Environment variables that point skyglue (or any AWS SDK, GitHub and Slack
    /// client) at this sandbox, as the first account in its first region.
    pub fn env_vars(&self) -> Vec<(String, String)> {
        let world = self.state.world();
        let first = world.accounts.first();
        let key = first.map(|a| a.access_key_id.clone()).unwrap_or_default();
        let region = first
            .and_then(|a| a.regions.first())
            .map_or_else(|| "us-east-1".to_owned(), |r| r.region.clone());
        [
            ("AWS_ENDPOINT_URL", self.endpoint_url()),
            ("AWS_ACCESS_KEY_ID", key),
            ("AWS_SECRET_ACCESS_KEY", "sandbox".to_owned()),
            ("AWS_REGION", region),
            ("GITHUB_API_URL", self.github_api_url()),
            ("GITHUB_TOKEN", "sandbox".to_owned()),
            ("SLACK_WEBHOOK_URL", self.slack_webhook_url()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    /// A kubeconfig (YAML) for the world's Kubernetes clusters: one cluster, context
    /// and user per cluster, the server `http://127.0.0.1:<port>/k8s/<context>` (the
    /// context percent-encoded), the token `sandbox`, and the first cluster's context
    /// current.
    pub fn kubeconfig(&self) -> String {
        kubernetes::kubeconfig(&self.state.world(), &self.state.base_url)
    }

    /// Stops the server and waits (briefly) for open connections to finish.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(2), task).await.is_err() {
                abort.abort();
            }
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn router(state: Arc<State>) -> Router {
    // Every request passes the S3 gate first: S3 is recognised by its signature, not
    // its path (a bucket may be called `repos` or `graphql`).
    let others = routes(state.clone());
    Router::new().fallback_service(others).layer(middleware::from_fn_with_state(state, s3_gate))
}

fn routes(state: Arc<State>) -> Router {
    Router::new()
        .route("/", post(aws))
        .route("/2015-03-31/functions", get(lambda_list_functions))
        .route("/2015-03-31/functions/", get(lambda_list_functions))
        .route("/2015-03-31/functions/{name}", get(lambda_get_function))
        .route("/2015-03-31/functions/{name}/aliases", get(lambda_list_aliases))
        .route("/2015-03-31/functions/{name}/versions", get(lambda_list_versions))
        .route("/v1/describejobdefinitions", post(batch_describe_job_definitions))
        .route("/k8s/{context}/api/v1/pods", get(server_kube::list_all_pods))
        .route("/k8s/{context}/api/v1/namespaces/{namespace}/pods", get(server_kube::list_pods))
        .route("/k8s/{context}/apis/{group}/{version}/{resource}", get(server_kube::list_all_workloads))
        .route(
            "/k8s/{context}/apis/{group}/{version}/namespaces/{namespace}/{resource}",
            get(server_kube::list_workloads),
        )
        .route("/schedules", get(scheduler_list_schedules))
        .route("/schedules/{name}", get(scheduler_get_schedule))
        .route("/_sandbox/calls", get(calls))
        .route("/_sandbox/throttled", get(throttled))
        .route("/_sandbox/reset_calls", post(reset_calls))
        .route("/rate_limit", get(github::rate_limit))
        .route("/graphql", post(github::graphql::query))
        .route("/repos/{owner}/{repo}", get(github::get_repo))
        .route("/repos/{owner}/{repo}/commits", get(github::list_commits))
        .route("/repos/{owner}/{repo}/commits/{reference}", get(github::get_commit))
        .route("/slack/webhook", post(slack::webhook))
        .route("/api/chat.postMessage", post(slack::post_message))
        .with_state(state)
}

async fn calls(AxState(state): AxState<Arc<State>>) -> Response {
    axum::Json(state.counters.calls()).into_response()
}

async fn throttled(AxState(state): AxState<Arc<State>>) -> Response {
    axum::Json(state.counters.throttled_calls()).into_response()
}

async fn reset_calls(AxState(state): AxState<Arc<State>>) -> Response {
    state.counters.reset();
    axum::Json(json!({"ok": true})).into_response()
}

async fn aws(AxState(state): AxState<Arc<State>>, headers: HeaderMap, body: Bytes) -> Response {
    let who = caller(&state.world(), &headers);
    let target = headers.get("x-amz-target").and_then(|v| v.to_str().ok());
    let Some(target) = target else {
        return sts_request(&state, &who, &body).await;
    };
    let (prefix, op) = target.split_once('.').unwrap_or((target, ""));
    let service = match prefix {
        "AmazonEC2ContainerRegistry_V20150921" => Service::Ecr,
        "AmazonEC2ContainerServiceV20141113" => Service::Ecs,
        "AppRunner" => Service::AppRunner,
        "AWSEvents" => Service::Events,
        _ => {
            let e = AwsError::new("UnknownOperationException", format!("unknown target {target}"));
            return e.into_json_response();
        }
    };
    let error = |e: AwsError| match service {
        Service::AppRunner => e.into_json10_response(),
        _ => e.into_json_response(),
    };
    let n = match admit(&state, &who, service, op).await {
        Ok(n) => n,
        Err(e) => return error(e),
    };
    let input = match json_body(&body) {
        Ok(v) => v,
        Err(e) => return error(e),
    };
    let result = {
        let mut world = state.world();
        match service {
            Service::Ecr => ecr::handle(&mut world, &who, op, &input, state.config.ecr_restore_delay),
            Service::AppRunner => apprunner::handle(&world, &who, op, &input),
            Service::Events => events::handle(&world, &who, op, &input),
            _ => ecs::handle(&mut world, &who, op, &input).map(|mut out| {
                ecs::inject_failures(&state.config.describe_failures, op, &mut out);
                out
            }),
        }
    };
    if let Some(fault) = state.lost_answer(&format!("{}:{op}", service.prefix()), n) {
        return error(AwsError {
            status: fault.status,
            code: fault.error_type.clone(),
            message: fault.message.clone(),
        });
    }
    match (result, service) {
        (Ok(out), Service::AppRunner) => json10_response(&out),
        (Ok(out), _) => json_response(&out),
        (Err(e), _) => error(e),
    }
}

/// A JSON request body; an empty one is `{}`.
fn json_body(body: &[u8]) -> Result<Value, AwsError> {
    if body.is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_slice(body).map_err(|e| AwsError::new("SerializationException", e.to_string()))
}

/// Admits a REST-JSON call of `service` (`op` names it in the counters), runs `handler`
/// on the world as the caller, and answers in REST-JSON.
async fn rest_json(
    state: &State,
    headers: &HeaderMap,
    service: Service,
    op: &str,
    handler: impl FnOnce(&World, &Caller) -> Result<Value, AwsError>,
) -> Response {
    let who = caller(&state.world(), headers);
    if let Err(e) = admit(state, &who, service, op).await {
        return e.into_rest_json_response();
    }
    let result = handler(&state.world(), &who);
    match result {
        Ok(out) => rest_json_response(&out),
        Err(e) => e.into_rest_json_response(),
    }
}

async fn lambda_list_functions(
    AxState(state): AxState<Arc<State>>,
    headers: HeaderMap,
    Query(query): QueryMap,
) -> Response {
    rest_json(&state, &headers, Service::Lambda, "ListFunctions", |w, who| {
        lambda::list_functions(w, who, &query)
    })
    .await
}

async fn lambda_get_function(
    AxState(state): AxState<Arc<State>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    Query(query): QueryMap,
) -> Response {
    rest_json(&state, &headers, Service::Lambda, "GetFunction", |w, who| {
        lambda::get_function(w, who, &name, &query)
    })
    .await
}

async fn lambda_list_aliases(
    AxState(state): AxState<Arc<State>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    Query(query): QueryMap,
) -> Response {
    rest_json(&state, &headers, Service::Lambda, "ListAliases", |w, who| {
        lambda::list_aliases(w, who, &name, &query)
    })
    .await
}

async fn lambda_list_versions(
    AxState(state): AxState<Arc<State>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    Query(query): QueryMap,
) -> Response {
    rest_json(&state, &headers, Service::Lambda, "ListVersionsByFunction", |w, who| {
        lambda::list_versions(w, who, &name, &query)
    })
    .await
}

async fn batch_describe_job_definitions(
    AxState(state): AxState<Arc<State>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    rest_json(&state, &headers, Service::Batch, "DescribeJobDefinitions", |w, who| {
        let input = json_body(&body).map_err(|e| AwsError::new("ClientException", e.message))?;
        batch::describe_job_definitions(w, who, &input)
    })
    .await
}

async fn scheduler_list_schedules(
    AxState(state): AxState<Arc<State>>,
    headers: HeaderMap,
    Query(query): QueryMap,
) -> Response {
    rest_json(&state, &headers, Service::Scheduler, "ListSchedules", |w, who| {
        scheduler::list_schedules(w, who, &query)
    })
    .await
}

async fn scheduler_get_schedule(
    AxState(state): AxState<Arc<State>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    Query(query): QueryMap,
) -> Response {
    rest_json(&state, &headers, Service::Scheduler, "GetSchedule", |w, who| {
        scheduler::get_schedule(w, who, &name, &query)
    })
    .await
}

/// Answers requests signed for service `s3` as S3; passes every other one on.
async fn s3_gate(AxState(state): AxState<Arc<State>>, request: Request, next: Next) -> Response {
    let signed_for_s3 = parse_authorization(request.headers()).is_some_and(|(_, _, service)| service == "s3");
    if !signed_for_s3 {
        return next.run(request).await;
    }
    s3_request(&state, request).await
}

/// The largest S3 request body read (a DeleteObjects of 1000 long keys fits easily).
const S3_BODY_LIMIT: usize = 16 * 1024 * 1024;

/// Admits an S3 call (counted as `s3:<Operation>`), then answers it on the world.
async fn s3_request(state: &State, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let who = caller(&state.world(), &parts.headers);
    let req = S3Request::parse(&parts.method, &parts.uri);
    let op = req.operation();
    let n = match admit(state, &who, Service::S3, op).await {
        Ok(n) => n,
        Err(e) => return S3Error::from(e).into_response(req.is_head()),
    };
    let body = match axum::body::to_bytes(body, S3_BODY_LIMIT).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return S3Error::new(400, "IncompleteBody", "The request body could not be read")
                .into_response(req.is_head());
        }
    };
    let response = {
        let mut world = state.world();
        s3::handle(&mut world, &state.config, &who, &req, op, &body)
    };
    // The call took effect; its answer is lost on the way back.
    match state.lost_answer(&format!("s3:{op}"), n) {
        Some(fault) => {
            S3Error::new(fault.status, &fault.error_type, &fault.message).into_response(req.is_head())
        }
        None => response,
    }
}

async fn sts_request(state: &State, who: &Caller, body: &[u8]) -> Response {
    let form = sts::parse_form(body);
    let action = form.iter().find(|(k, _)| k == "Action").map(|(_, v)| v.clone()).unwrap_or_default();
    if let Err(e) = admit(state, who, Service::Sts, &action).await {
        return sts::xml_error(e);
    }
    let result = sts::handle(&state.world(), who, &action, &form);
    match result {
        Ok(xml) => sts::xml_response(xml),
        Err(e) => sts::xml_error(e),
    }
}
