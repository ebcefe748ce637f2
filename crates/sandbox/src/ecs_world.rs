//! The ECS part of the world: clusters with their services, task sets, deployments
//! and tasks, and task definition revisions (per account and region,
//! [`RegionWorld`](crate::world::RegionWorld)), and how their ARNs are derived.
//!
//! Re-exported from [`world`](crate::world).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// An ECS cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cluster {
    /// Cluster name.
    pub name: String,
    /// Services in the cluster.
    #[serde(default)]
    pub services: Vec<Service>,
    /// Tasks in the cluster (service tasks and standalone ones).
    #[serde(default)]
    pub tasks: Vec<Task>,
}

/// An ECS service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Service {
    /// Service name.
    pub name: String,
    /// `ACTIVE`, `DRAINING` or `INACTIVE`.
    pub status: String,
    /// The primary deployment's task definition ARN.
    pub task_definition: String,
    /// Desired task count.
    pub desired_count: i32,
    /// Running task count.
    pub running_count: i32,
    /// `FARGATE`, `EC2` or `EXTERNAL`.
    pub launch_type: String,
    /// Deployments: one normally, two during a rollout (ECS controller only).
    #[serde(default)]
    pub deployments: Vec<Deployment>,
    /// `ECS` (the default), `CODE_DEPLOY` (blue/green) or `EXTERNAL`.
    #[serde(default = "ecs_controller")]
    pub deployment_controller: String,
    /// Task sets: where `CODE_DEPLOY` and `EXTERNAL` services keep their revisions.
    #[serde(default)]
    pub task_sets: Vec<TaskSet>,
}

fn ecs_controller() -> String {
    "ECS".to_owned()
}

impl Service {
    /// The same service on another deployment controller (`CODE_DEPLOY`, `EXTERNAL`).
    pub fn with_deployment_controller(mut self, controller: &str) -> Self {
        self.deployment_controller = controller.to_owned();
        self
    }

    /// The same service with one more task set.
    pub fn with_task_set(mut self, task_set: TaskSet) -> Self {
        self.task_sets.push(task_set);
        self
    }
}

/// A task set of a `CODE_DEPLOY` or `EXTERNAL` service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskSet {
    /// Task set id, e.g. `ecs-svc/1234567890123456789` (the last part of its ARN).
    pub id: String,
    /// `PRIMARY`, `ACTIVE` or `DRAINING`.
    pub status: String,
    /// Task definition ARN.
    pub task_definition: String,
    /// `FARGATE`, `EC2` or `EXTERNAL`.
    pub launch_type: String,
    /// Tasks the task set wants, from its scale and the service's desired count.
    pub computed_desired_count: i32,
    /// Running task count.
    pub running_count: i32,
    /// When the task set was created.
    pub created_at: DateTime<Utc>,
    /// The id an external controller (or CodeDeploy) gave it, if any.
    #[serde(default)]
    pub external_id: Option<String>,
}

impl TaskSet {
    /// A task set `id` running `task_definition`, `status` PRIMARY, ACTIVE or
    /// DRAINING, scaled to zero on Fargate, created now.
    pub fn new(id: &str, task_definition: &str, status: &str) -> Self {
        TaskSet {
            id: id.to_owned(),
            status: status.to_owned(),
            task_definition: task_definition.to_owned(),
            launch_type: "FARGATE".to_owned(),
            computed_desired_count: 0,
            running_count: 0,
            created_at: Utc::now(),
            external_id: None,
        }
    }
}

/// One deployment of a service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deployment {
    /// Deployment id, e.g. `ecs-svc/1234567890123456789`.
    pub id: String,
    /// `PRIMARY` or `ACTIVE` (the one being replaced).
    pub status: String,
    /// Task definition ARN.
    pub task_definition: String,
    /// Desired task count.
    pub desired_count: i32,
    /// Running task count.
    pub running_count: i32,
    /// `COMPLETED`, `IN_PROGRESS` or `FAILED`.
    pub rollout_state: String,
    /// When the deployment was created.
    pub created_at: DateTime<Utc>,
}

/// An ECS task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    /// Task id (the last part of its ARN).
    pub id: String,
    /// Task definition ARN.
    pub task_definition_arn: String,
    /// `service:<name>` or `family:<family>`.
    pub group: String,
    /// `PENDING`, `RUNNING`, `STOPPED`, ...
    pub last_status: String,
    /// `RUNNING` or `STOPPED` (what `ListTasks` filters on).
    pub desired_status: String,
    /// `FARGATE`, `EC2` or `EXTERNAL`.
    pub launch_type: String,
    /// When the task started, if it did.
    #[serde(default)]
    pub started_at: Option<DateTime<Utc>>,
    /// Containers of the task.
    #[serde(default)]
    pub containers: Vec<Container>,
}

/// A container of a running task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Container {
    /// Container name.
    pub name: String,
    /// Image reference as written in the task definition.
    pub image: String,
    /// The digest actually running, if known.
    #[serde(default)]
    pub image_digest: Option<String>,
    /// Container status.
    pub last_status: String,
}

/// An ECS task definition revision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskDefinition {
    /// Family name.
    pub family: String,
    /// Revision number, from 1.
    pub revision: i32,
    /// `ACTIVE`, `INACTIVE` or `DELETE_IN_PROGRESS`.
    pub status: String,
    /// When it was registered.
    pub registered_at: DateTime<Utc>,
    /// When it was deregistered, if it was.
    #[serde(default)]
    pub deregistered_at: Option<DateTime<Utc>>,
    /// Container definitions.
    #[serde(default)]
    pub container_definitions: Vec<ContainerDefinition>,
}

/// A container definition inside a task definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContainerDefinition {
    /// Container name.
    pub name: String,
    /// Image reference.
    pub image: String,
    /// Whether the task stops when this container stops.
    #[serde(default = "yes")]
    pub essential: bool,
}

fn yes() -> bool {
    true
}

/// `arn:aws:ecs:<region>:<acct>:cluster/<name>`.
pub fn cluster_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:ecs:{region}:{account}:cluster/{name}")
}

/// `arn:aws:ecs:<region>:<acct>:service/<cluster>/<name>`.
pub fn service_arn(region: &str, account: &str, cluster: &str, name: &str) -> String {
    format!("arn:aws:ecs:{region}:{account}:service/{cluster}/{name}")
}

/// `arn:aws:ecs:<region>:<acct>:task-set/<cluster>/<service>/<id>`.
pub fn task_set_arn(region: &str, account: &str, cluster: &str, service: &str, id: &str) -> String {
    format!("arn:aws:ecs:{region}:{account}:task-set/{cluster}/{service}/{id}")
}

/// `arn:aws:ecs:<region>:<acct>:task/<cluster>/<id>`.
pub fn task_arn(region: &str, account: &str, cluster: &str, id: &str) -> String {
    format!("arn:aws:ecs:{region}:{account}:task/{cluster}/{id}")
}

/// `arn:aws:ecs:<region>:<acct>:task-definition/<family>:<revision>`.
pub fn task_definition_arn(region: &str, account: &str, family: &str, revision: i32) -> String {
    format!("arn:aws:ecs:{region}:{account}:task-definition/{family}:{revision}")
}
