//! The sandbox's Kubernetes workloads: Deployments, StatefulSets, DaemonSets,
//! ReplicaSets, Jobs and CronJobs of a [`crate::world::KubeCluster`], each
//! with the containers of its pod template.

use serde::{Deserialize, Serialize};

/// A workload and its pod template's containers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KubeWorkload {
    /// `Deployment`, `StatefulSet`, `DaemonSet`, `ReplicaSet`, `Job` or `CronJob`.
    pub kind: String,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// `spec.replicas` (a Job's `parallelism`); ignored for DaemonSets and CronJobs.
    #[serde(default)]
    pub replicas: i32,
    /// The template's containers: (name, image).
    #[serde(default)]
    pub containers: Vec<(String, String)>,
    /// The template's init containers: (name, image).
    #[serde(default)]
    pub init_containers: Vec<(String, String)>,
}

impl KubeWorkload {
    /// A workload of `kind` with one replica and no containers yet.
    pub fn new(kind: &str, namespace: &str, name: &str) -> Self {
        KubeWorkload {
            kind: kind.to_owned(),
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            replicas: 1,
            containers: Vec::new(),
            init_containers: Vec::new(),
        }
    }

    /// The same workload scaled to `replicas`.
    pub fn with_replicas(mut self, replicas: i32) -> Self {
        self.replicas = replicas;
        self
    }

    /// The same workload with one more container in its template.
    pub fn with_container(mut self, name: &str, image: &str) -> Self {
        self.containers.push((name.to_owned(), image.to_owned()));
        self
    }

    /// The same workload with one more init container in its template.
    pub fn with_init_container(mut self, name: &str, image: &str) -> Self {
        self.init_containers.push((name.to_owned(), image.to_owned()));
        self
    }
}
