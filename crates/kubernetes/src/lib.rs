//! skyglue's Kubernetes tables: `kubernetes_pod`, read from every context of
//! every `[[kubernetes]]` entry in `skyglue.toml` (EKS clusters included,
//! through the user's kubeconfig and its `aws eks get-token` exec plugin).
//!
//! The `kube` crate reads the kubeconfig and speaks the API; the framework
//! fans out over contexts and fills the `context` column.

mod pod;

use skyglue_core::Registry;

pub use pod::{KUBERNETES, KubernetesPod};

/// Every Kubernetes table.
pub fn registry() -> Registry {
    Registry::new().table(KubernetesPod)
}
