//! `kubernetes_workload`: the pod templates of every Deployment, StatefulSet,
//! DaemonSet, ReplicaSet, Job and CronJob of every configured context, with
//! the image of each container (init containers included), whatever the
//! replica count: a Deployment scaled to 0, a suspended Job or a CronJob
//! between runs has no pod, yet starts one from this template at any time.
//!
//! ```sql
//! SELECT context, namespace, kind, name, replicas, c['image']
//! FROM (SELECT *, unnest(containers) AS c FROM kubernetes_workload);
//! ```
//!
//! Each kind is listed 500 per request with the API's `continue` token
//! (`/apis/apps/v1/deployments`, `/apis/batch/v1/cronjobs`, ...), across all
//! namespaces, or per namespace when `namespace = ...` names them;
//! `kind = ...` lists only the kinds named.

use std::sync::LazyLock;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::DataType;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::PodSpec;
use kube::api::{Api, ListParams};
use serde::Serialize;
use serde::de::DeserializeOwned;
use skyglue_core::paging::pages;
use skyglue_core::spec::{field, struct_list, text};
use skyglue_core::{ApiTable, ColumnSpec, Error, FetchContext, Result, Scope, TableSpec};

use crate::pod::{KUBERNETES, PAGE_SIZE, client};

static SPEC: LazyLock<TableSpec> = LazyLock::new(|| TableSpec {
    name: "kubernetes_workload",
    description: "Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs and CronJobs, with their pod templates' images.",
    scope: Scope::Kubernetes,
    columns: vec![
        ColumnSpec::new("namespace", text(), "The workload's namespace.").optional_key(),
        ColumnSpec::new("kind", text(), "Deployment, StatefulSet, DaemonSet, ReplicaSet, Job or CronJob.")
            .optional_key(),
        ColumnSpec::new("name", text(), "The workload's name."),
        ColumnSpec::new(
            "replicas",
            DataType::Int64,
            "Pods it asks for: spec.replicas, a Job's parallelism, a DaemonSet's desired count; NULL for a CronJob.",
        ),
        ColumnSpec::new(
            "containers",
            struct_list(vec![field("name", text()), field("image", text())]),
            "The pod template's containers (init containers included) with their images.",
        ),
    ],
    not_found_codes: &[],
    rate_limits: vec![&KUBERNETES],
    operations: &[],
});

#[derive(Serialize)]
struct Row<'a> {
    namespace: Option<&'a str>,
    kind: &'static str,
    name: Option<&'a str>,
    replicas: Option<i64>,
    containers: Vec<ContainerRow<'a>>,
}

#[derive(Serialize)]
struct ContainerRow<'a> {
    name: &'a str,
    image: Option<&'a str>,
}

/// A kind of workload: how to list it and where its pod template is.
trait Workload:
    kube::Resource<DynamicType = (), Scope = NamespaceResourceScope>
    + Clone
    + DeserializeOwned
    + std::fmt::Debug
    + Send
    + Sync
    + 'static
{
    /// The `kind` column.
    const KIND: &'static str;
    /// The operation name in metrics, throttling and errors.
    const OPERATION: &'static str;
    /// The pod template's spec.
    fn pod_spec(&self) -> Option<&PodSpec>;
    /// The `replicas` column.
    fn replicas(&self) -> Option<i32>;
}

impl Workload for Deployment {
    const KIND: &'static str = "Deployment";
    const OPERATION: &'static str = "kubernetes:ListDeployments";
    fn pod_spec(&self) -> Option<&PodSpec> {
        self.spec.as_ref()?.template.spec.as_ref()
    }
    fn replicas(&self) -> Option<i32> {
        // The API defaults an unset count to 1.
        self.spec.as_ref().map(|s| s.replicas.unwrap_or(1))
    }
}

impl Workload for StatefulSet {
    const KIND: &'static str = "StatefulSet";
    const OPERATION: &'static str = "kubernetes:ListStatefulSets";
    fn pod_spec(&self) -> Option<&PodSpec> {
        self.spec.as_ref()?.template.spec.as_ref()
    }
    fn replicas(&self) -> Option<i32> {
        self.spec.as_ref().map(|s| s.replicas.unwrap_or(1))
    }
}

impl Workload for DaemonSet {
    const KIND: &'static str = "DaemonSet";
    const OPERATION: &'static str = "kubernetes:ListDaemonSets";
    fn pod_spec(&self) -> Option<&PodSpec> {
        self.spec.as_ref()?.template.spec.as_ref()
    }
    fn replicas(&self) -> Option<i32> {
        self.status.as_ref().map(|s| s.desired_number_scheduled)
    }
}

