//! `kubernetes_pod`: the pods of every configured context, with the image of
//! each container and the digest the node resolved it to (`imageID`).
//!
//! ```sql
//! SELECT context, namespace, name, phase, c['image'], c['image_id']
//! FROM (SELECT *, unnest(containers) AS c FROM kubernetes_pod);
//! ```
//!
//! Pods are listed 500 per request with the API's `continue` token, across
//! all namespaces, or per namespace when `namespace = ...` names them.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::RecordBatch;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{Container, ContainerStatus, Pod};
use kube::api::{Api, ListParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde::Serialize;
use skyglue_core::connection::KubeContext;
use skyglue_core::paging::pages;
use skyglue_core::spec::{field, struct_list, text};
use skyglue_core::throttle::{Bucket, RateLimits, bucket};
use skyglue_core::{ApiTable, ColumnSpec, Error, FetchContext, Result, Scope, TableSpec};

/// Pods per list request: the chunk size kubectl uses.
pub(crate) const PAGE_SIZE: u32 = 500;

/// The API server's priority-and-fairness limits are per cluster and not
/// published: client-go's default (5 per second, bursts of 10).
pub static KUBERNETES: RateLimits = RateLimits { service: "kubernetes", bucket: kubernetes_bucket };

fn kubernetes_bucket(_operation: &str) -> Option<Bucket> {
    Some(bucket("kubernetes", 10, 5))
}

static SPEC: LazyLock<TableSpec> = LazyLock::new(|| TableSpec {
    name: "kubernetes_pod",
    description: "Pods of every configured Kubernetes context, with their containers' images.",
    scope: Scope::Kubernetes,
    columns: vec![
        ColumnSpec::new("namespace", text(), "The pod's namespace.").optional_key(),
        ColumnSpec::new("name", text(), "The pod's name."),
        ColumnSpec::new("phase", text(), "Pending, Running, Succeeded, Failed or Unknown."),
        ColumnSpec::new("node_name", text(), "The node the pod is scheduled on."),
        ColumnSpec::new(
            "containers",
            struct_list(vec![field("name", text()), field("image", text()), field("image_id", text())]),
            "Containers (init containers included) with the image and the digest the node resolved.",
        ),
    ],
    not_found_codes: &[],
    rate_limits: vec![&KUBERNETES],
    operations: &[],
});

#[derive(Serialize)]
struct Row<'a> {
    namespace: Option<&'a str>,
    name: Option<&'a str>,
    phase: Option<&'a str>,
    node_name: Option<&'a str>,
    containers: Vec<ContainerRow<'a>>,
}

#[derive(Serialize)]
struct ContainerRow<'a> {
    name: &'a str,
    image: Option<&'a str>,
    image_id: Option<&'a str>,
}

/// The `kubernetes_pod` table.
#[derive(Debug)]
pub struct KubernetesPod;

impl ApiTable for KubernetesPod {
    fn spec(&self) -> &TableSpec {
        &SPEC
    }

    fn typical_rows(&self) -> usize {
        1_000
    }

    fn fetch(&self, ctx: FetchContext) -> BoxStream<'static, Result<RecordBatch>> {
        let namespaces: Vec<Option<String>> = match ctx.keys.get("namespace") {
            Some(ns) => ns.iter().cloned().map(Some).collect(),
            None => vec![None],
        };
        let client_ctx = ctx.clone();
        futures::stream::once(async move { client(client_ctx.kube()).await })
            .map_ok(move |client| {
                let ctx = ctx.clone();
                futures::stream::iter(namespaces.clone())
                    .map(move |ns| Ok::<_, Error>(listing(ctx.clone(), client.clone(), ns)))
                    .try_flatten()
            })
            .try_flatten()
            .boxed()
    }
}

/// A client for one context, from its kubeconfig (which also resolves "the
/// current context" to a name for the `context` column).
pub(crate) async fn client(kube_ctx: &Arc<KubeContext>) -> Result<kube::Client> {
    let config_error = |detail: String| Error::Config(format!("kubernetes: {detail}"));
    let kubeconfig = match &kube_ctx.kubeconfig {
        Some(path) => Kubeconfig::read_from(path),
        None => Kubeconfig::read(),
    }
    .map_err(|e| config_error(format!("cannot read the kubeconfig: {e}")))?;
    let name =
        kube_ctx.context.clone().or_else(|| kubeconfig.current_context.clone()).ok_or_else(|| {
            config_error("the kubeconfig has no current context: name contexts = [...]".into())
        })?;
    kube_ctx.resolved(&name);
    let options = KubeConfigOptions { context: Some(name.clone()), ..KubeConfigOptions::default() };
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .map_err(|e| config_error(format!("context {name}: {e}")))?;
    kube::Client::try_from(config).map_err(|e| config_error(format!("context {name}: {e}")))
}

/// One namespace's pods (or every namespace's), a page at a time.
fn listing(
    ctx: FetchContext,
    client: kube::Client,
    namespace: Option<String>,
) -> BoxStream<'static, Result<RecordBatch>> {
    let api: Api<Pod> = match &namespace {
        Some(ns) => Api::namespaced(client, ns),
        None => Api::all(client),
    };
    let label = ctx.kube().label();
    let page_ctx = ctx.clone();
    pages(format!("kubernetes:ListPods on {label}"), move |token| {
        let (ctx, api, label) = (page_ctx.clone(), api.clone(), label.clone());
        async move {
            let mut params = ListParams::default().limit(PAGE_SIZE);
            if let Some(token) = &token {
                params = params.continue_token(token);
            }
            let waited = ctx.connections.throttle.acquire(&label, "kubernetes:ListPods").await?;
            ctx.metrics.throttle_wait(waited);
            ctx.metrics.call();
            let list = api.list(&params).await.map_err(|e| Error::Api {
                operation: "kubernetes:ListPods".into(),
                connection: label.clone(),
                detail: e.to_string(),
            })?;
            let next = list.metadata.continue_.clone();
            Ok(Some((list.items, next)))
        }
    })
    .and_then(move |pods| {
        let ctx = ctx.clone();
        async move { to_batch(&ctx, &pods) }
    })
    .boxed()
}

fn to_batch(ctx: &FetchContext, pods: &[Pod]) -> Result<RecordBatch> {
    let rows: Vec<Row> = pods.iter().map(row).collect();
    ctx.batch(&rows)
}

fn row(pod: &Pod) -> Row<'_> {
    let spec = pod.spec.as_ref();
    let status = pod.status.as_ref();
    let statuses: Vec<&ContainerStatus> = status
        .map(|s| {
            s.init_container_statuses.iter().flatten().chain(s.container_statuses.iter().flatten()).collect()
        })
        .unwrap_or_default();
    let containers: Vec<&Container> = spec
        .map(|s| s.init_containers.iter().flatten().chain(s.containers.iter()).collect())
        .unwrap_or_default();
    Row {
        namespace: pod.metadata.namespace.as_deref(),
        name: pod.metadata.name.as_deref(),
        phase: status.and_then(|s| s.phase.as_deref()),
        node_name: spec.and_then(|s| s.node_name.as_deref()),
        containers: containers
            .iter()
            .map(|c| {
                let status = statuses.iter().find(|s| s.name == c.name);
                ContainerRow {
                    name: &c.name,
                    image: c.image.as_deref(),
                    image_id: status.map(|s| s.image_id.as_str()).filter(|id| !id.is_empty()),
                }
            })
            .collect(),
    }
}
