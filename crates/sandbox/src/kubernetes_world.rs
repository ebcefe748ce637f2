//! The Kubernetes part of the world: clusters (one per kubeconfig context,
//! [`World::kubernetes`](crate::World)) with their pods and workloads.
//!
//! Re-exported from [`world`](crate::world).

use serde::{Deserialize, Serialize};

use crate::workloads_world::KubeWorkload;

/// A Kubernetes cluster, reached through kubeconfig context `context`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KubeCluster {
    /// The kubeconfig context (and cluster) name, e.g. `prod-eks`.
    pub context: String,
    /// Pods, any namespace, any order (served ordered by namespace and name).
    #[serde(default)]
    pub pods: Vec<KubePod>,
    /// Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs and CronJobs.
    #[serde(default)]
    pub workloads: Vec<KubeWorkload>,
}

impl KubeCluster {
    /// An empty cluster named `context`.
    pub fn new(context: &str) -> Self {
        KubeCluster { context: context.to_owned(), pods: Vec::new(), workloads: Vec::new() }
    }

    /// The same cluster with one more workload.
    pub fn with_workload(mut self, workload: KubeWorkload) -> Self {
        self.workloads.push(workload);
        self
    }

    /// The same cluster with one more pod.
    pub fn with_pod(mut self, pod: KubePod) -> Self {
        self.pods.push(pod);
        self
    }
}

/// A Kubernetes pod.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KubePod {
    /// Namespace.
    pub namespace: String,
    /// Pod name.
    pub name: String,
    /// `Running`, `Pending`, `Succeeded` or `Failed`.
    pub phase: String,
    /// The node it is scheduled on; `None` for an unscheduled pod (which has no
    /// container statuses yet).
    #[serde(default)]
    pub node_name: Option<String>,
    /// App containers.
    #[serde(default)]
    pub containers: Vec<KubeContainer>,
    /// Init containers.
    #[serde(default)]
    pub init_containers: Vec<KubeContainer>,
}

/// A container of a pod: its spec and what its status reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KubeContainer {
    /// Container name.
    pub name: String,
    /// Image as in the pod spec.
    pub image: String,
    /// The status's `imageID`, e.g.
    /// `docker-pullable://<acct>.dkr.ecr.<region>.amazonaws.com/web@sha256:...` or the
    /// bare `<repo>@sha256:...`; `None` before the image is pulled (reported as `""`).
    #[serde(default)]
    pub image_id: Option<String>,
}

impl KubePod {
    /// A pod of `namespace` in `phase` scheduled on `node`, without containers yet.
    pub fn new(namespace: &str, name: &str, phase: &str, node: &str) -> Self {
        KubePod {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            phase: phase.to_owned(),
            node_name: (!node.is_empty()).then(|| node.to_owned()),
            containers: Vec::new(),
            init_containers: Vec::new(),
        }
    }

    /// A Running pod of `namespace` on `node`, without containers yet.
    pub fn running(namespace: &str, name: &str, node: &str) -> Self {
        Self::new(namespace, name, "Running", node)
    }

    /// The same pod with one more app container (`image_id` `None`: not pulled yet).
    pub fn with_container(mut self, name: &str, image: &str, image_id: Option<&str>) -> Self {
        self.containers.push(KubeContainer::new(name, image, image_id));
        self
    }

    /// The same pod with one more init container.
    pub fn with_init_container(mut self, name: &str, image: &str, image_id: Option<&str>) -> Self {
        self.init_containers.push(KubeContainer::new(name, image, image_id));
        self
    }
}

impl KubeContainer {
    fn new(name: &str, image: &str, image_id: Option<&str>) -> Self {
        KubeContainer {
            name: name.to_owned(),
            image: image.to_owned(),
            image_id: image_id.map(str::to_owned),
        }
    }
}