impl Workload for ReplicaSet {
    const KIND: &'static str = "ReplicaSet";
    const OPERATION: &'static str = "kubernetes:ListReplicaSets";
    fn pod_spec(&self) -> Option<&PodSpec> {
        self.spec.as_ref()?.template.as_ref()?.spec.as_ref()
    }
    fn replicas(&self) -> Option<i32> {
        self.spec.as_ref().map(|s| s.replicas.unwrap_or(1))
    }
}

impl Workload for Job {
    const KIND: &'static str = "Job";
    const OPERATION: &'static str = "kubernetes:ListJobs";
    fn pod_spec(&self) -> Option<&PodSpec> {
        self.spec.as_ref()?.template.spec.as_ref()
    }
    fn replicas(&self) -> Option<i32> {
        self.spec.as_ref().map(|s| s.parallelism.unwrap_or(1))
    }
}

impl Workload for CronJob {
    const KIND: &'static str = "CronJob";
    const OPERATION: &'static str = "kubernetes:ListCronJobs";
    fn pod_spec(&self) -> Option<&PodSpec> {
        self.spec.as_ref()?.job_template.spec.as_ref()?.template.spec.as_ref()
    }
    fn replicas(&self) -> Option<i32> {
        None
    }
}

/// Every kind, in the order they are listed.
const KINDS: [&str; 6] = ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"];

/// The `kubernetes_workload` table.
#[derive(Debug)]
pub struct KubernetesWorkload;

impl ApiTable for KubernetesWorkload {
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
        let kinds: Vec<&'static str> = match ctx.keys.get("kind") {
            Some(wanted) => KINDS.into_iter().filter(|k| wanted.iter().any(|w| w.as_str() == *k)).collect(),
            None => KINDS.to_vec(),
        };
        let client_ctx = ctx.clone();
        futures::stream::once(async move { client(client_ctx.kube()).await })
            .map_ok(move |client| {
                let ctx = ctx.clone();
                let lists: Vec<(&'static str, Option<String>)> =
                    kinds.iter().flat_map(|k| namespaces.iter().map(move |ns| (*k, ns.clone()))).collect();
                futures::stream::iter(lists)
                    .map(move |(kind, ns)| Ok::<_, Error>(list_kind(kind, ctx.clone(), client.clone(), ns)))
                    .try_flatten()
            })
            .try_flatten()
            .boxed()
    }
}

fn list_kind(
    kind: &str,
    ctx: FetchContext,
    client: kube::Client,
    namespace: Option<String>,
) -> BoxStream<'static, Result<RecordBatch>> {
    match kind {
        "Deployment" => listing::<Deployment>(ctx, client, namespace),
        "StatefulSet" => listing::<StatefulSet>(ctx, client, namespace),
        "DaemonSet" => listing::<DaemonSet>(ctx, client, namespace),
        "ReplicaSet" => listing::<ReplicaSet>(ctx, client, namespace),
        "Job" => listing::<Job>(ctx, client, namespace),
        _ => listing::<CronJob>(ctx, client, namespace),
    }
}

/// One kind in one namespace (or every namespace), a page at a time.
fn listing<K: Workload>(
    ctx: FetchContext,
    client: kube::Client,
    namespace: Option<String>,
) -> BoxStream<'static, Result<RecordBatch>> {
    let api: Api<K> = match &namespace {
        Some(ns) => Api::namespaced(client, ns),
        None => Api::all(client),
    };
    let label = ctx.kube().label();
    let page_ctx = ctx.clone();
    pages(format!("{} on {label}", K::OPERATION), move |token| {
        let (ctx, api, label) = (page_ctx.clone(), api.clone(), label.clone());
        async move {
            let mut params = ListParams::default().limit(PAGE_SIZE);
            if let Some(token) = &token {
                params = params.continue_token(token);
            }
            let waited = ctx.connections.throttle.acquire(&label, K::OPERATION).await?;
            ctx.metrics.throttle_wait(waited);
            ctx.metrics.call();
            let list = api.list(&params).await.map_err(|e| Error::Api {
                operation: K::OPERATION.into(),
                connection: label.clone(),
                detail: e.to_string(),
            })?;
            let next = list.metadata.continue_.clone();
            Ok(Some((list.items, next)))
        }
    })
    .and_then(move |items| {
        let ctx = ctx.clone();
        async move {
            let rows: Vec<Row> = items.iter().map(row).collect();
            ctx.batch(&rows)
        }
    })
    .boxed()
}

fn row<K: Workload>(workload: &K) -> Row<'_> {
    let meta = workload.meta();
    let containers = workload
        .pod_spec()
        .map(|s| {
            s.init_containers
                .iter()
                .flatten()
                .chain(s.containers.iter())
                .map(|c| ContainerRow { name: &c.name, image: c.image.as_deref() })
                .collect()
        })
        .unwrap_or_default();
    Row {
        namespace: meta.namespace.as_deref(),
        kind: K::KIND,
        name: meta.name.as_deref(),
        replicas: workload.replicas().map(i64::from),
        containers,
    }
}
