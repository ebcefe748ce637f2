//! The AWS Batch part of the world: job definition revisions (per account and region,
//! [`RegionWorld`](crate::world::RegionWorld)), and how their ARNs are derived.
//!
//! Re-exported from [`world`](crate::world).

use serde::{Deserialize, Serialize};

/// An AWS Batch job definition revision. Its image is in `container_image`
/// (`containerProperties.image`), or in `ecs_containers` (`ecsProperties`), or in
/// `eks_containers` (`eksProperties.podProperties`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchJobDefinition {
    /// Job definition name.
    pub name: String,
    /// Revision, from 1.
    pub revision: i32,
    /// `ACTIVE` or `INACTIVE`.
    #[serde(default = "active")]
    pub status: String,
    /// `container` or `multinode`.
    #[serde(default = "container_type")]
    pub job_type: String,
    /// `containerProperties.image`.
    #[serde(default)]
    pub container_image: Option<String>,
    /// The containers of `ecsProperties.taskProperties[0]`.
    #[serde(default)]
    pub ecs_containers: Vec<BatchContainer>,
    /// The containers of `eksProperties.podProperties`.
    #[serde(default)]
    pub eks_containers: Vec<BatchContainer>,
}

fn active() -> String {
    "ACTIVE".to_owned()
}

fn container_type() -> String {
    "container".to_owned()
}

/// A named container of a Batch job definition (ECS or EKS properties).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchContainer {
    /// Container name.
    pub name: String,
    /// Image reference.
    pub image: String,
}

impl BatchJobDefinition {
    fn new(name: &str, revision: i32) -> Self {
        BatchJobDefinition {
            name: name.to_owned(),
            revision,
            status: active(),
            job_type: container_type(),
            container_image: None,
            ecs_containers: Vec::new(),
            eks_containers: Vec::new(),
        }
    }

    /// An ACTIVE revision running `image` in `containerProperties`.
    pub fn container(name: &str, revision: i32, image: &str) -> Self {
        BatchJobDefinition { container_image: Some(image.to_owned()), ..Self::new(name, revision) }
    }

    /// An ACTIVE revision with `ecsProperties`: one task of these (name, image) containers.
    pub fn ecs(name: &str, revision: i32, containers: &[(&str, &str)]) -> Self {
        BatchJobDefinition { ecs_containers: batch_containers(containers), ..Self::new(name, revision) }
    }

    /// An ACTIVE revision with `eksProperties`: a pod of these (name, image) containers.
    pub fn eks(name: &str, revision: i32, containers: &[(&str, &str)]) -> Self {
        BatchJobDefinition { eks_containers: batch_containers(containers), ..Self::new(name, revision) }
    }

    /// The same revision, deregistered (INACTIVE).
    pub fn inactive(mut self) -> Self {
        self.status = "INACTIVE".to_owned();
        self
    }
}

fn batch_containers(containers: &[(&str, &str)]) -> Vec<BatchContainer> {
    containers
        .iter()
        .map(|(name, image)| BatchContainer { name: (*name).to_owned(), image: (*image).to_owned() })
        .collect()
}

/// `arn:aws:batch:<region>:<acct>:job-definition/<name>:<revision>`.
pub fn batch_job_definition_arn(region: &str, account: &str, name: &str, revision: i32) -> String {
    format!("arn:aws:batch:{region}:{account}:job-definition/{name}:{revision}")
}
