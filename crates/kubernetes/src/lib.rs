//! skyglue's Kubernetes tables: `kubernetes_pod` and `kubernetes_workload`
//! (the pod templates of Deployments, StatefulSets, DaemonSets, ReplicaSets,
//! Jobs and CronJobs), read from every context of
//! every `[[kubernetes]]` entry in `skyglue.toml` (EKS clusters included,
//! through the user's kubeconfig and its `aws eks get-token` exec plugin).
//!
//! The `kube` crate reads the kubeconfig and speaks the API; the framework
//! fans out over contexts and fills the `context` column.

mod pod;
mod workload;

use skyglue_core::Registry;

pub use pod::{KUBERNETES, KubernetesPod};
pub use workload::KubernetesWorkload;

/// Every Kubernetes table.
pub fn registry() -> Registry {
    Registry::new().table(KubernetesPod).table(KubernetesWorkload)
}
